/*
 * Unit tests for common/cfgfile.c: the one duration parser (its limits and
 * errors, tested here once for every reader) and the checked getters'
 * file:line: key: problem lines.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cfgfile.h"

static uint64_t
dur(const char *s)
{
	uint64_t v = 7;

	assert_int_equal(cfg_parse_duration(s, &v), 0);
	return v;
}

static void
bad_dur(const char *s)
{
	uint64_t v = 7;

	assert_int_equal(cfg_parse_duration(s, &v), VDI_ERR_INVALID_ARG);
	assert_int_equal(v, 0);
}

static void
parse_duration__when_units__sums_seconds(void **state)
{
	(void)state;
	assert_int_equal(dur("0s"), 0);
	assert_int_equal(dur("90s"), 90);
	assert_int_equal(dur("15m"), 900);
	assert_int_equal(dur("8h"), 28800);
	assert_int_equal(dur("1h30m"), 5400);
	assert_int_equal(dur("2d"), 172800);
	assert_int_equal(dur("1d1h1m1s"), 90061);
	assert_int_equal(dur("30s30s"), 60);
}

static void
parse_duration__when_malformed__invalid_arg(void **state)
{
	(void)state;
	bad_dur(NULL);
	bad_dur("");
	bad_dur("15");   /* no unit */
	bad_dur("1h30"); /* last number without unit */
	bad_dur("m");    /* no number */
	bad_dur("15x");  /* unknown unit */
	bad_dur("5S");   /* units are lower case */
	bad_dur("-5s");  /* no sign */
	bad_dur(" 5s");  /* no spaces */
	bad_dur("5 s");
	bad_dur("1.5h"); /* whole numbers only */
	bad_dur("5s\n");
}

static void
parse_duration__when_at_limits__ten_years_and_nine_digits(void **state)
{
	char max[32];

	(void)state;
	snprintf(
	    max, sizeof(max), "%llus", (unsigned long long)CFG_DURATION_MAX);
	assert_int_equal(dur(max), CFG_DURATION_MAX);
	assert_int_equal(dur("3660d"), CFG_DURATION_MAX);
	bad_dur("3660d1s"); /* one second past ten years */
	bad_dur("316224001s");
	assert_int_equal(dur("000000090s"), 90); /* nine digits */
	bad_dur("0000000090s");                  /* ten digits */
	bad_dur("99999999999999999999999s");     /* no overflow */
	bad_dur("3000d3000d");                   /* the sum counts */
}

/* ---- the getters, through a file ---------------------------------------- */

static char path[64];

static void
write_conf(const char *text)
{
	FILE *f;

	snprintf(
	    path, sizeof(path), "/tmp/test_cfgfile.%ld.conf", (long)getpid());
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
}

/* Reads key (in group "g") from text with lo..hi; returns the getter's
 * result and the problem text (static). */
static int
get_dur(const char *text, unsigned int lo, unsigned int hi, unsigned int *out,
    const char **errors)
{
	static char saved[4096];
	struct cfg c;
	const config_setting_t *g;
	int r;

	write_conf(text);
	assert_int_equal(cfg_open(&c, path), 0);
	g = cfg_group(&c, NULL, "g", 1);
	assert_non_null(g);
	r = cfg_get_duration(&c, g, "d", 1, lo, hi, out);
	snprintf(saved, sizeof(saved), "%s", cfg_errors(&c));
	*errors = saved;
	cfg_free(&c);
	unlink(path);
	return r;
}

static void
assert_line(const char *errors, unsigned int line, const char *problem)
{
	char want[512];

	snprintf(want, sizeof(want), "%s:%u: g.d: %s\n", path, line, problem);
	assert_string_equal(errors, want);
}

static void
get_duration__when_good__value(void **state)
{
	const char *e;
	unsigned int v = 0;

	(void)state;
	assert_int_equal(
	    get_dur("g = { d = \"1h30m\"; };\n", 0, 86400, &v, &e), 1);
	assert_int_equal(v, 5400);
	assert_string_equal(e, "");
	assert_int_equal(get_dur("g = { d = 90; };\n", 0, 86400, &v, &e), 1);
	assert_int_equal(v, 90);
}

static void
get_duration__when_bad__file_line_key_problem(void **state)
{
	const char *e;
	unsigned int v = 0;

	(void)state;
	assert_int_equal(
	    get_dur("g = {\n  d = \"15x\";\n};\n", 0, 86400, &v, &e), -1);
	assert_line(e, 2,
	    "bad duration \"15x\" (expected seconds, or a string such as "
	    "\"90s\", \"15m\", \"8h\", \"1h30m\", \"2d\")");
	assert_int_equal(
	    get_dur("g = {\n  d = true;\n};\n", 0, 86400, &v, &e), -1);
	assert_line(e, 2,
	    "wrong type: boolean (expected a duration: seconds, or a string "
	    "such as \"15m\")");
	assert_int_equal(
	    get_dur("g = {\n\n  d = \"2d\";\n};\n", 5, 86400, &v, &e), -1);
	assert_line(
	    e, 3, "172800 seconds is out of range (expected 5..86400 seconds)");
	assert_int_equal(get_dur("g = {\n  d = -1;\n};\n", 0, 60, &v, &e), -1);
	assert_line(
	    e, 2, "-1 seconds is out of range (expected 0..60 seconds)");
	/* a quoted control character does not break the line */
	assert_int_equal(
	    get_dur("g = {\n  d = \"1\\n\";\n};\n", 0, 60, &v, &e), -1);
	assert_line(e, 2,
	    "bad duration \"1?\" (expected seconds, or a string such as "
	    "\"90s\", \"15m\", \"8h\", \"1h30m\", \"2d\")");
}

