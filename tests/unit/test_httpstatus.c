/* Unit tests for common/httpstatus.c (HTTP reason phrases). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "httpstatus.h"

static void
http_phrase__when_known_code__rfc9110_phrase(void **state)
{
	(void)state;
	assert_string_equal(vdi_http_phrase(101), "Switching Protocols");
	assert_string_equal(vdi_http_phrase(200), "OK");
	assert_string_equal(vdi_http_phrase(400), "Bad Request");
	assert_string_equal(vdi_http_phrase(401), "Unauthorized");
	assert_string_equal(vdi_http_phrase(403), "Forbidden");
	assert_string_equal(vdi_http_phrase(404), "Not Found");
	assert_string_equal(vdi_http_phrase(405), "Method Not Allowed");
	assert_string_equal(vdi_http_phrase(409), "Conflict");
	assert_string_equal(vdi_http_phrase(413), "Content Too Large");
	assert_string_equal(vdi_http_phrase(426), "Upgrade Required");
	assert_string_equal(vdi_http_phrase(429), "Too Many Requests");
	assert_string_equal(
	    vdi_http_phrase(431), "Request Header Fields Too Large");
	assert_string_equal(vdi_http_phrase(500), "Internal Server Error");
	assert_string_equal(vdi_http_phrase(503), "Service Unavailable");
}

static void
http_phrase__when_unknown_code__class_phrase(void **state)
{
	(void)state;
	assert_string_equal(vdi_http_phrase(299), "Success");
	assert_string_equal(vdi_http_phrase(418), "Client Error");
	assert_string_equal(vdi_http_phrase(599), "Server Error");
	assert_string_equal(vdi_http_phrase(0), "Server Error");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(http_phrase__when_known_code__rfc9110_phrase),
		cmocka_unit_test(http_phrase__when_unknown_code__class_phrase),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
