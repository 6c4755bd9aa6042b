/*
 * gateway.h: vdi-gatewayd's shared state and the interfaces between its
 * modules:
 *
 *   gatewayd.c    main: options, start-up order, signals, privilege drop
 *   gwload.c      policy TLS, inner and desktop contexts, broker keys
 *   gwlisten.c    the listener (limits, back-off) and the worker threads
 *   sessfsm.c     a session's states and the one step function (pure)
 *   session.c     a session's owner: creates, advances and frees it, joins
 *                 the legs, its timer and kill event (session.h)
 *   front.c       front TLS, the front request (protocols[]), 101, refusals
 *   admission.c   token, replay, dst in policy, limits, cuts, credentials
 *   desktop.c     the desktop leg: TCP, X.224, its security (securities[])
 *   client.c      the client's X.224 and the RDP-level TLS in the tunnel
 *   pump.c        the relay pump: PDUs between the two legs (pump.h)
 *   relay.c       the pure relay engine (relay.h)
 *   registry.c    tunnels from token acceptance on, one per sid once
 *                 started, and the broker's cuts (cutset.c) they are
 *                 checked against
 *   brokerlink.c  events to the broker and its commands (libcurl threads)
 *   gwmetrics.c   counters and the Prometheus page
 *
 * Threads: the main thread runs the listener, signals, metrics and hands
 * each accepted connection to one of the worker threads (event loops); a
 * session lives on its worker's loop from accept to close. The replay
 * cache, the registry and the broker queue are shared under mutexes;
 * counters are atomics. Other threads reach a session only through its
 * kill event (event_active under the registry lock).
 */
#ifndef VDI_GATEWAY_GATEWAY_H
#define VDI_GATEWAY_GATEWAY_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include <event2/event.h>
#include <openssl/ssl.h>

#include "gwconf.h"
#include "gwtoken.h"
#include "jws.h"
#include "replay.h"
#include "seal.h"
#include "tls.h"

struct session;
struct srclimit;
struct vdi_addr;
struct brokerlink;
struct policy_trust;
struct evdns_base;
struct vbuf;

struct gw_worker {
	struct gw *gw;
	unsigned int index;
	struct event_base *base;
	struct evdns_base *dns;
	pthread_t thread;
	/* The relay's output for the PDU being judged (relay_result fwd and
	 * back), shared by the worker's sessions: a worker judges one PDU at
	 * a time and pump() copies the output out before the next, so an
	 * idle session holds no output buffer of its own. */
	struct vbuf *relay_fwd, *relay_back;
};

/* The refusal reasons the gateway counts (vdierr.h's table), in the order
 * /metrics lists them; a refusal is counted under its reason. */
#define GW_REFUSAL_REASONS 21
extern const enum vdi_reason gw_refusal_reasons[GW_REFUSAL_REASONS];

struct gw_metrics {
	uint64_t accepted;
	uint64_t sessions_started;
	uint64_t sessions_active;            /* gauge: relaying */
	uint64_t connections_active;         /* gauge: every open connection */
	uint64_t refusals[VDI_REASON_COUNT]; /* by enum vdi_reason */
	uint64_t closes_protocol;            /* relay closed on a verdict */
	uint64_t closes_idle;
	uint64_t closes_max_session; /* the session's deadline came */
	uint64_t closes_cut;
	uint64_t channels_refused;
	uint64_t bytes_c2s, bytes_s2c;
	uint64_t broker_events_sent, broker_events_dropped;
	uint64_t broker_cuts;
	/* pre-authentication limits (gwlisten.c, admission.c) */
	uint64_t handshakes_active; /* gauge: accepted, token not yet good */
	uint64_t sessions_admitted; /* gauge: token accepted, not closed */
	uint64_t handshakes_refused_source; /* over max_handshakes_per_source */
	uint64_t handshakes_refused_total;  /* over max_handshakes */
	uint64_t accept_backoffs;           /* accept() failed: paused */
};

struct gw {
	struct gwconf conf;
	const char *conf_path;

	/* TLS: the front (tenant CAs, reloadable), the RDP-level server
	 * inside the tunnel, the desktop legs (pinned / CA-verified). */
	struct vdi_tls *front;
	SSL_CTX *inner_ctx;
	SSL_CTX *desk_pin_ctx;
	SSL_CTX *desk_ca_ctx; /* NULL without desktop_ca */
	size_t ntenants;

	/* The policy's trust view (policies/trust.h) of the last (re)load:
	 * tokens' dst must be one of its desktops of the token's tenant.
	 * Replaced on SIGHUP; readers take a reference under policy_lock. */
	pthread_mutex_t policy_lock;
	struct policy_trust *trust;

