/*
 * httpstatus.h: the one table of HTTP reason phrases (RFC 9110), used by
 * the gateway's tunnel answers and the broker's replies.
 */
#ifndef VDI_HTTPSTATUS_H
#define VDI_HTTPSTATUS_H

/* The reason phrase of status ("Not Found"); for a code not in the table
 * the generic phrase of its class ("Client Error", "Server Error", ...).
 * Static storage, never NULL. */
const char *vdi_http_phrase(int status);

#endif
