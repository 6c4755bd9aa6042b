/*
 * tls.h: TLS contexts (Mozilla "intermediate" profile), mutual TLS with
 * per-tenant CAs and CRLs, live reload, certificate thumbprints.
 *
 * Profile, for servers and clients alike: TLS 1.2 and 1.3 only; TLS 1.2
 * ciphers ECDHE-{ECDSA,RSA}-AES{128,256}-GCM, ECDHE-{ECDSA,RSA}-CHACHA20-
 * POLY1305 and DHE-RSA-{AES128-GCM,AES256-GCM,CHACHA20-POLY1305}; TLS 1.3
 * default suites; groups X25519:prime256v1:secp384r1; security level 2;
 * no compression, no renegotiation.
 *
 * Servers always demand a client certificate (SSL_VERIFY_PEER |
 * SSL_VERIFY_FAIL_IF_NO_PEER_CERT) that chains to one of the configured CAs
 * (struct vdi_tls_ca: one per tenant). Revocation: when CRLs are configured
 * every certificate of the chain is checked (X509_V_FLAG_CRL_CHECK |
 * X509_V_FLAG_CRL_CHECK_ALL), so a revoked intermediate CA is refused too;
 * each crl_file must then hold one CRL from every CA certificate in its
 * ca_file (for the usual root-issues-devices tenant CA that is the one CRL
 * the CA publishes). VDI_TLS_CRL_LEAF_ONLY checks only the peer's own
 * certificate. Either all CAs of a context have a CRL or none has (OpenSSL
 * applies the CRL flags to the whole store); a server without any CRL is
 * refused unless VDI_TLS_NO_CRL says so on purpose (internal endpoints).
 * A CRL past its nextUpdate makes OpenSSL refuse every client of that CA
 * ("CRL has expired"): publish CRLs before they run out.
 *
 * Servers disable session resumption (no tickets, no cache): every
 * connection runs the full verification against the CRLs in force, and the
 * verified chain (hence vdi_tls_peer_ca()) is always available.
 *
 * Reload: struct vdi_tls owns the current SSL_CTX and swaps in a freshly
 * built one; SSL objects made earlier keep the context (and CAs, CRLs)
 * they were made with, so live connections are never dropped. A reload that
 * fails keeps the old context.
 *
 * Errors are codes from vdierr.h; functions that read files also fill a
 * caller-provided message buffer naming the file, the reason and, where
 * possible, the fix (VDI_TLS_ERR_SIZE bytes hold every message with paths of
 * ordinary length; longer ones are truncated). Nothing here exits or logs.
 * This module needs OpenSSL only (no libevent); the SSL_CTX / SSL it hands
 * out are plain OpenSSL objects (bufferevent_openssl takes them as is).
 * Every function is safe to call from several threads (the holder below
 * says what it locks).
 *
 * Thumbprints are SHA-256 over the certificate's DER: raw, lower-case hex,
 * or base64url without padding (the x5t#S256 value of RFC 8705, encoded by
 * common/b64url.c).
 */
#ifndef VDI_TLS_H
#define VDI_TLS_H

#include <stddef.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "vdierr.h"

/* Sizes: raw SHA-256; 64 hex digits + NUL; 43 base64url characters + NUL;
 * an error message buffer that fits every message; the largest file read;
 * the longest peer chain accepted. */
#define VDI_TLS_THUMBPRINT_LEN      32
#define VDI_TLS_THUMBPRINT_HEX_SIZE 65
#define VDI_TLS_THUMBPRINT_B64_SIZE 44
#define VDI_TLS_ERR_SIZE            512
#define VDI_TLS_FILE_MAX            (32u * 1024u * 1024u)
#define VDI_TLS_VERIFY_DEPTH        5

enum vdi_tls_role {
	VDI_TLS_SERVER = 0,
	VDI_TLS_CLIENT,
};

/* Flags (struct vdi_tls_config.flags):
 *   VDI_TLS_NO_CRL         server: no CRLs on purpose, hence no revocation
 *                          check (internal endpoints on the infra CA)
 *   VDI_TLS_CRL_LEAF_ONLY  check only the peer's own certificate on CRLs
 *   VDI_TLS_VERIFY_NONE    client: do not verify the server; the caller
 *                          pins its thumbprint instead */
