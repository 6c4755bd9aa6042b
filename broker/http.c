/* http.c: the broker's HTTPS front: start, routes, the peer's identity,
 * bodies and replies (see http.h); connections are in http_conn.c. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

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
#include "httpstatus.h"
#include "http.h"
#include "http_conn.h"
#include "srclimit.h"
#include "vlog.h"

static const struct http_route *routes_cur;

double
http_time(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
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
		bm_inc(BM_HTTP_5XX);
	else if (code >= 400)
		bm_inc(BM_HTTP_4XX);
	http_conn_answered(req);
	evhttp_send_reply(req, code, vdi_http_phrase(code), NULL);
	if (t0 > 0)
		bm_observe_latency(http_time() - t0);
}

void
http_error(struct broker *b, struct evhttp_request *req, int code,
    const char *code_str, const char *msg, double t0)
{
	struct store_health sh;

	/* A failure of the broker's own while its store cannot write is the
	 * store's (nothing was committed): say so, as /healthz does. */
	if (code >= 500 && b != NULL && b->store != NULL &&
	    store_health(b->store, &sh) != 0) {
		code = 503;
		code_str = "store_unavailable";
		msg =
		    "the broker cannot write its state store; try again later";
	}
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

	bm_inc(BM_REQUEST);
	http_conn_dispatched(req);
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
	if (http_conn_init(b) != 0 || (b->http = evhttp_new(b->base)) == NULL) {
		snprintf(err, errlen, "evhttp_new failed");
		return VDI_ERR_ALLOC;
	}
	evhttp_set_bevcb(b->http, http_conn_bev, b);
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
	http_conn_listener(evhttp_bound_socket_get_listener(bs));
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
	http_conn_listener(NULL);
	if (b->http != NULL)
		evhttp_free(b->http);
	b->http = NULL;
	http_conn_stop();
}
