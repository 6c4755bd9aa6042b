/*
 * cfgfile.h: the one checked reader of libconfig files: the daemons' own
 * configuration (vdi-brokerd.conf, vdi-gatewayd.conf, connect.conf) through
 * struct cfg, and the policy loader (policies/load.c), which keeps its own
 * file names for @include but uses the problem list, the setting paths and
 * the value checks below, so every file gets the same messages.
 *
 * Every problem is collected as one line "FILE:LINE: KEY: problem
 * (expected ...)"; reading goes on so that one run shows every mistake, and
 * the caller refuses the file when cfg_failed() says so. Unknown keys are
 * errors. Relative paths resolve against the directory of the file.
 */
#ifndef VDI_CFGFILE_H
#define VDI_CFGFILE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <libconfig.h>

#include "vdierr.h"

/* Problems kept per file; the rest are counted (truncated). */
#define CFG_MAX_ERRORS 100

/* Longest duration cfg_parse_duration() accepts: ten years. */
#define CFG_DURATION_MAX (10ull * 366 * 86400)

/* ---- the problem list ----------------------------------------------------
 */

struct cfg_errlist {
	char *text; /* one line per problem, '\n'-terminated; NULL if none */
	size_t len, cap;
	unsigned int count; /* problems found (kept or not) */
	int truncated;      /* more than CFG_MAX_ERRORS were found */
	int oom;            /* a line could not be kept */
};

/* Adds "FILE:LINE: KEY: message" (": KEY" left out when key is NULL or
 * empty, ":LINE" when line is 0). Control characters in the message (a
 * value quoted from the file may hold anything) become '?'. */
