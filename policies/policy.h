/*
 * policy.h: the access policy (who may reach which desktops, from where,
 * when, and what a session may do), its loader and its evaluator.
 *
 * The language is documented in vdi-policy.conf(5). In short:
 *
 *   policy_load_file()   libconfig file -> immutable, refcounted policy
 *   policy_identify()    device certificate -> tenant + device class
 *   policy_evaluate()    request -> verdict, pools, limits, channels, rule
 *
 * A loaded policy never changes. It is shared by reference: every holder
 * (a session, a request in flight) takes a reference with policy_ref() and
 * drops it with policy_unref(); the last unref frees it. A reload builds a
 * whole new object or fails and leaves nothing behind, so live sessions
 * keep the policy they started with. Every pointer handed out by the
 * accessors below (tenants, pools, rules, modes, desktops, strings) lives
 * exactly as long as the policy it came from.
 *
 * Nothing here reads the clock, the environment (other than TZDIR at load
 * time when no zoneinfo directory is given) or a socket: the evaluator takes
 * the time and the address as parameters, and time zones are read from the
 * tz database once, at load time, into the policy object (see tzfile.c), so
 * evaluation never touches TZ or tzset() and is safe from any thread.
 */
#ifndef VDI_POLICY_H
#define VDI_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "cidr.h"
#include "vdierr.h"

struct policy;
struct policy_tenant;
struct policy_pool;
struct policy_rule;
struct policy_mode;

/* Largest number of pools one allow rule may grant. */
#define POLICY_MAX_RULE_POOLS 32

/* ---- loading ----------------------------------------------------------- */

struct policy_load_opts {
	/* Directory of the tz database; NULL means $TZDIR, else
	 * /usr/share/zoneinfo. */
	const char *zoneinfo_dir;
	/* When set, the CA and CRL files named by tenants are not opened (the
	 * paths are still checked for form). For fuzzing only: such a policy
	 * cannot identify devices. */
	int skip_pki_files;
};

/* Every problem the loader found, one per line, each
 * "FILE:LINE: KEY: problem (what is expected)". */
struct policy_errors {
	size_t count;  /* number of lines in text */
	char *text;    /* NUL-terminated, '\n' after each line; NULL if none */
	int truncated; /* 1 when more errors were found than were kept */
};

/* Frees the text in e and clears it. NULL is accepted. */
void policy_errors_clear(struct policy_errors *e);

/*
 * Loads the policy in path (libconfig; @include paths are relative to the
 * directory of path). On success returns 0 and stores in *out a new policy
 * with one reference, owned by the caller. On failure returns
 * VDI_ERR_CONFIG (the file is wrong: see errs), VDI_ERR_ALLOC or
 * VDI_ERR_INVALID_ARG, sets *out to NULL and leaves nothing allocated
 * except errs->text. errs may be NULL; when given it is cleared on entry and
 * the caller frees it with policy_errors_clear(). opts may be NULL.
 */
int policy_load_file(const char *path, const struct policy_load_opts *opts,
    struct policy **out, struct policy_errors *errs) VDI_WUR;

/*
 * Same as policy_load_file() for a policy held in memory. name is used as
 * the file name in errors; base_dir is where @include and relative CA/CRL
 * paths are resolved (NULL: the current directory).
 */
int policy_load_string(const char *text, const char *name, const char *base_dir,
    const struct policy_load_opts *opts, struct policy **out,
    struct policy_errors *errs) VDI_WUR;

/* Takes a reference (atomic). Returns p. */
struct policy *policy_ref(struct policy *p);

/* Drops a reference (atomic); frees the policy with the last one. NULL is
 * accepted. */
void policy_unref(struct policy *p);

/* The path the policy was loaded from (the name given to
 * policy_load_string()). */
const char *policy_source(const struct policy *p);

/* ---- lookups ----------------------------------------------------------- */

/* Return the named object, or NULL. */
const struct policy_tenant *policy_tenant_lookup(
    const struct policy *p, const char *name);
const struct policy_pool *policy_pool_lookup(
    const struct policy *p, const char *name);
const struct policy_mode *policy_mode_lookup(
    const struct policy *p, const char *name);

