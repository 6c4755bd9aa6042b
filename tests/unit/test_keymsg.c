/* test_keymsg.c: the gateway key process codec (gateway/keymsg.c). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "keymsg.h"
#include "privmsg_test.h"

#define BUF_MAX (KEYMSG_HEADER_LEN + KEYMSG_FRAME_MAX)

static void
sample(void *msg, int type)
{
	struct keymsg *m = msg;

	memset(m, 0, sizeof(*m));
	m->type = type;
	switch (type) {
	case KEYMSG_UNSEAL:
		m->u.unseal.aad_len = 3;
		memcpy(m->u.unseal.aad, "s\0d", 3);
		strcpy(m->u.unseal.sealed, "AAAA-_zz09");
		m->u.unseal.sealed_len = 10;
		break;
	case KEYMSG_PLAIN:
		m->u.plain.len = 9;
		memcpy(m->u.plain.data, "alice\0pw\xff", 9);
		break;
	case KEYMSG_SIGN:
		m->u.sign.alg = KEYMSG_ALG_RSA;
		m->u.sign.padding = KEYMSG_RSA_NONE;
		m->u.sign.len = KEYMSG_SIGN_IN_MAX;
		memset(m->u.sign.in, 0xA5, KEYMSG_SIGN_IN_MAX);
		break;
	case KEYMSG_SIGNED:
		m->u.signed_.len = 72;
		memset(m->u.signed_.out, 0x30, 72);
		break;
	case KEYMSG_READY:
		m->u.ready.flags = KEYMSG_HAVE_SEAL | KEYMSG_HAVE_INNER;
		break;
	case KEYMSG_ERROR:
		m->u.error.code = VDI_ERR_NOT_FOUND;
		break;
	}
}

static const int all_types[] = { KEYMSG_UNSEAL, KEYMSG_PLAIN, KEYMSG_SIGN,
	KEYMSG_SIGNED, KEYMSG_READY, KEYMSG_ERROR };

PRIVMSG_ANY_CODEC(keymsg)

static const struct privmsg_test_codec codec = { keymsg_parse_any,
	keymsg_encode_any, sample, all_types,
	sizeof(all_types) / sizeof(all_types[0]), sizeof(struct keymsg),
	KEYMSG_FRAME_MAX };

#define parse_raw(type, body, len)                                             \
	privmsg_test_parse_raw(&codec, (type), (body), (len))

static void
keymsg_encode__when_each_type__parses_back_equal(void **state)
{
	privmsg_test_round_trip(&codec);
}

static void
keymsg_parse__when_truncated_at_every_byte__need_more_nothing_consumed(
    void **state)
{
	privmsg_test_truncations(&codec);
}

static void
keymsg_parse__when_lengths_wrong__error_codes(void **state)
{
	unsigned char body[2 + KEYMSG_SEALED_MAX + 8];
	struct keymsg m;
	struct vbuf v;

	/* Frame of 0 and of FRAME_MAX + 1 bytes, known from the header. */
	vbuf_init_view(&v, "\x00\x00\x00\x00\x05", 5);
	assert_int_equal(keymsg_parse(&v, &m), VDI_ERR_BAD_LENGTH);
	vbuf_init_view(&v, "\x00\x00\x10\x01", 4);
	assert_int_equal(keymsg_parse(&v, &m), VDI_ERR_TOO_LARGE);
	/* Bytes after the fields; a field past the frame. */
	assert_int_equal(
	    parse_raw(KEYMSG_READY, "\x01\x00", 2), VDI_ERR_BAD_LENGTH);
	assert_int_equal(parse_raw(KEYMSG_PLAIN,
			     "\x00\x05"
			     "ab",
			     4),
	    VDI_ERR_TRUNCATED);
	assert_int_equal(parse_raw(KEYMSG_ERROR, "\xff", 1), VDI_ERR_TRUNCATED);
	/* AAD of 257 bytes, sealed text of 1412, ECDSA digest of 65. */
	memset(body, 'A', sizeof(body));
	body[0] = 0x01;
	body[1] = 0x01;
	assert_int_equal(
	    parse_raw(KEYMSG_UNSEAL, body, 2 + 257 + 3), VDI_ERR_TOO_LARGE);
	body[0] = 0;
	body[1] = 0;
	body[2] = (KEYMSG_SEALED_MAX + 1) >> 8;
	body[3] = (KEYMSG_SEALED_MAX + 1) & 0xff;
	assert_int_equal(
	    parse_raw(KEYMSG_UNSEAL, body, 4 + KEYMSG_SEALED_MAX + 1),
	    VDI_ERR_TOO_LARGE);
	body[2] = KEYMSG_SEALED_MAX >> 8;
	body[3] = KEYMSG_SEALED_MAX & 0xff;
	assert_int_equal(
	    parse_raw(KEYMSG_UNSEAL, body, 4 + KEYMSG_SEALED_MAX), 0);
	memcpy(body, "\x01\x00\x00\x41", 4);
	assert_int_equal(
	    parse_raw(KEYMSG_SIGN, body, 4 + 65), VDI_ERR_TOO_LARGE);
	memcpy(body, "\x01\x00\x00\x40", 4);
	assert_int_equal(parse_raw(KEYMSG_SIGN, body, 4 + 64), 0);
}

