/* policy_files.c: tenant trust files and mode scope (policy_files.h). */
#include "config.h"

#include <stddef.h>

#include "policy_files.h"
#include "policy_int.h"

const char *
policy_tenant_ca_file(const struct policy_tenant *t)
{
	return t->ca_path;
}

const char *
policy_tenant_crl_file(const struct policy_tenant *t)
{
	return t->crl_path;
}

int
policy_mode_applies(const struct policy_mode *m, const struct policy_tenant *t)
{
	size_t i;

	if (m->ntenants == 0)
		return 1;
	for (i = 0; i < m->ntenants; i++)
		if (m->tenants[i] == t)
			return 1;
	return 0;
}
