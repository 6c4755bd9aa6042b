/* Unit tests for broker/store_sqlite.c on a real SQLite file. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "store.h"

struct fixture {
	char dir[256];
	char path[300];
	struct store *st;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[256];
	const char *base = getenv("top_builddir");

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "%s/test-store-XXXXXX",
	    base != NULL ? base : "/tmp");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/broker.db", f->dir);
	if (store_open_sqlite(f->path, &f->st, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char p[400];

	store_close(f->st);
	snprintf(p, sizeof(p), "%s", f->path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-wal", f->path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", f->path);
	unlink(p);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void
reopen(struct fixture *f)
{
	char err[256];

	store_close(f->st);
	f->st = NULL;
	assert_int_equal(
	    store_open_sqlite(f->path, &f->st, err, sizeof(err)), 0);
}

static void
store_open_sqlite__when_directory_missing__error_names_path(void **state)
{
	struct store *st = (struct store *)1;
	char err[512];

	assert_int_equal(store_open_sqlite("/nonexistent-dir/x/broker.db", &st,
			     err, sizeof(err)),
	    VDI_ERR_IO);
	assert_null(st);
	assert_non_null(strstr(err, "/nonexistent-dir/x/broker.db"));
}

static void
store_open_sqlite__when_reopened__schema_version_kept_wal_mode(void **state)
{
	struct fixture *f = *state;
	sqlite3 *db;
	sqlite3_stmt *s;

	assert_int_equal(store_schema_version(f->st), 4);
	reopen(f);
	assert_int_equal(store_schema_version(f->st), 4);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(
	    sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(s, 0), "wal");
	sqlite3_finalize(s);
	sqlite3_close(db);
}

static void
store_open_sqlite__when_schema_newer__refused(void **state)
{
	struct fixture *f = *state;
	struct store *st;
	sqlite3 *db;
	char err[512];

	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(
	    sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store_open_sqlite(f->path, &st, err, sizeof(err)),
	    VDI_ERR_UNSUPPORTED);
	assert_non_null(strstr(err, "newer"));
}

static void
store_device__when_seen_then_revoked__times_kept_first_revoker_wins(
    void **state)
{
	struct fixture *f = *state;
	struct store_device d;

	assert_int_equal(store_device_get(f->st, "aa", &d), VDI_ERR_NOT_FOUND);
	assert_int_equal(
	    store_device_seen(f->st, "city-a", "aa", "CN=t1", 100, &d), 0);
	assert_int_equal(d.first_seen, 100);
	assert_int_equal(
	    store_device_seen(f->st, "city-a", "aa", "CN=t1", 200, &d), 0);
	assert_int_equal(d.first_seen, 100);
	assert_int_equal(d.last_seen, 200);
	assert_int_equal(d.revoked_at, 0);
	assert_int_equal(store_device_revoke(
			     f->st, "city-a", "aa", "admin:root", "lost", 300),
	    0);
	assert_int_equal(store_device_revoke(
			     f->st, "city-a", "aa", "admin:bob", "again", 400),
	    0);
	assert_int_equal(store_device_get(f->st, "aa", &d), 0);
	assert_int_equal(d.revoked_at, 300);
	assert_string_equal(d.revoked_by, "admin:root");
	assert_string_equal(d.revoke_reason, "lost");
	/* revoking a device never seen creates its row */
	assert_int_equal(store_device_revoke(f->st, "city-b", "bb",
			     "admin:root", "stolen", 500),
	    0);
	assert_int_equal(store_device_get(f->st, "bb", &d), 0);
	assert_int_equal(d.revoked_at, 500);
	assert_int_equal(d.first_seen, 0);
	/* seeing it later keeps the revocation and sets first_seen */
	assert_int_equal(
	    store_device_seen(f->st, "city-b", "bb", "CN=x", 600, &d), 0);
	assert_int_equal(d.revoked_at, 500);
	assert_int_equal(d.first_seen, 600);
}

static struct store_session
mk_session(const char *id, const char *user, const char *desktop)
{
	struct store_session s;

	memset(&s, 0, sizeof(s));
	snprintf(s.id, sizeof(s.id), "%s", id);
	snprintf(s.tenant, sizeof(s.tenant), "city-a");
	snprintf(s.user, sizeof(s.user), "%s", user);
	snprintf(s.device, sizeof(s.device), "dev1");
	snprintf(s.pool, sizeof(s.pool), "field");
	snprintf(s.desktop, sizeof(s.desktop), "%s", desktop);
	s.state = STORE_SESSION_PENDING;
	s.created = s.updated = 1000;
	return s;
}