/* Iteration: i in 0..count-1, in the order of the file. */
size_t policy_tenant_count(const struct policy *p);
const struct policy_tenant *policy_tenant_at(const struct policy *p, size_t i);
size_t policy_pool_count(const struct policy *p);
const struct policy_pool *policy_pool_at(const struct policy *p, size_t i);

size_t policy_mode_count(const struct policy *p);
const struct policy_mode *policy_mode_at(const struct policy *p, size_t i);
/* Base rules only (each mode holds its own). */
size_t policy_rule_count(const struct policy *p);
const struct policy_rule *policy_rule_at(const struct policy *p, size_t i);

const char *policy_tenant_name(const struct policy_tenant *t);
/* PAM service the broker starts for this tenant's users ("vdi" default). */
const char *policy_tenant_pam_service(const struct policy_tenant *t);
/* The tenant's CA certificate and CRL (NULL only with skip_pki_files). The
 * policy owns them: up-reference them to keep them past the policy. */
X509 *policy_tenant_ca(const struct policy_tenant *t);
X509_CRL *policy_tenant_crl(const struct policy_tenant *t);
/* Seconds from now to crl's nextUpdate (negative once it is past) in *left.
 * Returns 0, or VDI_ERR_NOT_FOUND when the CRL has no nextUpdate. */
int policy_crl_seconds_left(const X509_CRL *crl, int64_t *left) VDI_WUR;
/* crl's nextUpdate as "YYYY-MM-DD HH:MM:SS UTC" ("never" without one). */
void policy_crl_next_update_str(const X509_CRL *crl, char *buf, size_t len);
/* The crl_warning setting: seconds before a CRL's nextUpdate from which
 * policy_warnings() warns (default 7 days). */
unsigned int policy_crl_warning(const struct policy *p);
/* The mode the file switches this tenant to, or NULL. */
const struct policy_mode *policy_tenant_mode(const struct policy_tenant *t);
/* Returns 1 when user (with its groups) is an admin of the tenant. */
int policy_tenant_is_admin(const struct policy_tenant *t, const char *user,
    const char *const *groups, size_t ngroups);

enum policy_assignment {
	POLICY_ASSIGN_PERSISTENT = 1, /* one desktop per user, kept */
	POLICY_ASSIGN_POOLED,         /* least-loaded healthy desktop */
};

enum policy_security {
	POLICY_SEC_TLS = 1, /* TLS to the desktop, credentials in RDP */
	POLICY_SEC_NLA,     /* CredSSP (NLA) to the desktop */
};

/* One desktop of a pool (plain data, read-only). */
struct policy_desktop {
	const char *name; /* unique in the policy */
	const char *host; /* IP literal or DNS name, no brackets */
	uint16_t port;
	enum policy_security security;
	int has_pin;
	uint8_t pin[32];       /* SHA-256 of the desktop's TLS certificate */
	unsigned int capacity; /* concurrent sessions */
	const char *src_file;  /* where it was defined */
	unsigned int src_line;
};

const char *policy_pool_name(const struct policy_pool *pool);
const struct policy_tenant *policy_pool_tenant(const struct policy_pool *pool);
const char *policy_pool_zone(const struct policy_pool *pool);
enum policy_assignment policy_pool_assignment(const struct policy_pool *pool);
size_t policy_pool_desktop_count(const struct policy_pool *pool);
const struct policy_desktop *policy_pool_desktop(
    const struct policy_pool *pool, size_t i);

/* The desktop at host:port in a pool of tenant tenant, or NULL when no
 * pool of that tenant lists one (hosts compared without regard to case,
 * as the broker writes them into tokens). The gateway refuses tokens
 * whose dst is not a desktop of their tid. */
const struct policy_desktop *policy_tenant_desktop(const struct policy *p,
    const char *tenant, const char *host, uint16_t port);

const char *policy_rule_name(const struct policy_rule *r);
/* 1 for an allow rule, 0 for a deny rule. */
int policy_rule_allows(const struct policy_rule *r);
const char *policy_rule_file(const struct policy_rule *r);
unsigned int policy_rule_line(const struct policy_rule *r);
/* The mode whose rule list holds r, or NULL for a base rule. */
const struct policy_mode *policy_rule_mode(const struct policy_rule *r);
/* 1 when any rule (base or of a mode) names groups, so that a decision
 * needs the user's groups (an NSS lookup); 0 when none does. */
