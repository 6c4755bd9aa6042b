/*
 * store_sqlite_session.c: sessions, their sealed credentials and
 * monitor grants, and persistent assignments (see store.h).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "store_sqlite_int.h"

/* --- sessions ----------------------------------------------------------- */

#define SESSION_COLS                                                           \
	"id, tenant, user, device, pool, desktop, gateway, state, "            \
	"shared_device, created, updated, ended, end_reason, "                 \
	"reconnect_window, "                                                   \
	"deadline"

/* Fills the struct store_session at arg from the row; returns 1
 * (sq_first). */
static int
row_session(sqlite3_stmt *s, void *arg)
{
	struct store_session *x = arg;

	memset(x, 0, sizeof(*x));
	sq_col_text(s, 0, x->id, sizeof(x->id));
	sq_col_text(s, 1, x->tenant, sizeof(x->tenant));
	sq_col_text(s, 2, x->user, sizeof(x->user));
	sq_col_text(s, 3, x->device, sizeof(x->device));
	sq_col_text(s, 4, x->pool, sizeof(x->pool));
	sq_col_text(s, 5, x->desktop, sizeof(x->desktop));
	sq_col_text(s, 6, x->gateway, sizeof(x->gateway));
	x->state = (enum store_session_state)sqlite3_column_int(s, 7);
	x->shared_device = sqlite3_column_int(s, 8);
	x->created = sqlite3_column_int64(s, 9);
	x->updated = sqlite3_column_int64(s, 10);
	x->ended = sqlite3_column_int64(s, 11);
	sq_col_text(s, 12, x->end_reason, sizeof(x->end_reason));
	x->reconnect_window = sqlite3_column_int64(s, 13);
	x->deadline = sqlite3_column_int64(s, 14);
	return 1;
}

static int
each_session(sqlite3_stmt *s, void *arg)
{
	struct row_cb *cb = arg;
	struct store_session x;

	(void)row_session(s, &x);
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
	if (x->id[0] == '\0' || x->state > STORE_SESSION_ENDED)
		return VDI_ERR_INVALID_ARG;
	return sq_exec(st,
	    "INSERT INTO sessions (" SESSION_COLS
	    ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	    "sssssssnniiisii", x->id, x->tenant, x->user, x->device, x->pool,
	    x->desktop, x->gateway, (int)x->state, x->shared_device, x->created,
	    x->updated, x->ended, x->end_reason, x->reconnect_window,
	    x->deadline);
}

static int
session_one(struct store *st, struct store_session *out, const char *sql,
    const char *a, const char *b)
{
	sqlite3_stmt *s;
	int r;

	/* Bind first (SQLite copies the text): a and b may point into out. */
	if (b != NULL)
		r = sq_prepare(st, &s, sql, "ss", a, b);
	else
		r = sq_prepare(st, &s, sql, "s", a);
	memset(out, 0, sizeof(*out));
	if (r != 0)
		return r;
	return sq_first(st, s, row_session, out);
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
	int r;

	if (state > STORE_SESSION_ENDED ||
	    !sq_fits(reason ? reason : "", STORE_TEXT_MAX))
		return VDI_ERR_INVALID_ARG;
	if ((r = sq_exec(st,
		 "UPDATE sessions SET state = ?, updated = ?, "
		 "ended = CASE WHEN ? = 3 THEN ? ELSE ended END, "
		 "end_reason = CASE WHEN ? = 3 THEN ? ELSE end_reason END, "
		 "cred = CASE WHEN ? = 3 THEN '' ELSE cred END "
		 "WHERE id = ? AND state < 3",
		 "ninnnsns", (int)state, now, (int)state, now, (int)state,
		 reason, (int)state, id)) != 0)
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
	if (!sq_fits(device, STORE_THUMB_MAX))
		return VDI_ERR_TOO_LARGE;
	return sq_changed_one(st,
	    sq_exec(st,
		"UPDATE sessions SET device = ?, shared_device = ?, "
		"updated = ? WHERE id = ? AND state < 3",
		"snis", device, shared_device, now, id));
}

int
store_session_renew(
    struct store *st, const char *id, int64_t reconnect_window, int64_t now)
{
	if (reconnect_window < 0)
		return VDI_ERR_INVALID_ARG;
	return sq_changed_one(st,
	    sq_exec(st,
		"UPDATE sessions SET reconnect_window = ?, updated = ? "
		"WHERE id = ? AND state < 3",
		"iis", reconnect_window, now, id));
}

