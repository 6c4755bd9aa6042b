/* Unit tests for common/claims.c: time window, audience, issuer, getters. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "claims.h"
#include "vdierr.h"

/* A gateway token issued at T, valid for 60 s. */
#define T 1700000000

static json_t *
parse(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, &e);

	if (j == NULL)
		fail_msg("bad test JSON %s: %s", text, e.text);
	return j;
}

static json_t *
times(json_int_t iat, json_int_t nbf, json_int_t exp)
{
	json_t *j =
	    json_pack("{s:I, s:I, s:I}", "iat", iat, "nbf", nbf, "exp", exp);

	assert_non_null(j);
	return j;
}

static int
check_time(
    json_int_t iat, json_int_t nbf, json_int_t exp, int64_t now, int64_t skew)
{
	json_t *c = times(iat, nbf, exp);
	int r = claims_check_time(c, now, skew, CLAIMS_GATEWAY_LIFETIME);

	json_decref(c);
	return r;
}

static void
claims_check_time__when_inside_window__ok(void **state)
{
	assert_int_equal(check_time(T, T, T + 60, T, 0), 0);
	assert_int_equal(check_time(T, T, T + 60, T + 30, 0), 0);
	assert_int_equal(check_time(T, T, T + 60, T + 59, 0), 0);
	assert_int_equal(check_time(T, T, T + 1, T, 0), 0);
}

static void
claims_check_time__when_at_or_after_exp__expired(void **state)
{
	/* Valid while now < exp: exp itself is already too late. */
	assert_int_equal(
	    check_time(T, T, T + 60, T + 60, 0), VDI_ERR_TOKEN_EXPIRED);
	assert_int_equal(
	    check_time(T, T, T + 60, T + 61, 0), VDI_ERR_TOKEN_EXPIRED);
	assert_int_equal(
	    check_time(T, T, T + 60, T + 100000, 0), VDI_ERR_TOKEN_EXPIRED);
	/* With a skew of 5 s the window closes at exp + 5. */
	assert_int_equal(check_time(T, T, T + 60, T + 64, 5), 0);
	assert_int_equal(
	    check_time(T, T, T + 60, T + 65, 5), VDI_ERR_TOKEN_EXPIRED);
}

static void
claims_check_time__when_before_nbf__not_yet_valid(void **state)
{
	assert_int_equal(check_time(T, T + 10, T + 60, T + 9, 0),
	    VDI_ERR_TOKEN_NOT_YET_VALID);
	assert_int_equal(check_time(T, T + 10, T + 60, T + 10, 0), 0);
	/* With a skew of 5 s the window opens at nbf - 5. */
	assert_int_equal(check_time(T, T + 10, T + 60, T + 5, 5), 0);
	assert_int_equal(check_time(T, T + 10, T + 60, T + 4, 5),
	    VDI_ERR_TOKEN_NOT_YET_VALID);
	/* nbf equal to iat, clock of the gateway 1 s behind the broker. */
	assert_int_equal(
	    check_time(T, T, T + 60, T - 1, 0), VDI_ERR_TOKEN_NOT_YET_VALID);
	assert_int_equal(check_time(T, T, T + 60, T - 1, 1), 0);
	assert_int_equal(
	    check_time(T, T, T + 60, T - 2, 1), VDI_ERR_TOKEN_NOT_YET_VALID);
}

static void
claims_check_time__when_iat_in_future__not_yet_valid(void **state)
{
	/* nbf before iat: iat alone decides. */
	assert_int_equal(check_time(T + 10, T, T + 60, T + 9, 0),
	    VDI_ERR_TOKEN_NOT_YET_VALID);
	assert_int_equal(check_time(T + 10, T, T + 60, T + 10, 0), 0);
	assert_int_equal(check_time(T + 10, T, T + 60, T + 5, 5), 0);
	assert_int_equal(check_time(T + 10, T, T + 60, T + 4, 5),
	    VDI_ERR_TOKEN_NOT_YET_VALID);
}

