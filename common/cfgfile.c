/* cfgfile.c: the checked libconfig reader with file:line errors. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfgfile.h"

/* ---- the problem list ---------------------------------------------------
 */

void
cfg_errlist_vadd(struct cfg_errlist *e, const char *file, unsigned int line,
    const char *key, const char *fmt, va_list ap)
{
	char msg[768], out[1600], where[1040];
	size_t i, n;
	char *t;

	e->count++;
	if (e->count > CFG_MAX_ERRORS) {
		e->truncated = 1;
		return;
	}
	vsnprintf(msg, sizeof(msg), fmt, ap);
	for (i = 0; msg[i] != '\0'; i++)
		if ((unsigned char)msg[i] < 0x20 || msg[i] == 0x7f)
			msg[i] = '?';
	if (line > 0)
		snprintf(where, sizeof(where), "%s:%u", file, line);
	else
		snprintf(where, sizeof(where), "%s", file);
	if (key != NULL && *key != '\0')
		n = (size_t)snprintf(
		    out, sizeof(out), "%s: %s: %s\n", where, key, msg);
	else
		n = (size_t)snprintf(out, sizeof(out), "%s: %s\n", where, msg);
	if (n >= sizeof(out)) {
		n = sizeof(out) - 1;
		out[n - 1] = '\n';
	}
	if (e->len + n + 1 > e->cap) {
		size_t cap = e->cap == 0 ? 1024 : e->cap;

		while (cap < e->len + n + 1)
			cap *= 2;
		if ((t = realloc(e->text, cap)) == NULL) {
			e->oom = 1;
			return;
		}
		e->text = t;
		e->cap = cap;
	}
	memcpy(e->text + e->len, out, n + 1);
	e->len += n;
}

void
cfg_errlist_add(struct cfg_errlist *e, const char *file, unsigned int line,
    const char *key, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cfg_errlist_vadd(e, file, line, key, fmt, ap);
	va_end(ap);
}

void
cfg_errlist_free(struct cfg_errlist *e)
{
	free(e->text);
	memset(e, 0, sizeof(*e));
}

/* ---- settings and values ------------------------------------------------
 */

char *
cfg_setting_path(const config_setting_t *s, char *buf, size_t len)
{
	const config_setting_t *parent;
	size_t n;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	if (s == NULL || (parent = config_setting_parent(s)) == NULL)
		return buf;
	cfg_setting_path(parent, buf, len);
	n = strlen(buf);
	if (config_setting_name(s) != NULL)
		snprintf(buf + n, len - n, "%s%s", n > 0 ? "." : "",
		    config_setting_name(s));
	else
		snprintf(buf + n, len - n, "[%d]", config_setting_index(s));
	return buf;
}

const char *
cfg_type_name(const config_setting_t *s)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_GROUP:
		return "group";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		return "integer";
	case CONFIG_TYPE_FLOAT:
		return "float";
	case CONFIG_TYPE_STRING:
		return "string";
	case CONFIG_TYPE_BOOL:
		return "boolean";
	case CONFIG_TYPE_ARRAY:
		return "array";
	case CONFIG_TYPE_LIST:
		return "list";
	default:
		return "nothing";
	}
}

int
cfg_value_int(const config_setting_t *s, int64_t lo, int64_t hi, int64_t *out,
    char *why, size_t whylen)
{
	long long v;

	*out = 0;
	if (config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64) {
		snprintf(why, whylen,
		    "wrong type: %s (expected an integer, %lld..%lld)",
		    cfg_type_name(s), (long long)lo, (long long)hi);
		return -1;
	}
	v = config_setting_get_int64(s);
	if (v < lo || v > hi) {
		snprintf(why, whylen,
		    "%lld is out of range (expected %lld..%lld)", v,
		    (long long)lo, (long long)hi);
		return -1;
	}
	*out = v;
	return 0;
}

int
cfg_value_bool(const config_setting_t *s, int *out, char *why, size_t whylen)
{
	*out = 0;
	if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
		snprintf(why, whylen, "wrong type: %s (expected true or false)",
		    cfg_type_name(s));
		return -1;
	}
	*out = config_setting_get_bool(s) != 0;
	return 0;
}

int
cfg_value_string(const config_setting_t *s, const char *expect,
    const char **out, char *why, size_t whylen)
{
	const char *v;

	*out = NULL;
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		snprintf(why, whylen, "wrong type: %s (expected %s)",
		    cfg_type_name(s), expect);
		return -1;
	}
	v = config_setting_get_string(s);
	if (v == NULL || *v == '\0') {
		snprintf(why, whylen, "empty string (expected %s)", expect);
		return -1;
	}
	*out = v;
	return 0;
}

