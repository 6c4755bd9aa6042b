/*
 * load.c: the policy loader: libconfig in, immutable policy out, or a list
 * of "FILE:LINE: KEY: problem (expected ...)" and nothing.
 *
 * This file holds the driver (policy_load_file / policy_load_string), the
 * error and place helpers, the generic checked getters, and the sections
 * that are small: limits, channels, time_windows, sites and zones. Rules
 * and modes are in load_rule.c, tenants in load_tenant.c, pools in
 * load_pool.c.
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

struct load_file {
	struct load_file *next;
	const char *cfg_name; /* libconfig's (NULL: main) */
	const char *display;
	const char *dir;
};

/* ---- errors ------------------------------------------------------------ */

void
lerr_at(struct lctx *c, const char *file, unsigned int line, const char *key,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cfg_errlist_vadd(&c->el, file, line, key, fmt, ap);
	va_end(ap);
}

void
lerr(struct lctx *c, const config_setting_t *s, const char *fmt, ...)
{
	char key[512];
	va_list ap;

	lpath(s, key, sizeof(key));
	va_start(ap, fmt);
	cfg_errlist_vadd(&c->el, lsrc_file(c, s), lsrc_line(s), key, fmt, ap);
	va_end(ap);
}

void
lerr_key(struct lctx *c, const config_setting_t *g, const char *key,
    const char *fmt, ...)
{
	char path[512], full[640];
	va_list ap;

	lpath(g, path, sizeof(path));
	if (path[0] != '\0')
		snprintf(full, sizeof(full), "%s.%s", path, key);
	else
		snprintf(full, sizeof(full), "%s", key);
	va_start(ap, fmt);
	cfg_errlist_vadd(&c->el, lsrc_file(c, g), lsrc_line(g), full, fmt, ap);
	va_end(ap);
}

int
lerr_oom(struct lctx *c)
{
	c->oom = 1;
	return -1;
}

/* ---- places ------------------------------------------------------------ */

static const char *
dir_of(struct lctx *c, const char *path)
{
	const char *slash = strrchr(path, '/');
	char *d;

	if (slash == NULL)
		return ".";
	if (slash == path)
		return "/";
	if ((d = policy_arena_alloc(c->a, (size_t)(slash - path) + 1)) == NULL)
		return ".";
	memcpy(d, path, (size_t)(slash - path));
	return d;
}

const char *
ljoin(struct lctx *c, const char *dir, const char *path)
{
	size_t dl, pl;
	char *r;

	if (path[0] == '/' || dir == NULL || strcmp(dir, ".") == 0)
		return policy_arena_strdup(c->a, path);
	dl = strlen(dir);
	pl = strlen(path);
	if ((r = policy_arena_alloc(c->a, dl + pl + 2)) == NULL)
		return NULL;
	memcpy(r, dir, dl);
	r[dl] = '/';
	memcpy(r + dl + 1, path, pl + 1);
	return r;
}

static struct load_file *
file_of(struct lctx *c, const char *cfg_name)
{
	struct load_file *f;
	const char *disp;

	if (cfg_name != NULL && c->main_cfg != NULL &&
	    strcmp(cfg_name, c->main_cfg) == 0)
		cfg_name = NULL;
	for (f = c->files; f != NULL; f = f->next)
		if ((f->cfg_name == NULL && cfg_name == NULL) ||
		    (f->cfg_name != NULL && cfg_name != NULL &&
			strcmp(f->cfg_name, cfg_name) == 0))
			return f;
	if ((f = policy_arena_alloc(c->a, sizeof(*f))) == NULL)
		return NULL;
	if (cfg_name == NULL) {
		f->display = c->main_display;
		f->dir = c->main_dir;
	} else {
		if ((f->cfg_name = policy_arena_strdup(c->a, cfg_name)) == NULL)
			return NULL;
		disp = ljoin(c, c->incdir, cfg_name);
		f->display = disp != NULL ? disp : f->cfg_name;
		f->dir = dir_of(c, f->display);
	}
	f->next = c->files;
	c->files = f;
	return f;
}

const char *
lsrc_file(struct lctx *c, const config_setting_t *s)
{
	struct load_file *f = file_of(c, config_setting_source_file(s));

	return f != NULL ? f->display : c->main_display;
}

unsigned int
lsrc_line(const config_setting_t *s)
{
	return config_setting_source_line(s);
}

