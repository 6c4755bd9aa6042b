/* loopback.c: the loopback listener the RDP client connects to; only the
 * connection of the client this library launched is accepted. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "vdic_int.h"
#include "vlog.h"

int
shim_listen_loopback(unsigned int *port)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	int fd;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    listen(fd, 1) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &sl) != 0) {
		close(fd);
		return -1;
	}
	*port = ntohs(sin.sin_port);
	return fd;
}

int
shim_accept_client(
    struct vdic *c, int lfd, struct shim_tunnel *t, enum shim_end *why)
{
	long deadline = shim_now_ms() + 30000;

	for (;;) {
		struct pollfd p[4] = { { lfd, POLLIN, 0 },
			{ c->cancel[0], POLLIN, 0 }, { c->pidfd, POLLIN, 0 },
			{ t->fd, POLLIN, 0 } };
		long left = deadline - shim_now_ms();
		int n, fd, one = 1;

		if (left <= 0) {
			vdi_seterr(c->msg, sizeof(c->msg),
			    "The desktop client did not connect within 30 s.");
			*why = END_CLIENT;
			return -1;
		}
		n = poll(p, 4, (int)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (p[1].revents || c->cancelled) {
			*why = END_CANCEL;
			return -1;
		}
		if (p[2].revents) {
			*why = END_CLIENT;
			return -1;
		}
		if (p[3].revents && t->nearly == 0) {
			unsigned char b;

			if (SSL_peek(t->ssl, &b, 1) <= 0) {
				*why = END_DROP;
				return -1;
			}
		}
		if (!p[0].revents)
			continue;
		if ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) < 0)
			continue;
		if (!shim_peer_is_pid(fd, c->child)) {
			vlog(VLOG_WARNING, "loopback_refused",
			    "reason=\"not the launched client\"");
			close(fd);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		return fd;
	}
}
