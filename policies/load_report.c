/*
 * load_report.c: how the loader reports: the problem list ("FILE:LINE:
 * KEY: problem (expected ...)"), put in file order at the end, and the
 * places settings come from (which file, which line, which directory
 * relative paths resolve against, through @include).
 */
#include "config.h"

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
lfile_display(struct lctx *c, const char *cfg_name)
{
	struct load_file *f = file_of(c, cfg_name);

	return f != NULL ? f->display : NULL;
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
void
lsort_errors(struct lctx *c)
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
