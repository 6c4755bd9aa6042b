/*
 * privsep.c: the monitor, the worker's start-up and its client side of
 * the monitor and PAM conversation sockets (see privsep.h, pammsg.h and
 * docs/privsep.md).
 */
#include "config.h"

#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "fdwait.h"
#include "b64url.h"
#include "jws.h"
#include "pam_child.h"
#include "privsep.h"
#include "seal.h"
#include "vlog.h"

#define FRAME_BUF (PAMMSG_HEADER_LEN + PAMMSG_FRAME_MAX)
/* Upper bounds for the configurable limits. */
#define CONV_TIMEOUT_MAX  3600
#define PAM_TIMEOUT_MAX   7200
#define CONVERSATIONS_MAX 4096
#define LIFETIME_MAX      86400
#define SKEW_MAX          3600
#define GRANT_AGE_MAX     (366 * 86400)
/* How long the monitor waits for a PAM child's report it knows is coming
 * (the child reports to the monitor before it answers the worker). */
#define REPORT_WAIT_MS 2000
/* The domain-separation prefix of a grant's signing input: its NUL byte
 * can never be part of a JWS signing input (base64url and a dot). */
#define GRANT_DOMAIN    "vdi-grant-v1"
#define GRANT_PREFIX    "g1."
#define GRANT_INPUT_MAX 2048

struct privsep {
	int fd;           /* worker's end of the monitor socket */
	pid_t monitor;    /* the monitor's pid */
	struct vbuf *in;  /* replies */
	struct vbuf *out; /* requests (may hold plaintext: wiped) */
	int broken;       /* framing lost or monitor gone: refuse all */
};

/* A PAM conversation the monitor started, from PAM_START until it has
 * been signed for (once) or has expired. What the monitor signs for comes
 * from here: the worker named (user, tenant, device) before PAM ran, and
 * the PAM child reported its result to the monitor itself. */
struct mon_login {
	int used;
	char id[PAMMSG_LOGIN_ID_LEN + 1];
	pid_t pid;     /* the PAM child; 0 once reaped */
	int report_fd; /* the child's report socket; -1 once read */
	int have_result;
	uint8_t status;                 /* enum pammsg_status */
	char user[PAMMSG_USER_MAX + 1]; /* PAM's final user */
	char tenant[PAMMSG_TENANT_MAX + 1];
	char device[PAMMSG_DEVICE_LEN + 1];
	int64_t done_ms; /* when the result was read (monotonic) */
};

/* The monitor's state. */
struct monitor {
	int sock; /* monitor socket, -1 once the worker closed it */
	int sigfd;
	pid_t worker;
	int worker_done;
	int worker_status;
	unsigned int children; /* PAM children alive */
	struct jws_key *sign_key;
	unsigned char seal_key[PRIVSEP_SEAL_KEY_LEN];
	int have_seal_key;
	const char *const *services;
	char **own_services; /* the last list reload_services gave */
	char **(*reload_services)(void *arg);
	void *reload_arg;
	int64_t services_loaded_ms; /* when reload_services last ran */
	unsigned int conv_timeout, pam_timeout, max_conversations;
	unsigned int token_lifetime, clock_skew, login_window;
	unsigned int grant_lifetime;
	struct mon_login *logins; /* 2 x max_conversations slots */
	size_t nlogins;
	struct vbuf *in, *out;
};

/* --- small helpers -------------------------------------------------------- */

static int64_t
deadline_of(int timeout_ms)
{
	return timeout_ms < 0 ? -1 : vdi_now_ms() + timeout_ms;
}

/* Reads once, without blocking, into in. A descriptor passed along is
 * stored in *passed (when passed is not NULL and *passed is -1) or
 * closed. When one was expected (passed not NULL) but the kernel could not
 * install it because this process is out of descriptors (the control data
 * comes back empty and MSG_CTRUNC set), *passed becomes PASSED_LOST and
 * the bytes still count: the stream stays in step. Returns 0 (bytes
 * read), VDI_ERR_NEED_MORE (nothing to read now), VDI_ERR_IO (end of
 * file), VDI_ERR_TOO_LARGE (in is full), VDI_ERR_BAD_FORMAT (descriptors
 * not expected or cut off) or VDI_ERR_SYSTEM. */
#define PASSED_LOST (-2)
static int
read_some(int fd, struct vbuf *in, int *passed)
{
	union {
		struct cmsghdr align;
		unsigned char buf[CMSG_SPACE(sizeof(int) * 4)];
	} ctl;
	struct msghdr mh;
	struct iovec iov;
	struct cmsghdr *c;
	unsigned char *p;
	size_t room, i, nfds;
	ssize_t n;
	int r, bad = 0, got;

	if ((room = vbuf_avail(in)) == 0)
		return VDI_ERR_TOO_LARGE;
	if (room > FRAME_BUF)
		room = FRAME_BUF;
	if ((r = vbuf_reserve(in, room, &p)) != 0)
		return r;
	memset(&mh, 0, sizeof(mh));
	iov.iov_base = p;
	iov.iov_len = room;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = ctl.buf;
	mh.msg_controllen = sizeof(ctl.buf);
	do {
		n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (vbuf_consume_end(in, room - (n > 0 ? (size_t)n : 0)) != 0)
		return VDI_ERR_INTERNAL;
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return VDI_ERR_NEED_MORE;
		if (errno == ECONNRESET)
			return VDI_ERR_IO;
		return VDI_ERR_SYSTEM;
	}
	for (c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
			bad = 1;
			continue;
		}
		nfds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < nfds; i++) {
			memcpy(
			    &got, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (passed != NULL && *passed == -1)
				*passed = got;
			else {
				close(got);
				bad = 1;
			}
		}
	}
	if (!bad && (mh.msg_flags & MSG_CTRUNC) && passed != NULL &&
	    *passed == -1 && CMSG_FIRSTHDR(&mh) == NULL && n > 0) {
		*passed = PASSED_LOST;
		return 0;
	}
	if (bad || (mh.msg_flags & MSG_CTRUNC))
		return VDI_ERR_BAD_FORMAT;
	if (n == 0)
		return VDI_ERR_IO;
	return 0;
}

static int
read_msg_fd(
    int fd, struct vbuf *in, struct pammsg *out, int timeout_ms, int *passed)
{
	int64_t deadline = deadline_of(timeout_ms);
	int r;

	for (;;) {
		if ((r = pammsg_parse(in, out)) != VDI_ERR_NEED_MORE)
			return r;
		if ((r = vdi_wait_fd(fd, POLLIN, deadline)) != 0)
			return r;
		if ((r = read_some(fd, in, passed)) != 0 &&
		    r != VDI_ERR_NEED_MORE)
			return r;
	}
}

int
privsep_read_msg(int fd, struct vbuf *in, struct pammsg *out, int timeout_ms)
{
	return read_msg_fd(fd, in, out, timeout_ms, NULL);
}

int
privsep_write_all(int fd, struct vbuf *buf, int timeout_ms)
{
	int64_t deadline = deadline_of(timeout_ms);
	ssize_t n;
	int r;

	while (vbuf_len(buf) > 0) {
		n = send(fd, vbuf_ptr(buf), vbuf_len(buf),
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				if ((r = vdi_wait_fd(fd, POLLOUT, deadline)) !=
				    0)
					return r;
				continue;
			}
			if (errno == EPIPE || errno == ECONNRESET)
				return VDI_ERR_IO;
			return VDI_ERR_SYSTEM;
		}
		if (vbuf_consume(buf, (size_t)n) != 0)
			return VDI_ERR_INTERNAL;
	}
	return 0;
}

