/* store_sqlite.c: the broker store on SQLite in WAL mode (see store.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <sqlite3.h>

#include "store.h"

struct store {
	sqlite3 *db;
	int txn_depth;
	char path[512];
};

/*
 * Versioned schema: migrations[i] takes the schema from version i to i+1.
 * Released migrations never change; add new ones at the end.
 */
static const char *const migrations[] = {
	/* 1: initial schema */
	"CREATE TABLE devices ("
	"  thumbprint TEXT PRIMARY KEY,"
	"  tenant TEXT NOT NULL,"
	"  subject TEXT NOT NULL DEFAULT '',"
	"  first_seen INTEGER NOT NULL DEFAULT 0,"
	"  last_seen INTEGER NOT NULL DEFAULT 0,"
	"  revoked_at INTEGER NOT NULL DEFAULT 0,"
	"  revoked_by TEXT NOT NULL DEFAULT '',"
	"  revoke_reason TEXT NOT NULL DEFAULT '');"
	"CREATE TABLE sessions ("
	"  id TEXT PRIMARY KEY,"
	"  tenant TEXT NOT NULL,"
	"  user TEXT NOT NULL,"
	"  device TEXT NOT NULL,"
	"  pool TEXT NOT NULL,"
	"  desktop TEXT NOT NULL,"
	"  gateway TEXT NOT NULL DEFAULT '',"
	"  state INTEGER NOT NULL,"
	"  shared_device INTEGER NOT NULL DEFAULT 0,"
	"  created INTEGER NOT NULL,"
	"  updated INTEGER NOT NULL,"
	"  ended INTEGER NOT NULL DEFAULT 0,"
	"  end_reason TEXT NOT NULL DEFAULT '');"
	"CREATE INDEX sessions_live ON sessions(tenant, user) WHERE state < 3;"
	"CREATE INDEX sessions_desktop ON sessions(desktop) WHERE state < 3;"
	"CREATE TABLE assignments ("
	"  tenant TEXT NOT NULL,"
	"  user TEXT NOT NULL,"
	"  pool TEXT NOT NULL,"
	"  desktop TEXT NOT NULL,"
	"  created INTEGER NOT NULL,"
	"  PRIMARY KEY (tenant, user, pool),"
	"  UNIQUE (pool, desktop));"
	"CREATE TABLE tickets ("
	"  hash TEXT PRIMARY KEY,"
	"  session_id TEXT NOT NULL,"
	"  device TEXT NOT NULL,"
	"  created INTEGER NOT NULL,"
	"  expires INTEGER NOT NULL,"
	"  used_at INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX tickets_session ON tickets(session_id);"
	"CREATE INDEX tickets_device ON tickets(device);"
	"CREATE TABLE desktops ("
	"  desktop TEXT PRIMARY KEY,"
	"  healthy INTEGER NOT NULL DEFAULT 0,"
	"  drained INTEGER NOT NULL DEFAULT 0,"
	"  last_check INTEGER NOT NULL DEFAULT 0,"
	"  last_ok INTEGER NOT NULL DEFAULT 0,"
	"  reason TEXT NOT NULL DEFAULT '');"
	"CREATE TABLE audit ("
	"  seq INTEGER PRIMARY KEY,"
	"  time INTEGER NOT NULL,"
	"  actor TEXT NOT NULL,"
	"  action TEXT NOT NULL,"
	"  outcome TEXT NOT NULL,"
	"  tenant TEXT NOT NULL,"
	"  user TEXT NOT NULL,"
	"  device TEXT NOT NULL,"
	"  session TEXT NOT NULL,"
	"  reason TEXT NOT NULL,"
	"  detail TEXT NOT NULL,"
	"  prev_hash TEXT NOT NULL,"
	"  hash TEXT NOT NULL);"
	"CREATE INDEX audit_user ON audit(user);"
	"CREATE INDEX audit_device ON audit(device);"
	/* Append-only: the store never updates or deletes audit rows, and the
	 * triggers make an accidental attempt fail loudly. Someone with the
	 * file can still edit it; the hash chain is what shows that. */
	"CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"
	"  BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;"
	"CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"
	"  BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;",
	/* 2: run-time settings (tenant modes), sealed SSO credentials */
	"CREATE TABLE settings ("
	"  key TEXT PRIMARY KEY,"
	"  value TEXT NOT NULL);"
	"ALTER TABLE sessions ADD COLUMN cred TEXT NOT NULL DEFAULT '';",
	/* 3: the session's reconnect window, counted from each drop */
	"ALTER TABLE sessions ADD COLUMN reconnect_window INTEGER NOT NULL "
	"DEFAULT 0;",
	/* 4: one audit chain per tenant. Rows written before this migration
	 * keep their single global chain (format 1); from here on each row
	 * links to the row before it of the same tenant (format 2), so one
	 * tenant's chain is verified without reading another's. */
	"ALTER TABLE audit ADD COLUMN format INTEGER NOT NULL DEFAULT 1;"
	"CREATE INDEX audit_tenant ON audit(tenant, seq);",
	/* 5: cuts for gateways, kept until every token they could affect has
	 * expired (broker restarts must not forget them) */
	"CREATE TABLE cuts ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  kind INTEGER NOT NULL,"
	"  key TEXT NOT NULL,"
	"  keep_jti TEXT NOT NULL DEFAULT '',"
	"  reason TEXT NOT NULL DEFAULT '',"
	"  time INTEGER NOT NULL,"
	"  expires INTEGER NOT NULL);"
	"CREATE INDEX cuts_expires ON cuts(expires);",
	/* 6: gateway tokens used, one use per deployment (not per gateway) */
	"CREATE TABLE token_uses ("
	"  jti TEXT PRIMARY KEY,"
	"  session_id TEXT NOT NULL,"
	"  gateway TEXT NOT NULL,"
	"  used_at INTEGER NOT NULL,"
	"  expires INTEGER NOT NULL);"
	"CREATE INDEX token_uses_expires ON token_uses(expires);",
	/* 7: the monitor's signed grant of the session's login (privsep.md) */
	"ALTER TABLE sessions ADD COLUMN grant_rec TEXT NOT NULL DEFAULT '';",
	/* 8: the session's max_session deadline, fixed when it starts */
	"ALTER TABLE sessions ADD COLUMN deadline INTEGER NOT NULL DEFAULT 0;",
	/* 9: retention (store_prune): ended sessions by end time, tickets by
	 * expiry */
	"CREATE INDEX sessions_ended ON sessions(ended) WHERE state = 3;"
	"CREATE INDEX tickets_expires ON tickets(expires);",
};

#define N_MIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

static int
user_version(sqlite3 *db, int *v)
{
	sqlite3_stmt *s = NULL;
	int rc;

	*v = 0;
	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL) !=
	    SQLITE_OK)
		return VDI_ERR_IO;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? 0 : VDI_ERR_IO;
}

static int
migrate(sqlite3 *db, char *err, size_t errlen)
{
	char *msg = NULL, sql[64];
	int v, r;

	if ((r = user_version(db, &v)) != 0) {
		vdi_seterr(err, errlen, "cannot read schema version: %s",
		    sqlite3_errmsg(db));
		return r;
	}
	if (v > N_MIGRATIONS) {
		vdi_seterr(err, errlen,
		    "schema version %d is newer than this vdi-brokerd knows "
		    "(%d): a newer broker has migrated it, and migrations "
		    "are one way; run that newer vdi-brokerd, or restore "
		    "the backup made before the upgrade",
		    v, N_MIGRATIONS);
		return VDI_ERR_UNSUPPORTED;
	}
	for (; v < N_MIGRATIONS; v++) {
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v + 1);
		if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, &msg) !=
			SQLITE_OK ||
		    sqlite3_exec(db, migrations[v], NULL, NULL, &msg) !=
			SQLITE_OK ||
		    sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK ||
		    sqlite3_exec(db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK) {
			vdi_seterr(err, errlen,
			    "schema migration %d failed: %s", v + 1,
			    msg != NULL ? msg : sqlite3_errmsg(db));
			sqlite3_free(msg);
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			return VDI_ERR_IO;
		}
	}
	return 0;
}

