/*
 * Tests for the privilege separation (broker/privsep*.c, monitor*.c) and
 * broker/pam_child.c with real processes and real PAM (pam_wrapper +
 * pam_matrix + tests/peers/pam_vdi_otp), no root needed. Driven the way
 * vdi-brokerd drives them.
 *
 * Stage 1 (as started by make check) writes a temporary directory with
 * keys, a pam_matrix passdb, an OTP code file and PAM service files, sets
 *   LD_PRELOAD=libpam_wrapper.so PAM_WRAPPER=1
 *   PAM_WRAPPER_SERVICE_DIR=<dir>/services
 *   ASAN_OPTIONS=...:verify_asan_link_order=0   (ASan builds; and
 *   PAM_WRAPPER_DISABLE_DEEPBIND=1, UID_WRAPPER_DISABLE_DEEPBIND=1)
 * and re-executes itself. Stage 2 forks: the child calls privsep_start()
 * and becomes the monitor, its child (the worker) runs the tests; the
 * stage 2 parent waits and removes the directory. Started as root, the
 * worker runs as "nobody", which also exercises the privilege drop.
 * Without pam_wrapper the PAM tests are skipped, the others still run.
 */
#include "config.h"

#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "b64url.h"
#include "jws.h"
#include "privsep.h"
#include "vlog.h"

#define STAGE_ENV "VDI_TEST_PRIVSEP_DIR"
#define FRAME_BUF (PAMMSG_HEADER_LEN + PAMMSG_FRAME_MAX)

static char dir[512];
static int have_pam;
static int as_root;
static unsigned char seal_key[PRIVSEP_SEAL_KEY_LEN];
static struct privsep *ps;
static const char *const services[] = { "vdi-pw", "vdi-otp", "vdi-acct", NULL };

/* --- stage 1: files and environment --------------------------------------- */

static void
die(const char *what)
{
	fprintf(stderr, "test_privsep: %s: %s\n", what, strerror(errno));
	exit(99);
}

static void put_file(const char *name, mode_t mode, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
put_file(const char *name, mode_t mode, const char *fmt, ...)
{
	char path[PATH_MAX];
	va_list ap;
	FILE *f;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    (int)sizeof(path))
		die(name);
	if ((f = fopen(path, "w")) == NULL)
		die(path);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	if (fclose(f) != 0 || chmod(path, mode) != 0)
		die(path);
}

static int
exists(const char *path)
{
	return access(path, R_OK) == 0;
}

/* Where pam_wrapper keeps pam_matrix.so, from pkg-config or the usual
 * places; "" when not found. */
static void
find_pam_wrapper(char *modules, size_t mlen, char *lib, size_t llen)
{
	static const char *const dirs[] = { "/usr/lib/x86_64-linux-gnu",
		"/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib", NULL };
	char path[1024];
	FILE *p;
	size_t i;

	modules[0] = lib[0] = '\0';
	if ((p = popen("pkg-config --variable=modules pam_wrapper 2>/dev/null",
		 "r")) != NULL) {
		if (fgets(modules, (int)mlen, p) == NULL)
			modules[0] = '\0';
		modules[strcspn(modules, "\n")] = '\0';
		pclose(p);
	}
	for (i = 0; dirs[i] != NULL; i++) {
		snprintf(path, sizeof(path), "%s/pam_wrapper/pam_matrix.so",
		    dirs[i]);
		if (modules[0] == '\0' && exists(path))
			snprintf(modules, mlen, "%s/pam_wrapper", dirs[i]);
		snprintf(path, sizeof(path), "%s/libpam_wrapper.so", dirs[i]);
		if (lib[0] == '\0' && exists(path))
			snprintf(lib, llen, "%s", path);
	}
	snprintf(path, sizeof(path), "%s/pam_matrix.so", modules);
	if (!exists(path))
		modules[0] = '\0';
}

/* The build directory: $top_builddir, or derived from our own path. */
static void
find_builddir(char *out, size_t len)
{
	const char *e = getenv("top_builddir");
	char self[1024], *p;
	ssize_t n;

	if (e != NULL && e[0] == '/') {
		snprintf(out, len, "%s", e);
		return;
	}
	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) < 0)
		die("readlink");
	self[n] = '\0';
	if ((p = strstr(self, "/tests/unit/")) != NULL)
		*p = '\0';
	snprintf(out, len, "%s", self);
}

static void
run(const char *cmd)
{
	if (system(cmd) != 0) {
		fprintf(stderr, "test_privsep: failed: %s\n", cmd);
		exit(99);
	}
}