int
store_session_list_due(struct store *st, int64_t now, int64_t pending_ttl,
    int (*fn)(const struct store_session *, void *), void *arg)
{
	struct row_cb cb = { .fn.session = fn, .arg = arg };

	if (pending_ttl < 0)
		return VDI_ERR_INVALID_ARG;
	return sq_each(st, each_session, &cb,
	    "SELECT " SESSION_COLS " FROM sessions WHERE state < 3 AND "
	    "((deadline > 0 AND deadline <= ?) OR "
	    "(state = 0 AND updated + ? <= ?) OR "
	    "(state = 2 AND updated + max(reconnect_window, ?) <= ?)) "
	    "ORDER BY created, id",
	    "iiiii", now, pending_ttl, now, pending_ttl, now);
}

int
store_session_count_on_desktop(
    struct store *st, const char *desktop, int *count)
{
	return sq_one_int(st, count,
	    "SELECT count(*) FROM sessions WHERE desktop = ? AND state < 3",
	    desktop);
}

int
store_session_list(struct store *st, int include_ended,
    int (*fn)(const struct store_session *, void *), void *arg)
{
	struct row_cb cb = { .fn.session = fn, .arg = arg };

	return sq_each(st, each_session, &cb,
	    "SELECT " SESSION_COLS " FROM sessions WHERE (? OR state < 3) "
	    "ORDER BY created, id",
	    "n", include_ended ? 1 : 0);
}

/* A live session's text column (col: "cred" or "grant_rec", never a
 * caller's string): set (VDI_ERR_NOT_FOUND when the session is gone or
 * ended) and get (out NULL; VDI_ERR_NOT_FOUND also when empty). */
static int
session_text(struct store *st, const char *col, const char *id, const char *v,
    char *out, size_t outlen)
{
	char sql[96];
	int r;

	if (out == NULL) {
		snprintf(sql, sizeof(sql),
		    "UPDATE sessions SET %s = ? WHERE id = ? AND state < 3",
		    col);
		return sq_changed_one(
		    st, sq_exec(st, sql, "ss", v != NULL ? v : "", id));
	}
	snprintf(sql, sizeof(sql),
	    "SELECT %s FROM sessions WHERE id = ? AND state < 3", col);
	if ((r = sq_one_text(st, out, outlen, sql, "s", id)) != 0)
		return r;
	return outlen > 0 && out[0] != '\0' ? 0 : VDI_ERR_NOT_FOUND;
}

int
store_session_set_cred(struct store *st, const char *id, const char *cred)
{
	return session_text(st, "cred", id, cred, NULL, 0);
}

int
store_session_set_grant(struct store *st, const char *id, const char *grant)
{
	return session_text(st, "grant_rec", id, grant, NULL, 0);
}

int
store_session_get_cred(
    struct store *st, const char *id, char *out, size_t outlen)
{
	return session_text(st, "cred", id, NULL, out, outlen);
}

int
store_session_get_grant(
    struct store *st, const char *id, char *out, size_t outlen)
{
	return session_text(st, "grant_rec", id, NULL, out, outlen);
}

/* --- assignments -------------------------------------------------------- */

int
store_assignment_get(struct store *st, const char *tenant, const char *user,
    const char *pool, char *desktop, size_t desktop_len)
{
	return sq_one_text(st, desktop, desktop_len,
	    "SELECT desktop FROM assignments WHERE tenant = ? AND "
	    "user = ? AND pool = ?",
	    "sss", tenant, user, pool);
}

int
store_assignment_set(struct store *st, const char *tenant, const char *user,
    const char *pool, const char *desktop, int64_t now)
{
	if (!sq_fits(tenant, STORE_NAME_MAX) ||
	    !sq_fits(user, STORE_NAME_MAX) || !sq_fits(pool, STORE_NAME_MAX) ||
	    !sq_fits(desktop, STORE_NAME_MAX))
		return VDI_ERR_TOO_LARGE;
	return sq_exec(st,
	    "INSERT INTO assignments (tenant, user, pool, desktop, "
	    "created) VALUES (?, ?, ?, ?, ?) ON CONFLICT(tenant, user, "
	    "pool) DO UPDATE SET desktop = excluded.desktop",
	    "ssssi", tenant, user, pool, desktop, now);
}

int
store_assignment_count(struct store *st, const char *desktop, int *count)
{
	return sq_one_int(st, count,
	    "SELECT count(*) FROM assignments WHERE desktop = ?", desktop);
}