static void
claims_check_time__when_lifetime_too_long__claim(void **state)
{
	json_t *c;

	assert_int_equal(check_time(T, T, T + 60, T, 0), 0);
	assert_int_equal(check_time(T, T, T + 61, T, 0), VDI_ERR_TOKEN_CLAIM);
	assert_int_equal(
	    check_time(T, T, T + 86400, T, 0), VDI_ERR_TOKEN_CLAIM);
	/* exp not after iat, nbf after exp. */
	assert_int_equal(check_time(T, T, T, T, 0), VDI_ERR_TOKEN_CLAIM);
	assert_int_equal(check_time(T, T, T - 1, T, 0), VDI_ERR_TOKEN_CLAIM);
	assert_int_equal(
	    check_time(T, T + 61, T + 60, T, 0), VDI_ERR_TOKEN_CLAIM);
	/* The limit is the caller's. */
	c = times(T, T, T + 3600);
	assert_int_equal(claims_check_time(c, T, 0, 3600), 0);
	assert_int_equal(claims_check_time(c, T, 0, 3599), VDI_ERR_TOKEN_CLAIM);
	json_decref(c);
}

static void
claims_check_time__when_claim_malformed__claim(void **state)
{
	static const char *const bad[] = {
		"{\"nbf\":1700000000,\"exp\":1700000060}",
		"{\"iat\":1700000000,\"exp\":1700000060}",
		"{\"iat\":1700000000,\"nbf\":1700000000}",
		"{\"iat\":1700000000,\"nbf\":1700000000,\"exp\":1700000060.0}",
		"{\"iat\":1700000000,\"nbf\":1700000000,\"exp\":1.70000006e9}",
		"{\"iat\":1700000000,\"nbf\":1700000000,\"exp\":"
		"\"1700000060\"}",
		"{\"iat\":1700000000,\"nbf\":1700000000,\"exp\":null}",
		"{\"iat\":1700000000,\"nbf\":1700000000,\"exp\":true}",
		"{\"iat\":1700000000,\"nbf\":[1],\"exp\":1700000060}",
		"{\"iat\":1700000000.5,\"nbf\":1700000000,\"exp\":1700000060}",
		"{\"iat\":-60,\"nbf\":-60,\"exp\":0}",
		"{\"iat\":253402300800,\"nbf\":253402300800,"
		"\"exp\":253402300801}",
		"{\"iat\":9223372036854775700,\"nbf\":9223372036854775700,"
		"\"exp\":9223372036854775707}",
	};
	json_t *c;
	size_t i;
	int r;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		c = parse(bad[i]);
		r = claims_check_time(c, T, 5, CLAIMS_GATEWAY_LIFETIME);
		if (r != VDI_ERR_TOKEN_CLAIM)
			fail_msg("%s: got %s", bad[i], vdi_errname(r));
		json_decref(c);
	}
	c = parse("[]");
	assert_int_equal(claims_check_time(c, T, 0, 60), VDI_ERR_TOKEN_CLAIM);
	json_decref(c);
	assert_int_equal(
	    claims_check_time(NULL, T, 0, 60), VDI_ERR_TOKEN_CLAIM);
	/* The last representable time is fine. */
	c = times(CLAIMS_TIME_MAX - 60, CLAIMS_TIME_MAX - 60, CLAIMS_TIME_MAX);
	assert_int_equal(
	    claims_check_time(c, CLAIMS_TIME_MAX - 1, CLAIMS_SKEW_MAX, 60), 0);
	json_decref(c);
}

static void
claims_check_time__when_arguments_out_of_range__invalid_arg(void **state)
{
	json_t *c = times(T, T, T + 60);

	assert_int_equal(claims_check_time(c, -1, 0, 60), VDI_ERR_INVALID_ARG);
	assert_int_equal(claims_check_time(c, CLAIMS_TIME_MAX + 1, 0, 60),
	    VDI_ERR_INVALID_ARG);
	assert_int_equal(claims_check_time(c, T, -1, 60), VDI_ERR_INVALID_ARG);
	assert_int_equal(claims_check_time(c, T, CLAIMS_SKEW_MAX + 1, 60),
	    VDI_ERR_INVALID_ARG);
	assert_int_equal(claims_check_time(c, T, 0, 0), VDI_ERR_INVALID_ARG);
	assert_int_equal(claims_check_time(c, T, 0, -60), VDI_ERR_INVALID_ARG);
	assert_int_equal(claims_check_time(c, T, CLAIMS_SKEW_MAX, 60), 0);
	json_decref(c);
}

