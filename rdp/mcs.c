/* mcs.c: T.125 MCS Connect-Initial/Response (BER) and domain PDUs (PER);
 * see mcs.h. */
#include "config.h"

#include <string.h>

#include "rdp/frame.h"
#include "rdp/mcs.h"
#include "rdp/x224.h"

#define BER_TAG_BOOLEAN      0x01
#define BER_TAG_INTEGER      0x02
#define BER_TAG_OCTET_STRING 0x04
#define BER_TAG_ENUMERATED   0x0A
#define BER_TAG_SEQUENCE     0x30
#define BER_APP_HIGH         0x7F
#define MCS_CONNECT_INITIAL  0x65
#define MCS_CONNECT_RESPONSE 0x66

/* Send Data: dataPriority (2 bits) + segmentation begin|end (2 bits). */
#define SEND_DATA_SEGMENTATION 0x30
#define SEND_DATA_FLAGS        0x70 /* high priority, begin, end */

/* Reads tag + definite length and makes val a view of the value; the value
 * must fit in b. */
static int
ber_get_tlv(struct vbuf *b, uint8_t tag, struct vbuf *val)
{
	uint8_t t;
	uint32_t len;
	int r;

	memset(val, 0, sizeof(*val));
	if ((r = vbuf_get_u8(b, &t)) != 0)
		return r;
	if (t != tag)
		return VDI_ERR_BAD_FORMAT;
	if ((r = vbuf_get_ber_length(b, &len)) != 0)
		return r;
	if (len > vbuf_len(b))
		return VDI_ERR_BAD_LENGTH;
	return vbuf_get_view(b, len, val);
}

/* A non-negative INTEGER of 1..4 content bytes (5 with a leading zero). */
static int
ber_get_uint(struct vbuf *b, uint8_t tag, uint32_t *v)
{
	struct vbuf val;
	uint8_t byte;
	size_t n;
	int r;

	*v = 0;
	if ((r = ber_get_tlv(b, tag, &val)) != 0)
		return r;
	n = vbuf_len(&val);
	if (n < 1 || n > 5)
		return VDI_ERR_BAD_FORMAT;
	if (n == 5 && *vbuf_ptr(&val) != 0)
		return VDI_ERR_BAD_FORMAT;
	while (vbuf_get_u8(&val, &byte) == 0)
		*v = (*v << 8) | byte;
	return 0;
}

/* DomainParameters: SEQUENCE of exactly eight INTEGERs. tlv receives a
 * view of the whole encoding (tag and length included). */
static int
ber_get_domain_params(
    struct vbuf *b, struct rdp_mcs_domain_params *p, struct vbuf *tlv)
{
	struct vbuf start = *b, seq;
	uint32_t *f[8];
	unsigned int i;
	int r;

	memset(p, 0, sizeof(*p));
	f[0] = &p->max_channel_ids;
	f[1] = &p->max_user_ids;
	f[2] = &p->max_token_ids;
	f[3] = &p->num_priorities;
	f[4] = &p->min_throughput;
	f[5] = &p->max_height;
	f[6] = &p->max_mcspdu_size;
	f[7] = &p->protocol_version;
	if ((r = ber_get_tlv(b, BER_TAG_SEQUENCE, &seq)) != 0)
		return r;
	for (i = 0; i < 8; i++)
		if ((r = ber_get_uint(&seq, BER_TAG_INTEGER, f[i])) != 0)
			return r == VDI_ERR_TRUNCATED ? VDI_ERR_BAD_LENGTH : r;
	if (vbuf_len(&seq) != 0)
		return VDI_ERR_BAD_LENGTH;
	if (tlv != NULL)
		return vbuf_peek_view(
		    &start, 0, vbuf_len(&start) - vbuf_len(b), tlv);
	return 0;
}

