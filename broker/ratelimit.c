/*
 * ratelimit.c: failed-attempt limits with exponential backoff.
 *
 * Keys live in a fixed table of entries, found through a hash table with
 * chaining (SipHash-2-4 under a random key, so that user names chosen by
 * an attacker cannot pile up in one chain) and kept on a list ordered by
 * their latest failure (oldest first). Every call does a bounded amount of
 * work: a lookup walks one chain, an expired entry is forgotten when it is
 * looked at, and a full table gives up the oldest end of the list.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "ratelimit.h"

#define RL_NONE UINT32_MAX
/* Entries from the old end of the list a full table looks at for an
 * expired one before it forgets the oldest. */
#define RL_EVICT_SCAN 8

struct rl_entry {
	char key[RL_KEY_MAX]; /* "" when free */
	unsigned int failures;
	int64_t first; /* first failure of the current window */
	int64_t last;  /* latest failure */
	int64_t blocked_until;
	uint32_t hnext;      /* next in the hash chain, or in the free list */
	uint32_t prev, next; /* the list by latest failure */
};

struct ratelimit {
	struct rl_config cfg;
	size_t n;
	struct rl_entry *e;
	uint32_t *bucket;
	size_t mask; /* buckets - 1 (a power of two >= n) */
	uint32_t free_head;
	uint32_t oldest, newest;
	uint64_t k0, k1; /* SipHash key */
};

/* --- SipHash-2-4 (Aumasson and Bernstein), over a NUL-terminated key --- */

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

static void
sip_round(uint64_t v[4])
{
	v[0] += v[1];
	v[1] = ROTL(v[1], 13);
	v[1] ^= v[0];
	v[0] = ROTL(v[0], 32);
	v[2] += v[3];
	v[3] = ROTL(v[3], 16);
	v[3] ^= v[2];
	v[0] += v[3];
	v[3] = ROTL(v[3], 21);
	v[3] ^= v[0];
	v[2] += v[1];
	v[1] = ROTL(v[1], 17);
	v[1] ^= v[2];
	v[2] = ROTL(v[2], 32);
}

