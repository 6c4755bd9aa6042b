/*
 * tls_int.h: what the parts of common/tls (see tls.h) share and nobody
 * else uses. tls_load.c reads certificates, keys and CRLs from files;
 * tls_ctx.c builds an SSL_CTX (profile, identity, CA store, CRLs); tls.c
 * is the reloadable holder; tls_peer.c answers questions about one
 * connection and computes thumbprints. Internal names start with vtls_.
 */
#ifndef VDI_TLS_INT_H
#define VDI_TLS_INT_H

#include <stddef.h>

#include <openssl/bio.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "tls.h"

/* Stays with every SSL_CTX we build (ex_data): which CA is which. */
struct ca_info {
	size_t n;
	char **names;
	STACK_OF(X509) **certs;
};

/* ex_data indexes, valid once vtls_ex_ready() returned 1. */
extern int vtls_ctx_ex_idx; /* SSL_CTX -> struct ca_info */
extern int vtls_ssl_ex_idx; /* SSL -> X509 refused by verification */

/* Allocates the ex_data indexes once. Returns 1 when they are usable. */
int vtls_ex_ready(void);

/* Frees a ca_info; accepts NULL. */
void vtls_ca_info_free(struct ca_info *ci);

/* Reads a whole regular file of at most VDI_TLS_FILE_MAX bytes into a
 * memory BIO. what names the configuration key in messages, code is the
 * error returned when it cannot be read. Returns 0 and *out, or VDI_ERR_*
 * with err filled. */
int vtls_read_file(const char *path, const char *what, int code, BIO **out,
    char *err, size_t errlen);

/* Loads the PEM certificates of path (at least one). Returns 0 and *out
 * (caller frees with sk_X509_pop_free), or VDI_ERR_CERT_LOAD with err
 * filled. */
int vtls_load_certs(const char *path, const char *what, STACK_OF(X509) **out,
    char *err, size_t errlen);

/* Loads an unencrypted PEM private key. Returns 0 and *out (caller frees),
 * or VDI_ERR_KEY_LOAD with err filled. */
int vtls_load_key(const char *path, EVP_PKEY **out, char *err, size_t errlen);

/* Loads the PEM CRLs of path (at least one). Returns 0 and *out (caller
 * frees with sk_X509_CRL_pop_free), or VDI_ERR_* with err filled. */
int vtls_load_crls(
    const char *path, STACK_OF(X509_CRL) **out, char *err, size_t errlen);

/* name in RFC 2253 form, UTF-8 unescaped, truncated to fit. Returns 0,
 * VDI_ERR_TOO_LARGE (truncated), VDI_ERR_ALLOC or VDI_ERR_TLS. */
int vtls_name_str(const X509_NAME *name, char *out, size_t outlen);

/* Checks a configuration before anything is loaded (files named, CA
 * names unique, ...). Returns 0 or VDI_ERR_* with err filled. */
int vtls_check_config(
    const struct vdi_tls_config *cfg, char *err, size_t errlen);

/* x's subject for a message, "(no subject)" when it has none. */
void vtls_subject_of(const X509 *x, char *out, size_t outlen);

#endif
