/* launch.c: the RDP client's arguments and environment, the private
 * directory it lives in, starting it, and recognising its connection
 * (shim.h). */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>

#include "shim.h"

void
shim_argv_free(char **argv)
{
	size_t i;

	if (argv == NULL)
		return;
	for (i = 0; argv[i] != NULL; i++)
		free(argv[i]);
	free(argv);
}

struct argl {
	char **v;
	size_t n;
	int failed;
};

static void add(struct argl *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
add(struct argl *a, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	if (a->failed)
		return;
	if (a->n + 1 >= SHIM_ARGV_MAX) {
		a->failed = VDI_ERR_TOO_LARGE;
		return;
	}
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (s == NULL) {
		a->failed = VDI_ERR_ALLOC;
		return;
	}
	a->v[a->n++] = s;
	a->v[a->n] = NULL;
}

int
shim_rdp_argv(const struct vdic_config *cfg, const char *user,
    unsigned int port, char ***argv)
{
	struct argl a = { NULL, 0, 0 };
	char pin[3 * 32];
	size_t i;

	*argv = NULL;
	if (port == 0 || port > 65535 || strlen(cfg->rdp_pin) != 64)
		return VDI_ERR_INVALID_ARG;
	/* FreeRDP 2.11 compares "aa:bb:..." (what it computes) with what it
	 * is given, so the pin goes in with colons. */
	for (i = 0; i < 32; i++) {
		pin[i * 3] = cfg->rdp_pin[i * 2];
		pin[i * 3 + 1] = cfg->rdp_pin[i * 2 + 1];
		pin[i * 3 + 2] = i == 31 ? '\0' : ':';
	}
	if ((a.v = calloc(SHIM_ARGV_MAX, sizeof(char *))) == NULL)
		return VDI_ERR_ALLOC;
	add(&a, "%s", cfg->rdp_command);
	add(&a, "/v:127.0.0.1:%u", port);
	/* TLS only: the gateway does not offer NLA to clients, and the
	 * password never reaches the client (the gateway logs on with the
	 * broker's sealed credentials). */
	add(&a, "/sec:tls");
	add(&a, "/cert:deny,fingerprint:sha256:%s", pin);
	if (user != NULL && *user != '\0')
		add(&a, "/u:%s", user);
	/* No redirection of any kind (all off by default in 2.11 except the
	 * clipboard; said explicitly anyway). */
	add(&a, "-clipboard");
	add(&a, "-drives");
	add(&a, "-home-drive");
	add(&a, "/audio-mode:2");
	add(&a, "-compression");
	add(&a, "/gfx");
	if (cfg->rdp_fullscreen)
		add(&a, "/f");
	else if (cfg->rdp_size[0] != '\0')
		add(&a, "/size:%s", cfg->rdp_size);
	if (cfg->kbd_layout[0] != '\0')
		add(&a, "/kbd:%s", cfg->kbd_layout);
	if (cfg->kbd_type > 0)
		add(&a, "/kbd-type:%d", cfg->kbd_type);
	if (cfg->kbd_subtype >= 0)
		add(&a, "/kbd-subtype:%d", cfg->kbd_subtype);
	if (cfg->kbd_fn_keys > 0)
		add(&a, "/kbd-fn-key:%d", cfg->kbd_fn_keys);
	add(&a, "/t:%s", cfg->title[0] != '\0' ? cfg->title : "VDI desktop");
	add(&a, "/log-level:WARN");
	if (a.failed) {
		int r = a.failed;

		shim_argv_free(a.v);
		return r;
	}
	*argv = a.v;
	return 0;
}

static const char *const env_keep[] = { "DISPLAY", "WAYLAND_DISPLAY",
	"XAUTHORITY", "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "LC_MESSAGES",
	"TZ", "PATH", NULL };

int
shim_rdp_env(const char *const *envp, const char *privdir, char ***env)
{
	struct argl a = { NULL, 0, 0 };
	const char *home = NULL;
	int have_xauth = 0, have_path = 0;
	size_t i, k, l;

	*env = NULL;
	if ((a.v = calloc(SHIM_ARGV_MAX, sizeof(char *))) == NULL)
		return VDI_ERR_ALLOC;
	for (i = 0; envp != NULL && envp[i] != NULL; i++) {
		if (strncmp(envp[i], "HOME=", 5) == 0)
			home = envp[i] + 5;
		for (k = 0; env_keep[k] != NULL; k++) {
			l = strlen(env_keep[k]);
			if (strncmp(envp[i], env_keep[k], l) == 0 &&
			    envp[i][l] == '=') {
				add(&a, "%s", envp[i]);
				have_xauth |= k == 2;
				have_path |= k == 9;
			}
		}
	}
	/* Xlib finds the display's cookie in $HOME/.Xauthority: keep the
	 * real one readable after HOME moves. */
	if (!have_xauth && home != NULL && *home != '\0')
		add(&a, "XAUTHORITY=%s/.Xauthority", home);
	if (!have_path)
		add(&a, "PATH=/usr/bin:/bin");
	add(&a, "HOME=%s", privdir);
	add(&a, "XDG_CONFIG_HOME=%s/config", privdir);
	add(&a, "XDG_CACHE_HOME=%s/cache", privdir);
	add(&a, "XDG_DATA_HOME=%s/data", privdir);
	add(&a, "XDG_STATE_HOME=%s/state", privdir);
	add(&a, "XDG_RUNTIME_DIR=%s/run", privdir);
	add(&a, "TMPDIR=%s/tmp", privdir);
	if (a.failed) {
		int r = a.failed;

		shim_argv_free(a.v);
		return r;
	}
	*env = a.v;
	return 0;
}

int
shim_mem_backed(const char *path, const char **fstype)
{
	static const struct {
		unsigned long magic;
		const char *name;
	} known[] = { { TMPFS_MAGIC, "tmpfs" }, { RAMFS_MAGIC, "ramfs" },
		{ EXT4_SUPER_MAGIC, "ext2/3/4" }, { XFS_SUPER_MAGIC, "xfs" },
		{ BTRFS_SUPER_MAGIC, "btrfs" },
		{ OVERLAYFS_SUPER_MAGIC, "overlay" },
		{ NFS_SUPER_MAGIC, "nfs" }, { PROC_SUPER_MAGIC, "proc" } };
	struct statfs sf;
	size_t i;

	if (fstype != NULL)
		*fstype = "unknown";
	if (statfs(path, &sf) != 0)
		return -1;
	for (i = 0; fstype != NULL && i < sizeof(known) / sizeof(known[0]); i++)
		if ((unsigned long)sf.f_type == known[i].magic)
			*fstype = known[i].name;
	return (unsigned long)sf.f_type == TMPFS_MAGIC ||
	    (unsigned long)sf.f_type == RAMFS_MAGIC;
}

/* Whether base may hold the private directory; else a reason in why. */
static int
usable_base(const char *what, const char *base, char *why, size_t whylen)
{
	const char *fs;
	int m = shim_mem_backed(base, &fs);

	if (m == 1)
		return 1;
	if (m < 0)
		vdi_seterr(why, whylen, "%s %s cannot be examined (%s)", what,
		    base, strerror(errno));
	else
		vdi_seterr(why, whylen,
		    "%s %s is on %s, not in memory (tmpfs or ramfs)", what,
		    base, fs);
	return 0;
}

int
shim_privdir_make(const struct vdic_config *cfg, char *out, size_t outlen,
    char *why, size_t whylen)
{
	static const char *const subs[] = { "config", "cache", "data", "state",
		"run", "tmp", NULL };
	const char *base = NULL, *xdg = getenv("XDG_RUNTIME_DIR");
	char sub[SHIM_PATH_MAX + 16], no_xdg[SHIM_PATH_MAX + 96] = "";
	char no_shm[SHIM_PATH_MAX + 96];
	size_t i;

	out[0] = '\0';
	vdi_seterr(why, whylen, "%s", "");
	if (cfg->private_base[0] != '\0') {
		/* Asked for: that place or none. */
		if (!usable_base("private_dir", cfg->private_base, why, whylen))
			return VDI_ERR_DENIED;
		base = cfg->private_base;
	} else if (xdg != NULL && *xdg == '/' &&
	    usable_base("$XDG_RUNTIME_DIR", xdg, no_xdg, sizeof(no_xdg))) {
		base = xdg;
	} else if (usable_base(
		       "/dev/shm", "/dev/shm", no_shm, sizeof(no_shm))) {
		base = "/dev/shm";
	} else {
		vdi_seterr(why, whylen, "%s%s%s", no_xdg,
		    no_xdg[0] != '\0' ? ", and " : "", no_shm);
		return VDI_ERR_DENIED;
	}
	if ((size_t)snprintf(out, outlen, "%s/vdi-connect.XXXXXX", base) >=
	    outlen) {
		vdi_seterr(why, whylen, "the path %s is too long", base);
		out[0] = '\0';
		return VDI_ERR_TOO_LARGE;
	}
	if (mkdtemp(out) == NULL) { /* mode 0700 */
		vdi_seterr(why, whylen, "cannot make a directory in %s (%s)",
		    base, strerror(errno));
		out[0] = '\0';
		return VDI_ERR_SYSTEM;
	}
	if (chmod(out, 0700) != 0)
		goto fail;
	for (i = 0; subs[i] != NULL; i++) {
		snprintf(sub, sizeof(sub), "%s/%s", out, subs[i]);
		if (mkdir(sub, 0700) != 0)
			goto fail;
	}
	return 0;
fail:
	vdi_seterr(why, whylen, "cannot prepare %s (%s)", out, strerror(errno));
	shim_privdir_remove(out);
	out[0] = '\0';
	return VDI_ERR_SYSTEM;
}

static int
rm_one(const char *path, const struct stat *st, int type, struct FTW *f)
{
	(void)st;
	(void)f;
	if (type == FTW_DP)
		(void)rmdir(path);
	else
		(void)unlink(path);
	return 0;
}

void
shim_privdir_remove(const char *path)
{
	if (path == NULL || *path == '\0')
		return;
	(void)nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

int
shim_spawn(char *const *argv, char *const *env, pid_t *pid)
{
	pid_t p;
	int fd;

	*pid = -1;
	if ((p = fork()) < 0)
		return VDI_ERR_SYSTEM;
	if (p == 0) {
		struct rlimit rl = { 0, 0 };
		sigset_t none;

		(void)setpgid(0, 0);
		(void)setrlimit(RLIMIT_CORE, &rl);
		sigemptyset(&none);
		(void)sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		if ((fd = open("/dev/null", O_RDONLY)) >= 0) {
			(void)dup2(fd, 0);
			if (fd > 2)
				close(fd);
		}
		/* The client inherits nothing but stdio. */
		(void)closefrom(3);
		execve(argv[0], argv, env);
		_exit(127);
	}
	*pid = p;
	return 0;
}

/* The inode of the TCP socket from 127.0.0.1:lport to 127.0.0.1:rport in
 * /proc/net/tcp; 0 when not found. */
static unsigned long
tcp_inode(unsigned int lport, unsigned int rport)
{
	char line[512];
	unsigned int la, lp, ra, rp;
	unsigned long inode, found = 0;
	FILE *f = fopen("/proc/net/tcp", "r");

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line,
			" %*u: %8X:%4X %8X:%4X %*X %*X:%*X %*X:%*X %*X %*u "
			"%*u %lu",
			&la, &lp, &ra, &rp, &inode) != 5)
			continue;
		if (lp == lport && rp == rport && inode != 0) {
			found = inode;
			break;
		}
	}
	fclose(f);
	return found;
}