/* Sends the frame in buf with passfd riding on its first byte. */
static int
write_with_fd(int fd, struct vbuf *buf, int passfd, int timeout_ms)
{
	union {
		struct cmsghdr align;
		unsigned char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct msghdr mh;
	struct iovec iov;
	struct cmsghdr *c;
	int64_t deadline = deadline_of(timeout_ms);
	ssize_t n;
	int r;

	memset(&mh, 0, sizeof(mh));
	memset(&ctl, 0, sizeof(ctl));
	iov.iov_base = (void *)vbuf_ptr(buf);
	iov.iov_len = vbuf_len(buf);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = ctl.buf;
	mh.msg_controllen = sizeof(ctl.buf);
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &passfd, sizeof(int));
	for (;;) {
		n = sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n >= 0 ||
		    (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK))
			break;
		if (errno != EINTR &&
		    (r = vdi_wait_fd(fd, POLLOUT, deadline)) != 0)
			return r;
	}
	if (n < 0)
		return errno == EPIPE || errno == ECONNRESET ? VDI_ERR_IO
							     : VDI_ERR_SYSTEM;
	if (vbuf_consume(buf, (size_t)n) != 0)
		return VDI_ERR_INTERNAL;
	return privsep_write_all(fd, buf, timeout_ms);
}

/* No core dumps, no ptrace by others of the same uid, no /proc/pid/mem. */
static int
harden_process(void)
{
	struct rlimit rl = { 0, 0 };

	if (setrlimit(RLIMIT_CORE, &rl) != 0 ||
	    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		return VDI_ERR_SYSTEM;
	return 0;
}

/* Makes sure 0, 1 and 2 are open, so that no socket lands there. */
static int
ensure_stdio(void)
{
	int fd;

	while ((fd = open("/dev/null", O_RDWR)) >= 0 && fd <= 2)
		;
	if (fd < 0)
		return VDI_ERR_SYSTEM;
	close(fd);
	return 0;
}

static int
set_nonblock(int fd)
{
	int fl;

	if ((fl = fcntl(fd, F_GETFL)) < 0 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return VDI_ERR_SYSTEM;
	return 0;
}

/* --- the worker's privileges ---------------------------------------------- */

static int
drop_privileges(uid_t uid, gid_t gid)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg, groups[2];
	int n;

	if (setgroups(1, &gid) != 0 || setresgid(gid, gid, gid) != 0 ||
	    setresuid(uid, uid, uid) != 0) {
		vlog(VLOG_ERROR, "privsep_drop_failed",
		    "uid=%u gid=%u errno=%d", (unsigned)uid, (unsigned)gid,
		    errno);
		return VDI_ERR_DENIED;
	}
	/* Verify, do not trust: every id changed, one group, no way back. */
	if (getresuid(&ru, &eu, &su) != 0 || getresgid(&rg, &eg, &sg) != 0 ||
	    ru != uid || eu != uid || su != uid || rg != gid || eg != gid ||
	    sg != gid || (n = getgroups(2, groups)) != 1 || groups[0] != gid ||
	    setuid(0) != -1 || seteuid(0) != -1 || setgid(0) != -1) {
		vlog(VLOG_ERROR, "privsep_drop_failed",
		    "uid=%u gid=%u reason=verify", (unsigned)uid,
		    (unsigned)gid);
		return VDI_ERR_DENIED;
	}
	return 0;
}

/* --- the monitor ---------------------------------------------------------- */

static int
read_seal_key(const char *path, unsigned char key[PRIVSEP_SEAL_KEY_LEN])
{
	char err[600], qerr[700];
	int r;

	if ((r = seal_key_load(path, key, err, sizeof(err))) != 0)
		vlog(VLOG_ERROR, "privsep_key_load", "kind=seal reason=%s",
		    vlog_quote(err, qerr, sizeof(qerr)));
	return r;
}

static int
monitor_load_keys(struct monitor *mon, const struct privsep_config *cfg)
{
	char err[512], qerr[600];
	int r;

	if (cfg->signing_key_path != NULL) {
		if ((r = jws_key_load_private(cfg->signing_key_path,
			 cfg->signing_kid, &mon->sign_key, err, sizeof(err))) !=
		    0) {
			vlog(VLOG_ERROR, "privsep_key_load",
			    "kind=signing error=%s detail=%s", vdi_errname(r),
			    vlog_quote(err, qerr, sizeof(qerr)));
			return r;
		}
	}
	if (cfg->seal_key_path != NULL) {
		if ((r = read_seal_key(cfg->seal_key_path, mon->seal_key)) != 0)
			return r;
		mon->have_seal_key = 1;
	}
	return 0;
}

/* Reads the PAM services again through reload_services (the policy file,
 * read by the monitor itself: never a list the worker sends). On failure
 * the old list stays. */
static void
monitor_reload_services(struct monitor *mon, const char *why)
{
	char **list;
	size_t n = 0;

	if (mon->reload_services == NULL)
		return;
	mon->services_loaded_ms = vdi_now_ms();
	if ((list = mon->reload_services(mon->reload_arg)) == NULL) {
		vlog(VLOG_ERROR, "privsep_services_reload_failed",
		    "trigger=%s kept=previous", why);
		return;
	}
	free(mon->own_services);
	mon->own_services = list;
	mon->services = (const char *const *)list;
	while (list[n] != NULL)
		n++;
	vlog(VLOG_NOTICE, "privsep_services_reloaded",
	    "trigger=%s services=%zu", why, n);
}

static int
service_listed(const struct monitor *mon, const char *service)
{
	size_t i;

	if (mon->services == NULL)
		return 1;
	for (i = 0; mon->services[i] != NULL; i++) {
		if (strcmp(mon->services[i], service) == 0)
			return 1;
	}
	return 0;
}

/* A service not listed may belong to a tenant added since the last
 * SIGHUP (`vdictl policy reload` reloads only the worker): the monitor
 * then reads the policy itself, at most once a second. */
static int
service_allowed(struct monitor *mon, const char *service)
{
	if (service_listed(mon, service))
		return 1;
	if (mon->reload_services == NULL ||
	    vdi_now_ms() - mon->services_loaded_ms < 1000)
		return 0;
	monitor_reload_services(mon, "unknown_service");
	return service_listed(mon, service);
}

/* --- logins the monitor saw ---------------------------------------------- */

static void
login_clear(struct mon_login *l)
{
	if (l->report_fd >= 0)
		close(l->report_fd);
	OPENSSL_cleanse(l, sizeof(*l));
	l->report_fd = -1;
}

/* Reads the PAM child's report (a RESULT frame) from l->report_fd, waiting
 * at most timeout_ms, and closes the socket. A child that reported
 * nothing, or garbage, counts as a failed login. */
static void
login_read_report(struct mon_login *l, int timeout_ms)
{
	struct vbuf *in;
	struct pammsg *m;

	if (l->report_fd < 0)
		return;
	l->have_result = 1;
	l->status = PAMMSG_STATUS_PAM_ERROR;
	l->done_ms = vdi_now_ms();
	if ((in = vbuf_new(FRAME_BUF)) != NULL &&
	    (m = calloc(1, sizeof(*m))) != NULL) {
		if (privsep_read_msg(l->report_fd, in, m, timeout_ms) == 0 &&
		    m->type == PAMMSG_RESULT) {
			l->status = m->u.result.status;
			snprintf(
			    l->user, sizeof(l->user), "%s", m->u.result.user);
		}
		pammsg_clear(m);
		free(m);
	}
	vbuf_free(in);
	close(l->report_fd);
	l->report_fd = -1;
}

/* Drops logins that failed, and successful ones not signed for within the
 * login window. */
static void
login_sweep(struct monitor *mon)
{
	int64_t now = vdi_now_ms();
	size_t i;

	for (i = 0; i < mon->nlogins; i++) {
		struct mon_login *l = &mon->logins[i];

		if (!l->used || !l->have_result)
			continue;
		if (l->status != PAMMSG_STATUS_OK ||
		    now - l->done_ms > (int64_t)mon->login_window * 1000)
			login_clear(l);
	}
}

static void
login_reaped(struct monitor *mon, pid_t pid)
{
	size_t i;

	for (i = 0; i < mon->nlogins; i++) {
		struct mon_login *l = &mon->logins[i];

		if (!l->used || l->pid != pid)
			continue;
		l->pid = 0;
		/* The child has exited: its report, if any, is all there. */
		login_read_report(l, 0);
		if (l->status != PAMMSG_STATUS_OK)
			login_clear(l);
		return;
	}
}

static struct mon_login *
login_find(struct monitor *mon, const char *id)
{
	size_t i;

	for (i = 0; i < mon->nlogins; i++) {
		if (mon->logins[i].used && strcmp(mon->logins[i].id, id) == 0)
			return &mon->logins[i];
	}
	return NULL;
}

/* Reaps every child that has exited. */
static void
monitor_reap(struct monitor *mon)
{
	pid_t pid;
	int st;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		if (pid == mon->worker) {
			mon->worker_done = 1;
			mon->worker_status = WIFEXITED(st) ? WEXITSTATUS(st)
			    : WIFSIGNALED(st)              ? 128 + WTERMSIG(st)
							   : 1;
			vlog(mon->worker_status == 0 ? VLOG_INFO : VLOG_WARNING,
			    "privsep_worker_exit", "pid=%ld status=%d",
			    (long)pid, mon->worker_status);
			continue;
		}
		if (mon->children > 0)
			mon->children--;
		login_reaped(mon, pid);
		if (WIFSIGNALED(st))
			vlog(VLOG_NOTICE, "pam_child_exit", "pid=%ld signal=%d",
			    (long)pid, WTERMSIG(st));
	}
}

