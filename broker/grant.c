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
		return 403;
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
		return 403;
	}
	if (store_device_seen(b->store, peer->ca_name, peer->thumb_hex,
		peer->subject, now, &sd) != 0) {
		*code = "store_unavailable";
		snprintf(msg, msglen,
		    "the broker cannot write its state store; try again later");
		return 503;
	}
	if (sd.revoked_at != 0) {
		*code = "device_revoked";
		snprintf(msg, msglen, "this device was revoked by %s: %s",
		    sd.revoked_by, sd.revoke_reason);
		return 403;
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

/*
 * One grant, run inside one store transaction (grant_txn). Everything it
 * writes (the device seen, the session and its assignment, sealed
 * credentials, tickets, audit rows) commits together or not at all: a
 * failure after the assignment leaves no live session without a token.
 * What must happen only once the transaction is on disk (the reply, cuts
 * sent to the gateways, counters) is left here for grant() to do.
 */
struct grant_run {
	struct broker *b;
	const struct grant_req *g;
	struct policy *p;
	const char *const *groups;
	size_t ngroups;
	int64_t now;
	int status;       /* HTTP status of the answer */
	const char *code; /* error code; on rollback: what failed */
	char msg[400];
	json_t *reply; /* 200: the grant */
	int fail;      /* login_failures index to count, or -1 */
	char sid[STORE_ID_MAX];
	char jti[64];
	int reused, takeover;
	int replaces; /* a login into a running session: its tickets void */
	int monitor_refused; /* the monitor would not sign (rolled back) */
};

/* A refusal to answer once committed (its audit row is part of it). */
static int
refused(struct grant_run *run, int status, const char *code, const char *msg,
    int fail)
{
	run->status = status;
	run->code = code;
	snprintf(run->msg, sizeof(run->msg), "%s", msg);
	run->fail = fail;
	return 0;
}

/* An internal failure: the transaction is rolled back. */
static int
failed(struct grant_run *run, const char *what, int r)
{
	run->status = 500;
	run->code = "internal_error";
	snprintf(run->msg, sizeof(run->msg), "%s", what);
	run->fail = LOGIN_FAIL_INTERNAL;
	return r != 0 ? r : VDI_ERR_IO;
}

static int
grant_txn(struct store *st, void *arg)
{
	struct grant_run *run = arg;
	struct broker *b = run->b;
	const struct grant_req *g = run->g;
	struct policy_device dev;
	struct policy_request pr;
	struct policy_decision d;
	struct assign_request ar;
	struct assign_result res;
	struct token_params tp;
	const struct bconf_gateway *gw;
	char sid[TOKEN_ID_HEX], ticket[TOKEN_TICKET_SIZE] = "";
	char thash[TOKEN_HASH_HEX], msg[400], kv[600], chbuf[64];
	char mgrant[PRIVSEP_GRANT_SIZE];
	char *token = NULL, *cred = NULL;
	const char *code, *jti = NULL;
	json_t *claims = NULL, *detail;
	int64_t now = run->now;
	int rc;

	memset(&res, 0, sizeof(res));
	if ((rc = grant_device_check(
		 b, g->peer, &dev, &code, msg, sizeof(msg))) != 0) {
		broker_audit(b, "broker", g->action, "refused", g->tenant,
		    g->user, g->peer->thumb_hex, g->session_id, code, NULL);
		return refused(run, rc, code, msg, LOGIN_FAIL_DEVICE);
	}
	memset(&pr, 0, sizeof(pr));
	pr.tenant = g->tenant;
	pr.user = g->user;
	pr.groups = run->groups;
	pr.ngroups = run->ngroups;
	pr.device_class = dev.device_class;
	pr.from = g->peer->have_from ? &g->peer->from : NULL;
	pr.now = now;
	pr.mode = broker_tenant_mode(b, g->tenant);
	if ((rc = policy_evaluate(run->p, &pr, &d, NULL, NULL)) != 0)
		return failed(run, "policy failed", rc);
	(void)!policy_decision_format_kv(&d, kv, sizeof(kv));
	if (d.verdict != POLICY_ALLOW) {
		code = deny_code(d.reason);
		vlog(VLOG_NOTICE, "policy_denied",
		    "user=%s device=%s from=%s %s", VLOG_Q(g->user),
		    g->peer->thumb_hex, g->peer->addr, kv);
		detail = json_pack(
		    "{s:s, s:s}", "from", g->peer->addr, "policy", kv);
		broker_audit(b, "broker", g->action, "refused", g->tenant,
		    g->user, g->peer->thumb_hex, g->session_id, code, detail);
		json_decref(detail);
		return refused(run, 403, code, policy_reason_str(d.reason),
		    LOGIN_FAIL_POLICY);
	}
	if ((rc = token_random_id(sid)) != 0)
		return failed(run, "no randomness", rc);
	memset(&ar, 0, sizeof(ar));
	ar.tenant = g->tenant;
	ar.user = g->user;
	ar.device = g->peer->thumb_hex;
	ar.decision = &d;
	ar.session_id = sid;
	ar.reconnect_session = g->session_id;
	ar.now = now;
	rc = assign_desktop(st, run->p, &ar, &res);
	if (rc == 0 && g->session_id != NULL &&
	    strcmp(res.session.id, g->session_id) != 0) {
		/* A ticket only ever brings its own session back. */
		broker_store_failed("session_state", res.session.id,
		    store_session_set_state(st, res.session.id,
			STORE_SESSION_ENDED, "reconnect_mismatch", now));
		rc = VDI_ERR_NOT_FOUND;
		snprintf(res.reason, sizeof(res.reason),
		    "the ticket's session is no longer live");
	}
	if (rc == VDI_ERR_DENIED || rc == VDI_ERR_NOT_FOUND) {
		code = rc == VDI_ERR_DENIED ? "session_not_allowed_here"
					    : "no_desktop";
		broker_audit(b, "broker", g->action, "refused", g->tenant,
		    g->user, g->peer->thumb_hex, g->session_id, code, NULL);
		vlog(VLOG_NOTICE, "assign_failed", "user=%s code=%s reason=%s",
		    VLOG_Q(g->user), code, VLOG_Q(res.reason));
		return refused(run, rc == VDI_ERR_DENIED ? 403 : 503, code,
		    res.reason[0] ? res.reason : vdi_strerror(rc),
		    rc == VDI_ERR_NOT_FOUND ? LOGIN_FAIL_NO_DESKTOP
					    : LOGIN_FAIL_INTERNAL);
	}
	if (rc != 0)
		return failed(run, "cannot assign a desktop", rc);
	gw = pick_gateway(b);

	/* Single sign-on: credentials sealed for the gateways only, bound to
	 * the session (AAD = session id) so that a reconnect can reuse them
	 * without the broker ever keeping the password. */
	if (g->password != NULL && b->conf.seal_key[0] != '\0') {
		if ((rc = seal_credentials(b, g->user, g->password,
			 g->password_len, res.session.id, &cred)) != 0 ||
		    (rc = store_session_set_cred(st, res.session.id, cred)) !=
			0) {
			failed(run, "cannot seal credentials", rc);
			goto out;
		}
	} else if (b->conf.seal_key[0] != '\0') {
		char stored[PAMMSG_SEALED_MAX + 1];

		if (store_session_get_cred(
			st, res.session.id, stored, sizeof(stored)) == 0)
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
	/* The monitor signs a login only for the user its PAM child saw
	 * succeed, and a reconnect only for a session whose login it signed
	 * (the grant it returned then, kept with the session). */
	mgrant[0] = '\0';
	if ((rc = token_gateway_claims(&tp, &claims)) != 0)
		;
	else if (g->login_id != NULL) {
		if ((rc = privsep_sign_login(
			 b->ps, g->login_id, claims, &token, mgrant)) == 0)
			rc =
			    store_session_set_grant(st, res.session.id, mgrant);
	} else if ((rc = store_session_get_grant(
			st, res.session.id, mgrant, sizeof(mgrant))) == 0)
		rc = privsep_sign_reconnect(b->ps, mgrant, claims, &token);
	if (rc == VDI_ERR_DENIED ||
	    (rc == VDI_ERR_NOT_FOUND && g->login_id == NULL)) {
		/* No grant for this session (e.g. from before grants were
		 * kept), or the monitor refused: a login is needed. Rolled
		 * back, audited by grant() after that. */
		run->monitor_refused = 1;
		run->status = 401;
		run->code = "ticket_invalid";
		snprintf(run->msg, sizeof(run->msg), "%s",
		    "this session cannot be resumed without a login: log in");
		rc = VDI_ERR_DENIED;
		goto out;
	}
	if (rc != 0) {
		failed(run, "cannot sign token", rc);
		goto out;
	}
	jti = json_string_value(json_object_get(claims, "jti"));

	/* The newest login wins: a login into a running session (from
	 * another device, or a second program on this one) voids every
	 * ticket the session had, so the older program is told "replaced"
	 * when it comes back instead of taking the session back with its
	 * ticket and cutting this one (docs/architecture.md). A ticket
	 * reconnect continues its own login's line of tickets. */
	run->replaces =
	    res.how == ASSIGN_REUSED && (g->session_id == NULL || res.takeover);
	if (run->replaces &&
	    (rc = store_ticket_replace_session(st, res.session.id)) != 0) {
		failed(run, "store failed", rc);
		goto out;
	}
	if (d.limits.reconnect_ticket && !d.limits.shared_device) {
		if ((rc = token_ticket_new(ticket, thash)) != 0 ||
		    (rc = store_ticket_put(st, thash, res.session.id,
			 g->peer->thumb_hex, now + d.limits.reconnect_window,
			 now)) != 0) {
			failed(run, "cannot store ticket", rc);
			goto out;
		}
	}

	if (res.takeover) {
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
	rc = broker_audit(b, "user", g->action, "ok", g->tenant, g->user,
	    g->peer->thumb_hex, res.session.id, assign_how_name(res.how),
	    detail);
	json_decref(detail);
	if (rc != 0) {
		failed(run, "cannot write the audit log", rc);
		goto out;
	}

	run->reply = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s,"
			       " s:i, s:i, s:s, s:b}",
	    "state", "ok", "user", g->user, "tenant", g->tenant, "session",
	    res.session.id, "desktop", res.desktop->name, "pool",
	    policy_pool_name(res.pool), "how", assign_how_name(res.how),
	    "gateway", gw->address, "token", token, "idle_disconnect",
	    (json_int_t)d.limits.idle_disconnect, "reconnect_window",
	    (json_int_t)d.limits.reconnect_window, "channels",
	    policy_channels_format(d.channels, chbuf, sizeof(chbuf)),
	    "shared_device", d.limits.shared_device);
	if (run->reply == NULL) {
		failed(run, "out of memory", VDI_ERR_ALLOC);
		goto out;
	}
	if (ticket[0] != '\0') {
		json_object_set_new(run->reply, "ticket", json_string(ticket));
		json_object_set_new(run->reply, "ticket_expires",
		    json_integer(now + d.limits.reconnect_window));
	}
	run->status = 200;
	snprintf(run->sid, sizeof(run->sid), "%s", res.session.id);
	snprintf(run->jti, sizeof(run->jti), "%s", jti != NULL ? jti : "");
	run->reused = res.how == ASSIGN_REUSED;
	run->takeover = res.takeover;
	rc = 0;
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
	return run->status == 200 ? 0 : (rc != 0 ? rc : VDI_ERR_IO);
}

void
grant(struct broker *b, struct evhttp_request *req, const struct grant_req *g,
    double t0)
{
	struct grant_run run;
	char **groups;
	int rc;

	memset(&run, 0, sizeof(run));
	run.b = b;
	run.g = g;
	run.p = policy_ref(b->policy);
	run.now = broker_now();
	run.fail = -1;
	/* NSS (getgrouplist) blocks this loop for as long as its backend
	 * takes (LDAP...): ask only when some rule names groups. */
	groups = policy_uses_groups(run.p)
	    ? grant_user_groups(g->user, &run.ngroups)
	    : NULL;
	run.groups = (const char *const *)groups;
	rc = store_txn(b->store, grant_txn, &run);
	if (rc != 0 && run.status == 0)
		failed(&run, "state store unavailable", rc);
	if (rc != 0 && run.monitor_refused) {
		/* Rolled back; audited now, outside the transaction
		 * (broker_audit logs its own store failure). */
		broker_audit(b, "broker", g->action, "refused", g->tenant,
		    g->user, g->peer->thumb_hex, g->session_id,
		    "monitor_refused", NULL);
		json_decref(run.reply);
		run.reply = NULL;
	} else if (rc != 0) {
		/* Rolled back: nothing of this grant is left in the store. */
		vlog(VLOG_ERROR, "grant_failed",
		    "user=%s device=%s action=%s what=%s error=%s",
		    VLOG_Q(g->user), g->peer->thumb_hex, g->action,
		    VLOG_Q(run.msg), vdi_errname(rc));
		broker_audit(b, "broker", g->action, "error", g->tenant,
		    g->user, g->peer->thumb_hex, g->session_id, run.msg, NULL);
		json_decref(run.reply);
		run.reply = NULL;
	}
	if (run.fail >= 0)
		bm_inc(BM_LOGIN_FAILED + run.fail);
	if (run.status != 200) {
		http_error(b, req, run.status, run.code, run.msg, t0);
		goto out;
	}
	/* Committed: now the gateways may hear of it. Any older tunnel of
	 * this session (other device, or a dead link of this one) is cut:
	 * one live tunnel per session. */
	if (run.reused)
		broker_cut_session_except(b, run.sid, run.jti,
		    run.takeover       ? "takeover"
			: run.replaces ? "replaced"
				       : "reconnect");
	if (run.takeover)
		bm_inc(BM_TAKEOVER);
	if (strcmp(g->action, "reconnect") == 0)
		bm_inc(BM_RECONNECT_OK);
	else
		bm_inc(BM_LOGIN_OK);
	http_reply(b, req, 200, run.reply, t0);
out:
	free(groups);
	policy_unref(run.p);
}
