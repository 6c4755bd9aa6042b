/*
 * sec.h: the basic security header (MS-RDPBCGR 2.2.8.1.1.2.1) and the
 * licensing PDUs that carry one (2.2.1.12, MS-RDPELE 2.2.2).
 *
 * With TLS (enhanced RDP security, 5.4) slow-path PDUs on the I/O channel
 * have no security header, except the Client Info PDU (SEC_INFO_PKT,
 * info.h) and the licensing PDUs (SEC_LICENSE_PKT). FreeRDP, the client
 * the gateway serves, tells them apart during licensing by reading the
 * first two bytes as security flags: SEC_LICENSE_PKT set means a licensing
 * PDU, anything else is a Share Control PDU (caps.h) without a header. The
 * relay must make the same call: rdp_sec_is_license().
 */
#ifndef VDI_RDP_SEC_H
#define VDI_RDP_SEC_H

#include <stdint.h>

#include "rdp/rdp.h"

/* Security header flags (2.2.8.1.1.2.1). */
#define RDP_SEC_EXCHANGE_PKT       0x0001
#define RDP_SEC_TRANSPORT_REQ      0x0002
#define RDP_SEC_TRANSPORT_RSP      0x0004
#define RDP_SEC_ENCRYPT            0x0008
#define RDP_SEC_RESET_SEQNO        0x0010
#define RDP_SEC_IGNORE_SEQNO       0x0020
#define RDP_SEC_INFO_PKT           0x0040
#define RDP_SEC_LICENSE_PKT        0x0080
#define RDP_SEC_LICENSE_ENCRYPT_CS 0x0200
#define RDP_SEC_REDIRECTION_PKT    0x0400
#define RDP_SEC_SECURE_CHECKSUM    0x0800
#define RDP_SEC_AUTODETECT_REQ     0x1000
#define RDP_SEC_AUTODETECT_RSP     0x2000
#define RDP_SEC_HEARTBEAT          0x4000
#define RDP_SEC_FLAGSHI_VALID      0x8000

/* Licensing message types (MS-RDPELE 2.2.2). */
#define RDP_LICENSE_REQUEST                     0x01
#define RDP_LICENSE_PLATFORM_CHALLENGE          0x02
#define RDP_LICENSE_NEW_LICENSE                 0x03
#define RDP_LICENSE_UPGRADE_LICENSE             0x04
#define RDP_LICENSE_INFO                        0x12
#define RDP_LICENSE_NEW_LICENSE_REQUEST         0x13
#define RDP_LICENSE_PLATFORM_CHALLENGE_RESPONSE 0x15
#define RDP_LICENSE_ERROR_ALERT                 0xFF

struct rdp_sec_header {
	uint16_t flags;
	uint16_t flags_hi;
};

/*
 * Reads the 4-byte basic security header from the front of b (consumed on
 * success). Headers with SEC_ENCRYPT, SEC_EXCHANGE_PKT or
 * SEC_SECURE_CHECKSUM are VDI_ERR_UNSUPPORTED: the relay negotiates TLS
 * only, so standard RDP security never applies. Returns 0,
 * VDI_ERR_TRUNCATED or VDI_ERR_UNSUPPORTED.
 */
int rdp_sec_parse_header(struct vbuf *b, struct rdp_sec_header *h) VDI_WUR;

/* 1 when the I/O channel data (MCS user data) starts with a security
 * header carrying SEC_LICENSE_PKT, FreeRDP's test during licensing. */
int rdp_sec_is_license(const struct vbuf *data);

struct rdp_license {
	struct rdp_sec_header sec;
	uint8_t msg_type;
	uint8_t flags;    /* preamble flags (version, extended errors) */
	uint16_t size;    /* wMsgSize, preamble included */
	struct vbuf body; /* after the preamble (view) */
};

/*
 * Parses a licensing PDU (security header with SEC_LICENSE_PKT, then
 * LICENSE_PREAMBLE) from I/O channel data. wMsgSize must equal the data
 * after the security header, the preamble version must be 2 or 3, and the
 * message type must be one dir may send (server: request, platform
 * challenge, new/upgrade license, error alert; client: license info, new
 * license request, platform challenge response, error alert). The body
 * of every client message and of an error alert must parse as that
 * message (MS-RDPBCGR 2.2.1.12.1.2, 2.2.2.2-2.2.2.5; MS-RDPELE 2.2.2.3,
 * 2.2.2.5), blob types included, and fill the PDU exactly. Returns 0,
 * VDI_ERR_TRUNCATED, VDI_ERR_BAD_LENGTH, VDI_ERR_BAD_FORMAT or
 * VDI_ERR_UNSUPPORTED.
 */
int rdp_sec_parse_license(
    const struct vbuf *data, enum rdp_dir dir, struct rdp_license *l) VDI_WUR;

#endif
