/*
 * keyproc.c: the gateway's key process (see keyproc.h). It loads the seal
 * key and the inner TLS private key, drops what it does not need, and
 * answers UNSEAL and SIGN requests on its sockets, one frame at a time.
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "keymsg.h"
#include "keyproc.h"
#include "seal.h"
#include "vlog.h"

#define FRAME_BUF (KEYMSG_HEADER_LEN + KEYMSG_FRAME_MAX)

struct kp_chan {
	int fd;
	struct vbuf *in, *out;
};

struct kp {
	unsigned char seal_key[SEAL_KEY_LEN];
	int have_seal;
	EVP_PKEY *inner;
	struct kp_chan ch[KEYPROC_CHANNELS_MAX];
	unsigned int n, open;
};

static int
load_inner(struct kp *kp, const struct keyproc_config *cfg)
{
	char q1[600], q2[600];
	X509 *cert = NULL;
	FILE *f;
	int r = VDI_ERR_CERT_LOAD;

	vlog_quote(cfg->inner_key, q1, sizeof(q1));
	vlog_quote(
	    cfg->inner_cert != NULL ? cfg->inner_cert : "", q2, sizeof(q2));
	if ((f = fopen(cfg->inner_key, "re")) == NULL) {
		vlog(VLOG_ERROR, "keyproc_load_failed",
		    "kind=inner_key file=%s error=\"%s\"", q1, strerror(errno));
		return r;
	}
	kp->inner = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (kp->inner == NULL) {
		vlog(VLOG_ERROR, "keyproc_load_failed",
		    "kind=inner_key file=%s error=\"not an unencrypted PEM "
		    "private key\"",
		    q1);
		return r;
	}
	if (!EVP_PKEY_is_a(kp->inner, "EC") &&
	    !EVP_PKEY_is_a(kp->inner, "RSA")) {
		vlog(VLOG_ERROR, "keyproc_load_failed",
		    "kind=inner_key file=%s error=\"only EC and RSA keys\"",
		    q1);
		return VDI_ERR_UNSUPPORTED;
	}
	/* The certificate is public; read here only to check the pair. */
	if (cfg->inner_cert != NULL && cfg->inner_cert[0] != '\0') {
		if ((f = fopen(cfg->inner_cert, "re")) != NULL) {
			cert = PEM_read_X509(f, NULL, NULL, NULL);
			fclose(f);
		}
		if (cert == NULL ||
		    X509_check_private_key(cert, kp->inner) != 1) {
			vlog(VLOG_ERROR, "keyproc_load_failed",
			    "kind=inner_key file=%s cert=%s error=\"the key "
			    "does not match the certificate\"",
			    q1, q2);
			X509_free(cert);
			return r;
		}
		X509_free(cert);
	}
	return 0;
}

static int
load_keys(struct kp *kp, const struct keyproc_config *cfg)
{
	char err[600], q[700];
	int r;

	if (cfg->seal_key != NULL && cfg->seal_key[0] != '\0') {
		if ((r = seal_key_load(
			 cfg->seal_key, kp->seal_key, err, sizeof(err))) != 0) {
			vlog(VLOG_ERROR, "keyproc_load_failed",
			    "kind=seal_key error=%s",
			    vlog_quote(err, q, sizeof(q)));
			return r;
		}
		kp->have_seal = 1;
	}
	if (cfg->inner_key != NULL && cfg->inner_key[0] != '\0')
		return load_inner(kp, cfg);
	return 0;
}

/* After the keys are read: the gateway's account, if started as root. */
static int
drop_privileges(const struct keyproc_config *cfg)
{
	struct passwd *pw;
	struct group *gr;
	gid_t gid;

	if (cfg->user == NULL || cfg->user[0] == '\0' || getuid() != 0)
		return 0;
	if ((pw = getpwnam(cfg->user)) == NULL)
		return VDI_ERR_NOT_FOUND;
	gid = pw->pw_gid;
	if (cfg->group != NULL && cfg->group[0] != '\0') {
		if ((gr = getgrnam(cfg->group)) == NULL)
			return VDI_ERR_NOT_FOUND;
		gid = gr->gr_gid;
	}
	if (setgroups(1, &gid) != 0 || setresgid(gid, gid, gid) != 0 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) != 0 ||
	    setuid(0) == 0)
		return VDI_ERR_DENIED;
	return 0;
}

