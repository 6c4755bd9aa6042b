/* admin.c: the admin commands, each scoped to its caller's tenants (see
 * admin.h); the socket is admin_sock.c. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "assign.h"
#include "grant.h"
#include "gwapi.h"
#include "status.h"
#include "vlog.h"

static json_t *
fail(const char *code, const char *msg)
{
	return json_pack(
	    "{s:b, s:s, s:s}", "ok", 0, "error", code, "message", msg);
}

json_t *
admin_fail(const char *code, const char *msg)
{
	return fail(code, msg);
}

/* policy_warnings() callback: appends the line to a JSON array. */
static void
add_warning(const char *line, void *arg)
{
	json_array_append_new(arg, json_string(line));
}

static json_t *
ok(json_t *extra)
{
	json_t *o = json_pack("{s:b}", "ok", 1);

	if (o != NULL && extra != NULL)
		json_object_update(o, extra);
	json_decref(extra);
	return o;
}

/* ---- tenant scope -------------------------------------------------------- */

/* 1 when c may act on tenant: an operator, or an admin of a tenant of the
 * current policy (its admins or admin_groups name c). Rows of no tenant
 * ("") and of tenants the policy no longer lists are the operators'. */
static int
may(struct broker *b, const struct admin_caller *c, const char *tenant)
{
	if (c->all)
		return 1;
	if (tenant == NULL || *tenant == '\0')
		return 0;
	return policy_tenant_is_admin(policy_tenant_lookup(b->policy, tenant),
	    c->user, (const char *const *)c->groups, c->ngroups);
}

/* Refuses a request of c on tenant (NULL or "": a request that acts on
 * every tenant), audits the refusal in that tenant's chain with the
 * caller and what was asked, and returns the reply. */
static json_t *
forbidden(struct broker *b, const struct admin_caller *c, const char *action,
    const char *tenant, const char *user, const char *device,
    const char *session, json_t *detail)
{
	char msg[STORE_TEXT_MAX - 16], why[STORE_TEXT_MAX];

	if (tenant != NULL && *tenant != '\0')
		snprintf(msg, sizeof(msg),
		    "tenant %s is not administered by %s", tenant, c->user);
	else
		snprintf(msg, sizeof(msg),
		    "%s acts on every tenant: only root and the operators "
		    "group may, not %s",
		    action, c->user);
	snprintf(why, sizeof(why), "forbidden: %s", msg);
	broker_audit(b, c->actor, action, "refused", tenant, user, device,
	    session, why, detail);
	return fail("forbidden", msg);
}

/* The tenants of the policy c administers, in *out (pointers into the
 * policy; the caller frees the array). Operators get NULL: every tenant,
 * also rows of no tenant and of tenants the policy no longer lists. */
static int
scope(struct broker *b, const struct admin_caller *c, const char ***out,
    size_t *n)
{
	const struct policy_tenant *t;
	size_t i;

	*out = NULL;
	*n = 0;
	if (c->all)
		return 0;
	if ((*out = calloc(
		 policy_tenant_count(b->policy) + 1, sizeof(**out))) == NULL)
		return VDI_ERR_ALLOC;
	for (i = 0; i < policy_tenant_count(b->policy); i++) {
		t = policy_tenant_at(b->policy, i);
		if (may(b, c, policy_tenant_name(t)))
			(*out)[(*n)++] = policy_tenant_name(t);
	}
	return 0;
}

/* A --tenant that names no tenant of the policy is an error, not an
 * empty list: the caller mistyped it. Returns NULL when tenant is NULL or
 * known, else the reply. */
static json_t *
unknown_tenant(struct broker *b, const char *tenant)
{
	char msg[STORE_TEXT_MAX];

	if (tenant == NULL || policy_tenant_lookup(b->policy, tenant) != NULL)
		return NULL;
	snprintf(msg, sizeof(msg), "no tenant %.200s in the policy", tenant);
	return fail("not_found", msg);
}

/* The device a thumbprint or a unique prefix of one names (devices seen and
 * devices in the audit log of the tenants in scope: NULL every tenant).
 * Returns NULL with the full thumbprint in out, else the reply. */
