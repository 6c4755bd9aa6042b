/* status.c: the broker's status for vdictl (see status.h). */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "gwapi.h"
#include "procinfo.h"
#include "status.h"

/* Unix seconds of an ASN.1 time, 0 when NULL or unreadable. */
static json_int_t
asn1_unix(const ASN1_TIME *t)
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return (json_int_t)timegm(&tm);
}

static int
in_scope(const char *const *tenants, size_t n, const char *name)
{
	size_t i;

	if (tenants == NULL)
		return 1;
	for (i = 0; i < n; i++)
		if (strcmp(tenants[i], name) == 0)
			return 1;
	return 0;
}

json_t *
status_tenants(struct broker *b, const char *const *tenants, size_t ntenants)
{
	const struct policy_tenant *t;
	const struct policy_mode *pm;
	const char *name, *mode, *source;
	X509_CRL *crl;
	X509 *ca;
	json_t *list = json_array(), *o;
	size_t i;

	if (list == NULL)
		return NULL;
	for (i = 0; i < policy_tenant_count(b->policy); i++) {
		t = policy_tenant_at(b->policy, i);
		name = policy_tenant_name(t);
		if (!in_scope(tenants, ntenants, name))
			continue;
		/* A mode set with vdictl policy mode wins over the file's
		 * ("none" there: no mode, whatever the file says). */
		if ((mode = broker_tenant_mode(b, name)) != NULL) {
			source = "vdictl";
			if (strcmp(mode, "none") == 0)
				mode = "";
		} else if ((pm = policy_tenant_mode(t)) != NULL) {
			mode = policy_mode_name(pm);
			source = "policy";
		} else {
			mode = "";
			source = "";
		}
		ca = policy_tenant_ca(t);
		crl = policy_tenant_crl(t);
		o = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I}", "name", name,
		    "mode", mode, "mode_source", source, "ca_not_after",
		    ca != NULL ? asn1_unix(X509_get0_notAfter(ca)) : 0,
		    "crl_last_update",
		    crl != NULL ? asn1_unix(X509_CRL_get0_lastUpdate(crl)) : 0,
		    "crl_next_update",
		    crl != NULL ? asn1_unix(X509_CRL_get0_nextUpdate(crl)) : 0);
		if (o == NULL || json_array_append_new(list, o) != 0) {
			json_decref(list);
			return NULL;
		}
	}
	return list;
}

/* The date of one of the broker's own PEM files: a certificate's notAfter
 * or a CRL's nextUpdate, read from path now (what the next reload loads). */
static json_t *
file_date(const char *what, const char *path, int is_crl)
{
	json_int_t when = 0;
	X509_CRL *crl = NULL;
	X509 *x = NULL;
	FILE *f;

	if (path[0] == '\0')
		return NULL;
	if ((f = fopen(path, "re")) != NULL) {
		if (is_crl &&
		    (crl = PEM_read_X509_CRL(f, NULL, NULL, NULL)) != NULL)
			when = asn1_unix(X509_CRL_get0_nextUpdate(crl));
		else if (!is_crl &&
		    (x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL)
			when = asn1_unix(X509_get0_notAfter(x));
		fclose(f);
	}
	X509_CRL_free(crl);
	X509_free(x);
	return json_pack("{s:s, s:s, s:s, s:I}", "what", what, "path", path,
	    "date", is_crl ? "next_update" : "not_after", "when", when);
}

json_t *
status_json(struct broker *b, const char *const *tenants, size_t ntenants)
{
	struct vdi_procstat ps;
	struct store_health sh;
	struct stat sb;
	json_t *o, *store, *certs, *gws = NULL, *cuts, *tl, *c;
	int v;

	if (vdi_procstat_read(&ps) != 0)
		memset(&ps, 0, sizeof(ps));
	v = store_schema_version(b->store);
	(void)!store_health(b->store, &sh); /* sh says up or why not */
	store = json_pack("{s:s, s:i, s:i, s:b, s:b, s:I, s:s, s:I}", "path",
	    b->conf.store, "schema_version", v, "schema_latest",
	    store_schema_latest(), "ok", v >= 0, "writable", sh.up, "failures",
	    (json_int_t)sh.failures, "reason", sh.reason, "size_bytes",
	    (json_int_t)(stat(b->conf.store, &sb) == 0 ? sb.st_size : 0));
	certs = json_array();
	if ((c = file_date("tls cert", b->conf.tls_cert, 0)) != NULL)
		json_array_append_new(certs, c);
	if ((c = file_date("gateway_ca", b->conf.gateway_ca, 0)) != NULL)
		json_array_append_new(certs, c);
	if ((c = file_date("gateway_crl", b->conf.gateway_crl, 1)) != NULL)
		json_array_append_new(certs, c);
	/* Gateways are every tenant's: shown to operators only. */
	if (tenants == NULL && (cuts = gwq_status(b)) != NULL) {
		gws = json_incref(json_object_get(cuts, "gateways"));
		json_decref(cuts);
	}
	tl = status_tenants(b, tenants, ntenants);
	o = json_pack("{s:s, s:s, s:s, s:I, s:I, s:o, s:o, s:o, s:o, s:{s:I, "
		      "s:I}}",
	    "version", vdi_version_text(), "package_version", PACKAGE_VERSION,
	    "revision", VDI_GIT_REVISION, "pid", (json_int_t)getpid(),
	    "started", (json_int_t)ps.start_time, "store",
	    store ? store : json_null(), "certificates",
	    certs ? certs : json_null(), "gateways", gws ? gws : json_array(),
	    "tenants", tl ? tl : json_array(), "retention", "ended_sessions",
	    (json_int_t)b->conf.keep_ended_sessions, "tickets",
	    (json_int_t)b->conf.keep_tickets);
	return o;
}
