/*
 * vbuf.h: bounded byte buffers with checked readers and writers.
 *
 * In the spirit of OpenSSH's sshbuf. A vbuf holds bytes between a read
 * offset and an end; getters consume from the front, putters append at the
 * end. Rules every function follows:
 *   - every getter checks the length first and returns VDI_ERR_TRUNCATED
 *     without consuming anything when the data is short; on any error
 *     nothing is consumed and nothing is appended;
 *   - output arguments are cleared on entry, so a failed getter never leaves
 *     stale values behind;
 *   - a buffer never grows past its hard maximum (VDI_ERR_TOO_LARGE);
 *   - views (vbuf_init_view, vbuf_get_view) are read-only windows onto
 *     memory owned by someone else; writes to them fail with
 *     VDI_ERR_READONLY. They live on the caller's stack and are not freed.
 *
 * There are no unchecked access macros. Multi-byte integers are little
 * endian (le) or big endian (be) as named.
 */
#ifndef VDI_VBUF_H
#define VDI_VBUF_H

#include <stddef.h>
#include <stdint.h>

#include "vdierr.h"

/* Largest buffer anyone may ask for. */
#define VBUF_SIZE_MAX (64u * 1024u * 1024u)

/* The fields are private: use the functions. The struct is public only so
 * that views can live on the stack without an allocation. */
struct vbuf {
	unsigned char *d;        /* writable storage; NULL for views */
	const unsigned char *cd; /* readable storage (== d unless a view) */
	size_t off;              /* read offset */
	size_t end;              /* end of valid data */
	size_t alloc;            /* bytes allocated at d */
	size_t max;              /* hard maximum of end - off + appended data */
	size_t hw; /* bytes of d that may have held data: what a wipe clears */
	int readonly;
};

/* Allocates an empty writable buffer that may hold at most max_size bytes
 * (1..VBUF_SIZE_MAX). Returns NULL on allocation failure or a bad size. The
 * caller frees it with vbuf_free(). */
struct vbuf *vbuf_new(size_t max_size) VDI_WUR;

/* Frees a buffer from vbuf_new(), wiping its storage. NULL is accepted. Never
 * call it on a view. */
void vbuf_free(struct vbuf *b);

/* Makes v a read-only view of len bytes at data. The caller keeps data alive
 * and unchanged for as long as v is used. */
void vbuf_init_view(struct vbuf *v, const void *data, size_t len);

/* Consumes n bytes from b and makes child a read-only view of them. */
int vbuf_get_view(struct vbuf *b, size_t n, struct vbuf *child) VDI_WUR;

/* Makes child a read-only view of n bytes starting pos bytes into b's unread
 * data, consuming nothing. */
int vbuf_peek_view(
    const struct vbuf *b, size_t pos, size_t n, struct vbuf *child) VDI_WUR;

/*
 * A length-prefixed frame at the front of b: a u32be length (1..max) and
 * that many bytes, as the privsep and key-process codecs frame their
 * messages. Consumes nothing: body becomes a view of the bytes after the
 * length and *total the frame's whole size, for vbuf_consume() once the
 * body has been parsed. Returns 0, VDI_ERR_NEED_MORE (the frame is not all
 * there yet), VDI_ERR_BAD_LENGTH (length 0) or VDI_ERR_TOO_LARGE (over
 * max).
 */
int vbuf_peek_frame32(
    const struct vbuf *b, size_t max, struct vbuf *body, size_t *total) VDI_WUR;

/* Number of unread bytes. */
size_t vbuf_len(const struct vbuf *b);

/* Bytes that may still be appended before the hard maximum. 0 for views. */
size_t vbuf_avail(const struct vbuf *b);

/* Pointer to the first unread byte (valid until the next write). */
const unsigned char *vbuf_ptr(const struct vbuf *b);

/* Mutable pointer to the first unread byte; NULL for read-only buffers. */
unsigned char *vbuf_mutable_ptr(struct vbuf *b);

/* Discards n bytes from the front / from the end. */
int vbuf_consume(struct vbuf *b, size_t n) VDI_WUR;
int vbuf_consume_end(struct vbuf *b, size_t n) VDI_WUR;

/* Empties a writable buffer (keeps its storage). vbuf_wipe() also overwrites
 * the storage: use it for buffers that held secrets. */
void vbuf_reset(struct vbuf *b);
void vbuf_wipe(struct vbuf *b);

