/*
 * httpstatus.h: the one table of HTTP reason phrases (RFC 9110), used by
 * the gateway's tunnel answers and the broker's replies.
 */
#ifndef VDI_HTTPSTATUS_H
#define VDI_HTTPSTATUS_H

#include "vdierr.h"

/* The reason phrase of status ("Not Found"); for a code not in the table
 * the generic phrase of its class ("Client Error", "Server Error", ...).
 * Static storage, never NULL. */
const char *vdi_http_phrase(int status);

/* The HTTP status a refusal for reason r is answered with (401 for the
 * token reasons, 403 for a wrong device, a cut, a dst outside the policy
 * or max_session, 503 when busy or a desktop or the broker cannot be
 * used, ...); 101 for VDI_REASON_OK (the tunnel's upgrade); 400 for a
 * reason that is not answered over HTTP. */
int vdi_reason_status(enum vdi_reason r);

#endif
