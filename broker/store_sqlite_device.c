/*
 * store_sqlite_device.c: devices seen and revoked (see store.h).
 */
#include "config.h"

#include <string.h>

#include "store_sqlite_int.h"

#define DEVICE_COLS                                                            \
	"tenant, thumbprint, subject, first_seen, last_seen, revoked_at, "     \
	"revoked_by, revoke_reason"

static void
row_device(sqlite3_stmt *s, struct store_device *d)
{
	memset(d, 0, sizeof(*d));
	sq_col_text(s, 0, d->tenant, sizeof(d->tenant));
	sq_col_text(s, 1, d->thumbprint, sizeof(d->thumbprint));
	sq_col_text(s, 2, d->subject, sizeof(d->subject));
	d->first_seen = sqlite3_column_int64(s, 3);
	d->last_seen = sqlite3_column_int64(s, 4);
	d->revoked_at = sqlite3_column_int64(s, 5);
	sq_col_text(s, 6, d->revoked_by, sizeof(d->revoked_by));
	sq_col_text(s, 7, d->revoke_reason, sizeof(d->revoke_reason));
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

	r = sq_prepare(st, &s,
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
	int r;

	memset(out, 0, sizeof(*out));
	if (!sq_fits(tenant, STORE_NAME_MAX) ||
	    !sq_fits(thumbprint, STORE_THUMB_MAX) ||
	    !sq_fits(subject, STORE_TEXT_MAX))
		return VDI_ERR_TOO_LARGE;
	if ((r = sq_exec(st,
		 "INSERT INTO devices (thumbprint, tenant, subject, "
		 "first_seen, last_seen) VALUES (?, ?, ?, ?, ?) "
		 "ON CONFLICT(thumbprint) DO UPDATE SET last_seen = "
		 "excluded.last_seen, subject = excluded.subject, "
		 "first_seen = CASE WHEN first_seen = 0 THEN "
		 "excluded.first_seen "
		 "ELSE first_seen END",
		 "sssii", thumbprint, tenant, subject, now, now)) != 0)
		return r;
	return store_device_get(st, thumbprint, out);
}

int
store_device_revoke(struct store *st, const char *tenant,
    const char *thumbprint, const char *by, const char *reason, int64_t now)
{
	int r;

	if (!sq_fits(tenant, STORE_NAME_MAX) ||
	    !sq_fits(thumbprint, STORE_THUMB_MAX) ||
	    !sq_fits(by, STORE_NAME_MAX) || !sq_fits(reason, STORE_TEXT_MAX))
		return VDI_ERR_TOO_LARGE;
	if ((r = sq_exec(st,
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
	return store_ticket_revoke_device(st, thumbprint);
}

int
store_device_list(struct store *st, const char *tenant,
    int (*fn)(const struct store_device *, void *), void *arg)
{
	struct row_cb cb = { .fn.device = fn, .arg = arg };

	return sq_each(st, each_device, &cb,
	    "SELECT " DEVICE_COLS " FROM devices WHERE (? = '' OR "
	    "tenant = ?) ORDER BY last_seen DESC, thumbprint",
	    "ss", tenant, tenant);
}
