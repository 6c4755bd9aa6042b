/*
 * session.c: the owner of a tunnel's life (one file per role, see
 * gateway.h; the steps are in sessfsm.h):
 *
 *   front.c      front TLS, the front request, its answers
 *   admission.c  token, policy, limits, cuts; sealed credentials
 *   desktop.c    the desktop leg (TCP, X.224, its security)
 *   client.c     the client's X.224 and RDP-level TLS in the tunnel
 *   pump.c       relaying PDUs between the two legs
 *
 * This file creates a session (session_accept), moves it between states
 * (session_advance), joins the legs (desktop ready: the front accepts,
 * the client leg starts; client leg up: the relay starts), holds its
 * timer and its kill event, and is the only one that frees it: every end
 * goes through session_close(), and the free runs from a deferred event
 * (session_reap), so no callback can touch freed memory. Every session
 * has one timer: the handshake timeout until the relay starts, then
 * whichever comes first of the idle timeout (no client input for the
 * token's idle seconds) and the session's max_session deadline (the
 * token's mxs), where the tunnel is closed with reason max_session.
 */
#include "config.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/crypto.h>
#include <openssl/err.h>

#include "pump.h"
#include "session.h"
#include "vlog.h"

const enum vdi_reason gw_refusal_reasons[GW_REFUSAL_REASONS] = {
	VDI_REASON_TLS_HANDSHAKE,
	VDI_REASON_HANDSHAKE_TIMEOUT,
	VDI_REASON_BAD_REQUEST,
	VDI_REASON_TOKEN_MISSING,
	VDI_REASON_TOKEN_INVALID,
	VDI_REASON_TOKEN_EXPIRED,
	VDI_REASON_TOKEN_NOT_YET_VALID,
	VDI_REASON_TOKEN_WRONG_AUDIENCE,
	VDI_REASON_TOKEN_INVALID_CLAIMS,
	VDI_REASON_TOKEN_WRONG_DEVICE,
	VDI_REASON_TOKEN_REPLAYED,
	VDI_REASON_BUSY,
	VDI_REASON_DESKTOP_UNREACHABLE,
	VDI_REASON_DESKTOP_UNTRUSTED,
	VDI_REASON_NLA_UNSUPPORTED,
	VDI_REASON_CREDENTIALS_INVALID,
	VDI_REASON_CLIENT_PROTOCOL,
	VDI_REASON_CUT,
	VDI_REASON_DST_NOT_IN_POLICY,
	VDI_REASON_MAX_SESSION,
	VDI_REASON_BROKER_UNREACHABLE,
};

static void session_free(struct session *s);
static void session_end(struct session *s);

void
session_arm_timer(struct session *s, unsigned int seconds)
{
	struct timeval tv = { (time_t)seconds, 0 };

	evtimer_add(s->timer, &tv);
}

/* ---- the end of a tunnel ------------------------------------------------ */

/* The handshake is over (token accepted, or the connection ends): give
 * the slot back. */
void
session_handshake_done(struct session *s)
{
	if (!s->hs_held)
		return;
	s->hs_held = 0;
	gwm_add(s->gw, GWM_HANDSHAKES_ACTIVE, -1);
	gw_handshake_release(s->gw, &s->hs_src);
}

/* Frees s: only from its reap event (session_reap), or in session_accept
 * before that event exists. */
static void
session_free(struct session *s)
{
	registry_remove(s->gw->reg, s);
	session_handshake_done(s);
	if (s->adm.admitted)
		gwm_add(s->gw, GWM_SESSIONS_ADMITTED, -1);
	if (s->kill != NULL)
		event_free(s->kill);
	if (s->reap != NULL)
		event_free(s->reap);
	if (s->timer != NULL)
		event_free(s->timer);
	if (s->cin != NULL)
		bufferevent_free(s->cin); /* frees cli with it */
	else if (s->cli != NULL)
		bufferevent_free(s->cli);
	if (s->desk != NULL)
		bufferevent_free(s->desk);
	pump_free(s);
	if (s->relay_init)
		relay_free(&s->relay);
	gwm_add(s->gw, GWM_CONNECTIONS_ACTIVE, -1);
	OPENSSL_cleanse(s, sizeof(*s));
	free(s);
}

static void
reap_cb(evutil_socket_t fd, short what, void *arg)
{
	session_free(arg);
}

/* No callback of bev runs any more. */
static void
quiet(struct bufferevent *bev)
{
	if (bev == NULL)
		return;
	bufferevent_setcb(bev, NULL, NULL, NULL, NULL);
	bufferevent_disable(bev, EV_READ | EV_WRITE);
}

