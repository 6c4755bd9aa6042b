/*
 * gatewayd.c: vdi-gatewayd, the display-only RDP relay (see
 * vdi-gatewayd(8), gateway.h for the modules and threads).
 *
 * Start-up: read vdi-gatewayd.conf, the policy (tenants' device CAs and
 * CRLs), the broker's public keys, the seal key, and build the TLS
 * contexts (-t stops here); bind the listener and the metrics port, drop
 * to user/group when started as root, start the worker loops and the
 * broker link, then accept. SIGHUP re-reads the policy's CAs and CRLs
 * into a new front context (live tunnels keep theirs); SIGTERM/SIGINT cut
 * every tunnel (each reports its end), wait up to 3 s, and stop.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <curl/curl.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/thread.h>
#include <openssl/crypto.h>
#include <openssl/ssl.h>

#include "cfgwhere.h"
#include "claims.h"
#include "cutset.h"
#include "gateway.h"
#include "keyproc.h"
#include "srclimit.h"
#include "policy.h"
#include "policy_files.h"
#include "vlog.h"

#define TENANTS_MAX 256

static struct gw G;
static struct evconnlistener *listener;
static struct event *stop_timer;
static int stop_ticks;
static int exit_code; /* 1 when the key process died */

static void
usage(void)
{
	fprintf(stderr,
	    "usage: vdi-gatewayd [-t] [-d] [-l level] [-P port-file] "
	    "[-f config]\n"
	    "  -f FILE  configuration (default " SYSCONFDIR_VDI
	    "/vdi-gatewayd.conf)\n"
	    "  -t       check the configuration, keys and certificates, then "
	    "exit\n"
	    "  -d       log to stderr (default: syslog)\n"
	    "  -l LEVEL debug, info, notice, warning or error (default info)\n"
	    "  -P FILE  write the tunnel port to FILE once listening\n");
}

/* The front context: the gateway's certificate, every tenant CA and CRL
 * of the policy. */
static int
front_configure(struct gw *gw, const struct policy *p, char *err, size_t errlen)
{
	struct vdi_tls_ca cas[TENANTS_MAX];
	struct vdi_tls_config tc;
	const struct policy_tenant *t;
	size_t i, n = 0;
	int r;

	memset(&tc, 0, sizeof(tc));
	memset(cas, 0, sizeof(cas));
	for (i = 0; i < policy_tenant_count(p) && n < TENANTS_MAX; i++) {
		t = policy_tenant_at(p, i);
		if (policy_tenant_ca_file(t) == NULL)
			continue;
		cas[n].name = policy_tenant_name(t);
		cas[n].ca_file = policy_tenant_ca_file(t);
		cas[n].crl_file = policy_tenant_crl_file(t);
		n++;
	}
	if (n == 0) {
		snprintf(err, errlen, "%s: no tenant with a device CA",
		    gw->conf.policy);
		return VDI_ERR_CONFIG;
	}
	tc.role = VDI_TLS_SERVER;
	tc.cert_file = gw->conf.tls_cert;
	tc.key_file = gw->conf.tls_key;
	tc.cas = cas;
	tc.ncas = n;
	if (gw->front == NULL)
		r = vdi_tls_new(&tc, &gw->front, err, errlen);
	else
		r = vdi_tls_reconfigure(gw->front, &tc, err, errlen);
	if (r == 0)
		gw->ntenants = n;
	return r;
}

static void
log_policy_warning(const char *line, void *arg)
{
	vlog(VLOG_WARNING, "policy_warning", "detail=%s", VLOG_Q(line));
}

static int
load_policy_tls(struct gw *gw, char *err, size_t errlen)
{
	struct policy_errors pe = { 0 };
	struct policy *p = NULL, *old;
	int r;

	if ((r = policy_load_file(gw->conf.policy, NULL, &p, &pe)) != 0) {
		snprintf(err, errlen, "%s%s: policy refused",
		    pe.text != NULL ? pe.text : "", gw->conf.policy);
		policy_errors_clear(&pe);
		return r;
	}
	(void)policy_warnings(p, log_policy_warning, NULL);
	if ((r = front_configure(gw, p, err, errlen)) == 0) {
		/* Keep it for the admission's dst check (session.c). */
		pthread_mutex_lock(&gw->policy_lock);
		old = gw->policy;
		gw->policy = p;
		p = old;
		pthread_mutex_unlock(&gw->policy_lock);
	}
	policy_unref(p);
	return r;
}

