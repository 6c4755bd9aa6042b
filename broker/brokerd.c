/*
 * brokerd.c: vdi-brokerd, the session broker (see vdi-brokerd(8)).
 *
 * Start-up: read vdi-brokerd.conf and the policy (-t stops here), open the
 * admin socket, split into the privileged monitor (PAM, token signing,
 * sealing) and the unprivileged worker, which opens the store and serves
 * the HTTPS API, the gateways' long-polls, health probes, metrics and the
 * admin socket on one libevent loop.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/crypto.h>

#include "admin.h"
#include "bcheck.h"
#include "bconf.h"
#include "broker.h"
#include "daemonopt.h"
#include "devapi.h"
#include "gwapi.h"
#include "health.h"
#include "http.h"
#include "login.h"
#include "metrics.h"
#include "privsep.h"
#include "procinfo.h"
#include "sdnotify.h"
#include "sweep.h"
#include "vlog.h"

static const struct http_route routes[] = {
	{ EVHTTP_REQ_POST, "/v1/login", HTTP_DEVICE, 1, login_handle },
	{ EVHTTP_REQ_POST, "/v1/reconnect", HTTP_DEVICE, 1, device_reconnect },
	{ EVHTTP_REQ_POST, "/v1/logoff", HTTP_DEVICE, 1, device_logoff },
	{ EVHTTP_REQ_GET, "/v1/health", HTTP_ANY_PEER, 0, device_health },
	{ EVHTTP_REQ_POST, "/internal/v1/events", HTTP_GATEWAY, 1,
	    gwapi_events },
	{ EVHTTP_REQ_POST, "/internal/v1/commands", HTTP_GATEWAY, 1,
	    gwapi_commands },
	{ 0, NULL, 0, 0, NULL },
};

static const char usage[] =
    "usage: vdi-brokerd [-t] [-d] [-l level] [-P port-file] [-f config]\n"
    "       vdi-brokerd -V | --version | -h\n"
    "  -f FILE  configuration (default " SYSCONFDIR_VDI "/vdi-brokerd.conf)\n"
    "  -t       check the configuration and the policy, then exit\n"
    "  -d       log to stderr (default: syslog)\n"
    "  -l LEVEL debug, info, notice, warning or error (default info)\n"
    "  -P FILE  write the HTTPS port to FILE once listening\n"
    "  -V       print the version, then exit\n";

/* The problems in a '\n'-separated list (at least 1 for a failure). */
static size_t
count_lines(const char *s)
{
	size_t n = 0;

	for (; s != NULL && *s != '\0'; s++)
		if (*s == '\n' && s[1] != '\0')
			n++;
	return n + 1;
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct broker *b = arg;
	char *errors = NULL;
	char err[VDI_TLS_ERR_SIZE];
	int r;

	if (sig == SIGHUP) {
		vdi_notify("RELOADING=1");
		vlog(VLOG_NOTICE, "reload", "signal=SIGHUP");
		if ((r = broker_reload(b, &errors)) != 0) {
			char q[1200];

			vlog(VLOG_ERROR, "reload_failed",
			    "file=%s kept=previous errors=%zu first=%s",
			    b->conf.policy, count_lines(errors),
			    vlog_quote(
				errors != NULL ? errors : "", q, sizeof(q)));
			if (errors != NULL)
				fprintf(stderr, "%s", errors);
			free(errors);
			/* CRLs may still have changed. */
			if (vdi_tls_reload(b->tls, err, sizeof(err)) != 0)
				vlog(
				    VLOG_ERROR, "tls_reload_failed", "%s", err);
		}
		broker_audit(b, "admin:signal", "policy_reload",
		    r == 0 ? "ok" : "error", NULL, NULL, NULL, NULL,
		    r == 0 ? "SIGHUP" : "SIGHUP: invalid policy", NULL);
		vdi_notify("READY=1");
		return;
	}
	/* Once: a second signal (SIGINT after SIGTERM, the monitor passing
	 * one on) stops nothing more. */
	if (!b->stopping) {
		b->stopping = 1;
		vdi_notify("STOPPING=1");
		vlog(VLOG_NOTICE, "stopping", "signal=%d", (int)sig);
	}
	event_base_loopexit(b->base, NULL);
}

