/* client.c: libvdiclient's public API (vdiclient.h): login, the session
 * loop (loopback listener, RDP client, splice) and reconnects. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <openssl/crypto.h>

#include "shim_io.h"
#include "vlog.h"

extern char **environ;

struct vdic {
	const struct vdic_config *cfg;
	struct shim_device dev;
	int have_dev;
	void *curl;
	vdic_prompt_cb prompt;
	void *prompt_arg;
	vdic_event_cb event;
	void *event_arg;
	int logoff;
	int cancel[2]; /* self-pipe: vdic_cancel() writes */
	volatile sig_atomic_t cancelled;
	char msg[1024];
	/* from the broker's last grant */
	int logged_in;
	char user[128];
	char session[128];
	char desktop[128];
	char gateway[SHIM_STR_MAX];
	char token[SHIM_TOKEN_MAX]; /* secret, one use */
	char ticket[SHIM_STR_MAX];  /* secret */
	long reconnect_window;
	/* session loop */
	char privdir[SHIM_PATH_MAX];
	pid_t child;
	int pidfd;
};

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
emit(struct vdic *c, enum vdic_event_type type, const char *text,
    unsigned int attempt, long elapsed)
{
	struct vdic_event ev;

	if (c->event == NULL)
		return;
	ev.type = type;
	ev.text = text != NULL ? text : "";
	ev.attempt = attempt;
	ev.elapsed_ms = elapsed;
	c->event(c->event_arg, &ev);
}

const char *
vdic_status_str(int status)
{
	switch (status) {
	case VDIC_OK:
		return "ok";
	case VDIC_ERR_CONFIG:
		return "usage or configuration error";
	case VDIC_ERR_AUTH:
		return "authentication failed";
	case VDIC_ERR_DEVICE:
		return "device problem";
	case VDIC_ERR_POLICY:
		return "refused by policy";
	case VDIC_ERR_NO_DESKTOP:
		return "no desktop available";
	case VDIC_ERR_BROKER:
		return "broker unreachable";
	case VDIC_ERR_GAVE_UP:
		return "gave up reconnecting";
	case VDIC_ERR_GATEWAY:
		return "gateway refused or unreachable";
	case VDIC_ERR_CLIENT:
		return "RDP client failed";
	case VDIC_ERR_CANCELLED:
		return "cancelled";
	case VDIC_ERR_REPLACED:
		return "replaced by a newer connection";
	case VDIC_ERR_TIME_LIMIT:
		return "session time limit reached";
	case VDIC_ERR_CRL_EXPIRED:
		return "organisation's revocation list expired";
	default:
		return "internal error";
	}
}

int
vdic_config_load(
    const char *path, struct vdic_config **out, char *err, size_t errlen)
{
	struct vdic_config *cfg;

	*out = NULL;
	if ((cfg = calloc(1, sizeof(*cfg))) == NULL) {
		vdi_seterr(err, errlen, "out of memory");
		return VDIC_ERR_INTERNAL;
	}
	if (shim_conf_load(path, cfg, err, errlen) != 0) {
		free(cfg);
		return VDIC_ERR_CONFIG;
	}
	*out = cfg;
	return VDIC_OK;
}

int
vdic_config_check(const struct vdic_config *cfg, char *err, size_t errlen)
{
	struct shim_device dev;
	int st;

	if ((st = shim_device_load(cfg, &dev, err, errlen)) != VDIC_OK)
		return st;
	shim_device_free(&dev);
	if (access(cfg->rdp_command, X_OK) != 0) {
		vdi_seterr(err, errlen,
		    "%s: rdp.command: cannot run %s: %s (install "
		    "freerdp2-x11 or set rdp.command)",
		    cfg->path, cfg->rdp_command, strerror(errno));
		return VDIC_ERR_CONFIG;
	}
	return VDIC_OK;
}

void
vdic_config_free(struct vdic_config *cfg)
{
	if (cfg == NULL)
		return;
	OPENSSL_cleanse(cfg, sizeof(*cfg));
	free(cfg);
}