void cfg_errlist_add(struct cfg_errlist *e, const char *file, unsigned int line,
    const char *key, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
void cfg_errlist_vadd(struct cfg_errlist *e, const char *file,
    unsigned int line, const char *key, const char *fmt, va_list ap)
    __attribute__((format(printf, 5, 0)));
/* Frees the text and clears e. */
void cfg_errlist_free(struct cfg_errlist *e);

/* ---- settings and values (shared by every reader) ----------------------
 */

/* Writes s's path ("tenants.town-a.device.classes[1]") into buf. */
char *cfg_setting_path(const config_setting_t *s, char *buf, size_t len);
/* Name of s's libconfig type for messages ("integer", "string", ...). */
const char *cfg_type_name(const config_setting_t *s);

/*
 * Checks of one present setting s. Each returns 0 with the value in *out,
 * or -1 with the problem in why (without file, line or key: the reader
 * adds them). Strings point into the config.
 */
int cfg_value_int(const config_setting_t *s, int64_t lo, int64_t hi,
    int64_t *out, char *why, size_t whylen);
int cfg_value_bool(
    const config_setting_t *s, int *out, char *why, size_t whylen);
/* A non-empty string; expect says what it should be ("a path"). */
int cfg_value_string(const config_setting_t *s, const char *expect,
    const char **out, char *why, size_t whylen);
/* An integer of seconds or a string like "90s", "15m", "8h", "1h30m",
 * "2d", within lo..hi seconds. */
int cfg_value_duration(const config_setting_t *s, unsigned int lo,
    unsigned int hi, unsigned int *out, char *why, size_t whylen);
/* Returns 0 when s is a group, else -1 with why (expect: what a group
 * here looks like). */
int cfg_value_group(
    const config_setting_t *s, const char *expect, char *why, size_t whylen);
/* Calls report(arg, member, problem) for each member of group g whose name
 * is not in allowed (NULL-terminated). Returns how many there were. */
unsigned int cfg_unknown_keys(const config_setting_t *g,
    const char *const *allowed,
    void (*report)(void *, const config_setting_t *, const char *), void *arg);

/* ---- the daemons' reader -------------------------------------------------
 */

struct cfg {
	config_t lc;
	char path[1024];
	char dir[1024];
	struct cfg_errlist el;
};

/* Reads path. Returns 0 (even when the file has mistakes found later) or
 * VDI_ERR_CONFIG with the syntax error or I/O problem already recorded.
 * Always call cfg_free() afterwards. */
int cfg_open(struct cfg *c, const char *path) VDI_WUR;
void cfg_free(struct cfg *c);
/* cfg_open() and cfg_check_keys() of the root against top: the root, or
 * NULL when the file could not be read (the problem is recorded). */
const config_setting_t *cfg_open_root(
    struct cfg *c, const char *path, const char *const *top);
/* Ends a daemon's reading: with problems recorded, *errors gets a copy of
 * them (NULL when out of memory) and VDI_ERR_CONFIG is returned, else 0
 * (*errors NULL). Frees c either way. */
int cfg_close(struct cfg *c, char **errors);

/* Records a problem about setting s (or about key inside group s when key is
 * not NULL). */
void cfg_error(struct cfg *c, const config_setting_t *s, const char *key,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* 1 when any problem was recorded. */
int cfg_failed(const struct cfg *c);

/* The recorded problems ("" when none). */
const char *cfg_errors(const struct cfg *c);

/* Reports members of group g that are not in allowed (NULL-terminated). */
void cfg_check_keys(
    struct cfg *c, const config_setting_t *g, const char *const *allowed);

/* The group named key inside g (g NULL: the root); NULL when absent. When
 * required, a missing group is reported. */
const config_setting_t *cfg_group(
    struct cfg *c, const config_setting_t *g, const char *key, int required);

/* Getters: return 1 when the value is present and good (stored in *out), 0
 * when absent (a required one is then reported; *out keeps the default the
 * caller put there), -1 after reporting a problem. Strings point into the
 * config and live until cfg_free(); cfg_get_path() resolves relative paths
 * into buf. */
int cfg_get_string(struct cfg *c, const config_setting_t *g, const char *key,
    int required, const char **out);
int cfg_get_path(struct cfg *c, const config_setting_t *g, const char *key,
    int required, char *buf, size_t buflen);
/* A string copied into buf; one that does not fit (buflen - 1 characters)
 * is reported "too long", buf then unchanged. */
int cfg_get_strbuf(struct cfg *c, const config_setting_t *g, const char *key,
    int required, char *buf, size_t buflen);
/* The group key = { cert = "..."; key = "..."; } (a certificate and its
 * private key, PEM files; both required, no other keys) read into cert and
 * pkey as paths. Returns the group, or NULL when absent (reported when
 * required). */
const config_setting_t *cfg_get_pem_pair(struct cfg *c,
    const config_setting_t *g, const char *key, int required, char *cert,
    size_t certlen, char *pkey, size_t pkeylen);
int cfg_get_int(struct cfg *c, const config_setting_t *g, const char *key,
    int required, int64_t lo, int64_t hi, int64_t *out);
int cfg_get_bool(struct cfg *c, const config_setting_t *g, const char *key,
    int required, int *out);
/* An integer of seconds or a string like "90s", "15m", "8h", "1h30m", "2d". */
int cfg_get_duration(struct cfg *c, const config_setting_t *g, const char *key,
    int required, unsigned int lo, unsigned int hi, unsigned int *out);
/* "host:port", "[v6]:port" or "*:port"; host copied into host (hostlen). */
int cfg_get_hostport(struct cfg *c, const config_setting_t *g, const char *key,
    int required, char *host, size_t hostlen, uint16_t *port);

/* Parses a duration string ("90s", "15m", "8h", "1h30m", "2d": numbers
 * of at most 9 digits, each with its unit) into seconds, at most
 * CFG_DURATION_MAX. Returns 0, or VDI_ERR_INVALID_ARG with *seconds 0 on
 * an empty or malformed string or a longer duration. The one parser of
 * durations: the daemons' files, the policy and vdictl use it. */
int cfg_parse_duration(const char *s, uint64_t *seconds) VDI_WUR;

/* Splits "host:port" / "[v6]:port". Returns 0 or VDI_ERR_INVALID_ARG. */
int cfg_parse_hostport(
    const char *s, char *host, size_t hostlen, uint16_t *port) VDI_WUR;

#endif
