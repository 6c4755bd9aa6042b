/*
 * gwapi.c: commands to gateways (see gwapi.h): the queue of cuts in force
 * (stored, numbered within an epoch), the gateways' long polls for them
 * and their acknowledgements, and vdictl's view of it (gwq_status). The
 * events gateways send are taken in gwapi_events.c.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <event2/http.h>

#include "apireq.h"
#include "gwapi.h"
#include "gwapi_int.h"
#include "sweep.h"
#include "token.h"
#include "vlog.h"

struct gwq_cmd {
	uint64_t seq;
	struct store_cut cut;
	/* A cut of one tunnel on one gateway (a replayed token): not stored,
	 * only for that gateway, only the tunnel of that jti. */
	char gateway[BCONF_NAME_MAX];
	char jti[64];
};

/* What each gateway (by certificate CN) has acknowledged. */
struct gwq_ack {
	char name[BCONF_NAME_MAX];
	uint64_t after;
	int64_t last_heard; /* its last poll or events batch (vdictl status) */
};

struct gwq_wait {
	struct gwq_wait *next;
	struct broker *b;
	struct evhttp_request *req;
	struct event *timer;
	uint64_t after;
	double t0;
	char gw[BCONF_NAME_MAX]; /* the polling gateway's name */
};

/* The cuts in force, by seq (this epoch's numbering); the store has them
 * too, so that a restarted broker serves them again. */
struct gwq {
	char epoch[TOKEN_ID_HEX];
	uint64_t next_seq; /* seq of the next command */
	struct gwq_cmd *cmds;
	size_t ncmds, cap;
	struct gwq_wait *waiting;
	size_t nwaiting;
	struct gwq_ack acks[4 * BCONF_GATEWAYS_MAX];
	size_t nacks;
	int64_t pruned; /* last store_cut_prune */
};

/* Drops the cuts whose hold is over (a prefix: holds are equal). */
static void
expire(struct gwq *q, int64_t now)
{
	size_t n = 0;

	while (n < q->ncmds && q->cmds[n].cut.expires <= now)
		n++;
	if (n == 0)
		return;
	memmove(q->cmds, q->cmds + n, (q->ncmds - n) * sizeof(*q->cmds));
	q->ncmds -= n;
}

static int
push(struct gwq *q, const struct store_cut *c, const char *gateway,
    const char *jti)
{
	struct gwq_cmd *nc;
	size_t ncap;

	if (q->ncmds == q->cap) {
		ncap = q->cap ? q->cap * 2 : 64;
		if ((nc = realloc(q->cmds, ncap * sizeof(*nc))) == NULL)
			return VDI_ERR_ALLOC;
		q->cmds = nc;
		q->cap = ncap;
	}
	memset(&q->cmds[q->ncmds], 0, sizeof(q->cmds[q->ncmds]));
	q->cmds[q->ncmds].seq = q->next_seq++;
	q->cmds[q->ncmds].cut = *c;
	snprintf(q->cmds[q->ncmds].gateway, sizeof(q->cmds[q->ncmds].gateway),
	    "%s", gateway != NULL ? gateway : "");
	snprintf(q->cmds[q->ncmds].jti, sizeof(q->cmds[q->ncmds].jti), "%s",
	    jti != NULL ? jti : "");
	q->ncmds++;
	return 0;
}

static int
load_cut(const struct store_cut *c, void *arg)
{
	return push(arg, c, NULL, NULL);
}

int
gwq_init(struct broker *b)
{
	int64_t now = broker_now();
	int r;

	if ((b->gwq = calloc(1, sizeof(*b->gwq))) == NULL)
		return VDI_ERR_ALLOC;
	b->gwq->next_seq = 1;
	if ((r = token_random_id(b->gwq->epoch)) != 0)
		return r;
	/* The cuts still in force before a restart (kill -9 included). */
	b->gwq->pruned = now;
	if (store_cut_prune(b->store, now) != 0 ||
	    store_cut_list(b->store, now, load_cut, b->gwq) != 0)
		vlog(VLOG_ERROR, "gateway_cuts_unreadable",
		    "detail=\"cuts made before this start are not served\"");
	else if (b->gwq->ncmds > 0)
		vlog(VLOG_NOTICE, "gateway_cuts_loaded", "cuts=%zu",
		    b->gwq->ncmds);
	return 0;
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
	free(b->gwq->cmds);
	free(b->gwq);
	b->gwq = NULL;
}

size_t
gwq_waiting(struct broker *b)
{
	return b->gwq != NULL ? b->gwq->nwaiting : 0;
}

/* Commands with seq > after for gateway gw (at most GWQ_ANSWER_MAX), as a
 * JSON reply; "next" is the last seq in it, so a gateway pages through a
 * backlog. */