/*
 * The store holds device thumbprints, user names, sealed credentials and
 * the audit log: readable by the broker's user only. The file is created
 * 0600 before SQLite opens it (SQLite would make it 0644 less the umask),
 * and a file of an older broker is narrowed to 0600; the -wal and -shm
 * files SQLite creates take the database's mode, older ones are narrowed
 * too.
 */
static int
private_file(const char *path, int create, char *err, size_t errlen)
{
	struct stat sb;
	int fd;

	fd = open(path,
	    O_RDWR | O_CLOEXEC | O_NOFOLLOW | (create ? O_CREAT : 0), 0600);
	if (fd < 0) {
		if (!create && errno == ENOENT)
			return 0;
		vdi_seterr(err, errlen,
		    "cannot open store %s: %s (does its directory exist and "
		    "belong to the broker's user?)",
		    path, strerror(errno));
		return VDI_ERR_IO;
	}
	if (fstat(fd, &sb) != 0 ||
	    ((sb.st_mode & 077) != 0 && fchmod(fd, 0600) != 0)) {
		vdi_seterr(err, errlen, "cannot make store file %s private: %s",
		    path, strerror(errno));
		close(fd);
		return VDI_ERR_IO;
	}
	close(fd);
	return 0;
}

int
store_open_sqlite(
    const char *path, struct store **out, char *err, size_t errlen)
{
	char side[sizeof(((struct store *)0)->path) + 8];

	struct store *st;
	char *msg = NULL;
	int r;

	*out = NULL;
	if (path == NULL || *path == '\0' || strlen(path) >= sizeof(st->path)) {
		vdi_seterr(err, errlen, "store path is empty or too long");
		return VDI_ERR_INVALID_ARG;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return VDI_ERR_ALLOC;
	snprintf(st->path, sizeof(st->path), "%s", path);
	if ((r = private_file(path, 1, err, errlen)) != 0)
		goto fail;
	snprintf(side, sizeof(side), "%s-wal", path);
	if ((r = private_file(side, 0, err, errlen)) != 0)
		goto fail;
	snprintf(side, sizeof(side), "%s-shm", path);
	if ((r = private_file(side, 0, err, errlen)) != 0)
		goto fail;
	if (sqlite3_open_v2(path, &st->db,
		SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
		    SQLITE_OPEN_NOMUTEX,
		NULL) != SQLITE_OK) {
		vdi_seterr(err, errlen,
		    "cannot open store %s: %s (does its directory exist and "
		    "belong to the broker's user?)",
		    path, st->db ? sqlite3_errmsg(st->db) : "out of memory");
		r = VDI_ERR_IO;
		goto fail;
	}
	sqlite3_busy_timeout(st->db, 5000);
	sqlite3_extended_result_codes(st->db, 1);
	/* WAL with synchronous=FULL: a committed transaction is on disk before
	 * the call returns, so kill -9 loses nothing acknowledged. */
	if (sqlite3_exec(st->db,
		"PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
		"PRAGMA foreign_keys=ON; PRAGMA secure_delete=ON;",
		NULL, NULL, &msg) != SQLITE_OK) {
		vdi_seterr(err, errlen, "cannot set up store %s: %s", path,
		    msg ? msg : sqlite3_errmsg(st->db));
		sqlite3_free(msg);
		r = VDI_ERR_IO;
		goto fail;
	}
	if ((r = migrate(st->db, err, errlen)) != 0)
		goto fail;
	*out = st;
	return 0;
fail:
	store_close(st);
	return r;
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	if (st->db != NULL)
		sqlite3_close_v2(st->db);
	free(st);
}

int
store_schema_version(struct store *st)
{
	int v = 0;

	if (user_version(st->db, &v) != 0)
		return -1;
	return v;
}

int
store_schema_latest(void)
{
	return N_MIGRATIONS;
}

int
store_txn(struct store *st, int (*fn)(struct store *, void *), void *arg)
{
	int r;

	if (st->txn_depth > 0) {
		/* Nested: a savepoint, so that a failing inner call undoes
		 * its own changes and the outer one decides about the rest. */
		char sql[64];

		snprintf(sql, sizeof(sql), "SAVEPOINT txn%d", st->txn_depth);
		if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK)
			return VDI_ERR_IO;
		st->txn_depth++;
		r = fn(st, arg);
		st->txn_depth--;
		if (r != 0) {
			snprintf(sql, sizeof(sql), "ROLLBACK TO txn%d",
			    st->txn_depth);
			sqlite3_exec(st->db, sql, NULL, NULL, NULL);
		}
		snprintf(sql, sizeof(sql), "RELEASE txn%d", st->txn_depth);
		if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK &&
		    r == 0)
			r = VDI_ERR_IO;
		return r;
	}
	if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
	    SQLITE_OK)
		return VDI_ERR_IO;
	st->txn_depth = 1;
	r = fn(st, arg);
	st->txn_depth = 0;
	if (r == 0) {
		if (sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) !=
		    SQLITE_OK) {
			sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
			return VDI_ERR_IO;
		}
		return 0;
	}
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return r;
}

/* --- statement helpers ------------------------------------------------- */

/*
 * Binds arguments described by a format: 's' text, 'i' int64, 'n' int.
 * Text longer than STORE_DETAIL_MAX is refused.
 */
static int
prepare(
    struct store *st, sqlite3_stmt **s, const char *sql, const char *fmt, ...)
{
	va_list ap;
	const char *str;
	int i, r = 0;

	*s = NULL;
	if (sqlite3_prepare_v2(st->db, sql, -1, s, NULL) != SQLITE_OK)
		return VDI_ERR_IO;
	va_start(ap, fmt);
	for (i = 0; fmt[i] != '\0' && r == 0; i++) {
		switch (fmt[i]) {
		case 's':
			str = va_arg(ap, const char *);
			if (str == NULL)
				str = "";
			if (strlen(str) >= STORE_DETAIL_MAX)
				r = VDI_ERR_TOO_LARGE;
			else if (sqlite3_bind_text(*s, i + 1, str, -1,
				     SQLITE_TRANSIENT) != SQLITE_OK)
				r = VDI_ERR_IO;
			break;
		case 'i':
			if (sqlite3_bind_int64(
				*s, i + 1, va_arg(ap, int64_t)) != SQLITE_OK)
				r = VDI_ERR_IO;
			break;
		case 'n':
			if (sqlite3_bind_int(*s, i + 1, va_arg(ap, int)) !=
			    SQLITE_OK)
				r = VDI_ERR_IO;
			break;
		default:
			r = VDI_ERR_INTERNAL;
		}
	}
	va_end(ap);
	if (r != 0) {
		sqlite3_finalize(*s);
		*s = NULL;
	}
	return r;
}

/* Steps a statement that returns no rows and finalizes it. */
static int
exec_done(sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);

	sqlite3_finalize(s);
	if (rc == SQLITE_DONE)
		return 0;
	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		return VDI_ERR_EXISTS;
	return VDI_ERR_IO;
}

/*
 * Steps s to its end, calling each(s, arg) for every row; stops at the
 * first non-zero value each returns and passes it on. Finalizes s. A SQLite
 * error that is not the callback's is VDI_ERR_IO.
 */
static int
each_row(sqlite3_stmt *s, int (*each)(sqlite3_stmt *, void *), void *arg)
{
	int r = 0, rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if ((r = each(s, arg)) != 0)
			break;
	sqlite3_finalize(s);
	if (r == 0 && rc != SQLITE_DONE)
		return VDI_ERR_IO;
	return r;
}

/* The caller's callback and argument, for the typed each_* adapters. */
struct row_cb {
	union {
		int (*device)(const struct store_device *, void *);
		int (*session)(const struct store_session *, void *);
		int (*audit)(const struct store_audit *, void *);
		int (*setting)(const char *, const char *, void *);
		int (*cut)(const struct store_cut *, void *);
	} fn;
	void *arg;
};

