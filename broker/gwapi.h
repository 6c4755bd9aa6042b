/*
 * gwapi.h: the broker's internal API for gateways (mTLS, gateway CA).
 *
 *   POST /internal/v1/events    {"events":[{...}, ...]}  session start/end,
 *                               byte counts, refused channels
 *   POST /internal/v1/commands  {"epoch":"...","after":N,"wait":S}
 *                               long-poll for commands ("cut" a session's
 *                               tunnels); answers at once when a command is
 *                               queued, so a cut reaches every gateway in
 *                               well under a second.
 *
 * A cut names a session ("sid") or a device ("device": certificate
 * SHA-256, hex), the broker's time of the cut, a reason and, for a session,
 * optionally the jti of the one tunnel to keep (the new one after a
 * reconnect or takeover); gateway/cutset.h says how gateways match them.
 *
 * Every cut is written to the store before anyone is told (the admin's
 * answer comes after that) and served to gateways until GWQ_CUT_HOLD
 * seconds after it was made: by then every token issued before it has
 * expired, with room for the gateways' clock skew. Commands are numbered
 * (seq) within an epoch that changes on every broker start; a gateway that
 * sees a new epoch starts over from 0 and so gets every cut still in
 * force, also those made before a restart (kill -9 included). A gateway's
 * next poll with "after" >= seq acknowledges the cut (it has closed the
 * matching tunnels and holds the cut against new ones): the broker logs
 * gateway_cuts_acked.
 *
 * A cut may also be for one gateway only and name the jti of the one
 * tunnel to cut (a token already used on another gateway: tokens are
 * one-use per deployment, see start_replayed() in gwapi.c); such a cut is
 * not a cut of the session and is not stored.
 */
#ifndef VDI_BROKER_GWAPI_H
#define VDI_BROKER_GWAPI_H

#include "broker.h"
#include "claims.h"
#include "http.h"

#define GWQ_WAIT_MAX   30
#define GWQ_ANSWER_MAX 500 /* commands in one answer */
/* Seconds a cut is served: the longest token lifetime (60 s) and five
 * minutes for gateways' clock skew and their own hold. */
#define GWQ_CUT_HOLD (CLAIMS_GATEWAY_LIFETIME + 300)

/* Sets up the queue (b->gwq). Returns 0 or VDI_ERR_ALLOC. */
int gwq_init(struct broker *b) VDI_WUR;
void gwq_free(struct broker *b);

/* Queues (and persists) a cut for session sid; keep_jti may be NULL. */
void gwq_cut(struct broker *b, const char *sid, const char *keep_jti,
    const char *reason);
/* Queues (and persists) a cut for every tunnel of a device. */
void gwq_cut_device(
    struct broker *b, const char *thumbprint, const char *reason);

/* The seq of the newest command (0: none yet in this epoch). */
uint64_t gwq_last_seq(struct broker *b);

/* {"epoch","last_seq","cuts":[{seq,kind,name,keep_jti,reason,time,
 * expires}],"gateways":[{name,acked,current}]}: the cuts in force and, per
 * configured gateway, the last seq its polls acknowledged (current: every
 * cut). NULL when out of memory. Caller owns it. */
json_t *gwq_status(struct broker *b);

/* Queues a cut for the one tunnel token jti opened on gateway (by the
 * CN of its certificate); only that gateway is told. */
void gwq_cut_tunnel(struct broker *b, const char *gateway, const char *sid,
    const char *jti, const char *reason);

/* Number of long-poll requests waiting (for tests and metrics). */
size_t gwq_waiting(struct broker *b);

void gwapi_events(struct broker *b, struct evhttp_request *req,
    const struct broker_peer *peer, json_t *body, double t0);
void gwapi_commands(struct broker *b, struct evhttp_request *req,
    const struct broker_peer *peer, json_t *body, double t0);

#endif