static void
get_duration__when_missing__required_reported(void **state)
{
	const char *e;
	unsigned int v = 42;

	(void)state;
	assert_int_equal(get_dur("g = { x = 1; };\n", 0, 60, &v, &e), 0);
	assert_int_equal(v, 42);
	assert_non_null(strstr(e, ": g.d: missing (expected seconds"));
}

static void
get_strbuf__when_too_long__reported_buffer_unchanged(void **state)
{
	struct cfg c;
	char buf[6] = "dflt";
	char want[512];

	(void)state;
	write_conf("g = {\n  a = \"vdi-1\";\n  b = \"vdi-12\";\n};\n");
	assert_int_equal(cfg_open(&c, path), 0);
	assert_int_equal(cfg_get_strbuf(&c, cfg_group(&c, NULL, "g", 1), "a", 1,
			     buf, sizeof(buf)),
	    1);
	assert_string_equal(buf, "vdi-1");
	assert_string_equal(cfg_errors(&c), "");
	assert_int_equal(cfg_get_strbuf(&c, cfg_group(&c, NULL, "g", 1), "b", 1,
			     buf, sizeof(buf)),
	    -1);
	assert_string_equal(buf, "vdi-1");
	snprintf(want, sizeof(want),
	    "%s:3: g.b: too long (at most 5 characters)\n", path);
	assert_string_equal(cfg_errors(&c), want);
	assert_int_equal(cfg_get_strbuf(&c, NULL, "c", 0, buf, sizeof(buf)), 0);
	cfg_free(&c);
	unlink(path);
}

static void
get_pem_pair__reads_paths__reports_missing_and_unknown(void **state)
{
	struct cfg c;
	char cert[64] = "", key[64] = "";

	(void)state;
	write_conf("tls = { cert = \"/etc/a.pem\"; key = \"a.key\"; };\n"
		   "bad = {\n  cert = \"/b.pem\";\n  extra = 1;\n};\n");
	assert_int_equal(cfg_open(&c, path), 0);
	assert_non_null(cfg_get_pem_pair(
	    &c, NULL, "tls", 1, cert, sizeof(cert), key, sizeof(key)));
	assert_string_equal(cert, "/etc/a.pem");
	assert_string_equal(key, "/tmp/a.key"); /* relative to the file */
	assert_string_equal(cfg_errors(&c), "");
	assert_non_null(cfg_get_pem_pair(
	    &c, NULL, "bad", 1, cert, sizeof(cert), key, sizeof(key)));
	assert_non_null(strstr(cfg_errors(&c), ":4: bad.extra: "));
	assert_non_null(strstr(cfg_errors(&c), ": bad.key: missing"));
	assert_null(cfg_get_pem_pair(
	    &c, NULL, "nosuch", 0, cert, sizeof(cert), key, sizeof(key)));
	cfg_free(&c);
	unlink(path);
}

static void
errlist__when_over_cap__counts_and_truncates(void **state)
{
	struct cfg_errlist el;
	unsigned int i, lines = 0;
	const char *p;

	(void)state;
	memset(&el, 0, sizeof(el));
	for (i = 0; i < CFG_MAX_ERRORS + 5; i++)
		cfg_errlist_add(&el, "f.conf", i + 1, "k", "problem %u", i);
	assert_int_equal(el.count, CFG_MAX_ERRORS + 5);
	assert_int_equal(el.truncated, 1);
	for (p = el.text; (p = strchr(p, '\n')) != NULL; p++)
		lines++;
	assert_int_equal(lines, CFG_MAX_ERRORS);
	assert_true(strncmp(el.text, "f.conf:1: k: problem 0\n", 23) == 0);
	cfg_errlist_free(&el);
	assert_null(el.text);
	cfg_errlist_add(&el, "f.conf", 0, NULL, "no line");
	assert_string_equal(el.text, "f.conf: no line\n");
	cfg_errlist_free(&el);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_duration__when_units__sums_seconds),
		cmocka_unit_test(parse_duration__when_malformed__invalid_arg),
		cmocka_unit_test(
		    parse_duration__when_at_limits__ten_years_and_nine_digits),
		cmocka_unit_test(get_duration__when_good__value),
		cmocka_unit_test(get_duration__when_bad__file_line_key_problem),
		cmocka_unit_test(get_duration__when_missing__required_reported),
		cmocka_unit_test(errlist__when_over_cap__counts_and_truncates),
		cmocka_unit_test(
		    get_strbuf__when_too_long__reported_buffer_unchanged),
		cmocka_unit_test(
		    get_pem_pair__reads_paths__reports_missing_and_unknown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
