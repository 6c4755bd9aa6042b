/*
 * desktop.c: the desktop leg of a tunnel (docs/gateway.md "Order of a
 * tunnel").
 *
 * TCP to the token's dst, a fresh X.224 Connection Request with
 * "Cookie: mstshash=<user>" asking for SSL, the desktop's Connection
 * Confirm (it must select SSL), then TLS as a client on the same
 * connection (bufferevent_openssl filter), checked against the token's pin
 * (SHA-256 of the desktop's certificate) or, without a pin, against
 * desktop_ca with the host name.
 *
 * What the leg speaks after the X.224 exchange is a desktop security, an
 * entry of securities[] below: today TLS. Another one (NLA: CredSSP over
 * TLS) is one more entry with the protocol it asks for and its start
 * function; a token asking for a security without an entry is refused at
 * admission (desktop_security() returns NULL).
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/dns.h>
#include <openssl/crypto.h>
#include <openssl/err.h>

#include "rdp/frame.h"
#include "rdp/x224.h"
#include "session.h"
#include "vlog.h"

/* The mstshash cookie: printable ASCII without spaces, at most
 * RDP_X224_COOKIE_MAX bytes (anything else becomes '_'). */
static void
cookie_user(const char *user, char *out, size_t outlen)
{
	size_t i;

	for (i = 0;
	     user[i] != '\0' && i + 1 < outlen && i < RDP_X224_COOKIE_MAX; i++)
		out[i] = (user[i] > 0x20 && user[i] < 0x7F) ? user[i] : '_';
	out[i] = '\0';
	if (i == 0)
		snprintf(out, outlen, "user");
}