static int
check_aud(const char *text, const char *want)
{
	json_t *c = parse(text);
	int r = claims_check_aud(c, want);

	json_decref(c);
	return r;
}

static void
claims_check_aud__when_string_or_array_member__ok(void **state)
{
	assert_int_equal(
	    check_aud("{\"aud\":\"vdi-gateway\"}", "vdi-gateway"), 0);
	assert_int_equal(
	    check_aud("{\"aud\":[\"vdi-gateway\"]}", "vdi-gateway"), 0);
	assert_int_equal(
	    check_aud("{\"aud\":[\"other\",\"vdi-gateway\"]}", "vdi-gateway"),
	    0);
}

static void
claims_check_aud__when_mismatch__audience(void **state)
{
	assert_int_equal(check_aud("{\"aud\":\"vdi-broker\"}", "vdi-gateway"),
	    VDI_ERR_TOKEN_AUDIENCE);
	assert_int_equal(check_aud("{\"aud\":\"vdi-gateway2\"}", "vdi-gateway"),
	    VDI_ERR_TOKEN_AUDIENCE);
	assert_int_equal(check_aud("{\"aud\":\"vdi-gatewa\"}", "vdi-gateway"),
	    VDI_ERR_TOKEN_AUDIENCE);
	assert_int_equal(check_aud("{\"aud\":\"VDI-GATEWAY\"}", "vdi-gateway"),
	    VDI_ERR_TOKEN_AUDIENCE);
	assert_int_equal(
	    check_aud("{\"aud\":\"\"}", "vdi-gateway"), VDI_ERR_TOKEN_AUDIENCE);
	assert_int_equal(check_aud("{\"aud\":[\"a\",\"b\"]}", "vdi-gateway"),
	    VDI_ERR_TOKEN_AUDIENCE);
	assert_int_equal(
	    check_aud("{\"aud\":[]}", "vdi-gateway"), VDI_ERR_TOKEN_AUDIENCE);
	assert_int_equal(
	    check_aud("{\"aud\":[\"vdi-gateway \"]}", "vdi-gateway"),
	    VDI_ERR_TOKEN_AUDIENCE);
}

static void
claims_check_aud__when_embedded_nul__audience(void **state)
{
	json_t *c = json_pack("{s:s#}", "aud", "vdi-gateway\0evil", 16);

	assert_non_null(c);
	assert_int_equal(
	    claims_check_aud(c, "vdi-gateway"), VDI_ERR_TOKEN_AUDIENCE);
	json_decref(c);
}

static void
claims_check_aud__when_missing_or_wrong_type__claim(void **state)
{
	assert_int_equal(check_aud("{}", "vdi-gateway"), VDI_ERR_TOKEN_CLAIM);
	assert_int_equal(
	    check_aud("{\"aud\":1}", "vdi-gateway"), VDI_ERR_TOKEN_CLAIM);
	assert_int_equal(
	    check_aud("{\"aud\":null}", "vdi-gateway"), VDI_ERR_TOKEN_CLAIM);
	assert_int_equal(
	    check_aud("{\"aud\":{\"vdi-gateway\":1}}", "vdi-gateway"),
	    VDI_ERR_TOKEN_CLAIM);
	/* A non-string member is malformed even next to a match. */
	assert_int_equal(
	    check_aud("{\"aud\":[\"vdi-gateway\",1]}", "vdi-gateway"),
	    VDI_ERR_TOKEN_CLAIM);
	assert_int_equal(
	    check_aud("{\"aud\":[[\"vdi-gateway\"]]}", "vdi-gateway"),
	    VDI_ERR_TOKEN_CLAIM);
	assert_int_equal(
	    check_aud("{\"aud\":\"x\"}", NULL), VDI_ERR_INVALID_ARG);
	assert_int_equal(check_aud("{\"aud\":\"\"}", ""), VDI_ERR_INVALID_ARG);
}