static void
stage1(char **argv)
{
	char modules[1024], lib[1024], build[1024], otp[PATH_MAX];
	char cmd[8192], b64[64], svc[PATH_MAX];
	const char *openssl = getenv("OPENSSL"), *tmp = getenv("TMPDIR");
	unsigned char raw[PRIVSEP_SEAL_KEY_LEN];
	FILE *f;

	if (openssl == NULL || openssl[0] == '\0')
		openssl = "openssl";
	snprintf(dir, sizeof(dir), "%s/vdi-privsep.XXXXXX",
	    tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL || chmod(dir, 0755) != 0)
		die("mkdtemp");
	/* Signing key: made by the openssl command, so that this process
	 * (and the worker it will fork) never reads the private key. */
	snprintf(cmd, sizeof(cmd),
	    "'%s' genpkey -algorithm ed25519 -out '%s/sign.pem' && "
	    "'%s' pkey -in '%s/sign.pem' -pubout -out '%s/sign.pub.pem' && "
	    "'%s' pkey -in '%s/sign.pem' -outform DER -out '%s/sign.der'",
	    openssl, dir, openssl, dir, dir, openssl, dir, dir);
	run(cmd);
	snprintf(cmd, sizeof(cmd),
	    "chmod 600 '%s/sign.pem' && "
	    "chmod 644 '%s/sign.pub.pem' '%s/sign.der'",
	    dir, dir, dir);
	run(cmd);
	/* Seal key as base64url text. */
	if ((f = fopen("/dev/urandom", "r")) == NULL ||
	    fread(raw, 1, sizeof(raw), f) != sizeof(raw))
		die("urandom");
	fclose(f);
	if (b64url_encode(raw, sizeof(raw), b64, sizeof(b64)) != 0)
		die("b64url");
	put_file("seal.key", 0600, "%s\n", b64);
	OPENSSL_cleanse(raw, sizeof(raw));

	put_file("passdb", 0644,
	    "alice:secret:vdi-pw\n"
	    "bob:hunter2:vdi-otp\n"
	    "carol:pw3:elsewhere\n"
	    "dave:pw4:vdi-acct\n"
	    "erin:pw5:vdi-acct\n");
	put_file("codes", 0644, "bob 123456\nalice 999999\n");
	snprintf(svc, sizeof(svc), "%s/services", dir);
	if (mkdir(svc, 0755) != 0)
		die(svc);

	find_pam_wrapper(modules, sizeof(modules), lib, sizeof(lib));
	find_builddir(build, sizeof(build));
	snprintf(
	    otp, sizeof(otp), "%s/tests/peers/.libs/pam_vdi_otp.so", build);
	put_file("services/vdi-pw", 0644,
	    "auth required %s/pam_matrix.so passdb=%s/passdb\n"
	    "account required %s/pam_matrix.so passdb=%s/passdb\n",
	    modules, dir, modules, dir);
	put_file("services/vdi-otp", 0644,
	    "auth required %s/pam_matrix.so passdb=%s/passdb\n"
	    "auth required %s codes=%s/codes info\n"
	    "account required %s/pam_matrix.so passdb=%s/passdb\n",
	    modules, dir, otp, dir, modules, dir);
	/* libpam falls back to "other" for unknown services: deny. */
	put_file("services/other", 0644,
	    "auth required %s/pam_matrix.so passdb=%s/no-such-passdb\n"
	    "account required %s/pam_matrix.so passdb=%s/no-such-passdb\n",
	    modules, dir, modules, dir);
	/* verbose: pam_matrix sends a text-only batch after the password. */
	put_file("services/vdi-acct", 0644,
	    "auth required %s/pam_matrix.so passdb=%s/passdb verbose\n"
	    "account required %s expired=dave acct_expired=erin\n",
	    modules, dir, otp);

	if (modules[0] != '\0' && lib[0] != '\0' && exists(otp)) {
		setenv("LD_PRELOAD", lib, 1);
		setenv("PAM_WRAPPER", "1", 1);
		setenv("PAM_WRAPPER_SERVICE_DIR", svc, 1);
		setenv("VDI_TEST_HAVE_PAM", "1", 1);
#if defined(__SANITIZE_ADDRESS__)
		{
			const char *old = getenv("ASAN_OPTIONS");
			char opts[1024];

			/* The preloaded wrapper comes before the ASan
			 * runtime; RTLD_DEEPBIND does not work with ASan
			 * (1.1.4 reads the UID_ spelling). */
			snprintf(opts, sizeof(opts),
			    "%s%sverify_asan_link_order=0",
			    old != NULL ? old : "",
			    old != NULL && old[0] != '\0' ? ":" : "");
			setenv("ASAN_OPTIONS", opts, 1);
			setenv("PAM_WRAPPER_DISABLE_DEEPBIND", "1", 1);
			setenv("UID_WRAPPER_DISABLE_DEEPBIND", "1", 1);
		}
#endif
	} else
		fprintf(stderr,
		    "test_privsep: pam_wrapper, pam_matrix or "
		    "pam_vdi_otp not found (modules=%s lib=%s otp=%s): PAM "
		    "tests will be skipped\n",
		    modules, lib, otp);
	setenv(STAGE_ENV, dir, 1);
	execv("/proc/self/exe", argv);
	die("execv");
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

/* pam_wrapper makes a /tmp/pam.X directory in each process that calls
 * pam_start() and removes it at exit(); PAM children end with _exit() (a
 * fork must not run the monitor's atexit handlers), so theirs stay behind.
 * Removes those whose creator is gone, as pam_wrapper itself does when it
 * comes across them. */
static void
clean_pam_wrapper_dirs(void)
{
	char path[64], pidtext[32];
	struct stat st;
	const char *c;
	FILE *f;
	long pid;

	for (c = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXY"
		 "Z";
	     *c != '\0'; c++) {
		snprintf(path, sizeof(path), "/tmp/pam.%c", *c);
		if (lstat(path, &st) != 0 || !S_ISDIR(st.st_mode) ||
		    st.st_uid != geteuid())
			continue;
		snprintf(path, sizeof(path), "/tmp/pam.%c/pid", *c);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		pid = 0;
		if (fgets(pidtext, sizeof(pidtext), f) != NULL)
			pid = strtol(pidtext, NULL, 10);
		fclose(f);
		if (pid <= 0 || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		snprintf(path, sizeof(path), "/tmp/pam.%c", *c);
		nftw(path, rm_entry, 4, FTW_DEPTH | FTW_PHYS);
	}
}

/* --- helpers for the tests (in the worker) -------------------------------- */

static void
path_of(char *out, size_t len, const char *name)
{
	if (snprintf(out, len, "%s/%s", dir, name) >= (int)len)
		die(name);
}

/* Answers from a script: one string per prompt, in order. Records what
 * was asked. */
struct script {
	const char *answers[8];
	size_t next;
	size_t batches;
	size_t prompts;
	char asked[8][PAMMSG_TEXT_MAX + 1];
	int styles[8];
	size_t infos;
	char info[PAMMSG_TEXT_MAX + 1];
};

static int
script_answer(void *arg, const struct pammsg *q, struct pammsg *a)
{
	struct script *s = arg;
	size_t i;

	s->batches++;
	for (i = 0; i < q->u.prompts.n; i++) {
		int st = q->u.prompts.msg[i].style;

		if (st != PAMMSG_ECHO_OFF && st != PAMMSG_ECHO_ON) {
			s->infos++;
			snprintf(s->info, sizeof(s->info), "%s",
			    q->u.prompts.msg[i].text);
			continue;
		}
		if (s->prompts < 8) {
			snprintf(s->asked[s->prompts], sizeof(s->asked[0]),
			    "%s", q->u.prompts.msg[i].text);
			s->styles[s->prompts] = st;
		}
		s->prompts++;
		if (s->next >= 8 || s->answers[s->next] == NULL)
			return VDI_ERR_NOT_FOUND;
		snprintf(a->u.answers.answer[a->u.answers.n],
		    sizeof(a->u.answers.answer[0]), "%s",
		    s->answers[s->next++]);
		a->u.answers.n++;
	}
	return 0;
}

static int
script_info(void *arg, const struct pammsg *q, struct pammsg *a)
{
	struct script *s = arg;

	(void)a;
	s->infos += q->u.prompts.n;
	return 0;
}

/* The tenant and devices the test logs in with (base64url SHA-256s). */
#define TENANT "town-a"
#define DEV_A  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
#define DEV_B  "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"

/* The monitor's id of the last login(). */
static char last_login[PRIVSEP_LOGIN_ID_SIZE];

static int
login(
    const char *service, const char *user, struct script *s, struct pammsg *res)
{
	struct privsep_login who = { service, user, "192.0.2.7", TENANT,
		DEV_A };

	return privsep_pam_converse(
	    ps, &who, script_answer, script_info, s, res, last_login);
}

/* privsep_pam_begin() for TENANT and DEV_A. */
static int
begin(const char *service, const char *user, const char *rhost, int *fd)
{
	struct privsep_login who = { service, user, rhost, TENANT, DEV_A };

	return privsep_pam_begin(ps, &who, NULL, fd);
}

/* Waits for the next message on a conversation, like the event loop. */
static int
next_msg(int fd, struct vbuf *in, struct pammsg *m, int timeout_ms)
{
	struct pollfd p;
	int r;

	for (;;) {
		if ((r = privsep_pam_read(fd, in, m)) != VDI_ERR_NEED_MORE)
			return r;
		p.fd = fd;
		p.events = POLLIN;
		if (poll(&p, 1, timeout_ms) <= 0)
			return VDI_ERR_TIMEOUT;
	}
}

#define SKIP_WITHOUT_PAM()                                                     \
	do {                                                                   \
		if (!have_pam)                                                 \
			skip();                                                \
	} while (0)

/* --- SIGN ----------------------------------------------------------------- */

/* Gateway-token-like claims for sub on TENANT, device DEV_A, session sid,
 * desktop dst. */
static json_t *
claims_for(const char *sub, const char *tid, const char *x5t, const char *sid,
    const char *dst, int64_t lifetime)
{
	int64_t now = (int64_t)time(NULL);

	return json_pack("{s:s, s:s, s:I, s:I, s:I, s:s, s:s, s:s, s:s, s:s,"
			 " s:{s:s}}",
	    "iss", "broker", "aud", "gateway", "iat", (json_int_t)now, "nbf",
	    (json_int_t)now, "exp", (json_int_t)(now + lifetime), "jti",
	    "AAECAwQFBgcICQoLDA0ODw", "sub", sub, "tid", tid, "sid", sid, "dst",
	    dst, "cnf", "x5t#S256", x5t);
}

static json_t *
claims_now(int64_t lifetime)
{
	return claims_for(
	    "alice", TENANT, DEV_A, "s1", "192.0.2.50:3389", lifetime);
}

/* A successful PAM login of alice; its id is in last_login. */
static void
login_alice(void)
{
	struct script s = { .answers = { "secret" } };
	struct pammsg res;

	assert_int_equal(login("vdi-pw", "alice", &s, &res), 0);
	assert_int_equal(res.u.result.status, PAMMSG_STATUS_OK);
	assert_int_equal(strlen(last_login), PAMMSG_LOGIN_ID_LEN);
}

static void
sign__when_login_succeeded_and_claims_match__token_verifies(void **state)
{
	char path[PATH_MAX], err[256], grant[PRIVSEP_GRANT_SIZE];
	struct jws_key *pub = NULL;
	json_t *c = claims_now(60), *got = NULL;
	char *token = NULL;

	SKIP_WITHOUT_PAM();
	assert_non_null(c);
	login_alice();
	assert_int_equal(
	    privsep_sign_login(ps, last_login, c, &token, grant), 0);
	assert_non_null(token);
	assert_true(strncmp(grant, "g1.", 3) == 0);
	path_of(path, sizeof(path), "sign.pub.pem");
	assert_int_equal(
	    jws_key_load_public(path, NULL, &pub, err, sizeof(err)), 0);
	assert_int_equal(jws_verify(token, strlen(token), pub, &got), 0);
	assert_string_equal(
	    json_string_value(json_object_get(got, "sub")), "alice");
	assert_true(json_equal(got, c));
	/* A changed byte does not verify. */
	token[strlen(token) - 2] ^= 1;
	json_decref(got);
	got = NULL;
	assert_int_not_equal(jws_verify(token, strlen(token), pub, &got), 0);
	free(token);
	token = NULL;
	/* One token per login: the same login id again is refused. */
	assert_int_equal(privsep_sign_login(ps, last_login, c, &token, grant),
	    VDI_ERR_DENIED);
	assert_null(token);
	json_decref(c);
	jws_key_free(pub);
}

static void
sign__when_user_did_not_log_in__refused(void **state)
{
	struct script s = { .answers = { "Secret" } };
	char grant[PRIVSEP_GRANT_SIZE], *token = NULL;
	struct pammsg res;
	json_t *c = claims_now(60);

	/* A login id the monitor never gave out. */
	assert_int_equal(
	    privsep_sign_login(
		ps, "00112233445566778899aabbccddeeff", c, &token, grant),
	    VDI_ERR_DENIED);
	assert_null(token);
	SKIP_WITHOUT_PAM();
	/* A login that failed (wrong password). */
	assert_int_equal(login("vdi-pw", "alice", &s, &res), 0);
	assert_int_equal(res.u.result.status, PAMMSG_STATUS_AUTH_FAILED);
	assert_int_equal(privsep_sign_login(ps, last_login, c, &token, grant),
	    VDI_ERR_DENIED);
	assert_null(token);
	json_decref(c);
}

static void
sign__when_claims_name_other_user_tenant_device__refused(void **state)
{
	char grant[PRIVSEP_GRANT_SIZE], *token = NULL;
	json_t *c;

	SKIP_WITHOUT_PAM();
	login_alice();
	/* bob did not log in; alice did, but for town-a on DEV_A. */
	c = claims_for("bob", TENANT, DEV_A, "s1", "192.0.2.50:3389", 60);
	assert_int_equal(privsep_sign_login(ps, last_login, c, &token, grant),
	    VDI_ERR_DENIED);
	json_decref(c);
	c = claims_for("alice", "town-b", DEV_A, "s1", "192.0.2.50:3389", 60);
	assert_int_equal(privsep_sign_login(ps, last_login, c, &token, grant),
	    VDI_ERR_DENIED);
	json_decref(c);
	c = claims_for("alice", TENANT, DEV_B, "s1", "192.0.2.50:3389", 60);
	assert_int_equal(privsep_sign_login(ps, last_login, c, &token, grant),
	    VDI_ERR_DENIED);
	json_decref(c);
	/* Without a session or desktop there is nothing to bind. */
	c = claims_now(60);
	json_object_del(c, "dst");
	assert_int_equal(privsep_sign_login(ps, last_login, c, &token, grant),
	    VDI_ERR_TOKEN_CLAIM);
	json_decref(c);
	assert_null(token);
	/* The refusals did not use the login up. */
	c = claims_now(60);
	assert_int_equal(
	    privsep_sign_login(ps, last_login, c, &token, grant), 0);
	free(token);
	json_decref(c);
}

static void
sign_reconnect__only_for_the_session_and_desktop_granted(void **state)
{
	char grant[PRIVSEP_GRANT_SIZE], bad[PRIVSEP_GRANT_SIZE];
	char *token = NULL;
	json_t *c;
	size_t n;

	SKIP_WITHOUT_PAM();
	login_alice();
	c = claims_now(60);
	assert_int_equal(
	    privsep_sign_login(ps, last_login, c, &token, grant), 0);
	free(token);
	token = NULL;
	json_decref(c);
	/* The same session, desktop, user, tenant, device: signed, as often
	 * as reconnects come (the worker checks the tickets). */
	c = claims_now(60);
	assert_int_equal(privsep_sign_reconnect(ps, grant, c, &token), 0);
	free(token);
	token = NULL;
	assert_int_equal(privsep_sign_reconnect(ps, grant, c, &token), 0);
	free(token);
	token = NULL;
	json_decref(c);
	/* Another desktop (a pivot), session, user or device: refused. */
	c = claims_for("alice", TENANT, DEV_A, "s1", "10.0.0.1:22", 60);
	assert_int_equal(
	    privsep_sign_reconnect(ps, grant, c, &token), VDI_ERR_DENIED);
	json_decref(c);
	c = claims_for("alice", TENANT, DEV_A, "s2", "192.0.2.50:3389", 60);
	assert_int_equal(
	    privsep_sign_reconnect(ps, grant, c, &token), VDI_ERR_DENIED);
	json_decref(c);
	c = claims_for("bob", TENANT, DEV_A, "s1", "192.0.2.50:3389", 60);
	assert_int_equal(
	    privsep_sign_reconnect(ps, grant, c, &token), VDI_ERR_DENIED);
	json_decref(c);
	c = claims_for("alice", TENANT, DEV_B, "s1", "192.0.2.50:3389", 60);
	assert_int_equal(
	    privsep_sign_reconnect(ps, grant, c, &token), VDI_ERR_DENIED);
	json_decref(c);
	/* A grant with another login time or signature: refused. */
	c = claims_now(60);
	memcpy(bad, grant, sizeof(bad));
	bad[3] = bad[3] == '1' ? '2' : '1';
	assert_int_equal(
	    privsep_sign_reconnect(ps, bad, c, &token), VDI_ERR_DENIED);
	memcpy(bad, grant, sizeof(bad));
	n = strlen(bad);
	bad[n - 2] = bad[n - 2] == 'A' ? 'B' : 'A';
	assert_int_equal(
	    privsep_sign_reconnect(ps, bad, c, &token), VDI_ERR_DENIED);
	assert_int_equal(
	    privsep_sign_reconnect(ps, "g1.1.AAAA", c, &token), VDI_ERR_DENIED);
	assert_null(token);
	json_decref(c);
}

static void
sign__when_lifetime_too_long_or_times_wrong__refused_and_still_usable(
    void **state)
{
	char grant[PRIVSEP_GRANT_SIZE];
	json_t *c;
	char *token = NULL;

	SKIP_WITHOUT_PAM();
	login_alice();
	c = claims_now(3600);
	assert_int_equal(privsep_sign_login(ps, last_login, c, &token, grant),
	    VDI_ERR_TOKEN_CLAIM);
	assert_null(token);
	json_decref(c);
	c = claims_now(60);
	json_object_set_new(c, "iat", json_integer(time(NULL) - 7200));
	json_object_set_new(c, "exp", json_integer(time(NULL) - 7170));
	assert_int_equal(privsep_sign_login(ps, last_login, c, &token, grant),
	    VDI_ERR_TOKEN_CLAIM);
	json_object_del(c, "exp");
	assert_int_equal(privsep_sign_login(ps, last_login, c, &token, grant),
	    VDI_ERR_TOKEN_CLAIM);
	json_decref(c);
	c = json_string("not an object");
	assert_int_equal(privsep_sign_login(ps, last_login, c, &token, grant),
	    VDI_ERR_INVALID_ARG);
	json_decref(c);
	c = claims_now(60);
	assert_int_equal(
	    privsep_sign_login(ps, last_login, c, &token, grant), 0);
	free(token);
	json_decref(c);
}

/* Scans every readable mapping of this process (through /proc/self/mem,
 * which neither faults nor trips ASan) for needle, except the mapping
 * holding skip. Returns 1 when found. */
static int
memory_has(const unsigned char *needle, size_t nlen, const void *skip)
{
	static const size_t chunk = 1u << 20;
	unsigned long lo, hi, s = (unsigned long)(uintptr_t)skip;
	unsigned char *buf;
	char line[512], perms[8];
	FILE *maps;
	off_t off;
	ssize_t n;
	int fd, found = 0;

	buf = mmap(NULL, chunk + nlen, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(buf != MAP_FAILED);
	assert_int_equal(prctl(PR_SET_DUMPABLE, 1, 0, 0, 0), 0);
	maps = fopen("/proc/self/maps", "r");
	fd = open("/proc/self/mem", O_RDONLY);
	assert_non_null(maps);
	assert_true(fd >= 0);
	while (!found && fgets(line, sizeof(line), maps) != NULL) {
		if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) != 3 ||
		    perms[0] != 'r' || strstr(line, "[vvar]") != NULL ||
		    strstr(line, "[vsyscall]") != NULL)
			continue;
		if ((s >= lo && s < hi) ||
		    ((unsigned long)(uintptr_t)buf >= lo &&
			(unsigned long)(uintptr_t)buf < hi))
			continue;
		if (hi - lo > (256ul << 20))
			continue; /* sanitizer shadow and reservations */
		for (off = (off_t)lo; !found && (unsigned long)off < hi;
		     off += (off_t)chunk) {
			size_t want = hi - (unsigned long)off;

			if (want > chunk + nlen)
				want = chunk + nlen;
			n = pread(fd, buf, want, off);
			if (n >= (ssize_t)nlen &&
			    memmem(buf, (size_t)n, needle, nlen) != NULL)
				found = 1;
		}
	}
	fclose(maps);
	close(fd);
	assert_int_equal(prctl(PR_SET_DUMPABLE, 0, 0, 0, 0), 0);
	memset(buf, 0, chunk + nlen);
	munmap(buf, chunk + nlen);
	return found;
}

static void
worker__after_signing__holds_no_private_key_bytes(void **state)
{
	char path[PATH_MAX];
	unsigned char *area;
	json_t *c = claims_now(30);
	char *token = NULL, *b64;
	ssize_t n;
	int fd;

	/* Sign first, so that any copy would be there now. */
	if (have_pam) {
		char grant[PRIVSEP_GRANT_SIZE];

		login_alice();
		assert_int_equal(
		    privsep_sign_login(ps, last_login, c, &token, grant), 0);
		free(token);
	}
	json_decref(c);
	/* The seed (last 32 bytes of the PKCS#8 DER) and a seed-dependent
	 * stretch of the PEM text, read straight into a mapping that the
	 * scan skips. */
	area = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(area != MAP_FAILED);
	path_of(path, sizeof(path), "sign.der");
	assert_true((fd = open(path, O_RDONLY)) >= 0);
	assert_int_equal(read(fd, area, 48), 48);
	close(fd);
	path_of(path, sizeof(path), "sign.pem");
	if ((fd = open(path, O_RDONLY)) < 0) {
		/* Started as root: the key file is the monitor's alone. */
		assert_true(as_root);
		assert_int_equal(errno, EACCES);
		b64 = NULL;
	} else {
		assert_false(as_root);
		n = read(fd, area + 64, 1024);
		close(fd);
		assert_true(n > 100);
		b64 = strstr((char *)area + 64, "-----\n");
		assert_non_null(b64);
		b64 += 6 + 24; /* past the constant PKCS#8 prefix */
	}
	/* Positive control: the scanner finds what is there. */
	{
		unsigned char *copy = malloc(32);

		assert_non_null(copy);
		memcpy(copy, area + 16, 32);
		copy[0] ^= 0x55;
		area[200] = area[16] ^ 0x55;
		memcpy(area + 201, area + 17, 31);
		assert_true(memory_has(area + 200, 32, area));
		OPENSSL_cleanse(copy, 32);
		free(copy);
		assert_false(memory_has(area + 200, 32, area));
	}
	assert_false(memory_has(area + 16, 32, area));
	if (b64 != NULL)
		assert_false(memory_has((unsigned char *)b64, 32, area));
	OPENSSL_cleanse(area, 4096);
	munmap(area, 4096);
}

/* --- SEAL ----------------------------------------------------------------- */

static int
open_sealed(
    const char *sealed, const char *aad, unsigned char *out, size_t *outlen)
{
	unsigned char *blob = NULL;
	size_t len = 0;
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int ok = 0, l1 = 0, l2 = 0;

	if (ctx == NULL ||
	    b64url_decode_alloc(sealed, strlen(sealed), &blob, &len) != 0 ||
	    len < 28)
		goto out;
	if (EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, seal_key, blob) !=
		1 ||
	    EVP_DecryptUpdate(ctx, NULL, &l1, (const unsigned char *)aad,
		(int)strlen(aad)) != 1 ||
	    EVP_DecryptUpdate(ctx, out, &l1, blob + 12, (int)(len - 28)) != 1 ||
	    EVP_CIPHER_CTX_ctrl(
		ctx, EVP_CTRL_GCM_SET_TAG, 16, blob + len - 16) != 1 ||
	    EVP_DecryptFinal_ex(ctx, out + l1, &l2) != 1)
		goto out;
	*outlen = (size_t)(l1 + l2);
	ok = 1;
out:
	free(blob);
	EVP_CIPHER_CTX_free(ctx);
	return ok;
}

