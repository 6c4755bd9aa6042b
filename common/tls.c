/* tls.c: TLS contexts, mutual TLS with per-tenant CAs and CRLs, reload. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "b64url.h"
#include "tls.h"
#include "vdierr.h"

/* Mozilla "intermediate" (server side TLS, version 5.7). */
#define TLS12_CIPHERS                                                          \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"           \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"           \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"           \
	"DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:"                 \
	"DHE-RSA-CHACHA20-POLY1305"
#define TLS13_SUITES                                                           \
	"TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:"                       \
	"TLS_CHACHA20_POLY1305_SHA256"
#define TLS_GROUPS "X25519:prime256v1:secp384r1"

/* Stays with every SSL_CTX we build (ex_data): which CA is which. */
struct ca_info {
	size_t n;
	char **names;
	STACK_OF(X509) **certs;
};

static pthread_once_t ex_once = PTHREAD_ONCE_INIT;
static int ctx_ex_idx = -1; /* SSL_CTX -> struct ca_info */
static int ssl_ex_idx = -1; /* SSL -> X509 refused by verification */

static void
ca_info_free(struct ca_info *ci)
{
	size_t i;

	if (ci == NULL)
		return;
	for (i = 0; i < ci->n; i++) {
		if (ci->names != NULL)
			free(ci->names[i]);
		if (ci->certs != NULL)
			sk_X509_pop_free(ci->certs[i], X509_free);
	}
	free(ci->names);
	free(ci->certs);
	free(ci);
}

static void
ctx_ex_free(
    void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
	ca_info_free(ptr);
}

static void
ssl_ex_free(
    void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
	X509_free(ptr);
}

static void
ex_init(void)
{
	ctx_ex_idx = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, ctx_ex_free);
	ssl_ex_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, ssl_ex_free);
}

static int
ex_ready(void)
{
	if (pthread_once(&ex_once, ex_init) != 0)
		return 0;
	return ctx_ex_idx >= 0 && ssl_ex_idx >= 0;
}

/* --- error messages --------------------------------------------------- */

/* What to do about a file that cannot be opened. */
static const char *
open_hint(int e, const char *what)
{
	if (e == ENOENT) {
		if (strcmp(what, "crl_file") == 0)
			return "publish the CA's CRL there (openssl ca "
			       "-gencrl), or for tests make a PKI with "
			       "tests/pki/mkpki.sh";
		return "fix the path, or for tests make a PKI "
		       "with tests/pki/mkpki.sh";
	}
	if (e == EACCES)
		return "the daemon's user must be able to read it: check the "
		       "owner and mode of the file and its folders";
	if (e == EISDIR)
		return "give a file, not a folder";
	return "check the file";
}

/* Reads a whole regular file of at most VDI_TLS_FILE_MAX bytes into a
 * memory BIO. Returns 0 and *out, or VDI_ERR_* with err filled. */
static int
read_file(const char *path, const char *what, int code, BIO **out, char *err,
    size_t errlen)
{
	FILE *f = NULL;
	struct stat st;
	unsigned char *buf = NULL;
	size_t len;
	BIO *b = NULL;
	int r = code;

	*out = NULL;
	if (path == NULL || *path == '\0') {
		vdi_seterr(err, errlen, "%s is not set", what);
		return VDI_ERR_CONFIG;
	}
	if ((f = fopen(path, "rb")) == NULL) {
		int e = errno;

		vdi_seterr(err, errlen, "cannot read %s %s: %s (%s)", what,
		    path, strerror(e), open_hint(e, what));
		return code;
	}
	if (fstat(fileno(f), &st) != 0) {
		int e = errno;

		vdi_seterr(err, errlen, "cannot read %s %s: %s (%s)", what,
		    path, strerror(e), open_hint(e, what));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		vdi_seterr(err, errlen, "cannot read %s %s: %s (%s)", what,
		    path,
		    S_ISDIR(st.st_mode) ? strerror(EISDIR)
					: "not a regular file",
		    open_hint(S_ISDIR(st.st_mode) ? EISDIR : 0, what));
		goto out;
	}
	if ((unsigned long long)st.st_size > VDI_TLS_FILE_MAX) {
		vdi_seterr(err, errlen,
		    "cannot read %s %s: larger than %u bytes (is it the "
		    "right file?)",
		    what, path, VDI_TLS_FILE_MAX);
		goto out;
	}
	len = (size_t)st.st_size;
	if (len == 0) {
		vdi_seterr(err, errlen, "%s %s is empty (expected PEM data)",
		    what, path);
		goto out;
	}
	if ((buf = malloc(len)) == NULL) {
		r = VDI_ERR_ALLOC;
		vdi_seterr(err, errlen, "cannot read %s %s: out of memory",
		    what, path);
		goto out;
	}
	if (fread(buf, 1, len, f) != len) {
		vdi_seterr(err, errlen, "cannot read %s %s: %s", what, path,
		    ferror(f) ? strerror(errno) : "file shrank while reading");
		goto out;
	}
	/* BIO_new_mem_buf would borrow buf: copy into a BIO that owns it. */
	if ((b = BIO_new(BIO_s_mem())) == NULL ||
	    BIO_write(b, buf, (int)len) != (int)len) {
		r = VDI_ERR_ALLOC;
		vdi_seterr(err, errlen, "cannot read %s %s: out of memory",
		    what, path);
		goto out;
	}
	*out = b;
	b = NULL;
	r = 0;
out:
	if (buf != NULL) {
		OPENSSL_cleanse(buf, len); /* may be a private key */
		free(buf);
	}
	BIO_free(b);
	fclose(f);
	return r;
}

