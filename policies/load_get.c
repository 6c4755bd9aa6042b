/*
 * load_get.c: the loader's checked getters: unknown keys, groups, names,
 * strings, integers, booleans, durations ("90s", "15m", "1h30m") and
 * lists, over the common reader's value checks (common/cfgfile.h), so
 * that the policy and the daemons' files give the same messages.
 */
#include "config.h"

#include <string.h>

#include "load_int.h"

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
lexpect_list(struct lctx *c, const config_setting_t *s, const char *what,
    const char *example)
{
	if (config_setting_type(s) == CONFIG_TYPE_ARRAY ||
	    config_setting_type(s) == CONFIG_TYPE_LIST)
		return 0;
	lerr(c, s, "wrong type: %s (expected a list of %s, e.g. %s)",
	    ltype_name(s), what, example);
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
lobj_name(struct lctx *c, const config_setting_t *s, const char *reserved,
    const char **name, const char **file, unsigned int *line)
{
	*name = policy_arena_strdup(c->a, config_setting_name(s));
	*file = lsrc_file(c, s);
	*line = lsrc_line(s);
	if (*name == NULL)
		return lerr_oom(c);
	if (!lname_ok(*name) ||
	    (reserved != NULL && strcmp(*name, reserved) == 0)) {
		lerr(c, s,
		    "bad name (expected letters, digits, '-', '_', "
		    "'.'; at most 63%s%s%s)",
		    reserved != NULL ? "; \"" : "",
		    reserved != NULL ? reserved : "",
		    reserved != NULL ? "\" is reserved" : "");
		return -1;
	}
	return 0;
}

int
lobj_group(struct lctx *c, const config_setting_t *s, const char *reserved,
    const char *expect, const char *const *keys, const char **name,
    const char **file, unsigned int *line, const char **description)
{
	int bad = 0;

	*description = NULL;
	bad |= lobj_name(c, s, reserved, name, file, line);
	if (*name == NULL)
		return -2;
	if (lexpect_group(c, s, expect) != 0)
		return -2;
	bad |= lcheck_keys(c, s, keys);
	bad |= lget_string(c, s, "description", 0, "a string", description);
	return bad;
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
	if (lexpect_list(c, s, expect, "[\"a\", \"b\"]") != 0)
		return -1;
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

void *
lload_section(struct lctx *c, const config_setting_t *root, const char *key,
    const char *expect, size_t size,
    int (*each)(struct lctx *, const config_setting_t *, void *),
    const config_setting_t **secp, size_t *n, int *bad)
{
	const config_setting_t *sec;
	char *v;
	size_t i, len;

	*n = 0;
	if (secp != NULL)
		*secp = NULL;
	if ((sec = lsection(c, root, key, expect, bad)) == NULL)
		return NULL;
	len = (size_t)config_setting_length(sec);
	if ((v = policy_arena_calloc(c->a, len, size)) == NULL) {
		*bad = lerr_oom(c);
		return NULL;
	}
	for (i = 0; i < len; i++)
		*bad |= each(c, config_setting_get_elem(sec, (unsigned int)i),
		    v + i * size);
	*n = len;
	if (secp != NULL)
		*secp = sec;
	return v;
}
