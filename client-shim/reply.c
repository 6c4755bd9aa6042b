/* reply.c: broker and gateway answers, and what they mean for the person
 * holding the tablet (shim.h). Pure: no I/O. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "shim.h"

void
shim_reply_wipe(struct shim_reply *r)
{
	if (r != NULL)
		OPENSSL_cleanse(r, sizeof(*r));
}

/* Copies a JSON string member; 0 absent, 1 copied, -1 wrong type or too
 * long. */
static int
copy_str(json_t *o, const char *key, char *out, size_t outlen)
{
	json_t *v = json_object_get(o, key);
	const char *s;

	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v) || (s = json_string_value(v)) == NULL ||
	    strlen(s) >= outlen)
		return -1;
	memcpy(out, s, strlen(s) + 1);
	return 1;
}

static int
copy_texts(json_t *arr, struct shim_prompt *out, size_t max, size_t *n)
{
	size_t i;
	json_t *e;

	*n = 0;
	if (arr == NULL || json_is_null(arr))
		return 0;
	if (!json_is_array(arr) || json_array_size(arr) > max)
		return -1;
	json_array_foreach(arr, i, e) {
		const char *style;

		if (!json_is_object(e) ||
		    copy_str(e, "text", out[i].text, sizeof(out[i].text)) != 1)
			return -1;
		style = json_string_value(json_object_get(e, "style"));
		if (style == NULL)
			return -1;
		if (strcmp(style, "echo_off") == 0 ||
		    strcmp(style, "info") == 0)
			out[i].style = VDIC_PROMPT_ECHO_OFF;
		else if (strcmp(style, "echo_on") == 0 ||
		    strcmp(style, "error") == 0)
			out[i].style = VDIC_PROMPT_ECHO_ON;
		else
			return -1;
		(*n)++;
	}
	return 0;
}

int
shim_reply_parse(
    const char *body, size_t len, long http_status, struct shim_reply *out)
{
	json_t *j = NULL, *v;
	json_error_t je;
	const char *state;
	int r = VDI_ERR_BAD_FORMAT;

	memset(out, 0, sizeof(*out));
	out->http_status = http_status;
	if (body == NULL || len == 0 ||
	    (j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je)) == NULL ||
	    !json_is_object(j)) {
		r = j == NULL ? VDI_ERR_JSON : VDI_ERR_BAD_FORMAT;
		goto bad;
	}
	if (json_object_get(j, "error") != NULL || http_status < 200 ||
	    http_status > 299) {
		out->state = SHIM_REPLY_ERROR;
		if (copy_str(j, "error", out->error, sizeof(out->error)) != 1)
			goto bad;
		if (copy_str(j, "message", out->message, sizeof(out->message)) <
		    0)
			out->message[0] = '\0'; /* optional, keep the code */
		v = json_object_get(j, "retry_after");
		if (json_is_integer(v) && json_integer_value(v) > 0)
			out->retry_after = (long)json_integer_value(v);
		json_decref(j);
		return 0;
	}
	state = json_string_value(json_object_get(j, "state"));
	if (state == NULL)
		goto bad;
	if (copy_texts(json_object_get(j, "messages"), out->messages,
		SHIM_PROMPTS_MAX, &out->nmessages) != 0)
		goto bad;
	if (strcmp(state, "prompt") == 0) {
		out->state = SHIM_REPLY_PROMPT;
		if (copy_str(j, "login_id", out->login_id,
			sizeof(out->login_id)) != 1 ||
		    copy_texts(json_object_get(j, "prompts"), out->prompts,
			SHIM_PROMPTS_MAX, &out->nprompts) != 0)
			goto bad;
	} else if (strcmp(state, "ok") == 0) {
		out->state = SHIM_REPLY_OK;
		if (copy_str(j, "token", out->token, sizeof(out->token)) != 1 ||
		    copy_str(j, "gateway", out->gateway,
			sizeof(out->gateway)) != 1 ||
		    copy_str(j, "session", out->session,
			sizeof(out->session)) != 1 ||
		    copy_str(j, "ticket", out->ticket, sizeof(out->ticket)) <
			0 ||
		    copy_str(j, "desktop", out->desktop, sizeof(out->desktop)) <
			0 ||
		    copy_str(j, "user", out->user, sizeof(out->user)) < 0)
			goto bad;
		v = json_object_get(j, "reconnect_window");
		if (json_is_integer(v) && json_integer_value(v) > 0)
			out->reconnect_window = (long)json_integer_value(v);
	} else if (strcmp(state, "ended") == 0) {
		out->state = SHIM_REPLY_ENDED;
		if (copy_str(
			j, "session", out->session, sizeof(out->session)) != 1)
			goto bad;
	} else {
		goto bad;
	}
	json_decref(j);
	return 0;
