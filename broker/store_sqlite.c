/*
 * store_sqlite.c: the broker store on SQLite in WAL mode (see store.h):
 * opening the file, transactions, the statement helpers every table file
 * uses (store_sqlite_int.h), and the store's health.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store_sqlite_int.h"
#include "vlog.h"

/* How long a statement waits for a lock another process holds. */
#define STORE_BUSY_MS 5000

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
	sqlite3_busy_timeout(st->db, STORE_BUSY_MS);
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
	if ((r = sq_migrate(st->db, err, errlen)) != 0)
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

/* Runs one transaction-control statement (BEGIN, COMMIT, ...), noting a
 * storage-level failure for store_health(). */
static int
txn_exec(struct store *st, const char *sql)
{
	return sq_note(st, sqlite3_exec(st->db, sql, NULL, NULL, NULL), 0) ==
		SQLITE_OK
	    ? 0
	    : VDI_ERR_IO;
}

int
store_txn(struct store *st, int (*fn)(struct store *, void *), void *arg)
{
	int64_t changes;
	int r;

	if (st->txn_depth > 0) {
		/* Nested: a savepoint, so that a failing inner call undoes
		 * its own changes and the outer one decides about the rest. */
		char sql[64];

		snprintf(sql, sizeof(sql), "SAVEPOINT txn%d", st->txn_depth);
		if (txn_exec(st, sql) != 0)
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
		if (txn_exec(st, sql) != 0 && r == 0)
			r = VDI_ERR_IO;
		return r;
	}
	if (txn_exec(st, "BEGIN IMMEDIATE") != 0)
		return VDI_ERR_IO;
	changes = sqlite3_total_changes64(st->db);
	st->txn_depth = 1;
	r = fn(st, arg);
	st->txn_depth = 0;
	if (r == 0) {
		if (txn_exec(st, "COMMIT") != 0) {
			sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
			return VDI_ERR_IO;
		}
		/* Only a transaction that wrote shows that writes work. */
		if (sqlite3_total_changes64(st->db) != changes)
			sq_note(st, SQLITE_DONE, 1);
		return 0;
	}
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return r;
}

/* --- statement helpers (store_sqlite_int.h) ----------------------------- */

static int
vprepare(struct store *st, sqlite3_stmt **s, const char *sql, const char *fmt,
    va_list ap)
{
	const char *str;
	int i, r = 0;

	*s = NULL;
	if (sq_note(st, sqlite3_prepare_v2(st->db, sql, -1, s, NULL), 0) !=
	    SQLITE_OK)
		return VDI_ERR_IO;
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
	if (r != 0) {
		sqlite3_finalize(*s);
		*s = NULL;
	}
	return r;
}

int
sq_prepare(
    struct store *st, sqlite3_stmt **s, const char *sql, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vprepare(st, s, sql, fmt, ap);
	va_end(ap);
	return r;
}

int
sq_done(struct store *st, sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);

	/* A write outside a transaction that changed rows is on disk. */
	sq_note(st, rc,
	    rc == SQLITE_DONE && st->txn_depth == 0 &&
		!sqlite3_stmt_readonly(s) && sqlite3_changes(st->db) > 0);
	sqlite3_finalize(s);
	if (rc == SQLITE_DONE)
		return 0;
	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		return VDI_ERR_EXISTS;
	return VDI_ERR_IO;
}

int
sq_exec(struct store *st, const char *sql, const char *fmt, ...)
{
	sqlite3_stmt *s;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vprepare(st, &s, sql, fmt, ap);
	va_end(ap);
	return r != 0 ? r : sq_done(st, s);
}

int
sq_changed_one(struct store *st, int r)
{
	return r != 0                      ? r
	    : sqlite3_changes(st->db) == 1 ? 0
					   : VDI_ERR_NOT_FOUND;
}

int
sq_each(struct store *st, int (*each)(sqlite3_stmt *, void *),
    struct row_cb *cb, const char *sql, const char *fmt, ...)
{
	sqlite3_stmt *s;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vprepare(st, &s, sql, fmt, ap);
	va_end(ap);
	return r != 0 ? r : sq_rows(st, s, each, cb);
}

int
sq_rows(struct store *st, sqlite3_stmt *s, int (*each)(sqlite3_stmt *, void *),
    void *arg)
{
	int r = 0, rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if ((r = each(s, arg)) != 0)
			break;
	if (rc != SQLITE_ROW)
		sq_note(st, rc, 0);
	sqlite3_finalize(s);
	if (r == 0 && rc != SQLITE_DONE)
		return VDI_ERR_IO;
	return r;
}

