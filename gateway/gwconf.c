/* gwconf.c: reads vdi-gatewayd.conf (see gwconf.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfgfile.h"
#include "gwconf.h"
#include "srclimit.h"

void
gwconf_defaults(struct gwconf *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->listen_host, sizeof(c->listen_host), "0.0.0.0");
	c->listen_port = 9443;
	snprintf(c->issuer, sizeof(c->issuer), "vdi-broker");
	snprintf(c->audience, sizeof(c->audience), "vdi-gateway");
	c->handshake_timeout = 10;
	c->clock_skew = 30;
	c->max_sessions = 1000;
	c->max_handshakes = 1000;
	c->max_handshakes_per_source = 32;
	c->max_pdu = 65535;
	c->reassembly = 1u << 20;
	c->event_queue = 10000;
	c->broker_stale_after = 120;
}

int
gwconf_parse_url(const char *url, char *host, size_t hostlen, uint16_t *port)
{
	char hp[GWCONF_HOST_MAX + 16];
	const char *p;
	size_t n;

	host[0] = '\0';
	*port = 0;
	if (strncmp(url, "https://", 8) != 0)
		return VDI_ERR_INVALID_ARG;
	p = url + 8;
	n = strcspn(p, "/");
	if (n == 0 || n >= sizeof(hp) || (p[n] == '/' && p[n + 1] != '\0'))
		return VDI_ERR_INVALID_ARG;
	memcpy(hp, p, n);
	hp[n] = '\0';
	if (strchr(hp, ':') == NULL || (hp[0] == '[' && hp[n - 1] == ']')) {
		/* no port: 443 */
		if (hp[0] == '[') {
			if (n - 2 >= hostlen || n < 3)
				return VDI_ERR_INVALID_ARG;
			memcpy(host, hp + 1, n - 2);
			host[n - 2] = '\0';
		} else {
			if (n >= hostlen)
				return VDI_ERR_INVALID_ARG;
			memcpy(host, hp, n + 1);
		}
		*port = 443;
		return 0;
	}
	if (cfg_parse_hostport(hp, host, hostlen, port) != 0 || *port == 0 ||
	    host[0] == '\0' || strcmp(host, "*") == 0) {
		host[0] = '\0';
		*port = 0;
		return VDI_ERR_INVALID_ARG;
	}
	return 0;
}

/* broker.public_key: one path or a list of paths. */
static void
get_keys(struct cfg *c, const config_setting_t *g, struct gwconf *gc)
{
	const config_setting_t *s = config_setting_get_member(g, "public_key");
	const config_setting_t *e;
	const char *v;
	unsigned int i, n;
	size_t len;

	if (s == NULL) {
		cfg_error(c, g, "public_key",
		    "missing (the broker's Ed25519 "
		    "public key, PEM; a list for "
		    "rotation)");
		return;
	}
	if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		cfg_get_path(c, g, "public_key", 1, gc->broker_keys[0],
		    sizeof(gc->broker_keys[0]));
		gc->nbroker_keys = 1;
		return;
	}
	if (!config_setting_is_array(s) && !config_setting_is_list(s)) {
		cfg_error(c, s, NULL, "expected a path or a list of paths");
		return;
	}
	n = (unsigned int)config_setting_length(s);
	if (n == 0 || n > GWCONF_KEYS_MAX) {
		cfg_error(c, s, NULL, "expected 1..%d paths", GWCONF_KEYS_MAX);
		return;
	}
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(s, i);
		if (config_setting_type(e) != CONFIG_TYPE_STRING ||
		    (v = config_setting_get_string(e)) == NULL ||
		    v[0] == '\0') {
			cfg_error(c, e, NULL, "expected a path");
			continue;
		}
		if (v[0] == '/')
			len =
			    (size_t)snprintf(gc->broker_keys[gc->nbroker_keys],
				GWCONF_PATH_MAX, "%s", v);
		else
			len =
			    (size_t)snprintf(gc->broker_keys[gc->nbroker_keys],
				GWCONF_PATH_MAX, "%s/%s", c->dir, v);
		if (len >= GWCONF_PATH_MAX) {
			cfg_error(c, e, NULL, "path too long");
			continue;
		}
		gc->nbroker_keys++;
	}
}

static void
get_bytes(struct cfg *c, const config_setting_t *g, const char *key, int64_t lo,
    int64_t hi, unsigned int *out)
{
	int64_t v;

	if (cfg_get_int(c, g, key, 0, lo, hi, &v) == 1)
		*out = (unsigned int)v;
}

