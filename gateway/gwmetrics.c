/*
 * gwmetrics.c: vdi-gatewayd's counters: the one interface the modules
 * count through (gwm_add, gwm_get, gwm_refusal) and the Prometheus text
 * on metrics_listen (plain HTTP: bind it to a management address).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "certexp.h"
#include "gateway.h"
#include "healthz.h"
#include "procinfo.h"
#include "trust.h"

static struct evhttp *metrics_http;

static uint64_t *
field(struct gw *gw, enum gw_metric c)
{
	struct gw_metrics *m = &gw->m;

	switch (c) {
	case GWM_ACCEPTED:
		return &m->accepted;
	case GWM_SESSIONS_STARTED:
		return &m->sessions_started;
	case GWM_SESSIONS_ACTIVE:
		return &m->sessions_active;
	case GWM_CONNECTIONS_ACTIVE:
		return &m->connections_active;
	case GWM_CLOSES_PROTOCOL:
		return &m->closes_protocol;
	case GWM_CLOSES_IDLE:
		return &m->closes_idle;
	case GWM_CLOSES_MAX_SESSION:
		return &m->closes_max_session;
	case GWM_CLOSES_CUT:
		return &m->closes_cut;
	case GWM_CHANNELS_REFUSED:
		return &m->channels_refused;
	case GWM_BYTES_C2S:
		return &m->bytes_c2s;
	case GWM_BYTES_S2C:
		return &m->bytes_s2c;
	case GWM_BROKER_EVENTS_SENT:
		return &m->broker_events_sent;
	case GWM_BROKER_EVENTS_DROPPED:
		return &m->broker_events_dropped;
	case GWM_BROKER_CUTS:
		return &m->broker_cuts;
	case GWM_HANDSHAKES_ACTIVE:
		return &m->handshakes_active;
	case GWM_SESSIONS_ADMITTED:
		return &m->sessions_admitted;
	case GWM_HANDSHAKES_REFUSED_SOURCE:
		return &m->handshakes_refused_source;
	case GWM_HANDSHAKES_REFUSED_TOTAL:
		return &m->handshakes_refused_total;
	case GWM_ACCEPT_BACKOFFS:
		return &m->accept_backoffs;
	case GWM_COUNT:
		break;
	}
	return NULL;
}

uint64_t
gwm_add(struct gw *gw, enum gw_metric c, int64_t delta)
{
	uint64_t *p = field(gw, c);

	return p != NULL ? GW_ADD(p, (uint64_t)delta) : 0;
}

uint64_t
gwm_get(struct gw *gw, enum gw_metric c)
{
	uint64_t *p = field(gw, c);

	return p != NULL ? GW_GET(p) : 0;
}

void
gwm_refusal(struct gw *gw, enum vdi_reason why)
{
	if ((unsigned)why < VDI_REASON_COUNT)
		GW_INC(&gw->m.refusals[why]);
}

static void
counter(struct evbuffer *o, const char *name, const char *help,
    const char *type, uint64_t v)
{
	evbuffer_add_printf(o, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", name,
	    help, name, type, name, (unsigned long long)v);
}

/* Seconds until each tenant CRL's nextUpdate and the gateway's own
 * certificates' notAfter (negative once past). */
static void
expiry_render(struct gw *gw, struct evbuffer *o)
{
	const struct {
		const char *label, *path;
	} own[] = {
		{ "tls", gw->conf.tls_cert },
		{ "inner_rdp", gw->conf.inner_cert },
		{ "broker_ca", gw->conf.broker_ca },
	};
	const struct policy_trust_tenant *t;
	char line[1024];
	int64_t left;
	size_t i;

	evbuffer_add_printf(o,
	    "# HELP vdi_gateway_crl_next_update_seconds Seconds until a tenant "
	    "CRL's nextUpdate (negative: expired, the tenant's devices are "
	    "refused).\n"
	    "# TYPE vdi_gateway_crl_next_update_seconds gauge\n");
	pthread_mutex_lock(&gw->policy_lock);
	for (i = 0; gw->trust != NULL && i < policy_trust_count(gw->trust);
	     i++) {
		t = policy_trust_at(gw->trust, i);
		if (policy_trust_crl_seconds_left(gw->trust, i, &left) != 0)
			continue;
		evbuffer_add_printf(o, "%s",
		    certexp_metric_line(line, sizeof(line),
			"vdi_gateway_crl_next_update_seconds",
			(const char *const[]){
			    "tenant", t->name, "ca", t->ca_file, NULL },
			left));
	}
	pthread_mutex_unlock(&gw->policy_lock);
	evbuffer_add_printf(o,
	    "# HELP vdi_gateway_certificate_expiry_seconds Seconds until the "
	    "notAfter of the gateway's own certificates.\n"
	    "# TYPE vdi_gateway_certificate_expiry_seconds gauge\n");
	for (i = 0; i < sizeof(own) / sizeof(own[0]); i++) {
		if (own[i].path[0] == '\0' ||
		    certexp_file_seconds_left(own[i].path, &left) != 0)
			continue;
		evbuffer_add_printf(o, "%s",
		    certexp_metric_line(line, sizeof(line),
			"vdi_gateway_certificate_expiry_seconds",
			(const char *const[]){ "cert", own[i].label, NULL },
			left));
	}
}

