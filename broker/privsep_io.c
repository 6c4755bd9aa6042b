/*
 * privsep_io.c: frames over the monitor and PAM conversation sockets, and
 * descriptors passed along with them (SCM_RIGHTS), for both the monitor
 * and the worker (see privsep_int.h and pammsg.h).
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "fdwait.h"
#include "privsep_int.h"

static int64_t
deadline_of(int timeout_ms)
{
	return timeout_ms < 0 ? -1 : vdi_now_ms() + timeout_ms;
}

int
privsep_recv(int fd, struct vbuf *in, int *passed)
{
	union {
		struct cmsghdr align;
		unsigned char buf[CMSG_SPACE(sizeof(int) * 4)];
	} ctl;
	struct msghdr mh;
	struct iovec iov;
	struct cmsghdr *c;
	unsigned char *p;
	size_t room, i, nfds;
	ssize_t n;
	int r, bad = 0, got;

	if ((room = vbuf_avail(in)) == 0)
		return VDI_ERR_TOO_LARGE;
	if (room > FRAME_BUF)
		room = FRAME_BUF;
	if ((r = vbuf_reserve(in, room, &p)) != 0)
		return r;
	memset(&mh, 0, sizeof(mh));
	iov.iov_base = p;
	iov.iov_len = room;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = ctl.buf;
	mh.msg_controllen = sizeof(ctl.buf);
	do {
		n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (vbuf_consume_end(in, room - (n > 0 ? (size_t)n : 0)) != 0)
		return VDI_ERR_INTERNAL;
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return VDI_ERR_NEED_MORE;
		if (errno == ECONNRESET)
			return VDI_ERR_IO;
		return VDI_ERR_SYSTEM;
	}
	for (c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
			bad = 1;
			continue;
		}
		nfds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < nfds; i++) {
			memcpy(
			    &got, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (passed != NULL && *passed == -1)
				*passed = got;
			else {
				close(got);
				bad = 1;
			}
		}
	}
	if (!bad && (mh.msg_flags & MSG_CTRUNC) && passed != NULL &&
	    *passed == -1 && CMSG_FIRSTHDR(&mh) == NULL && n > 0) {
		*passed = PASSED_LOST;
		return 0;
	}
	if (bad || (mh.msg_flags & MSG_CTRUNC))
		return VDI_ERR_BAD_FORMAT;
	if (n == 0)
		return VDI_ERR_IO;
	return 0;
}

int
privsep_read_msg_fd(
    int fd, struct vbuf *in, struct pammsg *out, int timeout_ms, int *passed)
{
	int64_t deadline = deadline_of(timeout_ms);
	int r;

	for (;;) {
		if ((r = pammsg_parse(in, out)) != VDI_ERR_NEED_MORE)
			return r;
		if ((r = vdi_wait_fd(fd, POLLIN, deadline)) != 0)
			return r;
		if ((r = privsep_recv(fd, in, passed)) != 0 &&
		    r != VDI_ERR_NEED_MORE)
			return r;
	}
}

int
privsep_read_msg(int fd, struct vbuf *in, struct pammsg *out, int timeout_ms)
{
	return privsep_read_msg_fd(fd, in, out, timeout_ms, NULL);
}

int
privsep_write_all(int fd, struct vbuf *buf, int timeout_ms)
{
	int64_t deadline = deadline_of(timeout_ms);
	ssize_t n;
	int r;

	while (vbuf_len(buf) > 0) {
		n = send(fd, vbuf_ptr(buf), vbuf_len(buf),
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				if ((r = vdi_wait_fd(fd, POLLOUT, deadline)) !=
				    0)
					return r;
				continue;
			}
			if (errno == EPIPE || errno == ECONNRESET)
				return VDI_ERR_IO;
			return VDI_ERR_SYSTEM;
		}
		if (vbuf_consume(buf, (size_t)n) != 0)
			return VDI_ERR_INTERNAL;
	}
	return 0;
}

int
privsep_send_fd(int fd, struct vbuf *buf, int passfd, int timeout_ms)
{
	union {
		struct cmsghdr align;
		unsigned char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct msghdr mh;
	struct iovec iov;
	struct cmsghdr *c;
	int64_t deadline = deadline_of(timeout_ms);
	ssize_t n;
	int r;

	memset(&mh, 0, sizeof(mh));
	memset(&ctl, 0, sizeof(ctl));
	iov.iov_base = (void *)vbuf_ptr(buf);
	iov.iov_len = vbuf_len(buf);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = ctl.buf;
	mh.msg_controllen = sizeof(ctl.buf);
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &passfd, sizeof(int));
	for (;;) {
		n = sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n >= 0 ||
		    (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK))
			break;
		if (errno != EINTR &&
		    (r = vdi_wait_fd(fd, POLLOUT, deadline)) != 0)
			return r;
	}
	if (n < 0)
		return errno == EPIPE || errno == ECONNRESET ? VDI_ERR_IO
							     : VDI_ERR_SYSTEM;
	if (vbuf_consume(buf, (size_t)n) != 0)
		return VDI_ERR_INTERNAL;
	return privsep_write_all(fd, buf, timeout_ms);
}
