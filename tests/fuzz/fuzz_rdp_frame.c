/*
 * fuzz_rdp_frame.c: splits the input as an RDP byte stream (TPKT and
 * fast-path, rdp/frame.c) with a size cap chosen by the first
 * byte, and runs the fast-path checks and the TPKT/X.224 header readers on
 * every PDU. Checks that frames tile the stream exactly.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include "rdp/frame.h"
#include "rdp/x224.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vbuf s, pdu, payload;
	struct rdp_frame f;
	struct rdp_verdict v;
	size_t max, used = 0;
	int r;

	if (size < 1)
		return 0;
	max = (size_t)data[0] * 256; /* 0 means RDP_FRAME_MAX */
	vbuf_init_view(&s, data + 1, size - 1);
	while ((r = rdp_frame_next(&s, max, &f, &pdu)) == 0) {
		if (f.len == 0 || f.len != vbuf_len(&pdu) ||
		    f.hdrlen >= f.len || (max != 0 && f.len > max))
			abort();
		used += f.len;
		if (f.kind == RDP_FRAME_FASTPATH) {
			if (rdp_fastpath_check_output(&pdu, &v) != 0 ||
			    rdp_fastpath_check_input(&pdu, &v) != 0)
				abort();
			if (v.action != RDP_PASS && v.action != RDP_CLOSE)
				abort();
		} else {
			if (rdp_tpkt_payload(&pdu, &payload) != 0)
				abort();
			(void)rdp_x224_tpdu_type(&pdu);
			if (rdp_x224_parse_data(&pdu, &payload) == 0 &&
			    vbuf_len(&payload) + 7 != f.len)
				abort();
		}
	}
	if (used + vbuf_len(&s) != size - 1)
		abort();
	if (r == VDI_ERR_NEED_MORE && vbuf_len(&s) > RDP_FRAME_MAX)
		abort();
	return 0;
}
