/* Unit tests for broker/ratelimit.c. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

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

static void
rl_fail__when_key_fails_again__it_becomes_the_newest(void **state)
{
	struct ratelimit *rl = rl_new(&cfg, 2);

	assert_non_null(rl);
	rl_fail(rl, "a", 10);
	rl_fail(rl, "b", 20);
	rl_fail(rl, "a", 25); /* a is now newer than b */
	rl_fail(rl, "c", 30);
	assert_int_equal(rl_failures(rl, "a", 30), 2);
	assert_int_equal(rl_failures(rl, "b", 30), 0);
	assert_int_equal(rl_failures(rl, "c", 30), 1);
	rl_free(rl);
}

static void
rl_fail__when_table_full_and_one_expired__expired_one_reused(void **state)
{
	/* one free failure, a 10 s window, then 100 s blocks */
	static const struct rl_config c2 = { 1, 10, 100, 100 };
	struct ratelimit *rl = rl_new(&c2, 2);
	int64_t wait;

	assert_non_null(rl);
	rl_fail(rl, "a", 0);
	rl_fail(rl, "a", 0); /* blocked until 100, past its window */
	rl_fail(rl, "b", 1); /* not blocked: forgotten from 11 on */
	rl_fail(rl, "c", 50);
	/* the oldest entry is blocked: the expired one made room instead */
	assert_int_equal(rl_check(rl, "a", 50, &wait), VDI_ERR_DENIED);
	assert_int_equal(wait, 50);
	assert_int_equal(rl_failures(rl, "c", 50), 1);
	assert_int_equal(rl_failures(rl, "b", 50), 0);
	rl_free(rl);
}

/* The broker's tables have 65,536 slots and are consulted on every login
 * attempt: filling one and then running 100,000 more attempts must take a
 * fraction of a second, not a scan of the table per call (which took
 * minutes). The loop gives up as soon as the budget is spent. */
static void
rl__when_table_full_of_65536_keys__each_call_is_cheap(void **state)
{
	struct ratelimit *rl = rl_new(&cfg, 65536);
	char key[32];
	int64_t wait;
	clock_t t0 = clock(), budget = 5 * CLOCKS_PER_SEC;
	unsigned int i, done = 0;

	assert_non_null(rl);
	for (i = 0; i < 65536 + 100000; i++) {
		snprintf(key, sizeof(key), "city-a/user%u", i);
		if (rl_check(rl, key, 1000 + i / 1000, &wait) != 0)
			break;
		rl_fail(rl, key, 1000 + i / 1000);
		if ((i & 1023) == 0 && clock() - t0 > budget)
			break;
		done++;
	}
	assert_int_equal(done, 65536 + 100000);
	/* the newest keys are remembered, the oldest were forgotten */
	assert_int_equal(rl_failures(rl, key, 1000 + i / 1000), 1);
	assert_int_equal(rl_failures(rl, "city-a/user0", 2000), 0);
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
		cmocka_unit_test(
		    rl_fail__when_key_fails_again__it_becomes_the_newest),
		cmocka_unit_test(
		    rl_fail__when_table_full_and_one_expired__expired_one_reused),
		cmocka_unit_test(
		    rl__when_table_full_of_65536_keys__each_call_is_cheap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
