/*
 * leg.c: a relaying leg's own I/O (see leg.h for why).
 *
 * Queues, for a leg with n TLS layers (layer 0 next to the socket):
 *
 *   socket <-> q_in[0]/q_out[0] <-> layer 0 <-> q_in[1]/q_out[1] <-> ...
 *          <-> layer n-1 <-> q_in[n]/q_out[n] (plaintext: the pump's)
 *
 * Layer i reads its records from q_in[i] and writes them to q_out[i]
 * through a memory BIO of ours; SSL_read on layer i fills q_in[i + 1] and
 * SSL_write takes from q_out[i + 1]. Reads from the socket go to a
 * per-thread scratch buffer that layer 0's BIO reads from directly (an
 * SSL_read loop that ends wanting more has taken every byte), so a busy
 * leg copies nothing it does not have to and an idle one holds no buffer.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "leg.h"
#include "vlog.h"

/* Cap of every queue (a bug guard: the pump's back-pressure keeps them far
 * below it). */
#define LEG_QUEUE_MAX (16u << 20)
/* Plaintext asked of one SSL_read (one TLS record is at most 16 KiB). */
#define LEG_RECORD_ROOM (16u * 1024u)
/* Most plaintext handed to one SSL_write. */
#define LEG_WRITE_MAX (256u * 1024u)

/* What one of our BIOs reads from and writes to. It belongs to the BIO
 * (freed with it), because libevent may free the bufferevent that held
 * the SSL object, and look at its BIO, after the leg is gone. */
struct legbio {
	struct vbuf *in, *out;    /* NULL once the leg is gone */
	const unsigned char *win; /* layer 0: the scratch read window */
	size_t winlen;
	int handback_fd; /* what BIO_get_fd() tells libevent */
};

struct leg {
	int fd;
	struct event *rev, *wev, *trim;
	int wev_on, paused;
	int gone; /* the peer reset the connection (its close, not an error) */
	leg_cb *cb;
	void *arg;
	size_t low, in_max;
	struct timeval last; /* last read or write (cached loop time) */
	int nlay;
	SSL *ssl[LEG_LAYERS_MAX];
	BIO *bio[LEG_LAYERS_MAX];
	struct vbuf *q_in[LEG_LAYERS_MAX + 1], *q_out[LEG_LAYERS_MAX + 1];
	char why[160];
};

static __thread unsigned char leg_scratch[LEG_READ_CHUNK];

/* ---- the memory BIO ---------------------------------------------------- */

static BIO_METHOD *leg_bio_method;
static pthread_once_t leg_bio_once = PTHREAD_ONCE_INIT;

static int
legbio_read(BIO *b, char *buf, int len)
{
	struct legbio *lb = BIO_get_data(b);
	size_t want = len > 0 ? (size_t)len : 0, n, got = 0;

	BIO_clear_retry_flags(b);
	if (lb == NULL || lb->in == NULL)
		return -1;
	n = vbuf_len(lb->in);
	if (n > 0) {
		n = n < want ? n : want;
		memcpy(buf, vbuf_ptr(lb->in), n);
		if (vbuf_consume(lb->in, n) != 0)
			return -1;
		got = n;
	}
	if (got < want && lb->winlen > 0) {
		n = lb->winlen < want - got ? lb->winlen : want - got;
		memcpy(buf + got, lb->win, n);
		lb->win += n;
		lb->winlen -= n;
		got += n;
	}
	if (got == 0) {
		BIO_set_retry_read(b);
		return -1;
	}
	return (int)got;
}

static int
legbio_write(BIO *b, const char *buf, int len)
{
	struct legbio *lb = BIO_get_data(b);

	BIO_clear_retry_flags(b);
	if (lb == NULL || lb->out == NULL || len < 0)
		return -1;
	if (vbuf_put(lb->out, buf, (size_t)len) != 0)
		return -1;
	return len;
}

static long
legbio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	struct legbio *lb = BIO_get_data(b);

	(void)num;
	(void)ptr;
	switch (cmd) {
	case BIO_CTRL_FLUSH:
		return 1;
	case BIO_CTRL_PENDING:
		return lb != NULL && lb->in != NULL
		    ? (long)(vbuf_len(lb->in) + lb->winlen)
		    : 0;
	case BIO_CTRL_WPENDING:
		return lb != NULL && lb->out != NULL ? (long)vbuf_len(lb->out)
						     : 0;
	case BIO_C_GET_FD:
		return lb != NULL ? lb->handback_fd : -1;
	default:
		return 0;
	}
}

