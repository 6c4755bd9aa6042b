/* x224.c: X.224 Connection Request / Confirm / Data TPDUs (see x224.h). */
#include "config.h"

#include <string.h>

#include "rdp/frame.h"
#include "rdp/x224.h"

#define NEG_TYPE_REQ         0x01
#define NEG_TYPE_RSP         0x02
#define NEG_TYPE_FAILURE     0x03
#define NEG_TYPE_CORRELATION 0x06
#define NEG_LEN              8
#define CORRELATION_LEN      36

static const char cookie_prefix[] = "Cookie: mstshash=";
static const char routing_prefix[] = "Cookie: msts=";

/*
 * Checks TPKT + the fixed part of a CR or CC TPDU (LI, code, DST-REF,
 * SRC-REF, class) and returns a view of the variable part.
 */
static int
parse_conn_header(const struct vbuf *pdu, uint8_t want_code, struct vbuf *var)
{
	struct vbuf p;
	uint8_t li, code, cls;
	uint16_t dst, src;
	int r;

	memset(var, 0, sizeof(*var));
	if ((r = rdp_tpkt_payload(pdu, &p)) != 0)
		return r;
	if ((r = vbuf_get_u8(&p, &li)) != 0 ||
	    (r = vbuf_get_u8(&p, &code)) != 0 ||
	    (r = vbuf_get_u16be(&p, &dst)) != 0 ||
	    (r = vbuf_get_u16be(&p, &src)) != 0 ||
	    (r = vbuf_get_u8(&p, &cls)) != 0)
		return r;
	/* LI counts the header after itself: 6 fixed bytes + the rest. */
	if ((size_t)li != 6 + vbuf_len(&p) || li == 0xFF)
		return VDI_ERR_BAD_LENGTH;
	if ((code & 0xF0) != want_code)
		return VDI_ERR_BAD_FORMAT;
	if ((cls & 0xF0) != 0) /* class 0 only */
		return VDI_ERR_BAD_FORMAT;
	return vbuf_get_view(&p, vbuf_len(&p), var);
}

/* Finds CRLF in b; returns the offset of CR or -1. */
static long
find_crlf(const struct vbuf *b)
{
	const unsigned char *p = vbuf_ptr(b);
	size_t i, n = vbuf_len(b);

	for (i = 0; i + 1 < n; i++)
		if (p[i] == '\r' && p[i + 1] == '\n')
			return (long)i;
	return -1;
}

static int
parse_token(struct vbuf *var, struct rdp_x224_cr *cr)
{
	const unsigned char *p = vbuf_ptr(var);
	long crlf;
	size_t i, n, plen;

	if (vbuf_len(var) == 0 || p[0] < 0x20 || p[0] > 0x7E)
		return 0; /* no token: RDP_NEG_REQ or nothing follows */
	if ((crlf = find_crlf(var)) <= 0)
		return VDI_ERR_BAD_FORMAT;
	n = (size_t)crlf;
	for (i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] > 0x7E)
			return VDI_ERR_BAD_FORMAT;
	plen = sizeof(cookie_prefix) - 1;
	if (n >= plen && memcmp(p, cookie_prefix, plen) == 0) {
		cr->token_kind = RDP_X224_TOKEN_COOKIE;
		rdp_name_sanitize(
		    cr->cookie, sizeof(cr->cookie), p + plen, n - plen);
	} else if (n >= sizeof(routing_prefix) - 1 &&
	    memcmp(p, routing_prefix, sizeof(routing_prefix) - 1) == 0)
		cr->token_kind = RDP_X224_TOKEN_ROUTING;
	else
		cr->token_kind = RDP_X224_TOKEN_OTHER;
	cr->token_len = n;
	return vbuf_consume(var, n + 2);
}

