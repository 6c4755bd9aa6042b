/*
 * test_keyproc.c: the gateway's key process end to end (gateway/keyproc.c,
 * keyclient.c, keypkey.c): a real forked key process holding a seal key
 * and an EC or RSA inner key, opened credentials, and real TLS 1.2 and 1.3
 * handshakes in memory whose server signatures are made by the key
 * process (ECDSA, RSA PKCS#1, RSA-PSS).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "b64url.h"
#include "keyproc.h"
#include "seal.h"
#include "vlog.h"

static char dir[64];
static unsigned char seal_key[SEAL_KEY_LEN];
static char path_seal[128], path_cert[128], path_key[128], path_other[128];

static void
write_key_cert(const char *kind)
{
	EVP_PKEY *k, *other;
	X509 *x = X509_new();
	FILE *f;

	if (strcmp(kind, "EC") == 0) {
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		other = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	} else {
		k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
		other = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	}
	assert_non_null(k);
	assert_non_null(other);
	assert_non_null(x);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
	    (const unsigned char *)"vdi-gateway-rdp", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	assert_int_equal(X509_set_pubkey(x, k), 1);
	assert_true(X509_sign(x, k, EVP_sha256()) > 0);
	assert_non_null(f = fopen(path_cert, "w"));
	assert_int_equal(PEM_write_X509(f, x), 1);
	fclose(f);
	assert_non_null(f = fopen(path_key, "w"));
	assert_int_equal(
	    PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL), 1);
	fclose(f);
	assert_non_null(f = fopen(path_other, "w"));
	assert_int_equal(
	    PEM_write_PrivateKey(f, other, NULL, NULL, 0, NULL, NULL), 1);
	fclose(f);
	X509_free(x);
	EVP_PKEY_free(k);
	EVP_PKEY_free(other);
}

static int
start(const char *keypath)
{
	struct keyproc_config c = { path_seal, path_cert, keypath, "", "" };
	char err[256];

	return keyclient_start(&c, 3, err, sizeof(err));
}

static int
setup(void **state)
{
	char text[64];
	FILE *f;

	snprintf(dir, sizeof(dir), "/tmp/vdi-keyproc.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path_seal, sizeof(path_seal), "%s/seal.key", dir);
	snprintf(path_cert, sizeof(path_cert), "%s/rdp.pem", dir);
	snprintf(path_key, sizeof(path_key), "%s/rdp.key", dir);
	snprintf(path_other, sizeof(path_other), "%s/other.key", dir);
	if (RAND_bytes(seal_key, sizeof(seal_key)) != 1 ||
	    b64url_encode(seal_key, sizeof(seal_key), text, sizeof(text)) !=
		0 ||
	    (f = fopen(path_seal, "w")) == NULL)
		return -1;
	fprintf(f, "%s\n", text);
	fclose(f);
	return 0;
}

static int
teardown(void **state)
{
	keyclient_stop();
	unlink(path_seal);
	unlink(path_cert);
	unlink(path_key);
	unlink(path_other);
	rmdir(dir);
	return 0;
}

static void
keyproc__when_started__unseals_only_with_the_right_aad(void **state)
{
	char sealed[SEAL_TEXT_MAX], orig;
	unsigned char out[64];
	size_t len = 0;

	write_key_cert("EC");
	assert_int_equal(start(path_key), 0);
	assert_true(keyclient_pid() > 0 && keyclient_pid() != getpid());
	assert_true(keyclient_have_seal());
	assert_true(keyclient_have_inner());
	assert_int_equal(seal_close(seal_key, "alice\0pw", 8, "sid-1", 5,
			     sealed, sizeof(sealed)),
	    0);
	keyclient_bind_thread(1);
	assert_int_equal(
	    keyclient_unseal(sealed, "sid-1", 5, out, sizeof(out), &len), 0);
	assert_int_equal(len, 8);
	assert_memory_equal(out, "alice\0pw", 8);
	/* Another session's AAD, a tampered text: refused, channel usable. */
	assert_int_not_equal(
	    keyclient_unseal(sealed, "sid-2", 5, out, sizeof(out), &len), 0);
	orig = sealed[10];
	sealed[10] = orig == 'A' ? 'B' : 'A';
	assert_int_not_equal(
	    keyclient_unseal(sealed, "sid-1", 5, out, sizeof(out), &len), 0);
	/* Not base64url: the codec refuses to send it. */
	assert_int_equal(keyclient_unseal("!!", "x", 1, out, sizeof(out), &len),
	    VDI_ERR_BAD_FORMAT);
	keyclient_bind_thread(2);
	sealed[10] = orig;
	assert_int_equal(
	    keyclient_unseal(sealed, "sid-1", 5, out, sizeof(out), &len), 0);
	keyclient_bind_thread(0);
	keyclient_stop();
}

