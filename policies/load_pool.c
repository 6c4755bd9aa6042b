/*
 * load_pool.c: the pools section and its desktops.
 *
 *   pools = {
 *     ems = {
 *       tenant = "pref-miyagi";  zone = "lgwan";
 *       assignment = "persistent";  security = "nla";
 *       desktops = ( { name = "ems-lead"; address = "10.20.1.5:3389";
 *                      pin = "3f:a1:...:09"; } );
 *       desktop_ranges = ( { prefix = "ems-"; first = 1; count = 250;
 *                            address = "10.20.1.11"; } );
 *     };
 *   };
 *
 * A range expands to desktops prefix001.. at consecutive addresses, so a
 * pool of 300 persistent desktops is one line. Desktop names and
 * host:port pairs are unique across the whole policy (the broker's state
 * refers to desktops by name); a zone that lists networks only takes
 * desktops whose address is inside them.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "load_int.h"

#define POOL_MAX_DESKTOPS 65536u
#define RANGE_MAX         10000
#define DEFAULT_RDP_PORT  3389

/* Where a desktop came from, for duplicate reports. */
struct dref {
	const struct policy_desktop *d;
	const char *key;
	size_t seq; /* definition order */
};

struct drefs {
	struct dref *v;
	size_t n, cap;
};

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
static int
parse_address(const char *s, char *host, size_t hostlen, uint16_t *port,
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
static int
parse_pin(const char *s, uint8_t pin[32])
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

static int
get_security(struct lctx *c, const config_setting_t *g,
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

static int
get_capacity(struct lctx *c, const config_setting_t *g,
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

static int
load_desktop(struct lctx *c, const config_setting_t *s,
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
		if (parse_address(
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
	bad |= get_security(c, s, pool->security, &d->security);
	bad |= get_capacity(c, s, pool, cap, &d->capacity);
	if (lget_string(c, s, "pin", 0,
		"the SHA-256 of the desktop's TLS "
		"certificate: 64 hex digits, colons allowed",
		&pin) != 0)
		bad = -1;
	else if (pin != NULL) {
		if (parse_pin(pin, d->pin) != 0) {
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
static unsigned int
range_count(struct lctx *c, const config_setting_t *s)
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

static int
load_range(struct lctx *c, const config_setting_t *s,
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
	bad |= get_security(c, s, pool->security, &proto.security);
	bad |= get_capacity(c, s, pool, cap, &proto.capacity);
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

static int
load_pool(struct lctx *c, const config_setting_t *s, struct policy_pool *pool,
    struct drefs *dr)
{
	static const char *const keys[] = { "description", "tenant", "zone",
		"assignment", "security", "capacity", "desktops",
		"desktop_ranges", NULL };
	const config_setting_t *list, *ranges, *e;
	const char *v;
	char key[256];
	unsigned int cap = 1, *counts = NULL;
	size_t ndesk = 0, nlist = 0, nranges = 0, i, k;
	int bad = 0;

	pool->name = policy_arena_strdup(c->a, config_setting_name(s));
	pool->src_file = lsrc_file(c, s);
	pool->src_line = lsrc_line(s);
	if (pool->name == NULL)
		return lerr_oom(c);
	if (!lname_ok(pool->name)) {
		lerr(c, s,
		    "bad name (expected letters, digits, '-', '_', "
		    "'.'; at most 63)");
		bad = -1;
	}
	if (lexpect_group(c, s,
		"a group: NAME = { tenant = \"...\"; zone = "
		"\"...\"; assignment = \"pooled\"; desktops = ( ... ); }") != 0)
		return -1;
	bad |= lcheck_keys(c, s, keys);
	bad |=
	    lget_string(c, s, "description", 0, "a string", &pool->description);
	if (lget_string(c, s, "tenant", 1, "a name from tenants", &v) != 0)
		bad = -1;
	else if ((pool->tenant = policy_tenant_lookup(c->p, v)) == NULL) {
		lerr(c, config_setting_get_member(s, "tenant"),
		    "undefined "
		    "tenant \"%s\" (expected a name from tenants)",
		    v);
		bad = -1;
	}
	if (lget_string(c, s, "zone", 1, "a name from zones", &v) != 0)
		bad = -1;
	else {
		for (i = 0; i < c->p->nzones; i++)
			if (c->p->zones[i].name != NULL &&
			    strcmp(c->p->zones[i].name, v) == 0)
				pool->zone = &c->p->zones[i];
		if (pool->zone == NULL) {
			lerr(c, config_setting_get_member(s, "zone"),
			    "undefined zone \"%s\" (expected a name from "
			    "zones)",
			    v);
			bad = -1;
		}
	}
	if (lget_string(
		c, s, "assignment", 1, "\"persistent\" or \"pooled\"", &v) != 0)
		bad = -1;
	else if (strcmp(v, "persistent") == 0)
		pool->assignment = POLICY_ASSIGN_PERSISTENT;
	else if (strcmp(v, "pooled") == 0)
		pool->assignment = POLICY_ASSIGN_POOLED;
	else {
		lerr(c, config_setting_get_member(s, "assignment"),
		    "bad value "
		    "\"%s\" (expected \"persistent\" or \"pooled\")",
		    v);
		bad = -1;
	}
	bad |= get_security(c, s, POLICY_SEC_TLS, &pool->security);
	bad |= get_capacity(c, s, pool, 1, &cap);

	list = config_setting_get_member(s, "desktops");
	ranges = config_setting_get_member(s, "desktop_ranges");
	if (list != NULL && config_setting_type(list) != CONFIG_TYPE_LIST) {
		lerr(c, list,
		    "wrong type: %s (expected a list of desktops: "
		    "desktops = ( { name = ...; address = ...; } );)",
		    ltype_name(list));
		list = NULL;
		bad = -1;
	}
	if (ranges != NULL && config_setting_type(ranges) != CONFIG_TYPE_LIST) {
		lerr(c, ranges,
		    "wrong type: %s (expected a list of ranges: "
		    "desktop_ranges = ( { prefix = ...; count = ...; address "
		    "= ...; } );)",
		    ltype_name(ranges));
		ranges = NULL;
		bad = -1;
	}
	nlist = list != NULL ? (size_t)config_setting_length(list) : 0;
	nranges = ranges != NULL ? (size_t)config_setting_length(ranges) : 0;
	if ((counts = calloc(nranges + 1, sizeof(*counts))) == NULL)
		return lerr_oom(c);
	ndesk = nlist;
	for (i = 0; i < nranges; i++) {
		counts[i] = range_count(
		    c, config_setting_get_elem(ranges, (unsigned int)i));
		ndesk += counts[i];
	}
	if (ndesk == 0 && bad == 0 && nranges == 0) {
		lerr(c, s,
		    "no desktops (expected desktops = ( ... ) or "
		    "desktop_ranges = ( ... ))");
		bad = -1;
	}
	if (dr->n + ndesk > POOL_MAX_DESKTOPS) {
		lerr(c, s,
		    "too many desktops (expected at most %u in the whole "
		    "policy)",
		    POOL_MAX_DESKTOPS);
		free(counts);
		return -1;
	}
	if (dr->n + ndesk > dr->cap) {
		struct dref *nv;
		size_t ncap = dr->cap == 0 ? 256 : dr->cap;

		while (ncap < dr->n + ndesk)
			ncap *= 2;
		if ((nv = realloc(dr->v, ncap * sizeof(*nv))) == NULL) {
			free(counts);
			return lerr_oom(c);
		}
		dr->v = nv;
		dr->cap = ncap;
	}
	if ((pool->desktops = policy_arena_calloc(
		 c->a, ndesk, sizeof(*pool->desktops))) == NULL) {
		free(counts);
		return lerr_oom(c);
	}
	for (i = 0; i < nlist; i++) {
		e = config_setting_get_elem(list, (unsigned int)i);
		if (load_desktop(c, e, pool, cap,
			&pool->desktops[pool->ndesktops]) != 0) {
			bad = -1;
			continue;
		}
		dr->v[dr->n].seq = dr->n;
		dr->v[dr->n].d = &pool->desktops[pool->ndesktops++];
		dr->v[dr->n++].key =
		    policy_arena_strdup(c->a, lpath(e, key, sizeof(key)));
	}
	for (i = 0; i < nranges; i++) {
		e = config_setting_get_elem(ranges, (unsigned int)i);
		if (load_range(c, e, pool, cap, counts[i],
			&pool->desktops[pool->ndesktops]) != 0) {
			bad = -1;
			continue;
		}
		lpath(e, key, sizeof(key));
		v = policy_arena_strdup(c->a, key);
		for (k = 0; k < counts[i]; k++) {
			dr->v[dr->n].seq = dr->n;
			dr->v[dr->n].d = &pool->desktops[pool->ndesktops++];
			dr->v[dr->n++].key = v;
		}
	}
	free(counts);
	return bad;
}

static int
cmp_name(const void *a, const void *b)
{
	const struct dref *x = a, *y = b;
	int r = strcmp(x->d->name, y->d->name);

	if (r != 0)
		return r;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int
cmp_addr(const void *a, const void *b)
{
	const struct dref *x = a, *y = b;
	int r = strcasecmp(x->d->host, y->d->host);

	if (r != 0)
		return r;
	if (x->d->port != y->d->port)
		return x->d->port < y->d->port ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Reports every entry equal to an earlier one (cmp breaks ties by
 * definition order, so the first of a run is the original). */
static int
report_dups(struct lctx *c, struct dref *refs, size_t n,
    int (*cmp)(const void *, const void *), const char *what)
{
	struct dref *sorted;
	const char *seen[64][2];
	size_t i, k, first, nseen = 0;
	int bad = 0;

	if (n < 2)
		return 0;
	if ((sorted = malloc(n * sizeof(*sorted))) == NULL)
		return lerr_oom(c);
	memcpy(sorted, refs, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), cmp);
	for (first = 0, i = 1; i < n; i++) {
		const struct policy_desktop *a = sorted[first].d,
					    *b = sorted[i].d;
		int same = cmp == cmp_name
		    ? strcmp(a->name, b->name) == 0
		    : strcasecmp(a->host, b->host) == 0 && a->port == b->port;

		if (!same) {
			first = i;
			continue;
		}
		bad = -1;
		/* Two overlapping ranges collide at every address: say it
		 * once per pair of entries. */
		for (k = 0; k < nseen; k++)
			if (seen[k][0] == sorted[i].key &&
			    seen[k][1] == sorted[first].key)
				break;
		if (k < nseen)
			continue;
		if (nseen < 64) {
			seen[nseen][0] = sorted[i].key;
			seen[nseen++][1] = sorted[first].key;
		}
		if (cmp == cmp_name)
			lerr_at(c, b->src_file, b->src_line, sorted[i].key,
			    "duplicate desktop name \"%s\" (first defined at "
			    "%s:%u; expected unique %s)",
			    b->name, a->src_file, a->src_line, what);
		else
			lerr_at(c, b->src_file, b->src_line, sorted[i].key,
			    "duplicate desktop address %s port %u (first "
			    "defined at %s:%u; expected unique %s)",
			    b->host, b->port, a->src_file, a->src_line, what);
	}
	free(sorted);
	return bad;
}

int
lload_pools(struct lctx *c, const config_setting_t *root)
{
	const config_setting_t *sec;
	struct drefs dr;
	size_t i;
	int bad = 0;

	if ((sec = config_setting_get_member(root, "pools")) == NULL)
		return 0;
	if (lexpect_group(c, sec, "a group: pools = { NAME = { ... }; }") != 0)
		return -1;
	c->p->npools = (size_t)config_setting_length(sec);
	if ((c->p->pools = policy_arena_calloc(
		 c->a, c->p->npools, sizeof(*c->p->pools))) == NULL)
		return lerr_oom(c);
	memset(&dr, 0, sizeof(dr));
	for (i = 0; i < c->p->npools; i++)
		bad |=
		    load_pool(c, config_setting_get_elem(sec, (unsigned int)i),
			&c->p->pools[i], &dr);
	bad |= report_dups(c, dr.v, dr.n, cmp_name,
	    "desktop names in the "
	    "policy");
	bad |= report_dups(c, dr.v, dr.n, cmp_addr,
	    "desktop addresses in "
	    "the policy");
	free(dr.v);
	return bad;
}
