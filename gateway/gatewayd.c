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
#include "daemonopt.h"
#include "gateway.h"
#include "keyproc.h"
#include "memtrim.h"
#include "procinfo.h"
#include "srclimit.h"
#include "sdnotify.h"
#include "trust.h"
#include "vlog.h"

static struct gw G;
static struct event *stop_timer;
static int stop_ticks;
static int exit_code; /* 1 when the key process died */

static const char usage[] =
    "usage: vdi-gatewayd [-t] [-d] [-l level] [-P port-file] [-f config]\n"
    "       vdi-gatewayd -V | --version | -h\n"
    "  -f FILE  configuration (default " SYSCONFDIR_VDI "/vdi-gatewayd.conf)\n"
    "  -t       check the configuration, keys and certificates, then "
    "exit\n"
    "  -d       log to stderr (default: syslog)\n"
    "  -l LEVEL debug, info, notice, warning or error (default info)\n"
    "  -P FILE  write the tunnel port to FILE once listening\n"
    "  -V       print the version, then exit\n";

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
		if (!bad && gw_load_policy_tls(gw, err, sizeof(err)) != 0) {
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

/* ---- signals ------------------------------------------------------------ */

static void
stop_check(evutil_socket_t fd, short what, void *arg)
{
	struct gw *gw = arg;

	if (gwm_get(gw, GWM_CONNECTIONS_ACTIVE) > 0 && ++stop_ticks < 30)
		return;
	gw_workers_stop(gw);
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
		vdi_notify("RELOADING=1");
		vlog(VLOG_NOTICE, "reload", "signal=SIGHUP");
		gw->policy_reload_failed =
		    gw_load_policy_tls(gw, err, sizeof(err)) != 0;
		if (gw->policy_reload_failed)
			vlog(VLOG_ERROR, "reload_failed",
			    "kept=previous error=%s", VLOG_Q(err));
		else
			vlog(VLOG_NOTICE, "reloaded",
			    "tenants=%zu "
			    "tls_generation=%lu",
			    gw->ntenants, vdi_tls_generation(gw->front));
		vdi_notify("READY=1");
		return;
	}
	if (stop_timer != NULL)
		return;
	vdi_notify("STOPPING=1");
	gw_listen_stop();
	n = registry_cut_all(gw->reg, "shutdown");
	vlog(VLOG_NOTICE, "stopping", "signal=%d tunnels=%u", (int)sig, n);
	stop_timer = event_new(gw->main_base, -1, EV_PERSIST, stop_check, gw);
	if (stop_timer == NULL || event_add(stop_timer, &tv) != 0)
		event_base_loopexit(gw->main_base, NULL);
}

static void
cleanup(struct gw *gw)
{
	size_t k;

	gw_workers_free(gw);
	for (k = 0; k < gw->nkeys; k++)
		jws_key_free(gw->keys[k]);
	vdi_tls_free(gw->front);
	SSL_CTX_free(gw->inner_ctx);
	SSL_CTX_free(gw->desk_pin_ctx);
	SSL_CTX_free(gw->desk_ca_ctx);
	replay_free(gw->replay);
	registry_free(gw->reg);
	gw->reg = NULL;
	srclimit_free(gw->hs);
	policy_trust_unref(gw->trust);
	gw->trust = NULL;
	keyclient_stop();
}

int
main(int argc, char **argv)
{
	struct gw *gw = &G;
	struct keyproc_config kc;
	const char *port_file;
	enum vlog_level level;
	struct event *sigs[4] = { NULL };
	static const int signums[] = { SIGHUP, SIGTERM, SIGINT, SIGCHLD };
	char *errors = NULL, err[4096];
	struct vdi_daemon_opts opt = { 0 };
	int check, foreground, rc = 1, port;
	long ncpu;
	unsigned int i;

	pthread_mutex_init(&gw->policy_lock, NULL);
	opt.conf = SYSCONFDIR_VDI "/vdi-gatewayd.conf";
	opt.level = VLOG_INFO;
	if ((rc = vdi_daemon_options(
		 argc, argv, "vdi-gatewayd", usage, &opt)) >= 0)
		return rc;
	rc = 1;
	gw->conf_path = opt.conf;
	port_file = opt.port_file;
	check = opt.check;
	foreground = opt.foreground;
	level = opt.level;
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
	if (gw_load(gw, err, sizeof(err)) != 0) {
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
	pthread_mutex_init(&gw->hs_lock, NULL);
	if ((gw->replay = replay_new(gw->conf.max_sessions * 64 + 1024)) ==
		NULL ||
	    (gw->hs = srclimit_new(gw->conf.max_handshakes,
		 gw->conf.max_handshakes_per_source)) == NULL ||
	    (gw->main_base = event_base_new()) == NULL) {
		fprintf(stderr, "vdi-gatewayd: out of memory\n");
		goto out;
	}
	if (gw_workers_new(gw) != 0)
		goto out;
	err[0] = '\0';
	if (gw_listen(gw, err, sizeof(err)) != 0 ||
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
	if ((gw->reg = registry_new((int64_t)CLAIMS_GATEWAY_LIFETIME +
		 gw->conf.clock_skew + CUTSET_MARGIN)) == NULL) {
		fprintf(stderr, "vdi-gatewayd: out of memory\n");
		goto out;
	}
	if (brokerlink_start(gw, err, sizeof(err)) != 0) {
		fprintf(stderr, "vdi-gatewayd: %s\n", err);
		goto out;
	}
	if (gw_workers_start(gw) != 0) {
		fprintf(stderr, "vdi-gatewayd: cannot start threads\n");
		goto out;
	}
	if (memtrim_start(gw) != 0) {
		fprintf(stderr, "vdi-gatewayd: out of memory\n");
		goto out;
	}
	gw_nofile_check(gw);
	port = gw_listen_port();
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
	vdi_notify("READY=1"); /* listener, metrics, workers are up */
	event_base_dispatch(gw->main_base);
	gw_workers_join(gw);
	rc = exit_code;
out:
	brokerlink_stop(gw);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigs[i] != NULL)
			event_free(sigs[i]);
	if (stop_timer != NULL)
		event_free(stop_timer);
	memtrim_stop();
	gw_listen_close();
	gw_metrics_stop();
	cleanup(gw);
	if (gw->main_base != NULL)
		event_base_free(gw->main_base);
	curl_global_cleanup();
	vlog(VLOG_NOTICE, "stopped", "rc=%d", rc);
	return rc;
}