const char *
vdic_config_user(const struct vdic_config *cfg)
{
	return cfg->user[0] != '\0' ? cfg->user : NULL;
}

int
vdic_new(const struct vdic_config *cfg, struct vdic **out)
{
	struct vdic *c;

	*out = NULL;
	if (shim_http_init() != 0 || (c = calloc(1, sizeof(*c))) == NULL)
		return VDIC_ERR_INTERNAL;
	c->cfg = cfg;
	c->child = -1;
	c->pidfd = -1;
	if (pipe2(c->cancel, O_CLOEXEC | O_NONBLOCK) != 0) {
		free(c);
		return VDIC_ERR_INTERNAL;
	}
	*out = c;
	return VDIC_OK;
}

static void wipe_grant(struct vdic *c);

void
vdic_free(struct vdic *c)
{
	if (c == NULL)
		return;
	if (c->have_dev)
		shim_device_free(&c->dev);
	shim_http_free(c->curl);
	close(c->cancel[0]);
	close(c->cancel[1]);
	wipe_grant(c);
	OPENSSL_cleanse(c, sizeof(*c));
	free(c);
}

void
vdic_set_prompt_cb(struct vdic *c, vdic_prompt_cb cb, void *arg)
{
	c->prompt = cb;
	c->prompt_arg = arg;
}

void
vdic_set_event_cb(struct vdic *c, vdic_event_cb cb, void *arg)
{
	c->event = cb;
	c->event_arg = arg;
}

void
vdic_set_logoff(struct vdic *c, int on)
{
	c->logoff = on;
}

void
vdic_cancel(struct vdic *c)
{
	int saved = errno;

	c->cancelled = 1;
	(void)!write(c->cancel[1], "x", 1);
	errno = saved;
}

const char *
vdic_message(const struct vdic *c)
{
	return c->msg;
}

static void
wipe_grant(struct vdic *c)
{
	OPENSSL_cleanse(c->token, sizeof(c->token));
	OPENSSL_cleanse(c->ticket, sizeof(c->ticket));
}

static int
ensure_device(struct vdic *c)
{
	int st;

	if (c->have_dev)
		return VDIC_OK;
	if ((st = shim_device_load(c->cfg, &c->dev, c->msg, sizeof(c->msg))) !=
	    VDIC_OK)
		return st;
	c->have_dev = 1;
	return VDIC_OK;
}

/* Keeps what a grant ("state":"ok") brings. */
static void
take_grant(struct vdic *c, const struct shim_reply *r)
{
	vdi_seterr(c->session, sizeof(c->session), "%s", r->session);
	vdi_seterr(c->desktop, sizeof(c->desktop), "%s", r->desktop);
	vdi_seterr(c->gateway, sizeof(c->gateway), "%s", r->gateway);
	if (r->user[0] != '\0')
		vdi_seterr(c->user, sizeof(c->user), "%s", r->user);
	memcpy(c->token, r->token, sizeof(c->token));
	memcpy(c->ticket, r->ticket, sizeof(c->ticket));
	if (r->reconnect_window > 0)
		c->reconnect_window = r->reconnect_window;
	c->logged_in = 1;
}

static int
refused(struct vdic *c, const struct shim_reply *r)
{
	return shim_explain(
	    r->error, r->message, r->retry_after, c->msg, sizeof(c->msg));
}

