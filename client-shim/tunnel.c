/* tunnel.c: TLS to the gateway with the device certificate and the HTTP
 * Upgrade to vdi-rdp (shim_io.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <openssl/crypto.h>
#include <openssl/err.h>

#include "cfgfile.h"
#include "shim_io.h"
#include "tls.h"

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for events on fd, or cancel; 1 ready, 0 timeout, -1 cancelled. */
static int
wait_fd(int fd, short events, int cancel_fd, long deadline)
{
	for (;;) {
		struct pollfd p[2] = { { fd, events, 0 },
			{ cancel_fd, POLLIN, 0 } };
		long left = deadline - now_ms();
		int n;

		if (left <= 0)
			return 0;
		n = poll(p, cancel_fd >= 0 ? 2 : 1, (int)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (cancel_fd >= 0 && p[1].revents)
			return -1;
		if (p[0].revents)
			return 1;
	}
}

static int
tcp_connect(const char *host, uint16_t port, int cancel_fd, long deadline,
    char *why, size_t whylen)
{
	struct addrinfo hints, *res = NULL, *ai;
	char ps[8];
	int fd = -1, one = 1, e, r;
	socklen_t el;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_ADDRCONFIG;
	snprintf(ps, sizeof(ps), "%u", port);
	if ((r = getaddrinfo(host, ps, &hints, &res)) != 0) {
		snprintf(why, whylen, "%s", gai_strerror(r));
		return -1;
	}
	snprintf(why, whylen, "no address");
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family,
		    ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		if (errno == EINPROGRESS) {
			r = wait_fd(fd, POLLOUT, cancel_fd, deadline);
			el = sizeof(e);
			if (r == 1 &&
			    getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) ==
				0 &&
			    e == 0)
				break;
			snprintf(why, whylen, "%s",
			    r == 0      ? "timed out"
				: r < 0 ? "cancelled"
					: strerror(e));
		} else {
			snprintf(why, whylen, "%s", strerror(errno));
		}
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* Notice a dead network within seconds, not hours. */
	{
		int idle = 5, intvl = 2, cnt = 3;
		unsigned int uto = 15000;

		setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
		setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
		setsockopt(
		    fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
		setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
		setsockopt(
		    fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &uto, sizeof(uto));
	}
	return fd;
}

/* Runs an SSL operation on the non-blocking fd until done. Returns 1, or 0
 * on failure / timeout / cancel. */
static int
ssl_io(SSL *ssl, int fd, int op, void *buf, size_t len, size_t *done,
    int cancel_fd, long deadline)
{
	for (;;) {
		int r, e;

		ERR_clear_error();
		if (op == 0)
			r = SSL_connect(ssl);
		else if (op == 1)
			r = SSL_write(ssl, buf, (int)len);
		else
			r = SSL_read(ssl, buf, (int)len);
		if (r > 0) {
			if (done != NULL)
				*done = (size_t)r;
			return 1;
		}
		e = SSL_get_error(ssl, r);
		if (e == SSL_ERROR_WANT_READ) {
			if (wait_fd(fd, POLLIN, cancel_fd, deadline) != 1)
				return 0;
		} else if (e == SSL_ERROR_WANT_WRITE) {
			if (wait_fd(fd, POLLOUT, cancel_fd, deadline) != 1)
				return 0;
		} else {
			return 0;
		}
	}
}

void
shim_tunnel_close(struct shim_tunnel *t, int graceful)
{
	if (t->ssl != NULL) {
		if (graceful)
			(void)SSL_shutdown(t->ssl);
		SSL_free(t->ssl);
	}
	if (t->fd >= 0)
		close(t->fd);
	t->ssl = NULL;
	t->fd = -1;
	OPENSSL_cleanse(t->early, sizeof(t->early));
	t->nearly = 0;
}

int
shim_tunnel_open(const struct shim_device *dev, const char *gateway,
    const char *token, unsigned int timeout, int cancel_fd,
    struct shim_tunnel *t, char *msg, size_t msglen)
{
	char host[256], why[256], req[SHIM_TOKEN_MAX + 512];
	char resp[16384 + 1];
	struct shim_reply rep;
	long deadline = now_ms() + (long)timeout * 1000;
	size_t rlen = 0, n, head = 0;
	uint16_t port;
	int status = 0, r, st;

	memset(t, 0, sizeof(*t));
	t->fd = -1;
	if (cfg_parse_hostport(gateway, host, sizeof(host), &port) != 0) {
		vdi_seterr(msg, msglen,
		    "The service named a gateway this program cannot use "
		    "(\"%s\"). Call the help desk.",
		    gateway);
		return VDIC_ERR_GATEWAY;
	}
	if ((t->fd = tcp_connect(
		 host, port, cancel_fd, deadline, why, sizeof(why))) < 0) {
		vdi_seterr(msg, msglen,
		    "Cannot reach the gateway %s (%s). Check that the tablet "
		    "is online and try again.",
		    gateway, why);
		return strcmp(why, "cancelled") == 0 ? VDIC_ERR_CANCELLED
						     : VDIC_ERR_GATEWAY;
	}
	if ((t->ssl = SSL_new(dev->ctx)) == NULL ||
	    vdi_tls_set_peer_host(t->ssl, host) != 0 ||
	    SSL_set_fd(t->ssl, t->fd) != 1) {
		shim_tunnel_close(t, 0);
		vdi_seterr(msg, msglen, "Out of memory (TLS).");
		return VDIC_ERR_INTERNAL;
	}
	if ((r = shim_upgrade_request(host, token, req, sizeof(req))) < 0) {
		shim_tunnel_close(t, 0);
		vdi_seterr(msg, msglen, "The access token is unusable.");
		return VDIC_ERR_GATEWAY;
	}
	/* With TLS 1.3 a refused client certificate shows only at the first
	 * read, so the handshake, the request and the answer fail alike. */
	if (!ssl_io(t->ssl, t->fd, 0, NULL, 0, NULL, cancel_fd, deadline) ||
	    !ssl_io(
		t->ssl, t->fd, 1, req, (size_t)r, NULL, cancel_fd, deadline)) {
		OPENSSL_cleanse(req, sizeof(req));
		goto tls_failed;
	}
	OPENSSL_cleanse(req, sizeof(req));
	for (;;) {
		if (!ssl_io(t->ssl, t->fd, 2, resp + rlen,
			sizeof(resp) - 1 - rlen, &n, cancel_fd, deadline)) {
			if (rlen == 0)
				goto tls_failed;
			break; /* closed after an error answer */
		}
		rlen += n;
		resp[rlen] = '\0';
		st = shim_upgrade_response(resp, rlen, &status, &head);
		if (st == VDI_ERR_BAD_FORMAT) {
			shim_tunnel_close(t, 0);
			vdi_seterr(msg, msglen,
			    "The gateway %s answered something unexpected. "
			    "Call the help desk.",
			    gateway);
			return VDIC_ERR_GATEWAY;
		}
		if (st == 0 && status == 101)
			break;
		if (rlen + 1 >= sizeof(resp))
			break;
	}
	if (shim_upgrade_response(resp, rlen, &status, &head) != 0)
		status = 0;
	if (status == 101) {
		t->nearly = rlen - head;
		memcpy(t->early, resp + head, t->nearly);
		OPENSSL_cleanse(resp, sizeof(resp));
		return VDIC_OK;
	}
	/* Refused: the JSON body says why. */
	if (status != 0 &&
	    shim_reply_parse(resp + head, rlen - head, status, &rep) == 0 &&
	    rep.state == SHIM_REPLY_ERROR) {
		st = shim_explain(rep.error, rep.message, 0, msg, msglen);
		if (st == VDIC_ERR_BROKER)
			st = VDIC_ERR_GATEWAY;
	} else {
		vdi_seterr(msg, msglen,
		    "The gateway %s refused the connection (HTTP %d). Try "
		    "again; if it persists call the help desk.",
		    gateway, status);
		st = VDIC_ERR_GATEWAY;
	}
shim_shut:
	shim_tunnel_close(t, 0);
	return st;

tls_failed:
	vdi_tls_handshake_error(t->ssl, why, sizeof(why));
	if ((st = shim_tls_alert_status(why, "gateway", dev, msg, msglen)) ==
	    0) {
		vdi_seterr(msg, msglen,
		    "Cannot open a secure connection to the gateway %s (%s). "
		    "Try again; if it persists call the help desk.",
		    gateway, why);
		st = VDIC_ERR_GATEWAY;
	}
	goto shim_shut;
}

int
shim_tls_probe(const struct shim_device *dev, const char *url,
    unsigned int timeout, char *why, size_t whylen)
{
	static const char req[] = "GET /v1/health HTTP/1.1\r\nHost: x\r\n"
				  "Connection: close\r\n\r\n";
	char host[300], hp[256], buf[16];
	const char *p, *e;
	long deadline = now_ms() + (long)timeout * 1000;
	uint16_t port = 443;
	size_t n;
	SSL *ssl = NULL;
	int fd, ok;

	snprintf(why, whylen, "unknown");
	if (strncmp(url, "https://", 8) != 0)
		return -1;
	p = url + 8;
	e = p + strcspn(p, "/");
	if ((size_t)(e - p) >= sizeof(hp))
		return -1;
	memcpy(hp, p, (size_t)(e - p));
	hp[e - p] = '\0';
	if (cfg_parse_hostport(hp, host, sizeof(host), &port) != 0)
		snprintf(host, sizeof(host), "%s", hp);
	if ((fd = tcp_connect(host, port, -1, deadline, why, whylen)) < 0)
		return -1;
	if ((ssl = SSL_new(dev->ctx)) == NULL || SSL_set_fd(ssl, fd) != 1) {
		SSL_free(ssl);
		close(fd);
		return -1;
	}
	/* Handshake, then only read, briefly: a server that refuses our
	 * certificate (TLS 1.3) sends its alert right after the handshake. Had
	 * we written a request first, the server would close with it unread,
	 * and the TCP reset could overtake the alert. A server that accepted
	 * us sends nothing: then say so with a request. */
	ok = ssl_io(ssl, fd, 0, NULL, 0, NULL, -1, deadline);
	if (ok) {
		long quick = now_ms() + 1000;

		if (!ssl_io(ssl, fd, 2, buf, sizeof(buf), &n, -1,
			quick < deadline ? quick : deadline)) {
			/* An alert or a close: refused. A plain timeout
			 * (no error queued): accepted, ask properly. */
			if (ERR_peek_error() != 0 || SSL_get_shutdown(ssl) != 0)
				ok = 0;
			else
				ok = ssl_io(ssl, fd, 1, (void *)req,
					 sizeof(req) - 1, NULL, -1, deadline) &&
				    ssl_io(ssl, fd, 2, buf, sizeof(buf), &n, -1,
					deadline);
		}
	}
	if (!ok)
		vdi_tls_handshake_error(ssl, why, whylen);
	SSL_free(ssl);
	close(fd);
	return ok ? 0 : -1;
}
