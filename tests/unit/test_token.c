/* Unit tests for broker/token.c: claims, tickets, ids. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "claims.h"
#include "jws.h"
#include "policy.h"
#include "token.h"

static struct token_params
params(void)
{
	static const uint8_t pin[32] = { 1, 2, 3 };
	struct token_params tp;

	memset(&tp, 0, sizeof(tp));
	tp.issuer = "vdi-broker";
	tp.audience = "vdi-gateway";
	tp.now = 1763700000;
	tp.lifetime = 60;
	tp.user = "alice";
	tp.tenant = "city-a";
	tp.session_id = "0123456789abcdef0123456789abcdef";
	tp.desktop_host = "127.0.0.1";
	tp.desktop_port = 3389;
	tp.pin = pin;
	tp.security = "tls";
	tp.channels = POLICY_CH_DISPLAY | POLICY_CH_INPUT;
	tp.idle = 900;
	tp.device_x5t = "q2ftOTeqRIt2Lld1wYGaKv8GwLp9c2h1fNvpD5tR3zY";
	return tp;
}

static void
token_gateway_claims__when_valid__all_claims_and_verifiable(void **state)
{
	struct token_params tp = params();
	struct claims_expect want = { "vdi-broker", "vdi-gateway", 0, 5, 60 };
	struct jws_key *key = NULL;
	json_t *c = NULL, *back = NULL;
	char *tok = NULL;
	const char *s;

	assert_int_equal(token_gateway_claims(&tp, &c), 0);
	assert_string_equal(
	    json_string_value(json_object_get(c, "dst")), "127.0.0.1:3389");
	assert_int_equal(
	    json_integer_value(json_object_get(c, "exp")), tp.now + 60);
	assert_int_equal(json_array_size(json_object_get(c, "ch")), 2);
	assert_string_equal(json_string_value(json_object_get(
				json_object_get(c, "cnf"), "x5t#S256")),
	    tp.device_x5t);
	assert_int_equal(strlen(json_string_value(json_object_get(c, "jti"))),
	    22); /* 128 bits */
	assert_int_equal(
	    strlen(json_string_value(json_object_get(c, "dpin"))), 43);
	assert_null(json_object_get(c, "cred"));
	assert_null(json_object_get(c, "mxs")); /* no max_session */
	/* the gateway's checks accept it */
	assert_int_equal(jws_key_generate("k1", &key), 0);
	assert_int_equal(jws_sign(key, c, &tok), 0);
	assert_int_equal(jws_verify(tok, strlen(tok), key, &back), 0);
	want.now = tp.now + 30;
	assert_int_equal(claims_check(back, &want), 0);
	assert_int_equal(claims_get_string(back, "sid", &s), 0);
	assert_string_equal(s, tp.session_id);
	want.now = tp.now + 66;
	assert_int_equal(claims_check(back, &want), VDI_ERR_TOKEN_EXPIRED);
	free(tok);
	json_decref(back);
	json_decref(c);
	jws_key_free(key);
}

static void
token_gateway_claims__when_audio_and_ipv6__channel_and_brackets(void **state)
{
	struct token_params tp = params();
	json_t *c = NULL;

	tp.channels |= POLICY_CH_AUDIO_OUT;
	tp.desktop_host = "2001:db8::5";
	tp.pin = NULL;
	tp.cred = "sealed";
	tp.deadline = tp.now + 3600;
	assert_int_equal(token_gateway_claims(&tp, &c), 0);
	assert_int_equal(
	    json_integer_value(json_object_get(c, "mxs")), tp.now + 3600);
	assert_string_equal(
	    json_string_value(json_object_get(c, "dst")), "[2001:db8::5]:3389");
	assert_string_equal(
	    json_string_value(json_array_get(json_object_get(c, "ch"), 2)),
	    "audio_out");
	assert_null(json_object_get(c, "dpin"));
	assert_string_equal(
	    json_string_value(json_object_get(c, "cred")), "sealed");
	json_decref(c);
}

static void
token_gateway_claims__when_param_bad__invalid_arg(void **state)
{
	struct token_params tp;
	json_t *c = (json_t *)1;

	tp = params();
	tp.lifetime = 61;
	assert_int_equal(token_gateway_claims(&tp, &c), VDI_ERR_INVALID_ARG);
	assert_null(c);
	tp = params();
	tp.security = "rdp";
	assert_int_equal(token_gateway_claims(&tp, &c), VDI_ERR_INVALID_ARG);
	tp = params();
	tp.device_x5t = NULL;
	assert_int_equal(token_gateway_claims(&tp, &c), VDI_ERR_INVALID_ARG);
	tp = params();
	tp.deadline = -1;
	assert_int_equal(token_gateway_claims(&tp, &c), VDI_ERR_INVALID_ARG);
	tp = params();
	tp.desktop_port = 0;
	assert_int_equal(token_gateway_claims(&tp, &c), VDI_ERR_INVALID_ARG);
}

static void
token_ticket__when_new__hash_matches_and_distinct(void **state)
{
	char t1[TOKEN_TICKET_SIZE], t2[TOKEN_TICKET_SIZE];
	char h1[TOKEN_HASH_HEX], h2[TOKEN_HASH_HEX], hx[TOKEN_HASH_HEX];

	assert_int_equal(token_ticket_new(t1, h1), 0);
	assert_int_equal(token_ticket_new(t2, h2), 0);
	assert_int_equal(strlen(t1), 43);
	assert_int_equal(strlen(h1), 64);
	assert_string_not_equal(t1, t2);
	assert_string_not_equal(h1, h2);
	assert_int_equal(token_ticket_hash(t1, hx), 0);
	assert_string_equal(hx, h1);
	/* the stored value is not the ticket */
	assert_null(strstr(h1, t1));
}

static void
token_ticket_hash__when_malformed__bad_format(void **state)
{
	char h[TOKEN_HASH_HEX];
	char t[TOKEN_TICKET_SIZE];

	assert_int_equal(token_ticket_hash(NULL, h), VDI_ERR_BAD_FORMAT);
	assert_int_equal(token_ticket_hash("short", h), VDI_ERR_BAD_FORMAT);
	memset(t, 'A', 43);
	t[43] = '\0';
	t[10] = '=';
	assert_int_equal(token_ticket_hash(t, h), VDI_ERR_BAD_FORMAT);
	t[10] = 'A';
	t[42] = 'B'; /* non-canonical trailing bits */
	assert_int_equal(token_ticket_hash(t, h), VDI_ERR_BAD_FORMAT);
	assert_string_equal(h, "");
	t[42] = 'A';
	assert_int_equal(token_ticket_hash(t, h), 0);
}

static void
token_random_id__when_called__32_hex_distinct(void **state)
{
	char a[TOKEN_ID_HEX], b[TOKEN_ID_HEX];

	assert_int_equal(token_random_id(a), 0);
	assert_int_equal(token_random_id(b), 0);
	assert_int_equal(strlen(a), 32);
	assert_int_equal(strspn(a, "0123456789abcdef"), 32);
	assert_string_not_equal(a, b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    token_gateway_claims__when_valid__all_claims_and_verifiable),
		cmocka_unit_test(
		    token_gateway_claims__when_audio_and_ipv6__channel_and_brackets),
		cmocka_unit_test(
		    token_gateway_claims__when_param_bad__invalid_arg),
		cmocka_unit_test(
		    token_ticket__when_new__hash_matches_and_distinct),
		cmocka_unit_test(token_ticket_hash__when_malformed__bad_format),
		cmocka_unit_test(token_random_id__when_called__32_hex_distinct),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