int
vdic_login(struct vdic *c, const char *user)
{
	struct shim_reply *r;
	char *body, answer[SHIM_ANSWER_MAX];
	const size_t bodymax = 16384;
	size_t pos, i;
	int st;

	c->msg[0] = '\0';
	if (user == NULL || *user == '\0') {
		vdi_seterr(c->msg, sizeof(c->msg), "No user name given.");
		return VDIC_ERR_CONFIG;
	}
	if ((st = ensure_device(c)) != VDIC_OK)
		return st;
	if ((r = malloc(sizeof(*r))) == NULL ||
	    (body = malloc(bodymax)) == NULL) {
		free(r);
		return VDIC_ERR_INTERNAL;
	}
	wipe_grant(c);
	c->logged_in = 0;
	vdi_seterr(c->user, sizeof(c->user), "%s", user);
	pos = 0;
	if (shim_json_raw(body, bodymax, &pos, "{\"user\":") != 0 ||
	    shim_json_str(body, bodymax, &pos, user) != 0 ||
	    shim_json_raw(body, bodymax, &pos, "}") != 0) {
		vdi_seterr(
		    c->msg, sizeof(c->msg), "The user name is too long.");
		st = VDIC_ERR_CONFIG;
		goto out;
	}
	for (;;) {
		st = shim_broker_post(&c->curl, c->cfg, &c->dev, "/v1/login",
		    body, r, c->msg, sizeof(c->msg));
		OPENSSL_cleanse(body, bodymax);
		if (st != VDIC_OK)
			goto out;
		for (i = 0; i < r->nmessages; i++)
			emit(c,
			    r->messages[i].style == VDIC_PROMPT_ECHO_ON
				? VDIC_EV_ERROR
				: VDIC_EV_INFO,
			    r->messages[i].text, 0, 0);
		if (r->state == SHIM_REPLY_OK) {
			take_grant(c, r);
			vlog(VLOG_INFO, "logged_in",
			    "user=%s session=%s "
			    "desktop=%s gateway=%s",
			    VLOG_Q(c->user), VLOG_Q(c->session),
			    VLOG_Q(c->desktop), VLOG_Q(c->gateway));
			emit(c, VDIC_EV_LOGGED_IN, c->desktop, 0, 0);
			st = VDIC_OK;
			goto out;
		}
		if (r->state == SHIM_REPLY_ERROR) {
			st = refused(c, r);
			vlog(VLOG_NOTICE, "login_refused", "user=%s code=%s",
			    VLOG_Q(user), VLOG_Q(r->error));
			goto out;
		}
		if (r->state != SHIM_REPLY_PROMPT) {
			/* "ended" belongs to logoff, never to a login. */
			snprintf(r->error, sizeof(r->error), "bad_reply");
			st = refused(c, r);
			goto out;
		}
		/* Prompts: ask, answer all in one step. */
		pos = 0;
		if (shim_json_raw(body, bodymax, &pos, "{\"login_id\":") != 0 ||
		    shim_json_str(body, bodymax, &pos, r->login_id) != 0 ||
		    shim_json_raw(body, bodymax, &pos, ",\"answers\":[") != 0)
			goto toolong;
		for (i = 0; i < r->nprompts; i++) {
			answer[0] = '\0';
			if (c->prompt == NULL || c->cancelled ||
			    c->prompt(c->prompt_arg, r->prompts[i].style,
				r->prompts[i].text, answer,
				sizeof(answer)) != 0 ||
			    c->cancelled) {
				OPENSSL_cleanse(answer, sizeof(answer));
				vdi_seterr(
				    c->msg, sizeof(c->msg), "Login cancelled.");
				st = VDIC_ERR_CANCELLED;
				goto out;
			}
			answer[sizeof(answer) - 1] = '\0';
			if ((i > 0 &&
				shim_json_raw(body, bodymax, &pos, ",") != 0) ||
			    shim_json_str(body, bodymax, &pos, answer) != 0) {
				OPENSSL_cleanse(answer, sizeof(answer));
				goto toolong;
			}
			OPENSSL_cleanse(answer, sizeof(answer));
		}
		if (shim_json_raw(body, bodymax, &pos, "]}") != 0)
			goto toolong;
	}
toolong:
	vdi_seterr(c->msg, sizeof(c->msg), "The answer is too long.");
	st = VDIC_ERR_AUTH;
out:
	OPENSSL_cleanse(body, bodymax);
	free(body);
	shim_reply_wipe(r);
	free(r);
	return st;
}

