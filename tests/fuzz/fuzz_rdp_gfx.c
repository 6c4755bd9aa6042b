/*
 * fuzz_rdp_gfx.c: the client-to-server graphics filter
 * (rdp/gfx.c). The input is one graphics message. What the filter
 * keeps must filter again unchanged and never hold a cache import offer.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rdp/gfx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rdp_verdict v, v2;
	struct rdp_gfx_header h;
	struct vbuf in, *out, *out2, b, pdu;

	vbuf_init_view(&in, data, size);
	if ((out = vbuf_new(1u << 20)) == NULL ||
	    (out2 = vbuf_new(1u << 20)) == NULL)
		abort();
	if (rdp_gfx_filter_c2s(&in, &v, out) != 0)
		abort();
	if (v.action == RDP_REWRITE) {
		if (vbuf_len(out) == 0 || vbuf_len(out) >= size)
			abort();
		if (rdp_gfx_filter_c2s(out, &v2, out2) != 0 ||
		    v2.action != RDP_PASS)
			abort();
		b = *out;
		while (vbuf_len(&b) > 0)
			if (rdp_gfx_next(&b, &h, &pdu) != 0 ||
			    h.cmd == RDP_GFX_CMD_CACHEIMPORTOFFER)
				abort();
	} else if (vbuf_len(out) != 0)
		abort();
	if (v.action == RDP_PASS) {
		b = in;
		while (vbuf_len(&b) > 0)
			if (rdp_gfx_next(&b, &h, &pdu) != 0 ||
			    h.cmd == RDP_GFX_CMD_CACHEIMPORTOFFER)
				abort();
	}
	vbuf_free(out);
	vbuf_free(out2);
	return 0;
}
