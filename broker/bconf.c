/* bconf.c: reads vdi-brokerd.conf. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "bconf.h"
#include "cfgfile.h"
#include "srclimit.h"

static void
defaults(struct bconf *b)
{
	memset(b, 0, sizeof(*b));
	snprintf(b->listen_host, sizeof(b->listen_host), "127.0.0.1");
	b->listen_port = 8443;
	snprintf(
	    b->admin_socket, sizeof(b->admin_socket), "/run/vdi/brokerd.sock");
	snprintf(b->user, sizeof(b->user), "vdi");
	snprintf(b->group, sizeof(b->group), "vdi");
	snprintf(b->store, sizeof(b->store), "/var/lib/vdi/broker.db");
	snprintf(b->issuer, sizeof(b->issuer), "vdi-broker");
	snprintf(b->audience, sizeof(b->audience), "vdi-gateway");
	b->token_lifetime = 60;
	b->health_interval = 5;
	b->health_timeout = 2;
	b->sweep_interval = 30;
	b->keep_ended_sessions = 90 * 86400;
	b->keep_tickets = 7 * 86400;
	b->login_timeout = 120;
	b->user_limits = (struct rl_config){ 5, 900, 2, 300 };
	b->device_limits = (struct rl_config){ 10, 900, 2, 300 };
	b->max_body = 16384;
	b->max_logins = 256;
	b->max_logins_per_device = 4;
	b->max_logins_per_user = 4;
	b->max_connections = 0; /* from RLIMIT_NOFILE (http.c) */
	b->max_connections_per_source = 64;
	b->request_timeout = 10;
}

static void
get_limits(struct cfg *c, const config_setting_t *g, const char *key,
    struct rl_config *rl)
{
	static const char *const keys[] = { "free_failures", "window",
		"base_delay", "max_delay", NULL };
	const config_setting_t *s;
	int64_t v;

	if ((s = cfg_group(c, g, key, 0)) == NULL)
		return;
	cfg_check_keys(c, s, keys);
	if (cfg_get_int(c, s, "free_failures", 0, 0, 1000, &v) == 1)
		rl->free_failures = (unsigned int)v;
	cfg_get_duration(c, s, "window", 0, 1, 86400 * 7, &rl->window);
	cfg_get_duration(c, s, "base_delay", 0, 1, 3600, &rl->base_delay);
	cfg_get_duration(c, s, "max_delay", 0, 1, 86400, &rl->max_delay);
}