static void
seal__when_plaintext_and_aad__opens_only_with_same_aad(void **state)
{
	static const char plain[] = "{\"u\":\"alice\",\"p\":\"secret\"}";
	static char big[PAMMSG_SEAL_PLAIN_MAX + 1];
	unsigned char out[256];
	char *a = NULL, *b = NULL;
	size_t len = 0;

	assert_int_equal(
	    privsep_seal(ps, plain, strlen(plain), "jti-1", &a), 0);
	assert_int_equal(
	    privsep_seal(ps, plain, strlen(plain), "jti-1", &b), 0);
	/* Fresh nonce each time. */
	assert_string_not_equal(a, b);
	assert_true(open_sealed(a, "jti-1", out, &len));
	assert_int_equal(len, strlen(plain));
	assert_memory_equal(out, plain, len);
	assert_false(open_sealed(a, "jti-2", out, &len));
	free(a);
	free(b);
	assert_int_equal(
	    privsep_seal(ps, big, sizeof(big), "x", &a), VDI_ERR_TOO_LARGE);
	assert_int_equal(
	    privsep_seal(ps, plain, 0, "x", &a), VDI_ERR_INVALID_ARG);
	assert_null(a);
}

/* --- PAM ------------------------------------------------------------------ */

static void
pam__when_right_password__ok_with_pam_user(void **state)
{
	struct script s = { .answers = { "secret" } };
	struct pammsg res;

	SKIP_WITHOUT_PAM();
	assert_int_equal(login("vdi-pw", "alice", &s, &res), 0);
	assert_int_equal(res.type, PAMMSG_RESULT);
	assert_int_equal(res.u.result.status, PAMMSG_STATUS_OK);
	assert_string_equal(res.u.result.user, "alice");
	assert_int_equal(s.prompts, 1);
	assert_string_equal(s.asked[0], "Password: ");
	assert_int_equal(s.styles[0], PAMMSG_ECHO_OFF);
}

