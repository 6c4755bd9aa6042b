/* grant.c: device check, policy, assignment, token and ticket (grant.h). */
#include "config.h"

#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "assign.h"
#include "grant.h"
#include "http.h"
#include "privsep.h"
#include "token.h"
#include "vlog.h"

#define GROUPS_MAX 256

char **
grant_user_groups(const char *user, size_t *n)
{
	struct passwd pw, *pwp = NULL;
	struct group gr, *grp = NULL;
	gid_t gids[GROUPS_MAX];
	int ng = GROUPS_MAX, i;
	char buf[16384], gbuf[16384];
	char *names[GROUPS_MAX];
	size_t total = 0, k = 0, off;
	char **out;

	*n = 0;
	if (getpwnam_r(user, &pw, buf, sizeof(buf), &pwp) != 0 || pwp == NULL)
		ng = 0;
	else if (getgrouplist(user, pw.pw_gid, gids, &ng) < 0)
		ng = GROUPS_MAX; /* truncated list: use what fits */
	for (i = 0; i < ng && k < GROUPS_MAX; i++) {
		if (getgrgid_r(gids[i], &gr, gbuf, sizeof(gbuf), &grp) != 0 ||
		    grp == NULL)
			continue;
		if ((names[k] = strdup(gr.gr_name)) == NULL)
			break;
		total += strlen(names[k]) + 1;
		k++;
	}
	/* One block: the pointer array, then the strings. */
	if ((out = malloc((k + 1) * sizeof(char *) + total + 1)) == NULL) {
		while (k > 0)
			free(names[--k]);
		return NULL;
	}
	off = (k + 1) * sizeof(char *);
	for (i = 0; (size_t)i < k; i++) {
		out[i] = (char *)out + off;
		memcpy(out[i], names[i], strlen(names[i]) + 1);
		off += strlen(names[i]) + 1;
		free(names[i]);
	}
	out[k] = NULL;
	*n = k;
	return out;
}

int
grant_device_check(struct broker *b, const struct broker_peer *peer,
    struct policy_device *dev, const char **code, char *msg, size_t msglen)
{
	struct store_device sd;
	int64_t now = broker_now();
	char q[600];

	*code = NULL;
	if (policy_identify(b->policy, peer->cert, now, dev) != 0) {
		*code = "device_refused";
		snprintf(msg, msglen, "the device certificate cannot be read");
		return -1;
	}
	switch (dev->status) {
	case POLICY_DEVICE_OK:
		break;
	case POLICY_DEVICE_EXPIRED:
		*code = "device_expired";
		break;
	case POLICY_DEVICE_NOT_YET_VALID:
		*code = "device_not_yet_valid";
		break;
	case POLICY_DEVICE_REVOKED:
		*code = "device_revoked";
		break;
	default:
		*code = "device_refused";
		break;
	}
	if (*code == NULL &&
	    strcmp(policy_tenant_name(dev->tenant), peer->ca_name) != 0) {
		*code = "device_refused";
		snprintf(dev->detail, sizeof(dev->detail),
		    "issued by %.60s, but policy places it in %.60s",
		    peer->ca_name, policy_tenant_name(dev->tenant));
	}
	if (*code != NULL) {
		snprintf(msg, msglen, "%s", dev->detail);
		vlog(VLOG_WARNING, "device_refused",
		    "device=%s tenant=%s code=%s reason=%s", peer->thumb_hex,
		    peer->ca_name, *code,
		    vlog_quote(dev->detail, q, sizeof(q)));
		return -1;
	}
	if (store_device_seen(b->store, peer->ca_name, peer->thumb_hex,
		peer->subject, now, &sd) != 0) {
		*code = "internal_error";
		snprintf(msg, msglen, "state store unavailable");
		return -1;
	}
	if (sd.revoked_at != 0) {
		*code = "device_revoked";
		snprintf(msg, msglen, "this device was revoked by %s: %s",
		    sd.revoked_by, sd.revoke_reason);
		return -1;
	}
	return 0;
}

