/* login.c: stepped PAM conversations over HTTP (see login.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/crypto.h>

#include "apireq.h"
#include "grant.h"
#include "login.h"
#include "privsep.h"
#include "token.h"
#include "vlog.h"

struct login {
	struct login *next;
	struct broker *b;
	char id[TOKEN_ID_HEX];
	char mon_id[PRIVSEP_LOGIN_ID_SIZE]; /* the monitor's id of this login */
	char tenant[STORE_NAME_MAX];
	char user[PAMMSG_USER_MAX + 1];
	char rl_user[RL_KEY_MAX];
	struct broker_peer peer; /* ssl cleared; cert up-referenced */
	int conv_fd;
	struct event *ev_read;
	struct event *ev_timeout;
	struct vbuf *in;
	size_t nprompts;        /* prompts awaiting answers */
	int first_secret_index; /* which answer is the password, or -1 */
	char *password;         /* kept for single sign-on, wiped */
	size_t password_len;
	json_t *messages; /* info/error texts not yet shown */
	struct evhttp_request *pending;
	double t0;
};

struct login_table {
	struct login *head;
	size_t n;
};

int
login_init(struct broker *b)
{
	b->logins = calloc(1, sizeof(*b->logins));
	return b->logins != NULL ? 0 : VDI_ERR_ALLOC;
}

size_t
login_pending(struct broker *b)
{
	return b->logins != NULL ? b->logins->n : 0;
}

static void
login_destroy(struct login *l)
{
	struct login **pp;

	for (pp = &l->b->logins->head; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == l) {
			*pp = l->next;
			l->b->logins->n--;
			break;
		}
	}
	if (l->pending != NULL)
		evhttp_connection_set_closecb(
		    evhttp_request_get_connection(l->pending), NULL, NULL);
	if (l->ev_read != NULL)
		event_free(l->ev_read);
	if (l->ev_timeout != NULL)
		event_free(l->ev_timeout);
	if (l->conv_fd >= 0)
		close(l->conv_fd); /* the PAM child ends */
	vbuf_free(l->in);
	if (l->password != NULL) {
		OPENSSL_cleanse(l->password, l->password_len);
		free(l->password);
	}
	json_decref(l->messages);
	X509_free(l->peer.cert);
	OPENSSL_cleanse(l, sizeof(*l));
	free(l);
}

void
login_free(struct broker *b)
{
	if (b->logins == NULL)
		return;
	while (b->logins->head != NULL)
		login_destroy(b->logins->head);
	free(b->logins);
	b->logins = NULL;
}

static const char *
style_name(uint8_t style)
{
	switch (style) {
	case PAMMSG_ECHO_OFF:
		return "echo_off";
	case PAMMSG_ECHO_ON:
		return "echo_on";
	case PAMMSG_ERROR_MSG:
		return "error";
	default:
		return "info";
	}
}

static void
pending_closed(struct evhttp_connection *conn, void *arg)
{
	struct login *l = arg;

	l->pending = NULL; /* the client went away; evhttp frees the request */
}

static void
reply_pending(struct login *l, int code, json_t *body)
{
	struct evhttp_request *req = l->pending;

	if (req == NULL) {
		json_decref(body);
		return;
	}
	l->pending = NULL;
	evhttp_connection_set_closecb(
	    evhttp_request_get_connection(req), NULL, NULL);
	http_reply(l->b, req, code, body, l->t0);
}

static void
fail_login(struct login *l, int http, const char *code, const char *msg,
    enum login_fail why, const char *audit_reason)
{
	struct broker *b = l->b;

	bm_inc(BM_LOGIN_FAILED + why);
	if (why == LOGIN_FAIL_AUTH || why == LOGIN_FAIL_ACCOUNT) {
		rl_fail(b->rl_user, l->rl_user, broker_now());
		rl_fail(b->rl_device, l->peer.thumb_hex, broker_now());
	}
	broker_audit(b, "broker", "login", "refused", l->tenant, l->user,
	    l->peer.thumb_hex, NULL, audit_reason, NULL);
	reply_pending(
	    l, http, json_pack("{s:s, s:s}", "error", code, "message", msg));
	login_destroy(l);
}