int
vdic_reconnect(struct vdic *c)
{
	struct shim_reply *r;
	char body[SHIM_STR_MAX + 32];
	size_t pos = 0;
	int st;

	if (c->ticket[0] == '\0') {
		vdi_seterr(c->msg, sizeof(c->msg),
		    "This device gets no reconnect ticket (shared device): log "
		    "in again.");
		return VDIC_ERR_AUTH;
	}
	if ((st = ensure_device(c)) != VDIC_OK)
		return st;
	if ((r = malloc(sizeof(*r))) == NULL)
		return VDIC_ERR_INTERNAL;
	if (shim_json_raw(body, sizeof(body), &pos, "{\"ticket\":") != 0 ||
	    shim_json_str(body, sizeof(body), &pos, c->ticket) != 0 ||
	    shim_json_raw(body, sizeof(body), &pos, "}") != 0) {
		free(r);
		return VDIC_ERR_INTERNAL;
	}
	st = shim_broker_post(&c->curl, c->cfg, &c->dev, "/v1/reconnect", body,
	    r, c->msg, sizeof(c->msg));
	OPENSSL_cleanse(body, sizeof(body));
	if (st == VDIC_OK) {
		if (r->state == SHIM_REPLY_OK) {
			take_grant(c, r);
		} else {
			st = refused(c, r);
			vlog(VLOG_NOTICE, "reconnect_refused", "code=%s",
			    VLOG_Q(r->error));
			/* A newer login voided it at the broker: never
			 * offer it again. */
			if (st == VDIC_ERR_REPLACED)
				OPENSSL_cleanse(c->ticket, sizeof(c->ticket));
		}
	}
	shim_reply_wipe(r);
	free(r);
	return st;
}

int
vdic_logoff(struct vdic *c)
{
	struct shim_reply *r;
	char body[256];
	size_t pos = 0;
	int st;

	if (c->session[0] == '\0')
		return VDIC_OK;
	if ((st = ensure_device(c)) != VDIC_OK)
		return st;
	if ((r = malloc(sizeof(*r))) == NULL)
		return VDIC_ERR_INTERNAL;
	if (shim_json_raw(body, sizeof(body), &pos, "{\"session\":") != 0 ||
	    shim_json_str(body, sizeof(body), &pos, c->session) != 0 ||
	    shim_json_raw(body, sizeof(body), &pos, "}") != 0) {
		free(r);
		return VDIC_ERR_INTERNAL;
	}
	st = shim_broker_post(&c->curl, c->cfg, &c->dev, "/v1/logoff", body, r,
	    c->msg, sizeof(c->msg));
	if (st == VDIC_OK && r->state == SHIM_REPLY_ERROR)
		st = refused(c, r);
	if (st == VDIC_OK) {
		vlog(VLOG_INFO, "logoff", "session=%s", VLOG_Q(c->session));
		wipe_grant(c);
	}
	shim_reply_wipe(r);
	free(r);
	return st;
}

/* --- the RDP client process -------------------------------------------- */

/* The client's private home, once per vdic_connect(): only in memory. */
static int
make_privdir(struct vdic *c)
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

static int
launch(struct vdic *c, unsigned int port)
{
	char **argv = NULL, **env = NULL;
	int r;

	if ((r = make_privdir(c)) != VDIC_OK)
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

/* Reaps the client; with terminate, asks it to go first. Returns its exit
 * status (0 when ended by SIGTERM, SIGINT or SIGHUP; 128 + signal for
 * other signals), -1 when none ran. */
static int
reap(struct vdic *c, int terminate)
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

/* --- loopback listener and splice ------------------------------------------
 */

static int
listen_loopback(unsigned int *port)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	int fd;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    listen(fd, 1) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &sl) != 0) {
		close(fd);
		return -1;
	}
	*port = ntohs(sin.sin_port);
	return fd;
}

