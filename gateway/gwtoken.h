/*
 * gwtoken.h: what the gateway accepts as a tunnel's ticket in.
 *
 * Order of checks: signature with one of the broker's public keys (JWS
 * EdDSA), issuer and audience, exp/nbf/iat with a small skew and a lifetime
 * of at most 60 s, the cnf thumbprint against the certificate of this TLS
 * connection (RFC 8705), every claim's form, the session's max_session
 * deadline (optional claim mxs: refused at and after it), and last the
 * one-use jti
 * (replay cache) so that a refused token does not burn its id. Pure apart
 * from the replay cache it is given.
 */
#ifndef VDI_GATEWAY_GWTOKEN_H
#define VDI_GATEWAY_GWTOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "jws.h"
#include "vdierr.h"
#include "replay.h"

#define GWT_NAME_MAX 256
#define GWT_CRED_MAX 1408

/* Channel classes a token may grant. */
#define GWT_CH_DISPLAY   0x01u
#define GWT_CH_INPUT     0x02u
#define GWT_CH_AUDIO_OUT 0x04u

struct gw_token {
	char sub[GWT_NAME_MAX]; /* user */
	char tid[GWT_NAME_MAX]; /* tenant */
	char sid[64];           /* broker session */
	char jti[REPLAY_JTI_MAX + 1];
	char dst_host[GWT_NAME_MAX];
	uint16_t dst_port;
	int nla; /* sec == "nla" */
	int has_pin;
	uint8_t pin[32];       /* SHA-256 of the desktop's certificate */
	unsigned int channels; /* GWT_CH_* */
	unsigned int idle;     /* seconds, 0 = none */
	int64_t deadline;      /* mxs: max_session end, unix time; 0 = none */
	int64_t iat, exp;
	char cred[GWT_CRED_MAX + 1]; /* sealed credentials or "" */
};

struct gw_token_policy {
	const struct jws_key *const *keys; /* broker public keys */
	size_t nkeys;
	const char *issuer;
	const char *audience;
	int64_t skew; /* seconds */
};

/* Checks token (len bytes) presented over a TLS connection whose client
 * certificate has SHA-256 x5t. Returns VDI_REASON_OK with *out filled, or
 * why it was refused (out cleared): VDI_REASON_TOKEN_INVALID (malformed or
 * bad signature), TOKEN_EXPIRED, TOKEN_NOT_YET_VALID, TOKEN_WRONG_AUDIENCE
 * (or issuer), TOKEN_INVALID_CLAIMS, TOKEN_WRONG_DEVICE (cnf mismatch),
 * MAX_SESSION (the session's deadline came), TOKEN_REPLAYED, or BUSY (the
 * replay cache is full). vdi_reason_status() (httpstatus.h) gives the
 * HTTP status of each. */
enum vdi_reason gw_token_check(const char *token, size_t len,
    const struct gw_token_policy *pol, const unsigned char x5t[32],
    struct replay *rc, int64_t now, struct gw_token *out);

#endif
