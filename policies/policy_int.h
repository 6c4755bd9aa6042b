/*
 * policy_int.h: the policy object's insides, shared by the files of
 * libvdipolicy (load, eval, device, timewin, tzfile). Not installed and not
 * for other modules: they use policy.h.
 *
 * Everything but the X509 objects lives in one arena that is freed at once
 * with the policy, so the loader can bail out anywhere without leaking.
 */
#ifndef VDI_POLICY_INT_H
#define VDI_POLICY_INT_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "cidr.h"
#include "policy.h"

/* ---- arena ------------------------------------------------------------- */

struct policy_arena;

struct policy_arena *policy_arena_new(void);
void policy_arena_free(struct policy_arena *a);
/* Zeroed, aligned for any type; NULL on failure (or n too large). */
void *policy_arena_alloc(struct policy_arena *a, size_t n);
/* Arrays: checks n * size for overflow. n may be 0 (returns a valid
 * pointer). */
void *policy_arena_calloc(struct policy_arena *a, size_t n, size_t size);
char *policy_arena_strdup(struct policy_arena *a, const char *s);

/* Returns 1 if s (which may be NULL: 0) is one of the n strings of v. */
int policy_str_in(const char *s, const char *const *v, size_t n);

/* ---- time zones (tzfile.c) --------------------------------------------- */

struct policy_tz_type {
	int32_t utoff; /* seconds east of UTC */
	int isdst;
};

/* One date of a POSIX TZ rule: Jn, n or Mm.w.d. */
struct policy_tz_date {
	char kind;    /* 'J', 'N' or 'M' */
	int a, b, c;  /* n / (m, w, d) */
	int32_t time; /* seconds after local midnight (may be <0) */
};

struct policy_tz {
	const char *name;
	size_t ntrans;
	int64_t *trans;      /* ascending */
	uint8_t *trans_type; /* index into types */
	size_t ntypes;
	struct policy_tz_type *types;
	/* The TZ string footer, for times after the last transition. */
	int has_footer;
	int32_t std_off; /* seconds east of UTC */
	int has_dst;
	int32_t dst_off;
	int has_rule;
	struct policy_tz_date start, end;
};

/* Local civil time. */
struct policy_civil {
	int64_t year;
	int month; /* 1..12 */
	int day;   /* 1..31 */
	int hour, min, sec;
	int wday; /* 0 = Sunday */
	int32_t utoff;
	int isdst;
};

/* Returns 1 if name is a syntactically acceptable zone name. */
int policy_tz_name_ok(const char *name);

/* Parses TZif data (RFC 8536, versions 1..4) into tz (allocated from a).
 * Returns 0, VDI_ERR_BAD_FORMAT or VDI_ERR_ALLOC. */
int policy_tz_parse(const unsigned char *d, size_t n, struct policy_arena *a,
    struct policy_tz *tz) VDI_WUR;

/* Reads dir/name (a regular TZif file, at most 1 MiB) into a new zone.
 * Returns 0, VDI_ERR_NOT_FOUND, VDI_ERR_IO, VDI_ERR_BAD_FORMAT or
 * VDI_ERR_ALLOC. */
int policy_tz_load(const char *dir, const char *name, struct policy_arena *a,
    struct policy_tz **out) VDI_WUR;

/* Converts t (UTC seconds) to local time in tz. Pure. */
void policy_tz_localtime(
    const struct policy_tz *tz, int64_t t, struct policy_civil *out);

/* Days since 1970-01-01 of a proleptic Gregorian date and back. */
int64_t policy_days_from_civil(int64_t y, int m, int d);
void policy_civil_from_days(int64_t z, int64_t *y, int *m, int *d);

/* ---- time windows (timewin.c) ------------------------------------------ */

struct policy_timewin {
	const char *name;
	const char *src_file;
	unsigned int src_line;
	const struct policy_tz *tz;
	uint8_t days;   /* bit n = weekday n (0 = Sunday) */
	uint16_t start; /* minutes after midnight, 0..1439 */
	uint16_t end;   /* 1..1440; end < start: crosses midnight */
};

/* Parses "HH:MM-HH:MM". Returns 0, or VDI_ERR_BAD_FORMAT with a reason in
 * why (static string). */
int policy_timewin_parse_hours(
    const char *s, uint16_t *start, uint16_t *end, const char **why) VDI_WUR;

/* Parses a day name ("mon".."sun", "weekdays", "weekend", "daily") into a
 * day mask. Returns 0 or VDI_ERR_BAD_FORMAT. */
int policy_timewin_parse_day(const char *s, uint8_t *mask) VDI_WUR;

/* Returns 1 when t falls in the window (see timewin.c for the rules). */
int policy_timewin_match(const struct policy_timewin *w, int64_t t);

/* ---- the policy -------------------------------------------------------- */

