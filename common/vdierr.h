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

/*
 * The one table of refusal reasons: the stable codes put in JSON error
 * bodies ({"error": CODE}), in log lines (reason=CODE), in audit rows and
 * in metric labels, and that the shim maps to its messages. Each code is
 * written here only; the gateway's token checker (gwtoken.h) and Upgrade
 * parser (upgrade.h) return these values, its refusal counters are indexed
 * by them, and httpstatus.h gives the HTTP status of each. X(name, code).
 */
#define VDI_REASON_TABLE(X)                                                    \
	X(VDI_REASON_OK, "ok")                                                 \
	X(VDI_REASON_TLS_HANDSHAKE, "tls_handshake")                           \
	X(VDI_REASON_HANDSHAKE_TIMEOUT, "handshake_timeout")                   \
	X(VDI_REASON_BAD_REQUEST, "bad_request")                               \
	X(VDI_REASON_NOT_FOUND, "not_found")                                   \
	X(VDI_REASON_METHOD_NOT_ALLOWED, "method_not_allowed")                 \
	X(VDI_REASON_UPGRADE_REQUIRED, "upgrade_required")                     \
	X(VDI_REASON_HEADERS_TOO_LARGE, "headers_too_large")                   \
	X(VDI_REASON_TOKEN_MISSING, "token_missing")                           \
	X(VDI_REASON_TOKEN_INVALID, "token_invalid")                           \
	X(VDI_REASON_TOKEN_EXPIRED, "token_expired")                           \
	X(VDI_REASON_TOKEN_NOT_YET_VALID, "token_not_yet_valid")               \
	X(VDI_REASON_TOKEN_WRONG_AUDIENCE, "token_wrong_audience")             \
	X(VDI_REASON_TOKEN_INVALID_CLAIMS, "token_invalid_claims")             \
	X(VDI_REASON_TOKEN_WRONG_DEVICE, "token_wrong_device")                 \
	X(VDI_REASON_TOKEN_REPLAYED, "token_replayed")                         \
	X(VDI_REASON_BUSY, "busy")                                             \
	X(VDI_REASON_CLOSING, "closing")                                       \
	X(VDI_REASON_DESKTOP_UNREACHABLE, "desktop_unreachable")               \
	X(VDI_REASON_DESKTOP_UNTRUSTED, "desktop_untrusted")                   \
	X(VDI_REASON_NLA_UNSUPPORTED, "nla_unsupported")                       \
	X(VDI_REASON_CREDENTIALS_INVALID, "credentials_invalid")               \
	X(VDI_REASON_CLIENT_PROTOCOL, "client_protocol")                       \
	X(VDI_REASON_CUT, "cut")                                               \
	X(VDI_REASON_REPLACED, "replaced")                                     \
	X(VDI_REASON_DST_NOT_IN_POLICY, "dst_not_in_policy")                   \
	X(VDI_REASON_MAX_SESSION, "max_session")                               \
	X(VDI_REASON_BROKER_UNREACHABLE, "broker_unreachable")

enum vdi_reason {
#define VDI_REASON_ENUM(name, code) name,
	VDI_REASON_TABLE(VDI_REASON_ENUM)
#undef VDI_REASON_ENUM
	    VDI_REASON_COUNT
};

/* The code of r ("token_expired"); "internal_error" for a value outside
 * the table. Static storage. */
const char *vdi_reason_code(enum vdi_reason r);

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