static void
col_text(sqlite3_stmt *s, int col, char *out, size_t outlen)
{
	const unsigned char *t = sqlite3_column_text(s, col);

	snprintf(out, outlen, "%s", t != NULL ? (const char *)t : "");
}

/* Refuses strings that would not fit in a struct field on the way back. */
static int
fits(const char *s, size_t max)
{
	return s != NULL && strlen(s) < max;
}

/* --- devices ------------------------------------------------------------ */

#define DEVICE_COLS                                                            \
	"tenant, thumbprint, subject, first_seen, last_seen, revoked_at, "     \
	"revoked_by, revoke_reason"

static void
row_device(sqlite3_stmt *s, struct store_device *d)
{
	memset(d, 0, sizeof(*d));
	col_text(s, 0, d->tenant, sizeof(d->tenant));
	col_text(s, 1, d->thumbprint, sizeof(d->thumbprint));
	col_text(s, 2, d->subject, sizeof(d->subject));
	d->first_seen = sqlite3_column_int64(s, 3);
	d->last_seen = sqlite3_column_int64(s, 4);
	d->revoked_at = sqlite3_column_int64(s, 5);
	col_text(s, 6, d->revoked_by, sizeof(d->revoked_by));
	col_text(s, 7, d->revoke_reason, sizeof(d->revoke_reason));
}

static int
each_device(sqlite3_stmt *s, void *arg)
{
	struct row_cb *cb = arg;
	struct store_device d;

	row_device(s, &d);
	return cb->fn.device(&d, cb->arg);
}

int
store_device_get(
    struct store *st, const char *thumbprint, struct store_device *out)
{
	sqlite3_stmt *s;
	int r, rc;

	r = prepare(st, &s,
	    "SELECT " DEVICE_COLS " FROM devices WHERE thumbprint = ?", "s",
	    thumbprint);
	memset(out, 0, sizeof(*out)); /* after binding: thumbprint may alias */
	if (r != 0)
		return r;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		row_device(s, out);
	sqlite3_finalize(s);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? VDI_ERR_NOT_FOUND : VDI_ERR_IO;
}

int
store_device_seen(struct store *st, const char *tenant, const char *thumbprint,
    const char *subject, int64_t now, struct store_device *out)
{
	sqlite3_stmt *s;
	int r;

	memset(out, 0, sizeof(*out));
	if (!fits(tenant, STORE_NAME_MAX) ||
	    !fits(thumbprint, STORE_THUMB_MAX) ||
	    !fits(subject, STORE_TEXT_MAX))
		return VDI_ERR_TOO_LARGE;
	if ((r = prepare(st, &s,
		 "INSERT INTO devices (thumbprint, tenant, subject, "
		 "first_seen, last_seen) VALUES (?, ?, ?, ?, ?) "
		 "ON CONFLICT(thumbprint) DO UPDATE SET last_seen = "
		 "excluded.last_seen, subject = excluded.subject, "
		 "first_seen = CASE WHEN first_seen = 0 THEN "
		 "excluded.first_seen "
		 "ELSE first_seen END",
		 "sssii", thumbprint, tenant, subject, now, now)) != 0)
		return r;
	if ((r = exec_done(s)) != 0)
		return r;
	return store_device_get(st, thumbprint, out);
}

int
store_device_revoke(struct store *st, const char *tenant,
    const char *thumbprint, const char *by, const char *reason, int64_t now)
{
	sqlite3_stmt *s;
	int r;

	if (!fits(tenant, STORE_NAME_MAX) ||
	    !fits(thumbprint, STORE_THUMB_MAX) || !fits(by, STORE_NAME_MAX) ||
	    !fits(reason, STORE_TEXT_MAX))
		return VDI_ERR_TOO_LARGE;
	if ((r = prepare(st, &s,
		 "INSERT INTO devices (thumbprint, tenant, revoked_at, "
		 "revoked_by, revoke_reason) VALUES (?, ?, ?, ?, ?) "
		 "ON CONFLICT(thumbprint) DO UPDATE SET "
		 "revoked_by = CASE WHEN revoked_at = 0 THEN "
		 "excluded.revoked_by "
		 "ELSE revoked_by END, "
		 "revoke_reason = CASE WHEN revoked_at = 0 THEN "
		 "excluded.revoke_reason ELSE revoke_reason END, "
		 "revoked_at = CASE WHEN revoked_at = 0 THEN "
		 "excluded.revoked_at "
		 "ELSE revoked_at END",
		 "ssiss", thumbprint, tenant, now, by, reason)) != 0)
		return r;
	if ((r = exec_done(s)) != 0)
		return r;
	return store_ticket_revoke_device(st, thumbprint);
}

int
store_device_list(struct store *st, const char *tenant,
    int (*fn)(const struct store_device *, void *), void *arg)
{
	struct row_cb cb;
	sqlite3_stmt *s;
	int r;

	if ((r = prepare(st, &s,
		 "SELECT " DEVICE_COLS " FROM devices WHERE (? = '' OR "
		 "tenant = ?) ORDER BY last_seen DESC, thumbprint",
		 "ss", tenant, tenant)) != 0)
		return r;
	cb.fn.device = fn;
	cb.arg = arg;
	return each_row(s, each_device, &cb);
}

/* --- retention --------------------------------------------------------- */

int
store_prune(struct store *st, int64_t sessions_before, int64_t tickets_before,
    size_t batch, struct store_pruned *out)
{
	sqlite3_stmt *s;
	int r;

	memset(out, 0, sizeof(*out));
	if (sessions_before > 0) {
		/* The tickets of the sessions go with them. */
		if ((r = prepare(st, &s,
			 "DELETE FROM tickets WHERE session_id IN (SELECT id "
			 "FROM sessions WHERE state = 3 AND ended < ?1 "
			 "ORDER BY ended LIMIT ?2)",
			 "ii", sessions_before, (int64_t)batch)) != 0 ||
		    (r = exec_done(s)) != 0)
			return r;
		out->tickets += (uint64_t)sqlite3_changes(st->db);
		if ((r = prepare(st, &s,
			 "DELETE FROM sessions WHERE id IN (SELECT id FROM "
			 "sessions WHERE state = 3 AND ended < ?1 ORDER BY "
			 "ended LIMIT ?2)",
			 "ii", sessions_before, (int64_t)batch)) != 0 ||
		    (r = exec_done(s)) != 0)
			return r;
		out->sessions = (uint64_t)sqlite3_changes(st->db);
	}
	if (tickets_before > 0) {
		if ((r = prepare(st, &s,
			 "DELETE FROM tickets WHERE rowid IN (SELECT rowid "
			 "FROM tickets WHERE expires < ?1 ORDER BY expires "
			 "LIMIT ?2)",
			 "ii", tickets_before, (int64_t)batch)) != 0 ||
		    (r = exec_done(s)) != 0)
			return r;
		out->tickets += (uint64_t)sqlite3_changes(st->db);
		if ((r = prepare(st, &s,
			 "DELETE FROM token_uses WHERE rowid IN (SELECT rowid "
			 "FROM token_uses WHERE expires < ?1 ORDER BY expires "
			 "LIMIT ?2)",
			 "ii", tickets_before, (int64_t)batch)) != 0 ||
		    (r = exec_done(s)) != 0)
			return r;
		out->token_uses = (uint64_t)sqlite3_changes(st->db);
	}
	return 0;
}

/* --- sessions ----------------------------------------------------------- */

#define SESSION_COLS                                                           \
	"id, tenant, user, device, pool, desktop, gateway, state, "            \
	"shared_device, created, updated, ended, end_reason, "                 \
	"reconnect_window, "                                                   \
	"deadline"

