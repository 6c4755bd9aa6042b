/* Unit tests for rdp/x224.c. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "test_rdp_capture.h"

#include "rdp/x224.h"

static void
rdp_x224_parse_cr__when_captured_cookie__cookie_and_ssl(void **state)
{
	struct cap c = cap_load("shadow-full/0000-c2s-x224-cr.bin");
	struct vbuf v = cap_view(&c);
	struct rdp_x224_cr cr;
	uint32_t sel;

	assert_int_equal(rdp_x224_parse_cr(&v, &cr), 0);
	assert_int_equal(cr.token_kind, RDP_X224_TOKEN_COOKIE);
	assert_string_equal(cr.cookie, "alice");
	assert_true(cr.has_neg);
	assert_int_equal(cr.neg_flags, 0);
	assert_int_equal(cr.requested_protocols, RDP_PROTOCOL_SSL);
	assert_false(cr.has_correlation);
	assert_int_equal(rdp_x224_select_protocol(&cr, &sel), 0);
	assert_int_equal(sel, RDP_PROTOCOL_SSL);
	assert_int_equal(rdp_x224_tpdu_type(&v), RDP_X224_TPDU_CR);
	cap_free(&c);
}

static void
rdp_x224_parse_cr__when_load_balance_info__other_token_ignored(void **state)
{
	/* xfreerdp /load-balance-info:"tsv://MS Terminal Services Plugin.1.
	 * Pool" sends the string verbatim. */
	struct cap c = cap_load("x224-cr-load-balance-info.bin");
	struct vbuf v = cap_view(&c);
	struct rdp_x224_cr cr;

	assert_int_equal(rdp_x224_parse_cr(&v, &cr), 0);
	assert_int_equal(cr.token_kind, RDP_X224_TOKEN_OTHER);
	assert_int_equal(
	    cr.token_len, strlen("tsv://MS Terminal Services Plugin.1.Pool"));
	assert_string_equal(cr.cookie, "");
	assert_int_equal(cr.requested_protocols, RDP_PROTOCOL_SSL);
	cap_free(&c);
}

static void
rdp_x224_parse_cc__when_captured__ssl_selected(void **state)
{
	static const char *files[] = { "shadow-full/0001-s2c-x224-cc.bin",
		"xrdp-full/0001-s2c-x224-cc.bin" };
	struct rdp_x224_cc cc;
	struct vbuf v;
	struct cap c;
	size_t i;

	for (i = 0; i < 2; i++) {
		c = cap_load(files[i]);
		v = cap_view(&c);
		assert_int_equal(rdp_x224_parse_cc(&v, &cc), 0);
		assert_true(cc.has_neg);
		assert_false(cc.failure);
		assert_int_equal(cc.selected_protocol, RDP_PROTOCOL_SSL);
		assert_true(cc.flags & RDP_NEG_RSP_EXTENDED_CLIENT_DATA);
		cap_free(&c);
	}
}

/* Feeds every prefix of the TPDU (TPKT and LI fixed up so that only the
 * content is short): each must fail, or be a valid shorter CR (a legacy
 * CR without RDP_NEG_REQ, cut right after the token). */
static void
rdp_x224_parse_cr__when_truncated_at_every_field__error(void **state)
{
	struct cap c = cap_load("shadow-full/0000-c2s-x224-cr.bin");
	struct rdp_x224_cr cr;
	size_t k, len, ok = 0;

	for (k = 0; k < c.len - 4; k++) {
		unsigned char *q = tpkt_wrap(c.p + 4, k, &len);
		struct vbuf v;
		int r;

		if (k > 0)
			q[4] = (unsigned char)(k - 1); /* LI */
		vbuf_init_view(&v, q, len);
		r = rdp_x224_parse_cr(&v, &cr);
		if (r == 0) {
			assert_false(cr.has_neg);
			ok++;
		} else
			assert_true(is_length_error(r));
		free(q);
	}
	assert_int_equal(ok, 2); /* without token, and token only */
	/* Raw prefixes: the TPKT length no longer matches. */
	for (k = 0; k < c.len; k++) {
		unsigned char *q = dup_bytes(c.p, k);
		struct vbuf v;

		vbuf_init_view(&v, q, k);
		assert_true(is_length_error(rdp_x224_parse_cr(&v, &cr)));
		free(q);
	}
	cap_free(&c);
}

