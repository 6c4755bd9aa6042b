/*
 * session.c: one tunnel from accept to close (see gateway.h, DESIGN.md
 * flow steps 3-5).
 *
 *   front TLS (mandatory device certificate, tenant CAs and CRLs)
 *   -> "GET /v1/tunnel" Upgrade (upgrade_parse, 8 KiB cap)
 *   -> gw_token_check against the certificate's SHA-256
 *   -> desktop leg (desktop.c); only when it is up: "101 Switching
 *      Protocols", else 503 with a JSON body
 *   -> the client's X.224 CR answered with a CC selecting SSL (or
 *      RDP_NEG_FAILURE SSL required)
 *   -> TLS accept of the RDP-level TLS inside the tunnel (a
 *      bufferevent_openssl filter over the front TLS bufferevent)
 *   -> relay: PDUs both ways through relay.c.
 *
 * A refusal answers the HTTP status with {"error": code, "message": ...},
 * is logged with its reason and counted. Every session has one timer:
 * the handshake timeout until the relay starts, then whichever comes
 * first of the idle timeout (no client input for the token's idle
 * seconds) and the session's max_session deadline (the token's mxs),
 * where the tunnel is closed with reason max_session.
 */
#include "config.h"

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <jansson.h>
#include <openssl/crypto.h>

#include "keyproc.h"
#include "policy.h"
#include "pump.h"
#include "rdp/frame.h"
#include "rdp/x224.h"
#include "session.h"
#include "upgrade.h"
#include "vlog.h"

/* Bytes a client may send while the desktop leg comes up. */
#define SESSION_EARLY_MAX (64u << 10)
/* Seconds to flush a refusal before the connection is dropped. */
#define SESSION_FLUSH_SECONDS 5

const char *const gw_refusal_names[GWR_COUNT] = {
	"tls_handshake",
	"handshake_timeout",
	"bad_request",
	"token_missing",
	"token_invalid",
	"token_expired",
	"token_not_yet_valid",
	"token_wrong_audience",
	"token_invalid_claims",
	"token_wrong_device",
	"token_replayed",
	"busy",
	"desktop_unreachable",
	"desktop_untrusted",
	"nla_unsupported",
	"credentials_invalid",
	"client_protocol",
	"cut",
	"dst_not_in_policy",
	"max_session",
};

static void session_free(struct session *s);

static const char *
status_phrase(int status)
{
	switch (status) {
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 409:
		return "Conflict";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 426:
		return "Upgrade Required";
	case 431:
		return "Request Header Fields Too Large";
	case 503:
		return "Service Unavailable";
	}
	return "Error";
}

static void
arm_timer(struct session *s, unsigned int seconds)
{
	struct timeval tv = { (time_t)seconds, 0 };

	evtimer_add(s->timer, &tv);
}

/* ---- refusals ----------------------------------------------------------- */

static void
flush_done(struct bufferevent *bev, void *arg)
{
	struct session *s = arg;

	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		session_free(s);
}

static void
flush_event(struct bufferevent *bev, short what, void *arg)
{
	session_free(arg);
}

/*
 * Answers an HTTP error with a JSON body, logs the refusal, counts it and
 * closes once the answer is flushed.
 */
