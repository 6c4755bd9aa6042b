/*
 * fuzz_rdp_caps.c: Share Control PDUs on the I/O channel
 * (rdp/caps.c). The input is I/O channel data, filtered in both
 * directions. A rewrite must be stable (filtering it again gives the same
 * bytes) and never contain a dropped capability set or a persistent key
 * list.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rdp/caps.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_clean(const struct vbuf *data, enum rdp_dir dir)
{
	struct vbuf b = *data, pdu;
	struct rdp_share_ctrl h;
	struct rdp_share_data d;
	struct rdp_caps_pdu *c;
	unsigned int i;

	if ((c = malloc(sizeof(*c))) == NULL)
		abort();
	while (vbuf_len(&b) > 0) {
		if (rdp_share_next(&b, &h, &pdu) != 0 || h.flow)
			abort();
		if (h.type == RDP_PDUTYPE_DEMANDACTIVE ||
		    h.type == RDP_PDUTYPE_CONFIRMACTIVE) {
			if (rdp_caps_parse(&pdu, c) != 0)
				abort();
			for (i = 0; i < c->ncaps; i++)
				if (c->caps[i].type ==
					RDP_CAPSET_BITMAPCACHE_HOSTSUPPORT ||
				    c->caps[i].type == RDP_CAPSET_RAIL ||
				    c->caps[i].type == RDP_CAPSET_WINDOW)
					abort();
		}
		if (dir == RDP_C2S && h.type == RDP_PDUTYPE_DATA &&
		    rdp_share_parse_data(&pdu, &d) == 0 &&
		    d.pdu_type2 == RDP_PDUTYPE2_PERSISTENT_LIST)
			abort();
	}
	free(c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rdp_io_events ev;
	struct rdp_verdict v, v2;
	struct rdp_share_state st, st2;
	struct vbuf in, *out, *out2;
	int d, ph;

	vbuf_init_view(&in, data, size);
	if ((out = vbuf_new(1u << 17)) == NULL ||
	    (out2 = vbuf_new(1u << 17)) == NULL)
		abort();
	/* every direction in every phase: (phase, activated) */
	for (d = 0; d < 2 * 6; d++) {
		enum rdp_dir dir = d & 1 ? RDP_S2C : RDP_C2S;

		ph = d >> 1;
		st.phase = (enum rdp_share_phase)(ph % 3);
		st.activated = ph >= 3;
		st2 = st;
		vbuf_reset(out);
		vbuf_reset(out2);
		if (rdp_caps_filter_io(&in, dir, &st, &ev, &v, out) != 0)
			abort();
		switch (v.action) {
		case RDP_PASS:
			if (vbuf_len(out) != 0)
				abort();
			if (ev.demand_active || ev.confirm_active)
				abort();
			check_clean(&in, dir);
			break;
		case RDP_REWRITE:
			check_clean(out, dir);
			if (rdp_caps_filter_io(
				out, dir, &st2, &ev, &v2, out2) != 0 ||
			    v2.action == RDP_CLOSE || v2.action == RDP_DROP)
				abort();
			if (v2.action == RDP_REWRITE &&
			    (vbuf_len(out2) != vbuf_len(out) ||
				memcmp(vbuf_ptr(out2), vbuf_ptr(out),
				    vbuf_len(out)) != 0))
				abort();
			break;
		case RDP_DROP:
		case RDP_CLOSE:
			if (vbuf_len(out) != 0 || v.reason[0] == '\0')
				abort();
			break;
		}
	}
	vbuf_free(out);
	vbuf_free(out2);
	return 0;
}
