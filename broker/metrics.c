/* metrics.c: the broker's counters and their Prometheus text exposition
 * (see metrics.h). */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "certexp.h"
#include "gwapi.h"
#include "healthz.h"
#include "policy_files.h"
#include "login.h"
#include "metrics.h"
#include "procinfo.h"
#include "sweep.h"
#include "vlog.h"

_Static_assert(SWEEP_COUNT == BM_SWEEP_REASONS, "BM_SWEEP_REASONS");

/* Upper bounds of the latency histogram's buckets, seconds. */
static const double lat_bounds[] = { 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
	0.1, 0.25, 0.5, 1, 2.5, 5 };
#define LAT_BUCKETS (sizeof(lat_bounds) / sizeof(lat_bounds[0]))

static struct {
	uint64_t c[BM_COUNT];
	uint64_t lat_buckets[LAT_BUCKETS];
	uint64_t lat_count;
	double lat_sum;
} bm;

void
bm_inc(enum bm_counter c)
{
	if ((unsigned int)c < BM_COUNT)
		bm.c[c]++;
}

void
bm_add(enum bm_counter c, uint64_t n)
{
	if ((unsigned int)c < BM_COUNT)
		bm.c[c] += n;
}

uint64_t
bm_get(enum bm_counter c)
{
	return (unsigned int)c < BM_COUNT ? bm.c[c] : 0;
}

void
bm_observe_latency(double secs)
{
	size_t i;

	for (i = 0; i < LAT_BUCKETS; i++)
		if (secs <= lat_bounds[i])
			bm.lat_buckets[i]++;
	bm.lat_count++;
	bm.lat_sum += secs;
}

void
bm_reset(void)
{
	memset(&bm, 0, sizeof(bm));
}

static const char *const fail_names[LOGIN_FAIL_COUNT] = {
	"auth",
	"rate_limited",
	"device",
	"policy",
	"no_desktop",
	"account",
	"internal",
};

struct count_states {
	uint64_t n[4];
};

static int
count_state(const struct store_session *s, void *arg)
{
	struct count_states *c = arg;

	if ((unsigned int)s->state < 4)
		c->n[s->state]++;
	return 0;
}

/* One sample of a per-desktop metric. */
static void
desktop_line(struct evbuffer *o, const char *name,
    const struct policy_pool *pool, const char *desktop, int64_t v)
{
	evbuffer_add_printf(o,
	    "%s{desktop=\"%s\",pool=\"%s\",tenant=\"%s\"} %lld\n", name,
	    desktop, policy_pool_name(pool),
	    policy_tenant_name(policy_pool_tenant(pool)), (long long)v);
}

/* Seconds until each tenant CRL's nextUpdate and the broker's own
 * certificates' notAfter (negative once past). */
static void
expiry_render(struct broker *b, struct evbuffer *o)
{
	static const struct {
		const char *label;
		size_t off;
	} own[] = {
		{ "tls", offsetof(struct bconf, tls_cert) },
		{ "gateway_ca", offsetof(struct bconf, gateway_ca) },
	};
	const struct policy_tenant *t;
	char line[1024];
	int64_t left;
	size_t i;

	evbuffer_add_printf(o,
	    "# HELP vdi_broker_crl_next_update_seconds Seconds until a tenant "
	    "CRL's nextUpdate (negative: expired, the tenant's devices are "
	    "refused).\n"
	    "# TYPE vdi_broker_crl_next_update_seconds gauge\n");
	for (i = 0; i < policy_tenant_count(b->policy); i++) {
		t = policy_tenant_at(b->policy, i);
		if (policy_tenant_crl(t) == NULL ||
		    policy_crl_seconds_left(policy_tenant_crl(t), &left) != 0)
			continue;
		evbuffer_add_printf(o, "%s",
		    certexp_metric_line(line, sizeof(line),
			"vdi_broker_crl_next_update_seconds",
			(const char *const[]){ "tenant", policy_tenant_name(t),
			    "ca", policy_tenant_ca_file(t), NULL },
			left));
	}
	evbuffer_add_printf(o,
	    "# HELP vdi_broker_certificate_expiry_seconds Seconds until the "
	    "notAfter of the broker's own certificates.\n"
	    "# TYPE vdi_broker_certificate_expiry_seconds gauge\n");
	for (i = 0; i < sizeof(own) / sizeof(own[0]); i++) {
		const char *path = (const char *)&b->conf + own[i].off;

		if (certexp_file_seconds_left(path, &left) != 0)
			continue;
		evbuffer_add_printf(o, "%s",
		    certexp_metric_line(line, sizeof(line),
			"vdi_broker_certificate_expiry_seconds",
			(const char *const[]){ "cert", own[i].label, NULL },
			left));
	}
}

