/* devapi.c: the device API besides login: reconnect, logoff, health (see
 * devapi.h). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "apireq.h"
#include "devapi.h"
#include "grant.h"
#include "sweep.h"
#include "token.h"
#include "vlog.h"

void
device_reconnect(struct broker *b, struct evhttp_request *req,
    const struct broker_peer *peer, json_t *body, double t0)
{
	const char *ticket = NULL;
	struct apireq_error ae;
	char hash[TOKEN_HASH_HEX], sid[STORE_ID_MAX];
	struct store_session s;
	struct grant_req g;
	const char *code, *msg;
	int64_t now = broker_now(), wait = 0;
	int r, time_up = 0;

	if (rl_check(b->rl_device, peer->thumb_hex, now, &wait) != 0) {
		bm_inc(BM_RECONNECT_REFUSED);
		http_reply(b, req, 429,
		    json_pack("{s:s, s:s, s:I}", "error", "rate_limited",
			"message", "too many failed attempts from this device",
			"retry_after", (json_int_t)wait),
		    t0);
		return;
	}
	/* A revoked device is told so, whatever its ticket. */
	{
		struct store_device sd;

		if (store_device_get(b->store, peer->thumb_hex, &sd) == 0 &&
		    sd.revoked_at != 0) {
			char why[STORE_TEXT_MAX + 64];

			bm_inc(BM_RECONNECT_REFUSED);
			snprintf(why, sizeof(why),
			    "this device was revoked by %.100s: %.300s",
			    sd.revoked_by, sd.revoke_reason);
			broker_audit(b, "broker", "reconnect", "refused",
			    peer->ca_name, NULL, peer->thumb_hex, NULL,
			    "device_revoked", NULL);
			http_error(b, req, 403, "device_revoked", why, t0);
			return;
		}
	}
	sid[0] = '\0';
	if (apireq_reconnect(body, &ticket, &ae) != 0 ||
	    token_ticket_hash(ticket, hash) != 0) {
		r = VDI_ERR_NOT_FOUND;
	} else {
		r = store_ticket_use(b->store, hash, peer->thumb_hex, now, sid);
	}
	if (r == 0 &&
	    (store_session_get(b->store, sid, &s) != 0 ||
		s.state == STORE_SESSION_ENDED)) {
		r = VDI_ERR_NOT_FOUND;
	}
	if (r == 0 && strcmp(s.tenant, peer->ca_name) != 0)
		r = VDI_ERR_DENIED;
	/* A session at its max_session deadline ends here if the sweeper
	 * has not ended it yet; one that ended so is named as such. */
	if (r == 0 && s.deadline != 0 && now >= s.deadline) {
		broker_store_failed(
		    "session_end", s.id, sweep_end(b, &s, SWEEP_MAX_SESSION));
		r = VDI_ERR_TOKEN_EXPIRED;
	}
	if (r != 0) {
		struct store_session ts;

		if (r != VDI_ERR_DENIED && sid[0] != '\0' &&
		    store_session_get(b->store, sid, &ts) == 0 &&
		    ts.state == STORE_SESSION_ENDED &&
		    strcmp(ts.end_reason,
			sweep_reason_name(SWEEP_MAX_SESSION)) == 0)
			time_up = 1;
		switch (r) {
		case VDI_ERR_EXISTS:
			code = "ticket_used";
			msg = "this reconnect ticket was used already: log in";
			break;
		case VDI_ERR_TOKEN_EXPIRED:
			code = "ticket_expired";
			msg = "the reconnect window has passed: log in";
			break;
		case VDI_ERR_REPLACED:
			code = "replaced";
			msg = "a newer login took this session over";
			break;
		case VDI_ERR_DENIED:
			code = "ticket_wrong_device";
			msg = "this ticket belongs to another device: log in";
			break;
		default:
			code = "ticket_invalid";
			msg =
			    "unknown ticket, or its session has ended: log in";
			break;
		}
		if (time_up) {
			code = "max_session";
			msg = "your session has reached its time limit: log in "
			      "to start a new one";
		}
		bm_inc(BM_RECONNECT_REFUSED);
		/* A replaced ticket is a genuine one: no guessing to slow
		 * down, and the newer program on this device must not wait
		 * for the older one's refusal. Nor did a device whose session
		 * ran out of time do anything wrong. */
		if (r != VDI_ERR_REPLACED && !time_up)
			rl_fail(b->rl_device, peer->thumb_hex, now);
		/* Name the ticket's session and user when it is known, so
		 * `vdictl audit --user` finds the refusal. */
		s.user[0] = '\0';
		if (sid[0] != '\0' && store_session_get(b->store, sid, &s) != 0)
			s.user[0] = '\0';
		broker_audit(b, "broker", "reconnect", "refused", peer->ca_name,
		    s.user[0] != '\0' ? s.user : NULL, peer->thumb_hex,
		    sid[0] != '\0' ? sid : NULL, code, NULL);
		http_error(b, req, time_up ? 403 : 401, code, msg, t0);
		return;
	}
	memset(&g, 0, sizeof(g));
	g.peer = peer;
	g.tenant = s.tenant;
	g.user = s.user;
	g.action = "reconnect";
	g.session_id = s.id;
	grant(b, req, &g, t0);
}

void
device_logoff(struct broker *b, struct evhttp_request *req,
    const struct broker_peer *peer, json_t *body, double t0)
{
	const char *sid = NULL;
	struct apireq_error ae;
	struct store_session s;

	if (apireq_logoff(body, &sid, &ae) != 0) {
		http_error(b, req, 400, ae.code, ae.message, t0);
		return;
	}
	if (store_session_get(b->store, sid, &s) != 0 ||
	    strcmp(s.device, peer->thumb_hex) != 0) {
		http_error(b, req, 404, "no_such_session",
		    "no session of this device by that id", t0);
		return;
	}
	if (s.state != STORE_SESSION_ENDED) {
		broker_cut_session(b, s.id, "logoff", 1);
		broker_audit(b, "user", "logoff", "ok", s.tenant, s.user,
		    s.device, s.id, NULL, NULL);
	}
	http_reply(b, req, 200,
	    json_pack("{s:s, s:s}", "state", "ended", "session", s.id), t0);
}

void
device_health(struct broker *b, struct evhttp_request *req,
    const struct broker_peer *peer, json_t *body, double t0)
{
	http_reply(b, req, 200,
	    json_pack("{s:s, s:s}", "status", "ok", "version", PACKAGE_VERSION),
	    t0);
}