static void
row_session(sqlite3_stmt *s, struct store_session *x)
{
	memset(x, 0, sizeof(*x));
	col_text(s, 0, x->id, sizeof(x->id));
	col_text(s, 1, x->tenant, sizeof(x->tenant));
	col_text(s, 2, x->user, sizeof(x->user));
	col_text(s, 3, x->device, sizeof(x->device));
	col_text(s, 4, x->pool, sizeof(x->pool));
	col_text(s, 5, x->desktop, sizeof(x->desktop));
	col_text(s, 6, x->gateway, sizeof(x->gateway));
	x->state = (enum store_session_state)sqlite3_column_int(s, 7);
	x->shared_device = sqlite3_column_int(s, 8);
	x->created = sqlite3_column_int64(s, 9);
	x->updated = sqlite3_column_int64(s, 10);
	x->ended = sqlite3_column_int64(s, 11);
	col_text(s, 12, x->end_reason, sizeof(x->end_reason));
	x->reconnect_window = sqlite3_column_int64(s, 13);
	x->deadline = sqlite3_column_int64(s, 14);
}

static int
each_session(sqlite3_stmt *s, void *arg)
{
	struct row_cb *cb = arg;
	struct store_session x;

	row_session(s, &x);
	return cb->fn.session(&x, cb->arg);
}

const char *
store_session_state_name(enum store_session_state st)
{
	switch (st) {
	case STORE_SESSION_PENDING:
		return "pending";
	case STORE_SESSION_ACTIVE:
		return "active";
	case STORE_SESSION_DISCONNECTED:
		return "disconnected";
	case STORE_SESSION_ENDED:
		return "ended";
	}
	return "unknown";
}

int
store_session_create(struct store *st, const struct store_session *x)
{
	sqlite3_stmt *s;
	int r;

	if (x->id[0] == '\0' || x->state > STORE_SESSION_ENDED)
		return VDI_ERR_INVALID_ARG;
	if ((r = prepare(st, &s,
		 "INSERT INTO sessions (" SESSION_COLS
		 ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		 "sssssssnniiisii", x->id, x->tenant, x->user, x->device,
		 x->pool, x->desktop, x->gateway, (int)x->state,
		 x->shared_device, x->created, x->updated, x->ended,
		 x->end_reason, x->reconnect_window, x->deadline)) != 0)
		return r;
	return exec_done(s);
}

static int
session_one(struct store *st, struct store_session *out, const char *sql,
    const char *a, const char *b)
{
	sqlite3_stmt *s;
	int r, rc;

	/* Bind first (SQLite copies the text): a and b may point into out. */
	if (b != NULL)
		r = prepare(st, &s, sql, "ss", a, b);
	else
		r = prepare(st, &s, sql, "s", a);
	memset(out, 0, sizeof(*out));
	if (r != 0)
		return r;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		row_session(s, out);
	sqlite3_finalize(s);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? VDI_ERR_NOT_FOUND : VDI_ERR_IO;
}

int
store_session_get(struct store *st, const char *id, struct store_session *out)
{
	return session_one(st, out,
	    "SELECT " SESSION_COLS " FROM sessions WHERE id = ?", id, NULL);
}

int
store_session_find_live(struct store *st, const char *tenant, const char *user,
    struct store_session *out)
{
	return session_one(st, out,
	    "SELECT " SESSION_COLS " FROM sessions WHERE tenant = ? AND "
	    "user = ? AND state < 3 ORDER BY created DESC LIMIT 1",
	    tenant, user);
}

int
store_session_set_state(struct store *st, const char *id,
    enum store_session_state state, const char *reason, int64_t now)
{
	sqlite3_stmt *s;
	int r;

	if (state > STORE_SESSION_ENDED ||
	    !fits(reason ? reason : "", STORE_TEXT_MAX))
		return VDI_ERR_INVALID_ARG;
	if ((r = prepare(st, &s,
		 "UPDATE sessions SET state = ?, updated = ?, "
		 "ended = CASE WHEN ? = 3 THEN ? ELSE ended END, "
		 "end_reason = CASE WHEN ? = 3 THEN ? ELSE end_reason END, "
		 "cred = CASE WHEN ? = 3 THEN '' ELSE cred END "
		 "WHERE id = ? AND state < 3",
		 "ninnnsns", (int)state, now, (int)state, now, (int)state,
		 reason, (int)state, id)) != 0)
		return r;
	if ((r = exec_done(s)) != 0)
		return r;
	if (sqlite3_changes(st->db) == 0) {
		struct store_session x;

		if ((r = store_session_get(st, id, &x)) != 0)
			return r;
		return VDI_ERR_INVALID_ARG; /* already ended */
	}
	if (state == STORE_SESSION_ENDED)
		return store_ticket_revoke_session(st, id);
	return 0;
}

int
store_session_set_device(struct store *st, const char *id, const char *device,
    int shared_device, int64_t now)
{
	sqlite3_stmt *s;
	int r;

	if (!fits(device, STORE_THUMB_MAX))
		return VDI_ERR_TOO_LARGE;
	if ((r = prepare(st, &s,
		 "UPDATE sessions SET device = ?, shared_device = ?, "
		 "updated = ? WHERE id = ? AND state < 3",
		 "snis", device, shared_device, now, id)) != 0)
		return r;
	if ((r = exec_done(s)) != 0)
		return r;
	return sqlite3_changes(st->db) == 1 ? 0 : VDI_ERR_NOT_FOUND;
}

int
store_session_renew(
    struct store *st, const char *id, int64_t reconnect_window, int64_t now)
{
	sqlite3_stmt *s;
	int r;

	if (reconnect_window < 0)
		return VDI_ERR_INVALID_ARG;
	if ((r = prepare(st, &s,
		 "UPDATE sessions SET reconnect_window = ?, updated = ? "
		 "WHERE id = ? AND state < 3",
		 "iis", reconnect_window, now, id)) != 0)
		return r;
	if ((r = exec_done(s)) != 0)
		return r;
	return sqlite3_changes(st->db) == 1 ? 0 : VDI_ERR_NOT_FOUND;
}

int
store_session_list_due(struct store *st, int64_t now, int64_t pending_ttl,
    int (*fn)(const struct store_session *, void *), void *arg)
{
	struct row_cb cb;
	sqlite3_stmt *s;
	int r;

	if (pending_ttl < 0)
		return VDI_ERR_INVALID_ARG;
	if ((r = prepare(st, &s,
		 "SELECT " SESSION_COLS " FROM sessions WHERE state < 3 AND "
		 "((deadline > 0 AND deadline <= ?) OR "
		 "(state = 0 AND updated + ? <= ?) OR "
		 "(state = 2 AND updated + max(reconnect_window, ?) <= ?)) "
		 "ORDER BY created, id",
		 "iiiii", now, pending_ttl, now, pending_ttl, now)) != 0)
		return r;
	cb.fn.session = fn;
	cb.arg = arg;
	return each_row(s, each_session, &cb);
}

int
store_session_count_on_desktop(
    struct store *st, const char *desktop, int *count)
{
	sqlite3_stmt *s;
	int r, rc;

	*count = 0;
	if ((r = prepare(st, &s,
		 "SELECT count(*) FROM sessions WHERE desktop = ? AND state < "
		 "3",
		 "s", desktop)) != 0)
		return r;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*count = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? 0 : VDI_ERR_IO;
}

int
store_session_list(struct store *st, int include_ended,
    int (*fn)(const struct store_session *, void *), void *arg)
{
	struct row_cb cb;
	sqlite3_stmt *s;
	int r;

	if ((r = prepare(st, &s,
		 "SELECT " SESSION_COLS " FROM sessions WHERE (? OR state < 3) "
		 "ORDER BY created, id",
		 "n", include_ended ? 1 : 0)) != 0)
		return r;
	cb.fn.session = fn;
	cb.arg = arg;
	return each_row(s, each_session, &cb);
}

/* --- assignments -------------------------------------------------------- */