const char *
lsrc_dir(struct lctx *c, const config_setting_t *s)
{
	struct load_file *f = file_of(c, config_setting_source_file(s));

	return f != NULL ? f->dir : c->main_dir;
}

/* ---- checked getters --------------------------------------------------- */

static void
report_unknown(void *arg, const config_setting_t *m, const char *msg)
{
	lerr(arg, m, "%s", msg);
}

int
lcheck_keys(
    struct lctx *c, const config_setting_t *g, const char *const *allowed)
{
	return cfg_unknown_keys(g, allowed, report_unknown, c) > 0 ? -1 : 0;
}

int
lexpect_group(struct lctx *c, const config_setting_t *s, const char *expect)
{
	char why[512];

	if (cfg_value_group(s, expect, why, sizeof(why)) == 0)
		return 0;
	lerr(c, s, "%s", why);
	return -1;
}

int
lname_ok(const char *s)
{
	size_t i;

	if (s == NULL || s[0] == '\0' || strlen(s) > LOAD_NAME_MAX)
		return 0;
	for (i = 0; s[i] != '\0'; i++) {
		char ch = s[i];

		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9'))
			continue;
		if (i > 0 && (ch == '-' || ch == '_' || ch == '.'))
			continue;
		return 0;
	}
	return 1;
}

int
lprincipal_ok(const char *s)
{
	size_t i;

	if (s == NULL || s[0] == '\0' || strlen(s) > 255)
		return 0;
	for (i = 0; s[i] != '\0'; i++)
		if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f || s[i] == ',')
			return 0;
	return 1;
}

int
lget_string(struct lctx *c, const config_setting_t *g, const char *key,
    int required, const char *expect, const char **out)
{
	const config_setting_t *s = config_setting_get_member(g, key);
	const char *v;
	char why[700];

	*out = NULL;
	if (s == NULL) {
		if (!required)
			return 0;
		lerr_key(c, g, key, "missing (expected %s)", expect);
		return -1;
	}
	if (cfg_value_string(s, expect, &v, why, sizeof(why)) != 0) {
		lerr(c, s, "%s", why);
		return -1;
	}
	if ((*out = policy_arena_strdup(c->a, v)) == NULL)
		return lerr_oom(c);
	return 0;
}

int
lget_int(struct lctx *c, const config_setting_t *g, const char *key, int64_t lo,
    int64_t hi, int *present, int64_t *out)
{
	const config_setting_t *s = config_setting_get_member(g, key);
	char why[256];

	*present = 0;
	*out = 0;
	if (s == NULL)
		return 0;
	if (cfg_value_int(s, lo, hi, out, why, sizeof(why)) != 0) {
		lerr(c, s, "%s", why);
		return -1;
	}
	*present = 1;
	return 0;
}

int
lget_bool(struct lctx *c, const config_setting_t *g, const char *key,
    int *present, int *out)
{
	const config_setting_t *s = config_setting_get_member(g, key);
	char why[256];

	*present = 0;
	*out = 0;
	if (s == NULL)
		return 0;
	if (cfg_value_bool(s, out, why, sizeof(why)) != 0) {
		lerr(c, s, "%s", why);
		return -1;
	}
	*present = 1;
	return 0;
}

int
lget_duration(struct lctx *c, const config_setting_t *g, const char *key,
    unsigned int lo, unsigned int hi, int *present, unsigned int *out)
{
	const config_setting_t *s = config_setting_get_member(g, key);
	char why[700];

	*present = 0;
	*out = 0;
	if (s == NULL)
		return 0;
	if (cfg_value_duration(s, lo, hi, out, why, sizeof(why)) != 0) {
		lerr(c, s, "%s", why);
		return -1;
	}
	*present = 1;
	return 0;
}

