/* health.c: X.224 probes of the desktops (see health.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/dns.h>
#include <event2/event.h>

#include "assign.h"
#include "rdp/frame.h"
#include "health.h"
#include "vlog.h"
#include "rdp/x224.h"

#define PROBE_MAX 4096

struct probe {
	struct probe *next;
	struct health *h;
	struct bufferevent *bev;
	char desktop[STORE_NAME_MAX];
	int done;
};

struct health {
	struct broker *b;
	struct event *timer;
	struct evdns_base *dns;
	struct probe *probes;
};

static void
probe_finish(struct probe *p, int healthy, const char *reason)
{
	struct health *h = p->h;
	struct broker *b = h->b;
	struct store_desktop before;
	const struct policy_pool *pool;
	struct probe **pp;
	json_t *detail;

	if (store_desktop_get(b->store, p->desktop, &before) == 0 &&
	    (before.healthy != healthy || before.last_check == 0)) {
		vlog(healthy ? VLOG_NOTICE : VLOG_WARNING, "desktop_health",
		    "desktop=%s healthy=%d reason=%s", p->desktop, healthy,
		    reason);
		detail = json_pack(
		    "{s:s, s:b}", "desktop", p->desktop, "healthy", healthy);
		/* In the chain of the desktop's tenant, for its admins. */
		pool = NULL;
		(void)assign_find_desktop(b->policy, p->desktop, &pool);
		broker_audit(b, "broker", "desktop_health",
		    healthy ? "ok" : "error",
		    pool != NULL ? policy_tenant_name(policy_pool_tenant(pool))
				 : NULL,
		    NULL, NULL, NULL, reason, detail);
		json_decref(detail);
	}
	if (store_desktop_set_health(
		b->store, p->desktop, healthy, reason, broker_now()) != 0)
		vlog(VLOG_ERROR, "store_error",
		    "what=desktop_health desktop=%s", p->desktop);
	for (pp = &h->probes; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	}
	bufferevent_free(p->bev);
	free(p);
}

static void
probe_read(struct bufferevent *bev, void *arg)
{
	struct probe *p = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t len = evbuffer_get_length(in);
	struct vbuf stream, pdu;
	struct rdp_frame f;
	struct rdp_x224_cc cc;
	int r;

	if (len > PROBE_MAX) {
		probe_finish(p, 0, "answer too long for a Connection Confirm");
		return;
	}
	vbuf_init_view(&stream, evbuffer_pullup(in, (ev_ssize_t)len), len);
	r = rdp_frame_next(&stream, PROBE_MAX, &f, &pdu);
	if (r == VDI_ERR_NEED_MORE)
		return;
	if (r != 0 || f.kind != RDP_FRAME_TPKT ||
	    rdp_x224_parse_cc(&pdu, &cc) != 0) {
		probe_finish(p, 0,
		    "not an RDP server (no X.224 Connection "
		    "Confirm)");
		return;
	}
	if (cc.has_neg && cc.failure) {
		probe_finish(p, 0, "desktop refuses TLS and CredSSP");
		return;
	}
	if (!cc.has_neg) {
		probe_finish(p, 0, "desktop offers only legacy RDP security");
		return;
	}
	probe_finish(p, 1, "ok");
}

static void
probe_event(struct bufferevent *bev, short what, void *arg)
{
	struct probe *p = arg;
	struct vbuf *cr;

	if (what & BEV_EVENT_CONNECTED) {
		if ((cr = vbuf_new(256)) == NULL ||
		    rdp_x224_write_cr(cr, "vdi-health",
			RDP_PROTOCOL_SSL | RDP_PROTOCOL_HYBRID) != 0) {
			vbuf_free(cr);
			probe_finish(p, 0, "internal error");
			return;
		}
		bufferevent_write(bev, vbuf_ptr(cr), vbuf_len(cr));
		vbuf_free(cr);
		return;
	}
	if (what & BEV_EVENT_TIMEOUT)
		probe_finish(p, 0, "timeout");
	else if (what & BEV_EVENT_EOF)
		probe_finish(p, 0, "connection closed without an answer");
	else
		probe_finish(p, 0, "connection failed");
}

static int
probing(struct health *h, const char *desktop)
{
	struct probe *p;

	for (p = h->probes; p != NULL; p = p->next)
		if (strcmp(p->desktop, desktop) == 0)
			return 1;
	return 0;
}

static void
probe_start(struct health *h, const struct policy_desktop *d)
{
	struct broker *b = h->b;
	struct timeval tv = { (time_t)b->conf.health_timeout, 0 };
	struct probe *p;

	if (probing(h, d->name))
		return;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return;
	p->h = h;
	snprintf(p->desktop, sizeof(p->desktop), "%s", d->name);
	if ((p->bev = bufferevent_socket_new(
		 b->base, -1, BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		free(p);
		return;
	}
	p->next = h->probes;
	h->probes = p;
	bufferevent_setcb(p->bev, probe_read, NULL, probe_event, p);
	bufferevent_set_timeouts(p->bev, &tv, &tv);
	bufferevent_enable(p->bev, EV_READ | EV_WRITE);
	if (bufferevent_socket_connect_hostname(
		p->bev, h->dns, AF_UNSPEC, d->host, d->port) != 0)
		probe_finish(p, 0, "cannot resolve or connect");
}

void
health_round(struct broker *b)
{
	const struct policy_pool *pool;
	size_t i, j;

	for (i = 0; i < policy_pool_count(b->policy); i++) {
		pool = policy_pool_at(b->policy, i);
		for (j = 0; j < policy_pool_desktop_count(pool); j++)
			probe_start(b->health, policy_pool_desktop(pool, j));
	}
}

static void
tick(evutil_socket_t fd, short what, void *arg)
{
	health_round(arg);
}

int
health_start(struct broker *b)
{
	struct timeval tv = { (time_t)b->conf.health_interval, 0 };
	struct health *h;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		return VDI_ERR_ALLOC;
	h->b = b;
	b->health = h;
	if ((h->dns = evdns_base_new(
		 b->base, EVDNS_BASE_INITIALIZE_NAMESERVERS)) == NULL &&
	    (h->dns = evdns_base_new(b->base, 0)) == NULL)
		return VDI_ERR_ALLOC;
	if ((h->timer = event_new(b->base, -1, EV_PERSIST, tick, b)) == NULL)
		return VDI_ERR_ALLOC;
	event_add(h->timer, &tv);
	health_round(b);
	return 0;
}

void
health_stop(struct broker *b)
{
	struct health *h = b->health;

	if (h == NULL)
		return;
	while (h->probes != NULL) {
		struct probe *p = h->probes;

		h->probes = p->next;
		bufferevent_free(p->bev);
		free(p);
	}
	if (h->timer != NULL)
		event_free(h->timer);
	if (h->dns != NULL)
		evdns_base_free(h->dns, 0);
	free(h);
	b->health = NULL;
}
