/*
 * gfx.h: the graphics pipeline's client-to-server messages (MS-RDPEGFX)
 * on the Microsoft::Windows::RDS::Graphics dynamic channel.
 *
 * Server to client, RDPGFX PDUs travel inside RDP_SEGMENTED_DATA
 * (descriptor 0xE0 single / 0xE1 multipart, MS-RDPEGFX 2.2.5.1) with RDP 8.0
 * bulk compression (ZGFX, 3.1.9.1); the relay forwards them untouched and
 * never decodes them. Client to server, the PDUs are plain RDPGFX_HEADER
 * (cmdId 2, flags 2, pduLength 4, 2.2.1.5) + body, neither segmented nor
 * compressed (FreeRDP's rdpgfx client writes them straight to the channel;
 * the captures under tests/unit/rdp-captures/ show the same), one or more
 * per DVC message. The client sends only:
 *   RDPGFX_FRAME_ACKNOWLEDGE_PDU	0x000D
 *   RDPGFX_CACHE_IMPORT_OFFER_PDU	0x0010	offers the device's persistent
 *					bitmap cache: dropped
 *   RDPGFX_CAPS_ADVERTISE_PDU		0x0012
 *   RDPGFX_QOE_FRAME_ACKNOWLEDGE_PDU	0x0016
 * Anything else from the client is dropped too.
 */
#ifndef VDI_RDP_GFX_H
#define VDI_RDP_GFX_H

#include <stdint.h>

#include "rdp/rdp.h"

#define RDP_GFX_CMD_FRAMEACKNOWLEDGE    0x000D
#define RDP_GFX_CMD_CACHEIMPORTOFFER    0x0010
#define RDP_GFX_CMD_CACHEIMPORTREPLY    0x0011
#define RDP_GFX_CMD_CAPSADVERTISE       0x0012
#define RDP_GFX_CMD_CAPSCONFIRM         0x0013
#define RDP_GFX_CMD_QOEFRAMEACKNOWLEDGE 0x0016
#define RDP_GFX_HEADER_LEN              8

#define RDP_GFX_SEGMENTED_SINGLE    0xE0
#define RDP_GFX_SEGMENTED_MULTIPART 0xE1

struct rdp_gfx_header {
	uint16_t cmd;
	uint16_t flags;
	uint32_t length; /* pduLength, header included */
};

/* Takes the next RDPGFX PDU from the front of b (consumed) and makes pdu a
 * view of it, header included. pduLength must be at least 8 and fit.
 * Returns 0, VDI_ERR_TRUNCATED or VDI_ERR_BAD_LENGTH. */
int rdp_gfx_next(
    struct vbuf *b, struct rdp_gfx_header *h, struct vbuf *pdu) VDI_WUR;

/*
 * Filters one complete client-to-server graphics message (the reassembled
 * DVC message). Sets v: PASS (nothing removed), REWRITE (out received the
 * PDUs that remain), DROP (none remain) with a reason naming what was
 * removed ("gfx_cache_import_offer_dropped"), or CLOSE when the message does
 * not split into whole RDPGFX PDUs. Returns 0, or VDI_ERR_ALLOC /
 * VDI_ERR_TOO_LARGE from out (nothing appended then).
 */
int rdp_gfx_filter_c2s(
    const struct vbuf *msg, struct rdp_verdict *v, struct vbuf *out) VDI_WUR;

#endif