/* A hint for PEM data we could not parse; type is the expected PEM label
 * ("CERTIFICATE", "X509 CRL"). */
static const char *
pem_hint(BIO *b, const char *type)
{
	char *data = NULL, label[64];
	long n = BIO_get_mem_data(b, &data);

	if (n <= 0 || data == NULL)
		return "no data";
	if ((unsigned char)data[0] == 0x30)
		return "it looks like DER: convert it to PEM";
	if (memmem(data, (size_t)n, "-----BEGIN ", 11) == NULL)
		return "no PEM block at all";
	snprintf(label, sizeof(label), "-----BEGIN %s-----", type);
	if (memmem(data, (size_t)n, label, strlen(label)) == NULL)
		return "it holds other PEM blocks (wrong file?)";
	return "damaged PEM block";
}

/* Refuses to prompt for a passphrase: keys are unencrypted or refused. */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	return -1;
}

/* Reads every certificate of a PEM file. */
static int
load_certs(const char *path, const char *what, STACK_OF(X509) **out, char *err,
    size_t errlen)
{
	BIO *b = NULL;
	STACK_OF(X509) *sk = NULL;
	X509 *x;
	unsigned long e;
	int r;

	*out = NULL;
	if ((r = read_file(path, what, VDI_ERR_CERT_LOAD, &b, err, errlen)) !=
	    0)
		return r;
	if ((sk = sk_X509_new_null()) == NULL) {
		r = VDI_ERR_ALLOC;
		vdi_seterr(err, errlen, "out of memory");
		goto out;
	}
	ERR_clear_error();
	while ((x = PEM_read_bio_X509(b, NULL, no_passphrase, NULL)) != NULL) {
		if (!sk_X509_push(sk, x)) {
			X509_free(x);
			r = VDI_ERR_ALLOC;
			vdi_seterr(err, errlen, "out of memory");
			goto out;
		}
	}
	e = ERR_peek_last_error();
	if (ERR_GET_LIB(e) == ERR_LIB_PEM &&
	    ERR_GET_REASON(e) == PEM_R_NO_START_LINE && sk_X509_num(sk) > 0) {
		ERR_clear_error(); /* normal end of file */
	} else {
		r = VDI_ERR_CERT_LOAD;
		if (sk_X509_num(sk) == 0)
			vdi_seterr(err, errlen,
			    "no certificate in %s %s: %s (%s; expected "
			    "'-----BEGIN CERTIFICATE-----')",
			    what, path, vdi_ossl_reason(),
			    pem_hint(b, "CERTIFICATE"));
		else
			vdi_seterr(err, errlen,
			    "bad certificate #%d in %s %s: %s",
			    sk_X509_num(sk) + 1, what, path, vdi_ossl_reason());
		goto out;
	}
	*out = sk;
	sk = NULL;
	r = 0;
out:
	sk_X509_pop_free(sk, X509_free);
	BIO_free(b);
	return r;
}

static int
load_key(const char *path, EVP_PKEY **out, char *err, size_t errlen)
{
	BIO *b = NULL;
	int r;

	*out = NULL;
	if ((r = read_file(
		 path, "key_file", VDI_ERR_CERT_LOAD, &b, err, errlen)) != 0)
		return r;
	ERR_clear_error();
	if ((*out = PEM_read_bio_PrivateKey(b, NULL, no_passphrase, NULL)) ==
	    NULL) {
		const char *why = vdi_ossl_reason();

		vdi_seterr(err, errlen,
		    "no usable private key in key_file %s: %s (expected an "
		    "unencrypted '-----BEGIN PRIVATE KEY-----'; decrypt one "
		    "with: openssl pkey -in KEY -out KEY.plain)",
		    path, why);
		r = VDI_ERR_CERT_LOAD;
	}
	BIO_free(b);
	return r;
}

static int
load_crls(const char *path, STACK_OF(X509_CRL) **out, char *err, size_t errlen)
{
	BIO *b = NULL;
	STACK_OF(X509_CRL) *sk = NULL;
	X509_CRL *c;
	unsigned long e;
	int r;

	*out = NULL;
	if ((r = read_file(
		 path, "crl_file", VDI_ERR_CRL_LOAD, &b, err, errlen)) != 0)
		return r;
	if ((sk = sk_X509_CRL_new_null()) == NULL) {
		r = VDI_ERR_ALLOC;
		vdi_seterr(err, errlen, "out of memory");
		goto out;
	}
	ERR_clear_error();
	while (
	    (c = PEM_read_bio_X509_CRL(b, NULL, no_passphrase, NULL)) != NULL) {
		if (!sk_X509_CRL_push(sk, c)) {
			X509_CRL_free(c);
			r = VDI_ERR_ALLOC;
			vdi_seterr(err, errlen, "out of memory");
			goto out;
		}
	}
	e = ERR_peek_last_error();
	if (ERR_GET_LIB(e) == ERR_LIB_PEM &&
	    ERR_GET_REASON(e) == PEM_R_NO_START_LINE &&
	    sk_X509_CRL_num(sk) > 0) {
		ERR_clear_error();
	} else {
		r = VDI_ERR_CRL_LOAD;
		if (sk_X509_CRL_num(sk) == 0)
			vdi_seterr(err, errlen,
			    "no CRL in crl_file %s: %s (%s; expected "
			    "'-----BEGIN X509 CRL-----', convert DER with: "
			    "openssl crl -inform der -in CRL -out CRL.pem)",
			    path, vdi_ossl_reason(), pem_hint(b, "X509 CRL"));
		else
			vdi_seterr(err, errlen,
			    "bad CRL #%d in crl_file %s: %s",
			    sk_X509_CRL_num(sk) + 1, path, vdi_ossl_reason());
		goto out;
	}
	*out = sk;
	sk = NULL;
	r = 0;
out:
	sk_X509_CRL_pop_free(sk, X509_CRL_free);
	BIO_free(b);
	return r;
}

