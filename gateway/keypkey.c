/*
 * keypkey.c: the inner TLS key as an EVP_PKEY whose private operations
 * run in the key process (keyproc.h).
 *
 * Why RSA_METHOD / EC_KEY_METHOD: OpenSSL 3 marks an EVP_PKEY whose RSA or
 * EC_KEY has a method other than the built-in one as "foreign" and sends
 * every operation on it through the legacy EVP_PKEY_METHOD path, which
 * ends in the key's method: ECDSA_sign() -> our ec_sign(), and for RSA
 * both PKCS#1 v1.5 (RSA_sign -> RSA_private_encrypt with PKCS#1 padding of
 * the DigestInfo) and PSS (OpenSSL encodes the PSS block, then
 * RSA_private_encrypt with no padding) -> our rsa_priv_enc(). libssl's
 * TLS 1.2 ServerKeyExchange and TLS 1.3 CertificateVerify use exactly
 * these, so both versions work with ECDSA, RSA-PKCS#1 and RSA-PSS without
 * a provider. A provider (keymgmt + signature) would avoid the deprecated
 * calls but is several hundred lines of dispatch tables for the same two
 * operations; this file is the only one that uses deprecated API, and
 * says so (OPENSSL_SUPPRESS_DEPRECATED), as relayd's ca.c does with
 * LibreSSL's RSA_METHOD. keyproc_test (unit) runs real TLS 1.2 and 1.3
 * handshakes over it for EC and RSA keys.
 */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include "config.h"

#include <pthread.h>
#include <string.h>

#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "keymsg.h"
#include "keyproc.h"
#include "vlog.h"

static pthread_once_t methods_once = PTHREAD_ONCE_INIT;
static RSA_METHOD *rsa_meth;
static EC_KEY_METHOD *ec_meth;

static int
rsa_priv_enc(
    int flen, const unsigned char *from, unsigned char *to, RSA *rsa, int pad)
{
	size_t n = 0;
	uint8_t p;

	if (pad == RSA_PKCS1_PADDING)
		p = KEYMSG_RSA_PKCS1;
	else if (pad == RSA_NO_PADDING)
		p = KEYMSG_RSA_NONE;
	else
		return -1;
	if (flen <= 0 ||
	    keyclient_sign(KEYMSG_ALG_RSA, p, from, (size_t)flen, to,
		(size_t)RSA_size(rsa), &n) != 0)
		return -1;
	return (int)n;
}

/* Decryption (RSA key exchange) is never offered: ECDHE only. */
static int
rsa_priv_dec(
    int flen, const unsigned char *from, unsigned char *to, RSA *rsa, int pad)
{
	(void)flen;
	(void)from;
	(void)to;
	(void)rsa;
	(void)pad;
	return -1;
}

static int
ec_sign(int type, const unsigned char *dgst, int dlen, unsigned char *sig,
    unsigned int *siglen, const BIGNUM *kinv, const BIGNUM *r, EC_KEY *eckey)
{
	size_t n = 0;

	(void)type;
	(void)kinv;
	(void)r;
	if (dlen <= 0 ||
	    keyclient_sign(KEYMSG_ALG_ECDSA, 0, dgst, (size_t)dlen, sig,
		(size_t)ECDSA_size(eckey), &n) != 0)
		return 0;
	*siglen = (unsigned int)n;
	return 1;
}

static ECDSA_SIG *
ec_sign_sig(const unsigned char *dgst, int dlen, const BIGNUM *kinv,
    const BIGNUM *r, EC_KEY *eckey)
{
	unsigned char der[KEYMSG_SIGN_OUT_MAX];
	const unsigned char *p = der;
	unsigned int n = 0;

	if (ec_sign(0, dgst, dlen, der, &n, kinv, r, eckey) != 1)
		return NULL;
	return d2i_ECDSA_SIG(NULL, &p, (long)n);
}