int
bconf_load(const char *path, struct bconf *b, char **errors)
{
	static const char *const top[] = { "listen", "metrics_listen",
		"admin_socket", "admin_group", "user", "group", "policy",
		"store", "tls", "gateway_ca", "gateway_crl", "gateways",
		"token", "health", "login", "operators_group", "limits",
		"sweep", NULL };
	static const char *const token_keys[] = { "signing_key", "seal_key",
		"issuer", "audience", "lifetime", NULL };
	static const char *const gw_keys[] = { "name", "address", NULL };
	static const char *const health_keys[] = { "interval", "timeout",
		NULL };
	static const char *const sweep_keys[] = { "interval",
		"keep_ended_sessions", "keep_tickets", NULL };
	static const char *const login_keys[] = { "timeout", "max_body",
		"max_pending", "max_pending_per_device", "max_pending_per_user",
		"user_limits", "device_limits", NULL };
	static const char *const limit_keys[] = { "max_connections",
		"max_connections_per_source", "request_timeout", NULL };
	const config_setting_t *root, *g, *list, *e;
	struct cfg c;
	char host[BCONF_HOST_MAX];
	uint16_t port;
	int64_t v;
	unsigned int i, n;

	*errors = NULL;
	defaults(b);
	if ((root = cfg_open_root(&c, path, top)) == NULL)
		goto out;

	cfg_get_hostport(&c, NULL, "listen", 0, b->listen_host,
	    sizeof(b->listen_host), &b->listen_port);
	if (cfg_get_hostport(&c, NULL, "metrics_listen", 0, b->metrics_host,
		sizeof(b->metrics_host), &b->metrics_port) == 1)
		b->metrics_enabled = 1;
	if (cfg_get_path(&c, NULL, "admin_socket", 0, b->admin_socket,
		sizeof(b->admin_socket)) == 1 &&
	    strlen(b->admin_socket) >=
		sizeof(((struct sockaddr_un *)0)->sun_path))
		cfg_error(&c, config_setting_get_member(root, "admin_socket"),
		    NULL,
		    "longer than %zu bytes, the limit of a Unix socket path: "
		    "choose a shorter one",
		    sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
	cfg_get_strbuf(
	    &c, NULL, "admin_group", 0, b->admin_group, sizeof(b->admin_group));
	cfg_get_strbuf(&c, NULL, "operators_group", 0, b->operators_group,
	    sizeof(b->operators_group));
	cfg_get_strbuf(&c, NULL, "user", 0, b->user, sizeof(b->user));
	cfg_get_strbuf(&c, NULL, "group", 0, b->group, sizeof(b->group));
	cfg_get_path(&c, NULL, "policy", 1, b->policy, sizeof(b->policy));
	cfg_get_path(&c, NULL, "store", 0, b->store, sizeof(b->store));
	cfg_get_path(
	    &c, NULL, "gateway_ca", 1, b->gateway_ca, sizeof(b->gateway_ca));
	cfg_get_path(
	    &c, NULL, "gateway_crl", 1, b->gateway_crl, sizeof(b->gateway_crl));

	cfg_get_pem_pair(&c, NULL, "tls", 1, b->tls_cert, sizeof(b->tls_cert),
	    b->tls_key, sizeof(b->tls_key));
	if ((g = cfg_group(&c, NULL, "token", 1)) != NULL) {
		cfg_check_keys(&c, g, token_keys);
		cfg_get_path(&c, g, "signing_key", 1, b->token_key,
		    sizeof(b->token_key));
		cfg_get_path(
		    &c, g, "seal_key", 0, b->seal_key, sizeof(b->seal_key));
		cfg_get_strbuf(
		    &c, g, "issuer", 0, b->issuer, sizeof(b->issuer));
		cfg_get_strbuf(
		    &c, g, "audience", 0, b->audience, sizeof(b->audience));
		cfg_get_duration(
		    &c, g, "lifetime", 0, 5, 60, &b->token_lifetime);
	}
	if ((g = cfg_group(&c, NULL, "health", 0)) != NULL) {
		cfg_check_keys(&c, g, health_keys);
		cfg_get_duration(
		    &c, g, "interval", 0, 1, 3600, &b->health_interval);
		cfg_get_duration(
		    &c, g, "timeout", 0, 1, 60, &b->health_timeout);
	}
	if ((g = cfg_group(&c, NULL, "sweep", 0)) != NULL) {
		cfg_check_keys(&c, g, sweep_keys);
		cfg_get_duration(
		    &c, g, "interval", 0, 1, 3600, &b->sweep_interval);
		cfg_get_duration(&c, g, "keep_ended_sessions", 0, 0,
		    3650 * 86400, &b->keep_ended_sessions);
		cfg_get_duration(&c, g, "keep_tickets", 0, 0, 3650 * 86400,
		    &b->keep_tickets);
	}
	if ((g = cfg_group(&c, NULL, "login", 0)) != NULL) {
		cfg_check_keys(&c, g, login_keys);
		cfg_get_duration(
		    &c, g, "timeout", 0, 10, 3600, &b->login_timeout);
		if (cfg_get_int(&c, g, "max_body", 0, 1024, 1048576, &v) == 1)
			b->max_body = (unsigned int)v;
		if (cfg_get_int(&c, g, "max_pending", 0, 1, 100000, &v) == 1)
			b->max_logins = (unsigned int)v;
		if (cfg_get_int(
			&c, g, "max_pending_per_device", 0, 1, 100000, &v) == 1)
			b->max_logins_per_device = (unsigned int)v;
		if (cfg_get_int(
			&c, g, "max_pending_per_user", 0, 1, 100000, &v) == 1)
			b->max_logins_per_user = (unsigned int)v;
		get_limits(&c, g, "user_limits", &b->user_limits);
		get_limits(&c, g, "device_limits", &b->device_limits);
	}
	if ((g = cfg_group(&c, NULL, "limits", 0)) != NULL) {
		cfg_check_keys(&c, g, limit_keys);
		if (cfg_get_int(&c, g, "max_connections", 0, 16,
			SRCLIMIT_TOTAL_MAX, &v) == 1)
			b->max_connections = (unsigned int)v;
		if (cfg_get_int(&c, g, "max_connections_per_source", 0, 1,
			SRCLIMIT_TOTAL_MAX, &v) == 1)
			b->max_connections_per_source = (unsigned int)v;
		cfg_get_duration(
		    &c, g, "request_timeout", 0, 1, 300, &b->request_timeout);
		if (b->max_connections != 0 &&
		    b->max_connections_per_source > b->max_connections &&
		    config_setting_get_member(
			g, "max_connections_per_source") != NULL)
			cfg_error(&c, g, "max_connections_per_source",
			    "%u is above max_connections (%u)",
			    b->max_connections_per_source, b->max_connections);
	}
	/* Shares above the whole are the whole. */
	if (b->max_logins_per_device > b->max_logins)
		b->max_logins_per_device = b->max_logins;
	if (b->max_logins_per_user > b->max_logins)
		b->max_logins_per_user = b->max_logins;

	list = config_setting_get_member(root, "gateways");
	if (list == NULL) {
		cfg_error(&c, root, "gateways",
		    "missing (a list of { name = \"gw1\"; address = "
		    "\"host:port\"; } is needed)");
	} else if (!config_setting_is_list(list) ||
	    (n = (unsigned int)config_setting_length(list)) == 0) {
		cfg_error(&c, list, NULL,
		    "expected a non-empty list ( { name = ...; address = ...; "
		    "} )");
	} else if (n > BCONF_GATEWAYS_MAX) {
		cfg_error(
		    &c, list, NULL, "at most %d gateways", BCONF_GATEWAYS_MAX);
	} else {
		for (i = 0; i < n; i++) {
			struct bconf_gateway *gw = &b->gateways[b->ngateways];

			e = config_setting_get_elem(list, i);
			if (!config_setting_is_group(e)) {
				cfg_error(&c, e, NULL,
				    "expected { name = ...; "
				    "address = ...; }");
				continue;
			}
			cfg_check_keys(&c, e, gw_keys);
			cfg_get_strbuf(
			    &c, e, "name", 1, gw->name, sizeof(gw->name));
			if (cfg_get_hostport(&c, e, "address", 1, host,
				sizeof(host), &port) == 1) {
				if (port == 0)
					cfg_error(&c, e, "address",
					    "a gateway address needs a port");
				cfg_get_strbuf(&c, e, "address", 1, gw->address,
				    sizeof(gw->address));
			}
			b->ngateways++;
		}
	}
out:
	return cfg_close(&c, errors);
}
