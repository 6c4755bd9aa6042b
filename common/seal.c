/* seal.c: AES-256-GCM sealing of credentials (see seal.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "b64url.h"
#include "seal.h"

#define KEY_FILE_MAX 256

int
seal_key_load(
    const char *path, unsigned char key[SEAL_KEY_LEN], char *err, size_t errlen)
{
	unsigned char buf[KEY_FILE_MAX + 1];
	size_t len = 0, outlen = 0;
	ssize_t n;
	int fd, r = VDI_ERR_CONFIG;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
		snprintf(err, errlen, "cannot read seal key %s: %s", path,
		    strerror(errno));
		return VDI_ERR_CERT_LOAD;
	}
	while (len < sizeof(buf)) {
		n = read(fd, buf + len, sizeof(buf) - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (len == SEAL_KEY_LEN) {
		memcpy(key, buf, SEAL_KEY_LEN);
		r = 0;
	} else if (len <= KEY_FILE_MAX) {
		while (
		    len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
			len--;
		if (b64url_decode((const char *)buf, len, key, SEAL_KEY_LEN,
			&outlen) == 0 &&
		    outlen == SEAL_KEY_LEN)
			r = 0;
	}
	OPENSSL_cleanse(buf, sizeof(buf));
	if (r != 0) {
		OPENSSL_cleanse(key, SEAL_KEY_LEN);
		snprintf(err, errlen,
		    "seal key %s: not 32 raw bytes nor 43 base64url characters "
		    "(make one with: head -c 32 /dev/urandom > %s)",
		    path, path);
	}
	return r;
}

int
seal_close(const unsigned char key[SEAL_KEY_LEN], const void *plain, size_t len,
    const void *aad, size_t aadlen, char *out, size_t outlen)
{
	unsigned char blob[SEAL_NONCE_LEN + SEAL_PLAIN_MAX + SEAL_TAG_LEN];
	unsigned char *nonce = blob, *ct = blob + SEAL_NONCE_LEN;
	EVP_CIPHER_CTX *ctx;
	int outl = 0, fl = 0, r = VDI_ERR_TLS;

	if (outlen > 0)
		out[0] = '\0';
	if (plain == NULL || len == 0 || (aad == NULL && aadlen > 0))
		return VDI_ERR_INVALID_ARG;
	if (len > SEAL_PLAIN_MAX || aadlen > 4096)
		return VDI_ERR_TOO_LARGE;
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		return VDI_ERR_ALLOC;
	if (RAND_bytes(nonce, SEAL_NONCE_LEN) != 1 ||
	    EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(
		ctx, EVP_CTRL_GCM_SET_IVLEN, SEAL_NONCE_LEN, NULL) != 1 ||
	    EVP_EncryptInit_ex(ctx, NULL, NULL, key, nonce) != 1)
		goto out;
	if (aadlen > 0 &&
	    EVP_EncryptUpdate(ctx, NULL, &outl, aad, (int)aadlen) != 1)
		goto out;
	if (EVP_EncryptUpdate(ctx, ct, &outl, plain, (int)len) != 1 ||
	    (size_t)outl != len ||
	    EVP_EncryptFinal_ex(ctx, ct + outl, &fl) != 1 || fl != 0 ||
	    EVP_CIPHER_CTX_ctrl(
		ctx, EVP_CTRL_GCM_GET_TAG, SEAL_TAG_LEN, ct + len) != 1)
		goto out;
	r = b64url_encode(
	    blob, SEAL_NONCE_LEN + len + SEAL_TAG_LEN, out, outlen);
out:
	EVP_CIPHER_CTX_free(ctx);
	OPENSSL_cleanse(blob, sizeof(blob));
	return r;
}

int
seal_open(const unsigned char key[SEAL_KEY_LEN], const char *text,
    const void *aad, size_t aadlen, unsigned char *plain, size_t max,
    size_t *len)
{
	unsigned char blob[SEAL_NONCE_LEN + SEAL_PLAIN_MAX + SEAL_TAG_LEN];
	size_t bl = 0, cl;
	EVP_CIPHER_CTX *ctx = NULL;
	int outl = 0, fl = 0, r;

	*len = 0;
	if (text == NULL || (aad == NULL && aadlen > 0))
		return VDI_ERR_INVALID_ARG;
	if ((r = b64url_decode(text, strlen(text), blob, sizeof(blob), &bl)) !=
	    0)
		return r == VDI_ERR_TOO_LARGE ? VDI_ERR_TOO_LARGE
					      : VDI_ERR_BASE64;
	if (bl < SEAL_NONCE_LEN + 1 + SEAL_TAG_LEN) {
		r = VDI_ERR_BAD_FORMAT;
		goto out;
	}
	cl = bl - SEAL_NONCE_LEN - SEAL_TAG_LEN;
	if (cl > max) {
		r = VDI_ERR_TOO_LARGE;
		goto out;
	}
	r = VDI_ERR_DENIED;
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL) {
		r = VDI_ERR_ALLOC;
		goto out;
	}
	if (EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(
		ctx, EVP_CTRL_GCM_SET_IVLEN, SEAL_NONCE_LEN, NULL) != 1 ||
	    EVP_DecryptInit_ex(ctx, NULL, NULL, key, blob) != 1)
		goto out;
	if (aadlen > 0 &&
	    EVP_DecryptUpdate(ctx, NULL, &outl, aad, (int)aadlen) != 1)
		goto out;
	if (EVP_DecryptUpdate(
		ctx, plain, &outl, blob + SEAL_NONCE_LEN, (int)cl) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, SEAL_TAG_LEN,
		blob + SEAL_NONCE_LEN + cl) != 1 ||
	    EVP_DecryptFinal_ex(ctx, plain + outl, &fl) != 1)
		goto out;
	*len = (size_t)outl + (size_t)fl;
	r = 0;
out:
	if (r != 0 && max > 0)
		OPENSSL_cleanse(plain, max);
	EVP_CIPHER_CTX_free(ctx);
	OPENSSL_cleanse(blob, sizeof(blob));
	return r;
}
