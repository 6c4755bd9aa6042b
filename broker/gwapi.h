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
 * A cut names a session, a time (tunnels that started before it are cut)
 * and optionally the jti of the one tunnel to keep (the new one after a
 * reconnect or takeover). A cut may be for one gateway only and name the
 * jti of the one tunnel to cut (a token already used on another gateway:
 * tokens are one-use per deployment, see start_replayed() in gwapi.c). Commands
 * live in memory in a bounded ring with an epoch that changes on every broker
 * start, so a gateway that sees a new epoch starts over from 0.
 */
#ifndef VDI_BROKER_GWAPI_H
#define VDI_BROKER_GWAPI_H

#include "broker.h"
#include "http.h"

#define GWQ_RING     1024
#define GWQ_WAIT_MAX 30

/* Sets up the queue (b->gwq). Returns 0 or VDI_ERR_ALLOC. */
int gwq_init(struct broker *b) VDI_WUR;
void gwq_free(struct broker *b);

/* Queues a cut for session sid; keep_jti may be NULL. */
void gwq_cut(struct broker *b, const char *sid, const char *keep_jti,
    const char *reason);

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