/* 7F <app> length, which must cover exactly the rest of b. */
static int
ber_get_app(struct vbuf *b, uint8_t app)
{
	uint8_t t0, t1;
	uint32_t len;
	int r;

	if ((r = vbuf_get_u8(b, &t0)) != 0 || (r = vbuf_get_u8(b, &t1)) != 0)
		return r;
	if (t0 != BER_APP_HIGH || t1 != app)
		return VDI_ERR_BAD_FORMAT;
	if ((r = vbuf_get_ber_length(b, &len)) != 0)
		return r;
	if (len != vbuf_len(b))
		return len > vbuf_len(b) ? VDI_ERR_TRUNCATED
					 : VDI_ERR_BAD_LENGTH;
	return 0;
}

/* userData OCTET STRING, which must end the PDU. */
static int
ber_get_user_data(struct vbuf *b, struct vbuf *ud)
{
	int r;

	if ((r = ber_get_tlv(b, BER_TAG_OCTET_STRING, ud)) != 0)
		return r;
	return vbuf_len(b) == 0 ? 0 : VDI_ERR_BAD_LENGTH;
}

int
rdp_mcs_parse_connect_initial(
    const struct vbuf *mcs, struct rdp_mcs_connect_initial *ci)
{
	struct vbuf b = *mcs, start, sel, flag;
	struct rdp_mcs_domain_params dp;
	uint8_t v;
	int r;

	memset(ci, 0, sizeof(*ci));
	if ((r = ber_get_app(&b, MCS_CONNECT_INITIAL)) != 0)
		goto fail;
	start = b;
	if ((r = ber_get_tlv(&b, BER_TAG_OCTET_STRING, &sel)) != 0)
		goto fail;
	if (vbuf_len(&sel) > RDP_MCS_SELECTOR_MAX) {
		r = VDI_ERR_TOO_LARGE;
		goto fail;
	}
	if ((r = ber_get_tlv(&b, BER_TAG_OCTET_STRING, &sel)) != 0)
		goto fail;
	if (vbuf_len(&sel) > RDP_MCS_SELECTOR_MAX) {
		r = VDI_ERR_TOO_LARGE;
		goto fail;
	}
	if ((r = ber_get_tlv(&b, BER_TAG_BOOLEAN, &flag)) != 0 ||
	    (r = vbuf_get_u8(&flag, &v)) != 0)
		goto fail;
	if (vbuf_len(&flag) != 0) {
		r = VDI_ERR_BAD_LENGTH;
		goto fail;
	}
	if ((r = ber_get_domain_params(&b, &ci->target, NULL)) != 0 ||
	    (r = ber_get_domain_params(&b, &dp, NULL)) != 0 ||
	    (r = ber_get_domain_params(&b, &dp, NULL)) != 0)
		goto fail;
	if ((r = vbuf_peek_view(
		 &start, 0, vbuf_len(&start) - vbuf_len(&b), &ci->head)) != 0 ||
	    (r = ber_get_user_data(&b, &ci->user_data)) != 0)
		goto fail;
	return 0;
fail:
	memset(ci, 0, sizeof(*ci));
	return r;
}

int
rdp_mcs_parse_connect_response(
    const struct vbuf *mcs, struct rdp_mcs_connect_response *cr)
{
	struct vbuf b = *mcs;
	uint32_t result;
	int r;

	memset(cr, 0, sizeof(*cr));
	if ((r = ber_get_app(&b, MCS_CONNECT_RESPONSE)) != 0 ||
	    (r = ber_get_uint(&b, BER_TAG_ENUMERATED, &result)) != 0 ||
	    (r = ber_get_uint(&b, BER_TAG_INTEGER, &cr->called_connect_id)) !=
		0 ||
	    (r = ber_get_domain_params(&b, &cr->domain, &cr->params)) != 0 ||
	    (r = ber_get_user_data(&b, &cr->user_data)) != 0)
		goto fail;
	if (result > 15) { /* Result has 16 values (T.125 7) */
		r = VDI_ERR_BAD_FORMAT;
		goto fail;
	}
	cr->result = (uint8_t)result;
	return 0;
fail:
	memset(cr, 0, sizeof(*cr));
	return r;
}

