/*
 * store_sqlite_desktop.c: desktop health and drain flags (see store.h).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "store_sqlite_int.h"

int
store_desktop_set_health(struct store *st, const char *desktop, int healthy,
    const char *reason, int64_t now)
{
	if (!sq_fits(desktop, STORE_NAME_MAX) ||
	    !sq_fits(reason ? reason : "", STORE_TEXT_MAX))
		return VDI_ERR_TOO_LARGE;
	return sq_exec(st,
	    "INSERT INTO desktops (desktop, healthy, last_check, last_ok, "
	    "reason) VALUES (?, ?, ?, CASE WHEN ? THEN ? ELSE 0 END, ?) "
	    "ON CONFLICT(desktop) DO UPDATE SET healthy = "
	    "excluded.healthy,"
	    " last_check = excluded.last_check, reason = excluded.reason, "
	    "last_ok = CASE WHEN excluded.healthy THEN "
	    "excluded.last_check "
	    "ELSE last_ok END",
	    "sninis", desktop, healthy ? 1 : 0, now, healthy ? 1 : 0, now,
	    reason);
}

int
store_desktop_set_drained(struct store *st, const char *desktop, int drained)
{
	if (!sq_fits(desktop, STORE_NAME_MAX))
		return VDI_ERR_TOO_LARGE;
	return sq_exec(st,
	    "INSERT INTO desktops (desktop, drained) VALUES (?, ?) "
	    "ON CONFLICT(desktop) DO UPDATE SET drained = "
	    "excluded.drained",
	    "sn", desktop, drained ? 1 : 0);
}

/* Fills the struct store_desktop at arg (all but its name); returns 1. */
static int
row_desktop(sqlite3_stmt *s, void *arg)
{
	struct store_desktop *out = arg;

	out->healthy = sqlite3_column_int(s, 0);
	out->drained = sqlite3_column_int(s, 1);
	out->last_check = sqlite3_column_int64(s, 2);
	out->last_ok = sqlite3_column_int64(s, 3);
	sq_col_text(s, 4, out->reason, sizeof(out->reason));
	return 1;
}

int
store_desktop_get(
    struct store *st, const char *desktop, struct store_desktop *out)
{
	sqlite3_stmt *s;
	int r;

	r = sq_prepare(st, &s,
	    "SELECT healthy, drained, last_check, last_ok, reason FROM "
	    "desktops WHERE desktop = ?",
	    "s", desktop);
	if (desktop != out->desktop)
		snprintf(out->desktop, sizeof(out->desktop), "%s", desktop);
	memset((char *)out + sizeof(out->desktop), 0,
	    sizeof(*out) - sizeof(out->desktop));
	if (r != 0)
		return r;
	/* A desktop never probed reads as zeros. */
	r = sq_first(st, s, row_desktop, out);
	return r == VDI_ERR_NOT_FOUND ? 0 : r;
}