static int
monitor_pam_start(struct monitor *mon, const struct pammsg *req)
{
	struct pam_child_args args;
	struct mon_login *l = NULL;
	struct pammsg *rep = NULL;
	sigset_t none;
	char qs[96], qu[PAMMSG_USER_MAX * 4 + 3], qr[300];
	unsigned char rnd[PAMMSG_LOGIN_ID_LEN / 2];
	int sv[2], rv[2], r, c, w;
	size_t i;
	pid_t pid;

	vlog_quote(req->u.pam_start.service, qs, sizeof(qs));
	vlog_quote(req->u.pam_start.user, qu, sizeof(qu));
	vlog_quote(req->u.pam_start.rhost, qr, sizeof(qr));
	if (!service_allowed(mon, req->u.pam_start.service)) {
		vlog(VLOG_WARNING, "pam_start_refused",
		    "service=%s user=%s rhost=%s reason=service_not_allowed",
		    qs, qu, qr);
		return VDI_ERR_DENIED;
	}
	if (mon->children >= mon->max_conversations) {
		vlog(VLOG_WARNING, "pam_start_refused",
		    "service=%s user=%s rhost=%s reason=too_many_conversations "
		    "limit=%u",
		    qs, qu, qr, mon->max_conversations);
		return VDI_ERR_DENIED;
	}
	login_sweep(mon);
	for (i = 0; i < mon->nlogins && l == NULL; i++) {
		if (!mon->logins[i].used)
			l = &mon->logins[i];
	}
	/* Full: the oldest success not signed for yet makes room (its
	 * person would have to log in again). Live conversations never do;
	 * there are at most max_conversations of them, half the table. */
	for (i = 0; l == NULL && i < mon->nlogins; i++) {
		if (mon->logins[i].have_result)
			l = &mon->logins[i];
	}
	for (i = 0; l != NULL && i < mon->nlogins; i++) {
		struct mon_login *o = &mon->logins[i];

		if (o->have_result && o->done_ms < l->done_ms)
			l = o;
	}
	if (l != NULL) {
		vlog(VLOG_NOTICE, "privsep_login_evicted",
		    "login=%s reason=table_full limit=%zu", l->id,
		    mon->nlogins);
		login_clear(l);
	}
	if (l == NULL) {
		vlog(VLOG_WARNING, "pam_start_refused",
		    "service=%s user=%s rhost=%s reason=too_many_logins "
		    "limit=%zu",
		    qs, qu, qr, mon->nlogins);
		return VDI_ERR_DENIED;
	}
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return VDI_ERR_TLS;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		return VDI_ERR_SYSTEM;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, rv) != 0) {
		close(sv[0]);
		close(sv[1]);
		return VDI_ERR_SYSTEM;
	}
	if ((pid = fork()) < 0) {
		close(sv[0]);
		close(sv[1]);
		close(rv[0]);
		close(rv[1]);
		return VDI_ERR_SYSTEM;
	}
	if (pid == 0) {
		/* PAM child: default signal mask, nothing of the monitor's
		 * but its privileges; no keys (PAM modules run here). It
		 * dies with the monitor. */
		jws_key_free(mon->sign_key);
		mon->sign_key = NULL;
		OPENSSL_cleanse(mon->seal_key, sizeof(mon->seal_key));
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGCHLD, SIG_DFL);
		prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
		close(sv[0]);
		close(rv[0]);
		/* Drop the syslog socket before moving descriptors: its
		 * number may become the conversation socket (or a file a
		 * PAM module opens), and syslog() would write there. The
		 * next log line connects again. */
		closelog();
		/* Conversation on 3, report to the monitor on 4: moved up
		 * first so that neither dup2() lands on the other. */
		if ((c = fcntl(sv[1], F_DUPFD, 10)) < 0 ||
		    (w = fcntl(rv[1], F_DUPFD, 10)) < 0 || dup2(c, 3) < 0 ||
		    dup2(w, 4) < 0)
			_exit(1);
		closefrom(5);
		memset(&args, 0, sizeof(args));
		args.service = req->u.pam_start.service;
		args.user = req->u.pam_start.user;
		args.rhost = req->u.pam_start.rhost;
		args.fd = 3;
		args.report_fd = 4;
		args.conv_timeout = mon->conv_timeout;
		args.pam_timeout = mon->pam_timeout;
		pam_child_run(&args);
	}
	close(sv[1]);
	close(rv[1]);
	mon->children++;
	memset(l, 0, sizeof(*l));
	l->used = 1;
	l->pid = pid;
	l->report_fd = rv[0];
	for (i = 0; i < sizeof(rnd); i++)
		snprintf(l->id + 2 * i, 3, "%02x", rnd[i]);
	memcpy(l->tenant, req->u.pam_start.tenant, sizeof(l->tenant));
	memcpy(l->device, req->u.pam_start.device, sizeof(l->device));
	vlog(VLOG_INFO, "pam_start",
	    "service=%s user=%s rhost=%s pid=%ld login=%s", qs, qu, qr,
	    (long)pid, l->id);
	vbuf_reset(mon->out);
	r = VDI_ERR_ALLOC;
	if ((rep = calloc(1, sizeof(*rep))) != NULL) {
		rep->type = PAMMSG_PAM_STARTED;
		memcpy(rep->u.pam_started.login, l->id, sizeof(l->id));
		r = pammsg_encode(mon->out, rep);
		free(rep);
	}
	if (r == 0)
		r = write_with_fd(
		    mon->sock, mon->out, sv[0], PRIVSEP_REQUEST_TIMEOUT_MS);
	close(sv[0]);
	return r == 0 ? 0 : VDI_ERR_IO; /* VDI_ERR_IO: no reply possible */
}

