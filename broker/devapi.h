/*
 * devapi.h: the device endpoints besides login (devapi.c).
 *
 *   POST /v1/reconnect {"ticket": T}  a one-use ticket from the last grant,
 *        bound to this device certificate, valid for the policy's
 *        reconnect_window: answers like a login (new token, new ticket).
 *   POST /v1/logoff {"session": ID}   ends this device's session.
 *   GET  /v1/health                   {"status": "ok"} for any verified peer.
 */
#ifndef VDI_BROKER_DEVAPI_H
#define VDI_BROKER_DEVAPI_H

#include "http.h"

void device_reconnect(struct broker *b, struct evhttp_request *req,
    const struct broker_peer *peer, json_t *body, double t0);
void device_logoff(struct broker *b, struct evhttp_request *req,
    const struct broker_peer *peer, json_t *body, double t0);
void device_health(struct broker *b, struct evhttp_request *req,
    const struct broker_peer *peer, json_t *body, double t0);

#endif
