/*
 * load_desktop.c: the desktops of a pool, one by one or as ranges, with
 * the settings a pool gives them by default (security, capacity):
 *
 *   desktops = ( { name = "ems-lead"; address = "10.20.1.5:3389";
 *                  pin = "3f:a1:...:09"; } );
 *   desktop_ranges = ( { prefix = "ems-"; first = 1; count = 250;
 *                        address = "10.20.1.11"; } );
 *
 * A range expands to desktops prefix001.. at consecutive addresses. A
 * zone that lists networks only takes desktops whose address is inside
 * them.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "load_int.h"

#define RANGE_MAX 10000

int
lget_security(struct lctx *c, const config_setting_t *g,
    enum policy_security dflt, enum policy_security *out)
{
	const char *v;

	*out = dflt;
	if (lget_string(c, g, "security", 0, "\"tls\" or \"nla\"", &v) != 0)
		return -1;
	if (v == NULL)
		return 0;
	if (strcmp(v, "tls") == 0)
		*out = POLICY_SEC_TLS;
	else if (strcmp(v, "nla") == 0)
		*out = POLICY_SEC_NLA;
	else {
		lerr(c, config_setting_get_member(g, "security"),
		    "bad value "
		    "\"%s\" (expected \"tls\" or \"nla\")",
		    v);
		return -1;
	}
	return 0;
}

int
lget_capacity(struct lctx *c, const config_setting_t *g,
    const struct policy_pool *pool, unsigned int dflt, unsigned int *out)
{
	int64_t v;
	int present;

	*out = dflt;
	if (lget_int(c, g, "capacity", 1, 1000, &present, &v) != 0)
		return -1;
	if (!present)
		return 0;
	if (pool->assignment == POLICY_ASSIGN_PERSISTENT && v != 1) {
		lerr(c, config_setting_get_member(g, "capacity"),
		    "%lld for a "
		    "persistent pool (expected 1: a persistent desktop belongs "
		    "to one user)",
		    (long long)v);
		return -1;
	}
	*out = (unsigned int)v;
	return 0;
}

/* Checks a desktop address against the pool's zone. */
static int
check_zone(struct lctx *c, const config_setting_t *s,
    const struct policy_pool *pool, const char *addr, int is_ip,
    const struct vdi_addr *ip)
{
	const struct policy_zone *z = pool->zone;
	size_t i;

	if (z == NULL || z->nnets == 0)
		return 0;
	if (!is_ip) {
		lerr(c, s,
		    "\"%s\" is a host name, but zone \"%s\" lists "
		    "networks (expected an IP address inside them)",
		    addr, z->name);
		return -1;
	}
	for (i = 0; i < z->nnets; i++)
		if (vdi_cidr_match(&z->nets[i], ip))
			return 0;
	lerr(c, s,
	    "address %s is outside the networks of zone \"%s\" "
	    "(expected a desktop inside the zone's networks)",
	    addr, z->name);
	return -1;
}

int
lload_desktop(struct lctx *c, const config_setting_t *s,
    const struct policy_pool *pool, unsigned int cap, struct policy_desktop *d)
{
	static const char *const keys[] = { "name", "address", "security",
		"pin", "capacity", NULL };
	const config_setting_t *as;
	const char *addr, *pin;
	char host[256];
	struct vdi_addr ip;
	int bad = 0, is_ip;

	d->src_file = lsrc_file(c, s);
	d->src_line = lsrc_line(s);
	if (lexpect_group(c, s,
		"a group: { name = \"...\"; address = "
		"\"10.0.0.5:3389\"; }") != 0)
		return -1;
	bad |= lcheck_keys(c, s, keys);
	if (lget_string(c, s, "name", 1, "a desktop name", &d->name) != 0)
		bad = -1;
	else if (!lname_ok(d->name)) {
		lerr(c, config_setting_get_member(s, "name"),
		    "bad name \"%s\" "
		    "(expected letters, digits, '-', '_', '.'; at most 63)",
		    d->name);
		bad = -1;
	}
	if (lget_string(c, s, "address", 1,
		"host:port, e.g. "
		"\"10.0.0.5:3389\" or \"[2001:db8::5]:3389\"",
		&addr) != 0)
		bad = -1;
	else {
		as = config_setting_get_member(s, "address");
		if (lparse_address(
			addr, host, sizeof(host), &d->port, &is_ip, &ip) != 0) {
			lerr(c, as,
			    "bad address \"%s\" (expected host, "
			    "host:port, a.b.c.d:port or [v6]:port)",
			    addr);
			bad = -1;
		} else {
			if ((d->host = policy_arena_strdup(c->a, host)) == NULL)
				return lerr_oom(c);
			bad |= check_zone(c, as, pool, addr, is_ip, &ip);
		}
	}
	bad |= lget_security(c, s, pool->security, &d->security);
	bad |= lget_capacity(c, s, pool, cap, &d->capacity);
	if (lget_string(c, s, "pin", 0,
		"the SHA-256 of the desktop's TLS "
		"certificate: 64 hex digits, colons allowed",
		&pin) != 0)
		bad = -1;
	else if (pin != NULL) {
		if (lparse_pin(pin, d->pin) != 0) {
			lerr(c, config_setting_get_member(s, "pin"),
			    "bad pin "
			    "\"%s\" (expected the SHA-256 of the desktop's "
			    "certificate: 64 hex digits, or 32 pairs joined "
			    "by colons)",
			    pin);
			bad = -1;
		} else
			d->has_pin = 1;
	}
	return bad;
}

