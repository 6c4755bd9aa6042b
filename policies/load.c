/*
 * load.c: the policy loader: libconfig in, immutable policy out, or a list
 * of "FILE:LINE: KEY: problem (expected ...)" and nothing.
 *
 * This file holds the driver (policy_load_file / policy_load_string): it
 * reads the file with libconfig, turns libconfig's own errors into the
 * same messages, and runs the sections' passes in order. Each section is
 * in a file of its own (the list is in load_int.h).
 *
 * Order of the passes (each may refer only to what is before it):
 *   version, limits, channels, time_windows, sites, zones,
 *   modes (names, sites, limits, channels), tenants, pools,
 *   modes (tenants, rules), rules, cross-checks.
 *
 * @include: libconfig 1.5 resolves every @include against one directory,
 * the include_dir; we set it to the directory of the main file (or to the
 * base_dir given for a string), so nested includes are relative to the
 * main file's directory as well. Relative CA and CRL paths resolve against
 * the directory of the file that names them.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "load_int.h"

/* ---- driver ------------------------------------------------------------ */

static const char *const root_keys[] = { "version", "limits", "channels",
	"time_windows", "sites", "zones", "tenants", "pools", "rules", "modes",
	"crl_warning", NULL };

static int
load_root(struct lctx *c, const config_setting_t *root)
{
	const config_setting_t *modes, *rules;
	int64_t version;
	int bad = 0, present;
	size_t i;

	bad |= lcheck_keys(c, root, root_keys);
	if (lget_int(c, root, "version", 1, 1, &present, &version) != 0)
		bad = -1;
	else if (!present) {
		lerr_at(c, c->main_display, 1, "version",
		    "missing (expected "
		    "version = 1; as the first setting)");
		bad = -1;
	}
	bad |= lget_duration(c, root, "crl_warning", 0, 366u * 86400, &present,
	    &c->p->crl_warning);
	if (!present)
		c->p->crl_warning = POLICY_DEFAULT_CRL_WARNING;
	bad |= lload_limits(c, root, &c->p->limits);
	bad |= lload_channels(c, root, &c->p->channels);
	c->p->timewins = lload_section(c, root, "time_windows",
	    "a group: time_windows = { NAME = { ... }; }",
	    sizeof(*c->p->timewins), lload_timewin, NULL, &c->p->ntimewins,
	    &bad);
	c->p->sites = lload_section(c, root, "sites",
	    "a group: sites = { NAME = [\"192.0.2.0/24\"]; }",
	    sizeof(*c->p->sites), lload_top_site, NULL, &c->p->nsites, &bad);
	c->p->zones = lload_section(c, root, "zones",
	    "a group: zones = { NAME = { ... }; }", sizeof(*c->p->zones),
	    lload_zone, NULL, &c->p->nzones, &bad);
	c->p->modes = lload_section(c, root, "modes",
	    "a group: modes = { NAME = { ... }; }", sizeof(*c->p->modes),
	    lload_mode1, &modes, &c->p->nmodes, &bad);
	bad |= lload_tenants(c, root);
	bad |= lload_pools(c, root);
	for (i = 0; modes != NULL && i < c->p->nmodes; i++)
		bad |= lload_mode2(c,
		    config_setting_get_elem(modes, (unsigned int)i),
		    &c->p->modes[i]);
	rules = config_setting_get_member(root, "rules");
	bad |= lload_rules(c, rules, NULL, &c->p->rules, &c->p->nrules);
	if (c->oom)
		return -1;
	bad |= lcheck_rule_names(c);
	bad |= lcheck_tenant_modes(c);
	return bad;
}

/* Extracts "name" from a line "  name = ..." for libconfig's duplicate
 * setting error, which does not say which name. */
static void
dup_name_from_file(const char *path, int line, char *out, size_t len)
{
	FILE *f;
	char buf[1024], *p, *q;
	int n = 0;

	out[0] = '\0';
	if (path == NULL || line <= 0 || (f = fopen(path, "r")) == NULL)
		return;
	while (fgets(buf, sizeof(buf), f) != NULL)
		if (++n == line)
			break;
	fclose(f);
	if (n != line)
		return;
	for (p = buf; *p == ' ' || *p == '\t'; p++)
		;
	for (q = p; (*q >= 'A' && *q <= 'Z') || (*q >= 'a' && *q <= 'z') ||
	     (*q >= '0' && *q <= '9') || *q == '-' || *q == '_';
	     q++)
		;
	if (q == p || (size_t)(q - p) >= len)
		return;
	memcpy(out, p, (size_t)(q - p));
	out[q - p] = '\0';
}

static int
load_common(config_t *cf, int ok, int io_errno, const char *main_cfg,
    const char *display, const char *dir, const char *incdir,
    const struct policy_load_opts *opts, struct policy **out,
    struct policy_errors *errs)
{
	struct lctx c;
	struct policy_arena *a = NULL;
	const char *efile;
	char key[128];
	int r = VDI_ERR_CONFIG;

