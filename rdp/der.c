/* der.c: strict DER reader and writer for CredSSP; see der.h. */
#include "config.h"

#include <string.h>

#include "rdp/der.h"

/* Reads tag and length at pos 0 of b without consuming: *hdr is the header
 * size, *len the value length. NEED_MORE-free: a short header is
 * VDI_ERR_TRUNCATED. */
static int
der_peek_header(
    const struct vbuf *b, uint8_t tag, size_t max, size_t *hdr, size_t *len)
{
	uint8_t t, l0, byte;
	size_t n, i, v = 0;
	int r;

	*hdr = 0;
	*len = 0;
	if ((r = vbuf_peek_u8(b, 0, &t)) != 0)
		return r;
	if (t != tag)
		return VDI_ERR_BAD_FORMAT;
	if ((r = vbuf_peek_u8(b, 1, &l0)) != 0)
		return r;
	if (l0 < 0x80) {
		v = l0;
		n = 0;
	} else {
		n = l0 & 0x7F;
		if (n == 0)
			return VDI_ERR_BAD_FORMAT; /* indefinite length */
		if (n > RDP_DER_LEN_BYTES_MAX)
			return VDI_ERR_TOO_LARGE;
		for (i = 0; i < n; i++) {
			if ((r = vbuf_peek_u8(b, 2 + i, &byte)) != 0)
				return r;
			if (i == 0 && byte == 0)
				return VDI_ERR_BAD_FORMAT; /* leading zero */
			v = (v << 8) | byte;
		}
		if (v < 0x80)
			return VDI_ERR_BAD_FORMAT; /* fits the short form */
	}
	if (v > max)
		return VDI_ERR_TOO_LARGE;
	*hdr = 2 + n;
	*len = v;
	return 0;
}

int
rdp_der_get_tlv(struct vbuf *b, uint8_t tag, size_t max, struct vbuf *val)
{
	size_t hdr, len;
	int r;

	memset(val, 0, sizeof(*val));
	if ((r = der_peek_header(b, tag, max, &hdr, &len)) != 0)
		return r;
	if (len > vbuf_len(b) - hdr)
		return VDI_ERR_TRUNCATED;
	if ((r = vbuf_peek_view(b, hdr, len, val)) != 0)
		return r;
	return vbuf_consume(b, hdr + len);
}

int
rdp_der_peek_tag(const struct vbuf *b, uint8_t *tag)
{
	return vbuf_peek_u8(b, 0, tag);
}

int
rdp_der_peek_size(const struct vbuf *b, uint8_t tag, size_t max, size_t *total)
{
	size_t hdr, len;
	int r;

	*total = 0;
	r = der_peek_header(b, tag, max, &hdr, &len);
	if (r == VDI_ERR_TRUNCATED)
		return VDI_ERR_NEED_MORE;
	if (r != 0)
		return r;
	*total = hdr + len;
	return 0;
}

/* The content bytes of an INTEGER: 1..5, shortest form. */
static int
der_get_int_content(struct vbuf *b, struct vbuf *val)
{
	const unsigned char *p;
	struct vbuf start = *b;
	size_t n;
	int r;

	if ((r = rdp_der_get_tlv(b, RDP_DER_INTEGER, 16, val)) != 0)
		return r;
	n = vbuf_len(val);
	p = vbuf_ptr(val);
	r = 0;
	if (n == 0)
		r = VDI_ERR_BAD_FORMAT;
	else if (n > 1 &&
	    ((p[0] == 0x00 && (p[1] & 0x80) == 0) ||
		(p[0] == 0xFF && (p[1] & 0x80) != 0)))
		r = VDI_ERR_BAD_FORMAT; /* not the shortest form */
	else if (n > 5 || (n == 5 && p[0] != 0x00))
		r = VDI_ERR_TOO_LARGE;
	if (r != 0) {
		*b = start;
		memset(val, 0, sizeof(*val));
	}
	return r;
}

int
rdp_der_get_uint(struct vbuf *b, uint32_t *v)
{
	struct vbuf start = *b, val;
	uint8_t byte;
	int r;

	*v = 0;
	if ((r = der_get_int_content(b, &val)) != 0)
		return r;
	if ((*vbuf_ptr(&val) & 0x80) != 0) {
		*b = start;
		return VDI_ERR_BAD_FORMAT; /* negative */
	}
	while (vbuf_get_u8(&val, &byte) == 0)
		*v = (*v << 8) | byte;
	return 0;
}

