/*
 * load_site.c: the sites and zones sections: where devices connect from
 * and where desktops are.
 *
 *   sites = { field-lte = ["192.0.2.0/24", "2001:db8:10::/48"]; };
 *   zones = { lgwan = { sites = ["office"]; networks = ["10.20.0.0/16"]; }; };
 *
 * A mode may have sites of its own (load_mode.c); a name it shares with
 * a top-level site is the mode's version of that site.
 */
#include "config.h"

#include <string.h>

#include "load_int.h"

/* ---- sites ------------------------------------------------------------- */

int
lload_site(struct lctx *c, const config_setting_t *s, struct policy_site *site,
    const struct policy_mode *mode)
{
	const config_setting_t *e;
	const char *v;
	size_t i, j;
	char a[64];
	int bad = 0, n;

	bad |= lobj_name(
	    c, s, NULL, &site->name, &site->src_file, &site->src_line);
	site->mode = mode;
	if (site->name == NULL)
		return -1;
	if (lexpect_list(c, s, "networks",
		"[\"192.0.2.0/24\", \"2001:db8:10::/48\"]") != 0)
		return -1;
	if ((n = config_setting_length(s)) == 0) {
		lerr(c, s,
		    "empty list (expected at least one network in CIDR "
		    "form)");
		return -1;
	}
	if ((site->cidrs = policy_arena_calloc(
		 c->a, (size_t)n, sizeof(*site->cidrs))) == NULL)
		return lerr_oom(c);
	for (i = 0; i < (size_t)n; i++) {
		e = config_setting_get_elem(s, (unsigned int)i);
		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			lerr(c, e,
			    "wrong type: %s (expected a network in CIDR "
			    "form as a string, e.g. \"192.0.2.0/24\")",
			    ltype_name(e));
			bad = -1;
			continue;
		}
		v = config_setting_get_string(e);
		if (vdi_cidr_parse(v, &site->cidrs[site->ncidrs]) != 0) {
			lerr(c, e,
			    "bad CIDR \"%s\" (expected a.b.c.d/n or "
			    "x:y::/n with the host bits zero)",
			    v);
			bad = -1;
			continue;
		}
		for (j = 0; j < site->ncidrs; j++)
			if (memcmp(&site->cidrs[j], &site->cidrs[site->ncidrs],
				sizeof(site->cidrs[j])) == 0)
				break;
		if (j < site->ncidrs) {
			lerr(c, e,
			    "duplicate network %s (expected each "
			    "network once)",
			    vdi_cidr_format(&site->cidrs[j], a, sizeof(a)));
			bad = -1;
			continue;
		}
		site->ncidrs++;
	}
	return bad;
}

int
lload_top_site(struct lctx *c, const config_setting_t *s, void *site)
{
	return lload_site(c, s, site, NULL);
}

const struct policy_site *
lfind_site(
    const struct policy *p, const struct policy_mode *m, const char *name)
{
	size_t i;

	if (m != NULL)
		for (i = 0; i < m->nsites; i++)
			if (m->sites[i].name != NULL &&
			    strcmp(m->sites[i].name, name) == 0)
				return &m->sites[i];
	for (i = 0; i < p->nsites; i++)
		if (p->sites[i].name != NULL &&
		    strcmp(p->sites[i].name, name) == 0)
			return &p->sites[i];
	return NULL;
}

int
lsite_refs(struct lctx *c, const config_setting_t *list,
    const struct policy_mode *m, const struct policy_site ***out, size_t *n)
{
	const config_setting_t *e;
	const char *v;
	size_t i, len;
	int bad = 0;

	*out = NULL;
	*n = 0;
	if (list == NULL)
		return 0;
	len = (size_t)config_setting_length(list);
	if ((*out = policy_arena_calloc(c->a, len, sizeof(**out))) == NULL)
		return lerr_oom(c);
	for (i = 0; i < len; i++) {
		e = config_setting_get_elem(list, (unsigned int)i);
		v = config_setting_get_string(e);
		if (((*out)[*n] = lfind_site(c->p, m, v)) == NULL) {
			lerr(c, e,
			    "undefined site \"%s\" (expected a name "
			    "from sites%s)",
			    v, m != NULL ? " or this mode's sites" : "");
			bad = -1;
			continue;
		}
		(*n)++;
	}
	return bad;
}

/* ---- zones ------------------------------------------------------------- */

int
lload_zone(struct lctx *c, const config_setting_t *s, void *elem)
{
	struct policy_zone *z = elem;
	static const char *const keys[] = { "description", "sites", "networks",
		NULL };
	const config_setting_t *list, *e;
	int bad = 0, r;
	size_t i, n;

	if ((r = lobj_group(c, s, NULL,
		 "a group: NAME = { description = \"...\"; "
		 "sites = [...]; networks = [...]; }",
		 keys, &z->name, &z->src_file, &z->src_line, &z->description)) <
	    -1)
		return -1;
	bad |= r;
	if (lget_list(c, s, "sites", 0, lname_ok, "site names", &list) != 0)
		bad = -1;
	else
		bad |= lsite_refs(c, list, NULL, &z->sites, &z->nsites);
	if (lget_list(
		c, s, "networks", 0, NULL, "networks in CIDR form", &list) != 0)
		return -1;
	if (list == NULL)
		return bad;
	n = (size_t)config_setting_length(list);
	if ((z->nets = policy_arena_calloc(c->a, n, sizeof(*z->nets))) == NULL)
		return lerr_oom(c);
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(list, (unsigned int)i);
		if (vdi_cidr_parse(config_setting_get_string(e),
			&z->nets[z->nnets]) != 0) {
			lerr(c, e,
			    "bad CIDR \"%s\" (expected a.b.c.d/n or "
			    "x:y::/n with the host bits zero)",
			    config_setting_get_string(e));
			bad = -1;
			continue;
		}
		z->nnets++;
	}
	return bad;
}
