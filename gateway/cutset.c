/*
 * cutset.c: the gateway's held cuts (see cutset.h). A flat array: cuts
 * are rare (admin actions, reconnects) and held for about a minute and a
 * half, so a tunnel's admission scans a few entries; the array only grows
 * to what is held at once, at most CUTSET_MAX.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cutset.h"

struct cutset {
	struct cut *v;
	size_t n, cap, max;
	int64_t hold;
	int64_t closed_until; /* failed closed (full) until then */
};

static const struct cut cut_full = {
	.kind = CUT_SESSION,
	.reason = "cut_set_full",
};

struct cutset *
cutset_new(int64_t hold, size_t max)
{
	struct cutset *cs = calloc(1, sizeof(*cs));

	if (cs == NULL)
		return NULL;
	cs->hold = hold > 0 ? hold : 0;
	cs->max = max > 0 && max < CUTSET_MAX ? max : CUTSET_MAX;
	return cs;
}

void
cutset_free(struct cutset *cs)
{
	if (cs == NULL)
		return;
	free(cs->v);
	free(cs);
}

/* Drops the cuts whose hold is over (order is not kept). */
static void
expire(struct cutset *cs, int64_t now)
{
	size_t i = 0;

	while (i < cs->n) {
		if (cs->v[i].until < now)
			cs->v[i] = cs->v[--cs->n];
		else
			i++;
	}
}

static int
same(const struct cut *a, const struct cut *b)
{
	return a->kind == b->kind && a->time == b->time &&
	    strcmp(a->key, b->key) == 0 &&
	    strcmp(a->keep_jti, b->keep_jti) == 0;
}

int
cutset_add(struct cutset *cs, const struct cut *c, int64_t now)
{
	struct cut *nv;
	size_t i, ncap;
	int64_t until;

	if (c->key[0] == '\0')
		return VDI_ERR_INVALID_ARG;
	until = c->time + cs->hold;
	if (until < now)
		return VDI_ERR_TIMEOUT;
	expire(cs, now);
	for (i = 0; i < cs->n; i++)
		if (same(&cs->v[i], c))
			return VDI_ERR_EXISTS;
	if (cs->n == cs->cap) {
		if (cs->cap >= cs->max) {
			if (until > cs->closed_until)
				cs->closed_until = until;
			return VDI_ERR_TOO_LARGE;
		}
		ncap = cs->cap ? cs->cap * 2 : 16;
		if (ncap > cs->max)
			ncap = cs->max;
		if ((nv = realloc(cs->v, ncap * sizeof(*nv))) == NULL) {
			if (until > cs->closed_until)
				cs->closed_until = until;
			return VDI_ERR_ALLOC;
		}
		cs->v = nv;
		cs->cap = ncap;
	}
	cs->v[cs->n] = *c;
	cs->v[cs->n].until = until;
	cs->n++;
	return 0;
}

/* The rules of cutset.h; admission: one-tunnel cuts compare strictly. */
static int
matches(const struct cut *c, const struct cut_subject *t, int admission)
{
	switch (c->kind) {
	case CUT_DEVICE:
		return t->device != NULL && strcmp(c->key, t->device) == 0;
	case CUT_SESSION:
		if (t->sid == NULL || strcmp(c->key, t->sid) != 0)
			return 0;
		if (c->keep_jti[0] == '\0')
			return 1; /* the session has ended */
		if (t->jti != NULL && strcmp(c->keep_jti, t->jti) == 0)
			return 0;
		return admission ? t->iat < c->time : t->iat <= c->time;
	}
	return 0;
}

int
cut_matches_live(const struct cut *c, const struct cut_subject *t)
{
	return matches(c, t, 0);
}

const struct cut *
cutset_match(struct cutset *cs, const struct cut_subject *t, int64_t now)
{
	size_t i;

	if (now <= cs->closed_until)
		return &cut_full;
	expire(cs, now);
	for (i = 0; i < cs->n; i++)
		if (matches(&cs->v[i], t, 1))
			return &cs->v[i];
	return NULL;
}

size_t
cutset_count(struct cutset *cs, int64_t now)
{
	expire(cs, now);
	return cs->n;
}
