/*
 * grant.h: what the broker does once it knows who is asking (after PAM, or
 * after a valid reconnect ticket): check the device, evaluate the policy,
 * assign a desktop, mint the gateway token and a new reconnect ticket, audit
 * it, and answer the HTTP request.
 */
#ifndef VDI_BROKER_GRANT_H
#define VDI_BROKER_GRANT_H

#include <event2/http.h>

#include "broker.h"
#include "policy.h"

struct grant_req {
	const struct broker_peer *peer;
	const char *tenant;
	const char *user;
	const char *action;     /* "login" or "reconnect" */
	const char *session_id; /* reconnect: the ticket's session */
	const char *login_id;   /* login: the monitor's id of the PAM login */
	const char *password;   /* login: for single sign-on; may be NULL */
	size_t password_len;
};

/* Identifies the device (tenant CA, device rules, validity, CRL) and checks
 * it is not revoked in the store; records it as seen. On refusal returns
 * the HTTP status to answer (403; 503 with code "store_unavailable" when
 * the store could not record it) after writing an error code and message
 * for the client. */
int grant_device_check(struct broker *b, const struct broker_peer *peer,
    struct policy_device *dev, const char **code, char *msg, size_t msglen);

/* Runs the whole grant and replies to req (200 with token, or an error). */
void grant(struct broker *b, struct evhttp_request *req,
    const struct grant_req *g, double t0);

/* The user's groups from NSS (getgrouplist). Returns a NULL-terminated
 * array of strings in one allocation (free()), *n the count. A user NSS does
 * not know has no groups. */
char **grant_user_groups(const char *user, size_t *n);

#endif
