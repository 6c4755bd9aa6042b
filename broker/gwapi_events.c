/*
 * gwapi_events.c: events from gateways (see gwapi.h): a batch is checked
 * whole (apireq.c), then applied in one store transaction: tunnel starts
 * (with the one-use check of the token's jti across gateways), ends (the
 * gateway's close reason mapped to the audit's end reason), byte counts
 * and refused channels.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>

#include "apireq.h"
#include "gwapi.h"
#include "gwapi_int.h"
#include "sweep.h"
#include "token.h"
#include "vlog.h"

/* Extra time a used token's id is remembered past the token's lifetime:
 * gateways accept tokens a clock skew after exp, and events may arrive
 * late. */
#define TOKEN_USE_MARGIN 300

/*
 * Tokens are one-use per deployment, not per gateway: every gateway
 * accepts the shared audience, and the broker may hand out an address
 * that a TCP load balancer spreads over several gateways, so the token
 * cannot name the gateway that will see it. The broker keeps the jti of
 * every "start" in the store; a start for a jti another gateway used
 * first is a replay, refused, audited and cut on that gateway alone (the
 * same gateway sending the same start again is a retried batch). Returns
 * 1 when the start was a replay.
 */
static int
start_replayed(struct broker *b, const char *gw, const char *actor,
    const struct store_session *s, json_t *ev, int64_t now)
{
	const char *jti = json_string_value(json_object_get(ev, "jti"));
	char first[STORE_NAME_MAX];
	json_t *detail;
	int r;

	if (jti == NULL || *jti == '\0')
		return 0;
	r = store_token_use(b->store, jti, s->id, gw, now,
	    now + b->conf.token_lifetime + TOKEN_USE_MARGIN, first,
	    sizeof(first));
	if (r == 0 || (r == VDI_ERR_EXISTS && strcmp(first, gw) == 0))
		return 0;
	if (r != VDI_ERR_EXISTS) {
		vlog(VLOG_ERROR, "store_error",
		    "what=token_use sid=%s jti=%s error=%s", VLOG_Q(s->id),
		    VLOG_Q(jti), vdi_errname(r));
		return 0;
	}
	vlog(VLOG_WARNING, "token_replayed",
	    "sid=%s jti=%s gateway=%s first_gateway=%s action=cut",
	    VLOG_Q(s->id), VLOG_Q(jti), VLOG_Q(gw), VLOG_Q(first));
	detail = json_pack("{s:s, s:s}", "jti", jti, "first_gateway", first);
	broker_audit(b, actor, "tunnel_start", "refused", s->tenant, s->user,
	    s->device, s->id, "token_replayed", detail);
	json_decref(detail);
	gwq_cut_tunnel(b, gw, s->id, jti, "token_replayed");
	return 1;
}

/* 1 when ev is about a tunnel that a replayed token opened (its jti was
 * used first on another gateway): its end or refused channels say nothing
 * about the session, whose real tunnel is elsewhere. */
static int
of_replayed_tunnel(struct broker *b, const char *gw, json_t *ev)
{
	const char *jti = json_string_value(json_object_get(ev, "jti"));
	char first[STORE_NAME_MAX];

	return jti != NULL && *jti != '\0' &&
	    store_token_gateway(b->store, jti, first, sizeof(first)) == 0 &&
	    strcmp(first, gw) != 0;
}

/* The audit's name for how a tunnel ended, from the gateway's close
 * reason (kept in the row's detail as gateway_reason). */
