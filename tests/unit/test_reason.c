/* Unit tests for the refusal reason table (common/vdierr.h). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vdierr.h"

static void
reason_code__when_each_reason__distinct_lowercase_code(void **state)
{
	size_t i, j, k;
	const char *c;

	(void)state;
	for (i = 0; i < VDI_REASON_COUNT; i++) {
		c = vdi_reason_code((enum vdi_reason)i);
		assert_true(strlen(c) > 0);
		for (k = 0; c[k] != '\0'; k++)
			assert_true(
			    (c[k] >= 'a' && c[k] <= 'z') || c[k] == '_');
		for (j = i + 1; j < VDI_REASON_COUNT; j++)
			assert_string_not_equal(
			    c, vdi_reason_code((enum vdi_reason)j));
	}
}

static void
reason_code__when_known__the_wire_code(void **state)
{
	(void)state;
	/* These are seen in logs, audit rows, metrics and by the shim. */
	assert_string_equal(vdi_reason_code(VDI_REASON_OK), "ok");
	assert_string_equal(
	    vdi_reason_code(VDI_REASON_TOKEN_EXPIRED), "token_expired");
	assert_string_equal(vdi_reason_code(VDI_REASON_TOKEN_WRONG_AUDIENCE),
	    "token_wrong_audience");
	assert_string_equal(
	    vdi_reason_code(VDI_REASON_DESKTOP_UNTRUSTED), "desktop_untrusted");
	assert_string_equal(
	    vdi_reason_code(VDI_REASON_DST_NOT_IN_POLICY), "dst_not_in_policy");
	assert_string_equal(
	    vdi_reason_code(VDI_REASON_HEADERS_TOO_LARGE), "headers_too_large");
	assert_string_equal(
	    vdi_reason_code(VDI_REASON_MAX_SESSION), "max_session");
}

static void
reason_code__when_out_of_table__internal_error(void **state)
{
	(void)state;
	assert_string_equal(vdi_reason_code((enum vdi_reason)VDI_REASON_COUNT),
	    "internal_error");
	assert_string_equal(
	    vdi_reason_code((enum vdi_reason) - 1), "internal_error");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    reason_code__when_each_reason__distinct_lowercase_code),
		cmocka_unit_test(reason_code__when_known__the_wire_code),
		cmocka_unit_test(
		    reason_code__when_out_of_table__internal_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