int
store_assignment_get(struct store *st, const char *tenant, const char *user,
    const char *pool, char *desktop, size_t desktop_len)
{
	sqlite3_stmt *s;
	int r, rc;

	if (desktop_len > 0)
		desktop[0] = '\0';
	if ((r = prepare(st, &s,
		 "SELECT desktop FROM assignments WHERE tenant = ? AND "
		 "user = ? AND pool = ?",
		 "sss", tenant, user, pool)) != 0)
		return r;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		col_text(s, 0, desktop, desktop_len);
	sqlite3_finalize(s);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? VDI_ERR_NOT_FOUND : VDI_ERR_IO;
}

int
store_assignment_set(struct store *st, const char *tenant, const char *user,
    const char *pool, const char *desktop, int64_t now)
{
	sqlite3_stmt *s;
	int r;

	if (!fits(tenant, STORE_NAME_MAX) || !fits(user, STORE_NAME_MAX) ||
	    !fits(pool, STORE_NAME_MAX) || !fits(desktop, STORE_NAME_MAX))
		return VDI_ERR_TOO_LARGE;
	if ((r = prepare(st, &s,
		 "INSERT INTO assignments (tenant, user, pool, desktop, "
		 "created) VALUES (?, ?, ?, ?, ?) ON CONFLICT(tenant, user, "
		 "pool) DO UPDATE SET desktop = excluded.desktop",
		 "ssssi", tenant, user, pool, desktop, now)) != 0)
		return r;
	return exec_done(s);
}

int
store_assignment_count(struct store *st, const char *desktop, int *count)
{
	sqlite3_stmt *s;
	int r, rc;

	*count = 0;
	if ((r = prepare(st, &s,
		 "SELECT count(*) FROM assignments WHERE desktop = ?", "s",
		 desktop)) != 0)
		return r;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*count = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? 0 : VDI_ERR_IO;
}

/* --- tickets ------------------------------------------------------------ */

int
store_ticket_put(struct store *st, const char *hash_hex, const char *session_id,
    const char *device, int64_t expires, int64_t now)
{
	sqlite3_stmt *s;
	int r;

	if (!fits(hash_hex, 65) || !fits(session_id, STORE_ID_MAX) ||
	    !fits(device, STORE_THUMB_MAX))
		return VDI_ERR_TOO_LARGE;
	if ((r = prepare(st, &s,
		 "INSERT INTO tickets (hash, session_id, device, created, "
		 "expires) VALUES (?, ?, ?, ?, ?)",
		 "sssii", hash_hex, session_id, device, now, expires)) != 0)
		return r;
	return exec_done(s);
}

/* used_at of a ticket that can never be used: voided (idle end, logoff,
 * revoked device, ...) or replaced by a newer login into its session. */
#define TICKET_VOIDED   (-1)
#define TICKET_REPLACED (-2)

/* --- gateway tokens used ------------------------------------------------ */

struct token_use {
	const char *jti, *session_id, *gateway;
	int64_t now, expires;
	char *first;
	size_t firstlen;
};

static int
token_use_txn(struct store *st, void *arg)
{
	struct token_use *u = arg;
	sqlite3_stmt *s;
	int r, rc;

	/* Forget what can no longer be used (the table stays small). */
	if ((r = prepare(st, &s, "DELETE FROM token_uses WHERE expires < ?",
		 "i", u->now)) != 0 ||
	    (r = exec_done(s)) != 0)
		return r;
	if ((r = prepare(st, &s, "SELECT gateway FROM token_uses WHERE jti = ?",
		 "s", u->jti)) != 0)
		return r;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		col_text(s, 0, u->first, u->firstlen);
		sqlite3_finalize(s);
		return VDI_ERR_EXISTS;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return VDI_ERR_IO;
	if ((r = prepare(st, &s,
		 "INSERT INTO token_uses (jti, session_id, gateway, used_at, "
		 "expires) VALUES (?, ?, ?, ?, ?)",
		 "sssii", u->jti, u->session_id, u->gateway, u->now,
		 u->expires)) != 0)
		return r;
	return exec_done(s);
}

int
store_token_gateway(
    struct store *st, const char *jti, char *gateway, size_t gateway_len)
{
	sqlite3_stmt *s;
	int r, rc;

	if (gateway == NULL || gateway_len == 0)
		return VDI_ERR_INVALID_ARG;
	gateway[0] = '\0';
	if (!fits(jti, 65))
		return VDI_ERR_TOO_LARGE;
	if ((r = prepare(st, &s, "SELECT gateway FROM token_uses WHERE jti = ?",
		 "s", jti)) != 0)
		return r;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		col_text(s, 0, gateway, gateway_len);
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? 0
	    : rc == SQLITE_DONE ? VDI_ERR_NOT_FOUND
				: VDI_ERR_IO;
}

int
store_token_use(struct store *st, const char *jti, const char *session_id,
    const char *gateway, int64_t now, int64_t expires, char *first_gateway,
    size_t first_len)
{
	struct token_use u = { jti, session_id, gateway, now, expires,
		first_gateway, first_len };

	if (first_gateway != NULL && first_len > 0)
		first_gateway[0] = '\0';
	if (!fits(jti, 65) || *jti == '\0' || !fits(session_id, STORE_ID_MAX) ||
	    !fits(gateway, STORE_NAME_MAX) || first_gateway == NULL ||
	    first_len == 0)
		return jti != NULL && *jti == '\0' ? VDI_ERR_INVALID_ARG
						   : VDI_ERR_TOO_LARGE;
	return store_txn(st, token_use_txn, &u);
}

struct ticket_use {
	const char *hash, *device;
	int64_t now;
	char *session_id;
};

static int
ticket_use_txn(struct store *st, void *arg)
{
	struct ticket_use *u = arg;
	char dev[STORE_THUMB_MAX], sid[STORE_ID_MAX];
	int64_t expires, used;
	sqlite3_stmt *s;
	int r, rc;

	if ((r = prepare(st, &s,
		 "SELECT session_id, device, expires, used_at FROM tickets "
		 "WHERE hash = ?",
		 "s", u->hash)) != 0)
		return r;
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		sqlite3_finalize(s);
		return rc == SQLITE_DONE ? VDI_ERR_NOT_FOUND : VDI_ERR_IO;
	}
	col_text(s, 0, sid, sizeof(sid));
	col_text(s, 1, dev, sizeof(dev));
	expires = sqlite3_column_int64(s, 2);
	used = sqlite3_column_int64(s, 3);
	sqlite3_finalize(s);
	/* The session is named on refusals too, for the audit log. */
	memcpy(u->session_id, sid, STORE_ID_MAX);
	if (used == TICKET_VOIDED)
		return VDI_ERR_TOKEN_EXPIRED; /* idle end, logoff, ... */
	if (used == TICKET_REPLACED)
		return VDI_ERR_REPLACED; /* a newer login took the session */
	if (used != 0)
		return VDI_ERR_EXISTS;
	if (strcmp(dev, u->device) != 0)
		return VDI_ERR_DENIED;
	if (u->now >= expires)
		return VDI_ERR_TOKEN_EXPIRED;
	if ((r = prepare(st, &s,
		 "UPDATE tickets SET used_at = ? WHERE hash = ? AND used_at = "
		 "0",
		 "is", u->now, u->hash)) != 0)
		return r;
	if ((r = exec_done(s)) != 0)
		return r;
	if (sqlite3_changes(st->db) != 1)
		return VDI_ERR_EXISTS;
	return 0;
}

int
store_ticket_use(struct store *st, const char *hash_hex, const char *device,
    int64_t now, char session_id[STORE_ID_MAX])
{
	struct ticket_use u = { hash_hex, device, now, session_id };

	session_id[0] = '\0';
	return store_txn(st, ticket_use_txn, &u);
}

int
store_ticket_set_expiry(
    struct store *st, const char *session_id, int64_t expires)
{
	sqlite3_stmt *s;
	int r;

	if ((r = prepare(st, &s,
		 "UPDATE tickets SET expires = ? WHERE session_id = ? AND "
		 "used_at = 0",
		 "is", expires, session_id)) != 0)
		return r;
	return exec_done(s);
}

