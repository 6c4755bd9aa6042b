/*
 * store.h: the broker's state, behind one interface.
 *
 * Everything the broker must not forget lives here: devices seen and
 * revoked, sessions, persistent desktop assignments, reconnect tickets
 * (stored hashed), desktop health and drain flags, and the append-only
 * audit log whose rows each carry the SHA-256 of the row before.
 *
 * The SQLite implementation (store_sqlite.c) runs in WAL mode with
 * synchronous=FULL, so a change the function reports as done survives
 * `kill -9` of the broker. Every function is synchronous and not
 * thread-safe: one store handle per thread.
 *
 * Strings in the structs are NUL-terminated and truncated to their
 * buffers; the store refuses input longer than the buffers with
 * VDI_ERR_TOO_LARGE rather than truncating what it writes.
 */
#ifndef VDI_BROKER_STORE_H
#define VDI_BROKER_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "vdierr.h"

#define STORE_NAME_MAX   128  /* tenant, user, pool, desktop, gateway, actor */
#define STORE_THUMB_MAX  65   /* SHA-256 hex + NUL */
#define STORE_ID_MAX     33   /* 128-bit id as hex + NUL */
#define STORE_TEXT_MAX   512  /* subjects, reasons */
#define STORE_DETAIL_MAX 2048 /* audit detail (JSON) */

struct store;

enum store_session_state {
	STORE_SESSION_PENDING = 0,  /* assigned, tunnel not yet up */
	STORE_SESSION_ACTIVE,       /* tunnel up */
	STORE_SESSION_DISCONNECTED, /* tunnel gone, desktop session kept */
	STORE_SESSION_ENDED,
};

struct store_device {
	char tenant[STORE_NAME_MAX];
	char thumbprint[STORE_THUMB_MAX];
	char subject[STORE_TEXT_MAX];
	int64_t first_seen;
	int64_t last_seen;
	int64_t revoked_at; /* 0 when not revoked */
	char revoked_by[STORE_NAME_MAX];
	char revoke_reason[STORE_TEXT_MAX];
};

struct store_session {
	char id[STORE_ID_MAX];
	char tenant[STORE_NAME_MAX];
	char user[STORE_NAME_MAX];
	char device[STORE_THUMB_MAX];
	char pool[STORE_NAME_MAX];
	char desktop[STORE_NAME_MAX];
	char gateway[STORE_NAME_MAX];
	enum store_session_state state;
	int shared_device;
	int64_t created;
	int64_t updated;
	int64_t ended;
	char end_reason[STORE_TEXT_MAX];
	int64_t reconnect_window; /* seconds tickets live after a drop */
	int64_t deadline; /* max_session: unix time it ends; 0 = no limit */
};

struct store_desktop {
	char desktop[STORE_NAME_MAX];
	int healthy; /* last probe result */
	int drained; /* admin said: no new sessions */
	int64_t last_check;
	int64_t last_ok;
	char reason[STORE_TEXT_MAX];
};

struct store_audit {
	int64_t seq;                /* assigned by the store */
	int64_t time;               /* unix seconds */
	char actor[STORE_NAME_MAX]; /* "user:alice", "admin:root",
				       "gateway:gw1", "broker" */
	char action[64];  /* "login", "assign", "reconnect", "revoke", ... */
	char outcome[16]; /* "ok", "refused", "error" */
	char tenant[STORE_NAME_MAX];
	char user[STORE_NAME_MAX];
	char device[STORE_THUMB_MAX];
	char session[STORE_ID_MAX];
	char reason[STORE_TEXT_MAX];
	char detail[STORE_DETAIL_MAX]; /* compact JSON object or "" */
	char prev_hash[65];            /* hex; set by the store */
	char hash[65];                 /* hex; set by the store */
};

struct store_audit_filter {
	const char *user;   /* NULL: any */
	const char *device; /* NULL: any */
	int64_t since;      /* 0: from the start */
	size_t limit;       /* 0: no limit */
};

/* Opens (creating if needed) the SQLite store at path, applies pending
 * schema migrations in one transaction each, and returns it in *out (the
 * caller closes it with store_close). On failure writes a message naming
 * the file and the problem into err. */
