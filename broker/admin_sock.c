/* admin_sock.c: the admin socket itself: listening, who the caller is
 * (SO_PEERCRED, user and groups), one request line per connection; the
 * commands are in admin.c (see admin.h). */
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
#include "vlog.h"

struct admin {
	struct evconnlistener *lev;
	gid_t admin_gid;
	int have_gid;
	gid_t operators_gid; /* operators_group: acts on every tenant */
	int have_operators;
};

int
admin_check_groups(const struct bconf *conf, char *err, size_t errlen)
{
	if (conf->operators_group[0] != '\0' &&
	    getgrnam(conf->operators_group) == NULL) {
		snprintf(err, errlen,
		    "operators_group %s does not exist (create it with "
		    "groupadd, or leave operators_group out: then only root "
		    "acts on every tenant)",
		    conf->operators_group);
		return VDI_ERR_CONFIG;
	}
	return 0;
}

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

struct admin_conn {
	struct broker *b;
	struct admin_caller caller;
};

void
admin_caller_clear(struct admin_caller *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->ngroups; i++)
		free(c->groups[i]);
	free(c->groups);
	memset(c, 0, sizeof(*c));
}

/*
 * Who is on the other end of fd: SO_PEERCRED's uid, its user name and the
 * names of its groups (the primary one and getgrouplist's), and whether it
 * acts on every tenant (root or a member of operators_group; the broker's
 * own user gets nothing for being that user, vdictl(8)). These are NSS lookups
 * on the event loop, once per admin connection (one request each); with local
 * files they take microseconds, with a directory service (sssd, LDAP)
 * they may take as long as it answers, which holds the loop meanwhile.
 * Fails closed: a caller whose groups cannot be read keeps only what its
 * user name grants.
 */
static int
caller_resolve(struct broker *b, int fd, struct admin_caller *c)
{
	struct ucred uc;
	socklen_t sl = sizeof(uc);
	struct passwd pw, *pwp = NULL;
	struct group gr, *grp;
	gid_t *gids = NULL, *ng;
	char *buf = NULL;
	long sz = sysconf(_SC_GETPW_R_SIZE_MAX);
	size_t bufsz;
	int n = 32, i, r = 0;

	memset(c, 0, sizeof(*c));
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &sl) != 0)
		return VDI_ERR_IO;
	bufsz = sz > 0 ? (size_t)sz : 16384;
	if (sysconf(_SC_GETGR_R_SIZE_MAX) > (long)bufsz)
		bufsz = (size_t)sysconf(_SC_GETGR_R_SIZE_MAX);
	if (bufsz < 65536)
		bufsz = 65536; /* groups with many members need room */
	if ((buf = malloc(bufsz)) == NULL)
		return VDI_ERR_ALLOC;
	if (getpwuid_r(uc.uid, &pw, buf, bufsz, &pwp) == 0 && pwp != NULL)
		snprintf(c->user, sizeof(c->user), "%s", pw.pw_name);
	else
		snprintf(c->user, sizeof(c->user), "uid%u", (unsigned)uc.uid);
	snprintf(c->actor, sizeof(c->actor), "admin:%s", c->user);
	c->all = uc.uid == 0;
	if (pwp == NULL)
		goto out;
	/* getgrouplist says how many there are when the array is short. */
	for (;;) {
		if ((ng = realloc(gids, (size_t)n * sizeof(*gids))) == NULL) {
			r = VDI_ERR_ALLOC;
			goto out;
		}
		gids = ng;
		i = n;
		if (getgrouplist(pw.pw_name, pw.pw_gid, gids, &i) >= 0) {
			n = i;
			break;
		}
		if (i <= n || i > 65536) {
			r = VDI_ERR_TOO_LARGE;
			goto out;
		}
		n = i;
	}
	if ((ng = realloc(gids, (size_t)(n + 1) * sizeof(*gids))) == NULL) {
		r = VDI_ERR_ALLOC;
		goto out;
	}
	gids = ng;
	gids[n++] = uc.gid; /* the peer's own primary group */
	if ((c->groups = calloc((size_t)n, sizeof(*c->groups))) == NULL) {
		r = VDI_ERR_ALLOC;
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (b->admin != NULL && b->admin->have_operators &&
		    gids[i] == b->admin->operators_gid)
			c->all = 1;
		grp = NULL;
		if (getgrgid_r(gids[i], &gr, buf, bufsz, &grp) != 0 ||
		    grp == NULL)
			continue;
		if ((c->groups[c->ngroups] = strdup(gr.gr_name)) == NULL) {
			r = VDI_ERR_ALLOC;
			goto out;
		}
		c->ngroups++;
	}
out:
	if (r != 0) { /* keep nothing half-read: only what the user is */
		for (i = 0; i < (int)c->ngroups; i++)
			free(c->groups[i]);
		free(c->groups);
		c->groups = NULL;
		c->ngroups = 0;
	}
	free(gids);
	free(buf);
	return r;
}

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
	struct admin_conn *c = arg;

	admin_caller_clear(&c->caller);
	free(c);
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
		rep =
		    admin_fail("bad_json", "send one JSON object on one line");
	else
		rep = admin_run_as(c->b, &c->caller, req);
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
	int r;
	const char *no = "{\"ok\":false,\"error\":\"denied\",\"message\":"
			 "\"root or the admin group only\"}\n";

	if (!peer_allowed(b, fd, actor, sizeof(actor))) {
		vlog(VLOG_WARNING, "admin_refused", "peer=%s", VLOG_Q(actor));
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
	if ((r = caller_resolve(b, fd, &c->caller)) != 0)
		vlog(VLOG_WARNING, "admin_caller",
		    "peer=%s groups=unknown error=%s (acts only as its user)",
		    actor, vdi_strerror(r));
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
	if (b->conf.operators_group[0] != '\0' &&
	    (gr = getgrnam(b->conf.operators_group)) != NULL) {
		b->admin->operators_gid = gr->gr_gid;
		b->admin->have_operators = 1;
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
