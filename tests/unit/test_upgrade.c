/* Unit tests for gateway/upgrade.c. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "httpstatus.h"
#include "upgrade.h"

#define GOOD                                                                   \
	"GET /v1/tunnel HTTP/1.1\r\n"                                          \
	"Host: gw.example:9443\r\n"                                            \
	"Authorization: Bearer aaa.bbb.ccc\r\n"                                \
	"Connection: keep-alive, Upgrade\r\n"                                  \
	"Upgrade: vdi-rdp\r\n"                                                 \
	"\r\n"

static int
parse(const char *s, struct upgrade_req *u)
{
	struct vbuf v;

	vbuf_init_view(&v, s, strlen(s));
	return upgrade_parse(&v, u);
}

static enum vdi_reason
verdict(const char *s)
{
	struct upgrade_req u;

	assert_int_equal(parse(s, &u), 0);
	return u.error;
}

static void
upgrade_parse__when_valid__token_and_consumed(void **state)
{
	struct upgrade_req u;
	char buf[512];

	assert_int_equal(parse(GOOD, &u), 0);
	assert_int_equal(u.error, VDI_REASON_OK);
	assert_int_equal(u.token_len, 11);
	assert_memory_equal(u.token, "aaa.bbb.ccc", 11);
	assert_int_equal(u.consumed, strlen(GOOD));
	/* RDP bytes right after the request are not part of it */
	{
		struct vbuf v;
		size_t gl = strlen(GOOD);

		memcpy(buf, GOOD, gl);
		memcpy(buf + gl, "\x03\x00\x00\x13", 4);
		vbuf_init_view(&v, buf, gl + 4);
		assert_int_equal(upgrade_parse(&v, &u), 0);
		assert_int_equal(u.error, VDI_REASON_OK);
		assert_int_equal(u.consumed, gl);
	}
	assert_int_equal(vdi_reason_status(VDI_REASON_OK), 101);
}

static void
upgrade_parse__when_truncated_anywhere__need_more(void **state)
{
	struct upgrade_req u;
	struct vbuf v;
	size_t n;

	for (n = 0; n < strlen(GOOD); n++) {
		vbuf_init_view(&v, GOOD, n);
		assert_int_equal(upgrade_parse(&v, &u), VDI_ERR_NEED_MORE);
	}
}

static void
upgrade_parse__when_wrong_target_or_method__404_405(void **state)
{
	assert_int_equal(verdict("GET /v1/other HTTP/1.1\r\nHost: x\r\n\r\n"),
	    VDI_REASON_NOT_FOUND);
	assert_int_equal(verdict("GET /v1/tunnel/ HTTP/1.1\r\nHost: x\r\n\r\n"),
	    VDI_REASON_NOT_FOUND);
	assert_int_equal(verdict("POST /v1/tunnel HTTP/1.1\r\nHost: x\r\n\r\n"),
	    VDI_REASON_METHOD_NOT_ALLOWED);
	assert_int_equal(vdi_reason_status(VDI_REASON_METHOD_NOT_ALLOWED), 405);
}

static void
upgrade_parse__when_no_upgrade_headers__426(void **state)
{
	assert_int_equal(verdict("GET /v1/tunnel HTTP/1.1\r\nHost: x\r\n"
				 "Authorization: Bearer t\r\n\r\n"),
	    VDI_REASON_UPGRADE_REQUIRED);
	assert_int_equal(verdict("GET /v1/tunnel HTTP/1.1\r\nHost: x\r\n"
				 "Connection: Upgrade\r\nUpgrade: websocket\r\n"
				 "Authorization: Bearer t\r\n\r\n"),
	    VDI_REASON_UPGRADE_REQUIRED);
	assert_int_equal(verdict("GET /v1/tunnel HTTP/1.1\r\nHost: x\r\n"
				 "Connection: close\r\nUpgrade: vdi-rdp\r\n"
				 "Authorization: Bearer t\r\n\r\n"),
	    VDI_REASON_UPGRADE_REQUIRED);
}

static void
upgrade_parse__when_token_missing_or_bad__401(void **state)
{
	assert_int_equal(
	    verdict("GET /v1/tunnel HTTP/1.1\r\nHost: x\r\n"
		    "Connection: Upgrade\r\nUpgrade: vdi-rdp\r\n\r\n"),
	    VDI_REASON_TOKEN_MISSING);
	assert_int_equal(verdict("GET /v1/tunnel HTTP/1.1\r\nHost: x\r\n"
				 "Connection: Upgrade\r\nUpgrade: vdi-rdp\r\n"
				 "Authorization: Basic dXNlcjpwYXNz\r\n\r\n"),
	    VDI_REASON_TOKEN_MISSING);
	assert_int_equal(verdict("GET /v1/tunnel HTTP/1.1\r\nHost: x\r\n"
				 "Connection: Upgrade\r\nUpgrade: vdi-rdp\r\n"
				 "Authorization: Bearer a b\r\n\r\n"),
	    VDI_REASON_TOKEN_MISSING);
	assert_int_equal(verdict("GET /v1/tunnel HTTP/1.1\r\nHost: x\r\n"
				 "Connection: Upgrade\r\nUpgrade: vdi-rdp\r\n"
				 "Authorization: Bearer \r\n\r\n"),
	    VDI_REASON_TOKEN_MISSING);
}

