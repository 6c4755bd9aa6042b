/* gwapi.c: events from gateways and commands to them (see gwapi.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <event2/http.h>

#include "apireq.h"
#include "gwapi.h"
#include "sweep.h"
#include "token.h"
#include "vlog.h"

struct gwq_cmd {
	uint64_t seq;
	int64_t time;
	char sid[STORE_ID_MAX];
	char keep_jti[64];
	char reason[64];
};

struct gwq_wait {
	struct gwq_wait *next;
	struct broker *b;
	struct evhttp_request *req;
	struct event *timer;
	uint64_t after;
	double t0;
};

struct gwq {
	char epoch[TOKEN_ID_HEX];
	uint64_t next_seq; /* seq of the next command */
	struct gwq_cmd ring[GWQ_RING];
	struct gwq_wait *waiting;
	size_t nwaiting;
};

int
gwq_init(struct broker *b)
{
	if ((b->gwq = calloc(1, sizeof(*b->gwq))) == NULL)
		return VDI_ERR_ALLOC;
	b->gwq->next_seq = 1;
	return token_random_id(b->gwq->epoch);
}

static void
wait_free(struct gwq_wait *w)
{
	if (w->timer != NULL)
		event_free(w->timer);
	free(w);
}

static void
unlink_wait(struct gwq *q, struct gwq_wait *w)
{
	struct gwq_wait **pp;

	for (pp = &q->waiting; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == w) {
			*pp = w->next;
			q->nwaiting--;
			return;
		}
	}
}

void
gwq_free(struct broker *b)
{
	struct gwq_wait *w, *n;

	if (b->gwq == NULL)
		return;
	for (w = b->gwq->waiting; w != NULL; w = n) {
		n = w->next;
		wait_free(w);
	}
	free(b->gwq);
	b->gwq = NULL;
}

size_t
gwq_waiting(struct broker *b)
{
	return b->gwq != NULL ? b->gwq->nwaiting : 0;
}

/* Commands with seq > after, as a JSON reply. */
static json_t *
commands_since(struct gwq *q, uint64_t after)
{
	json_t *list = json_array(), *o;
	uint64_t first, s;

	if (list == NULL)
		return NULL;
	first = q->next_seq > GWQ_RING ? q->next_seq - GWQ_RING : 1;
	if (after + 1 > first)
		first = after + 1;
	for (s = first; s < q->next_seq; s++) {
		const struct gwq_cmd *c = &q->ring[s % GWQ_RING];

		o = json_pack("{s:I, s:s, s:s, s:I, s:s}", "seq",
		    (json_int_t)c->seq, "type", "cut", "sid", c->sid, "before",
		    (json_int_t)c->time, "reason", c->reason);
		if (o != NULL && c->keep_jti[0] != '\0')
			json_object_set_new(
			    o, "keep_jti", json_string(c->keep_jti));
		if (o != NULL)
			json_array_append_new(list, o);
	}
	return json_pack("{s:s, s:I, s:o}", "epoch", q->epoch, "next",
	    (json_int_t)(q->next_seq - 1), "commands", list);
}

static void
answer(struct gwq_wait *w)
{
	struct gwq *q = w->b->gwq;

	unlink_wait(q, w);
	evhttp_connection_set_closecb(
	    evhttp_request_get_connection(w->req), NULL, NULL);
	http_reply(w->b, w->req, 200, commands_since(q, w->after), w->t0);
	wait_free(w);
}

void
gwq_cut(
    struct broker *b, const char *sid, const char *keep_jti, const char *reason)
{
	struct gwq *q = b->gwq;
	struct gwq_cmd *c = &q->ring[q->next_seq % GWQ_RING];
	struct gwq_wait *w, *n;

	memset(c, 0, sizeof(*c));
	c->seq = q->next_seq++;
	c->time = broker_now() + 1; /* tunnels from this second on are
				     * named by keep_jti or not cut */
	snprintf(c->sid, sizeof(c->sid), "%s", sid);
	if (keep_jti != NULL)
		snprintf(c->keep_jti, sizeof(c->keep_jti), "%s", keep_jti);
	snprintf(c->reason, sizeof(c->reason), "%s", reason);
	vlog(VLOG_INFO, "gateway_cut_queued",
	    "seq=%llu sid=%s reason=%s "
	    "waiting_gateways=%zu",
	    (unsigned long long)c->seq, sid, reason, q->nwaiting);
	for (w = q->waiting; w != NULL; w = n) {
		n = w->next;
		answer(w);
	}
}

static void
wait_timeout(evutil_socket_t fd, short what, void *arg)
{
	answer(arg);
}

static void
wait_closed(struct evhttp_connection *conn, void *arg)
{
	struct gwq_wait *w = arg;

	/* The gateway went away; evhttp frees the request itself. */
	unlink_wait(w->b->gwq, w);
	wait_free(w);
}