int
cfg_parse_duration(const char *s, uint64_t *seconds)
{
	uint64_t total = 0, v;
	int digits;

	*seconds = 0;
	if (s == NULL || *s == '\0')
		return VDI_ERR_INVALID_ARG;
	while (*s != '\0') {
		for (v = 0, digits = 0; *s >= '0' && *s <= '9'; s++, digits++) {
			if (digits >= 9)
				return VDI_ERR_INVALID_ARG;
			v = v * 10 + (uint64_t)(*s - '0');
		}
		if (digits == 0)
			return VDI_ERR_INVALID_ARG;
		switch (*s++) {
		case 's':
			break;
		case 'm':
			v *= 60;
			break;
		case 'h':
			v *= 3600;
			break;
		case 'd':
			v *= 86400;
			break;
		default:
			return VDI_ERR_INVALID_ARG;
		}
		total += v;
		if (total > CFG_DURATION_MAX)
			return VDI_ERR_INVALID_ARG;
	}
	*seconds = total;
	return 0;
}

int
cfg_value_duration(const config_setting_t *s, unsigned int lo, unsigned int hi,
    unsigned int *out, char *why, size_t whylen)
{
	long long v;
	uint64_t u;

	*out = 0;
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		v = config_setting_get_int64(s);
		break;
	case CONFIG_TYPE_STRING:
		if (cfg_parse_duration(config_setting_get_string(s), &u) != 0) {
			snprintf(why, whylen,
			    "bad duration \"%s\" (expected seconds, or "
			    "a string such as \"90s\", \"15m\", \"8h\", "
			    "\"1h30m\", \"2d\")",
			    config_setting_get_string(s));
			return -1;
		}
		v = (long long)u;
		break;
	default:
		snprintf(why, whylen,
		    "wrong type: %s (expected a duration: seconds, or a "
		    "string such as \"15m\")",
		    cfg_type_name(s));
		return -1;
	}
	if (v < (long long)lo || v > (long long)hi) {
		snprintf(why, whylen,
		    "%lld seconds is out of range (expected %u..%u "
		    "seconds)",
		    v, lo, hi);
		return -1;
	}
	*out = (unsigned int)v;
	return 0;
}

int
cfg_value_group(
    const config_setting_t *s, const char *expect, char *why, size_t whylen)
{
	if (config_setting_is_group(s))
		return 0;
	snprintf(why, whylen, "wrong type: %s (expected %s)", cfg_type_name(s),
	    expect);
	return -1;
}

unsigned int
cfg_unknown_keys(const config_setting_t *g, const char *const *allowed,
    void (*report)(void *, const config_setting_t *, const char *), void *arg)
{
	char list[512], msg[600];
	const config_setting_t *m;
	const char *name;
	size_t i, n;
	unsigned int k, bad = 0;

	if (g == NULL)
		return 0;
	for (k = 0; (m = config_setting_get_elem(g, k)) != NULL; k++) {
		name = config_setting_name(m);
		for (i = 0; allowed[i] != NULL; i++)
			if (name != NULL && strcmp(name, allowed[i]) == 0)
				break;
		if (allowed[i] != NULL)
			continue;
		list[0] = '\0';
		for (i = 0; allowed[i] != NULL; i++) {
			n = strlen(list);
			snprintf(list + n, sizeof(list) - n, "%s%s",
			    i > 0 ? ", " : "", allowed[i]);
		}
		snprintf(msg, sizeof(msg), "unknown key (allowed: %s)", list);
		report(arg, m, msg);
		bad++;
	}
	return bad;
}

/* ---- the daemons' reader ------------------------------------------------
 */

int
cfg_open(struct cfg *c, const char *path)
{
	const char *slash;
	FILE *f;

	memset(c, 0, sizeof(*c));
	config_init(&c->lc);
	snprintf(c->path, sizeof(c->path), "%s", path);
	slash = strrchr(path, '/');
	if (slash == NULL)
		snprintf(c->dir, sizeof(c->dir), ".");
	else if (slash == path)
		snprintf(c->dir, sizeof(c->dir), "/");
	else
		snprintf(
		    c->dir, sizeof(c->dir), "%.*s", (int)(slash - path), path);
	config_set_include_dir(&c->lc, c->dir);
	/* Tell a missing file from a syntax error. */
	if ((f = fopen(path, "r")) == NULL) {
		cfg_error(
		    c, NULL, NULL, "cannot read %s: %s", path, strerror(errno));
		return VDI_ERR_CONFIG;
	}
	fclose(f);
	if (config_read_file(&c->lc, path) != CONFIG_TRUE) {
		cfg_errlist_add(&c->el,
		    config_error_file(&c->lc) ? config_error_file(&c->lc)
					      : path,
		    (unsigned int)config_error_line(&c->lc), NULL, "%s",
		    config_error_text(&c->lc) != NULL
			? config_error_text(&c->lc)
			: "parse error");
		return VDI_ERR_CONFIG;
	}
	return 0;
}