void
gw_metrics_render(struct gw *gw, struct evbuffer *o)
{
	struct gw_metrics *m = &gw->m;
	char pi[4096];
	size_t i;

	/* vdi_build_info and process_* of the gateway (not its key process). */
	if (vdi_procinfo_metrics(pi, sizeof(pi)) < sizeof(pi))
		evbuffer_add(o, pi, strlen(pi));

	counter(o, "vdi_gateway_connections_accepted_total",
	    "TCP connections accepted.", "counter", GW_GET(&m->accepted));
	counter(o, "vdi_gateway_connections", "Open connections (any state).",
	    "gauge", GW_GET(&m->connections_active));
	counter(o, "vdi_gateway_sessions_started_total",
	    "Tunnels that got 101 Switching Protocols.", "counter",
	    GW_GET(&m->sessions_started));
	counter(o, "vdi_gateway_sessions", "Tunnels relaying RDP now.", "gauge",
	    GW_GET(&m->sessions_active));
	counter(o, "vdi_gateway_handshakes",
	    "Connections before their token was accepted.", "gauge",
	    GW_GET(&m->handshakes_active));
	counter(o, "vdi_gateway_sessions_admitted",
	    "Tunnels whose token was accepted (max_sessions counts these).",
	    "gauge", GW_GET(&m->sessions_admitted));
	evbuffer_add_printf(o,
	    "# HELP vdi_gateway_handshakes_refused_total Connections closed at "
	    "accept, by the limit they hit.\n"
	    "# TYPE vdi_gateway_handshakes_refused_total counter\n"
	    "vdi_gateway_handshakes_refused_total{limit=\"per_source\"} "
	    "%llu\n"
	    "vdi_gateway_handshakes_refused_total{limit=\"total\"} %llu\n",
	    (unsigned long long)GW_GET(&m->handshakes_refused_source),
	    (unsigned long long)GW_GET(&m->handshakes_refused_total));
	counter(o, "vdi_gateway_accept_backoffs_total",
	    "Times accept() failed (out of descriptors) and the listener "
	    "paused.",
	    "counter", GW_GET(&m->accept_backoffs));
	evbuffer_add_printf(o,
	    "# HELP vdi_gateway_refusals_total Tunnels refused, by reason.\n"
	    "# TYPE vdi_gateway_refusals_total counter\n");
	for (i = 0; i < GW_REFUSAL_REASONS; i++)
		evbuffer_add_printf(o,
		    "vdi_gateway_refusals_total{reason=\"%s\"} %llu\n",
		    vdi_reason_code(gw_refusal_reasons[i]),
		    (unsigned long long)GW_GET(
			&m->refusals[gw_refusal_reasons[i]]));
	evbuffer_add_printf(o,
	    "# HELP vdi_gateway_session_closes_total Tunnels closed by the "
	    "gateway, by cause.\n"
	    "# TYPE vdi_gateway_session_closes_total counter\n"
	    "vdi_gateway_session_closes_total{cause=\"protocol\"} %llu\n"
	    "vdi_gateway_session_closes_total{cause=\"idle\"} %llu\n"
	    "vdi_gateway_session_closes_total{cause=\"cut\"} %llu\n"
	    "vdi_gateway_session_closes_total{cause=\"max_session\"} %llu\n",
	    (unsigned long long)GW_GET(&m->closes_protocol),
	    (unsigned long long)GW_GET(&m->closes_idle),
	    (unsigned long long)GW_GET(&m->closes_cut),
	    (unsigned long long)GW_GET(&m->closes_max_session));
	counter(o, "vdi_gateway_channels_refused_total",
	    "Static and dynamic channels refused.", "counter",
	    GW_GET(&m->channels_refused));
	evbuffer_add_printf(o,
	    "# HELP vdi_gateway_bytes_total RDP bytes relayed, by direction.\n"
	    "# TYPE vdi_gateway_bytes_total counter\n"
	    "vdi_gateway_bytes_total{dir=\"client_to_desktop\"} %llu\n"
	    "vdi_gateway_bytes_total{dir=\"desktop_to_client\"} %llu\n",
	    (unsigned long long)GW_GET(&m->bytes_c2s),
	    (unsigned long long)GW_GET(&m->bytes_s2c));
	counter(o, "vdi_gateway_broker_events_sent_total",
	    "Events the broker accepted.", "counter",
	    GW_GET(&m->broker_events_sent));
	counter(o, "vdi_gateway_broker_events_dropped_total",
	    "Events dropped because the queue was full.", "counter",
	    GW_GET(&m->broker_events_dropped));
	counter(o, "vdi_gateway_broker_events_queued",
	    "Events waiting for the broker.", "gauge", brokerlink_queued(gw));
	counter(o, "vdi_gateway_broker_cuts_total", "Cut commands applied.",
	    "counter", GW_GET(&m->broker_cuts));
	{
		int64_t since_ok, down_for;
		int up = brokerlink_state(gw, &since_ok, &down_for);

		counter(o, "vdi_gateway_broker_link_up",
		    "1 while the broker's command poll answers (cuts are "
		    "heard), else 0.",
		    "gauge", (uint64_t)up);
		evbuffer_add_printf(o,
		    "# HELP vdi_gateway_broker_last_poll_seconds Seconds since "
		    "the last good answer to the command poll (-1: none "
		    "yet).\n"
		    "# TYPE vdi_gateway_broker_last_poll_seconds gauge\n"
		    "vdi_gateway_broker_last_poll_seconds %lld\n",
		    (long long)since_ok);
	}
	counter(o, "vdi_gateway_cuts_held",
	    "Cuts held to refuse tokens issued before them.", "gauge",
	    registry_cuts_held(gw->reg, (int64_t)time(NULL)));
	expiry_render(gw, o);
}

