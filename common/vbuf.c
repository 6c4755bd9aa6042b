/* vbuf.c: bounded byte buffers (see vbuf.h for the rules). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "vbuf.h"

#define VBUF_INITIAL 256

/* Clears the bytes of d that may have held data (never the rest of the
 * allocation: a buffer grown for one large PDU is not wiped in full each
 * time it is reused or freed). */
static void
wipe_used(struct vbuf *b)
{
	if (b->d != NULL && b->hw > 0)
		OPENSSL_cleanse(b->d, b->hw);
	b->hw = 0;
}

/* After bytes up to b->end (or a window handed out up to mark) were
 * written. */
static void
mark_used(struct vbuf *b, size_t mark)
{
	if (mark > b->hw)
		b->hw = mark;
}

struct vbuf *
vbuf_new(size_t max_size)
{
	struct vbuf *b;

	if (max_size == 0 || max_size > VBUF_SIZE_MAX)
		return NULL;
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return NULL;
	b->max = max_size;
	return b;
}

void
vbuf_free(struct vbuf *b)
{
	if (b == NULL)
		return;
	if (b->d != NULL) {
		wipe_used(b);
		free(b->d);
	}
	OPENSSL_cleanse(b, sizeof(*b));
	free(b);
}

void
vbuf_init_view(struct vbuf *v, const void *data, size_t len)
{
	memset(v, 0, sizeof(*v));
	v->cd = data;
	v->end = len;
	v->alloc = len;
	v->max = len;
	v->readonly = 1;
}

size_t
vbuf_len(const struct vbuf *b)
{
	return b->end - b->off;
}

size_t
vbuf_avail(const struct vbuf *b)
{
	if (b->readonly)
		return 0;
	return b->max - vbuf_len(b);
}

const unsigned char *
vbuf_ptr(const struct vbuf *b)
{
	if (b->cd == NULL)
		return (const unsigned char *)"";
	return b->cd + b->off;
}

unsigned char *
vbuf_mutable_ptr(struct vbuf *b)
{
	if (b->readonly || b->d == NULL)
		return NULL;
	return b->d + b->off;
}

int
vbuf_peek_view(const struct vbuf *b, size_t pos, size_t n, struct vbuf *child)
{
	memset(child, 0, sizeof(*child));
	if (pos > vbuf_len(b) || n > vbuf_len(b) - pos)
		return VDI_ERR_TRUNCATED;
	vbuf_init_view(child, vbuf_ptr(b) + pos, n);
	return 0;
}

int
vbuf_get_view(struct vbuf *b, size_t n, struct vbuf *child)
{
	int r;

	if ((r = vbuf_peek_view(b, 0, n, child)) != 0)
		return r;
	b->off += n;
	return 0;
}

int
vbuf_consume(struct vbuf *b, size_t n)
{
	if (n > vbuf_len(b))
		return VDI_ERR_TRUNCATED;
	b->off += n;
	if (b->off == b->end && !b->readonly)
		b->off = b->end = 0;
	return 0;
}

int
vbuf_consume_end(struct vbuf *b, size_t n)
{
	if (n > vbuf_len(b))
		return VDI_ERR_TRUNCATED;
	b->end -= n;
	return 0;
}

void
vbuf_reset(struct vbuf *b)
{
	if (b->readonly)
		return;
	b->off = b->end = 0;
}

void
vbuf_wipe(struct vbuf *b)
{
	if (b->readonly)
		return;
	wipe_used(b);
	b->off = b->end = 0;
}

/* Makes room for n more bytes at the end; appends nothing. */
static int
vbuf_make_room(struct vbuf *b, size_t n)
{
	size_t need, nalloc;
	unsigned char *nd;

	if (b->readonly)
		return VDI_ERR_READONLY;
	if (n > b->max - vbuf_len(b))
		return VDI_ERR_TOO_LARGE;
	if (n <= b->alloc - b->end)
		return 0;
	/* Reclaim consumed space first. */
	if (b->off > 0) {
		memmove(b->d, b->d + b->off, b->end - b->off);
		b->end -= b->off;
		b->off = 0;
		b->cd = b->d;
		if (n <= b->alloc - b->end)
			return 0;
	}
	need = b->end + n;
	nalloc = b->alloc < VBUF_INITIAL ? VBUF_INITIAL : b->alloc;
	while (nalloc < need)
		nalloc = nalloc > b->max / 2 ? b->max : nalloc * 2;
	if (nalloc > b->max)
		nalloc = b->max;
	if ((nd = malloc(nalloc)) == NULL)
		return VDI_ERR_ALLOC;
	if (b->d != NULL) {
		memcpy(nd, b->d, b->end);
		wipe_used(b);
		free(b->d);
	}
	b->d = nd;
	b->cd = nd;
	b->alloc = nalloc;
	b->hw = b->end;
	return 0;
}

int
vbuf_space(struct vbuf *b, size_t n, unsigned char **p)
{
	int r;

	*p = NULL;
	if ((r = vbuf_make_room(b, n)) != 0)
		return r;
	*p = b->d + b->end;
	mark_used(b, b->end + n);
	return 0;
}

