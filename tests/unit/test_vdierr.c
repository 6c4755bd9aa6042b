/* Unit tests for common/vdierr.c. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vdierr.h"

static void
vdi_strerror__when_each_code__distinct_nonempty_message(void **state)
{
	static const int codes[] = {
#define X(name, value, msg) name,
		VDI_ERROR_TABLE(X)
#undef X
	};
	size_t i, j, n = sizeof(codes) / sizeof(codes[0]);

	for (i = 0; i < n; i++) {
		assert_true(codes[i] < 0);
		assert_true(strlen(vdi_strerror(codes[i])) > 0);
		assert_string_not_equal(
		    vdi_strerror(codes[i]), "unknown error");
		assert_true(strncmp(vdi_errname(codes[i]), "VDI_ERR_", 8) == 0);
		for (j = i + 1; j < n; j++) {
			assert_int_not_equal(codes[i], codes[j]);
			assert_string_not_equal(
			    vdi_strerror(codes[i]), vdi_strerror(codes[j]));
		}
	}
}

static void
vdi_strerror__when_unknown_code__generic_message(void **state)
{
	assert_string_equal(vdi_strerror(-9999), "unknown error");
	assert_string_equal(vdi_errname(-9999), "VDI_ERR_UNKNOWN");
	assert_string_equal(vdi_strerror(VDI_OK), "success");
	assert_string_equal(
	    vdi_errname(VDI_ERR_TRUNCATED), "VDI_ERR_TRUNCATED");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    vdi_strerror__when_each_code__distinct_nonempty_message),
		cmocka_unit_test(
		    vdi_strerror__when_unknown_code__generic_message),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
