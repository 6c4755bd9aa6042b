/*
 * health.h: desktop health probes.
 *
 * Every health.interval seconds each desktop of the policy gets a TCP
 * connect, an X.224 Connection Request offering TLS and CredSSP, and must
 * answer with a Connection Confirm selecting one of them within
 * health.timeout seconds. The result goes to the store (healthy, reason,
 * last_check, last_ok), and the assignment skips unhealthy desktops.
 * Changes of state are logged and audited.
 */
#ifndef VDI_BROKER_HEALTH_H
#define VDI_BROKER_HEALTH_H

#include "broker.h"

int health_start(struct broker *b) VDI_WUR;
void health_stop(struct broker *b);

/* Runs one round now (also at start). */
void health_round(struct broker *b);

#endif