int
vbuf_commit(struct vbuf *b, size_t n)
{
	if (b->readonly)
		return VDI_ERR_READONLY;
	if (n > b->alloc - b->end || n > b->max - vbuf_len(b))
		return VDI_ERR_TOO_LARGE;
	b->end += n;
	mark_used(b, b->end);
	return 0;
}

size_t
vbuf_storage(const struct vbuf *b)
{
	return b->readonly ? 0 : b->alloc;
}

void
vbuf_release(struct vbuf *b)
{
	if (b->readonly || b->d == NULL || b->off != b->end)
		return;
	wipe_used(b);
	free(b->d);
	b->d = NULL;
	b->cd = NULL;
	b->alloc = 0;
	b->off = b->end = 0;
}

int
vbuf_reserve(struct vbuf *b, size_t n, unsigned char **p)
{
	int r;

	if (p != NULL)
		*p = NULL;
	if ((r = vbuf_make_room(b, n)) != 0)
		return r;
	if (n > 0)
		memset(b->d + b->end, 0, n);
	if (p != NULL)
		*p = b->d + b->end;
	b->end += n;
	mark_used(b, b->end);
	return 0;
}

int
vbuf_put(struct vbuf *b, const void *data, size_t n)
{
	unsigned char *p;
	int r;

	if (n == 0)
		return b->readonly ? VDI_ERR_READONLY : 0;
	/* Not vbuf_reserve(): its zero fill would only be overwritten. */
	if ((r = vbuf_make_room(b, n)) != 0)
		return r;
	p = b->d + b->end;
	memcpy(p, data, n);
	b->end += n;
	mark_used(b, b->end);
	return 0;
}

int
vbuf_put_buf(struct vbuf *b, const struct vbuf *src)
{
	return vbuf_put(b, vbuf_ptr(src), vbuf_len(src));
}

/* --- integer readers ------------------------------------------------------ */

static uint64_t
load_le(const unsigned char *p, size_t n)
{
	uint64_t v = 0;

	while (n-- > 0)
		v = (v << 8) | p[n];
	return v;
}

static uint64_t
load_be(const unsigned char *p, size_t n)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

static int
peek_int(const struct vbuf *b, size_t pos, size_t n, int be, uint64_t *v)
{
	*v = 0;
	if (pos > vbuf_len(b) || n > vbuf_len(b) - pos)
		return VDI_ERR_TRUNCATED;
	*v = be ? load_be(vbuf_ptr(b) + pos, n) : load_le(vbuf_ptr(b) + pos, n);
	return 0;
}

#define VBUF_GETTER(name, type, size, be)                                      \
	int vbuf_get_##name(struct vbuf *b, type *v)                           \
	{                                                                      \
		uint64_t t;                                                    \
		int r;                                                         \
                                                                               \
		*v = 0;                                                        \
		if ((r = peek_int(b, 0, size, be, &t)) != 0)                   \
			return r;                                              \
		b->off += size;                                                \
		*v = (type)t;                                                  \
		return 0;                                                      \
	}

#define VBUF_PEEKER(name, type, size, be)                                      \
	int vbuf_peek_##name(const struct vbuf *b, size_t pos, type *v)        \
	{                                                                      \
		uint64_t t;                                                    \
		int r;                                                         \
                                                                               \
		*v = 0;                                                        \
		if ((r = peek_int(b, pos, size, be, &t)) != 0)                 \
			return r;                                              \
		*v = (type)t;                                                  \
		return 0;                                                      \
	}

VBUF_GETTER(u8, uint8_t, 1, 0)
VBUF_GETTER(u16le, uint16_t, 2, 0)
VBUF_GETTER(u16be, uint16_t, 2, 1)
VBUF_GETTER(u32le, uint32_t, 4, 0)
VBUF_GETTER(u32be, uint32_t, 4, 1)
VBUF_GETTER(u64le, uint64_t, 8, 0)
VBUF_PEEKER(u8, uint8_t, 1, 0)
VBUF_PEEKER(u16le, uint16_t, 2, 0)
VBUF_PEEKER(u16be, uint16_t, 2, 1)
VBUF_PEEKER(u32le, uint32_t, 4, 0)

int
vbuf_get_bytes(struct vbuf *b, void *out, size_t n)
{
	if (n > 0)
		memset(out, 0, n);
	if (n > vbuf_len(b))
		return VDI_ERR_TRUNCATED;
	if (n > 0)
		memcpy(out, vbuf_ptr(b), n);
	b->off += n;
	return 0;
}

int
vbuf_get_per_length(struct vbuf *b, uint16_t *len)
{
	uint8_t b0 = 0, b1 = 0;
	int r;

	*len = 0;
	if ((r = vbuf_peek_u8(b, 0, &b0)) != 0)
		return r;
	if ((b0 & 0x80) == 0) {
		*len = b0;
		b->off += 1;
		return 0;
	}
	if ((r = vbuf_peek_u8(b, 1, &b1)) != 0)
		return r;
	*len = (uint16_t)(((b0 & 0x7F) << 8) | b1);
	b->off += 2;
	return 0;
}

