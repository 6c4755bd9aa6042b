/* Unit tests for common/seal.c. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "seal.h"

static const unsigned char key[SEAL_KEY_LEN] = { 1, 2, 3, 4, 5 };

static void
seal_open__when_sealed__round_trip_and_random_nonce(void **state)
{
	char a[SEAL_TEXT_MAX], b[SEAL_TEXT_MAX];
	unsigned char out[64];
	size_t n;

	assert_int_equal(
	    seal_close(key, "alice\0pw", 8, "sid1", 4, a, sizeof(a)), 0);
	assert_int_equal(
	    seal_close(key, "alice\0pw", 8, "sid1", 4, b, sizeof(b)), 0);
	assert_string_not_equal(a, b);
	assert_int_equal(seal_open(key, a, "sid1", 4, out, sizeof(out), &n), 0);
	assert_int_equal(n, 8);
	assert_memory_equal(out, "alice\0pw", 8);
}

static void
seal_open__when_anything_changed__denied(void **state)
{
	unsigned char other[SEAL_KEY_LEN] = { 9 }, out[64];
	char t[SEAL_TEXT_MAX], m[SEAL_TEXT_MAX];
	size_t n, i;

	assert_int_equal(
	    seal_close(key, "secret", 6, "sid1", 4, t, sizeof(t)), 0);
	assert_int_equal(
	    seal_open(key, t, "sid2", 4, out, sizeof(out), &n), VDI_ERR_DENIED);
	assert_int_equal(seal_open(other, t, "sid1", 4, out, sizeof(out), &n),
	    VDI_ERR_DENIED);
	assert_int_equal(n, 0);
	/* every character of the text changed to another valid one */
	for (i = 0; i < strlen(t); i++) {
		int r;

		memcpy(m, t, sizeof(m));
		m[i] = m[i] == 'A' ? 'B' : 'A';
		r = seal_open(key, m, "sid1", 4, out, sizeof(out), &n);
		if (r == 0)
			fail_msg("accepted a change at %zu", i);
	}
	assert_int_equal(
	    seal_open(key, "AAAA", "sid1", 4, out, sizeof(out), &n),
	    VDI_ERR_BAD_FORMAT);
	assert_int_equal(seal_open(key, "A=A", "sid1", 4, out, sizeof(out), &n),
	    VDI_ERR_BASE64);
	assert_int_equal(
	    seal_open(key, t, "sid1", 4, out, 3, &n), VDI_ERR_TOO_LARGE);
}

static void
seal_close__when_bad_args__refused(void **state)
{
	static char big[SEAL_PLAIN_MAX + 1];
	char t[SEAL_TEXT_MAX];

	assert_int_equal(
	    seal_close(key, "", 0, NULL, 0, t, sizeof(t)), VDI_ERR_INVALID_ARG);
	assert_int_equal(
	    seal_close(key, big, sizeof(big), NULL, 0, t, sizeof(t)),
	    VDI_ERR_TOO_LARGE);
	assert_int_equal(
	    seal_close(key, big, SEAL_PLAIN_MAX, NULL, 0, t, sizeof(t)), 0);
	assert_int_equal(
	    seal_close(key, "x", 1, NULL, 0, t, 10), VDI_ERR_TOO_LARGE);
}

static void
seal_key_load__when_raw_b64_or_bad__loaded_or_named(void **state)
{
	char dir[] = "/tmp/seal-XXXXXX", p[64], err[300];
	unsigned char k[SEAL_KEY_LEN];
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(p, sizeof(p), "%s/raw", dir);
	f = fopen(p, "wb");
	fwrite(key, 1, sizeof(key), f);
	fclose(f);
	assert_int_equal(seal_key_load(p, k, err, sizeof(err)), 0);
	assert_memory_equal(k, key, sizeof(key));
	unlink(p);
	snprintf(p, sizeof(p), "%s/b64", dir);
	f = fopen(p, "w");
	fprintf(f, "AQIDBAUAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n");
	fclose(f);
	assert_int_equal(seal_key_load(p, k, err, sizeof(err)), 0);
	assert_memory_equal(k, key, sizeof(key));
	f = fopen(p, "w");
	fprintf(f, "short\n");
	fclose(f);
	assert_int_equal(seal_key_load(p, k, err, sizeof(err)), VDI_ERR_CONFIG);
	assert_non_null(strstr(err, p));
	unlink(p);
	rmdir(dir);
	assert_int_equal(seal_key_load("/nonexistent/k", k, err, sizeof(err)),
	    VDI_ERR_CERT_LOAD);
	assert_non_null(strstr(err, "/nonexistent/k"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    seal_open__when_sealed__round_trip_and_random_nonce),
		cmocka_unit_test(seal_open__when_anything_changed__denied),
		cmocka_unit_test(seal_close__when_bad_args__refused),
		cmocka_unit_test(
		    seal_key_load__when_raw_b64_or_bad__loaded_or_named),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
