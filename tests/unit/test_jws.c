/* Unit tests for common/jws.c: RFC 8037 vectors, round trips, refusals. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "b64url.h"
#include "jws.h"
#include "vdierr.h"

/*
 * RFC 8037 Appendix A. A.1: the Ed25519 key as a JWK (d private, x
 * public); these are the key of RFC 8032 section 7.1 TEST 1, whose hex
 * is given too. A.3: the RFC 7638 thumbprint of the public key. A.4: the
 * JWS signing input for the protected header {"alg":"EdDSA"} and the
 * payload "Example of Ed25519 signing", and its signature.
 */
static const char rfc8037_d[] = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
static const char rfc8037_x[] = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
static const unsigned char rfc8032_seed[32] = {
	0x9d,
	0x61,
	0xb1,
	0x9d,
	0xef,
	0xfd,
	0x5a,
	0x60,
	0xba,
	0x84,
	0x4a,
	0xf4,
	0x92,
	0xec,
	0x2c,
	0xc4,
	0x44,
	0x49,
	0xc5,
	0x69,
	0x7b,
	0x32,
	0x69,
	0x19,
	0x70,
	0x3b,
	0xac,
	0x03,
	0x1c,
	0xae,
	0x7f,
	0x60,
};
static const unsigned char rfc8032_pub[32] = {
	0xd7,
	0x5a,
	0x98,
	0x01,
	0x82,
	0xb1,
	0x0a,
	0xb7,
	0xd5,
	0x4b,
	0xfe,
	0xd3,
	0xc9,
	0x64,
	0x07,
	0x3a,
	0x0e,
	0xe1,
	0x72,
	0xf3,
	0xda,
	0xa6,
	0x23,
	0x25,
	0xaf,
	0x02,
	0x1a,
	0x68,
	0xf7,
	0x07,
	0x51,
	0x1a,
};
static const char rfc8037_thumbprint[] =
    "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k";
static const char rfc8037_header_b64[] = "eyJhbGciOiJFZERTQSJ9";
static const char rfc8037_payload_b64[] = "RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
static const char rfc8037_input[] =
    "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
static const char rfc8037_sig[] =
    "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dW"
    "bhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";

static struct jws_key *
rfc_private_key(void)
{
	unsigned char d[32];
	struct jws_key *k;
	size_t n;

	assert_int_equal(
	    b64url_decode(rfc8037_d, strlen(rfc8037_d), d, sizeof(d), &n), 0);
	assert_int_equal(n, 32);
	assert_memory_equal(d, rfc8032_seed, 32);
	assert_int_equal(jws_key_from_seed(d, NULL, &k), 0);
	return k;
}

static struct jws_key *
rfc_public_key(void)
{
	unsigned char x[32];
	struct jws_key *k;
	size_t n;

	assert_int_equal(
	    b64url_decode(rfc8037_x, strlen(rfc8037_x), x, sizeof(x), &n), 0);
	assert_int_equal(n, 32);
	assert_memory_equal(x, rfc8032_pub, 32);
	assert_int_equal(jws_key_from_public(x, NULL, &k), 0);
	return k;
}

static void
jws_key_from_seed__when_rfc8037_a1__public_key_is_a2_x(void **state)
{
	struct jws_key *k = rfc_private_key();
	unsigned char pub[32];
	char x[44];

	assert_true(jws_key_is_private(k));
	assert_null(jws_key_kid(k));
	assert_int_equal(jws_key_raw_public(k, pub), 0);
	assert_memory_equal(pub, rfc8032_pub, 32);
	assert_int_equal(b64url_encode(pub, sizeof(pub), x, sizeof(x)), 0);
	assert_string_equal(x, rfc8037_x);
	jws_key_free(k);
}

static void
jws_key_thumbprint__when_rfc8037_a3__exact(void **state)
{
	struct jws_key *k = rfc_public_key();
	char tp[JWS_THUMBPRINT_LEN + 1];

	assert_int_equal(jws_key_thumbprint(k, tp, sizeof(tp)), 0);
	assert_string_equal(tp, rfc8037_thumbprint);
	assert_int_equal(
	    jws_key_thumbprint(k, tp, sizeof(tp) - 1), VDI_ERR_TOO_LARGE);
	jws_key_free(k);
}

static void
jws_sign_input__when_rfc8037_a4__signature_bytes_exact(void **state)
{
	struct jws_key *k = rfc_private_key();
	unsigned char sig[JWS_SIG_LEN], want[JWS_SIG_LEN];
	char enc[128];
	size_t n;

	/* The parts of the signing input are the header and payload. */
	assert_int_equal(
	    b64url_encode("{\"alg\":\"EdDSA\"}", 15, enc, sizeof(enc)), 0);
	assert_string_equal(enc, rfc8037_header_b64);
	assert_int_equal(
	    b64url_encode("Example of Ed25519 signing", 26, enc, sizeof(enc)),
	    0);
	assert_string_equal(enc, rfc8037_payload_b64);

	assert_int_equal(
	    jws_sign_input(k, rfc8037_input, strlen(rfc8037_input), sig), 0);
	assert_int_equal(b64url_decode(rfc8037_sig, strlen(rfc8037_sig), want,
			     sizeof(want), &n),
	    0);
	assert_int_equal(n, JWS_SIG_LEN);
	assert_memory_equal(sig, want, JWS_SIG_LEN);
	assert_int_equal(b64url_encode(sig, sizeof(sig), enc, sizeof(enc)), 0);
	assert_string_equal(enc, rfc8037_sig);
	jws_key_free(k);
}