/* name in RFC 2253 form, UTF-8 unescaped, truncated to fit. Returns 0,
 * VDI_ERR_TOO_LARGE (truncated), VDI_ERR_ALLOC or VDI_ERR_TLS. */
static int
name_str(const X509_NAME *name, char *out, size_t outlen)
{
	BIO *b;
	char *data = NULL;
	long n;
	int r = 0;

	*out = '\0';
	if ((b = BIO_new(BIO_s_mem())) == NULL)
		return VDI_ERR_ALLOC;
	if (X509_NAME_print_ex(
		b, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) < 0) {
		BIO_free(b);
		ERR_clear_error();
		return VDI_ERR_TLS;
	}
	n = BIO_get_mem_data(b, &data);
	if (n < 0 || data == NULL)
		n = 0;
	if ((size_t)n >= outlen) {
		n = (long)outlen - 1;
		r = VDI_ERR_TOO_LARGE;
	}
	memcpy(out, data, (size_t)n);
	out[n] = '\0';
	BIO_free(b);
	return r;
}

static void
subject_of(const X509 *x, char *out, size_t outlen)
{
	if (name_str(X509_get_subject_name(x), out, outlen) == VDI_ERR_TLS ||
	    *out == '\0')
		snprintf(out, outlen, "(no subject)");
}

/* --- building a context --------------------------------------------- */

static int
set_profile(SSL_CTX *ctx, char *err, size_t errlen)
{
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
	    !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) ||
	    !SSL_CTX_set_cipher_list(ctx, TLS12_CIPHERS) ||
	    !SSL_CTX_set_ciphersuites(ctx, TLS13_SUITES) ||
	    !SSL_CTX_set1_groups_list(ctx, TLS_GROUPS) ||
	    !SSL_CTX_set_dh_auto(ctx, 1)) {
		vdi_seterr(err, errlen, "cannot set the TLS profile: %s",
		    vdi_ossl_reason());
		return VDI_ERR_TLS;
	}
	SSL_CTX_set_security_level(ctx, 2);
	SSL_CTX_set_options(
	    ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
	return 0;
}

/* Installs our certificate chain and key, checking they belong together. */
static int
set_identity(
    SSL_CTX *ctx, const struct vdi_tls_config *cfg, char *err, size_t errlen)
{
	STACK_OF(X509) *chain = NULL;
	EVP_PKEY *key = NULL;
	X509 *leaf = NULL;
	const char *keyfile =
	    cfg->key_file != NULL ? cfg->key_file : cfg->cert_file;
	char subj[256];
	int r;

	if ((r = load_certs(
		 cfg->cert_file, "cert_file", &chain, err, errlen)) != 0)
		return r;
	if ((r = load_key(keyfile, &key, err, errlen)) != 0)
		goto out;
	leaf = sk_X509_shift(chain);
	ERR_clear_error();
	if (X509_check_private_key(leaf, key) != 1) {
		subject_of(leaf, subj, sizeof(subj));
		ERR_clear_error();
		vdi_seterr(err, errlen,
		    "private key %s does not match certificate %s (%s): use "
		    "the key the certificate was issued for",
		    keyfile, cfg->cert_file, subj);
		r = VDI_ERR_CERT_LOAD;
		goto out;
	}
	if (SSL_CTX_use_cert_and_key(ctx, leaf, key, chain, 1) != 1) {
		subject_of(leaf, subj, sizeof(subj));
		vdi_seterr(err, errlen,
		    "cannot use certificate %s (%s) with key %s: %s (keys "
		    "need at least 2048-bit RSA or a 256-bit curve)",
		    cfg->cert_file, subj, keyfile, vdi_ossl_reason());
		r = VDI_ERR_CERT_LOAD;
		goto out;
	}
	r = 0;
out:
	X509_free(leaf);
	EVP_PKEY_free(key);
	sk_X509_pop_free(chain, X509_free);
	return r;
}

/* Checks each CRL is signed by a certificate of the paired CA file and,
 * when the whole chain is checked (all_cas), that every CA certificate of
 * the file has a CRL: OpenSSL would otherwise refuse every client with
 * "unable to get certificate CRL", long after the configuration loaded. */
static int
check_crls(const struct vdi_tls_ca *ca, STACK_OF(X509) *cas,
    STACK_OF(X509_CRL) *crls, int all_cas, char *err, size_t errlen)
{
	char name[256];
	int i, j, ok;

	for (i = 0; i < sk_X509_CRL_num(crls); i++) {
		X509_CRL *crl = sk_X509_CRL_value(crls, i);

		ok = 0;
		for (j = 0; j < sk_X509_num(cas) && !ok; j++) {
			X509 *x = sk_X509_value(cas, j);

			if (X509_NAME_cmp(X509_CRL_get_issuer(crl),
				X509_get_subject_name(x)) == 0 &&
			    X509_CRL_verify(crl, X509_get0_pubkey(x)) == 1)
				ok = 1;
		}
		ERR_clear_error();
		if (!ok) {
			name_str(X509_CRL_get_issuer(crl), name, sizeof(name));
			vdi_seterr(err, errlen,
			    "CRL #%d in crl_file %s (issuer %s) is not "
			    "signed by a CA in ca_file %s: pair each CA with "
			    "its own CRL",
			    i + 1, ca->crl_file, name, ca->ca_file);
			return VDI_ERR_CRL_LOAD;
		}
	}
	for (j = 0; all_cas && j < sk_X509_num(cas); j++) {
		X509 *x = sk_X509_value(cas, j);

		ok = 0;
		for (i = 0; i < sk_X509_CRL_num(crls) && !ok; i++)
			if (X509_NAME_cmp(
				X509_CRL_get_issuer(sk_X509_CRL_value(crls, i)),
				X509_get_subject_name(x)) == 0)
				ok = 1;
		if (!ok) {
			subject_of(x, name, sizeof(name));
			vdi_seterr(err, errlen,
			    "crl_file %s has no CRL from %s of ca_file %s: "
			    "every CA certificate of a chain is checked for "
			    "revocation, so append that CA's CRL to the file "
			    "(or check only devices with "
			    "VDI_TLS_CRL_LEAF_ONLY)",
			    ca->crl_file, name, ca->ca_file);
			return VDI_ERR_CRL_LOAD;
		}
	}
	return 0;
}

