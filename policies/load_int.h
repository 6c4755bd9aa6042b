/*
 * load_int.h: the loader's context and helpers, shared by the loader's
 * files (private to libvdipolicy), one section of the file each:
 *   load.c          the driver: passes in order, libconfig's own errors
 *   load_report.c   the problem list, and which file/line a setting is at
 *   load_get.c      checked getters (keys, names, strings, durations, lists)
 *   load_limits.c   limits and channels blocks
 *   load_time.c     time_windows and their time zones
 *   load_site.c     sites and zones
 *   load_mode.c     modes (two passes) and the tenant/mode cross-check
 *   load_rule.c     rules, the tenants list of a rule or mode, rule names
 *   load_tenant.c   tenants, CA/CRL files, device rules
 *   load_pool.c     pools, unique desktop names and addresses
 *   load_desktop.c  a pool's desktops and desktop ranges
 *   load_addr.c     desktop address and pin parsers
 *
 * Every helper that checks a value reports what is wrong through lerr()
 * and returns -1; the loader keeps going to find more problems, and fails
 * at the end if any was found. Nothing from libconfig outlives the load:
 * strings are copied into the policy's arena.
 */
#ifndef VDI_POLICY_LOAD_INT_H
#define VDI_POLICY_LOAD_INT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <libconfig.h>

#include "cfgfile.h"
#include "policy_int.h"

#define LOAD_NAME_MAX 63

struct load_file; /* libconfig file name -> display name, directory */

struct lctx {
	struct policy *p;
	struct policy_arena *a;
	const struct policy_load_opts *opts;
	const char *zonedir;
	const char *main_cfg;     /* libconfig's name of it (or NULL) */
	const char *main_display; /* the caller's name of the main file */
	const char *main_dir;     /* where its relative paths resolve */
	const char *incdir;       /* libconfig include_dir, or NULL */
	struct load_file *files;
	/* problems, in the common reader's list (common/cfgfile.h) */
	struct cfg_errlist el;
	int oom;
	/* time zones loaded so far (shared by windows naming the same one) */
	size_t ntz;
	struct policy_tz **tz;
};

/* ---- errors ------------------------------------------------------------ */

