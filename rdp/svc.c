/* svc.c: static virtual channel chunks and reassembly (see svc.h). */
#include "config.h"

#include <string.h>

#include "rdp/mcs.h"
#include "rdp/svc.h"

int
rdp_svc_parse_chunk(const struct vbuf *payload, struct rdp_svc_chunk *c)
{
	struct vbuf b = *payload;
	int r;

	memset(c, 0, sizeof(*c));
	if ((r = vbuf_get_u32le(&b, &c->length)) != 0 ||
	    (r = vbuf_get_u32le(&b, &c->flags)) != 0 ||
	    (r = vbuf_get_view(&b, vbuf_len(&b), &c->data)) != 0)
		goto fail;
	if (vbuf_len(&c->data) > c->length) {
		r = VDI_ERR_BAD_LENGTH;
		goto fail;
	}
	if ((c->flags & RDP_CHANNEL_FLAG_FIRST) &&
	    (c->flags & RDP_CHANNEL_FLAG_LAST) &&
	    vbuf_len(&c->data) != c->length) {
		r = VDI_ERR_BAD_LENGTH;
		goto fail;
	}
	return 0;
fail:
	memset(c, 0, sizeof(*c));
	return r;
}

void
rdp_svc_stream_init(struct rdp_svc_stream *s, int reassemble, uint32_t cap)
{
	memset(s, 0, sizeof(*s));
	s->reassemble = reassemble;
	s->cap = cap == 0 ? RDP_SVC_REASSEMBLY_MAX : cap;
	s->decision = RDP_PASS;
}

void
rdp_svc_stream_free(struct rdp_svc_stream *s)
{
	if (s == NULL)
		return;
	vbuf_free(s->buf);
	s->buf = NULL;
	s->in_msg = 0;
	s->total = s->received = 0;
}

static void
stream_reset(struct rdp_svc_stream *s)
{
	if (s->buf != NULL)
		vbuf_wipe(s->buf);
	s->in_msg = 0;
	s->total = s->received = 0;
	s->decision = RDP_PASS;
}

int
rdp_svc_stream_feed(struct rdp_svc_stream *s, const struct rdp_svc_chunk *c,
    struct rdp_svc_step *st)
{
	size_t n = vbuf_len(&c->data);
	int r;

	memset(st, 0, sizeof(*st));
	if (c->flags & RDP_CHANNEL_PACKET_COMPRESSED) {
		r = VDI_ERR_UNSUPPORTED;
		goto fail;
	}
	if (c->flags & RDP_CHANNEL_FLAG_FIRST) {
		if (s->in_msg) {
			r = VDI_ERR_BAD_FORMAT; /* FIRST before LAST */
			goto fail;
		}
		if (c->length > s->cap) {
			r = VDI_ERR_TOO_LARGE;
			goto fail;
		}
		s->in_msg = 1;
		s->total = c->length;
		s->received = 0;
		s->decision = RDP_PASS;
		st->first = 1;
		if (s->reassemble) {
			unsigned char *room;

			vbuf_free(s->buf);
			/* Room for the whole message at once (its length is
			 * known from the first chunk): one allocation, not a
			 * doubling and a copy per growth. */
			if ((s->buf = vbuf_new(
				 c->length > 0 ? c->length : 1)) == NULL ||
			    vbuf_space(s->buf, c->length, &room) != 0) {
				r = VDI_ERR_ALLOC;
				goto fail;
			}
		}
	} else {
		if (!s->in_msg) {
			r = VDI_ERR_BAD_FORMAT; /* fragment without FIRST */
			goto fail;
		}
		if (c->length != s->total) {
			r = VDI_ERR_BAD_LENGTH;
			goto fail;
		}
	}
	if (n > s->total - s->received || (n == 0 && s->total != 0)) {
		r = VDI_ERR_BAD_LENGTH;
		goto fail;
	}
	if (s->reassemble && n > 0 &&
	    (r = vbuf_put(s->buf, vbuf_ptr(&c->data), n)) != 0)
		goto fail;
	s->received += (uint32_t)n;
	st->decision = s->decision;
	if (c->flags & RDP_CHANNEL_FLAG_LAST) {
		if (s->received != s->total) {
			r = VDI_ERR_BAD_LENGTH;
			goto fail;
		}
		st->last = 1;
		s->in_msg = 0;
		if (s->reassemble)
			vbuf_init_view(
			    &st->msg, vbuf_ptr(s->buf), vbuf_len(s->buf));
		else
			st->msg = c->data;
	} else {
		if (s->received == s->total && s->total != 0) {
			/* Everything arrived but no LAST: only an empty
			 * LAST chunk could follow, which is refused above. */
			r = VDI_ERR_BAD_LENGTH;
			goto fail;
		}
		st->msg = c->data;
	}
	return 0;
fail:
	stream_reset(s);
	memset(st, 0, sizeof(*st));
	return r;
}

void
rdp_svc_stream_decide(struct rdp_svc_stream *s, enum rdp_action a)
{
	s->decision = a;
}

int
rdp_svc_stream_busy(const struct rdp_svc_stream *s)
{
	return s->in_msg;
}

int
rdp_svc_write_message(struct vbuf *out, int indication, uint16_t initiator,
    uint16_t channel_id, const void *msg, size_t len, uint32_t extra_flags,
    size_t chunk_size)
{
	unsigned char chunk[0x3FFF];
	const unsigned char *p = msg;
	size_t mark = vbuf_len(out), off = 0, n;
	uint32_t flags;
	int r;

	if (chunk_size == 0)
		chunk_size = RDP_SVC_CHUNK_LENGTH;
	if (chunk_size > sizeof(chunk) - RDP_SVC_HEADER_LEN ||
	    len > UINT32_MAX ||
	    (extra_flags & (RDP_CHANNEL_FLAG_FIRST | RDP_CHANNEL_FLAG_LAST)))
		return VDI_ERR_INVALID_ARG;
	do {
		n = len - off < chunk_size ? len - off : chunk_size;
		flags = extra_flags;
		if (off == 0)
			flags |= RDP_CHANNEL_FLAG_FIRST;
		if (off + n == len)
			flags |= RDP_CHANNEL_FLAG_LAST;
		chunk[0] = (unsigned char)len;
		chunk[1] = (unsigned char)(len >> 8);
		chunk[2] = (unsigned char)(len >> 16);
		chunk[3] = (unsigned char)(len >> 24);
		chunk[4] = (unsigned char)flags;
		chunk[5] = (unsigned char)(flags >> 8);
		chunk[6] = (unsigned char)(flags >> 16);
		chunk[7] = (unsigned char)(flags >> 24);
		if (n > 0)
			memcpy(chunk + RDP_SVC_HEADER_LEN, p + off, n);
		if ((r = rdp_mcs_write_send_data(out, indication, initiator,
			 channel_id, chunk, RDP_SVC_HEADER_LEN + n)) != 0) {
			rdp_truncate(out, mark);
			return r;
		}
		off += n;
	} while (off < len);
	return 0;
}