static void
jws_verify_input__when_rfc8037_a5__valid_and_any_change_invalid(void **state)
{
	struct jws_key *k = rfc_public_key();
	unsigned char sig[JWS_SIG_LEN];
	char input[sizeof(rfc8037_input)];
	size_t n, i;

	assert_int_equal(b64url_decode(rfc8037_sig, strlen(rfc8037_sig), sig,
			     sizeof(sig), &n),
	    0);
	assert_int_equal(
	    jws_verify_input(k, rfc8037_input, strlen(rfc8037_input), sig, n),
	    0);
	/* Every bit of the signature matters. */
	for (i = 0; i < JWS_SIG_LEN * 8; i++) {
		sig[i / 8] ^= (unsigned char)(1u << (i % 8));
		assert_int_equal(jws_verify_input(k, rfc8037_input,
				     strlen(rfc8037_input), sig, n),
		    VDI_ERR_JWS_SIGNATURE);
		sig[i / 8] ^= (unsigned char)(1u << (i % 8));
	}
	/* Every byte of the signing input matters. */
	for (i = 0; i < strlen(rfc8037_input); i++) {
		memcpy(input, rfc8037_input, sizeof(input));
		input[i] ^= 0x01;
		assert_int_equal(
		    jws_verify_input(k, input, strlen(input), sig, n),
		    VDI_ERR_JWS_SIGNATURE);
	}
	assert_int_equal(jws_verify_input(k, rfc8037_input,
			     strlen(rfc8037_input) - 1, sig, n),
	    VDI_ERR_JWS_SIGNATURE);
	assert_int_equal(jws_verify_input(k, rfc8037_input,
			     strlen(rfc8037_input), sig, n - 1),
	    VDI_ERR_JWS_SIGNATURE);
	jws_key_free(k);
}

static void
jws_verify__when_rfc8037_token__signature_ok_payload_not_json(void **state)
{
	struct jws_key *k = rfc_public_key();
	char token[256];
	json_t *claims = (json_t *)1;

	snprintf(token, sizeof(token), "%s.%s", rfc8037_input, rfc8037_sig);
	/* The signature verifies; the payload is text, not claims. */
	assert_int_equal(
	    jws_verify(token, strlen(token), k, &claims), VDI_ERR_JSON);
	assert_null(claims);
	strrchr(token, '.')[1] ^= 0x20; /* 'h' -> 'H' */
	assert_int_equal(jws_verify(token, strlen(token), k, &claims),
	    VDI_ERR_JWS_SIGNATURE);
	jws_key_free(k);
}

/* --- tokens made with keys generated at test time ----------------------- */

static json_t *
sample_claims(void)
{
	json_t *c = json_pack("{s:s, s:s, s:I, s:I, s:I, s:s, s:s, s:s, s:s, "
			      "s:s, s:[s], s:{s:s}}",
	    "iss", "vdi-broker", "aud", "vdi-gateway", "iat",
	    (json_int_t)1700000000, "nbf", (json_int_t)1700000000, "exp",
	    (json_int_t)1700000060, "jti", "q1Yd3lP3kQOxJ1mV5nM2GA", "sub",
	    "alice", "tid", "town-a", "sid", "s-42", "dst", "10.0.0.5:3389",
	    "ch", "display", "cnf", "x5t#S256",
	    "n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sFbDwCgg");

	assert_non_null(c);
	return c;
}

static char *
sign_sample(const struct jws_key *k)
{
	json_t *c = sample_claims();
	char *t = NULL;

	assert_int_equal(jws_sign(k, c, &t), 0);
	json_decref(c);
	return t;
}

/* Builds a token from header and payload text, signed with k. */
static char *
make_token(const struct jws_key *k, const char *hdr, size_t hlen,
    const char *payload, size_t plen)
{
	unsigned char sig[JWS_SIG_LEN];
	char *t;
	size_t n;

	t = malloc(JWS_TOKEN_MAX * 2);
	assert_non_null(t);
	assert_int_equal(b64url_encode(hdr, hlen, t, JWS_TOKEN_MAX), 0);
	n = strlen(t);
	t[n++] = '.';
	assert_int_equal(b64url_encode(payload, plen, t + n, JWS_TOKEN_MAX), 0);
	n += strlen(t + n);
	assert_int_equal(jws_sign_input(k, t, n, sig), 0);
	t[n++] = '.';
	assert_int_equal(
	    b64url_encode(sig, sizeof(sig), t + n, JWS_TOKEN_MAX), 0);
	return t;
}

static char *
make_token_s(const struct jws_key *k, const char *hdr, const char *payload)
{
	return make_token(k, hdr, strlen(hdr), payload, strlen(payload));
}

static int
verify_str(const char *token, const struct jws_key *k)
{
	json_t *claims = (json_t *)1;
	int r;

	r = jws_verify(token, strlen(token), k, &claims);
	if (r != 0)
		assert_null(claims);
	json_decref(claims);
	return r;
}

