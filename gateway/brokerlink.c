/*
 * brokerlink.c: the gateway's side of the broker's internal API (see
 * broker/gwapi.h), over mTLS with the gateway's certificate.
 *
 *   events:   a bounded in-memory queue; one thread posts batches to
 *             POST /internal/v1/events and, while the broker is down or
 *             answers an error, retries with exponential backoff (1 s up
 *             to 30 s). When the queue is full the oldest event is dropped
 *             (counted and logged).
 *   commands: one thread long-polls POST /internal/v1/commands
 *             {"epoch","after","wait"} and applies each "cut" through the
 *             registry as soon as the answer arrives (the broker answers a
 *             waiting poll the moment a command is queued). A cut is held
 *             (cutset.h) and applied before the next poll, so that poll's
 *             "after" tells the broker this gateway has it: the cut's
 *             acknowledgement.
 *
 * Why libcurl in two threads rather than evhttp on the event loops:
 * evhttp's client reconnects by reusing its bufferevent, which cannot work
 * with bufferevent_openssl (an SSL object cannot be reused), and libcurl's
 * multi-socket glue for libevent would be more code than these two loops.
 * Two blocking connections to one broker are no load; the loops never
 * touch a session except through registry_cut().
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#include "cutset.h"
#include "gateway.h"
#include "vlog.h"

#define BL_BATCH       200
#define BL_BODY_MAX    (1u << 20)
#define BL_POLL_WAIT   25
#define BL_BACKOFF_MAX 30

struct brokerlink {
	struct gw *gw;
	char url_events[600], url_commands[600];
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int stopping;
	json_t **q; /* ring of event objects */
	size_t cap, head, n;
	uint64_t ndropped; /* events dropped from the head, ever */
	pthread_t ev_thread, cmd_thread;
	int ev_started, cmd_started;
	char epoch[80];
	uint64_t after;
	/* The command poll (under lock): up after a good answer, down after
	 * a failed one; last_ok the time of the last good answer, down_since
	 * when it went down (the start until the first answer). */
	int up;
	time_t last_ok, down_since;
};

struct body {
	char *d;
	size_t n;
	int overflow;
};

static size_t
collect(char *p, size_t size, size_t nmemb, void *arg)
{
	struct body *b = arg;
	size_t len = size * nmemb;
	char *nd;

	if (b->n + len + 1 > BL_BODY_MAX) {
		b->overflow = 1;
		return 0;
	}
	if ((nd = realloc(b->d, b->n + len + 1)) == NULL)
		return 0;
	b->d = nd;
	memcpy(b->d + b->n, p, len);
	b->n += len;
	b->d[b->n] = '\0';
	return len;
}

static int
progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	struct brokerlink *bl = arg;
	int stop;

	pthread_mutex_lock(&bl->lock);
	stop = bl->stopping;
	pthread_mutex_unlock(&bl->lock);
	return stop;
}

/* POSTs json to url. Returns the HTTP status (0 when the request failed)
 * and the body in *out (free it). */
