/*
 * monitor_sign.c: the monitor's keys at work: it signs login tokens only
 * for logins its own PAM children reported as successful, reconnect tokens
 * only for sessions whose grant it made itself, and seals credentials
 * (see privsep_int.h and docs/privsep.md).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "b64url.h"
#include "jws.h"
#include "privsep_int.h"
#include "seal.h"
#include "vlog.h"

/* The monitor signs only short-lived tokens, whatever a worker taken over
 * may ask: exp - iat <= token_lifetime and iat close to now. */
static int
check_lifetime(const struct monitor *mon, const json_t *claims)
{
	json_t *iat = json_object_get(claims, "iat");
	json_t *exp = json_object_get(claims, "exp");
	json_int_t i, e, now = (json_int_t)time(NULL);

	if (!json_is_integer(iat) || !json_is_integer(exp))
		return VDI_ERR_TOKEN_CLAIM;
	i = json_integer_value(iat);
	e = json_integer_value(exp);
	if (i < 0 || e <= i || e - i > (json_int_t)mon->token_lifetime ||
	    i > now + (json_int_t)mon->clock_skew ||
	    i < now - (json_int_t)mon->clock_skew)
		return VDI_ERR_TOKEN_CLAIM;
	return 0;
}

/* A string claim, or NULL. */
static const char *
claim_str(const json_t *claims, const char *key)
{
	json_t *v = json_object_get(claims, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* The claims a grant binds: all present strings, or VDI_ERR_TOKEN_CLAIM. */
struct bound {
	const char *sid, *sub, *tid, *x5t, *dst;
};

static int
bound_claims(const json_t *claims, struct bound *b)
{
	b->sid = claim_str(claims, "sid");
	b->sub = claim_str(claims, "sub");
	b->tid = claim_str(claims, "tid");
	b->dst = claim_str(claims, "dst");
	b->x5t = claim_str(json_object_get(claims, "cnf"), "x5t#S256");
	if (b->sid == NULL || b->sub == NULL || b->tid == NULL ||
	    b->dst == NULL || b->x5t == NULL || b->sid[0] == '\0' ||
	    b->dst[0] == '\0')
		return VDI_ERR_TOKEN_CLAIM;
	return 0;
}

static int
put_bound(struct vbuf *v, const char *s)
{
	size_t n = strlen(s);
	int r;

	if (n > 512)
		return VDI_ERR_TOO_LARGE;
	if ((r = vbuf_put_u32be(v, (uint32_t)n)) != 0)
		return r;
	return vbuf_put(v, s, n);
}

/* The signing input of a grant: GRANT_DOMAIN NUL, then sid, sub, tid,
 * x5t, dst (u32be length + bytes each) and the login time (u32be high,
 * u32be low). */
static int
grant_input(const struct bound *b, int64_t lat, struct vbuf *v)
{
	int r;

	if ((r = vbuf_put(v, GRANT_DOMAIN, sizeof(GRANT_DOMAIN))) != 0 ||
	    (r = put_bound(v, b->sid)) != 0 ||
	    (r = put_bound(v, b->sub)) != 0 ||
	    (r = put_bound(v, b->tid)) != 0 ||
	    (r = put_bound(v, b->x5t)) != 0 ||
	    (r = put_bound(v, b->dst)) != 0 ||
	    (r = vbuf_put_u32be(v, (uint32_t)((uint64_t)lat >> 32))) != 0)
		return r;
	return vbuf_put_u32be(v, (uint32_t)lat);
}

/* Makes the grant "g1.<lat>.<base64url signature>" for b at login time
 * lat into out (PAMMSG_GRANT_MAX + 1 bytes). */
static int
grant_make(const struct monitor *mon, const struct bound *b, int64_t lat,
    char *out, size_t outlen)
{
	unsigned char sig[JWS_SIG_LEN];
	char s64[100];
	struct vbuf *v;
	int r;

	if ((v = vbuf_new(GRANT_INPUT_MAX)) == NULL)
		return VDI_ERR_ALLOC;
	if ((r = grant_input(b, lat, v)) == 0 &&
	    (r = jws_sign_input(
		 mon->sign_key, vbuf_ptr(v), vbuf_len(v), sig)) == 0 &&
	    (r = b64url_encode(sig, sizeof(sig), s64, sizeof(s64))) == 0 &&
	    (size_t)snprintf(out, outlen, "%s%lld.%s", GRANT_PREFIX,
		(long long)lat, s64) >= outlen)
		r = VDI_ERR_TOO_LARGE;
	vbuf_free(v);
	return r;
}

/* Checks that grant is the monitor's own for exactly b, and not older than
 * grant_lifetime. Returns 0, VDI_ERR_BAD_FORMAT, VDI_ERR_JWS_SIGNATURE or
 * VDI_ERR_TOKEN_EXPIRED; *why names the refusal for the log. */
static int
grant_check(const struct monitor *mon, const struct bound *b, const char *grant,
    const char **why)
{
	unsigned char sig[JWS_SIG_LEN + 4];
	const char *p = grant + strlen(GRANT_PREFIX), *dot;
	int64_t lat = 0, now = (int64_t)time(NULL);
	struct vbuf *v;
	size_t n = 0;
	int r;

	*why = "bad_grant";
	if (strncmp(grant, GRANT_PREFIX, strlen(GRANT_PREFIX)) != 0 ||
	    (dot = strchr(p, '.')) == NULL || dot == p || dot - p > 12)
		return VDI_ERR_BAD_FORMAT;
	for (; p < dot; p++) {
		if (*p < '0' || *p > '9')
			return VDI_ERR_BAD_FORMAT;
		lat = lat * 10 + (*p - '0');
	}
	if (b64url_decode(dot + 1, strlen(dot + 1), sig, sizeof(sig), &n) !=
		0 ||
	    n != JWS_SIG_LEN)
		return VDI_ERR_BAD_FORMAT;
	if ((v = vbuf_new(GRANT_INPUT_MAX)) == NULL)
		return VDI_ERR_ALLOC;
	r = grant_input(b, lat, v);
	if (r == 0 &&
	    jws_verify_input(mon->sign_key, vbuf_ptr(v), vbuf_len(v), sig,
		JWS_SIG_LEN) != 0) {
		*why = "grant_mismatch";
		r = VDI_ERR_JWS_SIGNATURE;
	}
	vbuf_free(v);
	if (r == 0 &&
	    (lat > now + (int64_t)mon->clock_skew ||
		now - lat > (int64_t)mon->grant_lifetime)) {
		*why = "grant_expired";
		r = VDI_ERR_TOKEN_EXPIRED;
	}
	return r;
}

/* LOGIN: ref names a conversation this monitor started, whose PAM child
 * reported success to the monitor within the login window, for the very
 * user, tenant and device the claims name. One signature per login. */
static int
sign_login_check(struct monitor *mon, const struct pammsg *req,
    const struct bound *b, const char **why)
{
	struct mon_login *l;

	if ((l = mon_login_done(mon, req->u.sign.ref)) == NULL) {
		*why = "unknown_login";
		return VDI_ERR_DENIED;
	}
	if (l->status != PAMMSG_STATUS_OK) {
		*why = "login_not_successful";
		mon_login_clear(l);
		return VDI_ERR_DENIED;
	}
	if (strcmp(l->user, b->sub) != 0) {
		*why = "sub_mismatch";
		return VDI_ERR_DENIED;
	}
	if (strcmp(l->tenant, b->tid) != 0) {
		*why = "tid_mismatch";
		return VDI_ERR_DENIED;
	}
	if (strcmp(l->device, b->x5t) != 0) {
		*why = "cnf_mismatch";
		return VDI_ERR_DENIED;
	}
	/* Used up: a second grant needs a second login. */
	mon_login_clear(l);
	return 0;
}

int
monitor_sign(struct monitor *mon, const struct pammsg *req, struct pammsg *rep)
{
	json_error_t jerr;
	json_t *claims = NULL;
	struct bound b;
	const char *why = NULL, *kind;
	char *token = NULL, qsub[300], qjti[100], qwhy[100];
	int r;

	kind = req->u.sign.kind == PAMMSG_SIGN_LOGIN ? "login" : "reconnect";
	if (mon->sign_key == NULL)
		return VDI_ERR_NOT_FOUND;
	claims = json_loadb(
	    req->u.sign.claims, req->u.sign.len, JSON_REJECT_DUPLICATES, &jerr);
	if (claims == NULL || !json_is_object(claims)) {
		r = VDI_ERR_JSON;
		goto out;
	}
	vlog_quote(
	    claim_str(claims, "sub") != NULL ? claim_str(claims, "sub") : "-",
	    qsub, sizeof(qsub));
	vlog_quote(
	    claim_str(claims, "jti") != NULL ? claim_str(claims, "jti") : "-",
	    qjti, sizeof(qjti));
	if ((r = check_lifetime(mon, claims)) != 0) {
		why = "lifetime";
		goto out;
	}
	if ((r = bound_claims(claims, &b)) != 0) {
		why = "claims_missing";
		goto out;
	}
	rep->type = PAMMSG_TOKEN;
	if (req->u.sign.kind == PAMMSG_SIGN_LOGIN) {
		if ((r = sign_login_check(mon, req, &b, &why)) != 0)
			goto out;
		if ((r = grant_make(mon, &b, (int64_t)time(NULL),
			 rep->u.token.grant, sizeof(rep->u.token.grant))) != 0)
			goto out;
	} else if ((r = grant_check(mon, &b, req->u.sign.ref, &why)) != 0) {
		r = VDI_ERR_DENIED;
		goto out;
	}
	if ((r = jws_sign(mon->sign_key, claims, &token)) != 0)
		goto out;
	if (strlen(token) > PAMMSG_TOKEN_MAX) {
		r = VDI_ERR_TOO_LARGE;
		goto out;
	}
	memcpy(rep->u.token.token, token, strlen(token) + 1);
	vlog(VLOG_INFO, "privsep_sign", "kind=%s sub=%s jti=%s exp=%lld", kind,
	    qsub, qjti,
	    (long long)json_integer_value(json_object_get(claims, "exp")));
out:
	if (r != 0 && why != NULL)
		vlog(VLOG_WARNING, "privsep_sign_refused",
		    "kind=%s sub=%s jti=%s reason=%s", kind, qsub, qjti,
		    vlog_quote(why, qwhy, sizeof(qwhy)));
	free(token);
	json_decref(claims);
	return r;
}

int
monitor_seal(struct monitor *mon, const struct pammsg *req, struct pammsg *rep)
{
	int r;

	if (!mon->have_seal_key)
		return VDI_ERR_NOT_FOUND;
	rep->type = PAMMSG_SEALED;
	if ((r = seal_close(mon->seal_key, req->u.seal.plain,
		 req->u.seal.plain_len, req->u.seal.aad, req->u.seal.aad_len,
		 rep->u.sealed.sealed, sizeof(rep->u.sealed.sealed))) != 0)
		return r;
	vlog(VLOG_DEBUG, "privsep_seal", "bytes=%zu", req->u.seal.plain_len);
	return 0;
}
