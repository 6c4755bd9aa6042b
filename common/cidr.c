/* cidr.c: IPv4/IPv6 address and prefix parsing and matching. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cidr.h"

static const uint8_t v4mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff,
	0xff };

static void
set_v4(struct vdi_addr *out, const void *in4)
{
	memcpy(out->a, v4mapped_prefix, 12);
	memcpy(out->a + 12, in4, 4);
	out->v4 = 1;
}

static void
set_v6(struct vdi_addr *out, const void *in6)
{
	memcpy(out->a, in6, 16);
	out->v4 = memcmp(out->a, v4mapped_prefix, 12) == 0;
}

int
vdi_addr_parse(const char *s, struct vdi_addr *out)
{
	struct in_addr in4;
	struct in6_addr in6;

	memset(out, 0, sizeof(*out));
	if (s == NULL || *s == '\0' || strlen(s) > INET6_ADDRSTRLEN)
		return VDI_ERR_CIDR;
	/* inet_pton(AF_INET) takes only the strict dotted-quad form. */
	if (inet_pton(AF_INET, s, &in4) == 1) {
		set_v4(out, &in4);
		return 0;
	}
	if (inet_pton(AF_INET6, s, &in6) == 1) {
		set_v6(out, &in6);
		return 0;
	}
	return VDI_ERR_CIDR;
}

int
vdi_addr_from_sockaddr(
    const struct sockaddr *sa, socklen_t len, struct vdi_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (sa == NULL)
		return VDI_ERR_INVALID_ARG;
	if (sa->sa_family == AF_INET &&
	    len >= (socklen_t)sizeof(struct sockaddr_in)) {
		set_v4(out,
		    &((const struct sockaddr_in *)(const void *)sa)->sin_addr);
		return 0;
	}
	if (sa->sa_family == AF_INET6 &&
	    len >= (socklen_t)sizeof(struct sockaddr_in6)) {
		set_v6(out,
		    &((const struct sockaddr_in6 *)(const void *)sa)
			 ->sin6_addr);
		return 0;
	}
	return VDI_ERR_CIDR;
}

/* Number of leading bits of the 16-byte form covered by a prefix. */
static unsigned int
bits_of(const struct vdi_cidr *c)
{
	return c->net.v4 ? 96 + c->prefix : c->prefix;
}

static int
bit_is_set(const uint8_t *a, unsigned int bit)
{
	return (a[bit / 8] >> (7 - bit % 8)) & 1;
}

int
vdi_cidr_parse(const char *s, struct vdi_cidr *out)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *slash;
	char *end;
	unsigned long prefix;
	unsigned int bits, maxp, i;
	size_t hl;
	int r;

	memset(out, 0, sizeof(*out));
	if (s == NULL)
		return VDI_ERR_CIDR;
	slash = strchr(s, '/');
	hl = slash != NULL ? (size_t)(slash - s) : strlen(s);
	if (hl == 0 || hl >= sizeof(host))
		return VDI_ERR_CIDR;
	memcpy(host, s, hl);
	host[hl] = '\0';
	if ((r = vdi_addr_parse(host, &out->net)) != 0)
		return r;
	/* A v4-mapped IPv6 literal keeps IPv6 prefix semantics. */
	if (out->net.v4 && strchr(host, ':') != NULL)
		out->net.v4 = 0;
	maxp = out->net.v4 ? 32 : 128;
	if (slash == NULL) {
		out->prefix = maxp;
		return 0;
	}
	if (slash[1] < '0' || slash[1] > '9' ||
	    (slash[1] == '0' && slash[2] != '\0'))
		goto bad;
	prefix = strtoul(slash + 1, &end, 10);
	if (*end != '\0' || prefix > maxp)
		goto bad;
	out->prefix = (unsigned int)prefix;
	bits = bits_of(out);
	for (i = bits; i < 128; i++)
		if (bit_is_set(out->net.a, i))
			goto bad; /* host bits set */
	return 0;
bad:
	memset(out, 0, sizeof(*out));
	return VDI_ERR_CIDR;
}

int
vdi_cidr_match(const struct vdi_cidr *cidr, const struct vdi_addr *addr)
{
	unsigned int bits = bits_of(cidr), full = bits / 8, rest = bits % 8;
	uint8_t mask;

	if (cidr->net.v4 && !addr->v4)
		return 0;
	/* An IPv6 prefix matches IPv4 clients only when it is written as a
	 * v4-mapped literal (::ffff:192.0.2.0/120): "::/0" means IPv6 only. */
	if (!cidr->net.v4 && addr->v4 &&
	    (cidr->prefix < 96 ||
		memcmp(cidr->net.a, v4mapped_prefix, 12) != 0))
		return 0;
	if (memcmp(cidr->net.a, addr->a, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	mask = (uint8_t)(0xFF << (8 - rest));
	return (cidr->net.a[full] & mask) == (addr->a[full] & mask);
}

char *
vdi_addr_format(const struct vdi_addr *addr, char *buf, size_t len)
{
	if (len == 0)
		return buf;
	buf[0] = '\0';
	if (addr->v4)
		inet_ntop(AF_INET, addr->a + 12, buf, (socklen_t)len);
	else
		inet_ntop(AF_INET6, addr->a, buf, (socklen_t)len);
	return buf;
}

char *
vdi_cidr_format(const struct vdi_cidr *cidr, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	vdi_addr_format(&cidr->net, a, sizeof(a));
	snprintf(buf, len, "%s/%u", a, cidr->prefix);
	return buf;
}
