/*
 * broker.h: the state of one vdi-brokerd worker process, shared by its
 * modules (HTTP front, device API, gateway API, health, admin, metrics).
 * Everything runs on one libevent loop; nothing here is locked.
 */
#ifndef VDI_BROKER_BROKER_H
#define VDI_BROKER_BROKER_H

#include <stdint.h>

#include <event2/event.h>
#include <event2/http.h>
#include <jansson.h>
#include <openssl/ssl.h>

#include "bconf.h"
#include "metrics.h"
#include "policy.h"
#include "policy_files.h"
#include "ratelimit.h"
#include "store.h"
#include "tls.h"

struct privsep;
struct login_table;
struct health;
struct admin;
struct gwq;

struct broker {
	struct bconf conf;
	const char *conf_path;
	struct event_base *base;
	struct evhttp *http;
	struct evhttp *metrics_http;
	struct vdi_tls *tls;   /* device + gateway front (mTLS) */
	struct policy *policy; /* current; sessions keep their own ref */
	int reload_failed;     /* the last reload was refused (/healthz) */
	int stopping;          /* a stop signal came (STOPPING=1 sent) */
	struct store *store;
	struct privsep *ps; /* monitor: PAM, signing, sealing */
	struct ratelimit *rl_user;
	struct ratelimit *rl_device;
	struct login_table *logins;
	struct health *health;
	struct admin *admin;
	struct gwq *gwq; /* commands queued for gateways */
	/* ends sessions whose time is up (sweep.c) */
	struct event *sweep_ev;
	unsigned int next_gateway; /* round robin */
	uint16_t bound_port;       /* actual port after listen (port 0) */
	/* Tenant modes set at run time (vdictl policy mode): tenant -> mode,
	 * kept in the store's settings so they survive a restart. */
	json_t *modes;
};

/* The identity of a TLS peer on the device/gateway front. */
struct broker_peer {
	SSL *ssl;
	X509 *cert;
	char thumb_hex[VDI_TLS_THUMBPRINT_HEX_SIZE];
	char thumb_b64[VDI_TLS_THUMBPRINT_B64_SIZE];
	char subject[256];
	char ca_name[128]; /* tenant name, or "gateways" */
	char addr[64];     /* source address, text */
	struct vdi_addr from;
	int have_from;
};

/* Current Unix time. */
int64_t broker_now(void);

/* Rebuilds the TLS front's trust (tenant CAs and CRLs from the policy, plus
 * the gateway CA) and swaps it in; live connections keep the old one. */
int broker_tls_configure(
    struct broker *b, const struct policy *p, char *err, size_t errlen) VDI_WUR;

/* Loads the policy file again and, when valid, makes it current (then
 * reconfigures TLS). On failure the old policy stays. errors: caller frees. */
int broker_reload(struct broker *b, char **errors) VDI_WUR;

/* Logs what the policy loads with but will not work (policy_warnings). */
void broker_policy_warnings(const struct policy *p);

/* The mode set for tenant at run time, or NULL (the policy's own choice). */
const char *broker_tenant_mode(struct broker *b, const char *tenant);

/* Appends an audit row and logs it. Never fails the caller's request: a
 * store error is logged at error level (and returns the code). */
int broker_audit(struct broker *b, const char *actor, const char *action,
    const char *outcome, const char *tenant, const char *user,
    const char *device, const char *session, const char *reason,
    json_t *detail);

/* Logs a failed store write as event=store_write_failed with op (what was
 * written: "session_state", "ticket_expiry", ...), the session (or NULL)
 * and the error, so that no write failure goes unseen. Returns r. */
int broker_store_failed(const char *op, const char *session, int r);

/* Cuts every tunnel of a session on the gateways. end: also end the
 * session (logoff, kill, revoked device) instead of leaving it disconnected
 * for a reconnect. The tunnels are cut even when the session's new state
 * cannot be written: returns 0, or the store's error (logged). */
int broker_cut_session(
    struct broker *b, const char *session_id, const char *reason, int end);

/* Cuts every tunnel of a device (revoked) on the gateways, whatever its
 * session: also those of tokens issued before and not used yet. */
void broker_cut_device(
    struct broker *b, const char *thumbprint, const char *reason);

/* Cuts the tunnels of a session except the one whose token has keep_jti
 * (after a reconnect or a takeover). */
void broker_cut_session_except(struct broker *b, const char *session_id,
    const char *keep_jti, const char *reason);

/* Sets (mode non-NULL) or clears a tenant's run-time mode; persisted. */
int broker_set_tenant_mode(
    struct broker *b, const char *tenant, const char *mode) VDI_WUR;

#endif