int
vbuf_get_ber_length(struct vbuf *b, uint32_t *len)
{
	uint8_t b0 = 0;
	uint64_t v;
	size_t n;
	int r;

	*len = 0;
	if ((r = vbuf_peek_u8(b, 0, &b0)) != 0)
		return r;
	if ((b0 & 0x80) == 0) {
		*len = b0;
		b->off += 1;
		return 0;
	}
	n = b0 & 0x7F;
	if (n == 0)
		return VDI_ERR_BAD_FORMAT; /* indefinite length */
	if (n > 4)
		return VDI_ERR_UNSUPPORTED;
	if ((r = peek_int(b, 1, n, 1, &v)) != 0)
		return r;
	*len = (uint32_t)v;
	b->off += 1 + n;
	return 0;
}

/* --- integer writers ------------------------------------------------------ */

static void
store_le(unsigned char *p, uint64_t v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++, v >>= 8)
		p[i] = (unsigned char)(v & 0xFF);
}

static void
store_be(unsigned char *p, uint64_t v, size_t n)
{
	while (n-- > 0) {
		p[n] = (unsigned char)(v & 0xFF);
		v >>= 8;
	}
}

static int
put_int(struct vbuf *b, uint64_t v, size_t n, int be)
{
	unsigned char *p;
	int r;

	if ((r = vbuf_reserve(b, n, &p)) != 0)
		return r;
	if (be)
		store_be(p, v, n);
	else
		store_le(p, v, n);
	return 0;
}

int
vbuf_put_u8(struct vbuf *b, uint8_t v)
{
	return put_int(b, v, 1, 0);
}
int
vbuf_put_u16le(struct vbuf *b, uint16_t v)
{
	return put_int(b, v, 2, 0);
}
int
vbuf_put_u16be(struct vbuf *b, uint16_t v)
{
	return put_int(b, v, 2, 1);
}
int
vbuf_put_u32le(struct vbuf *b, uint32_t v)
{
	return put_int(b, v, 4, 0);
}
int
vbuf_put_u32be(struct vbuf *b, uint32_t v)
{
	return put_int(b, v, 4, 1);
}
int
vbuf_put_u64le(struct vbuf *b, uint64_t v)
{
	return put_int(b, v, 8, 0);
}

int
vbuf_put_per_length(struct vbuf *b, uint16_t len)
{
	if (len > 0x7FFF)
		return VDI_ERR_TOO_LARGE;
	if (len < 0x80)
		return put_int(b, len, 1, 0);
	return put_int(b, 0x8000u | len, 2, 1);
}

int
vbuf_put_ber_length(struct vbuf *b, uint32_t len)
{
	unsigned char tmp[5];
	size_t n;

	if (len < 0x80)
		return put_int(b, len, 1, 0);
	n = len <= 0xFF ? 1 : len <= 0xFFFF ? 2 : len <= 0xFFFFFF ? 3 : 4;
	tmp[0] = (unsigned char)(0x80 | n);
	store_be(tmp + 1, len, n);
	return vbuf_put(b, tmp, n + 1);
}

static int
poke_int(struct vbuf *b, size_t pos, uint64_t v, size_t n, int be)
{
	unsigned char *p;

	if (b->readonly)
		return VDI_ERR_READONLY;
	if (pos > vbuf_len(b) || n > vbuf_len(b) - pos)
		return VDI_ERR_TRUNCATED;
	p = b->d + b->off + pos;
	if (be)
		store_be(p, v, n);
	else
		store_le(p, v, n);
	return 0;
}

int
vbuf_poke_u8(struct vbuf *b, size_t pos, uint8_t v)
{
	return poke_int(b, pos, v, 1, 0);
}

int
vbuf_poke_u16le(struct vbuf *b, size_t pos, uint16_t v)
{
	return poke_int(b, pos, v, 2, 0);
}

int
vbuf_poke_u16be(struct vbuf *b, size_t pos, uint16_t v)
{
	return poke_int(b, pos, v, 2, 1);
}

int
vbuf_poke_u32le(struct vbuf *b, size_t pos, uint32_t v)
{
	return poke_int(b, pos, v, 4, 0);
}

int
vbuf_peek_frame32(
    const struct vbuf *b, size_t max, struct vbuf *body, size_t *total)
{
	struct vbuf hdr;
	uint32_t len = 0;
	int r;

	memset(body, 0, sizeof(*body));
	*total = 0;
	if (vbuf_len(b) < 4)
		return VDI_ERR_NEED_MORE;
	if ((r = vbuf_peek_view(b, 0, 4, &hdr)) != 0 ||
	    (r = vbuf_get_u32be(&hdr, &len)) != 0)
		return r;
	if (len == 0)
		return VDI_ERR_BAD_LENGTH;
	if (len > max)
		return VDI_ERR_TOO_LARGE;
	if (vbuf_len(b) - 4 < len)
		return VDI_ERR_NEED_MORE;
	if ((r = vbuf_peek_view(b, 4, len, body)) != 0)
		return r;
	*total = 4 + (size_t)len;
	return 0;
}
