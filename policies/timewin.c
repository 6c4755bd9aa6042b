/*
 * timewin.c: time windows ("mon..fri 08:30-17:15 in Asia/Tokyo") and the
 * RFC 3339 times the tools take on the command line.
 *
 * A window is a set of week days, a span of wall-clock time HH:MM-HH:MM and
 * an IANA time zone. It matches an instant when the instant's local time in
 * that zone is inside the span on one of the days. The rules:
 *
 *   - the span is half open: 08:00-18:00 holds 17:59:59, not 18:00:00;
 *     24:00 is allowed as an end ("00:00-24:00" is the whole day);
 *   - an end before the start crosses midnight, and the part after midnight
 *     belongs to the day the window starts on: "fri 22:00-06:00" holds
 *     Saturday 05:00, not Friday 05:00;
 *   - wall-clock time is what counts across DST changes: on a
 *     spring-forward night the skipped hour simply never occurs (a window
 *     01:30-03:30 on that night lasts one hour, and 02:00-02:30 does not
 *     happen at all), and on a fall-back night the repeated hour matches
 *     twice (01:30-03:30 lasts two and a half hours).
 */
#include "config.h"

#include <string.h>

#include "policy_int.h"

static int
two_digits(const char *s, int *v)
{
	if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
		return -1;
	*v = (s[0] - '0') * 10 + (s[1] - '0');
	return 0;
}

/* "HH:MM" at s (exactly 5 characters); returns minutes or -1. */
static int
hhmm(const char *s, int allow_24)
{
	int h, m;

	if (two_digits(s, &h) != 0 || s[2] != ':' || two_digits(s + 3, &m) != 0)
		return -1;
	if (m > 59)
		return -1;
	if (h == 24 && m == 0 && allow_24)
		return 1440;
	if (h > 23)
		return -1;
	return h * 60 + m;
}

int
policy_timewin_parse_hours(
    const char *s, uint16_t *start, uint16_t *end, const char **why)
{
	int a, b;

	*start = *end = 0;
	*why = "expected HH:MM-HH:MM, e.g. \"08:30-17:15\" or \"22:00-06:00\"";
	if (s == NULL || strlen(s) != 11 || s[5] != '-')
		return VDI_ERR_BAD_FORMAT;
	if ((a = hhmm(s, 0)) < 0) {
		*why = "bad start time: expected 00:00..23:59";
		return VDI_ERR_BAD_FORMAT;
	}
	if ((b = hhmm(s + 6, 1)) < 0) {
		*why = "bad end time: expected 00:00..24:00";
		return VDI_ERR_BAD_FORMAT;
	}
	if (a == b) {
		*why =
		    "empty window: start equals end (use \"00:00-24:00\" for "
		    "a whole day)";
		return VDI_ERR_BAD_FORMAT;
	}
	*start = (uint16_t)a;
	*end = (uint16_t)(b == 0 ? 1440 : b);
	/* "22:00-00:00" is the same as "22:00-24:00": it does not cross. */
	return 0;
}

int
policy_timewin_parse_day(const char *s, uint8_t *mask)
{
	static const char *const names[7] = { "sun", "mon", "tue", "wed", "thu",
		"fri", "sat" };
	int i;

	*mask = 0;
	for (i = 0; i < 7; i++)
		if (strcmp(s, names[i]) == 0) {
			*mask = (uint8_t)(1u << i);
			return 0;
		}
	if (strcmp(s, "weekdays") == 0)
		*mask = 0x3e;
	else if (strcmp(s, "weekend") == 0)
		*mask = 0x41;
	else if (strcmp(s, "daily") == 0)
		*mask = 0x7f;
	else
		return VDI_ERR_BAD_FORMAT;
	return 0;
}

int
policy_timewin_match(const struct policy_timewin *w, int64_t t)
{
	struct policy_civil c;
	int m, yesterday;

	policy_tz_localtime(w->tz, t, &c);
	m = c.hour * 60 + c.min;
	if (w->start < w->end)
		return (w->days & (1u << c.wday)) != 0 && m >= w->start &&
		    m < w->end;
	/* Crosses midnight: the evening of a listed day, or the early
	 * morning after one. */
	yesterday = (c.wday + 6) % 7;
	return ((w->days & (1u << c.wday)) != 0 && m >= w->start) ||
	    ((w->days & (1u << yesterday)) != 0 && m < w->end);
}

/* ---- RFC 3339 ---------------------------------------------------------- */

int
policy_time_parse(const char *s, int64_t *out)
{
	int y1, y2, mo, d, h, mi, sec = 0, oh, om, sign;
	int64_t days;
	const char *p;

	*out = 0;
	if (s == NULL || strlen(s) < 17)
		return VDI_ERR_INVALID_ARG;
	if (two_digits(s, &y1) != 0 || two_digits(s + 2, &y2) != 0 ||
	    s[4] != '-' || two_digits(s + 5, &mo) != 0 || s[7] != '-' ||
	    two_digits(s + 8, &d) != 0 ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    two_digits(s + 11, &h) != 0 || s[13] != ':' ||
	    two_digits(s + 14, &mi) != 0)
		return VDI_ERR_INVALID_ARG;
	p = s + 16;
	if (*p == ':') {
		if (two_digits(p + 1, &sec) != 0)
			return VDI_ERR_INVALID_ARG;
		p += 3;
	}
	if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || sec > 60)
		return VDI_ERR_INVALID_ARG;
	{
		static const int md[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30,
			31, 30, 31 };
		int y = y1 * 100 + y2;
		int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

		if (d > md[mo - 1] || (mo == 2 && d == 29 && !leap))
			return VDI_ERR_INVALID_ARG;
	}
	if (sec == 60)
		sec = 59; /* a leap second: close enough for policy */
	if (*p == 'Z' || *p == 'z') {
		oh = om = 0;
		sign = 1;
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p == '-' ? -1 : 1;
		p++;
		if (two_digits(p, &oh) != 0)
			return VDI_ERR_INVALID_ARG;
		p += 2;
		if (*p == ':')
			p++;
		if (two_digits(p, &om) != 0)
			return VDI_ERR_INVALID_ARG;
		p += 2;
		if (oh > 23 || om > 59)
			return VDI_ERR_INVALID_ARG;
	} else
		return VDI_ERR_INVALID_ARG;
	if (*p != '\0')
		return VDI_ERR_INVALID_ARG;
	days = policy_days_from_civil(y1 * 100 + y2, mo, d);
	*out = days * 86400 + h * 3600 + mi * 60 + sec -
	    sign * (oh * 3600 + om * 60);
	return 0;
}
