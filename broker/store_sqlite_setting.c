/*
 * store_sqlite_setting.c: run-time settings and the cuts kept for
 * gateways (see store.h).
 */
#include "config.h"

#include <string.h>

#include "store_sqlite_int.h"

/* --- settings ----------------------------------------------------------- */

int
store_setting_get(struct store *st, const char *key, char *out, size_t outlen)
{
	return sq_one_text(st, out, outlen,
	    "SELECT value FROM settings WHERE key = ?", "s", key);
}

int
store_setting_set(struct store *st, const char *key, const char *value)
{
	if (value == NULL)
		return sq_exec(
		    st, "DELETE FROM settings WHERE key = ?", "s", key);
	return sq_exec(st,
	    "INSERT INTO settings (key, value) VALUES (?, ?) "
	    "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
	    "ss", key, value);
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
	struct row_cb cb = { .fn.setting = fn, .arg = arg };

	return sq_each(st, each_setting, &cb,
	    "SELECT key, value FROM settings WHERE substr(key, 1, "
	    "length(?)) = ? ORDER BY key",
	    "ss", prefix, prefix);
}

/* --- cuts for gateways --------------------------------------------------- */

int
store_cut_add(struct store *st, struct store_cut *c)
{
	int r;

	if ((c->kind != STORE_CUT_SESSION && c->kind != STORE_CUT_DEVICE) ||
	    c->key[0] == '\0' || !sq_fits(c->key, sizeof(c->key)) ||
	    !sq_fits(c->keep_jti, sizeof(c->keep_jti)) ||
	    !sq_fits(c->reason, sizeof(c->reason)))
		return VDI_ERR_INVALID_ARG;
	if ((r = sq_exec(st,
		 "INSERT INTO cuts (kind, key, keep_jti, reason, time, "
		 "expires) VALUES (?, ?, ?, ?, ?, ?)",
		 "nsssii", (int)c->kind, c->key, c->keep_jti, c->reason,
		 c->time, c->expires)) != 0)
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
	sq_col_text(s, 2, c.key, sizeof(c.key));
	sq_col_text(s, 3, c.keep_jti, sizeof(c.keep_jti));
	sq_col_text(s, 4, c.reason, sizeof(c.reason));
	c.time = sqlite3_column_int64(s, 5);
	c.expires = sqlite3_column_int64(s, 6);
	return cb->fn.cut(&c, cb->arg);
}

int
store_cut_list(struct store *st, int64_t now,
    int (*fn)(const struct store_cut *, void *), void *arg)
{
	struct row_cb cb = { .fn.cut = fn, .arg = arg };

	return sq_each(st, each_cut, &cb,
	    "SELECT id, kind, key, keep_jti, reason, time, expires "
	    "FROM cuts WHERE expires > ? ORDER BY id",
	    "i", now);
}

int
store_cut_prune(struct store *st, int64_t now)
{
	return sq_exec(st, "DELETE FROM cuts WHERE expires <= ?", "i", now);
}
