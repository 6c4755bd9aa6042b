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

/* What moves when connections come, finish their handshakes, or go. */
static const enum gw_metric churn[] = {
	GWM_ACCEPTED,
	GWM_SESSIONS_STARTED,
	GWM_HANDSHAKES_ACTIVE,
	GWM_CONNECTIONS_ACTIVE,
};
static uint64_t seen[sizeof(churn) / sizeof(churn[0])];
static unsigned int quiet_ticks = MEMTRIM_SETTLE_TICKS;

/* 1 when a churn counter moved since the last tick (and notes them). */
static int
churned(struct gw *gw)
{
	size_t i;
	int moved = 0;

	for (i = 0; i < sizeof(churn) / sizeof(churn[0]); i++) {
		uint64_t v = gwm_get(gw, churn[i]);

		moved |= v != seen[i];
		seen[i] = v;
	}
	return moved;
}

static void
tick(evutil_socket_t fd, short what, void *arg)
{
	struct gw *gw = arg;

	(void)fd;
	(void)what;
	if (churned(gw)) {
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