static int
verify_str_keys(
    const char *token, const struct jws_key *const *keys, size_t nkeys)
{
	json_t *claims = (json_t *)1;
	int r;

	r = jws_verify_keys(token, strlen(token), keys, nkeys, &claims);
	if (r != 0)
		assert_null(claims);
	json_decref(claims);
	return r;
}

static void
jws_sign__when_generated_key__verify_returns_same_claims(void **state)
{
	struct jws_key *k, *pub;
	json_t *c = sample_claims(), *got = NULL;
	char *t = NULL;

	assert_int_equal(jws_key_generate(NULL, &k), 0);
	assert_int_equal(jws_key_public_copy(k, &pub), 0);
	assert_false(jws_key_is_private(pub));
	assert_int_equal(jws_sign(k, c, &t), 0);
	assert_true(strlen(t) <= JWS_TOKEN_MAX);
	assert_int_equal(jws_verify(t, strlen(t), pub, &got), 0);
	assert_true(json_equal(got, c));
	json_decref(got);
	/* The private key verifies too; the public one cannot sign. */
	assert_int_equal(verify_str(t, k), 0);
	free(t);
	t = (char *)1;
	assert_int_equal(jws_sign(pub, c, &t), VDI_ERR_INVALID_ARG);
	assert_null(t);
	json_decref(c);
	jws_key_free(pub);
	jws_key_free(k);
}

static void
jws_sign__when_key_has_kid__header_exact(void **state)
{
	struct jws_key *k, *nokid;
	char *t;
	unsigned char *hdr;
	size_t n;

	assert_int_equal(jws_key_generate("broker-2026-1", &k), 0);
	assert_string_equal(jws_key_kid(k), "broker-2026-1");
	t = sign_sample(k);
	assert_int_equal(
	    b64url_decode_alloc(t, strchr(t, '.') - t, &hdr, &n), 0);
	assert_string_equal((char *)hdr,
	    "{\"alg\":\"EdDSA\",\"typ\":\"JWT\",\"kid\":\"broker-2026-1\"}");
	free(hdr);
	free(t);

	assert_int_equal(jws_key_generate(NULL, &nokid), 0);
	t = sign_sample(nokid);
	assert_int_equal(
	    b64url_decode_alloc(t, strchr(t, '.') - t, &hdr, &n), 0);
	assert_string_equal((char *)hdr, "{\"alg\":\"EdDSA\",\"typ\":\"JWT\"}");
	free(hdr);
	free(t);
	jws_key_free(nokid);
	jws_key_free(k);
}

static void
jws_sign__when_same_claims__deterministic_sorted(void **state)
{
	struct jws_key *k = rfc_private_key();
	json_t *a = json_pack("{s:i, s:s}", "z", 1, "a", "x");
	json_t *b = json_pack("{s:s, s:i}", "a", "x", "z", 1);
	char *ta, *tb;
	unsigned char *p;
	size_t n;
	const char *d1, *d2;

	assert_int_equal(jws_sign(k, a, &ta), 0);
	assert_int_equal(jws_sign(k, b, &tb), 0);
	assert_string_equal(ta, tb);
	d1 = strchr(ta, '.');
	d2 = strchr(d1 + 1, '.');
	assert_int_equal(b64url_decode_alloc(d1 + 1, d2 - d1 - 1, &p, &n), 0);
	assert_string_equal((char *)p, "{\"a\":\"x\",\"z\":1}");
	free(p);
	free(ta);
	free(tb);
	json_decref(a);
	json_decref(b);
	jws_key_free(k);
}

static void
jws_sign__when_bad_arguments__invalid_arg(void **state)
{
	struct jws_key *k = rfc_private_key();
	json_t *arr = json_array(), *deep;
	char *t = (char *)1;

	assert_int_equal(jws_sign(k, arr, &t), VDI_ERR_INVALID_ARG);
	assert_null(t);
	assert_int_equal(jws_sign(k, NULL, &t), VDI_ERR_INVALID_ARG);
	assert_int_equal(jws_sign(NULL, arr, &t), VDI_ERR_INVALID_ARG);
	/* Claims too deep for a verifier are refused when signing. */
	deep = json_loads("{\"a\":[[[[[[[[1]]]]]]]]}", 0, NULL);
	assert_non_null(deep);
	assert_int_equal(jws_sign(k, deep, &t), VDI_ERR_JSON);
	assert_null(t);
	json_decref(deep);
	deep = json_loads("{\"a\":[[[[[[1]]]]]]}", 0, NULL);
	assert_int_equal(jws_sign(k, deep, &t), 0);
	assert_int_equal(verify_str(t, k), 0);
	free(t);
	json_decref(deep);
	json_decref(arr);
	jws_key_free(k);
}

static void
jws_verify__when_any_byte_flipped__refused(void **state)
{
	static const unsigned char masks[] = { 0x01, 0x20, 0x80 };
	struct jws_key *k;
	char *t;
	size_t i, m, len;
	json_t *claims;
	int r;

	assert_int_equal(jws_key_generate("k1", &k), 0);
	t = sign_sample(k);
	len = strlen(t);
	assert_int_equal(verify_str(t, k), 0);
	for (i = 0; i < len; i++) {
		for (m = 0; m < sizeof(masks); m++) {
			t[i] ^= (char)masks[m];
			claims = (json_t *)1;
			r = jws_verify(t, len, k, &claims);
			if (r == 0)
				fail_msg("flip at %zu mask 0x%02x verified", i,
				    masks[m]);
			assert_null(claims);
			t[i] ^= (char)masks[m];
		}
	}
	assert_int_equal(verify_str(t, k), 0);
	free(t);
	jws_key_free(k);
}

