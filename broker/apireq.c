/* apireq.c: pure checks of the broker API's request bodies. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "apireq.h"
#include "store.h"

#define JSON_DEPTH_MAX 16

static int
fail(struct apireq_error *e, const char *code, const char *msg)
{
	e->code = code;
	snprintf(e->message, sizeof(e->message), "%s", msg);
	return VDI_ERR_BAD_FORMAT;
}

static int
depth_ok(const json_t *v, int depth)
{
	const char *k;
	json_t *c;
	size_t i;

	if (depth > JSON_DEPTH_MAX)
		return 0;
	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, k, c)
			if (!depth_ok(c, depth + 1))
				return 0;
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, c)
			if (!depth_ok(c, depth + 1))
				return 0;
	}
	return 1;
}

int
apireq_json(const void *data, size_t len, json_t **out, struct apireq_error *e)
{
	json_error_t je;
	json_t *v;

	*out = NULL;
	memset(e, 0, sizeof(*e));
	if (len == 0)
		return fail(e, "bad_json", "a JSON object body is required");
	v = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
	if (v == NULL) {
		e->code = "bad_json";
		snprintf(e->message, sizeof(e->message),
		    "invalid JSON at line %d column %d: %.100s", je.line,
		    je.column, je.text);
		return VDI_ERR_JSON;
	}
	if (!json_is_object(v) || !depth_ok(v, 0)) {
		json_decref(v);
		return fail(e, "bad_json",
		    "the body must be a JSON object nested at most 16 deep");
	}
	*out = v;
	return 0;
}

/* A string member: absent (NULL, 0), or a string without NUL of 1..max
 * bytes (1), else -1. */
