/*
 * bconf.h: vdi-brokerd's own configuration (vdi-brokerd.conf(5)).
 */
#ifndef VDI_BROKER_BCONF_H
#define VDI_BROKER_BCONF_H

#include <stddef.h>
#include <stdint.h>

#include "ratelimit.h"
#include "vdierr.h"

#define BCONF_PATH_MAX     1024
#define BCONF_HOST_MAX     256
#define BCONF_NAME_MAX     64
#define BCONF_GATEWAYS_MAX 32

struct bconf_gateway {
	char name[BCONF_NAME_MAX];        /* CN of the gateway's client cert */
	char address[BCONF_HOST_MAX + 8]; /* host:port handed to clients */
};

struct bconf {
	char listen_host[BCONF_HOST_MAX];
	uint16_t listen_port;
	int metrics_enabled;
	char metrics_host[BCONF_HOST_MAX];
	uint16_t metrics_port;
	char admin_socket[BCONF_PATH_MAX];
	char admin_group[BCONF_NAME_MAX]; /* "" = root only */
	char user[BCONF_NAME_MAX];        /* worker's user when run as root */
	char group[BCONF_NAME_MAX];
	char policy[BCONF_PATH_MAX];
	char store[BCONF_PATH_MAX];
	char tls_cert[BCONF_PATH_MAX];
	char tls_key[BCONF_PATH_MAX];
	char gateway_ca[BCONF_PATH_MAX];
	char gateway_crl[BCONF_PATH_MAX];
	size_t ngateways;
	struct bconf_gateway gateways[BCONF_GATEWAYS_MAX];
	char token_key[BCONF_PATH_MAX];
	char seal_key[BCONF_PATH_MAX]; /* "" = no single sign-on */
	char issuer[BCONF_NAME_MAX];
	char audience[BCONF_NAME_MAX];
	unsigned int token_lifetime;
	unsigned int health_interval;
	unsigned int health_timeout;
	/* seconds between session sweeps */
	unsigned int sweep_interval;
	/* retention, pruned by the sweep (0: kept for ever): ended sessions
	 * this long after they ended, reconnect tickets and gateway token uses
	 * this long after they expired */
	unsigned int keep_ended_sessions;
	unsigned int keep_tickets;
	unsigned int login_timeout; /* PAM conversation, seconds */
	struct rl_config user_limits;
	struct rl_config device_limits;
	unsigned int max_body;              /* bytes of an HTTP request body */
	unsigned int max_logins;            /* PAM conversations at once */
	unsigned int max_logins_per_device; /* ... for one device certificate */
	unsigned int max_logins_per_user;   /* ... for one tenant/user name */
	/* The HTTPS front (limits = { ... }): open connections in all (0:
	 * derived from RLIMIT_NOFILE at start) and from one source address,
	 * and the seconds a request has to arrive whole (TLS handshake
	 * included for the first one), however slowly its bytes come. */
	unsigned int max_connections;
	unsigned int max_connections_per_source;
	unsigned int request_timeout;
	/* Members act on every tenant through the admin socket ("" = root
	 * only); other admin_group members act on the tenants whose policy
	 * admins/admin_groups name them. */
	char operators_group[BCONF_NAME_MAX];
};

/* Loads path into *out (defaults for what the file leaves out). Returns 0,
 * or VDI_ERR_CONFIG with every problem in *errors (one "FILE:LINE: KEY:
 * problem" per line; the caller frees it). */
int bconf_load(const char *path, struct bconf *out, char **errors) VDI_WUR;

#endif