static void
pam__when_wrong_password__auth_failed(void **state)
{
	struct script s = { .answers = { "Secret" } };
	struct pammsg res;

	SKIP_WITHOUT_PAM();
	assert_int_equal(login("vdi-pw", "alice", &s, &res), 0);
	assert_int_equal(res.u.result.status, PAMMSG_STATUS_AUTH_FAILED);
	assert_string_equal(res.u.result.user, "");
}

static void
pam__when_unknown_user__same_prompt_and_auth_failed(void **state)
{
	struct script s = { .answers = { "secret" } };
	struct pammsg res;

	SKIP_WITHOUT_PAM();
	assert_int_equal(login("vdi-pw", "mallory", &s, &res), 0);
	assert_int_equal(res.u.result.status, PAMMSG_STATUS_AUTH_FAILED);
	assert_int_equal(s.prompts, 1);
	assert_string_equal(s.asked[0], "Password: ");
	assert_int_equal(s.styles[0], PAMMSG_ECHO_OFF);
}

static void
pam__when_password_then_code_right__two_steps_ok(void **state)
{
	struct script s = { .answers = { "hunter2", "123456" } };
	struct pammsg res;

	SKIP_WITHOUT_PAM();
	assert_int_equal(login("vdi-otp", "bob", &s, &res), 0);
	assert_int_equal(res.u.result.status, PAMMSG_STATUS_OK);
	assert_string_equal(res.u.result.user, "bob");
	assert_int_equal(s.batches, 2);
	assert_int_equal(s.prompts, 2);
	assert_string_equal(s.asked[0], "Password: ");
	assert_int_equal(s.styles[0], PAMMSG_ECHO_OFF);
	assert_string_equal(s.asked[1], "One-time code: ");
	assert_int_equal(s.styles[1], PAMMSG_ECHO_ON);
	/* The info line came in the same batch as the code prompt. */
	assert_int_equal(s.infos, 1);
	assert_string_equal(s.info, "Enter the code shown by your token.");
}