/* Wraps body (already BER-encoded content) as 7F app length body, in an
 * X.224 Data TPDU and a TPKT appended to out. */
static int
write_app(struct vbuf *out, uint8_t app, const struct vbuf *body)
{
	struct vbuf *tmp;
	int r;

	if ((tmp = vbuf_new(RDP_FRAME_MAX)) == NULL)
		return VDI_ERR_ALLOC;
	if ((r = vbuf_put_u8(tmp, BER_APP_HIGH)) != 0 ||
	    (r = vbuf_put_u8(tmp, app)) != 0 ||
	    (r = vbuf_put_ber_length(tmp, (uint32_t)vbuf_len(body))) != 0 ||
	    (r = vbuf_put_buf(tmp, body)) != 0)
		goto out;
	r = rdp_x224_write_data(out, vbuf_ptr(tmp), vbuf_len(tmp));
out:
	vbuf_free(tmp);
	return r;
}

static int
put_octet_string(struct vbuf *b, const struct vbuf *v)
{
	int r;

	if ((r = vbuf_put_u8(b, BER_TAG_OCTET_STRING)) != 0 ||
	    (r = vbuf_put_ber_length(b, (uint32_t)vbuf_len(v))) != 0)
		return r;
	return vbuf_put_buf(b, v);
}

static int
put_ber_uint(struct vbuf *b, uint8_t tag, uint32_t v)
{
	unsigned char tmp[5];
	size_t n = 0, i;
	int r;

	/* Big-endian, minimal, with a leading zero if the top bit is set. */
	tmp[n++] = (unsigned char)(v >> 24);
	tmp[n++] = (unsigned char)(v >> 16);
	tmp[n++] = (unsigned char)(v >> 8);
	tmp[n++] = (unsigned char)v;
	for (i = 0; i < 3 && tmp[i] == 0 && (tmp[i + 1] & 0x80) == 0; i++)
		;
	if ((r = vbuf_put_u8(b, tag)) != 0)
		return r;
	if (i == 0 && (tmp[0] & 0x80)) {
		if ((r = vbuf_put_u8(b, 5)) != 0 ||
		    (r = vbuf_put_u8(b, 0)) != 0)
			return r;
	} else if ((r = vbuf_put_u8(b, (uint8_t)(4 - i))) != 0)
		return r;
	return vbuf_put(b, tmp + i, 4 - i);
}

int
rdp_mcs_write_connect_initial(
    struct vbuf *out, const struct vbuf *head, const struct vbuf *user_data)
{
	struct vbuf *body;
	int r;

	if ((body = vbuf_new(RDP_FRAME_MAX)) == NULL)
		return VDI_ERR_ALLOC;
	if ((r = vbuf_put_buf(body, head)) != 0 ||
	    (r = put_octet_string(body, user_data)) != 0)
		goto out;
	r = write_app(out, MCS_CONNECT_INITIAL, body);
out:
	vbuf_free(body);
	return r;
}

int
rdp_mcs_write_connect_response(struct vbuf *out, uint8_t result,
    uint32_t called_connect_id, const struct vbuf *params,
    const struct vbuf *user_data)
{
	struct vbuf *body;
	int r;

	if ((body = vbuf_new(RDP_FRAME_MAX)) == NULL)
		return VDI_ERR_ALLOC;
	if ((r = put_ber_uint(body, BER_TAG_ENUMERATED, result)) != 0 ||
	    (r = put_ber_uint(body, BER_TAG_INTEGER, called_connect_id)) != 0 ||
	    (r = vbuf_put_buf(body, params)) != 0 ||
	    (r = put_octet_string(body, user_data)) != 0)
		goto out;
	r = write_app(out, MCS_CONNECT_RESPONSE, body);
out:
	vbuf_free(body);
	return r;
}

