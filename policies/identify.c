/*
 * identify.c: from a device certificate to a tenant and a device class.
 *
 * The tenant is the one whose CA issued the certificate: the issuer name
 * equals the CA's subject and the signature verifies with the CA's key.
 * Then the tenant's device rules apply: each required subject attribute
 * must be present once with the exact value, the CN must start with
 * cn_prefix (else REJECTED), and the attribute named by class_attribute
 * (OU by default) must be present once and be one of the tenant's classes
 * (else BAD_CLASS). Validity and
 * the tenant's CRL are checked at the given time, so that an explanation
 * is honest about what the TLS layer will refuse; the TLS layer still does
 * the full chain verification.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "policy_int.h"

/* Reads the single entry of nid in name as UTF-8. Returns 0, or -1 when it
 * is absent (*count 0), repeated (*count 2) or not text. */
static int
name_entry(X509_NAME *name, int nid, char *out, size_t len, int *count)
{
	X509_NAME_ENTRY *e;
	unsigned char *utf8 = NULL;
	int idx, n;

	out[0] = '\0';
	*count = 0;
	if ((idx = X509_NAME_get_index_by_NID(name, nid, -1)) < 0)
		return -1;
	*count = 1;
	if (X509_NAME_get_index_by_NID(name, nid, idx) >= 0) {
		*count = 2;
		return -1;
	}
	if ((e = X509_NAME_get_entry(name, idx)) == NULL)
		return -1;
	if ((n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(e))) < 0)
		return -1;
	if ((size_t)n >= len || memchr(utf8, '\0', (size_t)n) != NULL) {
		OPENSSL_free(utf8);
		return -1;
	}
	memcpy(out, utf8, (size_t)n);
	out[n] = '\0';
	OPENSSL_free(utf8);
	return 0;
}

/* "2021-01-01T00:00:00Z" */
static const char *
asn1_time_str(const ASN1_TIME *t, char *buf, size_t len)
{
	struct tm tm;

	if (ASN1_TIME_to_tm(t, &tm) != 1 ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "?");
	return buf;
}

static const char *
nid_short(int nid)
{
	const char *s = OBJ_nid2sn(nid);

	return s != NULL ? s : "?";
}

int
policy_identify(
    const struct policy *p, X509 *cert, int64_t now, struct policy_device *out)
{
	const struct policy_tenant *t = NULL;
	X509_NAME *issuer, *subject;
	X509_REVOKED *rev = NULL;
	EVP_PKEY *key;
	char val[256], iss[256];
	time_t tt;
	size_t i;
	int count;

	if (out == NULL)
		return VDI_ERR_INVALID_ARG;
	memset(out, 0, sizeof(*out));
	if (p == NULL || cert == NULL)
		return VDI_ERR_INVALID_ARG;
	issuer = X509_get_issuer_name(cert);
	subject = X509_get_subject_name(cert);
	for (i = 0; i < p->ntenants && t == NULL; i++) {
		if (p->tenants[i].ca == NULL ||
		    X509_NAME_cmp(
			issuer, X509_get_subject_name(p->tenants[i].ca)) != 0)
			continue;
		key = X509_get0_pubkey(p->tenants[i].ca);
		if (key != NULL && X509_verify(cert, key) == 1)
			t = &p->tenants[i];
	}
	ERR_clear_error();
	if (t == NULL) {
		X509_NAME_oneline(issuer, iss, sizeof(iss));
		out->status = POLICY_DEVICE_UNKNOWN_CA;
		snprintf(out->detail, sizeof(out->detail),
		    "issuer %.80s is not the "
		    "CA of any tenant (or the signature does not verify)",
		    iss);
		return 0;
	}
	out->tenant = t;
	out->status = POLICY_DEVICE_REJECTED;
	for (i = 0; i < t->nsubject; i++) {
		if (name_entry(subject, t->subject_nid[i], val, sizeof(val),
			&count) != 0) {
			snprintf(out->detail, sizeof(out->detail),
			    "subject %s "
			    "is %s (tenant requires \"%s\")",
			    nid_short(t->subject_nid[i]),
			    count == 0 ? "missing" : "repeated or not text",
			    t->subject_val[i]);
			return 0;
		}
		if (strcmp(val, t->subject_val[i]) != 0) {
			snprintf(out->detail, sizeof(out->detail),
			    "subject %s "
			    "is \"%.64s\" (tenant requires \"%s\")",
			    nid_short(t->subject_nid[i]), val,
			    t->subject_val[i]);
			return 0;
		}
	}
	if (t->cn_prefix != NULL) {
		if (name_entry(subject, NID_commonName, val, sizeof(val),
			&count) != 0 ||
		    strncmp(val, t->cn_prefix, strlen(t->cn_prefix)) != 0) {
			snprintf(out->detail, sizeof(out->detail),
			    "subject CN "
			    "does not start with \"%s\"",
			    t->cn_prefix);
			return 0;
		}
	}
	if (name_entry(subject, t->class_nid, val, sizeof(val), &count) != 0) {
		out->status = POLICY_DEVICE_BAD_CLASS;
		snprintf(out->detail, sizeof(out->detail),
		    "subject %s, which "
		    "holds the device class, is %s",
		    nid_short(t->class_nid),
		    count == 0 ? "missing" : "repeated or not text");
		return 0;
	}
	if (strlen(val) > POLICY_DEVICE_CLASS_MAX ||
	    !policy_str_in(val, t->classes, t->nclasses)) {
		out->status = POLICY_DEVICE_BAD_CLASS;
		snprintf(out->detail, sizeof(out->detail),
		    "\"%.64s\" is not "
		    "one of tenant %s's device classes",
		    val, t->name);
		return 0;
	}
	memcpy(out->device_class, val, strlen(val) + 1);
	out->shared = policy_str_in(val, t->shared, t->nshared);

	tt = (time_t)now;
	if (ASN1_TIME_cmp_time_t(X509_get0_notBefore(cert), tt) > 0) {
		out->status = POLICY_DEVICE_NOT_YET_VALID;
		snprintf(out->detail, sizeof(out->detail), "valid from %s",
		    asn1_time_str(X509_get0_notBefore(cert), val, sizeof(val)));
		return 0;
	}
	if (ASN1_TIME_cmp_time_t(X509_get0_notAfter(cert), tt) < 0) {
		out->status = POLICY_DEVICE_EXPIRED;
		snprintf(out->detail, sizeof(out->detail), "valid until %s",
		    asn1_time_str(X509_get0_notAfter(cert), val, sizeof(val)));
		return 0;
	}
	if (t->crl != NULL && X509_CRL_get0_by_cert(t->crl, &rev, cert) == 1) {
		out->status = POLICY_DEVICE_REVOKED;
		snprintf(out->detail, sizeof(out->detail),
		    "listed on tenant "
		    "%s's CRL",
		    t->name);
		return 0;
	}
	ERR_clear_error();
	out->status = POLICY_DEVICE_OK;
	return 0;
}