int store_open_sqlite(
    const char *path, struct store **out, char *err, size_t errlen) VDI_WUR;

/* Closes the store. NULL is accepted. */
void store_close(struct store *st);

/* Current schema version (number of migrations applied). */
int store_schema_version(struct store *st);

/* Runs fn inside one transaction: commits when fn returns 0, rolls back
 * otherwise and returns fn's code. Calls nest (inner calls join the outer
 * transaction). */
int store_txn(
    struct store *st, int (*fn)(struct store *, void *), void *arg) VDI_WUR;

/* --- devices --- */

/* Records that a device presented its certificate at time now (first_seen
 * set once, last_seen updated) and returns its row in *out. */
int store_device_seen(struct store *st, const char *tenant,
    const char *thumbprint, const char *subject, int64_t now,
    struct store_device *out) VDI_WUR;

/* Looks a device up; VDI_ERR_NOT_FOUND when unknown. */
int store_device_get(
    struct store *st, const char *thumbprint, struct store_device *out) VDI_WUR;

/* Marks a device revoked (known or not yet seen) and invalidates its
 * reconnect tickets. Revoking twice keeps the first time and actor. */
int store_device_revoke(struct store *st, const char *tenant,
    const char *thumbprint, const char *by, const char *reason,
    int64_t now) VDI_WUR;

/* Calls fn for each device (of tenant, or all when NULL), newest last_seen
 * first; stops early and returns fn's value when it is non-zero. */
int store_device_list(struct store *st, const char *tenant,
    int (*fn)(const struct store_device *, void *), void *arg) VDI_WUR;

/* --- sessions --- */

/* Inserts a new session; s->id must be set by the caller (random). */
int store_session_create(
    struct store *st, const struct store_session *s) VDI_WUR;

int store_session_get(
    struct store *st, const char *id, struct store_session *out) VDI_WUR;

/* The user's session that is not ended, if any (VDI_ERR_NOT_FOUND). */
int store_session_find_live(struct store *st, const char *tenant,
    const char *user, struct store_session *out) VDI_WUR;

/* Changes state (and for ENDED the end time and reason). Moving an ended
 * session is refused with VDI_ERR_INVALID_ARG. */
int store_session_set_state(struct store *st, const char *id,
    enum store_session_state state, const char *reason, int64_t now) VDI_WUR;

/* Records that a session moved to another device (takeover) and gateway. */
int store_session_set_device(struct store *st, const char *id,
    const char *device, int shared_device, int64_t now) VDI_WUR;

/* A new grant (login or reconnect) for a session that is not ended: its
 * reconnect window becomes reconnect_window (the policy now in force) and
 * counts from now (updated = now). VDI_ERR_NOT_FOUND when unknown or
 * ended. The deadline does not move. */
int store_session_renew(struct store *st, const char *id,
    int64_t reconnect_window, int64_t now) VDI_WUR;

/* Calls fn, oldest first, for each session that is not ended and is due
 * to end at now: its deadline (when not 0) has come (deadline <= now); or
 * it is pending and was last updated pending_ttl or more seconds ago (the
 * token was never used); or it is disconnected and was last updated
 * reconnect_window (but at least pending_ttl) or more seconds ago. Stops
 * early with fn's non-zero value. Ends nothing itself. */
int store_session_list_due(struct store *st, int64_t now, int64_t pending_ttl,
    int (*fn)(const struct store_session *, void *), void *arg) VDI_WUR;

/* Sessions not ended on desktop (for load and capacity). */
int store_session_count_on_desktop(
    struct store *st, const char *desktop, int *count) VDI_WUR;

/* Calls fn for each session not ended (or for all when include_ended),
 * oldest first. */
int store_session_list(struct store *st, int include_ended,
    int (*fn)(const struct store_session *, void *), void *arg) VDI_WUR;

const char *store_session_state_name(enum store_session_state s);

/* --- persistent assignments --- */

/* The desktop persistently assigned to user in pool (VDI_ERR_NOT_FOUND). */
int store_assignment_get(struct store *st, const char *tenant, const char *user,
    const char *pool, char *desktop, size_t desktop_len) VDI_WUR;

