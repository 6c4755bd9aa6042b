/* Unit tests for gateway/gwtoken.c. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "b64url.h"
#include "httpstatus.h"
#include "gwtoken.h"

#define NOW 1763700000

static struct jws_key *key, *other;
static unsigned char x5t[32] = { 7, 7, 7 };

static int
setup(void **state)
{
	if (jws_key_generate("k1", &key) != 0 ||
	    jws_key_generate("k1", &other) != 0)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	jws_key_free(key);
	jws_key_free(other);
	return 0;
}

static json_t *
claims(void)
{
	char x5t_b64[48];

	assert_int_equal(b64url_encode(x5t, 32, x5t_b64, sizeof(x5t_b64)), 0);
	return json_pack("{s:s, s:s, s:I, s:I, s:I, s:s, s:s, s:s, s:s, s:s,"
			 " s:s, s:[s,s], s:i, s:{s:s}}",
	    "iss", "vdi-broker", "aud", "vdi-gateway", "iat", (json_int_t)NOW,
	    "nbf", (json_int_t)NOW, "exp", (json_int_t)(NOW + 60), "jti",
	    "AAAAAAAAAAAAAAAAAAAAAA", "sub", "alice", "tid", "city-a", "sid",
	    "0123456789abcdef0123456789abcdef", "dst", "127.0.0.1:3389", "sec",
	    "tls", "ch", "display", "input", "idle", 900, "cnf", "x5t#S256",
	    x5t_b64);
}

static enum vdi_reason
check_with(json_t *c, const struct jws_key *signer, struct replay *rc,
    int64_t now, struct gw_token *t)
{
	const struct jws_key *keys[1] = { key };
	struct gw_token_policy pol = { keys, 1, "vdi-broker", "vdi-gateway",
		5 };
	char *tok = NULL;
	enum vdi_reason e;

	assert_int_equal(jws_sign(signer, c, &tok), 0);
	e = gw_token_check(tok, strlen(tok), &pol, x5t, rc, now, t);
	free(tok);
	json_decref(c);
	return e;
}

static void
gw_token_check__when_valid__claims_then_replay_refused(void **state)
{
	struct replay *rc = replay_new(16);
	struct gw_token t;

	assert_int_equal(
	    check_with(claims(), key, rc, NOW + 1, &t), VDI_REASON_OK);
	assert_string_equal(t.sub, "alice");
	assert_string_equal(t.dst_host, "127.0.0.1");
	assert_int_equal(t.dst_port, 3389);
	assert_int_equal(t.channels, GWT_CH_DISPLAY | GWT_CH_INPUT);
	assert_int_equal(t.idle, 900);
	assert_int_equal(t.deadline, 0); /* no mxs: no limit */
	assert_int_equal(t.nla, 0);
	assert_int_equal(t.has_pin, 0);
	/* the same token again */
	assert_int_equal(check_with(claims(), key, rc, NOW + 2, &t),
	    VDI_REASON_TOKEN_REPLAYED);
	assert_string_equal(t.sub, "");
	replay_free(rc);
}

static void
gw_token_check__when_each_defect__its_reason_and_id_not_burnt(void **state)
{
	struct replay *rc = replay_new(16);
	struct gw_token t;
	json_t *c;

	/* wrong signer */
	assert_int_equal(check_with(claims(), other, rc, NOW + 1, &t),
	    VDI_REASON_TOKEN_INVALID);
	/* expired, not yet valid */
	assert_int_equal(check_with(claims(), key, rc, NOW + 70, &t),
	    VDI_REASON_TOKEN_EXPIRED);
	assert_int_equal(check_with(claims(), key, rc, NOW - 10, &t),
	    VDI_REASON_TOKEN_NOT_YET_VALID);
	/* audience */
	c = claims();
	json_object_set_new(c, "aud", json_string("someone-else"));
	assert_int_equal(check_with(c, key, rc, NOW + 1, &t),
	    VDI_REASON_TOKEN_WRONG_AUDIENCE);
	/* bound to another certificate */
	c = claims();
	json_object_set_new(json_object_get(c, "cnf"), "x5t#S256",
	    json_string("BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"));
	assert_int_equal(
	    check_with(c, key, rc, NOW + 1, &t), VDI_REASON_TOKEN_WRONG_DEVICE);
	assert_int_equal(vdi_reason_status(VDI_REASON_TOKEN_WRONG_DEVICE), 403);
	/* an unknown channel class is refused, not ignored */
	c = claims();
	json_array_append_new(
	    json_object_get(c, "ch"), json_string("clipboard"));
	assert_int_equal(check_with(c, key, rc, NOW + 1, &t),
	    VDI_REASON_TOKEN_INVALID_CLAIMS);
	/* display and input are required */
	c = claims();
	json_array_remove(json_object_get(c, "ch"), 1);
	assert_int_equal(check_with(c, key, rc, NOW + 1, &t),
	    VDI_REASON_TOKEN_INVALID_CLAIMS);
	/* bad dst, bad sec, bad pin */
	c = claims();
	json_object_set_new(c, "dst", json_string("127.0.0.1"));
	assert_int_equal(check_with(c, key, rc, NOW + 1, &t),
	    VDI_REASON_TOKEN_INVALID_CLAIMS);
	c = claims();
	json_object_set_new(c, "sec", json_string("rdp"));
	assert_int_equal(check_with(c, key, rc, NOW + 1, &t),
	    VDI_REASON_TOKEN_INVALID_CLAIMS);
	c = claims();
	json_object_set_new(c, "dpin", json_string("AAAA"));
	assert_int_equal(check_with(c, key, rc, NOW + 1, &t),
	    VDI_REASON_TOKEN_INVALID_CLAIMS);
	/* lifetime over 60 s */
	c = claims();
	json_object_set_new(c, "exp", json_integer(NOW + 61));
	assert_int_equal(check_with(c, key, rc, NOW + 1, &t),
	    VDI_REASON_TOKEN_INVALID_CLAIMS);
	/* max_session: a malformed deadline, then one that has come */
	c = claims();
	json_object_set_new(c, "mxs", json_string("soon"));
	assert_int_equal(check_with(c, key, rc, NOW + 1, &t),
	    VDI_REASON_TOKEN_INVALID_CLAIMS);
	c = claims();
	json_object_set_new(c, "mxs", json_integer(NOW + 1));
	assert_int_equal(
	    check_with(c, key, rc, NOW + 1, &t), VDI_REASON_MAX_SESSION);
	assert_int_equal(vdi_reason_status(VDI_REASON_MAX_SESSION), 403);
	assert_string_equal(
	    vdi_reason_code(VDI_REASON_MAX_SESSION), "max_session");
	/* none of the refusals burnt the jti */
	assert_int_equal(replay_count(rc), 0);
	assert_int_equal(
	    check_with(claims(), key, rc, NOW + 1, &t), VDI_REASON_OK);
	replay_free(rc);
}