static void
refuse(struct session *s, enum gw_refusal why, int status, const char *code,
    const char *message, const char *detail)
{
	char head[256];
	char *body;
	json_t *j;

	GW_INC(&s->gw->m.refusals[why]);
	vlog(VLOG_NOTICE, "tunnel_refused",
	    "conn=%llu peer=%s status=%d reason=%s device=%s tenant=%s "
	    "sid=%s user=%s%s%s",
	    (unsigned long long)s->id, s->peer, status, code,
	    s->device[0] ? s->device : "-",
	    s->tenant[0] ? VLOG_Q(s->tenant) : "-",
	    s->has_tok ? VLOG_Q(s->tok.sid) : "-",
	    s->has_tok ? VLOG_Q(s->tok.sub) : "-", detail != NULL ? " " : "",
	    detail != NULL ? detail : "");
	if (s->desk != NULL) {
		bufferevent_free(s->desk);
		s->desk = NULL;
	}
	s->state = SS_CLOSING;
	j = json_pack("{s:s, s:s}", "error", code, "message", message);
	body = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	snprintf(head, sizeof(head),
	    "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
	    "Content-Length: %zu\r\nConnection: close\r\n\r\n",
	    status, status_phrase(status), body != NULL ? strlen(body) : 0);
	bufferevent_disable(s->cli, EV_READ);
	bufferevent_write(s->cli, head, strlen(head));
	if (body != NULL)
		bufferevent_write(s->cli, body, strlen(body));
	free(body);
	bufferevent_setwatermark(s->cli, EV_WRITE, 0, 0);
	bufferevent_setcb(s->cli, NULL, flush_done, flush_event, s);
	evtimer_del(s->timer);
	arm_timer(s, SESSION_FLUSH_SECONDS);
}

/* ---- the end of a tunnel ------------------------------------------------ */

/* The handshake is over (token accepted, or the connection ends): give
 * the slot back. */
static void
handshake_done(struct session *s)
{
	if (!s->hs_held)
		return;
	s->hs_held = 0;
	GW_DEC(&s->gw->m.handshakes_active);
	gw_handshake_release(s->gw, &s->hs_src);
}

static void
session_free(struct session *s)
{
	registry_remove(s);
	handshake_done(s);
	if (s->admitted)
		GW_DEC(&s->gw->m.sessions_admitted);
	if (s->kill != NULL)
		event_free(s->kill);
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
	if (s->fwd != NULL) {
		vbuf_wipe(s->fwd);
		vbuf_free(s->fwd);
	}
	if (s->back != NULL)
		vbuf_free(s->back);
	GW_DEC(&s->gw->m.connections_active);
	OPENSSL_cleanse(s, sizeof(*s));
	free(s);
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
		    VLOG_Q(s->tok.sid), VLOG_Q(s->tok.jti),
		    rec[i].dynamic ? "dynamic" : "static", VLOG_Q(rec[i].name),
		    rec[i].allowed ? "allowed" : "refused");
		if (!rec[i].allowed) {
			GW_INC(&s->gw->m.channels_refused);
			brokerlink_event(s->gw, "refused", s->tok.sid,
			    s->tok.jti, "channel_refused", rec[i].name, 0, 0);
		}
	}
	s->rec_reported = n;
}

/* Closes a started tunnel: log, broker event, free. */
void
session_close(struct session *s, const char *reason)
{
	char chans[1024];
	const struct relay_record *rec;
	size_t n = 0, i, off = 0;

	if (s->state < SS_CLIENT_CR) {
		session_free(s);
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
	    (unsigned long long)s->id, VLOG_Q(s->tok.sid), VLOG_Q(s->tok.jti),
	    VLOG_Q(s->tok.sub), VLOG_Q(reason),
	    (unsigned long long)s->bytes_c2s, (unsigned long long)s->bytes_s2c,
	    (long long)(time(NULL) - s->started),
	    chans[0] ? VLOG_Q(chans) : "-");
	brokerlink_event(s->gw, "end", s->tok.sid, s->tok.jti, reason, NULL,
	    s->bytes_c2s, s->bytes_s2c);
	if (s->state == SS_RELAY)
		GW_DEC(&s->gw->m.sessions_active);
	if (s->has_creds) {
		OPENSSL_cleanse(s->cred_pass, sizeof(s->cred_pass));
		OPENSSL_cleanse(s->cred_user, sizeof(s->cred_user));
	}
	session_free(s);
}

void
session_killed(struct session *s, const char *reason)
{
	GW_INC(&s->gw->m.closes_cut);
	session_close(s, reason);
}

/* A tunnel told to close before its 101 (its desktop leg was still
 * connecting): it gets an HTTP answer saying why. */
