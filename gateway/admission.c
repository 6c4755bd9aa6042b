/*
 * admission.c: the token and admission step of a tunnel (one per role,
 * see gateway.h). The front request's token is checked against the
 * device certificate's SHA-256 (gw_token_check, replay cache), its dst
 * against the loaded policy, the gateway's max_sessions, the broker's
 * held cuts (registry_admit) and the desktop leg's securities; sealed
 * credentials are opened by the key process. Then the desktop leg starts
 * (desktop.c). A refusal is answered by the front door (front_refuse).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "keyproc.h"
#include "httpstatus.h"
#include "session.h"
#include "trust.h"
#include "vlog.h"

/* Opens the sealed credentials ("user\0password", AAD = sid). Returns 0,
 * or -1 when they cannot be opened. */
static int
open_creds(struct session *s)
{
	unsigned char plain[SEAL_PLAIN_MAX];
	size_t len = 0, ul;
	int r;

	/* The key process opens them: this process has no seal key. */
	r = keyclient_unseal(s->adm.tok.cred, s->adm.tok.sid,
	    strlen(s->adm.tok.sid), plain, sizeof(plain), &len);
	OPENSSL_cleanse(s->adm.tok.cred, sizeof(s->adm.tok.cred));
	if (r != 0)
		return -1;
	ul = strnlen((const char *)plain, len);
	if (ul == 0 || ul >= len || ul >= sizeof(s->sso.user) ||
	    len - ul - 1 >= sizeof(s->sso.pass)) {
		OPENSSL_cleanse(plain, sizeof(plain));
		return -1;
	}
	memcpy(s->sso.user, plain, ul);
	s->sso.user[ul] = '\0';
	memcpy(s->sso.pass, plain + ul + 1, len - ul - 1);
	s->sso.pass[len - ul - 1] = '\0';
	OPENSSL_cleanse(plain, sizeof(plain));
	if (strlen(s->sso.pass) != len - ul - 1) {
		OPENSSL_cleanse(s->sso.pass, sizeof(s->sso.pass));
		return -1;
	}
	s->sso.creds.domain = "";
	s->sso.creds.user = s->sso.user;
	s->sso.creds.password = s->sso.pass;
	s->sso.has = 1;
	return 0;
}

/* A token's dst must be a desktop of a pool of its tenant in the policy
 * this gateway loaded: even a token signed by the broker's key (a broker
 * taken over, a key stolen) cannot point the gateway anywhere else in the
 * data center. Refuses s and returns 0 when it is not. */
static int
dst_in_policy(struct session *s)
{
	struct policy_trust *t;
	char detail[GWT_NAME_MAX * 8 + 64];
	int ok;

	pthread_mutex_lock(&s->gw->policy_lock);
	t = policy_trust_ref(s->gw->trust);
	pthread_mutex_unlock(&s->gw->policy_lock);
	ok = policy_trust_desktop(
	    t, s->adm.tok.tid, s->adm.tok.dst_host, s->adm.tok.dst_port);
	policy_trust_unref(t);
	if (ok)
		return 1;
	snprintf(detail, sizeof(detail), "dst_host=%s dst_port=%u tid=%s",
	    VLOG_Q(s->adm.tok.dst_host), (unsigned)s->adm.tok.dst_port,
	    VLOG_Q(s->adm.tok.tid));
	front_refuse(s, VDI_REASON_DST_NOT_IN_POLICY, 403,
	    vdi_reason_code(VDI_REASON_DST_NOT_IN_POLICY),
	    "the token names a desktop the policy does not give its tenant",
	    detail);
	return 0;
}

