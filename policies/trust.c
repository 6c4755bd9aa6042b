/*
 * trust.c: the gateway's view of a policy (trust.h). It is the loaded
 * policy itself, seen through a narrower interface: the loader checks
 * the file, and the view answers from the policy's tenants and pools.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "policy_files.h"
#include "trust.h"

/* A view wraps one reference to the policy and the tenant table. */
struct policy_trust {
	struct policy *p;
	size_t n;
	struct policy_trust_tenant *tenants;
	int refs;
};

int
policy_trust_load(const char *path, struct policy_trust **out, char **errors)
{
	struct policy_errors pe = { 0 };
	const struct policy_tenant *pt;
	struct policy_trust *t;
	struct policy *p = NULL;
	size_t i, n;
	int r;

	*out = NULL;
	if (errors != NULL)
		*errors = NULL;
	if ((r = policy_load_file(path, NULL, &p, &pe)) != 0) {
		if (errors != NULL) {
			*errors = pe.text;
			pe.text = NULL;
		}
		policy_errors_clear(&pe);
		return r;
	}
	n = policy_tenant_count(p);
	if ((t = calloc(1, sizeof(*t))) == NULL ||
	    (n > 0 && (t->tenants = calloc(n, sizeof(*t->tenants))) == NULL)) {
		free(t);
		policy_unref(p);
		return VDI_ERR_ALLOC;
	}
	t->p = p;
	t->refs = 1;
	for (i = 0; i < n; i++) {
		pt = policy_tenant_at(p, i);
		if (policy_tenant_ca_file(pt) == NULL)
			continue;
		t->tenants[t->n].name = policy_tenant_name(pt);
		t->tenants[t->n].ca_file = policy_tenant_ca_file(pt);
		t->tenants[t->n].crl_file = policy_tenant_crl_file(pt);
		t->tenants[t->n].crl = policy_tenant_crl(pt);
		t->n++;
	}
	*out = t;
	return 0;
}

struct policy_trust *
policy_trust_ref(struct policy_trust *t)
{
	if (t != NULL)
		__atomic_add_fetch(&t->refs, 1, __ATOMIC_RELAXED);
	return t;
}

void
policy_trust_unref(struct policy_trust *t)
{
	if (t == NULL || __atomic_sub_fetch(&t->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	policy_unref(t->p);
	free(t->tenants);
	free(t);
}

size_t
policy_trust_count(const struct policy_trust *t)
{
	return t != NULL ? t->n : 0;
}

const struct policy_trust_tenant *
policy_trust_at(const struct policy_trust *t, size_t i)
{
	return t != NULL && i < t->n ? &t->tenants[i] : NULL;
}

int
policy_trust_desktop(const struct policy_trust *t, const char *tenant,
    const char *host, uint16_t port)
{
	if (t == NULL || tenant == NULL || host == NULL)
		return 0;
	return policy_tenant_desktop(t->p, tenant, host, port) != NULL;
}

size_t
policy_trust_warnings(const struct policy_trust *t,
    void (*fn)(const char *line, void *arg), void *arg)
{
	return policy_warnings(t->p, fn, arg);
}

int
policy_trust_crl_seconds_left(
    const struct policy_trust *t, size_t i, int64_t *left)
{
	*left = 0;
	if (i >= t->n || t->tenants[i].crl == NULL)
		return VDI_ERR_NOT_FOUND;
	return policy_crl_seconds_left(t->tenants[i].crl, left);
}