int
rdp_mcs_rewrite_connect_initial(const struct vbuf *pdu,
    const struct rdp_policy *pol, uint32_t desktop_selected,
    struct rdp_gcc_map *map, struct vbuf *out)
{
	struct rdp_mcs_connect_initial ci;
	struct vbuf mcs, blocks;
	struct vbuf *nblocks = NULL, *ngcc = NULL;
	int r;

	memset(map, 0, sizeof(*map));
	if ((r = rdp_x224_parse_data(pdu, &mcs)) != 0 ||
	    (r = rdp_mcs_parse_connect_initial(&mcs, &ci)) != 0 ||
	    (r = rdp_gcc_parse_create_request(&ci.user_data, &blocks)) != 0)
		return r;
	if ((nblocks = vbuf_new(RDP_FRAME_MAX)) == NULL ||
	    (ngcc = vbuf_new(RDP_FRAME_MAX)) == NULL) {
		r = VDI_ERR_ALLOC;
		goto out;
	}
	if ((r = rdp_gcc_rewrite_client_blocks(
		 &blocks, pol, desktop_selected, map, nblocks)) != 0 ||
	    (r = rdp_gcc_write_create_request(ngcc, nblocks)) != 0 ||
	    (r = rdp_mcs_write_connect_initial(out, &ci.head, ngcc)) != 0)
		goto out;
out:
	if (r != 0)
		memset(map, 0, sizeof(*map));
	vbuf_free(nblocks);
	vbuf_free(ngcc);
	return r;
}

int
rdp_mcs_rewrite_connect_response(const struct vbuf *pdu,
    uint32_t client_requested_protocols, struct rdp_gcc_map *map,
    struct vbuf *out)
{
	struct rdp_mcs_connect_response cr;
	struct vbuf mcs, blocks;
	struct vbuf *nblocks = NULL, *ngcc = NULL;
	uint16_t node_id;
	uint32_t tag;
	int r;

	if ((r = rdp_x224_parse_data(pdu, &mcs)) != 0 ||
	    (r = rdp_mcs_parse_connect_response(&mcs, &cr)) != 0)
		return r;
	if (cr.result != 0)
		return VDI_ERR_DENIED;
	if ((r = rdp_gcc_parse_create_response(
		 &cr.user_data, &node_id, &tag, &blocks)) != 0)
		return r;
	if ((nblocks = vbuf_new(RDP_FRAME_MAX)) == NULL ||
	    (ngcc = vbuf_new(RDP_FRAME_MAX)) == NULL) {
		r = VDI_ERR_ALLOC;
		goto out;
	}
	if ((r = rdp_gcc_rewrite_server_blocks(
		 &blocks, client_requested_protocols, map, nblocks)) != 0 ||
	    (r = rdp_gcc_write_create_response(ngcc, node_id, tag, nblocks)) !=
		0 ||
	    (r = rdp_mcs_write_connect_response(
		 out, cr.result, cr.called_connect_id, &cr.params, ngcc)) != 0)
		goto out;
out:
	vbuf_free(nblocks);
	vbuf_free(ngcc);
	return r;
}

/* --- domain PDUs (PER) ---------------------------------------------------- */

/* PER constrained whole number with a length prefix (1..4 bytes). */
static int
per_get_integer(struct vbuf *b, uint32_t *v)
{
	uint8_t len, byte;
	unsigned int i;
	int r;

	*v = 0;
	if ((r = vbuf_get_u8(b, &len)) != 0)
		return r;
	if (len < 1 || len > 4)
		return VDI_ERR_BAD_FORMAT;
	if (vbuf_len(b) < len)
		return VDI_ERR_TRUNCATED;
	for (i = 0; i < len; i++) {
		if ((r = vbuf_get_u8(b, &byte)) != 0)
			return r;
		*v = (*v << 8) | byte;
	}
	return 0;
}

