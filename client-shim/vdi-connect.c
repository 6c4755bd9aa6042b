/*
 * vdi-connect: the command-line client shim (vdi-connect(1)).
 *
 *   vdi-connect [-t] [-d] [-l level] [-f config] [-u user] [--logoff]
 *
 * Logs the person in (PAM prompts on the terminal, secrets without echo),
 * opens the tunnel, runs the RDP client and reconnects after drops. The
 * exit status is the library's vdic_status.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <openssl/crypto.h>

#include "procinfo.h"
#include "vdiclient.h"
#include "vlog.h"

#ifndef SYSCONFDIR_VDI
#define SYSCONFDIR_VDI "/etc/vdi"
#endif

static struct vdic *g_client;

static void
on_signal(int sig)
{
	(void)sig;
	if (g_client != NULL)
		vdic_cancel(g_client);
}

/* Reads one line from fd without stdio buffering (nothing of a secret is
 * left in a FILE buffer). Returns 0, or -1 on EOF, error or a signal. */
static int
read_line(int fd, char *out, size_t outlen)
{
	size_t n = 0;
	char ch;

	for (;;) {
		ssize_t r = read(fd, &ch, 1);

		if (r < 0 && errno == EINTR)
			return -1; /* Ctrl-C while asked: cancel */
		if (r <= 0)
			return n > 0 ? 0 : -1;
		if (ch == '\n')
			break;
		if (ch == '\r')
			continue;
		if (n + 1 < outlen)
			out[n++] = ch;
	}
	out[n] = '\0';
	return 0;
}

static int
prompt(void *arg, enum vdic_prompt_style style, const char *text, char *answer,
    size_t answer_size)
{
	struct termios old, quiet;
	int fd, rc, tty;

	(void)arg;
	fd = open("/dev/tty", O_RDWR | O_CLOEXEC);
	tty = fd >= 0 && isatty(0);
	if (!tty) {
		/* No terminal (scripts, tests): prompt on stderr, answer on
		 * stdin. */
		if (fd >= 0)
			close(fd);
		fprintf(stderr, "%s", text);
		fflush(stderr);
		rc = read_line(0, answer, answer_size);
		fprintf(stderr, "\n");
		return rc;
	}
	(void)!write(fd, text, strlen(text));
	if (style == VDIC_PROMPT_ECHO_OFF && tcgetattr(fd, &old) == 0) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		quiet.c_lflag |= ICANON;
		(void)tcsetattr(fd, TCSAFLUSH, &quiet);
		rc = read_line(fd, answer, answer_size);
		(void)tcsetattr(fd, TCSAFLUSH, &old);
		(void)!write(fd, "\n", 1);
	} else {
		rc = read_line(fd, answer, answer_size);
	}
	close(fd);
	return rc;
}

