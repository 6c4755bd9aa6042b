/* Unit tests for common/vlog.c: line format and value quoting. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
log_forged_user(void)
{
	vlog_init("vdi-test", VLOG_STDERR, VLOG_INFO);
	vlog(VLOG_NOTICE, "login_timeout", "user=%s code=%s",
	    VLOG_Q("x reason=ok"), VLOG_Q("auth_failed"));
}

/* Splits a log line after "event=..." into key=value fields the way a log
 * reader does: a value in double quotes runs to the next unescaped quote.
 * Returns the number of fields and copies the value of key into val. */
static int
fields(const char *line, const char *key, char *val, size_t vlen)
{
	const char *p = strstr(line, " level=");
	int n = 0;

	val[0] = '\0';
	while (p != NULL && *p == ' ') {
		const char *k = ++p, *eq = strchr(p, '=');
		const char *v, *e;
		size_t kl;

		if (eq == NULL)
			break;
		kl = (size_t)(eq - k);
		v = eq + 1;
		if (*v == '"') {
			for (e = v + 1; *e != '\0' && *e != '"'; e++)
				if (*e == '\\' && e[1] != '\0')
					e++;
			if (*e == '"')
				e++;
		} else
			e = v + strcspn(v, " \n");
		if (kl == strlen(key) && strncmp(k, key, kl) == 0)
			snprintf(val, vlen, "%.*s", (int)(e - v), v);
		n++;
		p = e;
	}
	return n;
}

static void
vlog_q__when_user_name_forges_fields__one_quoted_field(void **state)
{
	char out[4096], val[256];

	capture(log_forged_user, out, sizeof(out));
	/* level, event, user, code: the name adds no field of its own */
	assert_int_equal(fields(out, "user", val, sizeof(val)), 4);
	assert_string_equal(val, "\"x reason=ok\"");
	assert_int_equal(fields(out, "reason", val, sizeof(val)), 4);
	assert_string_equal(val, "");
	assert_int_equal(fields(out, "code", val, sizeof(val)), 4);
	assert_string_equal(val, "auth_failed");
}

static void
vlog_quote__when_quotes_controls_and_bad_utf8__escaped(void **state)
{
	char out[256];

	/* a quote and a backslash cannot end the field early */
	assert_string_equal(vlog_quote("a\" b=\\\"c", out, sizeof(out)),
	    "\"a\\\" b=\\\\\\\"c\"");
	/* newline, CR, tab, ESC and DEL become \xNN: still one line */
	assert_string_equal(
	    vlog_quote("x\ny\rz\t\x1b[2J\x7f", out, sizeof(out)),
	    "\"x\\x0ay\\x0dz\\x09\\x1b[2J\\x7f\"");
	/* bytes that are not UTF-8: lone continuation, truncated sequence,
	 * overlong '/', a surrogate, 0xFF */
	assert_string_equal(vlog_quote("\x80"
				       "a\xc3",
				out, sizeof(out)),
	    "\"\\x80a\\xc3\"");
	assert_string_equal(
	    vlog_quote("\xc0\xaf", out, sizeof(out)), "\"\\xc0\\xaf\"");
	assert_string_equal(vlog_quote("\xed\xa0\x80\xff", out, sizeof(out)),
	    "\"\\xed\\xa0\\x80\\xff\"");
	/* well-formed UTF-8 stays readable (quoted: not in the plain set) */
	assert_string_equal(vlog_quote("山田", out, sizeof(out)), "\"山田\"");
	/* ... but not C1 controls, line separators or bidi overrides */
	assert_string_equal(vlog_quote("a\xc2\x85"
				       "b",
				out, sizeof(out)),
	    "\"a\\xc2\\x85b\"");
	assert_string_equal(
	    vlog_quote("\xe2\x80\xa8\xe2\x80\xae", out, sizeof(out)),
	    "\"\\xe2\\x80\\xa8\\xe2\\x80\\xae\"");
	/* truncation never cuts an escape in half and keeps the quote */
	assert_string_equal(vlog_quote("ab\ncd", out, 8), "\"ab\"");
	assert_string_equal(vlog_quote("ab\ncd", out, 9), "\"ab\\x0a\"");
}

static void
log_hostile_values(void)
{
	vlog_init("vdi-test", VLOG_STDERR, VLOG_INFO);
	vlog(VLOG_WARNING, "pam_prompt", "user=%s text=%s subject=%s",
	    VLOG_Q("eve\" admin=\"yes"), VLOG_Q("Password:\n level=error"),
	    VLOG_Q("CN=\xff\xfe x=1"));
}

