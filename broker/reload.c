/* reload.c: the worker's policy and TLS trust, loaded and reloaded in place,
 * and the tenant modes set at run time (see broker.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "broker.h"
#include "http.h"
#include "vlog.h"

int64_t
broker_now(void)
{
	return (int64_t)time(NULL);
}

int
broker_tls_configure(
    struct broker *b, const struct policy *p, char *err, size_t errlen)
{
	struct vdi_tls_ca cas[64];
	struct vdi_tls_config tc;
	const struct policy_tenant *t;
	const char *paths[64][2];
	size_t i, n = 0;
	int r;

	memset(&tc, 0, sizeof(tc));
	memset(cas, 0, sizeof(cas));
	for (i = 0; i < policy_tenant_count(p) && n < 63; i++) {
		t = policy_tenant_at(p, i);
		if (policy_tenant_ca_file(t) == NULL)
			continue;
		paths[n][0] = policy_tenant_ca_file(t);
		paths[n][1] = policy_tenant_crl_file(t);
		cas[n].name = policy_tenant_name(t);
		cas[n].ca_file = paths[n][0];
		cas[n].crl_file = paths[n][1];
		n++;
	}
	cas[n].name = HTTP_GATEWAY_CA;
	cas[n].ca_file = b->conf.gateway_ca;
	cas[n].crl_file = b->conf.gateway_crl;
	n++;
	tc.role = VDI_TLS_SERVER;
	tc.cert_file = b->conf.tls_cert;
	tc.key_file = b->conf.tls_key;
	tc.cas = cas;
	tc.ncas = n;
	/* Every CA here has a CRL: tenants by the policy's rules, the gateway
	 * CA by bconf (gateway_crl is required). */
	tc.flags = 0;
	if (b->tls == NULL)
		r = vdi_tls_new(&tc, &b->tls, err, errlen);
	else
		r = vdi_tls_reconfigure(b->tls, &tc, err, errlen);
	return r;
}

static void
log_warning(const char *line, void *arg)
{
	char q[1200];

	vlog(VLOG_WARNING, "policy_warning", "detail=%s",
	    vlog_quote(line, q, sizeof(q)));
}

void
broker_policy_warnings(const struct policy *p)
{
	(void)policy_warnings(p, log_warning, NULL);
}

int
broker_reload(struct broker *b, char **errors)
{
	struct policy_errors pe = { 0 };
	struct policy *np = NULL;
	char err[VDI_TLS_ERR_SIZE];
	int r;

	*errors = NULL;
	r = policy_load_file(b->conf.policy, NULL, &np, &pe);
	if (r != 0) {
		size_t count = pe.count > 0 ? pe.count : 1;

		*errors =
		    pe.text != NULL ? strdup(pe.text) : strdup(vdi_strerror(r));
		policy_errors_clear(&pe);
		vlog(VLOG_ERROR, "policy_reload_refused", "file=%s errors=%zu",
		    b->conf.policy, count);
		b->reload_failed = 1;
		return r;
	}
	if ((r = broker_tls_configure(b, np, err, sizeof(err))) != 0) {
		*errors = strdup(err);
		policy_unref(np);
		vlog(VLOG_ERROR, "policy_reload_refused",
		    "file=%s reason=tls_reconfigure_failed", b->conf.policy);
		b->reload_failed = 1;
		return r;
	}
	policy_unref(b->policy);
	b->policy = np;
	b->reload_failed = 0;
	broker_policy_warnings(np);
	vlog(VLOG_NOTICE, "policy_reloaded", "file=%s tenants=%zu pools=%zu",
	    b->conf.policy, policy_tenant_count(np), policy_pool_count(np));
	return 0;
}

const char *
broker_tenant_mode(struct broker *b, const char *tenant)
{
	json_t *m = b->modes != NULL ? json_object_get(b->modes, tenant) : NULL;

	return m != NULL ? json_string_value(m) : NULL;
}

int
broker_set_tenant_mode(struct broker *b, const char *tenant, const char *mode)
{
	char key[STORE_NAME_MAX + 8];
	int r;

	snprintf(key, sizeof(key), "mode.%s", tenant);
	if ((r = store_setting_set(b->store, key, mode)) != 0)
		return r;
	if (b->modes == NULL && (b->modes = json_object()) == NULL)
		return VDI_ERR_ALLOC;
	if (mode != NULL)
		json_object_set_new(b->modes, tenant, json_string(mode));
	else
		json_object_del(b->modes, tenant);
	return 0;
}
