/*
 * load_rule.c: the rules list (the top level's and each mode's), and the
 * tenants list a rule or a mode names.
 *
 *   rules = (
 *     { name = "ems-24x7"; action = "allow"; groups = ["ems"];
 *       device_classes = ["field-tablet"]; sites = ["field-lte"];
 *       time = ["nights"]; pools = ["ems-desktops"];
 *       limits = { ... }; channels = { audio_out = true; }; },
 *     ...
 *   );
 *
 * Rule names are unique across the base rules and every mode's, since the
 * audit log records the name. Modes are in load_mode.c.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "load_int.h"

/* ---- rules ------------------------------------------------------------- */

int
lhas_tenant(const struct policy_tenant *const *v, size_t n,
    const struct policy_tenant *t)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i] == t)
			return 1;
	return 0;
}

/*
 * The "tenants" list of group s (a rule or a mode): each name must be a
 * defined tenant and, for a rule inside a mode that names tenants, one of
 * that mode's. Duplicates are kept once. Returns 0, or -1 after reporting.
 */
int
lload_tenant_refs(struct lctx *c, const config_setting_t *s,
    const struct policy_mode *mode, const struct policy_tenant ***out,
    size_t *nout)
{
	const config_setting_t *list, *e;
	const struct policy_tenant *t;
	const char *v;
	size_t i, n;
	int bad = 0;

	if (lget_list(c, s, "tenants", 0, lname_ok, "tenant names", &list) != 0)
		return -1;
	if (list == NULL)
		return 0;
	n = (size_t)config_setting_length(list);
	if ((*out = policy_arena_calloc(c->a, n, sizeof(**out))) == NULL)
		return lerr_oom(c);
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(list, (unsigned int)i);
		v = config_setting_get_string(e);
		if ((t = policy_tenant_lookup(c->p, v)) == NULL) {
			lerr(c, e,
			    "undefined tenant \"%s\" (expected a name from "
			    "tenants)",
			    v);
			bad = -1;
		} else if (mode != NULL && mode->ntenants > 0 &&
		    !lhas_tenant(mode->tenants, mode->ntenants, t)) {
			lerr(c, e,
			    "tenant \"%s\" is not one of this mode's tenants "
			    "(expected one of the mode's tenants list)",
			    v);
			bad = -1;
		} else if (!lhas_tenant(*out, *nout, t))
			(*out)[(*nout)++] = t;
	}
	return bad;
}

