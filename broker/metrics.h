/*
 * metrics.h: GET /metrics in the Prometheus text format (version 0.0.4) on
 * its own plain-HTTP listener (metrics_listen; keep it on loopback or a
 * management network). Counters live in struct broker_metrics; gauges
 * (sessions by state, desktops by health) are read from the store when
 * scraped.
 */
#ifndef VDI_BROKER_METRICS_H
#define VDI_BROKER_METRICS_H

#include <event2/buffer.h>

#include "broker.h"

/* Starts the listener when metrics_listen is set. */
int metrics_start(struct broker *b, char *err, size_t errlen) VDI_WUR;

/* Writes the exposition text into out (for tests). */
void metrics_render(struct broker *b, struct evbuffer *out);

#endif
