/*
 * eval.c: the evaluator. Pure: the request carries the time and the source
 * address; nothing here reads a clock, a socket or the environment.
 *
 *   1. The tenant must exist and the device class must be one of its
 *      classes.
 *   2. The mode in force is the request's, else the tenant's from the file;
 *      it must exist and be for this tenant.
 *   3. Rules are tried in order: the mode's rules, then (unless the mode has
 *      inherit_rules = false) the base rules. A rule matches when every
 *      condition it has holds: tenants, users/groups (either), device
 *      classes, sites (as the mode overrides them), time windows (any).
 *   4. The first matching rule decides. A deny rule denies. An allow rule
 *      gives its pools of this tenant, in its order, minus those whose zone
 *      lists sites none of which holds the source address; if none is left
 *      the answer is deny (zone).
 *   5. No rule matched: deny. The reason names the closest allow rule for
 *      this tenant: the first that failed on one condition only, other
 *      than users/groups (it was meant for this user: the time, the
 *      network or the device was wrong); else the first that failed on
 *      users/groups only; else none ("no rule matched").
 *
 * Limits: built-in defaults, then the file's limits, the tenant's, the
 * deciding rule's, and the mode's (each block overrides only the keys it
 * sets). A shared device class never gets a reconnect ticket. Channels:
 * display and input always; audio_out as the same chain of blocks says.
 */
#include "config.h"

#include <string.h>

#include "policy_int.h"

static void
apply_limits(struct policy_limits *l, const struct policy_limits_set *s)
{
	if (s->mask & POLICY_LIM_IDLE)
		l->idle_disconnect = s->v.idle_disconnect;
	if (s->mask & POLICY_LIM_RECONNECT)
		l->reconnect_window = s->v.reconnect_window;
	if (s->mask & POLICY_LIM_MAX_SESSION)
		l->max_session = s->v.max_session;
	if (s->mask & POLICY_LIM_SINGLE)
		l->single_session = s->v.single_session;
	if (s->mask & POLICY_LIM_TICKET)
		l->reconnect_ticket = s->v.reconnect_ticket;
}

static void
apply_channels(unsigned int *ch, const struct policy_channels_set *s)
{
	if (s->set)
		*ch = (*ch & ~POLICY_CH_AUDIO_OUT) |
		    (s->channels & POLICY_CH_AUDIO_OUT);
}

/* Conditions of r that fail for req; 0 when it matches. */
static unsigned int
rule_fails(const struct policy_rule *r, const struct policy_tenant *t,
    const struct policy_mode *m, const struct policy_request *req)
{
	unsigned int failed = 0;
	size_t i;
	int ok;

	if (r->ntenants > 0) {
		for (ok = 0, i = 0; i < r->ntenants && !ok; i++)
			ok = r->tenants[i] == t;
		if (!ok)
			failed |= POLICY_COND_TENANT;
	}
	if (r->nusers > 0 || r->ngroups > 0) {
		ok = policy_str_in(req->user, r->users, r->nusers);
		for (i = 0; i < req->ngroups && !ok; i++)
			ok = policy_str_in(
			    req->groups[i], r->groups, r->ngroups);
		if (!ok)
			failed |= POLICY_COND_USER;
	}
	if (r->nclasses > 0 &&
	    !policy_str_in(req->device_class, r->classes, r->nclasses))
		failed |= POLICY_COND_DEVICE;
	if (r->nsites > 0) {
		for (ok = 0, i = 0; i < r->nsites && !ok && req->from != NULL;
		     i++)
			ok = policy_site_match(
			    policy_site_in_mode(r->sites[i], m), req->from);
		if (!ok)
			failed |= POLICY_COND_SITE;
	}
	if (r->nwindows > 0) {
		for (ok = 0, i = 0; i < r->nwindows && !ok; i++)
			ok = policy_timewin_match(r->windows[i], req->now);
		if (!ok)
			failed |= POLICY_COND_TIME;
	}
	return failed;
}

