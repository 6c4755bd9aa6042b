/*
 * svc.h: static virtual channel chunks (MS-RDPBCGR 2.2.6.1, 3.1.5.2):
 * CHANNEL_PDU_HEADER, the FIRST..LAST sequence of one channel message, its
 * bounded reassembly, and re-chunking a message into Send Data PDUs.
 *
 * A message travels as one or more chunks; every chunk carries the
 * message's total length and flags, the first one CHANNEL_FLAG_FIRST, the
 * last one CHANNEL_FLAG_LAST. The relay decides on the FIRST chunk and
 * applies that decision to the rest of the message (rdp_svc_stream_decide);
 * it never injects a PDU between another message's FIRST and LAST on the
 * same channel and direction (rdp_svc_stream_busy).
 *
 * One struct rdp_svc_stream per channel and direction. Memory: at most
 * cap bytes (RDP_SVC_REASSEMBLY_MAX by default) per reassembling stream,
 * nothing for pass-through streams.
 */
#ifndef VDI_RDP_SVC_H
#define VDI_RDP_SVC_H

#include <stddef.h>
#include <stdint.h>

#include "rdp/rdp.h"

/* CHANNEL_PDU_HEADER flags (2.2.6.1.1). */
#define RDP_CHANNEL_FLAG_FIRST             0x00000001u
#define RDP_CHANNEL_FLAG_LAST              0x00000002u
#define RDP_CHANNEL_FLAG_SHOW_PROTOCOL     0x00000010u
#define RDP_CHANNEL_FLAG_SUSPEND           0x00000020u
#define RDP_CHANNEL_FLAG_RESUME            0x00000040u
#define RDP_CHANNEL_FLAG_SHADOW_PERSISTENT 0x00000080u
#define RDP_CHANNEL_PACKET_COMPRESSED      0x00200000u
#define RDP_CHANNEL_PACKET_AT_FRONT        0x00400000u
#define RDP_CHANNEL_PACKET_FLUSHED         0x00800000u

#define RDP_SVC_HEADER_LEN 8
/* CHANNEL_CHUNK_LENGTH: the chunk size every client and server accepts. */
#define RDP_SVC_CHUNK_LENGTH 1600
/* Default cap on one reassembled message. */
#define RDP_SVC_REASSEMBLY_MAX (1u << 20)

struct rdp_svc_chunk {
	uint32_t length; /* total length of the message */
	uint32_t flags;
	struct vbuf data; /* this chunk's part (view) */
};

/* Parses CHANNEL_PDU_HEADER from Send Data user data; data is the rest.
 * The chunk may not carry more than length bytes, and a FIRST|LAST chunk
 * exactly length. Returns 0, VDI_ERR_TRUNCATED or VDI_ERR_BAD_LENGTH. */
int rdp_svc_parse_chunk(
    const struct vbuf *payload, struct rdp_svc_chunk *c) VDI_WUR;

struct rdp_svc_stream {
	int reassemble; /* keep the chunks and hand out the message */
	uint32_t cap;   /* largest message accepted */
	int in_msg;     /* between FIRST and LAST */
	uint32_t total; /* from the FIRST chunk */
	uint32_t received;
	enum rdp_action decision; /* what the caller decided on FIRST */
	struct vbuf *buf;         /* reassembly storage (reassemble only) */
};

/* Sets up a stream. cap 0 means RDP_SVC_REASSEMBLY_MAX. */
void rdp_svc_stream_init(
    struct rdp_svc_stream *s, int reassemble, uint32_t cap);

/* Frees (wiping) the reassembly storage; s may be NULL. */
void rdp_svc_stream_free(struct rdp_svc_stream *s);

/* What one chunk did to the stream. */
struct rdp_svc_step {
	int first;                /* it started a message: decide now */
	int last;                 /* it ended one */
	enum rdp_action decision; /* the decision in force (set on FIRST) */
	struct vbuf msg;          /* last && reassemble: the whole message;
				   * otherwise this chunk's data. A view,
				   * valid until the next feed or free. */
};

/*
 * Feeds one chunk. Errors (the stream is reset and the relay closes):
 * VDI_ERR_BAD_FORMAT for a chunk without FIRST outside a message or a FIRST
 * inside one; VDI_ERR_BAD_LENGTH when a chunk's length field differs from
 * the FIRST chunk's, when chunks overrun the total, when the LAST chunk
 * leaves it short, or for an empty chunk in a non-empty message;
 * VDI_ERR_TOO_LARGE for a total over cap (before anything is stored);
 * VDI_ERR_UNSUPPORTED for a compressed chunk; VDI_ERR_ALLOC.
 */
int rdp_svc_stream_feed(struct rdp_svc_stream *s, const struct rdp_svc_chunk *c,
    struct rdp_svc_step *st) VDI_WUR;

/* Records the decision for the message started by the last FIRST chunk;
 * later chunks of it report it in rdp_svc_step.decision. */
void rdp_svc_stream_decide(struct rdp_svc_stream *s, enum rdp_action a);

/* 1 while a message is between its FIRST and LAST chunks. */
int rdp_svc_stream_busy(const struct rdp_svc_stream *s);

/*
 * Appends msg (len bytes) to out as one message on a static channel: chunks
 * of at most chunk_size data bytes (0 means RDP_SVC_CHUNK_LENGTH; at most
 * 0x3FFF - 8), each in a Send Data Request (indication 0) or Indication (1)
 * in a TPKT, flags FIRST / LAST plus extra_flags (e.g. SHOW_PROTOCOL). An
 * empty message is one FIRST|LAST chunk. On error nothing is appended.
 */
int rdp_svc_write_message(struct vbuf *out, int indication, uint16_t initiator,
    uint16_t channel_id, const void *msg, size_t len, uint32_t extra_flags,
    size_t chunk_size) VDI_WUR;

#endif