/* Which fields of a partial limits / channels block are set. */
#define POLICY_LIM_IDLE        0x01u
#define POLICY_LIM_RECONNECT   0x02u
#define POLICY_LIM_MAX_SESSION 0x04u
#define POLICY_LIM_SINGLE      0x08u
#define POLICY_LIM_TICKET      0x10u

struct policy_limits_set {
	unsigned int mask;
	struct policy_limits v;
};

struct policy_channels_set {
	int set;
	unsigned int channels; /* optional classes only (audio_out) */
};

struct policy_site {
	const char *name;
	const char *src_file;
	unsigned int src_line;
	size_t ncidrs;
	struct vdi_cidr *cidrs;
	const struct policy_site *overrides; /* mode sites: the base site */
	const struct policy_mode *mode;      /* NULL for base sites */
};

struct policy_zone {
	const char *name;
	const char *src_file;
	unsigned int src_line;
	const char *description;
	size_t nsites;
	const struct policy_site **sites; /* reachable from; 0 = anywhere */
	size_t nnets;
	struct vdi_cidr *nets; /* desktops must be inside */
};

struct policy_tenant {
	const char *name;
	const char *src_file;
	unsigned int src_line;
	const char *description;
	const char *ca_path; /* resolved */
	const char *crl_path;
	unsigned int crl_line; /* of the crl key */
	X509 *ca;
	X509_CRL *crl;
	/* device rules */
	int class_nid; /* subject attribute with the class */
	size_t nclasses;
	const char **classes;
	size_t nshared;
	const char **shared;
	size_t nsubject;
	int *subject_nid; /* required subject attributes */
	const char **subject_val;
	const char *cn_prefix; /* NULL: none */
	const char *pam_service;
	size_t nadmins;
	const char **admins;
	size_t nadmin_groups;
	const char **admin_groups;
	const struct policy_mode *mode;
	unsigned int mode_line;
	struct policy_limits_set limits;
	struct policy_channels_set channels;
};

struct policy_pool {
	const char *name;
	const char *src_file;
	unsigned int src_line;
	const char *description;
	const struct policy_tenant *tenant;
	const struct policy_zone *zone;
	enum policy_assignment assignment;
	enum policy_security security;
	size_t ndesktops;
	struct policy_desktop *desktops;
};

struct policy_rule {
	const char *name;
	const char *path; /* "rules[3]", for messages */
	const char *src_file;
	unsigned int src_line;
	unsigned int name_line;
	int allow;
	const struct policy_mode *mode; /* NULL: base rule */
	size_t ntenants;
	const struct policy_tenant **tenants; /* explicit, or the pools' */
	size_t nusers;
	const char **users;
	size_t ngroups;
	const char **groups;
	size_t nclasses;
	const char **classes;
	size_t nsites;
	const struct policy_site **sites;
	size_t nwindows;
	const struct policy_timewin **windows;
	size_t npools;
	const struct policy_pool **pools;
	struct policy_limits_set limits;
	struct policy_channels_set channels;
};

struct policy_mode {
	const char *name;
	const char *src_file;
	unsigned int src_line;
	const char *description;
	size_t ntenants; /* 0: any tenant */
	const struct policy_tenant **tenants;
	size_t nsites;
	struct policy_site *sites;
	int inherit_rules;
	size_t nrules;
	struct policy_rule *rules;
	struct policy_limits_set limits;
	struct policy_channels_set channels;
};

struct policy {
	unsigned int refs; /* atomic */
	struct policy_arena *arena;
	const char *source;
	size_t ntimewins;
	struct policy_timewin *timewins;
	size_t nsites;
	struct policy_site *sites;
	size_t nzones;
	struct policy_zone *zones;
	size_t ntenants;
	struct policy_tenant *tenants;
	size_t npools;
	struct policy_pool *pools;
	size_t nrules;
	struct policy_rule *rules;
	size_t nmodes;
	struct policy_mode *modes;
	struct policy_limits_set limits;
	struct policy_channels_set channels;
	/* crl_warning: seconds before a CRL's nextUpdate from which
	 * policy_warnings() warns about it. */
	unsigned int crl_warning;
};

/* Built-in limits (before the file's limits blocks). */
#define POLICY_DEFAULT_IDLE        900u    /* 15 min */
#define POLICY_DEFAULT_RECONNECT   300u    /* 5 min */
#define POLICY_DEFAULT_MAX_SESSION 43200u  /* 12 h */
#define POLICY_DEFAULT_CRL_WARNING 604800u /* 7 days */

/* Frees everything (the X509 objects, then the arena). For the loader's
 * error path and the last unref. */
void policy_destroy(struct policy *p);

/* Returns the effective version of site s under mode m (m's override of s,
 * or s itself). m may be NULL. */
const struct policy_site *policy_site_in_mode(
    const struct policy_site *s, const struct policy_mode *m);

/* Returns 1 when addr is inside one of the site's prefixes. */
int policy_site_match(const struct policy_site *s, const struct vdi_addr *addr);

#endif
