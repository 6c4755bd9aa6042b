/* http.c: the broker's HTTPS front (see http.h). */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <stdlib.h>

#include "apireq.h"
#include "http.h"
#include "srclimit.h"
#include "vlog.h"

static const struct http_route *routes_cur;

/* ---- connections: caps, deadlines, descriptor pressure ------------------
 *
 * evhttp (libevent 2.1) tells nothing about a connection before its first
 * request, so each one is followed through its SSL object: make_bev()
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
static void
conn_dispatched(struct evhttp_request *req)
{
	struct http_conn *c = conn_of(req);

	if (c == NULL)
		return;
	c->state = HC_HANDLING;
	evtimer_del(c->timer);
}

static void
conn_answered(struct evhttp_request *req)
{
	struct http_conn *c = conn_of(req);

	if (c != NULL)
		c->state = HC_IDLE;
}

double
http_time(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
observe_latency(struct broker *b, double secs)
{
	static const double bounds[] = { 0.001, 0.0025, 0.005, 0.01, 0.025,
		0.05, 0.1, 0.25, 0.5, 1, 2.5, 5 };
	size_t i;

	for (i = 0; i < sizeof(bounds) / sizeof(bounds[0]); i++)
		if (secs <= bounds[i])
			b->m.lat_buckets[i]++;
	b->m.lat_count++;
	b->m.lat_sum += secs;
}

void
http_reply(struct broker *b, struct evhttp_request *req, int code, json_t *body,
    double t0)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	struct evbuffer *out = evhttp_request_get_output_buffer(req);
	char *text = NULL;

	if (body != NULL)
		text = json_dumps(body, JSON_COMPACT);
	evhttp_add_header(h, "Content-Type", "application/json");
	evhttp_add_header(h, "Cache-Control", "no-store");
	if (text != NULL) {
		evbuffer_add(out, text, strlen(text));
		evbuffer_add(out, "\n", 1);
		/* Replies may carry tokens and tickets. */
		OPENSSL_cleanse(text, strlen(text));
		free(text);
	}
	json_decref(body);
	if (code >= 500)
		b->m.http_5xx++;
	else if (code >= 400)
		b->m.http_4xx++;
	conn_answered(req);
	evhttp_send_reply(req, code, NULL, NULL);
	if (t0 > 0)
		observe_latency(b, http_time() - t0);
}

void
http_error(struct broker *b, struct evhttp_request *req, int code,
    const char *code_str, const char *msg, double t0)
{
	http_reply(b, req, code,
	    json_pack("{s:s, s:s}", "error", code_str, "message", msg), t0);
}

int
http_parse_body(struct evhttp_request *req, size_t max, json_t **out, char *err,
    size_t errlen)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	unsigned char *p;

	*out = NULL;
	if (len > max) {
		snprintf(err, errlen, "request body over %zu bytes", max);
		return VDI_ERR_TOO_LARGE;
	}
	if (len == 0) {
		snprintf(err, errlen, "a JSON object body is required");
		return VDI_ERR_JSON;
	}
	if ((p = evbuffer_pullup(in, (ev_ssize_t)len)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return VDI_ERR_ALLOC;
	}
	{
		struct apireq_error ae;
		int r = apireq_json(p, len, out, &ae);

		/* Bodies can hold passwords: wipe the raw bytes. */
		OPENSSL_cleanse(p, len);
		if (r != 0) {
			snprintf(err, errlen, "%s", ae.message);
			return VDI_ERR_JSON;
		}
	}
	return 0;
}

int
http_peer(struct evhttp_request *req, struct broker_peer *peer)
{
	struct evhttp_connection *conn = evhttp_request_get_connection(req);
	struct bufferevent *bev;
	const char *name = NULL;
	char *addr = NULL;
	ev_uint16_t port = 0;

	memset(peer, 0, sizeof(*peer));
	if (conn == NULL ||
	    (bev = evhttp_connection_get_bufferevent(conn)) == NULL ||
	    (peer->ssl = bufferevent_openssl_get_ssl(bev)) == NULL)
		return VDI_ERR_CERT_VERIFY;
	if (SSL_get_verify_result(peer->ssl) != X509_V_OK ||
	    (peer->cert = vdi_tls_peer_cert(peer->ssl)) == NULL)
		return VDI_ERR_CERT_VERIFY;
	if (vdi_tls_thumbprint_hex(
		peer->cert, peer->thumb_hex, sizeof(peer->thumb_hex)) != 0 ||
	    vdi_tls_thumbprint_b64url(
		peer->cert, peer->thumb_b64, sizeof(peer->thumb_b64)) != 0)
		return VDI_ERR_CERT_VERIFY;
	(void)!vdi_tls_cert_subject(
	    peer->cert, peer->subject, sizeof(peer->subject));
	if (vdi_tls_peer_ca(peer->ssl, NULL, &name) != 0 || name == NULL)
		return VDI_ERR_CERT_VERIFY;
	snprintf(peer->ca_name, sizeof(peer->ca_name), "%s", name);
	evhttp_connection_get_peer(conn, &addr, &port);
	if (addr != NULL) {
		snprintf(peer->addr, sizeof(peer->addr), "%s", addr);
		peer->have_from = vdi_addr_parse(addr, &peer->from) == 0;
	}
	return 0;
}

