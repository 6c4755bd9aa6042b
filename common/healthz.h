/*
 * healthz.h: the GET /healthz answer both daemons give on their metrics
 * listener (docs/admin-guide.md): 200 "ready", or 503 "not ready" and one
 * reason a line. Each daemon writes its own reasons into the request's
 * output buffer; these write the shared ones and send the answer.
 */
#ifndef VDI_HEALTHZ_H
#define VDI_HEALTHZ_H

struct evhttp_request;

/* When failed (the last policy reload was refused) appends its reason line
 * to the answer. Returns failed != 0: whether the daemon is not ready. */
int vdi_healthz_policy(struct evhttp_request *req, int failed);

/* Sends the answer: "ready\n" (200) when !bad, else "not ready\n" (503)
 * followed by the reason lines already written, as text/plain. */
void vdi_healthz_send(struct evhttp_request *req, int bad);

#endif