bad:
	if (j != NULL) {
		json_decref(j);
		r = VDI_ERR_BAD_FORMAT;
	}
	shim_reply_wipe(out);
	out->http_status = http_status;
	out->state = SHIM_REPLY_ERROR;
	snprintf(out->error, sizeof(out->error), "bad_reply");
	return r;
}

struct explanation {
	const char *code;
	int status;
	const char *text; /* %s: the server's detail */
};

static const struct explanation explanations[] = {
	{ "auth_failed", VDIC_ERR_AUTH,
	    "Wrong user name or password. Check them (and the keyboard "
	    "layout) and try again." },
	{ "rate_limited", VDIC_ERR_AUTH,
	    "Too many failed logins. Wait %s before trying again." },
	{ "account_expired", VDIC_ERR_AUTH,
	    "Your account has expired: call your administrator (%s)." },
	{ "password_expired", VDIC_ERR_AUTH,
	    "Your password has expired: change it at the office (%s)." },
	{ "account_locked", VDIC_ERR_AUTH,
	    "Your account is locked: call your administrator (%s)." },
	{ "device_revoked", VDIC_ERR_DEVICE,
	    "This tablet has been blocked (device revoked: %s). Do not "
	    "retry: bring it to your IT department." },
	{ "device_expired", VDIC_ERR_DEVICE,
	    "This tablet's device certificate has expired (%s). Bring it to "
	    "your IT department to renew the certificate." },
	{ "device_not_yet_valid", VDIC_ERR_DEVICE,
	    "This tablet's device certificate is not valid yet (%s). Check "
	    "the tablet's date and time, or ask your IT department." },
	{ "device_refused", VDIC_ERR_DEVICE,
	    "This tablet is not accepted by the service (%s). Ask your IT "
	    "department to check its enrolment." },
	{ "device_class_not_allowed", VDIC_ERR_POLICY,
	    "This kind of tablet may not be used for your desktop (%s). Ask "
	    "your administrator." },
	{ "outside_hours", VDIC_ERR_POLICY,
	    "You cannot connect at this time: outside the allowed hours "
	    "(%s). Try again during your working hours or ask your "
	    "administrator." },
	{ "network_not_allowed", VDIC_ERR_POLICY,
	    "You cannot connect from this network (%s). Connect through an "
	    "allowed network (office Wi-Fi or the field LTE) and try "
	    "again." },
	{ "user_not_allowed", VDIC_ERR_POLICY,
	    "Your account may not use a desktop from here (%s). Ask your "
	    "administrator." },
	{ "policy_denied", VDIC_ERR_POLICY,
	    "Access refused by the organisation's rules (%s). Ask your "
	    "administrator." },
	{ "policy_error", VDIC_ERR_POLICY,
	    "Access refused: the service is not set up for you (%s). Call "
	    "your administrator." },
	{ "session_not_allowed_here", VDIC_ERR_POLICY,
	    "Your running desktop may not be opened from here (%s)." },
	{ "no_desktop", VDIC_ERR_NO_DESKTOP,
	    "No desktop is available right now (%s). Try again in a few "
	    "minutes; if it persists call the help desk." },
	{ "ticket_used", VDIC_ERR_AUTH,
	    "The session could not be resumed (%s). Log in again." },
	{ "ticket_expired", VDIC_ERR_AUTH,
	    "The session could not be resumed in time (%s). Log in again." },
	{ "ticket_wrong_device", VDIC_ERR_DEVICE,
	    "The session belongs to another tablet (%s). Log in again." },
	{ "ticket_invalid", VDIC_ERR_AUTH,
	    "The session could not be resumed (%s). Log in again." },
	{ "cut", VDIC_ERR_AUTH,
	    "The service ended this session (%s). Log in again; if you "
	    "cannot, call the help desk." },
	{ "replaced", VDIC_ERR_REPLACED,
	    "Your desktop session was opened by a newer connection, on this "
	    "tablet or another one, so this one was closed (%s). Use the "
	    "newer one; to continue here, start the connection again and "
	    "log in." },
	{ "max_session", VDIC_ERR_TIME_LIMIT,
	    "Your session has reached its time limit (%s). Log in again to "
	    "start a new session." },
	{ "token_wrong_device", VDIC_ERR_DEVICE,
	    "The gateway refused this tablet (%s). Call the help desk." },
	{ "desktop_unreachable", VDIC_ERR_NO_DESKTOP,
	    "Your desktop cannot be reached right now (%s). Try again in a "
	    "few minutes; if it persists call the help desk." },
	{ "desktop_untrusted", VDIC_ERR_NO_DESKTOP,
	    "Your desktop failed a security check (%s). Call the help "
	    "desk." },
	{ "gateway_full", VDIC_ERR_GATEWAY,
	    "The service is busy (%s). Try again in a few minutes." },
	{ "internal_error", VDIC_ERR_BROKER,
	    "The service had an internal problem (%s). Try again; if it "
	    "persists call the help desk." },
};