static void
pam__when_code_or_password_wrong__auth_failed_after_both_prompts(void **state)
{
	struct script s1 = { .answers = { "hunter2", "654321" } };
	struct script s2 = { .answers = { "hunter3", "123456" } };
	struct script s3 = { .answers = { "hunter2", "999999" } };
	struct pammsg res;

	SKIP_WITHOUT_PAM();
	assert_int_equal(login("vdi-otp", "bob", &s1, &res), 0);
	assert_int_equal(res.u.result.status, PAMMSG_STATUS_AUTH_FAILED);
	assert_int_equal(s1.prompts, 2);
	/* A wrong password still gets the code prompt: nothing tells which
	 * factor failed. */
	assert_int_equal(login("vdi-otp", "bob", &s2, &res), 0);
	assert_int_equal(res.u.result.status, PAMMSG_STATUS_AUTH_FAILED);
	assert_int_equal(s2.prompts, 2);
	/* Another user's code does not work. */
	assert_int_equal(login("vdi-otp", "bob", &s3, &res), 0);
	assert_int_equal(res.u.result.status, PAMMSG_STATUS_AUTH_FAILED);
}

static void
pam__when_account_step_refuses__mapped_reason(void **state)
{
	struct script s1 = { .answers = { "pw3" } };
	struct script s2 = { .answers = { "pw4" } };
	struct script s3 = { .answers = { "pw5" } };
	struct pammsg res;

	SKIP_WITHOUT_PAM();
	/* pam_matrix account: carol may not use vdi-pw (PAM_PERM_DENIED). */
	assert_int_equal(login("vdi-pw", "carol", &s1, &res), 0);
	assert_int_equal(res.u.result.status, PAMMSG_STATUS_ACCOUNT_LOCKED);
	/* pam_vdi_otp account: PAM_NEW_AUTHTOK_REQD, PAM_ACCT_EXPIRED. */
	assert_int_equal(login("vdi-acct", "dave", &s2, &res), 0);
	assert_int_equal(res.u.result.status, PAMMSG_STATUS_PASSWORD_EXPIRED);
	assert_int_equal(login("vdi-acct", "erin", &s3, &res), 0);
	assert_int_equal(res.u.result.status, PAMMSG_STATUS_ACCOUNT_EXPIRED);
}