/* GET /healthz: 200 "ready", or 503 "not ready" with one reason a line:
 * the broker poll is down (no cuts heard), the last policy reload failed. */
static void
health(struct gw *gw, struct evhttp_request *req)
{
	int64_t since_ok, down_for;
	int bad = 0;

	if (!brokerlink_state(gw, &since_ok, &down_for)) {
		evbuffer_add_printf(evhttp_request_get_output_buffer(req),
		    "broker_link_down for=%llds last_ok=%llds%s\n",
		    (long long)down_for, (long long)since_ok,
		    brokerlink_stale(gw) ? " new_tunnels=refused" : "");
		bad = 1;
	}
	bad |= vdi_healthz_policy(req, gw->policy_reload_failed);
	vdi_healthz_send(req, bad);
}

static void
handle(struct evhttp_request *req, void *arg)
{
	struct evbuffer *o;

	if (evhttp_request_get_command(req) == EVHTTP_REQ_GET &&
	    strcmp(evhttp_request_get_uri(req), "/healthz") == 0) {
		health(arg, req);
		return;
	}
	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET ||
	    strcmp(evhttp_request_get_uri(req), "/metrics") != 0) {
		evhttp_send_error(req, 404, "Not Found");
		return;
	}
	if ((o = evbuffer_new()) == NULL) {
		evhttp_send_error(req, 500, "Internal Error");
		return;
	}
	gw_metrics_render(arg, o);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain; version=0.0.4");
	evhttp_send_reply(req, 200, "OK", o);
	evbuffer_free(o);
}

int
gw_metrics_start(struct gw *gw, char *err, size_t errlen)
{
	if (!gw->conf.metrics_enabled)
		return 0;
	if ((metrics_http = evhttp_new(gw->main_base)) == NULL) {
		snprintf(err, errlen, "metrics: evhttp_new failed");
		return VDI_ERR_ALLOC;
	}
	evhttp_set_allowed_methods(metrics_http, EVHTTP_REQ_GET);
	evhttp_set_max_headers_size(metrics_http, 8192);
	evhttp_set_timeout(metrics_http, 10);
	evhttp_set_gencb(metrics_http, handle, gw);
	if (evhttp_bind_socket(metrics_http,
		strcmp(gw->conf.metrics_host, "*") == 0 ? "0.0.0.0"
							: gw->conf.metrics_host,
		gw->conf.metrics_port) != 0) {
		snprintf(err, errlen, "metrics: cannot listen on %s:%u",
		    gw->conf.metrics_host, gw->conf.metrics_port);
		return VDI_ERR_SYSTEM;
	}
	return 0;
}

void
gw_metrics_stop(void)
{
	if (metrics_http != NULL)
		evhttp_free(metrics_http);
	metrics_http = NULL;
}