void
gwapi_commands(struct broker *b, struct evhttp_request *req,
    const struct broker_peer *peer, json_t *body, double t0)
{
	struct gwq *q = b->gwq;
	struct gwq_wait *w;
	struct timeval tv;
	struct apireq_commands cr;
	struct apireq_error ae;
	uint64_t after = 0;
	int64_t wait;

	if (apireq_commands(body, GWQ_WAIT_MAX, &cr, &ae) != 0) {
		http_error(b, req, 400, ae.code, ae.message, t0);
		return;
	}
	/* Another epoch (the broker restarted): start over from 0. */
	if (cr.epoch != NULL && strcmp(cr.epoch, q->epoch) == 0)
		after = cr.after;
	wait = cr.wait;
	if (after + 1 < q->next_seq || wait <= 0) {
		http_reply(b, req, 200, commands_since(q, after), t0);
		return;
	}
	if (q->nwaiting >= 4 * BCONF_GATEWAYS_MAX ||
	    (w = calloc(1, sizeof(*w))) == NULL) {
		http_error(
		    b, req, 503, "busy", "too many waiting gateways", t0);
		return;
	}
	w->b = b;
	w->req = req;
	w->after = after;
	w->t0 = 0; /* a long poll is not a latency sample */
	if ((w->timer = evtimer_new(b->base, wait_timeout, w)) == NULL) {
		free(w);
		http_error(b, req, 500, "internal_error", "no timer", t0);
		return;
	}
	tv.tv_sec = wait;
	tv.tv_usec = 0;
	evtimer_add(w->timer, &tv);
	evhttp_connection_set_closecb(
	    evhttp_request_get_connection(req), wait_closed, w);
	w->next = q->waiting;
	q->waiting = w;
	q->nwaiting++;
}

static const char *
gw_name(const struct broker_peer *peer, char *buf, size_t len)
{
	X509_NAME *n = X509_get_subject_name(peer->cert);

	buf[0] = '\0';
	if (n != NULL)
		X509_NAME_get_text_by_NID(n, NID_commonName, buf, (int)len);
	return buf;
}

/* Applies one checked event. */
static void
one_event(struct broker *b, const char *gw, json_t *ev)
{
	const char *type = json_string_value(json_object_get(ev, "type"));
	const char *sid = json_string_value(json_object_get(ev, "sid"));
	const char *reason = json_string_value(json_object_get(ev, "reason"));
	const char *channel = json_string_value(json_object_get(ev, "channel"));
	struct store_session s;
	char actor[80], q[300];
	json_t *detail;
	int64_t now = broker_now();

	if (store_session_get(b->store, sid, &s) != 0)
		return; /* unknown or purged session: nothing to do */
	snprintf(actor, sizeof(actor), "gateway:%s", gw);
	b->m.gateway_events++;
	if (strcmp(type, "start") == 0) {
		(void)!store_session_set_state(
		    b->store, sid, STORE_SESSION_ACTIVE, NULL, now);
		/* While a tunnel is up its tickets stay good (a day at most,
		 * in case a gateway dies without telling us). */
		(void)!store_ticket_set_expiry(b->store, sid, now + 86400);
		broker_audit(b, actor, "tunnel_start", "ok", s.tenant, s.user,
		    s.device, sid, NULL, NULL);
	} else if (strcmp(type, "end") == 0) {
		detail = json_pack("{s:I, s:I}", "bytes_in",
		    json_integer_value(json_object_get(ev, "bytes_in")),
		    "bytes_out",
		    json_integer_value(json_object_get(ev, "bytes_out")));
		if (s.state != STORE_SESSION_ENDED)
			(void)!store_session_set_state(b->store, sid,
			    STORE_SESSION_DISCONNECTED, NULL, now);
		/* The reconnect window runs from the drop. A session closed
		 * for idleness is not resumed without the password: nobody
		 * was there, and the tablet may be lying around. */
		if (reason != NULL && strcmp(reason, "idle") == 0)
			(void)!store_ticket_revoke_session(b->store, sid);
		else
			(void)!store_ticket_set_expiry(
			    b->store, sid, now + s.reconnect_window);
		broker_audit(b, actor, "tunnel_end", "ok", s.tenant, s.user,
		    s.device, sid, reason, detail);
		json_decref(detail);
		/* At its max_session deadline (by this broker's clock, a few
		 * seconds' skew allowed when the gateway says so) the session
		 * ends instead of waiting for a reconnect. */
		if (s.deadline != 0 &&
		    (now >= s.deadline ||
			(reason != NULL && strcmp(reason, "max_session") == 0 &&
			    now + SWEEP_PENDING_GRACE >= s.deadline)))
			(void)!sweep_end(b, &s, SWEEP_MAX_SESSION);
	} else if (strcmp(type, "refused") == 0) {
		b->m.refused_channels++;
		detail = json_pack(
		    "{s:s}", "channel", channel != NULL ? channel : "");
		broker_audit(b, actor, "channel_refused", "refused", s.tenant,
		    s.user, s.device, sid, reason, detail);
		json_decref(detail);
	} else {
		vlog(VLOG_DEBUG, "session_bytes", "sid=%s gateway=%s", sid,
		    vlog_quote(gw, q, sizeof(q)));
	}
}

void
gwapi_events(struct broker *b, struct evhttp_request *req,
    const struct broker_peer *peer, json_t *body, double t0)
{
	json_t *events = json_object_get(body, "events"), *ev;
	struct apireq_error ae;
	char gw[BCONF_NAME_MAX];
	size_t i, n = 0;

	/* Check the whole batch first: a refused batch changes nothing, so
	 * the gateway can fix and resend it without duplicates. */
	if (apireq_events(body, &n, &ae) != 0) {
		http_error(b, req, 400, ae.code, ae.message, t0);
		return;
	}
	gw_name(peer, gw, sizeof(gw));
	json_array_foreach(events, i, ev) one_event(b, gw, ev);
	http_reply(
	    b, req, 200, json_pack("{s:I}", "accepted", (json_int_t)n), t0);
}
