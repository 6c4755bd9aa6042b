/*
 * keyclient.c: the gateway's side of its key process (keyproc.h): starts
 * it, and sends UNSEAL and SIGN requests over one socketpair per thread,
 * each behind its own lock.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <openssl/crypto.h>

#include "fdwait.h"
#include "keymsg.h"
#include "keyproc.h"
#include "vlog.h"

#define FRAME_BUF (KEYMSG_HEADER_LEN + KEYMSG_FRAME_MAX)

struct kc_chan {
	pthread_mutex_t lock;
	int fd;
	int broken; /* out of step or gone: every request fails */
	struct vbuf *in, *out;
};

static struct {
	pid_t pid;
	unsigned int n;
	uint8_t flags;
	struct kc_chan ch[KEYPROC_CHANNELS_MAX];
} KC;

static __thread unsigned int kc_home;

static int
write_all(int fd, struct vbuf *b, int64_t deadline)
{
	ssize_t n;
	int r;

	while (vbuf_len(b) > 0) {
		n = send(
		    fd, vbuf_ptr(b), vbuf_len(b), MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if ((r = vdi_wait_fd(fd, POLLOUT, deadline)) != 0)
				return r;
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
read_msg(int fd, struct vbuf *in, struct keymsg *m, int64_t deadline)
{
	unsigned char *p;
	size_t room;
	ssize_t n;
	int r;

	for (;;) {
		if ((r = keymsg_parse(in, m)) != VDI_ERR_NEED_MORE)
			return r;
		if ((r = vdi_wait_fd(fd, POLLIN, deadline)) != 0)
			return r;
		if ((room = vbuf_avail(in)) == 0)
			return VDI_ERR_TOO_LARGE;
		if ((r = vbuf_reserve(in, room, &p)) != 0)
			return r;
		do {
			n = recv(fd, p, room, MSG_DONTWAIT);
		} while (n < 0 && errno == EINTR);
		if (vbuf_consume_end(in, room - (n > 0 ? (size_t)n : 0)) != 0)
			return VDI_ERR_INTERNAL;
		if (n == 0)
			return VDI_ERR_IO;
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return VDI_ERR_IO;
	}
}

/* Sends req on the caller's channel and reads the reply of type want into
 * rep (an ERROR reply's code is returned). */
static int
request(const struct keymsg *req, enum keymsg_type want, struct keymsg *rep)
{
	struct kc_chan *c;
	int64_t deadline = vdi_now_ms() + KEYPROC_TIMEOUT_MS;
	int r;

	if (KC.n == 0)
		return VDI_ERR_NOT_FOUND;
	c = &KC.ch[kc_home < KC.n ? kc_home : 0];
	pthread_mutex_lock(&c->lock);
	if (c->broken) {
		r = VDI_ERR_IO;
		goto out;
	}
	vbuf_reset(c->out);
	if ((r = keymsg_encode(c->out, req)) != 0)
		goto out;
	r = write_all(c->fd, c->out, deadline);
	vbuf_wipe(c->out);
	if (r == 0)
		r = read_msg(c->fd, c->in, rep, deadline);
	if (r == 0 && vbuf_len(c->in) != 0)
		r = VDI_ERR_BAD_FORMAT; /* nothing comes unasked */
	vbuf_wipe(c->in);
	if (r == 0 && rep->type == KEYMSG_ERROR) {
		r = rep->u.error.code;
		if (strcmp(vdi_errname(r), "VDI_ERR_UNKNOWN") == 0)
			r = VDI_ERR_INTERNAL;
		goto out;
	}
	if (r == 0 && rep->type != want)
		r = VDI_ERR_BAD_FORMAT;
	if (r != 0) {
		c->broken = 1;
		vlog(VLOG_ERROR, "keyproc_lost", "channel=%u error=%s",
		    (unsigned)(c - KC.ch), vdi_errname(r));
		if (r != VDI_ERR_TIMEOUT)
			r = VDI_ERR_IO;
	}
out:
	pthread_mutex_unlock(&c->lock);
	return r;
}

int
keyclient_start(const struct keyproc_config *cfg, unsigned int nchannels,
    char *err, size_t errlen)
{
	int theirs[KEYPROC_CHANNELS_MAX], sv[2], r = 0;
	struct keymsg *m = NULL;
	unsigned int i;
	pid_t pid;

	if (KC.n != 0 || nchannels == 0 || nchannels > KEYPROC_CHANNELS_MAX) {
		snprintf(err, errlen, "key process: bad start");
		return VDI_ERR_INVALID_ARG;
	}
	for (i = 0; i < nchannels; i++) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
			break;
		pthread_mutex_init(&KC.ch[i].lock, NULL);
		KC.ch[i].fd = sv[0];
		theirs[i] = sv[1];
		if ((KC.ch[i].in = vbuf_new(2 * FRAME_BUF)) == NULL ||
		    (KC.ch[i].out = vbuf_new(FRAME_BUF)) == NULL) {
			KC.n = i + 1;
			r = VDI_ERR_ALLOC;
			goto fail_theirs;
		}
		KC.n = i + 1;
	}
	if (KC.n != nchannels) {
		r = VDI_ERR_SYSTEM;
		goto fail_theirs;
	}
	fflush(NULL);
	if ((pid = fork()) < 0) {
		r = VDI_ERR_SYSTEM;
		goto fail_theirs;
	}
	if (pid == 0) {
		for (i = 0; i < KC.n; i++)
			close(KC.ch[i].fd);
		keyproc_main(cfg, theirs, nchannels);
	}
	KC.pid = pid;
	for (i = 0; i < nchannels; i++)
		close(theirs[i]);
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		r = VDI_ERR_ALLOC;
		goto fail;
	}
	r = read_msg(KC.ch[0].fd, KC.ch[0].in, m, vdi_now_ms() + 10000);
	if (r == 0 && m->type == KEYMSG_ERROR)
		r = m->u.error.code;
	else if (r == 0 && m->type != KEYMSG_READY)
		r = VDI_ERR_BAD_FORMAT;
	if (r != 0) {
		snprintf(err, errlen,
		    "key process: cannot load the keys (%s): see its "
		    "keyproc_load_failed line",
		    r == VDI_ERR_IO ? "it exited" : vdi_strerror(r));
		free(m);
		keyclient_stop();
		return r == VDI_ERR_IO ? VDI_ERR_CERT_LOAD : r;
	}
	KC.flags = m->u.ready.flags;
	free(m);
	return 0;
fail_theirs:
	for (i = 0; i < KC.n; i++)
		close(theirs[i]);
fail:
	snprintf(err, errlen, "key process: cannot start: %s", vdi_strerror(r));
	keyclient_stop();
	return r;
}

void
keyclient_stop(void)
{
	unsigned int i;
	int st;

	for (i = 0; i < KC.n; i++) {
		if (KC.ch[i].fd >= 0)
			close(KC.ch[i].fd);
		KC.ch[i].fd = -1;
		vbuf_free(KC.ch[i].in);
		vbuf_free(KC.ch[i].out);
		KC.ch[i].in = KC.ch[i].out = NULL;
		pthread_mutex_destroy(&KC.ch[i].lock);
	}
	KC.n = 0;
	if (KC.pid > 0) {
		while (waitpid(KC.pid, &st, 0) < 0 && errno == EINTR)
			;
		KC.pid = 0;
	}
	KC.flags = 0;
}

void
keyclient_forget(void)
{
	KC.pid = 0;
}

pid_t
keyclient_pid(void)
{
	return KC.pid;
}

int
keyclient_have_seal(void)
{
	return (KC.flags & KEYMSG_HAVE_SEAL) != 0;
}

int
keyclient_have_inner(void)
{
	return (KC.flags & KEYMSG_HAVE_INNER) != 0;
}

void
keyclient_bind_thread(unsigned int i)
{
	kc_home = i;
}

int
keyclient_unseal(const char *sealed, const void *aad, size_t aadlen,
    unsigned char *out, size_t outlen, size_t *len)
{
	struct keymsg *m;
	size_t sl;
	int r;

	*len = 0;
	if (sealed == NULL || (aad == NULL && aadlen > 0))
		return VDI_ERR_INVALID_ARG;
	sl = strlen(sealed);
	if (sl > KEYMSG_SEALED_MAX || aadlen > KEYMSG_AAD_MAX)
		return VDI_ERR_TOO_LARGE;
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return VDI_ERR_ALLOC;
	m->type = KEYMSG_UNSEAL;
	m->u.unseal.aad_len = aadlen;
	if (aadlen > 0)
		memcpy(m->u.unseal.aad, aad, aadlen);
	m->u.unseal.sealed_len = sl;
	memcpy(m->u.unseal.sealed, sealed, sl);
	if ((r = request(m, KEYMSG_PLAIN, m)) == 0) {
		if (m->u.plain.len > outlen)
			r = VDI_ERR_TOO_LARGE;
		else {
			memcpy(out, m->u.plain.data, m->u.plain.len);
			*len = m->u.plain.len;
		}
	}
	keymsg_clear(m);
	free(m);
	return r;
}

int
keyclient_sign(uint8_t alg, uint8_t padding, const void *in, size_t inlen,
    unsigned char *out, size_t outlen, size_t *outl)
{
	struct keymsg *m;
	int r;

	*outl = 0;
	if (inlen > KEYMSG_SIGN_IN_MAX)
		return VDI_ERR_TOO_LARGE;
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return VDI_ERR_ALLOC;
	m->type = KEYMSG_SIGN;
	m->u.sign.alg = alg;
	m->u.sign.padding = padding;
	m->u.sign.len = inlen;
	memcpy(m->u.sign.in, in, inlen);
	if ((r = request(m, KEYMSG_SIGNED, m)) == 0) {
		if (m->u.signed_.len > outlen)
			r = VDI_ERR_TOO_LARGE;
		else {
			memcpy(out, m->u.signed_.out, m->u.signed_.len);
			*outl = m->u.signed_.len;
		}
	}
	keymsg_clear(m);
	free(m);
	return r;
}
