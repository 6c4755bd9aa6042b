/*
 * http_conn.h: the connections of the broker's HTTPS front (http_conn.c),
 * for http.c: each one is followed through its SSL object from accept to
 * free, for max_connections, max_connections_per_source, request_timeout
 * and the spare descriptor against EMFILE.
 */
#ifndef VDI_BROKER_HTTP_CONN_H
#define VDI_BROKER_HTTP_CONN_H

#include <event2/bufferevent.h>
#include <event2/http.h>
#include <event2/listener.h>

#include "broker.h"

/* Sets up the tracking for b's front (limits from b->conf). 0 or
 * VDI_ERR_ALLOC. */
int http_conn_init(struct broker *b) VDI_WUR;

/* evhttp's bufferevent callback (arg: the broker): a TLS bufferevent for
 * a new connection, tracked. */
struct bufferevent *http_conn_bev(struct event_base *base, void *arg);

/* The front's listener, paused at the caps and on accept errors (NULL
 * before evhttp frees it). */
void http_conn_listener(struct evconnlistener *lev);

/* A request was dispatched to a handler (its deadline is met) or answered
 * (the connection idles until the next one). */
void http_conn_dispatched(struct evhttp_request *req);
void http_conn_answered(struct evhttp_request *req);

/* Frees the tracking, after evhttp has freed every connection. */
void http_conn_stop(void);

#endif
