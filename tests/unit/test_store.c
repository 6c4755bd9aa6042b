/* Unit tests for broker/store_sqlite.c on a real SQLite file. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
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

	assert_int_equal(store_schema_version(f->st), 9);
	reopen(f);
	assert_int_equal(store_schema_version(f->st), 9);
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

static mode_t
file_mode(const char *path, const char *suffix)
{
	char p[400];
	struct stat sb;

	snprintf(p, sizeof(p), "%s%s", path, suffix);
	assert_int_equal(stat(p, &sb), 0);
	return sb.st_mode & 07777;
}

static void
store_open_sqlite__when_created_or_older_file__private_0600(void **state)
{
	struct fixture *f = *state;
	struct store_device d;
	char p[400];
	mode_t old = umask(022);

	/* A store created under umask 022, written to (WAL and -shm in
	 * use): each file readable by its owner only. */
	assert_int_equal(store_device_seen(f->st, "t", "aa", "CN=a", 1, &d), 0);
	assert_int_equal(file_mode(f->path, ""), 0600);
	assert_int_equal(file_mode(f->path, "-wal"), 0600);
	assert_int_equal(file_mode(f->path, "-shm"), 0600);
	/* The files of an older broker (0644) are narrowed on open. */
	store_close(f->st);
	f->st = NULL;
	assert_int_equal(chmod(f->path, 0644), 0);
	snprintf(p, sizeof(p), "%s-wal", f->path);
	if (access(p, F_OK) == 0)
		assert_int_equal(chmod(p, 0644), 0);
	reopen(f);
	assert_int_equal(file_mode(f->path, ""), 0600);
	if (access(p, F_OK) == 0)
		assert_int_equal(file_mode(f->path, "-wal"), 0600);
	umask(old);
}

static void
store_device_resolve__when_prefix__unique_ambiguous_or_none(void **state)
{
	struct fixture *f = *state;
	struct store_device d;
	struct store_audit a;
	char out[STORE_THUMB_MAX];
	const char *only_b[] = { "b" };
	int n;

	assert_int_equal(
	    store_device_seen(f->st, "a", "ab12", "CN=1", 1, &d), 0);
	assert_int_equal(
	    store_device_seen(f->st, "b", "ab34", "CN=2", 1, &d), 0);
	/* A device only the audit log names (refused before it was seen). */
	memset(&a, 0, sizeof(a));
	snprintf(a.action, sizeof(a.action), "tls_refused");
	snprintf(a.outcome, sizeof(a.outcome), "refused");
	snprintf(a.tenant, sizeof(a.tenant), "a");
	snprintf(a.device, sizeof(a.device), "cd56");
	assert_int_equal(store_audit_append(f->st, &a), 0);

	assert_int_equal(
	    store_device_resolve(f->st, "ab1", NULL, 0, out, &n), 0);
	assert_string_equal(out, "ab12");
	assert_int_equal(store_device_resolve(f->st, "c", NULL, 0, out, &n), 0);
	assert_string_equal(out, "cd56");
	assert_int_equal(store_device_resolve(f->st, "ab", NULL, 0, out, &n),
	    VDI_ERR_EXISTS);
	assert_int_equal(n, 2);
	assert_string_equal(out, "");
	/* Only the tenants in scope count: "ab" is b's one device. */
	assert_int_equal(
	    store_device_resolve(f->st, "ab", only_b, 1, out, &n), 0);
	assert_string_equal(out, "ab34");
	assert_int_equal(store_device_resolve(f->st, "ef", NULL, 0, out, &n),
	    VDI_ERR_NOT_FOUND);
	assert_int_equal(store_device_resolve(f->st, "AB", NULL, 0, out, &n),
	    VDI_ERR_INVALID_ARG);
	assert_int_equal(store_device_resolve(f->st, "", NULL, 0, out, &n),
	    VDI_ERR_INVALID_ARG);
}