/* "CA city-a (ca_file /x/ca.pem)" or "ca_file /x/ca.pem" for messages. */
static const char *
ca_desc(const struct vdi_tls_ca *ca, char *out, size_t outlen)
{
	if (ca->name != NULL)
		snprintf(
		    out, outlen, "CA %s (ca_file %s)", ca->name, ca->ca_file);
	else
		snprintf(out, outlen, "ca_file %s", ca->ca_file);
	return out;
}

/* Adds the certificates of one CA file to the store (and their names to
 * names, when not NULL), refusing certificates that are not CAs. */
static int
add_ca_certs(X509_STORE *store, STACK_OF(X509_NAME) *names,
    const struct vdi_tls_ca *ca, STACK_OF(X509) *certs, char *err,
    size_t errlen)
{
	X509_NAME *nm;
	X509 *x;
	char subj[256];
	int j;

	for (j = 0; j < sk_X509_num(certs); j++) {
		x = sk_X509_value(certs, j);
		if (X509_check_ca(x) < 1) {
			subject_of(x, subj, sizeof(subj));
			vdi_seterr(err, errlen,
			    "ca_file %s holds %s, which is not a CA "
			    "certificate (no basicConstraints CA:TRUE): "
			    "give the issuing CA, not a device or server "
			    "certificate",
			    ca->ca_file, subj);
			return VDI_ERR_CERT_LOAD;
		}
		/* A CA listed twice is not an error (OpenSSL 3 says 1). */
		ERR_clear_error();
		if (X509_STORE_add_cert(store, x) != 1) {
			vdi_seterr(err, errlen, "cannot add ca_file %s: %s",
			    ca->ca_file, vdi_ossl_reason());
			return VDI_ERR_TLS;
		}
		if (names == NULL)
			continue;
		if ((nm = X509_NAME_dup(X509_get_subject_name(x))) == NULL ||
		    !sk_X509_NAME_push(names, nm)) {
			X509_NAME_free(nm);
			vdi_seterr(err, errlen, "out of memory");
			return VDI_ERR_ALLOC;
		}
	}
	return 0;
}

/* Loads, checks and adds the CRL file of one CA. */
static int
add_crls(X509_STORE *store, const struct vdi_tls_ca *ca, STACK_OF(X509) *certs,
    int all_cas, char *err, size_t errlen)
{
	STACK_OF(X509_CRL) *crls = NULL;
	int j, r;

	if ((r = load_crls(ca->crl_file, &crls, err, errlen)) != 0)
		return r;
	if ((r = check_crls(ca, certs, crls, all_cas, err, errlen)) != 0)
		goto out;
	for (j = 0; j < sk_X509_CRL_num(crls); j++) {
		ERR_clear_error();
		if (X509_STORE_add_crl(store, sk_X509_CRL_value(crls, j)) !=
		    1) {
			vdi_seterr(err, errlen, "cannot add crl_file %s: %s",
			    ca->crl_file, vdi_ossl_reason());
			r = VDI_ERR_TLS;
			goto out;
		}
	}
	r = 0;
out:
	sk_X509_CRL_pop_free(crls, X509_CRL_free);
	return r;
}

/* Checks that all CAs have a CRL or none has, and that a server without
 * CRLs says so on purpose. */
static int
check_crl_presence(const struct vdi_tls_config *cfg, size_t *with_crl,
    char *err, size_t errlen)
{
	char desc[512];
	size_t i, n = 0;

	for (i = 0; i < cfg->ncas; i++)
		if (cfg->cas[i].crl_file != NULL)
			n++;
	*with_crl = n;
	if (n != 0 && n != cfg->ncas) {
		for (i = 0; cfg->cas[i].crl_file != NULL; i++)
			;
		vdi_seterr(err, errlen,
		    "%s has no crl_file while other CAs have one: "
		    "revocation is checked for all CAs or for none, so "
		    "give every CA its CRL",
		    ca_desc(&cfg->cas[i], desc, sizeof(desc)));
		return VDI_ERR_CONFIG;
	}
	if (cfg->role == VDI_TLS_SERVER && n == 0 &&
	    !(cfg->flags & VDI_TLS_NO_CRL)) {
		vdi_seterr(err, errlen,
		    "%s has no crl_file: a server checks every client "
		    "certificate against its CA's CRL, so set crl_file "
		    "(openssl ca -gencrl makes one), or use VDI_TLS_NO_CRL "
		    "for an endpoint without revocation",
		    ca_desc(&cfg->cas[0], desc, sizeof(desc)));
		return VDI_ERR_CONFIG;
	}
	return 0;
}

