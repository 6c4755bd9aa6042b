/*
 * tls-test-server: a small mTLS server on common/tls for integration tests.
 *
 *   tls-test-server -c CERT -k KEY -p PORTFILE [-l PORT] [-N]
 *                   -a CAFILE [-r CRLFILE] [-n NAME] [-a CAFILE ...]
 *
 * Listens on 127.0.0.1:PORT (default 0: the kernel picks) and writes the
 * port to PORTFILE (atomically) once it accepts connections. Each -a adds a
 * trusted CA; the -r and -n after it give that CA's CRL and name. -N allows
 * CAs without CRLs. Clients must present a certificate chaining to one of
 * the CAs. An accepted client gets one line
 *   OK thumbprint=<sha256 hex> subject=<RFC 2253> ca=<index> tenant=<name>
 * then every line it sends comes back as "ECHO <line>"; "quit" gets "BYE"
 * and the connection is closed. Every event is logged to stderr as one
 * key=value line (vlog): tls_listen, tls_accept, tls_refused (with the
 * verification error), tls_reload, tls_reload_failed, conn_closed.
 *
 * SIGHUP reloads the certificate, key, CA and CRL files; connections already
 * open keep their context. A reload that fails is logged and the old files
 * stay in force. SIGTERM/SIGINT end the server cleanly.
 *
 * Single-threaded, non-blocking sockets, ppoll(). Test-only: not installed.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "tls.h"
#include "vdierr.h"
#include "vlog.h"

#define MAX_CAS           16
#define MAX_CONNS         64
#define LINE_MAX_LEN      1024
#define OUT_MAX           4096
#define HANDSHAKE_TIMEOUT 10 /* seconds */

enum conn_state {
	CONN_FREE = 0,
	CONN_HANDSHAKE,
	CONN_OPEN,
};

struct conn {
	enum conn_state state;
	int fd;
	SSL *ssl;
	char peer[64];
	time_t deadline; /* handshake must end by then */
	int want_write;  /* last TLS call wanted POLLOUT */
	int closing;     /* close once out is flushed */
	char in[LINE_MAX_LEN];
	size_t inlen;
	char out[OUT_MAX];
	size_t outlen;
};

static volatile sig_atomic_t got_hup, got_term;
static struct conn conns[MAX_CONNS];
static struct vdi_tls *tls;

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		got_hup = 1;
	else
		got_term = 1;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: tls-test-server -c CERT -k KEY -p PORTFILE [-l PORT] [-N]\n"
	    "                       -a CAFILE [-r CRLFILE] [-n NAME] "
	    "[-a CAFILE ...]\n");
	exit(2);
}

