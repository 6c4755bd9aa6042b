/*
 * load_mode.c: the modes section: a mode is a switchable variant of the
 * policy for some tenants (relocation after a disaster, say), with its
 * own sites, limits, channels and rules.
 *
 *   modes = { relocation = { tenants = [...]; sites = { ... };
 *                            rules = ( ... ); inherit_rules = true;
 *                            limits = { ... }; }; };
 *
 * Modes load in two passes around tenants and pools: first their names,
 * sites, limits and channels (tenants may name a mode), then their tenants
 * and rules (rules name pools). After the load, every tenant switched to
 * a mode must be one the mode is for.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "load_int.h"

/* ---- modes ------------------------------------------------------------- */

static const char *const mode_keys[] = { "description", "tenants", "sites",
	"rules", "inherit_rules", "limits", "channels", NULL };

int
lload_mode1(struct lctx *c, const config_setting_t *s, void *elem)
{
	struct policy_mode *m = elem;
	const config_setting_t *sites;
	const struct policy_site *base;
	int bad = 0, present, r;
	size_t i;

	m->inherit_rules = 1;
	if ((r = lobj_group(c, s, "none",
		 "a group: NAME = { sites = { ... }; rules = "
		 "( ... ); limits = { ... }; }",
		 mode_keys, &m->name, &m->src_file, &m->src_line,
		 &m->description)) < -1)
		return -1;
	bad |= r;
	bad |= lget_bool(c, s, "inherit_rules", &present, &m->inherit_rules);
	if (!present)
		m->inherit_rules = 1;
	bad |= lload_limits(c, s, &m->limits);
	bad |= lload_channels(c, s, &m->channels);
	sites = config_setting_get_member(s, "sites");
	if (sites != NULL &&
	    lexpect_group(c, sites,
		"a group: sites = { NAME "
		"= [\"192.0.2.0/24\"]; }") != 0)
		return -1;
	if (sites == NULL)
		return bad;
	m->nsites = (size_t)config_setting_length(sites);
	if ((m->sites = policy_arena_calloc(
		 c->a, m->nsites, sizeof(*m->sites))) == NULL)
		return lerr_oom(c);
	for (i = 0; i < m->nsites; i++) {
		bad |= lload_site(c,
		    config_setting_get_elem(sites, (unsigned int)i),
		    &m->sites[i], m);
		if (m->sites[i].name == NULL)
			continue;
		/* Same name as a base site: this mode's version of it. */
		base = lfind_site(c->p, NULL, m->sites[i].name);
		m->sites[i].overrides = base;
	}
	return bad;
}

int
lload_mode2(struct lctx *c, const config_setting_t *s, struct policy_mode *m)
{
	int bad = 0;

	if (!config_setting_is_group(s))
		return -1;
	bad |= lload_tenant_refs(c, s, NULL, &m->tenants, &m->ntenants);
	bad |= lload_rules(
	    c, config_setting_get_member(s, "rules"), m, &m->rules, &m->nrules);
	return bad;
}

int
lcheck_tenant_modes(struct lctx *c)
{
	const struct policy_tenant *t;
	char key[128];
	size_t i;
	int bad = 0;

	for (i = 0; i < c->p->ntenants; i++) {
		t = &c->p->tenants[i];
		if (t->mode == NULL || t->mode->ntenants == 0 ||
		    lhas_tenant(t->mode->tenants, t->mode->ntenants, t))
			continue;
		snprintf(key, sizeof(key), "tenants.%s.mode", t->name);
		lerr_at(c, t->src_file, t->mode_line, key,
		    "tenant \"%s\" is "
		    "switched to mode \"%s\", which is not for it (expected a "
		    "mode whose tenants list names it)",
		    t->name, t->mode->name);
		bad = -1;
	}
	return bad;
}