	struct jws_key *keys[GWCONF_KEYS_MAX];
	size_t nkeys;
	int have_seal; /* the key process holds a seal key (keyproc.h) */

	struct replay *replay; /* replay.c: used jti, its own lock */

	struct gw_worker *workers;
	unsigned int nworkers, next_worker;
	struct event_base *main_base;

	/* Connections still in their handshake, per source address (the
	 * listener takes a slot at accept, the session gives it back when
	 * its token is accepted or it closes). */
	pthread_mutex_t hs_lock;
	struct srclimit *hs;

	struct registry *reg; /* registry.c: tunnels and held cuts */
	struct brokerlink *bl;
	struct gw_metrics m;
	uint64_t next_session_id;
	/* The last SIGHUP's policy was refused (main thread; /healthz). */
	int policy_reload_failed;
};

/* Atomic counter helpers. */
#define GW_INC(p)    __atomic_add_fetch((p), 1, __ATOMIC_RELAXED)
#define GW_DEC(p)    __atomic_sub_fetch((p), 1, __ATOMIC_RELAXED)
#define GW_ADD(p, n) __atomic_add_fetch((p), (n), __ATOMIC_RELAXED)
#define GW_GET(p)    __atomic_load_n((p), __ATOMIC_RELAXED)

/* ---- gwload.c ---------------------------------------------------------- */

/* Loads the policy's TLS (front context), the inner and desktop contexts
 * and the broker's keys (start-up, -t). Returns 0 or an error, err set. */
int gw_load(struct gw *gw, char *err, size_t errlen) VDI_WUR;
/* Re-reads the policy's CAs and CRLs into a new front context (SIGHUP);
 * on failure the previous one stays. */
int gw_load_policy_tls(struct gw *gw, char *err, size_t errlen) VDI_WUR;

/* ---- gwlisten.c ------------------------------------------------------- */

/* Binds the tunnel listener (main thread). Returns 0 or an error. */
int gw_listen(struct gw *gw, char *err, size_t errlen) VDI_WUR;
/* The bound port, or -1. */
int gw_listen_port(void);
/* Stops accepting for good (shutdown). */
void gw_listen_stop(void);
void gw_listen_close(void);
/* Warns when the limits do not fit RLIMIT_NOFILE. */
void gw_nofile_check(const struct gw *gw);
/* The worker loops: created, started (threads), told to stop, joined,
 * freed. */
int gw_workers_new(struct gw *gw) VDI_WUR;
int gw_workers_start(struct gw *gw) VDI_WUR;
void gw_workers_stop(struct gw *gw);
void gw_workers_join(struct gw *gw);
void gw_workers_free(struct gw *gw);
/* Gives back the handshake slot the listener took for a connection from
 * src (any thread). */
void gw_handshake_release(struct gw *gw, const struct vdi_addr *src);

/* ---- session.c ------------------------------------------------------- */

/* Starts a session for an accepted socket on worker w (its thread).
 * Takes fd (closed on failure) and the handshake slot taken for sa (given
 * back with gw_handshake_release() once the token is accepted, or when
 * the session ends before). */
void session_accept(struct gw_worker *w, evutil_socket_t fd,
    const struct sockaddr *sa, int salen);

/* Runs on the session's thread after a kill (registry). */
void session_killed(struct session *s, const char *reason);

/* ---- desktop.c -------------------------------------------------------- */

/* Connects the desktop leg of s (token in s). Calls session_desktop_ready()
 * or session_desktop_failed() on s's thread. */
int desktop_connect(struct session *s);

/* ---- registry.c ------------------------------------------------------- */

struct cut;
struct registry;

/* The registry of tunnels and held cuts (hold: seconds a cut is kept, see
 * cutset.h), owned by struct gw (gw->reg). NULL when out of memory. */
struct registry *registry_new(int64_t hold);
void registry_free(struct registry *reg);
/* Registers a tunnel whose token was just accepted, unless a held cut
 * refuses it: then VDI_ERR_DENIED with "cut:REASON" in why. Checking and
 * registering are one step under the registry lock, so a cut either
 * refuses the tunnel here or finds it registered (registry_cut). */
int registry_admit(struct registry *reg, struct session *s, int64_t now,
    char *why, size_t whylen) VDI_WUR;
/* Right before the 101: VDI_ERR_DENIED (why set) when s was told to close
 * or a held cut refuses it; else kills the other tunnels of the same sid
 * on this gateway ("replaced") and returns 0. */
