/*
 * store_sqlite_int.h: what the files of the SQLite store share (not part
 * of store.h; nothing outside broker/store_sqlite*.c includes it).
 *
 * store_sqlite.c opens the file and runs transactions and statements;
 * store_sqlite_schema.c holds the migrations; the others hold one table
 * family each (devices, desktops, sessions, tickets and token uses, audit,
 * settings, cuts, retention).
 */
#ifndef VDI_BROKER_STORE_SQLITE_INT_H
#define VDI_BROKER_STORE_SQLITE_INT_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

struct store {
	sqlite3 *db;
	int txn_depth;
	char path[512];
	/* store_health(): the last storage-level failure (0: the last write
	 * succeeded), its text, when a probe last ran, whether the failure
	 * was logged. */
	int fail_rc;
	char fail_msg[256];
	int64_t probed_ms;
	uint64_t failures;
};

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

/* Applies the pending migrations (store_sqlite_schema.c); err names the
 * migration that failed. */
int sq_migrate(sqlite3 *db, char *err, size_t errlen) VDI_WUR;

/* PRAGMA user_version in *v. */
int sq_user_version(sqlite3 *db, int *v) VDI_WUR;

/*
 * Prepares sql into *s and binds arguments described by fmt: 's' text
 * (NULL binds ""), 'i' int64, 'n' int. Text longer than STORE_DETAIL_MAX
 * is refused with VDI_ERR_TOO_LARGE. On failure *s is NULL.
 */
int sq_prepare(struct store *st, sqlite3_stmt **s, const char *sql,
    const char *fmt, ...) VDI_WUR;

/* Steps a statement that returns no rows and finalizes it: 0, or
 * VDI_ERR_EXISTS for a constraint, else VDI_ERR_IO. */
int sq_done(struct store *st, sqlite3_stmt *s) VDI_WUR;

/* sq_prepare and sq_done in one. */
int sq_exec(struct store *st, const char *sql, const char *fmt, ...) VDI_WUR;

/* For an UPDATE meant to change one row: r (sq_exec's result) when not
 * 0, else VDI_ERR_NOT_FOUND when the statement changed no row. */
int sq_changed_one(struct store *st, int r) VDI_WUR;

/*
 * Steps s to its end, calling each(s, arg) for every row; stops at the
 * first non-zero value each returns and passes it on. Finalizes s. A SQLite
 * error that is not the callback's is VDI_ERR_IO.
 */
int sq_rows(struct store *st, sqlite3_stmt *s,
    int (*each)(sqlite3_stmt *, void *), void *arg) VDI_WUR;

/* sq_prepare and sq_rows in one, for the list functions: each gets cb. */
int sq_each(struct store *st, int (*each)(sqlite3_stmt *, void *),
    struct row_cb *cb, const char *sql, const char *fmt, ...) VDI_WUR;

/* The first row only: fill(s, arg) must return 1. 0 when a row was
 * filled, VDI_ERR_NOT_FOUND when there was none. Finalizes s. */
int sq_first(struct store *st, sqlite3_stmt *s,
    int (*fill)(sqlite3_stmt *, void *), void *arg) VDI_WUR;

/* The text of the first column of the first row of sql into out ("" and
 * VDI_ERR_NOT_FOUND when there is no row). */
int sq_one_text(struct store *st, char *out, size_t outlen, const char *sql,
    const char *fmt, ...) VDI_WUR;

/* The integer of the first column of the first row of sql (a count),
 * with one text argument. */
int sq_one_int(
    struct store *st, int *out, const char *sql, const char *arg) VDI_WUR;

/* Column col as text into out (NULL reads as ""). */
void sq_col_text(sqlite3_stmt *s, int col, char *out, size_t outlen);

/* Whether s is not NULL and fits a field of max bytes with its NUL. */
int sq_fits(const char *s, size_t max);

/* Records the outcome of a SQLite call for store_health(): rc is the
 * (extended) result code; a storage-level failure marks the store
 * unhealthy (logged once, when it starts); write != 0 says that a write
 * reached the disk (a commit that changed rows, or such a statement
 * outside a transaction), which makes it healthy again. Returns rc. */
int sq_note(struct store *st, int rc, int write);

#endif
