/*
 * load_addr.c: a desktop's address and certificate pin, as a pool's
 * desktops give them: pure string parsers, no libconfig.
 *
 *   address = "10.0.0.5:3389" | "vd01.example.jp" | "[2001:db8::5]:3389";
 *   pin = "3f:a1:...:09";  (the SHA-256 of the desktop's TLS certificate)
 */
#include "config.h"

#include <string.h>

#include "load_int.h"

static int
parse_port(const char *s, uint16_t *port)
{
	unsigned long v = 0;
	size_t i;

	if (s[0] == '\0' || s[0] == '0' || strlen(s) > 5)
		return -1;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v == 0 || v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

static int
dns_name_ok(const char *s)
{
	size_t len = strlen(s), label = 0, i;

	if (len == 0 || len > 253)
		return 0;
	for (i = 0; i < len; i++) {
		char ch = s[i];

		if (ch == '.') {
			if (label == 0 || s[i - 1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			(ch >= '0' && ch <= '9') || ch == '-'))
			return 0;
		if (label == 0 && ch == '-')
			return 0;
		if (++label > 63)
			return 0;
	}
	return s[len - 1] != '-' && s[len - 1] != '.';
}

/*
 * "host", "host:port", "a.b.c.d[:port]", "[v6]:port", "[v6]" or a bare
 * IPv6 literal. host gets the name without brackets; *is_ip and *ip tell
 * whether it is a literal.
 */
int
lparse_address(const char *s, char *host, size_t hostlen, uint16_t *port,
    int *is_ip, struct vdi_addr *ip)
{
	const char *close, *colon, *portstr = NULL;
	size_t hl;

	*port = DEFAULT_RDP_PORT;
	*is_ip = 0;
	memset(ip, 0, sizeof(*ip));
	if (s[0] == '[') {
		if ((close = strchr(s, ']')) == NULL)
			return -1;
		hl = (size_t)(close - s - 1);
		if (close[1] == ':')
			portstr = close + 2;
		else if (close[1] != '\0')
			return -1;
		if (hl == 0 || hl >= hostlen)
			return -1;
		memcpy(host, s + 1, hl);
		host[hl] = '\0';
		if (vdi_addr_parse(host, ip) != 0 || strchr(host, ':') == NULL)
			return -1;
		*is_ip = 1;
	} else {
		colon = strchr(s, ':');
		if (colon != NULL && strchr(colon + 1, ':') != NULL) {
			/* bare IPv6 */
			if (strlen(s) >= hostlen || vdi_addr_parse(s, ip) != 0)
				return -1;
			strcpy(host, s);
			*is_ip = 1;
			return 0;
		}
		hl = colon != NULL ? (size_t)(colon - s) : strlen(s);
		if (hl == 0 || hl >= hostlen)
			return -1;
		memcpy(host, s, hl);
		host[hl] = '\0';
		if (colon != NULL)
			portstr = colon + 1;
		if (vdi_addr_parse(host, ip) == 0)
			*is_ip = 1;
		else if (!dns_name_ok(host) ||
		    strspn(host, "0123456789.") == strlen(host))
			return -1; /* not a name, and not a valid IPv4 */
	}
	if (portstr != NULL && parse_port(portstr, port) != 0)
		return -1;
	return 0;
}

static int
hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* 64 hex digits, or 32 colon-separated pairs. */
int
lparse_pin(const char *s, uint8_t pin[32])
{
	size_t len = strlen(s), i, step;
	int hi, lo;

	if (len == 64)
		step = 2;
	else if (len == 95)
		step = 3;
	else
		return -1;
	for (i = 0; i < 32; i++) {
		if ((hi = hexval(s[i * step])) < 0 ||
		    (lo = hexval(s[i * step + 1])) < 0)
			return -1;
		if (step == 3 && i < 31 && s[i * step + 2] != ':')
			return -1;
		pin[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}
