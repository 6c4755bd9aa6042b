/*
 * trust.h: the gateway's view of the policy file, and nothing more: the
 * tenants' device CA and CRL files (for the front TLS context) and the
 * desktops of each tenant's pools (a token's dst must be one of them).
 *
 * The file is loaded and checked by the same loader as the broker's
 * policy (the same "FILE:LINE: KEY: problem" errors), so a file one
 * daemon accepts the other accepts too; the evaluator (rules, device
 * identification, decisions) is not part of this interface and is not
 * linked into programs that use only it. A trust view is immutable and
 * shared by reference like the policy it comes from.
 */
#ifndef VDI_POLICY_TRUST_H
#define VDI_POLICY_TRUST_H

#include <stddef.h>
#include <stdint.h>

#include "vdierr.h"

struct policy_trust; /* opaque */

/* One tenant that names a device CA. Strings are owned by the view. */
struct policy_trust_tenant {
	const char *name;
	const char *ca_file;  /* resolved path */
	const char *crl_file; /* resolved path */
	const void *crl;      /* the loaded X509_CRL, NULL without one */
};

/*
 * Loads the policy file path. Returns 0 with a new view (one reference,
 * the caller's) in *out; or VDI_ERR_CONFIG, VDI_ERR_ALLOC or VDI_ERR_IO
 * with *out NULL and, when errors is not NULL, every problem as
 * "FILE:LINE: KEY: problem\n" lines in *errors (malloc'd, the caller
 * frees it; NULL when there is no text).
 */
int policy_trust_load(
    const char *path, struct policy_trust **out, char **errors) VDI_WUR;

/* Takes a reference (atomic). Returns t. */
struct policy_trust *policy_trust_ref(struct policy_trust *t);
/* Drops a reference; frees the view with the last one. NULL is accepted. */
void policy_trust_unref(struct policy_trust *t);

/* The tenants that name a device CA, in file order; at is NULL past the
 * count. Valid while the caller holds its reference. */
size_t policy_trust_count(const struct policy_trust *t);
const struct policy_trust_tenant *policy_trust_at(
    const struct policy_trust *t, size_t i);

/* 1 when host:port is a desktop of a pool of tenant, else 0. */
/* Seconds until the CRL of tenant i (policy_trust_at) has its nextUpdate,
 * negative once past. Returns 0, or VDI_ERR_NOT_FOUND without a CRL. */
int policy_trust_crl_seconds_left(
    const struct policy_trust *t, size_t i, int64_t *left) VDI_WUR;

/* The loaded policy's warnings (policy_warnings(), policy.h): fn gets
 * each line. Returns their number. */
size_t policy_trust_warnings(const struct policy_trust *t,
    void (*fn)(const char *line, void *arg), void *arg);

int policy_trust_desktop(const struct policy_trust *t, const char *tenant,
    const char *host, uint16_t port);

#endif
