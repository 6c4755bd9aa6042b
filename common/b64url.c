/* b64url.c: strict base64url without padding (see b64url.h). */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include <openssl/crypto.h>

#include "b64url.h"

/*
 * Character mapping without table lookups or data-dependent branches, so
 * that decoding a secret does not leak it through the cache. Masks are
 * all-ones or zero; arguments are below 2^31.
 */
static uint32_t
ct_ge(uint32_t x, uint32_t y)
{
	return ((x - y) >> 31) - 1u;
}

static uint32_t
ct_in(uint32_t x, uint32_t lo, uint32_t hi)
{
	return ct_ge(x, lo) & ct_ge(hi, x);
}

/* 0..63 for a base64url character, else -1. */
static int
b64url_value(unsigned char ch)
{
	uint32_t c = ch, v;

	/* Each value is stored plus one so that 0 can mean "no match". */
	v = (ct_in(c, 'A', 'Z') & (c - 'A' + 1)) |
	    (ct_in(c, 'a', 'z') & (c - 'a' + 27)) |
	    (ct_in(c, '0', '9') & (c - '0' + 53)) | (ct_in(c, '-', '-') & 63) |
	    (ct_in(c, '_', '_') & 64);
	return (int)v - 1;
}

/* The character for a 6-bit value x. */
static char
b64url_char(uint32_t x)
{
	uint32_t c = x + 'A';

	c += ct_ge(x, 26) & ('a' - 'A' - 26);        /* 26..51 -> a..z */
	c -= ct_ge(x, 52) & ('a' - 26 - ('0' - 52)); /* 52..61 -> 0..9 */
	c -= ct_ge(x, 62) & ('0' - 52 - ('-' - 62)); /* 62 -> '-' */
	c += ct_ge(x, 63) & ('_' - 63 - ('-' - 62)); /* 63 -> '_' */
	return (char)c;
}

int
b64url_encoded_len(size_t rawlen, size_t *enclen)
{
	*enclen = 0;
	if (rawlen > B64URL_RAW_MAX)
		return VDI_ERR_TOO_LARGE;
	*enclen = rawlen / 3 * 4 + (rawlen % 3 == 0 ? 0 : rawlen % 3 + 1);
	return 0;
}

int
b64url_decoded_len(size_t enclen, size_t *rawlen)
{
	static const size_t tail[4] = { 0, 0, 1, 2 };

	*rawlen = 0;
	if (enclen % 4 == 1)
		return VDI_ERR_BASE64;
	*rawlen = enclen / 4 * 3 + tail[enclen % 4];
	return 0;
}

int
b64url_encode(const void *src, size_t len, char *dst, size_t dstsize)
{
	const unsigned char *s = src;
	size_t need, i, o = 0;
	uint32_t w;
	int r;

	if ((r = b64url_encoded_len(len, &need)) != 0)
		return r;
	if (dstsize == 0 || need > dstsize - 1)
		return VDI_ERR_TOO_LARGE;
	for (i = 0; len - i >= 3; i += 3) {
		w = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
		dst[o++] = b64url_char(w >> 18);
		dst[o++] = b64url_char((w >> 12) & 0x3f);
		dst[o++] = b64url_char((w >> 6) & 0x3f);
		dst[o++] = b64url_char(w & 0x3f);
	}
	if (len - i == 1) {
		w = (uint32_t)s[i] << 16;
		dst[o++] = b64url_char(w >> 18);
		dst[o++] = b64url_char((w >> 12) & 0x3f);
	} else if (len - i == 2) {
		w = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8;
		dst[o++] = b64url_char(w >> 18);
		dst[o++] = b64url_char((w >> 12) & 0x3f);
		dst[o++] = b64url_char((w >> 6) & 0x3f);
	}
	dst[o] = '\0';
	return 0;
}

int
b64url_encode_alloc(const void *src, size_t len, char **out)
{
	size_t need;
	char *s;
	int r;

	*out = NULL;
	if ((r = b64url_encoded_len(len, &need)) != 0)
		return r;
	if ((s = malloc(need + 1)) == NULL)
		return VDI_ERR_ALLOC;
	if ((r = b64url_encode(src, len, s, need + 1)) != 0) {
		free(s);
		return r;
	}
	*out = s;
	return 0;
}

/* Checks every character and the unused trailing bits; writes nothing. */
static int
b64url_validate(const char *src, size_t len)
{
	uint32_t bad = 0;
	size_t i;
	int v;

	for (i = 0; i < len; i++) {
		v = b64url_value((unsigned char)src[i]);
		bad |= (uint32_t)v >> 31;
	}
	if (bad)
		return VDI_ERR_BASE64;
	/* The last character of a partial group carries 2 or 4 unused bits,
	 * which must be zero for the encoding to be the canonical one. */
	if (len % 4 == 2 && (b64url_value((unsigned char)src[len - 1]) & 0x0f))
		return VDI_ERR_BASE64;
	if (len % 4 == 3 && (b64url_value((unsigned char)src[len - 1]) & 0x03))
		return VDI_ERR_BASE64;
	return 0;
}

int
b64url_decode(
    const char *src, size_t len, void *dst, size_t dstsize, size_t *outlen)
{
	unsigned char *d = dst;
	size_t need, i, o = 0;
	uint32_t w;
	int r;

	*outlen = 0;
	if ((r = b64url_decoded_len(len, &need)) != 0)
		return r;
	if ((r = b64url_validate(src, len)) != 0)
		return r;
	if (need > dstsize)
		return VDI_ERR_TOO_LARGE;
	for (i = 0; len - i >= 4; i += 4) {
		w = (uint32_t)b64url_value((unsigned char)src[i]) << 18 |
		    (uint32_t)b64url_value((unsigned char)src[i + 1]) << 12 |
		    (uint32_t)b64url_value((unsigned char)src[i + 2]) << 6 |
		    (uint32_t)b64url_value((unsigned char)src[i + 3]);
		d[o++] = (unsigned char)(w >> 16);
		d[o++] = (unsigned char)(w >> 8);
		d[o++] = (unsigned char)w;
	}
	if (len - i >= 2) {
		w = (uint32_t)b64url_value((unsigned char)src[i]) << 18 |
		    (uint32_t)b64url_value((unsigned char)src[i + 1]) << 12;
		if (len - i == 3)
			w |= (uint32_t)b64url_value((unsigned char)src[i + 2])
			    << 6;
		d[o++] = (unsigned char)(w >> 16);
		if (len - i == 3)
			d[o++] = (unsigned char)(w >> 8);
	}
	*outlen = o;
	return 0;
}

int
b64url_decode_alloc(
    const char *src, size_t len, unsigned char **out, size_t *outlen)
{
	unsigned char *d;
	size_t need;
	int r;

	*out = NULL;
	*outlen = 0;
	if ((r = b64url_decoded_len(len, &need)) != 0)
		return r;
	if ((d = malloc(need + 1)) == NULL)
		return VDI_ERR_ALLOC;
	if ((r = b64url_decode(src, len, d, need, outlen)) != 0) {
		free(d);
		return r;
	}
	d[*outlen] = '\0';
	*out = d;
	return 0;
}
