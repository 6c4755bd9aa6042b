/*
 * gcc.h: the T.124 GCC Conference Create Request / Response (ALIGNED PER,
 * MS-RDPBCGR 2.2.1.3.1, 2.2.1.4.1) that carry RDP's client and server data
 * blocks, and the relay's rewrite of those blocks:
 *
 * client -> desktop (2.2.1.3.2-2.2.1.3.9):
 *   CS_CORE	   serverSelectedProtocol := what the desktop selected;
 *		   RNS_UD_CS_SUPPORT_SKIP_CHANNELJOIN cleared
 *   CS_SECURITY   verbatim
 *   CS_NET	   allowlist: drdynvc always, rdpsnd only with audio_out;
 *		   names compared case-insensitively, NUL required inside
 *		   the 8 bytes, duplicates refused; MS_T120 and anything
 *		   else refused; at most 31; channel compression options
 *		   cleared
 *   CS_CLUSTER	   REDIRECTION_SUPPORTED, REDIRECTED_SESSIONID_FIELD_VALID
 *		   and REDIRECTED_SMARTCARD cleared, session id zeroed
 *   CS_MONITOR, CS_MONITOR_EX   checked, verbatim
 *   CS_MCS_MSGCHANNEL, CS_MULTITRANSPORT, unknown blocks   dropped
 * desktop -> client (2.2.1.4.2-2.2.1.4.6):
 *   SC_CORE	   clientRequestedProtocols := the client's own value;
 *		   RNS_UD_SC_SKIP_CHANNELJOIN_SUPPORTED cleared
 *   SC_SECURITY   must say no RDP encryption (method and level 0)
 *   SC_NET	   rebuilt positional to the client's original CS_NET: real
 *		   ids for kept channels, fake ids for refused ones
 *   SC_MCS_MSGCHANNEL, SC_MULTITRANSPORT, unknown blocks   dropped
 */
#ifndef VDI_RDP_GCC_H
#define VDI_RDP_GCC_H

#include <stddef.h>
#include <stdint.h>

#include "rdp/rdp.h"

/* User data block types. */
#define RDP_CS_CORE           0xC001
#define RDP_CS_SECURITY       0xC002
#define RDP_CS_NET            0xC003
#define RDP_CS_CLUSTER        0xC004
#define RDP_CS_MONITOR        0xC005
#define RDP_CS_MCS_MSGCHANNEL 0xC006
#define RDP_CS_MONITOR_EX     0xC008
#define RDP_CS_MULTITRANSPORT 0xC00A
#define RDP_SC_CORE           0x0C01
#define RDP_SC_SECURITY       0x0C02
#define RDP_SC_NET            0x0C03
#define RDP_SC_MCS_MSGCHANNEL 0x0C04
#define RDP_SC_MULTITRANSPORT 0x0C08

/* Offsets into the CS_CORE body (after the 4-byte block header). */
#define RDP_CS_CORE_MIN_BODY                 128
#define RDP_CS_CORE_EARLY_CAPS_OFF           140
#define RDP_CS_CORE_SERVER_SELECTED_OFF      208
#define RDP_CS_CORE_SUPPORT_SKIP_CHANNELJOIN 0x0800
#define RDP_SC_CORE_SKIP_CHANNELJOIN         0x00000008u

/* CS_CLUSTER flags (2.2.1.3.5). */
#define RDP_CLUSTER_REDIRECTION_SUPPORTED      0x00000001u
#define RDP_CLUSTER_REDIRECTED_SESSIONID_VALID 0x00000002u
#define RDP_CLUSTER_REDIRECTED_SMARTCARD       0x00000040u

/* CHANNEL_DEF options (2.2.1.3.4.1). */
#define RDP_CHANNEL_OPTION_COMPRESS_RDP 0x00800000u
#define RDP_CHANNEL_OPTION_COMPRESS     0x00400000u

/* At most 31 static channels (CHANNEL_MAX_COUNT, 2.2.1.3.4). */
#define RDP_CHANNEL_MAX 31
/* Ids handed to the client for refused channels: never a desktop id (the
 * desktop's ids and its I/O channel must lie below this). */
#define RDP_FAKE_CHANNEL_BASE 0xFFE0u
#define RDP_MONITOR_MAX       16

struct rdp_gcc_channel {
	unsigned char raw[8];    /* the client's CHANNEL_DEF name bytes */
	char name[9];            /* sanitised copy for logs */
	uint32_t options;        /* the client's options */
	int kept;                /* forwarded to the desktop */
	unsigned int desk_index; /* position in the desktop's CS_NET (kept) */
	uint16_t id;             /* id given to the client (after the response):
				  * the desktop's for kept channels, a fake one
				  * for refused ones */
};

/* The channel decisions of one connection: filled by
 * rdp_gcc_rewrite_client_blocks(), completed with ids by
 * rdp_gcc_rewrite_server_blocks(). */
