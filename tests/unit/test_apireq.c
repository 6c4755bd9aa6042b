/* Unit tests for broker/apireq.c. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "apireq.h"

static json_t *
J(const char *s)
{
	struct apireq_error e;
	json_t *v = NULL;

	assert_int_equal(apireq_json(s, strlen(s), &v, &e), 0);
	return v;
}

static const char *
code_of_json(const char *s)
{
	static struct apireq_error e;
	json_t *v = NULL;

	if (apireq_json(s, strlen(s), &v, &e) == 0) {
		json_decref(v);
		return "ok";
	}
	return e.code;
}

static void
apireq_json__when_not_an_object_or_bad__bad_json(void **state)
{
	char deep[200];
	int i;

	assert_string_equal(code_of_json("{}"), "ok");
	assert_string_equal(code_of_json(""), "bad_json");
	assert_string_equal(code_of_json("[1]"), "bad_json");
	assert_string_equal(code_of_json("\"x\""), "bad_json");
	assert_string_equal(code_of_json("{\"a\":1,\"a\":2}"), "bad_json");
	assert_string_equal(code_of_json("{\"a\":1} x"), "bad_json");
	assert_string_equal(code_of_json("{\"a\":"), "bad_json");
	/* NUL inside strings never reaches the handlers */
	assert_string_equal(
	    code_of_json("{\"user\":\"a\\u0000b\"}"), "bad_json");
	for (i = 0; i < 40; i++)
		deep[i] = '[';
	snprintf(deep, sizeof(deep), "{\"a\":%.*s%.*s}", 20,
	    "[[[[[[[[[[[[[[[[[[[[", 20, "]]]]]]]]]]]]]]]]]]]]");
	assert_string_equal(code_of_json(deep), "bad_json");
}

static void
apireq_login__when_start_or_step__parsed(void **state)
{
	struct apireq_login l;
	struct apireq_error e;
	json_t *v;

	v = J("{\"user\":\"alice\"}");
	assert_int_equal(apireq_login(v, &l, &e), 0);
	assert_int_equal(l.step, 0);
	assert_string_equal(l.user, "alice");
	json_decref(v);
	v = J("{\"login_id\":\"abc\",\"answers\":[\"pw\",\"\"]}");
	assert_int_equal(apireq_login(v, &l, &e), 0);
	assert_int_equal(l.step, 1);
	assert_int_equal(l.nanswers, 2);
	assert_string_equal(l.answers[0], "pw");
	assert_string_equal(l.answers[1], "");
	json_decref(v);
}

static void
apireq_login__when_malformed__stable_codes(void **state)
{
	static const struct {
		const char *body, *code;
	} cases[] = {
		{ "{}", "bad_request" },
		{ "{\"user\":\"\"}", "bad_user" },
		{ "{\"user\":5}", "bad_user" },
		{ "{\"user\":\"a\\nb\"}", "bad_user" },
		{ "{\"user\":\"a\",\"login_id\":\"x\"}", "bad_request" },
		{ "{\"user\":\"a\",\"extra\":1}", "bad_request" },
		{ "{\"login_id\":\"x\"}", "bad_answers" },
		{ "{\"login_id\":\"x\",\"answers\":\"pw\"}", "bad_answers" },
		{ "{\"login_id\":\"x\",\"answers\":[1]}", "bad_answers" },
		{ "{\"login_id\":\"x\",\"answers\":[\"1\",\"2\",\"3\",\"4\","
		  "\"5\","
		  "\"6\",\"7\",\"8\",\"9\"]}",
		    "bad_answers" },
		{ "{\"login_id\":7,\"answers\":[]}", "bad_request" },
	};
	struct apireq_login l;
	struct apireq_error e;
	size_t i;
	json_t *v;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		v = J(cases[i].body);
		if (apireq_login(v, &l, &e) == 0)
			fail_msg("accepted %s", cases[i].body);
		if (strcmp(e.code, cases[i].code) != 0)
			fail_msg("%s: %s, want %s", cases[i].body, e.code,
			    cases[i].code);
		json_decref(v);
	}
}

