/*
 * Unit tests for policies/tzfile.c and policies/timewin.c: our TZif reader
 * against glibc's localtime_r() (differential), time windows across
 * midnight and across DST changes in both directions (America/New_York,
 * Europe/Berlin) and in Asia/Tokyo, and RFC 3339 parsing.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "policy_int.h"

static const char *zonedir = "/usr/share/zoneinfo";

static const struct policy_tz *
zone(struct policy_arena *a, const char *name)
{
	struct policy_tz *tz = NULL;

	assert_int_equal(policy_tz_load(zonedir, name, a, &tz), 0);
	assert_non_null(tz);
	return tz;
}

static int64_t
at(const char *s)
{
	int64_t t;

	assert_int_equal(policy_time_parse(s, &t), 0);
	return t;
}

/* ---- differential: tzfile.c vs glibc ----------------------------------- */

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t
next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void
compare_at(const struct policy_tz *tz, const char *name, int64_t t)
{
	struct policy_civil c;
	struct tm tm;
	time_t tt = (time_t)t;

	policy_tz_localtime(tz, t, &c);
	assert_non_null(localtime_r(&tt, &tm));
	if (c.utoff != tm.tm_gmtoff || c.isdst != (tm.tm_isdst > 0) ||
	    c.year != tm.tm_year + 1900 || c.month != tm.tm_mon + 1 ||
	    c.day != tm.tm_mday || c.hour != tm.tm_hour || c.min != tm.tm_min ||
	    c.sec != tm.tm_sec || c.wday != tm.tm_wday) {
		fprintf(stderr,
		    "%s at %lld: ours %lld-%02d-%02d %02d:%02d:%02d "
		    "off %d dst %d wday %d; glibc %d-%02d-%02d "
		    "%02d:%02d:%02d off %ld dst %d wday %d\n",
		    name, (long long)t, (long long)c.year, c.month, c.day,
		    c.hour, c.min, c.sec, (int)c.utoff, c.isdst, c.wday,
		    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		    tm.tm_min, tm.tm_sec, tm.tm_gmtoff, tm.tm_isdst,
		    tm.tm_wday);
		fail();
	}
}

static void
policy_tz_localtime__when_compared_with_glibc__same_wall_clock(void **state)
{
	/* Zones with and without DST, northern and southern, half-hour and
	 * 45-minute offsets, negative DST (Dublin), 30-minute DST
	 * (Lord_Howe). This test alone sets TZ: it is single-threaded. */
	static const char *const zones[] = { "Asia/Tokyo", "America/New_York",
		"Europe/Berlin", "Europe/London", "Europe/Dublin",
		"Australia/Sydney", "Australia/Lord_Howe", "Pacific/Chatham",
		"America/St_Johns", "Asia/Kolkata", "America/Sao_Paulo",
		"America/Santiago", "Pacific/Auckland", "UTC", "Asia/Tehran",
		"America/Los_Angeles", "Asia/Kathmandu", NULL };
	struct policy_arena *a = policy_arena_new();
	const struct policy_tz *tz;
	char env[128];
	size_t i, k;
	int64_t t;
	/* 1950 .. 2100: the past from the tables, the future from the TZ
	 * string footer (glibc follows the same rules). */
	const int64_t lo = -631152000LL, hi = 4102444800LL;

	assert_non_null(a);
	for (i = 0; zones[i] != NULL; i++) {
		tz = zone(a, zones[i]);
		snprintf(env, sizeof(env), ":%s/%s", zonedir, zones[i]);
		assert_int_equal(setenv("TZ", env, 1), 0);
		tzset();
		for (k = 0; k < 20000; k++) {
			t = lo + (int64_t)(next_rand() % (uint64_t)(hi - lo));
			compare_at(tz, zones[i], t);
		}
		/* Both sides of every transition. */
		for (k = 0; k < tz->ntrans; k++) {
			if (tz->trans[k] < lo || tz->trans[k] > hi)
				continue;
			compare_at(tz, zones[i], tz->trans[k] - 1);
			compare_at(tz, zones[i], tz->trans[k]);
		}
		/* Beyond the tables (fat files stop at 2037): every hour of a
		 * year in the 2050s, through both DST changes. */
		for (t = 2524608000LL + 86400LL * 365 * 30;
		     t < 2524608000LL + 86400LL * 366 * 31; t += 3600)
			compare_at(tz, zones[i], t);
	}
	unsetenv("TZ");
	tzset();
	policy_arena_free(a);
}

