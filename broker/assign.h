/*
 * assign.h: which desktop a person gets.
 *
 * Order (docs/architecture.md, step 2): for a reconnect ticket, its own session
 * and nothing else; else the user's session that is still live (active,
 * pending or disconnected, when single_session) if its pool is among the
 * pools the policy allows now and its max_session deadline has not come;
 * else, pool by pool in the policy's order, the user's
 * persistent desktop (assigning a free one on first use) or the
 * least-loaded healthy desktop of a pooled pool. Desktops that are drained,
 * unhealthy or full are skipped. The whole choice and the session it creates
 * happen in one store transaction.
 */
#ifndef VDI_BROKER_ASSIGN_H
#define VDI_BROKER_ASSIGN_H

#include <stdint.h>

#include "policy.h"
#include "store.h"

enum assign_how {
	ASSIGN_REUSED = 1, /* the user's live session */
	ASSIGN_PERSISTENT, /* the user's own desktop */
	ASSIGN_POOLED,     /* least-loaded desktop of a pooled pool */
};

struct assign_request {
	const char *tenant;
	const char *user;
	const char *device;                     /* thumbprint (hex) */
	const struct policy_decision *decision; /* an allow */
	const char *session_id; /* id for a new session (random, caller's) */
	/* A reconnect ticket's session: only that one is reused (whatever
	 * single_session says), never a new one made; NULL for a login. */
	const char *reconnect_session;
	int64_t now;
};

struct assign_result {
	enum assign_how how;
	const struct policy_pool *pool;
	const struct policy_desktop *desktop;
	struct store_session session; /* as stored after the assignment */
	int takeover;                 /* reused a session of another device */
	char previous_device[STORE_THUMB_MAX];
	char reason[320]; /* why not, on failure */
};

/*
 * Assigns a desktop. Returns 0 with *res filled, or:
 *   VDI_ERR_NOT_FOUND  no desktop available (res->reason says why);
 *   VDI_ERR_DENIED     the user's live session is in a pool not allowed
 *                      from here now (res->reason names it);
 *   other codes for store failures.
 */
int assign_desktop(struct store *st, const struct policy *p,
    const struct assign_request *req, struct assign_result *res) VDI_WUR;

const char *assign_how_name(enum assign_how how);

/* Finds a desktop by name in p (with its pool), or NULL. */
const struct policy_desktop *assign_find_desktop(
    const struct policy *p, const char *name, const struct policy_pool **pool);

#endif
