/*
 * store.h: the broker's state, behind one interface.
 *
 * Everything the broker must not forget lives here: devices seen and
 * revoked, sessions, persistent desktop assignments, reconnect tickets
 * (stored hashed), desktop health and drain flags, and the append-only
 * audit log: one hash chain per tenant, each row carrying the SHA-256 of
 * the tenant's row before it (rows without a tenant chain as tenant "").
 *
 * The SQLite implementation (store_sqlite*.c) runs in WAL mode with
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
	int format; /* set by the store: 2, prev_hash is the previous row of
		       the same tenant; 1, rows written before per-tenant
		       chains, prev_hash is the previous row of any tenant */
};

struct store_audit_filter {
	const char *user;   /* NULL: any */
	const char *device; /* NULL: any */
	int64_t since;      /* 0: from the start */
	size_t limit;       /* 0: no limit */
	/* NULL: rows of any tenant; else only rows whose tenant is one of
	 * the ntenants names ("" for rows without a tenant; none when
	 * ntenants is 0). */
	const char *const *tenants;
	size_t ntenants;
};

/* Opens (creating if needed) the SQLite store at path, applies pending
 * schema migrations in one transaction each, and returns it in *out (the
 * caller closes it with store_close). On failure writes a message naming
 * the file and the problem into err. */
int store_open_sqlite(
    const char *path, struct store **out, char *err, size_t errlen) VDI_WUR;

/* Closes the store. NULL is accepted. */
void store_close(struct store *st);

/* Current schema version (number of migrations applied), -1 when the
 * store cannot be read. */
int store_schema_version(struct store *st);

/* The schema version this broker brings a store to (its last migration). */
int store_schema_latest(void);

/* Runs fn inside one transaction: commits when fn returns 0, rolls back
 * otherwise and returns fn's code. Calls nest: an inner call runs in a
 * savepoint of the outer transaction, so when it fails only its own
 * changes are undone and the outer fn decides about the rest; nothing is
 * on disk before the outermost call commits. */
int store_txn(
    struct store *st, int (*fn)(struct store *, void *), void *arg) VDI_WUR;

/* --- health --- */

struct store_health {
	int up;            /* 1: the last write reached the disk */
	uint64_t failures; /* storage-level failures since the store opened */
	char reason[256];  /* when not up: the storage's error, as SQLite
			      words it, and its code */
};

/* Whether the store takes writes. Every call notes storage-level failures
 * (disk full, I/O error, a read-only, unopenable or corrupt file, a lock
 * still held after the busy timeout) and the next write that succeeds; the
 * first failure is logged once (store_unavailable), the recovery too
 * (store_recovered). While the store is failing, this runs one real write
 * (a settings row, in its own transaction, waiting at most 100 ms for a
 * lock), at most once a second, so the store reads as up again by itself
 * once the cause is gone. Fills *out; returns 0 when up, else VDI_ERR_IO.
 * Not inside store_txn (it then only reports). */
int store_health(struct store *st, struct store_health *out) VDI_WUR;

/* --- retention --- */

struct store_pruned {
	uint64_t sessions;   /* ended sessions deleted */
	uint64_t tickets;    /* reconnect tickets deleted */
	uint64_t token_uses; /* gateway token uses deleted */
};

/* Deletes, at most batch rows of each kind: sessions ended before
 * sessions_before (with their tickets), reconnect tickets that expired
 * before tickets_before and gateway token uses that expired before it
 * (0: that kind is kept). Live sessions, assignments, devices and the
 * audit log are never touched. Counts in *out. */
int store_prune(struct store *st, int64_t sessions_before,
    int64_t tickets_before, size_t batch, struct store_pruned *out) VDI_WUR;

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

/* The one full thumbprint that starts with prefix (1 to 64 lower-case hex
 * digits) among the devices seen and the devices named by audit rows, of
 * the given tenants only (NULL: any; as in store_audit_filter). Returns 0
 * with it in out; VDI_ERR_NOT_FOUND for none; VDI_ERR_EXISTS when the
 * prefix is ambiguous (*matches is then 2, else the count found);
 * VDI_ERR_INVALID_ARG when prefix is not such hex. */
int store_device_resolve(struct store *st, const char *prefix,
    const char *const *tenants, size_t ntenants, char out[STORE_THUMB_MAX],
    int *matches) VDI_WUR;

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
 * VDI_ERR_TOKEN_EXPIRED (expired, or voided), VDI_ERR_REPLACED (voided by
 * a newer login into its session), VDI_ERR_DENIED (other device); on these
 * refusals session_id names the ticket's session. A refused ticket stays
 * as it was. */
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