static int
legbio_create(BIO *b)
{
	struct legbio *lb = calloc(1, sizeof(*lb));

	if (lb == NULL)
		return 0;
	lb->handback_fd = -1;
	BIO_set_data(b, lb);
	BIO_set_init(b, 1);
	return 1;
}

static int
legbio_destroy(BIO *b)
{
	free(BIO_get_data(b));
	BIO_set_data(b, NULL);
	return 1;
}

static void
leg_bio_setup(void)
{
	BIO_METHOD *m = BIO_meth_new(
	    BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "vdi relay leg");

	if (m == NULL || BIO_meth_set_write(m, legbio_write) != 1 ||
	    BIO_meth_set_read(m, legbio_read) != 1 ||
	    BIO_meth_set_ctrl(m, legbio_ctrl) != 1 ||
	    BIO_meth_set_create(m, legbio_create) != 1 ||
	    BIO_meth_set_destroy(m, legbio_destroy) != 1) {
		BIO_meth_free(m);
		return;
	}
	leg_bio_method = m;
}

/* ---- errors ------------------------------------------------------------- */

static void
set_why_tls(struct leg *l, const char *what, int layer)
{
	unsigned long e = ERR_peek_last_error();
	char buf[120];

	if (e != 0)
		ERR_error_string_n(e, buf, sizeof(buf));
	else
		snprintf(buf, sizeof(buf), "unknown");
	snprintf(l->why, sizeof(l->why), "%s layer=%d: %s", what, layer, buf);
	ERR_clear_error();
}

static void
set_why_errno(struct leg *l, const char *what, int err)
{
	snprintf(l->why, sizeof(l->why), "%s: %s", what, strerror(err));
}

/* ---- reading ------------------------------------------------------------ */

/*
 * Decrypts every layer as far as it goes. Returns 0, 1 when the peer
 * closed (close_notify), or -1 on a TLS error.
 */
static int
decrypt(struct leg *l)
{
	struct legbio *lb0 = BIO_get_data(l->bio[0]);
	unsigned char *p;
	int i, n, e, r = 0, closed = 0;

	/* A layer that closed still hands on what came before its close:
	 * the layers above it run on that too. */
	for (i = 0; i < l->nlay && r == 0; i++) {
		for (;;) {
			if (vbuf_space(l->q_in[i + 1], LEG_RECORD_ROOM, &p) !=
			    0) {
				snprintf(l->why, sizeof(l->why),
				    "input over its cap layer=%d", i);
				r = -1;
				break;
			}
			n = SSL_read(l->ssl[i], p, (int)LEG_RECORD_ROOM);
			if (n > 0) {
				if (vbuf_commit(l->q_in[i + 1], (size_t)n) != 0)
					r = -1;
				if (r != 0)
					break;
				continue;
			}
			e = SSL_get_error(l->ssl[i], n);
			if (e == SSL_ERROR_WANT_READ)
				break;
			if (e == SSL_ERROR_ZERO_RETURN) {
				if (!closed)
					snprintf(l->why, sizeof(l->why),
					    "close_notify layer=%d", i);
				closed = 1;
			} else {
				set_why_tls(l, "tls_read", i);
				r = -1;
			}
			break;
		}
		/* Room made for a record that brought no data (an alert, a
		 * ticket, the peer's close) is not kept. */
		if (vbuf_len(l->q_in[i + 1]) == 0)
			vbuf_release(l->q_in[i + 1]);
	}
	/* Keep what layer 0 left of the scratch window (only after an
	 * error or a close: a read loop wanting more took it all). */
	if (lb0->winlen > 0) {
		if (r == 0 && vbuf_put(l->q_in[0], lb0->win, lb0->winlen) != 0)
			r = -1;
		lb0->win = NULL;
		lb0->winlen = 0;
	}
	return r != 0 ? r : closed;
}

/* Reads the socket once into the scratch window. Returns 1 with bytes, 0
 * when there was nothing, 2 at end of stream, -1 on error. */