static void
on_result(struct login *l, const struct pammsg *m)
{
	struct broker *b = l->b;
	struct grant_req g;
	struct evhttp_request *req;

	switch (m->u.result.status) {
	case PAMMSG_STATUS_OK:
		break;
	case PAMMSG_STATUS_ACCOUNT_EXPIRED:
		fail_login(l, 403, "account_expired",
		    "your account has expired: ask your administrator",
		    LOGIN_FAIL_ACCOUNT, "account_expired");
		return;
	case PAMMSG_STATUS_PASSWORD_EXPIRED:
		fail_login(l, 403, "password_expired",
		    "your password has expired: change it at the office or on "
		    "the self-service page",
		    LOGIN_FAIL_ACCOUNT, "password_expired");
		return;
	case PAMMSG_STATUS_ACCOUNT_LOCKED:
		fail_login(l, 403, "account_locked",
		    "your account is locked: ask your administrator",
		    LOGIN_FAIL_ACCOUNT, "account_locked");
		return;
	case PAMMSG_STATUS_TIMEOUT:
		fail_login(l, 408, "login_timeout",
		    "the login took too long: start again", LOGIN_FAIL_AUTH,
		    "timeout");
		return;
	case PAMMSG_STATUS_AUTH_FAILED:
		fail_login(l, 401, "auth_failed",
		    "wrong user name, password or code", LOGIN_FAIL_AUTH,
		    "auth_failed");
		return;
	default:
		fail_login(l, 500, "pam_error",
		    "the login service failed: try again, then call support",
		    LOGIN_FAIL_INTERNAL, "pam_error");
		return;
	}
	rl_success(b->rl_user, l->rl_user);
	rl_success(b->rl_device, l->peer.thumb_hex);
	/* PAM may have mapped the name (e.g. case): use what it settled on. */
	snprintf(l->user, sizeof(l->user), "%s", m->u.result.user);
	if ((req = l->pending) == NULL) {
		broker_audit(b, "user", "login", "abandoned", l->tenant,
		    l->user, l->peer.thumb_hex, NULL, "client went away", NULL);
		login_destroy(l);
		return;
	}
	l->pending = NULL;
	evhttp_connection_set_closecb(
	    evhttp_request_get_connection(req), NULL, NULL);
	memset(&g, 0, sizeof(g));
	g.peer = &l->peer;
	g.tenant = l->tenant;
	g.user = l->user;
	g.action = "login";
	g.login_id = l->mon_id;
	g.password = l->password;
	g.password_len = l->password_len;
	grant(b, req, &g, l->t0);
	login_destroy(l);
}

static void
on_prompts(struct login *l, const struct pammsg *m)
{
	json_t *prompts, *o;
	size_t i, n = 0;

	prompts = json_array();
	l->first_secret_index = -1;
	for (i = 0; i < m->u.prompts.n; i++) {
		const struct pammsg_prompt *p = &m->u.prompts.msg[i];

		o = json_pack("{s:s, s:s}", "style", style_name(p->style),
		    "text", p->text);
		if (p->style == PAMMSG_ECHO_OFF || p->style == PAMMSG_ECHO_ON) {
			if (p->style == PAMMSG_ECHO_OFF &&
			    l->first_secret_index < 0 && l->password == NULL)
				l->first_secret_index = (int)n;
			json_array_append_new(prompts, o);
			n++;
		} else {
			json_array_append_new(l->messages, o);
		}
	}
	if (n == 0) {
		json_decref(prompts);
		return; /* only texts: PAM goes on by itself */
	}
	l->nprompts = n;
	reply_pending(l, 200,
	    json_pack("{s:s, s:s, s:o, s:o}", "state", "prompt", "login_id",
		l->id, "prompts", prompts, "messages", l->messages));
	l->messages = json_array();
}

static void
on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct login *l = arg;
	struct pammsg m;
	int r;

	for (;;) {
		r = privsep_pam_read(l->conv_fd, l->in, &m);
		if (r == VDI_ERR_NEED_MORE)
			return;
		if (r != 0) {
			pammsg_clear(&m);
			fail_login(l, 500, "pam_error",
			    "the login service stopped: try again",
			    LOGIN_FAIL_INTERNAL, "pam_child_gone");
			return;
		}
		if (m.type == PAMMSG_RESULT) {
			on_result(l, &m);
			pammsg_clear(&m);
			return;
		}
		on_prompts(l, &m);
		pammsg_clear(&m);
	}
}

static void
on_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct login *l = arg;

	vlog(VLOG_NOTICE, "login_timeout", "login=%s user=%s", l->id,
	    VLOG_Q(l->user));
	fail_login(l, 408, "login_timeout",
	    "the login took too long: start again", LOGIN_FAIL_AUTH, "timeout");
}

static void
arm_timeout(struct login *l)
{
	struct timeval tv = { (time_t)l->b->conf.login_timeout, 0 };

	evtimer_add(l->ev_timeout, &tv);
}