static void
jws_verify__when_truncated_or_extended__refused(void **state)
{
	struct jws_key *k;
	char *t, *u;
	size_t i, len;
	json_t *claims;

	assert_int_equal(jws_key_generate(NULL, &k), 0);
	t = sign_sample(k);
	len = strlen(t);
	for (i = 0; i < len; i++) {
		claims = (json_t *)1;
		assert_int_not_equal(jws_verify(t, i, k, &claims), 0);
		assert_null(claims);
		/* And with the front cut off. */
		assert_int_not_equal(
		    jws_verify(t + i + 1, len - i - 1, k, &claims), 0);
	}
	u = malloc(len + 8);
	assert_non_null(u);
	/* A trailing character, NUL or newline is not part of a token. */
	snprintf(u, len + 8, "%sA", t);
	assert_int_not_equal(verify_str(u, k), 0);
	snprintf(u, len + 8, "%s\n", t);
	assert_int_equal(verify_str(u, k), VDI_ERR_JWS_SIGNATURE);
	memcpy(u, t, len + 1);
	claims = (json_t *)1;
	assert_int_not_equal(jws_verify(u, len + 1, k, &claims), 0);
	assert_null(claims);
	free(u);
	free(t);
	jws_key_free(k);
}

static void
jws_verify__when_not_three_parts__format(void **state)
{
	struct jws_key *k;
	char *t, buf[JWS_TOKEN_MAX];
	const char *d1, *d2;

	assert_int_equal(jws_key_generate(NULL, &k), 0);
	t = sign_sample(k);
	d1 = strchr(t, '.');
	d2 = strchr(d1 + 1, '.');

	snprintf(buf, sizeof(buf), "%s.", t);
	assert_int_equal(verify_str(buf, k), VDI_ERR_JWS_FORMAT);
	snprintf(buf, sizeof(buf), ".%s", t);
	assert_int_equal(verify_str(buf, k), VDI_ERR_JWS_FORMAT);
	snprintf(buf, sizeof(buf), "%s.%s", t, d2 + 1);
	assert_int_equal(verify_str(buf, k), VDI_ERR_JWS_FORMAT);
	/* Two parts: header.payload without the signature. */
	snprintf(buf, sizeof(buf), "%.*s", (int)(d2 - t), t);
	assert_int_equal(verify_str(buf, k), VDI_ERR_JWS_FORMAT);
	/* Empty signature, empty payload, empty header. */
	snprintf(buf, sizeof(buf), "%.*s.", (int)(d2 - t), t);
	assert_int_equal(verify_str(buf, k), VDI_ERR_JWS_FORMAT);
	snprintf(buf, sizeof(buf), "%.*s.%s", (int)(d1 - t + 1), t, d2 + 1);
	assert_int_equal(verify_str(buf, k), VDI_ERR_JWS_FORMAT);
	snprintf(buf, sizeof(buf), "%s", d1);
	assert_int_equal(verify_str(buf, k), VDI_ERR_JWS_FORMAT);
	/* A doubled dot. */
	snprintf(buf, sizeof(buf), "%.*s.%s", (int)(d1 - t), t, d1);
	assert_int_equal(verify_str(buf, k), VDI_ERR_JWS_FORMAT);
	assert_int_equal(verify_str("", k), VDI_ERR_JWS_FORMAT);
	assert_int_equal(verify_str("..", k), VDI_ERR_JWS_FORMAT);
	assert_int_equal(verify_str("abc", k), VDI_ERR_JWS_FORMAT);
	free(t);
	jws_key_free(k);
}

static void
jws_verify__when_alg_not_eddsa__alg_refused(void **state)
{
	static const char *const bad[] = {
		"{\"alg\":\"none\"}",
		"{\"alg\":\"none\",\"typ\":\"JWT\"}",
		"{\"alg\":\"HS256\",\"typ\":\"JWT\"}",
		"{\"alg\":\"RS256\"}",
		"{\"alg\":\"ES256\"}",
		"{\"alg\":\"Ed25519\"}",
		"{\"alg\":\"eddsa\"}",
		"{\"alg\":\"EDDSA\"}",
		"{\"alg\":\"EdDSA \"}",
		"{\"alg\":\"EdDS\"}",
		"{\"alg\":\"\"}",
		"{\"alg\":null}",
		"{\"alg\":1}",
		"{\"alg\":[\"EdDSA\"]}",
		"{\"typ\":\"JWT\"}",
		"{}",
	};
	struct jws_key *k;
	char *t;
	size_t i;

	assert_int_equal(jws_key_generate(NULL, &k), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		/* Signed with the right key: only the header is wrong. */
		t = make_token_s(k, bad[i], "{\"sub\":\"alice\"}");
		if (verify_str(t, k) != VDI_ERR_JWS_ALG)
			fail_msg("header %s not refused as alg", bad[i]);
		free(t);
	}
	/* The classic alg:none token, with an empty signature. */
	assert_int_equal(
	    verify_str("eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9.", k),
	    VDI_ERR_JWS_FORMAT);
	/* alg:none with a dummy signature of the right length. */
	t = make_token_s(k, "{\"alg\":\"none\"}", "{}");
	assert_int_equal(verify_str(t, k), VDI_ERR_JWS_ALG);
	free(t);
	jws_key_free(k);
}