#define VDI_TLS_NO_CRL        0x01
#define VDI_TLS_CRL_LEAF_ONLY 0x02
#define VDI_TLS_VERIFY_NONE   0x04

/* One trusted CA, typically one tenant's device CA. */
struct vdi_tls_ca {
	const char *name;     /* label reported by vdi_tls_peer_ca() (tenant);
			       * NULL: the ca_file path */
	const char *ca_file;  /* PEM, one or more CA certificates up to a
			       * self-signed root */
	const char *crl_file; /* PEM, CRL(s) issued by those CAs; NULL: none */
};

struct vdi_tls_config {
	enum vdi_tls_role role;
	const char *cert_file; /* PEM: our certificate, then intermediates.
				* Required for servers; NULL: a client
				* without certificate */
	const char *key_file;  /* PEM private key, unencrypted; NULL: read it
				* from cert_file */
	const struct vdi_tls_ca *cas; /* peers must chain to one of these */
	size_t ncas;                  /* >= 1, except for VDI_TLS_VERIFY_NONE */
	unsigned int flags;           /* VDI_TLS_* above */
};

/*
 * Builds an SSL_CTX for cfg: profile, certificate chain and key (checked to
 * match), CA store with CRLs, verification mode. Returns 0 and sets *out (a
 * new reference: free with SSL_CTX_free), or VDI_ERR_CERT_LOAD (certificate,
 * key or CA file), VDI_ERR_CRL_LOAD, VDI_ERR_CONFIG (inconsistent cfg),
 * VDI_ERR_INVALID_ARG, VDI_ERR_ALLOC or VDI_ERR_TLS, with *out NULL and a
 * message in err (errlen bytes, may be 0). cfg is not kept.
 */
int vdi_tls_ctx_new(const struct vdi_tls_config *cfg, SSL_CTX **out, char *err,
    size_t errlen) VDI_WUR;

/* A reloadable context holder. Thread-safe: every function below may be
 * called from any thread at any time, except vdi_tls_free(). A mutex guards
 * the current context (held only to swap it or take a reference); a second
 * one serialises reloads, which read files without blocking the first. */
struct vdi_tls;

/* Copies cfg (strings included) and builds the first context. Returns 0 and
 * sets *out (free with vdi_tls_free), or an error of vdi_tls_ctx_new(). */
int vdi_tls_new(const struct vdi_tls_config *cfg, struct vdi_tls **out,
    char *err, size_t errlen) VDI_WUR;

/* Releases the holder's reference to its context; SSL objects made from it
 * stay valid. NULL is accepted. No other thread may use t meanwhile. */
void vdi_tls_free(struct vdi_tls *t);

/* Re-reads every file of the current configuration (certificate, key, CAs,
 * CRLs) into a new context and makes it current. Returns 0, or an error of
 * vdi_tls_ctx_new() and then the old context stays current. */
int vdi_tls_reload(struct vdi_tls *t, char *err, size_t errlen) VDI_WUR;

/* Like vdi_tls_reload() with a new configuration (e.g. a tenant added);
 * on success cfg is copied and replaces the old one, on failure both the
 * old configuration and context stay. */
int vdi_tls_reconfigure(struct vdi_tls *t, const struct vdi_tls_config *cfg,
    char *err, size_t errlen) VDI_WUR;

/* Returns a new reference to the current context (free with SSL_CTX_free),
 * or NULL if t is NULL. */
SSL_CTX *vdi_tls_get_ctx(struct vdi_tls *t);

/* Returns a new SSL made from the current context (free with SSL_free), or
 * NULL on allocation failure. */
SSL *vdi_tls_ssl_new(struct vdi_tls *t);

/* Returns how many contexts t has built: 1 after vdi_tls_new(), +1 per
 * successful reload or reconfigure. */
unsigned long vdi_tls_generation(struct vdi_tls *t);

