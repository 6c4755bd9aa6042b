/*
 * caps.h: Share Control PDUs on the I/O channel (MS-RDPBCGR 2.2.8.1.1.1)
 * and the capability exchange (2.2.1.13, 2.2.7).
 *
 * The relay's rules (docs/gateway.md "What the relay enforces"):
 *   Demand Active (desktop -> client, 2.2.1.13.1): drop
 *     BITMAPCACHE_HOSTSUPPORT (18), RAIL (23), WINDOW (24); VIRTUALCHANNEL
 *     (20) flags := 0;
 *   Confirm Active (client -> desktop, 2.2.1.13.2): drop 18, 23, 24;
 *     VIRTUALCHANNEL flags := 0; BITMAPCACHE_REV2 (19, 2.2.7.1.4.2)
 *     PERSISTENT_KEYS_EXPECTED cleared and the persistent bit (k, bit 31)
 *     of every cell info cleared;
 *   Data PDU PDUTYPE2_BITMAPCACHE_PERSISTENT_LIST (0x2B, 2.2.1.17) from
 *     the client: dropped;
 *   Data PDU pduType2 (2.2.8.1.1.1.2): an allowlist per direction
 *     (rdp_share_type2_allowed()); any other type closes;
 *   Data PDU with bulk compression (compressedType PACKET_COMPRESSED):
 *     close (compression is switched off in the Client Info PDU);
 *   Server Redirection (pduType 0xA, 2.2.13.3.1): close (redirection
 *     would take the client around the gateway);
 *   Deactivate All (2.2.3.1): passed, reported (a new Demand Active
 *     follows and is rewritten like the first);
 *   flow PDUs (totalLength 0x8000, 2.2.8.1.1.1.1: "MUST be ignored"):
 *     dropped;
 *   anything else that is not a known type for its direction: close.
 *
 * And by phase (struct rdp_share_state): after licensing only the
 * desktop's Demand Active (or a Monitor Layout PDU, 2.2.12.1) may come;
 * the client's Confirm Active only answers a Demand Active the relay
 * passed; Data PDUs and input flow only once a Confirm Active went to the
 * desktop. During a reactivation (Deactivate All, then a new Demand
 * Active) client Data PDUs still in flight are dropped, not closed on.
 *
 * The input is the MCS user data of the I/O channel once licensing is over
 * (no security header, TLS only); it may hold several Share Control PDUs
 * back to back, as FreeRDP accepts.
 */
#ifndef VDI_RDP_CAPS_H
#define VDI_RDP_CAPS_H

#include <stddef.h>
#include <stdint.h>

#include "rdp/rdp.h"

/* Share Control pduType (low 4 bits; the version 1 sits above them). */
#define RDP_PDUTYPE_DEMANDACTIVE  0x1
#define RDP_PDUTYPE_CONFIRMACTIVE 0x3
#define RDP_PDUTYPE_DEACTIVATEALL 0x6
#define RDP_PDUTYPE_DATA          0x7
#define RDP_PDUTYPE_SERVER_REDIR  0xA
#define RDP_SHARE_FLOW_MARKER     0x8000
#define RDP_SHARE_CTRL_LEN        6
#define RDP_SHARE_DATA_HDR_LEN    18

/* Share Data pduType2 values (2.2.8.1.1.1.2, 2.2.14.1 for 0x38). */
#define RDP_PDUTYPE2_UPDATE             0x02
#define RDP_PDUTYPE2_CONTROL            0x14
#define RDP_PDUTYPE2_POINTER            0x1B
#define RDP_PDUTYPE2_INPUT              0x1C
#define RDP_PDUTYPE2_SYNCHRONIZE        0x1F
#define RDP_PDUTYPE2_REFRESH_RECT       0x21
#define RDP_PDUTYPE2_PLAY_SOUND         0x22
#define RDP_PDUTYPE2_SUPPRESS_OUTPUT    0x23
#define RDP_PDUTYPE2_SHUTDOWN_REQUEST   0x24
#define RDP_PDUTYPE2_SHUTDOWN_DENIED    0x25
#define RDP_PDUTYPE2_SAVE_SESSION_INFO  0x26
#define RDP_PDUTYPE2_FONTLIST           0x27
#define RDP_PDUTYPE2_FONTMAP            0x28
#define RDP_PDUTYPE2_SET_KBD_INDICATORS 0x29
#define RDP_PDUTYPE2_PERSISTENT_LIST    0x2B
#define RDP_PDUTYPE2_BITMAPCACHE_ERROR  0x2C
#define RDP_PDUTYPE2_SET_KBD_IME_STATUS 0x2D
#define RDP_PDUTYPE2_OFFSCRCACHE_ERROR  0x2E
#define RDP_PDUTYPE2_SET_ERROR_INFO     0x2F
#define RDP_PDUTYPE2_DRAWNINEGRID_ERROR 0x30
#define RDP_PDUTYPE2_DRAWGDIPLUS_ERROR  0x31
#define RDP_PDUTYPE2_ARC_STATUS         0x32
#define RDP_PDUTYPE2_STATUS_INFO        0x36
#define RDP_PDUTYPE2_MONITOR_LAYOUT     0x37
#define RDP_PDUTYPE2_FRAME_ACKNOWLEDGE  0x38
#define RDP_SHARE_PACKET_COMPRESSED     0x20