static void
conn_close(struct conn *c, const char *why)
{
	vlog(VLOG_INFO, "conn_closed", "peer=%s reason=%s", c->peer, why);
	if (c->ssl != NULL && c->state == CONN_OPEN)
		(void)SSL_shutdown(c->ssl); /* best effort close_notify */
	SSL_free(c->ssl);
	close(c->fd);
	ERR_clear_error();
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

static void
queue(struct conn *c, const char *s)
{
	size_t n = strlen(s);

	if (n > sizeof(c->out) - c->outlen) {
		c->closing = 1; /* the peer is not reading: give up on it */
		return;
	}
	memcpy(c->out + c->outlen, s, n);
	c->outlen += n;
}

static void
log_refused(struct conn *c)
{
	char why[256], qwhy[300], subj[256], qsubj[300];
	char thumb[VDI_TLS_THUMBPRINT_HEX_SIZE] = "-";
	X509 *x = vdi_tls_refused_cert(c->ssl);

	vdi_tls_handshake_error(c->ssl, why, sizeof(why));
	if (x == NULL)
		x = vdi_tls_peer_cert(c->ssl);
	if (x == NULL ||
	    vdi_tls_cert_subject(x, subj, sizeof(subj)) == VDI_ERR_INVALID_ARG)
		snprintf(subj, sizeof(subj), "-");
	if (x != NULL && vdi_tls_thumbprint_hex(x, thumb, sizeof(thumb)) != 0)
		snprintf(thumb, sizeof(thumb), "-");
	vlog(VLOG_WARNING, "tls_refused",
	    "peer=%s reason=%s subject=%s "
	    "thumbprint=%s",
	    c->peer, vlog_quote(why, qwhy, sizeof(qwhy)),
	    vlog_quote(subj, qsubj, sizeof(qsubj)), thumb);
}

static void
on_accepted(struct conn *c)
{
	char thumb[VDI_TLS_THUMBPRINT_HEX_SIZE], subj[256], qsubj[300];
	char line[700], qname[128];
	const char *name = NULL;
	size_t idx = 0;
	X509 *x = vdi_tls_peer_cert(c->ssl);

	if (vdi_tls_thumbprint_hex(x, thumb, sizeof(thumb)) != 0 ||
	    vdi_tls_cert_subject(x, subj, sizeof(subj)) ==
		VDI_ERR_INVALID_ARG ||
	    vdi_tls_peer_ca(c->ssl, &idx, &name) != 0) {
		/* cannot happen after a verified handshake */
		vlog(VLOG_ERROR, "tls_accept_inconsistent", "peer=%s", c->peer);
		conn_close(c, "internal");
		return;
	}
	vlog_quote(subj, qsubj, sizeof(qsubj));
	vlog_quote(name, qname, sizeof(qname));
	vlog(VLOG_INFO, "tls_accept",
	    "peer=%s version=%s thumbprint=%s "
	    "subject=%s ca=%zu tenant=%s",
	    c->peer, SSL_get_version(c->ssl), thumb, qsubj, idx, qname);
	snprintf(line, sizeof(line),
	    "OK thumbprint=%s subject=%s ca=%zu "
	    "tenant=%s\n",
	    thumb, qsubj, idx, qname);
	c->state = CONN_OPEN;
	queue(c, line);
}

/* Handles complete lines in c->in. */
static void
on_lines(struct conn *c)
{
	char *nl, reply[LINE_MAX_LEN + 16];
	size_t n;

	while ((nl = memchr(c->in, '\n', c->inlen)) != NULL) {
		*nl = '\0';
		n = (size_t)(nl - c->in) + 1;
		if (nl > c->in && nl[-1] == '\r')
			nl[-1] = '\0';
		if (strcmp(c->in, "quit") == 0) {
			queue(c, "BYE\n");
			c->closing = 1;
		} else {
			snprintf(reply, sizeof(reply), "ECHO %s\n", c->in);
			queue(c, reply);
		}
		memmove(c->in, c->in + n, c->inlen - n);
		c->inlen -= n;
	}
	if (c->inlen == sizeof(c->in)) {
		vlog(VLOG_WARNING, "line_too_long", "peer=%s max=%zu", c->peer,
		    sizeof(c->in));
		c->closing = 1;
		c->outlen = 0;
	}
}

/* Drives one connection as far as it goes without blocking. */
static void
conn_step(struct conn *c)
{
	int r, e;

	c->want_write = 0;
	if (c->state == CONN_HANDSHAKE) {
		ERR_clear_error();
		r = SSL_accept(c->ssl);
		if (r != 1) {
			e = SSL_get_error(c->ssl, r);
			if (e == SSL_ERROR_WANT_READ)
				return;
			if (e == SSL_ERROR_WANT_WRITE) {
				c->want_write = 1;
				return;
			}
			log_refused(c);
			conn_close(c, "handshake_failed");
			return;
		}
		on_accepted(c);
		if (c->state != CONN_OPEN)
			return;
	}
	for (;;) {
		/* flush */
		while (c->outlen > 0) {
			ERR_clear_error();
			r = SSL_write(c->ssl, c->out, (int)c->outlen);
			if (r <= 0) {
				e = SSL_get_error(c->ssl, r);
				if (e == SSL_ERROR_WANT_WRITE ||
				    e == SSL_ERROR_WANT_READ) {
					c->want_write =
					    e == SSL_ERROR_WANT_WRITE;
					return;
				}
				conn_close(c, "write_failed");
				return;
			}
			memmove(c->out, c->out + r, c->outlen - (size_t)r);
			c->outlen -= (size_t)r;
		}
		if (c->closing) {
			conn_close(c, "quit");
			return;
		}
		ERR_clear_error();
		r = SSL_read(
		    c->ssl, c->in + c->inlen, (int)(sizeof(c->in) - c->inlen));
		if (r <= 0) {
			e = SSL_get_error(c->ssl, r);
			if (e == SSL_ERROR_WANT_READ)
				return;
			if (e == SSL_ERROR_WANT_WRITE) {
				c->want_write = 1;
				return;
			}
			conn_close(c,
			    e == SSL_ERROR_ZERO_RETURN ? "peer_closed"
						       : "read_failed");
			return;
		}
		c->inlen += (size_t)r;
		on_lines(c);
	}
}

static void
do_accept(int lfd)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	struct conn *c = NULL;
	char addr[INET_ADDRSTRLEN];
	int fd, i;

	while ((fd = accept(lfd, (struct sockaddr *)&sin, &len)) >= 0) {
		for (i = 0; i < MAX_CONNS && c == NULL; i++)
			if (conns[i].state == CONN_FREE)
				c = &conns[i];
		if (c == NULL) {
			vlog(VLOG_WARNING, "too_many_connections", "max=%d",
			    MAX_CONNS);
			close(fd);
			return;
		}
		if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0 ||
		    (c->ssl = vdi_tls_ssl_new(tls)) == NULL ||
		    SSL_set_fd(c->ssl, fd) != 1) {
			vlog(VLOG_ERROR, "conn_setup_failed", NULL);
			SSL_free(c->ssl);
			c->ssl = NULL;
			close(fd);
			return;
		}
		c->fd = fd;
		c->state = CONN_HANDSHAKE;
		c->deadline = time(NULL) + HANDSHAKE_TIMEOUT;
		inet_ntop(AF_INET, &sin.sin_addr, addr, sizeof(addr));
		snprintf(c->peer, sizeof(c->peer), "%s:%u", addr,
		    (unsigned)ntohs(sin.sin_port));
		vlog(VLOG_DEBUG, "tcp_accept", "peer=%s", c->peer);
		conn_step(c);
		c = NULL;
		len = sizeof(sin);
	}
}

