/* Unit tests for broker/ratelimit.c. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ratelimit.h"

static const struct rl_config cfg = { 3, 300, 2, 60 };

static void
rl_check__when_under_free_failures__allowed(void **state)
{
	struct ratelimit *rl = rl_new(&cfg, 16);
	int64_t wait;

	assert_non_null(rl);
	rl_fail(rl, "alice", 100);
	rl_fail(rl, "alice", 101);
	rl_fail(rl, "alice", 102);
	assert_int_equal(rl_check(rl, "alice", 102, &wait), 0);
	assert_int_equal(wait, 0);
	assert_int_equal(rl_failures(rl, "alice", 102), 3);
	rl_free(rl);
}

static void
rl_check__when_over__blocked_with_doubling_backoff_capped(void **state)
{
	struct ratelimit *rl = rl_new(&cfg, 16);
	int64_t wait, now = 1000;
	int64_t expect[] = { 2, 4, 8, 16, 32, 60, 60 };
	size_t i;

	assert_non_null(rl);
	for (i = 0; i < 3; i++)
		rl_fail(rl, "alice", now);
	for (i = 0; i < sizeof(expect) / sizeof(expect[0]); i++) {
		rl_fail(rl, "alice", now);
		assert_int_equal(
		    rl_check(rl, "alice", now, &wait), VDI_ERR_DENIED);
		assert_int_equal(wait, expect[i]);
		/* one second before the end: still blocked; at the end: free */
		assert_int_equal(
		    rl_check(rl, "alice", now + expect[i] - 1, &wait),
		    VDI_ERR_DENIED);
		assert_int_equal(wait, 1);
		now += expect[i];
		assert_int_equal(rl_check(rl, "alice", now, &wait), 0);
	}
	/* other keys are not affected */
	assert_int_equal(rl_check(rl, "bob", now, &wait), 0);
	rl_free(rl);
}

static void
rl_success__when_called__key_forgotten(void **state)
{
	struct ratelimit *rl = rl_new(&cfg, 16);
	int64_t wait;
	int i;

	assert_non_null(rl);
	for (i = 0; i < 5; i++)
		rl_fail(rl, "dev", 10);
	assert_int_equal(rl_check(rl, "dev", 10, &wait), VDI_ERR_DENIED);
	rl_success(rl, "dev");
	assert_int_equal(rl_check(rl, "dev", 10, &wait), 0);
	assert_int_equal(rl_failures(rl, "dev", 10), 0);
	rl_free(rl);
}

static void
rl_failures__when_window_passes__forgotten(void **state)
{
	struct ratelimit *rl = rl_new(&cfg, 16);

	assert_non_null(rl);
	rl_fail(rl, "alice", 100);
	rl_fail(rl, "alice", 200);
	assert_int_equal(rl_failures(rl, "alice", 499), 2);
	assert_int_equal(rl_failures(rl, "alice", 500), 0);
	rl_free(rl);
}

static void
rl_fail__when_table_full__oldest_evicted(void **state)
{
	struct ratelimit *rl = rl_new(&cfg, 2);

	assert_non_null(rl);
	rl_fail(rl, "a", 10);
	rl_fail(rl, "b", 20);
	rl_fail(rl, "c", 30);
	assert_int_equal(rl_failures(rl, "a", 30), 0);
	assert_int_equal(rl_failures(rl, "b", 30), 1);
	assert_int_equal(rl_failures(rl, "c", 30), 1);
	rl_free(rl);
}

static void
rl_fail__when_key_too_long__shared_bucket_no_overflow(void **state)
{
	struct ratelimit *rl = rl_new(&cfg, 4);
	char big[RL_KEY_MAX * 2];
	int64_t wait;
	int i;

	assert_non_null(rl);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	for (i = 0; i < 4; i++)
		rl_fail(rl, big, 10);
	assert_int_equal(rl_check(rl, "(invalid)", 10, &wait), VDI_ERR_DENIED);
	assert_null(rl_new(&cfg, 0));
	rl_free(rl);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rl_check__when_under_free_failures__allowed),
		cmocka_unit_test(
		    rl_check__when_over__blocked_with_doubling_backoff_capped),
		cmocka_unit_test(rl_success__when_called__key_forgotten),
		cmocka_unit_test(rl_failures__when_window_passes__forgotten),
		cmocka_unit_test(rl_fail__when_table_full__oldest_evicted),
		cmocka_unit_test(
		    rl_fail__when_key_too_long__shared_bucket_no_overflow),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
