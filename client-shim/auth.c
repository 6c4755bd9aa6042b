/* auth.c: the conversations with the broker: the login loop (PAM prompts
 * answered through the prompt callback until a grant), reconnects with
 * the ticket and logoff (vdiclient.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "vdic_int.h"
#include "vlog.h"

/* Keeps what a grant ("state":"ok") brings. */
static void
take_grant(struct vdic *c, const struct shim_reply *r)
{
	vdi_seterr(c->session, sizeof(c->session), "%s", r->session);
	vdi_seterr(c->desktop, sizeof(c->desktop), "%s", r->desktop);
	vdi_seterr(c->gateway, sizeof(c->gateway), "%s", r->gateway);
	if (r->user[0] != '\0')
		vdi_seterr(c->user, sizeof(c->user), "%s", r->user);
	memcpy(c->token, r->token, sizeof(c->token));
	memcpy(c->ticket, r->ticket, sizeof(c->ticket));
	if (r->reconnect_window > 0)
		c->reconnect_window = r->reconnect_window;
	c->logged_in = 1;
}

static int
refused(struct vdic *c, const struct shim_reply *r)
{
	return shim_explain(
	    r->error, r->message, r->retry_after, c->msg, sizeof(c->msg));
}

int
vdic_login(struct vdic *c, const char *user)
{
	struct shim_reply *r;
	char *body, answer[SHIM_ANSWER_MAX];
	const size_t bodymax = 16384;
	size_t pos, i;
	int st;

	c->msg[0] = '\0';
	if (user == NULL || *user == '\0') {
		vdi_seterr(c->msg, sizeof(c->msg), "No user name given.");
		return VDIC_ERR_CONFIG;
	}
	if ((st = shim_ensure_device(c)) != VDIC_OK)
		return st;
	if ((r = malloc(sizeof(*r))) == NULL ||
	    (body = malloc(bodymax)) == NULL) {
		free(r);
		return VDIC_ERR_INTERNAL;
	}
	shim_wipe_grant(c);
	c->logged_in = 0;
	vdi_seterr(c->user, sizeof(c->user), "%s", user);
	pos = 0;
	if (shim_json_raw(body, bodymax, &pos, "{\"user\":") != 0 ||
	    shim_json_str(body, bodymax, &pos, user) != 0 ||
	    shim_json_raw(body, bodymax, &pos, "}") != 0) {
		vdi_seterr(
		    c->msg, sizeof(c->msg), "The user name is too long.");
		st = VDIC_ERR_CONFIG;
		goto out;
	}
	for (;;) {
		st = shim_broker_post(&c->curl, c->cfg, &c->dev, "/v1/login",
		    body, r, c->msg, sizeof(c->msg));
		OPENSSL_cleanse(body, bodymax);
		if (st != VDIC_OK)
			goto out;
		for (i = 0; i < r->nmessages; i++)
			shim_emit(c,
			    r->messages[i].style == VDIC_PROMPT_ECHO_ON
				? VDIC_EV_ERROR
				: VDIC_EV_INFO,
			    r->messages[i].text, 0, 0);
		if (r->state == SHIM_REPLY_OK) {
			take_grant(c, r);
			vlog(VLOG_INFO, "logged_in",
			    "user=%s session=%s "
			    "desktop=%s gateway=%s",
			    VLOG_Q(c->user), VLOG_Q(c->session),
			    VLOG_Q(c->desktop), VLOG_Q(c->gateway));
			shim_emit(c, VDIC_EV_LOGGED_IN, c->desktop, 0, 0);
			st = VDIC_OK;
			goto out;
		}
		if (r->state == SHIM_REPLY_ERROR) {
			st = refused(c, r);
			vlog(VLOG_NOTICE, "login_refused", "user=%s code=%s",
			    VLOG_Q(user), VLOG_Q(r->error));
			goto out;
		}
		if (r->state != SHIM_REPLY_PROMPT) {
			/* "ended" belongs to logoff, never to a login. */
			snprintf(r->error, sizeof(r->error), "bad_reply");
			st = refused(c, r);
			goto out;
		}
		/* Prompts: ask, answer all in one step. */
		pos = 0;
		if (shim_json_raw(body, bodymax, &pos, "{\"login_id\":") != 0 ||
		    shim_json_str(body, bodymax, &pos, r->login_id) != 0 ||
		    shim_json_raw(body, bodymax, &pos, ",\"answers\":[") != 0)
			goto toolong;
		for (i = 0; i < r->nprompts; i++) {
			answer[0] = '\0';
			if (c->prompt == NULL || c->cancelled ||
			    c->prompt(c->prompt_arg, r->prompts[i].style,
				r->prompts[i].text, answer,
				sizeof(answer)) != 0 ||
			    c->cancelled) {
				OPENSSL_cleanse(answer, sizeof(answer));
				vdi_seterr(
				    c->msg, sizeof(c->msg), "Login cancelled.");
				st = VDIC_ERR_CANCELLED;
				goto out;
			}
			answer[sizeof(answer) - 1] = '\0';
			if ((i > 0 &&
				shim_json_raw(body, bodymax, &pos, ",") != 0) ||
			    shim_json_str(body, bodymax, &pos, answer) != 0) {
				OPENSSL_cleanse(answer, sizeof(answer));
				goto toolong;
			}
			OPENSSL_cleanse(answer, sizeof(answer));
		}
		if (shim_json_raw(body, bodymax, &pos, "]}") != 0)
			goto toolong;
	}
toolong:
	vdi_seterr(c->msg, sizeof(c->msg), "The answer is too long.");
	st = VDIC_ERR_AUTH;
out:
	OPENSSL_cleanse(body, bodymax);
	free(body);
	shim_reply_wipe(r);
	free(r);
	return st;
}

