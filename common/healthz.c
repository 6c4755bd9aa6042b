/* healthz.c: the /healthz answer of both daemons (see healthz.h). */
#include "config.h"

#include <event2/buffer.h>
#include <event2/http.h>

#include "healthz.h"
#include "httpstatus.h"

int
vdi_healthz_policy(struct evhttp_request *req, int failed)
{
	if (failed)
		evbuffer_add_printf(evhttp_request_get_output_buffer(req),
		    "policy_reload_failed detail=\"the previous policy is "
		    "in force\"\n");
	return failed != 0;
}

void
vdi_healthz_send(struct evhttp_request *req, int bad)
{
	struct evbuffer *out = evhttp_request_get_output_buffer(req);

	evbuffer_prepend(out, bad ? "not ready\n" : "ready\n", bad ? 10 : 6);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain");
	evhttp_send_reply(
	    req, bad ? 503 : 200, vdi_http_phrase(bad ? 503 : 200), NULL);
}