/* Voids every unused ticket of a session because a newer login took the
 * session (on this device or another): using one of them afterwards
 * answers VDI_ERR_REPLACED, so the program that held it learns that it
 * was replaced rather than that its window ran out. */
int store_ticket_replace_session(
    struct store *st, const char *session_id) VDI_WUR;

/* --- gateway tokens used (one use per deployment) --- */

/* Records that the token jti (of session_id) opened a tunnel on gateway,
 * remembered until expires (when it can no longer be presented; older
 * rows are forgotten on the way). Returns 0 the first time; VDI_ERR_EXISTS
 * when jti was used already, with the gateway that used it first in
 * first_gateway (a repeat from that same gateway is the same event sent
 * again). VDI_ERR_INVALID_ARG for an empty jti, VDI_ERR_TOO_LARGE when a
 * string does not fit. */
int store_token_use(struct store *st, const char *jti, const char *session_id,
    const char *gateway, int64_t now, int64_t expires, char *first_gateway,
    size_t first_len) VDI_WUR;

/* The gateway that used token jti first (VDI_ERR_NOT_FOUND: not used, or
 * forgotten after its expiry). */
int store_token_gateway(struct store *st, const char *jti, char *gateway,
    size_t gateway_len) VDI_WUR;

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

/* --- cuts for gateways (gwapi.c) --- */

enum store_cut_kind {
	STORE_CUT_SESSION = 0, /* key: session id */
	STORE_CUT_DEVICE,      /* key: device thumbprint (hex) */
};

struct store_cut {
	int64_t id; /* set by store_cut_add, increasing */
	enum store_cut_kind kind;
	char key[STORE_THUMB_MAX];
	char keep_jti[64]; /* "" = none */
	char reason[64];
	int64_t time;    /* when the broker cut */
	int64_t expires; /* kept until then */
};

/* Persists a cut (id filled in). VDI_ERR_INVALID_ARG for an empty key or
 * a field that does not fit. */
int store_cut_add(struct store *st, struct store_cut *c) VDI_WUR;
/* Calls fn for every cut with expires > now, by id. */
int store_cut_list(struct store *st, int64_t now,
    int (*fn)(const struct store_cut *, void *), void *arg) VDI_WUR;
/* Deletes the cuts with expires <= now. */
int store_cut_prune(struct store *st, int64_t now) VDI_WUR;

/* --- the monitor's grant of a live session (docs/privsep.md) --- */

/* Stores the grant the monitor returned when it signed the session's login
 * token; reconnects hand it back to the monitor, which signs only for
 * sessions it granted itself. Replaced by each new login to the session. */
int store_session_set_grant(
    struct store *st, const char *id, const char *grant) VDI_WUR;
/* VDI_ERR_NOT_FOUND when none (or the session ended). */
int store_session_get_grant(
    struct store *st, const char *id, char *out, size_t outlen) VDI_WUR;

/* --- audit --- */

/* Appends ev (seq, prev_hash and hash are filled in, also in *ev). */
int store_audit_append(struct store *st, struct store_audit *ev) VDI_WUR;

/* Calls fn for matching rows in seq order. */
int store_audit_query(struct store *st, const struct store_audit_filter *f,
    int (*fn)(const struct store_audit *, void *), void *arg) VDI_WUR;

/* Walks the chains of the given tenants ("" is the chain of rows without
 * a tenant), or of every tenant when tenants is NULL; only then are gaps in
 * seq and the old global chain (format 1) checked too, since a caller who
 * sees some tenants cannot tell a gap from another tenant's row (format 1
 * rows of the given tenants get their own hash checked). Returns 0 when
 * every row's hash and link are right, *rows is the count of rows checked
 * and fn (may be NULL) was called for each per-tenant chain met, in order
 * of first row, with its row count and last hash (fn's non-zero value is
 * passed on); else VDI_ERR_BAD_FORMAT with *bad_seq the first row that
 * fails and why in reason. */
int store_audit_verify_chains(struct store *st, const char *const *tenants,
    size_t ntenants,
    int (*fn)(const char *tenant, int64_t rows, const char *head, void *),
    void *arg, int64_t *rows, int64_t *bad_seq, char *reason,
    size_t reason_len) VDI_WUR;

/* store_audit_verify_chains over every tenant, without fn. */
int store_audit_verify(struct store *st, int64_t *rows, int64_t *bad_seq,
    char *reason, size_t reason_len) VDI_WUR;

/* The hash of a row as the store computes it (exposed for tests and for
 * `vdictl audit verify` output). out: 65 bytes. */
void store_audit_hash(const struct store_audit *ev, char out[65]);

#endif
