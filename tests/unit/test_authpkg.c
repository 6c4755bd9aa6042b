/*
 * Unit tests for gateway/authpkg_winpr.c: a real NTLM exchange between
 * winpr's client and server SSPI in this process (the server checks a SAM
 * file written by winpr-hash), sealing both ways, the failures; and the
 * issue's warning: winpr loads OpenSSL providers process-wide (legacy, for
 * MD4/RC4), so the gateway's own TLS profile (common/tls_ctx.c) is
 * snapshotted before winpr is touched and compared after, and TLS 1.0 and
 * RC4 handshakes are shown still refused once the legacy provider is in.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/provider.h>
#include <openssl/ssl.h>

#include "gateway/authpkg.h"
#include "rdp/cssp.h"
#include "tls.h"

/* LeakSanitizer: winpr 2.11 leaks inside its NTLM package (the SAM file
 * name set on a context is never freed by ntlm_ContextFree, and
 * AcceptSecurityContext's error paths drop buffers). Only stacks that pass
 * through libwinpr2 are suppressed; leaks of our own code still fail. */
const char *__lsan_default_suppressions(void);
const char *
__lsan_default_suppressions(void)
{
	return "leak:libwinpr2.so\n";
}

static char tmpdir[256];
static char sam[512];

/* The gateway's TLS client profile (its desktop leg), as text. */
struct profile {
	long min, max;
	int level;
	char ciphers[4096];
};

static struct profile before;

static SSL_CTX *
gateway_client_ctx(void)
{
	struct vdi_tls_config c;
	char err[VDI_TLS_ERR_SIZE];
	SSL_CTX *ctx = NULL;

	memset(&c, 0, sizeof(c));
	c.role = VDI_TLS_CLIENT;
	c.flags = VDI_TLS_VERIFY_NONE;
	if (vdi_tls_ctx_new(&c, &ctx, err, sizeof(err)) != 0) {
		fprintf(stderr, "vdi_tls_ctx_new: %s\n", err);
		return NULL;
	}
	return ctx;
}

static int
snapshot(struct profile *p)
{
	SSL_CTX *ctx = gateway_client_ctx();
	STACK_OF(SSL_CIPHER) *sk;
	int i;

	memset(p, 0, sizeof(*p));
	if (ctx == NULL)
		return -1;
	p->min = SSL_CTX_get_min_proto_version(ctx);
	p->max = SSL_CTX_get_max_proto_version(ctx);
	p->level = SSL_CTX_get_security_level(ctx);
	sk = SSL_CTX_get_ciphers(ctx);
	for (i = 0; i < sk_SSL_CIPHER_num(sk); i++) {
		strncat(p->ciphers,
		    SSL_CIPHER_get_name(sk_SSL_CIPHER_value(sk, i)),
		    sizeof(p->ciphers) - strlen(p->ciphers) - 2);
		strcat(p->ciphers, ":");
	}
	SSL_CTX_free(ctx);
	return 0;
}

static int
group_setup(void **state)
{
	const char *t = getenv("TMPDIR"), *src = getenv("top_srcdir"),
		   *o = getenv("OPENSSL");
	char cmd[2048];

	(void)state;
	/* Before anything of winpr runs in this process. */
	if (snapshot(&before) != 0)
		return -1;
	snprintf(tmpdir, sizeof(tmpdir), "%s/vdi-test-authpkg.XXXXXX",
	    t != NULL && *t != '\0' ? t : "/tmp");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(cmd, sizeof(cmd),
	    "OPENSSL='%s' sh '%s/tests/pki/mkpki.sh' '%s/pki' "
	    ">'%s/mkpki.log' 2>&1",
	    o != NULL && *o != '\0' ? o : "openssl", src != NULL ? src : "..",
	    tmpdir, tmpdir);
	if (system(cmd) != 0) {
		fprintf(stderr, "mkpki.sh failed, see %s/mkpki.log\n", tmpdir);
		return -1;
	}
	/* The SAM line from winpr's own tool (user:domain::NTHASH:::). */
	snprintf(sam, sizeof(sam), "%s/SAM", tmpdir);
	snprintf(cmd, sizeof(cmd),
	    "winpr-hash -u alice -p 's3cret pass' -d CITY -f sam >'%s' && "
	    "winpr-hash -u bob -p other -f sam >>'%s'",
	    sam, sam);
	if (system(cmd) != 0) {
		fprintf(stderr,
		    "winpr-hash failed (Debian package "
		    "winpr-utils)\n");
		return -1;
	}
	return 0;
}