/* Client side: sends host as SNI (unless an IP address) and makes the
 * handshake check that the server certificate is valid for host (DNS name
 * or IP address). Call before SSL_connect. Returns 0, VDI_ERR_INVALID_ARG
 * or VDI_ERR_TLS. */
int vdi_tls_set_peer_host(SSL *ssl, const char *host) VDI_WUR;

/*
 * After a successful handshake with a verified peer: which configured CA
 * issued the peer's chain. The first configured CA holding a certificate of
 * the verified chain, searched from the certificate nearest the peer's up
 * to the root, wins. Sets *index (position in cfg->cas) and *name (the CA's
 * name; owned by ssl's context, valid while ssl lives); either may be NULL.
 * Returns 0, VDI_ERR_CERT_VERIFY (peer not verified) or VDI_ERR_NOT_FOUND.
 */
int vdi_tls_peer_ca(const SSL *ssl, size_t *index, const char **name) VDI_WUR;

/* The certificate the peer presented (verified or not, see
 * SSL_get_verify_result), borrowed from ssl; NULL when none was received. */
X509 *vdi_tls_peer_cert(const SSL *ssl);

/* After a handshake refused for the peer's certificate: that certificate
 * (the peer's own, whatever depth failed), borrowed from ssl and valid
 * while ssl lives. NULL if verification did not fail. */
X509 *vdi_tls_refused_cert(const SSL *ssl);

/* The certificate verification result of ssl as a static string
 * (X509_verify_cert_error_string(SSL_get_verify_result(ssl))), e.g.
 * "certificate revoked"; "ok" when verification passed or did not run. */
const char *vdi_tls_verify_error(const SSL *ssl);

/* Why a handshake failed, for logs: the verification error if there was
 * one, else "no peer certificate" if a server got none, else the reason of
 * the last OpenSSL error (e.g. "no shared cipher"), else "connection
 * closed". Empties the thread's OpenSSL error queue. Writes into buf
 * (always NUL-terminated when buflen > 0) and returns buf. */
char *vdi_tls_handshake_error(const SSL *ssl, char *buf, size_t buflen);

/* SHA-256 of cert's DER into out. Returns 0, VDI_ERR_INVALID_ARG or
 * VDI_ERR_TLS (out zeroed). */
int vdi_tls_thumbprint(
    const X509 *cert, unsigned char out[VDI_TLS_THUMBPRINT_LEN]) VDI_WUR;

/* The same as 64 lower-case hex digits, no separators (what
 * `openssl x509 -fingerprint -sha256` prints, without colons, lower-case).
 * outlen >= VDI_TLS_THUMBPRINT_HEX_SIZE. Returns 0, VDI_ERR_INVALID_ARG,
 * VDI_ERR_TOO_LARGE (outlen too small) or VDI_ERR_TLS; out is "" on error
 * when outlen > 0. */
int vdi_tls_thumbprint_hex(const X509 *cert, char *out, size_t outlen) VDI_WUR;

/* The same as base64url without padding (43 characters): the x5t#S256
 * confirmation value of RFC 8705. outlen >= VDI_TLS_THUMBPRINT_B64_SIZE.
 * Returns like vdi_tls_thumbprint_hex(). */
int vdi_tls_thumbprint_b64url(
    const X509 *cert, char *out, size_t outlen) VDI_WUR;

/* Thumbprint of the certificate the peer presented (see vdi_tls_peer_cert:
 * a fact about the peer, not a verdict). Returns 0, VDI_ERR_NOT_FOUND (no
 * peer certificate) or an error of vdi_tls_thumbprint(). */
int vdi_tls_peer_thumbprint(
    const SSL *ssl, unsigned char out[VDI_TLS_THUMBPRINT_LEN]) VDI_WUR;

/* cert's subject on one line in RFC 2253 form ("CN=x,OU=y,O=z"), UTF-8,
 * truncated to fit outlen. Returns 0 or VDI_ERR_INVALID_ARG / VDI_ERR_TLS /
 * VDI_ERR_TOO_LARGE (truncated; out still usable). */
int vdi_tls_cert_subject(const X509 *cert, char *out, size_t outlen) VDI_WUR;

#endif
