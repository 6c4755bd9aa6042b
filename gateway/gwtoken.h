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

/* Why a token was refused (for logs and the 401/403 JSON body). */
enum gw_token_error {
	GWT_OK = 0,
	GWT_INVALID,       /* 401 token_invalid: malformed or bad signature */
	GWT_EXPIRED,       /* 401 token_expired */
	GWT_NOT_YET_VALID, /* 401 token_not_yet_valid */
	GWT_AUDIENCE,      /* 401 token_wrong_audience (or issuer) */
	GWT_CLAIMS,        /* 401 token_invalid_claims */
	GWT_WRONG_DEVICE,  /* 403 token_wrong_device: cnf mismatch */
	GWT_REPLAYED,      /* 401 token_replayed */
	GWT_BUSY,          /* 503 busy: replay cache full */
	GWT_MAX_SESSION,   /* 403 max_session: the session's deadline came */
};

/* Checks token (len bytes) presented over a TLS connection whose client
 * certificate has SHA-256 x5t. Returns GWT_OK with *out filled, or the
 * reason (out cleared). */
enum gw_token_error gw_token_check(const char *token, size_t len,
    const struct gw_token_policy *pol, const unsigned char x5t[32],
    struct replay *rc, int64_t now, struct gw_token *out);

int gw_token_status(enum gw_token_error e);
/* The refusal reason of e (vdierr.h), and its code ("token_expired"). */
enum vdi_reason gw_token_reason(enum gw_token_error e);
const char *gw_token_code(enum gw_token_error e);

#endif
