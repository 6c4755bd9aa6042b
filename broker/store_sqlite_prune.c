/*
 * store_sqlite_prune.c: retention, deleting what has ended or expired (see
 * store.h).
 */
#include "config.h"

#include <string.h>

#include "store_sqlite_int.h"

int
store_prune(struct store *st, int64_t sessions_before, int64_t tickets_before,
    size_t batch, struct store_pruned *out)
{
	/* In this order: the tickets of the sessions go with them. */
	const struct {
		int64_t before;
		const char *sql;
		uint64_t *count;
	} steps[] = {
		{ sessions_before,
		    "DELETE FROM tickets WHERE session_id IN (SELECT id "
		    "FROM sessions WHERE state = 3 AND ended < ?1 "
		    "ORDER BY ended LIMIT ?2)",
		    &out->tickets },
		{ sessions_before,
		    "DELETE FROM sessions WHERE id IN (SELECT id FROM "
		    "sessions WHERE state = 3 AND ended < ?1 ORDER BY "
		    "ended LIMIT ?2)",
		    &out->sessions },
		{ tickets_before,
		    "DELETE FROM tickets WHERE rowid IN (SELECT rowid "
		    "FROM tickets WHERE expires < ?1 ORDER BY expires "
		    "LIMIT ?2)",
		    &out->tickets },
		{ tickets_before,
		    "DELETE FROM token_uses WHERE rowid IN (SELECT rowid "
		    "FROM token_uses WHERE expires < ?1 ORDER BY expires "
		    "LIMIT ?2)",
		    &out->token_uses },
	};
	size_t i;
	int r;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		if (steps[i].before <= 0)
			continue;
		if ((r = sq_exec(st, steps[i].sql, "ii", steps[i].before,
			 (int64_t)batch)) != 0)
			return r;
		*steps[i].count += (uint64_t)sqlite3_changes(st->db);
	}
	return 0;
}