static int
fill(struct leg *l)
{
	struct legbio *lb0 = BIO_get_data(l->bio[0]);
	ssize_t n;

	n = read(l->fd, leg_scratch, sizeof(leg_scratch));
	if (n > 0) {
		lb0->win = leg_scratch;
		lb0->winlen = (size_t)n;
		return 1;
	}
	if (n == 0) {
		snprintf(l->why, sizeof(l->why), "eof");
		return 2;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return 0;
	set_why_errno(l, "read", errno);
	if (errno == ECONNRESET) {
		/* A peer that went away: its close too. */
		l->gone = 1;
		return 2;
	}
	return -1;
}

static void
arm_trim(struct leg *l)
{
	struct timeval tv = { LEG_TRIM_SECONDS, 0 };

	event_base_gettimeofday_cached(event_get_base(l->rev), &l->last);
	if (!evtimer_pending(l->trim, NULL))
		evtimer_add(l->trim, &tv);
}

static void
on_read(evutil_socket_t fd, short what, void *arg)
{
	struct leg *l = arg;
	size_t before = vbuf_len(l->q_in[l->nlay]);
	int r = 0, d;

	(void)fd;
	if (l->paused)
		return;
	/* EV_TIMEOUT: activated by leg_kick() to process what is buffered,
	 * without a socket read. */
	if (what & EV_READ)
		r = fill(l);
	if (r < 0) {
		l->cb(l, LEG_ERROR, l->arg);
		return;
	}
	d = decrypt(l);
	/* TLS may have answered something itself (a key update). */
	if (d >= 0 && leg_flush(l, 0) != 0)
		d = -1;
	arm_trim(l);
	if (d < 0) {
		l->cb(l, LEG_ERROR, l->arg);
		return;
	}
	if (vbuf_len(l->q_in[l->nlay]) != before) {
		/* The peer's last bytes are relayed before its close is:
		 * the close is seen again on the next turn of the loop
		 * (the callback may free the leg, and the activation with
		 * it). */
		if (d == 1 || r == 2)
			leg_kick(l);
		l->cb(l, LEG_READABLE, l->arg);
		return;
	}
	if (d == 1 || r == 2)
		l->cb(l, LEG_CLOSED, l->arg);
}

/* ---- writing ------------------------------------------------------------ */

/* Writes what the socket takes. Returns 0 or -1. */
static int
push(struct leg *l)
{
	struct vbuf *q = l->q_out[0];
	ssize_t n;

	while (vbuf_len(q) > 0) {
		n = send(l->fd, vbuf_ptr(q), vbuf_len(q), MSG_NOSIGNAL);
		if (n > 0) {
			if (vbuf_consume(q, (size_t)n) != 0)
				return -1;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (!l->wev_on) {
				event_add(l->wev, NULL);
				l->wev_on = 1;
			}
			return 0;
		}
		set_why_errno(l, "write", n < 0 ? errno : EPIPE);
		if (n < 0 && (errno == EPIPE || errno == ECONNRESET))
			l->gone = 1;
		return -1;
	}
	if (l->wev_on) {
		event_del(l->wev);
		l->wev_on = 0;
	}
	return 0;
}

int
leg_flush(struct leg *l, int wipe)
{
	struct vbuf *q;
	size_t len;
	int i, n;

	for (i = l->nlay - 1; i >= 0; i--) {
		q = l->q_out[i + 1];
		while ((len = vbuf_len(q)) > 0) {
			if (len > LEG_WRITE_MAX)
				len = LEG_WRITE_MAX;
			n = SSL_write(l->ssl[i], vbuf_ptr(q), (int)len);
			if (n <= 0) {
				set_why_tls(l, "tls_write", i);
				return -1;
			}
			if (vbuf_consume(q, (size_t)n) != 0)
				return -1;
		}
		if (wipe && i == l->nlay - 1)
			vbuf_wipe(q);
	}
	/* The queues keep their storage while the leg is busy (freeing and
	 * wiping it after every batch cost more CPU than the relay's own
	 * work); a quiet leg gives it back (leg_trim, LEG_TRIM_SECONDS). */
	return push(l);
}

static void
on_write(evutil_socket_t fd, short what, void *arg)
{
	struct leg *l = arg;
	size_t before = vbuf_len(l->q_out[0]);

	(void)fd;
	(void)what;
	if (push(l) != 0) {
		l->cb(l, LEG_ERROR, l->arg);
		return;
	}
	arm_trim(l);
	if (before > l->low && vbuf_len(l->q_out[0]) <= l->low)
		l->cb(l, LEG_DRAINED, l->arg);
}

/* ---- idle --------------------------------------------------------------- */

void
leg_trim(struct leg *l)
{
	int i;

	for (i = 0; i <= l->nlay; i++) {
		vbuf_release(l->q_in[i]);
		vbuf_release(l->q_out[i]);
	}
	for (i = 0; i < l->nlay; i++)
		(void)SSL_free_buffers(l->ssl[i]);
}

static void
on_trim(evutil_socket_t fd, short what, void *arg)
{
	struct leg *l = arg;
	struct timeval now, quiet;

	(void)fd;
	(void)what;
	event_base_gettimeofday_cached(event_get_base(l->rev), &now);
	timersub(&now, &l->last, &quiet);
	if (quiet.tv_sec >= LEG_TRIM_SECONDS) {
		leg_trim(l);
		return;
	}
	quiet.tv_sec = LEG_TRIM_SECONDS - quiet.tv_sec;
	quiet.tv_usec = 0;
	evtimer_add(l->trim, &quiet);
}

/* ---- taking over the bufferevents --------------------------------------- */

/* Moves everything buffered in ev into q. */
static int
take_evbuffer(struct evbuffer *ev, struct vbuf *q)
{
	size_t n = evbuffer_get_length(ev);
	unsigned char *p;

	if (n == 0)
		return 0;
	if (vbuf_space(q, n, &p) != 0 || evbuffer_remove(ev, p, n) != (int)n ||
	    vbuf_commit(q, n) != 0)
		return -1;
	return 0;
}

struct leg *
leg_adopt(struct event_base *base, struct bufferevent *top, size_t in_max,
    leg_cb *cb, void *arg, char *why, size_t whylen)
{
	struct bufferevent *lv[LEG_LAYERS_MAX + 1], *b;
	struct leg *l;
	struct legbio *lb;
	int nlv = 0, plain, i, j, fd;

	(void)pthread_once(&leg_bio_once, leg_bio_setup);
	if (leg_bio_method == NULL) {
		snprintf(why, whylen, "cannot make the relay BIO");
		return NULL;
	}
	/* The stack, top first. */
	for (b = top; b != NULL; b = bufferevent_get_underlying(b)) {
		if (nlv == LEG_LAYERS_MAX + 1) {
			snprintf(why, whylen, "too many layers");
			return NULL;
		}
		lv[nlv++] = b;
	}
	plain = bufferevent_openssl_get_ssl(lv[nlv - 1]) == NULL;
	if (nlv - plain < 1 || nlv - plain > LEG_LAYERS_MAX) {
		snprintf(why, whylen, "not a TLS stack");
		return NULL;
	}
	if ((fd = bufferevent_getfd(lv[nlv - 1])) < 0) {
		snprintf(why, whylen, "no socket");
		return NULL;
	}
	if ((l = calloc(1, sizeof(*l))) == NULL)
		goto fail;
	l->fd = -1;
	l->nlay = nlv - plain;
	l->cb = cb;
	l->arg = arg;
	l->in_max = in_max;
	l->low = 0;
	for (i = 0; i <= l->nlay; i++)
		if ((l->q_in[i] = vbuf_new(
			 i == l->nlay ? in_max : LEG_QUEUE_MAX)) == NULL ||
		    (l->q_out[i] = vbuf_new(LEG_QUEUE_MAX)) == NULL)
			goto fail;
	for (i = 0; i < l->nlay; i++)
		if ((l->bio[i] = BIO_new(leg_bio_method)) == NULL)
			goto fail;
	if ((l->fd = dup(fd)) < 0 ||
	    (l->rev = event_new(
		 base, l->fd, EV_READ | EV_PERSIST, on_read, l)) == NULL ||
	    (l->wev = event_new(
		 base, l->fd, EV_WRITE | EV_PERSIST, on_write, l)) == NULL ||
	    (l->trim = evtimer_new(base, on_trim, l)) == NULL)
		goto fail;

	/* Nothing can fail from here on: move the buffered bytes and the
	 * SSL objects over. Level j (top first) is layer nlay - 1 - j. */
	for (j = 0; j < nlv; j++) {
		struct evbuffer *in = bufferevent_get_input(lv[j]);
		struct evbuffer *out = bufferevent_get_output(lv[j]);
		int lay = l->nlay - 1 - j;

		if (lay < 0) { /* the plain socket under the TLS */
			if (take_evbuffer(in, l->q_in[0]) != 0 ||
			    take_evbuffer(out, l->q_out[0]) != 0)
				goto fail_late;
			continue;
		}
		if (take_evbuffer(in, l->q_in[lay + 1]) != 0 ||
		    take_evbuffer(out, l->q_out[lay + 1]) != 0)
			goto fail_late;
	}
	for (j = 0; j < l->nlay; j++) {
		int lay = l->nlay - 1 - j;
		SSL *ssl = bufferevent_openssl_get_ssl(lv[j]);

		if (SSL_up_ref(ssl) != 1)
			goto fail_late;
		l->ssl[lay] = ssl;
		lb = BIO_get_data(l->bio[lay]);
		lb->in = l->q_in[lay];
		lb->out = l->q_out[lay];
		/* libevent closes the socket a TLS socket bufferevent was made
		 * on, through its BIO: the original; the leg has its dup. */
		if (lay == 0 && !plain)
			lb->handback_fd = fd;
		SSL_set_bio(ssl, l->bio[lay], l->bio[lay]);
	}
	bufferevent_free(top);
	event_add(l->rev, NULL);
	why[0] = '\0';
	return l;

fail_late:
	/* Only an allocation can fail above: the bytes already moved are
	 * lost with the session, which the caller closes. */
fail:
	snprintf(why, whylen, "out of memory");
	leg_free(l);
	return NULL;
}

void
leg_free(struct leg *l)
{
	struct legbio *lb;
	int i;

	if (l == NULL)
		return;
	if (l->rev != NULL)
		event_free(l->rev);
	if (l->wev != NULL)
		event_free(l->wev);
	if (l->trim != NULL)
		event_free(l->trim);
	for (i = 0; i < l->nlay; i++) {
		if (l->ssl[i] != NULL) {
			lb = BIO_get_data(l->bio[i]);
			if (lb != NULL)
				lb->in = lb->out = NULL;
			SSL_free(l->ssl[i]);
		} else if (l->bio[i] != NULL) {
			BIO_free(l->bio[i]);
		}
	}
	for (i = 0; i <= LEG_LAYERS_MAX; i++) {
		vbuf_free(l->q_in[i]);
		vbuf_free(l->q_out[i]);
	}
	if (l->fd >= 0)
		close(l->fd);
	OPENSSL_cleanse(l, sizeof(*l));
	free(l);
}

/* ---- the rest of the interface ----------------------------------------- */

struct vbuf *
leg_in(struct leg *l)
{
	return l->q_in[l->nlay];
}

struct vbuf *
leg_out(struct leg *l)
{
	return l->q_out[l->nlay];
}

size_t
leg_pending(const struct leg *l)
{
	return vbuf_len(l->q_out[0]);
}

void
leg_set_low(struct leg *l, size_t low)
{
	l->low = low;
}

void
leg_kick(struct leg *l)
{
	event_active(l->rev, EV_TIMEOUT, 0);
}

void
leg_pause(struct leg *l, int on)
{
	if (on == l->paused)
		return;
	l->paused = on;
	if (on) {
		event_del(l->rev);
		return;
	}
	event_add(l->rev, NULL);
	/* What was read while paused is processed from the loop. */
	leg_kick(l);
}

int
leg_paused(const struct leg *l)
{
	return l->paused;
}

int
leg_peer_gone(const struct leg *l)
{
	return l->gone;
}

const char *
leg_why(const struct leg *l)
{
	return l->why;
}

size_t
leg_storage(const struct leg *l)
{
	size_t n = 0;
	int i;

	for (i = 0; i <= l->nlay; i++)
		n += vbuf_storage(l->q_in[i]) + vbuf_storage(l->q_out[i]);
	return n;
}