/*
 * The single exit path of a session in SS_CLOSING: its legs and its
 * timer go quiet and its reap event frees it once the callback running
 * now has returned, so no callback can reach freed memory and no caller
 * has to be told that s is gone.
 */
void
session_reap(struct session *s)
{
	if (s->reaping)
		return;
	s->reaping = 1;
	quiet(s->cin != NULL ? s->cin : s->cli); /* cli: cin's filter owns it */
	quiet(s->desk);
	evtimer_del(s->timer);
	event_active(s->reap, 0, 0);
}

/* Moves s on with ev (sessfsm.c); an event its state does not take closes
 * it and returns -1. */
int
session_advance(struct session *s, enum session_event ev)
{
	if (session_fsm_step(&s->state, ev, s->id) == 0)
		return 0;
	session_close(s, "internal_error");
	return -1;
}

/* Ends s without a word (what ended it is logged by the caller). */
static void
session_end(struct session *s)
{
	if (s->state != SS_CLOSING)
		(void)!session_fsm_step(&s->state, SE_CLOSE, s->id);
	session_reap(s);
}

/* Logs the channel records not reported yet; refused ones go to the
 * broker as "refused" events. */
void
session_report_channels(struct session *s)
{
	const struct relay_record *rec;
	size_t n, i;

	if (!s->relay_init)
		return;
	rec = relay_records(&s->relay, &n);
	for (i = s->rec_reported; i < n; i++) {
		vlog(VLOG_INFO, "channel",
		    "sid=%s jti=%s kind=%s name=%s verdict=%s",
		    VLOG_Q(s->adm.tok.sid), VLOG_Q(s->adm.tok.jti),
		    rec[i].dynamic ? "dynamic" : "static", VLOG_Q(rec[i].name),
		    rec[i].allowed ? "allowed" : "refused");
		if (!rec[i].allowed) {
			gwm_add(s->gw, GWM_CHANNELS_REFUSED, 1);
			brokerlink_event(s->gw, "refused", s->adm.tok.sid,
			    s->adm.tok.jti, "channel_refused", rec[i].name, 0,
			    0);
		}
	}
	s->rec_reported = n;
}

/* Closes a tunnel; a started one is logged (tunnel_end) and reported to
 * the broker. s stays valid until its reap event runs. */
void
session_close(struct session *s, const char *reason)
{
	char chans[1024];
	const struct relay_record *rec;
	size_t n = 0, i, off = 0;

	if (s->state == SS_CLOSING)
		return;
	if (s->state < SS_CLIENT_X224) {
		session_end(s);
		return;
	}
	session_report_channels(s);
	chans[0] = '\0';
	if (s->relay_init) {
		rec = relay_records(&s->relay, &n);
		for (i = 0; i < n && off + 60 < sizeof(chans); i++)
			off += (size_t)snprintf(chans + off,
			    sizeof(chans) - off, "%s%s%s:%s", i ? "," : "",
			    rec[i].dynamic ? "dvc/" : "", rec[i].name,
			    rec[i].allowed ? "allowed" : "refused");
	}
	vlog(VLOG_INFO, "tunnel_end",
	    "conn=%llu sid=%s jti=%s user=%s reason=%s bytes_in=%llu "
	    "bytes_out=%llu duration=%lld channels=%s",
	    (unsigned long long)s->id, VLOG_Q(s->adm.tok.sid),
	    VLOG_Q(s->adm.tok.jti), VLOG_Q(s->adm.tok.sub), VLOG_Q(reason),
	    (unsigned long long)s->bytes_c2s, (unsigned long long)s->bytes_s2c,
	    (long long)(time(NULL) - s->started),
	    chans[0] ? VLOG_Q(chans) : "-");
	brokerlink_event(s->gw, "end", s->adm.tok.sid, s->adm.tok.jti, reason,
	    NULL, s->bytes_c2s, s->bytes_s2c);
	if (s->state == SS_RELAYING)
		gwm_add(s->gw, GWM_SESSIONS_ACTIVE, -1);
	admission_wipe_creds(s);
	session_end(s);
}

void
session_killed(struct session *s, const char *reason)
{
	gwm_add(s->gw, GWM_CLOSES_CUT, 1);
	session_close(s, reason);
}

/* A tunnel told to close before its 101 (its desktop leg was still
 * connecting): it gets an HTTP answer saying why. */
static void
refuse_killed(struct session *s, const char *reason)
{
	char detail[SESSION_KILL_REASON_MAX + 16];

	snprintf(detail, sizeof(detail), "cut=%s", reason);
	if (strncmp(reason, "cut:", 4) == 0)
		front_refuse(s, VDI_REASON_CUT, 403,
		    vdi_reason_code(VDI_REASON_CUT),
		    "the broker has cut this session", detail);
	else if (strcmp(reason, "replaced") == 0)
		front_refuse(s, VDI_REASON_CUT, 409,
		    vdi_reason_code(VDI_REASON_REPLACED),
		    "a newer tunnel of this session replaced this one", detail);
	else
		front_refuse(s, VDI_REASON_BUSY, 503,
		    vdi_reason_code(VDI_REASON_CLOSING),
		    "this gateway is closing its tunnels", detail);
}