static int
load_mode(const char *key, const char *value, void *arg)
{
	struct broker *b = arg;

	if (b->modes == NULL && (b->modes = json_object()) == NULL)
		return VDI_ERR_ALLOC;
	json_object_set_new(
	    b->modes, key + 5 /* "mode." */, json_string(value));
	return 0;
}

/* The PAM services p's tenants name, each once: a NULL-terminated list in
 * one allocation (free()), or NULL. */
static char **
pam_services_of(const struct policy *p)
{
	size_t i, k, n = 0, bytes = 0, count = policy_tenant_count(p);
	const char *s;
	char **out, *str;

	for (i = 0; i < count; i++)
		bytes +=
		    strlen(policy_tenant_pam_service(policy_tenant_at(p, i))) +
		    1;
	if ((out = malloc((count + 1) * sizeof(char *) + bytes)) == NULL)
		return NULL;
	str = (char *)(out + count + 1);
	for (i = 0; i < count; i++) {
		s = policy_tenant_pam_service(policy_tenant_at(p, i));
		for (k = 0; k < n && strcmp(out[k], s) != 0; k++)
			;
		if (k < n)
			continue;
		out[n++] = memcpy(str, s, strlen(s) + 1);
		str += strlen(s) + 1;
	}
	out[n] = NULL;
	return out;
}

/* privsep_config.reload_services: runs in the monitor, which reads the
 * policy file itself (the worker's view is not asked). */
static char **
reload_pam_services(void *arg)
{
	const char *path = arg;
	struct policy_errors pe = { 0 };
	struct policy *p = NULL;
	char **list;

	if (policy_load_file(path, NULL, &p, &pe) != 0) {
		policy_errors_clear(&pe);
		return NULL;
	}
	list = pam_services_of(p);
	policy_unref(p);
	return list;
}

/* bcheck_run's tls_check: the TLS front as the worker builds it, with the
 * policy loaded again as the service user (SIGHUP rereads it so). */
