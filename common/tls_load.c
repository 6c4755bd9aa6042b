/* tls_load.c: certificates, keys and CRLs read from files, with messages
 * that say what to do (see tls_int.h). */
#include "config.h"

#include <errno.h>
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

#include "tls.h"
#include "tls_int.h"
#include "vdierr.h"

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
int
vtls_read_file(const char *path, const char *what, int code, BIO **out,
    char *err, size_t errlen)
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
int
vtls_load_certs(const char *path, const char *what, STACK_OF(X509) **out,
    char *err, size_t errlen)
{
	BIO *b = NULL;
	STACK_OF(X509) *sk = NULL;
	X509 *x;
	unsigned long e;
	int r;

	*out = NULL;
	if ((r = vtls_read_file(
		 path, what, VDI_ERR_CERT_LOAD, &b, err, errlen)) != 0)
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

int
vtls_load_key(const char *path, EVP_PKEY **out, char *err, size_t errlen)
{
	BIO *b = NULL;
	int r;

	*out = NULL;
	if ((r = vtls_read_file(
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

int
vtls_load_crls(
    const char *path, STACK_OF(X509_CRL) **out, char *err, size_t errlen)
{
	BIO *b = NULL;
	STACK_OF(X509_CRL) *sk = NULL;
	X509_CRL *c;
	unsigned long e;
	int r;

	*out = NULL;
	if ((r = vtls_read_file(
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
int
vtls_name_str(const X509_NAME *name, char *out, size_t outlen)
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

void
vtls_subject_of(const X509 *x, char *out, size_t outlen)
{
	if (vtls_name_str(X509_get_subject_name(x), out, outlen) ==
		VDI_ERR_TLS ||
	    *out == '\0')
		snprintf(out, outlen, "(no subject)");
}