static const char *
deny_code(enum policy_reason r)
{
	switch (r) {
	case POLICY_REASON_OUTSIDE_TIME:
		return "outside_hours";
	case POLICY_REASON_SITE:
	case POLICY_REASON_ZONE:
		return "network_not_allowed";
	case POLICY_REASON_DEVICE_CLASS:
		return "device_class_not_allowed";
	case POLICY_REASON_GROUP:
		return "user_not_allowed";
	case POLICY_REASON_UNKNOWN_MODE:
	case POLICY_REASON_UNKNOWN_TENANT:
		return "policy_error";
	default:
		return "policy_denied";
	}
}

/* Plaintext: user NUL password (no domain: desktops of one tenant share
 * theirs, configured on the desktop). */
static int
seal_credentials(struct broker *b, const char *user, const char *password,
    size_t password_len, const char *sid, char **sealed)
{
	unsigned char plain[PAMMSG_SEAL_PLAIN_MAX];
	size_t ul = strlen(user);
	int r;

	*sealed = NULL;
	if (ul + 1 + password_len > sizeof(plain))
		return VDI_ERR_TOO_LARGE;
	memcpy(plain, user, ul + 1);
	memcpy(plain + ul + 1, password, password_len);
	r = privsep_seal(b->ps, plain, ul + 1 + password_len, sid, sealed);
	OPENSSL_cleanse(plain, sizeof(plain));
	return r;
}

static const struct bconf_gateway *
pick_gateway(struct broker *b)
{
	const struct bconf_gateway *g;

	g = &b->conf.gateways[b->next_gateway % b->conf.ngateways];
	b->next_gateway++;
	return g;
}

