/* frame.c: TPKT / fast-path framing (see frame.h). */
#include "config.h"

#include <string.h>

#include "rdp/frame.h"

int
rdp_frame_peek(const struct vbuf *stream, size_t max_len, struct rdp_frame *f)
{
	uint8_t b0 = 0, b1 = 0, b2 = 0;
	uint16_t tlen = 0;
	size_t len, hdrlen;

	memset(f, 0, sizeof(*f));
	if (max_len == 0 || max_len > RDP_FRAME_MAX)
		max_len = RDP_FRAME_MAX;
	if (vbuf_peek_u8(stream, 0, &b0) != 0)
		return VDI_ERR_NEED_MORE;
	if (b0 == 0x03) {
		/* TPKT: version 3, reserved 0, length BE16. */
		if (vbuf_peek_u8(stream, 1, &b1) != 0)
			return VDI_ERR_NEED_MORE;
		if (b1 != 0x00)
			return VDI_ERR_BAD_FORMAT;
		if (vbuf_peek_u16be(stream, 2, &tlen) != 0)
			return VDI_ERR_NEED_MORE;
		if (tlen < RDP_TPKT_MIN)
			return VDI_ERR_BAD_LENGTH;
		len = tlen;
		hdrlen = RDP_TPKT_HEADER_LEN;
	} else if ((b0 & 0x03) == 0) {
		/* Fast-path: action 0; length1 [length2]. */
		if (vbuf_peek_u8(stream, 1, &b1) != 0)
			return VDI_ERR_NEED_MORE;
		if (b1 & 0x80) {
			if (vbuf_peek_u8(stream, 2, &b2) != 0)
				return VDI_ERR_NEED_MORE;
			len = ((size_t)(b1 & 0x7F) << 8) | b2;
			hdrlen = 3;
		} else {
			len = b1;
			hdrlen = 2;
		}
		/* Header plus at least one byte of content. */
		if (len <= hdrlen)
			return VDI_ERR_BAD_LENGTH;
	} else
		return VDI_ERR_BAD_FORMAT;
	if (len > max_len)
		return VDI_ERR_TOO_LARGE;
	if (vbuf_len(stream) < len)
		return VDI_ERR_NEED_MORE;
	f->kind = b0 == 0x03 ? RDP_FRAME_TPKT : RDP_FRAME_FASTPATH;
	f->len = len;
	f->hdrlen = hdrlen;
	return 0;
}

int
rdp_frame_next(
    struct vbuf *stream, size_t max_len, struct rdp_frame *f, struct vbuf *pdu)
{
	int r;

	memset(pdu, 0, sizeof(*pdu));
	if ((r = rdp_frame_peek(stream, max_len, f)) != 0)
		return r;
	return vbuf_get_view(stream, f->len, pdu);
}

int
rdp_tpkt_payload(const struct vbuf *pdu, struct vbuf *payload)
{
	uint8_t b0 = 0, b1 = 0;
	uint16_t len = 0;
	int r;

	memset(payload, 0, sizeof(*payload));
	if ((r = vbuf_peek_u8(pdu, 0, &b0)) != 0 ||
	    (r = vbuf_peek_u8(pdu, 1, &b1)) != 0 ||
	    (r = vbuf_peek_u16be(pdu, 2, &len)) != 0)
		return r;
	if (b0 != 0x03 || b1 != 0x00)
		return VDI_ERR_BAD_FORMAT;
	if (len != vbuf_len(pdu) || len < RDP_TPKT_HEADER_LEN)
		return VDI_ERR_BAD_LENGTH;
	return vbuf_peek_view(
	    pdu, RDP_TPKT_HEADER_LEN, len - RDP_TPKT_HEADER_LEN, payload);
}

int
rdp_tpkt_begin(struct vbuf *out, size_t *mark)
{
	static const unsigned char hdr[4] = { 0x03, 0x00, 0x00, 0x00 };

	*mark = vbuf_len(out);
	return vbuf_put(out, hdr, sizeof(hdr));
}

int
rdp_tpkt_end(struct vbuf *out, size_t mark)
{
	size_t len;

	if (mark > vbuf_len(out) || vbuf_len(out) - mark < RDP_TPKT_HEADER_LEN)
		return VDI_ERR_INVALID_ARG;
	len = vbuf_len(out) - mark;
	if (len > RDP_FRAME_MAX)
		return VDI_ERR_TOO_LARGE;
	return vbuf_poke_u16be(out, mark + 2, (uint16_t)len);
}

