/*
 * x224.h: X.224 (ISO 8073 class 0) TPDUs as RDP uses them: Connection
 * Request with the RDP negotiation request (MS-RDPBCGR 2.2.1.1), Connection
 * Confirm with the negotiation response or failure (2.2.1.2), and the Data
 * TPDU header that carries every later slow-path PDU (2.2.1.3 and on).
 *
 * All functions take or produce a whole TPKT PDU (frame.h).
 */
#ifndef VDI_RDP_X224_H
#define VDI_RDP_X224_H

#include <stddef.h>
#include <stdint.h>

#include "rdp/rdp.h"

/* TPDU codes (upper nibble of the second header byte). */
#define RDP_X224_TPDU_CR   0xE0
#define RDP_X224_TPDU_CC   0xD0
#define RDP_X224_TPDU_DR   0x80
#define RDP_X224_TPDU_DATA 0xF0

/* requestedProtocols / selectedProtocol (2.2.1.1.1). */
#define RDP_PROTOCOL_RDP       0x00000000u
#define RDP_PROTOCOL_SSL       0x00000001u
#define RDP_PROTOCOL_HYBRID    0x00000002u
#define RDP_PROTOCOL_RDSTLS    0x00000004u
#define RDP_PROTOCOL_HYBRID_EX 0x00000008u
#define RDP_PROTOCOL_RDSAAD    0x00000010u

/* RDP_NEG_REQ flags (2.2.1.1.1). */
#define RDP_NEG_REQ_RESTRICTED_ADMIN 0x01
#define RDP_NEG_REQ_REDIRECTED_AUTH  0x02
#define RDP_NEG_REQ_CORRELATION_INFO 0x08

/* RDP_NEG_RSP flags (2.2.1.2.1). */
#define RDP_NEG_RSP_EXTENDED_CLIENT_DATA 0x01
#define RDP_NEG_RSP_DYNVC_GFX            0x02
#define RDP_NEG_RSP_RESERVED             0x04
#define RDP_NEG_RSP_RESTRICTED_ADMIN     0x08
#define RDP_NEG_RSP_REDIRECTED_AUTH      0x10

/* RDP_NEG_FAILURE codes (2.2.1.2.2). */
#define RDP_NEG_FAILURE_SSL_REQUIRED           0x00000001u
#define RDP_NEG_FAILURE_SSL_NOT_ALLOWED        0x00000002u
#define RDP_NEG_FAILURE_SSL_CERT_NOT_ON_SERVER 0x00000003u
#define RDP_NEG_FAILURE_INCONSISTENT_FLAGS     0x00000004u
#define RDP_NEG_FAILURE_HYBRID_REQUIRED        0x00000005u
#define RDP_NEG_FAILURE_SSL_WITH_USER_AUTH     0x00000006u

/* Longest user name the CR builder puts in a cookie. */
#define RDP_X224_COOKIE_MAX 64

/* What precedes the RDP_NEG_REQ in a Connection Request. */
enum rdp_x224_token_kind {
	RDP_X224_TOKEN_NONE = 0,
	RDP_X224_TOKEN_COOKIE,  /* "Cookie: mstshash=IDENTIFIER\r\n" */
	RDP_X224_TOKEN_ROUTING, /* "Cookie: msts=...\r\n" */
	RDP_X224_TOKEN_OTHER,   /* another CRLF-terminated string (the
				 * client's load-balance info, verbatim) */
};

struct rdp_x224_cr {
	enum rdp_x224_token_kind token_kind;
	size_t token_len; /* bytes before CRLF, CRLF excluded */
	char cookie[RDP_X224_COOKIE_MAX +
	    1];      /* mstshash value, sanitised,
		      * possibly cut short; "" if none */
	int has_neg; /* RDP_NEG_REQ present */
	uint8_t neg_flags;
	uint32_t requested_protocols; /* RDP_PROTOCOL_RDP without a NEG_REQ */
	int has_correlation;
	uint8_t correlation_id[16];
};

struct rdp_x224_cc {
	int has_neg;   /* RDP_NEG_RSP or RDP_NEG_FAILURE present */
	int failure;   /* 1 for RDP_NEG_FAILURE */
	uint8_t flags; /* RDP_NEG_RSP flags */
	uint32_t selected_protocol;
	uint32_t failure_code;
};

