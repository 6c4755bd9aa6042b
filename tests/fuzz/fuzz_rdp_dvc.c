/*
 * fuzz_rdp_dvc.c: the DVC filter and its table (rdp/dvc.c and,
 * through graphics channels, gfx.c). The first byte is the policy
 * (audio_out in bit 0); then records: a byte whose bit 0 is the direction
 * (1: desktop to client), a length (2 bytes, little endian) and that many
 * bytes of one drdynvc message. Every PDU the filter emits must parse,
 * stay within RDP_DVC_PDU_MAX (re-fragmented graphics) and go to an open
 * channel; every reply must be a Create Response with 0xC0000001.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include "rdp/dvc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rdp_policy pol = { 0 };
	struct rdp_dvc_table t;
	struct rdp_dvc_result res;
	struct rdp_dvc_pdu *p;
	struct vbuf in, rec, m;
	uint8_t d;
	uint16_t n;
	size_t i;

	if (size < 1)
		return 0;
	pol.audio_out = data[0] & 1;
	vbuf_init_view(&in, data + 1, size - 1);
	rdp_dvc_table_init(&t);
	if (rdp_dvc_result_init(&res) != 0 || (p = malloc(sizeof(*p))) == NULL)
		abort();
	while (vbuf_get_u8(&in, &d) == 0 && vbuf_get_u16le(&in, &n) == 0 &&
	    vbuf_get_view(&in, n, &rec) == 0) {
		enum rdp_dir dir = (d & 1) ? RDP_S2C : RDP_C2S;
		const struct rdp_dvc_entry *e;

		if (rdp_dvc_filter(&t, &pol, dir, &rec, &res) != 0)
			abort();
		if (res.v.action == RDP_CLOSE) {
			if (res.out.n != 0 || res.reply.n != 0 ||
			    res.v.reason[0] == '\0')
				abort();
			break; /* the relay would close */
		}
		if (res.v.action != RDP_REWRITE && res.out.n != 0)
			abort();
		for (i = 0; i < res.out.n; i++) {
			if (rdp_msgs_get(&res.out, i, &m) != 0 ||
			    vbuf_len(&m) > RDP_DVC_PDU_MAX ||
			    rdp_dvc_parse(&m, dir, p) != 0)
				abort();
			if (p->cmd == RDP_DVC_CMD_DATA ||
			    p->cmd == RDP_DVC_CMD_DATA_FIRST) {
				e = rdp_dvc_lookup(&t, p->channel_id);
				if (e == NULL || e->state != RDP_DVC_OPEN)
					abort();
			}
		}
		for (i = 0; i < res.reply.n; i++) {
			if (rdp_msgs_get(&res.reply, i, &m) != 0 ||
			    rdp_dvc_parse(&m,
				dir == RDP_S2C ? RDP_C2S : RDP_S2C, p) != 0 ||
			    p->cmd != RDP_DVC_CMD_CREATE ||
			    (uint32_t)p->creation_status !=
				RDP_DVC_CREATE_REFUSED)
				abort();
		}
		/* A create that passed is REQUESTED under an allowed name. */
		if (res.v.action == RDP_PASS && dir == RDP_S2C &&
		    rdp_dvc_parse(&rec, dir, p) == 0 &&
		    p->cmd == RDP_DVC_CMD_CREATE &&
		    (rdp_dvc_name_class(p->name, &pol) == RDP_DVC_CLASS_NONE ||
			(e = rdp_dvc_lookup(&t, p->channel_id)) == NULL ||
			e->state != RDP_DVC_REQUESTED))
			abort();
	}
	free(p);
	rdp_dvc_result_free(&res);
	rdp_dvc_table_free(&t);
	return 0;
}
