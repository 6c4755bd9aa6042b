/*
 * monitor.c: the monitor process: loads the keys, forks a PAM child per
 * login and remembers what each reported, serves the worker's requests one
 * at a time, forwards signals and exits with the worker (see privsep_int.h
 * and docs/privsep.md). Signing and sealing: monitor_sign.c.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "fdwait.h"
#include "jws.h"
#include "pam_child.h"
#include "privsep_int.h"
#include "seal.h"
#include "vlog.h"

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

void
mon_login_clear(struct mon_login *l)
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
			mon_login_clear(l);
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
			mon_login_clear(l);
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

struct mon_login *
mon_login_done(struct monitor *mon, const char *id)
{
	struct mon_login *l;

	login_sweep(mon);
	if ((l = login_find(mon, id)) != NULL && !l->have_result)
		login_read_report(l, REPORT_WAIT_MS);
	return l;
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
		mon_login_clear(l);
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
		r = privsep_send_fd(
		    mon->sock, mon->out, sv[0], PRIVSEP_REQUEST_TIMEOUT_MS);
	close(sv[0]);
	return r == 0 ? 0 : VDI_ERR_IO; /* VDI_ERR_IO: no reply possible */
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

	r = privsep_recv(mon->sock, mon->in, NULL);
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

void
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
	    privsep_harden() != 0 || mon.logins == NULL ||
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
		mon_login_clear(&mon.logins[i]);
	free(mon.logins);
	vbuf_free(mon.in);
	vbuf_free(mon.out);
	if (mon.sock >= 0)
		close(mon.sock);
	if (mon.sigfd >= 0)
		close(mon.sigfd);
	exit(r != 0 ? 1 : mon.worker_status);
}
