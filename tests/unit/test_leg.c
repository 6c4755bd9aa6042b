/*
 * test_leg.c: the relay leg (gateway/leg.c) against a real TLS peer on a
 * socket pair, in both shapes the gateway uses: the desktop's (TLS over a
 * plain socket bufferevent, the gateway the TLS client) and the client's
 * (RDP-level TLS inside the tunnel TLS, the gateway the server of both).
 * The peer runs in a thread with blocking OpenSSL calls; the gateway side
 * runs the real bufferevents for the handshakes, then leg_adopt() while
 * the peer's first bytes sit in the bufferevents, and the leg's own I/O.
 */
#include "config.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/util.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "leg.h"

#define TO_GW   (1u << 20) /* the peer sends this much after "hello" */
#define TO_PEER (3u << 20) /* the gateway sends this much back */

static EVP_PKEY *key;
static X509 *cert;

static unsigned char
pattern(size_t i, unsigned seed)
{
	return (unsigned char)((i * 31u + seed) ^ (i >> 9));
}

static int
setup(void **state)
{
	X509_NAME *n;

	(void)state;
	key = EVP_EC_gen("P-256");
	cert = X509_new();
	if (key == NULL || cert == NULL)
		return -1;
	ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
	X509_gmtime_adj(X509_getm_notBefore(cert), -60);
	X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
	X509_set_pubkey(cert, key);
	n = X509_get_subject_name(cert);
	X509_NAME_add_entry_by_txt(
	    n, "CN", MBSTRING_ASC, (const unsigned char *)"leg", -1, -1, 0);
	X509_set_issuer_name(cert, n);
	return X509_sign(cert, key, EVP_sha256()) > 0 ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	X509_free(cert);
	EVP_PKEY_free(key);
	return 0;
}

static SSL_CTX *
ctx(int server)
{
	SSL_CTX *c =
	    SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());

	assert_non_null(c);
	if (server) {
		assert_int_equal(SSL_CTX_use_certificate(c, cert), 1);
		assert_int_equal(SSL_CTX_use_PrivateKey(c, key), 1);
	}
	SSL_CTX_set_verify(c, SSL_VERIFY_NONE, NULL);
	return c;
}

/* ---- the peer (a thread, blocking OpenSSL) ------------------------------ */

struct peer {
	int fd;
	int nested; /* 1: tunnel TLS with RDP-level TLS inside */
	int slow;   /* wait before reading, so the gateway must queue */
	int ok;     /* everything it read was right */
	size_t got;
};

static int
ssl_write_all(SSL *s, const unsigned char *p, size_t n)
{
	size_t w;

	while (n > 0) {
		if (SSL_write_ex(s, p, n, &w) != 1)
			return -1;
		p += w;
		n -= w;
	}
	return 0;
}

static void *
peer_main(void *arg)
{
	struct peer *pe = arg;
	SSL_CTX *cc = ctx(!pe->nested), *ic = NULL;
	SSL *outer, *s;
	BIO *ob;
	unsigned char buf[16384], *big;
	size_t i, n;

	/* Desktop shape: the peer is the TLS server. Client shape: it is
	 * the client of both layers. */
	outer = SSL_new(cc);
	SSL_set_fd(outer, pe->fd);
	if ((pe->nested ? SSL_connect(outer) : SSL_accept(outer)) != 1)
		return NULL;
	s = outer;
	if (pe->nested) {
		ic = ctx(0);
		s = SSL_new(ic);
		ob = BIO_new(BIO_f_ssl());
		BIO_set_ssl(ob, outer, BIO_NOCLOSE);
		SSL_set_bio(s, ob, ob);
		if (SSL_connect(s) != 1)
			return NULL;
	}
	big = malloc(TO_GW);
	for (i = 0; i < TO_GW; i++)
		big[i] = pattern(i, 7);
	if (ssl_write_all(s, (const unsigned char *)"hello", 5) != 0 ||
	    ssl_write_all(s, big, TO_GW) != 0)
		return NULL;
	free(big);
	if (pe->slow)
		usleep(300 * 1000);
	pe->ok = 1;
	while (pe->got < TO_PEER) {
		if (SSL_read_ex(s, buf, sizeof(buf), &n) != 1) {
			pe->ok = 0;
			break;
		}
		for (i = 0; i < n; i++)
			if (buf[i] != pattern(pe->got + i, 3))
				pe->ok = 0;
		pe->got += n;
	}
	/* Quiet long enough for the leg to give its buffers back (its
	 * trim check may come up to twice the quiet time late), then a
	 * clean close. */
	sleep(2 * LEG_TRIM_SECONDS + 1);
	(void)SSL_shutdown(s);
	if (s != outer)
		(void)SSL_shutdown(outer);
	if (s != outer)
		SSL_free(s);
	SSL_free(outer);
	SSL_CTX_free(cc);
	SSL_CTX_free(ic);
	shutdown(pe->fd, SHUT_WR);
	return NULL;
}

/* ---- the gateway side ---------------------------------------------------- */

struct gw {
	struct event_base *base;
	struct bufferevent *top;
	struct leg *leg;
	size_t got;
	int ok, sent, drained, closed, errors;
	size_t min_storage, max_pending;
};

/* Every 100 ms: the least the leg held in its queues since it sent. */
static void
watch(evutil_socket_t fd, short what, void *arg)
{
	struct gw *g = arg;

	(void)fd;
	(void)what;
	if (g->leg != NULL && g->sent && leg_storage(g->leg) < g->min_storage)
		g->min_storage = leg_storage(g->leg);
}