/* 1 when pool's zone may be reached from the request's address. */
static int
zone_reachable(const struct policy_zone *z, const struct policy_mode *m,
    const struct vdi_addr *from)
{
	size_t i;

	if (z == NULL || z->nsites == 0)
		return 1;
	if (from == NULL)
		return 0;
	for (i = 0; i < z->nsites; i++)
		if (policy_site_match(
			policy_site_in_mode(z->sites[i], m), from))
			return 1;
	return 0;
}

static int
one_bit(unsigned int v)
{
	return v != 0 && (v & (v - 1)) == 0;
}

static enum policy_reason
reason_of(unsigned int failed)
{
	switch (failed) {
	case POLICY_COND_TIME:
		return POLICY_REASON_OUTSIDE_TIME;
	case POLICY_COND_SITE:
		return POLICY_REASON_SITE;
	case POLICY_COND_USER:
		return POLICY_REASON_GROUP;
	case POLICY_COND_DEVICE:
		return POLICY_REASON_DEVICE_CLASS;
	default:
		return POLICY_REASON_NO_RULE;
	}
}

/* Fills the allow part of out from rule r. Returns 1 if a pool is left. */
static int
grant(const struct policy *p, const struct policy_rule *r,
    const struct policy_tenant *t, const struct policy_mode *m,
    const struct policy_request *req, struct policy_decision *out)
{
	const struct policy_pool *pool;
	size_t i;

	for (i = 0; i < r->npools && out->npools < POLICY_MAX_RULE_POOLS; i++) {
		pool = r->pools[i];
		if (pool->tenant != t ||
		    !zone_reachable(pool->zone, m, req->from))
			continue;
		out->pools[out->npools++] = pool;
	}
	if (out->npools == 0)
		return 0;
	out->limits.idle_disconnect = POLICY_DEFAULT_IDLE;
	out->limits.reconnect_window = POLICY_DEFAULT_RECONNECT;
	out->limits.max_session = POLICY_DEFAULT_MAX_SESSION;
	out->limits.single_session = 1;
	out->limits.reconnect_ticket = 1;
	apply_limits(&out->limits, &p->limits);
	apply_limits(&out->limits, &t->limits);
	apply_limits(&out->limits, &r->limits);
	if (m != NULL)
		apply_limits(&out->limits, &m->limits);
	if (policy_str_in(req->device_class, t->shared, t->nshared)) {
		out->limits.shared_device = 1;
		out->limits.reconnect_ticket = 0;
	}
	out->channels = POLICY_CH_DISPLAY | POLICY_CH_INPUT;
	apply_channels(&out->channels, &p->channels);
	apply_channels(&out->channels, &t->channels);
	apply_channels(&out->channels, &r->channels);
	if (m != NULL)
		apply_channels(&out->channels, &m->channels);
	return 1;
}

int
policy_evaluate(const struct policy *p, const struct policy_request *req,
    struct policy_decision *out, policy_trace_fn *trace, void *arg)
{
	const struct policy_tenant *t;
	const struct policy_mode *m;
	const struct policy_rule *r;
	const struct policy_rule *lists[2];
	const struct policy_rule *near = NULL, *near_user = NULL;
	size_t nlists[2], l, i, k;
	unsigned int failed, near_failed = 0;
	int ok;

	if (out == NULL)
		return VDI_ERR_INVALID_ARG;
	memset(out, 0, sizeof(*out));
	out->verdict = POLICY_DENY;
	out->reason = POLICY_REASON_NO_RULE;
	if (p == NULL || req == NULL)
		return VDI_ERR_INVALID_ARG;