void
grant(struct broker *b, struct evhttp_request *req, const struct grant_req *g,
    double t0)
{
	struct policy *p = policy_ref(b->policy);
	struct policy_device dev;
	struct policy_request pr;
	struct policy_decision d;
	struct assign_request ar;
	struct assign_result res;
	struct token_params tp;
	const struct bconf_gateway *gw;
	char sid[TOKEN_ID_HEX], ticket[TOKEN_TICKET_SIZE] = "";
	char thash[TOKEN_HASH_HEX], msg[400], kv[600], chbuf[64];
	char *token = NULL, *cred = NULL, **groups = NULL;
	const char *code, *jti = NULL;
	json_t *claims = NULL, *reply, *detail;
	int64_t now = broker_now();
	size_t ngroups = 0;
	int rc;

	memset(&res, 0, sizeof(res));
	if (grant_device_check(b, g->peer, &dev, &code, msg, sizeof(msg)) !=
	    0) {
		b->m.login_failures[LOGIN_FAIL_DEVICE]++;
		broker_audit(b, "broker", g->action, "refused", g->tenant,
		    g->user, g->peer->thumb_hex, g->session_id, code, NULL);
		http_error(b, req, 403, code, msg, t0);
		goto out;
	}
	groups = grant_user_groups(g->user, &ngroups);
	memset(&pr, 0, sizeof(pr));
	pr.tenant = g->tenant;
	pr.user = g->user;
	pr.groups = (const char *const *)groups;
	pr.ngroups = ngroups;
	pr.device_class = dev.device_class;
	pr.from = g->peer->have_from ? &g->peer->from : NULL;
	pr.now = now;
	pr.mode = broker_tenant_mode(b, g->tenant);
	if (policy_evaluate(p, &pr, &d, NULL, NULL) != 0) {
		http_error(b, req, 500, "internal_error", "policy failed", t0);
		goto out;
	}
	(void)!policy_decision_format_kv(&d, kv, sizeof(kv));
	if (d.verdict != POLICY_ALLOW) {
		b->m.login_failures[LOGIN_FAIL_POLICY]++;
		code = deny_code(d.reason);
		vlog(VLOG_NOTICE, "policy_denied",
		    "user=%s device=%s from=%s %s", g->user, g->peer->thumb_hex,
		    g->peer->addr, kv);
		detail = json_pack(
		    "{s:s, s:s}", "from", g->peer->addr, "policy", kv);
		broker_audit(b, "broker", g->action, "refused", g->tenant,
		    g->user, g->peer->thumb_hex, g->session_id, code, detail);
		json_decref(detail);
		http_error(b, req, 403, code, policy_reason_str(d.reason), t0);
		goto out;
	}
	if (token_random_id(sid) != 0) {
		http_error(b, req, 500, "internal_error", "no randomness", t0);
		goto out;
	}
	memset(&ar, 0, sizeof(ar));
	ar.tenant = g->tenant;
	ar.user = g->user;
	ar.device = g->peer->thumb_hex;
	ar.decision = &d;
	ar.session_id = sid;
	ar.reconnect_session = g->session_id;
	ar.now = now;
	rc = assign_desktop(b->store, p, &ar, &res);
	if (rc == 0 && g->session_id != NULL &&
	    strcmp(res.session.id, g->session_id) != 0) {
		/* A ticket only ever brings its own session back. */
		(void)!store_session_set_state(b->store, res.session.id,
		    STORE_SESSION_ENDED, "reconnect_mismatch", now);
		rc = VDI_ERR_NOT_FOUND;
		snprintf(res.reason, sizeof(res.reason),
		    "the ticket's session is no longer live");
	}
	if (rc != 0) {
		int http = rc == VDI_ERR_DENIED ? 403 : 503;

		code = rc == VDI_ERR_DENIED   ? "session_not_allowed_here"
		    : rc == VDI_ERR_NOT_FOUND ? "no_desktop"
					      : "internal_error";
		b->m.login_failures[rc == VDI_ERR_NOT_FOUND
			? LOGIN_FAIL_NO_DESKTOP
			: LOGIN_FAIL_INTERNAL]++;
		broker_audit(b, "broker", g->action, "refused", g->tenant,
		    g->user, g->peer->thumb_hex, g->session_id, code, NULL);
		vlog(VLOG_NOTICE, "assign_failed", "user=%s code=%s reason=%s",
		    g->user, code, vlog_quote(res.reason, msg, sizeof(msg)));
		http_error(b, req, rc == VDI_ERR_NOT_FOUND ? 503 : http, code,
		    res.reason[0] ? res.reason : vdi_strerror(rc), t0);
		goto out;
	}
	gw = pick_gateway(b);

	/* Single sign-on: credentials sealed for the gateways only, bound to
	 * the session (AAD = session id) so that a reconnect can reuse them
	 * without the broker ever keeping the password. */
	if (g->password != NULL && b->conf.seal_key[0] != '\0') {
		if (seal_credentials(b, g->user, g->password, g->password_len,
			res.session.id, &cred) != 0 ||
		    store_session_set_cred(b->store, res.session.id, cred) !=
			0) {
			http_error(b, req, 500, "internal_error",
			    "cannot seal credentials", t0);
			goto out;
		}
	} else if (b->conf.seal_key[0] != '\0') {
		char stored[PAMMSG_SEALED_MAX + 1];

		if (store_session_get_cred(
			b->store, res.session.id, stored, sizeof(stored)) == 0)
			cred = strdup(stored);
		OPENSSL_cleanse(stored, sizeof(stored));
	}

	memset(&tp, 0, sizeof(tp));
	tp.issuer = b->conf.issuer;
	tp.audience = b->conf.audience;
	tp.now = now;
	tp.lifetime = b->conf.token_lifetime;
	tp.user = g->user;
	tp.tenant = g->tenant;
	tp.session_id = res.session.id;
	tp.desktop_host = res.desktop->host;
	tp.desktop_port = res.desktop->port;
	tp.pin = res.desktop->has_pin ? res.desktop->pin : NULL;
	tp.security = res.desktop->security == POLICY_SEC_NLA ? "nla" : "tls";
	tp.channels = d.channels;
	tp.idle = d.limits.idle_disconnect;
	tp.deadline = res.session.deadline;
	tp.device_x5t = g->peer->thumb_b64;
	tp.cred = cred;
	if (token_gateway_claims(&tp, &claims) != 0 ||
	    privsep_sign(b->ps, claims, &token) != 0) {
		http_error(
		    b, req, 500, "internal_error", "cannot sign token", t0);
		goto out;
	}
	jti = json_string_value(json_object_get(claims, "jti"));

	/* A takeover leaves the old device nothing to come back with. */
	if (res.takeover &&
	    store_ticket_revoke_session(b->store, res.session.id) != 0) {
		http_error(b, req, 500, "internal_error", "store failed", t0);
		goto out;
	}
	if (d.limits.reconnect_ticket && !d.limits.shared_device) {
		if (token_ticket_new(ticket, thash) != 0 ||
		    store_ticket_put(b->store, thash, res.session.id,
			g->peer->thumb_hex, now + d.limits.reconnect_window,
			now) != 0) {
			http_error(b, req, 500, "internal_error",
			    "cannot store ticket", t0);
			goto out;
		}
	}
	/* Any older tunnel of this session (other device, or a dead link of
	 * this one) is cut: one live tunnel per session. */
	if (res.how == ASSIGN_REUSED)
		broker_cut_session_except(b, res.session.id, jti,
		    res.takeover ? "takeover" : "reconnect");

	if (res.takeover) {
		b->m.takeovers++;
		detail =
		    json_pack("{s:s}", "previous_device", res.previous_device);
		broker_audit(b, "user", "takeover", "ok", g->tenant, g->user,
		    g->peer->thumb_hex, res.session.id, "new device", detail);
		json_decref(detail);
	}
	detail = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:b}", "pool",
	    policy_pool_name(res.pool), "desktop", res.desktop->name, "how",
	    assign_how_name(res.how), "gateway", gw->name, "from",
	    g->peer->addr, "policy", kv, "ticket", ticket[0] != '\0');
	broker_audit(b, "user", g->action, "ok", g->tenant, g->user,
	    g->peer->thumb_hex, res.session.id, assign_how_name(res.how),
	    detail);
	json_decref(detail);
	if (strcmp(g->action, "reconnect") == 0)
		b->m.reconnects_ok++;
	else
		b->m.logins_ok++;

	reply = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s,"
			  " s:i, s:i, s:s, s:b}",
	    "state", "ok", "user", g->user, "tenant", g->tenant, "session",
	    res.session.id, "desktop", res.desktop->name, "pool",
	    policy_pool_name(res.pool), "how", assign_how_name(res.how),
	    "gateway", gw->address, "token", token, "idle_disconnect",
	    (json_int_t)d.limits.idle_disconnect, "reconnect_window",
	    (json_int_t)d.limits.reconnect_window, "channels",
	    policy_channels_format(d.channels, chbuf, sizeof(chbuf)),
	    "shared_device", d.limits.shared_device);
	if (reply != NULL && ticket[0] != '\0') {
		json_object_set_new(reply, "ticket", json_string(ticket));
		json_object_set_new(reply, "ticket_expires",
		    json_integer(now + d.limits.reconnect_window));
	}
	http_reply(b, req, 200, reply, t0);
out:
	OPENSSL_cleanse(ticket, sizeof(ticket));
	if (token != NULL) {
		OPENSSL_cleanse(token, strlen(token));
		free(token);
	}
	if (cred != NULL) {
		OPENSSL_cleanse(cred, strlen(cred));
		free(cred);
	}
	json_decref(claims);
	free(groups);
	policy_unref(p);
}
