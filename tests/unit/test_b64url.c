/* Unit tests for common/b64url.c. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "b64url.h"
#include "vdierr.h"

struct vector {
	const char *raw;
	size_t rawlen;
	const char *enc;
};

/* RFC 4648 section 10, without the padding, plus inputs whose standard
 * encoding has '+' and '/' (url alphabet: '-' and '_'). */
static const struct vector vectors[] = {
	{ "", 0, "" },
	{ "f", 1, "Zg" },
	{ "fo", 2, "Zm8" },
	{ "foo", 3, "Zm9v" },
	{ "foob", 4, "Zm9vYg" },
	{ "fooba", 5, "Zm9vYmE" },
	{ "foobar", 6, "Zm9vYmFy" },
	{ "\xfb\xef\xbe", 3, "----" },
	{ "\xff\xff\xff", 3, "____" },
	{ "\xfb\xff", 2, "-_8" },
	{ "\xff", 1, "_w" },
	{ "\x00", 1, "AA" },
	{ "\x00\x00\x00", 3, "AAAA" },
	{ "\x14\xfb\x9c\x03\xd9\x7e", 6, "FPucA9l-" },
	{ "\x14\xfb\x9c\x03\xd9", 5, "FPucA9k" },
	{ "\x14\xfb\x9c\x03", 4, "FPucAw" },
};

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void
b64url_encode__when_rfc4648_vectors__url_alphabet_no_padding(void **state)
{
	char out[32];
	char *heap;
	size_t i, n;

	for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		assert_int_equal(b64url_encode(vectors[i].raw,
				     vectors[i].rawlen, out, sizeof(out)),
		    0);
		assert_string_equal(out, vectors[i].enc);
		assert_int_equal(b64url_encoded_len(vectors[i].rawlen, &n), 0);
		assert_int_equal(n, strlen(vectors[i].enc));
		assert_int_equal(b64url_encode_alloc(
				     vectors[i].raw, vectors[i].rawlen, &heap),
		    0);
		assert_string_equal(heap, vectors[i].enc);
		free(heap);
	}
}

static void
b64url_decode__when_rfc4648_vectors__exact_bytes(void **state)
{
	unsigned char out[32], *heap;
	size_t i, n, want;

	for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		memset(out, 0xaa, sizeof(out));
		assert_int_equal(
		    b64url_decode(vectors[i].enc, strlen(vectors[i].enc), out,
			sizeof(out), &n),
		    0);
		assert_int_equal(n, vectors[i].rawlen);
		assert_memory_equal(out, vectors[i].raw, n);
		assert_int_equal(out[n], 0xaa); /* nothing written past */
		assert_int_equal(
		    b64url_decoded_len(strlen(vectors[i].enc), &want), 0);
		assert_int_equal(want, n);
		assert_int_equal(b64url_decode_alloc(vectors[i].enc,
				     strlen(vectors[i].enc), &heap, &n),
		    0);
		assert_int_equal(n, vectors[i].rawlen);
		assert_memory_equal(heap, vectors[i].raw, n);
		assert_int_equal(heap[n], '\0');
		free(heap);
	}
}

static void
b64url_decode__when_whole_alphabet__round_trips(void **state)
{
	unsigned char raw[48];
	char enc[65];
	size_t n;

	assert_int_equal(b64url_decode(alphabet, 64, raw, sizeof(raw), &n), 0);
	assert_int_equal(n, 48);
	assert_int_equal(b64url_encode(raw, n, enc, sizeof(enc)), 0);
	assert_string_equal(enc, alphabet);
}

/* Standard base64 from OpenSSL, translated to the url alphabet. */
static void
oracle_encode(const unsigned char *raw, size_t len, char *out)
{
	size_t i, n;

	n = (size_t)EVP_EncodeBlock((unsigned char *)out, raw, (int)len);
	while (n > 0 && out[n - 1] == '=')
		n--;
	out[n] = '\0';
	for (i = 0; i < n; i++) {
		if (out[i] == '+')
			out[i] = '-';
		else if (out[i] == '/')
			out[i] = '_';
	}
}