int
vdic_reconnect(struct vdic *c)
{
	struct shim_reply *r;
	char body[SHIM_STR_MAX + 32];
	size_t pos = 0;
	int st;

	if (c->ticket[0] == '\0') {
		vdi_seterr(c->msg, sizeof(c->msg),
		    "This device gets no reconnect ticket (shared device): log "
		    "in again.");
		return VDIC_ERR_AUTH;
	}
	if ((st = shim_ensure_device(c)) != VDIC_OK)
		return st;
	if ((r = malloc(sizeof(*r))) == NULL)
		return VDIC_ERR_INTERNAL;
	if (shim_json_raw(body, sizeof(body), &pos, "{\"ticket\":") != 0 ||
	    shim_json_str(body, sizeof(body), &pos, c->ticket) != 0 ||
	    shim_json_raw(body, sizeof(body), &pos, "}") != 0) {
		free(r);
		return VDIC_ERR_INTERNAL;
	}
	st = shim_broker_post(&c->curl, c->cfg, &c->dev, "/v1/reconnect", body,
	    r, c->msg, sizeof(c->msg));
	OPENSSL_cleanse(body, sizeof(body));
	if (st == VDIC_OK) {
		if (r->state == SHIM_REPLY_OK) {
			take_grant(c, r);
		} else {
			st = refused(c, r);
			vlog(VLOG_NOTICE, "reconnect_refused", "code=%s",
			    VLOG_Q(r->error));
			/* A newer login voided it at the broker: never
			 * offer it again. */
			if (st == VDIC_ERR_REPLACED)
				OPENSSL_cleanse(c->ticket, sizeof(c->ticket));
		}
	}
	shim_reply_wipe(r);
	free(r);
	return st;
}

int
vdic_logoff(struct vdic *c)
{
	struct shim_reply *r;
	char body[256];
	size_t pos = 0;
	int st;

	if (c->session[0] == '\0')
		return VDIC_OK;
	if ((st = shim_ensure_device(c)) != VDIC_OK)
		return st;
	if ((r = malloc(sizeof(*r))) == NULL)
		return VDIC_ERR_INTERNAL;
	if (shim_json_raw(body, sizeof(body), &pos, "{\"session\":") != 0 ||
	    shim_json_str(body, sizeof(body), &pos, c->session) != 0 ||
	    shim_json_raw(body, sizeof(body), &pos, "}") != 0) {
		free(r);
		return VDIC_ERR_INTERNAL;
	}
	st = shim_broker_post(&c->curl, c->cfg, &c->dev, "/v1/logoff", body, r,
	    c->msg, sizeof(c->msg));
	if (st == VDIC_OK && r->state == SHIM_REPLY_ERROR)
		st = refused(c, r);
	if (st == VDIC_OK) {
		vlog(VLOG_INFO, "logoff", "session=%s", VLOG_Q(c->session));
		shim_wipe_grant(c);
	}
	shim_reply_wipe(r);
	free(r);
	return st;
}