/* The CN of a certificate (gateway names). */
static int
cert_cn(X509 *cert, char *out, size_t len)
{
	X509_NAME *n = X509_get_subject_name(cert);

	out[0] = '\0';
	if (n == NULL ||
	    X509_NAME_get_text_by_NID(n, NID_commonName, out, (int)len) <= 0)
		return -1;
	return 0;
}

static int
is_gateway(struct broker *b, const struct broker_peer *peer)
{
	char cn[BCONF_NAME_MAX];
	size_t i;

	if (strcmp(peer->ca_name, HTTP_GATEWAY_CA) != 0)
		return 0;
	if (cert_cn(peer->cert, cn, sizeof(cn)) != 0)
		return 0;
	for (i = 0; i < b->conf.ngateways; i++)
		if (strcmp(b->conf.gateways[i].name, cn) == 0)
			return 1;
	return 0;
}

static void
dispatch(struct evhttp_request *req, void *arg)
{
	struct broker *b = arg;
	const struct http_route *r, *match = NULL;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	const char *path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	struct broker_peer peer;
	json_t *body = NULL;
	double t0 = http_time();
	char err[256];
	int path_known = 0;

	b->m.requests++;
	conn_dispatched(req);
	if (path == NULL) {
		http_error(b, req, 400, "bad_request", "no path", t0);
		return;
	}
	for (r = routes_cur; r->fn != NULL; r++) {
		if (strcmp(r->path, path) != 0)
			continue;
		path_known = 1;
		if (r->method == cmd)
			match = r;
	}
	if (match == NULL) {
		if (path_known)
			http_error(b, req, 405, "method_not_allowed",
			    "method not allowed on this path", t0);
		else
			http_error(
			    b, req, 404, "not_found", "no such endpoint", t0);
		return;
	}
	if (http_peer(req, &peer) != 0) {
		http_error(b, req, 401, "no_client_certificate",
		    "a verified client certificate is required", t0);
		return;
	}
	if (match->who == HTTP_DEVICE &&
	    (peer.ca_name[0] == '@' ||
		policy_tenant_lookup(b->policy, peer.ca_name) == NULL)) {
		vlog(VLOG_WARNING, "http_refused",
		    "path=%s peer=%s ca=%s reason=not_a_device_certificate",
		    VLOG_Q(path), peer.addr, VLOG_Q(peer.ca_name));
		http_error(b, req, 403, "not_a_device",
		    "this endpoint needs a tenant's device certificate", t0);
		return;
	}
	if (match->who == HTTP_GATEWAY && !is_gateway(b, &peer)) {
		vlog(VLOG_WARNING, "http_refused",
		    "path=%s peer=%s ca=%s reason=not_a_gateway", VLOG_Q(path),
		    peer.addr, VLOG_Q(peer.ca_name));
		http_error(b, req, 403, "not_a_gateway",
		    "this endpoint needs a configured gateway's certificate",
		    t0);
		return;
	}
	if (match->body) {
		int rc = http_parse_body(
		    req, b->conf.max_body, &body, err, sizeof(err));

		if (rc == VDI_ERR_TOO_LARGE) {
			http_error(b, req, 413, "body_too_large", err, t0);
			return;
		}
		if (rc != 0) {
			http_error(b, req, 400, "bad_json", err, t0);
			return;
		}
	}
	match->fn(b, req, &peer, body, t0);
	json_decref(body);
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

static struct bufferevent *
make_bev(struct event_base *base, void *arg)
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

/* The limits from RLIMIT_NOFILE: half of what is left after 64 for the
 * store, the monitor, logs, probes and the admin socket goes to
 * connections, a quarter at most to PAM conversations (one socket each). */
static void
derive_limits(struct broker *b)
{
	struct rlimit rl;
	unsigned long long nofile = 1024, room;
	unsigned int pam;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		nofile = (unsigned long long)rl.rlim_cur;
	room = nofile > 64 + 32 ? nofile - 64 : 32;
	if (b->conf.max_connections == 0) {
		b->conf.max_connections =
		    (unsigned int)(room / 2 > SRCLIMIT_TOTAL_MAX
			    ? SRCLIMIT_TOTAL_MAX
			    : room / 2);
		if (b->conf.max_connections < 16)
			b->conf.max_connections = 16;
	} else if (b->conf.max_connections > nofile) {
		vlog(VLOG_WARNING, "limits_above_nofile",
		    "nofile=%llu max_connections=%u detail=\"raise "
		    "LimitNOFILE or lower limits.max_connections; descriptor "
		    "exhaustion is then met by pausing accept\"",
		    nofile, b->conf.max_connections);
	}
	pam = (unsigned int)(room / 4 < 4 ? 4 : room / 4);
	if (b->conf.max_logins > pam) {
		vlog(VLOG_WARNING, "limits_reduced",
		    "nofile=%llu max_pending=%u now=%u detail=\"one socket "
		    "per PAM conversation: raise LimitNOFILE for more\"",
		    nofile, b->conf.max_logins, pam);
		b->conf.max_logins = pam;
	}
	if (b->conf.max_logins_per_device > b->conf.max_logins)
		b->conf.max_logins_per_device = b->conf.max_logins;
	if (b->conf.max_logins_per_user > b->conf.max_logins)
		b->conf.max_logins_per_user = b->conf.max_logins;
	if (b->conf.max_connections_per_source > b->conf.max_connections)
		b->conf.max_connections_per_source = b->conf.max_connections;
	vlog(VLOG_INFO, "limits",
	    "nofile=%llu max_connections=%u max_connections_per_source=%u "
	    "request_timeout=%u max_pending=%u max_pending_per_device=%u "
	    "max_pending_per_user=%u",
	    nofile, b->conf.max_connections, b->conf.max_connections_per_source,
	    b->conf.request_timeout, b->conf.max_logins,
	    b->conf.max_logins_per_device, b->conf.max_logins_per_user);
}

int
http_start(
    struct broker *b, const struct http_route *routes, char *err, size_t errlen)
{
	struct evhttp_bound_socket *bs;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	const char *host = b->conf.listen_host;

	routes_cur = routes;
	derive_limits(b);
	front.b = b;
	if (front.ex_idx < 0)
		front.ex_idx =
		    SSL_get_ex_new_index(0, NULL, NULL, NULL, conn_free);
	if (front.ex_idx < 0 ||
	    (front.src = srclimit_new(b->conf.max_connections,
		 b->conf.max_connections_per_source)) == NULL ||
	    (front.backoff = evtimer_new(b->base, backoff_done, NULL)) ==
		NULL ||
	    (b->http = evhttp_new(b->base)) == NULL) {
		snprintf(err, errlen, "evhttp_new failed");
		return VDI_ERR_ALLOC;
	}
	spare_open();
	evhttp_set_bevcb(b->http, make_bev, b);
	evhttp_set_gencb(b->http, dispatch, b);
	evhttp_set_max_body_size(b->http, b->conf.max_body);
	evhttp_set_max_headers_size(b->http, 16384);
	evhttp_set_timeout(b->http, 30);
	evhttp_set_allowed_methods(b->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST);
	if (strcmp(host, "*") == 0)
		host = "0.0.0.0";
	if ((bs = evhttp_bind_socket_with_handle(
		 b->http, host, b->conf.listen_port)) == NULL) {
		snprintf(err, errlen,
		    "cannot listen on %s:%u (address in use, or not an address "
		    "of this machine?)",
		    host, b->conf.listen_port);
		return VDI_ERR_IO;
	}
	front.lev = evhttp_bound_socket_get_listener(bs);
	evconnlistener_set_error_cb(front.lev, accept_error);
	if (getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&ss,
		&sl) == 0) {
		if (ss.ss_family == AF_INET)
			b->bound_port =
			    ntohs(((struct sockaddr_in *)&ss)->sin_port);
		else if (ss.ss_family == AF_INET6)
			b->bound_port =
			    ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	}
	return 0;
}

void
http_stop(struct broker *b)
{
	/* Freeing evhttp frees its listener, then every connection
	 * (conn_free runs and must not touch the listener). */
	front.lev = NULL;
	if (b->http != NULL)
		evhttp_free(b->http);
	b->http = NULL;
	if (front.backoff != NULL)
		event_free(front.backoff);
	front.backoff = NULL;
	srclimit_free(front.src);
	front.src = NULL;
	http_spare_fd_release();
	front.b = NULL;
}