int
rdp_x224_parse_cr(const struct vbuf *pdu, struct rdp_x224_cr *cr)
{
	struct vbuf var;
	uint8_t type, flags, reserved[16];
	uint16_t len;
	int r;

	memset(cr, 0, sizeof(*cr));
	if ((r = parse_conn_header(pdu, RDP_X224_TPDU_CR, &var)) != 0 ||
	    (r = parse_token(&var, cr)) != 0)
		goto fail;
	if (vbuf_len(&var) == 0)
		return 0; /* legacy client: standard RDP security only */
	if ((r = vbuf_get_u8(&var, &type)) != 0 ||
	    (r = vbuf_get_u8(&var, &flags)) != 0 ||
	    (r = vbuf_get_u16le(&var, &len)) != 0 ||
	    (r = vbuf_get_u32le(&var, &cr->requested_protocols)) != 0)
		goto fail;
	if (type != NEG_TYPE_REQ) {
		r = VDI_ERR_BAD_FORMAT;
		goto fail;
	}
	if (len != NEG_LEN) {
		r = VDI_ERR_BAD_LENGTH;
		goto fail;
	}
	cr->has_neg = 1;
	cr->neg_flags = flags;
	if (flags & RDP_NEG_REQ_CORRELATION_INFO) {
		if ((r = vbuf_get_u8(&var, &type)) != 0 ||
		    (r = vbuf_get_u8(&var, &flags)) != 0 ||
		    (r = vbuf_get_u16le(&var, &len)) != 0 ||
		    (r = vbuf_get_bytes(&var, cr->correlation_id, 16)) != 0 ||
		    (r = vbuf_get_bytes(&var, reserved, 16)) != 0)
			goto fail;
		if (type != NEG_TYPE_CORRELATION || flags != 0) {
			r = VDI_ERR_BAD_FORMAT;
			goto fail;
		}
		if (len != CORRELATION_LEN) {
			r = VDI_ERR_BAD_LENGTH;
			goto fail;
		}
		cr->has_correlation = 1;
	}
	if (vbuf_len(&var) != 0) {
		r = VDI_ERR_BAD_LENGTH;
		goto fail;
	}
	return 0;
fail:
	memset(cr, 0, sizeof(*cr));
	return r;
}

int
rdp_x224_parse_cc(const struct vbuf *pdu, struct rdp_x224_cc *cc)
{
	struct vbuf var;
	uint8_t type, flags;
	uint16_t len;
	uint32_t value;
	int r;

	memset(cc, 0, sizeof(*cc));
	if ((r = parse_conn_header(pdu, RDP_X224_TPDU_CC, &var)) != 0)
		return r;
	if (vbuf_len(&var) == 0)
		return 0;
	if ((r = vbuf_get_u8(&var, &type)) != 0 ||
	    (r = vbuf_get_u8(&var, &flags)) != 0 ||
	    (r = vbuf_get_u16le(&var, &len)) != 0 ||
	    (r = vbuf_get_u32le(&var, &value)) != 0)
		return r;
	if (len != NEG_LEN || vbuf_len(&var) != 0)
		return VDI_ERR_BAD_LENGTH;
	switch (type) {
	case NEG_TYPE_RSP:
		cc->flags = flags;
		cc->selected_protocol = value;
		break;
	case NEG_TYPE_FAILURE:
		cc->failure = 1;
		cc->failure_code = value;
		break;
	default:
		return VDI_ERR_BAD_FORMAT;
	}
	cc->has_neg = 1;
	return 0;
}

int
rdp_x224_select_protocol(const struct rdp_x224_cr *cr, uint32_t *selected)
{
	*selected = RDP_PROTOCOL_RDP;
	if (!cr->has_neg || (cr->requested_protocols & RDP_PROTOCOL_SSL) == 0)
		return VDI_ERR_UNSUPPORTED;
	*selected = RDP_PROTOCOL_SSL;
	return 0;
}

int
rdp_x224_tpdu_type(const struct vbuf *pdu)
{
	struct vbuf p;
	uint8_t li = 0, code = 0;
	int r;

	if ((r = rdp_tpkt_payload(pdu, &p)) != 0)
		return r;
	if ((r = vbuf_get_u8(&p, &li)) != 0 ||
	    (r = vbuf_get_u8(&p, &code)) != 0)
		return r;
	if (li == 0 || (size_t)li > vbuf_len(&p) + 1)
		return VDI_ERR_BAD_LENGTH;
	return code & 0xF0;
}

int
rdp_x224_parse_data(const struct vbuf *pdu, struct vbuf *payload)
{
	struct vbuf p;
	uint8_t li, code, eot;
	int r;

	memset(payload, 0, sizeof(*payload));
	if ((r = rdp_tpkt_payload(pdu, &p)) != 0)
		return r;
	if ((r = vbuf_get_u8(&p, &li)) != 0 ||
	    (r = vbuf_get_u8(&p, &code)) != 0 ||
	    (r = vbuf_get_u8(&p, &eot)) != 0)
		return r;
	if (li != 2)
		return VDI_ERR_BAD_LENGTH;
	if (code != RDP_X224_TPDU_DATA || eot != 0x80)
		return VDI_ERR_BAD_FORMAT;
	return vbuf_get_view(&p, vbuf_len(&p), payload);
}

/* Appends TPKT + LI placeholder + code, refs and class 0; *mark is where
 * the TPKT starts. */
static int
begin_conn(struct vbuf *out, uint8_t code, size_t *mark)
{
	const unsigned char hdr[7] = { 0, code, 0, 0, 0, 0, 0 };
	int r;

	if ((r = rdp_tpkt_begin(out, mark)) != 0)
		return r;
	return vbuf_put(out, hdr, sizeof(hdr));
}

