/* privmsg.c: the privilege-separation frame layout (privmsg.h). */
#include "config.h"

#include <string.h>

#include <openssl/crypto.h>

#include "privmsg.h"

int
privmsg_parse(struct vbuf *in, size_t frame_max, privmsg_body_fn body,
    privmsg_check_fn check, void *msg, size_t msglen)
{
	struct vbuf b;
	size_t total;
	int r;

	OPENSSL_cleanse(msg, msglen);
	if ((r = vbuf_peek_frame32(in, frame_max, &b, &total)) != 0)
		return r;
	if ((r = body(&b, msg)) == 0 && vbuf_len(&b) != 0)
		r = VDI_ERR_BAD_LENGTH;
	if (r == 0)
		r = check(msg);
	if (r != 0) {
		OPENSSL_cleanse(msg, msglen);
		return r;
	}
	return vbuf_consume(in, total);
}

int
privmsg_encode(struct vbuf *out, size_t frame_max, uint8_t type,
    privmsg_check_fn check, privmsg_fields_fn fields, const void *msg)
{
	size_t start;
	int r;

	if ((r = check(msg)) != 0)
		return r;
	if ((r = privmsg_frame_begin(out, type, &start)) == 0)
		r = fields(out, msg);
	return privmsg_frame_end(out, start, frame_max, r);
}

int
privmsg_get_i32(struct vbuf *b, int32_t *v)
{
	uint32_t u;
	int r;

	*v = 0;
	if ((r = vbuf_get_u32be(b, &u)) != 0)
		return r;
	*v = (int32_t)u;
	return 0;
}

int
privmsg_put_i32(struct vbuf *b, int32_t v)
{
	return vbuf_put_u32be(b, (uint32_t)v);
}

int
privmsg_get_field(struct vbuf *b, size_t max, void *out, size_t *len, int text)
{
	uint16_t n;
	int r;

	*len = 0;
	if ((r = vbuf_get_u16be(b, &n)) != 0)
		return r;
	if (n > max)
		return VDI_ERR_TOO_LARGE;
	if (n > vbuf_len(b))
		return VDI_ERR_TRUNCATED;
	if (text && memchr(vbuf_ptr(b), '\0', n) != NULL)
		return VDI_ERR_BAD_FORMAT;
	if ((r = vbuf_get_bytes(b, out, n)) != 0)
		return r;
	if (text)
		((char *)out)[n] = '\0';
	*len = n;
	return 0;
}

int
privmsg_put_field(struct vbuf *b, const void *p, size_t len)
{
	int r;

	if (len > UINT16_MAX)
		return VDI_ERR_TOO_LARGE;
	if ((r = vbuf_put_u16be(b, (uint16_t)len)) != 0)
		return r;
	return vbuf_put(b, p, len);
}

int
privmsg_frame_begin(struct vbuf *b, uint8_t type, size_t *start)
{
	int r;

	*start = vbuf_len(b);
	if ((r = vbuf_put_u32be(b, 0)) != 0)
		return r;
	return vbuf_put_u8(b, type);
}

int
privmsg_frame_end(struct vbuf *b, size_t start, size_t frame_max, int r)
{
	unsigned char *p;
	size_t len;

	if (r == 0) {
		len = vbuf_len(b) - start - PRIVMSG_HEADER_LEN;
		if (len > frame_max)
			r = VDI_ERR_TOO_LARGE;
		else if ((r = vbuf_poke_u8(b, start, 0)) == 0 &&
		    (r = vbuf_poke_u8(b, start + 1, 0)) == 0 &&
		    (r = vbuf_poke_u8(b, start + 2, (uint8_t)(len >> 8))) == 0)
			r = vbuf_poke_u8(b, start + 3, (uint8_t)len);
	}
	if (r != 0 && vbuf_len(b) > start) {
		/* Wipe what was written: it may be a password or a key's
		 * input. */
		if ((p = vbuf_mutable_ptr(b)) != NULL)
			OPENSSL_cleanse(p + start, vbuf_len(b) - start);
		if (vbuf_consume_end(b, vbuf_len(b) - start) != 0)
			return VDI_ERR_INTERNAL;
	}
	return r;
}

int
privmsg_b64url_ok(const char *s, size_t len, int dots)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
			(s[i] >= 'A' && s[i] <= 'Z') ||
			(s[i] >= '0' && s[i] <= '9') || s[i] == '-' ||
			s[i] == '_' || (dots && s[i] == '.')))
			return 0;
	}
	return 1;
}
