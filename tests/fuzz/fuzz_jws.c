/*
 * fuzz_jws.c: the input is a compact JWS token, verified with a fixed
 * Ed25519 key (the RFC 8037 Appendix A test key, kid "fuzz").
 *
 * Random bytes almost never carry a valid signature, so the harness also
 * re-signs the input's first two parts with the fixed private key and
 * verifies that token too: this drives the header and claims checks with
 * authentic signatures. Invariants checked (abort on violation):
 *   - a verified token yields a JSON object, and on failure no object;
 *   - a verified token's claims signed again verify to equal claims;
 *   - whatever strict base64url decodes, encoding gives back the same text;
 *   - the claims checks never crash on what the verifier accepted.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "b64url.h"
#include "claims.h"
#include "jws.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const unsigned char fuzz_seed[JWS_SEED_LEN] = {
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

static struct jws_key *fuzz_priv, *fuzz_pub;

static void
init_keys(void)
{
	if (fuzz_priv != NULL)
		return;
	if (jws_key_from_seed(fuzz_seed, "fuzz", &fuzz_priv) != 0 ||
	    jws_key_public_copy(fuzz_priv, &fuzz_pub) != 0)
		abort();
}

/* Strict base64url is canonical: decode then encode is the identity. */
static void
check_b64_roundtrip(const char *s, size_t len)
{
	unsigned char *raw;
	char *back;
	size_t n;

	if (b64url_decode_alloc(s, len, &raw, &n) != 0)
		return;
	if (b64url_encode_alloc(raw, n, &back) != 0)
		abort();
	if (strlen(back) != len || memcmp(back, s, len) != 0)
		abort();
	free(back);
	free(raw);
}

static void
check_claims(const json_t *claims)
{
	const char *s;
	int64_t v;
	unsigned char x5t[CLAIMS_X5T_LEN] = { 0 };
	struct claims_expect want = {
		.iss = "vdi-broker",
		.aud = "vdi-gateway",
		.now = 1700000010,
		.skew = 5,
		.max_lifetime = CLAIMS_GATEWAY_LIFETIME,
	};

	switch (claims_check(claims, &want)) {
	case 0:
	case VDI_ERR_TOKEN_CLAIM:
	case VDI_ERR_TOKEN_AUDIENCE:
	case VDI_ERR_TOKEN_EXPIRED:
	case VDI_ERR_TOKEN_NOT_YET_VALID:
		break;
	default:
		abort();
	}
	switch (claims_check_cnf(claims, x5t)) {
	case 0:
	case VDI_ERR_TOKEN_CLAIM:
	case VDI_ERR_DENIED:
		break;
	default:
		abort();
	}
	if (claims_get_string(claims, "sub", &s) == 0 && s == NULL)
		abort();
	if (claims_get_int(claims, "idle", &v) != 0 && v != 0)
		abort();
}

/* Verifies token; on success checks the claims and that they re-sign. */
static void
verify_one(const char *token, size_t len)
{
	json_t *claims = (json_t *)1, *again = NULL;
	char *t2 = NULL;
	int r;

	r = jws_verify(token, len, fuzz_pub, &claims);
	if (r != 0) {
		if (claims != NULL)
			abort();
		return;
	}
	if (!json_is_object(claims))
		abort();
	check_claims(claims);
	r = jws_sign(fuzz_priv, claims, &t2);
	/* Re-serialized claims can be longer (escapes), never deeper. */
	if (r != 0 && r != VDI_ERR_TOO_LARGE)
		abort();
	if (r == 0) {
		if (jws_verify(t2, strlen(t2), fuzz_pub, &again) != 0 ||
		    !json_equal(claims, again))
			abort();
		json_decref(again);
		free(t2);
	}
	json_decref(claims);
}

/* Replaces the signature of header.payload with a valid one. */
static void
resign_and_verify(const char *in, size_t size)
{
	const char *d1, *d2;
	unsigned char sig[JWS_SIG_LEN];
	char *t;
	size_t n;

	if ((d1 = memchr(in, '.', size)) == NULL)
		return;
	if ((d2 = memchr(d1 + 1, '.', size - (size_t)(d1 - in) - 1)) == NULL)
		return;
	n = (size_t)(d2 - in);
	if ((t = malloc(n + 1 + 86 + 1)) == NULL)
		abort();
	memcpy(t, in, n);
	if (jws_sign_input(fuzz_priv, t, n, sig) != 0)
		abort();
	t[n] = '.';
	if (b64url_encode(sig, sizeof(sig), t + n + 1, 87) != 0)
		abort();
	verify_one(t, n + 1 + 86);
	free(t);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	const char *p, *end = in + size, *dot;

	init_keys();
	verify_one(in, size);
	resign_and_verify(in, size);
	/* Every part through the strict decoder. */
	for (p = in; p <= end; p = dot + 1) {
		dot = memchr(p, '.', (size_t)(end - p));
		if (dot == NULL)
			dot = end;
		check_b64_roundtrip(p, (size_t)(dot - p));
		if (dot == end)
			break;
	}
	return 0;
}
