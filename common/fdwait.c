/* fdwait.c: monotonic milliseconds and a bounded poll (see fdwait.h). */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <time.h>

#include "fdwait.h"

int64_t
vdi_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
vdi_wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd pfd;
	int64_t left;
	int n, t;

	for (;;) {
		t = -1;
		if (deadline >= 0) {
			left = deadline - vdi_now_ms();
			t = left < 0 ? 0
				     : (left > 1000000 ? 1000000 : (int)left);
		}
		pfd.fd = fd;
		pfd.events = events;
		pfd.revents = 0;
		n = poll(&pfd, 1, t);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return VDI_ERR_SYSTEM;
		}
		if (n == 0) {
			if (deadline >= 0 && vdi_now_ms() < deadline)
				continue; /* a wait longer than one poll */
			return VDI_ERR_TIMEOUT;
		}
		if (pfd.revents & POLLNVAL)
			return VDI_ERR_INVALID_ARG;
		return 0;
	}
}
