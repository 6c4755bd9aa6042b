/*
 * jws.h: JWS compact serialization (RFC 7515) with alg "EdDSA" over
 * Ed25519 (RFC 8037), for the gateway token.
 *
 * Tokens look like BASE64URL(header) "." BASE64URL(claims) "." BASE64URL(sig)
 * with the header {"alg":"EdDSA","typ":"JWT"} (plus "kid" when the signing
 * key has one) and a 64-byte Ed25519 signature over the ASCII text before
 * the second dot.
 *
 * Verification is strict and refuses, in this order:
 *   - a token longer than JWS_TOKEN_MAX (VDI_ERR_TOO_LARGE);
 *   - anything but exactly three non-empty parts (VDI_ERR_JWS_FORMAT);
 *   - a header that is not strict base64url (VDI_ERR_BASE64) of a JSON
 *     object without duplicate members, at most JWS_JSON_DEPTH_MAX deep
 *     (VDI_ERR_JSON);
 *   - an "alg" other than exactly "EdDSA", including a missing one, "none"
 *     and "HS256" (VDI_ERR_JWS_ALG);
 *   - a "crit" member, a "b64" member other than true, a "typ" other than
 *     "JWT" or a "kid" that is not a string (VDI_ERR_JWS_FORMAT). Other
 *     header members are ignored: keys never come from the token;
 *   - a signature part that is not 86 characters of strict base64url,
 *     i.e. exactly 64 bytes (VDI_ERR_JWS_SIGNATURE / VDI_ERR_BASE64);
 *   - a "kid" that names none of the given keys (VDI_ERR_NOT_FOUND);
 *   - a signature that no candidate key verifies (VDI_ERR_JWS_SIGNATURE);
 *   - only then the payload: strict base64url of a JSON object, duplicate
 *     members refused, depth limited (VDI_ERR_BASE64 / VDI_ERR_JSON).
 * Claims (exp, aud, ...) are checked separately: see claims.h.
 *
 * Keys are opaque, immutable after creation, and may be shared between
 * threads. Private keys are never printed or logged.
 */
#ifndef VDI_JWS_H
#define VDI_JWS_H

#include <stddef.h>

#include <jansson.h>

#include "vdierr.h"

/* Longest token accepted or produced, in characters. */
#define JWS_TOKEN_MAX 8192
/* Deepest nesting of objects/arrays accepted in header and claims. */
#define JWS_JSON_DEPTH_MAX 8
/* Ed25519 sizes: signature, public key, private key seed. */
#define JWS_SIG_LEN    64
#define JWS_PUBKEY_LEN 32
#define JWS_SEED_LEN   32
/* Longest key id; a kid is 1..JWS_KID_MAX of [A-Za-z0-9._-]. */
#define JWS_KID_MAX 64
/* Length of an RFC 7638 thumbprint (base64url SHA-256), without NUL. */
#define JWS_THUMBPRINT_LEN 43
/* Most keys jws_verify_keys() accepts at once. */
#define JWS_KEYS_MAX 16
/* Largest key file read. */
#define JWS_KEY_FILE_MAX (16u * 1024u)

struct jws_key;

/* Loads an Ed25519 private key from a PEM file ("BEGIN PRIVATE KEY",
 * PKCS#8; encrypted keys are refused, nothing prompts). kid may be NULL.
 * On failure returns VDI_ERR_CERT_LOAD (VDI_ERR_INVALID_ARG for a bad kid,
 * VDI_ERR_ALLOC) and, when err is not NULL, writes "path: reason" into err
 * (errlen bytes, always NUL-terminated). The file's bytes are wiped from
 * memory after parsing. The caller frees *out with jws_key_free(). */
int jws_key_load_private(const char *path, const char *kid,
    struct jws_key **out, char *err, size_t errlen) VDI_WUR;

/* Loads an Ed25519 public key from a PEM file ("BEGIN PUBLIC KEY", SPKI).
 * A private key file is refused. Errors and ownership as above. */
int jws_key_load_public(const char *path, const char *kid, struct jws_key **out,
    char *err, size_t errlen) VDI_WUR;

/* Makes a private key from a 32-byte Ed25519 seed (the "d" of RFC 8037).
 * The caller keeps and wipes seed. Returns 0, VDI_ERR_INVALID_ARG (bad
 * kid), VDI_ERR_TLS or VDI_ERR_ALLOC. The caller frees *out. */