static void
methods_init(void)
{
	int (*setup)(EC_KEY *, BN_CTX *, BIGNUM **, BIGNUM **) = NULL;

	if ((rsa_meth = RSA_meth_dup(RSA_get_default_method())) != NULL &&
	    (RSA_meth_set1_name(rsa_meth, "vdi-keyproc") != 1 ||
		RSA_meth_set_priv_enc(rsa_meth, rsa_priv_enc) != 1 ||
		RSA_meth_set_priv_dec(rsa_meth, rsa_priv_dec) != 1)) {
		RSA_meth_free(rsa_meth);
		rsa_meth = NULL;
	}
	if ((ec_meth = EC_KEY_METHOD_new(EC_KEY_get_default_method())) !=
	    NULL) {
		EC_KEY_METHOD_get_sign(ec_meth, NULL, &setup, NULL);
		EC_KEY_METHOD_set_sign(ec_meth, ec_sign, setup, ec_sign_sig);
	}
}

/* A signature through key against cert's public key, for the pad given
 * (0: the key type's default). */
static int
prove(EVP_PKEY *key, EVP_PKEY *pub, int pad)
{
	unsigned char data[32], sig[KEYMSG_SIGN_OUT_MAX];
	size_t slen = sizeof(sig);
	EVP_MD_CTX *s = EVP_MD_CTX_new(), *v = EVP_MD_CTX_new();
	EVP_PKEY_CTX *sp = NULL, *vp = NULL;
	int ok = 0;

	if (s == NULL || v == NULL || RAND_bytes(data, sizeof(data)) != 1 ||
	    EVP_DigestSignInit(s, &sp, EVP_sha256(), NULL, key) != 1 ||
	    (pad != 0 && EVP_PKEY_CTX_set_rsa_padding(sp, pad) != 1) ||
	    EVP_DigestSign(s, sig, &slen, data, sizeof(data)) != 1 ||
	    EVP_DigestVerifyInit(v, &vp, EVP_sha256(), NULL, pub) != 1 ||
	    (pad != 0 && EVP_PKEY_CTX_set_rsa_padding(vp, pad) != 1))
		goto out;
	ok = EVP_DigestVerify(v, sig, slen, data, sizeof(data)) == 1;
out:
	EVP_MD_CTX_free(s);
	EVP_MD_CTX_free(v);
	return ok;
}

int
keypkey_new(X509 *cert, EVP_PKEY **out)
{
	EVP_PKEY *pub = NULL, *key = NULL;
	RSA *rsa = NULL;
	EC_KEY *ec = NULL;
	int r = VDI_ERR_TLS;

	*out = NULL;
	pthread_once(&methods_once, methods_init);
	if (cert == NULL || (pub = X509_get_pubkey(cert)) == NULL ||
	    (key = EVP_PKEY_new()) == NULL)
		goto out;
	if (EVP_PKEY_get_base_id(pub) == EVP_PKEY_RSA) {
		if (rsa_meth == NULL ||
		    (rsa = EVP_PKEY_get1_RSA(pub)) == NULL ||
		    RSA_set_method(rsa, rsa_meth) != 1 ||
		    EVP_PKEY_assign_RSA(key, rsa) != 1)
			goto out;
		rsa = NULL;
	} else if (EVP_PKEY_get_base_id(pub) == EVP_PKEY_EC) {
		if (ec_meth == NULL ||
		    (ec = EVP_PKEY_get1_EC_KEY(pub)) == NULL ||
		    EC_KEY_set_method(ec, ec_meth) != 1 ||
		    EVP_PKEY_assign_EC_KEY(key, ec) != 1)
			goto out;
		ec = NULL;
	} else {
		r = VDI_ERR_UNSUPPORTED;
		goto out;
	}
	/* The key process holds the matching private key, or nothing
	 * signs: prove it before the first client does. */
	if (!prove(key, pub, 0) ||
	    (EVP_PKEY_get_base_id(pub) == EVP_PKEY_RSA &&
		!prove(key, pub, RSA_PKCS1_PSS_PADDING))) {
		r = VDI_ERR_CERT_LOAD;
		goto out;
	}
	*out = key;
	key = NULL;
	r = 0;
out:
	RSA_free(rsa);
	EC_KEY_free(ec);
	EVP_PKEY_free(key);
	EVP_PKEY_free(pub);
	return r;
}