/* Adds k to an address; -1 when it would leave its family's space. */
static int
addr_add(struct vdi_addr *a, uint32_t k)
{
	unsigned int carry = 0, i, stop = a->v4 ? 12 : 0;
	uint64_t sum;

	for (i = 16; i-- > stop;) {
		sum = (uint64_t)a->a[i] + (k & 0xff) + carry;
		a->a[i] = (uint8_t)sum;
		carry = (unsigned int)(sum >> 8);
		k >>= 8;
	}
	return carry != 0 || k != 0 ? -1 : 0;
}

/* Validates a range and returns its count (0 after an error). */
unsigned int
lrange_count(struct lctx *c, const config_setting_t *s)
{
	int64_t v;
	int present;

	if (!config_setting_is_group(s))
		return 0;
	if (lget_int(c, s, "count", 1, RANGE_MAX, &present, &v) != 0)
		return 0;
	if (!present) {
		lerr_key(c, s, "count",
		    "missing (expected the number of "
		    "desktops, 1..%d)",
		    RANGE_MAX);
		return 0;
	}
	return (unsigned int)v;
}

int
lload_range(struct lctx *c, const config_setting_t *s,
    const struct policy_pool *pool, unsigned int cap, unsigned int count,
    struct policy_desktop *out)
{
	static const char *const keys[] = { "prefix", "first", "count",
		"address", "port", "security", "capacity", NULL };
	const char *prefix, *addr;
	char name[128], hostbuf[64];
	struct vdi_addr ip, first_ip;
	struct policy_desktop proto;
	int64_t first, port;
	int bad = 0, present, width;
	unsigned int i;

	memset(&proto, 0, sizeof(proto));
	if (lexpect_group(c, s,
		"a group: { prefix = \"vd-\"; count = 100; "
		"address = \"10.0.0.11\"; }") != 0)
		return -1;
	bad |= lcheck_keys(c, s, keys);
	if (count == 0)
		bad = -1;
	if (lget_string(c, s, "prefix", 1,
		"the start of the desktops' names, "
		"e.g. \"vd-\"",
		&prefix) != 0)
		bad = -1;
	else if (strlen(prefix) > 50 || !lname_ok(prefix)) {
		lerr(c, config_setting_get_member(s, "prefix"),
		    "bad prefix "
		    "\"%s\" (expected letters, digits, '-', '_', '.'; at most "
		    "50)",
		    prefix);
		bad = -1;
	}
	if (lget_int(c, s, "first", 0, 999999, &present, &first) != 0)
		bad = -1;
	else if (!present)
		first = 1;
	if (lget_int(c, s, "port", 1, 65535, &present, &port) != 0)
		bad = -1;
	else if (!present)
		port = DEFAULT_RDP_PORT;
	if (lget_string(c, s, "address", 1,
		"the IP address of the first "
		"desktop",
		&addr) != 0)
		bad = -1;
	else if (vdi_addr_parse(addr, &first_ip) != 0) {
		lerr(c, config_setting_get_member(s, "address"),
		    "bad address "
		    "\"%s\" (expected the IP address of the first desktop, "
		    "without a port)",
		    addr);
		bad = -1;
	}
	bad |= lget_security(c, s, pool->security, &proto.security);
	bad |= lget_capacity(c, s, pool, cap, &proto.capacity);
	if (bad != 0)
		return -1;
	snprintf(name, sizeof(name), "%lld", (long long)(first + count - 1));
	width = (int)strlen(name) < 3 ? 3 : (int)strlen(name);
	for (i = 0; i < count; i++) {
		struct policy_desktop *d = &out[i];

		*d = proto;
		d->src_file = lsrc_file(c, s);
		d->src_line = lsrc_line(s);
		d->port = (uint16_t)port;
		snprintf(name, sizeof(name), "%s%0*lld", prefix, width,
		    (long long)(first + i));
		ip = first_ip;
		if (addr_add(&ip, i) != 0) {
			lerr(c, s,
			    "range runs past the end of the address "
			    "space at desktop %u (expected a first address "
			    "with room for count desktops)",
			    i + 1);
			return -1;
		}
		vdi_addr_format(&ip, hostbuf, sizeof(hostbuf));
		if ((d->name = policy_arena_strdup(c->a, name)) == NULL ||
		    (d->host = policy_arena_strdup(c->a, hostbuf)) == NULL)
			return lerr_oom(c);
		if (check_zone(c, config_setting_get_member(s, "address"), pool,
			hostbuf, 1, &ip) != 0)
			return -1;
	}
	return 0;
}
