/*
 * registry.c: the tunnels of this gateway from token acceptance to close,
 * and the cuts received from the broker (see gateway.h, cutset.h): an
 * object owned by struct gw (gw->reg). One list and one cut set under one
 * mutex: cuts and admissions are rare, and a
 * lookup walks at most max_sessions entries.
 *
 * Why one lock for both: a tunnel is checked against the held cuts and
 * registered in the same critical section (registry_admit), and a cut is
 * added to the set and applied to the registered tunnels in another
 * (registry_cut). Whichever comes first, the other sees it: either the
 * cut is held when the tunnel asks (refused), or the tunnel is registered
 * when the cut arrives (told to close). No time comparison decides it.
 *
 * A session is told to close by setting its kill_reason and activating
 * its kill event under the lock; it unregisters itself (under the lock)
 * before freeing that event, so the event is never touched after it is
 * gone. registry_start, right before the 101, refuses a session that was
 * told already (its kill event may still be pending on its loop).
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cutset.h"
#include "session.h"
#include "vlog.h"

struct registry {
	pthread_mutex_t lock;
	struct session *head;
	struct cutset *cuts;
};

struct registry *
registry_new(int64_t hold)
{
	struct registry *reg;

	if ((reg = calloc(1, sizeof(*reg))) == NULL)
		return NULL;
	if ((reg->cuts = cutset_new(hold, 0)) == NULL) {
		free(reg);
		return NULL;
	}
	pthread_mutex_init(&reg->lock, NULL);
	return reg;
}

void
registry_free(struct registry *reg)
{
	if (reg == NULL)
		return;
	cutset_free(reg->cuts);
	pthread_mutex_destroy(&reg->lock);
	free(reg);
}

static void
subject(const struct session *s, struct cut_subject *t)
{
	t->sid = s->adm.tok.sid;
	t->device = s->device;
	t->jti = s->adm.tok.jti;
	t->iat = s->adm.tok.iat;
}

void
registry_kill_reason(
    struct registry *reg, const struct session *s, char *out, size_t len)
{
	pthread_mutex_lock(&reg->lock);
	snprintf(out, len, "%s", s->reg.kill_reason);
	pthread_mutex_unlock(&reg->lock);
}

/* Under the lock. */
static void
kill_locked(struct session *s, const char *reason)
{
	if (s->reg.kill_reason[0] != '\0')
		return; /* already told */
	snprintf(s->reg.kill_reason, sizeof(s->reg.kill_reason), "%s", reason);
	event_active(s->kill, 0, 0);
}

/* Under the lock: the held cut that refuses s, as "cut:REASON". */
static int
refused_locked(struct registry *reg, struct session *s, int64_t now, char *why,
    size_t whylen)
{
	struct cut_subject t;
	const struct cut *c;

	subject(s, &t);
	if (reg->cuts == NULL || (c = cutset_match(reg->cuts, &t, now)) == NULL)
		return 0;
	snprintf(why, whylen, "cut:%s", c->reason);
	return 1;
}

int
registry_admit(struct registry *reg, struct session *s, int64_t now, char *why,
    size_t whylen)
{
	int r = 0;

	pthread_mutex_lock(&reg->lock);
	if (refused_locked(reg, s, now, why, whylen)) {
		r = VDI_ERR_DENIED;
		goto out;
	}
	s->reg.prev = NULL;
	s->reg.next = reg->head;
	if (reg->head != NULL)
		reg->head->reg.prev = s;
	reg->head = s;
	s->reg.registered = 1;
out:
	pthread_mutex_unlock(&reg->lock);
	return r;
}

