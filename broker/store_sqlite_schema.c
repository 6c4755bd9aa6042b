/* store_sqlite_schema.c: the SQLite store's versioned schema and its
 * migrations (see store.h). */
#include "config.h"

#include <stdio.h>

#include "store_sqlite_int.h"

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

int
sq_user_version(sqlite3 *db, int *v)
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

int
sq_migrate(sqlite3 *db, char *err, size_t errlen)
{
	char *msg = NULL, sql[64];
	int v, r;

	if ((r = sq_user_version(db, &v)) != 0) {
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

int
store_schema_version(struct store *st)
{
	int v = 0;

	if (sq_user_version(st->db, &v) != 0)
		return -1;
	return v;
}

int
store_schema_latest(void)
{
	return N_MIGRATIONS;
}