/* The monitor signs only short-lived tokens, whatever a worker taken over
 * may ask: exp - iat <= token_lifetime and iat close to now. */
static int
check_lifetime(const struct monitor *mon, const json_t *claims)
{
	json_t *iat = json_object_get(claims, "iat");
	json_t *exp = json_object_get(claims, "exp");
	json_int_t i, e, now = (json_int_t)time(NULL);

	if (!json_is_integer(iat) || !json_is_integer(exp))
		return VDI_ERR_TOKEN_CLAIM;
	i = json_integer_value(iat);
	e = json_integer_value(exp);
	if (i < 0 || e <= i || e - i > (json_int_t)mon->token_lifetime ||
	    i > now + (json_int_t)mon->clock_skew ||
	    i < now - (json_int_t)mon->clock_skew)
		return VDI_ERR_TOKEN_CLAIM;
	return 0;
}

/* A string claim, or NULL. */
static const char *
claim_str(const json_t *claims, const char *key)
{
	json_t *v = json_object_get(claims, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* The claims a grant binds: all present strings, or VDI_ERR_TOKEN_CLAIM. */
struct bound {
	const char *sid, *sub, *tid, *x5t, *dst;
};

static int
bound_claims(const json_t *claims, struct bound *b)
{
	b->sid = claim_str(claims, "sid");
	b->sub = claim_str(claims, "sub");
	b->tid = claim_str(claims, "tid");
	b->dst = claim_str(claims, "dst");
	b->x5t = claim_str(json_object_get(claims, "cnf"), "x5t#S256");
	if (b->sid == NULL || b->sub == NULL || b->tid == NULL ||
	    b->dst == NULL || b->x5t == NULL || b->sid[0] == '\0' ||
	    b->dst[0] == '\0')
		return VDI_ERR_TOKEN_CLAIM;
	return 0;
}

static int
put_bound(struct vbuf *v, const char *s)
{
	size_t n = strlen(s);
	int r;

	if (n > 512)
		return VDI_ERR_TOO_LARGE;
	if ((r = vbuf_put_u32be(v, (uint32_t)n)) != 0)
		return r;
	return vbuf_put(v, s, n);
}

/* The signing input of a grant: GRANT_DOMAIN NUL, then sid, sub, tid,
 * x5t, dst (u32be length + bytes each) and the login time (u32be high,
 * u32be low). */
static int
grant_input(const struct bound *b, int64_t lat, struct vbuf *v)
{
	int r;

	if ((r = vbuf_put(v, GRANT_DOMAIN, sizeof(GRANT_DOMAIN))) != 0 ||
	    (r = put_bound(v, b->sid)) != 0 ||
	    (r = put_bound(v, b->sub)) != 0 ||
	    (r = put_bound(v, b->tid)) != 0 ||
	    (r = put_bound(v, b->x5t)) != 0 ||
	    (r = put_bound(v, b->dst)) != 0 ||
	    (r = vbuf_put_u32be(v, (uint32_t)((uint64_t)lat >> 32))) != 0)
		return r;
	return vbuf_put_u32be(v, (uint32_t)lat);
}

/* Makes the grant "g1.<lat>.<base64url signature>" for b at login time
 * lat into out (PAMMSG_GRANT_MAX + 1 bytes). */
static int
grant_make(const struct monitor *mon, const struct bound *b, int64_t lat,
    char *out, size_t outlen)
{
	unsigned char sig[JWS_SIG_LEN];
	char s64[100];
	struct vbuf *v;
	int r;

	if ((v = vbuf_new(GRANT_INPUT_MAX)) == NULL)
		return VDI_ERR_ALLOC;
	if ((r = grant_input(b, lat, v)) == 0 &&
	    (r = jws_sign_input(
		 mon->sign_key, vbuf_ptr(v), vbuf_len(v), sig)) == 0 &&
	    (r = b64url_encode(sig, sizeof(sig), s64, sizeof(s64))) == 0 &&
	    (size_t)snprintf(out, outlen, "%s%lld.%s", GRANT_PREFIX,
		(long long)lat, s64) >= outlen)
		r = VDI_ERR_TOO_LARGE;
	vbuf_free(v);
	return r;
}

/* Checks that grant is the monitor's own for exactly b, and not older than
 * grant_lifetime. Returns 0, VDI_ERR_BAD_FORMAT, VDI_ERR_JWS_SIGNATURE or
 * VDI_ERR_TOKEN_EXPIRED; *why names the refusal for the log. */
static int
grant_check(const struct monitor *mon, const struct bound *b, const char *grant,
    const char **why)
{
	unsigned char sig[JWS_SIG_LEN + 4];
	const char *p = grant + strlen(GRANT_PREFIX), *dot;
	int64_t lat = 0, now = (int64_t)time(NULL);
	struct vbuf *v;
	size_t n = 0;
	int r;

	*why = "bad_grant";
	if (strncmp(grant, GRANT_PREFIX, strlen(GRANT_PREFIX)) != 0 ||
	    (dot = strchr(p, '.')) == NULL || dot == p || dot - p > 12)
		return VDI_ERR_BAD_FORMAT;
	for (; p < dot; p++) {
		if (*p < '0' || *p > '9')
			return VDI_ERR_BAD_FORMAT;
		lat = lat * 10 + (*p - '0');
	}
	if (b64url_decode(dot + 1, strlen(dot + 1), sig, sizeof(sig), &n) !=
		0 ||
	    n != JWS_SIG_LEN)
		return VDI_ERR_BAD_FORMAT;
	if ((v = vbuf_new(GRANT_INPUT_MAX)) == NULL)
		return VDI_ERR_ALLOC;
	r = grant_input(b, lat, v);
	if (r == 0 &&
	    jws_verify_input(mon->sign_key, vbuf_ptr(v), vbuf_len(v), sig,
		JWS_SIG_LEN) != 0) {
		*why = "grant_mismatch";
		r = VDI_ERR_JWS_SIGNATURE;
	}
	vbuf_free(v);
	if (r == 0 &&
	    (lat > now + (int64_t)mon->clock_skew ||
		now - lat > (int64_t)mon->grant_lifetime)) {
		*why = "grant_expired";
		r = VDI_ERR_TOKEN_EXPIRED;
	}
	return r;
}

/* LOGIN: ref names a conversation this monitor started, whose PAM child
 * reported success to the monitor within the login window, for the very
 * user, tenant and device the claims name. One signature per login. */
static int
sign_login_check(struct monitor *mon, const struct pammsg *req,
    const struct bound *b, const char **why)
{
	struct mon_login *l;

	login_sweep(mon);
	if ((l = login_find(mon, req->u.sign.ref)) == NULL) {
		*why = "unknown_login";
		return VDI_ERR_DENIED;
	}
	if (!l->have_result)
		login_read_report(l, REPORT_WAIT_MS);
	if (l->status != PAMMSG_STATUS_OK) {
		*why = "login_not_successful";
		login_clear(l);
		return VDI_ERR_DENIED;
	}
	if (strcmp(l->user, b->sub) != 0) {
		*why = "sub_mismatch";
		return VDI_ERR_DENIED;
	}
	if (strcmp(l->tenant, b->tid) != 0) {
		*why = "tid_mismatch";
		return VDI_ERR_DENIED;
	}
	if (strcmp(l->device, b->x5t) != 0) {
		*why = "cnf_mismatch";
		return VDI_ERR_DENIED;
	}
	/* Used up: a second grant needs a second login. */
	login_clear(l);
	return 0;
}

static int
monitor_sign(struct monitor *mon, const struct pammsg *req, struct pammsg *rep)
{
	json_error_t jerr;
	json_t *claims = NULL;
	struct bound b;
	const char *why = NULL, *kind;
	char *token = NULL, qsub[300], qjti[100], qwhy[100];
	int r;

	kind = req->u.sign.kind == PAMMSG_SIGN_LOGIN ? "login" : "reconnect";
	if (mon->sign_key == NULL)
		return VDI_ERR_NOT_FOUND;
	claims = json_loadb(
	    req->u.sign.claims, req->u.sign.len, JSON_REJECT_DUPLICATES, &jerr);
	if (claims == NULL || !json_is_object(claims)) {
		r = VDI_ERR_JSON;
		goto out;
	}
	vlog_quote(
	    claim_str(claims, "sub") != NULL ? claim_str(claims, "sub") : "-",
	    qsub, sizeof(qsub));
	vlog_quote(
	    claim_str(claims, "jti") != NULL ? claim_str(claims, "jti") : "-",
	    qjti, sizeof(qjti));
	if ((r = check_lifetime(mon, claims)) != 0) {
		why = "lifetime";
		goto out;
	}
	if ((r = bound_claims(claims, &b)) != 0) {
		why = "claims_missing";
		goto out;
	}
	rep->type = PAMMSG_TOKEN;
	if (req->u.sign.kind == PAMMSG_SIGN_LOGIN) {
		if ((r = sign_login_check(mon, req, &b, &why)) != 0)
			goto out;
		if ((r = grant_make(mon, &b, (int64_t)time(NULL),
			 rep->u.token.grant, sizeof(rep->u.token.grant))) != 0)
			goto out;
	} else if ((r = grant_check(mon, &b, req->u.sign.ref, &why)) != 0) {
		r = VDI_ERR_DENIED;
		goto out;
	}
	if ((r = jws_sign(mon->sign_key, claims, &token)) != 0)
		goto out;
	if (strlen(token) > PAMMSG_TOKEN_MAX) {
		r = VDI_ERR_TOO_LARGE;
		goto out;
	}
	memcpy(rep->u.token.token, token, strlen(token) + 1);
	vlog(VLOG_INFO, "privsep_sign", "kind=%s sub=%s jti=%s exp=%lld", kind,
	    qsub, qjti,
	    (long long)json_integer_value(json_object_get(claims, "exp")));
out:
	if (r != 0 && why != NULL)
		vlog(VLOG_WARNING, "privsep_sign_refused",
		    "kind=%s sub=%s jti=%s reason=%s", kind, qsub, qjti,
		    vlog_quote(why, qwhy, sizeof(qwhy)));
	free(token);
	json_decref(claims);
	return r;
}

static int
monitor_seal(struct monitor *mon, const struct pammsg *req, struct pammsg *rep)
{
	int r;

	if (!mon->have_seal_key)
		return VDI_ERR_NOT_FOUND;
	rep->type = PAMMSG_SEALED;
	if ((r = seal_close(mon->seal_key, req->u.seal.plain,
		 req->u.seal.plain_len, req->u.seal.aad, req->u.seal.aad_len,
		 rep->u.sealed.sealed, sizeof(rep->u.sealed.sealed))) != 0)
		return r;
	vlog(VLOG_DEBUG, "privsep_seal", "bytes=%zu", req->u.seal.plain_len);
	return 0;
}

/* Serves one request; the reply is left in mon->out. Returns 0, or an
 * error that ends the monitor's service of this worker (it broke the
 * protocol, or the socket failed). */
static int
monitor_dispatch(struct monitor *mon, struct pammsg *req)
{
	struct pammsg *rep;
	int r;

	if ((rep = calloc(1, sizeof(*rep))) == NULL)
		return VDI_ERR_ALLOC;
	switch (req->type) {
	case PAMMSG_PAM_START:
		/* Replies by itself (the descriptor rides on the reply). */
		if ((r = monitor_pam_start(mon, req)) == 0 || r == VDI_ERR_IO)
			goto out;
		break;
	case PAMMSG_SIGN:
		r = monitor_sign(mon, req, rep);
		break;
	case PAMMSG_SEAL:
		r = monitor_seal(mon, req, rep);
		break;
	default:
		vlog(VLOG_ERROR, "privsep_protocol_error",
		    "reason=unexpected_request type=%d", (int)req->type);
		r = VDI_ERR_BAD_FORMAT;
		goto out;
	}
	vbuf_reset(mon->out);
	if (r == 0)
		r = pammsg_encode(mon->out, rep);
	if (r != 0) {
		vbuf_reset(mon->out);
		r = pammsg_encode_error(mon->out, r);
	}
	if (r == 0)
		r = privsep_write_all(
		    mon->sock, mon->out, PRIVSEP_REQUEST_TIMEOUT_MS);
out:
	pammsg_clear(rep);
	free(rep);
	return r;
}

static void
monitor_signal(struct monitor *mon)
{
	struct signalfd_siginfo si;
	ssize_t n;

	while ((n = read(mon->sigfd, &si, sizeof(si))) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGCHLD)
			monitor_reap(mon);
		else if (!mon->worker_done) {
			/* The policy may name new PAM services: learn them
			 * before the worker reloads and sends logins. */
			if (si.ssi_signo == SIGHUP)
				monitor_reload_services(mon, "SIGHUP");
			kill(mon->worker, (int)si.ssi_signo);
		}
	}
	monitor_reap(mon);
}

static void
monitor_input(struct monitor *mon)
{
	struct pammsg *req;
	int r;

	r = read_some(mon->sock, mon->in, NULL);
	if (r == VDI_ERR_NEED_MORE)
		return;
	if (r == 0) {
		if ((req = calloc(1, sizeof(*req))) == NULL)
			r = VDI_ERR_ALLOC;
		while (req != NULL && (r = pammsg_parse(mon->in, req)) == 0) {
			r = monitor_dispatch(mon, req);
			pammsg_clear(req);
			if (r != 0)
				break;
		}
		free(req);
		if (vbuf_len(mon->in) == 0)
			vbuf_wipe(mon->in);
		if (r == VDI_ERR_NEED_MORE)
			return;
	}
	if (r != VDI_ERR_IO) {
		/* A worker that breaks the protocol is not trusted any more. */
		vlog(VLOG_ERROR, "privsep_protocol_error",
		    "error=%s "
		    "action=kill_worker",
		    vdi_errname(r));
		kill(mon->worker, SIGTERM);
	}
	close(mon->sock);
	mon->sock = -1;
}

static unsigned int
limit(unsigned int v, unsigned int def, unsigned int max)
{
	if (v == 0)
		return def;
	return v > max ? max : v;
}

static void __attribute__((noreturn))
monitor_main(const struct privsep_config *cfg, int sock, pid_t worker)
{
	struct monitor mon;
	struct pollfd pfd[2];
	sigset_t set;
	size_t i;
	int r, status, n;

	memset(&mon, 0, sizeof(mon));
	mon.sigfd = -1;
	mon.sock = sock;
	mon.worker = worker;
	mon.services = cfg->pam_services;
	mon.reload_services = cfg->reload_services;
	mon.reload_arg = cfg->reload_arg;
	mon.services_loaded_ms = vdi_now_ms();
	mon.conv_timeout =
	    limit(cfg->conv_timeout, PRIVSEP_CONV_TIMEOUT, CONV_TIMEOUT_MAX);
	mon.pam_timeout =
	    limit(cfg->pam_timeout, PRIVSEP_PAM_TIMEOUT, PAM_TIMEOUT_MAX);
	mon.max_conversations = limit(cfg->max_conversations,
	    PRIVSEP_MAX_CONVERSATIONS, CONVERSATIONS_MAX);
	mon.token_lifetime =
	    limit(cfg->token_lifetime, PRIVSEP_TOKEN_LIFETIME, LIFETIME_MAX);
	mon.clock_skew = limit(cfg->clock_skew, PRIVSEP_CLOCK_SKEW, SKEW_MAX);
	mon.login_window = PRIVSEP_LOGIN_WINDOW;
	mon.grant_lifetime =
	    limit(cfg->grant_lifetime, PRIVSEP_GRANT_LIFETIME, GRANT_AGE_MAX);
	mon.nlogins = 2 * (size_t)mon.max_conversations;
	if ((mon.logins = calloc(mon.nlogins, sizeof(*mon.logins))) == NULL)
		mon.nlogins = 0;
	for (i = 0; i < mon.nlogins; i++)
		mon.logins[i].report_fd = -1;

	signal(SIGCHLD, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0 ||
	    (mon.sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK)) < 0 ||
	    harden_process() != 0 || mon.logins == NULL ||
	    (mon.in = vbuf_new(FRAME_BUF)) == NULL ||
	    (mon.out = vbuf_new(FRAME_BUF)) == NULL) {
		vlog(VLOG_ERROR, "privsep_monitor_failed", "errno=%d", errno);
		r = VDI_ERR_SYSTEM;
	} else
		r = monitor_load_keys(&mon, cfg);
	if (mon.out != NULL) {
		vbuf_reset(mon.out);
		if ((r == 0 ? pammsg_encode_empty(mon.out, PAMMSG_READY)
			    : pammsg_encode_error(mon.out, r)) != 0 ||
		    privsep_write_all(
			mon.sock, mon.out, PRIVSEP_REQUEST_TIMEOUT_MS) != 0)
			r = r != 0 ? r : VDI_ERR_IO;
	}
	/* A worker that died before SIGCHLD was blocked sent no signal. */
	monitor_reap(&mon);
	if (r != 0) {
		close(mon.sock);
		mon.sock = -1;
	} else
		vlog(VLOG_INFO, "privsep_monitor_ready",
		    "monitor=%ld worker=%ld signing_key=%s seal_key=%s",
		    (long)getpid(), (long)worker,
		    mon.sign_key != NULL ? "yes" : "no",
		    mon.have_seal_key ? "yes" : "no");

	/* Serve until the worker is gone; then only forward signals and
	 * reap until it has exited. */
	while (!mon.worker_done) {
		n = 0;
		if (mon.sigfd >= 0) {
			pfd[n].fd = mon.sigfd;
			pfd[n].events = POLLIN;
			n++;
		}
		if (mon.sock >= 0) {
			pfd[n].fd = mon.sock;
			pfd[n].events = POLLIN;
			n++;
		}
		if (n == 0) {
			/* No signalfd: block until the worker exits. */
			if (waitpid(worker, &status, 0) == worker) {
				mon.worker_done = 1;
				mon.worker_status = WIFEXITED(status)
				    ? WEXITSTATUS(status)
				    : 128 + WTERMSIG(status);
			}
			continue;
		}
		pfd[0].revents = pfd[1].revents = 0;
		if (poll(pfd, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			vlog(VLOG_ERROR, "privsep_monitor_poll", "errno=%d",
			    errno);
			kill(worker, SIGTERM);
			close(mon.sigfd);
			mon.sigfd = -1;
			continue;
		}
		if (mon.sigfd >= 0 && pfd[0].revents != 0)
			monitor_signal(&mon);
		if (mon.sock >= 0 && pfd[n - 1].fd == mon.sock &&
		    pfd[n - 1].revents != 0)
			monitor_input(&mon);
	}

	jws_key_free(mon.sign_key);
	OPENSSL_cleanse(mon.seal_key, sizeof(mon.seal_key));
	free(mon.own_services);
	for (i = 0; i < mon.nlogins; i++)
		login_clear(&mon.logins[i]);
	free(mon.logins);
	vbuf_free(mon.in);
	vbuf_free(mon.out);
	if (mon.sock >= 0)
		close(mon.sock);
	if (mon.sigfd >= 0)
		close(mon.sigfd);
	exit(r != 0 ? 1 : mon.worker_status);
}

/* --- start ---------------------------------------------------------------- */

int
privsep_start(const struct privsep_config *cfg, struct privsep **out)
{
	struct privsep *ps = NULL;
	struct pammsg *m = NULL;
	struct passwd *pw;
	struct group *gr;
	uid_t uid = 0;
	gid_t gid = 0;
	pid_t parent, pid;
	int sv[2], as_root, r;
	size_t i;

	if (out == NULL)
		return VDI_ERR_INVALID_ARG;
	*out = NULL;
	if (cfg == NULL)
		return VDI_ERR_INVALID_ARG;
	for (i = 0; cfg->pam_services != NULL && cfg->pam_services[i] != NULL;
	     i++) {
		if (pammsg_check_service(cfg->pam_services[i],
			strlen(cfg->pam_services[i])) != 0)
			return VDI_ERR_INVALID_ARG;
	}
	as_root = geteuid() == 0;
	if (as_root) {
		if (cfg->user == NULL || cfg->user[0] == '\0') {
			vlog(VLOG_ERROR, "privsep_config",
			    "reason=\"started as root: a user to run the "
			    "worker as is required\"");
			return VDI_ERR_INVALID_ARG;
		}
		if ((pw = getpwnam(cfg->user)) == NULL)
			return VDI_ERR_NOT_FOUND;
		uid = pw->pw_uid;
		gid = pw->pw_gid;
		if (cfg->group != NULL) {
			if ((gr = getgrnam(cfg->group)) == NULL)
				return VDI_ERR_NOT_FOUND;
			gid = gr->gr_gid;
		}
		if (uid == 0 || gid == 0) {
			vlog(VLOG_ERROR, "privsep_config",
			    "reason=\"the worker must not run as root\"");
			return VDI_ERR_INVALID_ARG;
		}
	}
	if ((r = ensure_stdio()) != 0)
		return r;
	if ((ps = calloc(1, sizeof(*ps))) == NULL ||
	    (ps->in = vbuf_new(FRAME_BUF)) == NULL ||
	    (ps->out = vbuf_new(FRAME_BUF)) == NULL ||
	    (m = calloc(1, sizeof(*m))) == NULL) {
		r = VDI_ERR_ALLOC;
		goto fail;
	}
	ps->fd = -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		r = VDI_ERR_SYSTEM;
		goto fail;
	}
	parent = getpid();
	fflush(NULL);
	if ((pid = fork()) < 0) {
		close(sv[0]);
		close(sv[1]);
		r = VDI_ERR_SYSTEM;
		goto fail;
	}
	if (pid > 0) {
		close(sv[1]);
		privsep_free(ps);
		free(m);
		monitor_main(cfg, sv[0], pid);
	}

	/* The worker. */
	close(sv[0]);
	ps->fd = sv[1];
	ps->monitor = parent;
	if ((r = harden_process()) != 0)
		goto fail;
	if (as_root) {
		if ((r = drop_privileges(uid, gid)) != 0)
			goto fail;
		vlog(VLOG_INFO, "privsep_worker", "uid=%u gid=%u",
		    (unsigned)uid, (unsigned)gid);
	} else
		vlog(VLOG_NOTICE, "privsep_worker",
		    "uid=%u privileges=kept reason=not_started_as_root",
		    (unsigned)getuid());
	/* After the drop: a credential change clears the death signal. */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0) != 0) {
		r = VDI_ERR_SYSTEM;
		goto fail;
	}
	if (getppid() != parent) {
		r = VDI_ERR_IO;
		goto fail;
	}
	if ((r = privsep_read_msg(
		 ps->fd, ps->in, m, PRIVSEP_REQUEST_TIMEOUT_MS)) != 0)
		goto fail;
	if (m->type == PAMMSG_ERROR) {
		r = m->u.error.code;
		goto fail;
	}
	if (m->type != PAMMSG_READY) {
		r = VDI_ERR_BAD_FORMAT;
		goto fail;
	}
	free(m);
	*out = ps;
	return 0;
