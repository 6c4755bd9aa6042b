/*
 * session.h: one tunnel's state, shared by session.c (client leg), pump.c
 * (relay loop), desktop.c (desktop leg) and registry.c (cuts). Everything here
 * is touched only on the session's worker thread, except the registry links and
 * kill_reason (registry lock).
 */
#ifndef VDI_GATEWAY_SESSION_H
#define VDI_GATEWAY_SESSION_H

#include <stdint.h>

#include <event2/bufferevent.h>
#include <event2/event.h>

#include "cidr.h"
#include "gateway.h"
#include "relay.h"

struct leg;

enum session_state {
	SS_TLS = 0,    /* front TLS handshake */
	SS_UPGRADE,    /* reading the Upgrade request */
	SS_DESKTOP,    /* token good: connecting the desktop */
	SS_CLIENT_CR,  /* 101 sent: waiting for the client's X.224 CR */
	SS_CLIENT_TLS, /* CC sent: RDP-level TLS with the client */
	SS_RELAY,      /* relaying PDUs */
	SS_CLOSING,    /* flushing an answer, then free */
};

enum desktop_state {
	DS_NONE = 0,
	DS_TCP,
	DS_CC,
	DS_TLS,
	DS_READY,
};

struct session {
	struct gw *gw;
	struct gw_worker *w;
	uint64_t id;
	char peer[64];
	enum session_state state;

	struct bufferevent *cli;  /* front TLS (outer) */
	struct bufferevent *cin;  /* RDP-level TLS over cli (after CC) */
	struct bufferevent *desk; /* desktop: TCP, then TLS over it */
	struct leg *lc, *ld;      /* the client and desktop legs once relaying
				   * (pump.c; the bufferevents are gone then) */
	enum desktop_state ds;
	struct event *timer; /* handshake timeout, then idle */
	struct event *kill;  /* activated by other threads */

	unsigned char x5t[32];
	char device[VDI_TLS_THUMBPRINT_HEX_SIZE];
	char tenant[128];
	struct gw_token tok;
	int has_tok;
	/* Pre-authentication limits: the handshake slot the listener took
	 * (until the token is accepted), then a place among max_sessions. */
	int hs_held;
	struct vdi_addr hs_src;
	int admitted;

	uint32_t client_requested;
	uint8_t desk_flags;
	uint32_t desk_selected;

	struct relay relay;
	int relay_init;
	struct vbuf *fwd, *back;
	size_t rec_reported;

	/* Single sign-on: opened from tok.cred, wiped at close. */
	int has_creds;
	char cred_user[256];
	char cred_pass[512];
	struct rdp_info_creds creds;

	time_t started; /* token accepted (for the log) */
	time_t last_input;
	uint64_t bytes_c2s, bytes_s2c;

	/* registry (under its lock), from token acceptance to free */
	struct session *reg_next, *reg_prev;
	int registered;
	char kill_reason[96];
};

/* pump.c -> session.c: closes a started tunnel with reason (logged,
 * sent to the broker); logs the channel records not reported yet. */
void session_close(struct session *s, const char *reason);
void session_report_channels(struct session *s);

/* desktop.c -> session.c */
void session_desktop_ready(struct session *s);
void session_desktop_failed(
    struct session *s, enum gw_refusal why, const char *detail);

#endif