static void
pam__when_batch_has_only_texts__child_goes_on_without_answers(void **state)
{
	struct vbuf *in = vbuf_new(FRAME_BUF);
	const char *pw[1] = { "wrong" };
	struct script s = { .answers = { "pw4" } };
	struct pammsg m, res;
	int fd = -1;

	SKIP_WITHOUT_PAM();
	assert_non_null(in);
	/* Through the callbacks: the info batch goes to info_fn. */
	assert_int_equal(login("vdi-acct", "dave", &s, &res), 0);
	assert_int_equal(s.batches, 1);
	assert_int_equal(s.infos, 1);
	/* Through the event-loop calls: an error text, then the result. */
	assert_int_equal(begin("vdi-acct", "dave", NULL, &fd), 0);
	assert_int_equal(next_msg(fd, in, &m, 5000), 0);
	assert_int_equal(pammsg_prompt_count(&m), 1);
	assert_int_equal(privsep_pam_answer(fd, pw, 1), 0);
	assert_int_equal(next_msg(fd, in, &m, 5000), 0);
	assert_int_equal(m.type, PAMMSG_PROMPTS);
	assert_int_equal(pammsg_prompt_count(&m), 0);
	assert_int_equal(m.u.prompts.msg[0].style, PAMMSG_ERROR_MSG);
	assert_string_equal(m.u.prompts.msg[0].text, "Authentication failed");
	assert_int_equal(next_msg(fd, in, &m, 5000), 0);
	assert_int_equal(m.type, PAMMSG_RESULT);
	assert_int_equal(m.u.result.status, PAMMSG_STATUS_AUTH_FAILED);
	close(fd);
	vbuf_free(in);
}