/* The RDP-level TLS server inside the tunnel: no client certificate
 * (xfreerdp has none), TLS 1.2+, forward-secret AEAD ciphers. */
static int
inner_ctx_new(struct gw *gw, char *err, size_t errlen)
{
	EVP_PKEY *pk = NULL;
	SSL_CTX *c;
	int r;

	if ((c = SSL_CTX_new(TLS_server_method())) == NULL)
		goto fail;
	SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
	SSL_CTX_set_options(c,
	    SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET |
		SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
	if (SSL_CTX_set_cipher_list(c,
		"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
		"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
		"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305") !=
	    1)
		goto fail;
	/* The certificate only: the private key is the key process's, used
	 * through an EVP_PKEY that forwards (keypkey.c). */
	if (SSL_CTX_use_certificate_chain_file(c, gw->conf.inner_cert) != 1 ||
	    (r = keypkey_new(SSL_CTX_get0_certificate(c), &pk)) != 0 ||
	    SSL_CTX_use_PrivateKey(c, pk) != 1 ||
	    SSL_CTX_check_private_key(c) != 1) {
		snprintf(err, errlen,
		    "inner_rdp: cannot use %s / %s (PEM "
		    "certificate and the matching unencrypted EC or RSA key, "
		    "held by the key process)",
		    gw->conf.inner_cert, gw->conf.inner_key);
		EVP_PKEY_free(pk);
		SSL_CTX_free(c);
		return VDI_ERR_CERT_LOAD;
	}
	EVP_PKEY_free(pk); /* the context keeps its reference */
	gw->inner_ctx = c;
	return 0;
fail:
	SSL_CTX_free(c);
	snprintf(err, errlen, "inner_rdp: TLS context failed");
	return VDI_ERR_TLS;
}

static int
desktop_ctxs_new(struct gw *gw, char *err, size_t errlen)
{
	struct vdi_tls_config tc;
	struct vdi_tls_ca ca;
	int r;

	memset(&tc, 0, sizeof(tc));
	tc.role = VDI_TLS_CLIENT;
	tc.flags = VDI_TLS_VERIFY_NONE; /* the pin is checked instead */
	if ((r = vdi_tls_ctx_new(&tc, &gw->desk_pin_ctx, err, errlen)) != 0)
		return r;
	if (gw->conf.desktop_ca[0] == '\0')
		return 0;
	memset(&ca, 0, sizeof(ca));
	ca.name = "desktops";
	ca.ca_file = gw->conf.desktop_ca;
	tc.flags = 0;
	tc.cas = &ca;
	tc.ncas = 1;
	return vdi_tls_ctx_new(&tc, &gw->desk_ca_ctx, err, errlen);
}

/* Each public key gets its RFC 7638 thumbprint as kid, so tokens that
 * name a kid find it; tokens without one try every key (rotation). */
static int
load_keys(struct gw *gw, char *err, size_t errlen)
{
	unsigned char raw[JWS_PUBKEY_LEN];
	char kid[JWS_THUMBPRINT_LEN + 1];
	struct jws_key *k;
	size_t i;
	int r;

	for (i = 0; i < gw->conf.nbroker_keys; i++) {
		if ((r = jws_key_load_public(
			 gw->conf.broker_keys[i], NULL, &k, err, errlen)) != 0)
			return r;
		r = jws_key_raw_public(k, raw);
		if (r == 0)
			r = jws_key_thumbprint(k, kid, sizeof(kid));
		jws_key_free(k);
		if (r == 0)
			r = jws_key_from_public(raw, kid, &gw->keys[gw->nkeys]);
		if (r != 0) {
			snprintf(err, errlen, "%s: %s", gw->conf.broker_keys[i],
			    vdi_strerror(r));
			return r;
		}
		gw->nkeys++;
	}
	/* The seal key is the key process's alone. */
	gw->have_seal = keyclient_have_seal();
	return 0;
}

static int
drop_privileges(const struct gwconf *c)
{
	struct passwd *pw;
	struct group *gr;
	gid_t gid;

	if (c->user[0] == '\0' || getuid() != 0)
		return 0;
	if ((pw = getpwnam(c->user)) == NULL) {
		fprintf(
		    stderr, "vdi-gatewayd: user %s does not exist\n", c->user);
		return -1;
	}
	gid = pw->pw_gid;
	if (c->group[0] != '\0') {
		if ((gr = getgrnam(c->group)) == NULL) {
			fprintf(stderr,
			    "vdi-gatewayd: group %s does not "
			    "exist\n",
			    c->group);
			return -1;
		}
		gid = gr->gr_gid;
	}
	if (setgroups(1, &gid) != 0 || setgid(gid) != 0 ||
	    setuid(pw->pw_uid) != 0 || setuid(0) == 0) {
		fprintf(stderr, "vdi-gatewayd: cannot drop to %s: %s\n",
		    c->user, strerror(errno));
		return -1;
	}
	vlog(VLOG_INFO, "privileges_dropped", "user=%s uid=%u gid=%u", c->user,
	    (unsigned int)pw->pw_uid, (unsigned int)gid);
	return 0;
}

/* -t: what the gateway opens after dropping privileges (the broker link's
 * client certificate, key, CA and CRL; the policy and its CAs and CRLs on
 * SIGHUP), opened in a child process as user/group. Returns 0, or -1
 * after printing "FILE:LINE: KEY: problem" lines. */
static int
check_as_user(struct gw *gw)
{
	const struct {
		const char *key, *path;
	} files[] = {
		{ "tls.cert", gw->conf.tls_cert },
		{ "tls.key", gw->conf.tls_key },
		{ "broker.ca", gw->conf.broker_ca },
		{ "broker.crl", gw->conf.broker_crl },
		{ "policy", gw->conf.policy },
	};
	char where[1200], err[VDI_TLS_ERR_SIZE];
	size_t i;
	pid_t pid;
	int st = 0, fd, bad = 0;

	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		if (drop_privileges(&gw->conf) != 0)
			_exit(1);
		for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
			if (files[i].path[0] == '\0')
				continue;
			if ((fd = open(files[i].path, O_RDONLY | O_CLOEXEC)) >=
			    0) {
				close(fd);
				continue;
			}
			fprintf(stderr, "%s: cannot read %s as user %s: %s\n",
			    cfg_where(gw->conf_path, files[i].key, where,
				sizeof(where)),
			    files[i].path,
			    gw->conf.user[0] ? gw->conf.user : "(unchanged)",
			    strerror(errno));
			bad = 1;
		}
		if (!bad && load_policy_tls(gw, err, sizeof(err)) != 0) {
			fprintf(stderr,
			    "%s: SIGHUP as user %s would fail: %s\n",
			    cfg_where(
				gw->conf_path, "policy", where, sizeof(where)),
			    gw->conf.user, err);
			bad = 1;
		}
		fflush(stderr);
		_exit(bad);
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static int
write_port_file(const char *path, unsigned int port)
{
	char tmp[1100];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((f = fopen(tmp, "w")) == NULL)
		return -1;
	fprintf(f, "%u\n", port);
	if (fclose(f) != 0)
		return -1;
	return rename(tmp, path);
}

/* ---- accept and hand over -------------------------------------------- */

struct handoff {
	struct gw_worker *w;
	evutil_socket_t fd;
	struct sockaddr_storage sa;
	int salen;
};

static void
handoff_cb(evutil_socket_t unused, short what, void *arg)
{
	struct handoff *h = arg;

	session_accept(h->w, h->fd, (struct sockaddr *)&h->sa, h->salen);
	free(h);
}

/* At most one log line a second per kind of refusal, with the number of
 * lines left out since the last one (the listener's thread only). */
struct log_gate {
	time_t last;
	unsigned long suppressed;
};

static int
log_gate_open(struct log_gate *g, unsigned long *suppressed)
{
	time_t now = time(NULL);

	if (g->last == now) {
		g->suppressed++;
		return 0;
	}
	g->last = now;
	*suppressed = g->suppressed;
	g->suppressed = 0;
	return 1;
}

void
gw_handshake_release(struct gw *gw, const struct vdi_addr *src)
{
	pthread_mutex_lock(&gw->hs_lock);
	srclimit_release(gw->hs, src);
	pthread_mutex_unlock(&gw->hs_lock);
}

/* Closes fd at once with a reset: a refused peer leaves no TIME_WAIT. */
static void
drop_connection(evutil_socket_t fd)
{
	struct linger lg = { 1, 0 };

	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	evutil_closesocket(fd);
}

/*
 * Every accepted connection takes a handshake slot (max_handshakes in
 * all, max_handshakes_per_source from one address) until its token is
 * accepted; past either limit it is closed at once, so peers that never
 * authenticate cannot crowd out the ones that do, nor admitted sessions.
 */
static void
accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	static struct log_gate gates[2];
	struct gw *gw = arg;
	struct handoff *h;
	struct timeval now = { 0, 0 };
	struct vdi_addr src;
	unsigned long suppressed;
	unsigned int count, total;
	char addr[64];
	int r, per_source;

	memset(&src, 0, sizeof(src));
	(void)!vdi_addr_from_sockaddr(sa, (socklen_t)salen, &src);
	pthread_mutex_lock(&gw->hs_lock);
	r = srclimit_take(gw->hs, &src);
	count = srclimit_count(gw->hs, &src);
	total = srclimit_total(gw->hs);
	pthread_mutex_unlock(&gw->hs_lock);
	if (r != 0) {
		drop_connection(fd);
		per_source = r == VDI_ERR_DENIED;
		GW_INC(per_source ? &gw->m.handshakes_refused_source
				  : &gw->m.handshakes_refused_total);
		if (log_gate_open(&gates[per_source], &suppressed))
			vlog(VLOG_WARNING, "handshake_refused",
			    "peer=%s reason=%s open=%u limit=%u "
			    "suppressed=%lu",
			    vdi_addr_format(&src, addr, sizeof(addr)),
			    per_source ? "per_source_limit" : "handshake_limit",
			    per_source ? count : total,
			    per_source ? gw->conf.max_handshakes_per_source
				       : gw->conf.max_handshakes,
			    suppressed);
		return;
	}
	GW_INC(&gw->m.handshakes_active);
	if ((h = calloc(1, sizeof(*h))) == NULL || salen > (int)sizeof(h->sa)) {
		free(h);
		evutil_closesocket(fd);
		GW_DEC(&gw->m.handshakes_active);
		gw_handshake_release(gw, &src);
		return;
	}
	h->w = &gw->workers[gw->next_worker++ % gw->nworkers];
	h->fd = fd;
	memcpy(&h->sa, sa, (size_t)salen);
	h->salen = salen;
	if (event_base_once(h->w->base, -1, EV_TIMEOUT, handoff_cb, h, &now) !=
	    0) {
		evutil_closesocket(fd);
		free(h);
		GW_DEC(&gw->m.handshakes_active);
		gw_handshake_release(gw, &src);
	}
}

