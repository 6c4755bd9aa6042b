/* rdpclient.c: the RDP client process of a vdic_connect(): its private
 * directory (once per call), its start on a loopback port and its end.
 * The pieces (argument list, environment, spawn) are in launch.c. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "vdic_int.h"
#include "vlog.h"

extern char **environ;

int
shim_rdp_privdir(struct vdic *c)
{
	char why[SHIM_PATH_MAX * 2 + 256], q[sizeof(why) * 2 + 3];
	int r;

	if (c->privdir[0] != '\0')
		return VDIC_OK;
	if ((r = shim_privdir_make(c->cfg, c->privdir, sizeof(c->privdir), why,
		 sizeof(why))) == 0)
		return VDIC_OK;
	c->privdir[0] = '\0';
	vlog(VLOG_ERROR, "privdir_refused", "reason=%s",
	    vlog_quote(why, q, sizeof(q)));
	if (r == VDI_ERR_DENIED) {
		vdi_seterr(c->msg, sizeof(c->msg),
		    "No memory-backed place for the desktop client's private "
		    "files, so nothing of the session may be written to this "
		    "device's disk: %s. Set private_dir to a tmpfs directory "
		    "(or provide $XDG_RUNTIME_DIR or /dev/shm on tmpfs).",
		    why);
		return VDIC_ERR_CONFIG;
	}
	vdi_seterr(c->msg, sizeof(c->msg),
	    "Cannot make a private directory for the desktop client (%s).",
	    why);
	return VDIC_ERR_CLIENT;
}

int
shim_rdp_launch(struct vdic *c, unsigned int port)
{
	char **argv = NULL, **env = NULL;
	int r;

	if ((r = shim_rdp_privdir(c)) != VDIC_OK)
		return r;
	if (shim_rdp_argv(c->cfg, c->user, port, &argv) != 0 ||
	    shim_rdp_env((const char *const *)environ, c->privdir, &env) != 0) {
		shim_argv_free(argv);
		vdi_seterr(c->msg, sizeof(c->msg), "Out of memory.");
		return VDIC_ERR_INTERNAL;
	}
	r = shim_spawn(argv, env, &c->child);
	shim_argv_free(argv);
	shim_argv_free(env);
	if (r != 0) {
		vdi_seterr(c->msg, sizeof(c->msg),
		    "Cannot start the desktop client %s (%s).",
		    c->cfg->rdp_command, strerror(errno));
		return VDIC_ERR_CLIENT;
	}
	c->pidfd = (int)syscall(SYS_pidfd_open, c->child, 0);
	vlog(VLOG_INFO, "client_started", "pid=%ld port=%u", (long)c->child,
	    port);
	return VDIC_OK;
}

int
shim_rdp_reap(struct vdic *c, int terminate)
{
	int ws = 0, i;
	pid_t p = 0;

	if (c->child <= 0)
		return -1;
	if (terminate)
		(void)kill(c->child, SIGTERM);
	for (i = 0; i < 300; i++) {
		if ((p = waitpid(c->child, &ws, WNOHANG)) != 0)
			break;
		if (i == 30 && terminate)
			(void)kill(c->child, SIGKILL);
		usleep(10000);
	}
	if (p == 0) {
		(void)kill(c->child, SIGKILL);
		p = waitpid(c->child, &ws, 0);
	}
	if (c->pidfd >= 0)
		close(c->pidfd);
	c->pidfd = -1;
	c->child = -1;
	if (p < 0)
		return -1;
	/* Ended by a signal a person or the session manager sends: a normal
	 * close. */
	if (WIFSIGNALED(ws))
		return WTERMSIG(ws) == SIGTERM || WTERMSIG(ws) == SIGINT ||
			WTERMSIG(ws) == SIGHUP
		    ? 0
		    : 128 + WTERMSIG(ws);
	return WEXITSTATUS(ws);
}
