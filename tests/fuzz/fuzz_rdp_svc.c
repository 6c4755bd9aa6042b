/*
 * fuzz_rdp_svc.c: static channel chunk reassembly (rdp/svc.c).
 * The input is a sequence of records: length (2 bytes, little endian) and
 * that many bytes of Send Data user data (CHANNEL_PDU_HEADER + data). The
 * chunks go through a reassembling stream with a 64 KiB cap and a
 * pass-through stream; they must agree, and every complete message must
 * have its announced length and survive re-chunking.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rdp/frame.h"
#include "rdp/mcs.h"
#include "rdp/svc.h"
#include "rdp/x224.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
rechunk(const struct vbuf *msg)
{
	struct vbuf *out = vbuf_new(1u << 18), pdu, mcs;
	struct rdp_svc_stream s;
	struct rdp_svc_chunk c;
	struct rdp_svc_step st;
	struct rdp_mcs_pdu p;
	struct rdp_frame f;
	int last = 0;

	if (out == NULL)
		abort();
	rdp_svc_stream_init(&s, 1, 1u << 16);
	if (rdp_svc_write_message(
		out, 0, 1007, 1004, vbuf_ptr(msg), vbuf_len(msg), 0, 0) != 0)
		abort();
	while (vbuf_len(out) > 0) {
		if (rdp_frame_next(out, 0, &f, &pdu) != 0 ||
		    rdp_x224_parse_data(&pdu, &mcs) != 0 ||
		    rdp_mcs_parse_domain(&mcs, &p) != 0 ||
		    rdp_svc_parse_chunk(&p.data, &c) != 0 ||
		    rdp_svc_stream_feed(&s, &c, &st) != 0)
			abort();
		last = st.last;
		if (last &&
		    (vbuf_len(&st.msg) != vbuf_len(msg) ||
			memcmp(vbuf_ptr(&st.msg), vbuf_ptr(msg),
			    vbuf_len(msg)) != 0))
			abort();
	}
	if (!last)
		abort();
	rdp_svc_stream_free(&s);
	vbuf_free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rdp_svc_stream re, pt;
	struct rdp_svc_chunk c;
	struct rdp_svc_step s1, s2;
	struct vbuf in, rec;
	uint16_t n;
	int r1, r2;

	vbuf_init_view(&in, data, size);
	rdp_svc_stream_init(&re, 1, 1u << 16);
	rdp_svc_stream_init(&pt, 0, 1u << 16);
	while (
	    vbuf_get_u16le(&in, &n) == 0 && vbuf_get_view(&in, n, &rec) == 0) {
		if (rdp_svc_parse_chunk(&rec, &c) != 0)
			continue;
		r1 = rdp_svc_stream_feed(&re, &c, &s1);
		r2 = rdp_svc_stream_feed(&pt, &c, &s2);
		if (r1 != r2 && !(r1 == VDI_ERR_ALLOC))
			abort();
		if (r1 != 0)
			continue;
		if (s1.first != s2.first || s1.last != s2.last)
			abort();
		if (s1.first)
			rdp_svc_stream_decide(&re, RDP_DROP);
		else if (s1.decision != RDP_DROP)
			abort();
		if (s1.last) {
			if (vbuf_len(&s1.msg) != c.length)
				abort();
			rechunk(&s1.msg);
		}
		if (rdp_svc_stream_busy(&re) != rdp_svc_stream_busy(&pt))
			abort();
	}
	rdp_svc_stream_free(&re);
	rdp_svc_stream_free(&pt);
	return 0;
}
