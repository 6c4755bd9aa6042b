/*
 * fuzz_keymsg.c: feeds the input to keymsg_parse() as a stream of frames,
 * as the key process reads the gateway's requests.
 *
 * For every frame that parses: the encoder writes back exactly the bytes
 * that were read, the re-encoded frame parses to an equal message, and
 * every strict prefix is VDI_ERR_NEED_MORE with nothing consumed. A failed
 * parse consumes nothing.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "keymsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct keymsg a, b;

static void
check_frame(const unsigned char *frame, size_t len)
{
	struct vbuf *out, v;
	size_t cut;

	if ((out = vbuf_new(KEYMSG_HEADER_LEN + KEYMSG_FRAME_MAX)) == NULL)
		abort();
	if (keymsg_encode(out, &a) != 0)
		abort();
	if (vbuf_len(out) != len || memcmp(vbuf_ptr(out), frame, len) != 0)
		abort();
	if (keymsg_parse(out, &b) != 0 || vbuf_len(out) != 0 ||
	    memcmp(&a, &b, sizeof(a)) != 0)
		abort();
	vbuf_free(out);
	for (cut = 0; cut < len && cut < 600; cut++) {
		vbuf_init_view(&v, frame, cut);
		if (keymsg_parse(&v, &b) != VDI_ERR_NEED_MORE ||
		    vbuf_len(&v) != cut)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vbuf in;
	const unsigned char *start;
	size_t before;
	int r;

	vbuf_init_view(&in, data, size);
	for (;;) {
		before = vbuf_len(&in);
		start = vbuf_ptr(&in);
		r = keymsg_parse(&in, &a);
		if (r != 0) {
			if (vbuf_len(&in) != before)
				abort();
			break;
		}
		check_frame(start, before - vbuf_len(&in));
	}
	keymsg_clear(&a);
	keymsg_clear(&b);
	return 0;
}