static void
jws_verify__when_header_extensions__refused_or_accepted(void **state)
{
	static const struct {
		const char *hdr;
		int want;
	} cases[] = {
		{ "{\"alg\":\"EdDSA\",\"crit\":[\"exp\"],\"exp\":1}",
		    VDI_ERR_JWS_FORMAT },
		{ "{\"alg\":\"EdDSA\",\"crit\":[]}", VDI_ERR_JWS_FORMAT },
		{ "{\"alg\":\"EdDSA\",\"b64\":false,\"crit\":[\"b64\"]}",
		    VDI_ERR_JWS_FORMAT },
		{ "{\"alg\":\"EdDSA\",\"b64\":false}", VDI_ERR_JWS_FORMAT },
		{ "{\"alg\":\"EdDSA\",\"b64\":\"true\"}", VDI_ERR_JWS_FORMAT },
		{ "{\"alg\":\"EdDSA\",\"b64\":true}", 0 },
		{ "{\"alg\":\"EdDSA\",\"typ\":\"JOSE\"}", VDI_ERR_JWS_FORMAT },
		{ "{\"alg\":\"EdDSA\",\"typ\":\"jwt\"}", VDI_ERR_JWS_FORMAT },
		{ "{\"alg\":\"EdDSA\",\"typ\":1}", VDI_ERR_JWS_FORMAT },
		{ "{\"alg\":\"EdDSA\",\"typ\":\"JWT\"}", 0 },
		{ "{\"alg\":\"EdDSA\"}", 0 },
		{ "{\"alg\":\"EdDSA\",\"kid\":7}", VDI_ERR_JWS_FORMAT },
		{ "{\"alg\":\"EdDSA\",\"kid\":null}", VDI_ERR_JWS_FORMAT },
		/* Key material in the header is never used. */
		{ "{\"alg\":\"EdDSA\",\"jwk\":{\"kty\":\"OKP\"},\"x5u\":\"http:"
		  "//a\"}",
		    0 },
		/* Duplicates, non-objects, bad JSON, too deep. */
		{ "{\"alg\":\"EdDSA\",\"alg\":\"none\"}", VDI_ERR_JSON },
		{ "{\"alg\":\"none\",\"alg\":\"EdDSA\"}", VDI_ERR_JSON },
		{ "[\"EdDSA\"]", VDI_ERR_JSON },
		{ "\"EdDSA\"", VDI_ERR_JSON },
		{ "{\"alg\":\"EdDSA\"", VDI_ERR_JSON },
		{ "{\"alg\":\"EdDSA\"} ", 0 },
		{ "{\"alg\":\"EdDSA\"}x", VDI_ERR_JSON },
		{ "{\"alg\":\"EdDSA\",\"x\":[[[[[[[[1]]]]]]]]}", VDI_ERR_JSON },
		{ "{\"alg\":\"EdDSA\",\"x\":[[[[[[[1]]]]]]]}", 0 },
		{ "{\"alg\":\"EdDSA\",\"x\":\"[[[[[[[[[[\"}", 0 },
		{ "{\"alg\":\"Ed\\u0000DSA\"}", VDI_ERR_JSON },
		{ "{\"alg\":\"EdDSA\",\"x\":\"\xff\"}", VDI_ERR_JSON },
	};
	struct jws_key *k;
	char *t;
	size_t i;
	int r;

	assert_int_equal(jws_key_generate(NULL, &k), 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		t = make_token_s(k, cases[i].hdr, "{\"sub\":\"alice\"}");
		r = verify_str(t, k);
		if (r != cases[i].want)
			fail_msg("header %s: got %s want %s", cases[i].hdr,
			    vdi_errname(r), vdi_errname(cases[i].want));
		free(t);
	}
	jws_key_free(k);
}

static void
jws_verify__when_payload_not_claims_object__json_refused(void **state)
{
	static const char *const bad[] = {
		"[]",
		"\"alice\"",
		"1",
		"null",
		"{\"a\":1,\"a\":2}",
		"{\"sub\":\"alice\"",
		"{\"sub\":\"alice\"}{}",
		"{\"a\":\"\xc3\"}",
		"{\"a\":[[[[[[[[{}]]]]]]]]}",
		"{\"a\":\"\\u0000\"}",
		"{\"a\":1e999}",
		"{\"a\":99999999999999999999}",
		"{'a':1}",
	};
	struct jws_key *k;
	char *t;
	size_t i;

	assert_int_equal(jws_key_generate(NULL, &k), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		t = make_token_s(k, "{\"alg\":\"EdDSA\"}", bad[i]);
		if (verify_str(t, k) != VDI_ERR_JSON)
			fail_msg("payload %s not refused", bad[i]);
		free(t);
	}
	/* A NUL byte inside the payload text. */
	t = make_token(k, "{\"alg\":\"EdDSA\"}", 15, "{}\0", 3);
	assert_int_equal(verify_str(t, k), VDI_ERR_JSON);
	free(t);
	t = make_token_s(k, "{\"alg\":\"EdDSA\"}", "{}");
	assert_int_equal(verify_str(t, k), 0);
	free(t);
	jws_key_free(k);
}