static void
reload(void)
{
	char err[VDI_TLS_ERR_SIZE], qerr[VDI_TLS_ERR_SIZE + 64];

	if (vdi_tls_reload(tls, err, sizeof(err)) != 0) {
		vlog(VLOG_ERROR, "tls_reload_failed", "generation=%lu error=%s",
		    vdi_tls_generation(tls),
		    vlog_quote(err, qerr, sizeof(qerr)));
		return;
	}
	vlog(VLOG_NOTICE, "tls_reload", "generation=%lu",
	    vdi_tls_generation(tls));
}

static int
write_port_file(const char *path, unsigned int port)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((f = fopen(tmp, "w")) == NULL)
		return -1;
	fprintf(f, "%u\n", port);
	if (fclose(f) != 0 || rename(tmp, path) != 0)
		return -1;
	return 0;
}

int
main(int argc, char **argv)
{
	struct vdi_tls_ca cas[MAX_CAS];
	struct vdi_tls_config cfg;
	struct sockaddr_in sin;
	struct pollfd pfd[MAX_CONNS + 1];
	struct conn *pc[MAX_CONNS + 1];
	struct sigaction sa;
	struct timespec ts;
	sigset_t block, empty;
	socklen_t len;
	const char *portfile = NULL;
	char err[VDI_TLS_ERR_SIZE], qerr[VDI_TLS_ERR_SIZE + 64];
	long port = 0;
	size_t ncas = 0;
	int ch, lfd, one = 1, i, n, r;

	vlog_init("tls-test-server", VLOG_STDERR, VLOG_INFO);
	memset(&cfg, 0, sizeof(cfg));
	memset(cas, 0, sizeof(cas));
	cfg.role = VDI_TLS_SERVER;
	while ((ch = getopt(argc, argv, "a:c:k:l:n:Np:r:")) != -1) {
		switch (ch) {
		case 'a':
			if (ncas == MAX_CAS)
				usage();
			cas[ncas++].ca_file = optarg;
			break;
		case 'r':
			if (ncas == 0)
				usage();
			cas[ncas - 1].crl_file = optarg;
			break;
		case 'n':
			if (ncas == 0)
				usage();
			cas[ncas - 1].name = optarg;
			break;
		case 'c':
			cfg.cert_file = optarg;
			break;
		case 'k':
			cfg.key_file = optarg;
			break;
		case 'l':
			port = strtol(optarg, NULL, 10);
			if (port < 0 || port > 65535)
				usage();
			break;
		case 'N':
			cfg.flags |= VDI_TLS_NO_CRL;
			break;
		case 'p':
			portfile = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || portfile == NULL || cfg.cert_file == NULL ||
	    ncas == 0)
		usage();
	cfg.cas = cas;
	cfg.ncas = ncas;

	if ((r = vdi_tls_new(&cfg, &tls, err, sizeof(err))) != 0) {
		vlog(VLOG_ERROR, "tls_config_failed", "code=%s error=%s",
		    vdi_errname(r), vlog_quote(err, qerr, sizeof(qerr)));
		return 1;
	}

	/* Signals only arrive inside ppoll(): no races with the flags. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&block);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, NULL);
	sigemptyset(&empty);

	if ((lfd = socket(AF_INET, SOCK_STREAM, 0)) < 0) {
		vlog(VLOG_ERROR, "socket_failed", "errno=%d", errno);
		return 1;
	}
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((unsigned short)port);
	len = sizeof(sin);
	if (bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    listen(lfd, 64) != 0 ||
	    getsockname(lfd, (struct sockaddr *)&sin, &len) != 0 ||
	    fcntl(lfd, F_SETFL, fcntl(lfd, F_GETFL) | O_NONBLOCK) != 0) {
		vlog(VLOG_ERROR, "listen_failed", "port=%ld error=%s", port,
		    vlog_quote(strerror(errno), qerr, sizeof(qerr)));
		return 1;
	}
	if (write_port_file(portfile, ntohs(sin.sin_port)) != 0) {
		vlog(VLOG_ERROR, "port_file_failed", "file=%s error=%s",
		    portfile, vlog_quote(strerror(errno), qerr, sizeof(qerr)));
		return 1;
	}
	for (i = 0; i < MAX_CONNS; i++)
		conns[i].fd = -1;
	vlog(VLOG_INFO, "tls_listen",
	    "addr=127.0.0.1 port=%u cas=%zu "
	    "generation=%lu",
	    (unsigned)ntohs(sin.sin_port), ncas, vdi_tls_generation(tls));

	while (!got_term) {
		if (got_hup) {
			got_hup = 0;
			reload();
		}
		n = 0;
		pfd[n].fd = lfd;
		pfd[n].events = POLLIN;
		pc[n++] = NULL;
		for (i = 0; i < MAX_CONNS; i++) {
			struct conn *c = &conns[i];

			if (c->state == CONN_FREE)
				continue;
			if (c->state == CONN_HANDSHAKE &&
			    time(NULL) > c->deadline) {
				vlog(VLOG_WARNING, "tls_refused",
				    "peer=%s reason=handshake_timeout",
				    c->peer);
				conn_close(c, "handshake_timeout");
				continue;
			}
			pfd[n].fd = c->fd;
			pfd[n].events = c->want_write ? POLLOUT : POLLIN;
			pc[n++] = c;
		}
		ts.tv_sec = 1;
		ts.tv_nsec = 0;
		r = ppoll(pfd, (nfds_t)n, &ts, &empty);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			vlog(VLOG_ERROR, "poll_failed", "errno=%d", errno);
			break;
		}
		for (i = 0; i < n; i++) {
			if (pfd[i].revents == 0)
				continue;
			if (pc[i] == NULL)
				do_accept(lfd);
			else if (pc[i]->state != CONN_FREE)
				conn_step(pc[i]);
		}
	}
	for (i = 0; i < MAX_CONNS; i++)
		if (conns[i].state != CONN_FREE)
			conn_close(&conns[i], "shutdown");
	close(lfd);
	vdi_tls_free(tls);
	vlog(VLOG_INFO, "shutdown", NULL);
	return 0;
}