static uint64_t
siphash(uint64_t k0, uint64_t k1, const unsigned char *in, size_t len)
{
	uint64_t v[4] = { k0 ^ 0x736f6d6570736575ULL,
		k1 ^ 0x646f72616e646f6dULL, k0 ^ 0x6c7967656e657261ULL,
		k1 ^ 0x7465646279746573ULL };
	uint64_t m, b = (uint64_t)len << 56;
	size_t i, j, full = len - len % 8;

	for (i = 0; i < full; i += 8) {
		for (m = 0, j = 0; j < 8; j++)
			m |= (uint64_t)in[i + j] << (8 * j);
		v[3] ^= m;
		sip_round(v);
		sip_round(v);
		v[0] ^= m;
	}
	for (j = 0; i + j < len; j++)
		b |= (uint64_t)in[i + j] << (8 * j);
	v[3] ^= b;
	sip_round(v);
	sip_round(v);
	v[0] ^= b;
	v[2] ^= 0xff;
	for (j = 0; j < 4; j++)
		sip_round(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

static size_t
slot_of(const struct ratelimit *rl, const char *key)
{
	return (size_t)siphash(
		   rl->k0, rl->k1, (const unsigned char *)key, strlen(key)) &
	    rl->mask;
}

/* --- table ---------------------------------------------------------------- */

struct ratelimit *
rl_new(const struct rl_config *cfg, size_t slots)
{
	struct ratelimit *rl;
	uint64_t k[2];
	size_t i, nb = 1;

	if (slots == 0 || slots > 1000000 || cfg->window == 0)
		return NULL;
	if ((rl = calloc(1, sizeof(*rl))) == NULL)
		return NULL;
	while (nb < slots)
		nb <<= 1;
	if ((rl->e = calloc(slots, sizeof(*rl->e))) == NULL ||
	    (rl->bucket = malloc(nb * sizeof(*rl->bucket))) == NULL) {
		rl_free(rl);
		return NULL;
	}
	if (getrandom(k, sizeof(k), 0) != (ssize_t)sizeof(k)) {
		/* No entropy yet: a weaker key beats no limiter. */
		k[0] = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)rl;
		k[1] = (uint64_t)clock() ^ (uint64_t)(uintptr_t)rl->e;
	}
	rl->k0 = k[0];
	rl->k1 = k[1];
	rl->cfg = *cfg;
	rl->n = slots;
	rl->mask = nb - 1;
	for (i = 0; i < nb; i++)
		rl->bucket[i] = RL_NONE;
	for (i = 0; i < slots; i++)
		rl->e[i].hnext = i + 1 < slots ? (uint32_t)(i + 1) : RL_NONE;
	rl->free_head = 0;
	rl->oldest = rl->newest = RL_NONE;
	return rl;
}

void
rl_free(struct ratelimit *rl)
{
	if (rl == NULL)
		return;
	free(rl->e);
	free(rl->bucket);
	free(rl);
}

static struct rl_entry *
find(struct ratelimit *rl, const char *key)
{
	uint32_t i;

	for (i = rl->bucket[slot_of(rl, key)]; i != RL_NONE; i = rl->e[i].hnext)
		if (strcmp(rl->e[i].key, key) == 0)
			return &rl->e[i];
	return NULL;
}

static void
list_unlink(struct ratelimit *rl, struct rl_entry *e)
{
	if (e->prev != RL_NONE)
		rl->e[e->prev].next = e->next;
	else
		rl->oldest = e->next;
	if (e->next != RL_NONE)
		rl->e[e->next].prev = e->prev;
	else
		rl->newest = e->prev;
	e->prev = e->next = RL_NONE;
}

static void
list_append(struct ratelimit *rl, struct rl_entry *e)
{
	uint32_t i = (uint32_t)(e - rl->e);

	e->prev = rl->newest;
	e->next = RL_NONE;
	if (rl->newest != RL_NONE)
		rl->e[rl->newest].next = i;
	else
		rl->oldest = i;
	rl->newest = i;
}

/* Forgets e: out of its chain and the list, back on the free list. */
static void
forget(struct ratelimit *rl, struct rl_entry *e)
{
	uint32_t i = (uint32_t)(e - rl->e), *pp;

	for (pp = &rl->bucket[slot_of(rl, e->key)]; *pp != RL_NONE;
	     pp = &rl->e[*pp].hnext) {
		if (*pp == i) {
			*pp = e->hnext;
			break;
		}
	}
	list_unlink(rl, e);
	memset(e, 0, sizeof(*e));
	e->prev = e->next = RL_NONE;
	e->hnext = rl->free_head;
	rl->free_head = i;
}

static int
expired(const struct ratelimit *rl, const struct rl_entry *e, int64_t now)
{
	return now >= e->blocked_until && now - e->last >= rl->cfg.window;
}

/* Finds key, forgetting it when its failures are older than the window
 * (unless still blocked). */
static struct rl_entry *
lookup(struct ratelimit *rl, const char *key, int64_t now)
{
	struct rl_entry *e = find(rl, key);

	if (e != NULL && expired(rl, e, now)) {
		forget(rl, e);
		e = NULL;
	}
	return e;
}

/* A free entry; when none is left, an expired one near the old end of the
 * list, else the one whose latest failure is oldest, is forgotten. */
static struct rl_entry *
take_entry(struct ratelimit *rl, int64_t now)
{
	struct rl_entry *e;
	uint32_t i;
	int k;

	if (rl->free_head == RL_NONE) {
		e = &rl->e[rl->oldest];
		for (i = rl->oldest, k = 0; i != RL_NONE && k < RL_EVICT_SCAN;
		     i = rl->e[i].next, k++) {
			if (expired(rl, &rl->e[i], now)) {
				e = &rl->e[i];
				break;
			}
		}
		forget(rl, e);
	}
	i = rl->free_head;
	e = &rl->e[i];
	rl->free_head = e->hnext;
	e->hnext = RL_NONE;
	return e;
}

int
rl_check(
    struct ratelimit *rl, const char *key, int64_t now, int64_t *retry_after)
{
	struct rl_entry *e;

	*retry_after = 0;
	if (key == NULL || (e = lookup(rl, key, now)) == NULL)
		return 0;
	if (now < e->blocked_until) {
		*retry_after = e->blocked_until - now;
		return VDI_ERR_DENIED;
	}
	return 0;
}

void
rl_fail(struct ratelimit *rl, const char *key, int64_t now)
{
	struct rl_entry *e;
	unsigned int extra, shift;
	int64_t delay;
	size_t b;

	if (key == NULL || *key == '\0' || strlen(key) >= RL_KEY_MAX)
		key = "(invalid)"; /* over-long keys share one bucket */
	if ((e = lookup(rl, key, now)) == NULL) {
		e = take_entry(rl, now);
		strcpy(e->key, key); /* length checked above */
		e->first = now;
		b = slot_of(rl, key);
		e->hnext = rl->bucket[b];
		rl->bucket[b] = (uint32_t)(e - rl->e);
	} else
		list_unlink(rl, e);
	list_append(rl, e);
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

	if (key != NULL && (e = find(rl, key)) != NULL)
		forget(rl, e);
}

unsigned int
rl_failures(struct ratelimit *rl, const char *key, int64_t now)
{
	struct rl_entry *e;

	if (key == NULL || (e = lookup(rl, key, now)) == NULL)
		return 0;
	return e->failures;
}