int registry_start(struct registry *reg, struct session *s, int64_t now,
    char *why, size_t whylen) VDI_WUR;
/* Removes s (no-op when absent). Call before freeing s's kill event. */
void registry_remove(struct registry *reg, struct session *s);
/* Applies a broker cut: holds it (*held: cutset_add's result) and tells
 * every registered tunnel it matches to close. Returns how many. */
unsigned int registry_cut(
    struct registry *reg, const struct cut *c, int64_t now, int *held);
/* Cuts held now (metrics). */
size_t registry_cuts_held(struct registry *reg, int64_t now);
/* Applies a broker cut of the one tunnel of session sid that token jti
 * opened (a token used on another gateway first). Returns how many tunnels
 * were told to close (0 or 1). */
unsigned int registry_cut_jti(
    struct registry *reg, const char *sid, const char *jti, const char *reason);
/* Closes every tunnel (shutdown). */
unsigned int registry_cut_all(struct registry *reg, const char *reason);

/* ---- brokerlink.c ----------------------------------------------------- */

int brokerlink_start(struct gw *gw, char *err, size_t errlen) VDI_WUR;
void brokerlink_stop(struct gw *gw);
/* Queues an event (thread-safe). Strings may be NULL. */
void brokerlink_event(struct gw *gw, const char *type, const char *sid,
    const char *jti, const char *reason, const char *channel, uint64_t bytes_in,
    uint64_t bytes_out);
/* Events waiting (for metrics). */
size_t brokerlink_queued(struct gw *gw);

/* A relayed leg whose peer closes TCP without TLS close_notify (a tablet
 * switched off, a desktop logging off) has closed, not failed: OpenSSL 3
 * would report "unexpected eof" as an error, libevent then BEV_EVENT_ERROR
 * and the tunnel's end reason client_error / desktop_error. A truncated
 * stream only ends a tunnel, so nothing is lost by calling it a close. */
static inline void
gw_ssl_eof_is_close(SSL *ssl)
{
#ifdef SSL_OP_IGNORE_UNEXPECTED_EOF
	SSL_set_options(ssl, SSL_OP_IGNORE_UNEXPECTED_EOF);
#endif
}
/* The command poll: returns 1 while its last answer was good, else 0;
 * *since_ok is the seconds since the last good answer (-1: none yet),
 * *down_for the seconds since it went down (0 while up). */
int brokerlink_state(struct gw *gw, int64_t *since_ok, int64_t *down_for);
/* 1 when the poll has been down for broker_stale_after seconds or more:
 * the gateway cannot hear cuts, so it refuses new tunnels
 * (VDI_REASON_BROKER_UNREACHABLE). Never with broker_stale_after = 0. */
int brokerlink_stale(struct gw *gw);

/* ---- gwmetrics.c ------------------------------------------------------- */

/* The gateway's counters and gauges (struct gw_metrics): every module
 * counts through these, only gwmetrics.c reads the fields. Thread-safe
 * (atomics). */
enum gw_metric {
	GWM_ACCEPTED,
	GWM_SESSIONS_STARTED,
	GWM_SESSIONS_ACTIVE,
	GWM_CONNECTIONS_ACTIVE,
	GWM_CLOSES_PROTOCOL,
	GWM_CLOSES_IDLE,
	GWM_CLOSES_MAX_SESSION,
	GWM_CLOSES_CUT,
	GWM_CHANNELS_REFUSED,
	GWM_BYTES_C2S,
	GWM_BYTES_S2C,
	GWM_BROKER_EVENTS_SENT,
	GWM_BROKER_EVENTS_DROPPED,
	GWM_BROKER_CUTS,
	GWM_HANDSHAKES_ACTIVE,
	GWM_SESSIONS_ADMITTED,
	GWM_HANDSHAKES_REFUSED_SOURCE,
	GWM_HANDSHAKES_REFUSED_TOTAL,
	GWM_ACCEPT_BACKOFFS,
	GWM_COUNT,
};
/* Adds delta (1, -1, a byte count) to c; returns the new value. */
uint64_t gwm_add(struct gw *gw, enum gw_metric c, int64_t delta);
uint64_t gwm_get(struct gw *gw, enum gw_metric c);
/* Counts a refused tunnel. */
void gwm_refusal(struct gw *gw, enum vdi_reason why);

struct evbuffer;
void gw_metrics_render(struct gw *gw, struct evbuffer *out);
int gw_metrics_start(struct gw *gw, char *err, size_t errlen) VDI_WUR;
void gw_metrics_stop(void);

#endif