int policy_uses_groups(const struct policy *p);

const char *policy_mode_name(const struct policy_mode *m);
/* Number of rules the mode puts before (or instead of) the base rules. */
size_t policy_mode_rule_count(const struct policy_mode *m);

const char *policy_assignment_name(enum policy_assignment a);
const char *policy_security_name(enum policy_security s);

/* ---- device certificates ----------------------------------------------- */

enum policy_device_status {
	POLICY_DEVICE_OK = 0,
	POLICY_DEVICE_UNKNOWN_CA, /* no tenant's CA issued it */
	POLICY_DEVICE_REJECTED,   /* fails the tenant's subject rules */
	POLICY_DEVICE_BAD_CLASS,  /* class missing or not the tenant's */
	POLICY_DEVICE_EXPIRED,
	POLICY_DEVICE_NOT_YET_VALID,
	POLICY_DEVICE_REVOKED, /* listed on the tenant's CRL */
};

#define POLICY_DEVICE_CLASS_MAX 64

struct policy_device {
	enum policy_device_status status;
	const struct policy_tenant *tenant; /* NULL for UNKNOWN_CA */
	char device_class[POLICY_DEVICE_CLASS_MAX + 1];
	int shared;       /* the class is one of the tenant's shared ones */
	char detail[160]; /* why, for REJECTED and the others */
};

/*
 * Finds the tenant whose CA issued cert (issuer name equals the CA subject
 * and the signature verifies with the CA key), then reads the device class
 * according to the tenant's device rules, checks the rules, the validity
 * period at now and the tenant's CRL. This is enough to explain a decision;
 * the TLS layer still verifies the full chain. Returns 0 with out->status
 * telling the outcome, or VDI_ERR_INVALID_ARG. Safe from any thread, like
 * policy_evaluate(): both only read the policy.
 */
int policy_identify(const struct policy *p, X509 *cert, int64_t now,
    struct policy_device *out) VDI_WUR;

/* ---- evaluation -------------------------------------------------------- */

struct policy_request {
	const char *tenant; /* from policy_identify() */
	const char *user;
	const char *const *groups; /* the user's groups (PAM / NSS) */
	size_t ngroups;
	const char *device_class;    /* from policy_identify() */
	const struct vdi_addr *from; /* source address; NULL = unknown */
	int64_t now;                 /* seconds since the epoch, UTC */
	/* The tenant's mode: NULL means the mode the policy file sets for the
	 * tenant (if any); "none" means no mode; else a mode name. */
	const char *mode;
};

/* Conditions of a rule, as bits (what failed, in traces). */
#define POLICY_COND_TENANT 0x01u
#define POLICY_COND_USER   0x02u /* users / groups */
#define POLICY_COND_DEVICE 0x04u /* device_classes */
#define POLICY_COND_SITE   0x08u
#define POLICY_COND_TIME   0x10u

/* Channel classes. Display and input are always granted. */
#define POLICY_CH_DISPLAY   0x01u
#define POLICY_CH_INPUT     0x02u
#define POLICY_CH_AUDIO_OUT 0x04u

struct policy_limits {
	unsigned int idle_disconnect;  /* seconds; 0 = never */
	unsigned int reconnect_window; /* seconds a ticket stays valid */
	unsigned int max_session;      /* seconds; 0 = unlimited */
	int single_session;            /* one live session per user */
	int reconnect_ticket;          /* 0: give no ticket (shared devices) */
	int shared_device;             /* the device class is a shared one */
};

enum policy_verdict {
	POLICY_DENY = 0,
	POLICY_ALLOW = 1,
};

