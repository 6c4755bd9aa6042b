/*
 * upgrade.h: the tunnel's opening request, parsed purely.
 *
 *   GET /v1/tunnel HTTP/1.1\r\n
 *   Host: gw.example\r\n
 *   Authorization: Bearer <token>\r\n
 *   Connection: Upgrade\r\n
 *   Upgrade: vdi-rdp\r\n
 *   \r\n
 *
 * Strict: CRLF line ends only, no obsolete line folding, no NUL or control
 * characters, header names are tokens, at most UPGRADE_MAX bytes and
 * UPGRADE_HEADERS_MAX header lines, each of the headers above at most once.
 * Anything after the blank line belongs to the RDP stream.
 */
#ifndef VDI_GATEWAY_UPGRADE_H
#define VDI_GATEWAY_UPGRADE_H

#include <stddef.h>

#include "vbuf.h"

#define UPGRADE_MAX         8192
#define UPGRADE_HEADERS_MAX 32

/* Why a request was refused: each maps to an HTTP status and a stable
 * error code for the JSON body. */
enum upgrade_error {
	UPGRADE_OK = 0,
	UPGRADE_BAD_REQUEST, /* 400 bad_request: malformed HTTP */
	UPGRADE_NOT_FOUND,   /* 404 not_found: other path */
	UPGRADE_BAD_METHOD,  /* 405 method_not_allowed */
	UPGRADE_NO_UPGRADE,  /* 426 upgrade_required: no vdi-rdp upgrade */
	UPGRADE_NO_TOKEN,    /* 401 token_missing */
	UPGRADE_TOO_LARGE,   /* 431 headers_too_large */
};

struct upgrade_req {
	enum upgrade_error error;
	const char *token; /* points into the input; not NUL-terminated */
	size_t token_len;
	size_t consumed; /* bytes of the request, blank line included */
};

/*
 * Parses the request at the start of in (in is not consumed). Returns 0
 * with out->error telling the verdict (UPGRADE_OK or why not) once the
 * blank line has arrived, VDI_ERR_NEED_MORE while it has not (and the
 * input is still under UPGRADE_MAX; past it: 0 with UPGRADE_TOO_LARGE).
 * out->token stays valid while in's bytes do.
 */
int upgrade_parse(const struct vbuf *in, struct upgrade_req *out) VDI_WUR;

/* HTTP status and error code for an upgrade_error (the reason phrase is
 * vdi_http_phrase() of the status). */
int upgrade_status(enum upgrade_error e);
/* The refusal reason of e (vdierr.h), and its code ("token_missing"). */
enum vdi_reason upgrade_error_reason(enum upgrade_error e);
const char *upgrade_code(enum upgrade_error e);

#endif