static int
opt_string(json_t *body, const char *key, size_t max, const char **out)
{
	json_t *v = json_object_get(body, key);

	*out = NULL;
	if (v == NULL)
		return 0;
	if (!json_is_string(v) || json_string_length(v) == 0 ||
	    json_string_length(v) > max ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return -1;
	*out = json_string_value(v);
	return 1;
}

static int
only_keys(json_t *body, const char *const *keys)
{
	const char *k;
	json_t *v;
	size_t i;

	json_object_foreach(body, k, v) {
		for (i = 0; keys[i] != NULL; i++)
			if (strcmp(k, keys[i]) == 0)
				break;
		if (keys[i] == NULL)
			return 0;
	}
	return 1;
}

int
apireq_login(json_t *body, struct apireq_login *out, struct apireq_error *e)
{
	static const char *const keys[] = { "user", "login_id", "answers",
		NULL };
	json_t *answers, *v;
	size_t i;
	int u, id;

	memset(out, 0, sizeof(*out));
	memset(e, 0, sizeof(*e));
	if (!only_keys(body, keys))
		return fail(e, "bad_request",
		    "unknown member (known: user, login_id, answers)");
	u = opt_string(body, "user", PAMMSG_USER_MAX, &out->user);
	id = opt_string(body, "login_id", 64, &out->login_id);
	answers = json_object_get(body, "answers");
	if (u < 0)
		return fail(e, "bad_user", "user must be 1..256 bytes of text");
	if (id < 0)
		return fail(e, "bad_request", "login_id must be a string");
	if (u == 1 && (id == 1 || answers != NULL))
		return fail(e, "bad_request",
		    "send either {\"user\"} or {\"login_id\", \"answers\"}");
	if (u == 1) {
		if (pammsg_check_user(out->user, strlen(out->user)) != 0)
			return fail(e, "bad_user",
			    "user must be 1..256 bytes of printable text");
		return 0;
	}
	if (id != 1)
		return fail(e, "bad_request",
		    "send {\"user\": NAME} to start, or {\"login_id\": ID, "
		    "\"answers\": [...]} to go on");
	if (!json_is_array(answers) ||
	    json_array_size(answers) > PAMMSG_MSGS_MAX)
		return fail(e, "bad_answers",
		    "answers must be an array of at most 8 strings");
	json_array_foreach(answers, i, v) {
		if (!json_is_string(v) ||
		    json_string_length(v) > PAMMSG_ANSWER_MAX ||
		    strlen(json_string_value(v)) != json_string_length(v))
			return fail(e, "bad_answers",
			    "each answer must be a string of at most 512 bytes "
			    "without NUL");
		out->answers[i] = json_string_value(v);
	}
	out->nanswers = json_array_size(answers);
	out->step = 1;
	return 0;
}

int
apireq_reconnect(json_t *body, const char **ticket, struct apireq_error *e)
{
	static const char *const keys[] = { "ticket", NULL };

	memset(e, 0, sizeof(*e));
	if (!only_keys(body, keys) ||
	    opt_string(body, "ticket", 64, ticket) != 1)
		return fail(e, "ticket_invalid",
		    "send {\"ticket\": T} with the ticket of the last login");
	return 0;
}

int
apireq_logoff(json_t *body, const char **session, struct apireq_error *e)
{
	static const char *const keys[] = { "session", NULL };

	memset(e, 0, sizeof(*e));
	if (!only_keys(body, keys) ||
	    opt_string(body, "session", STORE_ID_MAX - 1, session) != 1)
		return fail(e, "bad_request", "send {\"session\": ID}");
	return 0;
}

int
apireq_events(json_t *body, size_t *n, struct apireq_error *e)
{
	static const char *const types[] = { "start", "end", "refused", "bytes",
		NULL };
	json_t *events = json_object_get(body, "events"), *ev, *num;
	const char *type, *sid, *str;
	size_t i, t;

	*n = 0;
	memset(e, 0, sizeof(*e));
	if (!json_is_array(events) ||
	    json_array_size(events) > APIREQ_EVENTS_MAX)
		return fail(e, "bad_request",
		    "events must be an array of at most 1000 objects");
	json_array_foreach(events, i, ev) {
		if (!json_is_object(ev))
			return fail(
			    e, "bad_event", "each event must be an object");
		if (opt_string(ev, "type", 16, &type) != 1 ||
		    opt_string(ev, "sid", STORE_ID_MAX - 1, &sid) != 1)
			return fail(e, "bad_event",
			    "each event needs type and sid strings");
		for (t = 0; types[t] != NULL; t++)
			if (strcmp(types[t], type) == 0)
				break;
		if (types[t] == NULL)
			return fail(e, "bad_event",
			    "unknown event type (start, end, refused, bytes)");
		if (opt_string(ev, "reason", STORE_TEXT_MAX - 1, &str) < 0 ||
		    opt_string(ev, "channel", 64, &str) < 0 ||
		    opt_string(ev, "jti", 64, &str) < 0)
			return fail(e, "bad_event",
			    "reason, channel and jti must be short strings");
		num = json_object_get(ev, "bytes_in");
		if (num != NULL &&
		    (!json_is_integer(num) || json_integer_value(num) < 0))
			return fail(e, "bad_event", "bytes_in must be >= 0");
		num = json_object_get(ev, "bytes_out");
		if (num != NULL &&
		    (!json_is_integer(num) || json_integer_value(num) < 0))
			return fail(e, "bad_event", "bytes_out must be >= 0");
	}
	*n = json_array_size(events);
	return 0;
}

int
apireq_commands(json_t *body, int64_t max_wait, struct apireq_commands *out,
    struct apireq_error *e)
{
	static const char *const keys[] = { "epoch", "after", "wait", NULL };
	json_t *after = json_object_get(body, "after");
	json_t *wait = json_object_get(body, "wait");

	memset(out, 0, sizeof(*out));
	memset(e, 0, sizeof(*e));
	if (!only_keys(body, keys))
		return fail(e, "bad_request",
		    "unknown member (known: epoch, after, wait)");
	if (opt_string(body, "epoch", 64, &out->epoch) < 0)
		return fail(e, "bad_request", "epoch must be a string");
	if (after != NULL &&
	    (!json_is_integer(after) || json_integer_value(after) < 0))
		return fail(
		    e, "bad_request", "after must be a whole number >= 0");
	if (wait != NULL && !json_is_integer(wait))
		return fail(e, "bad_request", "wait must be a whole number");
	out->after = after ? (uint64_t)json_integer_value(after) : 0;
	out->wait = wait ? json_integer_value(wait) : 0;
	if (out->wait < 0)
		out->wait = 0;
	if (out->wait > max_wait)
		out->wait = max_wait;
	return 0;
}