static json_t *
commands_since(struct gwq *q, uint64_t after, const char *gw)
{
	json_t *list = json_array(), *o;
	uint64_t next = q->next_seq - 1;
	size_t i, n = 0;

	if (list == NULL)
		return NULL;
	expire(q, broker_now());
	for (i = 0; i < q->ncmds; i++) {
		const struct gwq_cmd *c = &q->cmds[i];

		if (c->seq <= after)
			continue;
		if (n == GWQ_ANSWER_MAX) {
			next = c->seq - 1;
			break;
		}
		if (c->gateway[0] != '\0' && strcmp(c->gateway, gw) != 0)
			continue;
		o = json_pack("{s:I, s:s, s:s, s:I, s:s}", "seq",
		    (json_int_t)c->seq, "type", "cut",
		    c->cut.kind == STORE_CUT_DEVICE ? "device" : "sid",
		    c->cut.key, "time", (json_int_t)c->cut.time, "reason",
		    c->cut.reason);
		/* "before": for gateways that know no "time" */
		if (o != NULL && c->cut.kind == STORE_CUT_SESSION)
			json_object_set_new(o, "before",
			    json_integer((json_int_t)c->cut.time + 1));
		if (o != NULL && c->cut.keep_jti[0] != '\0')
			json_object_set_new(
			    o, "keep_jti", json_string(c->cut.keep_jti));
		if (o != NULL && c->jti[0] != '\0')
			json_object_set_new(o, "jti", json_string(c->jti));
		if (o != NULL) {
			json_array_append_new(list, o);
			n++;
		}
	}
	return json_pack("{s:s, s:I, s:o}", "epoch", q->epoch, "next",
	    (json_int_t)next, "commands", list);
}

static void
answer(struct gwq_wait *w)
{
	struct gwq *q = w->b->gwq;

	unlink_wait(q, w);
	evhttp_connection_set_closecb(
	    evhttp_request_get_connection(w->req), NULL, NULL);
	http_reply(
	    w->b, w->req, 200, commands_since(q, w->after, w->gw), w->t0);
	wait_free(w);
}

/* Queues a cut and answers every waiting poll. A cut for every gateway
 * is stored first; one for a single gateway's tunnel (gateway and jti
 * set) lives in memory only. */
static void
queue(struct broker *b, enum store_cut_kind kind, const char *key,
    const char *keep_jti, const char *gateway, const char *jti,
    const char *reason)
{
	struct gwq *q = b->gwq;
	struct gwq_wait *w, *n;
	struct store_cut c;
	int r;

	memset(&c, 0, sizeof(c));
	c.kind = kind;
	c.time = broker_now();
	c.expires = c.time + GWQ_CUT_HOLD;
	snprintf(c.key, sizeof(c.key), "%s", key);
	if (keep_jti != NULL)
		snprintf(c.keep_jti, sizeof(c.keep_jti), "%s", keep_jti);
	snprintf(c.reason, sizeof(c.reason), "%s", reason);
	/* Persisted before anyone is told: a broker killed right after the
	 * admin's answer serves it again when it starts. */
	if (gateway == NULL && c.time - q->pruned >= 60) {
		broker_store_failed(
		    "cut_prune", NULL, store_cut_prune(b->store, c.time));
		q->pruned = c.time;
	}
	if (gateway == NULL && (r = store_cut_add(b->store, &c)) != 0)
		vlog(VLOG_ERROR, "gateway_cut_not_persisted",
		    "%s=%s reason=%s error=\"%s\"",
		    kind == STORE_CUT_DEVICE ? "device" : "sid", key, reason,
		    vdi_strerror(r));
	expire(q, c.time);
	if (push(q, &c, gateway, jti) != 0) {
		vlog(VLOG_ERROR, "gateway_cut_lost",
		    "%s=%s reason=%s error=\"out of memory\"",
		    kind == STORE_CUT_DEVICE ? "device" : "sid", key, reason);
		return;
	}
	vlog(VLOG_INFO, "gateway_cut_queued",
	    "seq=%llu %s=%s keep_jti=%s reason=%s gateway=%s jti=%s "
	    "waiting_gateways=%zu",
	    (unsigned long long)(q->next_seq - 1),
	    kind == STORE_CUT_DEVICE ? "device" : "sid", VLOG_Q(key),
	    VLOG_Q(c.keep_jti[0] ? c.keep_jti : "-"), VLOG_Q(reason),
	    gateway != NULL ? VLOG_Q(gateway) : "all",
	    jti != NULL ? VLOG_Q(jti) : "-", q->nwaiting);
	for (w = q->waiting; w != NULL; w = n) {
		n = w->next;
		answer(w);
	}
}

void
gwq_cut(
    struct broker *b, const char *sid, const char *keep_jti, const char *reason)
{
	queue(b, STORE_CUT_SESSION, sid, keep_jti, NULL, NULL, reason);
}

void
gwq_cut_tunnel(struct broker *b, const char *gateway, const char *sid,
    const char *jti, const char *reason)
{
	queue(b, STORE_CUT_SESSION, sid, NULL, gateway, jti, reason);
}

void
gwq_cut_device(struct broker *b, const char *thumbprint, const char *reason)
{
	queue(b, STORE_CUT_DEVICE, thumbprint, NULL, NULL, NULL, reason);
}

