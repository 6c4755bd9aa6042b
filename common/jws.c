/* jws.c: compact JWS with EdDSA/Ed25519 (see jws.h for the rules). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "b64url.h"
#include "jws.h"

/* Characters of an encoded 64-byte signature. */
#define JWS_SIG_B64_LEN 86

struct jws_key {
	EVP_PKEY *pkey;
	int priv;
	char kid[JWS_KID_MAX + 1]; /* "" when the key has none */
};

static int
kid_valid(const char *kid)
{
	size_t i, n = strlen(kid);

	if (n == 0 || n > JWS_KID_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		if (!((kid[i] >= 'A' && kid[i] <= 'Z') ||
			(kid[i] >= 'a' && kid[i] <= 'z') ||
			(kid[i] >= '0' && kid[i] <= '9') || kid[i] == '.' ||
			kid[i] == '_' || kid[i] == '-'))
			return 0;
	}
	return 1;
}

/* Wraps pkey (taking ownership, also on failure) into a new key. */
static int
key_wrap(EVP_PKEY *pkey, int priv, const char *kid, struct jws_key **out)
{
	struct jws_key *k;

	*out = NULL;
	if (kid != NULL && !kid_valid(kid)) {
		EVP_PKEY_free(pkey);
		return VDI_ERR_INVALID_ARG;
	}
	if (!EVP_PKEY_is_a(pkey, "ED25519")) {
		EVP_PKEY_free(pkey);
		return VDI_ERR_UNSUPPORTED;
	}
	if ((k = calloc(1, sizeof(*k))) == NULL) {
		EVP_PKEY_free(pkey);
		return VDI_ERR_ALLOC;
	}
	k->pkey = pkey;
	k->priv = priv;
	if (kid != NULL)
		snprintf(k->kid, sizeof(k->kid), "%s", kid);
	*out = k;
	return 0;
}

void
jws_key_free(struct jws_key *key)
{
	if (key == NULL)
		return;
	EVP_PKEY_free(key->pkey); /* OpenSSL wipes private key material */
	OPENSSL_cleanse(key, sizeof(*key));
	free(key);
}

const char *
jws_key_kid(const struct jws_key *key)
{
	return key->kid[0] != '\0' ? key->kid : NULL;
}

int
jws_key_is_private(const struct jws_key *key)
{
	return key->priv;
}

/*
 * Reads a whole small regular file into a new buffer of JWS_KEY_FILE_MAX
 * bytes. The caller wipes and frees *buf.
 */
static int
read_key_file(const char *path, unsigned char **buf, size_t *len, char *err,
    size_t errlen)
{
	struct stat st;
	unsigned char *b;
	size_t n = 0;
	ssize_t got;
	int fd;

	*buf = NULL;
	*len = 0;
	/* O_NONBLOCK: a FIFO must not hang us before the S_ISREG check; it
	 * changes nothing for regular files. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) ==
	    -1) {
		vdi_seterr(
		    err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return VDI_ERR_CERT_LOAD;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		vdi_seterr(err, errlen, "%s: not a regular file", path);
		close(fd);
		return VDI_ERR_CERT_LOAD;
	}
	if ((b = malloc(JWS_KEY_FILE_MAX)) == NULL) {
		close(fd);
		return VDI_ERR_ALLOC;
	}
	for (;;) {
		if (n == JWS_KEY_FILE_MAX) {
			vdi_seterr(err, errlen, "%s: larger than %u bytes",
			    path, JWS_KEY_FILE_MAX - 1);
			goto fail;
		}
		got = read(fd, b + n, JWS_KEY_FILE_MAX - n);
		if (got == -1 && errno == EINTR)
			continue;
		if (got == -1) {
			vdi_seterr(
			    err, errlen, "%s: read: %s", path, strerror(errno));
			goto fail;
		}
		if (got == 0)
			break;
		n += (size_t)got;
	}
	close(fd);
	*buf = b;
	*len = n;
	return 0;
fail:
	close(fd);
	OPENSSL_cleanse(b, JWS_KEY_FILE_MAX);
	free(b);
	return VDI_ERR_CERT_LOAD;
}

/* Never asks for a passphrase: encrypted key files fail to load. */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	return -1;
}

