/* tls_peer.c: one connection's peer (host check, CA, certificate,
 * errors) and certificate thumbprints and names (see tls.h). */
#include "config.h"

#include <stdio.h>
#include <string.h>

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
#include "tls_int.h"
#include "vdierr.h"

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
	if (ssl == NULL || !vtls_ex_ready())
		return VDI_ERR_INVALID_ARG;
	if (SSL_get_verify_result(ssl) != X509_V_OK ||
	    SSL_get0_peer_certificate(ssl) == NULL ||
	    (chain = SSL_get0_verified_chain(ssl)) == NULL)
		return VDI_ERR_CERT_VERIFY;
	ci = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), vtls_ctx_ex_idx);
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
	if (ssl == NULL || !vtls_ex_ready())
		return NULL;
	return SSL_get_ex_data(ssl, vtls_ssl_ex_idx);
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
	return vtls_name_str(X509_get_subject_name(cert), out, outlen);
}
