/* Unit tests for client-shim/reply.c (broker and gateway answers). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "shim.h"

static struct shim_reply r;

static int
parse(const char *s, long status)
{
	return shim_reply_parse(s, strlen(s), status, &r);
}

static void
shim_reply_parse__when_prompt__prompts_and_messages(void **state)
{
	(void)state;
	assert_int_equal(
	    parse("{\"state\":\"prompt\",\"login_id\":\"L1\","
		  "\"prompts\":[{\"style\":\"echo_off\","
		  "\"text\":\"Password: \"},{\"style\":\"echo_on\","
		  "\"text\":\"Code: \"}],\"messages\":[{\"style\":"
		  "\"info\",\"text\":\"hello\"}]}",
		200),
	    0);
	assert_int_equal(r.state, SHIM_REPLY_PROMPT);
	assert_string_equal(r.login_id, "L1");
	assert_int_equal(r.nprompts, 2);
	assert_int_equal(r.prompts[0].style, VDIC_PROMPT_ECHO_OFF);
	assert_int_equal(r.prompts[1].style, VDIC_PROMPT_ECHO_ON);
	assert_string_equal(r.prompts[1].text, "Code: ");
	assert_int_equal(r.nmessages, 1);
	assert_string_equal(r.messages[0].text, "hello");
}

static void
shim_reply_parse__when_ok__grant(void **state)
{
	(void)state;
	assert_int_equal(parse("{\"state\":\"ok\",\"user\":\"alice\","
			       "\"session\":\"S\",\"desktop\":\"d1\","
			       "\"gateway\":\"gw:9443\",\"token\":\"a.b.c\","
			       "\"ticket\":\"T\",\"reconnect_window\":600}",
			     200),
	    0);
	assert_int_equal(r.state, SHIM_REPLY_OK);
	assert_string_equal(r.token, "a.b.c");
	assert_string_equal(r.gateway, "gw:9443");
	assert_string_equal(r.ticket, "T");
	assert_int_equal(r.reconnect_window, 600);
	shim_reply_wipe(&r);
	assert_string_equal(r.token, "");
}

static void
shim_reply_parse__when_ok_without_token__bad_format(void **state)
{
	(void)state;
	assert_int_equal(parse("{\"state\":\"ok\",\"session\":\"S\","
			       "\"gateway\":\"g:1\"}",
			     200),
	    VDI_ERR_BAD_FORMAT);
	assert_string_equal(r.error, "bad_reply");
}

static void
shim_reply_parse__when_logoff_ended__session(void **state)
{
	(void)state;
	assert_int_equal(
	    parse("{\"state\":\"ended\",\"session\":\"S1\"}", 200), 0);
	assert_int_equal(r.state, SHIM_REPLY_ENDED);
	assert_string_equal(r.session, "S1");
	assert_int_equal(
	    parse("{\"state\":\"ended\"}", 200), VDI_ERR_BAD_FORMAT);
}

static void
shim_reply_parse__when_error__code_message_retry(void **state)
{
	(void)state;
	assert_int_equal(parse("{\"error\":\"rate_limited\",\"message\":\"x\","
			       "\"retry_after\":90}",
			     429),
	    0);
	assert_int_equal(r.state, SHIM_REPLY_ERROR);
	assert_string_equal(r.error, "rate_limited");
	assert_int_equal(r.retry_after, 90);
}

static void
shim_reply_parse__when_not_json__json_error(void **state)
{
	(void)state;
	assert_int_equal(parse("<html>", 502), VDI_ERR_JSON);
	assert_int_equal(r.state, SHIM_REPLY_ERROR);
	assert_int_equal(parse("[1]", 200), VDI_ERR_BAD_FORMAT);
	assert_int_equal(
	    parse("{\"state\":\"maybe\"}", 200), VDI_ERR_BAD_FORMAT);
	assert_int_equal(shim_reply_parse(NULL, 0, 200, &r), VDI_ERR_JSON);
}

static void
shim_reply_parse__when_too_many_prompts__bad_format(void **state)
{
	char buf[4096] =
	    "{\"state\":\"prompt\",\"login_id\":\"L\",\"prompts\":[";
	int i;

	(void)state;
	for (i = 0; i < SHIM_PROMPTS_MAX + 1; i++)
		strcat(buf,
		    i ? ",{\"style\":\"echo_on\",\"text\":\"x\"}"
		      : "{\"style\":\"echo_on\",\"text\":\"x\"}");
	strcat(buf, "]}");
	assert_int_equal(parse(buf, 200), VDI_ERR_BAD_FORMAT);
}

static void
shim_explain__when_codes__status_and_text(void **state)
{
	char m[512];

	(void)state;
	assert_int_equal(
	    shim_explain("auth_failed", "", 0, m, sizeof(m)), VDIC_ERR_AUTH);
	assert_non_null(strstr(m, "Wrong user name or password"));
	assert_int_equal(
	    shim_explain("device_revoked", "lost", 0, m, sizeof(m)),
	    VDIC_ERR_DEVICE);
	assert_non_null(strstr(m, "lost"));
	assert_int_equal(
	    shim_explain("device_expired", "valid until X", 0, m, sizeof(m)),
	    VDIC_ERR_DEVICE);
	assert_non_null(strstr(m, "valid until X"));
	assert_int_equal(shim_explain("outside_hours", "", 0, m, sizeof(m)),
	    VDIC_ERR_POLICY);
	assert_int_equal(
	    shim_explain("network_not_allowed", "", 0, m, sizeof(m)),
	    VDIC_ERR_POLICY);
	assert_int_equal(shim_explain("no_desktop", "", 0, m, sizeof(m)),
	    VDIC_ERR_NO_DESKTOP);
	assert_int_equal(
	    shim_explain("rate_limited", "", 300, m, sizeof(m)), VDIC_ERR_AUTH);
	assert_non_null(strstr(m, "5 minutes"));
	assert_int_equal(shim_explain("cut", "the broker has cut this session",
			     0, m, sizeof(m)),
	    VDIC_ERR_AUTH);
	assert_non_null(strstr(m, "ended this session"));
	/* the broker (reconnect) and the gateway (tunnel) say max_session */
	assert_int_equal(shim_explain("max_session", "", 0, m, sizeof(m)),
	    VDIC_ERR_TIME_LIMIT);
	assert_non_null(strstr(m, "Your session has reached its time limit"));
	assert_int_equal(shim_explain("token_replayed", "", 0, m, sizeof(m)),
	    VDIC_ERR_GATEWAY);
	assert_int_equal(
	    shim_explain("replaced", "newer login", 0, m, sizeof(m)),
	    VDIC_ERR_REPLACED);
	assert_non_null(strstr(m, "opened by a newer connection"));
	assert_non_null(strstr(m, "newer login"));
	assert_int_equal(shim_explain("something_new", "", 0, m, sizeof(m)),
	    VDIC_ERR_BROKER);
	assert_non_null(strstr(m, "something_new"));
}