int
shim_peer_is_pid(int fd, pid_t pid)
{
	struct sockaddr_in me, peer;
	socklen_t sl = sizeof(me), pl = sizeof(peer);
	char dir[64], lnk[PATH_MAX], want[64], target[64];
	unsigned long inode;
	struct dirent *de;
	DIR *d;
	int found = 0;
	ssize_t n;

	if (pid <= 0 || getsockname(fd, (struct sockaddr *)&me, &sl) != 0 ||
	    getpeername(fd, (struct sockaddr *)&peer, &pl) != 0 ||
	    peer.sin_family != AF_INET ||
	    peer.sin_addr.s_addr != htonl(INADDR_LOOPBACK))
		return 0;
	if ((inode = tcp_inode(ntohs(peer.sin_port), ntohs(me.sin_port))) == 0)
		return 0;
	snprintf(want, sizeof(want), "socket:[%lu]", inode);
	snprintf(dir, sizeof(dir), "/proc/%ld/fd", (long)pid);
	if ((d = opendir(dir)) == NULL)
		return 0;
	while (!found && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(lnk, sizeof(lnk), "%s/%s", dir,
			de->d_name) >= sizeof(lnk))
			continue;
		n = readlink(lnk, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		found = strcmp(target, want) == 0;
	}
	closedir(d);
	return found;
}
