/* http_conn.c: the HTTPS front's connections: caps, deadlines, descriptor
 * pressure, refused certificates logged (see http_conn.h). Requests and
 * routes are in http.c. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <openssl/crypto.h>

#include "http.h"
#include "broker.h"
#include "http_conn.h"
#include "policy.h"
#include "srclimit.h"
#include "vlog.h"

/* ---- connections: caps, deadlines, descriptor pressure ------------------
 *
 * evhttp (libevent 2.1) tells nothing about a connection before its first
 * request, so each one is followed through its SSL object: http_conn_bev()
 * hangs a struct http_conn on it (ex_data) and OpenSSL's free callback for
 * that slot runs when evhttp frees the connection. From there:
 *   - max_connections: at the cap the listener is disabled (new peers wait
 *     in the kernel's backlog) and enabled again below it;
 *   - max_connections_per_source: checked on the first turn of the loop
 *     after accept (the descriptor is set by then); a source over its
 *     share is closed at once;
 *   - request_timeout: a request must arrive whole within it, counted
 *     from accept (TLS handshake included) or, on a kept-alive connection,
 *     from the first TLS record after the previous reply (OpenSSL's message
 *     callback sees every record); evhttp's own timeout restarts at every
 *     byte, this one does not. Connections are ended by shutdown(2): evhttp
 *     reads the end of file and frees them itself;
 *   - accept() failing with EMFILE/ENFILE: the listener's error callback
 *     closes a spare descriptor to accept and drop one waiting peer,
 *     pauses the listener for HTTP_BACKOFF_MS and logs at most once a
 *     second.
 */
#define HTTP_BACKOFF_MS 100

enum http_conn_state {
	HC_NEW = 0, /* accepted: TLS handshake and first request */
	HC_IDLE,    /* kept alive after a reply: evhttp's idle timeout */
	HC_READING, /* bytes of the next request arrived */
	HC_HANDLING /* dispatched to a handler (may be held, e.g. PAM) */
};

struct http_conn {
	SSL *ssl;
	struct event *timer; /* first look, then the request deadline */
	enum http_conn_state state;
	int looked;  /* the per-source check ran */
	int counted; /* taken in front.src */
	struct vdi_addr src;
};

struct log_gate {
	time_t last;
	unsigned long suppressed;
};

static struct {
	struct broker *b;
	struct evconnlistener *lev;
	struct srclimit *src;
	unsigned int open;
	int full;        /* listener disabled at max_connections */
	int backing_off; /* listener disabled after an accept error */
	struct event *backoff;
	int spare_fd;
	int ex_idx;
	struct log_gate gate_source, gate_timeout, gate_full, gate_accept;
} front = { .spare_fd = -1, .ex_idx = -1 };

static int
log_gate_open(struct log_gate *g, unsigned long *suppressed)
{
	time_t now = time(NULL);

	if (g->last == now) {
		g->suppressed++;
		return 0;
	}
	g->last = now;
	*suppressed = g->suppressed;
	g->suppressed = 0;
	return 1;
}

static void
listener_update(void)
{
	if (front.lev == NULL)
		return;
	if (front.full || front.backing_off)
		evconnlistener_disable(front.lev);
	else
		evconnlistener_enable(front.lev);
}