/* Assigns desktop to user in pool; VDI_ERR_EXISTS when the desktop already
 * belongs to someone else in that pool. */
int store_assignment_set(struct store *st, const char *tenant, const char *user,
    const char *pool, const char *desktop, int64_t now) VDI_WUR;

/* Number of users persistently assigned to desktop. */
int store_assignment_count(
    struct store *st, const char *desktop, int *count) VDI_WUR;

/* --- reconnect tickets (only their SHA-256 is stored) --- */

/* Stores a ticket hash for session, bound to device, valid until expires. */
int store_ticket_put(struct store *st, const char *hash_hex,
    const char *session_id, const char *device, int64_t expires,
    int64_t now) VDI_WUR;

/* Uses a ticket once, atomically. Returns 0 and the session id, or:
 * VDI_ERR_NOT_FOUND (unknown), VDI_ERR_EXISTS (already used),
 * VDI_ERR_TOKEN_EXPIRED (expired, or voided), VDI_ERR_DENIED (other
 * device); on these refusals session_id names the ticket's session. A
 * refused ticket stays as it was. */
int store_ticket_use(struct store *st, const char *hash_hex, const char *device,
    int64_t now, char session_id[STORE_ID_MAX]) VDI_WUR;

/* Sets the expiry of every unused ticket of a session (the reconnect
 * window restarts at each drop). */
int store_ticket_set_expiry(
    struct store *st, const char *session_id, int64_t expires) VDI_WUR;

/* Invalidates every unused ticket of a session / of a device. */
int store_ticket_revoke_session(
    struct store *st, const char *session_id) VDI_WUR;
int store_ticket_revoke_device(struct store *st, const char *device) VDI_WUR;

/* --- desktop health and drain --- */

int store_desktop_set_health(struct store *st, const char *desktop, int healthy,
    const char *reason, int64_t now) VDI_WUR;
int store_desktop_set_drained(
    struct store *st, const char *desktop, int drained) VDI_WUR;
/* A desktop never probed reads as healthy=0, last_check=0. */
int store_desktop_get(
    struct store *st, const char *desktop, struct store_desktop *out) VDI_WUR;

/* --- settings (run-time choices that must survive a restart) --- */

/* VDI_ERR_NOT_FOUND when unset. */
int store_setting_get(
    struct store *st, const char *key, char *out, size_t outlen) VDI_WUR;
/* value NULL deletes the setting. */
int store_setting_set(
    struct store *st, const char *key, const char *value) VDI_WUR;
/* Calls fn for every setting whose key starts with prefix, by key. */
int store_setting_list(struct store *st, const char *prefix,
    int (*fn)(const char *key, const char *value, void *), void *arg) VDI_WUR;

/* --- sealed single sign-on credentials of a live session --- */

/* Stores the sealed blob (base64url; only gateways can open it). It is
 * erased when the session ends. */
int store_session_set_cred(
    struct store *st, const char *id, const char *cred) VDI_WUR;
/* VDI_ERR_NOT_FOUND when none (or the session ended). */
int store_session_get_cred(
    struct store *st, const char *id, char *out, size_t outlen) VDI_WUR;

/* --- audit --- */

/* Appends ev (seq, prev_hash and hash are filled in, also in *ev). */
int store_audit_append(struct store *st, struct store_audit *ev) VDI_WUR;

/* Calls fn for matching rows in seq order. */
int store_audit_query(struct store *st, const struct store_audit_filter *f,
    int (*fn)(const struct store_audit *, void *), void *arg) VDI_WUR;

/* Walks the whole chain. Returns 0 when every row's hash and link are
 * right and *rows is the count; else VDI_ERR_BAD_FORMAT with *bad_seq the
 * first row that fails and why in reason. */
int store_audit_verify(struct store *st, int64_t *rows, int64_t *bad_seq,
    char *reason, size_t reason_len) VDI_WUR;

/* The hash of a row as the store computes it (exposed for tests and for
 * `vdictl audit verify` output). out: 65 bytes. */
void store_audit_hash(const struct store_audit *ev, char out[65]);

#endif
