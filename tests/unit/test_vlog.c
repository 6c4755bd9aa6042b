/* Unit tests for common/vlog.c: line format and value quoting. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "vdierr.h"
#include "vlog.h"

/* Runs fn with stderr redirected to a pipe and returns what it wrote. */
static void
capture(void (*fn)(void), char *out, size_t outlen)
{
	int p[2], saved;
	ssize_t n;

	assert_int_equal(pipe(p), 0);
	saved = dup(STDERR_FILENO);
	assert_true(saved >= 0);
	assert_true(dup2(p[1], STDERR_FILENO) >= 0);
	fn();
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);
	close(p[1]);
	n = read(p[0], out, outlen - 1);
	close(p[0]);
	out[n > 0 ? n : 0] = '\0';
}

static void
log_two_levels(void)
{
	vlog_init("vdi-test", VLOG_STDERR, VLOG_INFO);
	vlog(VLOG_DEBUG, "hidden", "x=%d", 1);
	vlog(VLOG_WARNING, "tls_refused", "peer=%s reason=%s", "127.0.0.1",
	    "expired\nsecond");
}

static void
vlog__when_level_below_minimum__nothing_written_else_one_line(void **state)
{
	char out[4096];

	capture(log_two_levels, out, sizeof(out));
	assert_null(strstr(out, "hidden"));
	assert_non_null(strstr(out, "vdi-test["));
	assert_non_null(strstr(out,
	    " level=warning event=tls_refused peer=127.0.0.1 reason=expired "
	    "second\n"));
	/* exactly one line */
	assert_ptr_equal(strchr(out, '\n'), out + strlen(out) - 1);
}

static void
log_huge(void)
{
	static char big[8192];

	memset(big, 'a', sizeof(big) - 1);
	vlog_init("vdi-test", VLOG_STDERR, VLOG_DEBUG);
	vlog(VLOG_INFO, "big", "v=%s", big);
}

static void
vlog__when_line_too_long__truncated_single_line(void **state)
{
	char out[16384];

	capture(log_huge, out, sizeof(out));
	assert_true(strlen(out) <= 2048);
	assert_int_equal(out[strlen(out) - 1], '\n');
	assert_ptr_equal(strchr(out, '\n'), out + strlen(out) - 1);
}

static void
vlog_quote__when_plain__unchanged_else_quoted_escaped(void **state)
{
	char out[64];

	assert_string_equal(
	    vlog_quote("alice@city-a", out, sizeof(out)), "alice@city-a");
	assert_string_equal(
	    vlog_quote("two words", out, sizeof(out)), "\"two words\"");
	assert_string_equal(vlog_quote("a\"b\\c\x01", out, sizeof(out)),
	    "\"a\\\"b\\\\c\\x01\"");
	assert_string_equal(vlog_quote("", out, sizeof(out)), "\"\"");
	assert_string_equal(vlog_quote(NULL, out, sizeof(out)), "\"\"");
	assert_string_equal(vlog_quote("abc def ghi", out, 8), "\"abc d\"");
}

static void
vlog_level_parse__when_names__levels_else_error(void **state)
{
	enum vlog_level l = VLOG_ERROR;

	assert_int_equal(vlog_level_parse("debug", &l), 0);
	assert_int_equal(l, VLOG_DEBUG);
	assert_int_equal(vlog_level_parse("WARNING", &l), 0);
	assert_int_equal(l, VLOG_WARNING);
	assert_int_equal(vlog_level_parse("loud", &l), VDI_ERR_INVALID_ARG);
	assert_string_equal(vlog_level_name(VLOG_NOTICE), "notice");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    vlog__when_level_below_minimum__nothing_written_else_one_line),
		cmocka_unit_test(
		    vlog__when_line_too_long__truncated_single_line),
		cmocka_unit_test(
		    vlog_quote__when_plain__unchanged_else_quoted_escaped),
		cmocka_unit_test(
		    vlog_level_parse__when_names__levels_else_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