static void
spare_open(void)
{
	if (front.spare_fd < 0)
		front.spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

void
http_spare_fd_release(void)
{
	if (front.spare_fd >= 0) {
		close(front.spare_fd);
		front.spare_fd = -1;
	}
}

void
http_spare_fd_restore(void)
{
	spare_open();
}

static struct http_conn *
conn_of(struct evhttp_request *req)
{
	struct evhttp_connection *evc = evhttp_request_get_connection(req);
	struct bufferevent *bev;
	SSL *ssl;

	if (evc == NULL || front.ex_idx < 0 ||
	    (bev = evhttp_connection_get_bufferevent(evc)) == NULL ||
	    (ssl = bufferevent_openssl_get_ssl(bev)) == NULL)
		return NULL;
	return SSL_get_ex_data(ssl, front.ex_idx);
}

/* Ends the connection: evhttp reads the end of file and frees it. */
static void
conn_end(struct http_conn *c)
{
	int fd = SSL_get_fd(c->ssl);

	evtimer_del(c->timer);
	if (fd >= 0)
		(void)shutdown(fd, SHUT_RDWR);
}

static void
conn_arm(struct http_conn *c)
{
	struct timeval tv = { (time_t)front.b->conf.request_timeout, 0 };

	evtimer_add(c->timer, &tv);
}

static void
conn_timer(evutil_socket_t unused, short what, void *arg)
{
	struct http_conn *c = arg;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	unsigned long suppressed;
	char addr[64];
	int fd, r;

	if (!c->looked) {
		/* First turn after accept: the source's share. */
		c->looked = 1;
		fd = SSL_get_fd(c->ssl);
		if (fd >= 0 &&
		    getpeername(fd, (struct sockaddr *)&ss, &sl) == 0 &&
		    vdi_addr_from_sockaddr(
			(struct sockaddr *)&ss, sl, &c->src) == 0) {
			if ((r = srclimit_take(front.src, &c->src)) != 0) {
				if (log_gate_open(
					&front.gate_source, &suppressed))
					vlog(VLOG_WARNING, "http_refused",
					    "peer=%s reason=%s open=%u "
					    "limit=%u suppressed=%lu",
					    vdi_addr_format(
						&c->src, addr, sizeof(addr)),
					    r == VDI_ERR_DENIED
						? "per_source_limit"
						: "connection_limit",
					    srclimit_count(front.src, &c->src),
					    r == VDI_ERR_DENIED
						? srclimit_max_per_source(
						      front.src)
						: srclimit_max_total(front.src),
					    suppressed);
				conn_end(c);
				return;
			}
			c->counted = 1;
		}
		if (c->state == HC_NEW)
			conn_arm(c);
		return;
	}
	if (c->state != HC_NEW && c->state != HC_READING)
		return;
	if (log_gate_open(&front.gate_timeout, &suppressed))
		vlog(VLOG_NOTICE, "http_refused",
		    "peer=%s reason=request_timeout state=%s timeout=%u "
		    "suppressed=%lu",
		    vdi_addr_format(&c->src, addr, sizeof(addr)),
		    c->state == HC_NEW ? "handshake_or_first_request"
				       : "request",
		    front.b->conf.request_timeout, suppressed);
	conn_end(c);
}

/* Every TLS record read: the first one after a reply starts the next
 * request's deadline. */
static void
conn_msg(int write_p, int version, int content_type, const void *buf,
    size_t len, SSL *ssl, void *arg)
{
	struct http_conn *c = arg;

	if (write_p || content_type != SSL3_RT_HEADER || c->state != HC_IDLE)
		return;
	c->state = HC_READING;
	conn_arm(c);
}

/* OpenSSL's free callback for front.ex_idx: the connection is gone. */
static void
conn_free(
    void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
	struct http_conn *c = ptr;

	if (c == NULL)
		return;
	if (c->timer != NULL)
		event_free(c->timer);
	if (c->counted && front.src != NULL)
		srclimit_release(front.src, &c->src);
	front.open--;
	if (front.full && front.b != NULL &&
	    front.open < front.b->conf.max_connections) {
		front.full = 0;
		listener_update();
	}
	free(c);
}

static void
backoff_done(evutil_socket_t unused, short what, void *arg)
{
	spare_open();
	front.backing_off = 0;
	listener_update();
}

static void
accept_error(struct evconnlistener *l, void *arg)
{
	struct timeval tv = { 0, HTTP_BACKOFF_MS * 1000 };
	int e = EVUTIL_SOCKET_ERROR(), dropped = 0, fd;
	unsigned long suppressed;

	if (e != EMFILE && e != ENFILE && e != ENOBUFS && e != ENOMEM) {
		if (log_gate_open(&front.gate_accept, &suppressed))
			vlog(VLOG_WARNING, "accept_error",
			    "error=\"%s\" suppressed=%lu",
			    evutil_socket_error_to_string(e), suppressed);
		return;
	}
	if (front.spare_fd >= 0) {
		http_spare_fd_release();
		if ((fd = accept(evconnlistener_get_fd(l), NULL, NULL)) >= 0) {
			close(fd);
			dropped = 1;
		}
		spare_open();
	}
	front.backing_off = 1;
	listener_update();
	if (front.backoff == NULL || evtimer_add(front.backoff, &tv) != 0) {
		front.backing_off = 0;
		listener_update();
	}
	if (log_gate_open(&front.gate_accept, &suppressed))
		vlog(VLOG_ERROR, "accept_backoff",
		    "error=\"%s\" dropped=%d paused_ms=%d open=%u "
		    "max_connections=%u suppressed=%lu",
		    evutil_socket_error_to_string(e), dropped, HTTP_BACKOFF_MS,
		    front.open, front.b->conf.max_connections, suppressed);
}

/* A request was dispatched (its deadline is met) or answered (the
 * connection idles until the next one). */
void
http_conn_dispatched(struct evhttp_request *req)
{
	struct http_conn *c = conn_of(req);

	if (c == NULL)
		return;
	c->state = HC_HANDLING;
	evtimer_del(c->timer);
}

void
http_conn_answered(struct evhttp_request *req)
{
	struct http_conn *c = conn_of(req);

	if (c != NULL)
		c->state = HC_IDLE;
}

/* Audits a device certificate refused at TLS, when a tenant's CA issued it
 * (others are logged only: anyone could send them), once per device and
 * reason a minute (a retrying tablet adds no row per attempt). */
static void
audit_tls_refusal(X509 *leaf, const char *thumb, int err, const char *peer)
{
	static struct {
		char thumb[VDI_TLS_THUMBPRINT_HEX_SIZE];
		int err;
		time_t at;
	} seen[64];
	static unsigned int next;
	struct policy_device d;
	time_t now = time(NULL);
	json_t *detail;
	unsigned int i;

	if (front.b == NULL || front.b->policy == NULL ||
	    policy_identify(front.b->policy, leaf, (int64_t)now, &d) != 0 ||
	    d.tenant == NULL)
		return;
	for (i = 0; i < sizeof(seen) / sizeof(seen[0]); i++)
		if (seen[i].err == err && now - seen[i].at < 60 &&
		    strcmp(seen[i].thumb, thumb) == 0)
			return;
	i = next++ % (sizeof(seen) / sizeof(seen[0]));
	snprintf(seen[i].thumb, sizeof(seen[i].thumb), "%s", thumb);
	seen[i].err = err;
	seen[i].at = now;
	detail = json_pack("{s:s}", "peer", peer);
	(void)broker_audit(front.b, "broker", "tls_refused", "refused",
	    policy_tenant_name(d.tenant), NULL, thumb, NULL,
	    X509_verify_cert_error_string(err), detail);
	json_decref(detail);
}

/* Logs every refused client certificate with the reason and the device's
 * thumbprint, and audits those of the tenants' devices. */
static int
log_verify(int ok, X509_STORE_CTX *x)
{
	char subject[256] = "", peer[64] = "unknown";
	char thumb[VDI_TLS_THUMBPRINT_HEX_SIZE] = "";
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	SSL *ssl;
	X509 *cert, *leaf;
	int err;

	if (ok)
		return ok;
	err = X509_STORE_CTX_get_error(x);
	if ((cert = X509_STORE_CTX_get_current_cert(x)) != NULL)
		(void)!vdi_tls_cert_subject(cert, subject, sizeof(subject));
	ssl =
	    X509_STORE_CTX_get_ex_data(x, SSL_get_ex_data_X509_STORE_CTX_idx());
	if (ssl != NULL &&
	    getpeername(SSL_get_fd(ssl), (struct sockaddr *)&ss, &sl) == 0) {
		struct vdi_addr a;

		if (vdi_addr_from_sockaddr((struct sockaddr *)&ss, sl, &a) == 0)
			vdi_addr_format(&a, peer, sizeof(peer));
	}
	if ((leaf = X509_STORE_CTX_get0_cert(x)) != NULL &&
	    vdi_tls_thumbprint_hex(leaf, thumb, sizeof(thumb)) != 0)
		thumb[0] = '\0';
	vlog(VLOG_WARNING, "tls_refused",
	    "peer=%s depth=%d reason=%s subject=%s device=%s", peer,
	    X509_STORE_CTX_get_error_depth(x),
	    VLOG_Q(X509_verify_cert_error_string(err)), VLOG_Q(subject),
	    thumb[0] ? thumb : "-");
	if (leaf != NULL && thumb[0])
		audit_tls_refusal(leaf, thumb, err, peer);
	return ok;
}

struct bufferevent *
http_conn_bev(struct event_base *base, void *arg)
{
	struct broker *b = arg;
	SSL *ssl = vdi_tls_ssl_new(b->tls);
	struct bufferevent *bev;
	struct http_conn *c;
	unsigned long suppressed;

	if (ssl == NULL)
		return NULL;
	SSL_set_verify(ssl, SSL_get_verify_mode(ssl), log_verify);
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		SSL_free(ssl);
		return NULL;
	}
	c->ssl = ssl;
	front.open++;
	if (SSL_set_ex_data(ssl, front.ex_idx, c) != 1) {
		front.open--;
		free(c);
		SSL_free(ssl);
		return NULL;
	}
	/* From here SSL_free() frees c (conn_free). */
	if ((c->timer = evtimer_new(base, conn_timer, c)) == NULL) {
		SSL_free(ssl);
		return NULL;
	}
	SSL_set_msg_callback(ssl, conn_msg);
	SSL_set_msg_callback_arg(ssl, c);
	/* The first look runs once evhttp has set the descriptor. */
	event_active(c->timer, EV_TIMEOUT, 1);
	if (front.open >= b->conf.max_connections && !front.full) {
		front.full = 1;
		listener_update();
		if (log_gate_open(&front.gate_full, &suppressed))
			vlog(VLOG_WARNING, "connections_full",
			    "open=%u max_connections=%u suppressed=%lu "
			    "detail=\"new connections wait until one closes\"",
			    front.open, b->conf.max_connections, suppressed);
	}
	bev = bufferevent_openssl_socket_new(
	    base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL)
		SSL_free(ssl);
	return bev;
}

int
http_conn_init(struct broker *b)
{
	front.b = b;
	if (front.ex_idx < 0)
		front.ex_idx =
		    SSL_get_ex_new_index(0, NULL, NULL, NULL, conn_free);
	if (front.ex_idx < 0 ||
	    (front.src = srclimit_new(b->conf.max_connections,
		 b->conf.max_connections_per_source)) == NULL ||
	    (front.backoff = evtimer_new(b->base, backoff_done, NULL)) == NULL)
		return VDI_ERR_ALLOC;
	spare_open();
	return 0;
}

void
http_conn_listener(struct evconnlistener *lev)
{
	front.lev = lev;
	if (lev != NULL)
		evconnlistener_set_error_cb(lev, accept_error);
}

void
http_conn_stop(void)
{
	if (front.backoff != NULL)
		event_free(front.backoff);
	front.backoff = NULL;
	srclimit_free(front.src);
	front.src = NULL;
	http_spare_fd_release();
	front.b = NULL;
}
