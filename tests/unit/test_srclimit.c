/* Unit tests for common/srclimit.c. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "srclimit.h"

static struct vdi_addr
addr(const char *s)
{
	struct vdi_addr a;

	assert_int_equal(vdi_addr_parse(s, &a), 0);
	return a;
}

static void
srclimit_new__when_limits_bad__null(void **state)
{
	assert_null(srclimit_new(0, 1));
	assert_null(srclimit_new(10, 0));
	assert_null(srclimit_new(10, 11));
	assert_null(srclimit_new(SRCLIMIT_TOTAL_MAX + 1, 1));
}

static void
srclimit_take__when_source_full__denied_others_pass(void **state)
{
	struct srclimit *sl = srclimit_new(100, 3);
	struct vdi_addr a = addr("192.0.2.1"), b = addr("192.0.2.2");
	int i;

	assert_non_null(sl);
	for (i = 0; i < 3; i++)
		assert_int_equal(srclimit_take(sl, &a), 0);
	assert_int_equal(srclimit_take(sl, &a), VDI_ERR_DENIED);
	assert_int_equal(srclimit_count(sl, &a), 3);
	assert_int_equal(srclimit_take(sl, &b), 0);
	assert_int_equal(srclimit_total(sl), 4);
	srclimit_release(sl, &a);
	assert_int_equal(srclimit_take(sl, &a), 0);
	assert_int_equal(srclimit_total(sl), 4);
	srclimit_free(sl);
}

static void
srclimit_take__when_total_full__too_large_until_release(void **state)
{
	struct srclimit *sl = srclimit_new(4, 4);
	struct vdi_addr a[5];
	char s[32];
	int i;

	assert_non_null(sl);
	for (i = 0; i < 5; i++) {
		snprintf(s, sizeof(s), "198.51.100.%d", i + 1);
		a[i] = addr(s);
	}
	for (i = 0; i < 4; i++)
		assert_int_equal(srclimit_take(sl, &a[i]), 0);
	assert_int_equal(srclimit_take(sl, &a[4]), VDI_ERR_TOO_LARGE);
	assert_int_equal(srclimit_count(sl, &a[4]), 0);
	srclimit_release(sl, &a[0]);
	assert_int_equal(srclimit_take(sl, &a[4]), 0);
	srclimit_free(sl);
}

static void
srclimit_take__when_ipv6_same_64__one_source(void **state)
{
	struct srclimit *sl = srclimit_new(10, 2);
	struct vdi_addr a = addr("2001:db8:0:1::1"),
			b = addr("2001:db8:0:1::2"),
			c = addr("2001:db8:0:2::1");

	assert_int_equal(srclimit_take(sl, &a), 0);
	assert_int_equal(srclimit_take(sl, &b), 0);
	assert_int_equal(srclimit_take(sl, &a), VDI_ERR_DENIED);
	assert_int_equal(srclimit_take(sl, &c), 0);
	srclimit_free(sl);
}

static void
srclimit_release__when_unknown__ignored(void **state)
{
	struct srclimit *sl = srclimit_new(10, 2);
	struct vdi_addr a = addr("192.0.2.9");

	srclimit_release(sl, &a);
	assert_int_equal(srclimit_total(sl), 0);
	srclimit_free(sl);
	srclimit_free(NULL);
}

/* Many sources taken and released in a mixed order: every count stays
 * exact (probe chains survive deletions). */
static void
srclimit_release__when_many_sources__counts_exact(void **state)
{
	enum { N = 3000 };
	struct srclimit *sl = srclimit_new(2 * N, 2);
	static struct vdi_addr a[N];
	char s[32];
	int i;

	assert_non_null(sl);
	for (i = 0; i < N; i++) {
		snprintf(s, sizeof(s), "10.%d.%d.%d", i >> 16, (i >> 8) & 255,
		    i & 255);
		a[i] = addr(s);
		assert_int_equal(srclimit_take(sl, &a[i]), 0);
		assert_int_equal(srclimit_take(sl, &a[i]), 0);
	}
	for (i = 0; i < N; i += 3)
		srclimit_release(sl, &a[i]);
	for (i = 0; i < N; i += 2)
		srclimit_release(sl, &a[i]);
	for (i = 0; i < N; i++) {
		unsigned int want = 2 - (i % 3 == 0) - (i % 2 == 0);

		assert_int_equal(srclimit_count(sl, &a[i]), want);
	}
	for (i = 0; i < N; i++)
		while (srclimit_count(sl, &a[i]) > 0)
			srclimit_release(sl, &a[i]);
	assert_int_equal(srclimit_total(sl), 0);
	srclimit_free(sl);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(srclimit_new__when_limits_bad__null),
		cmocka_unit_test(
		    srclimit_take__when_source_full__denied_others_pass),
		cmocka_unit_test(
		    srclimit_take__when_total_full__too_large_until_release),
		cmocka_unit_test(srclimit_take__when_ipv6_same_64__one_source),
		cmocka_unit_test(srclimit_release__when_unknown__ignored),
		cmocka_unit_test(
		    srclimit_release__when_many_sources__counts_exact),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
