/* Unit tests for gateway/replay.c. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "replay.h"

static void
replay_use__when_seen_before_expiry__exists_after__ok(void **state)
{
	struct replay *r = replay_new(8);

	assert_non_null(r);
	assert_int_equal(replay_use(r, "abc", 3, 160, 100), 0);
	assert_int_equal(replay_use(r, "abc", 3, 160, 159), VDI_ERR_EXISTS);
	assert_int_equal(replay_use(r, "abd", 3, 160, 100), 0);
	assert_int_equal(replay_use(r, "abc", 3, 220, 160), 0);
	replay_free(r);
}

static void
replay_use__when_full_of_live_ids__fail_closed_then_sweeps(void **state)
{
	struct replay *r = replay_new(8); /* 16 slots, 8 live ids */
	char id[16];
	int i;

	assert_non_null(r);
	for (i = 0; i < 8; i++) {
		snprintf(id, sizeof(id), "id%d", i);
		assert_int_equal(replay_use(r, id, strlen(id), 200, 100), 0);
	}
	assert_int_equal(replay_use(r, "more", 4, 200, 100), VDI_ERR_TOO_LARGE);
	/* the old ones are still refused, not forgotten */
	assert_int_equal(replay_use(r, "id3", 3, 200, 150), VDI_ERR_EXISTS);
	/* once they expire there is room again */
	assert_int_equal(replay_use(r, "more", 4, 300, 200), 0);
	assert_int_equal(replay_count(r), 1);
	replay_free(r);
}

static void
replay_use__when_many_ids__all_remembered(void **state)
{
	struct replay *r = replay_new(10000);
	char id[32];
	int i;

	assert_non_null(r);
	for (i = 0; i < 10000; i++) {
		snprintf(id, sizeof(id), "jti-%08d", i);
		assert_int_equal(replay_use(r, id, strlen(id), 1000, 1), 0);
	}
	for (i = 0; i < 10000; i += 7) {
		snprintf(id, sizeof(id), "jti-%08d", i);
		assert_int_equal(
		    replay_use(r, id, strlen(id), 1000, 2), VDI_ERR_EXISTS);
	}
	replay_free(r);
}

static void
replay_use__when_grown_to_capacity__fail_closed_there(void **state)
{
	/* 3000 ids: 8192 slots at the most, so 4096 live ids; the table
	 * starts at 1024 slots and must grow to hold them all. */
	struct replay *r = replay_new(3000);
	char id[32];
	int i;

	assert_non_null(r);
	for (i = 0; i < 4096; i++) {
		snprintf(id, sizeof(id), "g-%d", i);
		assert_int_equal(replay_use(r, id, strlen(id), 500, 10), 0);
	}
	assert_int_equal(replay_count(r), 4096);
	assert_int_equal(
	    replay_use(r, "one-more", 8, 500, 10), VDI_ERR_TOO_LARGE);
	for (i = 0; i < 4096; i += 13) {
		snprintf(id, sizeof(id), "g-%d", i);
		assert_int_equal(
		    replay_use(r, id, strlen(id), 500, 11), VDI_ERR_EXISTS);
	}
	/* all expired: room again, and the old ids are gone */
	assert_int_equal(replay_use(r, "one-more", 8, 900, 600), 0);
	assert_int_equal(replay_count(r), 1);
	replay_free(r);
}

static void
replay_use__when_bad_id__invalid(void **state)
{
	struct replay *r = replay_new(4);
	char big[REPLAY_JTI_MAX + 1];

	memset(big, 'a', sizeof(big));
	assert_non_null(r);
	assert_int_equal(replay_use(r, "", 0, 10, 1), VDI_ERR_INVALID_ARG);
	assert_int_equal(replay_use(r, NULL, 3, 10, 1), VDI_ERR_INVALID_ARG);
	assert_int_equal(
	    replay_use(r, big, sizeof(big), 10, 1), VDI_ERR_INVALID_ARG);
	assert_int_equal(replay_use(r, big, REPLAY_JTI_MAX, 10, 1), 0);
	assert_null(replay_new(0));
	replay_free(r);
	replay_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    replay_use__when_seen_before_expiry__exists_after__ok),
		cmocka_unit_test(
		    replay_use__when_full_of_live_ids__fail_closed_then_sweeps),
		cmocka_unit_test(replay_use__when_many_ids__all_remembered),
		cmocka_unit_test(
		    replay_use__when_grown_to_capacity__fail_closed_there),
		cmocka_unit_test(replay_use__when_bad_id__invalid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