/* accept() failing: out of descriptors (or memory) must not spin the
 * loop. A reserve descriptor is closed to accept and drop the oldest
 * waiting connection, the listener pauses for ACCEPT_BACKOFF_MS, and the
 * log says so at most once a second. */
#define ACCEPT_BACKOFF_MS 100

static int reserve_fd = -1;
static struct event *backoff_timer;

static void
reserve_open(void)
{
	if (reserve_fd < 0)
		reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

static void
backoff_done(evutil_socket_t unused, short what, void *arg)
{
	reserve_open();
	if (listener != NULL && stop_timer == NULL)
		evconnlistener_enable(listener);
}

static void
accept_error(struct evconnlistener *l, void *arg)
{
	static struct log_gate gates[2];
	struct timeval tv = { 0, ACCEPT_BACKOFF_MS * 1000 };
	struct gw *gw = arg;
	int e = EVUTIL_SOCKET_ERROR(), dropped = 0, fd;
	unsigned long suppressed;

	if (e != EMFILE && e != ENFILE && e != ENOBUFS && e != ENOMEM) {
		if (log_gate_open(&gates[0], &suppressed))
			vlog(VLOG_WARNING, "accept_error",
			    "error=\"%s\" suppressed=%lu",
			    evutil_socket_error_to_string(e), suppressed);
		return;
	}
	if (reserve_fd >= 0) {
		close(reserve_fd);
		reserve_fd = -1;
		if ((fd = accept(evconnlistener_get_fd(l), NULL, NULL)) >= 0) {
			drop_connection(fd);
			dropped = 1;
		}
		reserve_open();
	}
	GW_INC(&gw->m.accept_backoffs);
	evconnlistener_disable(l);
	if (backoff_timer == NULL || evtimer_add(backoff_timer, &tv) != 0)
		evconnlistener_enable(l);
	if (log_gate_open(&gates[1], &suppressed))
		vlog(VLOG_ERROR, "accept_backoff",
		    "error=\"%s\" dropped=%d paused_ms=%d open=%llu "
		    "handshakes=%llu suppressed=%lu",
		    evutil_socket_error_to_string(e), dropped,
		    ACCEPT_BACKOFF_MS,
		    (unsigned long long)GW_GET(&gw->m.connections_active),
		    (unsigned long long)GW_GET(&gw->m.handshakes_active),
		    suppressed);
}

static void *
worker_main(void *arg)
{
	struct gw_worker *w = arg;

	keyclient_bind_thread(w->index + 1); /* channel 0 is the main's */
	event_base_loop(w->base, EVLOOP_NO_EXIT_ON_EMPTY);
	return NULL;
}

/* ---- signals ------------------------------------------------------------ */

static void
stop_check(evutil_socket_t fd, short what, void *arg)
{
	struct gw *gw = arg;
	unsigned int i;

	if (GW_GET(&gw->m.connections_active) > 0 && ++stop_ticks < 30)
		return;
	for (i = 0; i < gw->nworkers; i++)
		event_base_loopexit(gw->workers[i].base, NULL);
	event_base_loopexit(gw->main_base, NULL);
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct gw *gw = arg;
	struct timeval tv = { 0, 100000 };
	char err[VDI_TLS_ERR_SIZE];
	unsigned int n;
	int st = 0;

	if (sig == SIGCHLD) {
		/* Without its key process the gateway can neither open
		 * credentials nor finish an inner TLS handshake: stop, and let
		 * the service manager restart both. */
		if (keyclient_pid() <= 0 ||
		    waitpid(keyclient_pid(), &st, WNOHANG) != keyclient_pid())
			return;
		vlog(stop_timer != NULL ? VLOG_INFO : VLOG_ERROR,
		    "keyproc_exited", "pid=%ld status=%d action=%s",
		    (long)keyclient_pid(),
		    WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st),
		    stop_timer != NULL ? "none" : "stop");
		keyclient_forget();
		if (stop_timer != NULL)
			return; /* stopping anyway */
		exit_code = 1;
	} else if (sig == SIGHUP) {
		vlog(VLOG_NOTICE, "reload", "signal=SIGHUP");
		gw->policy_reload_failed =
		    load_policy_tls(gw, err, sizeof(err)) != 0;
		if (gw->policy_reload_failed)
			vlog(VLOG_ERROR, "reload_failed",
			    "kept=previous error=%s", VLOG_Q(err));
		else
			vlog(VLOG_NOTICE, "reloaded",
			    "tenants=%zu "
			    "tls_generation=%lu",
			    gw->ntenants, vdi_tls_generation(gw->front));
		return;
	}
	if (stop_timer != NULL)
		return;
	if (listener != NULL)
		evconnlistener_disable(listener);
	n = registry_cut_all("shutdown");
	vlog(VLOG_NOTICE, "stopping", "signal=%d tunnels=%u", (int)sig, n);
	stop_timer = event_new(gw->main_base, -1, EV_PERSIST, stop_check, gw);
	if (stop_timer == NULL || event_add(stop_timer, &tv) != 0)
		event_base_loopexit(gw->main_base, NULL);
}

