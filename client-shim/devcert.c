/* devcert.c: the device certificate (PEM or PKCS#12) and the TLS context
 * made from it, shared by the broker and the gateway legs (shim_io.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>

#include "shim_io.h"
#include "tls.h"

int
shim_device_load(const struct vdic_config *cfg, struct shim_device *dev,
    char *msg, size_t msglen)
{
	struct vdi_tls_config tc;
	struct vdi_tls_ca ca;
	char err[VDI_TLS_ERR_SIZE];
	EVP_PKEY *pkey = NULL;
	X509 *x = NULL;
	STACK_OF(X509) *chain = NULL;
	PKCS12 *p12 = NULL;
	BIO *bio = NULL;
	struct tm tm;
	const ASN1_TIME *na, *nb;
	int r = VDIC_ERR_CONFIG;

	memset(dev, 0, sizeof(*dev));
	memset(&tc, 0, sizeof(tc));
	memset(&ca, 0, sizeof(ca));
	ca.ca_file = cfg->ca;
	tc.role = VDI_TLS_CLIENT;
	tc.cas = &ca;
	tc.ncas = 1;
	if (cfg->pkcs12[0] == '\0') {
		tc.cert_file = cfg->cert;
		tc.key_file = cfg->key;
	}
	if (vdi_tls_ctx_new(&tc, &dev->ctx, err, sizeof(err)) != 0) {
		vdi_seterr(msg, msglen,
		    "Cannot use the device identity or CA of %s: %s. Ask your "
		    "IT department to provision this tablet again.",
		    cfg->path, err);
		return VDIC_ERR_CONFIG;
	}
	if (cfg->pkcs12[0] != '\0') {
		if ((bio = BIO_new_file(cfg->pkcs12, "rb")) == NULL ||
		    (p12 = d2i_PKCS12_bio(bio, NULL)) == NULL ||
		    !PKCS12_parse(p12, cfg->passphrase, &pkey, &x, &chain) ||
		    x == NULL || pkey == NULL ||
		    SSL_CTX_use_cert_and_key(dev->ctx, x, pkey, chain, 1) !=
			1) {
			vdi_seterr(msg, msglen,
			    "Cannot open the device identity %s (%s): wrong "
			    "passphrase or damaged file. Ask your IT "
			    "department to provision this tablet again.",
			    cfg->pkcs12, vdi_ossl_reason());
			goto out;
		}
	}
	if ((dev->cert = SSL_CTX_get0_certificate(dev->ctx)) == NULL) {
		vdi_seterr(
		    msg, msglen, "No device certificate in %s.", cfg->path);
		goto out;
	}
	X509_up_ref(dev->cert);
	na = X509_get0_notAfter(dev->cert);
	nb = X509_get0_notBefore(dev->cert);
	if (ASN1_TIME_to_tm(na, &tm) == 1)
		strftime(dev->not_after, sizeof(dev->not_after),
		    "%Y-%m-%d %H:%M UTC", &tm);
	if (ASN1_TIME_to_tm(nb, &tm) == 1)
		strftime(dev->not_before, sizeof(dev->not_before),
		    "%Y-%m-%d %H:%M UTC", &tm);
	if (X509_cmp_time(na, NULL) < 0) {
		vdi_seterr(msg, msglen,
		    "This tablet's device certificate expired on %s. Bring "
		    "the tablet to your IT department to renew the "
		    "certificate.",
		    dev->not_after);
		r = VDIC_ERR_DEVICE;
		goto out;
	}
	if (X509_cmp_time(nb, NULL) > 0) {
		vdi_seterr(msg, msglen,
		    "This tablet's device certificate is valid only from %s. "
		    "Check the tablet's date and time.",
		    dev->not_before);
		r = VDIC_ERR_DEVICE;
		goto out;
	}
	r = VDIC_OK;
out:
	EVP_PKEY_free(pkey);
	X509_free(x);
	sk_X509_pop_free(chain, X509_free);
	PKCS12_free(p12);
	BIO_free(bio);
	if (r != VDIC_OK)
		shim_device_free(dev);
	return r;
}

void
shim_device_free(struct shim_device *dev)
{
	SSL_CTX_free(dev->ctx);
	X509_free(dev->cert);
	dev->ctx = NULL;
	dev->cert = NULL;
}