/* Capability set types (2.2.1.13.1.1.1). */
#define RDP_CAPSET_BITMAPCACHE_HOSTSUPPORT 18
#define RDP_CAPSET_BITMAPCACHE_REV2        19
#define RDP_CAPSET_VIRTUALCHANNEL          20
#define RDP_CAPSET_RAIL                    23
#define RDP_CAPSET_WINDOW                  24
#define RDP_BMPCACHE2_PERSISTENT_KEYS      0x0001
#define RDP_BMPCACHE2_CELL_PERSISTENT      0x80000000u

/* Most capability sets a Demand/Confirm Active may carry. */
#define RDP_CAPS_MAX 64

struct rdp_share_ctrl {
	uint16_t total_length; /* header included; 8 for a flow PDU */
	uint8_t type;          /* RDP_PDUTYPE_* (0 for a flow PDU) */
	uint16_t source;
	int flow; /* a flow PDU (totalLength 0x8000) */
};

/*
 * Takes the next Share Control PDU from the front of data (consumed) and
 * makes pdu a view of all of it (header included). totalLength must be at
 * least 6 and fit; the version must be 1. Returns 0, VDI_ERR_TRUNCATED,
 * VDI_ERR_BAD_LENGTH or VDI_ERR_BAD_FORMAT.
 */
int rdp_share_next(
    struct vbuf *data, struct rdp_share_ctrl *h, struct vbuf *pdu) VDI_WUR;

struct rdp_share_data {
	uint32_t share_id;
	uint8_t stream_id;
	uint16_t uncompressed_length;
	uint8_t pdu_type2;
	uint8_t compressed_type;
	uint16_t compressed_length;
	struct vbuf payload; /* after the 18-byte header (view) */
};

/* Parses the Share Data header of a whole Data PDU (as from
 * rdp_share_next()). */
int rdp_share_parse_data(
    const struct vbuf *pdu, struct rdp_share_data *d) VDI_WUR;

/* One capability set as the walker reports it. */
struct rdp_capset {
	uint16_t type;
	struct vbuf body; /* after type and length (view) */
};

struct rdp_caps_pdu {
	uint8_t type; /* DEMANDACTIVE or CONFIRMACTIVE */
	uint32_t share_id;
	uint16_t originator_id; /* Confirm Active only */
	struct vbuf source;     /* sourceDescriptor (view) */
	unsigned int ncaps;
	struct rdp_capset caps[RDP_CAPS_MAX];
	struct vbuf trailer; /* after the capability sets: Demand
			      * Active's sessionId (view, 0 or 4 bytes) */
};

/*
 * Parses a whole Demand Active or Confirm Active PDU: lengthSourceDescriptor
 * and lengthCombinedCapabilities must fit, numberCapabilities sets of at
 * least 4 bytes must fill lengthCombinedCapabilities exactly, at most
 * RDP_CAPS_MAX of them (else VDI_ERR_TOO_LARGE); a Demand Active may end with
 * a 4-byte sessionId, a Confirm Active with nothing.
 */
int rdp_caps_parse(const struct vbuf *pdu, struct rdp_caps_pdu *c) VDI_WUR;

/* Appends the rewritten Demand Active / Confirm Active (rules above) with
 * every length recomputed. On error nothing is appended. */
int rdp_caps_rewrite(const struct vbuf *pdu, struct vbuf *out) VDI_WUR;

/*
 * 1 when a Data PDU of type2 may travel in dir: client to desktop
 * Control, Input, Synchronize, Refresh Rect, Suppress Output, Shutdown
 * Request, Font List, the four cache error PDUs and Frame Acknowledge
 * (the Persistent Key List is dropped before this test); desktop to
 * client Update, Control, Pointer, Synchronize, Play Sound (a beep),
 * Shutdown Denied, Save Session Info, Font Map, the keyboard indicator
 * and IME status PDUs, Set Error Info, ARC Status, Status Info and
 * Monitor Layout. Everything else (including types no RDP version
 * defines) is 0.
 */
int rdp_share_type2_allowed(enum rdp_dir dir, uint8_t type2);

/* Where the capability exchange stands (caps.h top). Zero it before the
 * first PDU after licensing. */
enum rdp_share_phase {
	RDP_SHARE_WAIT_DEMAND = 0, /* the desktop's Demand Active is next */
	RDP_SHARE_WAIT_CONFIRM,    /* Demand Active passed: the client's
				    * Confirm Active is next */
	RDP_SHARE_ACTIVE,          /* Confirm Active passed: data flows */
};

struct rdp_share_state {
	enum rdp_share_phase phase;
	int activated; /* a Confirm Active has passed at least once */
};

/* What rdp_caps_filter_io() saw, for the relay's state machine. */
struct rdp_io_events {
	int demand_active;
	int confirm_active;
	int deactivate_all;
	unsigned int dropped; /* PDUs removed (persistent key list, flow) */
};

/*
 * Filters I/O channel data (see the top of this file) travelling in dir,
 * in the phase st says, and moves st on as Demand Active, Confirm Active
 * and Deactivate All pass. Returns 0 with v set: PASS (forward data as
 * is), REWRITE (forward out, to which the new data was appended), DROP
 * (nothing left to forward) or CLOSE (reason set; st is then of no
 * further use). A malformed PDU, or one its phase or direction does not
 * allow, is a CLOSE verdict, not an error return; errors are only
 * VDI_ERR_ALLOC / VDI_ERR_TOO_LARGE from out.
 */
int rdp_caps_filter_io(const struct vbuf *data, enum rdp_dir dir,
    struct rdp_share_state *st, struct rdp_io_events *ev, struct rdp_verdict *v,
    struct vbuf *out) VDI_WUR;

#endif