int
store_ticket_revoke_session(struct store *st, const char *session_id)
{
	sqlite3_stmt *s;
	int r;

	/* A revoked ticket is one that can never be used: mark it used. */
	if ((r = prepare(st, &s,
		 "UPDATE tickets SET used_at = -1 WHERE session_id = ? AND "
		 "used_at = 0",
		 "s", session_id)) != 0)
		return r;
	return exec_done(s);
}

int
store_ticket_replace_session(struct store *st, const char *session_id)
{
	sqlite3_stmt *s;
	int r;

	if ((r = prepare(st, &s,
		 "UPDATE tickets SET used_at = -2 WHERE session_id = ? AND "
		 "used_at = 0",
		 "s", session_id)) != 0)
		return r;
	return exec_done(s);
}

int
store_ticket_revoke_device(struct store *st, const char *device)
{
	sqlite3_stmt *s;
	int r;

	if ((r = prepare(st, &s,
		 "UPDATE tickets SET used_at = -1 WHERE device = ? AND "
		 "used_at = 0",
		 "s", device)) != 0)
		return r;
	return exec_done(s);
}

/* --- desktops ----------------------------------------------------------- */

int
store_desktop_set_health(struct store *st, const char *desktop, int healthy,
    const char *reason, int64_t now)
{
	sqlite3_stmt *s;
	int r;

	if (!fits(desktop, STORE_NAME_MAX) ||
	    !fits(reason ? reason : "", STORE_TEXT_MAX))
		return VDI_ERR_TOO_LARGE;
	if ((r = prepare(st, &s,
		 "INSERT INTO desktops (desktop, healthy, last_check, last_ok, "
		 "reason) VALUES (?, ?, ?, CASE WHEN ? THEN ? ELSE 0 END, ?) "
		 "ON CONFLICT(desktop) DO UPDATE SET healthy = "
		 "excluded.healthy,"
		 " last_check = excluded.last_check, reason = excluded.reason, "
		 "last_ok = CASE WHEN excluded.healthy THEN "
		 "excluded.last_check "
		 "ELSE last_ok END",
		 "sninis", desktop, healthy ? 1 : 0, now, healthy ? 1 : 0, now,
		 reason)) != 0)
		return r;
	return exec_done(s);
}

int
store_desktop_set_drained(struct store *st, const char *desktop, int drained)
{
	sqlite3_stmt *s;
	int r;

	if (!fits(desktop, STORE_NAME_MAX))
		return VDI_ERR_TOO_LARGE;
	if ((r = prepare(st, &s,
		 "INSERT INTO desktops (desktop, drained) VALUES (?, ?) "
		 "ON CONFLICT(desktop) DO UPDATE SET drained = "
		 "excluded.drained",
		 "sn", desktop, drained ? 1 : 0)) != 0)
		return r;
	return exec_done(s);
}

int
store_desktop_get(
    struct store *st, const char *desktop, struct store_desktop *out)
{
	sqlite3_stmt *s;
	int r, rc;

	r = prepare(st, &s,
	    "SELECT healthy, drained, last_check, last_ok, reason FROM "
	    "desktops WHERE desktop = ?",
	    "s", desktop);
	if (desktop != out->desktop)
		snprintf(out->desktop, sizeof(out->desktop), "%s", desktop);
	memset((char *)out + sizeof(out->desktop), 0,
	    sizeof(*out) - sizeof(out->desktop));
	if (r != 0)
		return r;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		out->healthy = sqlite3_column_int(s, 0);
		out->drained = sqlite3_column_int(s, 1);
		out->last_check = sqlite3_column_int64(s, 2);
		out->last_ok = sqlite3_column_int64(s, 3);
		col_text(s, 4, out->reason, sizeof(out->reason));
	}
	sqlite3_finalize(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : VDI_ERR_IO;
}

/* --- audit -------------------------------------------------------------- */

/* store_audit_hash() is in audithash.c (vdictl checks exports with it). */

#define AUDIT_COLS                                                             \
	"seq, time, actor, action, outcome, tenant, user, device, session, "   \
	"reason, detail, prev_hash, hash, format"

static void
row_audit(sqlite3_stmt *s, struct store_audit *a)
{
	memset(a, 0, sizeof(*a));
	a->seq = sqlite3_column_int64(s, 0);
	a->time = sqlite3_column_int64(s, 1);
	col_text(s, 2, a->actor, sizeof(a->actor));
	col_text(s, 3, a->action, sizeof(a->action));
	col_text(s, 4, a->outcome, sizeof(a->outcome));
	col_text(s, 5, a->tenant, sizeof(a->tenant));
	col_text(s, 6, a->user, sizeof(a->user));
	col_text(s, 7, a->device, sizeof(a->device));
	col_text(s, 8, a->session, sizeof(a->session));
	col_text(s, 9, a->reason, sizeof(a->reason));
	col_text(s, 10, a->detail, sizeof(a->detail));
	col_text(s, 11, a->prev_hash, sizeof(a->prev_hash));
	col_text(s, 12, a->hash, sizeof(a->hash));
	a->format = sqlite3_column_int(s, 13);
}

static int
each_audit(sqlite3_stmt *s, void *arg)
{
	struct row_cb *cb = arg;
	struct store_audit a;

	row_audit(s, &a);
	return cb->fn.audit(&a, cb->arg);
}

static int
audit_append_txn(struct store *st, void *arg)
{
	struct store_audit *ev = arg;
	sqlite3_stmt *s;
	int r, rc;

	/* seq counts every row; prev_hash links to the tenant's last row
	 * (rows without a tenant form the chain of tenant ""). */
	if ((r = prepare(st, &s, "SELECT max(seq) FROM audit", "")) != 0)
		return r;
	rc = sqlite3_step(s);
	ev->seq = (rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0) + 1;
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW)
		return VDI_ERR_IO;
	if ((r = prepare(st, &s,
		 "SELECT hash FROM audit WHERE tenant = ? AND format = 2 "
		 "ORDER BY seq DESC LIMIT 1",
		 "s", ev->tenant)) != 0)
		return r;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		col_text(s, 0, ev->prev_hash, sizeof(ev->prev_hash));
	} else {
		memset(ev->prev_hash, '0', 64);
		ev->prev_hash[64] = '\0';
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return VDI_ERR_IO;
	ev->format = 2;
	store_audit_hash(ev, ev->hash);
	if ((r = prepare(st, &s,
		 "INSERT INTO audit (" AUDIT_COLS
		 ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		 "iisssssssssssn", ev->seq, ev->time, ev->actor, ev->action,
		 ev->outcome, ev->tenant, ev->user, ev->device, ev->session,
		 ev->reason, ev->detail, ev->prev_hash, ev->hash,
		 ev->format)) != 0)
		return r;
	return exec_done(s);
}

int
store_audit_append(struct store *st, struct store_audit *ev)
{
	if (ev->action[0] == '\0' || ev->outcome[0] == '\0')
		return VDI_ERR_INVALID_ARG;
	/* Fields must be NUL-terminated inside their buffers. */
	if (memchr(ev->actor, 0, sizeof(ev->actor)) == NULL ||
	    memchr(ev->tenant, 0, sizeof(ev->tenant)) == NULL ||
	    memchr(ev->reason, 0, sizeof(ev->reason)) == NULL ||
	    memchr(ev->detail, 0, sizeof(ev->detail)) == NULL)
		return VDI_ERR_TOO_LARGE;
	return store_txn(st, audit_append_txn, ev);
}

/*
 * A tenant set as one string, "\nt1\nt2\n", for instr() in SQL; a name with
 * a newline is refused (policy tenant names are letters, digits, '-', '_').
 * Returns a new string or NULL (out of memory: *r = VDI_ERR_ALLOC, bad
 * name: VDI_ERR_INVALID_ARG).
 */
