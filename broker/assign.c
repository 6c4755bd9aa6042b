/* assign.c: the desktop assignment algorithm (see assign.h). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "assign.h"

const char *
assign_how_name(enum assign_how how)
{
	switch (how) {
	case ASSIGN_REUSED:
		return "reused";
	case ASSIGN_PERSISTENT:
		return "persistent";
	case ASSIGN_POOLED:
		return "pooled";
	}
	return "unknown";
}

const struct policy_desktop *
assign_find_desktop(
    const struct policy *p, const char *name, const struct policy_pool **pool)
{
	const struct policy_pool *pl;
	const struct policy_desktop *d;
	size_t i, j;

	for (i = 0; i < policy_pool_count(p); i++) {
		pl = policy_pool_at(p, i);
		for (j = 0; j < policy_pool_desktop_count(pl); j++) {
			d = policy_pool_desktop(pl, j);
			if (strcmp(d->name, name) == 0) {
				if (pool != NULL)
					*pool = pl;
				return d;
			}
		}
	}
	return NULL;
}

struct assign_ctx {
	const struct policy *p;
	const struct assign_request *req;
	struct assign_result *res;
	/* counts of skipped desktops, for the reason on failure */
	unsigned int unhealthy, drained, full;
};

/* 1 when the desktop may take a new session or assignment. */
static int
usable(struct store *st, struct assign_ctx *c, const struct policy_desktop *d,
    int *rc)
{
	struct store_desktop h;

	if ((*rc = store_desktop_get(st, d->name, &h)) != 0)
		return 0;
	if (h.drained) {
		c->drained++;
		return 0;
	}
	if (!h.healthy) {
		c->unhealthy++;
		return 0;
	}
	return 1;
}

static int
pool_allowed(const struct policy_decision *dec, const char *pool)
{
	size_t i;

	for (i = 0; i < dec->npools; i++)
		if (strcmp(policy_pool_name(dec->pools[i]), pool) == 0)
			return 1;
	return 0;
}

static int
reuse_live(struct store *st, struct assign_ctx *c)
{
	const struct assign_request *req = c->req;
	struct assign_result *res = c->res;
	struct store_session *s = &res->session;
	const struct policy_desktop *d;
	const struct policy_pool *pool = NULL;
	int r;

	if (req->reconnect_session != NULL) {
		/* A ticket brings back its own session, whatever
		 * single_session says, and never another one. */
		r = store_session_get(st, req->reconnect_session, s);
		if (r == 0 &&
		    (s->state == STORE_SESSION_ENDED ||
			strcmp(s->tenant, req->tenant) != 0 ||
			strcmp(s->user, req->user) != 0))
			r = VDI_ERR_NOT_FOUND;
	} else {
		r = store_session_find_live(st, req->tenant, req->user, s);
	}
	if (r == VDI_ERR_NOT_FOUND)
		return VDI_ERR_NOT_FOUND;
	if (r != 0)
		return r;
	/* Past its max_session deadline: not to be reused (the sweeper ends
	 * it, cuts its tunnels and audits that). */
	if (s->deadline != 0 && req->now >= s->deadline) {
		memset(s, 0, sizeof(*s));
		return VDI_ERR_NOT_FOUND;
	}
	d = assign_find_desktop(c->p, s->desktop, &pool);
	if (d == NULL || strcmp(policy_pool_name(pool), s->pool) != 0) {
		/* The desktop left the policy: end the stale session. */
		if ((r = store_session_set_state(st, s->id, STORE_SESSION_ENDED,
			 "desktop_removed_from_policy", req->now)) != 0)
			return r;
		memset(s, 0, sizeof(*s));
		return VDI_ERR_NOT_FOUND;
	}
	if (!pool_allowed(req->decision, s->pool)) {
		snprintf(res->reason, sizeof(res->reason),
		    "live session in pool %s is not allowed from here now",
		    s->pool);
		return VDI_ERR_DENIED;
	}
	if (strcmp(s->device, req->device) != 0) {
		char id[STORE_ID_MAX];

		res->takeover = 1;
		snprintf(res->previous_device, sizeof(res->previous_device),
		    "%s", s->device);
		if ((r = store_session_set_device(st, s->id, req->device,
			 req->decision->limits.shared_device, req->now)) != 0)
			return r;
		/* s is cleared by the lookup: pass a copy of its id. */
		memcpy(id, s->id, sizeof(id));
		if ((r = store_session_get(st, id, s)) != 0)
			return r;
	}
	/* The reconnect window is the current policy's, counted from this
	 * grant (its ticket lives that long); the deadline stays. */
	if ((r = store_session_renew(st, s->id,
		 req->decision->limits.reconnect_window, req->now)) != 0)
		return r;
	s->reconnect_window = req->decision->limits.reconnect_window;
	s->updated = req->now;
	res->how = ASSIGN_REUSED;
	res->pool = pool;
	res->desktop = d;
	return 0;
}

/* How many users a desktop has: persistent assignments or live sessions
 * (store.h). */
typedef int (*desktop_count_fn)(struct store *, const char *, int *);

/* The usable desktop of pool with room and the lowest count (relative to
 * its capacity when relative is set), the first winning ties, in *out;
 * NULL when none. Desktops at capacity are counted in c->full. */