static int
write_all(int fd, struct vbuf *b)
{
	struct pollfd p;
	ssize_t n;

	while (vbuf_len(b) > 0) {
		n = send(
		    fd, vbuf_ptr(b), vbuf_len(b), MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			p.fd = fd;
			p.events = POLLOUT;
			if (poll(&p, 1, KEYPROC_TIMEOUT_MS) <= 0)
				return VDI_ERR_TIMEOUT;
			continue;
		}
		if (n < 0)
			return VDI_ERR_IO;
		if (vbuf_consume(b, (size_t)n) != 0)
			return VDI_ERR_INTERNAL;
	}
	return 0;
}

static int
do_unseal(struct kp *kp, const struct keymsg *req, struct keymsg *rep)
{
	int r;

	if (!kp->have_seal)
		return VDI_ERR_NOT_FOUND;
	rep->type = KEYMSG_PLAIN;
	if ((r = seal_open(kp->seal_key, req->u.unseal.sealed,
		 req->u.unseal.aad, req->u.unseal.aad_len, rep->u.plain.data,
		 sizeof(rep->u.plain.data), &rep->u.plain.len)) != 0)
		return r;
	return rep->u.plain.len > 0 ? 0 : VDI_ERR_BAD_FORMAT;
}

/* The raw operation libssl asked for, on the real key: ECDSA over the
 * digest as given, or RSA with the padding given and no digest (the
 * caller encoded the DigestInfo or the PSS block). */
static int
do_sign(struct kp *kp, const struct keymsg *req, struct keymsg *rep)
{
	EVP_PKEY_CTX *ctx = NULL;
	size_t outlen = sizeof(rep->u.signed_.out);
	int r = VDI_ERR_TLS, is_ec;

	if (kp->inner == NULL)
		return VDI_ERR_NOT_FOUND;
	is_ec = EVP_PKEY_is_a(kp->inner, "EC");
	if ((req->u.sign.alg == KEYMSG_ALG_ECDSA) != is_ec)
		return VDI_ERR_UNSUPPORTED;
	/* No padding: exactly one RSA block; PKCS#1 type 1: room for the
	 * 11 bytes of padding. */
	if (!is_ec && req->u.sign.padding == KEYMSG_RSA_NONE &&
	    req->u.sign.len != (size_t)EVP_PKEY_get_size(kp->inner))
		return VDI_ERR_BAD_LENGTH;
	if (!is_ec && req->u.sign.padding == KEYMSG_RSA_PKCS1 &&
	    req->u.sign.len + 11 > (size_t)EVP_PKEY_get_size(kp->inner))
		return VDI_ERR_BAD_LENGTH;
	if ((ctx = EVP_PKEY_CTX_new(kp->inner, NULL)) == NULL ||
	    EVP_PKEY_sign_init(ctx) != 1)
		goto out;
	if (!is_ec &&
	    EVP_PKEY_CTX_set_rsa_padding(ctx,
		req->u.sign.padding == KEYMSG_RSA_NONE
		    ? RSA_NO_PADDING
		    : RSA_PKCS1_PADDING) != 1)
		goto out;
	if (EVP_PKEY_sign(ctx, rep->u.signed_.out, &outlen, req->u.sign.in,
		req->u.sign.len) != 1)
		goto out;
	rep->type = KEYMSG_SIGNED;
	rep->u.signed_.len = outlen;
	r = 0;
out:
	EVP_PKEY_CTX_free(ctx);
	return r;
}

/* Reads and answers what one channel has. Returns 0, or non-zero when the
 * channel is over (closed, or it broke the protocol). */
static int
serve(struct kp *kp, struct kp_chan *c)
{
	struct keymsg *req = NULL, *rep = NULL;
	unsigned char *p;
	size_t room;
	ssize_t n;
	int r, bad = 0;

	if ((room = vbuf_avail(c->in)) == 0)
		return VDI_ERR_TOO_LARGE;
	if ((r = vbuf_reserve(c->in, room, &p)) != 0)
		return r;
	do {
		n = recv(c->fd, p, room, MSG_DONTWAIT);
	} while (n < 0 && errno == EINTR);
	if (vbuf_consume_end(c->in, room - (n > 0 ? (size_t)n : 0)) != 0)
		return VDI_ERR_INTERNAL;
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : VDI_ERR_IO;
	if (n == 0)
		return VDI_ERR_IO;
	if ((req = calloc(1, sizeof(*req))) == NULL ||
	    (rep = calloc(1, sizeof(*rep))) == NULL) {
		free(req);
		return VDI_ERR_ALLOC;
	}
	while ((r = keymsg_parse(c->in, req)) == 0) {
		keymsg_clear(rep);
		switch (req->type) {
		case KEYMSG_UNSEAL:
			r = do_unseal(kp, req, rep);
			break;
		case KEYMSG_SIGN:
			r = do_sign(kp, req, rep);
			break;
		default:
			bad = 1; /* not a request: the gateway is confused */
			r = VDI_ERR_BAD_FORMAT;
			break;
		}
		keymsg_clear(req);
		if (bad)
			break;
		vbuf_reset(c->out);
		if (r == 0)
			r = keymsg_encode(c->out, rep);
		keymsg_clear(rep);
		if (r != 0) {
			vlog(VLOG_NOTICE, "keyproc_refused", "error=%s",
			    vdi_errname(r));
			vbuf_wipe(c->out);
			r = keymsg_encode_error(c->out, r);
		}
		if (r == 0)
			r = write_all(c->fd, c->out);
		vbuf_wipe(c->out);
		if (r != 0)
			break;
	}
	if (vbuf_len(c->in) == 0)
		vbuf_wipe(c->in);
	keymsg_clear(req);
	keymsg_clear(rep);
	free(req);
	free(rep);
	if (r == VDI_ERR_NEED_MORE)
		return 0;
	vlog(VLOG_ERROR, "keyproc_protocol_error",
	    "error=%s action=close_channel", vdi_errname(r));
	return r;
}

