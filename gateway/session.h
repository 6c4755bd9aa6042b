/*
 * session.h: one tunnel's state. The fields of struct session that one
 * module owns are grouped in a struct of that module (struct
 * session_admission and struct session_sso: admission.c; struct
 * session_desktop: desktop.c; struct session_reg: registry.c), which only
 * that module writes; the others read them or use the functions below.
 * Everything here is touched only on the session's worker thread, except
 * struct session_reg (registry lock).
 */
#ifndef VDI_GATEWAY_SESSION_H
#define VDI_GATEWAY_SESSION_H

#include <stdint.h>

#include <event2/bufferevent.h>
#include <event2/event.h>

#include "cidr.h"
#include "gateway.h"
#include "relay.h"
#include "sessfsm.h"

struct leg;

enum desktop_state {
	DS_NONE = 0,
	DS_TCP,
	DS_CC,
	DS_TLS,
	DS_READY,
};

/* admission.c: the accepted token (other modules read it once has_tok is
 * set) and the session's place among max_sessions. */
struct session_admission {
	struct gw_token tok;
	int has_tok;
	int admitted;
};

/* desktop.c: the desktop leg's own state. */
struct session_desktop {
	enum desktop_state state;
	const struct desktop_security *sec; /* what the leg speaks */
	uint8_t cc_flags;                   /* the desktop's X.224 CC */
	uint32_t selected;                  /* ... and the protocol it chose */
};

/* admission.c: single sign-on, opened from tok.cred, wiped at close. */
struct session_sso {
	int has;
	char user[256];
	char pass[512];
	struct rdp_info_creds creds;
};

/* Longest reason a cut gives a session (registry.c). */
#define SESSION_KILL_REASON_MAX 96

/* registry.c (under its lock), from token acceptance to free. */
struct session_reg {
	struct session *next, *prev;
	int registered;
	char kill_reason[SESSION_KILL_REASON_MAX];
};

struct session {
	struct gw *gw;
	struct gw_worker *w;
	const struct front_protocol *front; /* front.c: the request's */
	uint64_t id;
	char peer[64];
	enum session_state state;

	struct bufferevent *cli;   /* front TLS (outer) */
	struct bufferevent *cin;   /* RDP-level TLS over cli (after CC) */
	struct bufferevent *desk;  /* desktop: TCP, then TLS over it */
	struct leg *lc, *ld;       /* the client and desktop legs once relaying
				    * (pump.c; the bufferevents are gone then) */
	struct session_desktop dl; /* desktop.c */
	struct event *timer;       /* handshake timeout, then idle */
	struct event *kill;        /* activated by other threads */
	struct event *reap;        /* frees the session (session_reap) */
	int reaping;

	unsigned char x5t[32];
	char device[VDI_TLS_THUMBPRINT_HEX_SIZE];
	char tenant[128];
	struct session_admission adm; /* admission.c */
	/* Pre-authentication limits: the handshake slot the listener took
	 * (until the token is accepted), then a place among max_sessions. */
	int hs_held;
	struct vdi_addr hs_src;

	uint32_t client_requested;

	struct relay relay;
	int relay_init;
	size_t rec_reported;

	struct session_sso sso; /* admission.c */

	time_t started; /* token accepted (for the log) */
	time_t last_input;
	uint64_t bytes_c2s, bytes_s2c;

	struct session_reg reg; /* registry.c */
};

/* ---- session.c: the owner, for every role -------------------------------- */

/* Moves s on with ev (sessfsm.h). An event its state does not take
 * closes s and returns -1. */
int session_advance(struct session *s, enum session_event ev);
/* Ends s with reason: a started tunnel is logged (tunnel_end) and
 * reported to the broker. s stays valid until its deferred free; nothing
 * of it runs after the callback that closed it returns. */
void session_close(struct session *s, const char *reason);
/* A session in SS_CLOSING whose answer is flushed: free it (deferred). */
void session_reap(struct session *s);
/* (Re)arms the session's one timer. */
void session_arm_timer(struct session *s, unsigned int seconds);
/* Gives back the handshake slot (the token is accepted). */
void session_handshake_done(struct session *s);
/* Logs the channel records not reported yet (refused ones to the broker). */
void session_report_channels(struct session *s);
/* client.c: the RDP-level TLS with the client is up: relay. */
void session_relay_start(struct session *s);
/* desktop.c: the desktop leg is up, or failed. */
void session_desktop_ready(struct session *s);
void session_desktop_failed(
    struct session *s, enum vdi_reason why, const char *detail);

/* ---- front.c: the front door --------------------------------------------- */

struct front_protocol;
/* Starts the front TLS handshake and reads the front request. */
void front_start(struct session *s);
/* Answers the front request: the tunnel is open, RDP follows. */
int front_accept(struct session *s);
/* Refuses the front request (before front_accept): answers status with
 * {"error": code, "message": message}, logs it with detail, counts why
 * and closes once the answer is flushed. */
void front_refuse(struct session *s, enum vdi_reason why, int status,
    const char *code, const char *message, const char *detail);

/* ---- admission.c: the token and admission step --------------------------- */

/* Checks the front request's token and admits s (then the desktop leg
 * starts), or refuses it. token points into the request. */
void admission_run(struct session *s, const char *token, size_t token_len);

/* The single sign-on credentials to inject, NULL when there are none. */
const struct rdp_info_creds *admission_creds(const struct session *s);
/* Wipes them (at close). */
void admission_wipe_creds(struct session *s);

/* ---- registry.c: the tunnels from admission on ------------------------- */

/* Copies the reason a cut gave s ("" when none) into out (len bytes). */
void registry_kill_reason(
    struct registry *reg, const struct session *s, char *out, size_t len);

/* ---- client.c: the client's RDP leg -------------------------------------- */

/* Reads the client's X.224 CR (when whole) and starts the RDP-level TLS. */
void client_x224_read(struct session *s);

/* ---- desktop.c: the desktop leg (desktop_connect is in gateway.h) ------- */

struct desktop_security;
/* The security the desktop leg speaks for s's token, NULL when this
 * gateway speaks none that fits (the token asks for NLA). */
const struct desktop_security *desktop_security(const struct session *s);

#endif