static long
post(struct brokerlink *bl, const char *url, const char *json, long timeout,
    int abortable, char **out, char *err, size_t errlen)
{
	const struct gwconf *c = &bl->gw->conf;
	struct curl_slist *h = NULL;
	struct body b = { NULL, 0, 0 };
	char ebuf[CURL_ERROR_SIZE] = "";
	long status = 0;
	CURL *cu;
	CURLcode rc;

	*out = NULL;
	err[0] = '\0';
	if ((cu = curl_easy_init()) == NULL) {
		snprintf(err, errlen, "curl_easy_init failed");
		return 0;
	}
	h = curl_slist_append(h, "Content-Type: application/json");
	curl_easy_setopt(cu, CURLOPT_URL, url);
	curl_easy_setopt(cu, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(cu, CURLOPT_POSTFIELDS, json);
	curl_easy_setopt(cu, CURLOPT_SSLCERT, c->tls_cert);
	curl_easy_setopt(cu, CURLOPT_SSLKEY, c->tls_key);
	curl_easy_setopt(cu, CURLOPT_CAINFO, c->broker_ca);
	curl_easy_setopt(cu, CURLOPT_CAPATH, NULL);
	if (c->broker_crl[0] != '\0')
		curl_easy_setopt(cu, CURLOPT_CRLFILE, c->broker_crl);
	curl_easy_setopt(cu, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	curl_easy_setopt(cu, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(cu, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(cu, CURLOPT_CONNECTTIMEOUT, 5L);
	curl_easy_setopt(cu, CURLOPT_TIMEOUT, timeout);
	curl_easy_setopt(cu, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(cu, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(cu, CURLOPT_ERRORBUFFER, ebuf);
	if (abortable) {
		curl_easy_setopt(cu, CURLOPT_NOPROGRESS, 0L);
		curl_easy_setopt(cu, CURLOPT_XFERINFOFUNCTION, progress);
		curl_easy_setopt(cu, CURLOPT_XFERINFODATA, bl);
	}
	rc = curl_easy_perform(cu);
	if (rc == CURLE_OK)
		curl_easy_getinfo(cu, CURLINFO_RESPONSE_CODE, &status);
	else
		snprintf(
		    err, errlen, "%s", ebuf[0] ? ebuf : curl_easy_strerror(rc));
	curl_easy_cleanup(cu);
	curl_slist_free_all(h);
	if (status != 0)
		*out = b.d;
	else
		free(b.d);
	return status;
}

/* Sleeps up to seconds, waking early when stopping. Returns 1 when
 * stopping. Called with the lock held. */
static int
nap_locked(struct brokerlink *bl, unsigned int seconds)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += seconds;
	while (!bl->stopping) {
		if (pthread_cond_timedwait(&bl->cond, &bl->lock, &ts) ==
		    ETIMEDOUT)
			break;
	}
	return bl->stopping;
}

static void *
events_loop(void *arg)
{
	struct brokerlink *bl = arg;
	unsigned int backoff = 1, final = 0;
	json_t *list, *o;
	char *text, *resp, err[CURL_ERROR_SIZE + 32];
	size_t i, n;
	uint64_t dropped0;
	long st;

	pthread_mutex_lock(&bl->lock);
	for (;;) {
		while (bl->n == 0 && !bl->stopping)
			pthread_cond_wait(&bl->cond, &bl->lock);
		if (bl->n == 0 || final)
			break;
		if (bl->stopping)
			final = 1; /* one last try, then give up */
		n = bl->n < BL_BATCH ? bl->n : BL_BATCH;
		dropped0 = bl->ndropped;
		list = json_array();
		for (i = 0; list != NULL && i < n; i++)
			json_array_append(
			    list, bl->q[(bl->head + i) % bl->cap]);
		pthread_mutex_unlock(&bl->lock);
		o = list != NULL ? json_pack("{s:o}", "events", list) : NULL;
		text = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
		json_decref(o);
		st = text != NULL ? post(bl, bl->url_events, text, 10, 0, &resp,
					err, sizeof(err))
				  : 0;
		free(text);
		if (st == 0 && text == NULL)
			snprintf(err, sizeof(err), "out of memory");
		pthread_mutex_lock(&bl->lock);
		if (st == 200 || (st >= 400 && st < 500)) {
			if (st != 200)
				vlog(VLOG_ERROR, "broker_events_refused",
				    "status=%ld events=%zu body=%s", st, n,
				    VLOG_Q(resp));
			else
				gwm_add(
				    bl->gw, GWM_BROKER_EVENTS_SENT, (int64_t)n);
			/* Meanwhile the queue may have dropped some of the
			 * posted events from its head: skip those. */
			if (bl->ndropped - dropped0 >= n)
				n = 0;
			else
				n -= (size_t)(bl->ndropped - dropped0);
			for (i = 0; i < n && bl->n > 0; i++) {
				json_decref(bl->q[bl->head]);
				bl->q[bl->head] = NULL;
				bl->head = (bl->head + 1) % bl->cap;
				bl->n--;
			}
			backoff = 1;
			free(resp);
			continue;
		}
		free(resp);
		vlog(VLOG_WARNING, "broker_events_retry",
		    "status=%ld error=%s queued=%zu retry_in=%u", st,
		    VLOG_Q(st ? "http error" : err), bl->n, backoff);
		if (nap_locked(bl, backoff) && final)
			break;
		backoff =
		    backoff * 2 > BL_BACKOFF_MAX ? BL_BACKOFF_MAX : backoff * 2;
	}
	if (bl->n > 0)
		vlog(VLOG_WARNING, "broker_events_lost", "events=%zu", bl->n);
	pthread_mutex_unlock(&bl->lock);
	return NULL;
}

/* Applies one command; a cut is held and applied through the registry
 * before the next poll, whose "after" acknowledges it to the broker. */
static void
apply(struct brokerlink *bl, json_t *cmd)
{
	const char *type = json_string_value(json_object_get(cmd, "type"));
	const char *sid = json_string_value(json_object_get(cmd, "sid"));
	const char *dev = json_string_value(json_object_get(cmd, "device"));
	const char *keep = json_string_value(json_object_get(cmd, "keep_jti"));
	const char *reason = json_string_value(json_object_get(cmd, "reason"));
	json_t *t = json_object_get(cmd, "time");
	const char *jti = json_string_value(json_object_get(cmd, "jti"));
	json_t *before = json_object_get(cmd, "before");
	int64_t now = (int64_t)time(NULL);
	struct cut c;
	unsigned int n;
	size_t i;
	int held;

	memset(&c, 0, sizeof(c));
	if (type == NULL || strcmp(type, "cut") != 0 ||
	    (sid == NULL) == (dev == NULL) ||
	    strlen(sid != NULL ? sid : dev) >= sizeof(c.key) ||
	    (keep != NULL &&
		(dev != NULL || strlen(keep) >= sizeof(c.keep_jti))) ||
	    (!json_is_integer(t) && !json_is_integer(before)) ||
	    strspn(sid != NULL ? sid : dev, "0123456789abcdef") !=
		strlen(sid != NULL ? sid : dev) ||
	    (keep != NULL &&
		strspn(keep,
		    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789_-") != strlen(keep))) {
		vlog(VLOG_WARNING, "broker_command_ignored", "type=%s",
		    VLOG_Q(type != NULL ? type : "?"));
		return;
	}
	c.kind = sid != NULL ? CUT_SESSION : CUT_DEVICE;
	snprintf(c.key, sizeof(c.key), "%s", sid != NULL ? sid : dev);
	if (keep != NULL)
		snprintf(c.keep_jti, sizeof(c.keep_jti), "%s", keep);
	snprintf(c.reason, sizeof(c.reason), "%s",
	    reason != NULL && reason[0] != '\0' ? reason : "broker");
	/* The reason goes into log lines and answers as a bare token. */
	for (i = 0; c.reason[i] != '\0'; i++)
		if (strchr("abcdefghijklmnopqrstuvwxyz"
			   "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_:.-",
			c.reason[i]) == NULL)
			c.reason[i] = '_';
	/* "before" (older brokers): tunnels of tokens before it. */
	c.time = json_is_integer(t) ? (int64_t)json_integer_value(t)
				    : (int64_t)json_integer_value(before) - 1;
	/* "jti": only the tunnel that token opened (a token the broker saw
	 * used on another gateway first): nothing to hold. */
	if (jti != NULL) {
		if (sid == NULL ||
		    strspn(jti,
			"ABCDEFGHIJKLMNOPQRSTUVWXYZ"
			"abcdefghijklmnopqrstuvwxyz"
			"0123456789-_") != strlen(jti)) {
			vlog(VLOG_WARNING, "broker_command_bad",
			    "detail=\"a tunnel cut without a session or with a "
			    "malformed jti\"");
			return;
		}
		n = registry_cut_jti(bl->gw->reg, sid, jti, c.reason);
		gwm_add(bl->gw, GWM_BROKER_CUTS, 1);
		vlog(VLOG_INFO, "broker_cut",
		    "sid=%s jti=%s reason=%s tunnels=%u", c.key, VLOG_Q(jti),
		    c.reason, n);
		return;
	}
	n = registry_cut(bl->gw->reg, &c, now, &held);
	gwm_add(bl->gw, GWM_BROKER_CUTS, 1);
	if (held == VDI_ERR_TOO_LARGE || held == VDI_ERR_ALLOC)
		vlog(VLOG_ERROR, "cut_set_full",
		    "held=%zu detail=\"every tunnel is refused until the "
		    "cuts expire\"",
		    registry_cuts_held(bl->gw->reg, now));
	vlog(held == VDI_ERR_EXISTS ? VLOG_DEBUG : VLOG_INFO, "broker_cut",
	    "%s=%s time=%lld keep_jti=%s reason=%s tunnels=%u held=%s",
	    c.kind == CUT_SESSION ? "sid" : "device", c.key, (long long)c.time,
	    keep != NULL ? keep : "-", c.reason, n,
	    held == 0                     ? "yes"
		: held == VDI_ERR_EXISTS  ? "already"
		: held == VDI_ERR_TIMEOUT ? "expired"
					  : "no");
}

static void *
commands_loop(void *arg)
{
	struct brokerlink *bl = arg;
	unsigned int backoff = 1, ok_once = 0;
	char req[256], *resp, err[CURL_ERROR_SIZE + 32];
	json_t *j, *cmds, *c;
	const char *epoch;
	size_t i;
	long st;

	for (;;) {
		pthread_mutex_lock(&bl->lock);
		if (bl->stopping) {
			pthread_mutex_unlock(&bl->lock);
			break;
		}
		pthread_mutex_unlock(&bl->lock);
		if (bl->epoch[0] != '\0')
			snprintf(req, sizeof(req),
			    "{\"epoch\":\"%s\",\"after\":%llu,\"wait\":%d}",
			    bl->epoch, (unsigned long long)bl->after,
			    /* After a failure, answered at once: the link
			     * is known to be back (and what was missed
			     * arrives) without waiting a whole poll. Only
			     * this thread writes bl->up. */
			    bl->up ? BL_POLL_WAIT : 0);
		else
			snprintf(req, sizeof(req), "{\"after\":0,\"wait\":0}");
		st = post(bl, bl->url_commands, req, BL_POLL_WAIT + 10, 1,
		    &resp, err, sizeof(err));
		j = st == 200 && resp != NULL ? json_loads(resp, 0, NULL)
					      : NULL;
		free(resp);
		if (j == NULL ||
		    (epoch = json_string_value(json_object_get(j, "epoch"))) ==
			NULL ||
		    !json_is_integer(json_object_get(j, "next")) ||
		    strlen(epoch) >= sizeof(bl->epoch)) {
			json_decref(j);
			pthread_mutex_lock(&bl->lock);
			if (bl->up) {
				bl->up = 0;
				bl->down_since = time(NULL);
			}
			if (!bl->stopping)
				vlog(VLOG_WARNING, "broker_poll_failed",
				    "status=%ld error=%s retry_in=%u", st,
				    VLOG_Q(st ? "bad answer" : err), backoff);
			if (nap_locked(bl, backoff)) {
				pthread_mutex_unlock(&bl->lock);
				break;
			}
			pthread_mutex_unlock(&bl->lock);
			backoff = backoff * 2 > 10 ? 10 : backoff * 2;
			continue;
		}
		backoff = 1;
		pthread_mutex_lock(&bl->lock);
		if (!bl->up && ok_once)
			vlog(VLOG_NOTICE, "broker_link_up", "down_for=%llds",
			    (long long)(time(NULL) - bl->down_since));
		bl->up = 1;
		bl->last_ok = time(NULL);
		pthread_mutex_unlock(&bl->lock);
		if (strcmp(epoch, bl->epoch) != 0 && bl->epoch[0] != '\0')
			vlog(VLOG_NOTICE, "broker_epoch", "epoch=%s",
			    VLOG_Q(epoch));
		if (!ok_once)
			vlog(VLOG_INFO, "broker_connected", "url=%s",
			    bl->gw->conf.broker_url);
		ok_once = 1;
		cmds = json_object_get(j, "commands");
		json_array_foreach(cmds, i, c) {
			json_t *seq = json_object_get(c, "seq");

			/* On a new epoch (a broker restart, or this
			 * gateway's first poll) the broker sends every cut
			 * still in force: the held ones are recognised
			 * (cutset_add), the rest are held and applied. */
			if (json_is_integer(seq) &&
			    (uint64_t)json_integer_value(seq) <= bl->after &&
			    strcmp(epoch, bl->epoch) == 0)
				continue;
			apply(bl, c);
		}
		snprintf(bl->epoch, sizeof(bl->epoch), "%s", epoch);
		bl->after =
		    (uint64_t)json_integer_value(json_object_get(j, "next"));
		json_decref(j);
	}
	return NULL;
}

int
brokerlink_start(struct gw *gw, char *err, size_t errlen)
{
	struct brokerlink *bl;
	size_t ul;
	char base[520];

	if ((bl = calloc(1, sizeof(*bl))) == NULL)
		goto alloc;
	bl->gw = gw;
	bl->cap = gw->conf.event_queue;
	if ((bl->q = calloc(bl->cap, sizeof(*bl->q))) == NULL) {
		free(bl);
		goto alloc;
	}
	snprintf(base, sizeof(base), "%s", gw->conf.broker_url);
	ul = strlen(base);
	if (ul > 0 && base[ul - 1] == '/')
		base[ul - 1] = '\0';
	snprintf(bl->url_events, sizeof(bl->url_events),
	    "%s/internal/v1/events", base);
	snprintf(bl->url_commands, sizeof(bl->url_commands),
	    "%s/internal/v1/commands", base);
	pthread_mutex_init(&bl->lock, NULL);
	pthread_cond_init(&bl->cond, NULL);
	bl->down_since = time(NULL);
	gw->bl = bl;
	if (pthread_create(&bl->ev_thread, NULL, events_loop, bl) != 0) {
		snprintf(err, errlen, "cannot start the broker events thread");
		return VDI_ERR_SYSTEM;
	}
	bl->ev_started = 1;
	if (pthread_create(&bl->cmd_thread, NULL, commands_loop, bl) != 0) {
		snprintf(
		    err, errlen, "cannot start the broker commands thread");
		return VDI_ERR_SYSTEM;
	}
	bl->cmd_started = 1;
	return 0;
alloc:
	snprintf(err, errlen, "out of memory");
	return VDI_ERR_ALLOC;
}

void
brokerlink_stop(struct gw *gw)
{
	struct brokerlink *bl = gw->bl;
	size_t i;

	if (bl == NULL)
		return;
	pthread_mutex_lock(&bl->lock);
	bl->stopping = 1;
	pthread_cond_broadcast(&bl->cond);
	pthread_mutex_unlock(&bl->lock);
	if (bl->cmd_started)
		pthread_join(bl->cmd_thread, NULL);
	if (bl->ev_started)
		pthread_join(bl->ev_thread, NULL);
	for (i = 0; i < bl->n; i++)
		json_decref(bl->q[(bl->head + i) % bl->cap]);
	free(bl->q);
	pthread_mutex_destroy(&bl->lock);
	pthread_cond_destroy(&bl->cond);
	free(bl);
	gw->bl = NULL;
}

void
brokerlink_event(struct gw *gw, const char *type, const char *sid,
    const char *jti, const char *reason, const char *channel, uint64_t bytes_in,
    uint64_t bytes_out)
{
	struct brokerlink *bl = gw->bl;
	json_t *o;

	if (bl == NULL || type == NULL || sid == NULL ||
	    (o = json_pack("{s:s, s:s}", "type", type, "sid", sid)) == NULL)
		return;
	if (jti != NULL)
		json_object_set_new(o, "jti", json_string(jti));
	if (reason != NULL)
		json_object_set_new(o, "reason", json_string(reason));
	if (channel != NULL)
		json_object_set_new(o, "channel", json_string(channel));
	if (strcmp(type, "end") == 0 || strcmp(type, "bytes") == 0) {
		json_object_set_new(
		    o, "bytes_in", json_integer((json_int_t)bytes_in));
		json_object_set_new(
		    o, "bytes_out", json_integer((json_int_t)bytes_out));
	}
	pthread_mutex_lock(&bl->lock);
	if (bl->n == bl->cap) {
		json_decref(bl->q[bl->head]);
		bl->q[bl->head] = NULL;
		bl->head = (bl->head + 1) % bl->cap;
		bl->n--;
		bl->ndropped++;
		gwm_add(gw, GWM_BROKER_EVENTS_DROPPED, 1);
		vlog(VLOG_WARNING, "broker_event_dropped",
		    "reason=queue_full capacity=%zu", bl->cap);
	}
	bl->q[(bl->head + bl->n) % bl->cap] = o;
	bl->n++;
	pthread_cond_broadcast(&bl->cond);
	pthread_mutex_unlock(&bl->lock);
}

size_t
brokerlink_queued(struct gw *gw)
{
	size_t n;

	if (gw->bl == NULL)
		return 0;
	pthread_mutex_lock(&gw->bl->lock);
	n = gw->bl->n;
	pthread_mutex_unlock(&gw->bl->lock);
	return n;
}

int
brokerlink_state(struct gw *gw, int64_t *since_ok, int64_t *down_for)
{
	struct brokerlink *bl = gw->bl;
	time_t now = time(NULL);
	int up;

	*since_ok = -1;
	*down_for = 0;
	if (bl == NULL)
		return 0;
	pthread_mutex_lock(&bl->lock);
	up = bl->up;
	if (bl->last_ok != 0)
		*since_ok = (int64_t)(now - bl->last_ok);
	if (!up)
		*down_for = (int64_t)(now - bl->down_since);
	pthread_mutex_unlock(&bl->lock);
	return up;
}

int
brokerlink_stale(struct gw *gw)
{
	int64_t since_ok, down_for;

	if (gw->conf.broker_stale_after == 0 || gw->bl == NULL)
		return 0;
	return !brokerlink_state(gw, &since_ok, &down_for) &&
	    down_for >= (int64_t)gw->conf.broker_stale_after;
}
