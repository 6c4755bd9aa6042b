/* Unit tests for common/daemonopt.c (the daemons' option loop). */
#include "config.h"

#include <getopt.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "daemonopt.h"

/* Copies of the arguments: getopt may permute argv. */
static char args[8][32];

static int
run(int argc, const char *const *in, struct vdi_daemon_opts *o)
{
	char *argv[9];
	int i;

	for (i = 0; i < argc; i++) {
		snprintf(args[i], sizeof(args[i]), "%s", in[i]);
		argv[i] = args[i];
	}
	argv[argc] = NULL;
	memset(o, 0, sizeof(*o));
	o->conf = "/default.conf";
	o->level = VLOG_INFO;
	optind = 0; /* glibc: start over */
	return vdi_daemon_options(argc, argv, "vdi-test", "usage: test\n", o);
}

static void
daemon_options__when_every_option__fills_opts(void **state)
{
	const char *argv[] = { "d", "-d", "-f", "/x.conf", "-l", "debug", "-P",
		"/port", NULL };
	struct vdi_daemon_opts o;

	(void)state;
	assert_int_equal(run(8, argv, &o), -1);
	assert_string_equal(o.conf, "/x.conf");
	assert_string_equal(o.port_file, "/port");
	assert_int_equal(o.level, VLOG_DEBUG);
	assert_int_equal(o.foreground, 1);
	assert_int_equal(o.check, 0);
}

static void
daemon_options__when_none__keeps_defaults(void **state)
{
	const char *argv[] = { "d", NULL };
	struct vdi_daemon_opts o;

	(void)state;
	assert_int_equal(run(1, argv, &o), -1);
	assert_string_equal(o.conf, "/default.conf");
	assert_null(o.port_file);
	assert_int_equal(o.level, VLOG_INFO);
	assert_int_equal(o.foreground, 0);
}

static void
daemon_options__when_check__implies_foreground(void **state)
{
	const char *argv[] = { "d", "-t", NULL };
	struct vdi_daemon_opts o;

	(void)state;
	assert_int_equal(run(2, argv, &o), -1);
	assert_int_equal(o.check, 1);
	assert_int_equal(o.foreground, 1);
}

static void
daemon_options__when_help_or_version__exit_zero(void **state)
{
	const char *h[] = { "d", "-h", NULL }, *lh[] = { "d", "--help", NULL };
	const char *v[] = { "d", "-V", NULL },
		   *lv[] = { "d", "--version", NULL };
	struct vdi_daemon_opts o;

	(void)state;
	assert_int_equal(run(2, h, &o), 0);
	assert_int_equal(run(2, lh, &o), 0);
	assert_int_equal(run(2, v, &o), 0);
	assert_int_equal(run(2, lv, &o), 0);
}

static void
daemon_options__when_usage_error__exit_two(void **state)
{
	const char *bad[] = { "d", "-x", NULL };
	const char *level[] = { "d", "-l", "loud", NULL };
	const char *stray[] = { "d", "-d", "extra", NULL };
	const char *noarg[] = { "d", "-f", NULL };
	struct vdi_daemon_opts o;

	(void)state;
	assert_int_equal(run(2, bad, &o), 2);
	assert_int_equal(run(3, level, &o), 2);
	assert_int_equal(run(3, stray, &o), 2);
	assert_int_equal(run(2, noarg, &o), 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(daemon_options__when_every_option__fills_opts),
		cmocka_unit_test(daemon_options__when_none__keeps_defaults),
		cmocka_unit_test(
		    daemon_options__when_check__implies_foreground),
		cmocka_unit_test(
		    daemon_options__when_help_or_version__exit_zero),
		cmocka_unit_test(daemon_options__when_usage_error__exit_two),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