int
sq_first(struct store *st, sqlite3_stmt *s, int (*fill)(sqlite3_stmt *, void *),
    void *arg)
{
	int r = sq_rows(st, s, fill, arg);

	return r == 1 ? 0 : r == 0 ? VDI_ERR_NOT_FOUND : r;
}

/* The first column of a row, as text (arg: struct col_out) or an int. */
struct col_out {
	char *text;
	size_t len;
	int *num;
};

static int
first_col(sqlite3_stmt *s, void *arg)
{
	struct col_out *o = arg;

	if (o->text != NULL)
		sq_col_text(s, 0, o->text, o->len);
	else
		*o->num = sqlite3_column_int(s, 0);
	return 1;
}

int
sq_one_text(struct store *st, char *out, size_t outlen, const char *sql,
    const char *fmt, ...)
{
	struct col_out o = { out, outlen, NULL };
	sqlite3_stmt *s;
	va_list ap;
	int r;

	/* Bind first (SQLite copies the text): an argument may be out. */
	va_start(ap, fmt);
	r = vprepare(st, &s, sql, fmt, ap);
	va_end(ap);
	if (outlen > 0)
		out[0] = '\0';
	return r != 0 ? r : sq_first(st, s, first_col, &o);
}

int
sq_one_int(struct store *st, int *out, const char *sql, const char *arg)
{
	struct col_out o = { NULL, 0, out };
	sqlite3_stmt *s;
	int r;

	*out = 0;
	if ((r = sq_prepare(st, &s, sql, "s", arg)) != 0)
		return r;
	/* An aggregate always has its row. */
	return (r = sq_first(st, s, first_col, &o)) == VDI_ERR_NOT_FOUND
	    ? VDI_ERR_IO
	    : r;
}

void
sq_col_text(sqlite3_stmt *s, int col, char *out, size_t outlen)
{
	const unsigned char *t = sqlite3_column_text(s, col);

	snprintf(out, outlen, "%s", t != NULL ? (const char *)t : "");
}

int
sq_fits(const char *s, size_t max)
{
	return s != NULL && strlen(s) < max;
}

/* --- health ------------------------------------------------------------- */

/* At most one write probe this often while the store is failing. */
#define PROBE_INTERVAL_MS 1000
/* How long a probe waits for a lock another process holds. */
#define PROBE_BUSY_MS 100

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A failure of the storage under SQLite (the disk, the file, the lock), as
 * opposed to a refused statement (a constraint, a bad argument). */
static int
storage_failure(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_FULL:
	case SQLITE_IOERR:
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
	case SQLITE_READONLY:
	case SQLITE_CANTOPEN:
	case SQLITE_PERM:
	case SQLITE_PROTOCOL:
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
	case SQLITE_NOLFS:
		return 1;
	}
	return 0;
}

int
sq_note(struct store *st, int rc, int write)
{
	if (storage_failure(rc)) {
		st->failures++;
		st->probed_ms = mono_ms(); /* the failed write was a probe */
		if (st->fail_rc == 0 || st->fail_rc != rc) {
			snprintf(st->fail_msg, sizeof(st->fail_msg),
			    "%s (SQLite code %d)", sqlite3_errmsg(st->db), rc);
			if (st->fail_rc == 0)
				vlog(VLOG_ERROR, "store_unavailable",
				    "store=%s error=%s", VLOG_Q(st->path),
				    VLOG_Q(st->fail_msg));
		}
		st->fail_rc = rc;
	} else if (write && st->fail_rc != 0) {
		vlog(VLOG_NOTICE, "store_recovered", "store=%s failures=%llu",
		    VLOG_Q(st->path), (unsigned long long)st->failures);
		st->fail_rc = 0;
		st->fail_msg[0] = '\0';
	}
	return rc;
}

/* One real write in its own transaction: the row is the store's own and
 * nothing reads it. */
static int
probe_txn(struct store *st, void *arg)
{
	(void)arg;
	return sq_exec(st,
	    "INSERT INTO settings (key, value) VALUES ('store.probe', ?) "
	    "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
	    "i", (int64_t)time(NULL));
}

int
store_health(struct store *st, struct store_health *out)
{
	int64_t now;

	memset(out, 0, sizeof(*out));
	if (st->fail_rc != 0 && st->txn_depth == 0 &&
	    (now = mono_ms()) - st->probed_ms >= PROBE_INTERVAL_MS) {
		st->probed_ms = now;
		sqlite3_busy_timeout(st->db, PROBE_BUSY_MS);
		(void)!store_txn(st, probe_txn, NULL); /* noted either way */
		sqlite3_busy_timeout(st->db, STORE_BUSY_MS);
	}
	out->up = st->fail_rc == 0;
	out->failures = st->failures;
	snprintf(out->reason, sizeof(out->reason), "%s", st->fail_msg);
	return out->up ? 0 : VDI_ERR_IO;
}
