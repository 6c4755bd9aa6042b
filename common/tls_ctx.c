/* tls_ctx.c: building an SSL_CTX: the TLS profile, the identity, the
 * per-tenant CA store with its CRLs, peer verification (see tls.h). */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "tls.h"
#include "tls_int.h"
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

static pthread_once_t ex_once = PTHREAD_ONCE_INIT;
int vtls_ctx_ex_idx = -1; /* SSL_CTX -> struct ca_info */
int vtls_ssl_ex_idx = -1; /* SSL -> X509 refused by verification */

void
vtls_ca_info_free(struct ca_info *ci)
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
	vtls_ca_info_free(ptr);
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
	vtls_ctx_ex_idx =
	    SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, ctx_ex_free);
	vtls_ssl_ex_idx =
	    SSL_get_ex_new_index(0, NULL, NULL, NULL, ssl_ex_free);
}

int
vtls_ex_ready(void)
{
	if (pthread_once(&ex_once, ex_init) != 0)
		return 0;
	return vtls_ctx_ex_idx >= 0 && vtls_ssl_ex_idx >= 0;
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

	if ((r = vtls_load_certs(
		 cfg->cert_file, "cert_file", &chain, err, errlen)) != 0)
		return r;
	if ((r = vtls_load_key(keyfile, &key, err, errlen)) != 0)
		goto out;
	leaf = sk_X509_shift(chain);
	ERR_clear_error();
	if (X509_check_private_key(leaf, key) != 1) {
		vtls_subject_of(leaf, subj, sizeof(subj));
		ERR_clear_error();
		vdi_seterr(err, errlen,
		    "private key %s does not match certificate %s (%s): use "
		    "the key the certificate was issued for",
		    keyfile, cfg->cert_file, subj);
		r = VDI_ERR_CERT_LOAD;
		goto out;
	}
	if (SSL_CTX_use_cert_and_key(ctx, leaf, key, chain, 1) != 1) {
		vtls_subject_of(leaf, subj, sizeof(subj));
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
			vtls_name_str(
			    X509_CRL_get_issuer(crl), name, sizeof(name));
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
			vtls_subject_of(x, name, sizeof(name));
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
			vtls_subject_of(x, subj, sizeof(subj));
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

	if ((r = vtls_load_crls(ca->crl_file, &crls, err, errlen)) != 0)
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

		if ((r = vtls_load_certs(ca->ca_file, "ca_file", &ci->certs[i],
			 err, errlen)) != 0 ||
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
	    SSL_get_ex_data(ssl, vtls_ssl_ex_idx) == NULL &&
	    X509_up_ref(leaf)) {
		if (!SSL_set_ex_data(ssl, vtls_ssl_ex_idx, leaf))
			X509_free(leaf);
	}
	return ok;
}

int
vtls_check_config(const struct vdi_tls_config *cfg, char *err, size_t errlen)
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
	vtls_ca_info_free(ci);
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
	if ((r = vtls_check_config(cfg, err, errlen)) != 0)
		return r;
	if (!vtls_ex_ready()) {
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
	if (!SSL_CTX_set_ex_data(ctx, vtls_ctx_ex_idx, ci)) {
		r = VDI_ERR_ALLOC;
		vdi_seterr(err, errlen, "out of memory");
		goto out;
	}
	ci = NULL; /* freed with ctx */
	*out = ctx;
	ctx = NULL;
	r = 0;
out:
	vtls_ca_info_free(ci);
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return r;
}
