/*
 * metrics.h: the broker's counters and GET /metrics in the Prometheus text
 * format (version 0.0.4) on its own plain-HTTP listener (metrics_listen;
 * keep it on loopback or a management network).
 *
 * Counters belong to this module: the others count with bm_inc(BM_...)
 * (labelled families are ranges: BM_LOGIN_FAILED + enum login_fail,
 * BM_SWEPT + enum sweep_reason) and never see the table. Gauges (sessions
 * by state, desktops by health, logins in progress, gateways waiting) are
 * read from their owners when scraped. The worker runs on one event loop:
 * nothing here is locked. To add a counter: a BM_ value here, its line in
 * metrics_render().
 */
#ifndef VDI_BROKER_METRICS_H
#define VDI_BROKER_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "vdierr.h"

struct broker;
struct evbuffer;

/* Why a login failed: label values of vdi_broker_login_failures_total. */
enum login_fail {
	LOGIN_FAIL_AUTH = 0,   /* wrong password / code / unknown user */
	LOGIN_FAIL_RATE,       /* too many attempts, backing off */
	LOGIN_FAIL_DEVICE,     /* device certificate refused or revoked */
	LOGIN_FAIL_POLICY,     /* no rule allows this request */
	LOGIN_FAIL_NO_DESKTOP, /* no desktop available */
	LOGIN_FAIL_ACCOUNT,    /* expired / locked account */
	LOGIN_FAIL_INTERNAL,
	LOGIN_FAIL_COUNT,
};

/* The number of enum sweep_reason values (sweep.h; checked in metrics.c). */
#define BM_SWEEP_REASONS 3

enum bm_counter {
	BM_LOGIN_OK = 0, /* vdi_broker_logins_total */
	BM_LOGIN_FAILED, /* + enum login_fail */
	BM_RECONNECT_OK = BM_LOGIN_FAILED + LOGIN_FAIL_COUNT,
	BM_RECONNECT_REFUSED, /* vdi_broker_reconnects_total{result} */
	BM_TAKEOVER,          /* vdi_broker_takeovers_total */
	BM_REFUSED_CHANNEL,   /* vdi_broker_refused_channels_total */
	BM_GATEWAY_EVENT,     /* events received from gateways */
	BM_REQUEST,           /* API requests dispatched */
	BM_HTTP_4XX,          /* vdi_broker_http_errors_total{class} */
	BM_HTTP_5XX,
	BM_SWEPT, /* + enum sweep_reason */
	BM_COUNT = BM_SWEPT + BM_SWEEP_REASONS,
};

/* Adds 1 (or n) to counter c. */
void bm_inc(enum bm_counter c);
void bm_add(enum bm_counter c, uint64_t n);
/* The counter's value. */
uint64_t bm_get(enum bm_counter c);
/* One API request's latency, into vdi_broker_request_duration_seconds. */
void bm_observe_latency(double secs);
/* Sets every counter and the histogram to 0 (tests). */
void bm_reset(void);

/* Starts the listener when metrics_listen is set. */
int metrics_start(struct broker *b, char *err, size_t errlen) VDI_WUR;

/* Writes the exposition text into out (for tests). */
void metrics_render(struct broker *b, struct evbuffer *out);

#endif