static int
key_load(const char *path, const char *kid, int priv, struct jws_key **out,
    char *err, size_t errlen)
{
	unsigned char *buf = NULL;
	size_t len = 0;
	EVP_PKEY *pkey = NULL;
	BIO *bio = NULL;
	int r;

	*out = NULL;
	vdi_seterr(err, errlen, "%s", "");
	if (kid != NULL && !kid_valid(kid)) {
		vdi_seterr(err, errlen, "%s: invalid key id", path);
		return VDI_ERR_INVALID_ARG;
	}
	if ((r = read_key_file(path, &buf, &len, err, errlen)) != 0)
		return r;
	if ((bio = BIO_new_mem_buf(buf, (int)len)) == NULL) {
		r = VDI_ERR_ALLOC;
		goto out;
	}
	if (priv)
		pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
	else
		pkey = PEM_read_bio_PUBKEY(bio, NULL, no_passphrase, NULL);
	if (pkey == NULL) {
		vdi_seterr(err, errlen, "%s: not a PEM %s key (%s)", path,
		    priv ? "private" : "public", vdi_ossl_reason());
		r = VDI_ERR_CERT_LOAD;
		goto out;
	}
	if (!EVP_PKEY_is_a(pkey, "ED25519")) {
		vdi_seterr(err, errlen, "%s: not an Ed25519 key (%s)", path,
		    EVP_PKEY_get0_type_name(pkey) != NULL
			? EVP_PKEY_get0_type_name(pkey)
			: "unknown type");
		r = VDI_ERR_CERT_LOAD;
		goto out;
	}
	r = key_wrap(pkey, priv, kid, out);
	pkey = NULL;
	if (r != 0)
		vdi_seterr(err, errlen, "%s: %s", path, vdi_strerror(r));
out:
	EVP_PKEY_free(pkey);
	BIO_free(bio);
	OPENSSL_cleanse(buf, JWS_KEY_FILE_MAX);
	free(buf);
	ERR_clear_error();
	return r;
}

int
jws_key_load_private(const char *path, const char *kid, struct jws_key **out,
    char *err, size_t errlen)
{
	return key_load(path, kid, 1, out, err, errlen);
}

int
jws_key_load_public(const char *path, const char *kid, struct jws_key **out,
    char *err, size_t errlen)
{
	return key_load(path, kid, 0, out, err, errlen);
}

int
jws_key_from_seed(const unsigned char seed[JWS_SEED_LEN], const char *kid,
    struct jws_key **out)
{
	EVP_PKEY *pkey;

	*out = NULL;
	pkey = EVP_PKEY_new_raw_private_key(
	    EVP_PKEY_ED25519, NULL, seed, JWS_SEED_LEN);
	if (pkey == NULL) {
		ERR_clear_error();
		return VDI_ERR_TLS;
	}
	return key_wrap(pkey, 1, kid, out);
}

int
jws_key_from_public(const unsigned char pub[JWS_PUBKEY_LEN], const char *kid,
    struct jws_key **out)
{
	EVP_PKEY *pkey;

	*out = NULL;
	pkey = EVP_PKEY_new_raw_public_key(
	    EVP_PKEY_ED25519, NULL, pub, JWS_PUBKEY_LEN);
	if (pkey == NULL) {
		ERR_clear_error();
		return VDI_ERR_TLS;
	}
	return key_wrap(pkey, 0, kid, out);
}