static void
pam__when_event_loop_interleaves_two_logins__each_gets_its_result(void **state)
{
	struct vbuf *in1 = vbuf_new(FRAME_BUF), *in2 = vbuf_new(FRAME_BUF);
	const char *a1[1] = { "secret" }, *a2[1] = { "hunter2" };
	const char *c2[1] = { "123456" };
	struct pammsg m;
	int fd1 = -1, fd2 = -1;

	SKIP_WITHOUT_PAM();
	assert_non_null(in1);
	assert_non_null(in2);
	assert_int_equal(begin("vdi-pw", "alice", "192.0.2.1", &fd1), 0);
	assert_int_equal(begin("vdi-otp", "bob", NULL, &fd2), 0);
	assert_true(fd1 >= 0 && fd2 >= 0 && fd1 != fd2);
	assert_true(fcntl(fd1, F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(fd1, F_GETFD) & FD_CLOEXEC);
	/* Nothing waits: read returns NEED_MORE or a message at once. */
	assert_int_equal(next_msg(fd2, in2, &m, 5000), 0);
	assert_int_equal(m.type, PAMMSG_PROMPTS);
	assert_int_equal(pammsg_prompt_count(&m), 1);
	assert_int_equal(next_msg(fd1, in1, &m, 5000), 0);
	assert_int_equal(m.type, PAMMSG_PROMPTS);
	assert_int_equal(privsep_pam_answer(fd2, a2, 1), 0);
	assert_int_equal(next_msg(fd2, in2, &m, 5000), 0);
	assert_int_equal(m.type, PAMMSG_PROMPTS);
	assert_int_equal(m.u.prompts.n, 2); /* info + code */
	assert_int_equal(pammsg_prompt_count(&m), 1);
	assert_int_equal(privsep_pam_answer(fd1, a1, 1), 0);
	assert_int_equal(next_msg(fd1, in1, &m, 5000), 0);
	assert_int_equal(m.type, PAMMSG_RESULT);
	assert_int_equal(m.u.result.status, PAMMSG_STATUS_OK);
	assert_string_equal(m.u.result.user, "alice");
	assert_int_equal(privsep_pam_answer(fd2, c2, 1), 0);
	assert_int_equal(next_msg(fd2, in2, &m, 5000), 0);
	assert_int_equal(m.type, PAMMSG_RESULT);
	assert_string_equal(m.u.result.user, "bob");
	/* Then the child is gone. */
	assert_int_equal(next_msg(fd2, in2, &m, 5000), VDI_ERR_IO);
	close(fd1);
	close(fd2);
	vbuf_free(in1);
	vbuf_free(in2);
}

/* Starts a login on vdi-pw for alice and reads the password prompt. */
static int
begin_alice(struct vbuf *in)
{
	struct pammsg m;
	int fd = -1;

	assert_int_equal(begin("vdi-pw", "alice", NULL, &fd), 0);
	assert_int_equal(next_msg(fd, in, &m, 5000), 0);
	assert_int_equal(pammsg_prompt_count(&m), 1);
	return fd;
}

static void
pam__when_worker_breaks_protocol__only_that_conversation_ends(void **state)
{
	struct vbuf *in = vbuf_new(FRAME_BUF);
	const char *two[2] = { "secret", "extra" };
	struct script s = { .answers = { "secret" } };
	struct pammsg m, res;
	int fd;

	SKIP_WITHOUT_PAM();
	assert_non_null(in);
	/* Two answers for one prompt. */
	fd = begin_alice(in);
	assert_int_equal(privsep_pam_answer(fd, two, 2), 0);
	assert_int_equal(next_msg(fd, in, &m, 5000), VDI_ERR_IO);
	close(fd);
	/* A frame header announcing 4 GiB. */
	vbuf_reset(in);
	fd = begin_alice(in);
	assert_int_equal(write(fd, "\xff\xff\xff\xff", 4), 4);
	assert_int_equal(next_msg(fd, in, &m, 5000), VDI_ERR_IO);
	close(fd);
	/* A message of the wrong type. */
	vbuf_reset(in);
	fd = begin_alice(in);
	assert_int_equal(write(fd, "\x00\x00\x00\x01\x16", 5), 5);
	assert_int_equal(next_msg(fd, in, &m, 5000), VDI_ERR_IO);
	close(fd);
	/* Giving up half way: the child ends, the next login works. */
	vbuf_reset(in);
	fd = begin_alice(in);
	close(fd);
	assert_int_equal(login("vdi-pw", "alice", &s, &res), 0);
	assert_int_equal(res.u.result.status, PAMMSG_STATUS_OK);
	vbuf_free(in);
}

static void
pam__when_no_answer_in_time__timeout_result(void **state)
{
	struct vbuf *in = vbuf_new(FRAME_BUF);
	struct pammsg m;
	time_t t0;
	int fd;

	SKIP_WITHOUT_PAM();
	assert_non_null(in);
	fd = begin_alice(in);
	t0 = time(NULL);
	/* conv_timeout is 2 s in this test's configuration. */
	assert_int_equal(next_msg(fd, in, &m, 10000), 0);
	assert_int_equal(m.type, PAMMSG_RESULT);
	assert_int_equal(m.u.result.status, PAMMSG_STATUS_TIMEOUT);
	assert_true(time(NULL) - t0 >= 1);
	assert_int_equal(next_msg(fd, in, &m, 5000), VDI_ERR_IO);
	close(fd);
	vbuf_free(in);
}

static void
pam_begin__when_service_or_user_bad__refused(void **state)
{
	char user[PAMMSG_USER_MAX + 2];
	int fd = 7;

	/* Checked in the worker before anything is sent... */
	assert_int_equal(
	    begin("../etc/x", "alice", NULL, &fd), VDI_ERR_BAD_FORMAT);
	assert_int_equal(fd, -1);
	assert_int_equal(begin("vdi-pw", "", NULL, &fd), VDI_ERR_BAD_FORMAT);
	assert_int_equal(
	    begin("vdi-pw", "a\nb", NULL, &fd), VDI_ERR_BAD_FORMAT);
	memset(user, 'u', sizeof(user) - 1);
	user[sizeof(user) - 1] = '\0';
	assert_int_equal(begin("vdi-pw", user, NULL, &fd), VDI_ERR_TOO_LARGE);
	assert_int_equal(
	    begin("vdi-pw", "alice", "a b", &fd), VDI_ERR_BAD_FORMAT);
	{
		struct privsep_login who = { "vdi-pw", "alice", NULL, "a/b",
			DEV_A };

		assert_int_equal(
		    privsep_pam_begin(ps, &who, NULL, &fd), VDI_ERR_BAD_FORMAT);
		who.tenant = TENANT;
		who.device = "short";
		assert_int_equal(
		    privsep_pam_begin(ps, &who, NULL, &fd), VDI_ERR_BAD_FORMAT);
	}
	/* ...and by the monitor: a service not on its list. */
	assert_int_equal(begin("login", "alice", NULL, &fd), VDI_ERR_DENIED);
	assert_int_equal(fd, -1);
}

static void
pam_begin__when_too_many_conversations__denied_until_some_end(void **state)
{
	int fds[16], n = 0, r = 0, i, tries;

	SKIP_WITHOUT_PAM();
	while (n < 16 && (r = begin("vdi-pw", "alice", NULL, &fds[n])) == 0)
		n++;
	assert_int_equal(r, VDI_ERR_DENIED);
	assert_true(n >= 1 && n <= 6); /* max_conversations is 6 here */
	for (i = 0; i < n; i++)
		close(fds[i]);
	/* The children end on end of file; the monitor reaps them. */
	for (tries = 0; tries < 100; tries++) {
		if ((r = begin("vdi-pw", "alice", NULL, &fds[0])) == 0)
			break;
		usleep(50000);
	}
	assert_int_equal(r, 0);
	close(fds[0]);
	usleep(200000);
}

/* The worker out of descriptors when the monitor passes the conversation
 * socket: that request fails (EMFILE), the monitor link stays in step
 * and the next request works (issue 18: it used to be "monitor lost"). */
static void
pam_begin__when_worker_out_of_descriptors__fails_then_works(void **state)
{
	struct rlimit old, low;
	int fd = -1, lowest, r;

	SKIP_WITHOUT_PAM();
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	/* Every number below the lowest free one is in use: a limit of
	 * that number makes the next descriptor fail. */
	assert_true((lowest = dup(0)) >= 0);
	close(lowest);
	low = old;
	low.rlim_cur = (rlim_t)lowest;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	r = begin("vdi-pw", "alice", NULL, &fd);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	assert_int_equal(r, VDI_ERR_SYSTEM);
	assert_int_equal(fd, -1);
	assert_int_equal(begin("vdi-pw", "alice", NULL, &fd), 0);
	assert_true(fd >= 0);
	close(fd);
	usleep(200000);
}

/* --- process lifetime (in throw-away process trees) ----------------------- */

/* Forks a process that calls privsep_start() with cfg. Its worker writes
 * privsep_start()'s result into a pipe, then does what `then` says:
 * 'x' exit(7), 'p' pause(), 's' sign and seal and report both results.
 * Returns the sub-process (the monitor) pid; reads the worker's report
 * into rep (3 ints: result, worker pid, extra). */
static pid_t
spawn(const struct privsep_config *cfg, char then, int rep[3])
{
	int p[2], got[3] = { 1, 0, 0 };
	pid_t pid;
	ssize_t n;

	assert_int_equal(pipe(p), 0);
	if ((pid = fork()) == 0) {
		struct privsep *sub = NULL;
		int r;

		close(p[0]);
		r = privsep_start(cfg, &sub);
		/* Here only in the sub-worker (or on failure before the
		 * fork). */
		got[0] = r;
		got[1] = (int)getpid();
		if (r == 0 && then == 's') {
			json_t *c = claims_now(60);
			char *out = NULL;

			got[1] =
			    privsep_sign_reconnect(sub, "g1.1.AAAA", c, &out);
			got[2] = privsep_seal(sub, "x", 1, NULL, &out);
			json_decref(c);
		}
		if (write(p[1], got, sizeof(got)) != (ssize_t)sizeof(got))
			_exit(98);
		if (r == 0 && then == 'p')
			pause();
		privsep_free(sub);
		_exit(r == 0 ? 7 : 9);
	}
	close(p[1]);
	n = read(p[0], rep, 3 * sizeof(int));
	assert_int_equal(n, 3 * sizeof(int));
	close(p[0]);
	return pid;
}

static int
wait_status(pid_t pid)
{
	int st;

	assert_int_equal(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void
privsep_start__when_worker_exits__monitor_exits_with_its_status(void **state)
{
	struct privsep_config cfg = { 0 };
	int rep[3];
	pid_t pid;

	pid = spawn(&cfg, 'x', rep);
	assert_int_equal(rep[0], 0);
	assert_int_equal(wait_status(pid), 7);
}

static void
privsep_start__when_signing_key_missing__worker_fails_monitor_exits_1(
    void **state)
{
	struct privsep_config cfg = { 0 };
	char path[PATH_MAX];
	int rep[3];
	pid_t pid;

	path_of(path, sizeof(path), "no-such-key.pem");
	cfg.signing_key_path = path;
	pid = spawn(&cfg, 'x', rep);
	assert_int_equal(rep[0], VDI_ERR_CERT_LOAD);
	assert_int_equal(wait_status(pid), 1);
}

static void
privsep_start__when_no_keys__sign_and_seal_not_found(void **state)
{
	struct privsep_config cfg = { 0 };
	int rep[3];
	pid_t pid;

	pid = spawn(&cfg, 's', rep);
	assert_int_equal(rep[0], 0);
	assert_int_equal(rep[1], VDI_ERR_NOT_FOUND);
	assert_int_equal(rep[2], VDI_ERR_NOT_FOUND);
	assert_int_equal(wait_status(pid), 7);
}

static void
privsep_start__when_monitor_killed__worker_gets_sigterm(void **state)
{
	struct privsep_config cfg = { 0 };
	int rep[3], st = 0, tries;
	pid_t pid, w = -1;

	/* Orphans come to us, so that we can see how the worker ended. */
	assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), 0);
	pid = spawn(&cfg, 'p', rep);
	assert_int_equal(rep[0], 0);
	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(wait_status(pid), 128 + SIGKILL);
	for (tries = 0; tries < 100; tries++) {
		if ((w = waitpid((pid_t)rep[1], &st, WNOHANG)) == rep[1])
			break;
		usleep(50000);
	}
	assert_int_equal(w, rep[1]);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGTERM);
	assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0), 0);
}