/* Readers. */
int vbuf_get_u8(struct vbuf *b, uint8_t *v) VDI_WUR;
int vbuf_get_u16le(struct vbuf *b, uint16_t *v) VDI_WUR;
int vbuf_get_u16be(struct vbuf *b, uint16_t *v) VDI_WUR;
int vbuf_get_u32le(struct vbuf *b, uint32_t *v) VDI_WUR;
int vbuf_get_u32be(struct vbuf *b, uint32_t *v) VDI_WUR;
int vbuf_get_u64le(struct vbuf *b, uint64_t *v) VDI_WUR;
int vbuf_get_bytes(struct vbuf *b, void *out, size_t n) VDI_WUR;

/* Peeks at an integer pos bytes into the unread data without consuming. */
int vbuf_peek_u8(const struct vbuf *b, size_t pos, uint8_t *v) VDI_WUR;
int vbuf_peek_u16le(const struct vbuf *b, size_t pos, uint16_t *v) VDI_WUR;
int vbuf_peek_u16be(const struct vbuf *b, size_t pos, uint16_t *v) VDI_WUR;
int vbuf_peek_u32le(const struct vbuf *b, size_t pos, uint32_t *v) VDI_WUR;

/* PER length determinant as RDP peers write it (T.125/GCC; Windows,
 * FreeRDP and xrdp alike): one byte 0..0x7F, or two bytes 1xxxxxxx
 * xxxxxxxx carrying 15 bits (0..0x7FFF). Strict X.691 would give the
 * second byte's top bit to a fragmentation marker, but RDP never fragments
 * and FreeRDP sends 15-bit lengths for large Send Data PDUs, so reading
 * X.691 literally would cut real sessions. Every length read this way is
 * still checked against the data that follows it. */
int vbuf_get_per_length(struct vbuf *b, uint16_t *len) VDI_WUR;

/* BER length (X.690 definite form): short form, or 0x81..0x84 followed by
 * that many big-endian bytes. Indefinite length (0x80) and longer forms are
 * refused with VDI_ERR_BAD_FORMAT / VDI_ERR_UNSUPPORTED. */
int vbuf_get_ber_length(struct vbuf *b, uint32_t *len) VDI_WUR;

/* Writers: append at the end, growing up to the hard maximum. */
int vbuf_put_u8(struct vbuf *b, uint8_t v) VDI_WUR;
int vbuf_put_u16le(struct vbuf *b, uint16_t v) VDI_WUR;
int vbuf_put_u16be(struct vbuf *b, uint16_t v) VDI_WUR;
int vbuf_put_u32le(struct vbuf *b, uint32_t v) VDI_WUR;
int vbuf_put_u32be(struct vbuf *b, uint32_t v) VDI_WUR;
int vbuf_put_u64le(struct vbuf *b, uint64_t v) VDI_WUR;
int vbuf_put(struct vbuf *b, const void *data, size_t n) VDI_WUR;
/* Appends the unread bytes of src (src is not consumed). */
int vbuf_put_buf(struct vbuf *b, const struct vbuf *src) VDI_WUR;
/* Appends n zero bytes and returns a pointer to them in *p (valid until the
 * next write). */
int vbuf_reserve(struct vbuf *b, size_t n, unsigned char **p) VDI_WUR;

/*
 * For I/O into the buffer without a copy: vbuf_space() makes room for n
 * more bytes and points *p at them without appending anything (the bytes
 * are not initialised; valid until the next write); vbuf_commit() then
 * appends the first n of them (n no more than vbuf_space() gave).
 */
int vbuf_space(struct vbuf *b, size_t n, unsigned char **p) VDI_WUR;
int vbuf_commit(struct vbuf *b, size_t n) VDI_WUR;

/* Bytes of storage a buffer holds (what vbuf_release() would free). */
size_t vbuf_storage(const struct vbuf *b);

/* Frees an empty writable buffer's storage (wiped first), so that an idle
 * buffer costs nothing; it grows again on the next write. A buffer that
 * still holds unread bytes is left as it is. */
void vbuf_release(struct vbuf *b);

/* Shortest encodings: PER 1 or 2 bytes (len <= 0x7FFF, else
 * VDI_ERR_TOO_LARGE); BER short form or 0x81/0x82/0x83/0x84. */
int vbuf_put_per_length(struct vbuf *b, uint16_t len) VDI_WUR;
int vbuf_put_ber_length(struct vbuf *b, uint32_t len) VDI_WUR;

/* Overwrite bytes already in the buffer, pos bytes into the unread data. */
int vbuf_poke_u8(struct vbuf *b, size_t pos, uint8_t v) VDI_WUR;
int vbuf_poke_u16le(struct vbuf *b, size_t pos, uint16_t v) VDI_WUR;
int vbuf_poke_u16be(struct vbuf *b, size_t pos, uint16_t v) VDI_WUR;
int vbuf_poke_u32le(struct vbuf *b, size_t pos, uint32_t v) VDI_WUR;

#endif
