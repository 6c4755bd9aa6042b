/*
 * front.c: the front door of a tunnel (one per role, see gateway.h):
 * the front TLS handshake (mandatory device certificate, tenant CAs and
 * CRLs), then the front request, routed to the front protocol that
 * speaks it, and that protocol's answers: the one that opens the tunnel,
 * and a refusal (an HTTP status with {"error": code, "message": ...},
 * logged with its reason and counted).
 *
 * Front protocols are the entries of protocols[] below: today the
 * tunnel's "GET /v1/tunnel" Upgrade (upgrade.c). Another one (the RD
 * Gateway protocol) is one more entry with its match, parse and accept
 * functions; nothing else in the gateway changes.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <jansson.h>

#include "httpstatus.h"
#include "session.h"
#include "upgrade.h"
#include "vlog.h"

/* Most bytes of a front request (any protocol). */
#define FRONT_REQUEST_MAX UPGRADE_MAX
/* Bytes a client may send while the desktop leg comes up. */
#define SESSION_EARLY_MAX (64u << 10)
/* Seconds to flush a refusal before the connection is dropped. */
#define SESSION_FLUSH_SECONDS 5

/* A front request, parsed: the tunnel's token, or why it is refused. */
struct front_request {
	int refused; /* answer status, code and message, count why */
	enum vdi_reason why;
	int status;
	const char *code, *message;
	const char *token; /* points into the input; not NUL-terminated */
	size_t token_len;
	size_t consumed; /* bytes of the request */
};

struct front_protocol {
	const char *name;
	/* 1 when the request starting in in (possibly not whole yet) is
	 * this protocol's; NULL: the last entry, which takes the rest. */
	int (*match)(const struct vbuf *in);
	/* Parses the request at the start of in: VDI_ERR_NEED_MORE until it
	 * is whole, then 0 with *req set (another error: a bad request). */
	int (*parse)(const struct vbuf *in, struct front_request *req);
	/* Queues the answer that opens the tunnel: RDP follows. */
	int (*accept)(struct session *s);
};

/* ---- the tunnel's Upgrade (upgrade.h) ----------------------------------- */

static int
tunnel_parse(const struct vbuf *in, struct front_request *req)
{
	struct upgrade_req u;
	int r;

	if ((r = upgrade_parse(in, &u)) == VDI_ERR_NEED_MORE)
		return r;
	if (r != 0) {
		u.error = VDI_REASON_BAD_REQUEST;
		u.consumed = 0;
	}
	req->consumed = u.consumed;
	if (u.error != VDI_REASON_OK) {
		req->refused = 1;
		req->why = u.error == VDI_REASON_TOKEN_MISSING
		    ? VDI_REASON_TOKEN_MISSING
		    : VDI_REASON_BAD_REQUEST;
		req->status = vdi_reason_status(u.error);
		req->code = vdi_reason_code(u.error);
		req->message = vdi_http_phrase(vdi_reason_status(u.error));
		return 0;
	}
	req->token = u.token;
	req->token_len = u.token_len;
	return 0;
}

static int
tunnel_accept(struct session *s)
{
	static const char ok[] = "HTTP/1.1 101 Switching Protocols\r\n"
				 "Connection: Upgrade\r\n"
				 "Upgrade: vdi-rdp\r\n\r\n";

	return bufferevent_write(s->cli, ok, sizeof(ok) - 1);
}

/* ---- the front protocols ------------------------------------------------ */

static const struct front_protocol protocols[] = {
	{ "tunnel", NULL, tunnel_parse, tunnel_accept },
};

static const struct front_protocol *
route(const struct vbuf *in)
{
	size_t i, n = sizeof(protocols) / sizeof(protocols[0]);

	for (i = 0; i + 1 < n; i++)
		if (protocols[i].match(in))
			return &protocols[i];
	return &protocols[n - 1];
}

static void
bad_request(struct front_request *req)
{
	req->refused = 1;
	req->why = VDI_REASON_BAD_REQUEST;
	req->status = 400;
	req->code = "bad_request";
	req->message = "malformed request";
}

int
front_accept(struct session *s)
{
	return (s->front != NULL ? s->front : &protocols[0])->accept(s);
}

/* ---- refusals ----------------------------------------------------------- */

static void
flush_done(struct bufferevent *bev, void *arg)
{
	struct session *s = arg;

	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		session_reap(s);
}

static void
flush_event(struct bufferevent *bev, short what, void *arg)
{
	session_reap(arg);
}