static int
load_rule(struct lctx *c, const config_setting_t *s, struct policy_rule *r,
    const struct policy_mode *mode)
{
	static const char *const keys[] = { "name", "description", "action",
		"tenants", "users", "groups", "device_classes", "sites", "time",
		"pools", "limits", "channels", NULL };
	const config_setting_t *list, *e;
	const struct policy_tenant *t;
	const struct policy_pool *pool;
	const char *action, *desc, *v;
	char path[256];
	size_t i, j, n;
	int bad = 0, ok, action_ok;

	r->src_file = lsrc_file(c, s);
	r->src_line = lsrc_line(s);
	r->mode = mode;
	r->name_line = r->src_line;
	if ((e = config_setting_get_member(s, "name")) != NULL)
		r->name_line = lsrc_line(e);
	if ((r->path = policy_arena_strdup(
		 c->a, lpath(s, path, sizeof(path)))) == NULL)
		return lerr_oom(c);
	if (lexpect_group(c, s,
		"a group: { name = \"...\"; action = "
		"\"allow\"; ... }") != 0)
		return -1;
	bad |= lcheck_keys(c, s, keys);
	if (lget_string(c, s, "name", 1, "a rule name, for the audit log",
		&r->name) != 0)
		bad = -1;
	else if (!lname_ok(r->name)) {
		lerr(c, config_setting_get_member(s, "name"),
		    "bad name \"%s\" "
		    "(expected letters, digits, '-', '_', '.'; at most 63)",
		    r->name);
		bad = -1;
	}
	bad |= lget_string(c, s, "description", 0, "a string", &desc);
	if (lget_string(c, s, "action", 1, "\"allow\" or \"deny\"", &action) !=
	    0)
		bad = -1;
	else if (strcmp(action, "allow") == 0)
		r->allow = 1;
	else if (strcmp(action, "deny") != 0) {
		lerr(c, config_setting_get_member(s, "action"),
		    "bad value "
		    "\"%s\" (expected \"allow\" or \"deny\")",
		    action);
		bad = -1;
	}
	/* Without a valid action, what the rule may hold is unknown. */
	action_ok = action != NULL &&
	    (strcmp(action, "allow") == 0 || strcmp(action, "deny") == 0);

	/* tenants */
	bad |= lload_tenant_refs(c, s, mode, &r->tenants, &r->ntenants);

	/* users, groups */
	if (lget_list(c, s, "users", 0, lprincipal_ok, "user names", &list) ==
	    0)
		bad |= lcopy_strings(c, list, &r->users, &r->nusers);
	else
		bad = -1;
	if (lget_list(c, s, "groups", 0, lprincipal_ok, "group names", &list) ==
	    0)
		bad |= lcopy_strings(c, list, &r->groups, &r->ngroups);
	else
		bad = -1;

	/* sites */
	if (lget_list(c, s, "sites", 0, lname_ok, "site names", &list) != 0)
		bad = -1;
	else
		bad |= lsite_refs(c, list, mode, &r->sites, &r->nsites);

	/* time windows */
	if (lget_list(c, s, "time", 0, lname_ok, "time window names", &list) !=
	    0)
		bad = -1;
	else if (list != NULL) {
		n = (size_t)config_setting_length(list);
		if ((r->windows = policy_arena_calloc(
			 c->a, n, sizeof(*r->windows))) == NULL)
			return lerr_oom(c);
		for (i = 0; i < n; i++) {
			e = config_setting_get_elem(list, (unsigned int)i);
			v = config_setting_get_string(e);
			if ((r->windows[r->nwindows] =
				    lfind_timewin(c->p, v)) == NULL) {
				lerr(c, e,
				    "undefined time window \"%s\" "
				    "(expected a name from time_windows)",
				    v);
				bad = -1;
				continue;
			}
			r->nwindows++;
		}
	}

	/* pools: allow rules only */
	if (!action_ok)
		;
	else if (!r->allow) {
		for (i = 0; i < 3; i++) {
			static const char *const only[] = { "pools", "limits",
				"channels" };

			if ((e = config_setting_get_member(s, only[i])) !=
			    NULL) {
				lerr(c, e,
				    "not allowed on a deny rule (a deny "
				    "rule grants nothing)");
				bad = -1;
			}
		}
	} else if (lget_list(c, s, "pools", 1, lname_ok, "pool names", &list) !=
	    0)
		bad = -1;
	else {
		n = (size_t)config_setting_length(list);
		if (n > POLICY_MAX_RULE_POOLS) {
			lerr(c, list,
			    "%zu pools is too many (expected at most "
			    "%d)",
			    n, POLICY_MAX_RULE_POOLS);
			bad = -1;
			n = POLICY_MAX_RULE_POOLS;
		}
		if ((r->pools = policy_arena_calloc(
			 c->a, n, sizeof(*r->pools))) == NULL)
			return lerr_oom(c);
		for (i = 0; i < n; i++) {
			e = config_setting_get_elem(list, (unsigned int)i);
			v = config_setting_get_string(e);
			if ((pool = policy_pool_lookup(c->p, v)) == NULL) {
				lerr(c, e,
				    "undefined pool \"%s\" (expected a "
				    "name from pools)",
				    v);
				bad = -1;
				continue;
			}
			for (j = 0; j < r->npools; j++)
				if (r->pools[j] == pool)
					break;
			if (j < r->npools) {
				lerr(c, e,
				    "duplicate pool \"%s\" (expected "
				    "each pool once)",
				    v);
				bad = -1;
				continue;
			}
			if (r->tenants != NULL && pool->tenant != NULL &&
			    !lhas_tenant(
				r->tenants, r->ntenants, pool->tenant)) {
				lerr(c, e,
				    "pool \"%s\" belongs to tenant \"%s\", "
				    "which this rule's tenants do not include "
				    "(expected a pool of the rule's tenants)",
				    v, pool->tenant->name);
				bad = -1;
				continue;
			}
			r->pools[r->npools++] = pool;
		}
		/* Without an explicit list the rule applies to the tenants
		 * owning its pools. */
		if (config_setting_get_member(s, "tenants") == NULL) {
			if ((r->tenants = policy_arena_calloc(
				 c->a, r->npools, sizeof(*r->tenants))) == NULL)
				return lerr_oom(c);
			for (i = 0; i < r->npools; i++)
				if (r->pools[i]->tenant != NULL &&
				    !lhas_tenant(r->tenants, r->ntenants,
					r->pools[i]->tenant))
					r->tenants[r->ntenants++] =
					    r->pools[i]->tenant;
		}
	}

	/* device classes: each must be a class of one of the rule's tenants
	 * (or of any tenant when the rule names none) */
	if (lget_list(c, s, "device_classes", 0, lname_ok, "device class names",
		&list) != 0)
		bad = -1;
	else if (list != NULL) {
		bad |= lcopy_strings(c, list, &r->classes, &r->nclasses);
		for (i = 0; i < r->nclasses; i++) {
			ok = 0;
			for (j = 0; j < c->p->ntenants && !ok; j++) {
				t = &c->p->tenants[j];
				if (r->ntenants > 0 &&
				    !lhas_tenant(r->tenants, r->ntenants, t))
					continue;
				ok = policy_str_in(
				    r->classes[i], t->classes, t->nclasses);
			}
			if (!ok) {
				lerr(c,
				    config_setting_get_elem(
					list, (unsigned int)i),
				    "undefined device class "
				    "\"%s\" (expected a class listed in "
				    "device.classes of %s)",
				    r->classes[i],
				    r->ntenants == 1 ? r->tenants[0]->name
						     : "the rule's tenants");
				bad = -1;
			}
		}
	}

	if (r->allow) {
		bad |= lload_limits(c, s, &r->limits);
		bad |= lload_channels(c, s, &r->channels);
	}
	return bad;
}