static char *
tenant_set(const char *const *tenants, size_t n, int *r)
{
	size_t i, len = 2;
	char *set, *p;

	for (i = 0; i < n; i++) {
		if (tenants[i] == NULL || strchr(tenants[i], '\n') != NULL) {
			*r = VDI_ERR_INVALID_ARG;
			return NULL;
		}
		len += strlen(tenants[i]) + 1;
	}
	if ((set = malloc(len)) == NULL) {
		*r = VDI_ERR_ALLOC;
		return NULL;
	}
	p = set;
	*p++ = '\n';
	for (i = 0; i < n; i++) {
		memcpy(p, tenants[i], strlen(tenants[i]));
		p += strlen(tenants[i]);
		*p++ = '\n';
	}
	*p = '\0';
	return set;
}

static int
in_scope(const char *const *tenants, size_t n, const char *tenant)
{
	size_t i;

	if (tenants == NULL)
		return 1;
	for (i = 0; i < n; i++)
		if (strcmp(tenants[i], tenant) == 0)
			return 1;
	return 0;
}

int
store_audit_query(struct store *st, const struct store_audit_filter *f,
    int (*fn)(const struct store_audit *, void *), void *arg)
{
	struct row_cb cb;
	sqlite3_stmt *s;
	char *set = NULL;
	int r = 0;

	if (f->tenants != NULL &&
	    (set = tenant_set(f->tenants, f->ntenants, &r)) == NULL)
		return r;
	if ((r = prepare(st, &s,
		 "SELECT " AUDIT_COLS " FROM audit WHERE (?1 = '' OR "
		 "user = ?2) AND (?3 = '' OR device = ?4) AND time >= ?5 AND "
		 "(?7 IS NULL OR instr(?7, char(10) || tenant || char(10)) > "
		 "0) ORDER BY seq LIMIT ?6",
		 "ssssii", f->user, f->user, f->device, f->device, f->since,
		 f->limit > 0 ? (int64_t)f->limit : (int64_t)-1)) != 0) {
		free(set);
		return r;
	}
	if (set != NULL &&
	    sqlite3_bind_text(s, 7, set, -1, SQLITE_TRANSIENT) != SQLITE_OK) {
		sqlite3_finalize(s);
		free(set);
		return VDI_ERR_IO;
	}
	free(set);
	cb.fn.audit = fn;
	cb.arg = arg;
	return each_row(s, each_audit, &cb);
}

int
store_device_resolve(struct store *st, const char *prefix,
    const char *const *tenants, size_t ntenants, char out[STORE_THUMB_MAX],
    int *matches)
{
	sqlite3_stmt *s;
	char *set = NULL, hi[STORE_THUMB_MAX + 1];
	size_t len = prefix != NULL ? strlen(prefix) : 0;
	int r = 0, rc = SQLITE_DONE;

	out[0] = '\0';
	*matches = 0;
	if (len == 0 || len > 64 || strspn(prefix, "0123456789abcdef") != len)
		return VDI_ERR_INVALID_ARG;
	if (tenants != NULL &&
	    (set = tenant_set(tenants, ntenants, &r)) == NULL)
		return r;
	/* Thumbprints are lower-case hex: prefix <= t < prefix "g". */
	snprintf(hi, sizeof(hi), "%sg", prefix);
	if ((r = prepare(st, &s,
		 "SELECT DISTINCT t FROM ("
		 " SELECT thumbprint AS t, tenant FROM devices"
		 "  WHERE thumbprint >= ?1 AND thumbprint < ?2"
		 " UNION ALL SELECT device, tenant FROM audit"
		 "  WHERE device >= ?1 AND device < ?2)"
		 " WHERE (?3 IS NULL OR instr(?3, char(10) || tenant ||"
		 " char(10)) > 0) ORDER BY t LIMIT 2",
		 "ss", prefix, hi)) != 0) {
		free(set);
		return r;
	}
	if (set != NULL &&
	    sqlite3_bind_text(s, 3, set, -1, SQLITE_TRANSIENT) != SQLITE_OK)
		r = VDI_ERR_IO;
	free(set);
	while (r == 0 && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		if ((*matches)++ == 0)
			col_text(s, 0, out, STORE_THUMB_MAX);
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = VDI_ERR_IO;
	sqlite3_finalize(s);
	if (r != 0)
		return r;
	if (*matches == 0)
		return VDI_ERR_NOT_FOUND;
	if (*matches > 1) {
		out[0] = '\0';
		return VDI_ERR_EXISTS;
	}
	return 0;
}

/* One tenant's chain while verifying: its last hash and row count. */
struct chain {
	char tenant[STORE_NAME_MAX];
	char last[65];
	int64_t rows;
};

static struct chain *
chain_of(struct chain **chains, size_t *n, const char *tenant)
{
	struct chain *c;
	size_t i;

	for (i = 0; i < *n; i++)
		if (strcmp((*chains)[i].tenant, tenant) == 0)
			return &(*chains)[i];
	if ((c = realloc(*chains, (*n + 1) * sizeof(*c))) == NULL)
		return NULL;
	*chains = c;
	c = &c[(*n)++];
	memset(c, 0, sizeof(*c));
	snprintf(c->tenant, sizeof(c->tenant), "%s", tenant);
	memset(c->last, '0', 64);
	return c;
}

int
store_audit_verify_chains(struct store *st, const char *const *tenants,
    size_t ntenants,
    int (*fn)(const char *tenant, int64_t rows, const char *head, void *),
    void *arg, int64_t *rows, int64_t *bad_seq, char *reason, size_t reason_len)
{
	struct store_audit a;
	struct chain *chains = NULL, *c;
	char prev[65], h[65];
	int64_t expect_seq = 1;
	size_t nchains = 0, i;
	int seen_v2 = 0;
	sqlite3_stmt *s;
	int r, rc;

	*rows = 0;
	*bad_seq = 0;
	vdi_seterr(reason, reason_len, "ok");
	memset(prev, '0', 64);
	prev[64] = '\0';
	if ((r = prepare(st, &s,
		 "SELECT " AUDIT_COLS " FROM audit ORDER BY seq", "")) != 0)
		return r;
	r = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		row_audit(s, &a);
		/* Only a caller who sees every row can tell a gap in seq from
		 * another tenant's row. */
		if (tenants == NULL && a.seq != expect_seq) {
			vdi_seterr(reason, reason_len,
			    "row %lld missing (next row is %lld)",
			    (long long)expect_seq, (long long)a.seq);
			*bad_seq = expect_seq;
			r = VDI_ERR_BAD_FORMAT;
			break;
		}
		expect_seq = a.seq + 1;
		if (!in_scope(tenants, ntenants, a.tenant))
			continue;
		if (a.format == 1 && tenants == NULL && seen_v2) {
			vdi_seterr(reason, reason_len,
			    "row %lld is in the old single-chain format after "
			    "rows of per-tenant chains",
			    (long long)a.seq);
			*bad_seq = a.seq;
			r = VDI_ERR_BAD_FORMAT;
			break;
		}
		if (a.format == 1) {
			/* The old global chain links across tenants: only
			 * a caller who sees every row can follow it. */
			if (tenants == NULL && strcmp(a.prev_hash, prev) != 0) {
				vdi_seterr(reason, reason_len,
				    "row %lld does not link to the row before "
				    "it",
				    (long long)a.seq);
				*bad_seq = a.seq;
				r = VDI_ERR_BAD_FORMAT;
				break;
			}
			c = NULL;
		} else if (a.format == 2) {
			seen_v2 = 1;
			if ((c = chain_of(&chains, &nchains, a.tenant)) ==
			    NULL) {
				r = VDI_ERR_ALLOC;
				break;
			}
			if (strcmp(a.prev_hash, c->last) != 0) {
				vdi_seterr(reason, reason_len,
				    "row %lld does not link to the row before "
				    "it in the chain of tenant \"%s\"",
				    (long long)a.seq, a.tenant);
				*bad_seq = a.seq;
				r = VDI_ERR_BAD_FORMAT;
				break;
			}
		} else {
			vdi_seterr(reason, reason_len,
			    "row %lld has an unknown format %d",
			    (long long)a.seq, a.format);
			*bad_seq = a.seq;
			r = VDI_ERR_BAD_FORMAT;
			break;
		}
		store_audit_hash(&a, h);
		if (strcmp(h, a.hash) != 0) {
			vdi_seterr(reason, reason_len,
			    "row %lld was changed after it was written "
			    "(hash mismatch)",
			    (long long)a.seq);
			*bad_seq = a.seq;
			r = VDI_ERR_BAD_FORMAT;
			break;
		}
		if (c != NULL) {
			memcpy(c->last, a.hash, sizeof(c->last));
			c->rows++;
		}
		memcpy(prev, a.hash, sizeof(prev));
		(*rows)++;
	}
	sqlite3_finalize(s);
	if (r == 0 && rc != SQLITE_DONE)
		r = VDI_ERR_IO;
	for (i = 0; r == 0 && fn != NULL && i < nchains; i++)
		r = fn(chains[i].tenant, chains[i].rows, chains[i].last, arg);
	free(chains);
	return r;
}

