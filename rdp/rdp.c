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
	v->action = RDP_PASS;
	v->reason[0] = '\0';
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

void
rdp_verdict_set(
    struct rdp_verdict *v, enum rdp_action action, const char *fmt, ...)
{
	va_list ap;

	if (severity(action) < severity(v->action))
		return;
	if (severity(action) == severity(v->action) && v->reason[0] != '\0')
		return;
	v->action = action;
	v->reason[0] = '\0';
	if (fmt == NULL)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(v->reason, sizeof(v->reason), fmt, ap);
	va_end(ap);
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