enum end {
	END_CLIENT, /* the client closed its connection or exited */
	END_DROP,   /* the tunnel dropped */
	END_CANCEL, /* vdic_cancel() */
};

/* Waits for the launched client's connection; only its own is accepted,
 * once. Returns the fd, or -1 with *why set (END_*); *exited when the
 * client died first. */
static int
accept_client(struct vdic *c, int lfd, struct shim_tunnel *t, enum end *why)
{
	long deadline = now_ms() + 30000;

	for (;;) {
		struct pollfd p[4] = { { lfd, POLLIN, 0 },
			{ c->cancel[0], POLLIN, 0 }, { c->pidfd, POLLIN, 0 },
			{ t->fd, POLLIN, 0 } };
		long left = deadline - now_ms();
		int n, fd, one = 1;

		if (left <= 0) {
			vdi_seterr(c->msg, sizeof(c->msg),
			    "The desktop client did not connect within 30 s.");
			*why = END_CLIENT;
			return -1;
		}
		n = poll(p, 4, (int)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (p[1].revents || c->cancelled) {
			*why = END_CANCEL;
			return -1;
		}
		if (p[2].revents) {
			*why = END_CLIENT;
			return -1;
		}
		if (p[3].revents && t->nearly == 0) {
			unsigned char b;

			if (SSL_peek(t->ssl, &b, 1) <= 0) {
				*why = END_DROP;
				return -1;
			}
		}
		if (!p[0].revents)
			continue;
		if ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) < 0)
			continue;
		if (!shim_peer_is_pid(fd, c->child)) {
			vlog(VLOG_WARNING, "loopback_refused",
			    "reason=\"not the launched client\"");
			close(fd);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		return fd;
	}
}

/* Writes all of buf to a non-blocking fd or TLS; 0 or -1. */
static int
put_fd(int fd, const unsigned char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
			struct pollfd pf = { fd, POLLOUT, 0 };

			if (poll(&pf, 1, 30000) <= 0)
				return -1;
			continue;
		}
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
put_tls(struct shim_tunnel *t, const unsigned char *p, size_t n)
{
	while (n > 0) {
		int r = SSL_write(t->ssl, p, (int)n), e;

		if (r > 0) {
			p += r;
			n -= (size_t)r;
			continue;
		}
		e = SSL_get_error(t->ssl, r);
		if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
			struct pollfd pf = { t->fd,
				e == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN,
				0 };

			if (poll(&pf, 1, 30000) <= 0)
				return -1;
			continue;
		}
		return -1;
	}
	return 0;
}

static enum end
splice_loop(struct vdic *c, int cfd, struct shim_tunnel *t, size_t *down)
{
	unsigned char buf[16384];

	(void)fcntl(cfd, F_SETFL, fcntl(cfd, F_GETFL) | O_NONBLOCK);
	for (;;) {
		struct pollfd p[4] = { { cfd, POLLIN, 0 }, { t->fd, POLLIN, 0 },
			{ c->cancel[0], POLLIN, 0 }, { c->pidfd, POLLIN, 0 } };
		ssize_t n;
		int r;

		if (SSL_pending(t->ssl) == 0 && poll(p, 4, -1) < 0) {
			if (errno == EINTR)
				continue;
			return END_DROP;
		}
		if (p[2].revents || c->cancelled)
			return END_CANCEL;
		if (p[0].revents) {
			n = read(cfd, buf, sizeof(buf));
			if (n == 0 ||
			    (n < 0 && errno != EAGAIN && errno != EINTR))
				return END_CLIENT;
			if (n > 0 && put_tls(t, buf, (size_t)n) != 0)
				return END_DROP;
		}
		/* Read every record available, then go back to poll. */
		while (SSL_pending(t->ssl) > 0 || p[1].revents) {
			p[1].revents = 0;
			r = SSL_read(t->ssl, buf, sizeof(buf));
			if (r <= 0) {
				int e = SSL_get_error(t->ssl, r);

				if (e == SSL_ERROR_WANT_READ ||
				    e == SSL_ERROR_WANT_WRITE)
					break;
				return END_DROP;
			}
			*down += (size_t)r;
			if (put_fd(cfd, buf, (size_t)r) != 0)
				return END_CLIENT;
		}
		if (p[3].revents)
			return END_CLIENT;
	}
}

