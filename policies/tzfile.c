/*
 * tzfile.c: time zones read from the tz database, for time windows.
 *
 * Why not setenv("TZ") + tzset() + localtime_r()? TZ is process-global: a
 * mutex of our own would not stop another thread (libevent, OpenSSL, a
 * logger) from calling localtime() or getenv() while TZ is switched, and
 * the evaluator must be a pure function callable from any thread. So each
 * zone a policy names is read once, at load time, from its TZif file
 * (RFC 8536) into the policy object, and local time is computed here:
 *
 *   - before the first transition: time type 0 (RFC 8536 3.2);
 *   - up to the last transition: the type of the latest transition <= t;
 *   - after it: the POSIX TZ string in the footer (versions 2+), e.g.
 *     "EST5EDT,M3.2.0,M11.1.0" or "JST-9", including the RFC 8536
 *     extensions (hours -167..167 in rule times, all-year DST).
 *
 * Leap-second ("right/") zones are read as if they had none. Dates are
 * proleptic Gregorian with 64-bit years.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy_int.h"

#define TZ_FILE_MAX  (1024 * 1024)
#define TZ_MAX_TIMES 100000u
#define TZ_MAX_TYPES 256u
#define TZ_NAME_MAX  128

/* ---- calendar ---------------------------------------------------------- */

/* Howard Hinnant's algorithms (public domain), proleptic Gregorian. */
int64_t
policy_days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void
policy_civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int
is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
month_days(int64_t y, int m)
{
	static const int md[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30,
		31 };

	return m == 2 && is_leap(y) ? 29 : md[m - 1];
}

/* Floor division for possibly negative t. */
static int64_t
floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

/* ---- names and files --------------------------------------------------- */

int
policy_tz_name_ok(const char *name)
{
	const char *p;
	size_t len, comp = 0;

	if (name == NULL || (len = strlen(name)) == 0 || len > TZ_NAME_MAX)
		return 0;
	if (name[0] == '/' || name[len - 1] == '/')
		return 0;
	/* Not zones: the system's default, and zic's template. */
	if (strcmp(name, "localtime") == 0 || strcmp(name, "posixrules") == 0 ||
	    strcmp(name, "Factory") == 0)
		return 0;
	for (p = name; *p != '\0'; p++) {
		if (*p == '/') {
			if (comp == 0)
				return 0;
			comp = 0;
			continue;
		}
		/* No component may start with '.' (no "..", no hidden files).
		 */
		if (comp == 0 && (*p == '.' || *p == '-'))
			return 0;
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
			(*p >= '0' && *p <= '9') || *p == '_' || *p == '-' ||
			*p == '+' || *p == '.'))
			return 0;
		comp++;
	}
	return 1;
}

int
policy_tz_load(const char *dir, const char *name, struct policy_arena *a,
    struct policy_tz **out)
{
	char path[4096];
	struct stat st;
	unsigned char *buf = NULL;
	struct policy_tz *tz;
	size_t got = 0;
	ssize_t n;
	int fd = -1, r;

	*out = NULL;
	if (!policy_tz_name_ok(name))
		return VDI_ERR_NOT_FOUND;
	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    (int)sizeof(path))
		return VDI_ERR_NOT_FOUND;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1)
		return errno == ENOENT || errno == ENOTDIR ? VDI_ERR_NOT_FOUND
							   : VDI_ERR_IO;
	if (fstat(fd, &st) != 0) {
		r = VDI_ERR_IO;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = S_ISDIR(st.st_mode) ? VDI_ERR_NOT_FOUND
					: VDI_ERR_BAD_FORMAT;
		goto out;
	}
	if (st.st_size > TZ_FILE_MAX || st.st_size < 44) {
		r = VDI_ERR_BAD_FORMAT;
		goto out;
	}
	if ((buf = malloc((size_t)st.st_size)) == NULL) {
		r = VDI_ERR_ALLOC;
		goto out;
	}
	while (got < (size_t)st.st_size) {
		n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = VDI_ERR_IO;
			goto out;
		}
		got += (size_t)n;
	}
	if ((tz = policy_arena_alloc(a, sizeof(*tz))) == NULL) {
		r = VDI_ERR_ALLOC;
		goto out;
	}
	if ((r = policy_tz_parse(buf, got, a, tz)) != 0)
		goto out;
	if ((tz->name = policy_arena_strdup(a, name)) == NULL) {
		r = VDI_ERR_ALLOC;
		goto out;
	}
	*out = tz;
	r = 0;
