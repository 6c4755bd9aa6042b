/* sdnotify.c: sd_notify(3) for Type=notify units (see sdnotify.h). */
#include "config.h"

#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "sdnotify.h"
#include "vlog.h"

void
vdi_notify(const char *state)
{
#ifdef HAVE_LIBSYSTEMD
	int r;

	/* 0: NOTIFY_SOCKET is kept for the next state change. */
	if ((r = sd_notify(0, state)) < 0)
		vlog(VLOG_DEBUG, "sd_notify_failed", "state=%s errno=%d",
		    VLOG_Q(state), -r);
#else
	(void)state;
#endif
}
