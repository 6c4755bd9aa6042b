/* privmsg_fuzz.c: the privsep codecs' stream check (privmsg_fuzz.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "privmsg.h"
#include "privmsg_fuzz.h"

static int
cleared(const void *m, size_t n)
{
	const unsigned char *p = m;
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != 0)
			return 0;
	return 1;
}

static void
check_frame(
    const struct privmsg_fuzz_codec *c, const unsigned char *frame, size_t len)
{
	struct vbuf *out, v;
	size_t cut;

	if ((out = vbuf_new(PRIVMSG_HEADER_LEN + c->frame_max)) == NULL)
		abort();
	if (c->encode(out, c->a) != 0)
		abort();
	if (vbuf_len(out) != len || memcmp(vbuf_ptr(out), frame, len) != 0)
		abort();
	if (c->parse(out, c->b) != 0 || vbuf_len(out) != 0 ||
	    memcmp(c->a, c->b, c->msg_size) != 0)
		abort();
	vbuf_free(out);
	for (cut = 0; cut < len && cut < 600; cut++) {
		vbuf_init_view(&v, frame, cut);
		if (c->parse(&v, c->b) != VDI_ERR_NEED_MORE ||
		    vbuf_len(&v) != cut)
			abort();
	}
}

void
privmsg_fuzz_stream(
    const struct privmsg_fuzz_codec *c, const uint8_t *data, size_t size)
{
	struct vbuf in;
	const unsigned char *start;
	size_t before;

	vbuf_init_view(&in, data, size);
	for (;;) {
		before = vbuf_len(&in);
		start = vbuf_ptr(&in);
		if (c->parse(&in, c->a) != 0) {
			if (vbuf_len(&in) != before ||
			    !cleared(c->a, c->msg_size))
				abort();
			break;
		}
		if (vbuf_len(&in) >= before)
			abort();
		check_frame(c, start, before - vbuf_len(&in));
	}
}