fail:
	free(m);
	privsep_free(ps);
	return r;
}

void
privsep_free(struct privsep *ps)
{
	if (ps == NULL)
		return;
	if (ps->fd >= 0)
		close(ps->fd);
	vbuf_free(ps->in);
	vbuf_free(ps->out);
	free(ps);
}

int
privsep_fd(const struct privsep *ps)
{
	return ps->fd;
}

/* --- worker requests ------------------------------------------------------ */

/* Sends the request in ps->out and reads the reply of type want (or
 * ERROR, whose code is returned). */
static int
request(
    struct privsep *ps, enum pammsg_type want, struct pammsg *rep, int *passed)
{
	int r, fd = -1;

	if (ps->broken) {
		vbuf_wipe(ps->out);
		return VDI_ERR_IO;
	}
	r = privsep_write_all(ps->fd, ps->out, PRIVSEP_REQUEST_TIMEOUT_MS);
	vbuf_wipe(ps->out);
	if (r == 0)
		r = read_msg_fd(ps->fd, ps->in, rep, PRIVSEP_REQUEST_TIMEOUT_MS,
		    passed != NULL ? &fd : NULL);
	if (r == 0 && vbuf_len(ps->in) != 0)
		r = VDI_ERR_BAD_FORMAT; /* nothing is sent unasked */
	if (r == 0 && fd == PASSED_LOST && rep->type == want) {
		/* The monitor answered in step, but the descriptor it sent
		 * could not be received here (EMFILE/ENFILE: the kernel
		 * dropped it, so the PAM child sees its socket close and
		 * ends). This request fails; the link is fine. */
		vlog(VLOG_WARNING, "privsep_fd_lost",
		    "reason=descriptor_limit detail=\"the worker is out of "
		    "descriptors; the request fails, later ones work\"");
		errno = EMFILE;
		return VDI_ERR_SYSTEM;
	}
	if (fd == PASSED_LOST)
		fd = -1;
	if (r == 0 && rep->type == PAMMSG_ERROR) {
		r = rep->u.error.code;
		if (strcmp(vdi_errname(r), "VDI_ERR_UNKNOWN") == 0)
			r = VDI_ERR_INTERNAL;
		if (fd >= 0)
			r = VDI_ERR_BAD_FORMAT;
		else
			return r;
	} else if (r == 0 && (rep->type != want || (passed != NULL && fd < 0)))
		r = VDI_ERR_BAD_FORMAT;
	if (r != 0) {
		if (fd >= 0)
			close(fd);
		/* The stream can no longer be trusted to be in step. */
		ps->broken = 1;
		vlog(VLOG_ERROR, "privsep_monitor_lost", "error=%s",
		    vdi_errname(r));
		if (r != VDI_ERR_TIMEOUT)
			r = VDI_ERR_IO;
		return r;
	}
	if (passed != NULL)
		*passed = fd;
	return 0;
}

