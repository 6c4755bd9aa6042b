/*
 * mcs.h: T.125 MCS PDUs as RDP uses them.
 *
 *   - Connect-Initial (BER, [APPLICATION 101], MS-RDPBCGR 2.2.1.3) and
 *     Connect-Response ([APPLICATION 102], 2.2.1.4): parse, and the
 *     relay's rewrite of both (user data handled by gcc.h), re-encoding
 *     every enclosing length: GCC blocks, PER, BER, X.224 LI, TPKT;
 *   - domain PDUs (ALIGNED PER, T.125 7, MS-RDPBCGR 2.2.1.5-2.2.1.9,
 *     2.2.8.1.1.1): Erect Domain Request, Attach User Request/Confirm,
 *     Channel Join Request/Confirm, Send Data Request/Indication,
 *     Disconnect Provider Ultimatum.
 *
 * Parsers take the X.224 user data (x224.h, rdp_x224_parse_data()); the
 * rewriters and builders take or append whole TPKT PDUs.
 */
#ifndef VDI_RDP_MCS_H
#define VDI_RDP_MCS_H

#include <stddef.h>
#include <stdint.h>

#include "rdp/gcc.h"
#include "rdp/rdp.h"

/* DomainMCSPDU choice numbers (first byte >> 2). */
enum rdp_mcs_type {
	RDP_MCS_ERECT_DOMAIN_REQUEST = 1,
	RDP_MCS_DISCONNECT_PROVIDER_ULTIMATUM = 8,
	RDP_MCS_ATTACH_USER_REQUEST = 10,
	RDP_MCS_ATTACH_USER_CONFIRM = 11,
	RDP_MCS_CHANNEL_JOIN_REQUEST = 14,
	RDP_MCS_CHANNEL_JOIN_CONFIRM = 15,
	RDP_MCS_SEND_DATA_REQUEST = 25,
	RDP_MCS_SEND_DATA_INDICATION = 26,
};

/* UserId values are PER-encoded as an offset from 1001 (T.125). */
#define RDP_MCS_BASE_CHANNEL_ID 1001
/* The I/O channel FreeRDP and Windows use (the real one is in SC_NET). */
#define RDP_MCS_GLOBAL_CHANNEL_ID 1003

/* Largest domain selector the Connect-Initial parser accepts. */
#define RDP_MCS_SELECTOR_MAX 32

struct rdp_mcs_domain_params {
	uint32_t max_channel_ids, max_user_ids, max_token_ids, num_priorities;
	uint32_t min_throughput, max_height, max_mcspdu_size, protocol_version;
};

struct rdp_mcs_connect_initial {
	struct vbuf head; /* callingDomainSelector .. maximumParameters,
			   * verbatim (a view into the input) */
	struct rdp_mcs_domain_params target;
	struct vbuf user_data; /* GCC ConnectData (gcc.h), a view */
};

struct rdp_mcs_connect_response {
	uint8_t result; /* 0: rt-successful */
	uint32_t called_connect_id;
	struct vbuf params; /* domainParameters TLV, verbatim (view) */
	struct rdp_mcs_domain_params domain;
	struct vbuf user_data; /* GCC ConnectData (view) */
};

/*
 * Parse a Connect-Initial / Connect-Response from the X.224 user data.
 * Every BER length is checked against what contains it, domain parameters
 * must be SEQUENCEs of exactly eight INTEGERs, and nothing may follow
 * userData. The views point into mcs. Returns 0, VDI_ERR_TRUNCATED,
 * VDI_ERR_BAD_LENGTH, VDI_ERR_BAD_FORMAT or VDI_ERR_UNSUPPORTED (BER forms
 * vbuf refuses).
 */
int rdp_mcs_parse_connect_initial(
    const struct vbuf *mcs, struct rdp_mcs_connect_initial *ci) VDI_WUR;
int rdp_mcs_parse_connect_response(
    const struct vbuf *mcs, struct rdp_mcs_connect_response *cr) VDI_WUR;

