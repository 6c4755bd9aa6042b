/*
 * cutset.h: the cuts a gateway has received from the broker, kept for as
 * long as a token they could affect can still be presented (pure: no
 * locks, no I/O; registry.c holds it under the registry lock).
 *
 * A cut names what it ends:
 *
 *   CUT_SESSION without keep_jti   the session has ended (admin kill,
 *                                  logoff, revoked device, a start for an
 *                                  ended session): every tunnel of that
 *                                  session id, whatever its token, is cut
 *                                  and refused.
 *   CUT_SESSION with keep_jti      one tunnel per session (reconnect,
 *                                  takeover): every other tunnel of the
 *                                  session whose token was issued up to the
 *                                  cut's time is cut; at admission a token
 *                                  of the session issued before the cut's
 *                                  second (strictly) is refused.
 *   CUT_DEVICE                     the device is revoked: every tunnel over
 *                                  a client certificate with that SHA-256
 *                                  thumbprint (hex) is cut and refused.
 *
 * Matching is by what the cut names; the only time comparison is the
 * token's iat (set by the broker's clock, as is the cut's time) for
 * one-tunnel-per-session cuts, never the gateway's own accept time.
 *
 * A cut is held until time + CLAIMS_GATEWAY_LIFETIME + skew + CUTSET_MARGIN
 * (the gateway clock): after that every token issued up to the cut has
 * expired, even with the allowed clock skew.
 */
#ifndef VDI_GATEWAY_CUTSET_H
#define VDI_GATEWAY_CUTSET_H

#include <stddef.h>
#include <stdint.h>

#include "vdierr.h"

#define CUTSET_KEY_MAX    65 /* session id or thumbprint hex + NUL */
#define CUTSET_JTI_MAX    65
#define CUTSET_REASON_MAX 64
#define CUTSET_MARGIN     5      /* seconds held beyond the last token */
#define CUTSET_MAX        100000 /* cuts held at once */

enum cut_kind {
	CUT_SESSION = 0,
	CUT_DEVICE,
};

struct cut {
	enum cut_kind kind;
	char key[CUTSET_KEY_MAX];
	char keep_jti[CUTSET_JTI_MAX]; /* CUT_SESSION only; "" = none */
	char reason[CUTSET_REASON_MAX];
	int64_t time;  /* broker time of the cut */
	int64_t until; /* held until (gateway time), set by cutset_add */
};

/* What a tunnel is, for matching. */
struct cut_subject {
	const char *sid;
	const char *device; /* client certificate SHA-256, hex */
	const char *jti;
	int64_t iat;
};

struct cutset;

/* A new empty set; hold = token lifetime + skew + margin, in seconds;
 * max: most cuts held at once (0: CUTSET_MAX). NULL when out of memory. */
struct cutset *cutset_new(int64_t hold, size_t max);
void cutset_free(struct cutset *cs);

/*
 * Adds c (copied; until is computed) unless an identical cut (kind, key,
 * keep_jti, time) is held already or its hold is over at now. Returns 0
 * when added, VDI_ERR_EXISTS when held already, VDI_ERR_TIMEOUT when its
 * hold is over, VDI_ERR_TOO_LARGE when max cuts are held (the set then
 * fails closed: cutset_match refuses every tunnel until that cut's hold
 * would have ended), VDI_ERR_INVALID_ARG for an empty key.
 */
int cutset_add(struct cutset *cs, const struct cut *c, int64_t now) VDI_WUR;

/*
 * Whether a cut applies to a live tunnel (registry): every rule above,
 * with a one-tunnel cut matching tokens issued up to its time. Pure.
 */
int cut_matches_live(const struct cut *c, const struct cut_subject *t);

/*
 * The held cut that refuses tunnel t at admission (now: gateway time), or
 * NULL. Drops cuts whose hold is over. While the set has failed closed
 * (VDI_ERR_TOO_LARGE) it returns a static cut with reason "cut_set_full".
 */
const struct cut *cutset_match(
    struct cutset *cs, const struct cut_subject *t, int64_t now);

/* Cuts held (after dropping those over at now). */
size_t cutset_count(struct cutset *cs, int64_t now);

#endif