static void
rdp_x224_parse_cc__when_truncated_at_every_field__error(void **state)
{
	struct cap c = cap_load("shadow-full/0001-s2c-x224-cc.bin");
	struct rdp_x224_cc cc;
	size_t k, len;

	for (k = 0; k < c.len - 4; k++) {
		unsigned char *q = tpkt_wrap(c.p + 4, k, &len);
		struct vbuf v;
		int r;

		if (k > 0)
			q[4] = (unsigned char)(k - 1);
		vbuf_init_view(&v, q, len);
		r = rdp_x224_parse_cc(&v, &cc);
		if (k == 7)
			assert_int_equal(r, 0); /* legacy CC, no neg data */
		else
			assert_true(is_length_error(r));
		free(q);
	}
	cap_free(&c);
}

static struct vbuf *
build_cr(const unsigned char *var, size_t n, uint8_t li_adjust)
{
	struct vbuf *b = vbuf_new(512);
	size_t mark;

	assert_non_null(b);
	assert_int_equal(rdp_tpkt_begin(b, &mark), 0);
	assert_int_equal(vbuf_put_u8(b, (uint8_t)(6 + n + li_adjust)), 0);
	assert_int_equal(vbuf_put(b, "\xE0\0\0\0\0\0", 6), 0);
	assert_int_equal(vbuf_put(b, var, n), 0);
	assert_int_equal(rdp_tpkt_end(b, mark), 0);
	return b;
}

static void
rdp_x224_parse_cr__when_malformed__each_error(void **state)
{
	/* NEG_REQ with the correlation flag and the 36-byte info. */
	unsigned char corr[8 + 36] = { 0x01, 0x08, 0x08, 0x00, 0x03, 0, 0, 0,
		0x06, 0x00, 0x24, 0x00, 0x11 };
	unsigned char var[64];
	struct rdp_x224_cr cr;
	struct vbuf *b;

	b = build_cr(corr, sizeof(corr), 0);
	assert_int_equal(rdp_x224_parse_cr(b, &cr), 0);
	assert_true(cr.has_correlation);
	assert_int_equal(cr.correlation_id[0], 0x11);
	assert_int_equal(cr.neg_flags, RDP_NEG_REQ_CORRELATION_INFO);
	vbuf_free(b);
	/* Correlation flag without the info. */
	b = build_cr(corr, 8, 0);
	assert_int_equal(rdp_x224_parse_cr(b, &cr), VDI_ERR_TRUNCATED);
	vbuf_free(b);
	/* Correlation info with a bad length. */
	memcpy(var, corr, sizeof(corr));
	var[10] = 0x23;
	b = build_cr(var, sizeof(corr), 0);
	assert_int_equal(rdp_x224_parse_cr(b, &cr), VDI_ERR_BAD_LENGTH);
	vbuf_free(b);
	/* LI disagreeing with TPKT. */
	b = build_cr(corr, 8, 1);
	assert_int_equal(rdp_x224_parse_cr(b, &cr), VDI_ERR_BAD_LENGTH);
	vbuf_free(b);
	/* NEG_REQ type 2 (a response), and length 9. */
	memcpy(var, "\x02\x00\x08\x00\x01\x00\x00\x00", 8);
	b = build_cr(var, 8, 0);
	assert_int_equal(rdp_x224_parse_cr(b, &cr), VDI_ERR_BAD_FORMAT);
	vbuf_free(b);
	memcpy(var, "\x01\x00\x09\x00\x01\x00\x00\x00", 8);
	b = build_cr(var, 8, 0);
	assert_int_equal(rdp_x224_parse_cr(b, &cr), VDI_ERR_BAD_LENGTH);
	vbuf_free(b);
	/* A token without CRLF, and one with a control character. */
	b = build_cr((const unsigned char *)"Cookie: mstshash=x", 18, 0);
	assert_int_equal(rdp_x224_parse_cr(b, &cr), VDI_ERR_BAD_FORMAT);
	vbuf_free(b);
	b = build_cr((const unsigned char *)"Cookie: a\tb\r\n", 13, 0);
	assert_int_equal(rdp_x224_parse_cr(b, &cr), VDI_ERR_BAD_FORMAT);
	vbuf_free(b);
	/* Routing token. */
	{
		static const char tok[] =
		    "Cookie: msts=3640205228.15629.0000\r\n";

		b = build_cr((const unsigned char *)tok, sizeof(tok) - 1, 0);
	}
	assert_int_equal(rdp_x224_parse_cr(b, &cr), 0);
	assert_int_equal(cr.token_kind, RDP_X224_TOKEN_ROUTING);
	assert_false(cr.has_neg);
	vbuf_free(b);
	/* Trailing byte after NEG_REQ. */
	memcpy(var, "\x01\x00\x08\x00\x01\x00\x00\x00\x00", 9);
	b = build_cr(var, 9, 0);
	assert_int_equal(rdp_x224_parse_cr(b, &cr), VDI_ERR_BAD_LENGTH);
	vbuf_free(b);
}