int jws_key_from_seed(const unsigned char seed[JWS_SEED_LEN], const char *kid,
    struct jws_key **out) VDI_WUR;

/* Makes a public key from its 32 bytes (the "x" of RFC 8037). Errors and
 * ownership as jws_key_from_seed(). */
int jws_key_from_public(const unsigned char pub[JWS_PUBKEY_LEN],
    const char *kid, struct jws_key **out) VDI_WUR;

/* Generates a new private key from the OpenSSL RNG. Errors and ownership
 * as jws_key_from_seed(). */
int jws_key_generate(const char *kid, struct jws_key **out) VDI_WUR;

/* Makes a public-only copy of key (same kid) in *out, which the caller
 * frees. */
int jws_key_public_copy(
    const struct jws_key *key, struct jws_key **out) VDI_WUR;

/* Copies the 32-byte public key into pub. Returns 0 or VDI_ERR_TLS. */
int jws_key_raw_public(
    const struct jws_key *key, unsigned char pub[JWS_PUBKEY_LEN]) VDI_WUR;

/* Writes the RFC 7638 JWK thumbprint of the public key (base64url of the
 * SHA-256 of {"crv":"Ed25519","kty":"OKP","x":"..."}, 43 characters) into
 * out, NUL-terminated; a natural kid. outlen must be at least 44, else
 * VDI_ERR_TOO_LARGE. */
int jws_key_thumbprint(
    const struct jws_key *key, char *out, size_t outlen) VDI_WUR;

/* Returns the key id, or NULL when the key has none. Valid as long as the
 * key. */
const char *jws_key_kid(const struct jws_key *key);

/* Returns 1 when key holds a private key (can sign), else 0. */
int jws_key_is_private(const struct jws_key *key);

/* Frees a key, wiping it. NULL is accepted. */
void jws_key_free(struct jws_key *key);

/* Signs claims (a JSON object, serialized compactly with sorted keys) into
 * a new NUL-terminated compact token stored in *token; the caller frees it
 * with free(). The header carries key's kid when it has one. Returns 0,
 * VDI_ERR_INVALID_ARG (not a private key, claims not an object),
 * VDI_ERR_JSON (claims too deep to verify), VDI_ERR_TOO_LARGE (token would
 * exceed JWS_TOKEN_MAX), VDI_ERR_TLS or VDI_ERR_ALLOC. */
int jws_sign(
    const struct jws_key *key, const json_t *claims, char **token) VDI_WUR;

/* Verifies the len characters at token (no NUL needed) with key and, on
 * success, stores the claims object in *claims; the caller releases it
 * with json_decref(). When the header has a kid, key must have the same
 * kid. On failure *claims is NULL and the return value is one of the codes
 * listed at the top of this file. */
int jws_verify(const char *token, size_t len, const struct jws_key *key,
    json_t **claims) VDI_WUR;

/* Like jws_verify() with several trusted keys (key rotation). When the
 * header has a kid, only keys with that kid are tried (none:
 * VDI_ERR_NOT_FOUND); without a kid every key is tried in order. nkeys
 * must be 1..JWS_KEYS_MAX. */
int jws_verify_keys(const char *token, size_t len,
    const struct jws_key *const *keys, size_t nkeys, json_t **claims) VDI_WUR;

/* Signs the raw JWS signing input (ASCII(BASE64URL(header) "."
 * BASE64URL(payload))) with a private key and writes the 64-byte
 * signature into sig. Returns 0, VDI_ERR_INVALID_ARG (public key) or
 * VDI_ERR_TLS. Ed25519 is deterministic: the same input gives the same
 * signature. */
int jws_sign_input(const struct jws_key *key, const void *input, size_t len,
    unsigned char sig[JWS_SIG_LEN]) VDI_WUR;

/* Verifies a signature over a raw JWS signing input. Returns 0, or
 * VDI_ERR_JWS_SIGNATURE (wrong length or invalid), or VDI_ERR_TLS. */
int jws_verify_input(const struct jws_key *key, const void *input, size_t len,
    const unsigned char *sig, size_t siglen) VDI_WUR;

#endif
