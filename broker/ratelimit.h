/*
 * ratelimit.h: failed-attempt limits with exponential backoff.
 *
 * One table per kind of key (user names, device thumbprints). After
 * `free_failures` failures inside `window` seconds a key is blocked for
 * base_delay * 2^(extra failures), capped at max_delay. A success clears the
 * key. The table has a fixed number of slots; when full, an expired entry
 * among the few with the oldest last failure, else the entry whose last
 * failure is oldest, is forgotten. Every call costs O(1) on average (a
 * keyed hash lookup; expired keys are forgotten when next looked at), not
 * a walk over the table. Pure apart from the hash key, drawn at random:
 * time is a parameter.
 */
#ifndef VDI_BROKER_RATELIMIT_H
#define VDI_BROKER_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

#include "vdierr.h"

#define RL_KEY_MAX 128

struct rl_config {
	unsigned int free_failures; /* failures allowed before blocking */
	unsigned int window;        /* seconds a failure is remembered */
	unsigned int base_delay;    /* seconds blocked after the first extra */
	unsigned int max_delay;     /* cap on the block, seconds */
};

struct ratelimit;

/* Returns a table with `slots` entries (1..1,000,000), or NULL. Caller frees
 * it with rl_free(). */
struct ratelimit *rl_new(const struct rl_config *cfg, size_t slots);
void rl_free(struct ratelimit *rl);

/* 0 when key may try now; VDI_ERR_DENIED when blocked, with the seconds to
 * wait in *retry_after. */
int rl_check(struct ratelimit *rl, const char *key, int64_t now,
    int64_t *retry_after) VDI_WUR;

/* Records a failure for key at now. */
void rl_fail(struct ratelimit *rl, const char *key, int64_t now);

/* Forgets key (after a success). */
void rl_success(struct ratelimit *rl, const char *key);

/* Number of failures remembered for key at now (for tests and metrics). */
unsigned int rl_failures(struct ratelimit *rl, const char *key, int64_t now);

#endif
