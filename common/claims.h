/*
 * claims.h: checks on the claims of a verified token (RFC 7519 names).
 *
 * Pure functions over a jansson object: the current time is a parameter,
 * never read from the clock here, so every boundary is testable. Times are
 * integer seconds since the Epoch (NumericDate without fractions); a claim
 * that is missing, not a JSON integer, negative or beyond
 * CLAIMS_TIME_MAX is VDI_ERR_TOKEN_CLAIM.
 *
 * Validity window, with skew s >= 0 allowed for clocks that disagree:
 *   expired        when now >= exp + s        (VDI_ERR_TOKEN_EXPIRED)
 *   not yet valid  when now <  nbf - s        (VDI_ERR_TOKEN_NOT_YET_VALID)
 *                  or   iat >  now + s        (VDI_ERR_TOKEN_NOT_YET_VALID)
 *   too long-lived when exp - iat > lifetime  (VDI_ERR_TOKEN_CLAIM)
 * so with s = 0 a token is valid for nbf <= now < exp.
 */
#ifndef VDI_CLAIMS_H
#define VDI_CLAIMS_H

#include <stdint.h>

#include <jansson.h>

#include "vdierr.h"

/* Latest time accepted in a claim: 9999-12-31T23:59:59Z. */
#define CLAIMS_TIME_MAX INT64_C(253402300799)
/* Largest clock skew a caller may allow, in seconds. */
#define CLAIMS_SKEW_MAX 3600
/* Longest lifetime (exp - iat) of a gateway token, in seconds. */
#define CLAIMS_GATEWAY_LIFETIME 60
/* Length of a SHA-256 certificate thumbprint. */
#define CLAIMS_X5T_LEN 32

/* What a verifier expects of a token. */
struct claims_expect {
	const char *iss;      /* required issuer (exact match) */
	const char *aud;      /* required audience (string or array member) */
	int64_t now;          /* current time, 0..CLAIMS_TIME_MAX */
	int64_t skew;         /* allowed clock skew, 0..CLAIMS_SKEW_MAX */
	int64_t max_lifetime; /* largest exp - iat, 1..CLAIMS_TIME_MAX */
};

/* Checks the required exp, nbf and iat claims against now as described
 * above: well-formed, exp > iat, nbf <= exp, exp - iat <= max_lifetime,
 * then expiry, then nbf and iat. Returns 0, VDI_ERR_TOKEN_CLAIM,
 * VDI_ERR_TOKEN_EXPIRED, VDI_ERR_TOKEN_NOT_YET_VALID, or
 * VDI_ERR_INVALID_ARG when now, skew or max_lifetime is out of range. */
int claims_check_time(const json_t *claims, int64_t now, int64_t skew,
    int64_t max_lifetime) VDI_WUR;

/* Checks that aud is the string want, or an array of strings one of which
 * is want. Returns 0, VDI_ERR_TOKEN_AUDIENCE (no match, empty array),
 * VDI_ERR_TOKEN_CLAIM (missing, wrong type, non-string array member) or
 * VDI_ERR_INVALID_ARG (want NULL or empty). */
int claims_check_aud(const json_t *claims, const char *want) VDI_WUR;

/* Checks that iss is exactly the string want. Returns 0,
 * VDI_ERR_TOKEN_CLAIM (missing, wrong type or different) or
 * VDI_ERR_INVALID_ARG. */
int claims_check_iss(const json_t *claims, const char *want) VDI_WUR;

/* All of the above: iss, aud, then the time checks. Returns the first
 * failure. */
int claims_check(
    const json_t *claims, const struct claims_expect *want) VDI_WUR;

/* Fetches a required non-empty string claim (sub, tid, sid, jti, dst,
 * sec, ...) into *out, which points into claims and lives as long as it.
 * Returns 0 or VDI_ERR_TOKEN_CLAIM (missing, not a string, empty, or
 * containing a NUL); *out is NULL on failure. */
int claims_get_string(
    const json_t *claims, const char *name, const char **out) VDI_WUR;

/* Fetches a required integer claim >= 0 (idle, ...) into *out. Returns 0
 * or VDI_ERR_TOKEN_CLAIM; *out is 0 on failure. */
int claims_get_int(
    const json_t *claims, const char *name, int64_t *out) VDI_WUR;

/* Checks the RFC 8705 confirmation claim cnf: {"x5t#S256": thumbprint}
 * against the SHA-256 of the client certificate the token arrived with.
 * Returns 0, VDI_ERR_TOKEN_CLAIM (missing or not 32 bytes of strict
 * base64url) or VDI_ERR_DENIED (another certificate). The comparison
 * takes constant time. */
int claims_check_cnf(
    const json_t *claims, const unsigned char x5t_s256[CLAIMS_X5T_LEN]) VDI_WUR;

#endif