static void
store_prune__when_past_retention__old_rows_only(void **state)
{
	struct fixture *f = *state;
	struct store_session s;
	struct store_pruned p;
	char sid[STORE_ID_MAX], gw[64];

	memset(&s, 0, sizeof(s));
	snprintf(s.tenant, sizeof(s.tenant), "t");
	snprintf(s.user, sizeof(s.user), "u");
	snprintf(s.device, sizeof(s.device), "d");
	snprintf(s.pool, sizeof(s.pool), "p");
	snprintf(s.desktop, sizeof(s.desktop), "k");
	s.created = s.updated = 100;
	/* old: ended at 200; recent: ended at 900; live: never ended */
	snprintf(s.id, sizeof(s.id), "old");
	assert_int_equal(store_session_create(f->st, &s), 0);
	assert_int_equal(store_session_set_state(
			     f->st, "old", STORE_SESSION_ENDED, "logoff", 200),
	    0);
	snprintf(s.id, sizeof(s.id), "recent");
	assert_int_equal(store_session_create(f->st, &s), 0);
	assert_int_equal(store_session_set_state(f->st, "recent",
			     STORE_SESSION_ENDED, "logoff", 900),
	    0);
	snprintf(s.id, sizeof(s.id), "live");
	assert_int_equal(store_session_create(f->st, &s), 0);
	assert_int_equal(
	    store_ticket_put(f->st, "t-old", "live", "d", 300, 100), 0);
	assert_int_equal(
	    store_ticket_put(f->st, "t-new", "live", "d", 2000, 100), 0);
	assert_int_equal(store_token_use(f->st, "j-old", "live", "gw", 100, 300,
			     gw, sizeof(gw)),
	    0);
	assert_int_equal(store_token_use(f->st, "j-new", "live", "gw", 100,
			     2000, gw, sizeof(gw)),
	    0);

	assert_int_equal(store_prune(f->st, 500, 500, 100, &p), 0);
	assert_int_equal(p.sessions, 1);
	assert_int_equal(p.tickets, 1);
	assert_int_equal(p.token_uses, 1);
	assert_int_equal(
	    store_session_get(f->st, "old", &s), VDI_ERR_NOT_FOUND);
	assert_int_equal(store_session_get(f->st, "recent", &s), 0);
	assert_int_equal(store_session_get(f->st, "live", &s), 0);
	assert_int_equal(
	    store_ticket_use(f->st, "t-old", "d", 100, sid), VDI_ERR_NOT_FOUND);
	assert_int_equal(store_ticket_use(f->st, "t-new", "d", 100, sid), 0);
	assert_int_equal(store_token_gateway(f->st, "j-old", gw, sizeof(gw)),
	    VDI_ERR_NOT_FOUND);
	/* 0: kept for ever; nothing left to prune: nothing. */
	assert_int_equal(store_prune(f->st, 0, 0, 100, &p), 0);
	assert_int_equal(p.sessions + p.tickets + p.token_uses, 0);
	assert_int_equal(store_prune(f->st, 500, 500, 100, &p), 0);
	assert_int_equal(p.sessions + p.tickets + p.token_uses, 0);
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
store_ticket_replace_session__when_newer_login__replaced_not_expired(
    void **state)
{
	struct fixture *f = *state;
	struct store_session a = mk_session("s1", "alice", "d1");
	struct store_session b = mk_session("s2", "bob", "d2");
	char sid[STORE_ID_MAX];

	assert_int_equal(store_session_create(f->st, &a), 0);
	assert_int_equal(store_session_create(f->st, &b), 0);
	assert_int_equal(
	    store_ticket_put(f->st, "h1", "s1", "dev1", 2000, 1000), 0);
	assert_int_equal(
	    store_ticket_put(f->st, "h2", "s1", "dev1", 2000, 1000), 0);
	assert_int_equal(
	    store_ticket_put(f->st, "h3", "s2", "dev2", 2000, 1000), 0);
	assert_int_equal(store_ticket_use(f->st, "h1", "dev1", 1100, sid), 0);
	assert_int_equal(store_ticket_replace_session(f->st, "s1"), 0);
	/* unused tickets of s1 answer "replaced", naming their session */
	assert_int_equal(
	    store_ticket_use(f->st, "h2", "dev1", 1200, sid), VDI_ERR_REPLACED);
	assert_string_equal(sid, "s1");
	/* a used one stays used; other sessions' tickets are untouched */
	assert_int_equal(
	    store_ticket_use(f->st, "h1", "dev1", 1200, sid), VDI_ERR_EXISTS);
	assert_int_equal(store_ticket_use(f->st, "h3", "dev2", 1200, sid), 0);
	/* a ticket issued after the replacement works */
	assert_int_equal(
	    store_ticket_put(f->st, "h4", "s1", "dev1", 2000, 1200), 0);
	assert_int_equal(store_ticket_use(f->st, "h4", "dev1", 1300, sid), 0);
	/* a later void (session end) does not turn "replaced" into
	 * "expired" */
	assert_int_equal(store_ticket_revoke_session(f->st, "s1"), 0);
	assert_int_equal(
	    store_ticket_use(f->st, "h2", "dev1", 1300, sid), VDI_ERR_REPLACED);
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
append_t(struct store *st, const char *tenant, const char *user)
{
	struct store_audit a;

	memset(&a, 0, sizeof(a));
	a.time = 2000;
	snprintf(a.actor, sizeof(a.actor), "broker");
	snprintf(a.action, sizeof(a.action), "login");
	snprintf(a.outcome, sizeof(a.outcome), "ok");
	snprintf(a.tenant, sizeof(a.tenant), "%s", tenant);
	snprintf(a.user, sizeof(a.user), "%s", user);
	assert_int_equal(store_audit_append(st, &a), 0);
	assert_int_equal(a.format, 2);
}

struct chains_seen {
	char names[4][16];
	int64_t rows[4];
	int n;
};

static int
chain_cb(const char *tenant, int64_t rows, const char *head, void *arg)
{
	struct chains_seen *c = arg;

	assert_int_equal(strlen(head), 64);
	if (c->n < 4) {
		snprintf(c->names[c->n], sizeof(c->names[0]), "%s", tenant);
		c->rows[c->n++] = rows;
	}
	return 0;
}

static void
store_audit_verify_chains__when_tenants__each_chain_alone(void **state)
{
	struct fixture *f = *state;
	const char *a[] = { "a" }, *b[] = { "b" }, *ab[] = { "a", "b" };
	struct store_audit_filter flt = { 0 };
	struct chains_seen cs;
	int64_t rows, bad;
	char reason[256];
	int n = 0;

	append_t(f->st, "a", "alice"); /* 1 */
	append_t(f->st, "b", "bob");   /* 2 */
	append_t(f->st, "", "");       /* 3: no tenant */
	append_t(f->st, "a", "ann");   /* 4 */
	append_t(f->st, "b", "ben");   /* 5 */
	memset(&cs, 0, sizeof(cs));
	assert_int_equal(store_audit_verify_chains(f->st, NULL, 0, chain_cb,
			     &cs, &rows, &bad, reason, sizeof(reason)),
	    0);
	assert_int_equal(rows, 5);
	assert_int_equal(cs.n, 3);
	assert_string_equal(cs.names[0], "a");
	assert_int_equal(cs.rows[0], 2);
	assert_string_equal(cs.names[2], "");
	memset(&cs, 0, sizeof(cs));
	assert_int_equal(store_audit_verify_chains(f->st, a, 1, chain_cb, &cs,
			     &rows, &bad, reason, sizeof(reason)),
	    0);
	assert_int_equal(rows, 2);
	assert_int_equal(cs.n, 1);
	/* the query sees only the tenants it is given */
	flt.tenants = ab;
	flt.ntenants = 2;
	assert_int_equal(store_audit_query(f->st, &flt, audit_count, &n), 0);
	assert_int_equal(n, 4);
	n = 0;
	flt.ntenants = 0;
	assert_int_equal(store_audit_query(f->st, &flt, audit_count, &n), 0);
	assert_int_equal(n, 0);

	/* an edited row of b breaks b's chain and the whole log, not a's */
	store_close(f->st);
	f->st = NULL;
	tamper(f->path,
	    "DROP TRIGGER audit_no_update;"
	    "UPDATE audit SET user='eve' WHERE seq=2;");
	reopen(f);
	assert_int_equal(store_audit_verify_chains(f->st, a, 1, NULL, NULL,
			     &rows, &bad, reason, sizeof(reason)),
	    0);
	assert_int_equal(store_audit_verify_chains(f->st, b, 1, NULL, NULL,
			     &rows, &bad, reason, sizeof(reason)),
	    VDI_ERR_BAD_FORMAT);
	assert_int_equal(bad, 2);
	assert_int_equal(
	    store_audit_verify(f->st, &rows, &bad, reason, sizeof(reason)),
	    VDI_ERR_BAD_FORMAT);
	assert_int_equal(bad, 2);

	/* a row of a removed: a's chain breaks at the next row of a */
	store_close(f->st);
	f->st = NULL;
	tamper(f->path,
	    "DROP TRIGGER audit_no_delete;"
	    "DELETE FROM audit WHERE seq=1;");
	reopen(f);
	assert_int_equal(store_audit_verify_chains(f->st, a, 1, NULL, NULL,
			     &rows, &bad, reason, sizeof(reason)),
	    VDI_ERR_BAD_FORMAT);
	assert_int_equal(bad, 4);
	assert_non_null(strstr(reason, "tenant \"a\""));
}

/* Rows written before per-tenant chains (format 1, one global chain) stay
 * verifiable, and new rows start per-tenant chains after them. */
static void
store_audit_verify__when_old_global_chain__still_verifies(void **state)
{
	struct fixture *f = *state;
	const char *a[] = { "a" };
	struct store_audit r;
	char prev[65], sql[1024];
	int64_t rows, bad;
	char reason[256];
	int i;

	store_close(f->st);
	f->st = NULL;
	memset(prev, '0', 64);
	prev[64] = '\0';
	for (i = 1; i <= 3; i++) {
		memset(&r, 0, sizeof(r));
		r.seq = i;
		r.time = 500;
		r.format = 1;
		snprintf(r.actor, sizeof(r.actor), "broker");
		snprintf(r.action, sizeof(r.action), "login");
		snprintf(r.outcome, sizeof(r.outcome), "ok");
		snprintf(r.tenant, sizeof(r.tenant), "%s", i == 2 ? "b" : "a");
		snprintf(r.prev_hash, sizeof(r.prev_hash), "%s", prev);
		store_audit_hash(&r, r.hash);
		snprintf(sql, sizeof(sql),
		    "INSERT INTO audit (seq, time, actor, action, outcome, "
		    "tenant, user, device, session, reason, detail, "
		    "prev_hash, hash, format) VALUES (%d, 500, 'broker', "
		    "'login', 'ok', '%s', '', '', '', '', '', '%s', '%s', 1);",
		    i, r.tenant, r.prev_hash, r.hash);
		tamper(f->path, sql);
		memcpy(prev, r.hash, sizeof(prev));
	}
	reopen(f);
	append_t(f->st, "a", "ann"); /* 4: first row of a's own chain */
	append_t(f->st, "b", "bob"); /* 5 */
	assert_int_equal(
	    store_audit_verify(f->st, &rows, &bad, reason, sizeof(reason)), 0);
	assert_int_equal(rows, 5);
	assert_int_equal(store_audit_verify_chains(f->st, a, 1, NULL, NULL,
			     &rows, &bad, reason, sizeof(reason)),
	    0);
	assert_int_equal(rows, 3); /* 1 and 3 by their hashes, then 4 */
	/* an old-format row after the new ones is refused */
	store_close(f->st);
	f->st = NULL;
	tamper(f->path,
	    "DROP TRIGGER audit_no_update;"
	    "UPDATE audit SET format=1 WHERE seq=5;");
	reopen(f);
	assert_int_equal(
	    store_audit_verify(f->st, &rows, &bad, reason, sizeof(reason)),
	    VDI_ERR_BAD_FORMAT);
	assert_int_equal(bad, 5);
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

static int
collect_cut(const struct store_cut *c, void *arg)
{
	struct store_cut *out = arg;
	size_t i;

	for (i = 0; out[i].key[0] != '\0'; i++)
		;
	if (i >= 3)
		return VDI_ERR_TOO_LARGE;
	out[i] = *c;
	return 0;
}

static void
store_cut__when_added_and_reopened__listed_until_expiry(void **state)
{
	struct fixture *f = *state;
	struct store_cut a, b, bad, got[4];

	memset(&a, 0, sizeof(a));
	a.kind = STORE_CUT_SESSION;
	snprintf(a.key, sizeof(a.key), "s1");
	snprintf(a.keep_jti, sizeof(a.keep_jti), "jti-new");
	snprintf(a.reason, sizeof(a.reason), "reconnect");
	a.time = 100;
	a.expires = 460;
	b = a;
	b.kind = STORE_CUT_DEVICE;
	snprintf(b.key, sizeof(b.key), "%064d", 7);
	b.keep_jti[0] = '\0';
	snprintf(b.reason, sizeof(b.reason), "device_revoked");
	b.time = 200;
	b.expires = 560;
	assert_int_equal(store_cut_add(f->st, &a), 0);
	assert_int_equal(store_cut_add(f->st, &b), 0);
	assert_true(b.id > a.id);
	bad = a;
	bad.key[0] = '\0';
	assert_int_equal(store_cut_add(f->st, &bad), VDI_ERR_INVALID_ARG);
	/* a broker killed and started again finds them */
	reopen(f);
	memset(got, 0, sizeof(got));
	assert_int_equal(store_cut_list(f->st, 300, collect_cut, got), 0);
	assert_int_equal(got[0].id, a.id);
	assert_int_equal(got[0].kind, STORE_CUT_SESSION);
	assert_string_equal(got[0].key, "s1");
	assert_string_equal(got[0].keep_jti, "jti-new");
	assert_string_equal(got[0].reason, "reconnect");
	assert_int_equal(got[0].time, 100);
	assert_int_equal(got[0].expires, 460);
	assert_int_equal(got[1].kind, STORE_CUT_DEVICE);
	assert_string_equal(got[1].key, b.key);
	assert_string_equal(got[2].key, "");
	/* an expired cut is no longer listed, and pruning deletes it */
	memset(got, 0, sizeof(got));
	assert_int_equal(store_cut_list(f->st, 460, collect_cut, got), 0);
	assert_string_equal(got[0].key, b.key);
	assert_string_equal(got[1].key, "");
	assert_int_equal(store_cut_prune(f->st, 460), 0);
	memset(got, 0, sizeof(got));
	assert_int_equal(store_cut_list(f->st, 0, collect_cut, got), 0);
	assert_string_equal(got[0].key, b.key);
	assert_string_equal(got[1].key, "");
}

struct txn_case {
	const char *inner_id, *outer_id;
	int inner_fails, outer_fails;
};

static int
txn_inner(struct store *st, void *arg)
{
	const struct txn_case *c = arg;
	struct store_session s = mk_session(c->inner_id, "bob", "d2");
	int r;

	if ((r = store_session_create(st, &s)) != 0)
		return r;
	return c->inner_fails ? VDI_ERR_IO : 0;
}

static int
txn_outer(struct store *st, void *arg)
{
	const struct txn_case *c = arg;
	struct store_session s = mk_session(c->outer_id, "alice", "d1");
	int r;

	if ((r = store_session_create(st, &s)) != 0)
		return r;
	/* The inner failure is the outer fn's to judge: it goes on. */
	(void)!store_txn(st, txn_inner, arg);
	return c->outer_fails ? VDI_ERR_DENIED : 0;
}

static void
store_txn__when_nested_call_fails__only_its_changes_undone(void **state)
{
	struct fixture *f = *state;
	struct store_session out;
	struct txn_case ok = { "in1", "out1", 0, 0 };
	struct txn_case inner = { "in2", "out2", 1, 0 };
	struct txn_case outer = { "in3", "out3", 0, 1 };

	assert_int_equal(store_txn(f->st, txn_outer, &ok), 0);
	assert_int_equal(store_txn(f->st, txn_outer, &inner), 0);
	assert_int_equal(store_txn(f->st, txn_outer, &outer), VDI_ERR_DENIED);
	reopen(f);
	assert_int_equal(store_session_get(f->st, "out1", &out), 0);
	assert_int_equal(store_session_get(f->st, "in1", &out), 0);
	/* the failed inner call left nothing, its caller's row stayed */
	assert_int_equal(store_session_get(f->st, "out2", &out), 0);
	assert_int_equal(
	    store_session_get(f->st, "in2", &out), VDI_ERR_NOT_FOUND);
	/* a failing outer call undoes everything, the inner success too */
	assert_int_equal(
	    store_session_get(f->st, "out3", &out), VDI_ERR_NOT_FOUND);
	assert_int_equal(
	    store_session_get(f->st, "in3", &out), VDI_ERR_NOT_FOUND);
}

static void
store_token_use__when_used_twice__first_gateway_named_until_expiry(void **state)
{
	struct fixture *f = *state;
	char first[STORE_NAME_MAX];

	assert_int_equal(store_token_use(f->st, "jti-1", "s1", "gw-a", 100, 460,
			     first, sizeof(first)),
	    0);
	reopen(f);
	assert_int_equal(store_token_use(f->st, "jti-1", "s1", "gw-b", 110, 470,
			     first, sizeof(first)),
	    VDI_ERR_EXISTS);
	assert_string_equal(first, "gw-a");
	assert_int_equal(store_token_use(f->st, "jti-1", "s1", "gw-a", 111, 471,
			     first, sizeof(first)),
	    VDI_ERR_EXISTS);
	assert_string_equal(first, "gw-a");
	assert_int_equal(
	    store_token_gateway(f->st, "jti-1", first, sizeof(first)), 0);
	assert_string_equal(first, "gw-a");
	assert_int_equal(
	    store_token_gateway(f->st, "jti-9", first, sizeof(first)),
	    VDI_ERR_NOT_FOUND);
	assert_int_equal(store_token_use(f->st, "jti-2", "s1", "gw-b", 120, 480,
			     first, sizeof(first)),
	    0);
	/* past its expiry the id is forgotten */
	assert_int_equal(store_token_use(f->st, "jti-1", "s1", "gw-b", 461, 821,
			     first, sizeof(first)),
	    0);
	assert_int_equal(store_token_use(f->st, "", "s1", "gw-b", 1, 2, first,
			     sizeof(first)),
	    VDI_ERR_INVALID_ARG);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Another process holds the write lock past the busy timeout: the write
 * fails, the store reads as down (SQLite's words in reason) and stays down
 * while the lock is held, its probe waiting only briefly; once the lock is
 * gone the next probe, a second later, brings it back by itself. */
static void
store_health__when_a_write_fails__down_until_a_probe_writes(void **state)
{
	struct fixture *f = *state;
	struct store_health h;
	char v[64];
	sqlite3 *db;
	double t;

	assert_int_equal(store_health(f->st, &h), 0);
	assert_int_equal(h.up, 1);
	assert_int_equal(h.failures, 0);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(
	    sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(store_setting_set(f->st, "k", "v"), VDI_ERR_IO);
	assert_int_equal(store_health(f->st, &h), VDI_ERR_IO);
	assert_int_equal(h.up, 0);
	assert_int_equal(h.failures, 1);
	assert_non_null(strstr(h.reason, "locked"));
	sleep(1);
	t = now_s();
	assert_int_equal(store_health(f->st, &h), VDI_ERR_IO); /* probed */
	assert_true(now_s() - t < 1.0);
	assert_true(h.failures >= 2);
	assert_int_equal(store_health(f->st, &h), VDI_ERR_IO); /* not again */
	assert_int_equal(
	    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	sleep(1);
	assert_int_equal(store_health(f->st, &h), 0);
	assert_int_equal(h.up, 1);
	assert_string_equal(h.reason, "");
	assert_int_equal(
	    store_setting_get(f->st, "store.probe", v, sizeof(v)), 0);
	assert_int_equal(store_setting_set(f->st, "k", "v"), 0);
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
		    store_open_sqlite__when_created_or_older_file__private_0600,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    store_device_resolve__when_prefix__unique_ambiguous_or_none,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    store_prune__when_past_retention__old_rows_only, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    store_device__when_seen_then_revoked__times_kept_first_revoker_wins,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    store_session__when_lifecycle__live_lookup_and_counts,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    store_txn__when_nested_call_fails__only_its_changes_undone,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    store_token_use__when_used_twice__first_gateway_named_until_expiry,
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
		    store_ticket_replace_session__when_newer_login__replaced_not_expired,
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
		cmocka_unit_test_setup_teardown(
		    store_audit_verify_chains__when_tenants__each_chain_alone,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    store_audit_verify__when_old_global_chain__still_verifies,
		    setup, teardown),
		cmocka_unit_test(
		    store_audit_hash__when_fields_shift__hash_differs),
		cmocka_unit_test_setup_teardown(
		    store_setting__when_set_and_reopened__kept_deleted_listed,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    store_session_cred__when_session_ends__erased, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    store_cut__when_added_and_reopened__listed_until_expiry,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    store_health__when_a_write_fails__down_until_a_probe_writes,
		    setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
