/*
 * tunnel-client.c: test stand-in for the client shim's tunnel. Tests only.
 *
 *   tunnel-client -g HOST:PORT -c dev.pem -k dev.key -C infra-ca.pem
 *                 -t TOKEN-FILE [-P PORT-FILE] [-p]
 *
 * Opens TLS to the gateway with the device certificate (verifying the
 * gateway against the infra CA and its address), sends
 *   GET /v1/tunnel HTTP/1.1 / Authorization: Bearer <token> / Upgrade
 * and reads the answer. With -p (probe) it prints "status=N" and the body
 * on stdout and exits 0 for 101, 1 otherwise. Without -p, after 101 it
 * listens on 127.0.0.1 (port 0, written to PORT-FILE), accepts one
 * connection (xfreerdp's) and splices it with the tunnel until either side
 * closes; exit 0 then. On a refusal it prints the status and body and
 * exits 1.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "tls.h"

static int probe;

static void
die(const char *what)
{
	/* Probes always say something on stdout. */
	if (probe)
		printf("status=0\n%s\n", what);
	fprintf(stderr, "tunnel-client: %s: %s\n", what,
	    errno ? strerror(errno) : "failed");
	ERR_print_errors_fp(stderr);
	exit(2);
}

static int
split(const char *s, struct sockaddr_in *sin, char *host, size_t hostlen)
{
	const char *colon = strrchr(s, ':');

	if (colon == NULL || (size_t)(colon - s) >= hostlen)
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)atoi(colon + 1));
	return inet_pton(AF_INET, host, &sin->sin_addr) == 1 ? 0 : -1;
}

static void
ssl_write_all(SSL *ssl, const void *p, size_t n)
{
	const unsigned char *b = p;

	while (n > 0) {
		int r = SSL_write(ssl, b, (int)n);

		if (r <= 0)
			die("SSL_write");
		b += r;
		n -= (size_t)r;
	}
}