static void
privsep_start__when_config_bad__invalid_arg_without_fork(void **state)
{
	static const char *const bad[] = { "vdi/x", NULL };
	struct privsep_config cfg = { 0 };
	struct privsep *p = (struct privsep *)&cfg;

	assert_int_equal(privsep_start(NULL, &p), VDI_ERR_INVALID_ARG);
	assert_null(p);
	cfg.pam_services = bad;
	assert_int_equal(privsep_start(&cfg, &p), VDI_ERR_INVALID_ARG);
	assert_int_equal(privsep_start(&cfg, NULL), VDI_ERR_INVALID_ARG);
}

/* --- main ----------------------------------------------------------------- */

static int
run_all(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    sign__when_login_succeeded_and_claims_match__token_verifies),
		cmocka_unit_test(sign__when_user_did_not_log_in__refused),
		cmocka_unit_test(
		    sign__when_claims_name_other_user_tenant_device__refused),
		cmocka_unit_test(
		    sign_reconnect__only_for_the_session_and_desktop_granted),
		cmocka_unit_test(
		    sign__when_lifetime_too_long_or_times_wrong__refused_and_still_usable),
		cmocka_unit_test(
		    worker__after_signing__holds_no_private_key_bytes),
		cmocka_unit_test(
		    seal__when_plaintext_and_aad__opens_only_with_same_aad),
		cmocka_unit_test(pam__when_right_password__ok_with_pam_user),
		cmocka_unit_test(pam__when_wrong_password__auth_failed),
		cmocka_unit_test(
		    pam__when_unknown_user__same_prompt_and_auth_failed),
		cmocka_unit_test(
		    pam__when_password_then_code_right__two_steps_ok),
		cmocka_unit_test(
		    pam__when_code_or_password_wrong__auth_failed_after_both_prompts),
		cmocka_unit_test(pam__when_account_step_refuses__mapped_reason),
		cmocka_unit_test(
		    pam__when_batch_has_only_texts__child_goes_on_without_answers),
		cmocka_unit_test(
		    pam__when_event_loop_interleaves_two_logins__each_gets_its_result),
		cmocka_unit_test(
		    pam__when_worker_breaks_protocol__only_that_conversation_ends),
		cmocka_unit_test(pam__when_no_answer_in_time__timeout_result),
		cmocka_unit_test(pam_begin__when_service_or_user_bad__refused),
		cmocka_unit_test(
		    pam_begin__when_too_many_conversations__denied_until_some_end),
		cmocka_unit_test(
		    pam_begin__when_worker_out_of_descriptors__fails_then_works),
		cmocka_unit_test(
		    privsep_start__when_worker_exits__monitor_exits_with_its_status),
		cmocka_unit_test(
		    privsep_start__when_signing_key_missing__worker_fails_monitor_exits_1),
		cmocka_unit_test(
		    privsep_start__when_no_keys__sign_and_seal_not_found),
		cmocka_unit_test(
		    privsep_start__when_monitor_killed__worker_gets_sigterm),
		cmocka_unit_test(
		    privsep_start__when_config_bad__invalid_arg_without_fork),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

int
main(int argc, char **argv)
{
	struct privsep_config cfg = { 0 };
	char sign[PATH_MAX], seal[PATH_MAX], text[128];
	const char *d = getenv(STAGE_ENV);
	size_t len = 0;
	FILE *f;
	pid_t pid;
	int r, st;

	(void)argc;
	if (d == NULL) {
		stage1(argv);
		return 99;
	}
	snprintf(dir, sizeof(dir), "%s", d);
	have_pam = getenv("VDI_TEST_HAVE_PAM") != NULL;
	as_root = geteuid() == 0;
	vlog_init("test_privsep", VLOG_STDERR, VLOG_INFO);

	/* The test needs the seal key to open what the monitor sealed. */
	path_of(seal, sizeof(seal), "seal.key");
	if ((f = fopen(seal, "r")) == NULL ||
	    fgets(text, sizeof(text), f) == NULL)
		die(seal);
	fclose(f);
	text[strcspn(text, "\n")] = '\0';
	if (b64url_decode(
		text, strlen(text), seal_key, sizeof(seal_key), &len) != 0 ||
	    len != sizeof(seal_key))
		die("seal key");
	OPENSSL_cleanse(text, sizeof(text));

	if ((pid = fork()) < 0)
		die("fork");
	if (pid == 0) {
		path_of(sign, sizeof(sign), "sign.pem");
		cfg.user = "nobody"; /* used only when started as root */
		cfg.signing_key_path = sign;
		cfg.seal_key_path = seal;
		cfg.pam_services = services;
		cfg.conv_timeout = 2;
		cfg.max_conversations = 6;
		if ((r = privsep_start(&cfg, &ps)) != 0) {
			fprintf(stderr, "privsep_start: %s\n", vdi_strerror(r));
			_exit(99);
		}
		r = run_all();
		privsep_free(ps);
		exit(r == 0 ? 0 : 1);
	}
	/* The monitor exits with the worker's status. */
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	if (have_pam)
		clean_pam_wrapper_dirs();
	return WIFEXITED(st) ? WEXITSTATUS(st) : 99;
}