static void
b64url_encode__when_random_inputs__matches_openssl_and_round_trips(void **state)
{
	unsigned char raw[200], back[200];
	char enc[300], want[300];
	size_t len, n;
	int iter;

	for (iter = 0; iter < 20; iter++) {
		for (len = 0; len <= sizeof(raw); len++) {
			assert_int_equal(
			    RAND_bytes(raw, (int)len ? (int)len : 1), 1);
			oracle_encode(raw, len, want);
			assert_int_equal(
			    b64url_encode(raw, len, enc, sizeof(enc)), 0);
			assert_string_equal(enc, want);
			assert_int_equal(b64url_decode(enc, strlen(enc), back,
					     sizeof(back), &n),
			    0);
			assert_int_equal(n, len);
			assert_memory_equal(back, raw, len);
		}
	}
}

static void
b64url_decoded_len__when_each_length__exact_or_impossible(void **state)
{
	static const size_t want[] = { 0, 0, 1, 2, 3, 0, 4, 5, 6, 0, 7, 8, 9 };
	size_t len, n;

	for (len = 0; len < sizeof(want) / sizeof(want[0]); len++) {
		n = 99;
		if (len % 4 == 1) {
			assert_int_equal(
			    b64url_decoded_len(len, &n), VDI_ERR_BASE64);
			assert_int_equal(n, 0);
		} else {
			assert_int_equal(b64url_decoded_len(len, &n), 0);
			assert_int_equal(n, want[len]);
		}
	}
}

static void
expect_reject(const char *s, size_t len)
{
	unsigned char out[64], *heap = (unsigned char *)"x";
	size_t n = 99;

	memset(out, 0xaa, sizeof(out));
	assert_int_equal(
	    b64url_decode(s, len, out, sizeof(out), &n), VDI_ERR_BASE64);
	assert_int_equal(n, 0);
	/* Nothing was written on failure. */
	assert_int_equal(out[0], 0xaa);
	assert_int_equal(out[1], 0xaa);
	n = 99;
	assert_int_equal(
	    b64url_decode_alloc(s, len, &heap, &n), VDI_ERR_BASE64);
	assert_null(heap);
	assert_int_equal(n, 0);
}

static void
b64url_decode__when_padding__rejected(void **state)
{
	expect_reject("Zg==", 4);
	expect_reject("Zm8=", 4);
	expect_reject("Zg=", 3);
	expect_reject("Zm9vYg==", 8);
	expect_reject("====", 4);
	expect_reject("Zm9v=", 5);
}

static void
b64url_decode__when_whitespace__rejected(void **state)
{
	expect_reject("Zm9v Yg", 7);
	expect_reject("Zm9v\nYg", 7);
	expect_reject("Zm9vYg\n", 7);
	expect_reject("\tZm9v", 5);
	expect_reject("Zm9v\r\nYmFy", 10);
	expect_reject(" Zg", 3);
}

static void
b64url_decode__when_outside_alphabet__rejected(void **state)
{
	/* Standard-alphabet characters, the neighbours of every range, NUL
	 * and high bytes, each in a position that is otherwise valid. */
	static const char bad[] = "+/=.,:@[`{^!*~\x7f";
	char s[5];
	size_t i;
	unsigned int c;

	for (i = 0; i < sizeof(bad) - 1; i++) {
		memcpy(s, "Zm9v", 5);
		s[2] = bad[i];
		expect_reject(s, 4);
	}
	for (c = 0x80; c <= 0xff; c++) {
		memcpy(s, "Zm9v", 5);
		s[1] = (char)c;
		expect_reject(s, 4);
	}
	expect_reject("Zm\0v", 4);
	/* Every byte outside the alphabet, alone in a 2-character group. */
	for (c = 0; c <= 0xff; c++) {
		if (c != 0 && strchr(alphabet, (int)c) != NULL)
			continue;
		s[0] = 'A';
		s[1] = (char)c;
		expect_reject(s, 2);
	}
}

static void
b64url_decode__when_impossible_length__rejected(void **state)
{
	expect_reject("A", 1);
	expect_reject("Zm9vY", 5);
	expect_reject("Zm9vYmFyZ", 9);
}