/* Loads every CA and CRL into a new store for ctx; records the CAs in ci
 * (for vdi_tls_peer_ca) and, on servers, sends their names to clients. */
static int
build_store(SSL_CTX *ctx, const struct vdi_tls_config *cfg, struct ca_info *ci,
    char *err, size_t errlen)
{
	X509_STORE *store = NULL;
	STACK_OF(X509_NAME) *names = NULL;
	int all_cas = !(cfg->flags & VDI_TLS_CRL_LEAF_ONLY);
	size_t i, with_crl;
	int r;

	if ((r = check_crl_presence(cfg, &with_crl, err, errlen)) != 0)
		return r;
	if ((store = X509_STORE_new()) == NULL ||
	    (names = sk_X509_NAME_new_null()) == NULL) {
		r = VDI_ERR_ALLOC;
		vdi_seterr(err, errlen, "out of memory");
		goto out;
	}
	for (i = 0; i < cfg->ncas; i++) {
		const struct vdi_tls_ca *ca = &cfg->cas[i];

		if ((r = load_certs(ca->ca_file, "ca_file", &ci->certs[i], err,
			 errlen)) != 0 ||
		    (r = add_ca_certs(store,
			 cfg->role == VDI_TLS_SERVER ? names : NULL, ca,
			 ci->certs[i], err, errlen)) != 0)
			goto out;
		if (ca->crl_file != NULL &&
		    (r = add_crls(
			 store, ca, ci->certs[i], all_cas, err, errlen)) != 0)
			goto out;
	}
	if (with_crl != 0)
		X509_STORE_set_flags(store,
		    X509_V_FLAG_CRL_CHECK |
			(all_cas ? X509_V_FLAG_CRL_CHECK_ALL : 0));
	SSL_CTX_set_cert_store(ctx, store); /* ctx owns it now */
	store = NULL;
	if (cfg->role == VDI_TLS_SERVER) {
		/* Tells clients which CAs we accept, so they pick a cert. */
		SSL_CTX_set_client_CA_list(ctx, names);
		names = NULL;
	}
	r = 0;
out:
	sk_X509_NAME_pop_free(names, X509_NAME_free);
	X509_STORE_free(store);
	return r;
}

/* Remembers the peer certificate that failed verification, for logs. */
static int
verify_cb(int ok, X509_STORE_CTX *sctx)
{
	SSL *ssl;
	X509 *leaf;

	if (ok)
		return ok;
	ssl = X509_STORE_CTX_get_ex_data(
	    sctx, SSL_get_ex_data_X509_STORE_CTX_idx());
	leaf = X509_STORE_CTX_get0_cert(sctx);
	if (ssl != NULL && leaf != NULL &&
	    SSL_get_ex_data(ssl, ssl_ex_idx) == NULL && X509_up_ref(leaf)) {
		if (!SSL_set_ex_data(ssl, ssl_ex_idx, leaf))
			X509_free(leaf);
	}
	return ok;
}

static int
check_config(const struct vdi_tls_config *cfg, char *err, size_t errlen)
{
	size_t i;

	if (cfg == NULL) {
		vdi_seterr(err, errlen, "no TLS configuration");
		return VDI_ERR_INVALID_ARG;
	}
	if (cfg->role != VDI_TLS_SERVER && cfg->role != VDI_TLS_CLIENT) {
		vdi_seterr(err, errlen, "bad TLS role %d", (int)cfg->role);
		return VDI_ERR_INVALID_ARG;
	}
	if (cfg->role == VDI_TLS_SERVER && cfg->cert_file == NULL) {
		vdi_seterr(
		    err, errlen, "a TLS server needs cert_file and key_file");
		return VDI_ERR_CONFIG;
	}
	if (cfg->cert_file == NULL && cfg->key_file != NULL) {
		vdi_seterr(err, errlen, "key_file %s is set without cert_file",
		    cfg->key_file);
		return VDI_ERR_CONFIG;
	}
	if (cfg->ncas > 0 && cfg->cas == NULL) {
		vdi_seterr(
		    err, errlen, "ncas is %zu but cas is NULL", cfg->ncas);
		return VDI_ERR_INVALID_ARG;
	}
	if (cfg->role == VDI_TLS_SERVER && (cfg->flags & VDI_TLS_VERIFY_NONE)) {
		vdi_seterr(err, errlen,
		    "a TLS server always verifies client certificates");
		return VDI_ERR_CONFIG;
	}
	if (cfg->ncas == 0 && !(cfg->flags & VDI_TLS_VERIFY_NONE)) {
		vdi_seterr(err, errlen,
		    "no CA configured to verify the peer: set ca_file%s",
		    cfg->role == VDI_TLS_CLIENT
			? " (or pin the server and use VDI_TLS_VERIFY_NONE)"
			: "");
		return VDI_ERR_CONFIG;
	}
	for (i = 0; i < cfg->ncas; i++) {
		if (cfg->cas[i].ca_file == NULL ||
		    *cfg->cas[i].ca_file == '\0') {
			vdi_seterr(err, errlen, "CA #%zu (%s) has no ca_file",
			    i + 1,
			    cfg->cas[i].name != NULL ? cfg->cas[i].name
						     : "unnamed");
			return VDI_ERR_CONFIG;
		}
	}
	return 0;
}