static void
refuse_killed(struct session *s, const char *reason)
{
	char detail[sizeof(s->kill_reason) + 16];

	snprintf(detail, sizeof(detail), "cut=%s", reason);
	if (strncmp(reason, "cut:", 4) == 0)
		refuse(s, GWR_CUT, 403, "cut",
		    "the broker has cut this session", detail);
	else if (strcmp(reason, "replaced") == 0)
		refuse(s, GWR_CUT, 409, "replaced",
		    "a newer tunnel of this session replaced this one", detail);
	else
		refuse(s, GWR_BUSY, 503, "closing",
		    "this gateway is closing its tunnels", detail);
}

static void
kill_cb(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;
	char reason[sizeof(s->kill_reason)];

	snprintf(reason, sizeof(reason), "%s", s->kill_reason);
	if (s->state == SS_CLOSING)
		return;
	if (s->state < SS_CLIENT_CR) {
		GW_INC(&s->gw->m.closes_cut);
		refuse_killed(s, reason[0] ? reason : "cut:");
		return;
	}
	session_killed(s, reason[0] ? reason : "cut");
}

/*
 * The relay's timer: closes the tunnel at the session's deadline
 * (max_session) or after the token's idle seconds without input, else
 * arms itself for whichever of the two comes first. Returns 0, or -1 when
 * the session was closed (s is gone).
 */
static int
relay_timer(struct session *s, time_t now)
{
	time_t idle = now - s->last_input, wait = 0;

	if (s->tok.deadline != 0 && (int64_t)now >= s->tok.deadline) {
		GW_INC(&s->gw->m.closes_max_session);
		session_close(s, "max_session");
		return -1;
	}
	if (s->tok.idle != 0) {
		if (idle >= (time_t)s->tok.idle) {
			GW_INC(&s->gw->m.closes_idle);
			session_close(s, "idle");
			return -1;
		}
		wait = (time_t)s->tok.idle - idle;
	}
	if (s->tok.deadline != 0 &&
	    (wait == 0 || (int64_t)now + wait > s->tok.deadline))
		wait = (time_t)(s->tok.deadline - (int64_t)now);
	if (wait > 0)
		arm_timer(s, (unsigned int)wait);
	return 0;
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;
	time_t now = time(NULL);

	switch (s->state) {
	case SS_CLOSING:
		session_free(s);
		return;
	case SS_RELAY:
		(void)relay_timer(s, now);
		return;
	default:
		GW_INC(&s->gw->m.refusals[GWR_TIMEOUT]);
		vlog(VLOG_NOTICE, "tunnel_refused",
		    "conn=%llu peer=%s reason=handshake_timeout state=%d "
		    "sid=%s",
		    (unsigned long long)s->id, s->peer, (int)s->state,
		    s->has_tok ? VLOG_Q(s->tok.sid) : "-");
		if (s->state >= SS_CLIENT_CR)
			session_close(s, "handshake_timeout");
		else
			session_free(s);
		return;
	}
}

static void
start_relay(struct session *s)
{
	struct relay_params rp;

	memset(&rp, 0, sizeof(rp));
	rp.pol.audio_out = (s->tok.channels & GWT_CH_AUDIO_OUT) != 0;
	rp.client_requested = s->client_requested;
	rp.desktop_selected = s->desk_selected;
	rp.max_pdu = s->gw->conf.max_pdu;
	rp.reassembly = s->gw->conf.reassembly;
	s->relay_init = 1;
	if (relay_init(&s->relay, &rp) != 0 ||
	    (s->fwd = vbuf_new(RELAY_OUT_MAX)) == NULL ||
	    (s->back = vbuf_new(RELAY_OUT_MAX)) == NULL) {
		session_close(s, "out_of_memory");
		return;
	}
	s->state = SS_RELAY;
	GW_INC(&s->gw->m.sessions_active);
	s->last_input = time(NULL);
	evtimer_del(s->timer);
	if (pump_attach(s) != 0)
		return;
	vlog(VLOG_INFO, "relay_start", "conn=%llu sid=%s jti=%s deadline=%lld",
	    (unsigned long long)s->id, s->tok.sid, s->tok.jti,
	    (long long)s->tok.deadline);
	/* Arms the idle and deadline timer (or closes at a deadline that
	 * came during the handshake). */
	if (relay_timer(s, s->last_input) != 0)
		return;
	(void)pump_start(s);
}