/* Each admitted tunnel holds two descriptors (client, desktop) and each
 * handshake one: say so when the limits do not fit the process's
 * descriptor limit (then the accept back-off is what protects it). */
static void
nofile_check(const struct gw *gw)
{
	struct rlimit rl;
	unsigned long long need;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	need = 2ULL * gw->conf.max_sessions + gw->conf.max_handshakes + 64;
	if (rl.rlim_cur != RLIM_INFINITY && need > rl.rlim_cur)
		vlog(VLOG_WARNING, "limits_above_nofile",
		    "nofile=%llu need=%llu max_sessions=%u max_handshakes=%u "
		    "detail=\"raise LimitNOFILE or lower the limits\"",
		    (unsigned long long)rl.rlim_cur, need,
		    gw->conf.max_sessions, gw->conf.max_handshakes);
}

static int
bound_port(evutil_socket_t fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0)
		return -1;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return -1;
}

static int
listen_front(struct gw *gw, char *err, size_t errlen)
{
	struct evutil_addrinfo hints, *ai = NULL;
	char port[8];
	const char *host = gw->conf.listen_host;
	int r;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags =
	    EVUTIL_AI_PASSIVE | EVUTIL_AI_NUMERICHOST | EVUTIL_AI_NUMERICSERV;
	snprintf(port, sizeof(port), "%u", gw->conf.listen_port);
	if (strcmp(host, "*") == 0)
		host = NULL;
	if ((r = evutil_getaddrinfo(host, port, &hints, &ai)) != 0) {
		snprintf(err, errlen, "listen %s: %s", gw->conf.listen_host,
		    evutil_gai_strerror(r));
		return VDI_ERR_CONFIG;
	}
	listener = evconnlistener_new_bind(gw->main_base, accept_cb, gw,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
	    1024, ai->ai_addr, (int)ai->ai_addrlen);
	evutil_freeaddrinfo(ai);
	if (listener == NULL) {
		snprintf(err, errlen, "cannot listen on %s:%u: %s",
		    gw->conf.listen_host, gw->conf.listen_port,
		    strerror(errno));
		return VDI_ERR_SYSTEM;
	}
	evconnlistener_set_error_cb(listener, accept_error);
	reserve_open();
	if ((backoff_timer = evtimer_new(gw->main_base, backoff_done, gw)) ==
	    NULL) {
		snprintf(err, errlen, "out of memory");
		return VDI_ERR_ALLOC;
	}
	return 0;
}