/*
 * The relay's rewrite of the client's Connect-Initial (a whole TPKT PDU):
 * the client data blocks are rewritten by rdp_gcc_rewrite_client_blocks()
 * (channel allowlist per policy, serverSelectedProtocol =
 * desktop_selected, cluster and multitransport data), then a new TPKT is
 * appended to out with every length re-encoded. map receives the channel
 * decisions for rdp_mcs_rewrite_connect_response() and the audit log.
 * On error nothing is appended. Returns 0 or the first parser/encoder
 * error.
 */
int rdp_mcs_rewrite_connect_initial(const struct vbuf *pdu,
    const struct rdp_policy *pol, uint32_t desktop_selected,
    struct rdp_gcc_map *map, struct vbuf *out) VDI_WUR;

/*
 * The relay's rewrite of the desktop's Connect-Response (whole TPKT):
 * result must be rt-successful (else VDI_ERR_DENIED), then
 * rdp_gcc_rewrite_server_blocks() (clientRequestedProtocols restored, SC_NET
 * rebuilt positional to the client's list with fake ids, message channel
 * and multitransport dropped) and a new TPKT is appended to out.
 */
int rdp_mcs_rewrite_connect_response(const struct vbuf *pdu,
    uint32_t client_requested_protocols, struct rdp_gcc_map *map,
    struct vbuf *out) VDI_WUR;

/* Encoders used by the rewriters (whole TPKT appended to out). head and
 * params are written verbatim. */
int rdp_mcs_write_connect_initial(struct vbuf *out, const struct vbuf *head,
    const struct vbuf *user_data) VDI_WUR;
int rdp_mcs_write_connect_response(struct vbuf *out, uint8_t result,
    uint32_t called_connect_id, const struct vbuf *params,
    const struct vbuf *user_data) VDI_WUR;

/* A parsed domain PDU. Fields not carried by the type are 0. */
struct rdp_mcs_pdu {
	enum rdp_mcs_type type;
	uint8_t result;     /* Attach User / Channel Join Confirm */
	uint8_t reason;     /* Disconnect Provider Ultimatum */
	int has_initiator;  /* Attach User Confirm may omit it */
	uint16_t initiator; /* user id (1001..) */
	int has_channel_id; /* Channel Join Confirm may omit it */
	uint16_t channel_id;
	uint16_t requested;                /* Channel Join Confirm */
	uint8_t priority;                  /* Send Data: dataPriority (0..3) */
	uint32_t sub_height, sub_interval; /* Erect Domain Request */
	struct vbuf data; /* Send Data user data (view into the input) */
};

/*
 * Parses one domain PDU from the X.224 user data. The PDU must fill mcs
 * exactly (PER lengths included). Send Data must be unsegmented (begin and
 * end both set). Returns 0, VDI_ERR_TRUNCATED, VDI_ERR_BAD_LENGTH,
 * VDI_ERR_BAD_FORMAT or VDI_ERR_UNSUPPORTED (a DomainMCSPDU RDP does not use,
 * or a fragmented PER length).
 */
int rdp_mcs_parse_domain(const struct vbuf *mcs, struct rdp_mcs_pdu *p) VDI_WUR;

/* Appends a whole TPKT with a Send Data Request (indication 0) or
 * Indication (1) carrying len bytes of data (at most 0x3FFF: the largest
 * unfragmented PER length). */
int rdp_mcs_write_send_data(struct vbuf *out, int indication,
    uint16_t initiator, uint16_t channel_id, const void *data,
    size_t len) VDI_WUR;

/* Appends a whole TPKT with a Channel Join Confirm (result 0 =
 * rt-successful) for initiator, carrying requested and channel_id. */
int rdp_mcs_write_channel_join_confirm(struct vbuf *out, uint8_t result,
    uint16_t initiator, uint16_t requested, uint16_t channel_id) VDI_WUR;

/* Appends a whole TPKT with a Disconnect Provider Ultimatum (reason 0..7;
 * 3 = rn-user-requested). */
int rdp_mcs_write_disconnect(struct vbuf *out, uint8_t reason) VDI_WUR;

#endif