int
jws_key_generate(const char *kid, struct jws_key **out)
{
	EVP_PKEY *pkey;

	*out = NULL;
	if ((pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")) == NULL) {
		ERR_clear_error();
		return VDI_ERR_TLS;
	}
	return key_wrap(pkey, 1, kid, out);
}

int
jws_key_raw_public(const struct jws_key *key, unsigned char pub[JWS_PUBKEY_LEN])
{
	size_t len = JWS_PUBKEY_LEN;

	if (EVP_PKEY_get_raw_public_key(key->pkey, pub, &len) != 1 ||
	    len != JWS_PUBKEY_LEN) {
		ERR_clear_error();
		memset(pub, 0, JWS_PUBKEY_LEN);
		return VDI_ERR_TLS;
	}
	return 0;
}

int
jws_key_public_copy(const struct jws_key *key, struct jws_key **out)
{
	unsigned char pub[JWS_PUBKEY_LEN];
	int r;

	*out = NULL;
	if ((r = jws_key_raw_public(key, pub)) != 0)
		return r;
	return jws_key_from_public(pub, jws_key_kid(key), out);
}

int
jws_key_thumbprint(const struct jws_key *key, char *out, size_t outlen)
{
	unsigned char pub[JWS_PUBKEY_LEN], md[32];
	char x[JWS_THUMBPRINT_LEN + 1], jwk[128];
	unsigned int mdlen = sizeof(md);
	int r, n;

	if (outlen > 0)
		out[0] = '\0';
	if (outlen < JWS_THUMBPRINT_LEN + 1)
		return VDI_ERR_TOO_LARGE;
	if ((r = jws_key_raw_public(key, pub)) != 0)
		return r;
	if ((r = b64url_encode(pub, sizeof(pub), x, sizeof(x))) != 0)
		return r;
	/* RFC 7638 section 3.2: required members only, sorted, no spaces. */
	n = snprintf(jwk, sizeof(jwk),
	    "{\"crv\":\"Ed25519\",\"kty\":\"OKP\","
	    "\"x\":\"%s\"}",
	    x);
	if (n < 0 || (size_t)n >= sizeof(jwk))
		return VDI_ERR_INTERNAL;
	if (EVP_Digest(jwk, (size_t)n, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != sizeof(md)) {
		ERR_clear_error();
		return VDI_ERR_TLS;
	}
	return b64url_encode(md, sizeof(md), out, outlen);
}

int
jws_sign_input(const struct jws_key *key, const void *input, size_t len,
    unsigned char sig[JWS_SIG_LEN])
{
	EVP_MD_CTX *ctx;
	size_t siglen = JWS_SIG_LEN;
	int r = 0;

	memset(sig, 0, JWS_SIG_LEN);
	if (!key->priv)
		return VDI_ERR_INVALID_ARG;
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return VDI_ERR_ALLOC;
	/* Ed25519 is pure EdDSA: no digest, one-shot only. */
	if (EVP_DigestSignInit(ctx, NULL, NULL, NULL, key->pkey) != 1 ||
	    EVP_DigestSign(ctx, sig, &siglen, input, len) != 1 ||
	    siglen != JWS_SIG_LEN) {
		memset(sig, 0, JWS_SIG_LEN);
		r = VDI_ERR_TLS;
	}
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	return r;
}

int
jws_verify_input(const struct jws_key *key, const void *input, size_t len,
    const unsigned char *sig, size_t siglen)
{
	EVP_MD_CTX *ctx;
	int r;

	if (siglen != JWS_SIG_LEN)
		return VDI_ERR_JWS_SIGNATURE;
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return VDI_ERR_ALLOC;
	if (EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key->pkey) != 1)
		r = VDI_ERR_TLS;
	else if (EVP_DigestVerify(ctx, sig, siglen, input, len) == 1)
		r = 0;
	else
		r = VDI_ERR_JWS_SIGNATURE;
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	return r;
}

/*
 * Returns 1 when no object or array in s nests deeper than max. Strings are
 * skipped so that brackets inside them do not count. Jansson validates the
 * syntax afterwards; this only bounds the parser's recursion and memory.
 */
static int
json_depth_ok(const unsigned char *s, size_t len, int max)
{
	int depth = 0, in_str = 0, esc = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		if (in_str) {
			if (esc)
				esc = 0;
			else if (s[i] == '\\')
				esc = 1;
			else if (s[i] == '"')
				in_str = 0;
			continue;
		}
		if (s[i] == '"')
			in_str = 1;
		else if (s[i] == '{' || s[i] == '[') {
			if (++depth > max)
				return 0;
		} else if (s[i] == '}' || s[i] == ']')
			depth--;
	}
	return 1;
}