static void
kill_cb(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;
	char reason[SESSION_KILL_REASON_MAX];

	registry_kill_reason(s->gw->reg, s, reason, sizeof(reason));
	if (s->state == SS_CLOSING)
		return;
	if (s->state < SS_CLIENT_X224) {
		gwm_add(s->gw, GWM_CLOSES_CUT, 1);
		refuse_killed(s, reason[0] ? reason : "cut:");
		return;
	}
	session_killed(s, reason[0] ? reason : "cut");
}

/*
 * The relay's timer: closes the tunnel at the session's deadline
 * (max_session) or after the token's idle seconds without input, else
 * arms itself for whichever of the two comes first. Returns 0, or -1 when
 * the tunnel was closed.
 */
static int
relay_timer(struct session *s, time_t now)
{
	time_t idle = now - s->last_input, wait = 0;

	if (s->adm.tok.deadline != 0 && (int64_t)now >= s->adm.tok.deadline) {
		gwm_add(s->gw, GWM_CLOSES_MAX_SESSION, 1);
		session_close(s, "max_session");
		return -1;
	}
	if (s->adm.tok.idle != 0) {
		if (idle >= (time_t)s->adm.tok.idle) {
			gwm_add(s->gw, GWM_CLOSES_IDLE, 1);
			session_close(s, "idle");
			return -1;
		}
		wait = (time_t)s->adm.tok.idle - idle;
	}
	if (s->adm.tok.deadline != 0 &&
	    (wait == 0 || (int64_t)now + wait > s->adm.tok.deadline))
		wait = (time_t)(s->adm.tok.deadline - (int64_t)now);
	if (wait > 0)
		session_arm_timer(s, (unsigned int)wait);
	return 0;
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;
	time_t now = time(NULL);

	switch (s->state) {
	case SS_CLOSING:
		session_reap(s); /* the refusal did not flush in time */
		return;
	case SS_RELAYING:
		(void)relay_timer(s, now);
		return;
	default:
		gwm_refusal(s->gw, VDI_REASON_HANDSHAKE_TIMEOUT);
		vlog(VLOG_NOTICE, "tunnel_refused",
		    "conn=%llu peer=%s reason=handshake_timeout state=%s "
		    "sid=%s",
		    (unsigned long long)s->id, s->peer,
		    session_state_name(s->state),
		    s->adm.has_tok ? VLOG_Q(s->adm.tok.sid) : "-");
		session_close(s, "handshake_timeout");
		return;
	}
}

void
session_relay_start(struct session *s)
{
	struct relay_params rp;

	memset(&rp, 0, sizeof(rp));
	rp.pol.audio_out = (s->adm.tok.channels & GWT_CH_AUDIO_OUT) != 0;
	rp.client_requested = s->client_requested;
	rp.desktop_selected = s->dl.selected;
	rp.max_pdu = s->gw->conf.max_pdu;
	rp.reassembly = s->gw->conf.reassembly;
	s->relay_init = 1;
	if (relay_init(&s->relay, &rp) != 0) {
		session_close(s, "out_of_memory");
		return;
	}
	if (session_advance(s, SE_CLIENT_TLS) != 0)
		return;
	gwm_add(s->gw, GWM_SESSIONS_ACTIVE, 1);
	s->last_input = time(NULL);
	evtimer_del(s->timer);
	if (pump_attach(s) != 0)
		return;
	vlog(VLOG_INFO, "relay_start", "conn=%llu sid=%s jti=%s deadline=%lld",
	    (unsigned long long)s->id, s->adm.tok.sid, s->adm.tok.jti,
	    (long long)s->adm.tok.deadline);
	/* Arms the idle and deadline timer (or closes at a deadline that
	 * came during the handshake). */
	if (relay_timer(s, s->last_input) != 0)
		return;
	(void)pump_start(s);
}

/* ---- desktop leg results ------------------------------------------------- */