static struct ca_info *
ca_info_new(const struct vdi_tls_config *cfg)
{
	struct ca_info *ci;
	size_t i;

	if ((ci = calloc(1, sizeof(*ci))) == NULL)
		return NULL;
	ci->n = cfg->ncas;
	if (ci->n == 0)
		return ci;
	if ((ci->names = calloc(ci->n, sizeof(*ci->names))) == NULL ||
	    (ci->certs = calloc(ci->n, sizeof(*ci->certs))) == NULL)
		goto fail;
	for (i = 0; i < ci->n; i++) {
		const char *nm = cfg->cas[i].name != NULL ? cfg->cas[i].name
							  : cfg->cas[i].ca_file;

		if ((ci->names[i] = strdup(nm)) == NULL)
			goto fail;
	}
	return ci;
fail:
	ca_info_free(ci);
	return NULL;
}

int
vdi_tls_ctx_new(
    const struct vdi_tls_config *cfg, SSL_CTX **out, char *err, size_t errlen)
{
	SSL_CTX *ctx = NULL;
	struct ca_info *ci = NULL;
	int r;
	static const unsigned char sid_ctx[] = "vdi";

	if (err != NULL && errlen > 0)
		*err = '\0';
	if (out == NULL) {
		vdi_seterr(err, errlen, "no output context pointer");
		return VDI_ERR_INVALID_ARG;
	}
	*out = NULL;
	if ((r = check_config(cfg, err, errlen)) != 0)
		return r;
	if (!ex_ready()) {
		vdi_seterr(
		    err, errlen, "cannot allocate OpenSSL ex_data indexes");
		return VDI_ERR_TLS;
	}
	ERR_clear_error();
	ctx = SSL_CTX_new(cfg->role == VDI_TLS_SERVER ? TLS_server_method()
						      : TLS_client_method());
	if (ctx == NULL) {
		vdi_seterr(err, errlen, "cannot create a TLS context: %s",
		    vdi_ossl_reason());
		return VDI_ERR_TLS;
	}
	if ((ci = ca_info_new(cfg)) == NULL) {
		r = VDI_ERR_ALLOC;
		vdi_seterr(err, errlen, "out of memory");
		goto out;
	}
	if ((r = set_profile(ctx, err, errlen)) != 0)
		goto out;
	if (cfg->cert_file != NULL &&
	    (r = set_identity(ctx, cfg, err, errlen)) != 0)
		goto out;
	if (cfg->ncas > 0 && (r = build_store(ctx, cfg, ci, err, errlen)) != 0)
		goto out;
	SSL_CTX_set_verify_depth(ctx, VDI_TLS_VERIFY_DEPTH);
	if (cfg->role == VDI_TLS_SERVER) {
		SSL_CTX_set_verify(ctx,
		    SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
		    verify_cb);
		/* No resumption: every connection is verified in full. */
		SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
		SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
		if (!SSL_CTX_set_num_tickets(ctx, 0) ||
		    !SSL_CTX_set_session_id_context(
			ctx, sid_ctx, sizeof(sid_ctx) - 1)) {
			r = VDI_ERR_TLS;
			vdi_seterr(err, errlen, "cannot disable resumption: %s",
			    vdi_ossl_reason());
			goto out;
		}
	} else if (cfg->flags & VDI_TLS_VERIFY_NONE) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	} else {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, verify_cb);
	}
	if (!SSL_CTX_set_ex_data(ctx, ctx_ex_idx, ci)) {
		r = VDI_ERR_ALLOC;
		vdi_seterr(err, errlen, "out of memory");
		goto out;
	}
	ci = NULL; /* freed with ctx */
	*out = ctx;
	ctx = NULL;
	r = 0;
out:
	ca_info_free(ci);
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return r;
}

/* --- reloadable holder ---------------------------------------------- */

struct vdi_tls {
	pthread_mutex_t lock;        /* guards ctx and generation */
	pthread_mutex_t reload_lock; /* serialises reloads, guards cfg */
	SSL_CTX *ctx;
	unsigned long generation;
	struct vdi_tls_config cfg; /* deep copy */
};

static void
config_free(struct vdi_tls_config *c)
{
	size_t i;

	if (c == NULL)
		return;
	free((char *)c->cert_file);
	free((char *)c->key_file);
	if (c->cas != NULL) {
		for (i = 0; i < c->ncas; i++) {
			free((char *)c->cas[i].name);
			free((char *)c->cas[i].ca_file);
			free((char *)c->cas[i].crl_file);
		}
	}
	free((struct vdi_tls_ca *)c->cas);
	memset(c, 0, sizeof(*c));
}

static int
dup_str(const char *s, const char **out)
{
	*out = NULL;
	if (s == NULL)
		return 1;
	return (*out = strdup(s)) != NULL;
}

static int
config_copy(const struct vdi_tls_config *src, struct vdi_tls_config *dst)
{
	struct vdi_tls_ca *cas = NULL;
	size_t i;

	memset(dst, 0, sizeof(*dst));
	dst->role = src->role;
	dst->flags = src->flags;
	if (!dup_str(src->cert_file, &dst->cert_file) ||
	    !dup_str(src->key_file, &dst->key_file))
		goto fail;
	if (src->ncas > 0) {
		if ((cas = calloc(src->ncas, sizeof(*cas))) == NULL)
			goto fail;
		dst->cas = cas;
		dst->ncas = src->ncas;
		for (i = 0; i < src->ncas; i++) {
			if (!dup_str(src->cas[i].name, &cas[i].name) ||
			    !dup_str(src->cas[i].ca_file, &cas[i].ca_file) ||
			    !dup_str(src->cas[i].crl_file, &cas[i].crl_file))
				goto fail;
		}
	}
	return 0;
fail:
	config_free(dst);
	return VDI_ERR_ALLOC;
}

