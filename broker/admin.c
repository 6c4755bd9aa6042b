/* admin.c: the admin socket and its commands (see admin.h). */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>

#include "admin.h"
#include "assign.h"
#include "grant.h"
#include "vlog.h"

struct admin {
	struct evconnlistener *lev;
	gid_t admin_gid;
	int have_gid;
};

int
admin_listen(const char *path, const char *group, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	struct group *gr = NULL;
	mode_t old;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "admin socket path too long: %s", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	if (group != NULL && *group != '\0' && (gr = getgrnam(group)) == NULL) {
		snprintf(err, errlen,
		    "admin_group %s does not exist (create it with groupadd, "
		    "or leave admin_group out for root only)",
		    group);
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	(void)unlink(path); /* a stale socket from a previous run */
	old = umask(0117);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		umask(old);
		snprintf(err, errlen,
		    "cannot create admin socket %s: %s (does the directory "
		    "exist?)",
		    path, strerror(errno));
		close(fd);
		return -1;
	}
	umask(old);
	if (gr != NULL && geteuid() == 0 && chown(path, 0, gr->gr_gid) != 0) {
		snprintf(err, errlen, "chown %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (chmod(path, 0660) != 0 || listen(fd, 16) != 0) {
		snprintf(
		    err, errlen, "admin socket %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static json_t *
fail(const char *code, const char *msg)
{
	return json_pack(
	    "{s:b, s:s, s:s}", "ok", 0, "error", code, "message", msg);
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
	return json_array_append_new(arg, session_json(s)) == 0 ? 0
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
	return json_array_append_new(arg,
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

static json_t *
desktops_list(struct broker *b)
{
	const struct policy_pool *pool;
	const struct policy_desktop *d;
	struct store_desktop h;
	json_t *list = json_array();
	size_t i, j;
	int n;

	for (i = 0; i < policy_pool_count(b->policy); i++) {
		pool = policy_pool_at(b->policy, i);
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

json_t *
admin_run(struct broker *b, const char *actor, json_t *req)
{
	const char *cmd = json_string_value(json_object_get(req, "cmd"));
	const char *name, *reason, *tenant, *mode;
	struct store_session s;
	struct store_device dev;
	json_t *list, *detail;
	char *errors = NULL;
	size_t i;
	int r;

	if (cmd == NULL)
		return fail("bad_request", "a \"cmd\" string is required");
	reason = json_string_value(json_object_get(req, "reason"));

	if (strcmp(cmd, "sessions.list") == 0) {
		list = json_array();
		if (store_session_list(b->store,
			json_is_true(json_object_get(req, "all")),
			collect_session, list) != 0) {
			json_decref(list);
			return fail("store", "cannot read sessions");
		}
		return ok(json_pack("{s:o}", "sessions", list));
	}
	if (strcmp(cmd, "sessions.kill") == 0) {
		name = json_string_value(json_object_get(req, "id"));
		if (name == NULL || store_session_get(b->store, name, &s) != 0)
			return fail("not_found", "no such session");
		if (s.state == STORE_SESSION_ENDED)
			return fail(
			    "not_live", "the session has ended already");
		broker_cut_session(b, s.id, "admin_kill", 1);
		broker_audit(b, actor, "session_kill", "ok", s.tenant, s.user,
		    s.device, s.id, reason ? reason : "admin kill", NULL);
		return ok(json_pack("{s:s}", "killed", s.id));
	}
	if (strcmp(cmd, "desktops.list") == 0)
		return ok(json_pack("{s:o}", "desktops", desktops_list(b)));
	if (strcmp(cmd, "desktops.drain") == 0 ||
	    strcmp(cmd, "desktops.enable") == 0) {
		int drain = strcmp(cmd, "desktops.drain") == 0;

		name = json_string_value(json_object_get(req, "name"));
		if (name == NULL ||
		    assign_find_desktop(b->policy, name, NULL) == NULL)
			return fail(
			    "not_found", "no such desktop in the policy");
		if (store_desktop_set_drained(b->store, name, drain) != 0)
			return fail("store", "cannot update the desktop");
		detail = json_pack("{s:s}", "desktop", name);
		broker_audit(b, actor,
		    drain ? "desktop_drain" : "desktop_enable", "ok", NULL,
		    NULL, NULL, NULL, reason, detail);
		json_decref(detail);
		return ok(
		    json_pack("{s:s, s:b}", "desktop", name, "drained", drain));
	}
	if (strcmp(cmd, "devices.list") == 0) {
		tenant = json_string_value(json_object_get(req, "tenant"));
		list = json_array();
		if (store_device_list(b->store, tenant ? tenant : "",
			collect_device, list) != 0) {
			json_decref(list);
			return fail("store", "cannot read devices");
		}
		return ok(json_pack("{s:o}", "devices", list));
	}
	if (strcmp(cmd, "devices.revoke") == 0) {
		struct dev_sessions ds;

		name = json_string_value(json_object_get(req, "thumbprint"));
		if (name == NULL || strlen(name) != 64 ||
		    strspn(name, "0123456789abcdef") != 64)
			return fail("bad_request",
			    "thumbprint must be the device certificate's "
			    "SHA-256 "
			    "as 64 lower-case hex digits (vdictl devices "
			    "list)");
		tenant = "";
		if (store_device_get(b->store, name, &dev) == 0)
			tenant = dev.tenant;
		if ((r = store_device_revoke(b->store, tenant, name, actor,
			 reason ? reason : "revoked by admin", broker_now())) !=
		    0)
			return fail("store", vdi_strerror(r));
		/* Cut and end every live session of the device, at once. */
		memset(&ds, 0, sizeof(ds));
		ds.device = name;
		(void)!store_session_list(
		    b->store, 0, collect_device_sessions, &ds);
		for (i = 0; i < ds.n; i++) {
			if (store_session_get(b->store, ds.ids[i], &s) != 0)
				continue;
			broker_cut_session(b, s.id, "device_revoked", 1);
			broker_audit(b, actor, "session_kill", "ok", s.tenant,
			    s.user, s.device, s.id, "device_revoked", NULL);
		}
		broker_audit(b, actor, "device_revoke", "ok", tenant, NULL,
		    name, NULL, reason ? reason : "revoked by admin", NULL);
		return ok(json_pack(
		    "{s:s, s:i}", "revoked", name, "sessions_cut", (int)ds.n));
	}
	if (strcmp(cmd, "policy.reload") == 0) {
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
		return ok(NULL);
	}
	if (strcmp(cmd, "policy.mode") == 0) {
		const struct policy_mode *m;

		tenant = json_string_value(json_object_get(req, "tenant"));
		mode = json_string_value(json_object_get(req, "mode"));
		if (tenant == NULL ||
		    policy_tenant_lookup(b->policy, tenant) == NULL)
			return fail(
			    "not_found", "no such tenant in the policy");
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
	if (strcmp(cmd, "audit.query") == 0) {
		struct store_audit_filter f;

		memset(&f, 0, sizeof(f));
		f.user = json_string_value(json_object_get(req, "user"));
		f.device = json_string_value(json_object_get(req, "device"));
		f.since = json_integer_value(json_object_get(req, "since"));
		f.limit =
		    (size_t)json_integer_value(json_object_get(req, "limit"));
		list = json_array();
		if (store_audit_query(b->store, &f, collect_audit, list) != 0) {
			json_decref(list);
			return fail("store", "cannot read the audit log");
		}
		return ok(json_pack("{s:o}", "rows", list));
	}
	if (strcmp(cmd, "audit.verify") == 0) {
		int64_t rows = 0, bad = 0;
		char why[256];

		r = store_audit_verify(b->store, &rows, &bad, why, sizeof(why));
		if (r == VDI_ERR_BAD_FORMAT)
			return json_pack("{s:b, s:b, s:I, s:I, s:s}", "ok", 1,
			    "intact", 0, "rows", (json_int_t)rows, "bad_seq",
			    (json_int_t)bad, "reason", why);
		if (r != 0)
			return fail("store", vdi_strerror(r));
		return json_pack("{s:b, s:b, s:I}", "ok", 1, "intact", 1,
		    "rows", (json_int_t)rows);
	}
	return fail("unknown_command", cmd);
}

/* ---- socket ------------------------------------------------------------ */

struct admin_conn {
	struct broker *b;
	char actor[STORE_NAME_MAX];
};

static int
peer_allowed(struct broker *b, int fd, char *actor, size_t len)
{
	struct ucred uc;
	socklen_t sl = sizeof(uc);
	struct passwd *pw;
	gid_t groups[256];
	int ng = 256, i;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &sl) != 0)
		return 0;
	pw = getpwuid(uc.uid);
	snprintf(actor, len, "admin:%s", pw != NULL ? pw->pw_name : "?");
	if (pw == NULL)
		snprintf(actor, len, "admin:uid%u", (unsigned)uc.uid);
	/* Root, or a member of admin_group; not the broker's own service
	 * user: whatever runs as it (the worker a peer might compromise)
	 * gets no admin rights from that alone. */
	if (uc.uid == 0)
		return 1;
	if (!b->admin->have_gid || pw == NULL)
		return 0;
	if (uc.gid == b->admin->admin_gid)
		return 1;
	if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &ng) < 0)
		return 0;
	for (i = 0; i < ng; i++)
		if (groups[i] == b->admin->admin_gid)
			return 1;
	return 0;
}

static void
conn_done(struct bufferevent *bev, void *arg)
{
	free(arg);
	bufferevent_free(bev);
}

static void
conn_event(struct bufferevent *bev, short what, void *arg)
{
	conn_done(bev, arg);
}

static void
conn_written(struct bufferevent *bev, void *arg)
{
	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		conn_done(bev, arg);
}

static void
conn_read(struct bufferevent *bev, void *arg)
{
	struct admin_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	json_t *req, *rep;
	char *line, *out;
	size_t n;

	if ((line = evbuffer_readln(in, &n, EVBUFFER_EOL_LF)) == NULL) {
		if (evbuffer_get_length(in) > ADMIN_REQUEST_MAX)
			conn_done(bev, c);
		return;
	}
	req = json_loadb(line, n, JSON_REJECT_DUPLICATES, NULL);
	free(line);
	if (!json_is_object(req))
		rep = fail("bad_json", "send one JSON object on one line");
	else
		rep = admin_run(c->b, c->actor, req);
	json_decref(req);
	out = json_dumps(rep, JSON_COMPACT);
	json_decref(rep);
	bufferevent_disable(bev, EV_READ);
	bufferevent_setcb(bev, NULL, conn_written, conn_event, c);
	if (out != NULL) {
		bufferevent_write(bev, out, strlen(out));
		bufferevent_write(bev, "\n", 1);
		free(out);
	}
}

static void
accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct broker *b = arg;
	struct bufferevent *bev;
	struct admin_conn *c;
	char actor[STORE_NAME_MAX];
	const char *no = "{\"ok\":false,\"error\":\"denied\",\"message\":"
			 "\"root or the admin group only\"}\n";

	if (!peer_allowed(b, fd, actor, sizeof(actor))) {
		vlog(VLOG_WARNING, "admin_refused", "peer=%s", actor);
		(void)!write(fd, no, strlen(no));
		close(fd);
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (bev = bufferevent_socket_new(
		 b->base, fd, BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		free(c);
		close(fd);
		return;
	}
	c->b = b;
	snprintf(c->actor, sizeof(c->actor), "%s", actor);
	bufferevent_setwatermark(bev, EV_READ, 0, ADMIN_REQUEST_MAX + 1);
	bufferevent_setcb(bev, conn_read, NULL, conn_event, c);
	{
		struct timeval tv = { 10, 0 };

		bufferevent_set_timeouts(bev, &tv, &tv);
	}
	bufferevent_enable(bev, EV_READ);
}

int
admin_start(struct broker *b, int fd)
{
	struct group *gr;

	if ((b->admin = calloc(1, sizeof(*b->admin))) == NULL)
		return VDI_ERR_ALLOC;
	if (b->conf.admin_group[0] != '\0' &&
	    (gr = getgrnam(b->conf.admin_group)) != NULL) {
		b->admin->admin_gid = gr->gr_gid;
		b->admin->have_gid = 1;
	}
	evutil_make_socket_nonblocking(fd);
	b->admin->lev = evconnlistener_new(b->base, accept_cb, b,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, fd);
	return b->admin->lev != NULL ? 0 : VDI_ERR_ALLOC;
}

void
admin_stop(struct broker *b)
{
	if (b->admin == NULL)
		return;
	if (b->admin->lev != NULL)
		evconnlistener_free(b->admin->lev);
	free(b->admin);
	b->admin = NULL;
}