/* A user id: 16 bits, offset from 1001. */
static int
per_get_user_id(struct vbuf *b, uint16_t *v)
{
	uint16_t raw;
	int r;

	*v = 0;
	if ((r = vbuf_get_u16be(b, &raw)) != 0)
		return r;
	if (raw > 0xFFFF - RDP_MCS_BASE_CHANNEL_ID)
		return VDI_ERR_BAD_FORMAT;
	*v = (uint16_t)(raw + RDP_MCS_BASE_CHANNEL_ID);
	return 0;
}

static int
parse_domain(struct vbuf *b, struct rdp_mcs_pdu *p)
{
	uint8_t b0, b1, flags;
	uint16_t len;
	int r;

	if ((r = vbuf_get_u8(b, &b0)) != 0)
		return r;
	p->type = (enum rdp_mcs_type)(b0 >> 2);
	switch (b0 >> 2) {
	case RDP_MCS_ERECT_DOMAIN_REQUEST:
		if ((b0 & 0x03) != 0)
			return VDI_ERR_BAD_FORMAT;
		if ((r = per_get_integer(b, &p->sub_height)) != 0 ||
		    (r = per_get_integer(b, &p->sub_interval)) != 0)
			return r;
		break;
	case RDP_MCS_DISCONNECT_PROVIDER_ULTIMATUM:
		/* reason: 3 bits, two in b0 and one at the top of b1. */
		if ((r = vbuf_get_u8(b, &b1)) != 0)
			return r;
		if ((b1 & 0x7F) != 0)
			return VDI_ERR_BAD_FORMAT;
		p->reason = (uint8_t)(((b0 & 0x03) << 1) | (b1 >> 7));
		break;
	case RDP_MCS_ATTACH_USER_REQUEST:
		if ((b0 & 0x03) != 0)
			return VDI_ERR_BAD_FORMAT;
		break;
	case RDP_MCS_ATTACH_USER_CONFIRM:
		if ((b0 & 0x01) != 0)
			return VDI_ERR_BAD_FORMAT;
		if ((r = vbuf_get_u8(b, &p->result)) != 0)
			return r;
		if (b0 & 0x02) {
			if ((r = per_get_user_id(b, &p->initiator)) != 0)
				return r;
			p->has_initiator = 1;
		}
		break;
	case RDP_MCS_CHANNEL_JOIN_REQUEST:
		if ((b0 & 0x03) != 0)
			return VDI_ERR_BAD_FORMAT;
		if ((r = per_get_user_id(b, &p->initiator)) != 0 ||
		    (r = vbuf_get_u16be(b, &p->channel_id)) != 0)
			return r;
		p->has_initiator = p->has_channel_id = 1;
		break;
	case RDP_MCS_CHANNEL_JOIN_CONFIRM:
		if ((b0 & 0x01) != 0)
			return VDI_ERR_BAD_FORMAT;
		if ((r = vbuf_get_u8(b, &p->result)) != 0 ||
		    (r = per_get_user_id(b, &p->initiator)) != 0 ||
		    (r = vbuf_get_u16be(b, &p->requested)) != 0)
			return r;
		p->has_initiator = 1;
		if (b0 & 0x02) {
			if ((r = vbuf_get_u16be(b, &p->channel_id)) != 0)
				return r;
			p->has_channel_id = 1;
		}
		break;
	case RDP_MCS_SEND_DATA_REQUEST:
	case RDP_MCS_SEND_DATA_INDICATION:
		if ((b0 & 0x03) != 0)
			return VDI_ERR_BAD_FORMAT;
		if ((r = per_get_user_id(b, &p->initiator)) != 0 ||
		    (r = vbuf_get_u16be(b, &p->channel_id)) != 0 ||
		    (r = vbuf_get_u8(b, &flags)) != 0)
			return r;
		if ((flags & SEND_DATA_SEGMENTATION) !=
			SEND_DATA_SEGMENTATION ||
		    (flags & 0x0F) != 0)
			return VDI_ERR_BAD_FORMAT;
		p->priority = flags >> 6;
		p->has_initiator = p->has_channel_id = 1;
		if ((r = vbuf_get_per_length(b, &len)) != 0)
			return r;
		if (len != vbuf_len(b))
			return len > vbuf_len(b) ? VDI_ERR_TRUNCATED
						 : VDI_ERR_BAD_LENGTH;
		return vbuf_get_view(b, len, &p->data);
	default:
		return VDI_ERR_UNSUPPORTED;
	}
	return vbuf_len(b) == 0 ? 0 : VDI_ERR_BAD_LENGTH;
}