struct rdp_gcc_map {
	unsigned int n; /* channels the client asked for */
	struct rdp_gcc_channel ch[RDP_CHANNEL_MAX];
	unsigned int nkept;  /* channels the desktop saw */
	int have_ids;        /* the response has been rewritten */
	uint16_t io_channel; /* MCSChannelId from SC_NET */
};

/* What a client data block parse reports (for tests and logs). */
struct rdp_gcc_client {
	uint32_t version;
	uint16_t early_caps; /* 0 when absent */
	int has_server_selected;
	uint32_t server_selected; /* serverSelectedProtocol */
	int has_net;
	unsigned int nchannels;
	struct rdp_gcc_channel ch[RDP_CHANNEL_MAX];
	int has_cluster;
	uint32_t cluster_flags;
	uint32_t blocks_seen; /* bit (type & 0x1F) per block type */
};

struct rdp_gcc_server {
	uint32_t version;
	int has_requested;
	uint32_t client_requested; /* clientRequestedProtocols */
	uint32_t early_caps;
	uint32_t encryption_method, encryption_level;
	uint16_t io_channel;
	unsigned int nchannels;
	uint16_t ids[RDP_CHANNEL_MAX];
	int has_msgchannel;
	uint16_t msgchannel;
	uint32_t blocks_seen; /* bit (type & 0x1F) per block type */
};

/*
 * Conference Create Request: ConnectData with the T.124 OID, a connectPDU
 * length that must equal what follows, the fixed ConferenceCreateRequest
 * prefix every RDP client sends (conferenceName "1", one user data set keyed
 * "Duca") and the user data length. Makes blocks a view of the client data
 * blocks. Returns 0, VDI_ERR_TRUNCATED, VDI_ERR_BAD_LENGTH, VDI_ERR_BAD_FORMAT
 * or VDI_ERR_UNSUPPORTED.
 */
int rdp_gcc_parse_create_request(
    const struct vbuf *ud, struct vbuf *blocks) VDI_WUR;

/* Conference Create Response: as above with the "McDn" key. The connectPDU
 * length is read but not checked (Windows and xrdp send 0x2A whatever the
 * size); the user data length must equal what follows. node_id and tag are
 * returned for re-encoding. */
int rdp_gcc_parse_create_response(const struct vbuf *ud, uint16_t *node_id,
    uint32_t *tag, struct vbuf *blocks) VDI_WUR;

/* Encoders: append ConnectData with correct lengths. */
int rdp_gcc_write_create_request(
    struct vbuf *out, const struct vbuf *blocks) VDI_WUR;
int rdp_gcc_write_create_response(struct vbuf *out, uint16_t node_id,
    uint32_t tag, const struct vbuf *blocks) VDI_WUR;

/* Parses client data blocks into c (every known block checked for its
 * size; duplicates are VDI_ERR_BAD_FORMAT, CS_CORE is required).
 * CS_NET over 31 channels is VDI_ERR_TOO_LARGE. */
int rdp_gcc_parse_client_blocks(
    const struct vbuf *blocks, struct rdp_gcc_client *c) VDI_WUR;

/* Parses server data blocks into s (SC_CORE and SC_NET required). */
int rdp_gcc_parse_server_blocks(
    const struct vbuf *blocks, struct rdp_gcc_server *s) VDI_WUR;

/* Returns 1 when the policy allows a static channel of this CHANNEL_DEF
 * name (8 bytes, NUL required inside them): "drdynvc", and "rdpsnd" with
 * audio_out, case-insensitively. 0 otherwise (MS_T120 included). */
int rdp_gcc_channel_allowed(
    const struct rdp_policy *pol, const unsigned char raw[8]);

/*
 * Appends the rewritten client data blocks (see the top of this file) to
 * out and fills map (cleared first). Returns 0 or a parse error; out is
 * left as it was on error.
 */
int rdp_gcc_rewrite_client_blocks(const struct vbuf *blocks,
    const struct rdp_policy *pol, uint32_t desktop_selected,
    struct rdp_gcc_map *map, struct vbuf *out) VDI_WUR;

/*
 * Appends the rewritten server data blocks to out and completes map with
 * the ids. SC_NET must list exactly map->nkept channels with distinct ids in
 * 1001..RDP_FAKE_CHANNEL_BASE-1, none equal to the I/O channel, else
 * VDI_ERR_BAD_FORMAT. SC_SECURITY with RDP encryption is
 * VDI_ERR_UNSUPPORTED. out is left as it was on error.
 */
int rdp_gcc_rewrite_server_blocks(const struct vbuf *blocks,
    uint32_t client_requested_protocols, struct rdp_gcc_map *map,
    struct vbuf *out) VDI_WUR;

/* After the response: 1 when id is a fake id handed out for a refused
 * channel (answer its Channel Join Request locally, drop its data). */
int rdp_gcc_is_fake_id(const struct rdp_gcc_map *map, uint16_t id);

/* After the response: the channel entry the client knows by id (kept or
 * fake), or NULL. */
const struct rdp_gcc_channel *rdp_gcc_lookup(
    const struct rdp_gcc_map *map, uint16_t id);

#endif