int
lget_list(struct lctx *c, const config_setting_t *g, const char *key,
    int required, int (*check)(const char *), const char *expect,
    const config_setting_t **out)
{
	const config_setting_t *s = config_setting_get_member(g, key), *e;
	const char *v;
	int i, n, bad = 0;

	*out = NULL;
	if (s == NULL) {
		if (!required)
			return 0;
		lerr_key(c, g, key,
		    "missing (expected a list of %s, e.g. "
		    "[\"a\", \"b\"])",
		    expect);
		return -1;
	}
	if (config_setting_type(s) != CONFIG_TYPE_ARRAY &&
	    config_setting_type(s) != CONFIG_TYPE_LIST) {
		lerr(c, s,
		    "wrong type: %s (expected a list of %s, e.g. "
		    "[\"a\", \"b\"])",
		    ltype_name(s), expect);
		return -1;
	}
	if ((n = config_setting_length(s)) == 0) {
		if (required)
			lerr(c, s, "empty list (expected at least one of %s)",
			    expect);
		else
			lerr(c, s,
			    "empty list (expected at least one of %s; "
			    "leave the key out to mean any)",
			    expect);
		return -1;
	}
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(s, (unsigned int)i);
		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			lerr(c, e, "wrong type: %s (expected %s)",
			    ltype_name(e), expect);
			bad = -1;
			continue;
		}
		v = config_setting_get_string(e);
		if (v == NULL || *v == '\0' || (check != NULL && !check(v))) {
			lerr(c, e, "bad value \"%s\" (expected %s)",
			    v != NULL ? v : "", expect);
			bad = -1;
		}
	}
	if (bad == 0)
		*out = s;
	return bad;
}

int
lcopy_strings(
    struct lctx *c, const config_setting_t *list, const char ***out, size_t *n)
{
	size_t i, len;
	const char **v;

	*out = NULL;
	*n = 0;
	if (list == NULL)
		return 0;
	len = (size_t)config_setting_length(list);
	if ((v = policy_arena_calloc(c->a, len, sizeof(*v))) == NULL)
		return lerr_oom(c);
	for (i = 0; i < len; i++) {
		v[i] = policy_arena_strdup(
		    c->a, config_setting_get_string_elem(list, (int)i));
		if (v[i] == NULL)
			return lerr_oom(c);
	}
	*out = v;
	*n = len;
	return 0;
}

/* Returns the member of root named key if it is a group (or NULL when
 * absent); reports any other type. */
const config_setting_t *
lsection(struct lctx *c, const config_setting_t *root, const char *key,
    const char *expect, int *bad)
{
	const config_setting_t *s = config_setting_get_member(root, key);

	if (s == NULL)
		return NULL;
	if (lexpect_group(c, s, expect) != 0) {
		*bad = -1;
		return NULL;
	}
	return s;
}

/* ---- limits and channels ----------------------------------------------- */

int
lload_limits(
    struct lctx *c, const config_setting_t *g, struct policy_limits_set *out)
{
	static const char *const keys[] = { "idle_disconnect",
		"reconnect_window", "max_session", "single_session",
		"reconnect_ticket", NULL };
	const config_setting_t *s = config_setting_get_member(g, "limits");
	int bad = 0, present, b;
	unsigned int v;

	memset(out, 0, sizeof(*out));
	if (s == NULL)
		return 0;
	if (lexpect_group(c, s,
		"a group: limits = { idle_disconnect = "
		"\"15m\"; ... }") != 0)
		return -1;
	bad |= lcheck_keys(c, s, keys);
	bad |=
	    lget_duration(c, s, "idle_disconnect", 0, 7 * 86400, &present, &v);
	if (present) {
		out->mask |= POLICY_LIM_IDLE;
		out->v.idle_disconnect = v;
	}
	bad |= lget_duration(c, s, "reconnect_window", 0, 86400, &present, &v);
	if (present) {
		out->mask |= POLICY_LIM_RECONNECT;
		out->v.reconnect_window = v;
	}
	bad |= lget_duration(c, s, "max_session", 0, 30 * 86400, &present, &v);
	if (present) {
		out->mask |= POLICY_LIM_MAX_SESSION;
		out->v.max_session = v;
	}
	bad |= lget_bool(c, s, "single_session", &present, &b);
	if (present) {
		out->mask |= POLICY_LIM_SINGLE;
		out->v.single_session = b;
	}
	bad |= lget_bool(c, s, "reconnect_ticket", &present, &b);
	if (present) {
		out->mask |= POLICY_LIM_TICKET;
		out->v.reconnect_ticket = b;
	}
	return bad;
}

int
lload_channels(
    struct lctx *c, const config_setting_t *g, struct policy_channels_set *out)
{
	static const char *const never[] = { "display", "input", "clipboard",
		"cliprdr", "drive", "drives", "rdpdr", "printer", "printers",
		"audio_in", "microphone", "usb", "smartcard", "serial", "video",
		"camera", NULL };
	const config_setting_t *s = config_setting_get_member(g, "channels");
	const config_setting_t *m;
	const char *name;
	int bad = 0, present, b, i, j, n;