static void
policy_tz_load__when_name_bad_or_not_a_zone__error(void **state)
{
	struct policy_arena *a = policy_arena_new();
	struct policy_tz *tz;

	assert_int_equal(
	    policy_tz_load(zonedir, "Asia/Tokio", a, &tz), VDI_ERR_NOT_FOUND);
	assert_null(tz);
	assert_int_equal(policy_tz_load(zonedir, "../etc/passwd", a, &tz),
	    VDI_ERR_NOT_FOUND);
	assert_int_equal(policy_tz_load(zonedir, "/etc/localtime", a, &tz),
	    VDI_ERR_NOT_FOUND);
	assert_int_equal(
	    policy_tz_load(zonedir, "localtime", a, &tz), VDI_ERR_NOT_FOUND);
	assert_int_equal(
	    policy_tz_load(zonedir, "Asia", a, &tz), VDI_ERR_NOT_FOUND);
	/* A text file of the database is not a zone. */
	assert_int_equal(
	    policy_tz_load(zonedir, "zone.tab", a, &tz), VDI_ERR_BAD_FORMAT);
	assert_int_equal(policy_tz_load(zonedir, "Asia/Tokyo", a, &tz), 0);
	policy_arena_free(a);
}

static void
policy_tz_parse__when_truncated_anywhere__error_never_crash(void **state)
{
	struct policy_arena *a = policy_arena_new();
	struct policy_tz tz;
	unsigned char buf[8192];
	FILE *f;
	size_t n, cut;

	f = fopen("/usr/share/zoneinfo/Europe/Berlin", "rb");
	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	assert_int_equal(policy_tz_parse(buf, n, a, &tz), 0);
	for (cut = 0; cut < n - 1; cut++)
		assert_int_not_equal(policy_tz_parse(buf, cut, a, &tz), 0);
	policy_arena_free(a);
}

/* ---- windows ----------------------------------------------------------- */

