/*
 * test_policy_util.h: fixtures for the policy unit tests: a temp dir,
 * files in it, and a small PKI made with the OpenSSL API (EC P-256 CAs,
 * CRLs and device certificates with chosen subjects and validity).
 */
#ifndef VDI_TEST_POLICY_UTIL_H
#define VDI_TEST_POLICY_UTIL_H

#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

/* A tenant's CA: certificate and key, and the files written for it. */
struct tp_ca {
	EVP_PKEY *key;
	X509 *cert;
};

/* Makes a fresh temp dir (under $TMPDIR or /tmp) into buf and chdir()s
 * into it. Aborts on failure. */
void tp_enter_tmpdir(char *buf, size_t len);
/* chdir("/") and removes the dir made by tp_enter_tmpdir. */
void tp_leave_tmpdir(const char *dir);

/* Writes text to path (relative to the cwd), making parent dirs. */
void tp_write(const char *path, const char *text);

/* Makes a CA with subject /O=tenant/CN=tenant device CA. */
void tp_ca_new(struct tp_ca *ca, const char *tenant);
void tp_ca_free(struct tp_ca *ca);

/* A certificate signed by ca for subject ("/O=t/OU=field-tablet/CN=t-1"),
 * valid from now+nb_off to now+na_off seconds, with serial. When is_ca, it
 * carries basicConstraints CA:TRUE. The caller frees it. */
X509 *tp_cert_new(const struct tp_ca *ca, const char *subject, long nb_off,
    long na_off, long serial, int is_ca);

/* Writes PKI files for tenant under dir: dir/TENANT/ca.pem and crl.pem (the
 * CRL revokes the serials given). Keeps the CA in *ca for making devices. */
void tp_tenant_pki(const char *dir, const char *tenant, struct tp_ca *ca,
    const long *revoked, size_t nrevoked);

void tp_write_cert(const char *path, X509 *x);

/* Writes an empty CRL of ca to path, lastUpdate now+last_off and
 * nextUpdate now+next_off seconds. */
void tp_write_crl(
    const char *path, const struct tp_ca *ca, long last_off, long next_off);

#endif
