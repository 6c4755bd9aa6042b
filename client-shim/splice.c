/* splice.c: bytes between the RDP client's loopback connection and the
 * TLS tunnel to the gateway, both ways, until one end goes. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include "vdic_int.h"

int
shim_put_fd(int fd, const unsigned char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
			struct pollfd pf = { fd, POLLOUT, 0 };

			if (poll(&pf, 1, 30000) <= 0)
				return -1;
			continue;
		}
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Writes all of p to the tunnel; 0 or -1. */
static int
put_tls(struct shim_tunnel *t, const unsigned char *p, size_t n)
{
	while (n > 0) {
		int r = SSL_write(t->ssl, p, (int)n), e;

		if (r > 0) {
			p += r;
			n -= (size_t)r;
			continue;
		}
		e = SSL_get_error(t->ssl, r);
		if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
			struct pollfd pf = { t->fd,
				e == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN,
				0 };

			if (poll(&pf, 1, 30000) <= 0)
				return -1;
			continue;
		}
		return -1;
	}
	return 0;
}

enum shim_end
shim_splice(struct vdic *c, int cfd, struct shim_tunnel *t, size_t *down)
{
	unsigned char buf[16384];

	(void)fcntl(cfd, F_SETFL, fcntl(cfd, F_GETFL) | O_NONBLOCK);
	for (;;) {
		struct pollfd p[4] = { { cfd, POLLIN, 0 }, { t->fd, POLLIN, 0 },
			{ c->cancel[0], POLLIN, 0 }, { c->pidfd, POLLIN, 0 } };
		ssize_t n;
		int r;

		if (SSL_pending(t->ssl) == 0 && poll(p, 4, -1) < 0) {
			if (errno == EINTR)
				continue;
			return END_DROP;
		}
		if (p[2].revents || c->cancelled)
			return END_CANCEL;
		if (p[0].revents) {
			n = read(cfd, buf, sizeof(buf));
			if (n == 0 ||
			    (n < 0 && errno != EAGAIN && errno != EINTR))
				return END_CLIENT;
			if (n > 0 && put_tls(t, buf, (size_t)n) != 0)
				return END_DROP;
		}
		/* Read every record available, then go back to poll. */
		while (SSL_pending(t->ssl) > 0 || p[1].revents) {
			p[1].revents = 0;
			r = SSL_read(t->ssl, buf, sizeof(buf));
			if (r <= 0) {
				int e = SSL_get_error(t->ssl, r);

				if (e == SSL_ERROR_WANT_READ ||
				    e == SSL_ERROR_WANT_WRITE)
					break;
				return END_DROP;
			}
			*down += (size_t)r;
			if (shim_put_fd(cfd, buf, (size_t)r) != 0)
				return END_CLIENT;
		}
		if (p[3].revents)
			return END_CLIENT;
	}
}
