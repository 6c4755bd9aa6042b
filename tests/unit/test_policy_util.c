/* test_policy_util.c: fixtures for the policy tests (see the header). */
#include "config.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "test_policy_util.h"

static void
die(const char *what)
{
	fprintf(stderr, "test_policy_util: %s: %s\n", what, strerror(errno));
	abort();
}

void
tp_enter_tmpdir(char *buf, size_t len)
{
	const char *t = getenv("TMPDIR");

	snprintf(buf, len, "%s/vdi-policy-test.XXXXXX",
	    t != NULL && *t != '\0' ? t : "/tmp");
	if (mkdtemp(buf) == NULL)
		die("mkdtemp");
	if (chdir(buf) != 0)
		die("chdir");
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(path);
}

void
tp_leave_tmpdir(const char *dir)
{
	if (chdir("/") != 0)
		die("chdir /");
	if (dir != NULL && strstr(dir, "vdi-policy-test.") != NULL)
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void
mkparents(const char *path)
{
	char tmp[1024];
	char *p;

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (p = tmp + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
			die(tmp);
		*p = '/';
	}
}

void
tp_write(const char *path, const char *text)
{
	FILE *f;

	mkparents(path);
	if ((f = fopen(path, "w")) == NULL)
		die(path);
	fputs(text, f);
	if (fclose(f) != 0)
		die(path);
}

static EVP_PKEY *
new_key(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");

	if (k == NULL)
		abort();
	return k;
}

static void
add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *e;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	if ((e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)) == NULL)
		abort();
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
}

/* "/O=a/OU=b/CN=c" -> name */
static X509_NAME *
parse_subject(const char *s)
{
	X509_NAME *n = X509_NAME_new();
	char buf[512], *tok, *save = NULL, *eq;

	snprintf(buf, sizeof(buf), "%s", s);
	for (tok = strtok_r(buf, "/", &save); tok != NULL;
	     tok = strtok_r(NULL, "/", &save)) {
		if ((eq = strchr(tok, '=')) == NULL)
			abort();
		*eq = '\0';
		if (!X509_NAME_add_entry_by_txt(n, tok, MBSTRING_UTF8,
			(unsigned char *)eq + 1, -1, -1, 0))
			abort();
	}
	return n;
}

static X509 *
make_cert(EVP_PKEY *key, X509_NAME *subject, X509 *issuer, EVP_PKEY *issuer_key,
    long nb, long na, long serial, int is_ca)
{
	X509 *x = X509_new();

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
	X509_gmtime_adj(X509_getm_notBefore(x), nb);
	X509_gmtime_adj(X509_getm_notAfter(x), na);
	X509_set_subject_name(x, subject);
	X509_set_issuer_name(
	    x, issuer != NULL ? X509_get_subject_name(issuer) : subject);
	X509_set_pubkey(x, key);
	if (is_ca) {
		add_ext(x, issuer != NULL ? issuer : x, NID_basic_constraints,
		    "critical,CA:TRUE");
		add_ext(x, issuer != NULL ? issuer : x, NID_key_usage,
		    "critical,keyCertSign,cRLSign");
	} else {
		add_ext(x, issuer, NID_basic_constraints, "CA:FALSE");
		add_ext(x, issuer, NID_ext_key_usage, "clientAuth");
	}
	if (X509_sign(x, issuer_key, EVP_sha256()) == 0)
		abort();
	return x;
}

void
tp_ca_new(struct tp_ca *ca, const char *tenant)
{
	char subj[256];
	X509_NAME *n;

	snprintf(subj, sizeof(subj), "/O=%s/CN=%s device CA", tenant, tenant);
	n = parse_subject(subj);
	ca->key = new_key();
	ca->cert = make_cert(
	    ca->key, n, NULL, ca->key, -86400, 86400L * 365 * 20, 1, 1);
	X509_NAME_free(n);
}

void
tp_ca_free(struct tp_ca *ca)
{
	X509_free(ca->cert);
	EVP_PKEY_free(ca->key);
	ca->cert = NULL;
	ca->key = NULL;
}

X509 *
tp_cert_new(const struct tp_ca *ca, const char *subject, long nb_off,
    long na_off, long serial, int is_ca)
{
	X509_NAME *n = parse_subject(subject);
	EVP_PKEY *k = new_key();
	X509 *x =
	    make_cert(k, n, ca->cert, ca->key, nb_off, na_off, serial, is_ca);

	X509_NAME_free(n);
	EVP_PKEY_free(k);
	return x;
}

void
tp_write_cert(const char *path, X509 *x)
{
	FILE *f;

	mkparents(path);
	if ((f = fopen(path, "w")) == NULL)
		die(path);
	if (!PEM_write_X509(f, x))
		abort();
	fclose(f);
}

void
tp_tenant_pki(const char *dir, const char *tenant, struct tp_ca *ca,
    const long *revoked, size_t nrevoked)
{
	char path[1024];
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *t = ASN1_TIME_new();
	FILE *f;
	size_t i;

	tp_ca_new(ca, tenant);
	snprintf(path, sizeof(path), "%s/%s/ca.pem", dir, tenant);
	tp_write_cert(path, ca->cert);

	X509_CRL_set_version(crl, 1);
	X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca->cert));
	X509_gmtime_adj(t, -3600);
	X509_CRL_set1_lastUpdate(crl, t);
	X509_gmtime_adj(t, 86400L * 30);
	X509_CRL_set1_nextUpdate(crl, t);
	for (i = 0; i < nrevoked; i++) {
		X509_REVOKED *r = X509_REVOKED_new();
		ASN1_INTEGER *serial = ASN1_INTEGER_new();

		ASN1_INTEGER_set(serial, revoked[i]);
		X509_REVOKED_set_serialNumber(r, serial);
		X509_gmtime_adj(t, -60);
		X509_REVOKED_set_revocationDate(r, t);
		X509_CRL_add0_revoked(crl, r);
		ASN1_INTEGER_free(serial);
	}
	X509_CRL_sort(crl);
	if (X509_CRL_sign(crl, ca->key, EVP_sha256()) == 0)
		abort();
	snprintf(path, sizeof(path), "%s/%s/crl.pem", dir, tenant);
	mkparents(path);
	if ((f = fopen(path, "w")) == NULL)
		die(path);
	PEM_write_X509_CRL(f, crl);
	fclose(f);
	ASN1_TIME_free(t);
	X509_CRL_free(crl);
}

void
tp_write_crl(
    const char *path, const struct tp_ca *ca, long last_off, long next_off)
{
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *t = ASN1_TIME_new();
	FILE *f;

	X509_CRL_set_version(crl, 1);
	X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca->cert));
	X509_gmtime_adj(t, last_off);
	X509_CRL_set1_lastUpdate(crl, t);
	X509_gmtime_adj(t, next_off);
	X509_CRL_set1_nextUpdate(crl, t);
	if (X509_CRL_sign(crl, ca->key, EVP_sha256()) == 0)
		abort();
	mkparents(path);
	if ((f = fopen(path, "w")) == NULL)
		die(path);
	PEM_write_X509_CRL(f, crl);
	fclose(f);
	ASN1_TIME_free(t);
	X509_CRL_free(crl);
}