static void
rdp_x224_select_protocol__when_no_ssl__unsupported(void **state)
{
	struct rdp_x224_cr cr;
	uint32_t sel = 99;

	memset(&cr, 0, sizeof(cr));
	assert_int_equal(
	    rdp_x224_select_protocol(&cr, &sel), VDI_ERR_UNSUPPORTED);
	assert_int_equal(sel, RDP_PROTOCOL_RDP);
	cr.has_neg = 1;
	cr.requested_protocols = RDP_PROTOCOL_HYBRID | RDP_PROTOCOL_HYBRID_EX;
	assert_int_equal(
	    rdp_x224_select_protocol(&cr, &sel), VDI_ERR_UNSUPPORTED);
	cr.requested_protocols |= RDP_PROTOCOL_SSL;
	assert_int_equal(rdp_x224_select_protocol(&cr, &sel), 0);
	assert_int_equal(sel, RDP_PROTOCOL_SSL);
}

static void
rdp_x224_write_cr__when_user__parses_back_without_admin_flags(void **s)
{
	struct vbuf *out = vbuf_new(1024);
	struct rdp_x224_cr cr;

	assert_non_null(out);
	assert_int_equal(rdp_x224_write_cr(out, "bob@corp",
			     RDP_PROTOCOL_SSL | RDP_PROTOCOL_HYBRID),
	    0);
	assert_int_equal(rdp_x224_parse_cr(out, &cr), 0);
	assert_int_equal(cr.token_kind, RDP_X224_TOKEN_COOKIE);
	assert_string_equal(cr.cookie, "bob?corp"); /* sanitised copy */
	assert_int_equal(cr.neg_flags, 0);
	assert_int_equal(
	    cr.requested_protocols, RDP_PROTOCOL_SSL | RDP_PROTOCOL_HYBRID);
	/* Same bytes as the client's own CR when the user matches. */
	vbuf_reset(out);
	assert_int_equal(rdp_x224_write_cr(out, "alice", RDP_PROTOCOL_SSL), 0);
	{
		struct cap c = cap_load("shadow-full/0000-c2s-x224-cr.bin");

		assert_int_equal(vbuf_len(out), c.len);
		assert_memory_equal(vbuf_ptr(out), c.p, c.len);
		cap_free(&c);
	}
	vbuf_free(out);
}

