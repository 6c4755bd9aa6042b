/*
 * login.h: POST /v1/login, a PAM conversation in HTTP steps.
 *
 *   -> {"user": "alice"}
 *   <- 200 {"state": "prompt", "login_id": "...",
 *           "prompts": [{"style": "echo_off", "text": "Password: "}],
 *           "messages": [{"style": "info", "text": "..."}]}
 *   -> {"login_id": "...", "answers": ["secret"]}
 *   <- 200 {"state": "prompt", ...}            (e.g. a one-time code)
 *   <- 200 {"state": "ok", "token": ..., ...}  (see grant.h)
 *   <- 401 {"error": "auth_failed", ...}       (and the login is over)
 *
 * The PAM stack runs in a child of the privileged monitor (privsep.h);
 * this module only relays. A login belongs to the device certificate that
 * started it; it ends after login.timeout seconds without answers. Failed
 * logins count against the user and the device (ratelimit.h).
 */
#ifndef VDI_BROKER_LOGIN_H
#define VDI_BROKER_LOGIN_H

#include "broker.h"
#include "http.h"

int login_init(struct broker *b) VDI_WUR;
void login_free(struct broker *b);

/* Number of PAM conversations in progress (for metrics). */
size_t login_pending(struct broker *b);

void login_handle(struct broker *b, struct evhttp_request *req,
    const struct broker_peer *peer, json_t *body, double t0);

/* 1 when given (a NUL-terminated string from a request, any length) is
 * the login id id (TOKEN_ID_HEX - 1 characters), else 0. The bytes are
 * compared in constant time, and never past the end of given. */
int login_id_equal(const char *id, const char *given);

#endif