int
rdp_mcs_parse_domain(const struct vbuf *mcs, struct rdp_mcs_pdu *p)
{
	struct vbuf b = *mcs;
	int r;

	memset(p, 0, sizeof(*p));
	if ((r = parse_domain(&b, p)) != 0)
		memset(p, 0, sizeof(*p));
	return r;
}

static int
user_id_raw(uint16_t id, uint16_t *raw)
{
	if (id < RDP_MCS_BASE_CHANNEL_ID)
		return VDI_ERR_INVALID_ARG;
	*raw = (uint16_t)(id - RDP_MCS_BASE_CHANNEL_ID);
	return 0;
}

int
rdp_mcs_write_send_data(struct vbuf *out, int indication, uint16_t initiator,
    uint16_t channel_id, const void *data, size_t len)
{
	unsigned char hdr[8];
	size_t hlen = 6;
	uint16_t raw;
	int r;

	if ((r = user_id_raw(initiator, &raw)) != 0)
		return r;
	if (len > 0x7FFF) /* 15-bit PER, as peers write it */
		return VDI_ERR_TOO_LARGE;
	hdr[0] = (unsigned char)((indication ? RDP_MCS_SEND_DATA_INDICATION
					     : RDP_MCS_SEND_DATA_REQUEST)
	    << 2);
	hdr[1] = (unsigned char)(raw >> 8);
	hdr[2] = (unsigned char)raw;
	hdr[3] = (unsigned char)(channel_id >> 8);
	hdr[4] = (unsigned char)channel_id;
	hdr[5] = SEND_DATA_FLAGS;
	/* userData's PER length (as vbuf_put_per_length writes it) */
	if (len < 0x80) {
		hdr[hlen++] = (unsigned char)len;
	} else {
		hdr[hlen++] = (unsigned char)(0x80 | (len >> 8));
		hdr[hlen++] = (unsigned char)len;
	}
	return rdp_x224_write_data2(out, hdr, hlen, data, len);
}

int
rdp_mcs_write_channel_join_confirm(struct vbuf *out, uint8_t result,
    uint16_t initiator, uint16_t requested, uint16_t channel_id)
{
	unsigned char p[8];
	uint16_t raw;
	int r;

	if ((r = user_id_raw(initiator, &raw)) != 0)
		return r;
	p[0] = (RDP_MCS_CHANNEL_JOIN_CONFIRM << 2) | 0x02;
	p[1] = result;
	p[2] = (unsigned char)(raw >> 8);
	p[3] = (unsigned char)raw;
	p[4] = (unsigned char)(requested >> 8);
	p[5] = (unsigned char)requested;
	p[6] = (unsigned char)(channel_id >> 8);
	p[7] = (unsigned char)channel_id;
	return rdp_x224_write_data(out, p, sizeof(p));
}

int
rdp_mcs_write_disconnect(struct vbuf *out, uint8_t reason)
{
	unsigned char p[2];

	if (reason > 7)
		return VDI_ERR_INVALID_ARG;
	p[0] = (unsigned char)((RDP_MCS_DISCONNECT_PROVIDER_ULTIMATUM << 2) |
	    (reason >> 1));
	p[1] = (unsigned char)((reason & 0x01) << 7);
	return rdp_x224_write_data(out, p, sizeof(p));
}