static void
upgrade_parse__when_malformed__400(void **state)
{
	static const char *const bad[] = {
		"GET /v1/tunnel HTTP/1.0\r\nHost: x\r\n\r\n",
		"GET /v1/tunnel\r\nHost: x\r\n\r\n",
		"GET /v1/tunnel HTTP/1.1\r\n\r\n", /* no Host */
		"GET /v1/tunnel HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n",
		"GET /v1/tunnel HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n",
		"GET /v1/tunnel HTTP/1.1\r\nHost: x\r\nBad Name: v\r\n\r\n",
		"GET /v1/tunnel HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n",
		"GET /v1/tunnel HTTP/1.1\r\nHost: x\r\n: v\r\n\r\n",
		"GET /v1/tunnel HTTP/1.1\r\nHost: x\r\nContent-Length: "
		"5\r\n\r\n",
		"GET /v1/tunnel HTTP/1.1\r\nHost: x\r\nX: a\x01b\r\n\r\n",
		"GET /v1/tunnel HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
		"a\r\n"
		"Authorization: Bearer b\r\n\r\n",
		"GET /v1/tunnel HTTP/1.1\nHost: x\r\n\r\n", /* bare LF */
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (verdict(bad[i]) != VDI_REASON_BAD_REQUEST)
			fail_msg("accepted case %zu", i);
}

static void
upgrade_parse__when_nul_or_too_large__refused_early(void **state)
{
	static char big[UPGRADE_MAX + 10];
	struct upgrade_req u;
	struct vbuf v;
	size_t i, n = 0;

	vbuf_init_view(&v, "GET /\0", 6);
	assert_int_equal(upgrade_parse(&v, &u), 0);
	assert_int_equal(u.error, VDI_REASON_BAD_REQUEST);
	n = (size_t)snprintf(big, sizeof(big), "GET /v1/tunnel HTTP/1.1\r\n");
	for (i = n; i < sizeof(big); i++)
		big[i] = 'a';
	vbuf_init_view(&v, big, sizeof(big));
	assert_int_equal(upgrade_parse(&v, &u), 0);
	assert_int_equal(u.error, VDI_REASON_HEADERS_TOO_LARGE);
	assert_int_equal(vdi_reason_status(u.error), 431);
	/* too many header lines */
	{
		char many[4096];
		size_t o = (size_t)snprintf(many, sizeof(many),
		    "GET /v1/tunnel HTTP/1.1\r\nHost: x\r\n");

		for (i = 0; i < UPGRADE_HEADERS_MAX + 1; i++)
			o += (size_t)snprintf(
			    many + o, sizeof(many) - o, "X-%zu: v\r\n", i);
		snprintf(many + o, sizeof(many) - o, "\r\n");
		assert_int_equal(verdict(many), VDI_REASON_HEADERS_TOO_LARGE);
	}
}

/* The codes come from the one reason table and are what they were. */
static void
upgrade_code__when_each_error__the_reason_code(void **state)
{
	(void)state;
	assert_string_equal(vdi_reason_code(VDI_REASON_OK), "ok");
	assert_string_equal(
	    vdi_reason_code(VDI_REASON_BAD_REQUEST), "bad_request");
	assert_string_equal(vdi_reason_code(VDI_REASON_NOT_FOUND), "not_found");
	assert_string_equal(vdi_reason_code(VDI_REASON_METHOD_NOT_ALLOWED),
	    "method_not_allowed");
	assert_string_equal(
	    vdi_reason_code(VDI_REASON_UPGRADE_REQUIRED), "upgrade_required");
	assert_string_equal(
	    vdi_reason_code(VDI_REASON_TOKEN_MISSING), "token_missing");
	assert_string_equal(
	    vdi_reason_code(VDI_REASON_HEADERS_TOO_LARGE), "headers_too_large");
	/* The statuses of the answers (httpstatus.c). */
	assert_int_equal(vdi_reason_status(VDI_REASON_BAD_REQUEST), 400);
	assert_int_equal(vdi_reason_status(VDI_REASON_NOT_FOUND), 404);
	assert_int_equal(vdi_reason_status(VDI_REASON_METHOD_NOT_ALLOWED), 405);
	assert_int_equal(vdi_reason_status(VDI_REASON_UPGRADE_REQUIRED), 426);
	assert_int_equal(vdi_reason_status(VDI_REASON_TOKEN_MISSING), 401);
	assert_int_equal(vdi_reason_status(VDI_REASON_HEADERS_TOO_LARGE), 431);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    upgrade_code__when_each_error__the_reason_code),
		cmocka_unit_test(upgrade_parse__when_valid__token_and_consumed),
		cmocka_unit_test(
		    upgrade_parse__when_truncated_anywhere__need_more),
		cmocka_unit_test(
		    upgrade_parse__when_wrong_target_or_method__404_405),
		cmocka_unit_test(upgrade_parse__when_no_upgrade_headers__426),
		cmocka_unit_test(upgrade_parse__when_token_missing_or_bad__401),
		cmocka_unit_test(upgrade_parse__when_malformed__400),
		cmocka_unit_test(
		    upgrade_parse__when_nul_or_too_large__refused_early),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
