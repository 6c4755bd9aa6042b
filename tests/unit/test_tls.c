/*
 * Unit tests for common/tls.c: thumbprints, context errors, the profile,
 * in-memory mTLS handshakes (BIO pairs) against a PKI that
 * tests/pki/mkpki.sh makes at test time, and reload.
 */
#include "config.h"

#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include "b64url.h"
#include "tls.h"
#include "vdierr.h"

static char tmpdir[256]; /* mkdtemp: PKI and scratch files */
static char pkidir[300];

static const char *p(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* Formats a path under the PKI into one of many rotating buffers (enough
 * for every path a test holds at once). */
static const char *
p(const char *fmt, ...)
{
	static char bufs[64][1024];
	static int next;
	char rel[256];
	char *b = bufs[next++ % 64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	snprintf(b, sizeof(bufs[0]), "%s/%s", pkidir, rel);
	return b;
}

static const char *
openssl_bin(void)
{
	const char *o = getenv("OPENSSL");

	return o != NULL && *o != '\0' ? o : "openssl";
}

static int
run_mkpki(const char *args)
{
	const char *src = getenv("top_srcdir");
	char cmd[2048];

	if (src == NULL)
		src = ".";
	snprintf(cmd, sizeof(cmd),
	    "OPENSSL='%s' sh '%s/tests/pki/mkpki.sh' %s "
	    ">'%s/mkpki.log' 2>&1",
	    openssl_bin(), src, args, tmpdir);
	return system(cmd);
}

static int
group_setup(void **state)
{
	const char *t = getenv("TMPDIR");
	char args[1024];

	snprintf(tmpdir, sizeof(tmpdir), "%s/vdi-test-tls.XXXXXX",
	    t != NULL && *t != '\0' ? t : "/tmp");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return -1;
	}
	snprintf(pkidir, sizeof(pkidir), "%s/pki", tmpdir);
	snprintf(args, sizeof(args), "'%s'", pkidir);
	if (run_mkpki(args) != 0) {
		fprintf(stderr,
		    "mkpki.sh failed, see %s/mkpki.log "
		    "(is top_srcdir set? run through make check)\n",
		    tmpdir);
		return -1;
	}
	return 0;
}

static int
group_teardown(void **state)
{
	char cmd[1024];

	if (tmpdir[0] != '\0') {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			return -1;
	}
	return 0;
}

static X509 *
read_cert(const char *path)
{
	FILE *f = fopen(path, "r");
	X509 *x;

	assert_non_null(f);
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(x);
	return x;
}

static void
write_file(const char *path, const char *data)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(data, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static void
copy_file(const char *from, const char *to)
{
	char cmd[2048];

	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", from, to);
	assert_int_equal(system(cmd), 0);
}

static const char *
scratch(const char *name)
{
	static char bufs[16][1024];
	static int next;
	char *b = bufs[next++ % 16];

	snprintf(b, sizeof(bufs[0]), "%s/%s", tmpdir, name);
	return b;
}

/* The two tenant CAs with their CRLs. */
static struct vdi_tls_ca tenant_cas[2];

static void
set_tenants(void)
{
	tenant_cas[0].name = "city-a";
	tenant_cas[0].ca_file = p("city-a/ca.pem");
	tenant_cas[0].crl_file = p("city-a/crl.pem");
	tenant_cas[1].name = "city-b";
	tenant_cas[1].ca_file = p("city-b/ca.pem");
	tenant_cas[1].crl_file = p("city-b/crl.pem");
}

static struct vdi_tls_config
server_config(void)
{
	struct vdi_tls_config c;

	set_tenants();
	memset(&c, 0, sizeof(c));
	c.role = VDI_TLS_SERVER;
	c.cert_file = p("infra/broker.pem");
	c.key_file = p("infra/broker.key");
	c.cas = tenant_cas;
	c.ncas = 2;
	return c;
}

static SSL_CTX *
server_ctx(void)
{
	struct vdi_tls_config c = server_config();
	char err[VDI_TLS_ERR_SIZE];
	SSL_CTX *ctx = NULL;
	int r;

	r = vdi_tls_ctx_new(&c, &ctx, err, sizeof(err));
	if (r != 0)
		fail_msg("server ctx: %s", err);
	return ctx;
}

/* A client presenting devices/NAME of tenant dir (NULL: no certificate),
 * verifying the server against the infrastructure CA. */
static SSL_CTX *
client_ctx(const char *dir, const char *name)
{
	static struct vdi_tls_ca infra;
	struct vdi_tls_config c;
	char cert[1024], key[1024], err[VDI_TLS_ERR_SIZE];
	SSL_CTX *ctx = NULL;
	int r;

	infra.name = "infra";
	infra.ca_file = p("infra/ca.pem");
	infra.crl_file = NULL;
	memset(&c, 0, sizeof(c));
	c.role = VDI_TLS_CLIENT;
	if (name != NULL) {
		snprintf(cert, sizeof(cert), "%s",
		    p("%s/devices/%s.pem", dir, name));
		snprintf(
		    key, sizeof(key), "%s", p("%s/devices/%s.key", dir, name));
		c.cert_file = cert;
		c.key_file = key;
	}
	c.cas = &infra;
	c.ncas = 1;
	r = vdi_tls_ctx_new(&c, &ctx, err, sizeof(err));
	if (r != 0)
		fail_msg("client ctx: %s", err);
	return ctx;
}

struct conn {
	SSL *s, *c;
	int ok; /* server side handshake result */
};

/* Runs a handshake over a memory BIO pair. host, if set, is what the
 * client expects the server certificate to be valid for. */
static void
handshake_host(SSL *s, SSL_CTX *cctx, struct conn *cn, const char *host)
{
	BIO *sb = NULL, *cb = NULL;
	int i, rs = 0, rc = 0, es, ec;

	memset(cn, 0, sizeof(*cn));
	cn->s = s;
	assert_non_null(cn->s);
	cn->c = SSL_new(cctx);
	assert_non_null(cn->c);
	if (host != NULL)
		assert_int_equal(vdi_tls_set_peer_host(cn->c, host), 0);
	assert_int_equal(BIO_new_bio_pair(&sb, 0, &cb, 0), 1);
	SSL_set_bio(cn->s, sb, sb);
	SSL_set_bio(cn->c, cb, cb);
	SSL_set_accept_state(cn->s);
	SSL_set_connect_state(cn->c);
	for (i = 0; i < 100; i++) {
		if (rc != 1) {
			rc = SSL_do_handshake(cn->c);
			ec = SSL_get_error(cn->c, rc);
			if (rc != 1 && ec != SSL_ERROR_WANT_READ &&
			    ec != SSL_ERROR_WANT_WRITE)
				break;
		}
		if (rs != 1) {
			rs = SSL_do_handshake(cn->s);
			es = SSL_get_error(cn->s, rs);
			if (rs != 1 && es != SSL_ERROR_WANT_READ &&
			    es != SSL_ERROR_WANT_WRITE)
				break;
		}
		if (rs == 1 && rc == 1)
			break;
	}
	cn->ok = rs == 1 && rc == 1;
}

static void
handshake(SSL_CTX *sctx, SSL_CTX *cctx, struct conn *cn)
{
	handshake_host(SSL_new(sctx), cctx, cn, NULL);
}

static void
conn_free(struct conn *cn)
{
	SSL_free(cn->s);
	SSL_free(cn->c);
	memset(cn, 0, sizeof(*cn));
}

/* Client sends msg, the server reads it back: the connection works. */
static void
exchange(struct conn *cn, const char *msg)
{
	char buf[128];
	int n;

	assert_int_equal(
	    SSL_write(cn->c, msg, (int)strlen(msg)), (int)strlen(msg));
	n = SSL_read(cn->s, buf, sizeof(buf) - 1);
	assert_int_equal(n, (int)strlen(msg));
	buf[n] = '\0';
	assert_string_equal(buf, msg);
}

/* ---------------------------------------------------------------- */

static void
vdi_tls_thumbprint_hex__when_pki_cert__matches_openssl_fingerprint(void **state)
{
	const char *cert = p("city-a/devices/tablet-1.pem");
	char cmd[2048], line[512], want[VDI_TLS_THUMBPRINT_HEX_SIZE];
	char got[VDI_TLS_THUMBPRINT_HEX_SIZE];
	unsigned char raw[VDI_TLS_THUMBPRINT_LEN];
	FILE *f;
	X509 *x;
	char *q;
	size_t n = 0;
	int i;

	snprintf(cmd, sizeof(cmd),
	    "'%s' x509 -noout -fingerprint -sha256 "
	    "-in '%s'",
	    openssl_bin(), cert);
	f = popen(cmd, "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	assert_int_equal(pclose(f), 0);
	/* "sha256 Fingerprint=AB:CD:..." */
	q = strchr(line, '=');
	assert_non_null(q);
	for (q++; *q != '\0' && *q != '\n'; q++) {
		if (*q == ':')
			continue;
		assert_true(n < sizeof(want) - 1);
		want[n++] = (char)tolower((unsigned char)*q);
	}
	want[n] = '\0';
	assert_int_equal(n, 64);

	x = read_cert(cert);
	assert_int_equal(vdi_tls_thumbprint_hex(x, got, sizeof(got)), 0);
	assert_string_equal(got, want);
	assert_int_equal(vdi_tls_thumbprint(x, raw), 0);
	for (i = 0; i < VDI_TLS_THUMBPRINT_LEN; i++) {
		unsigned int b;

		assert_int_equal(sscanf(want + 2 * i, "%2x", &b), 1);
		assert_int_equal(raw[i], b);
	}
	X509_free(x);
}

static void
vdi_tls_thumbprint_b64url__when_pki_cert__is_raw_digest_unpadded(void **state)
{
	X509 *x = read_cert(p("city-b/devices/tablet-1.pem"));
	unsigned char raw[VDI_TLS_THUMBPRINT_LEN], dec[64];
	char b64[VDI_TLS_THUMBPRINT_B64_SIZE];
	size_t declen = 0;

	assert_int_equal(vdi_tls_thumbprint(x, raw), 0);
	assert_int_equal(vdi_tls_thumbprint_b64url(x, b64, sizeof(b64)), 0);
	assert_int_equal(strlen(b64), 43);
	assert_null(strchr(b64, '='));
	assert_int_equal(
	    b64url_decode(b64, strlen(b64), dec, sizeof(dec), &declen), 0);
	assert_int_equal(declen, sizeof(raw));
	assert_memory_equal(dec, raw, sizeof(raw));
	/* one byte short */
	assert_int_equal(vdi_tls_thumbprint_b64url(x, b64, sizeof(b64) - 1),
	    VDI_ERR_TOO_LARGE);
	assert_string_equal(b64, "");
	X509_free(x);
}

static void
vdi_tls_thumbprint__when_bad_arguments__error_and_cleared(void **state)
{
	X509 *x = read_cert(p("infra/broker.pem"));
	unsigned char raw[VDI_TLS_THUMBPRINT_LEN];
	char hex[VDI_TLS_THUMBPRINT_HEX_SIZE];

	memset(raw, 0xAA, sizeof(raw));
	assert_int_equal(vdi_tls_thumbprint(NULL, raw), VDI_ERR_INVALID_ARG);
	for (size_t i = 0; i < sizeof(raw); i++)
		assert_int_equal(raw[i], 0);
	strcpy(hex, "stale");
	assert_int_equal(
	    vdi_tls_thumbprint_hex(x, hex, sizeof(hex) - 1), VDI_ERR_TOO_LARGE);
	assert_string_equal(hex, "");
	assert_int_equal(
	    vdi_tls_thumbprint_hex(x, NULL, 0), VDI_ERR_INVALID_ARG);
	assert_int_equal(
	    vdi_tls_peer_thumbprint(NULL, raw), VDI_ERR_INVALID_ARG);
	X509_free(x);
}

static void
vdi_tls_cert_subject__when_device_cert__rfc2253_line(void **state)
{
	X509 *x = read_cert(p("city-a/devices/shared-1.pem"));
	char s[256], tiny[8];

	assert_int_equal(vdi_tls_cert_subject(x, s, sizeof(s)), 0);
	assert_string_equal(s, "CN=city-a-shared-1,OU=shared-tablet,O=city-a");
	assert_int_equal(
	    vdi_tls_cert_subject(x, tiny, sizeof(tiny)), VDI_ERR_TOO_LARGE);
	assert_string_equal(tiny, "CN=city");
	X509_free(x);
}

/* Builds a server context from c and expects code with every fragment of
 * the NULL-terminated list in the message. */
static void
expect_ctx_error(struct vdi_tls_config *c, int code, ...)
{
	char err[VDI_TLS_ERR_SIZE];
	SSL_CTX *ctx = (SSL_CTX *)(uintptr_t)1;
	const char *frag;
	va_list ap;
	int r;

	r = vdi_tls_ctx_new(c, &ctx, err, sizeof(err));
	if (r != code)
		fail_msg("expected %s, got %s: %s", vdi_errname(code),
		    vdi_errname(r), err);
	assert_null(ctx);
	va_start(ap, code);
	while ((frag = va_arg(ap, const char *)) != NULL) {
		if (strstr(err, frag) == NULL)
			fail_msg("'%s' not in message: %s", frag, err);
	}
	va_end(ap);
}

static void
vdi_tls_ctx_new__when_ca_file_missing__error_names_file_and_fix(void **state)
{
	struct vdi_tls_config c = server_config();

	tenant_cas[1].ca_file = scratch("nonexistent/ca.pem");
	expect_ctx_error(&c, VDI_ERR_CERT_LOAD, scratch("nonexistent/ca.pem"),
	    "No such file or directory", "mkpki.sh", "ca_file", NULL);
}

static void
vdi_tls_ctx_new__when_ca_file_garbage__error_names_file(void **state)
{
	struct vdi_tls_config c = server_config();
	const char *f = scratch("garbage-ca.pem");

	write_file(f, "this is not a certificate\n");
	tenant_cas[0].ca_file = f;
	expect_ctx_error(&c, VDI_ERR_CERT_LOAD, f, "no certificate",
	    "BEGIN CERTIFICATE", NULL);

	/* a damaged PEM block */
	write_file(f,
	    "-----BEGIN CERTIFICATE-----\nAAAA\n"
	    "-----END CERTIFICATE-----\n");
	expect_ctx_error(&c, VDI_ERR_CERT_LOAD, f, NULL);

	/* empty */
	write_file(f, "");
	expect_ctx_error(&c, VDI_ERR_CERT_LOAD, f, "empty", NULL);

	/* a folder */
	tenant_cas[0].ca_file = tmpdir;
	expect_ctx_error(&c, VDI_ERR_CERT_LOAD, tmpdir, "Is a directory", NULL);
}

static void
vdi_tls_ctx_new__when_ca_file_holds_device_cert__refused(void **state)
{
	struct vdi_tls_config c = server_config();

	tenant_cas[0].ca_file = p("city-a/devices/tablet-1.pem");
	expect_ctx_error(
	    &c, VDI_ERR_CERT_LOAD, "tablet-1.pem", "not a CA", NULL);
}

static void
vdi_tls_ctx_new__when_crl_file_missing_or_garbage__crl_load_error(void **state)
{
	struct vdi_tls_config c = server_config();
	const char *f = scratch("garbage-crl.pem");

	tenant_cas[1].crl_file = scratch("nonexistent/crl.pem");
	expect_ctx_error(&c, VDI_ERR_CRL_LOAD, scratch("nonexistent/crl.pem"),
	    "No such file or directory", "crl_file", NULL);

	write_file(f, "\x30\x82\x01\x00garbage");
	tenant_cas[1].crl_file = f;
	expect_ctx_error(&c, VDI_ERR_CRL_LOAD, f, "no CRL", "DER", NULL);

	/* a certificate where a CRL should be */
	tenant_cas[1].crl_file = p("city-b/ca.pem");
	expect_ctx_error(
	    &c, VDI_ERR_CRL_LOAD, p("city-b/ca.pem"), "no CRL", NULL);
}

static void
vdi_tls_ctx_new__when_crl_of_other_ca__refused(void **state)
{
	struct vdi_tls_config c = server_config();

	tenant_cas[0].crl_file = p("city-b/crl.pem");
	expect_ctx_error(&c, VDI_ERR_CRL_LOAD, p("city-b/crl.pem"), "O=city-b",
	    "not signed by a CA in ca_file", p("city-a/ca.pem"), NULL);
}

static void
vdi_tls_ctx_new__when_ca_file_has_ca_without_crl__refused_unless_leaf_only(
    void **state)
{
	struct vdi_tls_config c = server_config();
	const char *both = scratch("two-cas.pem");
	char cmd[2048], err[VDI_TLS_ERR_SIZE];
	SSL_CTX *ctx = NULL;

	snprintf(cmd, sizeof(cmd), "cat '%s' '%s' >'%s'", p("city-a/ca.pem"),
	    p("city-b/ca.pem"), both);
	assert_int_equal(system(cmd), 0);
	tenant_cas[0].ca_file = both;
	expect_ctx_error(&c, VDI_ERR_CRL_LOAD, p("city-a/crl.pem"),
	    "no CRL from CN=city-b device CA,O=city-b", both,
	    "VDI_TLS_CRL_LEAF_ONLY", NULL);
	c.flags = VDI_TLS_CRL_LEAF_ONLY;
	assert_int_equal(vdi_tls_ctx_new(&c, &ctx, err, sizeof(err)), 0);
	assert_int_equal(X509_VERIFY_PARAM_get_flags(X509_STORE_get0_param(
			     SSL_CTX_get_cert_store(ctx))) &
		X509_V_FLAG_CRL_CHECK_ALL,
	    0);
	SSL_CTX_free(ctx);
}

static void
vdi_tls_ctx_new__when_crl_missing_for_a_ca__config_error(void **state)
{
	struct vdi_tls_config c = server_config();
	SSL_CTX *ctx = NULL;
	char err[VDI_TLS_ERR_SIZE];

	/* one CA with, one without */
	tenant_cas[1].crl_file = NULL;
	expect_ctx_error(&c, VDI_ERR_CONFIG, "city-b", "crl_file", NULL);
	/* none at all: a server refuses unless told */
	tenant_cas[0].crl_file = NULL;
	expect_ctx_error(&c, VDI_ERR_CONFIG, "city-a", "VDI_TLS_NO_CRL", NULL);
	c.flags = VDI_TLS_NO_CRL;
	assert_int_equal(vdi_tls_ctx_new(&c, &ctx, err, sizeof(err)), 0);
	assert_int_equal(X509_VERIFY_PARAM_get_flags(X509_STORE_get0_param(
			     SSL_CTX_get_cert_store(ctx))) &
		X509_V_FLAG_CRL_CHECK,
	    0);
	SSL_CTX_free(ctx);
}

static void
vdi_tls_ctx_new__when_key_does_not_match_cert__refused(void **state)
{
	struct vdi_tls_config c = server_config();

	c.key_file = p("infra/gateway.key");
	expect_ctx_error(&c, VDI_ERR_CERT_LOAD, "does not match",
	    p("infra/gateway.key"), p("infra/broker.pem"), NULL);
}

static void
vdi_tls_ctx_new__when_cert_or_key_missing__error_names_file(void **state)
{
	struct vdi_tls_config c = server_config();
	const char *f = scratch("garbage.key");

	c.cert_file = scratch("none.pem");
	expect_ctx_error(
	    &c, VDI_ERR_CERT_LOAD, scratch("none.pem"), "cert_file", NULL);
	c = server_config();
	write_file(f,
	    "-----BEGIN PRIVATE KEY-----\nAAAA\n"
	    "-----END PRIVATE KEY-----\n");
	c.key_file = f;
	expect_ctx_error(&c, VDI_ERR_CERT_LOAD, f, "private key", NULL);
	c.cert_file = NULL;
	c.key_file = NULL;
	expect_ctx_error(&c, VDI_ERR_CONFIG, "cert_file", NULL);
	c = server_config();
	c.ncas = 0;
	expect_ctx_error(&c, VDI_ERR_CONFIG, "no CA", NULL);
}

static void
vdi_tls_ctx_new__when_key_in_cert_file__loaded(void **state)
{
	struct vdi_tls_config c = server_config();
	const char *both = scratch("broker-both.pem");
	char cmd[2048], err[VDI_TLS_ERR_SIZE];
	SSL_CTX *ctx = NULL;

	snprintf(cmd, sizeof(cmd), "cat '%s' '%s' >'%s'", p("infra/broker.pem"),
	    p("infra/broker.key"), both);
	assert_int_equal(system(cmd), 0);
	c.cert_file = both;
	c.key_file = NULL;
	assert_int_equal(vdi_tls_ctx_new(&c, &ctx, err, sizeof(err)), 0);
	SSL_CTX_free(ctx);
}

static void
vdi_tls_ctx_new__when_server_config_valid__intermediate_profile(void **state)
{
	SSL_CTX *ctx = server_ctx();
	STACK_OF(SSL_CIPHER) *ciphers;
	X509_STORE *store;
	unsigned long fl;
	int i, have_gcm = 0, have_cbc = 0;

	assert_int_equal(SSL_CTX_get_min_proto_version(ctx), TLS1_2_VERSION);
	assert_int_equal(SSL_CTX_get_max_proto_version(ctx), TLS1_3_VERSION);
	assert_true(SSL_CTX_get_options(ctx) & SSL_OP_NO_COMPRESSION);
	assert_true(SSL_CTX_get_options(ctx) & SSL_OP_NO_RENEGOTIATION);
	assert_true(SSL_CTX_get_options(ctx) & SSL_OP_NO_TICKET);
	assert_int_equal(SSL_CTX_get_verify_mode(ctx),
	    SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT);
	assert_int_equal(
	    SSL_CTX_get_session_cache_mode(ctx), SSL_SESS_CACHE_OFF);
	store = SSL_CTX_get_cert_store(ctx);
	fl = X509_VERIFY_PARAM_get_flags(X509_STORE_get0_param(store));
	assert_true(fl & X509_V_FLAG_CRL_CHECK);
	assert_true(fl & X509_V_FLAG_CRL_CHECK_ALL);
	assert_int_equal(sk_X509_NAME_num(SSL_CTX_get_client_CA_list(ctx)), 2);
	ciphers = SSL_CTX_get_ciphers(ctx);
	for (i = 0; i < sk_SSL_CIPHER_num(ciphers); i++) {
		const char *n =
		    SSL_CIPHER_get_name(sk_SSL_CIPHER_value(ciphers, i));

		if (strcmp(n, "ECDHE-ECDSA-AES128-GCM-SHA256") == 0)
			have_gcm = 1;
		if (strstr(n, "CBC") != NULL || strstr(n, "SHA1") != NULL ||
		    strcmp(n, "AES128-SHA") == 0 ||
		    strcmp(n, "ECDHE-RSA-AES128-SHA") == 0)
			have_cbc = 1;
	}
	assert_true(have_gcm);
	assert_false(have_cbc);
	SSL_CTX_free(ctx);
}

static void
handshake__when_tenant_devices__accepted_with_issuing_ca(void **state)
{
	SSL_CTX *sctx = server_ctx();
	const char *tenants[] = { "city-a", "city-b" };
	struct conn cn;
	size_t i, idx;
	const char *name;

	for (i = 0; i < 2; i++) {
		SSL_CTX *cctx = client_ctx(tenants[i], "tablet-1");
		unsigned char got[VDI_TLS_THUMBPRINT_LEN];
		unsigned char want[VDI_TLS_THUMBPRINT_LEN];
		X509 *x = read_cert(p("%s/devices/tablet-1.pem", tenants[i]));

		handshake(sctx, cctx, &cn);
		assert_true(cn.ok);
		assert_string_equal(vdi_tls_verify_error(cn.s), "ok");
		assert_int_equal(vdi_tls_peer_ca(cn.s, &idx, &name), 0);
		assert_int_equal(idx, i);
		assert_string_equal(name, tenants[i]);
		assert_int_equal(vdi_tls_peer_thumbprint(cn.s, got), 0);
		assert_int_equal(vdi_tls_thumbprint(x, want), 0);
		assert_memory_equal(got, want, sizeof(got));
		assert_null(vdi_tls_refused_cert(cn.s));
		exchange(&cn, "hello");
		X509_free(x);
		conn_free(&cn);
		SSL_CTX_free(cctx);
	}
	SSL_CTX_free(sctx);
}

static void
handshake__when_bad_device_cert__refused_with_reason(void **state)
{
	static const struct {
		const char *dir, *name, *reason, *subject;
	} cases[] = {
		{ "city-a", "expired", "certificate has expired",
		    "CN=city-a-expired,OU=field-tablet,O=city-a" },
		{ "city-b", "notyet", "certificate is not yet valid",
		    "CN=city-b-notyet,OU=field-tablet,O=city-b" },
		{ "city-a", "revoked", "certificate revoked",
		    "CN=city-a-revoked,OU=field-tablet,O=city-a" },
		{ "rogue", "wrongca", "unable to get local issuer certificate",
		    "CN=city-a-tablet-1,OU=field-tablet,O=city-a" },
	};
	SSL_CTX *sctx = server_ctx();
	struct conn cn;
	char why[256], subj[256];
	size_t i, idx = 99;
	const char *name = "stale";

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		SSL_CTX *cctx = client_ctx(cases[i].dir, cases[i].name);
		X509 *refused;

		handshake(sctx, cctx, &cn);
		assert_false(cn.ok);
		assert_string_equal(
		    vdi_tls_verify_error(cn.s), cases[i].reason);
		assert_string_equal(
		    vdi_tls_handshake_error(cn.s, why, sizeof(why)),
		    cases[i].reason);
		refused = vdi_tls_refused_cert(cn.s);
		assert_non_null(refused);
		assert_int_equal(
		    vdi_tls_cert_subject(refused, subj, sizeof(subj)), 0);
		assert_string_equal(subj, cases[i].subject);
		assert_int_equal(
		    vdi_tls_peer_ca(cn.s, &idx, &name), VDI_ERR_CERT_VERIFY);
		assert_int_equal(idx, 0);
		assert_null(name);
		conn_free(&cn);
		SSL_CTX_free(cctx);
	}
	SSL_CTX_free(sctx);
}

static void
handshake__when_no_client_cert__refused(void **state)
{
	SSL_CTX *sctx = server_ctx();
	SSL_CTX *cctx = client_ctx(NULL, NULL);
	struct conn cn;
	char why[256];

	handshake(sctx, cctx, &cn);
	assert_false(cn.ok);
	assert_null(vdi_tls_peer_cert(cn.s));
	assert_string_equal(vdi_tls_handshake_error(cn.s, why, sizeof(why)),
	    "no peer certificate");
	conn_free(&cn);
	SSL_CTX_free(cctx);
	SSL_CTX_free(sctx);
}

static void
vdi_tls_set_peer_host__when_server_name_mismatch__client_refuses(void **state)
{
	SSL_CTX *sctx = server_ctx();
	SSL_CTX *cctx = client_ctx("city-a", "tablet-1");
	struct conn cn;

	handshake_host(SSL_new(sctx), cctx, &cn, "127.0.0.1");
	assert_true(cn.ok);
	conn_free(&cn);
	handshake_host(SSL_new(sctx), cctx, &cn, "localhost");
	assert_true(cn.ok);
	conn_free(&cn);
	handshake_host(SSL_new(sctx), cctx, &cn, "broker.example.org");
	assert_false(cn.ok);
	assert_string_equal(vdi_tls_verify_error(cn.c), "hostname mismatch");
	conn_free(&cn);
	handshake_host(SSL_new(sctx), cctx, &cn, "127.0.0.2");
	assert_false(cn.ok);
	assert_string_equal(vdi_tls_verify_error(cn.c), "IP address mismatch");
	conn_free(&cn);
	assert_int_equal(vdi_tls_set_peer_host(NULL, "x"), VDI_ERR_INVALID_ARG);
	SSL_CTX_free(cctx);
	SSL_CTX_free(sctx);
}

static void
vdi_tls_reload__when_crl_broken__keeps_old_ctx_and_errors(void **state)
{
	struct vdi_tls_config c = server_config();
	const char *crl = scratch("reload-crl.pem");
	char err[VDI_TLS_ERR_SIZE];
	struct vdi_tls *t = NULL;
	SSL_CTX *before, *after, *cctx;
	struct conn cn;

	copy_file(p("city-a/crl.pem"), crl);
	tenant_cas[0].crl_file = crl;
	assert_int_equal(vdi_tls_new(&c, &t, err, sizeof(err)), 0);
	assert_int_equal(vdi_tls_generation(t), 1);
	before = vdi_tls_get_ctx(t);
	assert_non_null(before);

	write_file(crl,
	    "-----BEGIN X509 CRL-----\nbroken\n"
	    "-----END X509 CRL-----\n");
	assert_int_equal(vdi_tls_reload(t, err, sizeof(err)), VDI_ERR_CRL_LOAD);
	assert_non_null(strstr(err, crl));
	assert_int_equal(vdi_tls_generation(t), 1);
	after = vdi_tls_get_ctx(t);
	assert_ptr_equal(after, before);
	SSL_CTX_free(after);

	/* the old context still serves, with the old CRL */
	cctx = client_ctx("city-a", "tablet-1");
	handshake_host(vdi_tls_ssl_new(t), cctx, &cn, NULL);
	assert_true(cn.ok);
	conn_free(&cn);
	SSL_CTX_free(cctx);
	cctx = client_ctx("city-a", "revoked");
	handshake_host(vdi_tls_ssl_new(t), cctx, &cn, NULL);
	assert_false(cn.ok);
	assert_string_equal(vdi_tls_verify_error(cn.s), "certificate revoked");
	conn_free(&cn);
	SSL_CTX_free(cctx);

	/* fixed file: the reload goes through */
	copy_file(p("city-a/crl.pem"), crl);
	assert_int_equal(vdi_tls_reload(t, err, sizeof(err)), 0);
	assert_int_equal(vdi_tls_generation(t), 2);
	after = vdi_tls_get_ctx(t);
	assert_ptr_not_equal(after, before);
	SSL_CTX_free(after);
	SSL_CTX_free(before);
	vdi_tls_free(t);
}

static void
vdi_tls_reload__when_device_revoked__new_conn_refused_live_conn_kept(
    void **state)
{
	struct vdi_tls_config c = server_config();
	char err[VDI_TLS_ERR_SIZE], args[1024];
	struct vdi_tls *t = NULL;
	SSL_CTX *cctx = client_ctx("city-b", "shared-1");
	struct conn live, cn;

	assert_int_equal(vdi_tls_new(&c, &t, err, sizeof(err)), 0);
	handshake_host(vdi_tls_ssl_new(t), cctx, &live, NULL);
	assert_true(live.ok);

	snprintf(args, sizeof(args), "--revoke '%s' city-b shared-1", pkidir);
	assert_int_equal(run_mkpki(args), 0);
	assert_int_equal(vdi_tls_reload(t, err, sizeof(err)), 0);
	assert_int_equal(vdi_tls_generation(t), 2);

	handshake_host(vdi_tls_ssl_new(t), cctx, &cn, NULL);
	assert_false(cn.ok);
	assert_string_equal(vdi_tls_verify_error(cn.s), "certificate revoked");
	conn_free(&cn);

	/* the connection made before the reload still carries data, and
	 * still reports its CA */
	exchange(&live, "still here");
	{
		size_t idx;

		assert_int_equal(vdi_tls_peer_ca(live.s, &idx, NULL), 0);
		assert_int_equal(idx, 1);
	}
	conn_free(&live);
	SSL_CTX_free(cctx);
	vdi_tls_free(t);
}

static void
vdi_tls_reconfigure__when_tenant_added__accepted_after(void **state)
{
	struct vdi_tls_config c = server_config();
	char err[VDI_TLS_ERR_SIZE];
	struct vdi_tls *t = NULL;
	SSL_CTX *cctx = client_ctx("city-b", "tablet-2");
	struct conn cn;
	size_t idx;

	c.ncas = 1; /* city-a only */
	assert_int_equal(vdi_tls_new(&c, &t, err, sizeof(err)), 0);
	handshake_host(vdi_tls_ssl_new(t), cctx, &cn, NULL);
	assert_false(cn.ok);
	conn_free(&cn);

	/* a bad new configuration changes nothing */
	c.ncas = 2;
	tenant_cas[1].crl_file = scratch("nonexistent.pem");
	assert_int_equal(
	    vdi_tls_reconfigure(t, &c, err, sizeof(err)), VDI_ERR_CRL_LOAD);
	assert_int_equal(vdi_tls_generation(t), 1);

	c = server_config();
	assert_int_equal(vdi_tls_reconfigure(t, &c, err, sizeof(err)), 0);
	/* the holder copied cfg: clobbering it must not matter */
	memset(tenant_cas, 0, sizeof(tenant_cas));
	assert_int_equal(vdi_tls_reload(t, err, sizeof(err)), 0);
	assert_int_equal(vdi_tls_generation(t), 3);
	handshake_host(vdi_tls_ssl_new(t), cctx, &cn, NULL);
	assert_true(cn.ok);
	assert_int_equal(vdi_tls_peer_ca(cn.s, &idx, NULL), 0);
	assert_int_equal(idx, 1);
	conn_free(&cn);
	SSL_CTX_free(cctx);
	vdi_tls_free(t);
	vdi_tls_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    vdi_tls_thumbprint_hex__when_pki_cert__matches_openssl_fingerprint),
		cmocka_unit_test(
		    vdi_tls_thumbprint_b64url__when_pki_cert__is_raw_digest_unpadded),
		cmocka_unit_test(
		    vdi_tls_thumbprint__when_bad_arguments__error_and_cleared),
		cmocka_unit_test(
		    vdi_tls_cert_subject__when_device_cert__rfc2253_line),
		cmocka_unit_test(
		    vdi_tls_ctx_new__when_ca_file_missing__error_names_file_and_fix),
		cmocka_unit_test(
		    vdi_tls_ctx_new__when_ca_file_garbage__error_names_file),
		cmocka_unit_test(
		    vdi_tls_ctx_new__when_ca_file_holds_device_cert__refused),
		cmocka_unit_test(
		    vdi_tls_ctx_new__when_crl_file_missing_or_garbage__crl_load_error),
		cmocka_unit_test(
		    vdi_tls_ctx_new__when_crl_of_other_ca__refused),
		cmocka_unit_test(
		    vdi_tls_ctx_new__when_crl_missing_for_a_ca__config_error),
		cmocka_unit_test(
		    vdi_tls_ctx_new__when_ca_file_has_ca_without_crl__refused_unless_leaf_only),
		cmocka_unit_test(
		    vdi_tls_ctx_new__when_key_does_not_match_cert__refused),
		cmocka_unit_test(
		    vdi_tls_ctx_new__when_cert_or_key_missing__error_names_file),
		cmocka_unit_test(
		    vdi_tls_ctx_new__when_key_in_cert_file__loaded),
		cmocka_unit_test(
		    vdi_tls_ctx_new__when_server_config_valid__intermediate_profile),
		cmocka_unit_test(
		    handshake__when_tenant_devices__accepted_with_issuing_ca),
		cmocka_unit_test(
		    handshake__when_bad_device_cert__refused_with_reason),
		cmocka_unit_test(handshake__when_no_client_cert__refused),
		cmocka_unit_test(
		    vdi_tls_set_peer_host__when_server_name_mismatch__client_refuses),
		cmocka_unit_test(
		    vdi_tls_reload__when_crl_broken__keeps_old_ctx_and_errors),
		cmocka_unit_test(
		    vdi_tls_reload__when_device_revoked__new_conn_refused_live_conn_kept),
		cmocka_unit_test(
		    vdi_tls_reconfigure__when_tenant_added__accepted_after),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