static int
least_loaded(struct store *st, struct assign_ctx *c,
    const struct policy_pool *pool, desktop_count_fn count, int relative,
    const struct policy_desktop **out)
{
	const struct policy_desktop *d, *best = NULL;
	double load, best_load = 0;
	int r = 0, n;
	size_t i;

	*out = NULL;
	for (i = 0; i < policy_pool_desktop_count(pool); i++) {
		d = policy_pool_desktop(pool, i);
		if (!usable(st, c, d, &r)) {
			if (r != 0)
				return r;
			continue;
		}
		if ((r = count(st, d->name, &n)) != 0)
			return r;
		if ((unsigned int)n >= d->capacity) {
			c->full++;
			continue;
		}
		load = relative ? (double)n / (double)d->capacity : (double)n;
		if (best == NULL || load < best_load) {
			best = d;
			best_load = load;
		}
	}
	*out = best;
	return 0;
}

static int
pick_persistent(struct store *st, struct assign_ctx *c,
    const struct policy_pool *pool, const struct policy_desktop **out)
{
	const struct assign_request *req = c->req;
	const struct policy_desktop *d, *best = NULL;
	char name[STORE_NAME_MAX];
	int r = 0;

	*out = NULL;
	r = store_assignment_get(st, req->tenant, req->user,
	    policy_pool_name(pool), name, sizeof(name));
	if (r == 0) {
		d = assign_find_desktop(c->p, name, NULL);
		if (d != NULL) {
			if (usable(st, c, d, &r))
				*out = d;
			/* The user's own desktop is down: do not hand them
			 * someone else's; try the next pool. */
			return r;
		}
		/* assigned desktop removed from the policy: assign anew */
	} else if (r != VDI_ERR_NOT_FOUND)
		return r;

	if ((r = least_loaded(st, c, pool, store_assignment_count, 0, &best)) !=
	    0)
		return r;
	if (best == NULL)
		return 0;
	if ((r = store_assignment_set(st, req->tenant, req->user,
		 policy_pool_name(pool), best->name, req->now)) != 0)
		return r;
	*out = best;
	return 0;
}

static int
pick_pooled(struct store *st, struct assign_ctx *c,
    const struct policy_pool *pool, const struct policy_desktop **out)
{
	return least_loaded(
	    st, c, pool, store_session_count_on_desktop, 1, out);
}

static int
assign_txn(struct store *st, void *arg)
{
	struct assign_ctx *c = arg;
	const struct assign_request *req = c->req;
	struct assign_result *res = c->res;
	const struct policy_desktop *d = NULL;
	const struct policy_pool *pool;
	struct store_session *s = &res->session;
	size_t i;
	int r;

	if (req->reconnect_session != NULL) {
		r = reuse_live(st, c);
		if (r == VDI_ERR_NOT_FOUND)
			snprintf(res->reason, sizeof(res->reason),
			    "the ticket's session is no longer live");
		return r; /* a ticket never starts a new session */
	}
	if (req->decision->limits.single_session) {
		r = reuse_live(st, c);
		if (r != VDI_ERR_NOT_FOUND)
			return r; /* reused, denied, or a store error */
	}
	for (i = 0; i < req->decision->npools && d == NULL; i++) {
		pool = req->decision->pools[i];
		if (policy_pool_assignment(pool) == POLICY_ASSIGN_PERSISTENT)
			r = pick_persistent(st, c, pool, &d);
		else
			r = pick_pooled(st, c, pool, &d);
		if (r != 0)
			return r;
		if (d != NULL) {
			res->pool = pool;
			res->how = policy_pool_assignment(pool) ==
				POLICY_ASSIGN_PERSISTENT
			    ? ASSIGN_PERSISTENT
			    : ASSIGN_POOLED;
		}
	}
	if (d == NULL) {
		snprintf(res->reason, sizeof(res->reason),
		    "no desktop available in %zu allowed pool(s): %u "
		    "unhealthy, "
		    "%u drained, %u full",
		    req->decision->npools, c->unhealthy, c->drained, c->full);
		return VDI_ERR_NOT_FOUND;
	}
	res->desktop = d;
	memset(s, 0, sizeof(*s));
	if (strlen(req->session_id) >= sizeof(s->id) ||
	    strlen(req->tenant) >= sizeof(s->tenant) ||
	    strlen(req->user) >= sizeof(s->user) ||
	    strlen(req->device) >= sizeof(s->device))
		return VDI_ERR_TOO_LARGE;
	snprintf(s->id, sizeof(s->id), "%s", req->session_id);
	snprintf(s->tenant, sizeof(s->tenant), "%s", req->tenant);
	snprintf(s->user, sizeof(s->user), "%s", req->user);
	snprintf(s->device, sizeof(s->device), "%s", req->device);
	snprintf(s->pool, sizeof(s->pool), "%s", policy_pool_name(res->pool));
	snprintf(s->desktop, sizeof(s->desktop), "%s", d->name);
	s->state = STORE_SESSION_PENDING;
	s->shared_device = req->decision->limits.shared_device;
	s->reconnect_window = req->decision->limits.reconnect_window;
	s->created = s->updated = req->now;
	/* max_session counts from here and is fixed: later grants (reconnects,
	 * takeovers) keep this deadline whatever the policy says then. */
	s->deadline = req->decision->limits.max_session > 0
	    ? req->now + (int64_t)req->decision->limits.max_session
	    : 0;
	return store_session_create(st, s);
}

int
assign_desktop(struct store *st, const struct policy *p,
    const struct assign_request *req, struct assign_result *res)
{
	struct assign_ctx c;

	memset(res, 0, sizeof(*res));
	memset(&c, 0, sizeof(c));
	if (req->decision == NULL || req->decision->verdict != POLICY_ALLOW)
		return VDI_ERR_INVALID_ARG;
	c.p = p;
	c.req = req;
	c.res = res;
	return store_txn(st, assign_txn, &c);
}