int
vdi_tls_new(const struct vdi_tls_config *cfg, struct vdi_tls **out, char *err,
    size_t errlen)
{
	struct vdi_tls *t;
	int r;

	if (out == NULL) {
		vdi_seterr(err, errlen, "no output pointer");
		return VDI_ERR_INVALID_ARG;
	}
	*out = NULL;
	if ((r = check_config(cfg, err, errlen)) != 0)
		return r;
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		vdi_seterr(err, errlen, "out of memory");
		return VDI_ERR_ALLOC;
	}
	if (pthread_mutex_init(&t->lock, NULL) != 0) {
		free(t);
		vdi_seterr(err, errlen, "cannot create a mutex");
		return VDI_ERR_SYSTEM;
	}
	if (pthread_mutex_init(&t->reload_lock, NULL) != 0) {
		pthread_mutex_destroy(&t->lock);
		free(t);
		vdi_seterr(err, errlen, "cannot create a mutex");
		return VDI_ERR_SYSTEM;
	}
	if (config_copy(cfg, &t->cfg) != 0) {
		vdi_seterr(err, errlen, "out of memory");
		vdi_tls_free(t);
		return VDI_ERR_ALLOC;
	}
	if ((r = vdi_tls_ctx_new(&t->cfg, &t->ctx, err, errlen)) != 0) {
		vdi_tls_free(t);
		return r;
	}
	t->generation = 1;
	*out = t;
	return 0;
}

void
vdi_tls_free(struct vdi_tls *t)
{
	if (t == NULL)
		return;
	SSL_CTX_free(t->ctx);
	config_free(&t->cfg);
	pthread_mutex_destroy(&t->reload_lock);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

/* Builds from cfg and swaps the new context in. Caller holds reload_lock. */
static int
rebuild(struct vdi_tls *t, const struct vdi_tls_config *cfg, char *err,
    size_t errlen)
{
	SSL_CTX *fresh = NULL, *old;
	int r;

	if ((r = vdi_tls_ctx_new(cfg, &fresh, err, errlen)) != 0)
		return r;
	pthread_mutex_lock(&t->lock);
	old = t->ctx;
	t->ctx = fresh;
	t->generation++;
	pthread_mutex_unlock(&t->lock);
	SSL_CTX_free(old); /* SSLs made from it keep their own reference */
	return 0;
}

int
vdi_tls_reload(struct vdi_tls *t, char *err, size_t errlen)
{
	int r;

	if (t == NULL) {
		vdi_seterr(err, errlen, "no TLS holder");
		return VDI_ERR_INVALID_ARG;
	}
	pthread_mutex_lock(&t->reload_lock);
	r = rebuild(t, &t->cfg, err, errlen);
	pthread_mutex_unlock(&t->reload_lock);
	return r;
}

int
vdi_tls_reconfigure(struct vdi_tls *t, const struct vdi_tls_config *cfg,
    char *err, size_t errlen)
{
	struct vdi_tls_config copy;
	int r;

	if (t == NULL) {
		vdi_seterr(err, errlen, "no TLS holder");
		return VDI_ERR_INVALID_ARG;
	}
	if ((r = check_config(cfg, err, errlen)) != 0)
		return r;
	if (config_copy(cfg, &copy) != 0) {
		vdi_seterr(err, errlen, "out of memory");
		return VDI_ERR_ALLOC;
	}
	pthread_mutex_lock(&t->reload_lock);
	if ((r = rebuild(t, &copy, err, errlen)) == 0) {
		config_free(&t->cfg);
		t->cfg = copy;
	} else {
		config_free(&copy);
	}
	pthread_mutex_unlock(&t->reload_lock);
	return r;
}

SSL_CTX *
vdi_tls_get_ctx(struct vdi_tls *t)
{
	SSL_CTX *ctx;

	if (t == NULL)
		return NULL;
	pthread_mutex_lock(&t->lock);
	ctx = t->ctx;
	if (!SSL_CTX_up_ref(ctx))
		ctx = NULL;
	pthread_mutex_unlock(&t->lock);
	return ctx;
}

SSL *
vdi_tls_ssl_new(struct vdi_tls *t)
{
	SSL *ssl;

	if (t == NULL)
		return NULL;
	pthread_mutex_lock(&t->lock);
	ssl = SSL_new(t->ctx); /* takes its own reference to ctx */
	pthread_mutex_unlock(&t->lock);
	return ssl;
}

unsigned long
vdi_tls_generation(struct vdi_tls *t)
{
	unsigned long g;

	if (t == NULL)
		return 0;
	pthread_mutex_lock(&t->lock);
	g = t->generation;
	pthread_mutex_unlock(&t->lock);
	return g;
}

/* --- per connection --------------------------------------------------- */

int
vdi_tls_set_peer_host(SSL *ssl, const char *host)
{
	ASN1_OCTET_STRING *a;

	if (ssl == NULL || host == NULL || *host == '\0')
		return VDI_ERR_INVALID_ARG;
	ERR_clear_error();
	if ((a = a2i_IPADDRESS(host)) != NULL) {
		ASN1_OCTET_STRING_free(a);
		if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host) !=
		    1)
			goto fail;
		return 0;
	}
	ERR_clear_error();
	if (SSL_set_tlsext_host_name(ssl, host) != 1 ||
	    SSL_set1_host(ssl, host) != 1)
		goto fail;
	return 0;
fail:
	ERR_clear_error();
	return VDI_ERR_TLS;
}