static void
cleanup(struct gw *gw)
{
	unsigned int i;
	size_t k;

	for (i = 0; gw->workers != NULL && i < gw->nworkers; i++) {
		if (gw->workers[i].dns != NULL)
			evdns_base_free(gw->workers[i].dns, 0);
		if (gw->workers[i].base != NULL)
			event_base_free(gw->workers[i].base);
	}
	free(gw->workers);
	for (k = 0; k < gw->nkeys; k++)
		jws_key_free(gw->keys[k]);
	vdi_tls_free(gw->front);
	SSL_CTX_free(gw->inner_ctx);
	SSL_CTX_free(gw->desk_pin_ctx);
	SSL_CTX_free(gw->desk_ca_ctx);
	replay_free(gw->replay);
	registry_fini();
	srclimit_free(gw->hs);
	policy_unref(gw->policy);
	gw->policy = NULL;
	keyclient_stop();
}

int
main(int argc, char **argv)
{
	struct gw *gw = &G;
	struct keyproc_config kc;
	const char *port_file = NULL;
	enum vlog_level level = VLOG_INFO;
	struct event *sigs[4] = { NULL };
	static const int signums[] = { SIGHUP, SIGTERM, SIGINT, SIGCHLD };
	char *errors = NULL, err[4096];
	int ch, check = 0, foreground = 0, rc = 1, port;
	long ncpu;
	unsigned int i;

	gw->conf_path = SYSCONFDIR_VDI "/vdi-gatewayd.conf";
	pthread_mutex_init(&gw->policy_lock, NULL);
	while ((ch = getopt(argc, argv, "df:hl:P:t")) != -1) {
		switch (ch) {
		case 'd':
			foreground = 1;
			break;
		case 'f':
			gw->conf_path = optarg;
			break;
		case 'l':
			if (vlog_level_parse(optarg, &level) != 0) {
				usage();
				return 2;
			}
			break;
		case 'P':
			port_file = optarg;
			break;
		case 't':
			check = 1;
			foreground = 1;
			break;
		default:
			usage();
			return ch == 'h' ? 0 : 2;
		}
	}
	if (optind != argc) {
		usage();
		return 2;
	}
	vlog_init(
	    "vdi-gatewayd", foreground ? VLOG_STDERR : VLOG_SYSLOG, level);
	signal(SIGPIPE, SIG_IGN);

	if (gwconf_load(gw->conf_path, &gw->conf, &errors) != 0) {
		fprintf(stderr, "%s", errors ? errors : "cannot read config\n");
		fprintf(stderr, "vdi-gatewayd: %s: configuration refused\n",
		    gw->conf_path);
		free(errors);
		return 1;
	}
	gw->nworkers = gw->conf.threads;
	if (gw->nworkers == 0) {
		ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		gw->nworkers = ncpu < 1         ? 1
		    : ncpu > GWCONF_THREADS_MAX ? GWCONF_THREADS_MAX
						: (unsigned int)ncpu;
	}
	/* First of all, before the policy, TLS, threads and the privilege
	 * drop: the key process, which alone reads the seal key and the
	 * inner private key. */
	memset(&kc, 0, sizeof(kc));
	kc.seal_key = gw->conf.seal_key;
	kc.inner_cert = gw->conf.inner_cert;
	kc.inner_key = gw->conf.inner_key;
	kc.user = gw->conf.user;
	kc.group = gw->conf.group;
	err[0] = '\0';
	if (keyclient_start(&kc, gw->nworkers + 1, err, sizeof(err)) != 0) {
		fprintf(stderr, "vdi-gatewayd: %s\n", err);
		fprintf(stderr, "vdi-gatewayd: %s: configuration refused\n",
		    gw->conf_path);
		return 1;
	}
	if (load_policy_tls(gw, err, sizeof(err)) != 0 ||
	    inner_ctx_new(gw, err, sizeof(err)) != 0 ||
	    desktop_ctxs_new(gw, err, sizeof(err)) != 0 ||
	    load_keys(gw, err, sizeof(err)) != 0) {
		fprintf(stderr, "vdi-gatewayd: %s\n", err);
		fprintf(stderr, "vdi-gatewayd: %s: configuration refused\n",
		    gw->conf_path);
		cleanup(gw);
		return 1;
	}
	if (check && check_as_user(gw) != 0) {
		fprintf(stderr, "vdi-gatewayd: %s: configuration refused\n",
		    gw->conf_path);
		cleanup(gw);
		return 1;
	}
	if (check) {
		printf("vdi-gatewayd: %s is valid (%zu tenants, %zu broker "
		       "keys, sso %s, desktop_ca %s)\n",
		    gw->conf_path, gw->ntenants, gw->nkeys,
		    gw->have_seal ? "on" : "off",
		    gw->desk_ca_ctx != NULL ? "set" : "unset");
		cleanup(gw);
		return 0;
	}

	if (evthread_use_pthreads() != 0 ||
	    curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		fprintf(stderr, "vdi-gatewayd: cannot set up threads\n");
		cleanup(gw);
		return 1;
	}
	pthread_mutex_init(&gw->replay_lock, NULL);
	pthread_mutex_init(&gw->hs_lock, NULL);
	if ((gw->replay = replay_new(gw->conf.max_sessions * 64 + 1024)) ==
		NULL ||
	    (gw->hs = srclimit_new(gw->conf.max_handshakes,
		 gw->conf.max_handshakes_per_source)) == NULL ||
	    (gw->main_base = event_base_new()) == NULL) {
		fprintf(stderr, "vdi-gatewayd: out of memory\n");
		goto out;
	}
	if ((gw->workers = calloc(gw->nworkers, sizeof(*gw->workers))) == NULL)
		goto out;
	for (i = 0; i < gw->nworkers; i++) {
		gw->workers[i].gw = gw;
		gw->workers[i].index = i;
		if ((gw->workers[i].base = event_base_new()) == NULL)
			goto out;
		gw->workers[i].dns = evdns_base_new(gw->workers[i].base,
		    EVDNS_BASE_INITIALIZE_NAMESERVERS |
			EVDNS_BASE_DISABLE_WHEN_INACTIVE);
	}
	err[0] = '\0';
	if (listen_front(gw, err, sizeof(err)) != 0 ||
	    gw_metrics_start(gw, err, sizeof(err)) != 0) {
		fprintf(stderr, "vdi-gatewayd: %s\n", err);
		goto out;
	}
	if (drop_privileges(&gw->conf) != 0)
		goto out;
	for (i = 0; i < sizeof(signums) / sizeof(signums[0]); i++) {
		sigs[i] =
		    evsignal_new(gw->main_base, signums[i], on_signal, gw);
		if (sigs[i] == NULL || evsignal_add(sigs[i], NULL) != 0)
			goto out;
	}
	/* Cuts are held as long as a token issued before them is good. */
	if (registry_init((int64_t)CLAIMS_GATEWAY_LIFETIME +
		gw->conf.clock_skew + CUTSET_MARGIN) != 0) {
		fprintf(stderr, "vdi-gatewayd: out of memory\n");
		goto out;
	}
	if (brokerlink_start(gw, err, sizeof(err)) != 0) {
		fprintf(stderr, "vdi-gatewayd: %s\n", err);
		goto out;
	}
	for (i = 0; i < gw->nworkers; i++) {
		if (pthread_create(&gw->workers[i].thread, NULL, worker_main,
			&gw->workers[i]) != 0) {
			fprintf(stderr, "vdi-gatewayd: cannot start threads\n");
			for (; i > 0; i--) {
				event_base_loopexit(
				    gw->workers[i - 1].base, NULL);
				pthread_join(gw->workers[i - 1].thread, NULL);
			}
			goto out;
		}
	}
	nofile_check(gw);
	port = bound_port(evconnlistener_get_fd(listener));
	if (port_file != NULL &&
	    (port < 0 || write_port_file(port_file, (unsigned int)port) != 0))
		fprintf(stderr, "vdi-gatewayd: cannot write %s: %s\n",
		    port_file, strerror(errno));
	vlog(VLOG_NOTICE, "started",
	    "listen=%s:%d threads=%u tenants=%zu broker=%s metrics=%s:%u "
	    "sso=%s desktop_ca=%s max_sessions=%u max_handshakes=%u "
	    "max_handshakes_per_source=%u",
	    gw->conf.listen_host, port, gw->nworkers, gw->ntenants,
	    gw->conf.broker_url,
	    gw->conf.metrics_enabled ? gw->conf.metrics_host : "-",
	    gw->conf.metrics_port, gw->have_seal ? "on" : "off",
	    gw->desk_ca_ctx != NULL ? "set" : "unset", gw->conf.max_sessions,
	    gw->conf.max_handshakes, gw->conf.max_handshakes_per_source);
	event_base_dispatch(gw->main_base);
	for (i = 0; i < gw->nworkers; i++) {
		event_base_loopexit(gw->workers[i].base, NULL);
		pthread_join(gw->workers[i].thread, NULL);
	}
	rc = exit_code;
out:
	brokerlink_stop(gw);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigs[i] != NULL)
			event_free(sigs[i]);
	if (stop_timer != NULL)
		event_free(stop_timer);
	if (backoff_timer != NULL)
		event_free(backoff_timer);
	if (listener != NULL)
		evconnlistener_free(listener);
	if (reserve_fd >= 0)
		close(reserve_fd);
	gw_metrics_stop();
	cleanup(gw);
	if (gw->main_base != NULL)
		event_base_free(gw->main_base);
	curl_global_cleanup();
	vlog(VLOG_NOTICE, "stopped", "rc=%d", rc);
	return rc;
}
