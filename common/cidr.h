/*
 * cidr.h: IPv4 and IPv6 addresses and CIDR prefixes.
 *
 * Addresses are kept as 16 bytes; IPv4 is stored as an IPv4-mapped IPv6
 * address (::ffff:a.b.c.d) so that a client that arrives over an IPv6
 * socket as ::ffff:192.0.2.7 matches 192.0.2.0/24.
 */
#ifndef VDI_CIDR_H
#define VDI_CIDR_H

#include <stdint.h>
#include <sys/socket.h>

#include "vdierr.h"

struct vdi_addr {
	uint8_t a[16];
	int v4; /* 1 when the address is IPv4 (stored mapped) */
};

struct vdi_cidr {
	struct vdi_addr net; /* host bits are zero */
	unsigned int prefix; /* 0..32 for IPv4, 0..128 for IPv6 */
};

/* Parses a numeric IPv4 or IPv6 address (no host names, no zone ids).
 * Returns 0 or VDI_ERR_CIDR; *out is cleared on entry. */
int vdi_addr_parse(const char *s, struct vdi_addr *out) VDI_WUR;

/* Fills *out from a socket address (AF_INET or AF_INET6). */
int vdi_addr_from_sockaddr(
    const struct sockaddr *sa, socklen_t len, struct vdi_addr *out) VDI_WUR;

/* Parses "a.b.c.d/n", "x::y/n", or a bare address (a /32 or /128 prefix).
 * Host bits set beyond the prefix ("10.0.0.1/8") are an error, since they
 * are nearly always a typo. Returns 0 or VDI_ERR_CIDR. */
int vdi_cidr_parse(const char *s, struct vdi_cidr *out) VDI_WUR;

/* Returns 1 when addr lies inside cidr, else 0. IPv4 prefixes never match
 * IPv6 addresses (other than IPv4-mapped ones) and the reverse. */
int vdi_cidr_match(const struct vdi_cidr *cidr, const struct vdi_addr *addr);

/* Formats an address (IPv4 in dotted form) into buf, at least 46 bytes.
 * Returns buf. */
char *vdi_addr_format(const struct vdi_addr *addr, char *buf, size_t len);

/* Formats a prefix as "net/prefix" into buf, at least 50 bytes. */
char *vdi_cidr_format(const struct vdi_cidr *cidr, char *buf, size_t len);

#endif