/* Decodes one base64url part into a JSON object stored in *out. */
static int
decode_json_object(const char *part, size_t len, json_t **out)
{
	unsigned char *raw = NULL;
	size_t rawlen = 0;
	json_error_t jerr;
	json_t *j;
	int r;

	*out = NULL;
	if ((r = b64url_decode_alloc(part, len, &raw, &rawlen)) != 0)
		return r;
	if (!json_depth_ok(raw, rawlen, JWS_JSON_DEPTH_MAX)) {
		free(raw);
		return VDI_ERR_JSON;
	}
	j = json_loadb(
	    (const char *)raw, rawlen, JSON_REJECT_DUPLICATES, &jerr);
	free(raw);
	if (j == NULL)
		return VDI_ERR_JSON;
	if (!json_is_object(j)) {
		json_decref(j);
		return VDI_ERR_JSON;
	}
	*out = j;
	return 0;
}

static int
json_string_is(const json_t *j, const char *want)
{
	size_t n = strlen(want);

	return json_is_string(j) && json_string_length(j) == n &&
	    memcmp(json_string_value(j), want, n) == 0;
}

/* Applies the header rules; *kid points into hdr (NULL when absent). */
static int
check_header(const json_t *hdr, const char **kid)
{
	const json_t *v;

	*kid = NULL;
	if (!json_string_is(json_object_get(hdr, "alg"), "EdDSA"))
		return VDI_ERR_JWS_ALG;
	if (json_object_get(hdr, "crit") != NULL)
		return VDI_ERR_JWS_FORMAT;
	if ((v = json_object_get(hdr, "b64")) != NULL && !json_is_true(v))
		return VDI_ERR_JWS_FORMAT;
	if ((v = json_object_get(hdr, "typ")) != NULL &&
	    !json_string_is(v, "JWT"))
		return VDI_ERR_JWS_FORMAT;
	if ((v = json_object_get(hdr, "kid")) != NULL) {
		if (!json_is_string(v) ||
		    strlen(json_string_value(v)) != json_string_length(v))
			return VDI_ERR_JWS_FORMAT;
		*kid = json_string_value(v);
	}
	return 0;
}

int
jws_verify_keys(const char *token, size_t len,
    const struct jws_key *const *keys, size_t nkeys, json_t **claims)
{
	const char *d1, *d2, *kid;
	size_t hlen, plen, slen, i, tried = 0, siglen;
	unsigned char sig[JWS_SIG_LEN];
	json_t *hdr = NULL;
	int r, ok = 0;

	*claims = NULL;
	if (token == NULL || keys == NULL || nkeys == 0 || nkeys > JWS_KEYS_MAX)
		return VDI_ERR_INVALID_ARG;
	for (i = 0; i < nkeys; i++)
		if (keys[i] == NULL)
			return VDI_ERR_INVALID_ARG;
	if (len > JWS_TOKEN_MAX)
		return VDI_ERR_TOO_LARGE;

	/* Exactly two dots, three non-empty parts. */
	if ((d1 = memchr(token, '.', len)) == NULL)
		return VDI_ERR_JWS_FORMAT;
	hlen = (size_t)(d1 - token);
	if ((d2 = memchr(d1 + 1, '.', len - hlen - 1)) == NULL)
		return VDI_ERR_JWS_FORMAT;
	plen = (size_t)(d2 - d1 - 1);
	slen = len - hlen - 1 - plen - 1;
	if (memchr(d2 + 1, '.', slen) != NULL)
		return VDI_ERR_JWS_FORMAT;
	if (hlen == 0 || plen == 0 || slen == 0)
		return VDI_ERR_JWS_FORMAT;

	if ((r = decode_json_object(token, hlen, &hdr)) != 0)
		goto out;
	if ((r = check_header(hdr, &kid)) != 0)
		goto out;

	if (slen != JWS_SIG_B64_LEN) {
		r = VDI_ERR_JWS_SIGNATURE;
		goto out;
	}
	if ((r = b64url_decode(d2 + 1, slen, sig, sizeof(sig), &siglen)) != 0)
		goto out;

	for (i = 0; i < nkeys && !ok; i++) {
		if (kid != NULL &&
		    (keys[i]->kid[0] == '\0' || strcmp(keys[i]->kid, kid) != 0))
			continue;
		tried++;
		r = jws_verify_input(
		    keys[i], token, hlen + 1 + plen, sig, siglen);
		if (r == 0)
			ok = 1;
		else if (r != VDI_ERR_JWS_SIGNATURE)
			goto out;
	}
	if (tried == 0) {
		r = VDI_ERR_NOT_FOUND;
		goto out;
	}
	if (!ok) {
		r = VDI_ERR_JWS_SIGNATURE;
		goto out;
	}
	/* Only authenticated bytes reach the claims parser. */
	r = decode_json_object(d1 + 1, plen, claims);
out:
	json_decref(hdr);
	return r;
}

