/*
 * sweep.h: ending sessions whose time is up.
 *
 * Every sweep.interval seconds (vdi-brokerd.conf(5)) the broker ends, in
 * its store, each session that is not ended and is due:
 *
 *   max_session   its deadline (start + max_session, fixed at the start)
 *                 has come, whatever its state (an active one
 *                 SWEEP_PENDING_GRACE later: its gateway closes the tunnel
 *                 at the deadline itself); its tunnels are cut;
 *   pending       a token was handed out but no tunnel started within the
 *                 token lifetime (plus SWEEP_PENDING_GRACE);
 *   disconnected  its tunnel went away and the reconnect window (counted
 *                 from the drop, or from the last grant; at least the
 *                 pending time) has passed.
 *
 * Ending frees the desktop's capacity, voids the session's reconnect
 * tickets and wipes its sealed credentials; each end is audited (action
 * session_end, actor broker, reason as above) and counted on /metrics
 * (vdi_broker_sessions_swept_total). A persistent desktop keeps its
 * assignment: only the session ends.
 */
#ifndef VDI_BROKER_SWEEP_H
#define VDI_BROKER_SWEEP_H

#include <stdint.h>

#include "broker.h"

/* Seconds a pending session is given beyond the token lifetime, for the
 * gateway's start event to arrive. */
#define SWEEP_PENDING_GRACE 5

enum sweep_reason {
	SWEEP_NONE = -1,
	SWEEP_MAX_SESSION = 0,
	SWEEP_PENDING,
	SWEEP_DISCONNECTED,
	SWEEP_COUNT,
};

/* Why s is due to end at now (pending_ttl: seconds a pending session
 * lives), or SWEEP_NONE. Pure. */
enum sweep_reason sweep_due(
    const struct store_session *s, int64_t now, int64_t pending_ttl);

/* The reason's name: the end_reason stored and audited, and the label on
 * /metrics ("max_session", "pending_expired", "disconnected_expired"). */
const char *sweep_reason_name(enum sweep_reason r);

/* Ends session s for reason now: store (tickets voided), cut on the
 * gateways, audit, counter. Returns 0, or the store's error (an already
 * ended session is VDI_ERR_INVALID_ARG and changes nothing). */
int sweep_end(struct broker *b, const struct store_session *s,
    enum sweep_reason why) VDI_WUR;

/* One pass at time now; returns the number of sessions ended. */
unsigned int sweep_run(struct broker *b, int64_t now);

/* Starts the periodic sweep on b's loop (first pass one interval after
 * the start), and stops it. */
/* Deletes what is past its retention (vdi-brokerd.conf sweep
 * keep_ended_sessions, keep_tickets), SWEEP_BATCH rows of each kind at
 * most, and logs what it deleted. */
void sweep_prune(struct broker *b, int64_t now);

int sweep_start(struct broker *b) VDI_WUR;
void sweep_stop(struct broker *b);

#endif