	memset(out, 0, sizeof(*out));
	if (s == NULL)
		return 0;
	if (lexpect_group(c, s, "a group: channels = { audio_out = true; }") !=
	    0)
		return -1;
	n = config_setting_length(s);
	for (i = 0; i < n; i++) {
		m = config_setting_get_elem(s, (unsigned int)i);
		name = config_setting_name(m);
		if (strcmp(name, "audio_out") == 0)
			continue;
		for (j = 0; never[j] != NULL; j++)
			if (strcmp(name, never[j]) == 0)
				break;
		if (never[j] != NULL && j < 2)
			lerr(c, m,
			    "display and input are always on and cannot "
			    "be configured (allowed: audio_out)");
		else if (never[j] != NULL)
			lerr(c, m,
			    "no such channel class: nothing but display, "
			    "input and audio_out ever reaches a device "
			    "(allowed: audio_out)");
		else
			lerr(c, m, "unknown key (allowed: audio_out)");
		bad = -1;
	}
	bad |= lget_bool(c, s, "audio_out", &present, &b);
	out->set = 1;
	out->channels = present && b ? POLICY_CH_AUDIO_OUT : 0;
	return bad;
}

/* ---- time windows ------------------------------------------------------ */

static int
load_zone(struct lctx *c, const config_setting_t *s, const char *name,
    const struct policy_tz **out)
{
	struct policy_tz *tz;
	struct policy_tz **v;
	size_t i;
	int r;

	*out = NULL;
	for (i = 0; i < c->ntz; i++)
		if (strcmp(c->tz[i]->name, name) == 0) {
			*out = c->tz[i];
			return 0;
		}
	if (!policy_tz_name_ok(name)) {
		lerr(c, s,
		    "bad time zone name \"%s\" (expected an IANA zone "
		    "such as \"Asia/Tokyo\" or \"Europe/Berlin\")",
		    name);
		return -1;
	}
	r = policy_tz_load(c->zonedir, name, c->a, &tz);
	if (r == VDI_ERR_ALLOC)
		return lerr_oom(c);
	if (r == VDI_ERR_NOT_FOUND) {
		lerr(c, s,
		    "unknown time zone \"%s\" (not in %s; expected an "
		    "IANA zone such as \"Asia/Tokyo\")",
		    name, c->zonedir);
		return -1;
	}
	if (r != 0) {
		lerr(c, s,
		    "cannot use time zone \"%s\": %s/%s is not a valid "
		    "TZif file (%s)",
		    name, c->zonedir, name, vdi_strerror(r));
		return -1;
	}
	if ((v = policy_arena_calloc(c->a, c->ntz + 1, sizeof(*v))) == NULL)
		return lerr_oom(c);
	if (c->ntz > 0)
		memcpy(v, c->tz, c->ntz * sizeof(*v));
	v[c->ntz++] = tz;
	c->tz = v;
	*out = tz;
	return 0;
}

static int
load_timewin(
    struct lctx *c, const config_setting_t *s, struct policy_timewin *w)
{
	static const char *const keys[] = { "time_zone", "days", "hours",
		"description", NULL };
	const config_setting_t *days, *e;
	const char *zone, *hours, *why, *desc;
	uint8_t mask;
	int bad = 0, i, n;

	w->name = policy_arena_strdup(c->a, config_setting_name(s));
	w->src_file = lsrc_file(c, s);
	w->src_line = lsrc_line(s);
	if (w->name == NULL)
		return lerr_oom(c);
	if (!lname_ok(w->name)) {
		lerr(c, s,
		    "bad name (expected letters, digits, '-', '_', "
		    "'.'; at most 63)");
		bad = -1;
	}
	if (lexpect_group(c, s,
		"a group: NAME = { time_zone = "
		"\"Asia/Tokyo\"; days = [\"weekdays\"]; hours = "
		"\"08:30-17:15\"; }") != 0)
		return -1;
	bad |= lcheck_keys(c, s, keys);
	bad |= lget_string(c, s, "description", 0, "a string", &desc);
	if (lget_string(c, s, "time_zone", 1,
		"an IANA time zone such as "
		"\"Asia/Tokyo\"; every window names its zone",
		&zone) != 0)
		bad = -1;
	else if (load_zone(c, config_setting_get_member(s, "time_zone"), zone,
		     &w->tz) != 0)
		bad = -1;
	if (lget_string(c, s, "hours", 1,
		"\"HH:MM-HH:MM\", e.g. "
		"\"08:30-17:15\" or \"22:00-06:00\"",
		&hours) != 0)
		bad = -1;
	else if (policy_timewin_parse_hours(hours, &w->start, &w->end, &why) !=
	    0) {
		lerr(c, config_setting_get_member(s, "hours"),
		    "bad time window \"%s\" (%s)", hours, why);
		bad = -1;
	}
	if (lget_list(c, s, "days", 0, NULL,
		"day names: mon, tue, wed, thu, "
		"fri, sat, sun, weekdays, weekend, daily",
		&days) != 0)
		return -1;
	if (days == NULL) {
		w->days = 0x7f;
		return bad;
	}
	n = config_setting_length(days);
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(days, (unsigned int)i);
		if (policy_timewin_parse_day(
			config_setting_get_string(e), &mask) != 0) {
			lerr(c, e,
			    "bad day \"%s\" (expected mon, tue, wed, thu, "
			    "fri, sat, sun, weekdays, weekend or daily)",
			    config_setting_get_string(e));
			bad = -1;
		} else if ((w->days & mask) != 0) {
			lerr(c, e,
			    "day \"%s\" overlaps days listed before it "
			    "(expected each day once)",
			    config_setting_get_string(e));
			bad = -1;
		}
		w->days |= mask;
	}
	return bad;
}