int
registry_start(struct registry *reg, struct session *s, int64_t now, char *why,
    size_t whylen)
{
	struct session *o;
	int r = 0;

	pthread_mutex_lock(&reg->lock);
	if (!s->reg.registered || s->reg.kill_reason[0] != '\0') {
		snprintf(why, whylen, "%s",
		    s->reg.kill_reason[0] != '\0' ? s->reg.kill_reason
						  : "not_registered");
		r = VDI_ERR_DENIED;
		goto out;
	}
	if (refused_locked(reg, s, now, why, whylen)) {
		snprintf(
		    s->reg.kill_reason, sizeof(s->reg.kill_reason), "%s", why);
		r = VDI_ERR_DENIED;
		goto out;
	}
	/* One tunnel per session on this gateway: the one starting now. */
	for (o = reg->head; o != NULL; o = o->reg.next) {
		if (o != s && strcmp(o->adm.tok.sid, s->adm.tok.sid) == 0) {
			vlog(VLOG_INFO, "tunnel_replaced",
			    "sid=%s old_jti=%s new_jti=%s", s->adm.tok.sid,
			    o->adm.tok.jti, s->adm.tok.jti);
			kill_locked(o, "replaced");
		}
	}
out:
	pthread_mutex_unlock(&reg->lock);
	return r;
}

void
registry_remove(struct registry *reg, struct session *s)
{
	if (reg == NULL)
		return;
	pthread_mutex_lock(&reg->lock);
	if (s->reg.registered) {
		if (s->reg.prev != NULL)
			s->reg.prev->reg.next = s->reg.next;
		else
			reg->head = s->reg.next;
		if (s->reg.next != NULL)
			s->reg.next->reg.prev = s->reg.prev;
		s->reg.registered = 0;
		s->reg.next = s->reg.prev = NULL;
	}
	pthread_mutex_unlock(&reg->lock);
}

unsigned int
registry_cut(struct registry *reg, const struct cut *c, int64_t now, int *held)
{
	struct session *s;
	struct cut_subject t;
	char why[96];
	unsigned int n = 0;
	int r;

	snprintf(why, sizeof(why), "cut:%s", c->reason);
	pthread_mutex_lock(&reg->lock);
	r = reg->cuts != NULL ? cutset_add(reg->cuts, c, now)
			      : VDI_ERR_INTERNAL;
	*held = r;
	/* Held already: applied when it first came. A one-tunnel cut whose
	 * hold is over is old news (newer tunnels must stay); a session's or
	 * device's end is applied whenever it comes. */
	if (r == VDI_ERR_EXISTS ||
	    (r == VDI_ERR_TIMEOUT && c->kind == CUT_SESSION &&
		c->keep_jti[0] != '\0'))
		goto out;
	for (s = reg->head; s != NULL; s = s->reg.next) {
		subject(s, &t);
		if (!cut_matches_live(c, &t))
			continue;
		kill_locked(s, why);
		n++;
	}
out:
	pthread_mutex_unlock(&reg->lock);
	return n;
}

size_t
registry_cuts_held(struct registry *reg, int64_t now)
{
	size_t n;

	pthread_mutex_lock(&reg->lock);
	n = reg->cuts != NULL ? cutset_count(reg->cuts, now) : 0;
	pthread_mutex_unlock(&reg->lock);
	return n;
}

unsigned int
registry_cut_jti(
    struct registry *reg, const char *sid, const char *jti, const char *reason)
{
	struct session *s;
	char why[96];
	unsigned int n = 0;

	snprintf(why, sizeof(why), "cut:%s", reason != NULL ? reason : "");
	pthread_mutex_lock(&reg->lock);
	for (s = reg->head; s != NULL; s = s->reg.next) {
		if (strcmp(s->adm.tok.sid, sid) != 0 ||
		    strcmp(s->adm.tok.jti, jti) != 0)
			continue;
		kill_locked(s, why);
		n++;
	}
	pthread_mutex_unlock(&reg->lock);
	return n;
}

unsigned int
registry_cut_all(struct registry *reg, const char *reason)
{
	struct session *s;
	unsigned int n = 0;

	pthread_mutex_lock(&reg->lock);
	for (s = reg->head; s != NULL; s = s->reg.next) {
		kill_locked(s, reason);
		n++;
	}
	pthread_mutex_unlock(&reg->lock);
	return n;
}
