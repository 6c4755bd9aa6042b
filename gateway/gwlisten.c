/*
 * gwlisten.c: vdi-gatewayd's listener and worker threads (gateway.h).
 * The main thread accepts, applies the pre-authentication limits
 * (max_handshakes, max_handshakes_per_source), backs off when out of
 * descriptors, and hands each connection to a worker's event loop, where
 * its session lives until it closes (session.c).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <event2/dns.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "gateway.h"
#include "keyproc.h"
#include "relay.h"
#include "srclimit.h"
#include "vlog.h"

static struct evconnlistener *listener;
static int stopping; /* gw_listen_stop(): no more accepting */

/* ---- accept and hand over -------------------------------------------- */

struct handoff {
	struct gw_worker *w;
	evutil_socket_t fd;
	struct sockaddr_storage sa;
	int salen;
};

static void
handoff_cb(evutil_socket_t unused, short what, void *arg)
{
	struct handoff *h = arg;

	session_accept(h->w, h->fd, (struct sockaddr *)&h->sa, h->salen);
	free(h);
}

/* At most one log line a second per kind of refusal, with the number of
 * lines left out since the last one (the listener's thread only). */
struct log_gate {
	time_t last;
	unsigned long suppressed;
};

static int
log_gate_open(struct log_gate *g, unsigned long *suppressed)
{
	time_t now = time(NULL);

	if (g->last == now) {
		g->suppressed++;
		return 0;
	}
	g->last = now;
	*suppressed = g->suppressed;
	g->suppressed = 0;
	return 1;
}

void
gw_handshake_release(struct gw *gw, const struct vdi_addr *src)
{
	pthread_mutex_lock(&gw->hs_lock);
	srclimit_release(gw->hs, src);
	pthread_mutex_unlock(&gw->hs_lock);
}

/* Closes fd at once with a reset: a refused peer leaves no TIME_WAIT. */
static void
drop_connection(evutil_socket_t fd)
{
	struct linger lg = { 1, 0 };

	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	evutil_closesocket(fd);
}

/*
 * Every accepted connection takes a handshake slot (max_handshakes in
 * all, max_handshakes_per_source from one address) until its token is
 * accepted; past either limit it is closed at once, so peers that never
 * authenticate cannot crowd out the ones that do, nor admitted sessions.
 */
static void
accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	static struct log_gate gates[2];
	struct gw *gw = arg;
	struct handoff *h;
	struct timeval now = { 0, 0 };
	struct vdi_addr src;
	unsigned long suppressed;
	unsigned int count, total;
	char addr[64];
	int r, per_source;

	memset(&src, 0, sizeof(src));
	(void)!vdi_addr_from_sockaddr(sa, (socklen_t)salen, &src);
	pthread_mutex_lock(&gw->hs_lock);
	r = srclimit_take(gw->hs, &src);
	count = srclimit_count(gw->hs, &src);
	total = srclimit_total(gw->hs);
	pthread_mutex_unlock(&gw->hs_lock);
	if (r != 0) {
		drop_connection(fd);
		per_source = r == VDI_ERR_DENIED;
		gwm_add(gw,
		    per_source ? GWM_HANDSHAKES_REFUSED_SOURCE
			       : GWM_HANDSHAKES_REFUSED_TOTAL,
		    1);
		if (log_gate_open(&gates[per_source], &suppressed))
			vlog(VLOG_WARNING, "handshake_refused",
			    "peer=%s reason=%s open=%u limit=%u "
			    "suppressed=%lu",
			    vdi_addr_format(&src, addr, sizeof(addr)),
			    per_source ? "per_source_limit" : "handshake_limit",
			    per_source ? count : total,
			    per_source ? gw->conf.max_handshakes_per_source
				       : gw->conf.max_handshakes,
			    suppressed);
		return;
	}
	gwm_add(gw, GWM_HANDSHAKES_ACTIVE, 1);
	if ((h = calloc(1, sizeof(*h))) == NULL || salen > (int)sizeof(h->sa)) {
		free(h);
		evutil_closesocket(fd);
		gwm_add(gw, GWM_HANDSHAKES_ACTIVE, -1);
		gw_handshake_release(gw, &src);
		return;
	}
	h->w = &gw->workers[gw->next_worker++ % gw->nworkers];
	h->fd = fd;
	memcpy(&h->sa, sa, (size_t)salen);
	h->salen = salen;
	if (event_base_once(h->w->base, -1, EV_TIMEOUT, handoff_cb, h, &now) !=
	    0) {
		evutil_closesocket(fd);
		free(h);
		gwm_add(gw, GWM_HANDSHAKES_ACTIVE, -1);
		gw_handshake_release(gw, &src);
	}
}