static struct policy_timewin
window(const struct policy_tz *tz, const char *days, const char *hours)
{
	struct policy_timewin w;
	char buf[128], *tok, *save = NULL;
	const char *why;
	uint8_t m;

	memset(&w, 0, sizeof(w));
	w.tz = tz;
	snprintf(buf, sizeof(buf), "%s", days);
	for (tok = strtok_r(buf, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		assert_int_equal(policy_timewin_parse_day(tok, &m), 0);
		w.days |= m;
	}
	assert_int_equal(
	    policy_timewin_parse_hours(hours, &w.start, &w.end, &why), 0);
	return w;
}

/* Minutes in [from, to) that the window holds. */
static int
minutes_in(const struct policy_timewin *w, int64_t from, int64_t to)
{
	int n = 0;

	for (; from < to; from += 60)
		n += policy_timewin_match(w, from);
	return n;
}

static void
policy_timewin_match__when_asia_tokyo_office_hours__weekdays_only(void **state)
{
	struct policy_arena *a = policy_arena_new();
	struct policy_timewin w =
	    window(zone(a, "Asia/Tokyo"), "weekdays", "08:30-17:15");

	/* 2026-11-20 is a Friday, 2026-11-21 a Saturday. */
	assert_false(policy_timewin_match(&w, at("2026-11-20T08:29:59+09:00")));
	assert_true(policy_timewin_match(&w, at("2026-11-20T08:30:00+09:00")));
	assert_true(policy_timewin_match(&w, at("2026-11-20T17:14:59+09:00")));
	assert_false(policy_timewin_match(&w, at("2026-11-20T17:15:00+09:00")));
	assert_false(policy_timewin_match(&w, at("2026-11-21T09:00+09:00")));
	/* The same instant written in UTC. */
	assert_true(policy_timewin_match(&w, at("2026-11-20T00:00:00Z")));
	assert_false(policy_timewin_match(&w, at("2026-11-19T23:29:00Z")));
	/* A whole week holds 5 x 8h45m. */
	assert_int_equal(minutes_in(&w, at("2026-11-16T00:00+09:00"),
			     at("2026-11-23T00:00+09:00")),
	    5 * (8 * 60 + 45));
	policy_arena_free(a);
}

static void
policy_timewin_match__when_window_crosses_midnight__belongs_to_start_day(
    void **state)
{
	struct policy_arena *a = policy_arena_new();
	struct policy_timewin w =
	    window(zone(a, "Asia/Tokyo"), "fri", "22:00-06:00");
	struct policy_timewin all =
	    window(zone(a, "Asia/Tokyo"), "daily", "00:00-24:00");

	assert_int_equal(w.end, 360);
	assert_false(policy_timewin_match(&w, at("2026-11-20T05:00+09:00")));
	assert_false(policy_timewin_match(&w, at("2026-11-20T21:59+09:00")));
	assert_true(policy_timewin_match(&w, at("2026-11-20T22:00+09:00")));
	assert_true(policy_timewin_match(&w, at("2026-11-20T23:59:59+09:00")));
	assert_true(policy_timewin_match(&w, at("2026-11-21T00:00+09:00")));
	assert_true(policy_timewin_match(&w, at("2026-11-21T05:59:59+09:00")));
	assert_false(policy_timewin_match(&w, at("2026-11-21T06:00+09:00")));
	assert_false(policy_timewin_match(&w, at("2026-11-21T22:30+09:00")));
	assert_false(policy_timewin_match(&w, at("2026-11-22T03:00+09:00")));
	/* Saturday, the week before: the early morning after a Friday. */
	assert_true(policy_timewin_match(&w, at("2026-11-14T03:00+09:00")));
	assert_int_equal(minutes_in(&w, at("2026-11-16T00:00+09:00"),
			     at("2026-11-23T00:00+09:00")),
	    8 * 60);
	assert_int_equal(minutes_in(&all, at("2026-11-16T00:00+09:00"),
			     at("2026-11-17T00:00+09:00")),
	    24 * 60);
	policy_arena_free(a);
}

static void
policy_timewin_match__when_new_york_springs_forward__skipped_hour_missing(
    void **state)
{
	struct policy_arena *a = policy_arena_new();
	const struct policy_tz *ny = zone(a, "America/New_York");
	struct policy_timewin w = window(ny, "sun", "01:30-03:30");
	struct policy_timewin gap = window(ny, "sun", "02:00-02:30");
	struct policy_timewin night = window(ny, "sat", "22:00-06:00");

	/* 2026-03-08 02:00 EST (07:00Z) becomes 03:00 EDT. */
	assert_false(policy_timewin_match(&w, at("2026-03-08T06:29:59Z")));
	assert_true(policy_timewin_match(&w, at("2026-03-08T06:30:00Z")));
	assert_true(policy_timewin_match(&w, at("2026-03-08T06:59:59Z")));
	assert_true(policy_timewin_match(&w, at("2026-03-08T07:00:00Z")));
	assert_true(policy_timewin_match(&w, at("2026-03-08T03:29:00-04:00")));
	assert_false(policy_timewin_match(&w, at("2026-03-08T03:30:00-04:00")));
	/* On the wall clock 01:30-03:30 that night lasts one hour. */
	assert_int_equal(minutes_in(&w, at("2026-03-08T00:00-05:00"),
			     at("2026-03-08T12:00-04:00")),
	    60);
	/* 02:00-02:30 does not happen that night, and does a week later. */
	assert_int_equal(minutes_in(&gap, at("2026-03-08T00:00-05:00"),
			     at("2026-03-08T12:00-04:00")),
	    0);
	assert_int_equal(minutes_in(&gap, at("2026-03-15T00:00-04:00"),
			     at("2026-03-15T12:00-04:00")),
	    30);
	/* A night shift Sat 22:00 - Sun 06:00 is an hour short. */
	assert_int_equal(minutes_in(&night, at("2026-03-07T12:00-05:00"),
			     at("2026-03-08T12:00-04:00")),
	    7 * 60);
	policy_arena_free(a);
}

static void
policy_timewin_match__when_new_york_falls_back__repeated_hour_twice(
    void **state)
{
	struct policy_arena *a = policy_arena_new();
	const struct policy_tz *ny = zone(a, "America/New_York");
	struct policy_timewin w = window(ny, "sun", "01:30-03:30");
	struct policy_timewin night = window(ny, "sat", "22:00-06:00");

	/* 2026-11-01 02:00 EDT (06:00Z) becomes 01:00 EST. */
	assert_true(policy_timewin_match(&w, at("2026-11-01T01:30-04:00")));
	assert_true(policy_timewin_match(&w, at("2026-11-01T01:59-04:00")));
	assert_true(
	    policy_timewin_match(&w, at("2026-11-01T01:00-05:00")) == 0);
	assert_true(policy_timewin_match(&w, at("2026-11-01T01:30-05:00")));
	assert_true(policy_timewin_match(&w, at("2026-11-01T03:29-05:00")));
	assert_false(policy_timewin_match(&w, at("2026-11-01T03:30-05:00")));
	/* 01:30-01:59 twice, then 02:00-03:29: two and a half hours. */
	assert_int_equal(minutes_in(&w, at("2026-11-01T00:00-04:00"),
			     at("2026-11-01T12:00-05:00")),
	    150);
	assert_int_equal(minutes_in(&night, at("2026-10-31T12:00-04:00"),
			     at("2026-11-01T12:00-05:00")),
	    9 * 60);
	policy_arena_free(a);
}

static void
policy_timewin_match__when_berlin_dst_changes__wall_clock_counts(void **state)
{
	struct policy_arena *a = policy_arena_new();
	const struct policy_tz *be = zone(a, "Europe/Berlin");
	struct policy_timewin night = window(be, "sat", "22:00-06:00");
	struct policy_timewin w = window(be, "sun", "01:30-03:30");

	/* 2026-03-29 02:00 CET -> 03:00 CEST; 2026-10-25 03:00 CEST ->
	 * 02:00 CET. */
	assert_true(policy_timewin_match(&night, at("2026-03-29T00:59:59Z")));
	assert_true(policy_timewin_match(&night, at("2026-03-29T01:00:00Z")));
	assert_true(policy_timewin_match(&night, at("2026-03-29T03:59:00Z")));
	assert_false(policy_timewin_match(&night, at("2026-03-29T04:00:00Z")));
	assert_int_equal(minutes_in(&night, at("2026-03-28T12:00Z"),
			     at("2026-03-29T12:00Z")),
	    7 * 60);
	assert_int_equal(minutes_in(&night, at("2026-10-24T12:00Z"),
			     at("2026-10-25T12:00Z")),
	    9 * 60);
	assert_int_equal(
	    minutes_in(&w, at("2026-03-29T00:00Z"), at("2026-03-29T12:00Z")),
	    60);
	/* 01:30-01:59 CEST, 02:00-02:59 CEST and again CET, 03:00-03:29. */
	assert_int_equal(
	    minutes_in(&w, at("2026-10-24T12:00Z"), at("2026-10-25T12:00Z")),
	    180);
	policy_arena_free(a);
}

static void
policy_timewin_parse_hours__when_malformed__error(void **state)
{
	static const char *const bad[] = { "", "8:30-17:15", "08:30-17:15 ",
		"08:30 17:15", "24:00-06:00", "25:00-06:00", "08:60-09:00",
		"08:30-24:01", "08:30-08:30", "00:00-00:00", "08:30-", "-08:30",
		"0a:30-17:15", "08:30-17:15-18:00", NULL };
	uint16_t s, e;
	const char *why;
	size_t i;

	for (i = 0; bad[i] != NULL; i++) {
		if (policy_timewin_parse_hours(bad[i], &s, &e, &why) == 0)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_non_null(why);
	}
	assert_int_equal(
	    policy_timewin_parse_hours("00:00-24:00", &s, &e, &why), 0);
	assert_int_equal(s, 0);
	assert_int_equal(e, 1440);
	/* "22:00-00:00" is the rest of the day, not a crossing. */
	assert_int_equal(
	    policy_timewin_parse_hours("22:00-00:00", &s, &e, &why), 0);
	assert_int_equal(e, 1440);
}

static void
policy_time_parse__when_offsets_vary__same_instant(void **state)
{
	int64_t t;

	assert_int_equal(policy_time_parse("2026-11-21T09:00+09:00", &t), 0);
	assert_int_equal(t, 1795219200LL);
	assert_int_equal(policy_time_parse("2026-11-21T00:00:00Z", &t), 0);
	assert_int_equal(t, 1795219200LL);
	assert_int_equal(policy_time_parse("2026-11-20T19:00-0500", &t), 0);
	assert_int_equal(t, 1795219200LL);
	assert_int_equal(policy_time_parse("1970-01-01T00:00Z", &t), 0);
	assert_int_equal(t, 0);
	assert_int_equal(policy_time_parse("2024-02-29T12:00Z", &t), 0);
}

static void
policy_time_parse__when_no_offset_or_bad__refused(void **state)
{
	static const char *const bad[] = { "2026-11-21T09:00", "2026-11-21",
		"2026-11-21T09:00+9", "2026-13-01T00:00Z", "2026-02-29T00:00Z",
		"2026-11-31T00:00Z", "2026-11-21T24:00Z", "2026-11-21T09:00Zx",
		"2026-11-21T09:00+24:00", "x026-11-21T09:00Z", "", NULL };
	int64_t t;
	size_t i;

	for (i = 0; bad[i] != NULL; i++)
		if (policy_time_parse(bad[i], &t) == 0)
			fail_msg("accepted \"%s\"", bad[i]);
	assert_int_not_equal(policy_time_parse(NULL, &t), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    policy_tz_localtime__when_compared_with_glibc__same_wall_clock),
		cmocka_unit_test(
		    policy_tz_load__when_name_bad_or_not_a_zone__error),
		cmocka_unit_test(
		    policy_tz_parse__when_truncated_anywhere__error_never_crash),
		cmocka_unit_test(
		    policy_timewin_match__when_asia_tokyo_office_hours__weekdays_only),
		cmocka_unit_test(
		    policy_timewin_match__when_window_crosses_midnight__belongs_to_start_day),
		cmocka_unit_test(
		    policy_timewin_match__when_new_york_springs_forward__skipped_hour_missing),
		cmocka_unit_test(
		    policy_timewin_match__when_new_york_falls_back__repeated_hour_twice),
		cmocka_unit_test(
		    policy_timewin_match__when_berlin_dst_changes__wall_clock_counts),
		cmocka_unit_test(
		    policy_timewin_parse_hours__when_malformed__error),
		cmocka_unit_test(
		    policy_time_parse__when_offsets_vary__same_instant),
		cmocka_unit_test(
		    policy_time_parse__when_no_offset_or_bad__refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
