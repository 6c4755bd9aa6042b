/*
 * policy_files.h: what the TLS front and the admin commands need to know
 * about a loaded policy besides decisions: the files a tenant's trust comes
 * from, and which tenants a mode may be applied to.
 */
#ifndef VDI_POLICY_FILES_H
#define VDI_POLICY_FILES_H

#include "policy.h"

/* The resolved paths of the tenant's CA and CRL files (NULL only for a
 * policy loaded with skip_pki_files). Owned by the policy. */
const char *policy_tenant_ca_file(const struct policy_tenant *t);
const char *policy_tenant_crl_file(const struct policy_tenant *t);

/* 1 when mode m may be switched on for tenant t (the mode names no tenants,
 * or names t), else 0. */
int policy_mode_applies(
    const struct policy_mode *m, const struct policy_tenant *t);

#endif