int
privsep_pam_begin(struct privsep *ps, const struct privsep_login *who,
    char login_id[PRIVSEP_LOGIN_ID_SIZE], int *conv_fd)
{
	struct pammsg *m;
	const char *rhost;
	size_t sl, ul, rl, tl, dl;
	int r, fd = -1;

	if (conv_fd != NULL)
		*conv_fd = -1;
	if (login_id != NULL)
		login_id[0] = '\0';
	if (ps == NULL || who == NULL || who->service == NULL ||
	    who->user == NULL || who->tenant == NULL || who->device == NULL ||
	    conv_fd == NULL)
		return VDI_ERR_INVALID_ARG;
	rhost = who->rhost != NULL ? who->rhost : "";
	sl = strlen(who->service);
	ul = strlen(who->user);
	rl = strlen(rhost);
	tl = strlen(who->tenant);
	dl = strlen(who->device);
	if ((r = pammsg_check_service(who->service, sl)) != 0 ||
	    (r = pammsg_check_user(who->user, ul)) != 0 ||
	    (r = pammsg_check_rhost(rhost, rl)) != 0 ||
	    (r = pammsg_check_tenant(who->tenant, tl)) != 0 ||
	    (r = pammsg_check_device(who->device, dl)) != 0)
		return r;
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return VDI_ERR_ALLOC;
	m->type = PAMMSG_PAM_START;
	memcpy(m->u.pam_start.service, who->service, sl);
	memcpy(m->u.pam_start.user, who->user, ul);
	memcpy(m->u.pam_start.rhost, rhost, rl);
	memcpy(m->u.pam_start.tenant, who->tenant, tl);
	memcpy(m->u.pam_start.device, who->device, dl);
	vbuf_reset(ps->out);
	if ((r = pammsg_encode(ps->out, m)) == 0 &&
	    (r = request(ps, PAMMSG_PAM_STARTED, m, &fd)) == 0 &&
	    (r = set_nonblock(fd)) != 0)
		close(fd);
	if (r == 0 && login_id != NULL)
		memcpy(login_id, m->u.pam_started.login, PRIVSEP_LOGIN_ID_SIZE);
	pammsg_clear(m);
	free(m);
	if (r == 0)
		*conv_fd = fd;
	return r;
}