void
session_desktop_ready(struct session *s)
{
	char why[SESSION_KILL_REASON_MAX];

	if (s->state != SS_DESKTOP)
		return;
	/* A cut that came while the desktop leg connected, or one held
	 * since, stops it here: no 101, nothing relayed. */
	if (registry_start(
		s->gw->reg, s, (int64_t)time(NULL), why, sizeof(why)) != 0) {
		gwm_add(s->gw, GWM_CLOSES_CUT, 1);
		refuse_killed(s, why);
		return;
	}
	/* The desktop leg waits (not read) until the relay starts. */
	pump_park_desktop(s);
	(void)front_accept(s);
	if (session_advance(s, SE_DESKTOP_UP) != 0)
		return;
	gwm_add(s->gw, GWM_SESSIONS_STARTED, 1);
	vlog(VLOG_INFO, "tunnel_start",
	    "conn=%llu peer=%s sid=%s jti=%s user=%s tenant=%s device=%s "
	    "dst=%s:%u pin=%s sso=%s audio_out=%s idle=%u",
	    (unsigned long long)s->id, s->peer, VLOG_Q(s->adm.tok.sid),
	    VLOG_Q(s->adm.tok.jti), VLOG_Q(s->adm.tok.sub),
	    VLOG_Q(s->adm.tok.tid), s->device, VLOG_Q(s->adm.tok.dst_host),
	    s->adm.tok.dst_port, s->adm.tok.has_pin ? "yes" : "no",
	    admission_creds(s) != NULL ? "yes" : "no",
	    (s->adm.tok.channels & GWT_CH_AUDIO_OUT) ? "yes" : "no",
	    s->adm.tok.idle);
	brokerlink_event(
	    s->gw, "start", s->adm.tok.sid, s->adm.tok.jti, NULL, NULL, 0, 0);
	client_x224_read(s);
}

void
session_desktop_failed(
    struct session *s, enum vdi_reason why, const char *detail)
{
	if (s->state != SS_DESKTOP)
		return;
	switch (why) {
	case VDI_REASON_NLA_UNSUPPORTED:
		front_refuse(s, why, 503,
		    vdi_reason_code(VDI_REASON_NLA_UNSUPPORTED),
		    "the desktop requires NLA, which this gateway does not "
		    "support yet",
		    detail);
		break;
	case VDI_REASON_DESKTOP_UNTRUSTED:
		front_refuse(s, why, 503,
		    vdi_reason_code(VDI_REASON_DESKTOP_UNTRUSTED),
		    "the desktop's certificate is not the expected one",
		    detail);
		break;
	default:
		front_refuse(s, VDI_REASON_DESKTOP_UNREACHABLE, 503,
		    vdi_reason_code(VDI_REASON_DESKTOP_UNREACHABLE),
		    "the desktop cannot be reached", detail);
		break;
	}
}

void
session_accept(struct gw_worker *w, evutil_socket_t fd,
    const struct sockaddr *sa, int salen)
{
	struct gw *gw = w->gw;
	struct session *s;
	char host[64] = "?", port[16] = "?";
	SSL *ssl = NULL;
	struct vdi_addr src;

	memset(&src, 0, sizeof(src));
	(void)!vdi_addr_from_sockaddr(sa, (socklen_t)salen, &src);
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		evutil_closesocket(fd);
		gwm_add(gw, GWM_HANDSHAKES_ACTIVE, -1);
		gw_handshake_release(gw, &src);
		return;
	}
	s->gw = gw;
	s->w = w;
	s->id = GW_INC(&gw->next_session_id);
	s->hs_held = 1;
	s->hs_src = src;
	gwm_add(gw, GWM_ACCEPTED, 1);
	gwm_add(gw, GWM_CONNECTIONS_ACTIVE, 1);
	if (getnameinfo(sa, (socklen_t)salen, host, sizeof(host), port,
		sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		snprintf(host, sizeof(host), "?");
	snprintf(s->peer, sizeof(s->peer), "%s:%s", host, port);
	s->state = SS_FRONT_TLS;
	if ((ssl = vdi_tls_ssl_new(gw->front)) == NULL ||
	    (s->cli = bufferevent_openssl_socket_new(w->base, fd, ssl,
		 BUFFEREVENT_SSL_ACCEPTING,
		 BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS)) == NULL ||
	    (s->timer = evtimer_new(w->base, timer_cb, s)) == NULL ||
	    (s->kill = event_new(w->base, -1, 0, kill_cb, s)) == NULL ||
	    (s->reap = event_new(w->base, -1, 0, reap_cb, s)) == NULL) {
		if (s->cli == NULL) {
			SSL_free(ssl);
			evutil_closesocket(fd);
		}
		vlog(VLOG_ERROR, "accept_failed", "peer=%s reason=alloc",
		    s->peer);
		session_free(s);
		return;
	}
	/* A peer that closes TCP without close_notify has closed, not
	 * failed: tunnel_end says client_closed (not client_error). */
	bufferevent_openssl_set_allow_dirty_shutdown(s->cli, 1);
	gw_ssl_eof_is_close(ssl);
	front_start(s);
	session_arm_timer(s, gw->conf.handshake_timeout);
}