static void
vlog_q__when_several_hostile_values__each_one_field_one_line(void **state)
{
	char out[4096], val[256];

	capture(log_hostile_values, out, sizeof(out));
	assert_ptr_equal(strchr(out, '\n'), out + strlen(out) - 1);
	assert_int_equal(fields(out, "user", val, sizeof(val)), 5);
	assert_string_equal(val, "\"eve\\\" admin=\\\"yes\"");
	fields(out, "text", val, sizeof(val));
	assert_string_equal(val, "\"Password:\\x0a level=error\"");
	fields(out, "subject", val, sizeof(val));
	assert_string_equal(val, "\"CN=\\xff\\xfe x=1\"");
	assert_int_equal(fields(out, "admin", val, sizeof(val)), 5);
	assert_string_equal(val, "");
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

/* Points JOURNAL_STREAM at what stderr is now (as systemd does for a unit
 * whose stderr is the journal), or at another inode. */
static void
set_journal_stream(int match)
{
	struct stat st;
	char v[64];

	assert_int_equal(fstat(STDERR_FILENO, &st), 0);
	snprintf(v, sizeof(v), "%llu:%llu", (unsigned long long)st.st_dev,
	    (unsigned long long)st.st_ino + (match ? 0 : 1));
	assert_int_equal(setenv("JOURNAL_STREAM", v, 1), 0);
}

static void
log_to_journal(void)
{
	set_journal_stream(1);
	vlog_init("vdi-test", VLOG_STDERR, VLOG_DEBUG);
	vlog(VLOG_ERROR, "store_open_failed", "x=%d", 1);
	vlog(VLOG_WARNING, "w", NULL);
	vlog(VLOG_NOTICE, "n", NULL);
	vlog(VLOG_INFO, "i", NULL);
	vlog(VLOG_DEBUG, "d", NULL);
	unsetenv("JOURNAL_STREAM");
}

static void
log_to_other_stream(void)
{
	set_journal_stream(0);
	vlog_init("vdi-test", VLOG_STDERR, VLOG_DEBUG);
	vlog(VLOG_ERROR, "store_open_failed", NULL);
	assert_int_equal(setenv("JOURNAL_STREAM", "garbage", 1), 0);
	vlog_init("vdi-test", VLOG_STDERR, VLOG_DEBUG);
	vlog(VLOG_ERROR, "garbage_stream", NULL);
	unsetenv("JOURNAL_STREAM");
	vlog_init("vdi-test", VLOG_STDERR, VLOG_DEBUG);
	vlog(VLOG_ERROR, "no_stream", NULL);
}

static void
vlog__when_stderr_is_journal_stream__sd_daemon_priority_prefix(void **state)
{
	char out[4096], *l;
	static const char *const want[] = { "<3>", "<4>", "<5>", "<6>", "<7>" };
	size_t i = 0;

	capture(log_to_journal, out, sizeof(out));
	for (l = out; *l != '\0' && i < 5; i++) {
		assert_memory_equal(l, want[i], 3);
		assert_non_null(strstr(l, " vdi-test["));
		l = strchr(l, '\n');
		assert_non_null(l);
		l++;
	}
	assert_int_equal(i, 5);
	assert_non_null(strstr(out, "<3>"));
	assert_non_null(
	    strstr(out, "level=error event=store_open_failed x=1\n<4>"));
}

static void
vlog__when_journal_stream_is_another_file_or_bad__no_prefix(void **state)
{
	char out[4096];

	capture(log_to_other_stream, out, sizeof(out));
	assert_null(strchr(out, '<'));
	assert_non_null(strstr(out, "event=store_open_failed"));
	assert_non_null(strstr(out, "event=garbage_stream"));
	assert_non_null(strstr(out, "event=no_stream"));
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
		    vlog_q__when_user_name_forges_fields__one_quoted_field),
		cmocka_unit_test(
		    vlog_quote__when_quotes_controls_and_bad_utf8__escaped),
		cmocka_unit_test(
		    vlog_q__when_several_hostile_values__each_one_field_one_line),
		cmocka_unit_test(
		    vlog_level_parse__when_names__levels_else_error),
		cmocka_unit_test(
		    vlog__when_stderr_is_journal_stream__sd_daemon_priority_prefix),
		cmocka_unit_test(
		    vlog__when_journal_stream_is_another_file_or_bad__no_prefix),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