static int
load_timewins(struct lctx *c, const config_setting_t *root)
{
	const config_setting_t *sec;
	int bad = 0;
	size_t i;

	sec = lsection(c, root, "time_windows",
	    "a group: time_windows = { "
	    "NAME = { ... }; }",
	    &bad);
	if (sec == NULL)
		return bad;
	c->p->ntimewins = (size_t)config_setting_length(sec);
	if ((c->p->timewins = policy_arena_calloc(
		 c->a, c->p->ntimewins, sizeof(*c->p->timewins))) == NULL)
		return lerr_oom(c);
	for (i = 0; i < c->p->ntimewins; i++)
		bad |= load_timewin(c,
		    config_setting_get_elem(sec, (unsigned int)i),
		    &c->p->timewins[i]);
	return bad;
}

const struct policy_timewin *
lfind_timewin(const struct policy *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->ntimewins; i++)
		if (p->timewins[i].name != NULL &&
		    strcmp(p->timewins[i].name, name) == 0)
			return &p->timewins[i];
	return NULL;
}

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

	site->name = policy_arena_strdup(c->a, config_setting_name(s));
	site->src_file = lsrc_file(c, s);
	site->src_line = lsrc_line(s);
	site->mode = mode;
	if (site->name == NULL)
		return lerr_oom(c);
	if (!lname_ok(site->name)) {
		lerr(c, s,
		    "bad name (expected letters, digits, '-', '_', "
		    "'.'; at most 63)");
		bad = -1;
	}
	if (config_setting_type(s) != CONFIG_TYPE_ARRAY &&
	    config_setting_type(s) != CONFIG_TYPE_LIST) {
		lerr(c, s,
		    "wrong type: %s (expected a list of networks, e.g. "
		    "[\"192.0.2.0/24\", \"2001:db8:10::/48\"])",
		    ltype_name(s));
		return -1;
	}
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