void
keyproc_main(const struct keyproc_config *cfg, const int *fds, unsigned int n)
{
	static struct kp kp; /* static: no key copy on the stack */
	struct pollfd pfd[KEYPROC_CHANNELS_MAX];
	struct rlimit rl = { 0, 0 };
	struct keymsg ready;
	unsigned int i, k;
	int r;

	/* Signals to the process group are the gateway's business: it
	 * reloads (HUP) or stops (TERM, INT), and this process ends when the
	 * gateway closes its sockets or dies (parent death signal). */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0 ||
	    setrlimit(RLIMIT_CORE, &rl) != 0)
		_exit(1);
	memset(&kp, 0, sizeof(kp));
	kp.n = n > KEYPROC_CHANNELS_MAX ? KEYPROC_CHANNELS_MAX : n;
	for (i = 0; i < kp.n; i++) {
		kp.ch[i].fd = fds[i];
		if ((kp.ch[i].in = vbuf_new(2 * FRAME_BUF)) == NULL ||
		    (kp.ch[i].out = vbuf_new(FRAME_BUF)) == NULL)
			_exit(1);
	}
	kp.open = kp.n;
	r = load_keys(&kp, cfg);
	if (r == 0 && (r = drop_privileges(cfg)) != 0)
		vlog(VLOG_ERROR, "keyproc_load_failed",
		    "kind=privileges error=%s", vdi_errname(r));
	/* After the drop (a credential change clears it); not dumpable again
	 * for the same reason. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0 ||
	    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0 || getppid() == 1)
		_exit(1);
	/* Nothing else of the gateway's: only our sockets and stderr. */
	closelog();
	for (k = 3; k < 1024; k++) {
		for (i = 0; i < kp.n && kp.ch[i].fd != (int)k; i++)
			;
		if (i == kp.n)
			close((int)k);
	}
	memset(&ready, 0, sizeof(ready));
	ready.type = KEYMSG_READY;
	ready.u.ready.flags = (kp.have_seal ? KEYMSG_HAVE_SEAL : 0) |
	    (kp.inner != NULL ? KEYMSG_HAVE_INNER : 0);
	if ((r != 0 ? keymsg_encode_error(kp.ch[0].out, r)
		    : keymsg_encode(kp.ch[0].out, &ready)) != 0 ||
	    write_all(kp.ch[0].fd, kp.ch[0].out) != 0 || r != 0)
		_exit(1);
	vlog(VLOG_INFO, "keyproc_ready",
	    "pid=%ld channels=%u seal_key=%s inner_key=%s uid=%u",
	    (long)getpid(), kp.n, kp.have_seal ? "yes" : "no",
	    kp.inner != NULL ? "yes" : "no", (unsigned)getuid());

	while (kp.open > 0) {
		for (i = 0; i < kp.n; i++) {
			pfd[i].fd = kp.ch[i].fd;
			pfd[i].events = POLLIN;
			pfd[i].revents = 0;
		}
		if (poll(pfd, kp.n, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (i = 0; i < kp.n; i++) {
			if (pfd[i].fd < 0 || pfd[i].revents == 0)
				continue;
			if (serve(&kp, &kp.ch[i]) != 0) {
				close(kp.ch[i].fd);
				kp.ch[i].fd = -1;
				kp.open--;
			}
		}
	}
	OPENSSL_cleanse(kp.seal_key, sizeof(kp.seal_key));
	EVP_PKEY_free(kp.inner);
	_exit(0);
}