int
gwconf_load(const char *path, struct gwconf *gc, char **errors)
{
	static const char *const top[] = { "listen", "metrics_listen",
		"threads", "user", "group", "tls", "policy", "broker",
		"desktop_ca", "seal_key", "inner_rdp", "limits", NULL };
	static const char *const broker_keys[] = { "url", "ca", "crl",
		"public_key", "issuer", "audience", "event_queue",
		"stale_after", NULL };
	static const char *const limit_keys[] = { "handshake_timeout",
		"clock_skew", "max_sessions", "max_handshakes",
		"max_handshakes_per_source", "max_pdu", "reassembly", NULL };
	const config_setting_t *root, *g;
	struct cfg c;
	const char *s;
	int64_t v;

	*errors = NULL;
	gwconf_defaults(gc);
	if ((root = cfg_open_root(&c, path, top)) == NULL)
		goto out;

	cfg_get_hostport(&c, NULL, "listen", 0, gc->listen_host,
	    sizeof(gc->listen_host), &gc->listen_port);
	if (cfg_get_hostport(&c, NULL, "metrics_listen", 0, gc->metrics_host,
		sizeof(gc->metrics_host), &gc->metrics_port) == 1)
		gc->metrics_enabled = 1;
	if (cfg_get_int(&c, NULL, "threads", 0, 0, GWCONF_THREADS_MAX, &v) == 1)
		gc->threads = (unsigned int)v;
	cfg_get_strbuf(&c, NULL, "user", 0, gc->user, sizeof(gc->user));
	cfg_get_strbuf(&c, NULL, "group", 0, gc->group, sizeof(gc->group));
	if (gc->group[0] != '\0' && gc->user[0] == '\0')
		cfg_error(&c, config_setting_get_member(root, "group"), NULL,
		    "group without user (set both)");
	cfg_get_path(&c, NULL, "policy", 1, gc->policy, sizeof(gc->policy));
	cfg_get_path(
	    &c, NULL, "desktop_ca", 0, gc->desktop_ca, sizeof(gc->desktop_ca));
	cfg_get_path(
	    &c, NULL, "seal_key", 0, gc->seal_key, sizeof(gc->seal_key));

	cfg_get_pem_pair(&c, NULL, "tls", 1, gc->tls_cert, sizeof(gc->tls_cert),
	    gc->tls_key, sizeof(gc->tls_key));
	cfg_get_pem_pair(&c, NULL, "inner_rdp", 1, gc->inner_cert,
	    sizeof(gc->inner_cert), gc->inner_key, sizeof(gc->inner_key));
	if ((g = cfg_group(&c, NULL, "broker", 1)) != NULL) {
		cfg_check_keys(&c, g, broker_keys);
		if (cfg_get_string(&c, g, "url", 1, &s) == 1) {
			snprintf(
			    gc->broker_url, sizeof(gc->broker_url), "%s", s);
			if (strlen(s) >= sizeof(gc->broker_url) ||
			    gwconf_parse_url(s, gc->broker_host,
				sizeof(gc->broker_host), &gc->broker_port) != 0)
				cfg_error(&c,
				    config_setting_get_member(g, "url"), NULL,
				    "expected \"https://host:port\"");
		}
		cfg_get_path(
		    &c, g, "ca", 1, gc->broker_ca, sizeof(gc->broker_ca));
		cfg_get_path(
		    &c, g, "crl", 0, gc->broker_crl, sizeof(gc->broker_crl));
		get_keys(&c, g, gc);
		cfg_get_strbuf(
		    &c, g, "issuer", 0, gc->issuer, sizeof(gc->issuer));
		cfg_get_strbuf(
		    &c, g, "audience", 0, gc->audience, sizeof(gc->audience));
		get_bytes(&c, g, "event_queue", 10, 1000000, &gc->event_queue);
		cfg_get_duration(
		    &c, g, "stale_after", 0, 0, 86400, &gc->broker_stale_after);
	}
	if ((g = cfg_group(&c, NULL, "limits", 0)) != NULL) {
		cfg_check_keys(&c, g, limit_keys);
		cfg_get_duration(&c, g, "handshake_timeout", 0, 1, 300,
		    &gc->handshake_timeout);
		cfg_get_duration(
		    &c, g, "clock_skew", 0, 0, 3600, &gc->clock_skew);
		get_bytes(&c, g, "max_sessions", 1, 1000000, &gc->max_sessions);
		get_bytes(&c, g, "max_handshakes", 1, SRCLIMIT_TOTAL_MAX,
		    &gc->max_handshakes);
		get_bytes(&c, g, "max_handshakes_per_source", 1,
		    SRCLIMIT_TOTAL_MAX, &gc->max_handshakes_per_source);
		if (gc->max_handshakes_per_source > gc->max_handshakes &&
		    config_setting_get_member(g, "max_handshakes_per_source") ==
			NULL)
			gc->max_handshakes_per_source = gc->max_handshakes;
		else if (gc->max_handshakes_per_source > gc->max_handshakes)
			cfg_error(&c, g, "max_handshakes_per_source",
			    "%u is above max_handshakes (%u)",
			    gc->max_handshakes_per_source, gc->max_handshakes);
		get_bytes(&c, g, "max_pdu", 1024, 65535, &gc->max_pdu);
		get_bytes(
		    &c, g, "reassembly", 16384, 16 << 20, &gc->reassembly);
	}
out:
	return cfg_close(&c, errors);
}