/* Reports "FILE:LINE: KEY: message" about setting s (KEY is s's path). */
void lerr(struct lctx *c, const config_setting_t *s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Same, about key (a member that is missing, or a sub-key) of group g. */
void lerr_key(struct lctx *c, const config_setting_t *g, const char *key,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Same, with the place and key given. */
void lerr_at(struct lctx *c, const char *file, unsigned int line,
    const char *key, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Records an allocation failure. Returns -1. */
int lerr_oom(struct lctx *c);
/* Puts the problems in file order: files in the order their first message
 * came, lines ascending, messages about one line in the order found. */
void lsort_errors(struct lctx *c);

/* ---- places ------------------------------------------------------------ */

/* Display name of the file libconfig calls cfg_name (NULL: the main
 * file); NULL when out of memory. */
const char *lfile_display(struct lctx *c, const char *cfg_name);
/* Display name of the file s was read from (stable, in the arena). */
const char *lsrc_file(struct lctx *c, const config_setting_t *s);
unsigned int lsrc_line(const config_setting_t *s);
/* Directory relative paths named in s's file resolve against. */
const char *lsrc_dir(struct lctx *c, const config_setting_t *s);
/* Writes s's path ("tenants.town-a.device.classes[1]") into buf. */
#define lpath cfg_setting_path

/* ---- checked getters --------------------------------------------------- *
 * Wrappers over the common reader's value checks (cfgfile.h), so that the
 * policy and the daemons' files get the same messages; these copy strings
 * into the policy's arena. */

/* Name of a libconfig type, for messages. */
#define ltype_name cfg_type_name

/* Reports members of group g not in allowed (NULL-terminated). Returns -1
 * if there was one. */
int lcheck_keys(
    struct lctx *c, const config_setting_t *g, const char *const *allowed);

/* Returns 0 if s is a group, else reports it (expect says what a group
 * here looks like) and returns -1. */
int lexpect_group(
    struct lctx *c, const config_setting_t *s, const char *expect);

/* Returns 0 if s is an array or a list, else reports it ("a list of what,
 * e.g. example") and returns -1. */
int lexpect_list(struct lctx *c, const config_setting_t *s, const char *what,
    const char *example);

/* Returns 1 if s is a valid object name ([A-Za-z0-9][A-Za-z0-9._-]*, at
 * most 63). */
int lname_ok(const char *s);
/* Names the object that setting s defines after its key: *name (in the
 * arena), and the *file and *line it is defined at. reserved (or NULL) is
 * a valid name it may not take. Returns 0, or -1 after reporting a bad
 * name or running out of memory (then *name is NULL: stop there). */
int lobj_name(struct lctx *c, const config_setting_t *s, const char *reserved,
    const char **name, const char **file, unsigned int *line);
/* The opening of every named group (a time window, zone, tenant, pool,
 * mode): lobj_name(), then that s is a group (expect: what one looks
 * like) of the keys allowed, and its optional description. Returns 0, -1
 * after reporting a problem (go on), or -2 when there is no use going on
 * (out of memory, or s is not a group). */
int lobj_group(struct lctx *c, const config_setting_t *s, const char *reserved,
    const char *expect, const char *const *keys, const char **name,
    const char **file, unsigned int *line, const char **description);
/* Returns 1 if s can be a user or group name (printable, no space or
 * comma, at most 255 bytes). */
int lprincipal_ok(const char *s);

/* Optional / required members of group g. Each returns 0 when the value is
 * good or absent (then *present is 0 / *out is NULL), -1 after reporting a
 * problem. Strings are copied into the arena. */
int lget_string(struct lctx *c, const config_setting_t *g, const char *key,
    int required, const char *expect, const char **out);
int lget_int(struct lctx *c, const config_setting_t *g, const char *key,
    int64_t lo, int64_t hi, int *present, int64_t *out);
int lget_bool(struct lctx *c, const config_setting_t *g, const char *key,
    int *present, int *out);
/* Either an integer (seconds) or a string such as "90s", "15m", "8h",
 * "1h30m", "2d"; lo..hi in seconds. */
int lget_duration(struct lctx *c, const config_setting_t *g, const char *key,
    unsigned int lo, unsigned int hi, int *present, unsigned int *out);
/* An array or list of non-empty strings, each passing check (which may be
 * NULL) or reported with expect. An empty list is an error. *out is the
 * list setting (NULL when absent). */
int lget_list(struct lctx *c, const config_setting_t *g, const char *key,
    int required, int (*check)(const char *), const char *expect,
    const config_setting_t **out);
/* Copies the strings of a list from lget_list() into the arena. */
int lcopy_strings(
    struct lctx *c, const config_setting_t *list, const char ***out, size_t *n);

/* Joins dir and a relative path (absolute paths are kept). In the arena. */
const char *ljoin(struct lctx *c, const char *dir, const char *path);

/* Parses a limits / channels block (member key of g, optional). */
int lload_limits(
    struct lctx *c, const config_setting_t *g, struct policy_limits_set *out);
int lload_channels(
    struct lctx *c, const config_setting_t *g, struct policy_channels_set *out);

/* The member key of root if it is a group, NULL when absent; any other
 * type is reported (and *bad set to -1). */
const config_setting_t *lsection(struct lctx *c, const config_setting_t *root,
    const char *key, const char *expect, int *bad);

/* lsection(), read into an array in the arena: *n elements of size, the
 * section's members in order, each loaded by each(c, member, element).
 * *sec (when not NULL) is the section. NULL and *n = 0 when the section is
 * absent, bad (reported) or memory ran out; problems set *bad to -1. */
void *lload_section(struct lctx *c, const config_setting_t *root,
    const char *key, const char *expect, size_t size,
    int (*each)(struct lctx *, const config_setting_t *, void *),
    const config_setting_t **sec, size_t *n, int *bad);

/* ---- top-level sections (load_time.c, load_site.c) --------------------- *
 * Members of time_windows, sites and zones, for lload_section(). */

/* NAME = { time_zone = "..."; days = [...]; hours = "HH:MM-HH:MM"; } */
int lload_timewin(struct lctx *c, const config_setting_t *s, void *w);
/* NAME = ["cidr", ...] at the top level */
int lload_top_site(struct lctx *c, const config_setting_t *s, void *site);
/* NAME = { sites = [...]; networks = [...]; }; needs sites */
int lload_zone(struct lctx *c, const config_setting_t *s, void *z);

/* ---- names shared between sections (load_time.c, load_site.c) --------- */

/* Time window / site by name (a mode's own sites first when m is given). */
const struct policy_timewin *lfind_timewin(
    const struct policy *p, const char *name);
const struct policy_site *lfind_site(
    const struct policy *p, const struct policy_mode *m, const char *name);
/* Loads one site (NAME = ["cidr", ...]) for mode (NULL: top level). */
int lload_site(struct lctx *c, const config_setting_t *s,
    struct policy_site *site, const struct policy_mode *mode);
/* Resolves a list of site names as seen from mode m. */
int lsite_refs(struct lctx *c, const config_setting_t *list,
    const struct policy_mode *m, const struct policy_site ***out, size_t *n);

/* ---- sections (load_rule.c, load_mode.c, load_tenant.c, load_pool.c) -- */

/* Returns 1 if t is one of the n tenants of v. */
int lhas_tenant(const struct policy_tenant *const *v, size_t n,
    const struct policy_tenant *t);
/* The "tenants" list of group s (a rule or a mode): each name must be a
 * defined tenant and, for a rule inside a mode that names tenants, one of
 * that mode's. Duplicates are kept once. */
int lload_tenant_refs(struct lctx *c, const config_setting_t *s,
    const struct policy_mode *mode, const struct policy_tenant ***out,
    size_t *nout);

/* A list of rules (s may be NULL), for mode (NULL: the top-level list). */
int lload_rules(struct lctx *c, const config_setting_t *s,
    const struct policy_mode *mode, struct policy_rule **out, size_t *nout);
/* Modes, first pass: names, description, sites, limits, channels. */
int lload_mode1(struct lctx *c, const config_setting_t *s, void *m);
/* Modes, second pass: tenants and rules (needs tenants and pools). */
int lload_mode2(
    struct lctx *c, const config_setting_t *s, struct policy_mode *m);
/* Rule names are unique across the top-level rules and every mode's. */
int lcheck_rule_names(struct lctx *c);
/* A tenant the file switches to a mode must be one the mode is for. */
int lcheck_tenant_modes(struct lctx *c);

/* tenants = { NAME = { ... }; ... }; modes must be loaded (by name). */
int lload_tenants(struct lctx *c, const config_setting_t *root);
/* pools = { NAME = { ... }; ... }; needs tenants and zones. */
int lload_pools(struct lctx *c, const config_setting_t *root);

/* ---- a pool's desktops (load_desktop.c, load_addr.c) ------------------- */

#define DEFAULT_RDP_PORT 3389

/* "host", "host:port", "a.b.c.d[:port]", "[v6]:port", "[v6]" or a bare
 * IPv6 literal; see load_addr.c. */
int lparse_address(const char *s, char *host, size_t hostlen, uint16_t *port,
    int *is_ip, struct vdi_addr *ip);
/* 64 hex digits, or 32 colon-separated pairs. */
int lparse_pin(const char *s, uint8_t pin[32]);
/* security = "tls" | "nla" of group g (dflt when absent). */
int lget_security(struct lctx *c, const config_setting_t *g,
    enum policy_security dflt, enum policy_security *out);
/* capacity = 1..1000 of group g (dflt when absent; 1 when persistent). */
int lget_capacity(struct lctx *c, const config_setting_t *g,
    const struct policy_pool *pool, unsigned int dflt, unsigned int *out);
/* One desktop of pool (cap: the pool's capacity). */
int lload_desktop(struct lctx *c, const config_setting_t *s,
    const struct policy_pool *pool, unsigned int cap, struct policy_desktop *d);
/* Validates a range and returns its count (0 after an error). */
unsigned int lrange_count(struct lctx *c, const config_setting_t *s);
/* Expands a range of count desktops into out. */
int lload_range(struct lctx *c, const config_setting_t *s,
    const struct policy_pool *pool, unsigned int cap, unsigned int count,
    struct policy_desktop *out);

#endif
