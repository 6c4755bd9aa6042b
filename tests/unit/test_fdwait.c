/* test_fdwait.c: vdi_now_ms() and vdi_wait_fd() (common/fdwait.c). */
#include "config.h"

#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include <cmocka.h>

#include "fdwait.h"

static void
vdi_now_ms__when_called_twice__never_goes_back(void **state)
{
	int64_t a = vdi_now_ms(), b;

	usleep(20000);
	b = vdi_now_ms();
	assert_true(b >= a + 15);
}

static void
vdi_wait_fd__when_nothing_to_read__timeout_after_deadline(void **state)
{
	int p[2];
	int64_t t0;

	assert_int_equal(pipe(p), 0);
	t0 = vdi_now_ms();
	assert_int_equal(vdi_wait_fd(p[0], POLLIN, t0 + 50), VDI_ERR_TIMEOUT);
	assert_true(vdi_now_ms() - t0 >= 45);
	/* a deadline already past: one look, no wait */
	assert_int_equal(
	    vdi_wait_fd(p[0], POLLIN, vdi_now_ms() - 1), VDI_ERR_TIMEOUT);
	close(p[0]);
	close(p[1]);
}

static void
vdi_wait_fd__when_ready__zero(void **state)
{
	int p[2];

	assert_int_equal(pipe(p), 0);
	assert_int_equal(vdi_wait_fd(p[1], POLLOUT, vdi_now_ms() + 1000), 0);
	assert_int_equal(write(p[1], "x", 1), 1);
	assert_int_equal(vdi_wait_fd(p[0], POLLIN, vdi_now_ms() + 1000), 0);
	/* no deadline: returns as soon as it is ready */
	assert_int_equal(vdi_wait_fd(p[0], POLLIN, -1), 0);
	close(p[0]);
	close(p[1]);
}

static void
vdi_wait_fd__when_fd_closed__invalid_arg(void **state)
{
	int p[2];

	assert_int_equal(pipe(p), 0);
	close(p[0]);
	close(p[1]);
	assert_int_equal(vdi_wait_fd(p[0], POLLIN, vdi_now_ms() + 1000),
	    VDI_ERR_INVALID_ARG);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    vdi_now_ms__when_called_twice__never_goes_back),
		cmocka_unit_test(
		    vdi_wait_fd__when_nothing_to_read__timeout_after_deadline),
		cmocka_unit_test(vdi_wait_fd__when_ready__zero),
		cmocka_unit_test(vdi_wait_fd__when_fd_closed__invalid_arg),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