static int
count_cb(const struct store_session *s, void *arg)
{
	(*(int *)arg)++;
	return 0;
}

static void
store_session__when_lifecycle__live_lookup_and_counts(void **state)
{
	struct fixture *f = *state;
	struct store_session a = mk_session("s1", "alice", "d1"), got;
	struct store_session b = mk_session("s2", "bob", "d1");
	int n = 0;

	assert_int_equal(store_session_create(f->st, &a), 0);
	assert_int_equal(store_session_create(f->st, &a), VDI_ERR_EXISTS);
	assert_int_equal(store_session_create(f->st, &b), 0);
	assert_int_equal(
	    store_session_find_live(f->st, "city-a", "alice", &got), 0);
	assert_string_equal(got.id, "s1");
	assert_int_equal(
	    store_session_find_live(f->st, "city-b", "alice", &got),
	    VDI_ERR_NOT_FOUND);
	assert_int_equal(store_session_count_on_desktop(f->st, "d1", &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(store_session_set_state(
			     f->st, "s1", STORE_SESSION_ACTIVE, NULL, 1100),
	    0);
	assert_int_equal(store_session_set_state(f->st, "s1",
			     STORE_SESSION_DISCONNECTED, NULL, 1200),
	    0);
	assert_int_equal(store_session_get(f->st, "s1", &got), 0);
	assert_int_equal(got.state, STORE_SESSION_DISCONNECTED);
	assert_int_equal(got.updated, 1200);
	/* disconnected sessions are still live: reconnect finds them */
	assert_int_equal(
	    store_session_find_live(f->st, "city-a", "alice", &got), 0);
	assert_int_equal(store_session_set_state(
			     f->st, "s1", STORE_SESSION_ENDED, "logoff", 1300),
	    0);
	assert_int_equal(
	    store_session_find_live(f->st, "city-a", "alice", &got),
	    VDI_ERR_NOT_FOUND);
	assert_int_equal(store_session_get(f->st, "s1", &got), 0);
	assert_int_equal(got.ended, 1300);
	assert_string_equal(got.end_reason, "logoff");
	/* an ended session stays ended */
	assert_int_equal(store_session_set_state(
			     f->st, "s1", STORE_SESSION_ACTIVE, NULL, 1400),
	    VDI_ERR_INVALID_ARG);
	assert_int_equal(store_session_set_state(
			     f->st, "nope", STORE_SESSION_ACTIVE, NULL, 1400),
	    VDI_ERR_NOT_FOUND);
	assert_int_equal(store_session_count_on_desktop(f->st, "d1", &n), 0);
	assert_int_equal(n, 1);
	n = 0;
	assert_int_equal(store_session_list(f->st, 0, count_cb, &n), 0);
	assert_int_equal(n, 1);
	n = 0;
	assert_int_equal(store_session_list(f->st, 1, count_cb, &n), 0);
	assert_int_equal(n, 2);
	/* takeover moves the session to another device */
	assert_int_equal(
	    store_session_set_device(f->st, "s2", "dev2", 0, 1500), 0);
	assert_int_equal(store_session_get(f->st, "s2", &got), 0);
	assert_string_equal(got.device, "dev2");
	assert_int_equal(store_session_set_device(f->st, "s1", "dev2", 0, 1500),
	    VDI_ERR_NOT_FOUND);
}

/* Collects the ids store_session_list_due hands out, "a,b,". */
static int
due_cb(const struct store_session *s, void *arg)
{
	char *out = arg;

	strcat(out, s->id);
	strcat(out, ",");
	return 0;
}

static void
store_session_list_due__when_limits_pass__lists_only_due_sessions(void **state)
{
	struct fixture *f = *state;
	struct store_session p = mk_session("pend", "alice", "d1");
	struct store_session d = mk_session("disc", "bob", "d1");
	struct store_session m = mk_session("maxs", "carol", "d1");
	struct store_session a = mk_session("act", "dave", "d1"), got;
	char ids[256] = "";

	/* pending since 1000; disconnected at 1100 with a 60 s window; an
	 * active one whose deadline is 1500; an active one without one */
	d.reconnect_window = 60;
	m.deadline = 1500;
	assert_int_equal(store_session_create(f->st, &p), 0);
	assert_int_equal(store_session_create(f->st, &d), 0);
	assert_int_equal(store_session_create(f->st, &m), 0);
	assert_int_equal(store_session_create(f->st, &a), 0);
	assert_int_equal(store_session_get(f->st, "maxs", &got), 0);
	assert_int_equal(got.deadline, 1500);
	assert_int_equal(store_session_set_state(f->st, "disc",
			     STORE_SESSION_DISCONNECTED, NULL, 1100),
	    0);
	assert_int_equal(store_session_set_state(
			     f->st, "maxs", STORE_SESSION_ACTIVE, NULL, 1100),
	    0);
	assert_int_equal(store_session_set_state(
			     f->st, "act", STORE_SESSION_ACTIVE, NULL, 1100),
	    0);

	/* 1059: nothing yet (pending ttl 60 -> due at 1060) */
	assert_int_equal(
	    store_session_list_due(f->st, 1059, 60, due_cb, ids), 0);
	assert_string_equal(ids, "");
	/* 1060: the pending one, exactly at its limit */
	assert_int_equal(
	    store_session_list_due(f->st, 1060, 60, due_cb, ids), 0);
	assert_string_equal(ids, "pend,");
	/* 1160: the disconnected one's window has passed too */
	ids[0] = '\0';
	assert_int_equal(
	    store_session_list_due(f->st, 1160, 60, due_cb, ids), 0);
	assert_string_equal(ids, "disc,pend,"); /* created, then id */
	/* a renewed grant restarts the window and takes the current one */
	assert_int_equal(store_session_renew(f->st, "disc", 120, 1150), 0);
	assert_int_equal(store_session_get(f->st, "disc", &got), 0);
	assert_int_equal(got.reconnect_window, 120);
	assert_int_equal(got.updated, 1150);
	assert_int_equal(got.deadline, 0);
	ids[0] = '\0';
	assert_int_equal(
	    store_session_list_due(f->st, 1269, 60, due_cb, ids), 0);
	assert_string_equal(ids, "pend,");
	/* a window shorter than the pending time waits for the latter */
	assert_int_equal(store_session_renew(f->st, "disc", 0, 1300), 0);
	ids[0] = '\0';
	assert_int_equal(
	    store_session_list_due(f->st, 1359, 60, due_cb, ids), 0);
	assert_string_equal(ids, "pend,");
	/* 1500: the deadline ends even an active session; never one
	 * without a deadline */
	ids[0] = '\0';
	assert_int_equal(
	    store_session_list_due(f->st, 1500, 60, due_cb, ids), 0);
	assert_string_equal(ids, "disc,maxs,pend,");
	/* ended sessions are never due; renewing one is refused */
	assert_int_equal(store_session_set_state(
			     f->st, "pend", STORE_SESSION_ENDED, "x", 1500),
	    0);
	assert_int_equal(
	    store_session_renew(f->st, "pend", 60, 1500), VDI_ERR_NOT_FOUND);
	ids[0] = '\0';
	assert_int_equal(
	    store_session_list_due(f->st, 99999, 60, due_cb, ids), 0);
	assert_string_equal(ids, "disc,maxs,");
	assert_int_equal(store_session_list_due(f->st, 1, -1, due_cb, ids),
	    VDI_ERR_INVALID_ARG);
}

static void
store_assignment__when_set__persistent_and_unique_per_pool(void **state)
{
	struct fixture *f = *state;
	char d[STORE_NAME_MAX];
	int n;

	assert_int_equal(store_assignment_get(
			     f->st, "city-a", "alice", "field", d, sizeof(d)),
	    VDI_ERR_NOT_FOUND);
	assert_int_equal(
	    store_assignment_set(f->st, "city-a", "alice", "field", "d1", 1),
	    0);
	assert_int_equal(
	    store_assignment_set(f->st, "city-a", "bob", "field", "d1", 1),
	    VDI_ERR_EXISTS);
	assert_int_equal(
	    store_assignment_set(f->st, "city-a", "bob", "field", "d2", 1), 0);
	reopen(f);
	assert_int_equal(store_assignment_get(
			     f->st, "city-a", "alice", "field", d, sizeof(d)),
	    0);
	assert_string_equal(d, "d1");
	assert_int_equal(store_assignment_count(f->st, "d2", &n), 0);
	assert_int_equal(n, 1);
}

static void
store_ticket_use__when_each_case__one_use_bound_and_expiring(void **state)
{
	struct fixture *f = *state;
	struct store_session a = mk_session("s1", "alice", "d1");
	char sid[STORE_ID_MAX];

	assert_int_equal(store_session_create(f->st, &a), 0);
	assert_int_equal(
	    store_ticket_put(f->st, "h1", "s1", "dev1", 2000, 1000), 0);
	assert_int_equal(
	    store_ticket_put(f->st, "h2", "s1", "dev1", 2000, 1000), 0);
	assert_int_equal(
	    store_ticket_put(f->st, "h3", "s1", "dev1", 2000, 1000), 0);
	assert_int_equal(store_ticket_use(f->st, "nope", "dev1", 1500, sid),
	    VDI_ERR_NOT_FOUND);
	assert_int_equal(
	    store_ticket_use(f->st, "h1", "dev2", 1500, sid), VDI_ERR_DENIED);
	assert_string_equal(sid, "s1"); /* named for the audit */
	assert_int_equal(store_ticket_use(f->st, "h1", "dev1", 2000, sid),
	    VDI_ERR_TOKEN_EXPIRED);
	/* refusals left the ticket usable */
	assert_int_equal(store_ticket_use(f->st, "h1", "dev1", 1999, sid), 0);
	assert_string_equal(sid, "s1");
	assert_int_equal(
	    store_ticket_use(f->st, "h1", "dev1", 1999, sid), VDI_ERR_EXISTS);
	/* revoking the device kills its other tickets */
	assert_int_equal(store_device_revoke(
			     f->st, "city-a", "dev1", "admin:x", "lost", 1600),
	    0);
	assert_int_equal(store_ticket_use(f->st, "h2", "dev1", 1700, sid),
	    VDI_ERR_TOKEN_EXPIRED);
	/* ... h3 as well: voided tickets read as expired */
	assert_int_equal(store_ticket_use(f->st, "h3", "dev1", 1700, sid),
	    VDI_ERR_TOKEN_EXPIRED);
	/* ending the session kills the rest */
	assert_int_equal(
	    store_ticket_put(f->st, "h4", "s1", "dev9", 2000, 1000), 0);
	assert_int_equal(store_session_set_state(
			     f->st, "s1", STORE_SESSION_ENDED, "logoff", 1700),
	    0);
	assert_int_equal(store_ticket_use(f->st, "h4", "dev9", 1700, sid),
	    VDI_ERR_TOKEN_EXPIRED);
}

static void
store_ticket_set_expiry__when_drop__window_restarts(void **state)
{
	struct fixture *f = *state;
	struct store_session a = mk_session("s1", "alice", "d1");
	char sid[STORE_ID_MAX];

	a.reconnect_window = 300;
	assert_int_equal(store_session_create(f->st, &a), 0);
	assert_int_equal(
	    store_ticket_put(f->st, "h1", "s1", "dev1", 1300, 1000), 0);
	/* the tunnel ran for two hours, then dropped at 8200 */
	assert_int_equal(store_ticket_set_expiry(f->st, "s1", 8200 + 300), 0);
	assert_int_equal(store_ticket_use(f->st, "h1", "dev1", 8400, sid), 0);
	assert_string_equal(sid, "s1");
	/* used tickets are not revived */
	assert_int_equal(store_ticket_set_expiry(f->st, "s1", 99999), 0);
	assert_int_equal(
	    store_ticket_use(f->st, "h1", "dev1", 8500, sid), VDI_ERR_EXISTS);
	{
		struct store_session b;

		assert_int_equal(store_session_get(f->st, "s1", &b), 0);
		assert_int_equal(b.reconnect_window, 300);
	}
}

static void
store_desktop__when_probed_and_drained__flags_and_last_ok(void **state)
{
	struct fixture *f = *state;
	struct store_desktop d;

	assert_int_equal(store_desktop_get(f->st, "d1", &d), 0);
	assert_int_equal(d.healthy, 0);
	assert_int_equal(d.last_check, 0);
	assert_int_equal(store_desktop_set_health(f->st, "d1", 1, "ok", 10), 0);
	assert_int_equal(
	    store_desktop_set_health(f->st, "d1", 0, "connect refused", 20), 0);
	assert_int_equal(store_desktop_get(f->st, "d1", &d), 0);
	assert_int_equal(d.healthy, 0);
	assert_int_equal(d.last_ok, 10);
	assert_int_equal(d.last_check, 20);
	assert_string_equal(d.reason, "connect refused");
	assert_int_equal(store_desktop_set_drained(f->st, "d1", 1), 0);
	assert_int_equal(store_desktop_set_health(f->st, "d1", 1, "ok", 30), 0);
	assert_int_equal(store_desktop_get(f->st, "d1", &d), 0);
	assert_int_equal(d.drained, 1);
	assert_int_equal(d.healthy, 1);
	assert_int_equal(d.last_ok, 30);
}

static void
append(struct store *st, const char *action, const char *user)
{
	struct store_audit a;

	memset(&a, 0, sizeof(a));
	a.time = 1000;
	snprintf(a.actor, sizeof(a.actor), "user:%s", user);
	snprintf(a.action, sizeof(a.action), "%s", action);
	snprintf(a.outcome, sizeof(a.outcome), "ok");
	snprintf(a.user, sizeof(a.user), "%s", user);
	snprintf(a.detail, sizeof(a.detail), "{\"n\":1}");
	assert_int_equal(store_audit_append(st, &a), 0);
	assert_int_equal(strlen(a.hash), 64);
}

static int
audit_count(const struct store_audit *a, void *arg)
{
	(*(int *)arg)++;
	return 0;
}

static void
store_audit__when_chain_intact__verifies_and_filters(void **state)
{
	struct fixture *f = *state;
	struct store_audit_filter flt = { 0 };
	int64_t rows, bad;
	char reason[256];
	int n = 0;

	assert_int_equal(
	    store_audit_verify(f->st, &rows, &bad, reason, sizeof(reason)), 0);
	assert_int_equal(rows, 0);
	append(f->st, "login", "alice");
	append(f->st, "login", "bob");
	append(f->st, "assign", "alice");
	reopen(f);
	assert_int_equal(
	    store_audit_verify(f->st, &rows, &bad, reason, sizeof(reason)), 0);
	assert_int_equal(rows, 3);
	flt.user = "alice";
	assert_int_equal(store_audit_query(f->st, &flt, audit_count, &n), 0);
	assert_int_equal(n, 2);
}

static void
tamper(const char *path, const char *sql)
{
	sqlite3 *db;
	char *msg = NULL;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("tamper failed: %s", msg);
	sqlite3_close(db);
}

static void
store_audit_verify__when_row_edited__reports_that_row(void **state)
{
	struct fixture *f = *state;
	int64_t rows, bad;
	char reason[256];

	append(f->st, "login", "alice");
	append(f->st, "login", "bob");
	append(f->st, "logoff", "alice");
	store_close(f->st);
	f->st = NULL;
	/* the triggers refuse an ordinary edit ... */
	{
		sqlite3 *db;

		assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
		assert_int_not_equal(
		    sqlite3_exec(db,
			"UPDATE audit SET user='mallory' WHERE seq=2", NULL,
			NULL, NULL),
		    SQLITE_OK);
		assert_int_not_equal(
		    sqlite3_exec(
			db, "DELETE FROM audit WHERE seq=2", NULL, NULL, NULL),
		    SQLITE_OK);
		sqlite3_close(db);
	}
	/* ... and someone who removes them is caught by the chain */
	tamper(f->path,
	    "DROP TRIGGER audit_no_update;"
	    "UPDATE audit SET user='mallory' WHERE seq=2;");
	reopen(f);
	assert_int_equal(
	    store_audit_verify(f->st, &rows, &bad, reason, sizeof(reason)),
	    VDI_ERR_BAD_FORMAT);
	assert_int_equal(bad, 2);
	assert_int_equal(rows, 1);
	assert_non_null(strstr(reason, "changed"));
}

static void
store_audit_verify__when_row_deleted_or_rehashed__reports_break(void **state)
{
	struct fixture *f = *state;
	int64_t rows, bad;
	char reason[256];

	append(f->st, "login", "alice");
	append(f->st, "login", "bob");
	append(f->st, "logoff", "alice");
	store_close(f->st);
	f->st = NULL;
	tamper(f->path,
	    "DROP TRIGGER audit_no_delete;"
	    "DELETE FROM audit WHERE seq=2;");
	reopen(f);
	assert_int_equal(
	    store_audit_verify(f->st, &rows, &bad, reason, sizeof(reason)),
	    VDI_ERR_BAD_FORMAT);
	assert_int_equal(bad, 2);
	assert_non_null(strstr(reason, "missing"));
	/* renumbering to hide the gap breaks the link instead */
	store_close(f->st);
	f->st = NULL;
	tamper(f->path,
	    "DROP TRIGGER audit_no_update;"
	    "UPDATE audit SET seq=2 WHERE seq=3;");
	reopen(f);
	assert_int_equal(
	    store_audit_verify(f->st, &rows, &bad, reason, sizeof(reason)),
	    VDI_ERR_BAD_FORMAT);
	assert_int_equal(bad, 2);
}

static void
store_audit_hash__when_fields_shift__hash_differs(void **state)
{
	struct store_audit a, b;
	char ha[65], hb[65];

	/* "ab" + "c" must not hash like "a" + "bc" */
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	snprintf(a.actor, sizeof(a.actor), "ab");
	snprintf(a.action, sizeof(a.action), "c");
	snprintf(b.actor, sizeof(b.actor), "a");
	snprintf(b.action, sizeof(b.action), "bc");
	store_audit_hash(&a, ha);
	store_audit_hash(&b, hb);
	assert_string_not_equal(ha, hb);
	store_audit_hash(&a, hb);
	assert_string_equal(ha, hb);
}

static int
setting_cb(const char *k, const char *v, void *arg)
{
	(*(int *)arg)++;
	return 0;
}

static void
store_setting__when_set_and_reopened__kept_deleted_listed(void **state)
{
	struct fixture *f = *state;
	char v[64];
	int n = 0;

	assert_int_equal(store_setting_get(f->st, "mode.town-a", v, sizeof(v)),
	    VDI_ERR_NOT_FOUND);
	assert_int_equal(
	    store_setting_set(f->st, "mode.town-a", "relocation"), 0);
	assert_int_equal(store_setting_set(f->st, "mode.town-b", "x"), 0);
	assert_int_equal(store_setting_set(f->st, "other", "y"), 0);
	reopen(f);
	assert_int_equal(
	    store_setting_get(f->st, "mode.town-a", v, sizeof(v)), 0);
	assert_string_equal(v, "relocation");
	assert_int_equal(store_setting_list(f->st, "mode.", setting_cb, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(store_setting_set(f->st, "mode.town-a", NULL), 0);
	assert_int_equal(store_setting_get(f->st, "mode.town-a", v, sizeof(v)),
	    VDI_ERR_NOT_FOUND);
}

static void
store_session_cred__when_session_ends__erased(void **state)
{
	struct fixture *f = *state;
	struct store_session a = mk_session("s1", "alice", "d1");
	char c[64];

	assert_int_equal(store_session_create(f->st, &a), 0);
	assert_int_equal(store_session_get_cred(f->st, "s1", c, sizeof(c)),
	    VDI_ERR_NOT_FOUND);
	assert_int_equal(store_session_set_cred(f->st, "s1", "sealed-blob"), 0);
	reopen(f);
	assert_int_equal(store_session_get_cred(f->st, "s1", c, sizeof(c)), 0);
	assert_string_equal(c, "sealed-blob");
	assert_int_equal(store_session_set_state(
			     f->st, "s1", STORE_SESSION_ENDED, "logoff", 5),
	    0);
	assert_int_equal(store_session_get_cred(f->st, "s1", c, sizeof(c)),
	    VDI_ERR_NOT_FOUND);
	assert_int_equal(
	    store_session_set_cred(f->st, "s1", "again"), VDI_ERR_NOT_FOUND);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    store_open_sqlite__when_directory_missing__error_names_path),
		cmocka_unit_test_setup_teardown(
		    store_open_sqlite__when_reopened__schema_version_kept_wal_mode,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    store_open_sqlite__when_schema_newer__refused, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    store_device__when_seen_then_revoked__times_kept_first_revoker_wins,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    store_session__when_lifecycle__live_lookup_and_counts,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    store_session_list_due__when_limits_pass__lists_only_due_sessions,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    store_assignment__when_set__persistent_and_unique_per_pool,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    store_ticket_use__when_each_case__one_use_bound_and_expiring,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    store_desktop__when_probed_and_drained__flags_and_last_ok,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    store_ticket_set_expiry__when_drop__window_restarts, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    store_audit__when_chain_intact__verifies_and_filters, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    store_audit_verify__when_row_edited__reports_that_row,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    store_audit_verify__when_row_deleted_or_rehashed__reports_break,
		    setup, teardown),
		cmocka_unit_test(
		    store_audit_hash__when_fields_shift__hash_differs),
		cmocka_unit_test_setup_teardown(
		    store_setting__when_set_and_reopened__kept_deleted_listed,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    store_session_cred__when_session_ends__erased, setup,
		    teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
