/* replay.c: fixed-size jti cache (see replay.h). */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "replay.h"

struct replay_slot {
	int64_t expires; /* 0: empty */
	uint8_t len;
	char jti[REPLAY_JTI_MAX];
};

struct replay {
	pthread_mutex_t lock; /* replay_use and replay_count, any thread */
	size_t mask;          /* the table now: mask + 1 slots */
	size_t max_slots;     /* what capacity allows: the table's last size */
	size_t count;
	struct replay_slot *slots;
	uint64_t seed;
};

/* The table's first size: it doubles as ids come, up to max_slots, so a
 * gateway sized for many sessions does not hold (nor touch, page by
 * page) a table for all of them while few are live. */
#define REPLAY_FIRST_SLOTS 1024

struct replay *
replay_new(size_t capacity)
{
	struct replay *r;
	size_t n = 16;

	if (capacity == 0 || capacity > (1u << 24))
		return NULL;
	while (n < capacity * 2) /* load factor <= 1/2 */
		n <<= 1;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->max_slots = n;
	if (n > REPLAY_FIRST_SLOTS)
		n = REPLAY_FIRST_SLOTS;
	if ((r->slots = calloc(n, sizeof(*r->slots))) == NULL) {
		free(r);
		return NULL;
	}
	r->mask = n - 1;
	pthread_mutex_init(&r->lock, NULL);
	/* Random seed so that nobody can pick ids that collide. */
	if (RAND_bytes((unsigned char *)&r->seed, sizeof(r->seed)) != 1) {
		replay_free(r);
		return NULL;
	}
	return r;
}

void
replay_free(struct replay *r)
{
	if (r == NULL)
		return;
	pthread_mutex_destroy(&r->lock);
	free(r->slots);
	free(r);
}

size_t
replay_count(struct replay *r)
{
	size_t n;

	pthread_mutex_lock(&r->lock);
	n = r->count;
	pthread_mutex_unlock(&r->lock);
	return n;
}

/* FNV-1a mixed with the seed. */
static size_t
hash(const struct replay *r, const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ull ^ r->seed;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (uint8_t)s[i];
		h *= 1099511628211ull;
	}
	h ^= h >> 29;
	return (size_t)h;
}

/* Rebuilds the table with n slots, without the expired entries (keeps
 * probe chains correct, unlike clearing single slots). On no memory the
 * old table stays: still correct, just fuller. */
static void
rebuild(struct replay *r, size_t n, int64_t now)
{
	size_t old_n = r->mask + 1, i, j;
	struct replay_slot *old = r->slots, *nw;

	if ((nw = calloc(n, sizeof(*nw))) == NULL)
		return;
	r->count = 0;
	for (i = 0; i < old_n; i++) {
		if (old[i].expires == 0 || old[i].expires <= now)
			continue;
		j = hash(r, old[i].jti, old[i].len) & (n - 1);
		while (nw[j].expires != 0)
			j = (j + 1) & (n - 1);
		nw[j] = old[i];
		r->count++;
	}
	OPENSSL_cleanse(old, old_n * sizeof(*old));
	free(old);
	r->slots = nw;
	r->mask = n - 1;
}

/* Half full: drop the expired ids; still a quarter full of live ones and
 * below the capacity: double the table. */
static void
make_room(struct replay *r, int64_t now)
{
	size_t n = r->mask + 1;

	rebuild(r, n, now);
	if (r->count >= n / 4 && n < r->max_slots)
		rebuild(r, n * 2, now);
}

/* Under r->lock. */
static int
use_locked(
    struct replay *r, const char *jti, size_t len, int64_t expires, int64_t now)
{
	size_t i;

	if (r->count >= (r->mask + 1) / 2)
		make_room(r, now);
	i = hash(r, jti, len) & r->mask;
	for (;;) {
		struct replay_slot *s = &r->slots[i];

		if (s->expires == 0)
			break;
		if (s->len == len && memcmp(s->jti, jti, len) == 0) {
			if (s->expires > now)
				return VDI_ERR_EXISTS;
			s->expires = expires; /* expired entry: reuse */
			return 0;
		}
		i = (i + 1) & r->mask;
	}
	if (r->count >= (r->mask + 1) / 2)
		return VDI_ERR_TOO_LARGE; /* fail closed */
	r->slots[i].expires = expires;
	r->slots[i].len = (uint8_t)len;
	memcpy(r->slots[i].jti, jti, len);
	r->count++;
	return 0;
}

int
replay_use(
    struct replay *r, const char *jti, size_t len, int64_t expires, int64_t now)
{
	int rc;

	if (jti == NULL || len == 0 || len > REPLAY_JTI_MAX)
		return VDI_ERR_INVALID_ARG;
	if (expires <= now)
		expires = now + 1; /* remember at least a moment */
	pthread_mutex_lock(&r->lock);
	rc = use_locked(r, jti, len, expires, now);
	pthread_mutex_unlock(&r->lock);
	return rc;
}
