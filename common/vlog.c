/* vlog.c: key=value event logging to stderr or syslog. */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "vdierr.h"
#include "vlog.h"

#define VLOG_LINE_MAX 2048

static char vlog_ident[64] = "vdi";
static enum vlog_target vlog_target_cur = VLOG_STDERR;
static enum vlog_level vlog_min = VLOG_INFO;
/* stderr is a journald stream: each line starts with "<N>". */
static int vlog_journal;

static const char *const level_names[] = {
	"debug",
	"info",
	"notice",
	"warning",
	"error",
};

/* 1 when JOURNAL_STREAM ("DEVICE:INODE", set by systemd for a unit whose
 * stderr goes to the journal) names the file stderr is now; 0 when it is
 * unset or stderr was redirected elsewhere since. */
static int
stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	char tail;

	if (js == NULL || sscanf(js, "%llu:%llu%c", &dev, &ino, &tail) != 2)
		return 0;
	if (fstat(STDERR_FILENO, &st) != 0)
		return 0;
	return (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}

void
vlog_init(const char *ident, enum vlog_target target, enum vlog_level min_level)
{
	if (ident != NULL)
		snprintf(vlog_ident, sizeof(vlog_ident), "%s", ident);
	vlog_target_cur = target;
	vlog_min = min_level;
	vlog_journal = target == VLOG_STDERR && stderr_is_journal();
	if (target == VLOG_SYSLOG)
		openlog(vlog_ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

int
vlog_level_parse(const char *s, enum vlog_level *level)
{
	size_t i;

	for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcasecmp(s, level_names[i]) == 0) {
			*level = (enum vlog_level)i;
			return 0;
		}
	}
	return VDI_ERR_INVALID_ARG;
}

const char *
vlog_level_name(enum vlog_level level)
{
	if ((size_t)level >= sizeof(level_names) / sizeof(level_names[0]))
		return "unknown";
	return level_names[level];
}

static int
syslog_priority(enum vlog_level level)
{
	switch (level) {
	case VLOG_DEBUG:
		return LOG_DEBUG;
	case VLOG_INFO:
		return LOG_INFO;
	case VLOG_NOTICE:
		return LOG_NOTICE;
	case VLOG_WARNING:
		return LOG_WARNING;
	case VLOG_ERROR:
		return LOG_ERR;
	}
	return LOG_ERR;
}

void
vlog(enum vlog_level level, const char *event, const char *fmt, ...)
{
	char line[VLOG_LINE_MAX];
	char ts[40];
	struct timeval tv;
	struct tm tm;
	size_t n = 0;
	int w;
	va_list ap;

	if (level < vlog_min)
		return;

	if (vlog_target_cur == VLOG_STDERR && vlog_journal) {
		/* sd-daemon(3) prefix: journald files the line under this
		 * priority (journalctl -p err) and strips the prefix. */
		w = snprintf(
		    line, sizeof(line), "<%d>", syslog_priority(level));
		if (w > 0)
			n = (size_t)w;
	}
	if (vlog_target_cur == VLOG_STDERR) {
		gettimeofday(&tv, NULL);
		gmtime_r(&tv.tv_sec, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
		w = snprintf(line + n, sizeof(line) - n, "%s.%03ldZ %s[%ld] ",
		    ts, (long)(tv.tv_usec / 1000), vlog_ident, (long)getpid());
		if (w > 0)
			n += (size_t)w < sizeof(line) - n
			    ? (size_t)w
			    : sizeof(line) - n - 1;
	}
	w = snprintf(line + n, sizeof(line) - n, "level=%s event=%s",
	    vlog_level_name(level), event != NULL ? event : "none");
	if (w > 0)
		n += (size_t)w < sizeof(line) - n ? (size_t)w
						  : sizeof(line) - n - 1;
	if (fmt != NULL && *fmt != '\0' && n + 1 < sizeof(line)) {
		line[n++] = ' ';
		line[n] = '\0';
		va_start(ap, fmt);
		w = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
		va_end(ap);
		if (w > 0)
			n += (size_t)w < sizeof(line) - n
			    ? (size_t)w
			    : sizeof(line) - n - 1;
	}
	/* One event, one line: no embedded newlines. */
	for (size_t i = 0; i < n; i++)
		if (line[i] == '\n' || line[i] == '\r')
			line[i] = ' ';

	if (vlog_target_cur == VLOG_SYSLOG) {
		syslog(syslog_priority(level), "%s", line);
		return;
	}
	if (n + 1 < sizeof(line))
		line[n++] = '\n';
	else
		line[sizeof(line) - 2] = '\n', n = sizeof(line) - 1;
	/* A single write keeps lines from different threads whole. */
	(void)!write(STDERR_FILENO, line, n);
}

static int
safe_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || strchr("-_.:/@+,#%[]", c) != NULL;
}

/*
 * Length of the well-formed UTF-8 sequence of two to four bytes at p (n
 * bytes left), or 0 when p does not start one. Overlong forms, surrogates,
 * code points above U+10FFFF and characters that move or break text on a
 * terminal (C1 controls, U+2028/U+2029, the bidirectional overrides and
 * isolates) count as not well-formed: they are escaped byte by byte.
 */
static size_t
utf8_len(const unsigned char *p, size_t n)
{
	uint32_t cp;
	size_t len, i;

	if (p[0] >= 0xC2 && p[0] <= 0xDF)
		len = 2, cp = p[0] & 0x1F;
	else if (p[0] >= 0xE0 && p[0] <= 0xEF)
		len = 3, cp = p[0] & 0x0F;
	else if (p[0] >= 0xF0 && p[0] <= 0xF4)
		len = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3F);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	if (cp <= 0x9F || cp == 0x2028 || cp == 0x2029 ||
	    (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069))
		return 0;
	return len;
}

char *
vlog_quote(const char *s, char *out, size_t outlen)
{
	const unsigned char *p, *end;
	size_t o = 0;
	int plain = 1;

	if (outlen < 3) {
		if (outlen > 0)
			out[0] = '\0';
		return out;
	}
	if (s == NULL)
		s = "";
	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if (!safe_char(*p))
			plain = 0;
	end = p;
	if (plain && *s != '\0' &&
	    (size_t)(end - (const unsigned char *)s) < outlen) {
		memcpy(out, s, (size_t)(end - (const unsigned char *)s) + 1);
		return out;
	}
	out[o++] = '"';
	for (p = (const unsigned char *)s; *p != '\0';) {
		char esc[5];
		size_t el, take = 1;

		if (*p == '"' || *p == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*p;
			el = 2;
		} else if (*p >= 0x20 && *p < 0x7F) {
			esc[0] = (char)*p;
			el = 1;
		} else if (*p >= 0x80 &&
		    (take = utf8_len(p, (size_t)(end - p))) > 0) {
			memcpy(esc, p, take);
			el = take;
		} else {
			snprintf(esc, sizeof(esc), "\\x%02x", *p);
			el = 4;
			take = 1;
		}
		/* Room for this piece, the closing quote and the NUL. */
		if (o + el + 2 > outlen)
			break;
		memcpy(out + o, esc, el);
		o += el;
		p += take;
	}
	out[o++] = '"';
	out[o] = '\0';
	return out;
}
