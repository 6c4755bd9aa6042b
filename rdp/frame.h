/*
 * frame.h: splits an RDP byte stream into PDUs and checks fast-path PDUs.
 *
 * Two framings share one stream (MS-RDPBCGR 2.2.9.1.2, 2.2.8.1.2):
 *   - slow-path: TPKT (RFC 1006, T.123 8) 03 00 length(BE16), the length
 *     counting the 4-byte header; 7..65535;
 *   - fast-path: first byte's low two bits 00, then a 1-byte length
 *     (0x00..0x7F) or a 2-byte one (1xxxxxxx xxxxxxxx, 15 bits); the length
 *     counts the whole PDU. Fast-path carries only input (client to server,
 *     2.2.8.1.2) and display updates (server to client, 2.2.9.1.2).
 * Any other first byte is malformed.
 */
#ifndef VDI_RDP_FRAME_H
#define VDI_RDP_FRAME_H

#include <stddef.h>

#include "rdp/rdp.h"

/* Largest PDU either framing can describe (TPKT's 16-bit length). */
#define RDP_FRAME_MAX 65535u
/* Smallest TPKT that can hold an X.224 Data TPDU header (4 + 3). */
#define RDP_TPKT_MIN        7u
#define RDP_TPKT_HEADER_LEN 4u
/* Largest fast-path PDU (15-bit length). */
#define RDP_FASTPATH_MAX 0x7FFFu

enum rdp_frame_kind {
	RDP_FRAME_TPKT = 1,
	RDP_FRAME_FASTPATH = 2,
};

struct rdp_frame {
	enum rdp_frame_kind kind;
	size_t len;    /* whole PDU, header included */
	size_t hdrlen; /* TPKT: 4; fast-path: 2 or 3 (header + length) */
};

/*
 * Looks at the front of stream without consuming anything. max_len caps
 * the PDU size (0 means RDP_FRAME_MAX; larger values are clamped to it).
 * Returns 0 with *f filled when a whole PDU is present, VDI_ERR_NEED_MORE
 * when the stream holds only a prefix of a valid one, VDI_ERR_BAD_FORMAT
 * for an unknown first byte or a TPKT whose second byte is not 0,
 * VDI_ERR_BAD_LENGTH for a length below the header's own size and
 * VDI_ERR_TOO_LARGE above max_len.
 */
int rdp_frame_peek(
    const struct vbuf *stream, size_t max_len, struct rdp_frame *f) VDI_WUR;

/* As rdp_frame_peek(), then consumes the PDU from stream and makes pdu a
 * read-only view of it (valid while stream's storage is unchanged). */
int rdp_frame_next(struct vbuf *stream, size_t max_len, struct rdp_frame *f,
    struct vbuf *pdu) VDI_WUR;

/* For a whole TPKT PDU (as returned by rdp_frame_next): makes payload a
 * view of the bytes after the 4-byte header. Returns VDI_ERR_BAD_FORMAT
 * when pdu is not a TPKT, VDI_ERR_BAD_LENGTH when its length field does
 * not equal vbuf_len(pdu). */
int rdp_tpkt_payload(const struct vbuf *pdu, struct vbuf *payload) VDI_WUR;

/* Writing a TPKT: rdp_tpkt_begin() appends the header with a zero length
 * and records where it starts in *mark; append the payload; then
 * rdp_tpkt_end() fills in the length (VDI_ERR_TOO_LARGE beyond 65535). out
 * must not be consumed from in between. */
int rdp_tpkt_begin(struct vbuf *out, size_t *mark) VDI_WUR;
int rdp_tpkt_end(struct vbuf *out, size_t mark) VDI_WUR;

/* Fast-path header fields. */
#define RDP_FASTPATH_FLAG_SECURE_CHECKSUM 0x1
#define RDP_FASTPATH_FLAG_ENCRYPTED       0x2

/* Update header compression bit and the bulk compression flag. */
#define RDP_FASTPATH_OUTPUT_COMPRESSION_USED 0x2
#define RDP_PACKET_COMPRESSED                0x20

/* Fast-path input event codes (2.2.8.1.2.2). */
#define RDP_FP_INPUT_SCANCODE      0
#define RDP_FP_INPUT_MOUSE         1
#define RDP_FP_INPUT_MOUSEX        2
#define RDP_FP_INPUT_SYNC          3
#define RDP_FP_INPUT_UNICODE       4
#define RDP_FP_INPUT_RELMOUSE      5
#define RDP_FP_INPUT_QOE_TIMESTAMP 6

/*
 * Checks a whole fast-path output PDU (server to client, 2.2.9.1.2): no
 * encryption or FIPS flags (the relay negotiates TLS only), and every
 * TS_FP_UPDATE inside has a size that fits and no bulk compression
 * (compressionFlags with PACKET_COMPRESSED: compression is switched off in
 * the Client Info PDU, so a compressed update is a protocol violation).
 * Sets v to PASS or CLOSE with a reason. Returns 0 when it could decide
 * (whatever the verdict), or VDI_ERR_INVALID_ARG when pdu is not a
 * fast-path PDU.
 */
int rdp_fastpath_check_output(
    const struct vbuf *pdu, struct rdp_verdict *v) VDI_WUR;

/* Checks a whole fast-path input PDU (client to server, 2.2.8.1.2): no
 * encryption flags, numEvents events of known codes whose sizes fill the
 * PDU exactly. Same return convention as rdp_fastpath_check_output(). */
int rdp_fastpath_check_input(
    const struct vbuf *pdu, struct rdp_verdict *v) VDI_WUR;

#endif