static void
jws_verify__when_signature_wrong_length_or_encoding__refused(void **state)
{
	struct jws_key *k;
	char *t, buf[JWS_TOKEN_MAX];
	size_t len;

	assert_int_equal(jws_key_generate(NULL, &k), 0);
	t = sign_sample(k);
	len = strlen(t);
	/* 85 and 87 characters; 88 with the padding "==" restored. */
	snprintf(buf, sizeof(buf), "%.*s", (int)len - 1, t);
	assert_int_equal(verify_str(buf, k), VDI_ERR_JWS_SIGNATURE);
	snprintf(buf, sizeof(buf), "%sA", t);
	assert_int_equal(verify_str(buf, k), VDI_ERR_JWS_SIGNATURE);
	snprintf(buf, sizeof(buf), "%s==", t);
	assert_int_equal(verify_str(buf, k), VDI_ERR_JWS_SIGNATURE);
	/* 86 characters, the last with its unused bits set. */
	snprintf(buf, sizeof(buf), "%s", t);
	buf[len - 1] = 'B';
	assert_int_equal(verify_str(buf, k), VDI_ERR_BASE64);
	/* Standard alphabet instead of url alphabet. */
	snprintf(buf, sizeof(buf), "%s", t);
	buf[len - 10] = '+';
	assert_int_equal(verify_str(buf, k), VDI_ERR_BASE64);
	/* A 64-byte signature of zeroes, and one of 0xff bytes (S >= L). */
	snprintf(buf, sizeof(buf), "%s", t);
	memset(strrchr(buf, '.') + 1, 'A', 86);
	assert_int_equal(strlen(buf), len);
	assert_int_equal(verify_str(buf, k), VDI_ERR_JWS_SIGNATURE);
	memset(strrchr(buf, '.') + 1, '_', 85);
	buf[len - 1] = 'w';
	assert_int_equal(verify_str(buf, k), VDI_ERR_JWS_SIGNATURE);
	free(t);
	jws_key_free(k);
}

static void
jws_verify__when_wrong_key__signature(void **state)
{
	struct jws_key *k1, *k2;
	char *t;

	assert_int_equal(jws_key_generate(NULL, &k1), 0);
	assert_int_equal(jws_key_generate(NULL, &k2), 0);
	t = sign_sample(k1);
	assert_int_equal(verify_str(t, k2), VDI_ERR_JWS_SIGNATURE);
	assert_int_equal(verify_str(t, k1), 0);
	free(t);
	jws_key_free(k1);
	jws_key_free(k2);
}

static void
jws_verify_keys__when_kid__selects_key_for_rotation(void **state)
{
	struct jws_key *old, *cur, *nokid, *pub_old, *pub_cur;
	const struct jws_key *both[2], *one[1];
	char *t;

	assert_int_equal(jws_key_generate("2026-01", &old), 0);
	assert_int_equal(jws_key_generate("2026-02", &cur), 0);
	assert_int_equal(jws_key_generate(NULL, &nokid), 0);
	assert_int_equal(jws_key_public_copy(old, &pub_old), 0);
	assert_int_equal(jws_key_public_copy(cur, &pub_cur), 0);
	assert_string_equal(jws_key_kid(pub_cur), "2026-02");
	both[0] = pub_old;
	both[1] = pub_cur;

	/* Tokens from either key verify while both are trusted. */
	t = sign_sample(cur);
	assert_int_equal(verify_str_keys(t, both, 2), 0);
	one[0] = pub_old;
	assert_int_equal(verify_str_keys(t, one, 1), VDI_ERR_NOT_FOUND);
	free(t);
	t = sign_sample(old);
	assert_int_equal(verify_str_keys(t, both, 2), 0);
	free(t);

	/* A kid naming one key but signed by another is not retried with
	 * the other keys. */
	t = make_token_s(cur, "{\"alg\":\"EdDSA\",\"kid\":\"2026-01\"}", "{}");
	assert_int_equal(verify_str_keys(t, both, 2), VDI_ERR_JWS_SIGNATURE);
	free(t);
	/* An unknown kid, and an empty one. */
	t = make_token_s(cur, "{\"alg\":\"EdDSA\",\"kid\":\"2025-12\"}", "{}");
	assert_int_equal(verify_str_keys(t, both, 2), VDI_ERR_NOT_FOUND);
	free(t);
	t = make_token_s(nokid, "{\"alg\":\"EdDSA\",\"kid\":\"\"}", "{}");
	one[0] = nokid;
	assert_int_equal(verify_str_keys(t, one, 1), VDI_ERR_NOT_FOUND);
	free(t);
	/* Without a kid every key is tried. */
	t = make_token_s(cur, "{\"alg\":\"EdDSA\"}", "{}");
	assert_int_equal(verify_str_keys(t, both, 2), 0);
	free(t);
	t = sign_sample(nokid);
	assert_int_equal(verify_str_keys(t, both, 2), VDI_ERR_JWS_SIGNATURE);
	free(t);

	assert_int_equal(
	    verify_str_keys("a.b.c", both, 0), VDI_ERR_INVALID_ARG);
	assert_int_equal(
	    verify_str_keys("a.b.c", NULL, 1), VDI_ERR_INVALID_ARG);
	assert_int_equal(verify_str_keys("a.b.c", both, JWS_KEYS_MAX + 1),
	    VDI_ERR_INVALID_ARG);
	jws_key_free(old);
	jws_key_free(cur);
	jws_key_free(nokid);
	jws_key_free(pub_old);
	jws_key_free(pub_cur);
}