/* One in-memory handshake: server ctx sctx, client limited to version v
 * and (when not NULL) signature algorithms sigalgs. Returns 1 when it
 * completed. */
static int
handshake(SSL_CTX *sctx, int v, const char *sigalgs)
{
	SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
	SSL *s = NULL, *c = NULL;
	BIO *b1 = NULL, *b2 = NULL;
	int i, rs = 0, rc = 0, done = 0;

	assert_non_null(cctx);
	SSL_CTX_set_min_proto_version(cctx, v);
	SSL_CTX_set_max_proto_version(cctx, v);
	if (sigalgs != NULL)
		assert_int_equal(SSL_CTX_set1_sigalgs_list(cctx, sigalgs), 1);
	assert_non_null(s = SSL_new(sctx));
	assert_non_null(c = SSL_new(cctx));
	assert_int_equal(BIO_new_bio_pair(&b1, 0, &b2, 0), 1);
	SSL_set_bio(s, b1, b1);
	SSL_set_bio(c, b2, b2);
	SSL_set_accept_state(s);
	SSL_set_connect_state(c);
	for (i = 0; i < 50 && !done; i++) {
		rc = SSL_do_handshake(c);
		rs = SSL_do_handshake(s);
		done = rc == 1 && rs == 1;
	}
	if (done)
		assert_int_equal(SSL_version(c), v);
	SSL_free(s);
	SSL_free(c);
	SSL_CTX_free(cctx);
	return done;
}

static SSL_CTX *
server_ctx(void)
{
	SSL_CTX *c = SSL_CTX_new(TLS_server_method());
	EVP_PKEY *pk = NULL;

	assert_non_null(c);
	assert_int_equal(SSL_CTX_use_certificate_chain_file(c, path_cert), 1);
	assert_int_equal(keypkey_new(SSL_CTX_get0_certificate(c), &pk), 0);
	assert_int_equal(SSL_CTX_use_PrivateKey(c, pk), 1);
	assert_int_equal(SSL_CTX_check_private_key(c), 1);
	EVP_PKEY_free(pk);
	return c;
}

static void
keypkey__when_ec_key__tls12_and_tls13_signed_by_key_process(void **state)
{
	SSL_CTX *c;

	write_key_cert("EC");
	assert_int_equal(start(path_key), 0);
	c = server_ctx();
	assert_true(handshake(c, TLS1_2_VERSION, NULL));
	assert_true(handshake(c, TLS1_3_VERSION, NULL));
	/* Without the key process nothing can sign. */
	keyclient_stop();
	assert_false(handshake(c, TLS1_3_VERSION, NULL));
	SSL_CTX_free(c);
}

static void
keypkey__when_rsa_key__pkcs1_and_pss_signed_by_key_process(void **state)
{
	SSL_CTX *c;

	write_key_cert("RSA");
	assert_int_equal(start(path_key), 0);
	c = server_ctx();
	assert_true(handshake(c, TLS1_2_VERSION, "RSA+SHA256"));
	assert_true(handshake(c, TLS1_2_VERSION, "rsa_pss_rsae_sha256"));
	assert_true(handshake(c, TLS1_3_VERSION, NULL));
	SSL_CTX_free(c);
	keyclient_stop();
}

static void
keyclient_start__when_key_does_not_match__fails_and_nothing_signs(void **state)
{
	X509 *x;
	EVP_PKEY *pk = NULL;
	FILE *f;

	write_key_cert("EC");
	/* The key process refuses a key that is not the certificate's. */
	assert_int_equal(start(path_other), VDI_ERR_CERT_LOAD);
	assert_int_equal(keyclient_pid(), 0);
	/* A missing key file is refused the same way. */
	assert_int_equal(start("/nonexistent/rdp.key"), VDI_ERR_CERT_LOAD);
	/* Started without an inner key, the proof signature fails. */
	assert_int_equal(start(NULL), 0);
	assert_false(keyclient_have_inner());
	assert_non_null(f = fopen(path_cert, "r"));
	assert_non_null(x = PEM_read_X509(f, NULL, NULL, NULL));
	fclose(f);
	assert_int_equal(keypkey_new(x, &pk), VDI_ERR_CERT_LOAD);
	assert_null(pk);
	X509_free(x);
	keyclient_stop();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    keyproc__when_started__unseals_only_with_the_right_aad),
		cmocka_unit_test(
		    keypkey__when_ec_key__tls12_and_tls13_signed_by_key_process),
		cmocka_unit_test(
		    keypkey__when_rsa_key__pkcs1_and_pss_signed_by_key_process),
		cmocka_unit_test(
		    keyclient_start__when_key_does_not_match__fails_and_nothing_signs),
	};

	vlog_init("test_keyproc", VLOG_STDERR, VLOG_INFO);
	return cmocka_run_group_tests(tests, setup, teardown);
}