static const char *
end_reason(const char *r)
{
	static const struct {
		const char *gw, *audit;
	} map[] = {
		{ "client_closed", "client_closed" },
		{ "client_error", "client_error" },
		{ "client_timeout", "client_error" },
		{ "desktop_closed", "desktop_closed" },
		{ "desktop_error", "desktop_error" },
		{ "desktop_timeout", "desktop_error" },
		{ "idle", "idle" },
		{ "max_session", "time_limit" },
		{ "replaced", "reconnect" },
		{ "cut:takeover", "takeover" },
		{ "cut:replaced", "takeover" },
		{ "cut:reconnect", "reconnect" },
		{ "cut:admin_kill", "admin_kill" },
		{ "cut:device_revoked", "revoked" },
		{ "cut:logoff", "logoff" },
		{ "shutdown", "gateway_shutdown" },
		{ "protocol_violation", "protocol_error" },
		{ "client_x224_malformed", "protocol_error" },
		{ "client_ssl_not_offered", "protocol_error" },
		{ "client_rdp_tls_failed", "protocol_error" },
	};
	size_t i;

	if (r == NULL)
		return "unknown";
	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(r, map[i].gw) == 0)
			return map[i].audit;
	return strncmp(r, "cut:", 4) == 0 ? r + 4 : r;
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
	char actor[80];
	json_t *detail;
	int64_t now = broker_now();

	if (store_session_get(b->store, sid, &s) != 0)
		return; /* unknown or purged session: nothing to do */
	snprintf(actor, sizeof(actor), "gateway:%s", gw);
	bm_inc(BM_GATEWAY_EVENT);
	if (strcmp(type, "start") == 0) {
		const char *jti = json_string_value(json_object_get(ev, "jti"));
		struct store_device dev;
		const char *why = NULL;

		/* A tunnel of an ended session or a revoked device (a gateway
		 * that had not heard of the cut yet): answered with a cut. */
		if (s.state == STORE_SESSION_ENDED)
			why = "session_ended";
		else if (store_device_get(b->store, s.device, &dev) == 0 &&
		    dev.revoked_at != 0)
			why = "device_revoked";
		if (why != NULL) {
			if (s.state == STORE_SESSION_ENDED)
				gwq_cut(b, sid, NULL, why);
			else
				broker_cut_session(b, sid, why, 1);
			detail = json_pack("{s:s, s:s}", "answer", "cut", "jti",
			    jti != NULL ? jti : "");
			broker_audit(b, actor, "tunnel_start", "refused",
			    s.tenant, s.user, s.device, sid, why, detail);
			json_decref(detail);
			return;
		}
		if (start_replayed(b, gw, actor, &s, ev, now))
			return;
		broker_store_failed("session_state", sid,
		    store_session_set_state(
			b->store, sid, STORE_SESSION_ACTIVE, NULL, now));
		/* While a tunnel is up its tickets stay good (a day at most,
		 * in case a gateway dies without telling us). */
		broker_store_failed("ticket_expiry", sid,
		    store_ticket_set_expiry(b->store, sid, now + 86400));
		broker_audit(b, actor, "tunnel_start", "ok", s.tenant, s.user,
		    s.device, sid, NULL, NULL);
	} else if (strcmp(type, "end") == 0 && of_replayed_tunnel(b, gw, ev)) {
		detail = json_pack(
		    "{s:s}", "gateway_reason", reason != NULL ? reason : "");
		broker_audit(b, actor, "tunnel_end", "ok", s.tenant, s.user,
		    s.device, sid, end_reason(reason), detail);
		json_decref(detail);
	} else if (strcmp(type, "end") == 0) {
		detail = json_pack("{s:I, s:I, s:s}", "bytes_in",
		    json_integer_value(json_object_get(ev, "bytes_in")),
		    "bytes_out",
		    json_integer_value(json_object_get(ev, "bytes_out")),
		    "gateway_reason", reason != NULL ? reason : "");
		if (s.state != STORE_SESSION_ENDED)
			broker_store_failed("session_state", sid,
			    store_session_set_state(b->store, sid,
				STORE_SESSION_DISCONNECTED, NULL, now));
		/* The reconnect window runs from the drop. A session closed
		 * for idleness is not resumed without the password: nobody
		 * was there, and the tablet may be lying around. */
		if (reason != NULL && strcmp(reason, "idle") == 0)
			broker_store_failed("ticket_revoke", sid,
			    store_ticket_revoke_session(b->store, sid));
		else
			broker_store_failed("ticket_expiry", sid,
			    store_ticket_set_expiry(
				b->store, sid, now + s.reconnect_window));
		broker_audit(b, actor, "tunnel_end", "ok", s.tenant, s.user,
		    s.device, sid, end_reason(reason), detail);
		json_decref(detail);
		/* At its max_session deadline (by this broker's clock, a few
		 * seconds' skew allowed when the gateway says so) the session
		 * ends instead of waiting for a reconnect. */
		if (s.deadline != 0 &&
		    (now >= s.deadline ||
			(reason != NULL && strcmp(reason, "max_session") == 0 &&
			    now + SWEEP_PENDING_GRACE >= s.deadline)))
			broker_store_failed("session_end", sid,
			    sweep_end(b, &s, SWEEP_MAX_SESSION));
	} else if (strcmp(type, "refused") == 0) {
		bm_inc(BM_REFUSED_CHANNEL);
		detail = json_pack(
		    "{s:s}", "channel", channel != NULL ? channel : "");
		broker_audit(b, actor, "channel_refused", "refused", s.tenant,
		    s.user, s.device, sid, reason, detail);
		json_decref(detail);
	} else {
		vlog(VLOG_DEBUG, "session_bytes", "sid=%s gateway=%s",
		    VLOG_Q(sid), VLOG_Q(gw));
	}
}

/* One batch of checked events, applied inside one store transaction. */
struct event_batch {
	struct broker *b;
	const char *gw;
	json_t *events;
};

static int
events_txn(struct store *st, void *arg)
{
	struct event_batch *eb = arg;
	json_t *ev;
	size_t i;

	json_array_foreach(eb->events, i, ev)
		one_event(eb->b, eb->gw, ev);
	return 0;
}

void
gwapi_events(struct broker *b, struct evhttp_request *req,
    const struct broker_peer *peer, json_t *body, double t0)
{
	json_t *events = json_object_get(body, "events");
	struct apireq_error ae;
	struct event_batch eb;
	char gw[BCONF_NAME_MAX];
	size_t n = 0;
	int r;

	/* Check the whole batch first: a refused batch changes nothing, so
	 * the gateway can fix and resend it without duplicates. */
	if (apireq_events(body, &n, &ae) != 0) {
		http_error(b, req, 400, ae.code, ae.message, t0);
		return;
	}
	gwapi_gw_name(peer, gw, sizeof(gw));
	gwq_heard(b->gwq, gw);
	/* One commit (one WAL sync) per batch instead of several per event:
	 * gateways send their events in batches (brokerlink.c). When the
	 * commit fails nothing of the batch is kept and the gateway sends it
	 * again. */
	eb.b = b;
	eb.gw = gw;
	eb.events = events;
	if ((r = store_txn(b->store, events_txn, &eb)) != 0) {
		vlog(VLOG_ERROR, "store_error",
		    "what=gateway_events events=%zu gateway=%s error=%s", n,
		    VLOG_Q(gw), vdi_errname(r));
		http_error(b, req, 503, "store_unavailable",
		    "the events were not stored: send them again", t0);
		return;
	}
	http_reply(
	    b, req, 200, json_pack("{s:I}", "accepted", (json_int_t)n), t0);
}
