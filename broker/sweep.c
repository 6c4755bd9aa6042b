/* sweep.c: ending sessions whose time is up (see sweep.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "gwapi.h"
#include "sweep.h"
#include "vlog.h"

/* Sessions ended in one pass at most; the rest wait for the next one. */
#define SWEEP_BATCH 512

static const char *const reason_names[SWEEP_COUNT] = {
	"max_session",
	"pending_expired",
	"disconnected_expired",
};

const char *
sweep_reason_name(enum sweep_reason r)
{
	return r >= 0 && r < SWEEP_COUNT ? reason_names[r] : "none";
}

enum sweep_reason
sweep_due(const struct store_session *s, int64_t now, int64_t pending_ttl)
{
	if (s->state == STORE_SESSION_ENDED)
		return SWEEP_NONE;
	/* An active session's gateway closes the tunnel at the deadline and
	 * says so (gwapi.c ends the session then); the sweep is the backstop
	 * for a gateway that did not, a few seconds later. */
	if (s->deadline != 0 &&
	    now >= s->deadline +
		    (s->state == STORE_SESSION_ACTIVE ? SWEEP_PENDING_GRACE
						      : 0))
		return SWEEP_MAX_SESSION;
	if (s->state == STORE_SESSION_PENDING &&
	    now >= s->updated + pending_ttl)
		return SWEEP_PENDING;
	/* A disconnected session just granted again (a reconnect, whose
	 * tunnel is on its way) gets at least the pending time. */
	if (s->state == STORE_SESSION_DISCONNECTED &&
	    now >= s->updated +
		    (s->reconnect_window > pending_ttl ? s->reconnect_window
						       : pending_ttl))
		return SWEEP_DISCONNECTED;
	return SWEEP_NONE;
}

int
sweep_end(
    struct broker *b, const struct store_session *s, enum sweep_reason why)
{
	const char *reason = sweep_reason_name(why);
	json_t *detail;
	int r;

	if (why < 0 || why >= SWEEP_COUNT)
		return VDI_ERR_INVALID_ARG;
	/* Ending voids the tickets and wipes the sealed credentials. */
	if ((r = store_session_set_state(b->store, s->id, STORE_SESSION_ENDED,
		 reason, broker_now())) != 0)
		return r;
	/* Any tunnel still up (a gateway that missed the deadline, or lost
	 * its broker link) is cut. */
	gwq_cut(b, s->id, NULL, reason);
	bm_inc(BM_SWEPT + why);
	detail = json_pack("{s:s, s:s, s:s, s:I, s:I}", "state",
	    store_session_state_name(s->state), "desktop", s->desktop, "pool",
	    s->pool, "started", (json_int_t)s->created, "deadline",
	    (json_int_t)s->deadline);
	broker_audit(b, "broker", "session_end", "ok", s->tenant, s->user,
	    s->device, s->id, reason, detail);
	json_decref(detail);
	return 0;
}

struct due_list {
	struct store_session *s;
	size_t n;
};

static int
collect(const struct store_session *s, void *arg)
{
	struct due_list *l = arg;

	if (l->n >= SWEEP_BATCH)
		return 1;
	l->s[l->n++] = *s;
	return 0;
}

unsigned int
sweep_run(struct broker *b, int64_t now)
{
	int64_t ttl = (int64_t)b->conf.token_lifetime + SWEEP_PENDING_GRACE;
	struct due_list l;
	enum sweep_reason why;
	unsigned int ended = 0;
	size_t i;
	int r;

	if ((l.s = calloc(SWEEP_BATCH, sizeof(*l.s))) == NULL)
		return 0;
	l.n = 0;
	/* Collected first, ended after: no writes under an open query. */
	r = store_session_list_due(b->store, now, ttl, collect, &l);
	if (r != 0 && r != 1)
		vlog(VLOG_ERROR, "sweep_failed", "reason=store err=%s",
		    vdi_errname(r));
	for (i = 0; i < l.n; i++) {
		if ((why = sweep_due(&l.s[i], now, ttl)) == SWEEP_NONE)
			continue;
		if (broker_store_failed("session_end", l.s[i].id,
			sweep_end(b, &l.s[i], why)) == 0)
			ended++;
	}
	if (ended > 0)
		vlog(VLOG_NOTICE, "sweep", "ended=%u more=%s", ended,
		    r == 1 ? "yes" : "no");
	free(l.s);
	return ended;
}

void
sweep_prune(struct broker *b, int64_t now)
{
	struct store_pruned p;
	int r;

	r = store_prune(b->store,
	    b->conf.keep_ended_sessions > 0
		? now - (int64_t)b->conf.keep_ended_sessions
		: 0,
	    b->conf.keep_tickets > 0 ? now - (int64_t)b->conf.keep_tickets : 0,
	    SWEEP_BATCH, &p);
	if (r != 0)
		vlog(VLOG_ERROR, "prune_failed", "reason=store err=%s",
		    vdi_errname(r));
	else if (p.sessions + p.tickets + p.token_uses > 0)
		vlog(VLOG_INFO, "pruned",
		    "sessions=%llu tickets=%llu token_uses=%llu "
		    "keep_ended_sessions=%u keep_tickets=%u",
		    (unsigned long long)p.sessions,
		    (unsigned long long)p.tickets,
		    (unsigned long long)p.token_uses,
		    b->conf.keep_ended_sessions, b->conf.keep_tickets);
}

static void
tick(evutil_socket_t fd, short what, void *arg)
{
	struct broker *b = arg;

	(void)sweep_run(b, broker_now());
	sweep_prune(b, broker_now());
}

int
sweep_start(struct broker *b)
{
	struct timeval tv = { (time_t)b->conf.sweep_interval, 0 };

	if ((b->sweep_ev = event_new(b->base, -1, EV_PERSIST, tick, b)) == NULL)
		return VDI_ERR_ALLOC;
	if (event_add(b->sweep_ev, &tv) != 0)
		return VDI_ERR_INTERNAL;
	return 0;
}

void
sweep_stop(struct broker *b)
{
	if (b->sweep_ev != NULL)
		event_free(b->sweep_ev);
	b->sweep_ev = NULL;
}
