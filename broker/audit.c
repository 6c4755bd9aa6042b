/* audit.c: the audit trail (one row per decision, logged too) and the cuts
 * the broker sends gateways (see broker.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker.h"
#include "gwapi.h"
#include "vlog.h"

int
broker_audit(struct broker *b, const char *actor, const char *action,
    const char *outcome, const char *tenant, const char *user,
    const char *device, const char *session, const char *reason, json_t *detail)
{
	struct store_audit a;
	char *d = NULL;
	int r;

	memset(&a, 0, sizeof(a));
	a.time = broker_now();
	snprintf(a.actor, sizeof(a.actor), "%s", actor ? actor : "broker");
	snprintf(a.action, sizeof(a.action), "%s", action);
	snprintf(a.outcome, sizeof(a.outcome), "%s", outcome);
	snprintf(a.tenant, sizeof(a.tenant), "%s", tenant ? tenant : "");
	snprintf(a.user, sizeof(a.user), "%s", user ? user : "");
	snprintf(a.device, sizeof(a.device), "%s", device ? device : "");
	snprintf(a.session, sizeof(a.session), "%s", session ? session : "");
	snprintf(a.reason, sizeof(a.reason), "%s", reason ? reason : "");
	if (detail != NULL &&
	    (d = json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS)) != NULL) {
		snprintf(a.detail, sizeof(a.detail), "%s", d);
		free(d);
	}
	r = store_audit_append(b->store, &a);
	vlog(r == 0 ? VLOG_INFO : VLOG_ERROR, "audit",
	    "seq=%lld actor=%s action=%s outcome=%s tenant=%s user=%s "
	    "device=%s session=%s reason=%s%s",
	    (long long)a.seq, VLOG_Q(a.actor), VLOG_Q(a.action),
	    VLOG_Q(a.outcome), VLOG_Q(a.tenant), VLOG_Q(a.user),
	    VLOG_Q(a.device), VLOG_Q(a.session), VLOG_Q(a.reason),
	    r == 0 ? "" : " store=failed");
	return r;
}

int
broker_store_failed(const char *op, const char *session, int r)
{
	if (r != 0)
		vlog(VLOG_ERROR, "store_write_failed",
		    "op=%s session=%s error=%s", op,
		    session != NULL ? VLOG_Q(session) : "-", vdi_errname(r));
	return r;
}

int
broker_cut_session(
    struct broker *b, const char *session_id, const char *reason, int end)
{
	struct store_session s;
	int r = 0;

	if (store_session_get(b->store, session_id, &s) == 0 &&
	    s.state != STORE_SESSION_ENDED &&
	    (r = store_session_set_state(b->store, session_id,
		 end ? STORE_SESSION_ENDED : STORE_SESSION_DISCONNECTED, reason,
		 broker_now())) != 0)
		broker_store_failed("session_state", session_id, r);
	gwq_cut(b, session_id, NULL, reason);
	return r;
}

void
broker_cut_device(struct broker *b, const char *thumbprint, const char *reason)
{
	gwq_cut_device(b, thumbprint, reason);
}

void
broker_cut_session_except(struct broker *b, const char *session_id,
    const char *keep_jti, const char *reason)
{
	gwq_cut(b, session_id, keep_jti, reason);
}
