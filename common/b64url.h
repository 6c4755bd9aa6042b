/*
 * b64url.h: base64url (RFC 4648 section 5) without padding.
 *
 * The encoder never writes '='. The decoder is strict, so that every byte
 * string has exactly one accepted encoding (tokens cannot be altered
 * without changing their meaning):
 *   - only A-Z a-z 0-9 '-' '_' are accepted: no '=', no whitespace, no
 *     '+' or '/', no NUL;
 *   - an encoded length with len % 4 == 1 is impossible and refused;
 *   - the unused low bits of the last character must be zero.
 * Every failure is VDI_ERR_BASE64, except an output buffer or result that
 * is too small or too large, which is VDI_ERR_TOO_LARGE. On failure no
 * output byte is written and *outlen / *out are cleared.
 */
#ifndef VDI_B64URL_H
#define VDI_B64URL_H

#include <stddef.h>

#include "vdierr.h"

/* Largest input, in bytes, that b64url_encode*() accept (keeps all length
 * arithmetic far away from overflow). */
#define B64URL_RAW_MAX (64u * 1024u * 1024u)

/* Sets *enclen to the number of characters (without the NUL) that encoding
 * rawlen bytes produces: ceil(rawlen * 4 / 3). Returns 0, or
 * VDI_ERR_TOO_LARGE when rawlen > B64URL_RAW_MAX. */
int b64url_encoded_len(size_t rawlen, size_t *enclen) VDI_WUR;

/* Sets *rawlen to the exact number of bytes that a valid encoding of
 * enclen characters decodes to. Returns 0, or VDI_ERR_BASE64 when no
 * encoding has that length (enclen % 4 == 1). Looks at the length only:
 * the characters may still be invalid. */
int b64url_decoded_len(size_t enclen, size_t *rawlen) VDI_WUR;

/* Encodes len bytes at src into dst as a NUL-terminated string. dstsize
 * must be at least the encoded length + 1, else VDI_ERR_TOO_LARGE and dst
 * is left untouched. */
int b64url_encode(
    const void *src, size_t len, char *dst, size_t dstsize) VDI_WUR;

/* Encodes len bytes at src into a new NUL-terminated string stored in
 * *out; the caller frees it with free(). Returns 0, VDI_ERR_TOO_LARGE or
 * VDI_ERR_ALLOC (then *out is NULL). */
int b64url_encode_alloc(const void *src, size_t len, char **out) VDI_WUR;

/* Decodes the len characters at src (no NUL needed; a NUL inside is an
 * invalid character) into dst, which holds dstsize bytes. Sets *outlen to
 * the number of bytes written. Returns 0, VDI_ERR_BASE64, or
 * VDI_ERR_TOO_LARGE when the result does not fit dstsize. */
int b64url_decode(const char *src, size_t len, void *dst, size_t dstsize,
    size_t *outlen) VDI_WUR;

/* Decodes like b64url_decode() into a new buffer stored in *out with its
 * length in *outlen. The buffer has one extra byte after the data set to
 * NUL, so decoded text can be used as a C string when it has no NUL of its
 * own. The caller frees it with free() (after OPENSSL_cleanse() when it
 * held a secret). Returns 0, VDI_ERR_BASE64 or VDI_ERR_ALLOC; on failure
 * *out is NULL and *outlen 0. */
int b64url_decode_alloc(
    const char *src, size_t len, unsigned char **out, size_t *outlen) VDI_WUR;

#endif