/* Sleeps ms unless cancelled; 0 or -1 (cancelled). */
static int
nap(struct vdic *c, long ms)
{
	struct pollfd p = { c->cancel[0], POLLIN, 0 };

	if (ms <= 0)
		return c->cancelled ? -1 : 0;
	while (poll(&p, 1, (int)ms) < 0 && errno == EINTR)
		;
	return p.revents || c->cancelled ? -1 : 0;
}

/* Back-off against tunnels that keep ending soon after they came up (a
 * path that breaks every new connection, a desktop that drops each
 * client): the wait before reconnecting grows while they do. */
#define FLAP_LASTED_MS 10000 /* a tunnel that lived this long resets it */
#define FLAP_FIRST_MS  500   /* the wait after the second short tunnel */
#define FLAP_MAX_MS    30000

/* The wait (ms) before reconnecting after the flaps-th tunnel in a row
 * that ended within FLAP_LASTED_MS of coming up: none after the first
 * (a single drop is a network change: come back at once), then 0.5 s,
 * 1 s, 2 s ... up to FLAP_MAX_MS and, with a reconnect window, half of
 * it; each with +-20 % jitter so that programs cut together do not come
 * back together. */
static long
flap_wait(const struct vdic *c, unsigned int flaps)
{
	long w = FLAP_FIRST_MS, cap = FLAP_MAX_MS;
	unsigned int i;

	if (flaps < 2)
		return 0;
	for (i = 2; i < flaps && w < cap; i++)
		w *= 2;
	if (c->reconnect_window > 0 && c->reconnect_window * 500 < cap)
		cap = c->reconnect_window * 500;
	if (w > cap)
		w = cap;
	return w * (80 + (long)arc4random_uniform(41)) / 100;
}

/* After a drop: ticket at the broker, tunnel again, with backoff.
 * *attempt counts the tries since the last tunnel that lasted; wait is
 * flap_wait()'s pause before the first try; lasted how long the tunnel
 * that dropped had been up. */
