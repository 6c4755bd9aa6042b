/* gwtoken.c: gateway token verification (see gwtoken.h). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "b64url.h"
#include "cfgfile.h"
#include "claims.h"
#include "gwtoken.h"

static int
copy_claim(const json_t *c, const char *name, char *out, size_t len)
{
	const char *s;

	if (claims_get_string(c, name, &s) != 0 || strlen(s) >= len)
		return -1;
	memcpy(out, s, strlen(s) + 1);
	return 0;
}

static int
parse_channels(const json_t *c, unsigned int *out)
{
	json_t *ch = json_object_get(c, "ch"), *v;
	const char *s;
	size_t i;

	*out = 0;
	if (!json_is_array(ch))
		return -1;
	json_array_foreach(ch, i, v) {
		if ((s = json_string_value(v)) == NULL)
			return -1;
		if (strcmp(s, "display") == 0)
			*out |= GWT_CH_DISPLAY;
		else if (strcmp(s, "input") == 0)
			*out |= GWT_CH_INPUT;
		else if (strcmp(s, "audio_out") == 0)
			*out |= GWT_CH_AUDIO_OUT;
		else
			return -1; /* unknown class: fail closed */
	}
	/* Display and input are the session; without them there is none. */
	if ((*out & (GWT_CH_DISPLAY | GWT_CH_INPUT)) !=
	    (GWT_CH_DISPLAY | GWT_CH_INPUT))
		return -1;
	return 0;
}

enum vdi_reason
gw_token_check(const char *token, size_t len, const struct gw_token_policy *pol,
    const unsigned char x5t[32], struct replay *rc, int64_t now,
    struct gw_token *out)
{
	struct claims_expect want;
	json_t *c = NULL;
	const char *s;
	char dst[GWT_NAME_MAX + 16];
	int64_t idle;
	size_t n;
	enum vdi_reason e = VDI_REASON_TOKEN_INVALID_CLAIMS;
	int r;

	memset(out, 0, sizeof(*out));
	if (jws_verify_keys(token, len, pol->keys, pol->nkeys, &c) != 0)
		return VDI_REASON_TOKEN_INVALID;
	memset(&want, 0, sizeof(want));
	want.iss = pol->issuer;
	want.aud = pol->audience;
	want.now = now;
	want.skew = pol->skew;
	want.max_lifetime = CLAIMS_GATEWAY_LIFETIME;
	switch ((r = claims_check(c, &want))) {
	case 0:
		break;
	case VDI_ERR_TOKEN_EXPIRED:
		e = VDI_REASON_TOKEN_EXPIRED;
		goto out;
	case VDI_ERR_TOKEN_NOT_YET_VALID:
		e = VDI_REASON_TOKEN_NOT_YET_VALID;
		goto out;
	case VDI_ERR_TOKEN_AUDIENCE:
		e = VDI_REASON_TOKEN_WRONG_AUDIENCE;
		goto out;
	default:
		/* a wrong issuer is reported as a claim error by claims.c */
		e = VDI_REASON_TOKEN_INVALID_CLAIMS;
		goto out;
	}
	if (claims_check_cnf(c, x5t) != 0) {
		e = VDI_REASON_TOKEN_WRONG_DEVICE;
		goto out;
	}
	if (copy_claim(c, "sub", out->sub, sizeof(out->sub)) ||
	    copy_claim(c, "tid", out->tid, sizeof(out->tid)) ||
	    copy_claim(c, "sid", out->sid, sizeof(out->sid)) ||
	    copy_claim(c, "jti", out->jti, sizeof(out->jti)) ||
	    copy_claim(c, "dst", dst, sizeof(dst)) ||
	    cfg_parse_hostport(dst, out->dst_host, sizeof(out->dst_host),
		&out->dst_port) != 0 ||
	    out->dst_port == 0 || claims_get_string(c, "sec", &s) != 0 ||
	    (strcmp(s, "tls") != 0 && strcmp(s, "nla") != 0) ||
	    parse_channels(c, &out->channels) != 0 ||
	    claims_get_int(c, "idle", &idle) != 0 || idle > 86400 * 7 ||
	    claims_get_int(c, "iat", &out->iat) != 0 ||
	    claims_get_int(c, "exp", &out->exp) != 0)
		goto out;
	out->nla = strcmp(s, "nla") == 0;
	out->idle = (unsigned int)idle;
	if (json_object_get(c, "dpin") != NULL) {
		if (claims_get_string(c, "dpin", &s) != 0 ||
		    b64url_decode(
			s, strlen(s), out->pin, sizeof(out->pin), &n) != 0 ||
		    n != sizeof(out->pin))
			goto out;
		out->has_pin = 1;
	}
	if (json_object_get(c, "cred") != NULL &&
	    copy_claim(c, "cred", out->cred, sizeof(out->cred)) != 0)
		goto out;
	if (json_object_get(c, "mxs") != NULL &&
	    (claims_get_int(c, "mxs", &out->deadline) != 0 ||
		out->deadline > CLAIMS_TIME_MAX))
		goto out;
	if (out->deadline != 0 && now >= out->deadline) {
		e = VDI_REASON_MAX_SESSION;
		goto out;
	}
	/* Last: burn the id only for a token that is otherwise good. */
	switch (replay_use(
	    rc, out->jti, strlen(out->jti), out->exp + pol->skew, now)) {
	case 0:
		e = VDI_REASON_OK;
		break;
	case VDI_ERR_EXISTS:
		e = VDI_REASON_TOKEN_REPLAYED;
		break;
	case VDI_ERR_TOO_LARGE:
		e = VDI_REASON_BUSY;
		break;
	default:
		e = VDI_REASON_TOKEN_INVALID_CLAIMS;
		break;
	}
out:
	json_decref(c);
	if (e != VDI_REASON_OK)
		OPENSSL_cleanse(out, sizeof(*out));
	return e;
}