void
admission_run(struct session *s, const char *token, size_t token_len)
{
	struct gw_token_policy pol;
	enum vdi_reason te;
	char cut[SESSION_KILL_REASON_MAX], detail[sizeof(cut) + 16];

	/* Only tunnels past their token count against max_sessions: peers
	 * still in the handshake have limits of their own (accept_cb).
	 * Checked before the token too, so that a full gateway does not
	 * use it up. */
	if (gwm_get(s->gw, GWM_SESSIONS_ADMITTED) >= s->gw->conf.max_sessions) {
		front_refuse(s, VDI_REASON_BUSY, 503,
		    vdi_reason_code(VDI_REASON_BUSY),
		    "this gateway has reached max_sessions", NULL);
		return;
	}
	/* Cut off from the broker the gateway cannot hear cuts (a revoked
	 * device, a killed session): no new tunnels then, the running ones
	 * go on (vdi-gatewayd(8), broker_stale_after). */
	if (brokerlink_stale(s->gw)) {
		front_refuse(s, VDI_REASON_BROKER_UNREACHABLE, 503,
		    vdi_reason_code(VDI_REASON_BROKER_UNREACHABLE),
		    "this gateway cannot reach the broker and so cannot "
		    "enforce revocations: try again later",
		    NULL);
		return;
	}
	memset(&pol, 0, sizeof(pol));
	pol.keys = (const struct jws_key *const *)s->gw->keys;
	pol.nkeys = s->gw->nkeys;
	pol.issuer = s->gw->conf.issuer;
	pol.audience = s->gw->conf.audience;
	pol.skew = s->gw->conf.clock_skew;
	te = gw_token_check(token, token_len, &pol, s->x5t, s->gw->replay,
	    (int64_t)time(NULL), &s->adm.tok);
	if (te != VDI_REASON_OK) {
		front_refuse(s, te, vdi_reason_status(te), vdi_reason_code(te),
		    te == VDI_REASON_MAX_SESSION
			? "the session has reached its time limit"
			: "the tunnel token was refused",
		    NULL);
		return;
	}
	s->adm.has_tok = 1;
	s->started = time(NULL);
	if (!dst_in_policy(s))
		return;
	session_handshake_done(s);
	if (gwm_add(s->gw, GWM_SESSIONS_ADMITTED, 1) >
	    s->gw->conf.max_sessions) {
		gwm_add(s->gw, GWM_SESSIONS_ADMITTED, -1);
		front_refuse(s, VDI_REASON_BUSY, 503,
		    vdi_reason_code(VDI_REASON_BUSY),
		    "this gateway has reached max_sessions", NULL);
		return;
	}
	s->adm.admitted = 1;
	/* From here on the tunnel is registered: a cut that arrives while the
	 * desktop leg connects finds it. */
	if (registry_admit(
		s->gw->reg, s, (int64_t)s->started, cut, sizeof(cut)) != 0) {
		snprintf(detail, sizeof(detail), "cut=%s", cut);
		front_refuse(s, VDI_REASON_CUT, 403,
		    vdi_reason_code(VDI_REASON_CUT),
		    "the broker has cut this session", detail);
		return;
	}
	if (desktop_security(s) == NULL) {
		front_refuse(s, VDI_REASON_NLA_UNSUPPORTED, 503,
		    vdi_reason_code(VDI_REASON_NLA_UNSUPPORTED),
		    "the desktop pool uses NLA (sec=nla), which this gateway "
		    "does not support yet: set security = \"tls\"",
		    "detail=\"CredSSP towards desktops is not implemented\"");
		return;
	}
	if (s->adm.tok.cred[0] != '\0') {
		if (!s->gw->have_seal) {
			vlog(VLOG_WARNING, "sso_unavailable",
			    "sid=%s reason=no_seal_key detail=\"the token "
			    "carries credentials but seal_key is not set\"",
			    s->adm.tok.sid);
			OPENSSL_cleanse(
			    s->adm.tok.cred, sizeof(s->adm.tok.cred));
		} else if (open_creds(s) != 0) {
			front_refuse(s, VDI_REASON_CREDENTIALS_INVALID, 401,
			    vdi_reason_code(VDI_REASON_CREDENTIALS_INVALID),
			    "the sealed credentials cannot be opened", NULL);
			return;
		}
	}
	if (session_advance(s, SE_ADMITTED) != 0)
		return;
	if (desktop_connect(s) != 0)
		front_refuse(s, VDI_REASON_DESKTOP_UNREACHABLE, 503,
		    vdi_reason_code(VDI_REASON_DESKTOP_UNREACHABLE),
		    "the desktop cannot be reached", "reason=alloc");
}

const struct rdp_info_creds *
admission_creds(const struct session *s)
{
	return s->sso.has ? &s->sso.creds : NULL;
}

void
admission_wipe_creds(struct session *s)
{
	OPENSSL_cleanse(&s->sso, sizeof(s->sso));
}