int
privsep_pam_read(int conv_fd, struct vbuf *in, struct pammsg *out)
{
	int r;

	for (;;) {
		r = pammsg_parse(in, out);
		if (r == 0) {
			if (out->type == PAMMSG_PROMPTS ||
			    out->type == PAMMSG_RESULT)
				return 0;
			pammsg_clear(out);
			return VDI_ERR_BAD_FORMAT;
		}
		if (r != VDI_ERR_NEED_MORE)
			return r;
		if ((r = read_some(conv_fd, in, NULL)) != 0)
			return r;
	}
}

int
privsep_pam_answer(int conv_fd, const char *const *answers, size_t n)
{
	struct vbuf *b;
	int r;

	if ((b = vbuf_new(FRAME_BUF)) == NULL)
		return VDI_ERR_ALLOC;
	if ((r = pammsg_encode_answers(b, answers, n)) == 0)
		r = privsep_write_all(conv_fd, b, 1000);
	vbuf_free(b); /* wipes */
	return r;
}

int
privsep_pam_converse(struct privsep *ps, const struct privsep_login *who,
    privsep_answer_fn answer_fn, privsep_answer_fn info_fn, void *arg,
    struct pammsg *result, char login_id[PRIVSEP_LOGIN_ID_SIZE])
{
	struct pammsg *m = NULL, *a = NULL;
	struct vbuf *in = NULL, *out = NULL;
	int fd = -1, r;

