/* privmsg_test.c: shared checks of the privsep codecs (privmsg_test.h). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "privmsg.h"
#include "privmsg_test.h"

/* calloc that fails the test rather than return NULL. */
static void *
zalloc(size_t n)
{
	void *p = calloc(1, n);

	assert_non_null(p);
	return p;
}

size_t
privmsg_test_frame(
    unsigned char *out, uint8_t type, const void *body, size_t len)
{
	size_t n = len + 1;

	out[0] = (unsigned char)(n >> 24);
	out[1] = (unsigned char)(n >> 16);
	out[2] = (unsigned char)(n >> 8);
	out[3] = (unsigned char)n;
	out[4] = type;
	if (len > 0)
		memcpy(out + 5, body, len);
	return PRIVMSG_HEADER_LEN + n;
}

int
privmsg_test_parse_raw(const struct privmsg_test_codec *c, uint8_t type,
    const void *body, size_t len)
{
	unsigned char *buf = malloc(PRIVMSG_HEADER_LEN + 1 + len);
	void *m = zalloc(c->msg_size);
	struct vbuf v;
	size_t n;
	int r;

	assert_non_null(buf);
	assert_true(len <= c->frame_max + 64);
	n = privmsg_test_frame(buf, type, body, len);
	vbuf_init_view(&v, buf, n);
	r = c->parse(&v, m);
	assert_int_equal(vbuf_len(&v), r == 0 ? 0 : n);
	free(m);
	free(buf);
	return r;
}

void
privmsg_test_round_trip(const struct privmsg_test_codec *c)
{
	void *a = zalloc(c->msg_size), *b = zalloc(c->msg_size);
	struct vbuf *buf = vbuf_new(PRIVMSG_HEADER_LEN + c->frame_max);
	size_t i;

	assert_non_null(buf);
	for (i = 0; i < c->ntypes; i++) {
		c->sample(a, c->types[i]);
		vbuf_reset(buf);
		assert_int_equal(c->encode(buf, a), 0);
		assert_int_equal(c->parse(buf, b), 0);
		assert_int_equal(vbuf_len(buf), 0);
		assert_memory_equal(a, b, c->msg_size);
	}
	free(a);
	free(b);
	vbuf_free(buf);
}

void
privmsg_test_truncations(const struct privmsg_test_codec *c)
{
	void *a = zalloc(c->msg_size), *b = zalloc(c->msg_size),
	     *zero = zalloc(c->msg_size);
	struct vbuf *buf = vbuf_new(PRIVMSG_HEADER_LEN + c->frame_max);
	struct vbuf v;
	size_t i, cut;

	assert_non_null(buf);
	for (i = 0; i < c->ntypes; i++) {
		c->sample(a, c->types[i]);
		vbuf_reset(buf);
		assert_int_equal(c->encode(buf, a), 0);
		for (cut = 0; cut < vbuf_len(buf); cut++) {
			memset(b, 0xA5, c->msg_size);
			vbuf_init_view(&v, vbuf_ptr(buf), cut);
			assert_int_equal(c->parse(&v, b), VDI_ERR_NEED_MORE);
			assert_int_equal(vbuf_len(&v), cut);
			assert_memory_equal(b, zero, c->msg_size);
		}
	}
	free(a);
	free(b);
	free(zero);
	vbuf_free(buf);
}
