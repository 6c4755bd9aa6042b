/*
 * gwconf.h: vdi-gatewayd.conf (libconfig), read through common/cfgfile.h.
 *
 * Every problem is reported as "FILE:LINE: KEY: problem"; unknown keys are
 * errors. Relative paths resolve against the directory of the file. The
 * format is documented in vdi-gatewayd.conf(5).
 */
#ifndef VDI_GATEWAY_GWCONF_H
#define VDI_GATEWAY_GWCONF_H

#include <stddef.h>
#include <stdint.h>

#include "vdierr.h"

#define GWCONF_PATH_MAX    1024
#define GWCONF_HOST_MAX    256
#define GWCONF_NAME_MAX    64
#define GWCONF_KEYS_MAX    8
#define GWCONF_THREADS_MAX 64

struct gwconf {
	char listen_host[GWCONF_HOST_MAX];
	uint16_t listen_port; /* 0: any free port (tests) */
	int metrics_enabled;
	char metrics_host[GWCONF_HOST_MAX];
	uint16_t metrics_port;
	unsigned int threads;       /* event loops; 0: one per core */
	char user[GWCONF_NAME_MAX]; /* "" : stay who we are */
	char group[GWCONF_NAME_MAX];
	char tls_cert[GWCONF_PATH_MAX]; /* front server + broker client */
	char tls_key[GWCONF_PATH_MAX];
	char policy[GWCONF_PATH_MAX]; /* tenants' device CAs and CRLs */

	char broker_url[512]; /* https://host:port */
	char broker_host[GWCONF_HOST_MAX];
	uint16_t broker_port;
	char broker_ca[GWCONF_PATH_MAX];
	char broker_crl[GWCONF_PATH_MAX]; /* "" : none */
	char broker_keys[GWCONF_KEYS_MAX][GWCONF_PATH_MAX];
	size_t nbroker_keys;
	char issuer[GWCONF_HOST_MAX];
	char audience[GWCONF_HOST_MAX];

	char desktop_ca[GWCONF_PATH_MAX]; /* "" : only pinned desktops */
	char seal_key[GWCONF_PATH_MAX];   /* "" : no single sign-on */
	char inner_cert[GWCONF_PATH_MAX]; /* RDP-level TLS in the tunnel */
	char inner_key[GWCONF_PATH_MAX];

	unsigned int handshake_timeout; /* seconds: TLS + Upgrade + desktop */
	unsigned int clock_skew;        /* seconds */
	unsigned int max_sessions;      /* admitted tunnels (token accepted) */
	unsigned int max_handshakes;    /* connections before their token */
	unsigned int max_handshakes_per_source; /* ... from one address */
	unsigned int max_pdu;                   /* bytes, <= 65535 */
	unsigned int reassembly;                /* bytes per SVC message */
	unsigned int event_queue; /* broker events kept while it is down */
	/* seconds without a good broker poll after which new tunnels are
	 * refused (broker.stale_after; 0: never) */
	unsigned int broker_stale_after;
};

/* Fills c with the defaults (see vdi-gatewayd.conf(5)). */
void gwconf_defaults(struct gwconf *c);

/*
 * Reads path into c (defaults first). Returns 0, or VDI_ERR_CONFIG with
 * *errors set to every problem, one per line (free() it); *errors is NULL
 * on success.
 */
int gwconf_load(const char *path, struct gwconf *c, char **errors) VDI_WUR;

/* Splits "https://host:port[/]" into host and port (443 by default).
 * Returns 0 or VDI_ERR_INVALID_ARG. */
int gwconf_parse_url(
    const char *url, char *host, size_t hostlen, uint16_t *port) VDI_WUR;

#endif