static void
jws_verify__when_token_over_8k__too_large(void **state)
{
	struct jws_key *k;
	json_t *c;
	char *pad, *t = NULL, *best = NULL, *big;
	size_t n, len;
	int r;

	assert_int_equal(jws_key_generate(NULL, &k), 0);
	pad = malloc(JWS_TOKEN_MAX);
	assert_non_null(pad);
	/* Grow the claims until signing refuses; the largest token signed
	 * must still verify. */
	for (n = 5900; n < JWS_TOKEN_MAX; n++) {
		memset(pad, 'p', n);
		pad[n] = '\0';
		c = json_pack("{s:s}", "pad", pad);
		r = jws_sign(k, c, &t);
		json_decref(c);
		if (r == VDI_ERR_TOO_LARGE) {
			assert_null(t);
			break;
		}
		assert_int_equal(r, 0);
		free(best);
		best = t;
	}
	assert_non_null(best);
	len = strlen(best);
	assert_true(len <= JWS_TOKEN_MAX && len > JWS_TOKEN_MAX - 4);
	assert_int_equal(verify_str(best, k), 0);

	big = malloc(JWS_TOKEN_MAX + 2);
	assert_non_null(big);
	memset(big, 'A', JWS_TOKEN_MAX + 1);
	big[10] = '.';
	big[20] = '.';
	big[JWS_TOKEN_MAX + 1] = '\0';
	assert_int_equal(verify_str(big, k), VDI_ERR_TOO_LARGE);
	free(big);
	free(best);
	free(pad);
	jws_key_free(k);
}

static void
jws_verify__when_bad_arguments__invalid_arg(void **state)
{
	json_t *claims = (json_t *)1;

	assert_int_equal(
	    jws_verify("a.b.c", 5, NULL, &claims), VDI_ERR_INVALID_ARG);
	assert_null(claims);
}

static void
jws_key__when_bad_kid__invalid_arg(void **state)
{
	static const char *const bad[] = { "", "a b", "a/b", "k\"", "é",
		"0123456789012345678901234567890123456789012345678901234567890"
		"1234" };
	struct jws_key *k = (struct jws_key *)1;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(
		    jws_key_generate(bad[i], &k), VDI_ERR_INVALID_ARG);
		assert_null(k);
	}
	assert_int_equal(
	    jws_key_generate("012345678901234567890123456789012345678901234567"
			     "8901234567890123",
		&k),
	    0);
	jws_key_free(k);
	jws_key_free(NULL);
}

/* --- PEM files ------------------------------------------------------------ */

struct pemdir {
	char dir[64];
	char priv[96], pub[96], ec[96], enc[96], junk[96], missing[96];
	char fifo[96];
};

static void
write_pem(const char *path, EVP_PKEY *pkey, int pub, const char *pass)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	if (pub)
		assert_int_equal(PEM_write_PUBKEY(f, pkey), 1);
	else if (pass != NULL)
		assert_int_equal(
		    PEM_write_PKCS8PrivateKey(f, pkey, EVP_aes_256_cbc(), pass,
			(int)strlen(pass), NULL, NULL),
		    1);
	else
		assert_int_equal(
		    PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL),
		    1);
	assert_int_equal(fclose(f), 0);
}

static int
pem_setup(void **state)
{
	struct pemdir *p = calloc(1, sizeof(*p));
	EVP_PKEY *ed, *ec;
	FILE *f;

	if (p == NULL)
		return -1;
	snprintf(p->dir, sizeof(p->dir), "/tmp/test_jws.XXXXXX");
	if (mkdtemp(p->dir) == NULL)
		return -1;
	snprintf(p->priv, sizeof(p->priv), "%s/ed25519.key", p->dir);
	snprintf(p->pub, sizeof(p->pub), "%s/ed25519.pub", p->dir);
	snprintf(p->ec, sizeof(p->ec), "%s/p256.key", p->dir);
	snprintf(p->enc, sizeof(p->enc), "%s/encrypted.key", p->dir);
	snprintf(p->junk, sizeof(p->junk), "%s/junk.pem", p->dir);
	snprintf(p->missing, sizeof(p->missing), "%s/missing.pem", p->dir);
	snprintf(p->fifo, sizeof(p->fifo), "%s/fifo.pem", p->dir);
	if (mkfifo(p->fifo, 0600) != 0)
		return -1;
	ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	if (ed == NULL || ec == NULL)
		return -1;
	write_pem(p->priv, ed, 0, NULL);
	write_pem(p->pub, ed, 1, NULL);
	write_pem(p->ec, ec, 0, NULL);
	write_pem(p->enc, ed, 0, "secret passphrase");
	if ((f = fopen(p->junk, "w")) == NULL)
		return -1;
	fputs("-----BEGIN PRIVATE KEY-----\nnot base64\n"
	      "-----END PRIVATE KEY-----\n",
	    f);
	fclose(f);
	EVP_PKEY_free(ed);
	EVP_PKEY_free(ec);
	*state = p;
	return 0;
}