static void
write_all(int fd, const unsigned char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			die("write");
		p += w;
		n -= (size_t)w;
	}
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: tunnel-client -g host:port -c cert -k key "
	    "-C ca -t token-file [-P port-file] [-p]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *gwaddr = NULL, *cert = NULL, *key = NULL, *ca = NULL,
		   *tokfile = NULL, *portfile = NULL;
	struct vdi_tls_config tc;
	struct vdi_tls_ca tca;
	struct sockaddr_in sin;
	SSL_CTX *ctx;
	SSL *ssl;
	char host[256], tls_err[VDI_TLS_ERR_SIZE], token[9000], req[10000];
	char resp[65536];
	size_t tlen, rlen = 0;
	char *end, *body;
	int ch, fd, lfd, cfd, status = 0, one = 1;
	FILE *f;

	while ((ch = getopt(argc, argv, "g:c:k:C:t:P:p")) != -1) {
		switch (ch) {
		case 'g':
			gwaddr = optarg;
			break;
		case 'c':
			cert = optarg;
			break;
		case 'k':
			key = optarg;
			break;
		case 'C':
			ca = optarg;
			break;
		case 't':
			tokfile = optarg;
			break;
		case 'P':
			portfile = optarg;
			break;
		case 'p':
			probe = 1;
			break;
		default:
			usage();
		}
	}
	if (gwaddr == NULL || cert == NULL || key == NULL || ca == NULL ||
	    tokfile == NULL || (!probe && portfile == NULL) ||
	    split(gwaddr, &sin, host, sizeof(host)) != 0)
		usage();
	signal(SIGPIPE, SIG_IGN);
	if ((f = fopen(tokfile, "r")) == NULL)
		die(tokfile);
	tlen = fread(token, 1, sizeof(token) - 1, f);
	fclose(f);
	token[tlen] = '\0';
	token[strcspn(token, "\r\n")] = '\0';

	memset(&tc, 0, sizeof(tc));
	memset(&tca, 0, sizeof(tca));
	tca.ca_file = ca;
	tc.role = VDI_TLS_CLIENT;
	tc.cert_file = cert;
	tc.key_file = key;
	tc.cas = &tca;
	tc.ncas = 1;
	if (vdi_tls_ctx_new(&tc, &ctx, tls_err, sizeof(tls_err)) != 0) {
		fprintf(stderr, "tunnel-client: %s\n", tls_err);
		return 2;
	}
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0)
		die("connect to gateway");
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if ((ssl = SSL_new(ctx)) == NULL ||
	    vdi_tls_set_peer_host(ssl, host) != 0)
		die("SSL_new");
	SSL_set_fd(ssl, fd);
	if (SSL_connect(ssl) != 1) {
		printf("status=0\ntls_error\n");
		ERR_print_errors_fp(stderr);
		goto fail;
	}
	snprintf(req, sizeof(req),
	    "GET /v1/tunnel HTTP/1.1\r\nHost: %s\r\n"
	    "Authorization: Bearer %s\r\nConnection: Upgrade\r\n"
	    "Upgrade: vdi-rdp\r\n\r\n",
	    host, token);
	/* With TLS 1.3 a refused client certificate shows only now. */
	if (SSL_write(ssl, req, (int)strlen(req)) != (int)strlen(req)) {
		printf("status=0\ntls_error\n");
		ERR_print_errors_fp(stderr);
		goto fail;
	}

	/* Read the head (and, for errors, the body until the gateway
	 * closes). */
	for (;;) {
		int r =
		    SSL_read(ssl, resp + rlen, (int)(sizeof(resp) - 1 - rlen));

		if (r <= 0)
			break;
		rlen += (size_t)r;
		resp[rlen] = '\0';
		if ((end = strstr(resp, "\r\n\r\n")) != NULL &&
		    strncmp(resp, "HTTP/1.1 101 ", 13) == 0)
			break;
		if (rlen + 1 >= sizeof(resp))
			break;
	}
	resp[rlen] = '\0';
	if (sscanf(resp, "HTTP/1.1 %d", &status) != 1)
		status = 0;
	body = strstr(resp, "\r\n\r\n");
	printf("status=%d\n%s\n", status, body != NULL ? body + 4 : "");
	fflush(stdout);
	if (status != 101)
		goto fail;
	if (probe) {
		SSL_free(ssl);
		close(fd);
		SSL_CTX_free(ctx);
		return 0;
	}
	/* Bytes after the head already belong to the RDP stream. */
	end = strstr(resp, "\r\n\r\n") + 4;
	rlen -= (size_t)(end - resp);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((lfd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    listen(lfd, 1) != 0)
		die("listen");
	{
		socklen_t sl = sizeof(sin);
		char tmp[1100];

		if (getsockname(lfd, (struct sockaddr *)&sin, &sl) != 0)
			die("getsockname");
		snprintf(tmp, sizeof(tmp), "%s.tmp", portfile);
		if ((f = fopen(tmp, "w")) == NULL)
			die(tmp);
		fprintf(f, "%u\n", ntohs(sin.sin_port));
		fclose(f);
		if (rename(tmp, portfile) != 0)
			die(portfile);
	}
	/* Wait for the RDP client, but give up when the gateway closes the
	 * tunnel meanwhile (cut, replaced, timeout). */
	for (;;) {
		struct pollfd w[2] = { { lfd, POLLIN, 0 }, { fd, POLLIN, 0 } };

		if (poll(w, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		if (w[0].revents)
			break;
		if (w[1].revents) {
			unsigned char b[1];

			if (SSL_peek(ssl, b, 1) <= 0) {
				fprintf(stderr,
				    "tunnel-client: tunnel closed "
				    "before the RDP client came\n");
				close(lfd);
				SSL_free(ssl);
				close(fd);
				SSL_CTX_free(ctx);
				return 0;
			}
			break; /* early RDP bytes: keep them for the client */
		}
	}
	if ((cfd = accept(lfd, NULL, NULL)) < 0)
		die("accept");
	close(lfd);
	setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (rlen > 0)
		write_all(cfd, (unsigned char *)end, rlen);
	SSL_clear_mode(ssl, SSL_MODE_AUTO_RETRY);
	for (;;) {
		struct pollfd pfd[2] = { { cfd, POLLIN, 0 },
			{ fd, POLLIN, 0 } };
		unsigned char buf[16384];
		ssize_t n;

		if (SSL_pending(ssl) == 0 && poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		if (pfd[0].revents) {
			if ((n = read(cfd, buf, sizeof(buf))) <= 0)
				break;
			ssl_write_all(ssl, buf, (size_t)n);
		}
		if (SSL_pending(ssl) > 0 || pfd[1].revents) {
			int r = SSL_read(ssl, buf, sizeof(buf));

			if (r <= 0) {
				if (SSL_get_error(ssl, r) ==
				    SSL_ERROR_WANT_READ)
					continue;
				break;
			}
			write_all(cfd, buf, (size_t)r);
		}
	}
	fprintf(stderr, "tunnel-client: tunnel closed\n");
	SSL_free(ssl);
	close(fd);
	close(cfd);
	SSL_CTX_free(ctx);
	return 0;
fail:
	SSL_free(ssl);
	close(fd);
	SSL_CTX_free(ctx);
	return 1;
}
