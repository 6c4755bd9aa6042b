/* Unit tests for broker/login.c: matching a step's login_id. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include <cmocka.h>

#include "login.h"
#include "token.h"

static const char id[TOKEN_ID_HEX] = "0123456789abcdef0123456789abcdef";

/* s copied to the very end of a readable page followed by one that is
 * not: reading one byte past s's NUL faults, whatever the build. */
static char *
at_page_end(const char *s, void **map, size_t *maplen)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE), n = strlen(s) + 1;
	char *p;

	*maplen = 2 * pg;
	*map = mmap(NULL, *maplen, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(*map != MAP_FAILED);
	assert_int_equal(mprotect((char *)*map + pg, pg, PROT_NONE), 0);
	p = (char *)*map + pg - n;
	memcpy(p, s, n);
	return p;
}

static void
login_id_equal__when_short_id_before_a_guard_page__no_read_past_it(void **state)
{
	static const char *const shorts[] = { "", "0", "01234567",
		"0123456789abcdef0123456789abcde" };
	size_t i, maplen;
	void *map;
	char *p;

	(void)state;
	for (i = 0; i < sizeof(shorts) / sizeof(shorts[0]); i++) {
		p = at_page_end(shorts[i], &map, &maplen);
		assert_int_equal(login_id_equal(id, p), 0);
		munmap(map, maplen);
	}
}

static void
login_id_equal__when_each_case__only_the_same_id(void **state)
{
	size_t maplen;
	void *map;
	char *p;

	(void)state;
	p = at_page_end(id, &map, &maplen);
	assert_int_equal(login_id_equal(id, p), 1);
	munmap(map, maplen);
	assert_int_equal(
	    login_id_equal(id, "0123456789abcdef0123456789abcdeF"), 0);
	assert_int_equal(
	    login_id_equal(id, "x123456789abcdef0123456789abcdef"), 0);
	assert_int_equal(
	    login_id_equal(id, "0123456789abcdef0123456789abcdef0"), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    login_id_equal__when_short_id_before_a_guard_page__no_read_past_it),
		cmocka_unit_test(
		    login_id_equal__when_each_case__only_the_same_id),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