static void fail(struct session *s, enum vdi_reason why, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
fail(struct session *s, enum vdi_reason why, const char *fmt, ...)
{
	char detail[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	session_desktop_failed(s, why, detail);
}

static void
tls_event(struct bufferevent *bev, short what, void *arg)
{
	struct session *s = arg;
	unsigned char tp[VDI_TLS_THUMBPRINT_LEN];
	char why[160];
	SSL *ssl = bufferevent_openssl_get_ssl(bev);
	long vr;

	if (what & BEV_EVENT_CONNECTED) {
		if (s->adm.tok.has_pin) {
			if (vdi_tls_peer_thumbprint(ssl, tp) != 0 ||
			    CRYPTO_memcmp(tp, s->adm.tok.pin, sizeof(tp)) !=
				0) {
				fail(s, VDI_REASON_DESKTOP_UNTRUSTED,
				    "reason=desktop_pin_mismatch");
				return;
			}
		} else if ((vr = SSL_get_verify_result(ssl)) != X509_V_OK) {
			fail(s, VDI_REASON_DESKTOP_UNTRUSTED,
			    "reason=desktop_cert_invalid verify=%s",
			    VLOG_Q(X509_verify_cert_error_string(vr)));
			return;
		}
		s->dl.state = DS_READY;
		session_desktop_ready(s);
		return;
	}
	vdi_tls_handshake_error(ssl, why, sizeof(why));
	fail(s,
	    (what & BEV_EVENT_ERROR) && ssl != NULL &&
		    SSL_get_verify_result(ssl) != X509_V_OK
		? VDI_REASON_DESKTOP_UNTRUSTED
		: VDI_REASON_DESKTOP_UNREACHABLE,
	    "reason=desktop_tls_failed error=%s", VLOG_Q(why));
}

static void
start_tls(struct session *s)
{
	struct bufferevent *f;
	SSL_CTX *ctx =
	    s->adm.tok.has_pin ? s->gw->desk_pin_ctx : s->gw->desk_ca_ctx;
	SSL *ssl;

	if (ctx == NULL) {
		fail(s, VDI_REASON_DESKTOP_UNTRUSTED,
		    "reason=desktop_unverifiable "
		    "detail=\"no pin in the token and no desktop_ca\"");
		return;
	}
	if ((ssl = SSL_new(ctx)) == NULL) {
		fail(
		    s, VDI_REASON_DESKTOP_UNREACHABLE, "reason=ssl_new_failed");
		return;
	}
	if (!s->adm.tok.has_pin &&
	    vdi_tls_set_peer_host(ssl, s->adm.tok.dst_host) != 0) {
		SSL_free(ssl);
		fail(s, VDI_REASON_DESKTOP_UNTRUSTED,
		    "reason=desktop_host_invalid");
		return;
	}
	f = bufferevent_openssl_filter_new(s->w->base, s->desk, ssl,
	    BUFFEREVENT_SSL_CONNECTING,
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (f == NULL) {
		SSL_free(ssl);
		fail(s, VDI_REASON_DESKTOP_UNREACHABLE,
		    "reason=tls_filter_failed");
		return;
	}
	/* A desktop that closes TCP without close_notify (a logoff, a
	 * shutdown) has closed: desktop_closed, not desktop_error. */
	bufferevent_openssl_set_allow_dirty_shutdown(f, 1);
	gw_ssl_eof_is_close(ssl);
	s->desk = f;
	s->dl.state = DS_TLS;
	bufferevent_setcb(f, NULL, NULL, tls_event, s);
	bufferevent_enable(f, EV_READ | EV_WRITE);
}

/* ---- the desktop securities --------------------------------------------- */

struct desktop_security {
	const char *name;
	int nla;           /* the token's sec: 1 for nla */
	uint32_t protocol; /* asked in the CR, to be selected in the CC */
	/* Runs after the desktop's CC: ends in session_desktop_ready() or
	 * fail(). */
	void (*start)(struct session *s);
};

static const struct desktop_security securities[] = {
	{ "tls", 0, RDP_PROTOCOL_SSL, start_tls },
};

const struct desktop_security *
desktop_security(const struct session *s)
{
	size_t i;

	for (i = 0; i < sizeof(securities) / sizeof(securities[0]); i++)
		if (securities[i].nla == (s->adm.tok.nla != 0))
			return &securities[i];
	return NULL;
}

/* ---- TCP and X.224 ------------------------------------------------------- */

static void
cc_read(struct bufferevent *bev, void *arg)
{
	struct session *s = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct rdp_x224_cc cc;
	unsigned char hdr[4];
	struct vbuf v;
	size_t have = evbuffer_get_length(in), len;
	ev_ssize_t n;
	int r;

	if (s->dl.state != DS_CC)
		return;
	n = evbuffer_copyout(in, hdr, sizeof(hdr));
	if (n < 0)
		return;
	r = relay_frame_len(hdr, (size_t)n, 512, &len);
	if (r == VDI_ERR_NEED_MORE || (r == 0 && have < len))
		return;
	if (r != 0 || hdr[0] != 0x03) {
		fail(s, VDI_REASON_DESKTOP_UNREACHABLE,
		    "reason=desktop_x224_malformed err=%s", vdi_errname(r));
		return;
	}
	vbuf_init_view(&v, evbuffer_pullup(in, (ev_ssize_t)len), len);
	if ((r = rdp_x224_parse_cc(&v, &cc)) != 0) {
		fail(s, VDI_REASON_DESKTOP_UNREACHABLE,
		    "reason=desktop_x224_malformed err=%s", vdi_errname(r));
		return;
	}
	(void)evbuffer_drain(in, len);
	if (!cc.has_neg || cc.failure) {
		fail(s,
		    cc.failure &&
			    cc.failure_code == RDP_NEG_FAILURE_HYBRID_REQUIRED
			? VDI_REASON_NLA_UNSUPPORTED
			: VDI_REASON_DESKTOP_UNREACHABLE,
		    "reason=desktop_negotiation_failed failure_code=%u",
		    cc.failure ? cc.failure_code : 0);
		return;
	}
	if (cc.selected_protocol != s->dl.sec->protocol) {
		fail(s, VDI_REASON_DESKTOP_UNREACHABLE,
		    "reason=desktop_selected_protocol protocol=%u",
		    cc.selected_protocol);
		return;
	}
	if (evbuffer_get_length(in) != 0) {
		fail(s, VDI_REASON_DESKTOP_UNREACHABLE,
		    "reason=desktop_spoke_before_tls");
		return;
	}
	s->dl.cc_flags = cc.flags;
	s->dl.selected = cc.selected_protocol;
	s->dl.sec->start(s);
}

static void
tcp_event(struct bufferevent *bev, short what, void *arg)
{
	struct session *s = arg;
	struct vbuf *out;
	char user[RDP_X224_COOKIE_MAX + 1];
	int r;

	if (what & BEV_EVENT_CONNECTED) {
		if ((out = vbuf_new(1024)) == NULL) {
			fail(s, VDI_REASON_DESKTOP_UNREACHABLE, "reason=alloc");
			return;
		}
		cookie_user(s->adm.tok.sub, user, sizeof(user));
		r = rdp_x224_write_cr(out, user, s->dl.sec->protocol);
		if (r == 0 &&
		    bufferevent_write(bev, vbuf_ptr(out), vbuf_len(out)) != 0)
			r = VDI_ERR_ALLOC;
		vbuf_free(out);
		if (r != 0) {
			fail(s, VDI_REASON_DESKTOP_UNREACHABLE,
			    "reason=x224_cr_failed err=%s", vdi_errname(r));
			return;
		}
		s->dl.state = DS_CC;
		return;
	}
	if (what & BEV_EVENT_ERROR) {
		int dnserr = bufferevent_socket_get_dns_error(bev);

		if (dnserr != 0)
			fail(s, VDI_REASON_DESKTOP_UNREACHABLE,
			    "reason=desktop_dns error=\"%s\"",
			    evutil_gai_strerror(dnserr));
		else
			fail(s, VDI_REASON_DESKTOP_UNREACHABLE,
			    "reason=desktop_connect error=\"%s\"",
			    evutil_socket_error_to_string(
				EVUTIL_SOCKET_ERROR()));
		return;
	}
	fail(s, VDI_REASON_DESKTOP_UNREACHABLE, "reason=desktop_closed");
}

int
desktop_connect(struct session *s)
{
	if ((s->dl.sec = desktop_security(s)) == NULL)
		return VDI_ERR_UNSUPPORTED; /* admission refused it already */
	s->desk = bufferevent_socket_new(
	    s->w->base, -1, BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (s->desk == NULL)
		return VDI_ERR_ALLOC;
	s->dl.state = DS_TCP;
	bufferevent_setcb(s->desk, cc_read, NULL, tcp_event, s);
	bufferevent_setwatermark(s->desk, EV_READ, 0, 4096);
	bufferevent_enable(s->desk, EV_READ | EV_WRITE);
	if (bufferevent_socket_connect_hostname(s->desk, s->w->dns, AF_UNSPEC,
		s->adm.tok.dst_host, s->adm.tok.dst_port) != 0) {
		/* tcp_event has run (or will not): report once from here. */
		if (s->dl.state == DS_TCP)
			fail(s, VDI_REASON_DESKTOP_UNREACHABLE,
			    "reason=desktop_connect_failed");
		return 0;
	}
	return 0;
}
