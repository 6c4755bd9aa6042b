/*
 * store_sqlite_audit.c: the append-only audit log: append, query,
 * verify the chains, resolve a device prefix (see store.h).
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_sqlite_int.h"

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
	sq_col_text(s, 2, a->actor, sizeof(a->actor));
	sq_col_text(s, 3, a->action, sizeof(a->action));
	sq_col_text(s, 4, a->outcome, sizeof(a->outcome));
	sq_col_text(s, 5, a->tenant, sizeof(a->tenant));
	sq_col_text(s, 6, a->user, sizeof(a->user));
	sq_col_text(s, 7, a->device, sizeof(a->device));
	sq_col_text(s, 8, a->session, sizeof(a->session));
	sq_col_text(s, 9, a->reason, sizeof(a->reason));
	sq_col_text(s, 10, a->detail, sizeof(a->detail));
	sq_col_text(s, 11, a->prev_hash, sizeof(a->prev_hash));
	sq_col_text(s, 12, a->hash, sizeof(a->hash));
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
	if ((r = sq_prepare(st, &s, "SELECT max(seq) FROM audit", "")) != 0)
		return r;
	rc = sq_note(st, sqlite3_step(s), 0);
	ev->seq = (rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0) + 1;
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW)
		return VDI_ERR_IO;
	r = sq_one_text(st, ev->prev_hash, sizeof(ev->prev_hash),
	    "SELECT hash FROM audit WHERE tenant = ? AND format = 2 "
	    "ORDER BY seq DESC LIMIT 1",
	    "s", ev->tenant);
	if (r == VDI_ERR_NOT_FOUND) {
		memset(ev->prev_hash, '0', 64);
		ev->prev_hash[64] = '\0';
	} else if (r != 0)
		return r;
	ev->format = 2;
	store_audit_hash(ev, ev->hash);
	return sq_exec(st,
	    "INSERT INTO audit (" AUDIT_COLS
	    ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	    "iisssssssssssn", ev->seq, ev->time, ev->actor, ev->action,
	    ev->outcome, ev->tenant, ev->user, ev->device, ev->session,
	    ev->reason, ev->detail, ev->prev_hash, ev->hash, ev->format);
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
	if ((r = sq_prepare(st, &s,
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
	return sq_rows(st, s, each_audit, &cb);
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
	if ((r = sq_prepare(st, &s,
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
			sq_col_text(s, 0, out, STORE_THUMB_MAX);
	}
	if (r == 0 && sq_note(st, rc, 0) != SQLITE_DONE)
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

/* The verdict on a row that fails: its seq in *bad_seq, why in reason. */
static int bad_row(int64_t *bad_seq, int64_t seq, char *reason,
    size_t reason_len, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int
bad_row(int64_t *bad_seq, int64_t seq, char *reason, size_t reason_len,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, reason_len, fmt, ap);
	va_end(ap);
	*bad_seq = seq;
	return VDI_ERR_BAD_FORMAT;
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
	if ((r = sq_prepare(st, &s,
		 "SELECT " AUDIT_COLS " FROM audit ORDER BY seq", "")) != 0)
		return r;
	r = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		row_audit(s, &a);
		/* Only a caller who sees every row can tell a gap in seq from
		 * another tenant's row. */
		if (tenants == NULL && a.seq != expect_seq) {
			r = bad_row(bad_seq, expect_seq, reason, reason_len,
			    "row %lld missing (next row is %lld)",
			    (long long)expect_seq, (long long)a.seq);
			break;
		}
		expect_seq = a.seq + 1;
		if (!in_scope(tenants, ntenants, a.tenant))
			continue;
		if (a.format == 1 && tenants == NULL && seen_v2) {
			r = bad_row(bad_seq, a.seq, reason, reason_len,
			    "row %lld is in the old single-chain format after "
			    "rows of per-tenant chains",
			    (long long)a.seq);
			break;
		}
		if (a.format == 1) {
			/* The old global chain links across tenants: only
			 * a caller who sees every row can follow it. */
			if (tenants == NULL && strcmp(a.prev_hash, prev) != 0) {
				r = bad_row(bad_seq, a.seq, reason, reason_len,
				    "row %lld does not link to the row before "
				    "it",
				    (long long)a.seq);
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
				r = bad_row(bad_seq, a.seq, reason, reason_len,
				    "row %lld does not link to the row before "
				    "it in the chain of tenant \"%s\"",
				    (long long)a.seq, a.tenant);
				break;
			}
		} else {
			r = bad_row(bad_seq, a.seq, reason, reason_len,
			    "row %lld has an unknown format %d",
			    (long long)a.seq, a.format);
			break;
		}
		store_audit_hash(&a, h);
		if (strcmp(h, a.hash) != 0) {
			r = bad_row(bad_seq, a.seq, reason, reason_len,
			    "row %lld was changed after it was written "
			    "(hash mismatch)",
			    (long long)a.seq);
			break;
		}
		if (c != NULL) {
			memcpy(c->last, a.hash, sizeof(c->last));
			c->rows++;
		}
		memcpy(prev, a.hash, sizeof(prev));
		(*rows)++;
	}
	if (r == 0 && sq_note(st, rc, 0) != SQLITE_DONE)
		r = VDI_ERR_IO;
	sqlite3_finalize(s);
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