static int
resume(struct vdic *c, struct shim_tunnel *t, long t_drop, long lasted,
    long wait, unsigned int *attempt)
{
	long give_up = (long)c->cfg->reconnect_give_up * 1000;
	long delay = c->cfg->reconnect_initial_ms, t_try;
	char text[1200];
	int st;

	if (c->reconnect_window > 0 && c->reconnect_window * 1000 < give_up)
		give_up = c->reconnect_window * 1000;
	if (wait > 0) {
		vdi_seterr(text, sizeof(text),
		    "Connection lost again %ld.%ld s after reconnecting; next "
		    "try in %ld.%ld s (attempt %u).",
		    lasted / 1000, lasted % 1000 / 100, wait / 1000,
		    wait % 1000 / 100, *attempt + 1);
		vlog(VLOG_NOTICE, "reconnect_backoff",
		    "session=%s lasted_ms=%ld wait_ms=%ld attempt=%u",
		    c->session, lasted, wait, *attempt + 1);
		emit(c, VDIC_EV_RECONNECTING, text, *attempt + 1,
		    now_ms() - t_drop);
		if (nap(c, wait) != 0)
			return VDIC_ERR_CANCELLED;
	}
	/* The back-off pause is not part of the time allowed to get back. */
	t_try = now_ms();
	for (;;) {
		++*attempt;
		vdi_seterr(text, sizeof(text),
		    "Connection lost; reconnecting (attempt %u).", *attempt);
		emit(
		    c, VDIC_EV_RECONNECTING, text, *attempt, now_ms() - t_drop);
		st = vdic_reconnect(c);
		if (st == VDIC_OK) {
			st = shim_tunnel_open(&c->dev, c->gateway, c->token,
			    c->cfg->connect_timeout, c->cancel[0], t, c->msg,
			    sizeof(c->msg));
			OPENSSL_cleanse(c->token, sizeof(c->token));
			if (st == VDIC_OK)
				return VDIC_OK;
		}
		if (st == VDIC_ERR_CANCELLED || c->cancelled)
			return VDIC_ERR_CANCELLED;
		if (st == VDIC_ERR_TIME_LIMIT) {
			/* Not a failure to reconnect: the session is over. */
			emit(c, VDIC_EV_ENDED, c->msg, *attempt,
			    now_ms() - t_drop);
			return st;
		}
		vlog(VLOG_NOTICE, "reconnect_failed", "attempt=%u status=%d",
		    *attempt, st);
		if (st == VDIC_ERR_REPLACED) {
			/* Newest wins: the other program keeps the session;
			 * this one stops (its ticket is void). */
			emit(c, VDIC_EV_GAVE_UP, c->msg, *attempt,
			    now_ms() - t_drop);
			return st;
		}
		/* Only network-ish failures are worth another try. */
		if (st != VDIC_ERR_BROKER && st != VDIC_ERR_GATEWAY &&
		    !(st == VDIC_ERR_NO_DESKTOP &&
			strstr(c->msg, "cannot be reached") != NULL))
			break;
		if (now_ms() - t_try + delay > give_up)
			break;
		if (nap(c, delay) != 0)
			return VDIC_ERR_CANCELLED;
		delay = delay < 50 ? 50 : delay * 2;
		if (delay > (long)c->cfg->reconnect_max_delay_ms)
			delay = c->cfg->reconnect_max_delay_ms;
	}
	vdi_seterr(text, sizeof(text),
	    "The connection to your desktop was lost and could not be "
	    "restored after %u attempts in %ld s. Last problem: %s Your "
	    "desktop keeps running for a while: start the connection again "
	    "to return to it.",
	    *attempt, (now_ms() - t_drop + 999) / 1000, c->msg);
	vdi_seterr(c->msg, sizeof(c->msg), "%s", text);
	emit(c, VDIC_EV_GAVE_UP, c->msg, *attempt, now_ms() - t_drop);
	return VDIC_ERR_GAVE_UP;
}