/* accept() failing: out of descriptors (or memory) must not spin the
 * loop. A reserve descriptor is closed to accept and drop the oldest
 * waiting connection, the listener pauses for ACCEPT_BACKOFF_MS, and the
 * log says so at most once a second. */
#define ACCEPT_BACKOFF_MS 100

static int reserve_fd = -1;
static struct event *backoff_timer;

static void
reserve_open(void)
{
	if (reserve_fd < 0)
		reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

static void
backoff_done(evutil_socket_t unused, short what, void *arg)
{
	reserve_open();
	if (listener != NULL && !stopping)
		evconnlistener_enable(listener);
}

static void
accept_error(struct evconnlistener *l, void *arg)
{
	static struct log_gate gates[2];
	struct timeval tv = { 0, ACCEPT_BACKOFF_MS * 1000 };
	struct gw *gw = arg;
	int e = EVUTIL_SOCKET_ERROR(), dropped = 0, fd;
	unsigned long suppressed;

	if (e != EMFILE && e != ENFILE && e != ENOBUFS && e != ENOMEM) {
		if (log_gate_open(&gates[0], &suppressed))
			vlog(VLOG_WARNING, "accept_error",
			    "error=\"%s\" suppressed=%lu",
			    evutil_socket_error_to_string(e), suppressed);
		return;
	}
	if (reserve_fd >= 0) {
		close(reserve_fd);
		reserve_fd = -1;
		if ((fd = accept(evconnlistener_get_fd(l), NULL, NULL)) >= 0) {
			drop_connection(fd);
			dropped = 1;
		}
		reserve_open();
	}
	gwm_add(gw, GWM_ACCEPT_BACKOFFS, 1);
	evconnlistener_disable(l);
	if (backoff_timer == NULL || evtimer_add(backoff_timer, &tv) != 0)
		evconnlistener_enable(l);
	if (log_gate_open(&gates[1], &suppressed))
		vlog(VLOG_ERROR, "accept_backoff",
		    "error=\"%s\" dropped=%d paused_ms=%d open=%llu "
		    "handshakes=%llu suppressed=%lu",
		    evutil_socket_error_to_string(e), dropped,
		    ACCEPT_BACKOFF_MS,
		    (unsigned long long)gwm_get(gw, GWM_CONNECTIONS_ACTIVE),
		    (unsigned long long)gwm_get(gw, GWM_HANDSHAKES_ACTIVE),
		    suppressed);
}

static void *
worker_main(void *arg)
{
	struct gw_worker *w = arg;

	keyclient_bind_thread(w->index + 1); /* channel 0 is the main's */
	event_base_loop(w->base, EVLOOP_NO_EXIT_ON_EMPTY);
	return NULL;
}

/* Each admitted tunnel holds two descriptors (client, desktop) and each
 * handshake one: say so when the limits do not fit the process's
 * descriptor limit (then the accept back-off is what protects it). */
void
gw_nofile_check(const struct gw *gw)
{
	struct rlimit rl;
	unsigned long long need;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	need = 2ULL * gw->conf.max_sessions + gw->conf.max_handshakes + 64;
	if (rl.rlim_cur != RLIM_INFINITY && need > rl.rlim_cur)
		vlog(VLOG_WARNING, "limits_above_nofile",
		    "nofile=%llu need=%llu max_sessions=%u max_handshakes=%u "
		    "detail=\"raise LimitNOFILE or lower the limits\"",
		    (unsigned long long)rl.rlim_cur, need,
		    gw->conf.max_sessions, gw->conf.max_handshakes);
}

static int
bound_port(evutil_socket_t fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0)
		return -1;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return -1;
}

