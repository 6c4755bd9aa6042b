/* Unit tests for the broker's counters (broker/metrics.c, metrics.h). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "metrics.h"

static void
bm_inc__when_called__only_that_counter_counts(void **state)
{
	unsigned int i;

	bm_reset();
	bm_inc(BM_LOGIN_OK);
	bm_inc(BM_LOGIN_OK);
	bm_inc(BM_LOGIN_FAILED + LOGIN_FAIL_RATE);
	bm_add(BM_SWEPT + 2, 5);
	assert_int_equal(bm_get(BM_LOGIN_OK), 2);
	assert_int_equal(bm_get(BM_LOGIN_FAILED + LOGIN_FAIL_RATE), 1);
	assert_int_equal(bm_get(BM_SWEPT + 2), 5);
	for (i = 0; i < BM_COUNT; i++)
		if (i != BM_LOGIN_OK &&
		    i != BM_LOGIN_FAILED + LOGIN_FAIL_RATE && i != BM_SWEPT + 2)
			assert_int_equal(bm_get((enum bm_counter)i), 0);
}

static void
bm_inc__when_out_of_range__ignored(void **state)
{
	bm_reset();
	bm_inc(BM_COUNT);
	bm_add((enum bm_counter)(BM_COUNT + 7), 3);
	assert_int_equal(bm_get(BM_COUNT), 0);
	assert_int_equal(bm_get(BM_SWEPT + BM_SWEEP_REASONS - 1), 0);
}

static void
bm_reset__when_called__all_zero(void **state)
{
	bm_inc(BM_HTTP_5XX);
	bm_observe_latency(0.01);
	bm_reset();
	assert_int_equal(bm_get(BM_HTTP_5XX), 0);
}

static void
bm_ranges__when_laid_out__families_do_not_overlap(void **state)
{
	assert_true(BM_LOGIN_FAILED + LOGIN_FAIL_COUNT <= BM_RECONNECT_OK);
	assert_true(BM_SWEPT + BM_SWEEP_REASONS == BM_COUNT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bm_inc__when_called__only_that_counter_counts),
		cmocka_unit_test(bm_inc__when_out_of_range__ignored),
		cmocka_unit_test(bm_reset__when_called__all_zero),
		cmocka_unit_test(
		    bm_ranges__when_laid_out__families_do_not_overlap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