static void
shim_upgrade_response__when_101__head_length(void **state)
{
	static const char a[] = "HTTP/1.1 101 Switching Protocols\r\n"
				"Upgrade: vdi-rdp\r\n\r\n\x03\x00";
	int st;
	size_t head;

	(void)state;
	assert_int_equal(
	    shim_upgrade_response(a, sizeof(a) - 1, &st, &head), 0);
	assert_int_equal(st, 101);
	assert_int_equal(head, sizeof(a) - 3);
	/* every truncation needs more */
	for (size_t n = 0; n < sizeof(a) - 3; n++)
		assert_int_equal(
		    shim_upgrade_response(a, n, &st, &head), VDI_ERR_NEED_MORE);
	assert_int_equal(
	    shim_upgrade_response("SSH-2.0-x\r\n\r\n", 13, &st, &head),
	    VDI_ERR_BAD_FORMAT);
	assert_int_equal(
	    shim_upgrade_response("HTTP/1.1 abc\r\n\r\n", 16, &st, &head),
	    VDI_ERR_BAD_FORMAT);
}

static void
shim_upgrade_request__when_token__request(void **state)
{
	char out[512];

	(void)state;
	assert_true(shim_upgrade_request("gw", "a.b.c", out, sizeof(out)) > 0);
	assert_string_equal(out,
	    "GET /v1/tunnel HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer "
	    "a.b.c\r\nConnection: Upgrade\r\nUpgrade: vdi-rdp\r\n\r\n");
	assert_int_equal(
	    shim_upgrade_request("gw", "a\r\nX: y", out, sizeof(out)),
	    VDI_ERR_INVALID_ARG);
	assert_int_equal(
	    shim_upgrade_request("gw", "a.b.c", out, 20), VDI_ERR_TOO_LARGE);
}

/* The statuses are vdi-connect's exit codes (vdi-connect(1)): the values
 * never change, and each has its own description. */
static void
vdic_status__exit_codes_fixed__described(void **state)
{
	(void)state;
	assert_int_equal(VDIC_OK, 0);
	assert_int_equal(VDIC_ERR_CONFIG, 2);
	assert_int_equal(VDIC_ERR_DEVICE, 4);
	assert_int_equal(VDIC_ERR_GAVE_UP, 8);
	assert_int_equal(VDIC_ERR_REPLACED, 12);
	assert_int_equal(VDIC_ERR_CRL_EXPIRED, 14);
	assert_string_equal(vdic_status_str(VDIC_ERR_DEVICE), "device problem");
	assert_string_equal(
	    vdic_status_str(VDIC_ERR_TIME_LIMIT), "session time limit reached");
	assert_string_equal(
	    vdic_status_str(VDIC_ERR_INTERNAL), "internal error");
	assert_string_equal(vdic_status_str(99), "internal error");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    shim_reply_parse__when_prompt__prompts_and_messages),
		cmocka_unit_test(shim_reply_parse__when_ok__grant),
		cmocka_unit_test(vdic_status__exit_codes_fixed__described),
		cmocka_unit_test(shim_reply_parse__when_logoff_ended__session),
		cmocka_unit_test(
		    shim_reply_parse__when_ok_without_token__bad_format),
		cmocka_unit_test(
		    shim_reply_parse__when_error__code_message_retry),
		cmocka_unit_test(shim_reply_parse__when_not_json__json_error),
		cmocka_unit_test(
		    shim_reply_parse__when_too_many_prompts__bad_format),
		cmocka_unit_test(shim_explain__when_codes__status_and_text),
		cmocka_unit_test(shim_upgrade_response__when_101__head_length),
		cmocka_unit_test(shim_upgrade_request__when_token__request),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
