/* httpstatus.c: HTTP reason phrases for the codes the daemons answer. */
#include "config.h"

#include "httpstatus.h"

const char *
vdi_http_phrase(int status)
{
	switch (status) {
	case 101:
		return "Switching Protocols";
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 204:
		return "No Content";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 408:
		return "Request Timeout";
	case 409:
		return "Conflict";
	case 413:
		return "Content Too Large";
	case 415:
		return "Unsupported Media Type";
	case 426:
		return "Upgrade Required";
	case 429:
		return "Too Many Requests";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	case 504:
		return "Gateway Timeout";
	}
	if (status >= 100 && status < 200)
		return "Informational";
	if (status >= 200 && status < 300)
		return "Success";
	if (status >= 300 && status < 400)
		return "Redirection";
	if (status >= 400 && status < 500)
		return "Client Error";
	return "Server Error";
}

int
vdi_reason_status(enum vdi_reason r)
{
	switch (r) {
	case VDI_REASON_OK:
		return 101;
	case VDI_REASON_NOT_FOUND:
		return 404;
	case VDI_REASON_METHOD_NOT_ALLOWED:
		return 405;
	case VDI_REASON_UPGRADE_REQUIRED:
		return 426;
	case VDI_REASON_HEADERS_TOO_LARGE:
		return 431;
	case VDI_REASON_TOKEN_MISSING:
	case VDI_REASON_TOKEN_INVALID:
	case VDI_REASON_TOKEN_EXPIRED:
	case VDI_REASON_TOKEN_NOT_YET_VALID:
	case VDI_REASON_TOKEN_WRONG_AUDIENCE:
	case VDI_REASON_TOKEN_INVALID_CLAIMS:
	case VDI_REASON_TOKEN_REPLAYED:
	case VDI_REASON_CREDENTIALS_INVALID:
		return 401;
	case VDI_REASON_TOKEN_WRONG_DEVICE:
	case VDI_REASON_CUT:
	case VDI_REASON_DST_NOT_IN_POLICY:
	case VDI_REASON_MAX_SESSION:
		return 403;
	case VDI_REASON_REPLACED:
		return 409;
	case VDI_REASON_BUSY:
	case VDI_REASON_CLOSING:
	case VDI_REASON_DESKTOP_UNREACHABLE:
	case VDI_REASON_DESKTOP_UNTRUSTED:
	case VDI_REASON_NLA_UNSUPPORTED:
	case VDI_REASON_BROKER_UNREACHABLE:
		return 503;
	case VDI_REASON_TLS_HANDSHAKE:
	case VDI_REASON_HANDSHAKE_TIMEOUT:
	case VDI_REASON_BAD_REQUEST:
	case VDI_REASON_CLIENT_PROTOCOL:
	case VDI_REASON_COUNT:
		break;
	}
	return 400;
}