static void
gw_token_check__when_pin_and_ipv6_nla__parsed(void **state)
{
	struct replay *rc = replay_new(16);
	uint8_t pin[32];
	char pin64[48];
	struct gw_token t;
	json_t *c = claims();

	memset(pin, 0xAB, sizeof(pin));
	assert_int_equal(b64url_encode(pin, 32, pin64, sizeof(pin64)), 0);
	json_object_set_new(c, "dpin", json_string(pin64));
	json_object_set_new(c, "dst", json_string("[2001:db8::5]:3390"));
	json_object_set_new(c, "sec", json_string("nla"));
	json_array_append_new(
	    json_object_get(c, "ch"), json_string("audio_out"));
	assert_int_equal(check_with(c, key, rc, NOW + 1, &t), VDI_REASON_OK);
	assert_int_equal(t.has_pin, 1);
	assert_memory_equal(t.pin, pin, 32);
	assert_string_equal(t.dst_host, "2001:db8::5");
	assert_int_equal(t.dst_port, 3390);
	assert_int_equal(t.nla, 1);
	assert_true(t.channels & GWT_CH_AUDIO_OUT);
	/* a deadline still ahead is carried for the tunnel's timer */
	c = claims();
	json_object_set_new(c, "jti", json_string("mxs-ahead"));
	json_object_set_new(c, "mxs", json_integer(NOW + 2));
	assert_int_equal(check_with(c, key, rc, NOW + 1, &t), VDI_REASON_OK);
	assert_int_equal(t.deadline, NOW + 2);
	replay_free(rc);
}

/* The codes come from the one reason table and are what they were. */
static void
gw_token_code__when_each_error__the_reason_code(void **state)
{
	(void)state;
	assert_string_equal(vdi_reason_code(VDI_REASON_OK), "ok");
	assert_string_equal(
	    vdi_reason_code(VDI_REASON_TOKEN_INVALID), "token_invalid");
	assert_string_equal(
	    vdi_reason_code(VDI_REASON_TOKEN_EXPIRED), "token_expired");
	assert_string_equal(vdi_reason_code(VDI_REASON_TOKEN_NOT_YET_VALID),
	    "token_not_yet_valid");
	assert_string_equal(vdi_reason_code(VDI_REASON_TOKEN_WRONG_AUDIENCE),
	    "token_wrong_audience");
	assert_string_equal(vdi_reason_code(VDI_REASON_TOKEN_INVALID_CLAIMS),
	    "token_invalid_claims");
	assert_string_equal(vdi_reason_code(VDI_REASON_TOKEN_WRONG_DEVICE),
	    "token_wrong_device");
	assert_string_equal(
	    vdi_reason_code(VDI_REASON_TOKEN_REPLAYED), "token_replayed");
	assert_string_equal(vdi_reason_code(VDI_REASON_BUSY), "busy");
	assert_string_equal(
	    vdi_reason_code(VDI_REASON_MAX_SESSION), "max_session");
	/* The statuses of the answers (httpstatus.c). */
	assert_int_equal(vdi_reason_status(VDI_REASON_OK), 101);
	assert_int_equal(vdi_reason_status(VDI_REASON_TOKEN_INVALID), 401);
	assert_int_equal(vdi_reason_status(VDI_REASON_TOKEN_EXPIRED), 401);
	assert_int_equal(
	    vdi_reason_status(VDI_REASON_TOKEN_NOT_YET_VALID), 401);
	assert_int_equal(
	    vdi_reason_status(VDI_REASON_TOKEN_WRONG_AUDIENCE), 401);
	assert_int_equal(
	    vdi_reason_status(VDI_REASON_TOKEN_INVALID_CLAIMS), 401);
	assert_int_equal(vdi_reason_status(VDI_REASON_TOKEN_WRONG_DEVICE), 403);
	assert_int_equal(vdi_reason_status(VDI_REASON_TOKEN_REPLAYED), 401);
	assert_int_equal(vdi_reason_status(VDI_REASON_BUSY), 503);
	assert_int_equal(vdi_reason_status(VDI_REASON_MAX_SESSION), 403);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    gw_token_code__when_each_error__the_reason_code),
		cmocka_unit_test(
		    gw_token_check__when_valid__claims_then_replay_refused),
		cmocka_unit_test(
		    gw_token_check__when_each_defect__its_reason_and_id_not_burnt),
		cmocka_unit_test(gw_token_check__when_pin_and_ipv6_nla__parsed),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