static json_t *
resolve_device(struct broker *b, const char *given, const char **tenants,
    size_t ntenants, char out[STORE_THUMB_MAX])
{
	char msg[STORE_TEXT_MAX];
	int n = 0, r;

	r = store_device_resolve(b->store, given, tenants, ntenants, out, &n);
	if (r == 0)
		return NULL;
	if (r == VDI_ERR_INVALID_ARG)
		return fail("bad_request",
		    "a device is its certificate's SHA-256 thumbprint, or the "
		    "start of it, in lower-case hex (vdictl devices list)");
	if (r == VDI_ERR_NOT_FOUND && strlen(given) == 64 &&
	    strspn(given, "0123456789abcdef") == 64) {
		/* A whole thumbprint needs no resolving: a device not seen
		 * yet (its audit is empty, it may be revoked ahead). */
		snprintf(out, STORE_THUMB_MAX, "%s", given);
		return NULL;
	}
	if (r == VDI_ERR_NOT_FOUND) {
		snprintf(msg, sizeof(msg),
		    "no device thumbprint starts with %s", given);
		return fail("not_found", msg);
	}
	if (r == VDI_ERR_EXISTS) {
		snprintf(msg, sizeof(msg),
		    "%s is the start of more than one device thumbprint: give "
		    "more digits",
		    given);
		return fail("ambiguous", msg);
	}
	return fail("store", vdi_strerror(r));
}

/* A list being filled for c: rows of tenants c may not see are left out. */
struct scoped_list {
	struct broker *b;
	const struct admin_caller *c;
	json_t *list;
	const char *tenant; /* NULL: every tenant c may see */
};

static json_t *
session_json(const struct store_session *s)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I,"
			 " s:I, s:s, s:b}",
	    "id", s->id, "tenant", s->tenant, "user", s->user, "device",
	    s->device, "pool", s->pool, "desktop", s->desktop, "gateway",
	    s->gateway, "state", store_session_state_name(s->state), "created",
	    (json_int_t)s->created, "updated", (json_int_t)s->updated, "ended",
	    (json_int_t)s->ended, "end_reason", s->end_reason, "shared_device",
	    s->shared_device);
}

static int
collect_session(const struct store_session *s, void *arg)
{
	struct scoped_list *l = arg;

	if (!may(l->b, l->c, s->tenant) ||
	    (l->tenant != NULL && strcmp(l->tenant, s->tenant) != 0))
		return 0;
	return json_array_append_new(l->list, session_json(s)) == 0
	    ? 0
	    : VDI_ERR_ALLOC;
}

struct dev_sessions {
	const char *device;
	char ids[256][STORE_ID_MAX];
	size_t n;
};

static int
collect_device_sessions(const struct store_session *s, void *arg)
{
	struct dev_sessions *d = arg;

	if (strcmp(s->device, d->device) == 0 && d->n < 256)
		snprintf(d->ids[d->n++], STORE_ID_MAX, "%s", s->id);
	return 0;
}

static int
collect_device(const struct store_device *d, void *arg)
{
	struct scoped_list *l = arg;

	if (!may(l->b, l->c, d->tenant))
		return 0;
	return json_array_append_new(l->list,
		   json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:s, s:s}",
		       "tenant", d->tenant, "thumbprint", d->thumbprint,
		       "subject", d->subject, "first_seen",
		       (json_int_t)d->first_seen, "last_seen",
		       (json_int_t)d->last_seen, "revoked_at",
		       (json_int_t)d->revoked_at, "revoked_by", d->revoked_by,
		       "revoke_reason", d->revoke_reason)) == 0
	    ? 0
	    : VDI_ERR_ALLOC;
}

static int
collect_audit(const struct store_audit *a, void *arg)
{
	json_t *row = json_pack("{s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s,"
				" s:s, s:s}",
	    "seq", (json_int_t)a->seq, "time", (json_int_t)a->time, "actor",
	    a->actor, "action", a->action, "outcome", a->outcome, "tenant",
	    a->tenant, "user", a->user, "device", a->device, "session",
	    a->session, "reason", a->reason, "hash", a->hash);

	if (row != NULL && a->detail[0] != '\0')
		json_object_set_new(
		    row, "detail", json_loads(a->detail, 0, NULL));
	return json_array_append_new(arg, row) == 0 ? 0 : VDI_ERR_ALLOC;
}

/* audit.export: every field of a row, detail as the exact text that was
 * hashed, so that the export verifies on its own (vdictl audit verify
 * --file). */
