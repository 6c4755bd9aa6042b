/* memtrim.c: returns freed heap pages after connection churn (memtrim.h). */
#include "config.h"

#include <malloc.h>
#include <stdint.h>

#include <event2/event.h>

#include "gateway.h"
#include "memtrim.h"

#define MEMTRIM_PERIOD_SEC 1

static struct event *trim_ev;
/* Ticks a trim goes on after the last churn: a relaying leg frees its
 * TLS buffers LEG_TRIM_SECONDS after its last traffic, later than the
 * churn. */
#define MEMTRIM_SETTLE_TICKS 4

static uint64_t seen = UINT64_MAX;
static unsigned int quiet_ticks;

/* What moves when connections come, finish their handshakes, or go. */
static uint64_t
churn(struct gw *gw)
{
	return gwm_get(gw, GWM_ACCEPTED) + gwm_get(gw, GWM_SESSIONS_STARTED) +
	    gwm_get(gw, GWM_HANDSHAKES_ACTIVE) * 3 +
	    gwm_get(gw, GWM_CONNECTIONS_ACTIVE) * 7;
}

static void
tick(evutil_socket_t fd, short what, void *arg)
{
	struct gw *gw = arg;
	uint64_t now = churn(gw);

	(void)fd;
	(void)what;
	if (now != seen) {
		seen = now;
		quiet_ticks = 0;
	} else if (quiet_ticks >= MEMTRIM_SETTLE_TICKS) {
		return; /* quiet for a while: nothing new was freed */
	} else {
		quiet_ticks++;
	}
	malloc_trim(0);
}

int
memtrim_start(struct gw *gw)
{
	struct timeval tv = { MEMTRIM_PERIOD_SEC, 0 };

	if ((trim_ev = event_new(gw->main_base, -1, EV_PERSIST, tick, gw)) ==
		NULL ||
	    event_add(trim_ev, &tv) != 0)
		return VDI_ERR_ALLOC;
	return 0;
}

void
memtrim_stop(void)
{
	if (trim_ev != NULL)
		event_free(trim_ev);
	trim_ev = NULL;
}