/* ---- the client's X.224 and RDP-level TLS ------------------------------- */

static void
inner_event(struct bufferevent *bev, short what, void *arg)
{
	struct session *s = arg;
	char why[160];

	if (what & BEV_EVENT_CONNECTED) {
		start_relay(s);
		return;
	}
	vdi_tls_handshake_error(
	    bufferevent_openssl_get_ssl(bev), why, sizeof(why));
	GW_INC(&s->gw->m.refusals[GWR_CLIENT_PROTOCOL]);
	vlog(VLOG_NOTICE, "tunnel_client_failed",
	    "conn=%llu sid=%s reason=rdp_tls_failed error=%s",
	    (unsigned long long)s->id, VLOG_Q(s->tok.sid), VLOG_Q(why));
	session_close(s, "client_rdp_tls_failed");
}

/* Handles the client's X.224 Connection Request once it is whole. */
static void
client_cr(struct session *s)
{
	struct evbuffer *in = bufferevent_get_input(s->cli);
	struct rdp_x224_cr cr;
	struct vbuf v, *out;
	unsigned char hdr[4];
	uint32_t selected;
	size_t len;
	ev_ssize_t n;
	SSL *ssl;
	struct bufferevent *f;
	int r;

	n = evbuffer_copyout(in, hdr, sizeof(hdr));
	if (n <= 0)
		return;
	r = relay_frame_len(hdr, (size_t)n, 1024, &len);
	if (r == VDI_ERR_NEED_MORE || (r == 0 && evbuffer_get_length(in) < len))
		return;
	if (r != 0 || hdr[0] != 0x03 || evbuffer_get_length(in) != len)
		goto bad;
	vbuf_init_view(&v, evbuffer_pullup(in, (ev_ssize_t)len), len);
	if ((r = rdp_x224_parse_cr(&v, &cr)) != 0)
		goto bad;
	(void)evbuffer_drain(in, len);
	if ((out = vbuf_new(256)) == NULL) {
		session_close(s, "out_of_memory");
		return;
	}
	s->client_requested = cr.requested_protocols;
	if (rdp_x224_select_protocol(&cr, &selected) != 0) {
		if (rdp_x224_write_neg_failure(
			out, RDP_NEG_FAILURE_SSL_REQUIRED) == 0)
			bufferevent_write(s->cli, vbuf_ptr(out), vbuf_len(out));
		vbuf_free(out);
		GW_INC(&s->gw->m.refusals[GWR_CLIENT_PROTOCOL]);
		vlog(VLOG_NOTICE, "tunnel_client_failed",
		    "conn=%llu sid=%s reason=ssl_not_offered requested=%u",
		    (unsigned long long)s->id, s->tok.sid,
		    cr.requested_protocols);
		/* Let the failure reach the client, then close. */
		session_close(s, "client_ssl_not_offered");
		return;
	}
	r = rdp_x224_write_cc(out, s->desk_flags, selected);
	if (r == 0)
		r = bufferevent_write(s->cli, vbuf_ptr(out), vbuf_len(out));
	vbuf_free(out);
	if (r != 0 || (ssl = SSL_new(s->gw->inner_ctx)) == NULL) {
		session_close(s, "out_of_memory");
		return;
	}
	bufferevent_setwatermark(s->cli, EV_READ, 0, 0);
	f = bufferevent_openssl_filter_new(s->w->base, s->cli, ssl,
	    BUFFEREVENT_SSL_ACCEPTING,
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (f == NULL) {
		SSL_free(ssl);
		session_close(s, "out_of_memory");
		return;
	}
	s->cin = f;
	s->state = SS_CLIENT_TLS;
	bufferevent_setcb(f, NULL, NULL, inner_event, s);
	bufferevent_enable(f, EV_READ | EV_WRITE);
	return;
bad:
	GW_INC(&s->gw->m.refusals[GWR_CLIENT_PROTOCOL]);
	vlog(VLOG_NOTICE, "tunnel_client_failed",
	    "conn=%llu sid=%s reason=x224_cr_malformed err=%s",
	    (unsigned long long)s->id, s->tok.sid, vdi_errname(r));
	session_close(s, "client_x224_malformed");
}

/* ---- desktop leg results ------------------------------------------------- */

void
session_desktop_ready(struct session *s)
{
	static const char ok[] = "HTTP/1.1 101 Switching Protocols\r\n"
				 "Connection: Upgrade\r\n"
				 "Upgrade: vdi-rdp\r\n\r\n";
	char why[sizeof(s->kill_reason)];

	if (s->state != SS_DESKTOP)
		return;
	/* A cut that came while the desktop leg connected, or one held
	 * since, stops it here: no 101, nothing relayed. */
	if (registry_start(s, (int64_t)time(NULL), why, sizeof(why)) != 0) {
		GW_INC(&s->gw->m.closes_cut);
		refuse_killed(s, why);
		return;
	}
	/* The desktop leg waits (not read) until the relay starts. */
	pump_park_desktop(s);
	bufferevent_write(s->cli, ok, sizeof(ok) - 1);
	s->state = SS_CLIENT_CR;
	GW_INC(&s->gw->m.sessions_started);
	vlog(VLOG_INFO, "tunnel_start",
	    "conn=%llu peer=%s sid=%s jti=%s user=%s tenant=%s device=%s "
	    "dst=%s:%u pin=%s sso=%s audio_out=%s idle=%u",
	    (unsigned long long)s->id, s->peer, VLOG_Q(s->tok.sid),
	    VLOG_Q(s->tok.jti), VLOG_Q(s->tok.sub), VLOG_Q(s->tok.tid),
	    s->device, VLOG_Q(s->tok.dst_host), s->tok.dst_port,
	    s->tok.has_pin ? "yes" : "no", s->has_creds ? "yes" : "no",
	    (s->tok.channels & GWT_CH_AUDIO_OUT) ? "yes" : "no", s->tok.idle);
	brokerlink_event(
	    s->gw, "start", s->tok.sid, s->tok.jti, NULL, NULL, 0, 0);
	client_cr(s);
}

void
session_desktop_failed(
    struct session *s, enum gw_refusal why, const char *detail)
{
	if (s->state != SS_DESKTOP)
		return;
	switch (why) {
	case GWR_NLA_UNSUPPORTED:
		refuse(s, why, 503, "nla_unsupported",
		    "the desktop requires NLA, which this gateway does not "
		    "support yet",
		    detail);
		break;
	case GWR_DESKTOP_CERT:
		refuse(s, why, 503, "desktop_untrusted",
		    "the desktop's certificate is not the expected one",
		    detail);
		break;
	default:
		refuse(s, GWR_DESKTOP_UNREACHABLE, 503, "desktop_unreachable",
		    "the desktop cannot be reached", detail);
		break;
	}
}

/* ---- token ------------------------------------------------------------------
 */

static enum gw_refusal
token_refusal(enum gw_token_error e)
{
	switch (e) {
	case GWT_EXPIRED:
		return GWR_TOKEN_EXPIRED;
	case GWT_NOT_YET_VALID:
		return GWR_TOKEN_NOT_YET_VALID;
	case GWT_AUDIENCE:
		return GWR_TOKEN_AUDIENCE;
	case GWT_CLAIMS:
		return GWR_TOKEN_CLAIMS;
	case GWT_WRONG_DEVICE:
		return GWR_TOKEN_DEVICE;
	case GWT_REPLAYED:
		return GWR_TOKEN_REPLAYED;
	case GWT_BUSY:
		return GWR_BUSY;
	case GWT_MAX_SESSION:
		return GWR_MAX_SESSION;
	default:
		return GWR_TOKEN_INVALID;
	}
}

/* Opens the sealed credentials ("user\0password", AAD = sid). Returns 0,
 * or -1 when they cannot be opened. */
static int
open_creds(struct session *s)
{
	unsigned char plain[SEAL_PLAIN_MAX];
	size_t len = 0, ul;
	int r;

	/* The key process opens them: this process has no seal key. */
	r = keyclient_unseal(s->tok.cred, s->tok.sid, strlen(s->tok.sid), plain,
	    sizeof(plain), &len);
	OPENSSL_cleanse(s->tok.cred, sizeof(s->tok.cred));
	if (r != 0)
		return -1;
	ul = strnlen((const char *)plain, len);
	if (ul == 0 || ul >= len || ul >= sizeof(s->cred_user) ||
	    len - ul - 1 >= sizeof(s->cred_pass)) {
		OPENSSL_cleanse(plain, sizeof(plain));
		return -1;
	}
	memcpy(s->cred_user, plain, ul);
	s->cred_user[ul] = '\0';
	memcpy(s->cred_pass, plain + ul + 1, len - ul - 1);
	s->cred_pass[len - ul - 1] = '\0';
	OPENSSL_cleanse(plain, sizeof(plain));
	if (strlen(s->cred_pass) != len - ul - 1) {
		OPENSSL_cleanse(s->cred_pass, sizeof(s->cred_pass));
		return -1;
	}
	s->creds.domain = "";
	s->creds.user = s->cred_user;
	s->creds.password = s->cred_pass;
	s->has_creds = 1;
	return 0;
}

/* A token's dst must be a desktop of a pool of its tenant in the policy
 * this gateway loaded: even a token signed by the broker's key (a broker
 * taken over, a key stolen) cannot point the gateway anywhere else in the
 * data center. Refuses s and returns 0 when it is not. */
static int
dst_in_policy(struct session *s)
{
	struct policy *p;
	char detail[GWT_NAME_MAX * 8 + 64];
	int ok;

	pthread_mutex_lock(&s->gw->policy_lock);
	p = policy_ref(s->gw->policy);
	pthread_mutex_unlock(&s->gw->policy_lock);
	ok = policy_tenant_desktop(
		 p, s->tok.tid, s->tok.dst_host, s->tok.dst_port) != NULL;
	policy_unref(p);
	if (ok)
		return 1;
	snprintf(detail, sizeof(detail), "dst_host=%s dst_port=%u tid=%s",
	    VLOG_Q(s->tok.dst_host), (unsigned)s->tok.dst_port,
	    VLOG_Q(s->tok.tid));
	refuse(s, GWR_DST_POLICY, 403, "dst_not_in_policy",
	    "the token names a desktop the policy does not give its tenant",
	    detail);
	return 0;
}

static void
got_request(struct session *s, const struct upgrade_req *req)
{
	struct gw_token_policy pol;
	enum gw_token_error te;
	enum gw_refusal why;
	char cut[sizeof(s->kill_reason)], detail[sizeof(cut) + 16];

	if (req->error != UPGRADE_OK) {
		why = req->error == UPGRADE_NO_TOKEN ? GWR_TOKEN_MISSING
						     : GWR_HTTP;
		refuse(s, why, upgrade_status(req->error),
		    upgrade_code(req->error), upgrade_reason(req->error), NULL);
		return;
	}
	/* Only tunnels past their token count against max_sessions: peers
	 * still in the handshake have limits of their own (accept_cb).
	 * Checked before the token too, so that a full gateway does not
	 * use it up. */
	if (GW_GET(&s->gw->m.sessions_admitted) >= s->gw->conf.max_sessions) {
		refuse(s, GWR_BUSY, 503, "busy",
		    "this gateway has reached max_sessions", NULL);
		return;
	}
	memset(&pol, 0, sizeof(pol));
	pol.keys = (const struct jws_key *const *)s->gw->keys;
	pol.nkeys = s->gw->nkeys;
	pol.issuer = s->gw->conf.issuer;
	pol.audience = s->gw->conf.audience;
	pol.skew = s->gw->conf.clock_skew;
	pthread_mutex_lock(&s->gw->replay_lock);
	te = gw_token_check(req->token, req->token_len, &pol, s->x5t,
	    s->gw->replay, (int64_t)time(NULL), &s->tok);
	pthread_mutex_unlock(&s->gw->replay_lock);
	if (te != GWT_OK) {
		refuse(s, token_refusal(te), gw_token_status(te),
		    gw_token_code(te),
		    te == GWT_MAX_SESSION
			? "the session has reached its time limit"
			: "the tunnel token was refused",
		    NULL);
		return;
	}
	s->has_tok = 1;
	s->started = time(NULL);
	if (!dst_in_policy(s))
		return;
	handshake_done(s);
	if (GW_INC(&s->gw->m.sessions_admitted) > s->gw->conf.max_sessions) {
		GW_DEC(&s->gw->m.sessions_admitted);
		refuse(s, GWR_BUSY, 503, "busy",
		    "this gateway has reached max_sessions", NULL);
		return;
	}
	s->admitted = 1;
	/* From here on the tunnel is registered: a cut that arrives while the
	 * desktop leg connects finds it. */
	if (registry_admit(s, (int64_t)s->started, cut, sizeof(cut)) != 0) {
		snprintf(detail, sizeof(detail), "cut=%s", cut);
		refuse(s, GWR_CUT, 403, "cut",
		    "the broker has cut this session", detail);
		return;
	}
	if (s->tok.nla) {
		refuse(s, GWR_NLA_UNSUPPORTED, 503, "nla_unsupported",
		    "the desktop pool uses NLA (sec=nla), which this gateway "
		    "does not support yet: set security = \"tls\"",
		    "detail=\"CredSSP towards desktops is not implemented\"");
		return;
	}
	if (s->tok.cred[0] != '\0') {
		if (!s->gw->have_seal) {
			vlog(VLOG_WARNING, "sso_unavailable",
			    "sid=%s reason=no_seal_key detail=\"the token "
			    "carries credentials but seal_key is not set\"",
			    s->tok.sid);
			OPENSSL_cleanse(s->tok.cred, sizeof(s->tok.cred));
		} else if (open_creds(s) != 0) {
			refuse(s, GWR_CREDENTIALS, 401, "credentials_invalid",
			    "the sealed credentials cannot be opened", NULL);
			return;
		}
	}
	s->state = SS_DESKTOP;
	if (desktop_connect(s) != 0)
		refuse(s, GWR_DESKTOP_UNREACHABLE, 503, "desktop_unreachable",
		    "the desktop cannot be reached", "reason=alloc");
}

/* ---- front: TLS and the Upgrade request --------------------------------- */

static void
front_read(struct bufferevent *bev, void *arg)
{
	struct session *s = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct upgrade_req req;
	struct vbuf v;
	size_t len = evbuffer_get_length(in);
	int r;

	switch (s->state) {
	case SS_UPGRADE:
		if (len > UPGRADE_MAX + 1)
			len = UPGRADE_MAX + 1;
		vbuf_init_view(&v, evbuffer_pullup(in, (ev_ssize_t)len), len);
		if ((r = upgrade_parse(&v, &req)) == VDI_ERR_NEED_MORE)
			return;
		if (r != 0) {
			req.error = UPGRADE_BAD_REQUEST;
			req.consumed = 0;
		}
		got_request(s, &req);
		if (s->state != SS_CLOSING)
			(void)evbuffer_drain(in, req.consumed);
		return;
	case SS_DESKTOP:
		if (len > SESSION_EARLY_MAX)
			refuse(s, GWR_CLIENT_PROTOCOL, 400, "bad_request",
			    "too many bytes before 101", NULL);
		return;
	case SS_CLIENT_CR:
		client_cr(s);
		return;
	default:
		return;
	}
}

static void
front_event(struct bufferevent *bev, short what, void *arg)
{
	struct session *s = arg;
	SSL *ssl = bufferevent_openssl_get_ssl(bev);
	const char *tenant = NULL;
	char why[160], subj[256] = "";
	X509 *bad;

	if (what & BEV_EVENT_CONNECTED) {
		if (vdi_tls_peer_thumbprint(ssl, s->x5t) != 0 ||
		    vdi_tls_thumbprint_hex(vdi_tls_peer_cert(ssl), s->device,
			sizeof(s->device)) != 0) {
			GW_INC(&s->gw->m.refusals[GWR_TLS]);
			vlog(VLOG_NOTICE, "tunnel_refused",
			    "conn=%llu peer=%s reason=tls_no_certificate",
			    (unsigned long long)s->id, s->peer);
			session_free(s);
			return;
		}
		if (vdi_tls_peer_ca(ssl, NULL, &tenant) == 0 && tenant != NULL)
			snprintf(s->tenant, sizeof(s->tenant), "%s", tenant);
		s->state = SS_UPGRADE;
		vlog(VLOG_DEBUG, "tls_accept",
		    "conn=%llu peer=%s device=%s tenant=%s",
		    (unsigned long long)s->id, s->peer, s->device,
		    VLOG_Q(s->tenant));
		return;
	}
	if (s->state == SS_TLS) {
		vdi_tls_handshake_error(ssl, why, sizeof(why));
		if ((bad = vdi_tls_refused_cert(ssl)) != NULL)
			(void)!vdi_tls_cert_subject(bad, subj, sizeof(subj));
		GW_INC(&s->gw->m.refusals[GWR_TLS]);
		vlog(VLOG_NOTICE, "tunnel_refused",
		    "conn=%llu peer=%s reason=tls_handshake error=%s "
		    "subject=%s",
		    (unsigned long long)s->id, s->peer, VLOG_Q(why),
		    VLOG_Q(subj));
		session_free(s);
		return;
	}
	if (s->state < SS_CLIENT_CR) {
		vlog(VLOG_INFO, "tunnel_abandoned",
		    "conn=%llu peer=%s state=%d", (unsigned long long)s->id,
		    s->peer, (int)s->state);
		session_free(s);
		return;
	}
	session_close(
	    s, (what & BEV_EVENT_EOF) ? "client_closed" : "client_error");
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
		GW_DEC(&gw->m.handshakes_active);
		gw_handshake_release(gw, &src);
		return;
	}
	s->gw = gw;
	s->w = w;
	s->id = GW_INC(&gw->next_session_id);
	s->hs_held = 1;
	s->hs_src = src;
	GW_INC(&gw->m.accepted);
	GW_INC(&gw->m.connections_active);
	if (getnameinfo(sa, (socklen_t)salen, host, sizeof(host), port,
		sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		snprintf(host, sizeof(host), "?");
	snprintf(s->peer, sizeof(s->peer), "%s:%s", host, port);
	s->state = SS_TLS;
	if ((ssl = vdi_tls_ssl_new(gw->front)) == NULL ||
	    (s->cli = bufferevent_openssl_socket_new(w->base, fd, ssl,
		 BUFFEREVENT_SSL_ACCEPTING,
		 BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS)) == NULL ||
	    (s->timer = evtimer_new(w->base, timer_cb, s)) == NULL ||
	    (s->kill = event_new(w->base, -1, 0, kill_cb, s)) == NULL) {
		if (s->cli == NULL) {
			SSL_free(ssl);
			evutil_closesocket(fd);
		}
		vlog(VLOG_ERROR, "accept_failed", "peer=%s reason=alloc",
		    s->peer);
		session_free(s);
		return;
	}
	bufferevent_setcb(s->cli, front_read, NULL, front_event, s);
	bufferevent_setwatermark(s->cli, EV_READ, 0, UPGRADE_MAX + 1024);
	bufferevent_enable(s->cli, EV_READ | EV_WRITE);
	arm_timer(s, gw->conf.handshake_timeout);
}