int
jws_verify(
    const char *token, size_t len, const struct jws_key *key, json_t **claims)
{
	const struct jws_key *keys[1];

	*claims = NULL;
	if (key == NULL)
		return VDI_ERR_INVALID_ARG;
	keys[0] = key;
	return jws_verify_keys(token, len, keys, 1, claims);
}

/* Appends the base64url of len bytes at p to t at *off (room checked by
 * the caller). */
static int
put_b64(char *t, size_t tsize, size_t *off, const void *p, size_t len)
{
	size_t n;
	int r;

	if ((r = b64url_encode(p, len, t + *off, tsize - *off)) != 0)
		return r;
	if ((r = b64url_encoded_len(len, &n)) != 0)
		return r;
	*off += n;
	return 0;
}

int
jws_sign(const struct jws_key *key, const json_t *claims, char **token)
{
	json_t *hdr = NULL;
	char *htxt = NULL, *ptxt = NULL, *t = NULL;
	unsigned char sig[JWS_SIG_LEN];
	size_t hn, pn, total, off = 0;
	int r;

	*token = NULL;
	if (key == NULL || !key->priv || !json_is_object(claims))
		return VDI_ERR_INVALID_ARG;
	if (key->kid[0] != '\0')
		hdr = json_pack("{s:s, s:s, s:s}", "alg", "EdDSA", "typ", "JWT",
		    "kid", key->kid);
	else
		hdr = json_pack("{s:s, s:s}", "alg", "EdDSA", "typ", "JWT");
	if (hdr == NULL) {
		r = VDI_ERR_ALLOC;
		goto out;
	}
	htxt = json_dumps(hdr, JSON_COMPACT | JSON_PRESERVE_ORDER);
	ptxt = json_dumps(claims, JSON_COMPACT | JSON_SORT_KEYS);
	if (htxt == NULL || ptxt == NULL) {
		r = VDI_ERR_JSON; /* e.g. a NaN, or out of memory */
		goto out;
	}
	if (!json_depth_ok((const unsigned char *)ptxt, strlen(ptxt),
		JWS_JSON_DEPTH_MAX)) {
		r = VDI_ERR_JSON;
		goto out;
	}
	if (strlen(ptxt) > JWS_TOKEN_MAX) {
		r = VDI_ERR_TOO_LARGE;
		goto out;
	}
	if ((r = b64url_encoded_len(strlen(htxt), &hn)) != 0 ||
	    (r = b64url_encoded_len(strlen(ptxt), &pn)) != 0)
		goto out;
	total = hn + 1 + pn + 1 + JWS_SIG_B64_LEN;
	if (total > JWS_TOKEN_MAX) {
		r = VDI_ERR_TOO_LARGE;
		goto out;
	}
	if ((t = malloc(total + 1)) == NULL) {
		r = VDI_ERR_ALLOC;
		goto out;
	}
	if ((r = put_b64(t, total + 1, &off, htxt, strlen(htxt))) != 0)
		goto out;
	t[off++] = '.';
	if ((r = put_b64(t, total + 1, &off, ptxt, strlen(ptxt))) != 0)
		goto out;
	if ((r = jws_sign_input(key, t, off, sig)) != 0)
		goto out;
	t[off++] = '.';
	if ((r = put_b64(t, total + 1, &off, sig, sizeof(sig))) != 0)
		goto out;
	if (off != total) {
		r = VDI_ERR_INTERNAL;
		goto out;
	}
	*token = t;
	t = NULL;
out:
	free(t);
	free(htxt);
	free(ptxt);
	json_decref(hdr);
	return r;
}