static void
rdp_x224_write_cr__when_bad_arguments__invalid_arg_nothing_appended(void **s)
{
	char longname[RDP_X224_COOKIE_MAX + 2];
	struct vbuf *out = vbuf_new(1024);

	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(
	    rdp_x224_write_cr(out, "", RDP_PROTOCOL_SSL), VDI_ERR_INVALID_ARG);
	assert_int_equal(rdp_x224_write_cr(out, NULL, RDP_PROTOCOL_SSL),
	    VDI_ERR_INVALID_ARG);
	assert_int_equal(rdp_x224_write_cr(out, "a b", RDP_PROTOCOL_SSL),
	    VDI_ERR_INVALID_ARG);
	assert_int_equal(
	    rdp_x224_write_cr(out, "a\r\nCookie: x", RDP_PROTOCOL_SSL),
	    VDI_ERR_INVALID_ARG);
	assert_int_equal(rdp_x224_write_cr(out, longname, RDP_PROTOCOL_SSL),
	    VDI_ERR_INVALID_ARG);
	assert_int_equal(rdp_x224_write_cr(out, "a", 0), VDI_ERR_INVALID_ARG);
	assert_int_equal(rdp_x224_write_cr(out, "a", RDP_PROTOCOL_RDSTLS),
	    VDI_ERR_INVALID_ARG);
	assert_int_equal(vbuf_len(out), 0);
	vbuf_free(out);
}

static void
rdp_x224_write_cc__when_admin_flags__stripped(void **state)
{
	struct vbuf *out = vbuf_new(1024);
	struct rdp_x224_cc cc;

	assert_int_equal(
	    rdp_x224_write_cc(out,
		RDP_NEG_RSP_EXTENDED_CLIENT_DATA | RDP_NEG_RSP_DYNVC_GFX |
		    RDP_NEG_RSP_RESTRICTED_ADMIN | RDP_NEG_RSP_REDIRECTED_AUTH,
		RDP_PROTOCOL_SSL),
	    0);
	assert_int_equal(rdp_x224_parse_cc(out, &cc), 0);
	assert_int_equal(
	    cc.flags, RDP_NEG_RSP_EXTENDED_CLIENT_DATA | RDP_NEG_RSP_DYNVC_GFX);
	assert_int_equal(cc.selected_protocol, RDP_PROTOCOL_SSL);
	/* The same bytes as the shadow server's CC. */
	{
		struct cap c = cap_load("shadow-full/0001-s2c-x224-cc.bin");

		assert_memory_equal(vbuf_ptr(out), c.p, c.len);
		cap_free(&c);
	}
	vbuf_reset(out);
	assert_int_equal(
	    rdp_x224_write_cc(out, 0, RDP_PROTOCOL_RDP), VDI_ERR_INVALID_ARG);
	assert_int_equal(vbuf_len(out), 0);
	vbuf_free(out);
}

static void
rdp_x224_write_neg_failure__when_ssl_required__parses_back(void **state)
{
	static const unsigned char want[] = { 0x03, 0x00, 0x00, 0x13, 0x0E,
		0xD0, 0, 0, 0, 0, 0, 0x03, 0x00, 0x08, 0x00, 0x01, 0, 0, 0 };
	struct vbuf *out = vbuf_new(1024);
	struct rdp_x224_cc cc;

	assert_int_equal(
	    rdp_x224_write_neg_failure(out, RDP_NEG_FAILURE_SSL_REQUIRED), 0);
	assert_int_equal(vbuf_len(out), sizeof(want));
	assert_memory_equal(vbuf_ptr(out), want, sizeof(want));
	assert_int_equal(rdp_x224_parse_cc(out, &cc), 0);
	assert_true(cc.failure);
	assert_int_equal(cc.failure_code, RDP_NEG_FAILURE_SSL_REQUIRED);
	vbuf_free(out);
}