static void
hold(struct login *l, struct evhttp_request *req, double t0)
{
	l->pending = req;
	l->t0 = t0;
	evhttp_connection_set_closecb(
	    evhttp_request_get_connection(req), pending_closed, l);
	arm_timeout(l);
}

/* One device or one user may hold only a share of the PAM slots, so that
 * one peer cannot keep everybody else from logging in. Returns 0, or -1
 * with *which "device_share" or "user_share". */
static int
pending_share(struct broker *b, const char *thumb, const char *rl_user,
    const char **which)
{
	const struct login *l;
	unsigned int dev = 0, usr = 0;

	for (l = b->logins->head; l != NULL; l = l->next) {
		if (strcmp(l->peer.thumb_hex, thumb) == 0)
			dev++;
		if (strcmp(l->rl_user, rl_user) == 0)
			usr++;
	}
	if (dev >= b->conf.max_logins_per_device) {
		*which = "device_share";
		return -1;
	}
	if (usr >= b->conf.max_logins_per_user) {
		*which = "user_share";
		return -1;
	}
	return 0;
}

static void
start_login(struct broker *b, struct evhttp_request *req,
    const struct broker_peer *peer, const char *user, double t0)
{
	const struct policy_tenant *t;
	struct policy_device dev;
	struct privsep_login who;
	struct login *l;
	const char *code;
	char msg[300], rlkey[RL_KEY_MAX], mon_id[PRIVSEP_LOGIN_ID_SIZE];
	int64_t wait_u = 0, wait_d = 0, now = broker_now();
	const char *share = NULL;
	int fd = -1, r;

	if ((r = grant_device_check(b, peer, &dev, &code, msg, sizeof(msg))) !=
	    0) {
		bm_inc(BM_LOGIN_FAILED + LOGIN_FAIL_DEVICE);
		broker_audit(b, "broker", "login", "refused", peer->ca_name,
		    user, peer->thumb_hex, NULL, code, NULL);
		http_error(b, req, r, code, msg, t0);
		return;
	}
	snprintf(rlkey, sizeof(rlkey), "%.60s/%.60s", peer->ca_name, user);
	if (rl_check(b->rl_user, rlkey, now, &wait_u) != 0 ||
	    rl_check(b->rl_device, peer->thumb_hex, now, &wait_d) != 0) {
		bm_inc(BM_LOGIN_FAILED + LOGIN_FAIL_RATE);
		snprintf(msg, sizeof(msg),
		    "too many failed logins: try again in %lld seconds",
		    (long long)(wait_u > wait_d ? wait_u : wait_d));
		broker_audit(b, "broker", "login", "refused", peer->ca_name,
		    user, peer->thumb_hex, NULL, "rate_limited", NULL);
		http_reply(b, req, 429,
		    json_pack("{s:s, s:s, s:I}", "error", "rate_limited",
			"message", msg, "retry_after",
			(json_int_t)(wait_u > wait_d ? wait_u : wait_d)),
		    t0);
		return;
	}
	if (b->logins->n >= b->conf.max_logins) {
		http_error(b, req, 503, "busy",
		    "too many logins in progress: try again", t0);
		return;
	}
	if (pending_share(b, peer->thumb_hex, rlkey, &share) != 0) {
		char q[PAMMSG_USER_MAX * 4 + 3];

		vlog(VLOG_NOTICE, "login_refused",
		    "device=%s tenant=%s user=%s reason=%s limit=%u",
		    peer->thumb_hex, peer->ca_name,
		    vlog_quote(user, q, sizeof(q)), share,
		    strcmp(share, "device_share") == 0
			? b->conf.max_logins_per_device
			: b->conf.max_logins_per_user);
		http_error(b, req, 503, "busy",
		    strcmp(share, "device_share") == 0
			? "this device has too many logins in progress: finish "
			  "or abandon one, then try again"
			: "this user has too many logins in progress: "
			  "finish or abandon one, then try again",
		    t0);
		return;
	}
	t = policy_tenant_lookup(b->policy, peer->ca_name);
	memset(&who, 0, sizeof(who));
	who.service = policy_tenant_pam_service(t);
	who.user = user;
	who.rhost = peer->addr;
	who.tenant = peer->ca_name;
	who.device = peer->thumb_b64;
	/* Receiving the conversation socket needs a free descriptor: lend
	 * the front's spare one, so that descriptor pressure cannot fail
	 * the login (and if it still does, only this request fails). */
	http_spare_fd_release();
	r = privsep_pam_begin(b->ps, &who, mon_id, &fd);
	http_spare_fd_restore();
	if (r != 0) {
		bm_inc(BM_LOGIN_FAILED + LOGIN_FAIL_INTERNAL);
		http_error(b, req, 503, "pam_unavailable",
		    "the login service is busy: try again", t0);
		return;
	}
	if ((l = calloc(1, sizeof(*l))) == NULL)
		goto nomem;
	l->conv_fd = fd;
	l->b = b;
	memcpy(l->mon_id, mon_id, sizeof(l->mon_id));
	l->first_secret_index = -1;
	snprintf(l->tenant, sizeof(l->tenant), "%s", peer->ca_name);
	snprintf(l->user, sizeof(l->user), "%s", user);
	snprintf(l->rl_user, sizeof(l->rl_user), "%s", rlkey);
	l->peer = *peer;
	l->peer.ssl = NULL; /* the connection may go; keep the certificate */
	X509_up_ref(l->peer.cert);
	if (token_random_id(l->id) != 0 ||
	    (l->in = vbuf_new(2 * PAMMSG_FRAME_MAX)) == NULL ||
	    (l->messages = json_array()) == NULL ||
	    (l->ev_read = event_new(
		 b->base, fd, EV_READ | EV_PERSIST, on_readable, l)) == NULL ||
	    (l->ev_timeout = evtimer_new(b->base, on_timeout, l)) == NULL) {
		l->next = NULL;
		b->logins->n++; /* login_destroy() takes it off */
		l->next = b->logins->head;
		b->logins->head = l;
		login_destroy(l);
		goto nomem_nofd;
	}
	l->next = b->logins->head;
	b->logins->head = l;
	b->logins->n++;
	event_add(l->ev_read, NULL);
	hold(l, req, t0);
	return;
nomem:
	close(fd);
nomem_nofd:
	http_error(b, req, 500, "internal_error", "out of memory", t0);
}

