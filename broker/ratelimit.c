/* ratelimit.c: failed-attempt limits with exponential backoff. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "ratelimit.h"

struct rl_entry {
	char key[RL_KEY_MAX];
	unsigned int failures;
	int64_t first; /* first failure of the current window */
	int64_t last;  /* latest failure */
	int64_t blocked_until;
};

struct ratelimit {
	struct rl_config cfg;
	size_t n;
	struct rl_entry *e;
};

struct ratelimit *
rl_new(const struct rl_config *cfg, size_t slots)
{
	struct ratelimit *rl;

	if (slots == 0 || slots > 1000000 || cfg->window == 0)
		return NULL;
	if ((rl = calloc(1, sizeof(*rl))) == NULL)
		return NULL;
	if ((rl->e = calloc(slots, sizeof(*rl->e))) == NULL) {
		free(rl);
		return NULL;
	}
	rl->cfg = *cfg;
	rl->n = slots;
	return rl;
}

void
rl_free(struct ratelimit *rl)
{
	if (rl == NULL)
		return;
	free(rl->e);
	free(rl);
}

static struct rl_entry *
find(struct ratelimit *rl, const char *key)
{
	size_t i;

	for (i = 0; i < rl->n; i++)
		if (rl->e[i].key[0] != '\0' && strcmp(rl->e[i].key, key) == 0)
			return &rl->e[i];
	return NULL;
}

/* Forgets failures older than the window (unless still blocked). */
static void
expire(struct ratelimit *rl, struct rl_entry *e, int64_t now)
{
	if (e->key[0] == '\0')
		return;
	if (now >= e->blocked_until && now - e->last >= rl->cfg.window)
		memset(e, 0, sizeof(*e));
}

int
rl_check(
    struct ratelimit *rl, const char *key, int64_t now, int64_t *retry_after)
{
	struct rl_entry *e;

	*retry_after = 0;
	if ((e = find(rl, key)) == NULL)
		return 0;
	expire(rl, e, now);
	if (e->key[0] != '\0' && now < e->blocked_until) {
		*retry_after = e->blocked_until - now;
		return VDI_ERR_DENIED;
	}
	return 0;
}

void
rl_fail(struct ratelimit *rl, const char *key, int64_t now)
{
	struct rl_entry *e, *victim = NULL;
	unsigned int extra, shift;
	int64_t delay;
	size_t i;

	if (key == NULL || *key == '\0' || strlen(key) >= RL_KEY_MAX)
		key = "(invalid)"; /* over-long keys share one bucket */
	if ((e = find(rl, key)) != NULL)
		expire(rl, e, now);
	if (e == NULL || e->key[0] == '\0') {
		for (i = 0; i < rl->n; i++) {
			expire(rl, &rl->e[i], now);
			if (rl->e[i].key[0] == '\0') {
				victim = &rl->e[i];
				break;
			}
			if (victim == NULL || rl->e[i].last < victim->last)
				victim = &rl->e[i];
		}
		if ((e = victim) == NULL)
			return; /* not reached: the table has >= 1 slot */
		memset(e, 0, sizeof(*e));
		strcpy(e->key, key); /* length checked above */
		e->first = now;
	}
	e->failures++;
	e->last = now;
	if (e->failures > rl->cfg.free_failures) {
		extra = e->failures - rl->cfg.free_failures - 1;
		shift = extra > 30 ? 30 : extra;
		delay = (int64_t)rl->cfg.base_delay << shift;
		if (delay > rl->cfg.max_delay)
			delay = rl->cfg.max_delay;
		e->blocked_until = now + delay;
	}
}

void
rl_success(struct ratelimit *rl, const char *key)
{
	struct rl_entry *e;

	if ((e = find(rl, key)) != NULL)
		memset(e, 0, sizeof(*e));
}

unsigned int
rl_failures(struct ratelimit *rl, const char *key, int64_t now)
{
	struct rl_entry *e;

	if ((e = find(rl, key)) == NULL)
		return 0;
	expire(rl, e, now);
	return e->failures;
}