/* A gateway's poll with "after" in this epoch acknowledges every command
 * up to it: it applied them before asking again. Logged once per step. */
static struct gwq_ack *
ack_of(struct gwq *q, const char *gw)
{
	struct gwq_ack *a = NULL;
	size_t i;

	for (i = 0; i < q->nacks && a == NULL; i++)
		if (strcmp(q->acks[i].name, gw) == 0)
			a = &q->acks[i];
	if (a == NULL) {
		if (q->nacks == sizeof(q->acks) / sizeof(q->acks[0]))
			return NULL;
		a = &q->acks[q->nacks++];
		snprintf(a->name, sizeof(a->name), "%s", gw);
	}
	return a;
}

/* The gateway gw spoke to the broker now (a poll or an events batch). */
void
gwq_heard(struct gwq *q, const char *gw)
{
	struct gwq_ack *a = ack_of(q, gw);

	if (a != NULL)
		a->last_heard = broker_now();
}

static void
acked(struct gwq *q, const char *gw, uint64_t after)
{
	struct gwq_ack *a = ack_of(q, gw);

	if (a == NULL || after <= a->after)
		return;
	a->after = after;
	vlog(VLOG_INFO, "gateway_cuts_acked", "gateway=%s upto=%llu", gw,
	    (unsigned long long)after);
}

uint64_t
gwq_last_seq(struct broker *b)
{
	return b->gwq->next_seq - 1;
}

json_t *
gwq_status(struct broker *b)
{
	struct gwq *q = b->gwq;
	json_t *cuts = json_array(), *gws = json_array(), *o;
	const char *name;
	uint64_t acked;
	size_t i, j;

	if (cuts == NULL || gws == NULL) {
		json_decref(cuts);
		json_decref(gws);
		return NULL;
	}
	expire(q, broker_now());
	for (i = 0; i < q->ncmds; i++) {
		const struct gwq_cmd *c = &q->cmds[i];

		o = json_pack("{s:I, s:s, s:s, s:s, s:s, s:I, s:I}", "seq",
		    (json_int_t)c->seq, "kind",
		    c->cut.kind == STORE_CUT_DEVICE ? "device" : "session",
		    "name", c->cut.key, "keep_jti", c->cut.keep_jti, "reason",
		    c->cut.reason, "time", (json_int_t)c->cut.time, "expires",
		    (json_int_t)c->cut.expires);
		if (o != NULL)
			json_array_append_new(cuts, o);
	}
	/* Every configured gateway, polled or not. */
	for (i = 0; i < b->conf.ngateways; i++) {
		const struct gwq_wait *w;
		int64_t last_heard = 0;
		int polling = 0;

		name = b->conf.gateways[i].name;
		acked = 0;
		for (j = 0; j < q->nacks; j++)
			if (strcmp(q->acks[j].name, name) == 0) {
				acked = q->acks[j].after;
				last_heard = q->acks[j].last_heard;
			}
		for (w = q->waiting; w != NULL; w = w->next)
			if (strcmp(w->gw, name) == 0)
				polling = 1;
		o = json_pack("{s:s, s:I, s:b, s:I, s:b}", "name", name,
		    "acked", (json_int_t)acked, "current",
		    acked + 1 >= q->next_seq, "last_heard",
		    (json_int_t)last_heard, "polling", polling);
		if (o != NULL)
			json_array_append_new(gws, o);
	}
	return json_pack("{s:s, s:I, s:o, s:o}", "epoch", q->epoch, "last_seq",
	    (json_int_t)(q->next_seq - 1), "cuts", cuts, "gateways", gws);
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
	char gw[BCONF_NAME_MAX], qgw[2 * BCONF_NAME_MAX + 8];

	if (apireq_commands(body, GWQ_WAIT_MAX, &cr, &ae) != 0) {
		http_error(b, req, 400, ae.code, ae.message, t0);
		return;
	}
	/* Another epoch (the broker restarted): start over from 0, which
	 * serves every cut still in force. */
	gwapi_gw_name(peer, gw, sizeof(gw));
	gwq_heard(q, gw);
	if (cr.epoch != NULL && strcmp(cr.epoch, q->epoch) == 0) {
		after = cr.after;
		if (after >= q->next_seq)
			after = q->next_seq - 1;
		acked(q, vlog_quote(gw, qgw, sizeof(qgw)), after);
	}
	wait = cr.wait;
	if (after + 1 < q->next_seq || wait <= 0) {
		http_reply(b, req, 200, commands_since(q, after, gw), t0);
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
	snprintf(w->gw, sizeof(w->gw), "%s", gw);
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

const char *
gwapi_gw_name(const struct broker_peer *peer, char *buf, size_t len)
{
	X509_NAME *n = X509_get_subject_name(peer->cert);

	buf[0] = '\0';
	if (n != NULL)
		X509_NAME_get_text_by_NID(n, NID_commonName, buf, (int)len);
	return buf;
}