static int
collect_export(const struct store_audit *a, void *arg)
{
	json_t *row = json_pack("{s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s,"
				" s:s, s:s, s:s, s:s, s:i}",
	    "seq", (json_int_t)a->seq, "time", (json_int_t)a->time, "actor",
	    a->actor, "action", a->action, "outcome", a->outcome, "tenant",
	    a->tenant, "user", a->user, "device", a->device, "session",
	    a->session, "reason", a->reason, "detail", a->detail, "prev_hash",
	    a->prev_hash, "hash", a->hash, "format", a->format);

	return json_array_append_new(arg, row) == 0 ? 0 : VDI_ERR_ALLOC;
}

static json_t *
desktops_list(struct broker *b, const struct admin_caller *c)
{
	const struct policy_pool *pool;
	const struct policy_desktop *d;
	struct store_desktop h;
	json_t *list = json_array();
	size_t i, j;
	int n;

	for (i = 0; i < policy_pool_count(b->policy); i++) {
		pool = policy_pool_at(b->policy, i);
		if (!may(b, c, policy_tenant_name(policy_pool_tenant(pool))))
			continue;
		for (j = 0; j < policy_pool_desktop_count(pool); j++) {
			d = policy_pool_desktop(pool, j);
			if (store_desktop_get(b->store, d->name, &h) != 0 ||
			    store_session_count_on_desktop(
				b->store, d->name, &n) != 0)
				continue;
			json_array_append_new(list,
			    json_pack("{s:s, s:s, s:s, s:s, s:i, s:b, s:b, s:I,"
				      " s:I, s:s, s:i, s:i}",
				"name", d->name, "pool", policy_pool_name(pool),
				"tenant",
				policy_tenant_name(policy_pool_tenant(pool)),
				"host", d->host, "port", d->port, "healthy",
				h.healthy, "drained", h.drained, "last_check",
				(json_int_t)h.last_check, "last_ok",
				(json_int_t)h.last_ok, "reason", h.reason,
				"sessions", n, "capacity", d->capacity));
		}
	}
	return list;
}

/* audit.verify: one entry per chain the caller may see. */
static int
collect_chain(const char *tenant, int64_t rows, const char *head, void *arg)
{
	return json_array_append_new(arg,
		   json_pack("{s:s, s:I, s:s}", "tenant", tenant, "rows",
		       (json_int_t)rows, "head", head)) == 0
	    ? 0
	    : VDI_ERR_ALLOC;
}

