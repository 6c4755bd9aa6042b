/* rdp.c: verdicts, name sanitising and message lists shared by the RDP
 * parsers (see rdp.h). */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "rdp/rdp.h"

void
rdp_verdict_init(struct rdp_verdict *v)
{
	memset(v, 0, sizeof(*v));
	v->action = RDP_PASS;
	v->what.kind = RDP_REFUSED_NOTHING;
}

/* Severity order: PASS < REWRITE < DROP < CLOSE. */
static int
severity(enum rdp_action a)
{
	switch (a) {
	case RDP_PASS:
		return 0;
	case RDP_REWRITE:
		return 1;
	case RDP_DROP:
		return 2;
	case RDP_CLOSE:
		return 3;
	}
	return 3;
}

/*
 * The one rule every change of a verdict goes through: 1 when v may take
 * action (with a refusal of kind), 0 when it must stay as it is. A verdict
 * only gets more severe; of equally severe ones, the first that refused
 * something is kept.
 */
static int
may_raise(
    const struct rdp_verdict *v, enum rdp_action action, enum rdp_refusal kind)
{
	if (severity(action) < severity(v->action))
		return 0;
	if (severity(action) == severity(v->action) &&
	    (v->what.kind != RDP_REFUSED_NOTHING ||
		kind == RDP_REFUSED_NOTHING))
		return 0;
	return 1;
}

static void
raise_to(struct rdp_verdict *v, enum rdp_action action,
    const struct rdp_refusal_data *what, const char *fmt, va_list ap)
{
	v->action = action;
	v->what = *what;
	v->reason[0] = '\0';
	if (fmt != NULL)
		(void)vsnprintf(v->reason, sizeof(v->reason), fmt, ap);
}

void
rdp_verdict_set(
    struct rdp_verdict *v, enum rdp_action action, const char *fmt, ...)
{
	struct rdp_refusal_data what;
	va_list ap;

	memset(&what, 0, sizeof(what));
	what.kind = fmt == NULL || action == RDP_PASS ? RDP_REFUSED_NOTHING
						      : RDP_REFUSED_RULE;
	if (!may_raise(v, action, what.kind))
		return;
	va_start(ap, fmt);
	raise_to(v, action, &what, fmt, ap);
	va_end(ap);
}

void
rdp_verdict_refuse(struct rdp_verdict *v, enum rdp_action action,
    enum rdp_refusal kind, uint32_t code, const void *name, size_t namelen,
    const char *fmt, ...)
{
	struct rdp_refusal_data what;
	va_list ap;
	size_t n;

	if (!may_raise(v, action, kind))
		return;
	memset(&what, 0, sizeof(what));
	what.kind = kind;
	what.code = code;
	if (name != NULL)
		rdp_name_sanitize(what.name, sizeof(what.name), name, namelen);
	va_start(ap, fmt);
	raise_to(v, action, &what, fmt, ap);
	va_end(ap);
	n = strlen(v->reason);
	if (name != NULL && n < sizeof(v->reason))
		(void)snprintf(v->reason + n, sizeof(v->reason) - n,
		    "%sname=%s", n > 0 ? " " : "", what.name);
}

void
rdp_verdict_escalate(struct rdp_verdict *v, enum rdp_action action)
{
	if (may_raise(v, action, v->what.kind))
		v->action = action;
}

void
rdp_verdict_merge(struct rdp_verdict *v, const struct rdp_verdict *from)
{
	if (v == from || !may_raise(v, from->action, from->what.kind))
		return;
	v->action = from->action;
	v->what = from->what;
	memcpy(v->reason, from->reason, sizeof(v->reason));
	v->reason[sizeof(v->reason) - 1] = '\0';
}

const char *
rdp_refusal_name(enum rdp_refusal kind)
{
	switch (kind) {
	case RDP_REFUSED_NOTHING:
		return "nothing";
	case RDP_REFUSED_RULE:
		return "rule";
	case RDP_REFUSED_DVC:
		return "dvc";
	case RDP_REFUSED_DVC_TABLE_FULL:
		return "dvc_table_full";
	case RDP_REFUSED_CHANNEL:
		return "channel";
	case RDP_REFUSED_PDU:
		return "pdu";
	case RDP_REFUSED_CAPS:
		return "caps";
	}
	return "unknown";
}

void
rdp_truncate(struct vbuf *out, size_t mark)
{
	if (vbuf_len(out) > mark &&
	    vbuf_consume_end(out, vbuf_len(out) - mark) != 0)
		vbuf_reset(out); /* cannot happen: the length was checked */
}

const char *
rdp_action_name(enum rdp_action action)
{
	switch (action) {
	case RDP_PASS:
		return "pass";
	case RDP_REWRITE:
		return "rewrite";
	case RDP_DROP:
		return "drop";
	case RDP_CLOSE:
		return "close";
	}
	return "unknown";
}

char *
rdp_name_sanitize(char *dst, size_t dstlen, const void *src, size_t srclen)
{
	const unsigned char *s = src;
	size_t i;

	if (dstlen == 0)
		return dst;
	for (i = 0; i < srclen && i + 1 < dstlen && s[i] != '\0'; i++) {
		unsigned char c = s[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '.' ||
		    c == ':' || c == '-')
			dst[i] = (char)c;
		else
			dst[i] = '?';
	}
	dst[i] = '\0';
	return dst;
}

int
rdp_msgs_init(struct rdp_msgs *m, size_t max_bytes)
{
	memset(m, 0, sizeof(*m));
	if (max_bytes == 0 || max_bytes > VBUF_SIZE_MAX)
		return VDI_ERR_INVALID_ARG;
	if ((m->buf = vbuf_new(max_bytes)) == NULL)
		return VDI_ERR_ALLOC;
	return 0;
}

void
rdp_msgs_free(struct rdp_msgs *m)
{
	if (m == NULL)
		return;
	vbuf_free(m->buf);
	m->buf = NULL;
	m->n = 0;
}

void
rdp_msgs_reset(struct rdp_msgs *m)
{
	if (m->buf != NULL)
		vbuf_reset(m->buf);
	m->n = 0;
}

int
rdp_msgs_close(struct rdp_msgs *m)
{
	if (m->buf == NULL)
		return VDI_ERR_INVALID_ARG;
	if (m->n >= RDP_MSGS_MAX)
		return VDI_ERR_TOO_LARGE;
	m->end[m->n++] = vbuf_len(m->buf);
	return 0;
}

int
rdp_msgs_get(const struct rdp_msgs *m, size_t i, struct vbuf *view)
{
	size_t start;

	memset(view, 0, sizeof(*view));
	if (m->buf == NULL || i >= m->n)
		return VDI_ERR_INVALID_ARG;
	start = i == 0 ? 0 : m->end[i - 1];
	return vbuf_peek_view(m->buf, start, m->end[i] - start, view);
}