int
lload_rules(struct lctx *c, const config_setting_t *s,
    const struct policy_mode *mode, struct policy_rule **out, size_t *nout)
{
	int bad = 0;
	size_t i, n;

	*out = NULL;
	*nout = 0;
	if (s == NULL)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_LIST) {
		lerr(c, s,
		    "wrong type: %s (expected an ordered list of rules: "
		    "rules = ( { ... }, { ... } );)",
		    ltype_name(s));
		return -1;
	}
	n = (size_t)config_setting_length(s);
	if ((*out = policy_arena_calloc(c->a, n, sizeof(**out))) == NULL)
		return lerr_oom(c);
	*nout = n;
	for (i = 0; i < n; i++)
		bad |= load_rule(c, config_setting_get_elem(s, (unsigned int)i),
		    &(*out)[i], mode);
	return bad;
}

int
lcheck_rule_names(struct lctx *c)
{
	const struct policy_rule **all;
	const struct policy_rule *a, *b;
	char key[300];
	size_t n = c->p->nrules, i, j, k;
	int bad = 0;

	for (i = 0; i < c->p->nmodes; i++)
		n += c->p->modes[i].nrules;
	if ((all = policy_arena_calloc(c->a, n, sizeof(*all))) == NULL)
		return lerr_oom(c);
	k = 0;
	for (i = 0; i < c->p->nrules; i++)
		all[k++] = &c->p->rules[i];
	for (i = 0; i < c->p->nmodes; i++)
		for (j = 0; j < c->p->modes[i].nrules; j++)
			all[k++] = &c->p->modes[i].rules[j];
	for (i = 0; i < n; i++) {
		a = all[i];
		if (a->name == NULL)
			continue;
		for (j = 0; j < i; j++) {
			b = all[j];
			if (b->name != NULL && strcmp(a->name, b->name) == 0)
				break;
		}
		if (j < i) {
			snprintf(key, sizeof(key), "%s.name", a->path);
			lerr_at(c, a->src_file, a->name_line, key,
			    "duplicate rule name \"%s\" (first defined at "
			    "%s:%u; expected unique rule names)",
			    a->name, all[j]->src_file, all[j]->src_line);
			bad = -1;
		}
	}
	return bad;
}
