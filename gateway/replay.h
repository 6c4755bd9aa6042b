/*
 * replay.h: the gateway's memory of token ids (jti) until they expire.
 *
 * Each gateway token may open one tunnel. The cache remembers every jti it
 * accepted until that token's exp (plus skew), in an open addressing table
 * that starts small and doubles as ids come, up to what its capacity asks
 * for (so memory follows the ids that are live, not the most there could
 * be). When it is full of unexpired ids, new tokens are refused (fail
 * closed) rather than an old id forgotten early. Time is a parameter. One cache
 * per gateway, owned by struct gw and shared by its worker loops: it holds its
 * own mutex, so a token replayed to another loop of the same gateway is caught.
 */
#ifndef VDI_GATEWAY_REPLAY_H
#define VDI_GATEWAY_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "vdierr.h"

#define REPLAY_JTI_MAX 64

struct replay;

/* A cache for up to capacity ids (rounded up to a power of two, at most
 * 2^24). NULL on bad size or no memory. */
struct replay *replay_new(size_t capacity);
void replay_free(struct replay *r);

/* Records jti as used until expires. Returns 0 the first time,
 * VDI_ERR_EXISTS when jti was seen and has not expired, VDI_ERR_TOO_LARGE
 * when the table is full of live ids, VDI_ERR_INVALID_ARG for an empty or
 * over-long jti. */
int replay_use(struct replay *r, const char *jti, size_t len, int64_t expires,
    int64_t now) VDI_WUR;

/* Ids remembered (live or not yet swept). */
size_t replay_count(struct replay *r);

#endif