static int
load_sites(struct lctx *c, const config_setting_t *root)
{
	const config_setting_t *sec;
	int bad = 0;
	size_t i;

	sec = lsection(c, root, "sites",
	    "a group: sites = { NAME = "
	    "[\"192.0.2.0/24\"]; }",
	    &bad);
	if (sec == NULL)
		return bad;
	c->p->nsites = (size_t)config_setting_length(sec);
	if ((c->p->sites = policy_arena_calloc(
		 c->a, c->p->nsites, sizeof(*c->p->sites))) == NULL)
		return lerr_oom(c);
	for (i = 0; i < c->p->nsites; i++)
		bad |=
		    lload_site(c, config_setting_get_elem(sec, (unsigned int)i),
			&c->p->sites[i], NULL);
	return bad;
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

static int
load_zone_sec(struct lctx *c, const config_setting_t *s, struct policy_zone *z)
{
	static const char *const keys[] = { "description", "sites", "networks",
		NULL };
	const config_setting_t *list, *e;
	int bad = 0;
	size_t i, n;

	z->name = policy_arena_strdup(c->a, config_setting_name(s));
	z->src_file = lsrc_file(c, s);
	z->src_line = lsrc_line(s);
	if (z->name == NULL)
		return lerr_oom(c);
	if (!lname_ok(z->name)) {
		lerr(c, s,
		    "bad name (expected letters, digits, '-', '_', "
		    "'.'; at most 63)");
		bad = -1;
	}
	if (lexpect_group(c, s,
		"a group: NAME = { description = \"...\"; "
		"sites = [...]; networks = [...]; }") != 0)
		return -1;
	bad |= lcheck_keys(c, s, keys);
	bad |= lget_string(c, s, "description", 0, "a string", &z->description);
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

static int
load_zones(struct lctx *c, const config_setting_t *root)
{
	const config_setting_t *sec;
	int bad = 0;
	size_t i;

	sec = lsection(
	    c, root, "zones", "a group: zones = { NAME = { ... }; }", &bad);
	if (sec == NULL)
		return bad;
	c->p->nzones = (size_t)config_setting_length(sec);
	if ((c->p->zones = policy_arena_calloc(
		 c->a, c->p->nzones, sizeof(*c->p->zones))) == NULL)
		return lerr_oom(c);
	for (i = 0; i < c->p->nzones; i++)
		bad |= load_zone_sec(c,
		    config_setting_get_elem(sec, (unsigned int)i),
		    &c->p->zones[i]);
	return bad;
}

/* ---- driver ------------------------------------------------------------ */

static const char *const root_keys[] = { "version", "limits", "channels",
	"time_windows", "sites", "zones", "tenants", "pools", "rules", "modes",
	"crl_warning", NULL };

static int
load_root(struct lctx *c, const config_setting_t *root)
{
	const config_setting_t *modes, *rules;
	int64_t version;
	int bad = 0, present, nb = 0;
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
	bad |= load_timewins(c, root);
	bad |= load_sites(c, root);
	bad |= load_zones(c, root);

	modes = lsection(c, root, "modes",
	    "a group: modes = { NAME = { ... }; "
	    "}",
	    &nb);
	bad |= nb;
	if (modes != NULL) {
		c->p->nmodes = (size_t)config_setting_length(modes);
		if ((c->p->modes = policy_arena_calloc(
			 c->a, c->p->nmodes, sizeof(*c->p->modes))) == NULL)
			return lerr_oom(c);
		for (i = 0; i < c->p->nmodes; i++)
			bad |= lload_mode1(c,
			    config_setting_get_elem(modes, (unsigned int)i),
			    &c->p->modes[i]);
	}
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

struct eline {
	const char *text;
	size_t len, flen, file, seq;
	unsigned long line;
};

static int
cmp_eline(const void *a, const void *b)
{
	const struct eline *x = a, *y = b;

	if (x->file != y->file)
		return x->file < y->file ? -1 : 1;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Puts the messages in file order: files in the order their first message
 * came, lines ascending, messages about one line in the order found. */
static void
sort_errors(struct lctx *c)
{
	struct eline *v;
	char *out, *p, *nl, *q;
	size_t n = 0, i, j, k;

	if (c->el.text == NULL || c->el.len == 0)
		return;
	for (p = c->el.text; (nl = strchr(p, '\n')) != NULL; p = nl + 1)
		n++;
	if ((v = calloc(n, sizeof(*v))) == NULL)
		return;
	if ((out = malloc(c->el.len + 1)) == NULL) {
		free(v);
		return;
	}
	for (i = 0, p = c->el.text; i < n; i++, p = nl + 1) {
		nl = strchr(p, '\n');
		v[i].text = p;
		v[i].len = (size_t)(nl - p) + 1;
		v[i].seq = i;
		/* "FILE:LINE: ..." */
		for (q = p; q < nl; q++) {
			if (q[0] != ':' || q[1] < '0' || q[1] > '9')
				continue;
			v[i].line = strtoul(q + 1, NULL, 10);
			break;
		}
		v[i].flen = (size_t)(q - p);
		for (j = 0; j < i; j++)
			if (v[j].flen == v[i].flen &&
			    memcmp(v[j].text, p, v[i].flen) == 0)
				break;
		v[i].file = j < i ? v[j].file : i;
	}
	qsort(v, n, sizeof(*v), cmp_eline);
	for (i = 0, k = 0; i < n; i++) {
		memcpy(out + k, v[i].text, v[i].len);
		k += v[i].len;
	}
	out[k] = '\0';
	free(c->el.text);
	c->el.text = out;
	c->el.cap = c->el.len + 1;
	free(v);
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
		    : file_of(&c, config_error_file(cf)) != NULL
		    ? file_of(&c, config_error_file(cf))->display
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
	sort_errors(&c);
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