	if ((t = policy_tenant_lookup(p, req->tenant)) == NULL) {
		out->reason = POLICY_REASON_UNKNOWN_TENANT;
		return 0;
	}
	out->tenant = t;
	if (req->mode == NULL)
		m = t->mode;
	else if (strcmp(req->mode, "none") == 0 || req->mode[0] == '\0')
		m = NULL;
	else if ((m = policy_mode_lookup(p, req->mode)) == NULL) {
		out->reason = POLICY_REASON_UNKNOWN_MODE;
		return 0;
	}
	if (m != NULL && m->ntenants > 0) {
		for (ok = 0, i = 0; i < m->ntenants && !ok; i++)
			ok = m->tenants[i] == t;
		if (!ok) {
			out->reason = POLICY_REASON_UNKNOWN_MODE;
			return 0;
		}
	}
	out->mode = m;
	if (!policy_str_in(req->device_class, t->classes, t->nclasses)) {
		out->reason = POLICY_REASON_DEVICE_CLASS;
		return 0;
	}

	k = 0;
	if (m != NULL) {
		lists[k] = m->rules;
		nlists[k++] = m->nrules;
	}
	if (m == NULL || m->inherit_rules) {
		lists[k] = p->rules;
		nlists[k++] = p->nrules;
	}
	for (l = 0; l < k; l++) {
		for (i = 0; i < nlists[l]; i++) {
			r = &lists[l][i];
			failed = rule_fails(r, t, m, req);
			if (trace != NULL)
				trace(arg, r, failed);
			if (failed != 0) {
				if (r->allow &&
				    !(failed & POLICY_COND_TENANT) &&
				    one_bit(failed)) {
					if (failed == POLICY_COND_USER) {
						if (near_user == NULL)
							near_user = r;
					} else if (near == NULL) {
						near = r;
						near_failed = failed;
					}
				}
				continue;
			}
			out->rule = r;
			if (!r->allow) {
				out->reason = POLICY_REASON_RULE_DENIES;
				return 0;
			}
			if (!grant(p, r, t, m, req, out)) {
				memset(&out->limits, 0, sizeof(out->limits));
				out->channels = 0;
				out->reason = POLICY_REASON_ZONE;
				return 0;
			}
			out->verdict = POLICY_ALLOW;
			out->reason = POLICY_REASON_ALLOWED;
			return 0;
		}
	}
	/* A rule for this user that fails on one thing (time, network,
	 * device) explains more than a rule for someone else. */
	if (near != NULL) {
		out->closest = near;
		out->closest_failed = near_failed;
	} else if (near_user != NULL) {
		out->closest = near_user;
		out->closest_failed = POLICY_COND_USER;
	}
	if (out->closest != NULL)
		out->reason = reason_of(out->closest_failed);
	return 0;
}

const char *
policy_reason_str(enum policy_reason r)
{
	switch (r) {
	case POLICY_REASON_ALLOWED:
		return "allowed";
	case POLICY_REASON_NO_RULE:
		return "no rule matched";
	case POLICY_REASON_RULE_DENIES:
		return "a deny rule matched";
	case POLICY_REASON_UNKNOWN_TENANT:
		return "unknown tenant";
	case POLICY_REASON_UNKNOWN_MODE:
		return "mode not defined for this tenant";
	case POLICY_REASON_DEVICE_CLASS:
		return "device class not allowed";
	case POLICY_REASON_OUTSIDE_TIME:
		return "outside time window";
	case POLICY_REASON_SITE:
		return "source address not in an allowed site";
	case POLICY_REASON_GROUP:
		return "user not in an allowed group";
	case POLICY_REASON_ZONE:
		return "no pool's zone is reachable from this network";
	}
	return "unknown";
}

const char *
policy_cond_str(unsigned int cond)
{
	switch (cond) {
	case POLICY_COND_TENANT:
		return "tenant";
	case POLICY_COND_USER:
		return "users/groups";
	case POLICY_COND_DEVICE:
		return "device class";
	case POLICY_COND_SITE:
		return "site";
	case POLICY_COND_TIME:
		return "time window";
	default:
		return "?";
	}
}
