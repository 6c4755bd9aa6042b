/*
 * sessfsm.h: the life of a gateway session as a state machine, in one
 * place. session.c holds a session's state and moves it only through
 * session_fsm_step(); the table in sessfsm.c says which event moves which
 * state where. Pure (no sockets, no session): tests/unit/test_sessfsm.c
 * drives it.
 *
 *   FRONT_TLS --tls_accepted--> REQUEST --request--> ADMISSION
 *   ADMISSION --admitted--> DESKTOP --desktop_up--> CLIENT_X224
 *   CLIENT_X224 --client_cr--> CLIENT_TLS --client_tls--> RELAYING
 *   REQUEST, ADMISSION, DESKTOP --refuse--> CLOSING (an answer flushes)
 *   every state but CLOSING --close--> CLOSING
 *
 * A session in CLOSING is freed by its owner (session.c) from a deferred
 * event, never from the callback that closed it.
 */
#ifndef VDI_GATEWAY_SESSFSM_H
#define VDI_GATEWAY_SESSFSM_H

#include <stdint.h>

#include "vdierr.h"

/* Ordered: a state before SS_CLIENT_X224 has not answered the front
 * request yet (a refusal can still be answered there). */
enum session_state {
	SS_FRONT_TLS = 0, /* front TLS handshake (device certificate) */
	SS_REQUEST,       /* reading the front request (GET /v1/tunnel) */
	SS_ADMISSION,     /* token check, policy, max_sessions, registry */
	SS_DESKTOP,       /* admitted: the desktop leg connects (desktop.c) */
	SS_CLIENT_X224, /* front accepted: waiting for the client's X.224 CR */
	SS_CLIENT_TLS,  /* CC sent: RDP-level TLS with the client */
	SS_RELAYING,    /* relaying PDUs (pump.c) */
	SS_CLOSING,     /* flushing an answer or waiting to be freed */
	SS_COUNT,
};

enum session_event {
	SE_TLS_ACCEPTED = 0, /* front TLS done, the device certificate read */
	SE_REQUEST,          /* a whole front request for the tunnel */
	SE_ADMITTED,         /* token, policy and limits passed */
	SE_DESKTOP_UP,       /* desktop leg ready, the front request accepted */
	SE_CLIENT_CR,        /* the client's X.224 CR answered with a CC */
	SE_CLIENT_TLS,       /* RDP-level TLS with the client done */
	SE_REFUSE,           /* the front request refused with an answer */
	SE_CLOSE,            /* anything else that ends the session */
	SE_COUNT,
};

/* "front_tls", "request", ... (static storage; "?" out of range). */
const char *session_state_name(enum session_state st);
const char *session_event_name(enum session_event ev);

/* Where ev moves a session in state from: 0 with *to set, or
 * VDI_ERR_INVALID_ARG (*to untouched) when ev is not legal there. */
int session_fsm_next(enum session_state from, enum session_event ev,
    enum session_state *to) VDI_WUR;

/* The one function that moves a session: *st to where ev takes it,
 * logged at debug level ("session_state conn=... from=... to=...
 * event=..."). An illegal event leaves *st as it is, is logged as an
 * error and returns VDI_ERR_INVALID_ARG. */
int session_fsm_step(
    enum session_state *st, enum session_event ev, uint64_t conn) VDI_WUR;

#endif
