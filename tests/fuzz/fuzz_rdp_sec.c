/*
 * fuzz_rdp_sec.c: the basic security header and licensing PDUs
 * (rdp/sec.c), in both directions. The input is I/O channel data.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include "rdp/sec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rdp_sec_header h;
	struct rdp_license l;
	struct vbuf in;
	int d;

	vbuf_init_view(&in, data, size);
	for (d = 0; d < 2; d++) {
		if (rdp_sec_parse_license(&in, d ? RDP_S2C : RDP_C2S, &l) ==
		    0) {
			if (!rdp_sec_is_license(&in) ||
			    (size_t)l.size + 4 != size ||
			    vbuf_len(&l.body) + 8 != size ||
			    (l.sec.flags & RDP_SEC_ENCRYPT))
				abort();
		}
	}
	if (rdp_sec_parse_header(&in, &h) == 0) {
		if (vbuf_len(&in) + 4 != size)
			abort();
	} else if (vbuf_len(&in) != size)
		abort();
	return 0;
}