int
rdp_der_get_u32bits(struct vbuf *b, uint32_t *v)
{
	struct vbuf val;
	uint8_t byte;
	uint32_t x;
	int r;

	*v = 0;
	if ((r = der_get_int_content(b, &val)) != 0)
		return r;
	/* Sign-extend: a negative value starts from all ones. */
	x = (*vbuf_ptr(&val) & 0x80) != 0 ? UINT32_MAX : 0;
	while (vbuf_get_u8(&val, &byte) == 0)
		x = (x << 8) | byte;
	*v = x;
	return 0;
}

size_t
rdp_der_len_size(size_t len)
{
	if (len < 0x80)
		return 1;
	if (len <= 0xFF)
		return 2;
	if (len <= 0xFFFF)
		return 3;
	return 4;
}

size_t
rdp_der_tlv_size(size_t len)
{
	return 1 + rdp_der_len_size(len) + len;
}

/* Content bytes of an INTEGER: the shortest two's complement of v as a
 * non-negative (signed == 0) or as an int32 (signed == 1). */
static size_t
der_int_bytes(uint32_t v, int is_signed, unsigned char out[5])
{
	unsigned char be[5];
	size_t i = 0;

	be[0] = (is_signed && (v & 0x80000000u)) ? 0xFF : 0x00;
	be[1] = (unsigned char)(v >> 24);
	be[2] = (unsigned char)(v >> 16);
	be[3] = (unsigned char)(v >> 8);
	be[4] = (unsigned char)v;
	/* Drop a leading byte while the next keeps the sign. */
	while (i < 4 &&
	    ((be[i] == 0x00 && (be[i + 1] & 0x80) == 0) ||
		(be[i] == 0xFF && (be[i + 1] & 0x80) != 0)))
		i++;
	memcpy(out, be + i, 5 - i);
	return 5 - i;
}

size_t
rdp_der_uint_size(uint32_t v)
{
	unsigned char c[5];

	return 2 + der_int_bytes(v, 0, c);
}

size_t
rdp_der_i32_size(uint32_t v)
{
	unsigned char c[5];

	return 2 + der_int_bytes(v, 1, c);
}

int
rdp_der_put_header(struct vbuf *b, uint8_t tag, size_t len)
{
	unsigned char h[2 + RDP_DER_LEN_BYTES_MAX];
	size_t n = 0;

	if (len > RDP_DER_LEN_MAX)
		return VDI_ERR_TOO_LARGE;
	h[n++] = tag;
	if (len < 0x80)
		h[n++] = (unsigned char)len;
	else if (len <= 0xFF) {
		h[n++] = 0x81;
		h[n++] = (unsigned char)len;
	} else if (len <= 0xFFFF) {
		h[n++] = 0x82;
		h[n++] = (unsigned char)(len >> 8);
		h[n++] = (unsigned char)len;
	} else {
		h[n++] = 0x83;
		h[n++] = (unsigned char)(len >> 16);
		h[n++] = (unsigned char)(len >> 8);
		h[n++] = (unsigned char)len;
	}
	return vbuf_put(b, h, n);
}

int
rdp_der_put_tlv(struct vbuf *b, uint8_t tag, const void *data, size_t len)
{
	unsigned char *p;
	int r;

	if (len > RDP_DER_LEN_MAX)
		return VDI_ERR_TOO_LARGE;
	/* Room for all of it first, so the second put cannot fail. */
	if ((r = vbuf_space(b, rdp_der_tlv_size(len), &p)) != 0)
		return r;
	if ((r = rdp_der_put_header(b, tag, len)) != 0)
		return r;
	return vbuf_put(b, data, len);
}

static int
der_put_int(struct vbuf *b, uint32_t v, int is_signed)
{
	unsigned char e[2 + 5];
	size_t n;

	n = der_int_bytes(v, is_signed, e + 2);
	e[0] = RDP_DER_INTEGER;
	e[1] = (unsigned char)n;
	return vbuf_put(b, e, 2 + n);
}

int
rdp_der_put_uint(struct vbuf *b, uint32_t v)
{
	return der_put_int(b, v, 0);
}

int
rdp_der_put_i32(struct vbuf *b, uint32_t v)
{
	return der_put_int(b, v, 1);
}