static void
apireq_events__when_one_bad__whole_batch_refused(void **state)
{
	struct apireq_error e;
	size_t n;
	json_t *v;

	v = J("{\"events\":[{\"type\":\"start\",\"sid\":\"s1\"},"
	      "{\"type\":\"end\",\"sid\":\"s1\",\"bytes_in\":5}]}");
	assert_int_equal(apireq_events(v, &n, &e), 0);
	assert_int_equal(n, 2);
	json_decref(v);
	v = J("{\"events\":[{\"type\":\"start\",\"sid\":\"s1\"},"
	      "{\"type\":\"explode\",\"sid\":\"s1\"}]}");
	assert_int_not_equal(apireq_events(v, &n, &e), 0);
	assert_string_equal(e.code, "bad_event");
	assert_int_equal(n, 0);
	json_decref(v);
	v = J(
	    "{\"events\":[{\"type\":\"end\",\"sid\":\"s1\",\"bytes_in\":-1}]}");
	assert_int_not_equal(apireq_events(v, &n, &e), 0);
	json_decref(v);
	v = J("{\"events\":{}}");
	assert_int_not_equal(apireq_events(v, &n, &e), 0);
	assert_string_equal(e.code, "bad_request");
	json_decref(v);
}

static void
apireq_commands__when_values__clamped_or_refused(void **state)
{
	struct apireq_commands c;
	struct apireq_error e;
	json_t *v;

	v = J("{\"epoch\":\"e\",\"after\":5,\"wait\":99}");
	assert_int_equal(apireq_commands(v, 30, &c, &e), 0);
	assert_int_equal(c.after, 5);
	assert_int_equal(c.wait, 30);
	assert_string_equal(c.epoch, "e");
	json_decref(v);
	v = J("{\"wait\":-4}");
	assert_int_equal(apireq_commands(v, 30, &c, &e), 0);
	assert_int_equal(c.wait, 0);
	json_decref(v);
	v = J("{\"after\":-1}");
	assert_int_not_equal(apireq_commands(v, 30, &c, &e), 0);
	json_decref(v);
	v = J("{\"after\":1.5}");
	assert_int_not_equal(apireq_commands(v, 30, &c, &e), 0);
	json_decref(v);
	v = J("{\"x\":1}");
	assert_int_not_equal(apireq_commands(v, 30, &c, &e), 0);
	json_decref(v);
}

static void
apireq_reconnect_logoff__when_missing__refused(void **state)
{
	struct apireq_error e;
	const char *s;
	json_t *v;

	v = J("{\"ticket\":\"abc\"}");
	assert_int_equal(apireq_reconnect(v, &s, &e), 0);
	assert_string_equal(s, "abc");
	json_decref(v);
	v = J("{\"ticket\":1}");
	assert_int_not_equal(apireq_reconnect(v, &s, &e), 0);
	assert_string_equal(e.code, "ticket_invalid");
	json_decref(v);
	v = J("{\"session\":\"abc\"}");
	assert_int_equal(apireq_logoff(v, &s, &e), 0);
	json_decref(v);
	v = J("{\"session\":\"\"}");
	assert_int_not_equal(apireq_logoff(v, &s, &e), 0);
	json_decref(v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    apireq_json__when_not_an_object_or_bad__bad_json),
		cmocka_unit_test(apireq_login__when_start_or_step__parsed),
		cmocka_unit_test(apireq_login__when_malformed__stable_codes),
		cmocka_unit_test(
		    apireq_events__when_one_bad__whole_batch_refused),
		cmocka_unit_test(
		    apireq_commands__when_values__clamped_or_refused),
		cmocka_unit_test(
		    apireq_reconnect_logoff__when_missing__refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
