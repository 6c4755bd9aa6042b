/*
 * client.c: the client's RDP leg inside the tunnel (one per role, see
 * gateway.h), once the front request is accepted: the client's X.224
 * Connection Request answered with a Connection Confirm selecting SSL (or
 * RDP_NEG_FAILURE "SSL required"), then the TLS accept of the RDP-level
 * TLS (a bufferevent_openssl filter over the front TLS bufferevent).
 * When it is up the session starts relaying (session_relay_start).
 */
#include "config.h"

#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>

#include "rdp/frame.h"
#include "rdp/x224.h"
#include "session.h"
#include "vlog.h"

static void
inner_event(struct bufferevent *bev, short what, void *arg)
{
	struct session *s = arg;
	char why[160];

	if (what & BEV_EVENT_CONNECTED) {
		session_relay_start(s);
		return;
	}
	vdi_tls_handshake_error(
	    bufferevent_openssl_get_ssl(bev), why, sizeof(why));
	gwm_refusal(s->gw, VDI_REASON_CLIENT_PROTOCOL);
	vlog(VLOG_NOTICE, "tunnel_client_failed",
	    "conn=%llu sid=%s reason=rdp_tls_failed error=%s",
	    (unsigned long long)s->id, VLOG_Q(s->adm.tok.sid), VLOG_Q(why));
	session_close(s, "client_rdp_tls_failed");
}

void
client_x224_read(struct session *s)
{
	struct evbuffer *in = bufferevent_get_input(s->cli);
	struct rdp_x224_cr cr;
	struct vbuf v, *out = NULL;
	unsigned char hdr[4];
	uint32_t selected;
	size_t len;
	ev_ssize_t n;
	SSL *ssl;
	struct bufferevent *f;
	const char *why = "out_of_memory";
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
	if ((out = vbuf_new(256)) == NULL)
		goto close;
	s->client_requested = cr.requested_protocols;
	if (rdp_x224_select_protocol(&cr, &selected) != 0) {
		if (rdp_x224_write_neg_failure(
			out, RDP_NEG_FAILURE_SSL_REQUIRED) == 0)
			bufferevent_write(s->cli, vbuf_ptr(out), vbuf_len(out));
		gwm_refusal(s->gw, VDI_REASON_CLIENT_PROTOCOL);
		vlog(VLOG_NOTICE, "tunnel_client_failed",
		    "conn=%llu sid=%s reason=ssl_not_offered requested=%u",
		    (unsigned long long)s->id, s->adm.tok.sid,
		    cr.requested_protocols);
		/* Let the failure reach the client, then close. */
		why = "client_ssl_not_offered";
		goto close;
	}
	r = rdp_x224_write_cc(out, s->dl.cc_flags, selected);
	if (r == 0)
		r = bufferevent_write(s->cli, vbuf_ptr(out), vbuf_len(out));
	vbuf_free(out);
	out = NULL;
	if (r != 0 || (ssl = SSL_new(s->gw->inner_ctx)) == NULL)
		goto close;
	bufferevent_setwatermark(s->cli, EV_READ, 0, 0);
	f = bufferevent_openssl_filter_new(s->w->base, s->cli, ssl,
	    BUFFEREVENT_SSL_ACCEPTING,
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (f == NULL) {
		SSL_free(ssl);
		goto close;
	}
	/* A peer that closes TCP without close_notify has closed, not
	 * failed: tunnel_end says client_closed (not client_error). */
	bufferevent_openssl_set_allow_dirty_shutdown(f, 1);
	gw_ssl_eof_is_close(ssl);
	s->cin = f;
	if (session_advance(s, SE_CLIENT_CR) != 0)
		return;
	bufferevent_setcb(f, NULL, NULL, inner_event, s);
	bufferevent_enable(f, EV_READ | EV_WRITE);
	return;
bad:
	gwm_refusal(s->gw, VDI_REASON_CLIENT_PROTOCOL);
	vlog(VLOG_NOTICE, "tunnel_client_failed",
	    "conn=%llu sid=%s reason=x224_cr_malformed err=%s",
	    (unsigned long long)s->id, s->adm.tok.sid, vdi_errname(r));
	why = "client_x224_malformed";
close:
	vbuf_free(out);
	session_close(s, why);
}