int
login_id_equal(const char *id, const char *given)
{
	/* The length first: CRYPTO_memcmp reads TOKEN_ID_HEX - 1 bytes of
	 * both. A length is no secret (every id has the same one). */
	return strnlen(given, TOKEN_ID_HEX) == TOKEN_ID_HEX - 1 &&
	    CRYPTO_memcmp(id, given, TOKEN_ID_HEX - 1) == 0;
}

static struct login *
find_login(struct broker *b, const char *id, const char *thumb)
{
	struct login *l;

	for (l = b->logins->head; l != NULL; l = l->next)
		if (login_id_equal(l->id, id) &&
		    strcmp(l->peer.thumb_hex, thumb) == 0)
			return l;
	return NULL;
}

static void
answer_login(struct broker *b, struct evhttp_request *req,
    const struct broker_peer *peer, const char *id, const char *const *a,
    size_t n, double t0)
{
	struct login *l;

	if ((l = find_login(b, id, peer->thumb_hex)) == NULL) {
		http_error(b, req, 404, "no_such_login",
		    "this login is over or belongs to another device: start "
		    "again",
		    t0);
		return;
	}
	if (l->pending != NULL) {
		http_error(b, req, 409, "login_busy",
		    "the previous step is still running", t0);
		return;
	}
	if (n != l->nprompts) {
		http_error(b, req, 400, "bad_answers",
		    "answers must hold one string per prompt", t0);
		return;
	}
	/* Keep the password for single sign-on into the desktop. */
	if (l->first_secret_index >= 0 && l->password == NULL &&
	    b->conf.seal_key[0] != '\0') {
		const char *pw = a[l->first_secret_index];

		l->password_len = strlen(pw);
		if ((l->password = malloc(l->password_len + 1)) != NULL)
			memcpy(l->password, pw, l->password_len + 1);
	}
	if (privsep_pam_answer(l->conv_fd, a, l->nprompts) != 0) {
		l->pending = req;
		l->t0 = t0;
		fail_login(l, 500, "pam_error", "the login service stopped",
		    LOGIN_FAIL_INTERNAL, "pam_child_gone");
		return;
	}
	l->nprompts = 0;
	hold(l, req, t0);
}

void
login_handle(struct broker *b, struct evhttp_request *req,
    const struct broker_peer *peer, json_t *body, double t0)
{
	struct apireq_login lr;
	struct apireq_error ae;
	size_t i;

	if (apireq_login(body, &lr, &ae) != 0) {
		http_error(b, req, 400, ae.code, ae.message, t0);
		return;
	}
	if (!lr.step) {
		start_login(b, req, peer, lr.user, t0);
		return;
	}
	answer_login(b, req, peer, lr.login_id, lr.answers, lr.nanswers, t0);
	/* Answers are secrets: wipe them from the parsed body. */
	for (i = 0; i < lr.nanswers; i++)
		OPENSSL_cleanse((void *)lr.answers[i], strlen(lr.answers[i]));
}
