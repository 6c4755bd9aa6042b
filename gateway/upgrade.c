/* upgrade.c: parser of the tunnel's HTTP/1.1 Upgrade request. */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "upgrade.h"

/* RFC 9110 tchar. */
static int
tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int
vchar_or_ws(unsigned char c)
{
	return c == ' ' || c == '\t' || (c >= 0x21 && c <= 0x7E) || c >= 0x80;
}

/* Trims optional white space around [*v, *v + *n). */
static void
trim(const char **v, size_t *n)
{
	while (*n > 0 && (**v == ' ' || **v == '\t')) {
		(*v)++;
		(*n)--;
	}
	while (*n > 0 && ((*v)[*n - 1] == ' ' || (*v)[*n - 1] == '\t'))
		(*n)--;
}

/* 1 when the comma-separated list [v, v+n) holds want (case-insensitive). */
static int
list_has(const char *v, size_t n, const char *want)
{
	size_t wl = strlen(want), i = 0, start, len;
	const char *item;

	while (i <= n) {
		start = i;
		while (i < n && v[i] != ',')
			i++;
		item = v + start;
		len = i - start;
		trim(&item, &len);
		if (len == wl && strncasecmp(item, want, wl) == 0)
			return 1;
		i++;
	}
	return 0;
}

static int
header_is(const char *name, size_t nl, const char *want)
{
	return nl == strlen(want) && strncasecmp(name, want, nl) == 0;
}

int
upgrade_parse(const struct vbuf *in, struct upgrade_req *out)
{
	const char *p = (const char *)vbuf_ptr(in), *end, *line, *eol;
	const char *conn = NULL, *upg = NULL, *auth = NULL;
	size_t len = vbuf_len(in), conn_n = 0, upg_n = 0, auth_n = 0;
	size_t i, nheaders = 0, ll;
	int seen_host = 0;

	memset(out, 0, sizeof(*out));
	if (len > UPGRADE_MAX)
		len = UPGRADE_MAX;
	/* Find the blank line. */
	end = NULL;
	for (i = 3; i < len; i++) {
		if (p[i - 3] == '\r' && p[i - 2] == '\n' && p[i - 1] == '\r' &&
		    p[i] == '\n') {
			end = p + i + 1;
			break;
		}
	}
	if (end == NULL) {
		if (vbuf_len(in) >= UPGRADE_MAX) {
			out->error = VDI_REASON_HEADERS_TOO_LARGE;
			return 0;
		}
		/* A NUL or a bare LF will never become valid: say so early. */
		for (i = 0; i < len; i++)
			if (p[i] == '\0' ||
			    (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))) {
				out->error = VDI_REASON_BAD_REQUEST;
				return 0;
			}
		return VDI_ERR_NEED_MORE;
	}
	out->consumed = (size_t)(end - p);
	out->error = VDI_REASON_BAD_REQUEST;

	/* Request line. */
	line = p;
	eol = memchr(line, '\r', (size_t)(end - line));
	if (eol == NULL || eol[1] != '\n')
		return 0;
	ll = (size_t)(eol - line);
	for (i = 0; i < ll; i++)
		if ((unsigned char)line[i] < 0x21 && line[i] != ' ')
			return 0;
	if (ll < 14 || memcmp(line + ll - 9, " HTTP/1.1", 9) != 0)
		return 0;
	if (ll >= 4 && memcmp(line, "GET ", 4) == 0) {
		const char *target = line + 4;
		size_t tl = ll - 4 - 9;

		if (!(tl == 10 && memcmp(target, "/v1/tunnel", 10) == 0)) {
			if (memchr(target, ' ', tl) != NULL)
				return 0;
			out->error = VDI_REASON_NOT_FOUND;
			return 0;
		}
	} else {
		const char *sp = memchr(line, ' ', ll);

		if (sp == NULL || sp == line)
			return 0;
		for (i = 0; line + i < sp; i++)
			if (!tchar((unsigned char)line[i]))
				return 0;
		out->error = VDI_REASON_METHOD_NOT_ALLOWED;
		return 0;
	}

	/* Header lines. */
	for (line = eol + 2; line < end - 2; line = eol + 2) {
		const char *colon, *v;
		size_t nl, vl;

		eol = memchr(line, '\r', (size_t)(end - line));
		if (eol == NULL || eol[1] != '\n')
			return 0;
		ll = (size_t)(eol - line);
		if (++nheaders > UPGRADE_HEADERS_MAX) {
			out->error = VDI_REASON_HEADERS_TOO_LARGE;
			return 0;
		}
		if (ll == 0 || line[0] == ' ' || line[0] == '\t')
			return 0; /* obsolete folding */
		if ((colon = memchr(line, ':', ll)) == NULL || colon == line)
			return 0;
		nl = (size_t)(colon - line);
		for (i = 0; i < nl; i++)
			if (!tchar((unsigned char)line[i]))
				return 0;
		v = colon + 1;
		vl = ll - nl - 1;
		for (i = 0; i < vl; i++)
			if (!vchar_or_ws((unsigned char)v[i]))
				return 0;
		trim(&v, &vl);
		if (header_is(line, nl, "Host")) {
			if (seen_host++)
				return 0;
		} else if (header_is(line, nl, "Connection")) {
			if (conn != NULL)
				return 0;
			conn = v;
			conn_n = vl;
		} else if (header_is(line, nl, "Upgrade")) {
			if (upg != NULL)
				return 0;
			upg = v;
			upg_n = vl;
		} else if (header_is(line, nl, "Authorization")) {
			if (auth != NULL)
				return 0;
			auth = v;
			auth_n = vl;
		} else if (header_is(line, nl, "Content-Length") ||
		    header_is(line, nl, "Transfer-Encoding")) {
			return 0; /* no body on an upgrade */
		}
	}
	if (!seen_host)
		return 0; /* HTTP/1.1 requires Host */
	if (conn == NULL || upg == NULL || !list_has(conn, conn_n, "upgrade") ||
	    !list_has(upg, upg_n, "vdi-rdp")) {
		out->error = VDI_REASON_UPGRADE_REQUIRED;
		return 0;
	}
	if (auth == NULL || auth_n < 8 ||
	    strncasecmp(auth, "Bearer ", 7) != 0) {
		out->error = VDI_REASON_TOKEN_MISSING;
		return 0;
	}
	out->token = auth + 7;
	out->token_len = auth_n - 7;
	while (out->token_len > 0 && *out->token == ' ') {
		out->token++;
		out->token_len--;
	}
	for (i = 0; i < out->token_len; i++) {
		char c = out->token[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			(c >= '0' && c <= '9') || c == '-' || c == '_' ||
			c == '.')) {
			out->error = VDI_REASON_TOKEN_MISSING;
			out->token = NULL;
			out->token_len = 0;
			return 0;
		}
	}
	if (out->token_len == 0) {
		out->error = VDI_REASON_TOKEN_MISSING;
		out->token = NULL;
		return 0;
	}
	out->error = VDI_REASON_OK;
	return 0;
}