/* Fills in LI and the TPKT length. */
static int
end_conn(struct vbuf *out, size_t mark)
{
	size_t li = vbuf_len(out) - mark - 5;
	int r;

	if (li > 0xFE)
		return VDI_ERR_TOO_LARGE;
	if ((r = vbuf_poke_u8(out, mark + 4, (uint8_t)li)) != 0)
		return r;
	return rdp_tpkt_end(out, mark);
}

static int
put_neg(struct vbuf *out, uint8_t type, uint8_t flags, uint32_t value)
{
	int r;

	if ((r = vbuf_put_u8(out, type)) != 0 ||
	    (r = vbuf_put_u8(out, flags)) != 0 ||
	    (r = vbuf_put_u16le(out, NEG_LEN)) != 0 ||
	    (r = vbuf_put_u32le(out, value)) != 0)
		return r;
	return 0;
}

int
rdp_x224_write_cr(struct vbuf *out, const char *user, uint32_t protocols)
{
	size_t i, n, mark = vbuf_len(out);
	int r;

	if (user == NULL || (n = strlen(user)) == 0 || n > RDP_X224_COOKIE_MAX)
		return VDI_ERR_INVALID_ARG;
	for (i = 0; i < n; i++)
		if (user[i] <= 0x20 || user[i] >= 0x7F)
			return VDI_ERR_INVALID_ARG;
	if (protocols == 0 ||
	    (protocols & ~(RDP_PROTOCOL_SSL | RDP_PROTOCOL_HYBRID)) != 0)
		return VDI_ERR_INVALID_ARG;
	if ((r = begin_conn(out, RDP_X224_TPDU_CR, &mark)) != 0 ||
	    (r = vbuf_put(out, cookie_prefix, sizeof(cookie_prefix) - 1)) !=
		0 ||
	    (r = vbuf_put(out, user, n)) != 0 ||
	    (r = vbuf_put(out, "\r\n", 2)) != 0 ||
	    (r = put_neg(out, NEG_TYPE_REQ, 0, protocols)) != 0 ||
	    (r = end_conn(out, mark)) != 0) {
		rdp_truncate(out, mark);
		return r;
	}
	return 0;
}

int
rdp_x224_write_cc(struct vbuf *out, uint8_t flags, uint32_t selected)
{
	size_t mark = vbuf_len(out);
	int r;

	if (selected != RDP_PROTOCOL_SSL && selected != RDP_PROTOCOL_HYBRID)
		return VDI_ERR_INVALID_ARG;
	flags &= (uint8_t) ~(
	    RDP_NEG_RSP_RESTRICTED_ADMIN | RDP_NEG_RSP_REDIRECTED_AUTH);
	if ((r = begin_conn(out, RDP_X224_TPDU_CC, &mark)) != 0 ||
	    (r = put_neg(out, NEG_TYPE_RSP, flags, selected)) != 0 ||
	    (r = end_conn(out, mark)) != 0) {
		rdp_truncate(out, mark);
		return r;
	}
	return 0;
}

int
rdp_x224_write_neg_failure(struct vbuf *out, uint32_t code)
{
	size_t mark = vbuf_len(out);
	int r;

	if ((r = begin_conn(out, RDP_X224_TPDU_CC, &mark)) != 0 ||
	    (r = put_neg(out, NEG_TYPE_FAILURE, 0, code)) != 0 ||
	    (r = end_conn(out, mark)) != 0) {
		rdp_truncate(out, mark);
		return r;
	}
	return 0;
}

int
rdp_x224_write_data(struct vbuf *out, const void *payload, size_t len)
{
	return rdp_x224_write_data2(out, NULL, 0, payload, len);
}

int
rdp_x224_write_data2(struct vbuf *out, const void *head, size_t hlen,
    const void *payload, size_t len)
{
	static const unsigned char hdr[3] = { 0x02, RDP_X224_TPDU_DATA, 0x80 };
	size_t mark = vbuf_len(out);
	int r;

	if (hlen > RDP_FRAME_MAX || len > RDP_FRAME_MAX ||
	    hlen + len > RDP_FRAME_MAX - RDP_TPKT_HEADER_LEN - sizeof(hdr))
		return VDI_ERR_TOO_LARGE;
	if ((r = rdp_tpkt_begin(out, &mark)) != 0 ||
	    (r = vbuf_put(out, hdr, sizeof(hdr))) != 0 ||
	    (hlen > 0 && (r = vbuf_put(out, head, hlen)) != 0) ||
	    (len > 0 && (r = vbuf_put(out, payload, len)) != 0) ||
	    (r = rdp_tpkt_end(out, mark)) != 0) {
		rdp_truncate(out, mark);
		return r;
	}
	return 0;
}
