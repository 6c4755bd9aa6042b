/* srclimit.c: open connections per source address (see srclimit.h). */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/random.h>

#include "srclimit.h"

struct slot {
	uint8_t key[16];
	unsigned int count; /* 0: empty */
};

struct srclimit {
	unsigned int max_total, max_per_source, total;
	size_t mask; /* table size - 1 (a power of two) */
	uint64_t seed;
	struct slot *t;
};

/* The source of a: the IPv4 address (stored mapped), or the IPv6 /64. */
static void
source_key(const struct vdi_addr *a, uint8_t key[16])
{
	memcpy(key, a->a, 16);
	if (!a->v4)
		memset(key + 8, 0, 8);
}

/* FNV-1a over the key, mixed with the seed. */
static size_t
slot_of(const struct srclimit *sl, const uint8_t key[16])
{
	uint64_t h = 0xcbf29ce484222325ULL ^ sl->seed;
	size_t i;

	for (i = 0; i < 16; i++) {
		h ^= key[i];
		h *= 0x100000001b3ULL;
	}
	h ^= h >> 29;
	return (size_t)h & sl->mask;
}

struct srclimit *
srclimit_new(unsigned int max_total, unsigned int max_per_source)
{
	struct srclimit *sl;
	size_t n = 16;

	if (max_total == 0 || max_total > SRCLIMIT_TOTAL_MAX ||
	    max_per_source == 0 || max_per_source > max_total)
		return NULL;
	/* At most max_total sources have a count: keep the load under 1/2. */
	while (n < 2 * (size_t)max_total)
		n <<= 1;
	if ((sl = calloc(1, sizeof(*sl))) == NULL)
		return NULL;
	if ((sl->t = calloc(n, sizeof(*sl->t))) == NULL) {
		free(sl);
		return NULL;
	}
	sl->mask = n - 1;
	sl->max_total = max_total;
	sl->max_per_source = max_per_source;
	if (getrandom(&sl->seed, sizeof(sl->seed), GRND_NONBLOCK) !=
	    (ssize_t)sizeof(sl->seed))
		sl->seed = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)sl;
	return sl;
}

void
srclimit_free(struct srclimit *sl)
{
	if (sl == NULL)
		return;
	free(sl->t);
	free(sl);
}

/* The slot holding key, or the empty one where it would go. */
static size_t
find(const struct srclimit *sl, const uint8_t key[16])
{
	size_t i = slot_of(sl, key);

	while (sl->t[i].count != 0 && memcmp(sl->t[i].key, key, 16) != 0)
		i = (i + 1) & sl->mask;
	return i;
}

int
srclimit_take(struct srclimit *sl, const struct vdi_addr *a)
{
	uint8_t key[16];
	size_t i;

	source_key(a, key);
	i = find(sl, key);
	if (sl->t[i].count >= sl->max_per_source)
		return VDI_ERR_DENIED;
	if (sl->total >= sl->max_total)
		return VDI_ERR_TOO_LARGE;
	if (sl->t[i].count == 0)
		memcpy(sl->t[i].key, key, 16);
	sl->t[i].count++;
	sl->total++;
	return 0;
}

void
srclimit_release(struct srclimit *sl, const struct vdi_addr *a)
{
	uint8_t key[16];
	size_t i, j, home;

	source_key(a, key);
	i = find(sl, key);
	if (sl->t[i].count == 0)
		return;
	sl->total--;
	if (--sl->t[i].count != 0)
		return;
	/* Backward-shift deletion keeps every probe chain unbroken. */
	j = i;
	for (;;) {
		j = (j + 1) & sl->mask;
		if (sl->t[j].count == 0)
			break;
		home = slot_of(sl, sl->t[j].key);
		/* Move j into the hole at i when its home is not in (i, j]. */
		if (((j - home) & sl->mask) >= ((j - i) & sl->mask)) {
			sl->t[i] = sl->t[j];
			sl->t[j].count = 0;
			i = j;
		}
	}
	memset(sl->t[i].key, 0, 16);
}

unsigned int
srclimit_total(const struct srclimit *sl)
{
	return sl->total;
}

unsigned int
srclimit_count(const struct srclimit *sl, const struct vdi_addr *a)
{
	uint8_t key[16];

	source_key(a, key);
	return sl->t[find(sl, key)].count;
}

unsigned int
srclimit_max_total(const struct srclimit *sl)
{
	return sl->max_total;
}

unsigned int
srclimit_max_per_source(const struct srclimit *sl)
{
	return sl->max_per_source;
}
