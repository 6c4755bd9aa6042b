/*
 * store_sqlite_ticket.c: reconnect tickets (stored hashed) and gateway
 * token uses (see store.h).
 */
#include "config.h"

#include <string.h>

#include "store_sqlite_int.h"

/* --- tickets ------------------------------------------------------------ */

/* used_at of a ticket that can never be used: voided (idle end, logoff,
 * revoked device, ...) or replaced by a newer login into its session. */
#define TICKET_VOIDED   (-1)
#define TICKET_REPLACED (-2)

int
store_ticket_put(struct store *st, const char *hash_hex, const char *session_id,
    const char *device, int64_t expires, int64_t now)
{
	if (!sq_fits(hash_hex, 65) || !sq_fits(session_id, STORE_ID_MAX) ||
	    !sq_fits(device, STORE_THUMB_MAX))
		return VDI_ERR_TOO_LARGE;
	return sq_exec(st,
	    "INSERT INTO tickets (hash, session_id, device, created, "
	    "expires) VALUES (?, ?, ?, ?, ?)",
	    "sssii", hash_hex, session_id, device, now, expires);
}

struct ticket_use {
	const char *hash, *device;
	int64_t now;
	char *session_id;
	/* the ticket's row */
	char dev[STORE_THUMB_MAX], sid[STORE_ID_MAX];
	int64_t expires, used;
};

static int
row_ticket(sqlite3_stmt *s, void *arg)
{
	struct ticket_use *u = arg;

	sq_col_text(s, 0, u->sid, sizeof(u->sid));
	sq_col_text(s, 1, u->dev, sizeof(u->dev));
	u->expires = sqlite3_column_int64(s, 2);
	u->used = sqlite3_column_int64(s, 3);
	return 1;
}

static int
ticket_use_txn(struct store *st, void *arg)
{
	struct ticket_use *u = arg;
	sqlite3_stmt *s;
	int r;

	if ((r = sq_prepare(st, &s,
		 "SELECT session_id, device, expires, used_at FROM tickets "
		 "WHERE hash = ?",
		 "s", u->hash)) != 0 ||
	    (r = sq_first(st, s, row_ticket, u)) != 0)
		return r;
	/* The session is named on refusals too, for the audit log. */
	memcpy(u->session_id, u->sid, STORE_ID_MAX);
	if (u->used == TICKET_VOIDED)
		return VDI_ERR_TOKEN_EXPIRED; /* idle end, logoff, ... */
	if (u->used == TICKET_REPLACED)
		return VDI_ERR_REPLACED; /* a newer login took the session */
	if (u->used != 0)
		return VDI_ERR_EXISTS;
	if (strcmp(u->dev, u->device) != 0)
		return VDI_ERR_DENIED;
	if (u->now >= u->expires)
		return VDI_ERR_TOKEN_EXPIRED;
	r = sq_changed_one(st,
	    sq_exec(st,
		"UPDATE tickets SET used_at = ? WHERE hash = ? AND used_at = 0",
		"is", u->now, u->hash));
	return r == VDI_ERR_NOT_FOUND ? VDI_ERR_EXISTS : r;
}

int
store_ticket_use(struct store *st, const char *hash_hex, const char *device,
    int64_t now, char session_id[STORE_ID_MAX])
{
	struct ticket_use u;

	memset(&u, 0, sizeof(u));
	u.hash = hash_hex;
	u.device = device;
	u.now = now;
	u.session_id = session_id;
	session_id[0] = '\0';
	return store_txn(st, ticket_use_txn, &u);
}

int
store_ticket_set_expiry(
    struct store *st, const char *session_id, int64_t expires)
{
	return sq_exec(st,
	    "UPDATE tickets SET expires = ? WHERE session_id = ? AND "
	    "used_at = 0",
	    "is", expires, session_id);
}

/* Marks the unused tickets of a session (by_device 0) or of a device
 * (by_device 1) with used_at = mark (TICKET_VOIDED or TICKET_REPLACED):
 * a ticket that can never be used again. */
static int
tickets_void(struct store *st, int by_device, const char *key, int64_t mark)
{
	return sq_exec(st,
	    by_device ? "UPDATE tickets SET used_at = ? WHERE device = ? AND "
			"used_at = 0"
		      : "UPDATE tickets SET used_at = ? WHERE session_id = ? "
			"AND used_at = 0",
	    "is", mark, key);
}

int
store_ticket_revoke_session(struct store *st, const char *session_id)
{
	return tickets_void(st, 0, session_id, TICKET_VOIDED);
}

int
store_ticket_replace_session(struct store *st, const char *session_id)
{
	return tickets_void(st, 0, session_id, TICKET_REPLACED);
}

int
store_ticket_revoke_device(struct store *st, const char *device)
{
	return tickets_void(st, 1, device, TICKET_VOIDED);
}

/* --- gateway tokens used ------------------------------------------------ */

struct token_use {
	const char *jti, *session_id, *gateway;
	int64_t now, expires;
	char *first;
	size_t firstlen;
};

static int
token_use_txn(struct store *st, void *arg)
{
	struct token_use *u = arg;
	int r;

	/* Forget what can no longer be used (the table stays small). */
	if ((r = sq_exec(st, "DELETE FROM token_uses WHERE expires < ?", "i",
		 u->now)) != 0)
		return r;
	r = sq_one_text(st, u->first, u->firstlen,
	    "SELECT gateway FROM token_uses WHERE jti = ?", "s", u->jti);
	if (r != VDI_ERR_NOT_FOUND)
		return r == 0 ? VDI_ERR_EXISTS : r;
	return sq_exec(st,
	    "INSERT INTO token_uses (jti, session_id, gateway, used_at, "
	    "expires) VALUES (?, ?, ?, ?, ?)",
	    "sssii", u->jti, u->session_id, u->gateway, u->now, u->expires);
}

int
store_token_gateway(
    struct store *st, const char *jti, char *gateway, size_t gateway_len)
{
	if (gateway == NULL || gateway_len == 0)
		return VDI_ERR_INVALID_ARG;
	gateway[0] = '\0';
	if (!sq_fits(jti, 65))
		return VDI_ERR_TOO_LARGE;
	return sq_one_text(st, gateway, gateway_len,
	    "SELECT gateway FROM token_uses WHERE jti = ?", "s", jti);
}

int
store_token_use(struct store *st, const char *jti, const char *session_id,
    const char *gateway, int64_t now, int64_t expires, char *first_gateway,
    size_t first_len)
{
	struct token_use u = { jti, session_id, gateway, now, expires,
		first_gateway, first_len };

	if (first_gateway != NULL && first_len > 0)
		first_gateway[0] = '\0';
	if (!sq_fits(jti, 65) || *jti == '\0' ||
	    !sq_fits(session_id, STORE_ID_MAX) ||
	    !sq_fits(gateway, STORE_NAME_MAX) || first_gateway == NULL ||
	    first_len == 0)
		return jti != NULL && *jti == '\0' ? VDI_ERR_INVALID_ARG
						   : VDI_ERR_TOO_LARGE;
	return store_txn(st, token_use_txn, &u);
}
