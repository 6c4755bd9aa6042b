/*
 * vdierr.h: the one table of error codes used across the project.
 *
 * Every fallible function returns 0 on success or one of these negative
 * codes. vdi_strerror() turns a code into a fixed English string.
 */
#ifndef VDI_ERR_H
#define VDI_ERR_H

#define VDI_OK 0

/* X-macro list: name, value, message. Values never change once released. */
#define VDI_ERROR_TABLE(X)                                                     \
	X(VDI_ERR_INTERNAL, -1, "internal error")                              \
	X(VDI_ERR_ALLOC, -2, "memory allocation failed")                       \
	X(VDI_ERR_INVALID_ARG, -3, "invalid argument")                         \
	X(VDI_ERR_NEED_MORE, -4, "more data needed")                           \
	X(VDI_ERR_TRUNCATED, -5, "message truncated")                          \
	X(VDI_ERR_TOO_LARGE, -6, "length exceeds the maximum allowed")         \
	X(VDI_ERR_READONLY, -7, "buffer is read-only")                         \
	X(VDI_ERR_BAD_FORMAT, -8, "malformed message")                         \
	X(VDI_ERR_BAD_LENGTH, -9, "length field does not match the data")      \
	X(VDI_ERR_UNSUPPORTED, -10, "unsupported value")                       \
	X(VDI_ERR_SYSTEM, -11, "system call failed (see errno)")               \
	X(VDI_ERR_IO, -12, "input/output error")                               \
	X(VDI_ERR_TIMEOUT, -13, "timed out")                                   \
	X(VDI_ERR_NOT_FOUND, -14, "not found")                                 \
	X(VDI_ERR_EXISTS, -15, "already exists")                               \
	X(VDI_ERR_DENIED, -16, "permission denied")                            \
	X(VDI_ERR_REPLACED, -17, "replaced by a newer one")                    \
	X(VDI_ERR_TLS, -20, "TLS library error")                               \
	X(VDI_ERR_CERT_LOAD, -21, "cannot load certificate or key")            \
	X(VDI_ERR_CERT_VERIFY, -22, "certificate verification failed")         \
	X(VDI_ERR_CRL_LOAD, -23, "cannot load certificate revocation list")    \
	X(VDI_ERR_BASE64, -30, "invalid base64url encoding")                   \
	X(VDI_ERR_JSON, -31, "invalid JSON")                                   \
	X(VDI_ERR_JWS_FORMAT, -32, "malformed JWS")                            \
	X(VDI_ERR_JWS_ALG, -33, "JWS algorithm not allowed")                   \
	X(VDI_ERR_JWS_SIGNATURE, -34, "JWS signature invalid")                 \
	X(VDI_ERR_TOKEN_EXPIRED, -35, "token expired")                         \
	X(VDI_ERR_TOKEN_NOT_YET_VALID, -36, "token not yet valid")             \
	X(VDI_ERR_TOKEN_AUDIENCE, -37, "token audience mismatch")              \
	X(VDI_ERR_TOKEN_CLAIM, -38, "token claim missing or invalid")          \
	X(VDI_ERR_CIDR, -40, "invalid CIDR or address")                        \
	X(VDI_ERR_CONFIG, -50, "invalid configuration")

enum vdi_err {
#define VDI_ERR_ENUM(name, value, msg) name = value,
	VDI_ERROR_TABLE(VDI_ERR_ENUM)
#undef VDI_ERR_ENUM
};

/* Returns a static string describing code (never NULL; unknown codes get a
 * generic string). */
const char *vdi_strerror(int code);

/* Returns the symbolic name of code ("VDI_ERR_TRUNCATED"), or "VDI_OK", or
 * "VDI_ERR_UNKNOWN" for a code not in the table. Static storage. */
const char *vdi_errname(int code);

#define VDI_WUR __attribute__((warn_unused_result))

#include <stddef.h>

/* Formats a message into a caller's error buffer (err may be NULL or
 * errlen 0: then nothing is written). Always NUL-terminates. */
void vdi_seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The reason of the most recent OpenSSL error as a static string, and an
 * empty OpenSSL error queue afterwards, so nothing stale reaches later
 * calls. Never NULL. */
const char *vdi_ossl_reason(void);

#endif