enum policy_reason {
	POLICY_REASON_ALLOWED = 0,
	POLICY_REASON_NO_RULE,     /* no rule matched: deny by default */
	POLICY_REASON_RULE_DENIES, /* a deny rule matched */
	POLICY_REASON_UNKNOWN_TENANT,
	POLICY_REASON_UNKNOWN_MODE, /* undefined, or not for this tenant */
	POLICY_REASON_DEVICE_CLASS, /* class not allowed (tenant or rule) */
	POLICY_REASON_OUTSIDE_TIME, /* the closest rule fails on time only */
	POLICY_REASON_SITE,         /* ... on the source network only */
	POLICY_REASON_GROUP,        /* ... on user / groups only */
	POLICY_REASON_ZONE,         /* rule matched, but no pool's zone is
				     * reachable from the source network */
};

struct policy_decision {
	enum policy_verdict verdict;
	enum policy_reason reason;
	const struct policy_rule *rule; /* the deciding rule, or NULL */
	/* For a deny by default: the allow rule for the tenant that came
	 * closest: the first that failed on exactly one condition other than
	 * users/groups, else the first that failed on users/groups only, else
	 * NULL. closest_failed is that condition. */
	const struct policy_rule *closest;
	unsigned int closest_failed;
	const struct policy_tenant *tenant; /* NULL if unknown */
	const struct policy_mode *mode;     /* mode in force, or NULL */
	size_t npools;                      /* allowed pools, in order */
	const struct policy_pool *pools[POLICY_MAX_RULE_POOLS];
	struct policy_limits limits; /* zero for a deny */
	unsigned int channels;       /* POLICY_CH_*; 0 for a deny */
};

/* Called once per rule examined, in order, with the conditions that failed
 * (0 when the rule matched and decided). */
typedef void policy_trace_fn(
    void *arg, const struct policy_rule *rule, unsigned int failed);

/*
 * Decides req against p: the rules of the tenant's mode (if any) come first,
 * then the base rules (unless the mode says inherit_rules = false); the first
 * rule whose every condition holds decides; when none does the answer is
 * deny. An allow gives the rule's pools of this tenant, in the rule's order,
 * minus pools whose zone is not reachable from req->from, plus the limits and
 * channel classes. Pure: reads nothing but its arguments. trace may be NULL.
 * Returns 0 (see out->verdict) or VDI_ERR_INVALID_ARG.
 */
int policy_evaluate(const struct policy *p, const struct policy_request *req,
    struct policy_decision *out, policy_trace_fn *trace, void *arg) VDI_WUR;

/* Short English phrase for a reason ("outside time window"). Static. */
const char *policy_reason_str(enum policy_reason r);
/* Name of one POLICY_COND_* bit ("time window"). Static. */
const char *policy_cond_str(unsigned int cond);

/* Writes the channel classes as "display,input[,audio_out]". Returns buf. */
char *policy_channels_format(unsigned int channels, char *buf, size_t len);

/*
 * What loads but will not work as written: for each, fn gets one line
 * "FILE:LINE: pools.POOL.desktops: NAME: warning: ..." (no newline; valid
 * during the call only). Today: desktops with security = "nla", whose
 * tunnels vdi-gatewayd refuses (nla_unsupported) until it speaks
 * CredSSP. And "FILE:LINE: tenants.T.crl: warning: ..." for each tenant CRL
 * whose nextUpdate comes within crl_warning. Returns the number of
 * warnings.
 */
size_t policy_warnings(
    const struct policy *p, void (*fn)(const char *line, void *arg), void *arg);

/*
 * Writes one log line's worth of key=value fields describing d, e.g.
 * "verdict=allow rule=ems-day rule_src=pref.conf:88 mode=none pools=ems
 * reason=allowed". Returns 0, or VDI_ERR_TOO_LARGE when it did not fit
 * (buf then holds a truncated, NUL-terminated line).
 */
int policy_decision_format_kv(
    const struct policy_decision *d, char *buf, size_t len) VDI_WUR;

/* ---- time -------------------------------------------------------------- */

/*
 * Parses an RFC 3339 / ISO 8601 time with an explicit offset:
 * YYYY-MM-DDTHH:MM[:SS](Z|+HH:MM|-HH:MM|+HHMM|-HHMM). Returns 0 and sets
 * *out (seconds since the epoch), or VDI_ERR_INVALID_ARG. A time without an
 * offset is refused: it would mean a different instant in every zone.
 */
int policy_time_parse(const char *s, int64_t *out) VDI_WUR;

#endif