void
cfg_free(struct cfg *c)
{
	config_destroy(&c->lc);
	cfg_errlist_free(&c->el);
}

const config_setting_t *
cfg_open_root(struct cfg *c, const char *path, const char *const *top)
{
	const config_setting_t *root;

	if (cfg_open(c, path) != 0)
		return NULL;
	root = config_root_setting(&c->lc);
	cfg_check_keys(c, root, top);
	return root;
}

int
cfg_close(struct cfg *c, char **errors)
{
	int failed = cfg_failed(c);

	*errors = failed ? strdup(cfg_errors(c)) : NULL;
	cfg_free(c);
	return failed ? VDI_ERR_CONFIG : 0;
}

void
cfg_error(struct cfg *c, const config_setting_t *s, const char *key,
    const char *fmt, ...)
{
	char path[600];
	const char *file = NULL;
	unsigned int line = 0;
	va_list ap;
	size_t pl;

	path[0] = '\0';
	if (s != NULL) {
		file = config_setting_source_file(s);
		line = config_setting_source_line(s);
		cfg_setting_path(s, path, sizeof(path));
	}
	if (key != NULL) {
		pl = strlen(path);
		snprintf(path + pl, sizeof(path) - pl, "%s%s",
		    pl > 0 ? "." : "", key);
	}
	va_start(ap, fmt);
	cfg_errlist_vadd(
	    &c->el, file != NULL ? file : c->path, line, path, fmt, ap);
	va_end(ap);
}

int
cfg_failed(const struct cfg *c)
{
	return c->el.count > 0;
}

const char *
cfg_errors(const struct cfg *c)
{
	return c->el.text != NULL ? c->el.text : "";
}

static void
report_unknown(void *arg, const config_setting_t *m, const char *msg)
{
	cfg_error(arg, m, NULL, "%s", msg);
}

void
cfg_check_keys(
    struct cfg *c, const config_setting_t *g, const char *const *allowed)
{
	(void)cfg_unknown_keys(g, allowed, report_unknown, c);
}

const config_setting_t *
cfg_group(
    struct cfg *c, const config_setting_t *g, const char *key, int required)
{
	const config_setting_t *s;
	char why[256];

	if (g == NULL)
		g = config_root_setting(&c->lc);
	s = config_setting_get_member(g, key);
	if (s == NULL) {
		if (required)
			cfg_error(
			    c, g, key, "missing (expected a group { ... })");
		return NULL;
	}
	if (cfg_value_group(s, "a group { ... }", why, sizeof(why)) != 0) {
		cfg_error(c, s, NULL, "%s", why);
		return NULL;
	}
	return s;
}

static const config_setting_t *
member(struct cfg *c, const config_setting_t *g, const char *key, int required,
    const char *expect)
{
	const config_setting_t *s;

	if (g == NULL)
		g = config_root_setting(&c->lc);
	s = config_setting_get_member(g, key);
	if (s == NULL && required)
		cfg_error(c, g, key, "missing (expected %s)", expect);
	return s;
}

int
cfg_get_string(struct cfg *c, const config_setting_t *g, const char *key,
    int required, const char **out)
{
	static const char expect[] = "a string in double quotes";
	const config_setting_t *s;
	const char *v;
	char why[700];

	if ((s = member(c, g, key, required, expect)) == NULL)
		return 0;
	if (cfg_value_string(s, expect, &v, why, sizeof(why)) != 0) {
		cfg_error(c, s, NULL, "%s", why);
		return -1;
	}
	*out = v;
	return 1;
}

int
cfg_get_strbuf(struct cfg *c, const config_setting_t *g, const char *key,
    int required, char *buf, size_t buflen)
{
	const char *v;
	int r;

	if ((r = cfg_get_string(c, g, key, required, &v)) != 1)
		return r;
	if (strlen(v) >= buflen) {
		cfg_error(c, member(c, g, key, 0, NULL), NULL,
		    "too long (at most %zu characters)", buflen - 1);
		return -1;
	}
	memcpy(buf, v, strlen(v) + 1);
	return 1;
}