int
store_audit_verify(struct store *st, int64_t *rows, int64_t *bad_seq,
    char *reason, size_t reason_len)
{
	return store_audit_verify_chains(
	    st, NULL, 0, NULL, NULL, rows, bad_seq, reason, reason_len);
}

/* --- settings and sealed credentials ----------------------------------- */

int
store_setting_get(struct store *st, const char *key, char *out, size_t outlen)
{
	sqlite3_stmt *s;
	int r, rc;

	if (outlen > 0)
		out[0] = '\0';
	if ((r = prepare(st, &s, "SELECT value FROM settings WHERE key = ?",
		 "s", key)) != 0)
		return r;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		col_text(s, 0, out, outlen);
	sqlite3_finalize(s);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? VDI_ERR_NOT_FOUND : VDI_ERR_IO;
}

int
store_setting_set(struct store *st, const char *key, const char *value)
{
	sqlite3_stmt *s;
	int r;

	if (value == NULL) {
		if ((r = prepare(st, &s, "DELETE FROM settings WHERE key = ?",
			 "s", key)) != 0)
			return r;
		return exec_done(s);
	}
	if ((r = prepare(st, &s,
		 "INSERT INTO settings (key, value) VALUES (?, ?) "
		 "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
		 "ss", key, value)) != 0)
		return r;
	return exec_done(s);
}

static int
each_setting(sqlite3_stmt *s, void *arg)
{
	struct row_cb *cb = arg;

	return cb->fn.setting((const char *)sqlite3_column_text(s, 0),
	    (const char *)sqlite3_column_text(s, 1), cb->arg);
}

int
store_setting_list(struct store *st, const char *prefix,
    int (*fn)(const char *key, const char *value, void *), void *arg)
{
	struct row_cb cb;
	sqlite3_stmt *s;
	int r;

	if ((r = prepare(st, &s,
		 "SELECT key, value FROM settings WHERE substr(key, 1, "
		 "length(?)) = ? ORDER BY key",
		 "ss", prefix, prefix)) != 0)
		return r;
	cb.fn.setting = fn;
	cb.arg = arg;
	return each_row(s, each_setting, &cb);
}

/* A live session's text column: set (VDI_ERR_NOT_FOUND when the session
 * is gone or ended) and get (VDI_ERR_NOT_FOUND also when empty). sql names
 * the column; it is one of the fixed strings below. */
static int
session_text_set(
    struct store *st, const char *sql, const char *id, const char *v)
{
	sqlite3_stmt *s;
	int r;

	if ((r = prepare(st, &s, sql, "ss", v != NULL ? v : "", id)) != 0)
		return r;
	if ((r = exec_done(s)) != 0)
		return r;
	return sqlite3_changes(st->db) == 1 ? 0 : VDI_ERR_NOT_FOUND;
}

static int
session_text_get(
    struct store *st, const char *sql, const char *id, char *out, size_t outlen)
{
	sqlite3_stmt *s;
	int r, rc;

	if (outlen > 0)
		out[0] = '\0';
	if ((r = prepare(st, &s, sql, "s", id)) != 0)
		return r;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		col_text(s, 0, out, outlen);
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? VDI_ERR_NOT_FOUND : VDI_ERR_IO;
	return out[0] != '\0' ? 0 : VDI_ERR_NOT_FOUND;
}

int
store_session_set_cred(struct store *st, const char *id, const char *cred)
{
	return session_text_set(st,
	    "UPDATE sessions SET cred = ? WHERE id = ? AND state < 3", id,
	    cred);
}

int
store_session_get_cred(
    struct store *st, const char *id, char *out, size_t outlen)
{
	return session_text_get(st,
	    "SELECT cred FROM sessions WHERE id = ? AND state < 3", id, out,
	    outlen);
}

/* --- cuts for gateways --------------------------------------------------- */

int
store_cut_add(struct store *st, struct store_cut *c)
{
	sqlite3_stmt *s;
	int r;

	if ((c->kind != STORE_CUT_SESSION && c->kind != STORE_CUT_DEVICE) ||
	    c->key[0] == '\0' || !fits(c->key, sizeof(c->key)) ||
	    !fits(c->keep_jti, sizeof(c->keep_jti)) ||
	    !fits(c->reason, sizeof(c->reason)))
		return VDI_ERR_INVALID_ARG;
	if ((r = prepare(st, &s,
		 "INSERT INTO cuts (kind, key, keep_jti, reason, time, "
		 "expires) VALUES (?, ?, ?, ?, ?, ?)",
		 "nsssii", (int)c->kind, c->key, c->keep_jti, c->reason,
		 c->time, c->expires)) != 0)
		return r;
	if ((r = exec_done(s)) != 0)
		return r;
	c->id = sqlite3_last_insert_rowid(st->db);
	return 0;
}

static int
each_cut(sqlite3_stmt *s, void *arg)
{
	struct row_cb *cb = arg;
	struct store_cut c;

	memset(&c, 0, sizeof(c));
	c.id = sqlite3_column_int64(s, 0);
	c.kind = sqlite3_column_int(s, 1) == STORE_CUT_DEVICE
	    ? STORE_CUT_DEVICE
	    : STORE_CUT_SESSION;
	col_text(s, 2, c.key, sizeof(c.key));
	col_text(s, 3, c.keep_jti, sizeof(c.keep_jti));
	col_text(s, 4, c.reason, sizeof(c.reason));
	c.time = sqlite3_column_int64(s, 5);
	c.expires = sqlite3_column_int64(s, 6);
	return cb->fn.cut(&c, cb->arg);
}

int
store_cut_list(struct store *st, int64_t now,
    int (*fn)(const struct store_cut *, void *), void *arg)
{
	struct row_cb cb;
	sqlite3_stmt *s;
	int r;

	if ((r = prepare(st, &s,
		 "SELECT id, kind, key, keep_jti, reason, time, expires "
		 "FROM cuts WHERE expires > ? ORDER BY id",
		 "i", now)) != 0)
		return r;
	cb.fn.cut = fn;
	cb.arg = arg;
	return each_row(s, each_cut, &cb);
}

int
store_cut_prune(struct store *st, int64_t now)
{
	sqlite3_stmt *s;
	int r;

	if ((r = prepare(
		 st, &s, "DELETE FROM cuts WHERE expires <= ?", "i", now)) != 0)
		return r;
	return exec_done(s);
}

int
store_session_set_grant(struct store *st, const char *id, const char *grant)
{
	return session_text_set(st,
	    "UPDATE sessions SET grant_rec = ? WHERE id = ? AND state < 3", id,
	    grant);
}

int
store_session_get_grant(
    struct store *st, const char *id, char *out, size_t outlen)
{
	return session_text_get(st,
	    "SELECT grant_rec FROM sessions WHERE id = ? AND state < 3", id,
	    out, outlen);
}
