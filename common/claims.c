/* claims.c: token claim checks (see claims.h for the rules). */
#include "config.h"

#include <string.h>

#include <openssl/crypto.h>

#include "b64url.h"
#include "claims.h"

/* A NumericDate claim: a JSON integer in 0..CLAIMS_TIME_MAX. */
static int
get_time(const json_t *claims, const char *name, int64_t *out)
{
	const json_t *v = json_object_get(claims, name);
	json_int_t t;

	*out = 0;
	if (!json_is_integer(v))
		return VDI_ERR_TOKEN_CLAIM;
	t = json_integer_value(v);
	if (t < 0 || t > CLAIMS_TIME_MAX)
		return VDI_ERR_TOKEN_CLAIM;
	*out = (int64_t)t;
	return 0;
}

int
claims_check_time(
    const json_t *claims, int64_t now, int64_t skew, int64_t max_lifetime)
{
	int64_t exp, nbf, iat;
	int r;

	if (now < 0 || now > CLAIMS_TIME_MAX || skew < 0 ||
	    skew > CLAIMS_SKEW_MAX || max_lifetime < 1 ||
	    max_lifetime > CLAIMS_TIME_MAX)
		return VDI_ERR_INVALID_ARG;
	if (!json_is_object(claims))
		return VDI_ERR_TOKEN_CLAIM;
	if ((r = get_time(claims, "exp", &exp)) != 0 ||
	    (r = get_time(claims, "nbf", &nbf)) != 0 ||
	    (r = get_time(claims, "iat", &iat)) != 0)
		return r;
	/* All values are bounded far below INT64_MAX: no overflow below. */
	if (exp <= iat || nbf > exp || exp - iat > max_lifetime)
		return VDI_ERR_TOKEN_CLAIM;
	if (now >= exp + skew)
		return VDI_ERR_TOKEN_EXPIRED;
	if (now < nbf - skew || iat > now + skew)
		return VDI_ERR_TOKEN_NOT_YET_VALID;
	return 0;
}

static int
string_is(const json_t *j, const char *want)
{
	size_t n = strlen(want);

	return json_string_length(j) == n &&
	    memcmp(json_string_value(j), want, n) == 0;
}

int
claims_check_aud(const json_t *claims, const char *want)
{
	const json_t *aud, *v;
	size_t i;
	int found = 0;

	if (want == NULL || want[0] == '\0')
		return VDI_ERR_INVALID_ARG;
	aud = json_object_get(claims, "aud");
	if (json_is_string(aud))
		return string_is(aud, want) ? 0 : VDI_ERR_TOKEN_AUDIENCE;
	if (!json_is_array(aud))
		return VDI_ERR_TOKEN_CLAIM;
	/* Every member must be a string, even after a match. */
	json_array_foreach(aud, i, v) {
		if (!json_is_string(v))
			return VDI_ERR_TOKEN_CLAIM;
		if (string_is(v, want))
			found = 1;
	}
	return found ? 0 : VDI_ERR_TOKEN_AUDIENCE;
}

int
claims_check_iss(const json_t *claims, const char *want)
{
	const json_t *iss;

	if (want == NULL || want[0] == '\0')
		return VDI_ERR_INVALID_ARG;
	iss = json_object_get(claims, "iss");
	if (!json_is_string(iss) || !string_is(iss, want))
		return VDI_ERR_TOKEN_CLAIM;
	return 0;
}

int
claims_check(const json_t *claims, const struct claims_expect *want)
{
	int r;

	if (want == NULL)
		return VDI_ERR_INVALID_ARG;
	if ((r = claims_check_iss(claims, want->iss)) != 0 ||
	    (r = claims_check_aud(claims, want->aud)) != 0 ||
	    (r = claims_check_time(
		 claims, want->now, want->skew, want->max_lifetime)) != 0)
		return r;
	return 0;
}

int
claims_get_string(const json_t *claims, const char *name, const char **out)
{
	const json_t *v = json_object_get(claims, name);
	const char *s;

	*out = NULL;
	if (!json_is_string(v))
		return VDI_ERR_TOKEN_CLAIM;
	s = json_string_value(v);
	if (json_string_length(v) == 0 || strlen(s) != json_string_length(v))
		return VDI_ERR_TOKEN_CLAIM;
	*out = s;
	return 0;
}

int
claims_get_int(const json_t *claims, const char *name, int64_t *out)
{
	const json_t *v = json_object_get(claims, name);

	*out = 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return VDI_ERR_TOKEN_CLAIM;
	*out = (int64_t)json_integer_value(v);
	return 0;
}

int
claims_check_cnf(
    const json_t *claims, const unsigned char x5t_s256[CLAIMS_X5T_LEN])
{
	const json_t *cnf, *v;
	unsigned char got[CLAIMS_X5T_LEN];
	size_t n;

	cnf = json_object_get(claims, "cnf");
	if (!json_is_object(cnf))
		return VDI_ERR_TOKEN_CLAIM;
	v = json_object_get(cnf, "x5t#S256");
	if (!json_is_string(v))
		return VDI_ERR_TOKEN_CLAIM;
	if (b64url_decode(json_string_value(v), json_string_length(v), got,
		sizeof(got), &n) != 0 ||
	    n != sizeof(got))
		return VDI_ERR_TOKEN_CLAIM;
	if (CRYPTO_memcmp(got, x5t_s256, sizeof(got)) != 0)
		return VDI_ERR_DENIED;
	return 0;
}
