/*
 * registry.c: the live tunnels of this gateway by broker session id (see
 * gateway.h). One list under one mutex: cuts and replacements are rare,
 * and a lookup walks at most max_sessions entries. A session is told to
 * close by setting its kill_reason and activating its kill event under the
 * lock; it unregisters itself (under the lock) before freeing that event,
 * so the event is never touched after it is gone.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "session.h"
#include "vlog.h"

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct session *reg_head;

/* Under the lock. */
static void
kill_locked(struct session *s, const char *reason)
{
	if (s->kill_reason[0] != '\0')
		return; /* already told */
	snprintf(s->kill_reason, sizeof(s->kill_reason), "%s", reason);
	event_active(s->kill, 0, 0);
}

void
registry_add(struct session *s)
{
	struct session *o;

	pthread_mutex_lock(&reg_lock);
	for (o = reg_head; o != NULL; o = o->reg_next) {
		if (strcmp(o->tok.sid, s->tok.sid) == 0) {
			vlog(VLOG_INFO, "tunnel_replaced",
			    "sid=%s old_jti=%s new_jti=%s", s->tok.sid,
			    o->tok.jti, s->tok.jti);
			kill_locked(o, "replaced");
		}
	}
	s->reg_prev = NULL;
	s->reg_next = reg_head;
	if (reg_head != NULL)
		reg_head->reg_prev = s;
	reg_head = s;
	s->registered = 1;
	pthread_mutex_unlock(&reg_lock);
}

void
registry_remove(struct session *s)
{
	pthread_mutex_lock(&reg_lock);
	if (s->registered) {
		if (s->reg_prev != NULL)
			s->reg_prev->reg_next = s->reg_next;
		else
			reg_head = s->reg_next;
		if (s->reg_next != NULL)
			s->reg_next->reg_prev = s->reg_prev;
		s->registered = 0;
		s->reg_next = s->reg_prev = NULL;
	}
	pthread_mutex_unlock(&reg_lock);
}

unsigned int
registry_cut(
    const char *sid, int64_t before, const char *keep_jti, const char *reason)
{
	struct session *s;
	char why[96];
	unsigned int n = 0;

	snprintf(why, sizeof(why), "cut:%s", reason != NULL ? reason : "");
	pthread_mutex_lock(&reg_lock);
	for (s = reg_head; s != NULL; s = s->reg_next) {
		if (strcmp(s->tok.sid, sid) != 0)
			continue;
		if ((int64_t)s->started >= before)
			continue;
		if (keep_jti != NULL && strcmp(s->tok.jti, keep_jti) == 0)
			continue;
		kill_locked(s, why);
		n++;
	}
	pthread_mutex_unlock(&reg_lock);
	return n;
}

unsigned int
registry_cut_jti(const char *sid, const char *jti, const char *reason)
{
	struct session *s;
	char why[96];
	unsigned int n = 0;

	snprintf(why, sizeof(why), "cut:%s", reason != NULL ? reason : "");
	pthread_mutex_lock(&reg_lock);
	for (s = reg_head; s != NULL; s = s->reg_next) {
		if (strcmp(s->tok.sid, sid) != 0 ||
		    strcmp(s->tok.jti, jti) != 0)
			continue;
		kill_locked(s, why);
		n++;
	}
	pthread_mutex_unlock(&reg_lock);
	return n;
}

unsigned int
registry_cut_all(const char *reason)
{
	struct session *s;
	unsigned int n = 0;

	pthread_mutex_lock(&reg_lock);
	for (s = reg_head; s != NULL; s = s->reg_next) {
		kill_locked(s, reason);
		n++;
	}
	pthread_mutex_unlock(&reg_lock);
	return n;
}