json_t *
admin_run_as(struct broker *b, const struct admin_caller *c, json_t *req)
{
	const char *cmd = json_string_value(json_object_get(req, "cmd"));
	const char *name, *reason, *tenant, *mode, *actor = c->actor;
	struct scoped_list sl = { b, c, NULL, NULL };
	struct store_session s;
	struct store_device dev;
	json_t *list, *detail;
	char *errors = NULL, full[STORE_THUMB_MAX];
	size_t i;
	int r;

	if (cmd == NULL)
		return fail("bad_request", "a \"cmd\" string is required");
	reason = json_string_value(json_object_get(req, "reason"));

	if (strcmp(cmd, "sessions.list") == 0) {
		tenant = json_string_value(json_object_get(req, "tenant"));
		if ((list = unknown_tenant(b, tenant)) != NULL)
			return list;
		if (tenant != NULL && !may(b, c, tenant))
			return forbidden(b, c, "sessions_list", tenant, NULL,
			    NULL, NULL, NULL);
		sl.tenant = tenant;
		sl.list = list = json_array();
		if (store_session_list(b->store,
			json_is_true(json_object_get(req, "all")),
			collect_session, &sl) != 0) {
			json_decref(list);
			return fail("store", "cannot read sessions");
		}
		return ok(json_pack("{s:o}", "sessions", list));
	}
	if (strcmp(cmd, "sessions.kill") == 0) {
		name = json_string_value(json_object_get(req, "id"));
		if (name == NULL || store_session_get(b->store, name, &s) != 0)
			return fail("not_found", "no such session");
		if (!may(b, c, s.tenant))
			return forbidden(b, c, "session_kill", s.tenant, s.user,
			    s.device, s.id, NULL);
		if (s.state == STORE_SESSION_ENDED)
			return fail(
			    "not_live", "the session has ended already");
		if (broker_cut_session(b, s.id, "admin_kill", 1) != 0) {
			/* Its tunnels are cut; its state is not written. */
			broker_audit(b, actor, "session_kill", "error",
			    s.tenant, s.user, s.device, s.id, "store_failed",
			    NULL);
			return fail("store",
			    "the tunnels are cut but the session's end could "
			    "not be written");
		}
		broker_audit(b, actor, "session_kill", "ok", s.tenant, s.user,
		    s.device, s.id, reason ? reason : "admin kill", NULL);
		return ok(json_pack("{s:s, s:I}", "killed", s.id, "cut_seq",
		    (json_int_t)gwq_last_seq(b)));
	}
	if (strcmp(cmd, "status") == 0 || strcmp(cmd, "tenants.list") == 0) {
		const char **tenants = NULL;
		size_t ntenants = 0;

		/* The caller's tenants; gateways and cuts are the
		 * operators'. */
		if (scope(b, c, &tenants, &ntenants) != 0)
			return fail("alloc", "out of memory");
		list = strcmp(cmd, "status") == 0
		    ? status_json(b, tenants, ntenants)
		    : json_pack("{s:o*}", "tenants",
			  status_tenants(b, tenants, ntenants));
		free(tenants);
		return list != NULL ? ok(list)
				    : fail("internal", "out of memory");
	}
	if (strcmp(cmd, "cuts.list") == 0) {
		json_t *st = gwq_status(b);

		return st != NULL ? ok(st) : fail("internal", "out of memory");
	}
	if (strcmp(cmd, "desktops.list") == 0)
		return ok(json_pack("{s:o}", "desktops", desktops_list(b, c)));
	if (strcmp(cmd, "desktops.drain") == 0 ||
	    strcmp(cmd, "desktops.enable") == 0) {
		int drain = strcmp(cmd, "desktops.drain") == 0;
		const char *action = drain ? "desktop_drain" : "desktop_enable";
		const struct policy_pool *pool = NULL;

		name = json_string_value(json_object_get(req, "name"));
		if (name == NULL ||
		    assign_find_desktop(b->policy, name, &pool) == NULL ||
		    pool == NULL)
			return fail(
			    "not_found", "no such desktop in the policy");
		tenant = policy_tenant_name(policy_pool_tenant(pool));
		detail = json_pack("{s:s}", "desktop", name);
		if (!may(b, c, tenant)) {
			json_t *f = forbidden(
			    b, c, action, tenant, NULL, NULL, NULL, detail);

			json_decref(detail);
			return f;
		}
		if (store_desktop_set_drained(b->store, name, drain) != 0) {
			json_decref(detail);
			return fail("store", "cannot update the desktop");
		}
		broker_audit(b, actor, action, "ok", tenant, NULL, NULL, NULL,
		    reason, detail);
		json_decref(detail);
		return ok(
		    json_pack("{s:s, s:b}", "desktop", name, "drained", drain));
	}
	if (strcmp(cmd, "devices.list") == 0) {
		tenant = json_string_value(json_object_get(req, "tenant"));
		if ((list = unknown_tenant(b, tenant)) != NULL)
			return list;
		if (tenant != NULL && *tenant != '\0' && !may(b, c, tenant))
			return forbidden(b, c, "devices_list", tenant, NULL,
			    NULL, NULL, NULL);
		sl.list = list = json_array();
		if (store_device_list(b->store, tenant ? tenant : "",
			collect_device, &sl) != 0) {
			json_decref(list);
			return fail("store", "cannot read devices");
		}
		return ok(json_pack("{s:o}", "devices", list));
	}
	if (strcmp(cmd, "devices.revoke") == 0) {
		struct dev_sessions ds;

		name = json_string_value(json_object_get(req, "thumbprint"));
		if (name == NULL ||
		    strspn(name, "0123456789abcdef") != strlen(name) ||
		    strlen(name) > 64 || *name == '\0')
			return fail("bad_request",
			    "thumbprint must be the device certificate's "
			    "SHA-256 "
			    "as 64 lower-case hex digits, or the start of it "
			    "for a device seen already (vdictl devices "
			    "list)");
		if (strlen(name) < 64) {
			const char **tenants = NULL;
			size_t ntenants = 0;
			json_t *f;

			/* A prefix names a device seen (of the caller's
			 * tenants) only; a device never seen needs all 64. */
			if (scope(b, c, &tenants, &ntenants) != 0)
				return fail("alloc", "out of memory");
			f = resolve_device(b, name, tenants, ntenants, full);
			free(tenants);
			if (f != NULL)
				return f;
			name = full;
		}
		tenant = "";
		if (store_device_get(b->store, name, &dev) == 0)
			tenant = dev.tenant;
		else if (!c->all)
			/* A device not seen yet has no tenant to check: a
			 * tenant admin revokes the devices of its tenants, an
			 * operator may revoke one ahead of its first login. */
			return fail("not_found",
			    "no device with this thumbprint has been seen "
			    "(only root and the operators group may revoke a "
			    "device before its first login)");
		if (!may(b, c, tenant))
			return forbidden(b, c, "device_revoke", tenant, NULL,
			    name, NULL, NULL);
		if ((r = store_device_revoke(b->store, tenant, name, actor,
			 reason ? reason : "revoked by admin", broker_now())) !=
		    0)
			return fail("store", vdi_strerror(r));
		/* No tunnel of the device, whatever its token, from now on;
		 * then cut and end every live session of the device. */
		broker_cut_device(b, name, "device_revoked");
		memset(&ds, 0, sizeof(ds));
		ds.device = name;
		if ((r = store_session_list(
			 b->store, 0, collect_device_sessions, &ds)) != 0)
			vlog(VLOG_ERROR, "store_read_failed",
			    "op=device_sessions device=%s error=%s", name,
			    vdi_errname(r));
		for (i = 0; i < ds.n; i++) {
			if (store_session_get(b->store, ds.ids[i], &s) != 0)
				continue;
			broker_cut_session(b, s.id, "device_revoked", 1);
			broker_audit(b, actor, "session_kill", "ok", s.tenant,
			    s.user, s.device, s.id, "device_revoked", NULL);
		}
		broker_audit(b, actor, "device_revoke", "ok", tenant, NULL,
		    name, NULL, reason ? reason : "revoked by admin", NULL);
		return ok(json_pack("{s:s, s:i, s:I}", "revoked", name,
		    "sessions_cut", (int)ds.n, "cut_seq",
		    (json_int_t)gwq_last_seq(b)));
	}
	if (strcmp(cmd, "policy.reload") == 0) {
		/* The policy is every tenant's: an operator's command. */
		if (!c->all)
			return forbidden(b, c, "policy_reload", NULL, NULL,
			    NULL, NULL, NULL);
		r = broker_reload(b, &errors);
		broker_audit(b, actor, "policy_reload", r == 0 ? "ok" : "error",
		    NULL, NULL, NULL, NULL, r == 0 ? NULL : "invalid policy",
		    NULL);
		if (r != 0) {
			json_t *f = fail("policy_invalid",
			    errors ? errors : vdi_strerror(r));

			free(errors);
			return f;
		}
		{
			json_t *w = json_array();

			(void)policy_warnings(b->policy, add_warning, w);
			return ok(json_pack("{s:o}", "warnings", w));
		}
	}
	if (strcmp(cmd, "policy.mode") == 0) {
		const struct policy_mode *m;

		tenant = json_string_value(json_object_get(req, "tenant"));
		mode = json_string_value(json_object_get(req, "mode"));
		if (tenant == NULL ||
		    policy_tenant_lookup(b->policy, tenant) == NULL)
			return fail(
			    "not_found", "no such tenant in the policy");
		if (!may(b, c, tenant)) {
			json_t *f;

			detail = json_pack(
			    "{s:s}", "mode", mode ? mode : "(policy)");
			f = forbidden(b, c, "policy_mode", tenant, NULL, NULL,
			    NULL, detail);
			json_decref(detail);
			return f;
		}
		if (mode != NULL && strcmp(mode, "none") != 0 &&
		    ((m = policy_mode_lookup(b->policy, mode)) == NULL ||
			!policy_mode_applies(
			    m, policy_tenant_lookup(b->policy, tenant))))
			return fail("not_found",
			    "no such mode for this tenant in the policy");
		if ((r = broker_set_tenant_mode(b, tenant, mode)) != 0)
			return fail("store", vdi_strerror(r));
		detail = json_pack("{s:s}", "mode", mode ? mode : "(policy)");
		broker_audit(b, actor, "policy_mode", "ok", tenant, NULL, NULL,
		    NULL, reason, detail);
		json_decref(detail);
		return ok(json_pack("{s:s, s:s}", "tenant", tenant, "mode",
		    mode ? mode : "(policy)"));
	}
	if (strcmp(cmd, "audit.export") == 0) {
		struct store_audit_filter f;
		const char *one[1];

		/* One tenant's chain, whole: it verifies from its first row
		 * (prev_hash zero) to the head. */
		tenant = json_string_value(json_object_get(req, "tenant"));
		if (tenant == NULL)
			return fail("bad_request",
			    "name the tenant whose audit chain to export "
			    "(--tenant)");
		if (!may(b, c, tenant))
			return forbidden(b, c, "audit_export", tenant, NULL,
			    NULL, NULL, NULL);
		memset(&f, 0, sizeof(f));
		one[0] = tenant;
		f.tenants = one;
		f.ntenants = 1;
		list = json_array();
		if (list == NULL ||
		    store_audit_query(b->store, &f, collect_export, list) !=
			0) {
			json_decref(list);
			return fail("store", "cannot read the audit log");
		}
		detail = json_pack(
		    "{s:I}", "rows", (json_int_t)json_array_size(list));
		broker_audit(b, actor, "audit_export", "ok", tenant, NULL, NULL,
		    NULL, reason, detail);
		json_decref(detail);
		return ok(json_pack("{s:s, s:I, s:o}", "tenant", tenant,
		    "exported", (json_int_t)broker_now(), "rows", list));
	}
	if (strcmp(cmd, "audit.query") == 0 ||
	    strcmp(cmd, "audit.verify") == 0) {
		int query = strcmp(cmd, "audit.query") == 0;
		const char **tenants = NULL;
		size_t ntenants = 0;
		json_t *rep;

		/* A tenant named: that tenant's rows (or chain) only. */
		tenant = json_string_value(json_object_get(req, "tenant"));
		if (tenant != NULL && !may(b, c, tenant))
			return forbidden(b, c,
			    query ? "audit_query" : "audit_verify", tenant,
			    NULL, NULL, NULL, NULL);
		if (tenant != NULL) {
			if ((tenants = calloc(1, sizeof(*tenants))) == NULL)
				return fail("alloc", "out of memory");
			tenants[ntenants++] = tenant;
		} else if (scope(b, c, &tenants, &ntenants) != 0)
			return fail("alloc", "out of memory");
		list = json_array();
		if (query) {
			struct store_audit_filter f;
			json_t *lim = json_object_get(req, "limit");

			memset(&f, 0, sizeof(f));
			if (lim != NULL &&
			    (!json_is_integer(lim) ||
				json_integer_value(lim) < 0)) {
				free(tenants);
				json_decref(list);
				return fail("bad_request",
				    "limit must be a whole number of rows, 0 "
				    "for no limit");
			}
			f.user =
			    json_string_value(json_object_get(req, "user"));
			f.device =
			    json_string_value(json_object_get(req, "device"));
			if (f.device != NULL) {
				json_t *e = resolve_device(
				    b, f.device, tenants, ntenants, full);

				if (e != NULL) {
					free(tenants);
					json_decref(list);
					return e;
				}
				f.device = full;
			}
			f.since =
			    json_integer_value(json_object_get(req, "since"));
			f.limit = (size_t)json_integer_value(lim);
			f.tenants = tenants;
			f.ntenants = ntenants;
			r = store_audit_query(
			    b->store, &f, collect_audit, list);
			free(tenants);
			if (r != 0) {
				json_decref(list);
				return fail(
				    "store", "cannot read the audit log");
			}
			return ok(json_pack("{s:o}", "rows", list));
		} else {
			int64_t rows = 0, bad = 0;
			char why[256];

			r = store_audit_verify_chains(b->store, tenants,
			    ntenants, collect_chain, list, &rows, &bad, why,
			    sizeof(why));
			free(tenants);
			if (r == VDI_ERR_BAD_FORMAT) {
				json_decref(list);
				return json_pack("{s:b, s:b, s:I, s:I, s:s}",
				    "ok", 1, "intact", 0, "rows",
				    (json_int_t)rows, "bad_seq",
				    (json_int_t)bad, "reason", why);
			}
			if (r != 0) {
				json_decref(list);
				return fail("store", vdi_strerror(r));
			}
			rep = json_pack("{s:b, s:b, s:I, s:o, s:b}", "ok", 1,
			    "intact", 1, "rows", (json_int_t)rows, "chains",
			    list, "all_tenants", c->all && tenant == NULL);
			return rep;
		}
	}
	return fail("unknown_command", cmd);
}

json_t *
admin_run(struct broker *b, const char *actor, json_t *req)
{
	struct admin_caller c;

	memset(&c, 0, sizeof(c));
	snprintf(c.actor, sizeof(c.actor), "%s", actor);
	snprintf(c.user, sizeof(c.user), "%s",
	    strncmp(actor, "admin:", 6) == 0 ? actor + 6 : actor);
	c.all = 1;
	return admin_run_as(b, &c, req);
}
