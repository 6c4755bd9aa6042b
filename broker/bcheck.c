/*
 * bcheck.c: vdi-brokerd -t loads what the start loads (see bcheck.h): the
 * monitor's keys as root, then, as the service user in a child process,
 * the TLS certificate and key, the gateway and tenant CAs and CRLs, the
 * policy again (SIGHUP rereads it as that user) and the store's folder.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libconfig.h>
#include <openssl/crypto.h>

#include "bcheck.h"
#include "jws.h"
#include "seal.h"

struct bcheck {
	const char *path;
	config_t lc;
	int have_lc;
	char *text;
	size_t len;
	unsigned int n;
};

/* Appends "FILE:LINE: KEY: problem\n", the line of KEY (a dotted path
 * like "tls.key") in the configuration, 0 when it is not written there
 * (a default). */
static void __attribute__((format(printf, 3, 4)))
problem(struct bcheck *k, const char *key, const char *fmt, ...)
{
	const config_setting_t *s =
	    k->have_lc ? config_lookup(&k->lc, key) : NULL;
	char msg[1200], line[1500];
	va_list ap;
	char *nt;
	size_t l;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (s != NULL)
		snprintf(line, sizeof(line), "%s:%u: %s: %s\n", k->path,
		    config_setting_source_line(s), key, msg);
	else
		snprintf(line, sizeof(line), "%s: %s: %s\n", k->path, key, msg);
	l = strlen(line);
	if ((nt = realloc(k->text, k->len + l + 1)) == NULL)
		return;
	k->text = nt;
	memcpy(k->text + k->len, line, l + 1);
	k->len += l;
	k->n++;
}

static void
check_keys(struct bcheck *k, const struct bconf *c)
{
	unsigned char seal[SEAL_KEY_LEN];
	struct jws_key *jk = NULL;
	char err[600];

	if (jws_key_load_private(c->token_key, NULL, &jk, err, sizeof(err)) !=
	    0)
		problem(k, "token.signing_key",
		    "%s (expected an Ed25519 "
		    "private key in PEM, readable by root)",
		    err);
	jws_key_free(jk);
	if (c->seal_key[0] != '\0') {
		if (seal_key_load(c->seal_key, seal, err, sizeof(err)) != 0)
			problem(k, "token.seal_key", "%s", err);
		OPENSSL_cleanse(seal, sizeof(seal));
	}
}

static void
check_names(struct bcheck *k, const struct bconf *c)
{
	if (getuid() == 0 && getpwnam(c->user) == NULL)
		problem(k, "user",
		    "no such user %s (create it: useradd --system %s)", c->user,
		    c->user);
	if (getuid() == 0 && getgrnam(c->group) == NULL)
		problem(k, "group", "no such group %s (groupadd --system %s)",
		    c->group, c->group);
	if (c->admin_group[0] != '\0' && getgrnam(c->admin_group) == NULL)
		problem(k, "admin_group", "no such group %s (groupadd %s)",
		    c->admin_group, c->admin_group);
	if (c->operators_group[0] != '\0' &&
	    getgrnam(c->operators_group) == NULL)
		problem(k, "operators_group", "no such group %s (groupadd %s)",
		    c->operators_group, c->operators_group);
}

/* In the child, as the service user: what the worker opens. */
static void
check_as_user(struct bcheck *k, const struct bconf *c,
    int (*tls_check)(void *arg, char *err, size_t errlen), void *arg)
{
	static const struct {
		const char *key;
		size_t off;
	} files[] = {
		{ "tls.cert", offsetof(struct bconf, tls_cert) },
		{ "tls.key", offsetof(struct bconf, tls_key) },
		{ "gateway_ca", offsetof(struct bconf, gateway_ca) },
		{ "gateway_crl", offsetof(struct bconf, gateway_crl) },
		{ "policy", offsetof(struct bconf, policy) },
	};
	char err[1024], dir[BCONF_PATH_MAX], *slash;
	const char *path;
	size_t i;
	int fd, bad = 0;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		path = (const char *)c + files[i].off;
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
			problem(k, files[i].key,
			    "cannot read %s as user %s: %s", path,
			    getpwuid(geteuid()) != NULL
				? getpwuid(geteuid())->pw_name
				: "?",
			    strerror(errno));
			bad = 1;
			continue;
		}
		close(fd);
	}
	if (!bad && tls_check(arg, err, sizeof(err)) != 0)
		problem(k, "tls", "%s", err);
	snprintf(dir, sizeof(dir), "%s", c->store);
	if ((slash = strrchr(dir, '/')) != NULL)
		*(slash == dir ? slash + 1 : slash) = '\0';
	else
		snprintf(dir, sizeof(dir), ".");
	if (access(c->store, F_OK) == 0 ? access(c->store, R_OK | W_OK) != 0
					: access(dir, W_OK | X_OK) != 0)
		problem(k, "store", "%s: the service user cannot %s: %s",
		    c->store,
		    access(c->store, F_OK) == 0 ? "read and write it"
						: "create it in its folder",
		    strerror(errno));
}

static int
drop_to(const struct bconf *c)
{
	struct passwd *pw;
	struct group *gr;

	if (getuid() != 0)
		return 0;
	if ((pw = getpwnam(c->user)) == NULL ||
	    (gr = getgrnam(c->group)) == NULL)
		return -1;
	if (setgroups(1, &gr->gr_gid) != 0 || setgid(gr->gr_gid) != 0 ||
	    setuid(pw->pw_uid) != 0)
		return -1;
	return 0;
}

int
bcheck_run(const char *path, const struct bconf *c,
    int (*tls_check)(void *arg, char *err, size_t errlen), void *arg,
    char **errors)
{
	struct bcheck k;
	int fds[2], st = 0;
	pid_t pid;
	char buf[4096];
	ssize_t n;

	*errors = NULL;
	memset(&k, 0, sizeof(k));
	k.path = path;
	config_init(&k.lc);
	k.have_lc = config_read_file(&k.lc, path) == CONFIG_TRUE;
	check_names(&k, c);
	check_keys(&k, c);
	/* The rest as the worker: a child, so that -t itself stays root. */
	{
		if (pipe(fds) != 0 || (pid = fork()) < 0) {
			problem(&k, "user", "cannot fork: %s", strerror(errno));
			goto out;
		}
		if (pid == 0) {
			struct bcheck kc = k;

			close(fds[0]);
			kc.text = NULL;
			kc.len = 0;
			kc.n = 0;
			if (drop_to(c) != 0)
				problem(&kc, "user",
				    "cannot switch to user %s group %s",
				    c->user, c->group);
			else
				check_as_user(&kc, c, tls_check, arg);
			if (kc.text != NULL)
				(void)!write(fds[1], kc.text, kc.len);
			_exit(kc.n > 0 ? 1 : 0);
		}
		close(fds[1]);
		while ((n = read(fds[0], buf, sizeof(buf) - 1)) > 0) {
			char *nt = realloc(k.text, k.len + (size_t)n + 1);

			if (nt == NULL)
				break;
			k.text = nt;
			memcpy(k.text + k.len, buf, (size_t)n);
			k.len += (size_t)n;
			k.text[k.len] = '\0';
		}
		close(fds[0]);
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			k.n++;
	}
out:
	config_destroy(&k.lc);
	*errors = k.text;
	return k.n > 0 ? VDI_ERR_CONFIG : 0;
}
