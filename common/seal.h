/*
 * seal.h: credentials sealed by the broker for the gateways only.
 *
 * AES-256-GCM under a 32-byte key shared by the broker's monitor and the
 * gateways. The sealed form is base64url(nonce[12] || ciphertext || tag[16]),
 * with a random nonce per seal and caller-chosen additional authenticated
 * data (the broker binds the session id). Anything changed in the blob or
 * the AAD makes seal_open() fail.
 */
#ifndef VDI_SEAL_H
#define VDI_SEAL_H

#include <stddef.h>

#include "vdierr.h"

#define SEAL_KEY_LEN   32
#define SEAL_NONCE_LEN 12
#define SEAL_TAG_LEN   16
#define SEAL_PLAIN_MAX 1024
/* base64url of nonce + SEAL_PLAIN_MAX + tag, plus the NUL */
#define SEAL_TEXT_MAX 1412

/* Reads a key file holding 32 raw bytes or 43 base64url characters (a
 * trailing newline is allowed). Returns 0, VDI_ERR_CERT_LOAD (cannot read)
 * or VDI_ERR_CONFIG (wrong form), with a message in err naming the file. */
int seal_key_load(const char *path, unsigned char key[SEAL_KEY_LEN], char *err,
    size_t errlen) VDI_WUR;

/* Seals len (1..SEAL_PLAIN_MAX) bytes into out (outlen >= SEAL_TEXT_MAX is
 * always enough), NUL-terminated. Returns 0, VDI_ERR_INVALID_ARG,
 * VDI_ERR_TOO_LARGE or VDI_ERR_TLS. */
int seal_close(const unsigned char key[SEAL_KEY_LEN], const void *plain,
    size_t len, const void *aad, size_t aadlen, char *out,
    size_t outlen) VDI_WUR;

/* Opens a sealed text into plain (at most max bytes), *len its length.
 * Returns 0, VDI_ERR_BASE64 / VDI_ERR_BAD_FORMAT (malformed),
 * VDI_ERR_DENIED (wrong key, AAD, or tampered) or VDI_ERR_TOO_LARGE. plain
 * is wiped on failure. */
int seal_open(const unsigned char key[SEAL_KEY_LEN], const char *text,
    const void *aad, size_t aadlen, unsigned char *plain, size_t max,
    size_t *len) VDI_WUR;

#endif