static int
group_teardown(void **state)
{
	char cmd[512];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Runs the exchange to its end; returns the server's last result. */
static int
exchange(struct authpkg *c, struct authpkg *s, int *rounds)
{
	struct vbuf *ct = vbuf_new(AUTHPKG_TOKEN_MAX),
		    *st = vbuf_new(AUTHPKG_TOKEN_MAX);
	int cdone = 0, sdone = 0, r = 0, i;
	uint32_t status;

	*rounds = 0;
	assert_non_null(ct);
	assert_non_null(st);
	/* NEGOTIATE, CHALLENGE, AUTHENTICATE. */
	assert_int_equal(authpkg_step(c, NULL, 0, ct, &cdone, &status), 0);
	for (i = 0; i < 4 && !sdone; i++) {
		assert_true(vbuf_len(ct) > 0);
		assert_memory_equal(vbuf_ptr(ct), "NTLMSSP\0", 8);
		vbuf_reset(st);
		r = authpkg_step(
		    s, vbuf_ptr(ct), vbuf_len(ct), st, &sdone, &status);
		(*rounds)++;
		if (r != 0 || sdone)
			break;
		vbuf_reset(ct);
		assert_int_equal(authpkg_step(c, vbuf_ptr(st), vbuf_len(st), ct,
				     &cdone, &status),
		    0);
	}
	if (r == 0)
		assert_true(cdone && sdone);
	vbuf_free(ct);
	vbuf_free(st);
	return r;
}

static void
authpkg_ntlm__when_sam_password__established_and_seals_both_ways(void **state)
{
	static const char secret[] = "TSCredentials would go here";
	struct authpkg *c = NULL, *s = NULL;
	struct vbuf *sealed = vbuf_new(4096), *plain = vbuf_new(4096);
	unsigned char *p;
	uint32_t status;
	int rounds;

	(void)state;
	assert_true(authpkg_available());
	assert_int_equal(authpkg_client_new("alice", "CITY", "s3cret pass",
			     "TERMSRV/localhost", &c, &status),
	    0);
	assert_int_equal(authpkg_server_new(sam, &s, &status), 0);
	assert_int_equal(exchange(c, s, &rounds), 0);
	assert_int_equal(rounds, 2);

	/* Client to server, as authInfo is carried. */
	assert_int_equal(authpkg_seal(c, (const unsigned char *)secret,
			     sizeof(secret), sealed, &status),
	    0);
	assert_int_equal(vbuf_len(sealed), 16 + sizeof(secret));
	assert_true(
	    memmem(vbuf_ptr(sealed), vbuf_len(sealed), "TSCred", 6) == NULL);
	assert_int_equal(authpkg_unseal(s, vbuf_ptr(sealed), vbuf_len(sealed),
			     plain, &status),
	    0);
	assert_int_equal(vbuf_len(plain), sizeof(secret));
	assert_memory_equal(vbuf_ptr(plain), secret, sizeof(secret));
	/* The same message again is out of sequence. */
	vbuf_reset(plain);
	assert_int_equal(authpkg_unseal(s, vbuf_ptr(sealed), vbuf_len(sealed),
			     plain, &status),
	    VDI_ERR_DENIED);

	/* Server to client, as pubKeyAuth comes back; then a flipped bit. */
	vbuf_reset(sealed);
	vbuf_reset(plain);
	assert_int_equal(authpkg_seal(s, (const unsigned char *)"pubkey", 6,
			     sealed, &status),
	    0);
	p = vbuf_mutable_ptr(sealed);
	p[vbuf_len(sealed) - 1] ^= 1;
	assert_int_equal(authpkg_unseal(c, vbuf_ptr(sealed), vbuf_len(sealed),
			     plain, &status),
	    VDI_ERR_DENIED);
	assert_int_equal(vbuf_len(plain), 0);
	assert_int_equal(
	    authpkg_unseal(c, p, 3, plain, &status), VDI_ERR_BAD_FORMAT);

	/* No more steps once established. */
	{
		int done;

		assert_int_equal(authpkg_step(c, p, 3, plain, &done, &status),
		    VDI_ERR_INVALID_ARG);
	}
	authpkg_free(c);
	authpkg_free(s);
	vbuf_free(sealed);
	vbuf_free(plain);
}

/* With VDI_CSSP_SEED_DIR set, the TSRequests carrying real NTLM messages
 * are written there (how tests/fuzz/corpus/rdp_cssp/ntlm-* were made). */
static void
dump_seed(int i, const struct vbuf *msg)
{
	static const char *names[] = { "negotiate", "challenge",
		"authenticate" };
	const char *dir = getenv("VDI_CSSP_SEED_DIR");
	char path[1024];
	FILE *f;

	if (dir == NULL || *dir == '\0' || i < 0 || i > 2)
		return;
	snprintf(path, sizeof(path), "%s/ntlm-v6-%s", dir, names[i]);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(
	    fwrite(vbuf_ptr(msg), 1, vbuf_len(msg), f), vbuf_len(msg));
	fclose(f);
}

static void
authpkg_ntlm__when_cssp_framed__tokens_roundtrip_through_tsrequest(void **state)
{
	/* The real NTLM tokens carried in our TSRequests, as the desktop
	 * leg will: encode, parse, hand the parsed token to the peer. */
	struct authpkg *c = NULL, *s = NULL;
	struct vbuf *tok = vbuf_new(AUTHPKG_TOKEN_MAX),
		    *msg = vbuf_new(RDP_CSSP_REQUEST_MAX);
	struct rdp_cssp_request req, got;
	uint32_t status;
	int cdone = 0, sdone = 0, i;

	(void)state;
	assert_int_equal(
	    authpkg_client_new("bob", "", "other", NULL, &c, &status), 0);
	assert_int_equal(authpkg_server_new(sam, &s, &status), 0);
	assert_int_equal(authpkg_step(c, NULL, 0, tok, &cdone, &status), 0);
	for (i = 0; i < 3 && !sdone; i++) {
		memset(&req, 0, sizeof(req));
		req.version = RDP_CSSP_VERSION;
		req.has_nego_token = 1;
		vbuf_init_view(&req.nego_token, vbuf_ptr(tok), vbuf_len(tok));
		vbuf_reset(msg);
		assert_int_equal(rdp_cssp_write_request(msg, &req), 0);
		dump_seed(i, msg);
		assert_int_equal(rdp_cssp_parse_request(msg, &got), 0);
		assert_true(got.has_nego_token);
		/* got's views point into msg: the peer reads the token from
		 * there and writes its answer to tok. */
		vbuf_reset(tok);
		if (i % 2 == 0)
			assert_int_equal(
			    authpkg_step(s, vbuf_ptr(&got.nego_token),
				vbuf_len(&got.nego_token), tok, &sdone,
				&status),
			    0);
		else
			assert_int_equal(
			    authpkg_step(c, vbuf_ptr(&got.nego_token),
				vbuf_len(&got.nego_token), tok, &cdone,
				&status),
			    0);
	}
	assert_true(cdone && sdone);
	authpkg_free(c);
	authpkg_free(s);
	vbuf_free(tok);
	vbuf_free(msg);
}

static void
authpkg_ntlm__when_wrong_password_or_unknown_user__denied(void **state)
{
	static const char *users[2][3] = { { "alice", "CITY", "wrong" },
		{ "mallory", "CITY", "s3cret pass" } };
	struct authpkg *c, *s;
	uint32_t status;
	int rounds, i;

	(void)state;
	for (i = 0; i < 2; i++) {
		c = s = NULL;
		assert_int_equal(authpkg_client_new(users[i][0], users[i][1],
				     users[i][2], NULL, &c, &status),
		    0);
		assert_int_equal(authpkg_server_new(sam, &s, &status), 0);
		assert_int_equal(exchange(c, s, &rounds), VDI_ERR_DENIED);
		assert_int_equal(rounds, 2);
		authpkg_free(c);
		authpkg_free(s);
	}
}

static void
authpkg_client_new__when_bad_arguments__invalid_arg(void **state)
{
	char longname[AUTHPKG_USER_MAX + 2];
	struct authpkg *c = (struct authpkg *)&c;
	struct vbuf *out = vbuf_new(64);
	uint32_t status;
	int done;

	(void)state;
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(authpkg_client_new("", "D", "p", NULL, &c, &status),
	    VDI_ERR_INVALID_ARG);
	assert_null(c);
	assert_int_equal(
	    authpkg_client_new(longname, "D", "p", NULL, &c, &status),
	    VDI_ERR_INVALID_ARG);
	assert_int_equal(
	    authpkg_server_new("", &c, &status), VDI_ERR_INVALID_ARG);
	/* A server step needs a token; a garbage token is refused. */
	assert_int_equal(authpkg_server_new(sam, &c, &status), 0);
	assert_int_equal(
	    authpkg_step(c, NULL, 0, out, &done, &status), VDI_ERR_INVALID_ARG);
	assert_int_not_equal(authpkg_step(c, (const unsigned char *)"garbage",
				 7, out, &done, &status),
	    0);
	assert_int_equal(vbuf_len(out), 0);
	authpkg_free(c);
	authpkg_free(NULL);
	vbuf_free(out);
}

/* --- the gateway's TLS after winpr ------------------------------------------
 */

/* A handshake over a BIO pair between the gateway's client context and a
 * permissive test server; 1 when it completes. */
static int
handshake(SSL_CTX *cctx, SSL_CTX *sctx)
{
	SSL *c = SSL_new(cctx), *s = SSL_new(sctx);
	BIO *bc = NULL, *bs = NULL;
	int i, rc = 0, rs = 0, ok;

	assert_non_null(c);
	assert_non_null(s);
	assert_int_equal(BIO_new_bio_pair(&bc, 0, &bs, 0), 1);
	SSL_set_bio(c, bc, bc);
	SSL_set_bio(s, bs, bs);
	SSL_set_connect_state(c);
	SSL_set_accept_state(s);
	for (i = 0; i < 20; i++) {
		rc = SSL_do_handshake(c);
		rs = SSL_do_handshake(s);
		if (rc == 1 && rs == 1)
			break;
		if ((rc <= 0 && SSL_get_error(c, rc) != SSL_ERROR_WANT_READ) ||
		    (rs <= 0 && SSL_get_error(s, rs) != SSL_ERROR_WANT_READ))
			break;
	}
	ok = rc == 1 && rs == 1;
	SSL_free(c);
	SSL_free(s);
	return ok;
}

static SSL_CTX *
weak_server(int version, const char *ciphers)
{
	SSL_CTX *s = SSL_CTX_new(TLS_server_method());
	char cert[600], key[600];

	assert_non_null(s);
	snprintf(cert, sizeof(cert), "%s/pki/infra/desktop-1.pem", tmpdir);
	snprintf(key, sizeof(key), "%s/pki/infra/desktop-1.key", tmpdir);
	SSL_CTX_set_security_level(s, 0);
	assert_int_equal(SSL_CTX_use_certificate_chain_file(s, cert), 1);
	assert_int_equal(
	    SSL_CTX_use_PrivateKey_file(s, key, SSL_FILETYPE_PEM), 1);
	if (version != 0) {
		assert_int_equal(SSL_CTX_set_min_proto_version(s, version), 1);
		assert_int_equal(SSL_CTX_set_max_proto_version(s, version), 1);
	}
	if (ciphers != NULL && SSL_CTX_set_cipher_list(s, ciphers) != 1) {
		/* This libssl cannot even offer them. */
		SSL_CTX_free(s);
		return NULL;
	}
	return s;
}

static void
tls_profile__after_winpr_loaded_legacy__unchanged_and_weak_peers_refused(
    void **state)
{
	struct authpkg *c = NULL, *s = NULL;
	struct profile after;
	SSL_CTX *g, *w;
	EVP_MD *md4;
	uint32_t status;
	int rounds;

	(void)state;
	/* winpr in full use: a whole NTLM exchange (MD4, RC4 inside). */
	assert_int_equal(authpkg_client_new(
			     "alice", "CITY", "s3cret pass", NULL, &c, &status),
	    0);
	assert_int_equal(authpkg_server_new(sam, &s, &status), 0);
	assert_int_equal(exchange(c, s, &rounds), 0);
	authpkg_free(c);
	authpkg_free(s);

	/* The warning is real: MD4 (legacy provider) is there now. */
	md4 = EVP_MD_fetch(NULL, "MD4", NULL);
	print_message("legacy provider available after winpr: %s\n",
	    OSSL_PROVIDER_available(NULL, "legacy") ? "yes" : "no");
	print_message(
	    "MD4 fetchable after winpr: %s\n", md4 != NULL ? "yes" : "no");
	EVP_MD_free(md4);

	/* The gateway's profile is the same as before winpr ran. */
	assert_int_equal(snapshot(&after), 0);
	assert_int_equal(after.min, before.min);
	assert_int_equal(after.max, before.max);
	assert_int_equal(after.min, TLS1_2_VERSION);
	assert_int_equal(after.level, before.level);
	assert_string_equal(after.ciphers, before.ciphers);
	assert_null(strstr(after.ciphers, "RC4"));
	assert_null(strstr(after.ciphers, "MD5"));

	/* And it still refuses weak desktops; a good one still works. */
	g = gateway_client_ctx();
	assert_non_null(g);
	w = weak_server(TLS1_VERSION, "ALL:@SECLEVEL=0");
	assert_false(handshake(g, w));
	SSL_CTX_free(w);
	w = weak_server(TLS1_1_VERSION, "ALL:@SECLEVEL=0");
	assert_false(handshake(g, w));
	SSL_CTX_free(w);
	/* RC4 suites: with the legacy provider loaded a server could offer
	 * them if libssl has them compiled in; either way the gateway must
	 * not agree. */
	w = weak_server(TLS1_2_VERSION, "RC4-SHA:RC4-MD5:@SECLEVEL=0");
	if (w == NULL)
		print_message("RC4 suites not built into this libssl: only "
			      "the cipher list is checked\n");
	else {
		assert_false(handshake(g, w));
		SSL_CTX_free(w);
	}
	/* A TLS 1.2 server with only suites outside the profile (CBC, SHA-1,
	 * no forward secrecy): refused too. */
	w = weak_server(TLS1_2_VERSION, "AES128-SHA:DES-CBC3-SHA:@SECLEVEL=0");
	assert_non_null(w);
	assert_false(handshake(g, w));
	SSL_CTX_free(w);
	w = weak_server(0, NULL);
	assert_true(handshake(g, w));
	SSL_CTX_free(w);
	SSL_CTX_free(g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    authpkg_ntlm__when_sam_password__established_and_seals_both_ways),
		cmocka_unit_test(
		    authpkg_ntlm__when_cssp_framed__tokens_roundtrip_through_tsrequest),
		cmocka_unit_test(
		    authpkg_ntlm__when_wrong_password_or_unknown_user__denied),
		cmocka_unit_test(
		    authpkg_client_new__when_bad_arguments__invalid_arg),
		cmocka_unit_test(
		    tls_profile__after_winpr_loaded_legacy__unchanged_and_weak_peers_refused),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
