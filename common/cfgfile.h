/*
 * cfgfile.h: checked reading of libconfig files for the daemons' own
 * configuration (vdi-brokerd.conf, vdi-gatewayd.conf, connect.conf).
 *
 * Every problem is collected as one line "FILE:LINE: KEY: problem
 * (expected ...)"; reading goes on so that one run shows every mistake, and
 * the caller refuses the file when cfg_failed() says so. Unknown keys are
 * errors. Relative paths resolve against the directory of the file.
 */
#ifndef VDI_CFGFILE_H
#define VDI_CFGFILE_H

#include <stddef.h>
#include <stdint.h>

#include <libconfig.h>

#include "vdierr.h"

#define CFG_MAX_ERRORS 50

struct cfg {
	config_t lc;
	char path[1024];
	char dir[1024];
	char *errors; /* one line per problem, '\n'-terminated */
	size_t elen, ecap;
	unsigned int nerrors;
};

/* Reads path. Returns 0 (even when the file has mistakes found later) or
 * VDI_ERR_CONFIG with the syntax error or I/O problem already recorded.
 * Always call cfg_free() afterwards. */
int cfg_open(struct cfg *c, const char *path) VDI_WUR;
void cfg_free(struct cfg *c);

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

/* Parses a duration string as cfg_get_duration() does. Returns 0 or
 * VDI_ERR_INVALID_ARG. */
int cfg_parse_duration(const char *s, uint64_t *seconds) VDI_WUR;

/* Splits "host:port" / "[v6]:port". Returns 0 or VDI_ERR_INVALID_ARG. */
int cfg_parse_hostport(
    const char *s, char *host, size_t hostlen, uint16_t *port) VDI_WUR;

#endif