static void
b64url_decode__when_noncanonical_trailing_bits__rejected(void **state)
{
	unsigned char out[4];
	size_t n;
	int v;

	/* "Zg" is the only encoding of "f"; Zh..Zv set unused bits. */
	expect_reject("Zh", 2);
	expect_reject("Zv", 2);
	expect_reject("_x", 2);
	/* "Zm8" is the only encoding of "fo"; Zm9 sets an unused bit. */
	expect_reject("Zm9", 3);
	expect_reject("Zm-", 3);
	expect_reject("Zm9vYh", 6);
	/* Of the 16 characters after "Z", exactly one decodes. */
	for (v = 0; v < 64; v++) {
		char s[3] = { 'Z', alphabet[v], '\0' };
		int r = b64url_decode(s, 2, out, sizeof(out), &n);

		assert_int_equal(r, (v & 0x0f) == 0 ? 0 : VDI_ERR_BASE64);
	}
	/* Of the 64 characters after "Zm", one in four decodes. */
	for (v = 0; v < 64; v++) {
		char s[4] = { 'Z', 'm', alphabet[v], '\0' };
		int r = b64url_decode(s, 3, out, sizeof(out), &n);

		assert_int_equal(r, (v & 0x03) == 0 ? 0 : VDI_ERR_BASE64);
	}
}

static void
b64url_decode__when_output_too_small__too_large_nothing_written(void **state)
{
	unsigned char out[6];
	size_t n = 99;

	memset(out, 0xaa, sizeof(out));
	assert_int_equal(
	    b64url_decode("Zm9vYmFy", 8, out, 5, &n), VDI_ERR_TOO_LARGE);
	assert_int_equal(n, 0);
	assert_int_equal(out[0], 0xaa);
	assert_int_equal(b64url_decode("Zm9vYmFy", 8, out, 6, &n), 0);
	assert_int_equal(n, 6);
	/* Invalid input is reported as such even when it would not fit. */
	assert_int_equal(
	    b64url_decode("Zm9vYmF=", 8, out, 1, &n), VDI_ERR_BASE64);
	assert_int_equal(b64url_decode("", 0, NULL, 0, &n), 0);
	assert_int_equal(n, 0);
}

static void
b64url_encode__when_output_too_small__too_large_untouched(void **state)
{
	char out[8];
	size_t n;

	memset(out, 'x', sizeof(out));
	/* "foobar" needs 8 characters plus the NUL. */
	assert_int_equal(b64url_encode("foobar", 6, out, 8), VDI_ERR_TOO_LARGE);
	assert_memory_equal(out, "xxxxxxxx", 8);
	assert_int_equal(b64url_encode("", 0, out, 0), VDI_ERR_TOO_LARGE);
	assert_int_equal(b64url_encode("", 0, out, 1), 0);
	assert_string_equal(out, "");
	assert_int_equal(
	    b64url_encoded_len(B64URL_RAW_MAX + 1, &n), VDI_ERR_TOO_LARGE);
	assert_int_equal(n, 0);
	assert_int_equal(b64url_encoded_len(B64URL_RAW_MAX, &n), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    b64url_encode__when_rfc4648_vectors__url_alphabet_no_padding),
		cmocka_unit_test(
		    b64url_decode__when_rfc4648_vectors__exact_bytes),
		cmocka_unit_test(
		    b64url_decode__when_whole_alphabet__round_trips),
		cmocka_unit_test(
		    b64url_encode__when_random_inputs__matches_openssl_and_round_trips),
		cmocka_unit_test(
		    b64url_decoded_len__when_each_length__exact_or_impossible),
		cmocka_unit_test(b64url_decode__when_padding__rejected),
		cmocka_unit_test(b64url_decode__when_whitespace__rejected),
		cmocka_unit_test(
		    b64url_decode__when_outside_alphabet__rejected),
		cmocka_unit_test(
		    b64url_decode__when_impossible_length__rejected),
		cmocka_unit_test(
		    b64url_decode__when_noncanonical_trailing_bits__rejected),
		cmocka_unit_test(
		    b64url_decode__when_output_too_small__too_large_nothing_written),
		cmocka_unit_test(
		    b64url_encode__when_output_too_small__too_large_untouched),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