static int
check_tls(void *arg, char *err, size_t errlen)
{
	struct broker *b = arg;
	struct policy_errors pe = { 0 };
	struct policy *p = NULL;
	int r;

	if ((r = policy_load_file(b->conf.policy, NULL, &p, &pe)) != 0) {
		snprintf(err, errlen,
		    "the service user cannot load the "
		    "policy: %s",
		    pe.text != NULL ? pe.text : vdi_strerror(r));
		policy_errors_clear(&pe);
		return r;
	}
	r = broker_tls_configure(b, p, err, errlen);
	vdi_tls_free(b->tls);
	b->tls = NULL;
	policy_unref(p);
	return r;
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

int
main(int argc, char **argv)
{
	static struct broker b;
	struct stat admin_st;
	struct policy_errors pe = { 0 };
	struct privsep_config pc;
	const char *conf, *port_file;
	char **services = NULL;
	enum vlog_level level;
	struct event *sigs[4] = { NULL };
	static const int signums[] = { SIGHUP, SIGTERM, SIGINT };
	char *errors = NULL, err[VDI_TLS_ERR_SIZE];
	struct vdi_daemon_opts opt = { 0 };
	int check, foreground, admin_fd = -1, rc = 1;
	size_t i;

	opt.conf = SYSCONFDIR_VDI "/vdi-brokerd.conf";
	opt.level = VLOG_INFO;
	if ((rc = vdi_daemon_options(argc, argv, "vdi-brokerd", usage, &opt)) >=
	    0)
		return rc;
	rc = 1;
	conf = opt.conf;
	port_file = opt.port_file;
	check = opt.check;
	foreground = opt.foreground;
	level = opt.level;
	vlog_init("vdi-brokerd", foreground ? VLOG_STDERR : VLOG_SYSLOG, level);
	signal(SIGPIPE, SIG_IGN);
	b.conf_path = conf;

	if (bconf_load(conf, &b.conf, &errors) != 0) {
		fprintf(stderr, "%s", errors ? errors : "cannot read config\n");
		fprintf(
		    stderr, "vdi-brokerd: %s: configuration refused\n", conf);
		free(errors);
		return 1;
	}
	if (policy_load_file(b.conf.policy, NULL, &b.policy, &pe) != 0) {
		fprintf(stderr, "%s", pe.text ? pe.text : "");
		fprintf(
		    stderr, "vdi-brokerd: %s: policy refused\n", b.conf.policy);
		policy_errors_clear(&pe);
		return 1;
	}
	broker_policy_warnings(b.policy);
	if (check) {
		/* Everything the start loads, as the user that loads it. */
		if (bcheck_run(conf, &b.conf, check_tls, &b, &errors) != 0) {
			fprintf(stderr, "%s", errors ? errors : "");
			fprintf(stderr,
			    "vdi-brokerd: %s: configuration refused\n", conf);
			free(errors);
			policy_unref(b.policy);
			return 1;
		}
		printf("vdi-brokerd: %s and %s are valid (%zu tenants, %zu "
		       "pools)\n",
		    conf, b.conf.policy, policy_tenant_count(b.policy),
		    policy_pool_count(b.policy));
		policy_unref(b.policy);
		return 0;
	}

	if (admin_check_groups(&b.conf, err, sizeof(err)) != 0) {
		fprintf(stderr, "vdi-brokerd: %s\n", err);
		return 1;
	}
	/* Sockets that need privileges are opened before the split. */
	if ((admin_fd = admin_listen(b.conf.admin_socket, b.conf.admin_group,
		 err, sizeof(err))) < 0) {
		fprintf(stderr, "vdi-brokerd: %s\n", err);
		return 1;
	}
	/* Remember which file is ours: a newer broker may have replaced it by
	 * the time this one exits. */
	if (stat(b.conf.admin_socket, &admin_st) != 0)
		memset(&admin_st, 0, sizeof(admin_st));

	memset(&pc, 0, sizeof(pc));
	pc.user = b.conf.user;
	pc.group = b.conf.group;
	pc.signing_key_path = b.conf.token_key;
	pc.seal_key_path = b.conf.seal_key[0] ? b.conf.seal_key : NULL;
	pc.conv_timeout = b.conf.login_timeout;
	pc.token_lifetime = b.conf.token_lifetime;
	/* The monitor runs only the PAM services the policy names, read
	 * again by the monitor itself on SIGHUP. */
	if ((services = pam_services_of(b.policy)) == NULL) {
		fprintf(stderr, "vdi-brokerd: out of memory\n");
		return 1;
	}
	pc.pam_services = (const char *const *)services;
	pc.reload_services = reload_pam_services;
	pc.reload_arg = b.conf.policy;
	rc = privsep_start(&pc, &b.ps);
	free(services); /* the worker has no use for it */
	services = NULL;
	if (rc != 0) {
		if (rc == VDI_ERR_NOT_FOUND)
			fprintf(stderr,
			    "vdi-brokerd: user %s or group %s does not exist: "
			    "create them (useradd --system %s) or set user and "
			    "group in %s\n",
			    b.conf.user, b.conf.group, b.conf.user, conf);
		else
			fprintf(stderr,
			    "vdi-brokerd: cannot start the privileged monitor: "
			    "%s (user %s, group %s, signing key %s%s%s)\n",
			    vdi_strerror(rc), b.conf.user, b.conf.group,
			    b.conf.token_key,
			    b.conf.seal_key[0] ? ", seal key " : "",
			    b.conf.seal_key);
		return 1;
	}
	rc = 1;
	/* From here on: the unprivileged worker. */
	if (store_open_sqlite(b.conf.store, &b.store, err, sizeof(err)) != 0) {
		vlog(VLOG_ERROR, "store_open_failed", "%s", err);
		fprintf(stderr, "vdi-brokerd: %s\n", err);
		goto out;
	}
	/* The run-time modes set with vdictl (a failure leaves the policy's
	 * own choice in force: logged). */
	if ((rc = store_setting_list(b.store, "mode.", load_mode, &b)) != 0)
		vlog(VLOG_ERROR, "store_read_failed",
		    "op=tenant_modes error=%s", vdi_errname(rc));
	rc = 1;
	if ((b.base = event_base_new()) == NULL)
		goto out;
	if (broker_tls_configure(&b, b.policy, err, sizeof(err)) != 0) {
		fprintf(stderr, "vdi-brokerd: TLS: %s\n", err);
		goto out;
	}
	if ((b.rl_user = rl_new(&b.conf.user_limits, 65536)) == NULL ||
	    (b.rl_device = rl_new(&b.conf.device_limits, 65536)) == NULL ||
	    gwq_init(&b) != 0 || login_init(&b) != 0 ||
	    admin_start(&b, admin_fd) != 0) {
		fprintf(stderr, "vdi-brokerd: out of memory\n");
		goto out;
	}
	admin_fd = -1;
	if (http_start(&b, routes, err, sizeof(err)) != 0 ||
	    metrics_start(&b, err, sizeof(err)) != 0) {
		fprintf(stderr, "vdi-brokerd: %s\n", err);
		goto out;
	}
	if (health_start(&b) != 0 || sweep_start(&b) != 0)
		goto out;
	for (i = 0; i < sizeof(signums) / sizeof(signums[0]); i++) {
		sigs[i] = evsignal_new(b.base, signums[i], on_signal, &b);
		if (sigs[i] == NULL || evsignal_add(sigs[i], NULL) != 0)
			goto out;
	}
	if (port_file != NULL &&
	    write_port_file(port_file, b.bound_port) != 0) {
		fprintf(stderr, "vdi-brokerd: cannot write %s: %s\n", port_file,
		    strerror(errno));
		goto out;
	}
	vlog(VLOG_NOTICE, "started",
	    "listen=%s:%u admin=%s tenants=%zu pools=%zu store=%s",
	    b.conf.listen_host, b.bound_port, b.conf.admin_socket,
	    policy_tenant_count(b.policy), policy_pool_count(b.policy),
	    b.conf.store);
	vdi_notify("READY=1"); /* listeners and admin socket are up */
	event_base_dispatch(b.base);
	rc = 0;
out:
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigs[i] != NULL)
			event_free(sigs[i]);
	if (admin_fd >= 0)
		close(admin_fd);
	/* The HTTP servers first: freeing them runs the close callbacks of
	 * held requests (long polls, logins), which point into the queue and
	 * the login table. */
	if (b.metrics_http != NULL)
		evhttp_free(b.metrics_http);
	http_stop(&b);
	health_stop(&b);
	sweep_stop(&b);
	login_free(&b);
	admin_stop(&b);
	gwq_free(&b);
	rl_free(b.rl_user);
	rl_free(b.rl_device);
	vdi_tls_free(b.tls);
	store_close(b.store);
	json_decref(b.modes);
	policy_unref(b.policy);
	privsep_free(b.ps);
	if (b.base != NULL)
		event_base_free(b.base);
	{
		struct stat now_st;

		if (stat(b.conf.admin_socket, &now_st) == 0 &&
		    now_st.st_ino == admin_st.st_ino &&
		    now_st.st_dev == admin_st.st_dev)
			(void)unlink(b.conf.admin_socket);
	}
	return rc;
}