void
metrics_render(struct broker *b, struct evbuffer *o)
{
	struct count_states cs;
	struct store_desktop h;
	const struct policy_pool *pool;
	const struct policy_desktop *d;
	uint64_t healthy = 0, unhealthy = 0, drained = 0;
	char pi[4096];
	/* Each desktop's last probe (health.c), labelled with its pool and
	 * tenant: names of the policy, which allow no quote or backslash. */
	static const struct {
		const char *name, *help;
	} dm[] = {
		{ "vdi_broker_desktop_up",
		    "Whether the desktop answered its last probe (1) or not "
		    "(0; also before its first probe)." },
		{ "vdi_broker_desktop_last_probe_timestamp_seconds",
		    "When the desktop was last probed (0: not yet)." },
		{ "vdi_broker_desktop_last_up_timestamp_seconds",
		    "When the desktop last answered a probe (0: never)." },
	};
	size_t i, j, k;

	/* vdi_build_info and process_* of this (the worker) process. */
	if (vdi_procinfo_metrics(pi, sizeof(pi)) < sizeof(pi))
		evbuffer_add(o, pi, strlen(pi));

	evbuffer_add_printf(o,
	    "# HELP vdi_broker_logins_total Successful logins.\n"
	    "# TYPE vdi_broker_logins_total counter\n"
	    "vdi_broker_logins_total %llu\n",
	    (unsigned long long)bm_get(BM_LOGIN_OK));
	evbuffer_add_printf(o,
	    "# HELP vdi_broker_login_failures_total Refused logins by reason.\n"
	    "# TYPE vdi_broker_login_failures_total counter\n");
	for (i = 0; i < LOGIN_FAIL_COUNT; i++)
		evbuffer_add_printf(o,
		    "vdi_broker_login_failures_total{reason=\"%s\"} %llu\n",
		    fail_names[i],
		    (unsigned long long)bm_get(BM_LOGIN_FAILED + i));
	evbuffer_add_printf(o,
	    "# HELP vdi_broker_reconnects_total Reconnects with a ticket.\n"
	    "# TYPE vdi_broker_reconnects_total counter\n"
	    "vdi_broker_reconnects_total{result=\"ok\"} %llu\n"
	    "vdi_broker_reconnects_total{result=\"refused\"} %llu\n"
	    "# HELP vdi_broker_takeovers_total Sessions taken over by another "
	    "device.\n"
	    "# TYPE vdi_broker_takeovers_total counter\n"
	    "vdi_broker_takeovers_total %llu\n"
	    "# HELP vdi_broker_refused_channels_total Channels refused by "
	    "gateways.\n"
	    "# TYPE vdi_broker_refused_channels_total counter\n"
	    "vdi_broker_refused_channels_total %llu\n"
	    "# HELP vdi_broker_logins_in_progress PAM conversations open.\n"
	    "# TYPE vdi_broker_logins_in_progress gauge\n"
	    "vdi_broker_logins_in_progress %zu\n"
	    "# HELP vdi_broker_gateways_waiting Gateways long-polling for "
	    "commands.\n"
	    "# TYPE vdi_broker_gateways_waiting gauge\n"
	    "vdi_broker_gateways_waiting %zu\n",
	    (unsigned long long)bm_get(BM_RECONNECT_OK),
	    (unsigned long long)bm_get(BM_RECONNECT_REFUSED),
	    (unsigned long long)bm_get(BM_TAKEOVER),
	    (unsigned long long)bm_get(BM_REFUSED_CHANNEL), login_pending(b),
	    gwq_waiting(b));

	memset(&cs, 0, sizeof(cs));
	(void)!store_session_list(b->store, 0, count_state, &cs);
	evbuffer_add_printf(o,
	    "# HELP vdi_broker_sessions Sessions by state.\n"
	    "# TYPE vdi_broker_sessions gauge\n"
	    "vdi_broker_sessions{state=\"pending\"} %llu\n"
	    "vdi_broker_sessions{state=\"active\"} %llu\n"
	    "vdi_broker_sessions{state=\"disconnected\"} %llu\n",
	    (unsigned long long)cs.n[STORE_SESSION_PENDING],
	    (unsigned long long)cs.n[STORE_SESSION_ACTIVE],
	    (unsigned long long)cs.n[STORE_SESSION_DISCONNECTED]);

	evbuffer_add_printf(o,
	    "# HELP vdi_broker_sessions_swept_total Sessions the broker ended "
	    "because their time was up, by reason.\n"
	    "# TYPE vdi_broker_sessions_swept_total counter\n");
	for (i = 0; i < SWEEP_COUNT; i++)
		evbuffer_add_printf(o,
		    "vdi_broker_sessions_swept_total{reason=\"%s\"} %llu\n",
		    sweep_reason_name((enum sweep_reason)i),
		    (unsigned long long)bm_get(BM_SWEPT + i));

	for (k = 0; k < sizeof(dm) / sizeof(dm[0]); k++) {
		evbuffer_add_printf(o, "# HELP %s %s\n# TYPE %s gauge\n",
		    dm[k].name, dm[k].help, dm[k].name);
		for (i = 0; i < policy_pool_count(b->policy); i++) {
			pool = policy_pool_at(b->policy, i);
			for (j = 0; j < policy_pool_desktop_count(pool); j++) {
				d = policy_pool_desktop(pool, j);
				if (store_desktop_get(b->store, d->name, &h) !=
				    0)
					continue;
				desktop_line(o, dm[k].name, pool, d->name,
				    k == 0       ? (h.healthy ? 1 : 0)
					: k == 1 ? h.last_check
						 : h.last_ok);
			}
		}
	}
	for (i = 0; i < policy_pool_count(b->policy); i++) {
		pool = policy_pool_at(b->policy, i);
		for (j = 0; j < policy_pool_desktop_count(pool); j++) {
			d = policy_pool_desktop(pool, j);
			if (store_desktop_get(b->store, d->name, &h) != 0)
				continue;
			if (h.drained)
				drained++;
			else if (h.healthy)
				healthy++;
			else
				unhealthy++;
		}
	}
	evbuffer_add_printf(o,
	    "# HELP vdi_broker_desktops Desktops by health.\n"
	    "# TYPE vdi_broker_desktops gauge\n"
	    "vdi_broker_desktops{health=\"healthy\"} %llu\n"
	    "vdi_broker_desktops{health=\"unhealthy\"} %llu\n"
	    "vdi_broker_desktops{health=\"drained\"} %llu\n",
	    (unsigned long long)healthy, (unsigned long long)unhealthy,
	    (unsigned long long)drained);

	evbuffer_add_printf(o,
	    "# HELP vdi_broker_request_duration_seconds API request latency.\n"
	    "# TYPE vdi_broker_request_duration_seconds histogram\n");
	for (i = 0; i < LAT_BUCKETS; i++)
		evbuffer_add_printf(o,
		    "vdi_broker_request_duration_seconds_bucket{le=\"%g\"} "
		    "%llu\n",
		    lat_bounds[i], (unsigned long long)bm.lat_buckets[i]);
	evbuffer_add_printf(o,
	    "vdi_broker_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n"
	    "vdi_broker_request_duration_seconds_sum %.6f\n"
	    "vdi_broker_request_duration_seconds_count %llu\n"
	    "# HELP vdi_broker_http_errors_total API replies by status "
	    "class.\n"
	    "# TYPE vdi_broker_http_errors_total counter\n"
	    "vdi_broker_http_errors_total{class=\"4xx\"} %llu\n"
	    "vdi_broker_http_errors_total{class=\"5xx\"} %llu\n",
	    (unsigned long long)bm.lat_count, bm.lat_sum,
	    (unsigned long long)bm.lat_count,
	    (unsigned long long)bm_get(BM_HTTP_4XX),
	    (unsigned long long)bm_get(BM_HTTP_5XX));
	if (b->store != NULL) {
		struct store_health sh;

		(void)!store_health(b->store, &sh); /* sh says which */
		evbuffer_add_printf(o,
		    "# HELP vdi_broker_store_up 1 when the state store takes "
		    "writes, 0 while they fail (disk full, I/O error, ...).\n"
		    "# TYPE vdi_broker_store_up gauge\n"
		    "vdi_broker_store_up %d\n"
		    "# HELP vdi_broker_store_failures_total Storage-level "
		    "failures of store statements.\n"
		    "# TYPE vdi_broker_store_failures_total counter\n"
		    "vdi_broker_store_failures_total %llu\n",
		    sh.up, (unsigned long long)sh.failures);
	}
	expiry_render(b, o);
}