static void
event(void *arg, const struct vdic_event *ev)
{
	(void)arg;
	switch (ev->type) {
	case VDIC_EV_INFO:
	case VDIC_EV_ERROR:
		fprintf(stderr, "vdi-connect: %s\n", ev->text);
		break;
	case VDIC_EV_LOGGED_IN:
		fprintf(
		    stderr, "vdi-connect: logged in, desktop %s\n", ev->text);
		break;
	case VDIC_EV_CONNECTED:
		fprintf(stderr, "vdi-connect: connected to %s\n", ev->text);
		break;
	case VDIC_EV_DROPPED:
	case VDIC_EV_RECONNECTING:
	case VDIC_EV_RECONNECTED:
	case VDIC_EV_ENDED:
		fprintf(stderr, "vdi-connect: %s\n", ev->text);
		break;
	case VDIC_EV_GAVE_UP:
		break; /* printed as the final error */
	}
	fflush(stderr);
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: vdi-connect [-t] [-d] [-l level] [-f config] [-u user] "
	    "[--logoff]\n"
	    "       vdi-connect -V | --version | -h | --help\n"
	    "  -f, --config FILE  configuration (default " SYSCONFDIR_VDI
	    "/connect.conf)\n"
	    "  -u, --user USER    log in as USER (else asked)\n"
	    "  -t, --check        check the configuration and the device "
	    "identity, then exit\n"
	    "  --logoff           end the desktop session when the client "
	    "closes\n"
	    "  -d                 log at debug level\n"
	    "  -l LEVEL           debug, info, notice, warning or error\n"
	    "  -V, --version      print the version and exit\n");
	if (f == stderr)
		exit(VDIC_ERR_CONFIG);
	exit(0);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "logoff", no_argument, NULL, 'L' },
		{ "check", no_argument, NULL, 't' },
		{ "config", required_argument, NULL, 'f' },
		{ "user", required_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = SYSCONFDIR_VDI "/connect.conf", *user = NULL;
	const char *level_s = NULL;
	struct vdic_config *cfg = NULL;
	struct rlimit rl = { 0, 0 };
	struct sigaction sa;
	enum vlog_level level;
	char err[8192], name[256];
	int ch, check = 0, logoff = 0, st;

	/* Nothing of this process (keys, answers) may land in a core file. */
	(void)setrlimit(RLIMIT_CORE, &rl);
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	umask(077);

	while ((ch = getopt_long(argc, argv, "tdl:f:u:hV", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'V':
			vdi_version_print(stdout, "vdi-connect");
			return 0;
		case 'h':
			usage(stdout);
			break;
		case 't':
			check = 1;
			break;
		case 'd':
			level_s = "debug";
			break;
		case 'l':
			level_s = optarg;
			break;
		case 'f':
			path = optarg;
			break;
		case 'u':
			user = optarg;
			break;
		case 'L':
			logoff = 1;
			break;
		default:
			usage(stderr);
		}
	}
	if (optind != argc)
		usage(stderr);
	if (vdic_config_load(path, &cfg, err, sizeof(err)) != VDIC_OK) {
		fprintf(stderr, "%s", err);
		if (err[0] != '\0' && err[strlen(err) - 1] != '\n')
			fprintf(stderr, "\n");
		fprintf(
		    stderr, "vdi-connect: %s: configuration refused\n", path);
		return VDIC_ERR_CONFIG;
	}
	if (check) {
		/* Everything a connection opens, not only the syntax. */
		if ((st = vdic_config_check(cfg, err, sizeof(err))) !=
		    VDIC_OK) {
			fprintf(stderr, "vdi-connect: %s: %s\n", path, err);
			vdic_config_free(cfg);
			return st;
		}
		printf("%s: ok\n", path);
		vdic_config_free(cfg);
		return VDIC_OK;
	}
	if (vlog_level_parse(level_s != NULL ? level_s : "warning", &level) !=
	    0) {
		fprintf(stderr, "vdi-connect: bad log level %s\n", level_s);
		vdic_config_free(cfg);
		return VDIC_ERR_CONFIG;
	}
	vlog_init("vdi-connect", VLOG_STDERR, level);
	if (vdic_new(cfg, &g_client) != VDIC_OK) {
		fprintf(stderr, "vdi-connect: out of memory\n");
		vdic_config_free(cfg);
		return VDIC_ERR_INTERNAL;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: a prompt is cancelled */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	vdic_set_prompt_cb(g_client, prompt, NULL);
	vdic_set_event_cb(g_client, event, NULL);
	vdic_set_logoff(g_client, logoff);

	if (user == NULL)
		user = vdic_config_user(cfg);
	if (user == NULL) {
		if (prompt(NULL, VDIC_PROMPT_ECHO_ON, "User: ", name,
			sizeof(name)) != 0 ||
		    name[0] == '\0') {
			fprintf(stderr, "vdi-connect: no user name given\n");
			st = VDIC_ERR_CANCELLED;
			goto out;
		}
		user = name;
	}
	if ((st = vdic_login(g_client, user)) != VDIC_OK) {
		fprintf(stderr, "vdi-connect: %s\n", vdic_message(g_client));
		goto out;
	}
	if ((st = vdic_connect(g_client)) != VDIC_OK)
		fprintf(stderr, "vdi-connect: %s\n", vdic_message(g_client));
out:
	fflush(stderr);
	{
		struct vdic *c = g_client;

		g_client = NULL;
		vdic_free(c);
	}
	vdic_config_free(cfg);
	return st;
}
