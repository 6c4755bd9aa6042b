/*
 * load_pool.c: the pools section.
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
 * The desktops themselves are read in load_desktop.c. Desktop names and
 * host:port pairs are unique across the whole policy (the broker's state
 * refers to desktops by name): checked here, once every pool is read.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "load_int.h"

#define POOL_MAX_DESKTOPS 65536u

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
	int bad = 0, r;

	if ((r = lobj_group(c, s, NULL,
		 "a group: NAME = { tenant = \"...\"; zone = "
		 "\"...\"; assignment = \"pooled\"; desktops = ( ... ); }",
		 keys, &pool->name, &pool->src_file, &pool->src_line,
		 &pool->description)) < -1)
		return -1;
	bad |= r;
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
	bad |= lget_security(c, s, POLICY_SEC_TLS, &pool->security);
	bad |= lget_capacity(c, s, pool, 1, &cap);

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
		counts[i] = lrange_count(
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
		if (lload_desktop(c, e, pool, cap,
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
		if (lload_range(c, e, pool, cap, counts[i],
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