/* GET /healthz: 200 "ready", or 503 "not ready" and one reason a line:
 * the store cannot write (store_health: its last write failed and the
 * probe still fails), the last policy reload was refused. */
static void
health(struct broker *b, struct evhttp_request *req, struct evbuffer *out)
{
	struct store_health sh;
	int bad = 0;

	if (b->store == NULL) {
		evbuffer_add_printf(out, "store_unavailable\n");
		bad = 1;
	} else if (store_health(b->store, &sh) != 0) {
		evbuffer_add_printf(
		    out, "store_unavailable detail=%s\n", VLOG_Q(sh.reason));
		bad = 1;
	}
	bad |= vdi_healthz_policy(req, b->policy == NULL || b->reload_failed);
	vdi_healthz_send(req, bad);
}

static void
serve(struct evhttp_request *req, void *arg)
{
	struct broker *b = arg;
	const char *path =
	    evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	struct evbuffer *out = evhttp_request_get_output_buffer(req);

	if (path != NULL && strcmp(path, "/healthz") == 0 &&
	    evhttp_request_get_command(req) == EVHTTP_REQ_GET) {
		health(b, req, out);
		return;
	}
	if (path == NULL || strcmp(path, "/metrics") != 0 ||
	    evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
		evhttp_send_error(req, 404, "only GET /metrics here");
		return;
	}
	metrics_render(b, out);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain; version=0.0.4");
	evhttp_send_reply(req, 200, "OK", NULL);
}

int
metrics_start(struct broker *b, char *err, size_t errlen)
{
	if (!b->conf.metrics_enabled)
		return 0;
	if ((b->metrics_http = evhttp_new(b->base)) == NULL)
		return VDI_ERR_ALLOC;
	evhttp_set_gencb(b->metrics_http, serve, b);
	evhttp_set_allowed_methods(b->metrics_http, EVHTTP_REQ_GET);
	if (evhttp_bind_socket(b->metrics_http, b->conf.metrics_host,
		b->conf.metrics_port) != 0) {
		snprintf(err, errlen, "cannot listen for metrics on %s:%u",
		    b->conf.metrics_host, b->conf.metrics_port);
		return VDI_ERR_IO;
	}
	return 0;
}