static void
keymsg_parse__when_values_unknown_or_empty__refused(void **state)
{
	/* Unknown type, algorithm, padding; ECDSA with a padding. */
	assert_int_equal(parse_raw(0, NULL, 0), VDI_ERR_UNSUPPORTED);
	assert_int_equal(parse_raw(7, NULL, 0), VDI_ERR_UNSUPPORTED);
	assert_int_equal(parse_raw(KEYMSG_SIGN, "\x03\x00\x00\x01x", 5),
	    VDI_ERR_UNSUPPORTED);
	assert_int_equal(parse_raw(KEYMSG_SIGN, "\x02\x04\x00\x01x", 5),
	    VDI_ERR_UNSUPPORTED);
	assert_int_equal(parse_raw(KEYMSG_SIGN, "\x01\x01\x00\x01x", 5),
	    VDI_ERR_UNSUPPORTED);
	assert_int_equal(parse_raw(KEYMSG_SIGN, "\x02\x01\x00\x01x", 5), 0);
	/* Empty inputs, sealed text that is not base64url, unknown flags,
	 * a non-negative error code. */
	assert_int_equal(
	    parse_raw(KEYMSG_SIGN, "\x02\x03\x00\x00", 4), VDI_ERR_BAD_FORMAT);
	assert_int_equal(parse_raw(KEYMSG_UNSEAL, "\x00\x00\x00\x00", 4),
	    VDI_ERR_BAD_FORMAT);
	assert_int_equal(parse_raw(KEYMSG_UNSEAL,
			     "\x00\x00\x00\x02"
			     "a=",
			     6),
	    VDI_ERR_BAD_FORMAT);
	assert_int_equal(
	    parse_raw(KEYMSG_PLAIN, "\x00\x00", 2), VDI_ERR_BAD_FORMAT);
	assert_int_equal(
	    parse_raw(KEYMSG_SIGNED, "\x00\x00", 2), VDI_ERR_BAD_FORMAT);
	assert_int_equal(
	    parse_raw(KEYMSG_READY, "\x04", 1), VDI_ERR_BAD_FORMAT);
	assert_int_equal(
	    parse_raw(KEYMSG_ERROR, "\x00\x00\x00\x00", 4), VDI_ERR_BAD_FORMAT);
	assert_int_equal(parse_raw(KEYMSG_ERROR, "\xff\xff\xff\xf2", 4), 0);
}

static void
keymsg_encode__when_message_breaks_rules__error_nothing_appended(void **state)
{
	struct vbuf *buf = vbuf_new(BUF_MAX);
	struct keymsg m;

	assert_non_null(buf);
	assert_int_equal(vbuf_put(buf, "keep", 4), 0);
	sample(&m, KEYMSG_UNSEAL);
	m.u.unseal.sealed[2] = '+';
	assert_int_equal(keymsg_encode(buf, &m), VDI_ERR_BAD_FORMAT);
	sample(&m, KEYMSG_SIGN);
	m.u.sign.len = KEYMSG_SIGN_IN_MAX + 1;
	assert_int_equal(keymsg_encode(buf, &m), VDI_ERR_TOO_LARGE);
	sample(&m, KEYMSG_SIGN);
	m.u.sign.padding = 6; /* PSS is encoded by OpenSSL, not here */
	assert_int_equal(keymsg_encode(buf, &m), VDI_ERR_UNSUPPORTED);
	sample(&m, KEYMSG_PLAIN);
	m.u.plain.len = KEYMSG_PLAIN_MAX + 1;
	assert_int_equal(keymsg_encode(buf, &m), VDI_ERR_TOO_LARGE);
	m.type = (enum keymsg_type)99;
	assert_int_equal(keymsg_encode(buf, &m), VDI_ERR_UNSUPPORTED);
	assert_int_equal(keymsg_encode_error(buf, 0), VDI_ERR_INVALID_ARG);
	assert_int_equal(vbuf_len(buf), 4);
	assert_memory_equal(vbuf_ptr(buf), "keep", 4);
	assert_int_equal(keymsg_encode_error(buf, VDI_ERR_IO), 0);
	assert_int_equal(vbuf_len(buf), 4 + 4 + 1 + 4);
	vbuf_free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    keymsg_encode__when_each_type__parses_back_equal),
		cmocka_unit_test(
		    keymsg_parse__when_truncated_at_every_byte__need_more_nothing_consumed),
		cmocka_unit_test(keymsg_parse__when_lengths_wrong__error_codes),
		cmocka_unit_test(
		    keymsg_parse__when_values_unknown_or_empty__refused),
		cmocka_unit_test(
		    keymsg_encode__when_message_breaks_rules__error_nothing_appended),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