static void
claims_check_iss__when_each_case__exact_match_only(void **state)
{
	json_t *c = parse("{\"iss\":\"vdi-broker\"}");

	assert_int_equal(claims_check_iss(c, "vdi-broker"), 0);
	assert_int_equal(claims_check_iss(c, "vdi-broke"), VDI_ERR_TOKEN_CLAIM);
	assert_int_equal(
	    claims_check_iss(c, "vdi-broker2"), VDI_ERR_TOKEN_CLAIM);
	assert_int_equal(claims_check_iss(c, NULL), VDI_ERR_INVALID_ARG);
	json_decref(c);
	c = parse("{\"iss\":[\"vdi-broker\"]}");
	assert_int_equal(
	    claims_check_iss(c, "vdi-broker"), VDI_ERR_TOKEN_CLAIM);
	json_decref(c);
	c = parse("{}");
	assert_int_equal(
	    claims_check_iss(c, "vdi-broker"), VDI_ERR_TOKEN_CLAIM);
	json_decref(c);
}

static void
claims_check__when_gateway_token__each_check_applies(void **state)
{
	json_t *c = parse("{\"iss\":\"vdi-broker\",\"aud\":\"vdi-gateway\","
			  "\"iat\":1700000000,\"nbf\":1700000000,"
			  "\"exp\":1700000060,\"sub\":\"alice\"}");
	struct claims_expect want = {
		.iss = "vdi-broker",
		.aud = "vdi-gateway",
		.now = T + 10,
		.skew = 5,
		.max_lifetime = CLAIMS_GATEWAY_LIFETIME,
	};

	assert_int_equal(claims_check(c, &want), 0);
	want.now = T + 65;
	assert_int_equal(claims_check(c, &want), VDI_ERR_TOKEN_EXPIRED);
	want.now = T - 6;
	assert_int_equal(claims_check(c, &want), VDI_ERR_TOKEN_NOT_YET_VALID);
	want.now = T;
	want.aud = "vdi-broker";
	assert_int_equal(claims_check(c, &want), VDI_ERR_TOKEN_AUDIENCE);
	want.aud = "vdi-gateway";
	want.iss = "someone-else";
	assert_int_equal(claims_check(c, &want), VDI_ERR_TOKEN_CLAIM);
	want.iss = NULL;
	assert_int_equal(claims_check(c, &want), VDI_ERR_INVALID_ARG);
	assert_int_equal(claims_check(c, NULL), VDI_ERR_INVALID_ARG);
	json_decref(c);
}

static void
claims_get_string__when_present__value(void **state)
{
	static const char *const names[] = { "sub", "tid", "sid", "jti", "dst",
		"sec" };
	json_t *c = parse("{\"sub\":\"alice\",\"tid\":\"town-a\","
			  "\"sid\":\"s-42\",\"jti\":\"q1Yd3lP3kQOxJ1mV5nM2GA\","
			  "\"dst\":\"10.0.0.5:3389\",\"sec\":\"nla\"}");
	const char *s;
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		assert_int_equal(claims_get_string(c, names[i], &s), 0);
	assert_int_equal(claims_get_string(c, "dst", &s), 0);
	assert_string_equal(s, "10.0.0.5:3389");
	json_decref(c);
}

static void
claims_get_string__when_missing_or_wrong_type__claim(void **state)
{
	json_t *c = parse("{\"n\":1,\"z\":null,\"a\":[\"x\"],\"o\":{},"
			  "\"e\":\"\",\"b\":true}");
	static const char *const names[] = { "missing", "n", "z", "a", "o", "e",
		"b" };
	const char *s;
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		s = "stale";
		assert_int_equal(
		    claims_get_string(c, names[i], &s), VDI_ERR_TOKEN_CLAIM);
		assert_null(s);
	}
	json_decref(c);
	c = json_pack("{s:s#}", "sub", "alice\0admin", 11);
	assert_int_equal(claims_get_string(c, "sub", &s), VDI_ERR_TOKEN_CLAIM);
	json_decref(c);
	c = parse("[\"sub\"]");
	assert_int_equal(claims_get_string(c, "sub", &s), VDI_ERR_TOKEN_CLAIM);
	json_decref(c);
}

