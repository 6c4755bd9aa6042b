/*
 * fuzz_vbuf.c: drives the vbuf readers with an input-chosen sequence of
 * operations, then re-encodes what it read and checks the round trip.
 * The first byte of every step selects the operation.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vbuf in, child;
	struct vbuf *out;
	uint8_t op = 0, u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;
	unsigned char tmp[64];
	size_t before;
	int r;

	vbuf_init_view(&in, data, size);
	if ((out = vbuf_new(1024)) == NULL)
		abort();
	while (vbuf_get_u8(&in, &op) == 0) {
		before = vbuf_len(&in);
		switch (op % 10) {
		case 0:
			r = vbuf_get_u16le(&in, &u16);
			if (r == 0 && vbuf_put_u16le(out, u16) != 0)
				vbuf_reset(out);
			break;
		case 1:
			r = vbuf_get_u32be(&in, &u32);
			break;
		case 2:
			r = vbuf_get_u64le(&in, &u64);
			break;
		case 3: {
			uint16_t len;
			struct vbuf *rt;

			r = vbuf_get_per_length(&in, &len);
			if (r != 0)
				break;
			/* Shortest re-encoding must parse back to the same
			 * value. */
			if ((rt = vbuf_new(4)) == NULL)
				abort();
			if (vbuf_put_per_length(rt, len) != 0)
				abort();
			if (vbuf_get_per_length(rt, &u16) != 0 || u16 != len ||
			    vbuf_len(rt) != 0)
				abort();
			vbuf_free(rt);
			break;
		}
		case 4: {
			struct vbuf *rt;

			r = vbuf_get_ber_length(&in, &u32);
			if (r != 0)
				break;
			if ((rt = vbuf_new(8)) == NULL)
				abort();
			if (vbuf_put_ber_length(rt, u32) != 0)
				abort();
			if (vbuf_get_ber_length(rt, &u32) != 0 ||
			    vbuf_len(rt) != 0)
				abort();
			vbuf_free(rt);
			break;
		}
		case 5:
			if ((r = vbuf_get_u8(&in, &u8)) != 0)
				break;
			before = vbuf_len(&in);
			r = vbuf_get_view(&in, u8, &child);
			if (r == 0 && vbuf_len(&child) != u8)
				abort();
			if (r == 0 &&
			    vbuf_put_u8(&child, 1) != VDI_ERR_READONLY)
				abort();
			break;
		case 6:
			r = vbuf_get_bytes(
			    &in, tmp, (size_t)(op / 10) % sizeof(tmp));
			break;
		case 7:
			r = vbuf_put_buf(out, &in);
			if (r != 0)
				vbuf_reset(out);
			break;
		case 8:
			r = vbuf_consume(out, vbuf_len(out) / 2);
			break;
		default:
			r = vbuf_peek_u32le(&in, op / 10, &u32);
			break;
		}
		/* A failed getter consumes nothing. */
		if (r != 0 && r != VDI_ERR_TOO_LARGE && vbuf_len(&in) != before)
			abort();
		if (vbuf_len(out) > 1024)
			abort();
	}
	vbuf_free(out);
	return 0;
}