	if (result == NULL || answer_fn == NULL)
		return VDI_ERR_INVALID_ARG;
	pammsg_clear(result);
	if ((m = calloc(1, sizeof(*m))) == NULL ||
	    (a = calloc(1, sizeof(*a))) == NULL ||
	    (in = vbuf_new(FRAME_BUF)) == NULL ||
	    (out = vbuf_new(FRAME_BUF)) == NULL) {
		r = VDI_ERR_ALLOC;
		goto out;
	}
	if ((r = privsep_pam_begin(ps, who, login_id, &fd)) != 0)
		goto out;
	for (;;) {
		/* The PAM child bounds the wait (conv and PAM timeouts). */
		if ((r = privsep_read_msg(fd, in, m, -1)) != 0)
			goto out;
		if (m->type == PAMMSG_RESULT) {
			*result = *m;
			break;
		}
		if (m->type != PAMMSG_PROMPTS) {
			r = VDI_ERR_BAD_FORMAT;
			goto out;
		}
		pammsg_clear(a);
		a->type = PAMMSG_ANSWERS;
		if (pammsg_prompt_count(m) == 0) {
			if (info_fn != NULL && (r = info_fn(arg, m, a)) != 0)
				goto out;
			continue;
		}
		if ((r = answer_fn(arg, m, a)) != 0)
			goto out;
		a->type = PAMMSG_ANSWERS;
		vbuf_reset(out);
		r = pammsg_encode(out, a);
		pammsg_clear(a);
		if (r != 0 || (r = privsep_write_all(fd, out, 1000)) != 0)
			goto out;
		vbuf_wipe(out);
	}
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	pammsg_clear(m);
	pammsg_clear(a);
	free(m);
	free(a);
	vbuf_free(in);
	vbuf_free(out);
	return r;
}

/* --- keys held by the monitor --------------------------------------------- */

static int
sign_request(struct privsep *ps, enum pammsg_sign_kind kind, const char *ref,
    const json_t *claims, char **token, char grant[PRIVSEP_GRANT_SIZE])
{
	struct pammsg *m;
	char *text = NULL;
	size_t len;
	int r;

	if (token != NULL)
		*token = NULL;
	if (grant != NULL)
		grant[0] = '\0';
	if (ps == NULL || token == NULL || ref == NULL ||
	    !json_is_object(claims))
		return VDI_ERR_INVALID_ARG;
	if (strlen(ref) > PAMMSG_GRANT_MAX)
		return VDI_ERR_TOO_LARGE;
	if ((text = json_dumps(claims, JSON_COMPACT | JSON_SORT_KEYS)) == NULL)
		return VDI_ERR_JSON;
	if ((len = strlen(text)) > PAMMSG_CLAIMS_MAX) {
		free(text);
		return VDI_ERR_TOO_LARGE;
	}
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		free(text);
		return VDI_ERR_ALLOC;
	}
	m->type = PAMMSG_SIGN;
	m->u.sign.kind = (uint8_t)kind;
	snprintf(m->u.sign.ref, sizeof(m->u.sign.ref), "%s", ref);
	m->u.sign.len = len;
	memcpy(m->u.sign.claims, text, len);
	free(text);
	vbuf_reset(ps->out);
	if ((r = pammsg_encode(ps->out, m)) == 0 &&
	    (r = request(ps, PAMMSG_TOKEN, m, NULL)) == 0) {
		if (kind == PAMMSG_SIGN_LOGIN && m->u.token.grant[0] == '\0')
			r = VDI_ERR_BAD_FORMAT;
		else if ((*token = strdup(m->u.token.token)) == NULL)
			r = VDI_ERR_ALLOC;
		else if (grant != NULL)
			memcpy(grant, m->u.token.grant, PRIVSEP_GRANT_SIZE);
	}
	pammsg_clear(m);
	free(m);
	return r;
}

int
privsep_sign_login(struct privsep *ps, const char *login_id,
    const json_t *claims, char **token, char grant[PRIVSEP_GRANT_SIZE])
{
	if (grant == NULL) {
		if (token != NULL)
			*token = NULL;
		return VDI_ERR_INVALID_ARG;
	}
	return sign_request(
	    ps, PAMMSG_SIGN_LOGIN, login_id, claims, token, grant);
}

int
privsep_sign_reconnect(
    struct privsep *ps, const char *grant, const json_t *claims, char **token)
{
	return sign_request(
	    ps, PAMMSG_SIGN_RECONNECT, grant, claims, token, NULL);
}

int
privsep_seal(struct privsep *ps, const void *plain, size_t len, const char *aad,
    char **sealed)
{
	struct pammsg *m;
	size_t alen = aad == NULL ? 0 : strlen(aad);
	int r;

	if (sealed != NULL)
		*sealed = NULL;
	if (ps == NULL || sealed == NULL || plain == NULL || len == 0)
		return VDI_ERR_INVALID_ARG;
	if (len > PAMMSG_SEAL_PLAIN_MAX || alen > PAMMSG_SEAL_AAD_MAX)
		return VDI_ERR_TOO_LARGE;
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return VDI_ERR_ALLOC;
	m->type = PAMMSG_SEAL;
	m->u.seal.plain_len = len;
	memcpy(m->u.seal.plain, plain, len);
	m->u.seal.aad_len = alen;
	if (alen > 0)
		memcpy(m->u.seal.aad, aad, alen);
	vbuf_reset(ps->out);
	r = pammsg_encode(ps->out, m);
	pammsg_clear(m);
	if (r == 0 && (r = request(ps, PAMMSG_SEALED, m, NULL)) == 0 &&
	    (*sealed = strdup(m->u.sealed.sealed)) == NULL)
		r = VDI_ERR_ALLOC;
	pammsg_clear(m);
	free(m);
	return r;
}