int
shim_explain(const char *code, const char *server_msg, long retry_after,
    char *msg, size_t msglen)
{
	const struct explanation *e = NULL;
	char detail[SHIM_MSG_MAX];
	size_t i;

	for (i = 0;
	     code != NULL && i < sizeof(explanations) / sizeof(explanations[0]);
	     i++)
		if (strcmp(explanations[i].code, code) == 0)
			e = &explanations[i];
	if (server_msg == NULL || *server_msg == '\0')
		server_msg = code != NULL ? code : "no detail";
	if (e != NULL && strcmp(e->code, "rate_limited") == 0) {
		if (retry_after >= 120)
			snprintf(detail, sizeof(detail), "%ld minutes",
			    (retry_after + 59) / 60);
		else if (retry_after > 0)
			snprintf(
			    detail, sizeof(detail), "%ld seconds", retry_after);
		else
			snprintf(detail, sizeof(detail), "a few minutes");
	} else {
		snprintf(detail, sizeof(detail), "%s", server_msg);
	}
	if (e == NULL) {
		if (code != NULL && strncmp(code, "token_", 6) == 0) {
			vdi_seterr(msg, msglen,
			    "The gateway refused the connection (%s). Try "
			    "again.",
			    detail);
			return VDIC_ERR_GATEWAY;
		}
		vdi_seterr(msg, msglen,
		    "The service refused the connection (%s: %s). Call the "
		    "help desk.",
		    code != NULL ? code : "unknown", detail);
		return VDIC_ERR_BROKER;
	}
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	vdi_seterr(msg, msglen, e->text, detail);
#pragma GCC diagnostic pop
	return e->status;
}

int
shim_upgrade_response(
    const char *buf, size_t len, int *status, size_t *head_len)
{
	const char *end = NULL;
	size_t i;
	int st;

	*status = 0;
	*head_len = 0;
	for (i = 0; i + 3 < len; i++)
		if (memcmp(buf + i, "\r\n\r\n", 4) == 0) {
			end = buf + i + 4;
			break;
		}
	/* The status line can be judged as soon as it is complete. */
	if (len >= 9 && memcmp(buf, "HTTP/1.1 ", 9) != 0 &&
	    memcmp(buf, "HTTP/1.0 ", 9) != 0)
		return VDI_ERR_BAD_FORMAT;
	if (end == NULL)
		return len > 8192 ? VDI_ERR_BAD_FORMAT : VDI_ERR_NEED_MORE;
	if (len < 13 || buf[9] < '1' || buf[9] > '5' || buf[10] < '0' ||
	    buf[10] > '9' || buf[11] < '0' || buf[11] > '9' ||
	    (buf[12] != ' ' && buf[12] != '\r'))
		return VDI_ERR_BAD_FORMAT;
	st = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
	*status = st;
	*head_len = (size_t)(end - buf);
	return 0;
}

int
shim_upgrade_request(
    const char *host, const char *token, char *out, size_t outlen)
{
	int n;

	if (strpbrk(host, "\r\n") != NULL || strpbrk(token, "\r\n ") != NULL)
		return VDI_ERR_INVALID_ARG;
	n = snprintf(out, outlen,
	    "GET /v1/tunnel HTTP/1.1\r\nHost: %s\r\n"
	    "Authorization: Bearer %s\r\nConnection: Upgrade\r\n"
	    "Upgrade: vdi-rdp\r\n\r\n",
	    host, token);
	if (n < 0 || (size_t)n >= outlen) {
		OPENSSL_cleanse(out, outlen);
		return VDI_ERR_TOO_LARGE;
	}
	return n;
}
