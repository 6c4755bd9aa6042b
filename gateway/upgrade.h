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
#include "vdierr.h"

#define UPGRADE_MAX         8192
#define UPGRADE_HEADERS_MAX 32

struct upgrade_req {
	/* VDI_REASON_OK, or why the request was refused: BAD_REQUEST
	 * (malformed HTTP), NOT_FOUND (other path), METHOD_NOT_ALLOWED,
	 * UPGRADE_REQUIRED (no vdi-rdp upgrade), TOKEN_MISSING or
	 * HEADERS_TOO_LARGE; vdi_reason_status() (httpstatus.h) gives its
	 * HTTP status. */
	enum vdi_reason error;
	const char *token; /* points into the input; not NUL-terminated */
	size_t token_len;
	size_t consumed; /* bytes of the request, blank line included */
};

/*
 * Parses the request at the start of in (in is not consumed). Returns 0
 * with out->error telling the verdict (VDI_REASON_OK or why not) once the
 * blank line has arrived, VDI_ERR_NEED_MORE while it has not (and the
 * input is still under UPGRADE_MAX; past it: 0 with
 * VDI_REASON_HEADERS_TOO_LARGE). out->token stays valid while in's bytes do.
 */
int upgrade_parse(const struct vbuf *in, struct upgrade_req *out) VDI_WUR;

#endif
