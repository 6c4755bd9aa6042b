/*
 * http.h: the broker's HTTPS front on libevent's evhttp, over
 * bufferevent_openssl with mandatory client certificates.
 *
 * Routes are matched on method and exact path. Device endpoints need a
 * certificate issued by a tenant CA of the policy; internal endpoints need
 * one from the gateway CA whose CN is a configured gateway. Bodies are JSON
 * objects (size-capped, duplicate keys refused); errors are JSON
 * {"error": "stable_code", "message": "..."}.
 */
#ifndef VDI_BROKER_HTTP_H
#define VDI_BROKER_HTTP_H

#include <event2/http.h>
#include <jansson.h>

#include "broker.h"

/* The CA name the front gives the gateway CA (tenant names cannot start
 * with '@'). */
#define HTTP_GATEWAY_CA "@gateways"

enum http_who {
	HTTP_ANY_PEER = 0, /* any verified certificate */
	HTTP_DEVICE,       /* a tenant's device */
	HTTP_GATEWAY,      /* a configured gateway */
};

typedef void http_handler(struct broker *b, struct evhttp_request *req,
    const struct broker_peer *peer, json_t *body, double t0);

struct http_route {
	enum evhttp_cmd_type method;
	const char *path;
	enum http_who who;
	int body; /* 1: needs a JSON object body */
	http_handler *fn;
};

/* Starts the front on conf.listen with the routes (NULL-terminated by
 * fn == NULL). Derives the connection and PAM limits left at 0 from
 * RLIMIT_NOFILE (into b->conf) and logs them. Returns 0, or an error with
 * a message in err. */
int http_start(struct broker *b, const struct http_route *routes, char *err,
    size_t errlen) VDI_WUR;

/* Frees the front (b->http and every connection); NULL-safe on a front
 * that never started. */
void http_stop(struct broker *b);

/* The front keeps one spare descriptor, closed to accept and drop a peer
 * when accept() fails for lack of descriptors. A caller about to receive
 * a descriptor (a PAM conversation socket from the monitor) may lend it
 * first and give it back after. */
void http_spare_fd_release(void);
void http_spare_fd_restore(void);

/* Sends a JSON reply (takes the reference to body) and records metrics.
 * t0 is the time the request arrived (http_time()). */
void http_reply(struct broker *b, struct evhttp_request *req, int code,
    json_t *body, double t0);

/* Sends {"error": code_str, "message": msg} with status code. */
void http_error(struct broker *b, struct evhttp_request *req, int code,
    const char *code_str, const char *msg, double t0);

/* Monotonic seconds, for latency. */
double http_time(void);

/* Reads a JSON object body of at most max bytes: 0, or VDI_ERR_TOO_LARGE /
 * VDI_ERR_JSON with a message in err. *out: caller decrefs. */
int http_parse_body(struct evhttp_request *req, size_t max, json_t **out,
    char *err, size_t errlen) VDI_WUR;

/* Fills peer from the request's TLS connection. 0 or VDI_ERR_CERT_VERIFY. */
int http_peer(struct evhttp_request *req, struct broker_peer *peer) VDI_WUR;

#endif