out:
	free(buf);
	if (fd != -1)
		close(fd);
	return r;
}

/* ---- TZif -------------------------------------------------------------- */

static uint32_t
be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static int64_t
be64(const unsigned char *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

struct tzhead {
	uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
};

static int
read_head(const unsigned char *d, size_t n, size_t off, struct tzhead *h)
{
	if (n < off || n - off < 44 || memcmp(d + off, "TZif", 4) != 0)
		return VDI_ERR_BAD_FORMAT;
	h->isutcnt = be32(d + off + 20);
	h->isstdcnt = be32(d + off + 24);
	h->leapcnt = be32(d + off + 28);
	h->timecnt = be32(d + off + 32);
	h->typecnt = be32(d + off + 36);
	h->charcnt = be32(d + off + 40);
	if (h->timecnt > TZ_MAX_TIMES || h->typecnt == 0 ||
	    h->typecnt > TZ_MAX_TYPES || h->leapcnt > TZ_MAX_TIMES ||
	    h->charcnt > 65536 ||
	    (h->isutcnt != 0 && h->isutcnt != h->typecnt) ||
	    (h->isstdcnt != 0 && h->isstdcnt != h->typecnt))
		return VDI_ERR_BAD_FORMAT;
	return 0;
}

/* Size of a data block with time values of tsize bytes. */
static uint64_t
block_size(const struct tzhead *h, unsigned int tsize)
{
	return (uint64_t)h->timecnt * tsize + h->timecnt +
	    (uint64_t)h->typecnt * 6 + h->charcnt +
	    (uint64_t)h->leapcnt * (tsize + 4) + h->isstdcnt + h->isutcnt;
}

/* POSIX TZ string parsing: cursor over s. */

static int
tzs_name(const char **sp)
{
	const char *s = *sp, *b;

	if (*s == '<') {
		for (b = ++s; *s != '>'; s++)
			if (!((*s >= 'A' && *s <= 'Z') ||
				(*s >= 'a' && *s <= 'z') ||
				(*s >= '0' && *s <= '9') || *s == '+' ||
				*s == '-'))
				return -1;
		if (s - b < 3)
			return -1;
		*sp = s + 1;
		return 0;
	}
	for (b = s; (*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z'); s++)
		;
	if (s - b < 3)
		return -1;
	*sp = s;
	return 0;
}

/* [+-]hh[:mm[:ss]] with hh <= maxh; returns seconds. */
static int
tzs_hms(const char **sp, int maxh, int32_t *out)
{
	const char *s = *sp;
	int neg = 0, h = 0, m = 0, sec = 0, nd;

	if (*s == '+' || *s == '-')
		neg = *s++ == '-';
	for (nd = 0; *s >= '0' && *s <= '9' && nd < 3; s++, nd++)
		h = h * 10 + (*s - '0');
	if (nd == 0 || h > maxh)
		return -1;
	if (*s == ':') {
		s++;
		if (!(s[0] >= '0' && s[0] <= '5' && s[1] >= '0' && s[1] <= '9'))
			return -1;
		m = (s[0] - '0') * 10 + (s[1] - '0');
		s += 2;
		if (*s == ':') {
			s++;
			if (!(s[0] >= '0' && s[0] <= '5' && s[1] >= '0' &&
				s[1] <= '9'))
				return -1;
			sec = (s[0] - '0') * 10 + (s[1] - '0');
			s += 2;
		}
	}
	*out = (int32_t)((h * 3600 + m * 60 + sec) * (neg ? -1 : 1));
	*sp = s;
	return 0;
}

static int
tzs_num(const char **sp, int lo, int hi, int *out)
{
	const char *s = *sp;
	int v = 0, nd = 0;

	for (; *s >= '0' && *s <= '9' && nd < 4; s++, nd++)
		v = v * 10 + (*s - '0');
	if (nd == 0 || v < lo || v > hi)
		return -1;
	*out = v;
	*sp = s;
	return 0;
}

static int
tzs_date(const char **sp, struct policy_tz_date *dt)
{
	const char *s = *sp;

	memset(dt, 0, sizeof(*dt));
	if (*s == 'J') {
		s++;
		dt->kind = 'J';
		if (tzs_num(&s, 1, 365, &dt->a) != 0)
			return -1;
	} else if (*s == 'M') {
		s++;
		dt->kind = 'M';
		if (tzs_num(&s, 1, 12, &dt->a) != 0 || *s++ != '.' ||
		    tzs_num(&s, 1, 5, &dt->b) != 0 || *s++ != '.' ||
		    tzs_num(&s, 0, 6, &dt->c) != 0)
			return -1;
	} else {
		dt->kind = 'N';
		if (tzs_num(&s, 0, 365, &dt->a) != 0)
			return -1;
	}
	dt->time = 7200;
	if (*s == '/') {
		s++;
		if (tzs_hms(&s, 167, &dt->time) != 0)
			return -1;
	}
	*sp = s;
	return 0;
}

static int
parse_footer(const char *s, struct policy_tz *tz)
{
	int32_t off;

	if (*s == '\0')
		return 0; /* empty: no rule beyond the last transition */
	if (tzs_name(&s) != 0 || tzs_hms(&s, 24, &off) != 0)
		return -1;
	tz->has_footer = 1;
	tz->std_off = -off; /* POSIX offsets are west-positive */
	if (*s == '\0')
		return 0;
	if (tzs_name(&s) != 0)
		return -1;
	tz->has_dst = 1;
	tz->dst_off = tz->std_off + 3600;
	if (*s != ',' && *s != '\0') {
		if (tzs_hms(&s, 24, &off) != 0)
			return -1;
		tz->dst_off = -off;
	}
	if (*s == '\0') {
		/* POSIX leaves the default rule to the implementation; use
		 * the US one as glibc does. */
		tz->has_rule = 1;
		tz->start = (struct policy_tz_date){ 'M', 3, 2, 0, 7200 };
		tz->end = (struct policy_tz_date){ 'M', 11, 1, 0, 7200 };
		return 0;
	}
	if (*s++ != ',' || tzs_date(&s, &tz->start) != 0 || *s++ != ',' ||
	    tzs_date(&s, &tz->end) != 0 || *s != '\0')
		return -1;
	tz->has_rule = 1;
	return 0;
}

int
policy_tz_parse(const unsigned char *d, size_t n, struct policy_arena *a,
    struct policy_tz *tz)
{
	struct tzhead h;
	const unsigned char *p, *types, *ttinfo, *end;
	char footer[256];
	size_t off = 0, i, flen;
	unsigned int tsize = 4;
	uint64_t bs;
	int version;

	memset(tz, 0, sizeof(*tz));
	if (read_head(d, n, 0, &h) != 0)
		return VDI_ERR_BAD_FORMAT;
	version = d[4];
	if (version != 0 && (version < '2' || version > '4'))
		return VDI_ERR_BAD_FORMAT;
	if (version != 0) {
		/* Skip the 32-bit block: the 64-bit one follows. */
		bs = block_size(&h, 4);
		if (bs > n - 44)
			return VDI_ERR_BAD_FORMAT;
		off = 44 + (size_t)bs;
		if (read_head(d, n, off, &h) != 0)
			return VDI_ERR_BAD_FORMAT;
		tsize = 8;
	}
	bs = block_size(&h, tsize);
	if (bs > n - off - 44)
		return VDI_ERR_BAD_FORMAT;
	p = d + off + 44;
	types = p + (size_t)h.timecnt * tsize;
	ttinfo = types + h.timecnt;
	end = p + bs;

	tz->ntrans = h.timecnt;
	tz->ntypes = h.typecnt;
	if ((tz->trans = policy_arena_calloc(a, h.timecnt, sizeof(int64_t))) ==
		NULL ||
	    (tz->trans_type = policy_arena_calloc(a, h.timecnt, 1)) == NULL ||
	    (tz->types = policy_arena_calloc(
		 a, h.typecnt, sizeof(*tz->types))) == NULL)
		return VDI_ERR_ALLOC;
	for (i = 0; i < h.timecnt; i++) {
		tz->trans[i] = tsize == 8 ? be64(p + i * 8)
					  : (int64_t)(int32_t)be32(p + i * 4);
		if (i > 0 && tz->trans[i] <= tz->trans[i - 1])
			return VDI_ERR_BAD_FORMAT;
		if ((tz->trans_type[i] = types[i]) >= h.typecnt)
			return VDI_ERR_BAD_FORMAT;
	}
	for (i = 0; i < h.typecnt; i++) {
		int32_t utoff = (int32_t)be32(ttinfo + i * 6);

		/* RFC 8536: -89999..93599; and isdst is 0 or 1. */
		if (utoff < -89999 || utoff > 93599 || ttinfo[i * 6 + 4] > 1)
			return VDI_ERR_BAD_FORMAT;
		tz->types[i].utoff = utoff;
		tz->types[i].isdst = ttinfo[i * 6 + 4];
	}
	if (version == 0)
		return 0;
	/* Footer: "\n" TZ-string "\n". */
	if (end >= d + n || *end != '\n')
		return VDI_ERR_BAD_FORMAT;
	end++;
	for (flen = 0; end + flen < d + n && end[flen] != '\n'; flen++)
		if (flen + 1 >= sizeof(footer))
			return VDI_ERR_BAD_FORMAT;
	if (end + flen >= d + n)
		return VDI_ERR_BAD_FORMAT;
	memcpy(footer, end, flen);
	footer[flen] = '\0';
	if (memchr(footer, '\0', flen) != NULL || parse_footer(footer, tz) != 0)
		return VDI_ERR_BAD_FORMAT;
	return 0;
}

/* ---- local time -------------------------------------------------------- */

/* Seconds from local midnight of January 1st of year to local midnight of
 * the rule date. */
static int64_t
rule_day_secs(const struct policy_tz_date *dt, int64_t year)
{
	int64_t yday;
	int m, wd1, day;

	switch (dt->kind) {
	case 'J':
		yday = dt->a - 1;
		if (is_leap(year) && dt->a >= 60)
			yday++;
		break;
	case 'N':
		yday = dt->a;
		break;
	default:
		/* Day c of week b (5 = last) of month a. */
		m = dt->a;
		yday = policy_days_from_civil(year, m, 1) -
		    policy_days_from_civil(year, 1, 1);
		/* 1970-01-01 was a Thursday (4). */
		wd1 =
		    (int)(((policy_days_from_civil(year, m, 1) % 7) + 11) % 7);
		day = 1 + (dt->c - wd1 + 7) % 7 + 7 * (dt->b - 1);
		while (day > month_days(year, m))
			day -= 7;
		yday += day - 1;
		break;
	}
	return yday * 86400;
}

/* UTC offset in force at t according to the footer. */
static void
footer_offset(const struct policy_tz *tz, int64_t t, int32_t *utoff, int *isdst)
{
	int64_t ys, s, e, y;
	int m, d;

	*utoff = tz->std_off;
	*isdst = 0;
	if (!tz->has_dst || !tz->has_rule)
		return;
	/* The year, in local standard time. */
	policy_civil_from_days(floor_div(t + tz->std_off, 86400), &y, &m, &d);
	ys = policy_days_from_civil(y, 1, 1) * 86400;
	/* DST starts at a standard-time instant and ends at a DST one. */
	s = ys + rule_day_secs(&tz->start, y) + tz->start.time - tz->std_off;
	e = ys + rule_day_secs(&tz->end, y) + tz->end.time - tz->dst_off;
	if (s < e ? (t >= s && t < e) : !(t >= e && t < s)) {
		*utoff = tz->dst_off;
		*isdst = 1;
	}
}

void
policy_tz_localtime(
    const struct policy_tz *tz, int64_t t, struct policy_civil *out)
{
	size_t lo, hi, mid;
	int64_t local, days, secs;
	const struct policy_tz_type *ty;

	memset(out, 0, sizeof(*out));
	if (tz->ntrans == 0 || t < tz->trans[0]) {
		if (tz->ntrans == 0 && tz->has_footer)
			footer_offset(tz, t, &out->utoff, &out->isdst);
		else {
			out->utoff = tz->types[0].utoff;
			out->isdst = tz->types[0].isdst;
		}
	} else if (t >= tz->trans[tz->ntrans - 1] && tz->has_footer) {
		footer_offset(tz, t, &out->utoff, &out->isdst);
	} else {
		/* Latest transition <= t. */
		lo = 0;
		hi = tz->ntrans;
		while (hi - lo > 1) {
			mid = lo + (hi - lo) / 2;
			if (tz->trans[mid] <= t)
				lo = mid;
			else
				hi = mid;
		}
		ty = &tz->types[tz->trans_type[lo]];
		out->utoff = ty->utoff;
		out->isdst = ty->isdst;
	}
	/* Clamp so that the arithmetic below cannot overflow. */
	if (t > INT64_MAX / 4)
		t = INT64_MAX / 4;
	if (t < INT64_MIN / 4)
		t = INT64_MIN / 4;
	local = t + out->utoff;
	days = floor_div(local, 86400);
	secs = local - days * 86400;
	policy_civil_from_days(days, &out->year, &out->month, &out->day);
	out->hour = (int)(secs / 3600);
	out->min = (int)(secs / 60 % 60);
	out->sec = (int)(secs % 60);
	out->wday = (int)(((days % 7) + 11) % 7);
}