static void
on_leg(struct leg *l, enum leg_event ev, void *arg)
{
	struct gw *g = arg;
	struct vbuf *in = leg_in(l);
	unsigned char *p;
	size_t i, n;

	switch (ev) {
	case LEG_READABLE:
		n = vbuf_len(in);
		for (i = 0; i < n; i++) {
			size_t at = g->got + i;
			unsigned char want = at < 5 ? (unsigned char)"hello"[at]
						    : pattern(at - 5, 7);

			if (vbuf_ptr(in)[i] != want)
				g->ok = 0;
		}
		g->got += n;
		assert_int_equal(vbuf_consume(in, n), 0);
		if (!g->sent && g->got == TO_GW + 5) {
			g->sent = 1;
			assert_int_equal(
			    vbuf_space(leg_out(l), TO_PEER, &p), 0);
			for (i = 0; i < TO_PEER; i++)
				p[i] = pattern(i, 3);
			assert_int_equal(vbuf_commit(leg_out(l), TO_PEER), 0);
			assert_int_equal(leg_flush(l, 1), 0);
			g->max_pending = leg_pending(l);
		}
		return;
	case LEG_DRAINED:
		g->drained++;
		return;
	case LEG_CLOSED:
		g->closed = 1;
		event_base_loopexit(g->base, NULL);
		return;
	case LEG_ERROR:
		g->errors++;
		event_base_loopexit(g->base, NULL);
		return;
	}
}

/* Adopts once the top bufferevent holds some of the peer's bytes, so that
 * moving buffered data is always exercised. */
static void
top_read(struct bufferevent *bev, void *arg)
{
	struct gw *g = arg;
	char why[96];

	assert_true(evbuffer_get_length(bufferevent_get_input(bev)) > 0);
	g->leg = leg_adopt(g->base, bev, 1u << 20, on_leg, g, why, sizeof(why));
	assert_non_null(g->leg);
	leg_set_low(g->leg, 64u << 10);
	leg_kick(g->leg);
	/* What was in the bufferevent is in leg_in() already. */
	on_leg(g->leg, LEG_READABLE, g);
}

static void
top_event(struct bufferevent *bev, short what, void *arg)
{
	struct gw *g = arg;

	(void)bev;
	if (!(what & BEV_EVENT_CONNECTED)) {
		g->errors++;
		event_base_loopexit(g->base, NULL);
	}
}

static void
run(int nested, int slow)
{
	struct gw g;
	struct peer pe;
	pthread_t th;
	SSL_CTX *sc = ctx(1), *cc = ctx(0);
	struct bufferevent *b0, *b1;
	struct timeval limit = { 30, 0 }, tick = { 0, 100 * 1000 };
	struct event *w;
	int sv[2];

	memset(&g, 0, sizeof(g));
	memset(&pe, 0, sizeof(pe));
	g.ok = 1;
	g.min_storage = SIZE_MAX;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(evutil_make_socket_nonblocking(sv[0]), 0);
	pe.fd = sv[1];
	pe.nested = nested;
	pe.slow = slow;
	assert_non_null(g.base = event_base_new());
	if (nested) {
		/* Tunnel TLS on the socket, RDP-level TLS inside it. */
		b0 = bufferevent_openssl_socket_new(g.base, sv[0], SSL_new(sc),
		    BUFFEREVENT_SSL_ACCEPTING,
		    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
		b1 = bufferevent_openssl_filter_new(g.base, b0, SSL_new(sc),
		    BUFFEREVENT_SSL_ACCEPTING,
		    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	} else {
		/* TLS over a plain socket bufferevent. */
		b0 = bufferevent_socket_new(g.base, sv[0],
		    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
		b1 = bufferevent_openssl_filter_new(g.base, b0, SSL_new(cc),
		    BUFFEREVENT_SSL_CONNECTING,
		    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	}
	assert_non_null(b0);
	assert_non_null(b1);
	g.top = b1;
	bufferevent_setcb(b1, top_read, NULL, top_event, &g);
	bufferevent_enable(b1, EV_READ | EV_WRITE);
	assert_int_equal(pthread_create(&th, NULL, peer_main, &pe), 0);
	assert_non_null(w = event_new(g.base, -1, EV_PERSIST, watch, &g));
	event_add(w, &tick);
	event_base_loopexit(g.base, &limit);
	event_base_dispatch(g.base);
	pthread_join(th, NULL);
	event_free(w);

	assert_int_equal(g.errors, 0);
	assert_true(g.ok);
	assert_int_equal(g.got, TO_GW + 5);
	assert_true(pe.ok);
	assert_int_equal(pe.got, TO_PEER);
	assert_true(g.closed);
	/* Quiet for 3 s before the close: the buffers were given back. */
	assert_int_equal(g.min_storage, 0);
	if (slow) {
		/* The peer did not read at first: the socket could not take
		 * it all, the rest waited in the leg and went out as the
		 * socket drained. */
		assert_true(g.max_pending > 0);
		assert_true(g.drained > 0);
	}
	leg_free(g.leg);
	event_base_free(g.base);
	SSL_CTX_free(sc);
	SSL_CTX_free(cc);
}

static void
leg_adopt__when_desktop_shape__every_byte_both_ways_then_close(void **state)
{
	(void)state;
	run(0, 0);
}

static void
leg_adopt__when_nested_tls__every_byte_both_ways_then_close(void **state)
{
	(void)state;
	run(1, 0);
}

static void
leg_flush__when_peer_reads_late__queued_then_drained(void **state)
{
	(void)state;
	run(0, 1);
	run(1, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    leg_adopt__when_desktop_shape__every_byte_both_ways_then_close),
		cmocka_unit_test(
		    leg_adopt__when_nested_tls__every_byte_both_ways_then_close),
		cmocka_unit_test(
		    leg_flush__when_peer_reads_late__queued_then_drained),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
