/*
 * privsep.c: the start: forks the monitor (monitor.c) and the worker, which
 * drops its privileges and waits for the monitor's READY (see privsep.h,
 * privsep_int.h for the other files, and docs/privsep.md).
 */
#include "config.h"

#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "privsep_int.h"
#include "vlog.h"

/* No core dumps, no ptrace by others of the same uid, no /proc/pid/mem. */
int
privsep_harden(void)
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
	if ((r = privsep_harden()) != 0)
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