void
front_refuse(struct session *s, enum vdi_reason why, int status,
    const char *code, const char *message, const char *detail)
{
	char head[256];
	char *body;
	json_t *j;

	if (s->state == SS_CLOSING)
		return;
	if (session_fsm_step(&s->state, SE_REFUSE, s->id) != 0) {
		session_close(s, "internal_error");
		return;
	}
	gwm_refusal(s->gw, why);
	vlog(VLOG_NOTICE, "tunnel_refused",
	    "conn=%llu peer=%s status=%d reason=%s device=%s tenant=%s "
	    "sid=%s user=%s%s%s",
	    (unsigned long long)s->id, s->peer, status, code,
	    s->device[0] ? s->device : "-",
	    s->tenant[0] ? VLOG_Q(s->tenant) : "-",
	    s->adm.has_tok ? VLOG_Q(s->adm.tok.sid) : "-",
	    s->adm.has_tok ? VLOG_Q(s->adm.tok.sub) : "-",
	    detail != NULL ? " " : "", detail != NULL ? detail : "");
	if (s->desk != NULL) {
		bufferevent_free(s->desk);
		s->desk = NULL;
	}
	j = json_pack("{s:s, s:s}", "error", code, "message", message);
	body = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	snprintf(head, sizeof(head),
	    "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
	    "Content-Length: %zu\r\nConnection: close\r\n\r\n",
	    status, vdi_http_phrase(status), body != NULL ? strlen(body) : 0);
	bufferevent_disable(s->cli, EV_READ);
	bufferevent_write(s->cli, head, strlen(head));
	if (body != NULL)
		bufferevent_write(s->cli, body, strlen(body));
	free(body);
	bufferevent_setwatermark(s->cli, EV_WRITE, 0, 0);
	bufferevent_setcb(s->cli, NULL, flush_done, flush_event, s);
	session_arm_timer(s, SESSION_FLUSH_SECONDS);
}

/* ---- front TLS and the request ------------------------------------------ */

static void
front_read(struct bufferevent *bev, void *arg)
{
	struct session *s = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct front_request req;
	struct vbuf v;
	size_t len = evbuffer_get_length(in);
	int r;

	switch (s->state) {
	case SS_REQUEST:
		if (len > FRONT_REQUEST_MAX + 1)
			len = FRONT_REQUEST_MAX + 1;
		vbuf_init_view(&v, evbuffer_pullup(in, (ev_ssize_t)len), len);
		if (s->front == NULL)
			s->front = route(&v);
		memset(&req, 0, sizeof(req));
		if ((r = s->front->parse(&v, &req)) == VDI_ERR_NEED_MORE)
			return;
		if (r != 0 || req.refused) {
			if (r != 0)
				bad_request(&req);
			front_refuse(s, req.why, req.status, req.code,
			    req.message, NULL);
			return;
		}
		if (session_advance(s, SE_REQUEST) != 0)
			return;
		admission_run(s, req.token, req.token_len);
		if (s->state != SS_CLOSING)
			(void)evbuffer_drain(in, req.consumed);
		return;
	case SS_DESKTOP:
		if (len > SESSION_EARLY_MAX)
			front_refuse(s, VDI_REASON_CLIENT_PROTOCOL, 400,
			    vdi_reason_code(VDI_REASON_BAD_REQUEST),
			    "too many bytes before 101", NULL);
		return;
	case SS_CLIENT_X224:
		client_x224_read(s);
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
			gwm_refusal(s->gw, VDI_REASON_TLS_HANDSHAKE);
			vlog(VLOG_NOTICE, "tunnel_refused",
			    "conn=%llu peer=%s reason=tls_no_certificate",
			    (unsigned long long)s->id, s->peer);
			session_close(s, "front_tls");
			return;
		}
		if (vdi_tls_peer_ca(ssl, NULL, &tenant) == 0 && tenant != NULL)
			snprintf(s->tenant, sizeof(s->tenant), "%s", tenant);
		if (session_advance(s, SE_TLS_ACCEPTED) != 0)
			return;
		vlog(VLOG_DEBUG, "tls_accept",
		    "conn=%llu peer=%s device=%s tenant=%s",
		    (unsigned long long)s->id, s->peer, s->device,
		    VLOG_Q(s->tenant));
		return;
	}
	if (s->state == SS_FRONT_TLS) {
		vdi_tls_handshake_error(ssl, why, sizeof(why));
		if ((bad = vdi_tls_refused_cert(ssl)) != NULL)
			(void)!vdi_tls_cert_subject(bad, subj, sizeof(subj));
		gwm_refusal(s->gw, VDI_REASON_TLS_HANDSHAKE);
		vlog(VLOG_NOTICE, "tunnel_refused",
		    "conn=%llu peer=%s reason=tls_handshake error=%s "
		    "subject=%s",
		    (unsigned long long)s->id, s->peer, VLOG_Q(why),
		    VLOG_Q(subj));
		session_close(s, "front_tls");
		return;
	}
	if (s->state < SS_CLIENT_X224) {
		vlog(VLOG_INFO, "tunnel_abandoned",
		    "conn=%llu peer=%s state=%s", (unsigned long long)s->id,
		    s->peer, session_state_name(s->state));
		session_close(s, "front_tls");
		return;
	}
	session_close(
	    s, (what & BEV_EVENT_EOF) ? "client_closed" : "client_error");
}

void
front_start(struct session *s)
{
	bufferevent_setcb(s->cli, front_read, NULL, front_event, s);
	bufferevent_setwatermark(s->cli, EV_READ, 0, FRONT_REQUEST_MAX + 1024);
	bufferevent_enable(s->cli, EV_READ | EV_WRITE);
}