static void
rdp_x224_parse_data__when_header_wrong__errors(void **state)
{
	static const unsigned char li3[] = { 3, 0, 0, 8, 3, 0xF0, 0x80, 0 };
	static const unsigned char code[] = { 3, 0, 0, 8, 2, 0xE0, 0x80, 0 };
	static const unsigned char eot[] = { 3, 0, 0, 8, 2, 0xF0, 0x00, 0 };
	static const unsigned char ok[] = { 3, 0, 0, 8, 2, 0xF0, 0x80, 0x77 };
	struct vbuf v, p;

	vbuf_init_view(&v, li3, sizeof(li3));
	assert_int_equal(rdp_x224_parse_data(&v, &p), VDI_ERR_BAD_LENGTH);
	vbuf_init_view(&v, code, sizeof(code));
	assert_int_equal(rdp_x224_parse_data(&v, &p), VDI_ERR_BAD_FORMAT);
	vbuf_init_view(&v, eot, sizeof(eot));
	assert_int_equal(rdp_x224_parse_data(&v, &p), VDI_ERR_BAD_FORMAT);
	vbuf_init_view(&v, ok, sizeof(ok));
	assert_int_equal(rdp_x224_parse_data(&v, &p), 0);
	assert_int_equal(vbuf_len(&p), 1);
	assert_int_equal(rdp_x224_tpdu_type(&v), RDP_X224_TPDU_DATA);
	vbuf_init_view(&v, ok, 6);
	assert_int_equal(rdp_x224_parse_data(&v, &p), VDI_ERR_BAD_LENGTH);
	vbuf_init_view(&v, ok, 3);
	assert_int_equal(rdp_x224_parse_data(&v, &p), VDI_ERR_TRUNCATED);
}

static void
rdp_x224_write_data__when_payload__roundtrip_and_size_cap(void **state)
{
	struct vbuf *out = vbuf_new(2 * RDP_FRAME_MAX), p;
	static unsigned char big[RDP_FRAME_MAX];

	assert_int_equal(rdp_x224_write_data(out, "abc", 3), 0);
	assert_int_equal(rdp_x224_parse_data(out, &p), 0);
	assert_int_equal(vbuf_len(&p), 3);
	vbuf_reset(out);
	assert_int_equal(rdp_x224_write_data(out, big, RDP_FRAME_MAX - 7), 0);
	assert_int_equal(vbuf_len(out), RDP_FRAME_MAX);
	vbuf_reset(out);
	assert_int_equal(rdp_x224_write_data(out, big, RDP_FRAME_MAX - 6),
	    VDI_ERR_TOO_LARGE);
	assert_int_equal(vbuf_len(out), 0);
	vbuf_free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    rdp_x224_parse_cr__when_captured_cookie__cookie_and_ssl),
		cmocka_unit_test(
		    rdp_x224_parse_cr__when_load_balance_info__other_token_ignored),
		cmocka_unit_test(
		    rdp_x224_parse_cc__when_captured__ssl_selected),
		cmocka_unit_test(
		    rdp_x224_parse_cr__when_truncated_at_every_field__error),
		cmocka_unit_test(
		    rdp_x224_parse_cc__when_truncated_at_every_field__error),
		cmocka_unit_test(rdp_x224_parse_cr__when_malformed__each_error),
		cmocka_unit_test(
		    rdp_x224_select_protocol__when_no_ssl__unsupported),
		cmocka_unit_test(
		    rdp_x224_write_cr__when_user__parses_back_without_admin_flags),
		cmocka_unit_test(
		    rdp_x224_write_cr__when_bad_arguments__invalid_arg_nothing_appended),
		cmocka_unit_test(rdp_x224_write_cc__when_admin_flags__stripped),
		cmocka_unit_test(
		    rdp_x224_write_neg_failure__when_ssl_required__parses_back),
		cmocka_unit_test(
		    rdp_x224_parse_data__when_header_wrong__errors),
		cmocka_unit_test(
		    rdp_x224_write_data__when_payload__roundtrip_and_size_cap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