int
gw_listen(struct gw *gw, char *err, size_t errlen)
{
	struct evutil_addrinfo hints, *ai = NULL;
	char port[8];
	const char *host = gw->conf.listen_host;
	int r;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags =
	    EVUTIL_AI_PASSIVE | EVUTIL_AI_NUMERICHOST | EVUTIL_AI_NUMERICSERV;
	snprintf(port, sizeof(port), "%u", gw->conf.listen_port);
	if (strcmp(host, "*") == 0)
		host = NULL;
	if ((r = evutil_getaddrinfo(host, port, &hints, &ai)) != 0) {
		snprintf(err, errlen, "listen %s: %s", gw->conf.listen_host,
		    evutil_gai_strerror(r));
		return VDI_ERR_CONFIG;
	}
	listener = evconnlistener_new_bind(gw->main_base, accept_cb, gw,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
	    1024, ai->ai_addr, (int)ai->ai_addrlen);
	evutil_freeaddrinfo(ai);
	if (listener == NULL) {
		snprintf(err, errlen, "cannot listen on %s:%u: %s",
		    gw->conf.listen_host, gw->conf.listen_port,
		    strerror(errno));
		return VDI_ERR_SYSTEM;
	}
	evconnlistener_set_error_cb(listener, accept_error);
	reserve_open();
	if ((backoff_timer = evtimer_new(gw->main_base, backoff_done, gw)) ==
	    NULL) {
		snprintf(err, errlen, "out of memory");
		return VDI_ERR_ALLOC;
	}
	return 0;
}

int
gw_listen_port(void)
{
	return listener != NULL ? bound_port(evconnlistener_get_fd(listener))
				: -1;
}

void
gw_listen_stop(void)
{
	stopping = 1;
	if (listener != NULL)
		evconnlistener_disable(listener);
}

void
gw_listen_close(void)
{
	if (backoff_timer != NULL)
		event_free(backoff_timer);
	backoff_timer = NULL;
	if (listener != NULL)
		evconnlistener_free(listener);
	listener = NULL;
	if (reserve_fd >= 0)
		close(reserve_fd);
	reserve_fd = -1;
}

/* ---- workers ------------------------------------------------------------ */

int
gw_workers_new(struct gw *gw)
{
	unsigned int i;

	if ((gw->workers = calloc(gw->nworkers, sizeof(*gw->workers))) == NULL)
		return VDI_ERR_ALLOC;
	for (i = 0; i < gw->nworkers; i++) {
		gw->workers[i].gw = gw;
		gw->workers[i].index = i;
		if ((gw->workers[i].base = event_base_new()) == NULL)
			return VDI_ERR_ALLOC;
		gw->workers[i].dns = evdns_base_new(gw->workers[i].base,
		    EVDNS_BASE_INITIALIZE_NAMESERVERS |
			EVDNS_BASE_DISABLE_WHEN_INACTIVE);
		if ((gw->workers[i].relay_fwd = vbuf_new(RELAY_OUT_MAX)) ==
			NULL ||
		    (gw->workers[i].relay_back = vbuf_new(RELAY_OUT_MAX)) ==
			NULL)
			return VDI_ERR_ALLOC;
	}
	return 0;
}

int
gw_workers_start(struct gw *gw)
{
	unsigned int i;

	for (i = 0; i < gw->nworkers; i++) {
		if (pthread_create(&gw->workers[i].thread, NULL, worker_main,
			&gw->workers[i]) != 0) {
			for (; i > 0; i--) {
				event_base_loopexit(
				    gw->workers[i - 1].base, NULL);
				pthread_join(gw->workers[i - 1].thread, NULL);
			}
			return VDI_ERR_SYSTEM;
		}
	}
	return 0;
}

void
gw_workers_stop(struct gw *gw)
{
	unsigned int i;

	for (i = 0; i < gw->nworkers; i++)
		event_base_loopexit(gw->workers[i].base, NULL);
}

void
gw_workers_join(struct gw *gw)
{
	unsigned int i;

	for (i = 0; i < gw->nworkers; i++) {
		event_base_loopexit(gw->workers[i].base, NULL);
		pthread_join(gw->workers[i].thread, NULL);
	}
}

void
gw_workers_free(struct gw *gw)
{
	unsigned int i;

	for (i = 0; gw->workers != NULL && i < gw->nworkers; i++) {
		if (gw->workers[i].dns != NULL)
			evdns_base_free(gw->workers[i].dns, 0);
		if (gw->workers[i].base != NULL)
			event_base_free(gw->workers[i].base);
		vbuf_free(gw->workers[i].relay_fwd); /* wipes */
		vbuf_free(gw->workers[i].relay_back);
	}
	free(gw->workers);
	gw->workers = NULL;
}
