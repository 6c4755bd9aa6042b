/* cfgfile.c: checked libconfig reading with file:line errors. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfgfile.h"

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
		c->nerrors++;
		{
			char line[1400];
			size_t n;

			n = (size_t)snprintf(line, sizeof(line), "%s:%d: %s\n",
			    config_error_file(&c->lc)
				? config_error_file(&c->lc)
				: path,
			    config_error_line(&c->lc),
			    config_error_text(&c->lc));
			if (n >= sizeof(line))
				n = sizeof(line) - 1;
			c->errors = realloc(c->errors, c->elen + n + 1);
			if (c->errors != NULL) {
				memcpy(c->errors + c->elen, line, n + 1);
				c->elen += n;
			}
		}
		return VDI_ERR_CONFIG;
	}
	return 0;
}

void
cfg_free(struct cfg *c)
{
	config_destroy(&c->lc);
	free(c->errors);
	c->errors = NULL;
	c->elen = c->ecap = 0;
}

static void
setting_path(const config_setting_t *s, char *buf, size_t len)
{
	char tmp[512];
	const char *name;

	buf[0] = '\0';
	for (; s != NULL && config_setting_parent(s) != NULL;
	     s = config_setting_parent(s)) {
		name = config_setting_name(s);
		if (name != NULL)
			snprintf(tmp, sizeof(tmp), "%s%s%s", name,
			    buf[0] != '\0' && buf[0] != '[' ? "." : "", buf);
		else
			snprintf(tmp, sizeof(tmp), "[%d]%s%s",
			    config_setting_index(s),
			    buf[0] != '\0' && buf[0] != '[' ? "." : "", buf);
		snprintf(buf, len, "%s", tmp);
	}
}

void
cfg_error(struct cfg *c, const config_setting_t *s, const char *key,
    const char *fmt, ...)
{
	char where[1200], path[512], msg[600], line[2400];
	const char *file;
	va_list ap;
	size_t n;

	c->nerrors++;
	if (c->nerrors > CFG_MAX_ERRORS)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (s == NULL) {
		snprintf(where, sizeof(where), "%s", c->path);
		path[0] = '\0';
	} else {
		file = config_setting_source_file(s);
		snprintf(where, sizeof(where), "%s:%u",
		    file != NULL ? file : c->path,
		    config_setting_source_line(s));
		setting_path(s, path, sizeof(path));
	}
	if (key != NULL) {
		size_t pl = strlen(path);

		snprintf(path + pl, sizeof(path) - pl, "%s%s",
		    pl > 0 ? "." : "", key);
	}
	if (path[0] != '\0')
		n = (size_t)snprintf(
		    line, sizeof(line), "%s: %s: %s\n", where, path, msg);
	else
		n = (size_t)snprintf(
		    line, sizeof(line), "%s: %s\n", where, msg);
	if (n >= sizeof(line))
		n = sizeof(line) - 1;
	if (c->elen + n + 1 > c->ecap) {
		size_t ncap = (c->ecap + n + 1) * 2;
		char *ne = realloc(c->errors, ncap);

		if (ne == NULL)
			return;
		c->errors = ne;
		c->ecap = ncap;
	}
	memcpy(c->errors + c->elen, line, n + 1);
	c->elen += n;
}

int
cfg_failed(const struct cfg *c)
{
	return c->nerrors > 0;
}

const char *
cfg_errors(const struct cfg *c)
{
	return c->errors != NULL ? c->errors : "";
}

void
cfg_check_keys(
    struct cfg *c, const config_setting_t *g, const char *const *allowed)
{
	char list[512];
	const config_setting_t *m;
	const char *name;
	size_t i, l;
	int ok;
	unsigned int k;

	if (g == NULL)
		return;
	for (k = 0; (m = config_setting_get_elem(g, k)) != NULL; k++) {
		if ((name = config_setting_name(m)) == NULL)
			continue;
		ok = 0;
		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(allowed[i], name) == 0)
				ok = 1;
		if (ok)
			continue;
		list[0] = '\0';
		for (i = 0; allowed[i] != NULL; i++) {
			l = strlen(list);
			snprintf(list + l, sizeof(list) - l, "%s%s",
			    i > 0 ? ", " : "", allowed[i]);
		}
		cfg_error(c, m, NULL, "unknown key (known here: %s)", list);
	}
}

const config_setting_t *
cfg_group(
    struct cfg *c, const config_setting_t *g, const char *key, int required)
{
	const config_setting_t *s;

	if (g == NULL)
		g = config_root_setting(&c->lc);
	s = config_setting_get_member(g, key);
	if (s == NULL) {
		if (required)
			cfg_error(
			    c, g, key, "missing (a group { ... } is needed)");
		return NULL;
	}
	if (!config_setting_is_group(s)) {
		cfg_error(c, s, NULL, "expected a group { ... }");
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
	const config_setting_t *s;
	const char *v;

	if ((s = member(c, g, key, required, "a string")) == NULL)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_STRING ||
	    (v = config_setting_get_string(s)) == NULL) {
		cfg_error(c, s, NULL, "expected a string in double quotes");
		return -1;
	}
	if (*v == '\0') {
		cfg_error(c, s, NULL, "must not be empty");
		return -1;
	}
	*out = v;
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

int
cfg_get_int(struct cfg *c, const config_setting_t *g, const char *key,
    int required, int64_t lo, int64_t hi, int64_t *out)
{
	const config_setting_t *s;
	long long v;

	if ((s = member(c, g, key, required, "a whole number")) == NULL)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64) {
		cfg_error(c, s, NULL, "expected a whole number");
		return -1;
	}
	v = config_setting_get_int64(s);
	if (v < lo || v > hi) {
		cfg_error(c, s, NULL, "%lld is out of range (%lld..%lld)", v,
		    (long long)lo, (long long)hi);
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

	if ((s = member(c, g, key, required, "true or false")) == NULL)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
		cfg_error(c, s, NULL, "expected true or false");
		return -1;
	}
	*out = config_setting_get_bool(s);
	return 1;
}

int
cfg_parse_duration(const char *s, uint64_t *seconds)
{
	uint64_t total = 0, v, mult;
	const char *p = s;
	int any = 0;

	*seconds = 0;
	if (s == NULL || *s == '\0')
		return VDI_ERR_INVALID_ARG;
	while (*p != '\0') {
		if (*p < '0' || *p > '9')
			return VDI_ERR_INVALID_ARG;
		v = 0;
		while (*p >= '0' && *p <= '9') {
			v = v * 10 + (uint64_t)(*p - '0');
			if (v > 100000000ull)
				return VDI_ERR_INVALID_ARG;
			p++;
		}
		switch (*p) {
		case 's':
			mult = 1;
			break;
		case 'm':
			mult = 60;
			break;
		case 'h':
			mult = 3600;
			break;
		case 'd':
			mult = 86400;
			break;
		default:
			return VDI_ERR_INVALID_ARG;
		}
		p++;
		total += v * mult;
		if (total > 100000000ull)
			return VDI_ERR_INVALID_ARG;
		any = 1;
	}
	if (!any)
		return VDI_ERR_INVALID_ARG;
	*seconds = total;
	return 0;
}

int
cfg_get_duration(struct cfg *c, const config_setting_t *g, const char *key,
    int required, unsigned int lo, unsigned int hi, unsigned int *out)
{
	const config_setting_t *s;
	uint64_t v;

	if ((s = member(c, g, key, required,
		 "seconds or a duration such as \"90s\", \"15m\", \"8h\"")) ==
	    NULL)
		return 0;
	if (config_setting_type(s) == CONFIG_TYPE_INT ||
	    config_setting_type(s) == CONFIG_TYPE_INT64) {
		long long i = config_setting_get_int64(s);

		if (i < 0) {
			cfg_error(c, s, NULL, "must not be negative");
			return -1;
		}
		v = (uint64_t)i;
	} else if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		if (cfg_parse_duration(config_setting_get_string(s), &v) != 0) {
			cfg_error(c, s, NULL,
			    "\"%s\" is not a duration (expected e.g. \"90s\", "
			    "\"15m\", \"8h\", \"1h30m\", \"2d\")",
			    config_setting_get_string(s));
			return -1;
		}
	} else {
		cfg_error(c, s, NULL, "expected seconds or a duration string");
		return -1;
	}
	if (v < lo || v > hi) {
		cfg_error(c, s, NULL, "%llu s is out of range (%u..%u s)",
		    (unsigned long long)v, lo, hi);
		return -1;
	}
	*out = (unsigned int)v;
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