static void
claims_get_int__when_each_type__only_nonnegative_integers(void **state)
{
	json_t *c = parse("{\"idle\":900,\"zero\":0,\"neg\":-1,\"real\":9.5,"
			  "\"str\":\"900\",\"null\":null}");
	int64_t v;

	assert_int_equal(claims_get_int(c, "idle", &v), 0);
	assert_int_equal(v, 900);
	assert_int_equal(claims_get_int(c, "zero", &v), 0);
	assert_int_equal(v, 0);
	v = 7;
	assert_int_equal(claims_get_int(c, "neg", &v), VDI_ERR_TOKEN_CLAIM);
	assert_int_equal(v, 0);
	assert_int_equal(claims_get_int(c, "real", &v), VDI_ERR_TOKEN_CLAIM);
	assert_int_equal(claims_get_int(c, "str", &v), VDI_ERR_TOKEN_CLAIM);
	assert_int_equal(claims_get_int(c, "null", &v), VDI_ERR_TOKEN_CLAIM);
	assert_int_equal(claims_get_int(c, "missing", &v), VDI_ERR_TOKEN_CLAIM);
	json_decref(c);
}

static void
claims_check_cnf__when_each_case__bound_to_certificate(void **state)
{
	/* SHA-256 thumbprint 00 01 02 ... 1f and its base64url. */
	unsigned char x5t[CLAIMS_X5T_LEN];
	static const struct {
		const char *text;
		int want;
	} cases[] = {
		{ "{\"cnf\":{\"x5t#S256\":"
		  "\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\"}}",
		    0 },
		{ "{\"cnf\":{\"x5t#S256\":"
		  "\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh4\"}}",
		    VDI_ERR_DENIED },
		/* Non-canonical last character, padding, short, long. */
		{ "{\"cnf\":{\"x5t#S256\":"
		  "\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9\"}}",
		    VDI_ERR_TOKEN_CLAIM },
		{ "{\"cnf\":{\"x5t#S256\":"
		  "\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\"}}",
		    VDI_ERR_TOKEN_CLAIM },
		{ "{\"cnf\":{\"x5t#S256\":"
		  "\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg\"}}",
		    VDI_ERR_TOKEN_CLAIM },
		{ "{\"cnf\":{\"x5t#S256\":"
		  "\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gIQ\"}}",
		    VDI_ERR_TOKEN_CLAIM },
		{ "{\"cnf\":{\"x5t#S256\":1}}", VDI_ERR_TOKEN_CLAIM },
		{ "{\"cnf\":{\"x5t\":\"AAECAwQFBgcICQoLDA0ODxAREhM\"}}",
		    VDI_ERR_TOKEN_CLAIM },
		{ "{\"cnf\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\"}",
		    VDI_ERR_TOKEN_CLAIM },
		{ "{}", VDI_ERR_TOKEN_CLAIM },
	};
	json_t *c;
	size_t i;
	int r;

	for (i = 0; i < sizeof(x5t); i++)
		x5t[i] = (unsigned char)i;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		c = parse(cases[i].text);
		r = claims_check_cnf(c, x5t);
		if (r != cases[i].want)
			fail_msg("%s: got %s", cases[i].text, vdi_errname(r));
		json_decref(c);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(claims_check_time__when_inside_window__ok),
		cmocka_unit_test(
		    claims_check_time__when_at_or_after_exp__expired),
		cmocka_unit_test(
		    claims_check_time__when_before_nbf__not_yet_valid),
		cmocka_unit_test(
		    claims_check_time__when_iat_in_future__not_yet_valid),
		cmocka_unit_test(
		    claims_check_time__when_lifetime_too_long__claim),
		cmocka_unit_test(
		    claims_check_time__when_claim_malformed__claim),
		cmocka_unit_test(
		    claims_check_time__when_arguments_out_of_range__invalid_arg),
		cmocka_unit_test(
		    claims_check_aud__when_string_or_array_member__ok),
		cmocka_unit_test(claims_check_aud__when_mismatch__audience),
		cmocka_unit_test(claims_check_aud__when_embedded_nul__audience),
		cmocka_unit_test(
		    claims_check_aud__when_missing_or_wrong_type__claim),
		cmocka_unit_test(
		    claims_check_iss__when_each_case__exact_match_only),
		cmocka_unit_test(
		    claims_check__when_gateway_token__each_check_applies),
		cmocka_unit_test(claims_get_string__when_present__value),
		cmocka_unit_test(
		    claims_get_string__when_missing_or_wrong_type__claim),
		cmocka_unit_test(
		    claims_get_int__when_each_type__only_nonnegative_integers),
		cmocka_unit_test(
		    claims_check_cnf__when_each_case__bound_to_certificate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
