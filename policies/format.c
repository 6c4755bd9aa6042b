/*
 * format.c: decisions as text, for logs and the audit trail.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "policy_int.h"

char *
policy_channels_format(unsigned int channels, char *buf, size_t len)
{
	if (len == 0)
		return buf;
	buf[0] = '\0';
	if (channels == 0) {
		snprintf(buf, len, "none");
		return buf;
	}
	snprintf(buf, len, "%s%s%s",
	    (channels & POLICY_CH_DISPLAY) ? "display" : "",
	    (channels & POLICY_CH_INPUT) ? ",input" : "",
	    (channels & POLICY_CH_AUDIO_OUT) ? ",audio_out" : "");
	return buf;
}

struct out {
	char *buf;
	size_t len, used;
	int full;
};

static void put(struct out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->used, o->len - o->used, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->len - o->used) {
		o->full = 1;
		o->used = o->len - 1;
		return;
	}
	o->used += (size_t)n;
}

int
policy_decision_format_kv(
    const struct policy_decision *d, char *buf, size_t len)
{
	struct out o = { buf, len, 0, 0 };
	const char *reason;
	char ch[64];
	size_t i;

	if (d == NULL || buf == NULL || len == 0)
		return VDI_ERR_INVALID_ARG;
	buf[0] = '\0';
	put(&o, "verdict=%s", d->verdict == POLICY_ALLOW ? "allow" : "deny");
	if (d->tenant != NULL)
		put(&o, " tenant=%s", d->tenant->name);
	if (d->rule != NULL)
		put(&o, " rule=%s rule_src=%s:%u", d->rule->name,
		    d->rule->src_file, d->rule->src_line);
	put(&o, " mode=%s", d->mode != NULL ? d->mode->name : "none");
	if (d->verdict == POLICY_ALLOW) {
		put(&o, " pools=");
		for (i = 0; i < d->npools; i++)
			put(&o, "%s%s", i > 0 ? "," : "", d->pools[i]->name);
		put(&o,
		    " idle_disconnect=%u reconnect_window=%u "
		    "max_session=%u single_session=%d reconnect_ticket=%d "
		    "shared_device=%d channels=%s",
		    d->limits.idle_disconnect, d->limits.reconnect_window,
		    d->limits.max_session, d->limits.single_session,
		    d->limits.reconnect_ticket, d->limits.shared_device,
		    policy_channels_format(d->channels, ch, sizeof(ch)));
	}
	/* reason values are fixed phrases: quote them for key=value. */
	reason = policy_reason_str(d->reason);
	put(&o, " reason=\"%s\"", reason);
	if (d->closest != NULL)
		put(&o, " closest_rule=%s closest_failed=\"%s\"",
		    d->closest->name, policy_cond_str(d->closest_failed));
	return o.full ? VDI_ERR_TOO_LARGE : 0;
}