int
vdi_tls_peer_ca(const SSL *ssl, size_t *index, const char **name)
{
	STACK_OF(X509) *chain;
	const struct ca_info *ci;
	size_t i;
	int d, j;

	if (index != NULL)
		*index = 0;
	if (name != NULL)
		*name = NULL;
	if (ssl == NULL || !ex_ready())
		return VDI_ERR_INVALID_ARG;
	if (SSL_get_verify_result(ssl) != X509_V_OK ||
	    SSL_get0_peer_certificate(ssl) == NULL ||
	    (chain = SSL_get0_verified_chain(ssl)) == NULL)
		return VDI_ERR_CERT_VERIFY;
	ci = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ctx_ex_idx);
	if (ci == NULL)
		return VDI_ERR_NOT_FOUND;
	/* Depth 0 is the peer; a CA listed as a peer cert would be odd. */
	for (d = 1; d < sk_X509_num(chain); d++) {
		X509 *x = sk_X509_value(chain, d);

		for (i = 0; i < ci->n; i++) {
			for (j = 0; j < sk_X509_num(ci->certs[i]); j++) {
				if (X509_cmp(x,
					sk_X509_value(ci->certs[i], j)) == 0) {
					if (index != NULL)
						*index = i;
					if (name != NULL)
						*name = ci->names[i];
					return 0;
				}
			}
		}
	}
	return VDI_ERR_NOT_FOUND;
}

X509 *
vdi_tls_peer_cert(const SSL *ssl)
{
	if (ssl == NULL)
		return NULL;
	return SSL_get0_peer_certificate(ssl);
}

X509 *
vdi_tls_refused_cert(const SSL *ssl)
{
	if (ssl == NULL || !ex_ready())
		return NULL;
	return SSL_get_ex_data(ssl, ssl_ex_idx);
}

const char *
vdi_tls_verify_error(const SSL *ssl)
{
	long v;

	if (ssl == NULL)
		return "no connection";
	v = SSL_get_verify_result(ssl);
	if (v == X509_V_OK)
		return "ok";
	return X509_verify_cert_error_string(v);
}

char *
vdi_tls_handshake_error(const SSL *ssl, char *buf, size_t buflen)
{
	unsigned long e, last = 0;
	const char *r = NULL;

	while ((e = ERR_get_error()) != 0)
		last = e;
	if (buf == NULL || buflen == 0)
		return buf;
	if (ssl != NULL && SSL_get_verify_result(ssl) != X509_V_OK) {
		r = vdi_tls_verify_error(ssl);
	} else if (ssl != NULL && SSL_is_server(ssl) &&
	    SSL_get0_peer_certificate(ssl) == NULL && last != 0 &&
	    ERR_GET_REASON(last) == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE) {
		r = "no peer certificate";
	} else if (last != 0) {
		r = ERR_reason_error_string(last);
	}
	snprintf(buf, buflen, "%s", r != NULL ? r : "connection closed");
	return buf;
}

/* --- thumbprints and names -------------------------------------------- */

int
vdi_tls_thumbprint(const X509 *cert, unsigned char out[VDI_TLS_THUMBPRINT_LEN])
{
	unsigned int n = 0;

	if (out == NULL)
		return VDI_ERR_INVALID_ARG;
	memset(out, 0, VDI_TLS_THUMBPRINT_LEN);
	if (cert == NULL)
		return VDI_ERR_INVALID_ARG;
	if (X509_digest(cert, EVP_sha256(), out, &n) != 1 ||
	    n != VDI_TLS_THUMBPRINT_LEN) {
		memset(out, 0, VDI_TLS_THUMBPRINT_LEN);
		ERR_clear_error();
		return VDI_ERR_TLS;
	}
	return 0;
}

int
vdi_tls_thumbprint_hex(const X509 *cert, char *out, size_t outlen)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[VDI_TLS_THUMBPRINT_LEN];
	size_t i;
	int r;

	if (out == NULL || outlen == 0)
		return VDI_ERR_INVALID_ARG;
	*out = '\0';
	if (outlen < VDI_TLS_THUMBPRINT_HEX_SIZE)
		return VDI_ERR_TOO_LARGE;
	if ((r = vdi_tls_thumbprint(cert, raw)) != 0)
		return r;
	for (i = 0; i < sizeof(raw); i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 0x0f];
	}
	out[2 * sizeof(raw)] = '\0';
	return 0;
}

int
vdi_tls_thumbprint_b64url(const X509 *cert, char *out, size_t outlen)
{
	unsigned char raw[VDI_TLS_THUMBPRINT_LEN];
	int r;

	if (out == NULL || outlen == 0)
		return VDI_ERR_INVALID_ARG;
	*out = '\0';
	if (outlen < VDI_TLS_THUMBPRINT_B64_SIZE)
		return VDI_ERR_TOO_LARGE;
	if ((r = vdi_tls_thumbprint(cert, raw)) != 0)
		return r;
	if ((r = b64url_encode(raw, sizeof(raw), out, outlen)) != 0) {
		*out = '\0';
		return r;
	}
	return 0;
}

int
vdi_tls_peer_thumbprint(
    const SSL *ssl, unsigned char out[VDI_TLS_THUMBPRINT_LEN])
{
	X509 *x;

	if (out == NULL)
		return VDI_ERR_INVALID_ARG;
	memset(out, 0, VDI_TLS_THUMBPRINT_LEN);
	if (ssl == NULL)
		return VDI_ERR_INVALID_ARG;
	if ((x = SSL_get0_peer_certificate(ssl)) == NULL)
		return VDI_ERR_NOT_FOUND;
	return vdi_tls_thumbprint(x, out);
}

int
vdi_tls_cert_subject(const X509 *cert, char *out, size_t outlen)
{
	if (out == NULL || outlen == 0)
		return VDI_ERR_INVALID_ARG;
	*out = '\0';
	if (cert == NULL)
		return VDI_ERR_INVALID_ARG;
	return name_str(X509_get_subject_name(cert), out, outlen);
}