int
vdic_connect(struct vdic *c)
{
	struct shim_tunnel t;
	long t_drop = -1, t_up = 0, lasted;
	int st, lfd = -1, cfd = -1, code;
	unsigned int port, flaps = 0, attempt = 0;
	enum end why;
	size_t down;
	char text[128];

	memset(&t, 0, sizeof(t));
	t.fd = -1;
	if (!c->logged_in || c->token[0] == '\0') {
		vdi_seterr(c->msg, sizeof(c->msg), "Not logged in.");
		return VDIC_ERR_CONFIG;
	}
	if ((st = ensure_device(c)) != VDIC_OK)
		return st;
	/* Where the client may write, before anything is spent. */
	if ((st = make_privdir(c)) != VDIC_OK)
		goto out;
	st = shim_tunnel_open(&c->dev, c->gateway, c->token,
	    c->cfg->connect_timeout, c->cancel[0], &t, c->msg, sizeof(c->msg));
	OPENSSL_cleanse(c->token, sizeof(c->token));
	if (st != VDIC_OK)
		goto out;
	t_up = now_ms();
	for (;;) {
		if ((lfd = listen_loopback(&port)) < 0) {
			vdi_seterr(c->msg, sizeof(c->msg),
			    "Cannot listen on the loopback interface (%s).",
			    strerror(errno));
			st = VDIC_ERR_INTERNAL;
			goto out;
		}
		if ((st = launch(c, port)) != VDIC_OK)
			goto out;
		cfd = accept_client(c, lfd, &t, &why);
		close(lfd);
		lfd = -1;
		down = 0;
		if (cfd >= 0) {
			if (t.nearly > 0 && put_fd(cfd, t.early, t.nearly) != 0)
				why = END_CLIENT;
			else {
				if (t_drop >= 0) {
					long el = now_ms() - t_drop;

					vdi_seterr(text, sizeof(text),
					    "Reconnected to %s in %ld ms.",
					    c->desktop, el);
					vlog(VLOG_NOTICE, "reconnected",
					    "session=%s elapsed_ms=%ld",
					    VLOG_Q(c->session), el);
					emit(c, VDIC_EV_RECONNECTED, text, 0,
					    el);
				} else {
					emit(c, VDIC_EV_CONNECTED, c->desktop,
					    0, 0);
				}
				why = splice_loop(c, cfd, &t, &down);
			}
			close(cfd);
			cfd = -1;
		}
		if (why == END_CANCEL) {
			shim_tunnel_close(&t, 1);
			(void)reap(c, 1);
			emit(c, VDIC_EV_ENDED, "Disconnected.", 0, 0);
			st = VDIC_OK;
			goto out;
		}
		if (why == END_CLIENT) {
			shim_tunnel_close(&t, 1);
			code = reap(c, 0);
			vlog(VLOG_INFO, "client_exited", "status=%d bytes=%zu",
			    code, down);
			if (code >= 128 || code == -1 ||
			    (code != 0 && down == 0)) {
				vdi_seterr(c->msg, sizeof(c->msg),
				    "The desktop client stopped with an error "
				    "(exit status %d) before or during the "
				    "session. If it repeats, call the help "
				    "desk.",
				    code);
				st = VDIC_ERR_CLIENT;
				goto out;
			}
			emit(c, VDIC_EV_ENDED, "The desktop window was closed.",
			    0, 0);
			st = VDIC_OK;
			goto out;
		}
		/* END_DROP. Whether another login took the session is the
		 * broker's to say (the ticket is refused as "replaced");
		 * here only count tunnels that keep ending soon after they
		 * came up, to back off. */
		t_drop = now_ms();
		lasted = t_drop - t_up;
		if (lasted < FLAP_LASTED_MS) {
			flaps++;
		} else {
			flaps = 1;
			attempt = 0;
		}
		shim_tunnel_close(&t, 0);
		(void)reap(c, 1);
		vlog(VLOG_NOTICE, "tunnel_dropped", "session=%s",
		    VLOG_Q(c->session));
		emit(c, VDIC_EV_DROPPED,
		    "The connection to the desktop was lost.", 0, 0);
		if (!c->cfg->reconnect) {
			vdi_seterr(c->msg, sizeof(c->msg),
			    "The connection to your desktop was lost "
			    "(automatic reconnection is off). Start the "
			    "connection again to return to your desktop.");
			st = VDIC_ERR_GAVE_UP;
			goto out;
		}
		if ((st = resume(c, &t, t_drop, lasted, flap_wait(c, flaps),
			 &attempt)) != VDIC_OK) {
			if (st == VDIC_ERR_CANCELLED)
				st = VDIC_OK;
			goto out;
		}
		t_up = now_ms();
	}
out:
	if (lfd >= 0)
		close(lfd);
	if (cfd >= 0)
		close(cfd);
	shim_tunnel_close(&t, 0);
	(void)reap(c, 1);
	if (c->privdir[0] != '\0') {
		shim_privdir_remove(c->privdir);
		c->privdir[0] = '\0';
	}
	if (c->logoff && (st == VDIC_OK)) {
		char keep[sizeof(c->msg)];

		vdi_seterr(keep, sizeof(keep), "%s", c->msg);
		if (vdic_logoff(c) == VDIC_OK)
			emit(c, VDIC_EV_INFO, "Desktop session ended (logoff).",
			    0, 0);
		else
			emit(c, VDIC_EV_ERROR, c->msg, 0, 0);
		vdi_seterr(c->msg, sizeof(c->msg), "%s", keep);
	}
	return st;
}