static int
pem_teardown(void **state)
{
	struct pemdir *p = *state;

	unlink(p->priv);
	unlink(p->pub);
	unlink(p->ec);
	unlink(p->enc);
	unlink(p->junk);
	unlink(p->fifo);
	rmdir(p->dir);
	free(p);
	return 0;
}

static void
jws_key_load__when_pem_pair__signs_and_verifies(void **state)
{
	struct pemdir *p = *state;
	struct jws_key *priv, *pub;
	char err[256];
	char *t;

	assert_int_equal(
	    jws_key_load_private(p->priv, "b1", &priv, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_true(jws_key_is_private(priv));
	assert_int_equal(
	    jws_key_load_public(p->pub, "b1", &pub, err, sizeof(err)), 0);
	assert_false(jws_key_is_private(pub));
	t = sign_sample(priv);
	assert_int_equal(verify_str(t, pub), 0);
	free(t);
	jws_key_free(priv);
	jws_key_free(pub);
}

static void
expect_load_error(const char *path, int priv, const char *reason)
{
	struct jws_key *k = (struct jws_key *)1;
	char err[512];
	int r;

	if (priv)
		r = jws_key_load_private(path, NULL, &k, err, sizeof(err));
	else
		r = jws_key_load_public(path, NULL, &k, err, sizeof(err));
	assert_int_equal(r, VDI_ERR_CERT_LOAD);
	assert_null(k);
	/* The message names the file, then the reason. */
	if (strncmp(err, path, strlen(path)) != 0 ||
	    strstr(err, reason) == NULL)
		fail_msg(
		    "error \"%s\" lacks \"%s\" or \"%s\"", err, path, reason);
	/* NULL err is allowed. */
	if (priv)
		r = jws_key_load_private(path, NULL, &k, NULL, 0);
	else
		r = jws_key_load_public(path, NULL, &k, NULL, 0);
	assert_int_equal(r, VDI_ERR_CERT_LOAD);
}

static void
jws_key_load__when_bad_file__error_names_file(void **state)
{
	struct pemdir *p = *state;
	struct jws_key *k = (struct jws_key *)1;
	char err[256];

	expect_load_error(p->missing, 1, "cannot open");
	expect_load_error(p->missing, 0, "cannot open");
	expect_load_error(p->dir, 1, "not a regular file");
	expect_load_error(p->junk, 1, "not a PEM private key");
	expect_load_error(p->ec, 1, "not an Ed25519 key");
	expect_load_error(p->enc, 1, "not a PEM private key");
	/* Each loader takes only its own kind of key. */
	expect_load_error(p->pub, 1, "not a PEM private key");
	expect_load_error(p->priv, 0, "not a PEM public key");
	expect_load_error("/dev/null", 0, "not a regular file");
	/* A FIFO without a writer is refused, not waited on. */
	expect_load_error(p->fifo, 1, "not a regular file");
	assert_int_equal(
	    jws_key_load_private(p->priv, "bad kid", &k, err, sizeof(err)),
	    VDI_ERR_INVALID_ARG);
	assert_null(k);
	assert_non_null(strstr(err, p->priv));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    jws_key_from_seed__when_rfc8037_a1__public_key_is_a2_x),
		cmocka_unit_test(jws_key_thumbprint__when_rfc8037_a3__exact),
		cmocka_unit_test(
		    jws_sign_input__when_rfc8037_a4__signature_bytes_exact),
		cmocka_unit_test(
		    jws_verify_input__when_rfc8037_a5__valid_and_any_change_invalid),
		cmocka_unit_test(
		    jws_verify__when_rfc8037_token__signature_ok_payload_not_json),
		cmocka_unit_test(
		    jws_sign__when_generated_key__verify_returns_same_claims),
		cmocka_unit_test(jws_sign__when_key_has_kid__header_exact),
		cmocka_unit_test(
		    jws_sign__when_same_claims__deterministic_sorted),
		cmocka_unit_test(jws_sign__when_bad_arguments__invalid_arg),
		cmocka_unit_test(jws_verify__when_any_byte_flipped__refused),
		cmocka_unit_test(
		    jws_verify__when_truncated_or_extended__refused),
		cmocka_unit_test(jws_verify__when_not_three_parts__format),
		cmocka_unit_test(jws_verify__when_alg_not_eddsa__alg_refused),
		cmocka_unit_test(
		    jws_verify__when_header_extensions__refused_or_accepted),
		cmocka_unit_test(
		    jws_verify__when_payload_not_claims_object__json_refused),
		cmocka_unit_test(
		    jws_verify__when_signature_wrong_length_or_encoding__refused),
		cmocka_unit_test(jws_verify__when_wrong_key__signature),
		cmocka_unit_test(
		    jws_verify_keys__when_kid__selects_key_for_rotation),
		cmocka_unit_test(jws_verify__when_token_over_8k__too_large),
		cmocka_unit_test(jws_verify__when_bad_arguments__invalid_arg),
		cmocka_unit_test(jws_key__when_bad_kid__invalid_arg),
		cmocka_unit_test_setup_teardown(
		    jws_key_load__when_pem_pair__signs_and_verifies, pem_setup,
		    pem_teardown),
		cmocka_unit_test_setup_teardown(
		    jws_key_load__when_bad_file__error_names_file, pem_setup,
		    pem_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
