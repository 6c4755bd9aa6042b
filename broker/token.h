/*
 * token.h: what the broker hands out after an assignment.
 *
 *  - the gateway token's claims (docs/architecture.md "Gateway token"):
 *    built here,
 *    signed by the monitor process (privsep_sign) which alone holds the key;
 *  - reconnect tickets: 256 random bits, base64url; only their SHA-256 is
 *    stored, so a copy of the database cannot be replayed;
 *  - random identifiers (session ids, jti).
 */
#ifndef VDI_BROKER_TOKEN_H
#define VDI_BROKER_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "vdierr.h"

#define TOKEN_ID_HEX      33 /* 128-bit id as hex + NUL */
#define TOKEN_TICKET_SIZE 44 /* 32 bytes base64url (43) + NUL */
#define TOKEN_HASH_HEX    65

struct token_params {
	const char *issuer;       /* iss */
	const char *audience;     /* aud */
	int64_t now;              /* iat, nbf */
	unsigned int lifetime;    /* exp = now + lifetime, 1..60 */
	const char *user;         /* sub */
	const char *tenant;       /* tid */
	const char *session_id;   /* sid */
	const char *desktop_host; /* dst host (IP literal or name) */
	uint16_t desktop_port;    /* dst port */
	const uint8_t *pin;       /* 32 bytes or NULL: dpin */
	const char *security;     /* "tls" or "nla": sec */
	unsigned int channels;    /* POLICY_CH_*: ch */
	unsigned int idle;        /* idle disconnect seconds: idle */
	int64_t deadline;         /* max_session end (unix time): mxs; 0 none */
	const char *device_x5t;   /* base64url SHA-256 of the device cert */
	const char *cred;         /* sealed credentials (base64url) or NULL */
};

/* Builds the claims object. Returns 0 and a new json_t in *out (caller
 * json_decref()s it), VDI_ERR_INVALID_ARG for a missing or out-of-range
 * parameter, or VDI_ERR_ALLOC. */
int token_gateway_claims(const struct token_params *tp, json_t **out) VDI_WUR;

/* Fills out with 128 random bits as lowercase hex. */
int token_random_id(char out[TOKEN_ID_HEX]) VDI_WUR;

/* Makes a new reconnect ticket and the hex SHA-256 to store for it. */
int token_ticket_new(
    char ticket[TOKEN_TICKET_SIZE], char hash_hex[TOKEN_HASH_HEX]) VDI_WUR;

/* The hex SHA-256 of a presented ticket. A ticket that is not 43 base64url
 * characters gets VDI_ERR_BAD_FORMAT. */
int token_ticket_hash(
    const char *ticket, char hash_hex[TOKEN_HASH_HEX]) VDI_WUR;

#endif