	memset(&c, 0, sizeof(c));
	c.opts = opts;
	c.main_cfg = main_cfg;
	c.main_display = display;
	c.main_dir = dir;
	c.incdir = incdir;
	c.zonedir = opts != NULL && opts->zoneinfo_dir != NULL
	    ? opts->zoneinfo_dir
	    : getenv("TZDIR");
	if (c.zonedir == NULL || *c.zonedir == '\0')
		c.zonedir = "/usr/share/zoneinfo";
	if ((a = policy_arena_new()) == NULL ||
	    (c.p = policy_arena_alloc(a, sizeof(*c.p))) == NULL) {
		r = VDI_ERR_ALLOC;
		goto out;
	}
	c.a = a;
	c.p->arena = a;
	c.p->refs = 1;
	if ((c.p->source = policy_arena_strdup(a, display)) == NULL) {
		r = VDI_ERR_ALLOC;
		goto out;
	}
	if (!ok) {
		if (config_error_type(cf) == CONFIG_ERR_FILE_IO) {
			lerr_at(&c, display, 0, NULL,
			    "cannot read the policy file (%s)",
			    strerror(io_errno != 0 ? io_errno : EIO));
			goto out;
		}
		efile = config_error_file(cf) == NULL ? display
		    : lfile_display(&c, config_error_file(cf)) != NULL
		    ? lfile_display(&c, config_error_file(cf))
		    : display;
		key[0] = '\0';
		if (main_cfg != NULL && config_error_text(cf) != NULL &&
		    strstr(config_error_text(cf), "duplicate") != NULL)
			dup_name_from_file(
			    efile, config_error_line(cf), key, sizeof(key));
		if (key[0] != '\0')
			lerr_at(&c, efile, (unsigned int)config_error_line(cf),
			    key,
			    "duplicate name (expected each name once in "
			    "its group)");
		else
			lerr_at(&c, efile, (unsigned int)config_error_line(cf),
			    NULL, "%s (libconfig syntax)",
			    config_error_text(cf) != NULL
				? config_error_text(cf)
				: "parse error");
		goto out;
	}
	if (load_root(&c, config_root_setting(cf)) == 0 && !c.oom &&
	    !c.el.oom && c.el.count == 0) {
		*out = c.p;
		c.p = NULL;
		a = NULL;
		r = 0;
	} else if (c.oom || c.el.oom)
		r = VDI_ERR_ALLOC;
out:
	if ((c.oom || c.el.oom) && c.el.count == 0)
		r = VDI_ERR_ALLOC;
	lsort_errors(&c);
	if (errs != NULL) {
		errs->count = c.el.count;
		errs->text = c.el.text;
		errs->truncated = c.el.truncated;
		c.el.text = NULL;
	}
	cfg_errlist_free(&c.el);
	if (c.p != NULL)
		policy_destroy(c.p);
	else
		policy_arena_free(a);
	return r;
}

int
policy_load_file(const char *path, const struct policy_load_opts *opts,
    struct policy **out, struct policy_errors *errs)
{
	config_t cf;
	char *dir = NULL;
	const char *slash;
	int ok, r;

	if (out != NULL)
		*out = NULL;
	if (errs != NULL)
		memset(errs, 0, sizeof(*errs));
	if (path == NULL || out == NULL || *path == '\0')
		return VDI_ERR_INVALID_ARG;
	if ((slash = strrchr(path, '/')) == NULL)
		dir = strdup(".");
	else if (slash == path)
		dir = strdup("/");
	else
		dir = strndup(path, (size_t)(slash - path));
	if (dir == NULL)
		return VDI_ERR_ALLOC;
	config_init(&cf);
	config_set_include_dir(&cf, dir);
	errno = 0;
	ok = config_read_file(&cf, path);
	r = load_common(&cf, ok, errno, path, path, dir, dir, opts, out, errs);
	config_destroy(&cf);
	free(dir);
	return r;
}

int
policy_load_string(const char *text, const char *name, const char *base_dir,
    const struct policy_load_opts *opts, struct policy **out,
    struct policy_errors *errs)
{
	config_t cf;
	int ok, r;

	if (out != NULL)
		*out = NULL;
	if (errs != NULL)
		memset(errs, 0, sizeof(*errs));
	if (text == NULL || out == NULL)
		return VDI_ERR_INVALID_ARG;
	if (name == NULL)
		name = "(string)";
	if (base_dir == NULL)
		base_dir = ".";
	config_init(&cf);
	config_set_include_dir(&cf, base_dir);
	ok = config_read_string(&cf, text);
	r = load_common(
	    &cf, ok, 0, NULL, name, base_dir, base_dir, opts, out, errs);
	config_destroy(&cf);
	return r;
}
