/*
 * der.h: a small DER (X.690 distinguished encoding) reader and writer for
 * the CredSSP structures (MS-CSSP 2.2.1), over struct vbuf.
 *
 * Only what CredSSP needs: one-byte tags (universal, or context-specific
 * [0]..[30] constructed), definite lengths in their shortest form of at
 * most RDP_DER_LEN_BYTES_MAX bytes, INTEGER, OCTET STRING and SEQUENCE.
 * The reader is strict: an indefinite length (0x80), a length that is not
 * the shortest, a non-minimal INTEGER, a wrong tag or a value running past
 * what holds it are refused. Readers consume nothing on failure and clear
 * their outputs on entry; writers append nothing on failure.
 */
#ifndef VDI_RDP_DER_H
#define VDI_RDP_DER_H

#include <stddef.h>
#include <stdint.h>

#include "vbuf.h"
#include "vdierr.h"

#define RDP_DER_INTEGER      0x02
#define RDP_DER_OCTET_STRING 0x04
#define RDP_DER_SEQUENCE     0x30
/* Context-specific constructed tag [n] (explicit tagging): 0xA0 | n. */
#define RDP_DER_CTX(n) ((uint8_t)(0xA0u | (n)))

/* Longest length field read or written: 0x83 + 3 bytes (16 MiB - 1),
 * above any cap in cssp.h. */
#define RDP_DER_LEN_BYTES_MAX 3
#define RDP_DER_LEN_MAX       0xFFFFFFu

/*
 * Reads the tag and length of the element at the front of b and makes val
 * a view of its value. Returns 0; VDI_ERR_TRUNCATED when b ends inside the
 * header or the value; VDI_ERR_BAD_FORMAT for a tag other than tag, an
 * indefinite length or a length not in its shortest form; VDI_ERR_TOO_LARGE
 * for a length field of more than RDP_DER_LEN_BYTES_MAX bytes or a value
 * longer than max.
 */
int rdp_der_get_tlv(
    struct vbuf *b, uint8_t tag, size_t max, struct vbuf *val) VDI_WUR;

/* The tag at the front of b, without consuming (VDI_ERR_TRUNCATED when b is
 * empty). */
int rdp_der_peek_tag(const struct vbuf *b, uint8_t *tag) VDI_WUR;

/*
 * The size of the DER element at the front of b, header included, from its
 * header alone, for framing a stream: 0 with *total set, VDI_ERR_NEED_MORE
 * when the header is not all there, or rdp_der_get_tlv()'s errors for a
 * wrong tag, a bad length or a value longer than max. The value itself is
 * not looked at.
 */
int rdp_der_peek_size(
    const struct vbuf *b, uint8_t tag, size_t max, size_t *total) VDI_WUR;

/* An INTEGER whose value is in 0..UINT32_MAX (1..5 content bytes, the
 * shortest two's complement form). VDI_ERR_BAD_FORMAT for a negative or
 * non-minimal value, VDI_ERR_TOO_LARGE for one above UINT32_MAX. */
int rdp_der_get_uint(struct vbuf *b, uint32_t *v) VDI_WUR;

/* An INTEGER read as a 32-bit pattern: any value in INT32_MIN..UINT32_MAX
 * (negative values are taken modulo 2^32, as NTSTATUS codes are written
 * by Windows and FreeRDP alike). */
int rdp_der_get_u32bits(struct vbuf *b, uint32_t *v) VDI_WUR;

/* Bytes a length field / a whole element of a len-byte value takes. */
size_t rdp_der_len_size(size_t len);
size_t rdp_der_tlv_size(size_t len);
/* Bytes of an INTEGER element holding v (as rdp_der_put_uint writes it)
 * and of one holding the 32-bit pattern v as a signed value. */
size_t rdp_der_uint_size(uint32_t v);
size_t rdp_der_i32_size(uint32_t v);

/* Appends tag and the shortest length field for a len-byte value
 * (VDI_ERR_TOO_LARGE above RDP_DER_LEN_MAX). */
int rdp_der_put_header(struct vbuf *b, uint8_t tag, size_t len) VDI_WUR;
/* Appends a whole element: tag, length, the len bytes at data. */
int rdp_der_put_tlv(
    struct vbuf *b, uint8_t tag, const void *data, size_t len) VDI_WUR;
/* Appends an INTEGER of non-negative value v / of the 32-bit pattern v
 * read as signed (0xC000006D becomes C0 00 00 6D). */
int rdp_der_put_uint(struct vbuf *b, uint32_t v) VDI_WUR;
int rdp_der_put_i32(struct vbuf *b, uint32_t v) VDI_WUR;

#endif