int
cfg_get_path(struct cfg *c, const config_setting_t *g, const char *key,
    int required, char *buf, size_t buflen)
{
	const char *v;
	int r;
	size_t n;

	if ((r = cfg_get_string(c, g, key, required, &v)) != 1)
		return r;
	if (v[0] == '/')
		n = (size_t)snprintf(buf, buflen, "%s", v);
	else
		n = (size_t)snprintf(buf, buflen, "%s/%s", c->dir, v);
	if (n >= buflen) {
		cfg_error(c,
		    config_setting_get_member(
			g ? g : config_root_setting(&c->lc), key),
		    NULL, "path too long");
		return -1;
	}
	return 1;
}

const config_setting_t *
cfg_get_pem_pair(struct cfg *c, const config_setting_t *g, const char *key,
    int required, char *cert, size_t certlen, char *pkey, size_t pkeylen)
{
	static const char *const keys[] = { "cert", "key", NULL };
	const config_setting_t *p;

	if ((p = cfg_group(c, g, key, required)) == NULL)
		return NULL;
	cfg_check_keys(c, p, keys);
	cfg_get_path(c, p, "cert", 1, cert, certlen);
	cfg_get_path(c, p, "key", 1, pkey, pkeylen);
	return p;
}

int
cfg_get_int(struct cfg *c, const config_setting_t *g, const char *key,
    int required, int64_t lo, int64_t hi, int64_t *out)
{
	const config_setting_t *s;
	int64_t v;
	char why[256];

	if ((s = member(c, g, key, required, "an integer")) == NULL)
		return 0;
	if (cfg_value_int(s, lo, hi, &v, why, sizeof(why)) != 0) {
		cfg_error(c, s, NULL, "%s", why);
		return -1;
	}
	*out = v;
	return 1;
}

int
cfg_get_bool(struct cfg *c, const config_setting_t *g, const char *key,
    int required, int *out)
{
	const config_setting_t *s;
	char why[256];
	int v;

	if ((s = member(c, g, key, required, "true or false")) == NULL)
		return 0;
	if (cfg_value_bool(s, &v, why, sizeof(why)) != 0) {
		cfg_error(c, s, NULL, "%s", why);
		return -1;
	}
	*out = v;
	return 1;
}

int
cfg_get_duration(struct cfg *c, const config_setting_t *g, const char *key,
    int required, unsigned int lo, unsigned int hi, unsigned int *out)
{
	const config_setting_t *s;
	char why[700];
	unsigned int v;

	if ((s = member(c, g, key, required,
		 "seconds or a duration such as \"90s\", \"15m\", \"8h\"")) ==
	    NULL)
		return 0;
	if (cfg_value_duration(s, lo, hi, &v, why, sizeof(why)) != 0) {
		cfg_error(c, s, NULL, "%s", why);
		return -1;
	}
	*out = v;
	return 1;
}

int
cfg_parse_hostport(const char *s, char *host, size_t hostlen, uint16_t *port)
{
	const char *colon, *h, *end;
	char *pe;
	unsigned long p;
	size_t hl;

	if (hostlen > 0)
		host[0] = '\0';
	*port = 0;
	if (s == NULL || *s == '\0')
		return VDI_ERR_INVALID_ARG;
	if (*s == '[') {
		if ((end = strchr(s, ']')) == NULL || end[1] != ':')
			return VDI_ERR_INVALID_ARG;
		h = s + 1;
		hl = (size_t)(end - h);
		colon = end + 1;
	} else {
		if ((colon = strrchr(s, ':')) == NULL ||
		    memchr(s, ':', (size_t)(colon - s)) != NULL)
			return VDI_ERR_INVALID_ARG; /* v6 needs brackets */
		h = s;
		hl = (size_t)(colon - s);
	}
	if (hl == 0 || hl >= hostlen)
		return VDI_ERR_INVALID_ARG;
	if (colon[1] < '0' || colon[1] > '9')
		return VDI_ERR_INVALID_ARG;
	p = strtoul(colon + 1, &pe, 10);
	if (*pe != '\0' || p > 65535)
		return VDI_ERR_INVALID_ARG;
	memcpy(host, h, hl);
	host[hl] = '\0';
	*port = (uint16_t)p;
	return 0;
}

int
cfg_get_hostport(struct cfg *c, const config_setting_t *g, const char *key,
    int required, char *host, size_t hostlen, uint16_t *port)
{
	const config_setting_t *s;
	const char *v;
	int r;

	if ((r = cfg_get_string(c, g, key, required, &v)) != 1)
		return r;
	if (cfg_parse_hostport(v, host, hostlen, port) != 0) {
		s = config_setting_get_member(
		    g ? g : config_root_setting(&c->lc), key);
		cfg_error(c, s, NULL,
		    "\"%s\" is not host:port (expected e.g. "
		    "\"127.0.0.1:8443\", "
		    "\"[::1]:8443\" or \"*:8443\"; port 0 picks a free one)",
		    v);
		return -1;
	}
	return 1;
}