/* Skips the fast-path header (byte 0, length) of a whole PDU into body and
 * returns the flags (bits 6-7 of byte 0). */
static int
fastpath_body(const struct vbuf *pdu, uint8_t *b0, struct vbuf *body)
{
	struct rdp_frame f;
	int r;

	memset(body, 0, sizeof(*body));
	*b0 = 0;
	if ((r = rdp_frame_peek(pdu, RDP_FRAME_MAX, &f)) != 0 ||
	    f.kind != RDP_FRAME_FASTPATH || f.len != vbuf_len(pdu))
		return VDI_ERR_INVALID_ARG;
	if ((r = vbuf_peek_u8(pdu, 0, b0)) != 0)
		return VDI_ERR_INVALID_ARG;
	return vbuf_peek_view(pdu, f.hdrlen, f.len - f.hdrlen, body) == 0
	    ? 0
	    : VDI_ERR_INVALID_ARG;
}

int
rdp_fastpath_check_output(const struct vbuf *pdu, struct rdp_verdict *v)
{
	struct vbuf body, skip;
	uint8_t b0, hdr, cflags;
	uint16_t size;
	unsigned int n = 0;
	int r;

	rdp_verdict_init(v);
	if ((r = fastpath_body(pdu, &b0, &body)) != 0)
		return r;
	if ((b0 >> 6) != 0) {
		rdp_verdict_set(v, RDP_CLOSE, "fastpath_output_encrypted");
		return 0;
	}
	while (vbuf_len(&body) > 0) {
		if (vbuf_get_u8(&body, &hdr) != 0)
			break;
		if (((hdr >> 6) & RDP_FASTPATH_OUTPUT_COMPRESSION_USED) != 0) {
			if (vbuf_get_u8(&body, &cflags) != 0)
				goto bad;
			if (cflags & RDP_PACKET_COMPRESSED) {
				rdp_verdict_set(v, RDP_CLOSE,
				    "fastpath_output_compressed update=%u",
				    hdr & 0x0F);
				return 0;
			}
		}
		if (vbuf_get_u16le(&body, &size) != 0 ||
		    vbuf_get_view(&body, size, &skip) != 0)
			goto bad;
		n++;
	}
	if (n == 0)
		goto bad;
	return 0;
bad:
	rdp_verdict_set(v, RDP_CLOSE, "fastpath_output_malformed");
	return 0;
}

/* Bytes that follow the event header for each fast-path input event code;
 * -1 for codes that do not exist. */
static int
input_event_size(unsigned int code)
{
	switch (code) {
	case RDP_FP_INPUT_SCANCODE:
		return 1;
	case RDP_FP_INPUT_MOUSE:
	case RDP_FP_INPUT_MOUSEX:
	case RDP_FP_INPUT_RELMOUSE:
		return 6;
	case RDP_FP_INPUT_SYNC:
		return 0;
	case RDP_FP_INPUT_UNICODE:
		return 2;
	case RDP_FP_INPUT_QOE_TIMESTAMP:
		return 4;
	}
	return -1;
}

int
rdp_fastpath_check_input(const struct vbuf *pdu, struct rdp_verdict *v)
{
	struct vbuf body;
	uint8_t b0, ev, nb;
	unsigned int nevents, i;
	int size, r;

	rdp_verdict_init(v);
	if ((r = fastpath_body(pdu, &b0, &body)) != 0)
		return r;
	if ((b0 >> 6) != 0) {
		rdp_verdict_set(v, RDP_CLOSE, "fastpath_input_encrypted");
		return 0;
	}
	nevents = (b0 >> 2) & 0x0F;
	if (nevents == 0) {
		/* numEvents is in the optional byte after the length. */
		if (vbuf_get_u8(&body, &nb) != 0 || nb == 0)
			goto bad;
		nevents = nb;
	}
	for (i = 0; i < nevents; i++) {
		if (vbuf_get_u8(&body, &ev) != 0)
			goto bad;
		if ((size = input_event_size(ev >> 5)) < 0) {
			rdp_verdict_set(v, RDP_CLOSE,
			    "fastpath_input_unknown_event code=%u", ev >> 5);
			return 0;
		}
		if (vbuf_consume(&body, (size_t)size) != 0)
			goto bad;
	}
	if (vbuf_len(&body) != 0)
		goto bad;
	return 0;
bad:
	rdp_verdict_set(v, RDP_CLOSE, "fastpath_input_malformed");
	return 0;
}