/*
 * Parses a Connection Request TPDU (2.2.1.1). Checks TPKT and LI lengths
 * (LI == TPKT length - 5), the CR code, class 0, the token (a CRLF must end
 * it inside the TPDU), the RDP_NEG_REQ (type 1, length 8) and the optional
 * RDP_NEG_CORRELATION_INFO (type 6, length 36, only with its flag). The
 * token's content is not interpreted beyond its kind: the gateway ignores
 * it. Returns 0, VDI_ERR_TRUNCATED, VDI_ERR_BAD_LENGTH or
 * VDI_ERR_BAD_FORMAT.
 */
int rdp_x224_parse_cr(const struct vbuf *pdu, struct rdp_x224_cr *cr) VDI_WUR;

/* Parses a Connection Confirm TPDU (2.2.1.2). A CC without negotiation
 * data (legacy RDP security) parses with has_neg 0. Returns as
 * rdp_x224_parse_cr(). */
int rdp_x224_parse_cc(const struct vbuf *pdu, struct rdp_x224_cc *cc) VDI_WUR;

/*
 * Decides the client leg's answer to a parsed CR: 0 with *selected =
 * RDP_PROTOCOL_SSL when the client offered SSL (whatever else it offered:
 * the gateway never runs CredSSP towards the client), or
 * VDI_ERR_UNSUPPORTED when it did not (answer with
 * rdp_x224_write_neg_failure(RDP_NEG_FAILURE_SSL_REQUIRED) and close).
 */
int rdp_x224_select_protocol(
    const struct rdp_x224_cr *cr, uint32_t *selected) VDI_WUR;

/* Returns the TPDU code (RDP_X224_TPDU_*) of a whole TPKT PDU, or a
 * negative VDI_ERR_* code when it is not a well-formed TPKT + X.224
 * header. */
int rdp_x224_tpdu_type(const struct vbuf *pdu);

/* For a whole TPKT PDU holding an X.224 Data TPDU (02 F0 80): makes
 * payload a view of the user data (the MCS PDU). Returns 0,
 * VDI_ERR_TRUNCATED, VDI_ERR_BAD_LENGTH or VDI_ERR_BAD_FORMAT (other TPDU,
 * or EOT not set: RDP never segments at X.224). */
int rdp_x224_parse_data(const struct vbuf *pdu, struct vbuf *payload) VDI_WUR;

/*
 * Builders. Each appends one whole TPKT PDU to out.
 *
 * rdp_x224_write_cr: the CR the gateway sends the desktop: cookie
 * "Cookie: mstshash=<user>\r\n" (user: 1..RDP_X224_COOKIE_MAX bytes of
 * printable ASCII without spaces, else VDI_ERR_INVALID_ARG), RDP_NEG_REQ
 * with flags 0 (no restricted admin, no redirected authentication) and
 * protocols, which must be a non-empty combination of RDP_PROTOCOL_SSL and
 * RDP_PROTOCOL_HYBRID.
 */
int rdp_x224_write_cr(
    struct vbuf *out, const char *user, uint32_t protocols) VDI_WUR;

/* The CC the gateway sends the client: RDP_NEG_RSP selecting selected
 * (RDP_PROTOCOL_SSL or RDP_PROTOCOL_HYBRID) with flags, from which the
 * restricted-admin and redirected-authentication bits are always removed
 * (pass the desktop's flags through here). */
int rdp_x224_write_cc(
    struct vbuf *out, uint8_t flags, uint32_t selected) VDI_WUR;

/* A CC carrying RDP_NEG_FAILURE with code (2.2.1.2.2). */
int rdp_x224_write_neg_failure(struct vbuf *out, uint32_t code) VDI_WUR;

/* Appends TPKT + X.224 Data header + payload. VDI_ERR_TOO_LARGE when the
 * result would exceed RDP_FRAME_MAX. */
int rdp_x224_write_data(
    struct vbuf *out, const void *payload, size_t len) VDI_WUR;

/* The same with the payload in two parts (a header of ours, then a peer's
 * bytes): written straight into out, no copy in between. */
int rdp_x224_write_data2(struct vbuf *out, const void *head, size_t hlen,
    const void *payload, size_t len) VDI_WUR;

#endif
