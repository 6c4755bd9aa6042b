/*
 * gwapi_int.h: what the two halves of the gateway API share: gwapi.c
 * (commands: the cut queue and long polls) and gwapi_events.c (events).
 * Private to them.
 */
#ifndef VDI_BROKER_GWAPI_INT_H
#define VDI_BROKER_GWAPI_INT_H

#include <stddef.h>

#include "broker.h"

struct gwq;

/* The gateway's name: the CN of its certificate (empty when none). */
const char *gwapi_gw_name(
    const struct broker_peer *peer, char *buf, size_t len);
/* The gateway gw spoke to the broker now (a poll or an events batch). */
void gwq_heard(struct gwq *q, const char *gw);

#endif
