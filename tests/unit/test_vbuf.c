/* Unit tests for common/vbuf.c. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vbuf.h"

/* A getter under test, wrapped to a common shape: reads one value of
 * `size` encoded bytes and returns it as uint64. */
struct getter {
	const char *name;
	size_t size;
	int (*get)(struct vbuf *, uint64_t *);
	uint64_t expect; /* value of the bytes 01 02 03 04 05 06 07 08 */
};

#define WRAP(fn, type)                                                         \
	static int wrap_##fn(struct vbuf *b, uint64_t *v)                      \
	{                                                                      \
		type t = (type)0xA5A5A5A5A5A5A5A5ull;                          \
		int r = vbuf_get_##fn(b, &t);                                  \
		*v = t;                                                        \
		return r;                                                      \
	}
WRAP(u8, uint8_t)
WRAP(u16le, uint16_t)
WRAP(u16be, uint16_t)
WRAP(u32le, uint32_t)
WRAP(u32be, uint32_t)
WRAP(u64le, uint64_t)

static const struct getter getters[] = {
	{ "u8", 1, wrap_u8, 0x01 },
	{ "u16le", 2, wrap_u16le, 0x0201 },
	{ "u16be", 2, wrap_u16be, 0x0102 },
	{ "u32le", 4, wrap_u32le, 0x04030201 },
	{ "u32be", 4, wrap_u32be, 0x01020304 },
	{ "u64le", 8, wrap_u64le, 0x0807060504030201ull },
};

static const unsigned char seq[] = { 1, 2, 3, 4, 5, 6, 7, 8 };

static void
vbuf_get_int__when_enough_bytes__value_and_consumed(void **state)
{
	struct vbuf v;
	uint64_t val;
	size_t i;

	for (i = 0; i < sizeof(getters) / sizeof(getters[0]); i++) {
		vbuf_init_view(&v, seq, sizeof(seq));
		assert_int_equal(getters[i].get(&v, &val), 0);
		assert_true(val == getters[i].expect);
		assert_int_equal(vbuf_len(&v), sizeof(seq) - getters[i].size);
	}
}

static void
vbuf_get_int__when_truncated_at_every_length__error_nothing_consumed(
    void **state)
{
	struct vbuf v;
	uint64_t val;
	size_t i, have;

	for (i = 0; i < sizeof(getters) / sizeof(getters[0]); i++) {
		for (have = 0; have < getters[i].size; have++) {
			vbuf_init_view(&v, seq, have);
			val = 99;
			assert_int_equal(
			    getters[i].get(&v, &val), VDI_ERR_TRUNCATED);
			assert_true(val == 0); /* output cleared */
			assert_int_equal(vbuf_len(&v), have);
		}
	}
}

static void
vbuf_peek__when_in_range__value_not_consumed_else_truncated(void **state)
{
	struct vbuf v;
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;

	vbuf_init_view(&v, seq, sizeof(seq));
	assert_int_equal(vbuf_peek_u8(&v, 7, &u8), 0);
	assert_int_equal(u8, 8);
	assert_int_equal(vbuf_peek_u16be(&v, 6, &u16), 0);
	assert_int_equal(u16, 0x0708);
	assert_int_equal(vbuf_peek_u16le(&v, 0, &u16), 0);
	assert_int_equal(u16, 0x0201);
	assert_int_equal(vbuf_peek_u32le(&v, 4, &u32), 0);
	assert_int_equal(u32, 0x08070605);
	assert_int_equal(vbuf_len(&v), sizeof(seq));
	assert_int_equal(vbuf_peek_u8(&v, 8, &u8), VDI_ERR_TRUNCATED);
	assert_int_equal(vbuf_peek_u16be(&v, 7, &u16), VDI_ERR_TRUNCATED);
	assert_int_equal(vbuf_peek_u32le(&v, 5, &u32), VDI_ERR_TRUNCATED);
	assert_int_equal(
	    vbuf_peek_u32le(&v, SIZE_MAX, &u32), VDI_ERR_TRUNCATED);
	assert_int_equal(u32, 0);
}

static void
vbuf_get_bytes__when_short__error_output_zeroed_nothing_consumed(void **state)
{
	struct vbuf v;
	unsigned char out[8];
	size_t have;

	for (have = 0; have < 5; have++) {
		vbuf_init_view(&v, seq, have);
		memset(out, 0xEE, sizeof(out));
		assert_int_equal(vbuf_get_bytes(&v, out, 5), VDI_ERR_TRUNCATED);
		assert_int_equal(vbuf_len(&v), have);
		assert_int_equal(out[0], 0);
		assert_int_equal(out[4], 0);
		assert_int_equal(out[5], 0xEE);
	}
	vbuf_init_view(&v, seq, sizeof(seq));
	assert_int_equal(vbuf_get_bytes(&v, out, 5), 0);
	assert_memory_equal(out, seq, 5);
	assert_int_equal(vbuf_len(&v), 3);
	assert_int_equal(vbuf_get_bytes(&v, out, 0), 0);
}

/* PER lengths: one byte, two bytes, fragmented forms refused. */
static void
vbuf_get_per_length__when_each_form__value_or_error(void **state)
{
	static const struct {
		unsigned char in[3];
		size_t inlen;
		int rc;
		uint16_t len;
		size_t used;
	} cases[] = {
		{ { 0x00 }, 1, 0, 0, 1 },
		{ { 0x7F }, 1, 0, 0x7F, 1 },
		{ { 0x80, 0x80 }, 2, 0, 0x80, 2 },
		{ { 0x81, 0x23 }, 2, 0, 0x123, 2 },
		{ { 0xBF, 0xFF }, 2, 0, 0x3FFF, 2 },
		{ { 0x80 }, 1, VDI_ERR_TRUNCATED, 0, 0 },
		{ { 0xC1 }, 1, VDI_ERR_TRUNCATED, 0, 0 },
		/* 15 bits, as FreeRDP writes lengths of 16 KiB and more */
		{ { 0xC4, 0x00 }, 2, 0, 0x4400, 2 },
		{ { 0xFF, 0xFF }, 2, 0, 0x7FFF, 2 },
		{ { 0 }, 0, VDI_ERR_TRUNCATED, 0, 0 },
	};
	struct vbuf v;
	uint16_t len;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		vbuf_init_view(&v, cases[i].in, cases[i].inlen);
		len = 0xBEEF;
		assert_int_equal(vbuf_get_per_length(&v, &len), cases[i].rc);
		assert_int_equal(len, cases[i].len);
		assert_int_equal(cases[i].inlen - vbuf_len(&v), cases[i].used);
	}
}

static void
vbuf_get_ber_length__when_each_form__value_or_error(void **state)
{
	static const struct {
		unsigned char in[6];
		size_t inlen;
		int rc;
		uint32_t len;
		size_t used;
	} cases[] = {
		{ { 0x05 }, 1, 0, 5, 1 },
		{ { 0x7F }, 1, 0, 0x7F, 1 },
		{ { 0x81, 0x80 }, 2, 0, 0x80, 2 },
		{ { 0x82, 0x01, 0x2C }, 3, 0, 300, 3 },
		{ { 0x83, 0x01, 0x00, 0x00 }, 4, 0, 0x10000, 4 },
		{ { 0x84, 0xFF, 0xFF, 0xFF, 0xFF }, 5, 0, 0xFFFFFFFFu, 5 },
		{ { 0x80 }, 1, VDI_ERR_BAD_FORMAT, 0, 0 },
		{ { 0x85, 1, 2, 3, 4, 5 }, 6, VDI_ERR_UNSUPPORTED, 0, 0 },
		{ { 0x81 }, 1, VDI_ERR_TRUNCATED, 0, 0 },
		{ { 0x82, 0x01 }, 2, VDI_ERR_TRUNCATED, 0, 0 },
		{ { 0x84, 0, 0, 0 }, 4, VDI_ERR_TRUNCATED, 0, 0 },
		{ { 0 }, 0, VDI_ERR_TRUNCATED, 0, 0 },
	};
	struct vbuf v;
	uint32_t len;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		vbuf_init_view(&v, cases[i].in, cases[i].inlen);
		len = 0xDEAD;
		assert_int_equal(vbuf_get_ber_length(&v, &len), cases[i].rc);
		assert_int_equal(len, cases[i].len);
		assert_int_equal(cases[i].inlen - vbuf_len(&v), cases[i].used);
	}
}

static void
vbuf_put_lengths__when_encoded__shortest_form_round_trips(void **state)
{
	static const uint16_t per[] = { 0, 1, 0x7F, 0x80, 0x1234, 0x3FFF,
		0x4000, 0x7FFF };
	static const uint32_t ber[] = { 0, 0x7F, 0x80, 0xFF, 0x100, 0xFFFF,
		0x10000, 0xFFFFFF, 0x1000000, 0xFFFFFFFFu };
	static const size_t ber_size[] = { 1, 1, 2, 2, 3, 3, 4, 4, 5, 5 };
	struct vbuf *b = vbuf_new(64);
	uint16_t l16;
	uint32_t l32;
	size_t i;

	assert_non_null(b);
	for (i = 0; i < sizeof(per) / sizeof(per[0]); i++) {
		vbuf_reset(b);
		assert_int_equal(vbuf_put_per_length(b, per[i]), 0);
		assert_int_equal(vbuf_len(b), per[i] < 0x80 ? 1 : 2);
		assert_int_equal(vbuf_get_per_length(b, &l16), 0);
		assert_int_equal(l16, per[i]);
	}
	assert_int_equal(vbuf_put_per_length(b, 0x8000), VDI_ERR_TOO_LARGE);
	assert_int_equal(vbuf_len(b), 0);
	for (i = 0; i < sizeof(ber) / sizeof(ber[0]); i++) {
		vbuf_reset(b);
		assert_int_equal(vbuf_put_ber_length(b, ber[i]), 0);
		assert_int_equal(vbuf_len(b), ber_size[i]);
		assert_int_equal(vbuf_get_ber_length(b, &l32), 0);
		assert_int_equal(l32, ber[i]);
	}
	vbuf_free(b);
}

static void
vbuf_put_int__when_written__exact_wire_bytes(void **state)
{
	static const unsigned char want[] = { 0xAB, 0x34, 0x12, 0x12, 0x34,
		0x78, 0x56, 0x34, 0x12, 0x12, 0x34, 0x56, 0x78, 8, 7, 6, 5, 4,
		3, 2, 1 };
	struct vbuf *b = vbuf_new(128);

	assert_non_null(b);
	assert_int_equal(vbuf_put_u8(b, 0xAB), 0);
	assert_int_equal(vbuf_put_u16le(b, 0x1234), 0);
	assert_int_equal(vbuf_put_u16be(b, 0x1234), 0);
	assert_int_equal(vbuf_put_u32le(b, 0x12345678), 0);
	assert_int_equal(vbuf_put_u32be(b, 0x12345678), 0);
	assert_int_equal(vbuf_put_u64le(b, 0x0102030405060708ull), 0);
	assert_int_equal(vbuf_len(b), sizeof(want));
	assert_memory_equal(vbuf_ptr(b), want, sizeof(want));
	vbuf_free(b);
}

static void
vbuf_put__when_past_hard_maximum__too_large_nothing_appended(void **state)
{
	struct vbuf *b = vbuf_new(10);
	unsigned char big[11] = { 0 };
	unsigned char *p;

	assert_non_null(b);
	assert_int_equal(vbuf_put(b, big, 11), VDI_ERR_TOO_LARGE);
	assert_int_equal(vbuf_len(b), 0);
	assert_int_equal(vbuf_put(b, big, 8), 0);
	assert_int_equal(vbuf_avail(b), 2);
	assert_int_equal(vbuf_put_u32le(b, 1), VDI_ERR_TOO_LARGE);
	assert_int_equal(vbuf_len(b), 8);
	assert_int_equal(vbuf_reserve(b, 3, &p), VDI_ERR_TOO_LARGE);
	assert_null(p);
	assert_int_equal(vbuf_put_u16be(b, 1), 0);
	assert_int_equal(vbuf_put_u8(b, 1), VDI_ERR_TOO_LARGE);
	/* consuming makes room again, and the data survive compaction */
	assert_int_equal(vbuf_consume(b, 4), 0);
	assert_int_equal(vbuf_put_u32be(b, 0x01020304), 0);
	assert_int_equal(vbuf_len(b), 10);
	assert_memory_equal(vbuf_ptr(b) + 6, "\x01\x02\x03\x04", 4);
	vbuf_free(b);
}

static void
vbuf_new__when_bad_size__null(void **state)
{
	assert_null(vbuf_new(0));
	assert_null(vbuf_new(VBUF_SIZE_MAX + 1));
	vbuf_free(NULL); /* accepted */
}

static void
vbuf_growth__when_many_small_puts__contents_kept(void **state)
{
	struct vbuf *b = vbuf_new(100000);
	uint32_t v;
	uint32_t i;

	assert_non_null(b);
	for (i = 0; i < 20000; i++)
		assert_int_equal(vbuf_put_u32le(b, i), 0);
	for (i = 0; i < 20000; i++) {
		assert_int_equal(vbuf_get_u32le(b, &v), 0);
		assert_int_equal(v, i);
	}
	assert_int_equal(vbuf_len(b), 0);
	vbuf_free(b);
}

static void
vbuf_view__when_written__readonly_error(void **state)
{
	struct vbuf v;
	unsigned char *p = (unsigned char *)"x";

	vbuf_init_view(&v, seq, sizeof(seq));
	assert_int_equal(vbuf_put_u8(&v, 1), VDI_ERR_READONLY);
	assert_int_equal(vbuf_put(&v, "a", 1), VDI_ERR_READONLY);
	assert_int_equal(vbuf_put(&v, "a", 0), VDI_ERR_READONLY);
	assert_int_equal(vbuf_reserve(&v, 1, &p), VDI_ERR_READONLY);
	assert_null(p);
	assert_int_equal(vbuf_poke_u8(&v, 0, 1), VDI_ERR_READONLY);
	assert_null(vbuf_mutable_ptr(&v));
	assert_int_equal(vbuf_avail(&v), 0);
	vbuf_reset(&v); /* no effect on views */
	assert_int_equal(vbuf_len(&v), sizeof(seq));
	assert_int_equal(seq[0], 1);
}

static void
vbuf_get_view__when_nested__bounded_to_child(void **state)
{
	/* outer: len(1) | inner bytes | trailer */
	static const unsigned char msg[] = { 3, 0xAA, 0xBB, 0xCC, 0xDD };
	struct vbuf v, child, grandchild;
	uint8_t n, x;
	uint32_t u32;

	vbuf_init_view(&v, msg, sizeof(msg));
	assert_int_equal(vbuf_get_u8(&v, &n), 0);
	assert_int_equal(vbuf_get_view(&v, n, &child), 0);
	assert_int_equal(vbuf_len(&child), 3);
	assert_int_equal(vbuf_len(&v), 1);
	/* the child cannot read past its end into the parent's trailer */
	assert_int_equal(vbuf_get_u32le(&child, &u32), VDI_ERR_TRUNCATED);
	assert_int_equal(
	    vbuf_get_view(&child, 4, &grandchild), VDI_ERR_TRUNCATED);
	assert_int_equal(vbuf_len(&grandchild), 0);
	assert_int_equal(vbuf_get_view(&child, 2, &grandchild), 0);
	assert_int_equal(vbuf_get_u8(&grandchild, &x), 0);
	assert_int_equal(x, 0xAA);
	assert_int_equal(vbuf_get_u8(&child, &x), 0);
	assert_int_equal(x, 0xCC);
	assert_int_equal(vbuf_get_u8(&v, &x), 0);
	assert_int_equal(x, 0xDD);
	/* a view longer than what is left fails and consumes nothing */
	vbuf_init_view(&v, msg, sizeof(msg));
	assert_int_equal(vbuf_get_view(&v, 6, &child), VDI_ERR_TRUNCATED);
	assert_int_equal(vbuf_len(&v), 5);
	assert_int_equal(vbuf_peek_view(&v, 4, 2, &child), VDI_ERR_TRUNCATED);
	assert_int_equal(vbuf_peek_view(&v, 4, 1, &child), 0);
	assert_int_equal(vbuf_ptr(&child)[0], 0xDD);
}

static void
vbuf_consume__when_too_much__error_else_front_and_end(void **state)
{
	struct vbuf v;

	vbuf_init_view(&v, seq, sizeof(seq));
	assert_int_equal(vbuf_consume(&v, 9), VDI_ERR_TRUNCATED);
	assert_int_equal(vbuf_consume_end(&v, 9), VDI_ERR_TRUNCATED);
	assert_int_equal(vbuf_consume(&v, 2), 0);
	assert_int_equal(vbuf_consume_end(&v, 2), 0);
	assert_int_equal(vbuf_len(&v), 4);
	assert_int_equal(vbuf_ptr(&v)[0], 3);
	assert_int_equal(vbuf_ptr(&v)[3], 6);
}

static void
vbuf_poke__when_rewriting_length__in_place_and_bounded(void **state)
{
	struct vbuf *b = vbuf_new(16);
	uint16_t l;

	assert_non_null(b);
	assert_int_equal(vbuf_put_u32be(b, 0x03000000), 0); /* TPKT, len 0 */
	assert_int_equal(vbuf_poke_u16be(b, 2, 0x0013), 0);
	assert_int_equal(vbuf_peek_u16be(b, 2, &l), 0);
	assert_int_equal(l, 0x13);
	assert_int_equal(vbuf_poke_u16le(b, 3, 1), VDI_ERR_TRUNCATED);
	assert_int_equal(vbuf_poke_u32le(b, 1, 1), VDI_ERR_TRUNCATED);
	assert_int_equal(vbuf_poke_u8(b, 4, 1), VDI_ERR_TRUNCATED);
	assert_int_equal(vbuf_poke_u32le(b, 0, 0x44332211), 0);
	assert_memory_equal(vbuf_ptr(b), "\x11\x22\x33\x44", 4);
	vbuf_free(b);
}

static void
vbuf_wipe__when_called__storage_zeroed(void **state)
{
	struct vbuf *b = vbuf_new(32);
	unsigned char *p;

	assert_non_null(b);
	assert_int_equal(vbuf_put(b, "secret-password", 15), 0);
	p = vbuf_mutable_ptr(b);
	assert_non_null(p);
	vbuf_wipe(b);
	assert_int_equal(vbuf_len(b), 0);
	/* storage is still owned by b, so reading it is defined */
	assert_int_equal(p[0], 0);
	assert_int_equal(p[14], 0);
	vbuf_free(b);
}

static void
vbuf_wipe__when_space_written_not_committed__zeroed_too(void **state)
{
	/* Bytes written through vbuf_space() and never committed (a read
	 * that stopped short) are wiped as well; consumed ones too. */
	struct vbuf *b = vbuf_new(4096);
	unsigned char *p, *q, more[300];
	size_t i;

	assert_non_null(b);
	assert_int_equal(vbuf_space(b, 300, &p), 0);
	memset(p, 'S', 300);
	assert_int_equal(vbuf_commit(b, 10), 0);
	assert_int_equal(vbuf_consume(b, 4), 0);
	vbuf_wipe(b);
	assert_int_equal(vbuf_space(b, 300, &q), 0);
	assert_ptr_equal(p, q);
	for (i = 0; i < 300; i++)
		assert_int_equal(q[i], 0);
	/* A grown buffer keeps its data, and a wipe clears all of it. */
	memset(q, 'T', 300);
	assert_int_equal(vbuf_commit(b, 300), 0);
	memset(more, 'T', sizeof(more));
	assert_int_equal(vbuf_put(b, more, sizeof(more)), 0);
	assert_int_equal(vbuf_len(b), 600);
	p = vbuf_mutable_ptr(b);
	for (i = 0; i < 600; i++)
		assert_int_equal(p[i], 'T');
	vbuf_wipe(b);
	for (i = 0; i < 600; i++)
		assert_int_equal(p[i], 0);
	vbuf_free(b);
}

static void
vbuf_peek_frame32__when_each_case__body_or_error(void **state)
{
	static const unsigned char f[] = { 0, 0, 0, 3, 'a', 'b', 'c', 'x' };
	static const unsigned char zero[] = { 0, 0, 0, 0, 'a' };
	static const unsigned char big[] = { 0, 0, 0x10, 0x01, 'a' };
	struct vbuf b, body;
	size_t total, n;

	vbuf_init_view(&b, f, sizeof(f));
	assert_int_equal(vbuf_peek_frame32(&b, 16, &body, &total), 0);
	assert_int_equal(total, 7);
	assert_int_equal(vbuf_len(&body), 3);
	assert_memory_equal(vbuf_ptr(&body), "abc", 3);
	assert_int_equal(vbuf_len(&b), sizeof(f)); /* nothing consumed */
	/* every truncation of the frame needs more */
	for (n = 0; n < 7; n++) {
		vbuf_init_view(&b, f, n);
		assert_int_equal(vbuf_peek_frame32(&b, 16, &body, &total),
		    VDI_ERR_NEED_MORE);
		assert_int_equal(total, 0);
		assert_int_equal(vbuf_len(&body), 0);
	}
	vbuf_init_view(&b, zero, sizeof(zero));
	assert_int_equal(
	    vbuf_peek_frame32(&b, 16, &body, &total), VDI_ERR_BAD_LENGTH);
	vbuf_init_view(&b, big, sizeof(big));
	assert_int_equal(
	    vbuf_peek_frame32(&b, 4096, &body, &total), VDI_ERR_TOO_LARGE);
	assert_int_equal(
	    vbuf_peek_frame32(&b, 4097, &body, &total), VDI_ERR_NEED_MORE);
}

static void
vbuf_space__when_committed__appended_else_bounded(void **state)
{
	struct vbuf *b = vbuf_new(64), v;
	unsigned char *p;
	uint8_t x;

	(void)state;
	assert_non_null(b);
	assert_int_equal(vbuf_space(b, 8, &p), 0);
	assert_non_null(p);
	assert_int_equal(vbuf_len(b), 0); /* nothing appended yet */
	memcpy(p, "abcdefgh", 8);
	assert_int_equal(vbuf_commit(b, 3), 0);
	assert_int_equal(vbuf_len(b), 3);
	assert_memory_equal(vbuf_ptr(b), "abc", 3);
	/* Past the room made, or past the maximum: refused, nothing added. */
	assert_int_equal(vbuf_commit(b, vbuf_storage(b)), VDI_ERR_TOO_LARGE);
	assert_int_equal(vbuf_len(b), 3);
	assert_int_equal(vbuf_space(b, 62, &p), VDI_ERR_TOO_LARGE);
	assert_null(p);
	/* Space after consumed bytes is reclaimed, the unread ones kept. */
	assert_int_equal(vbuf_get_u8(b, &x), 0);
	assert_int_equal(vbuf_space(b, 62, &p), 0);
	assert_int_equal(vbuf_commit(b, 62), 0);
	assert_int_equal(vbuf_len(b), 64);
	assert_memory_equal(vbuf_ptr(b), "bc", 2);
	vbuf_init_view(&v, "xy", 2);
	assert_int_equal(vbuf_space(&v, 1, &p), VDI_ERR_READONLY);
	assert_int_equal(vbuf_commit(&v, 0), VDI_ERR_READONLY);
	vbuf_free(b);
}

static void
vbuf_release__when_empty__storage_freed_else_kept(void **state)
{
	struct vbuf *b = vbuf_new(1024);

	(void)state;
	assert_non_null(b);
	assert_int_equal(vbuf_storage(b), 0);
	assert_int_equal(vbuf_put(b, "data", 4), 0);
	assert_true(vbuf_storage(b) >= 4);
	vbuf_release(b); /* unread bytes: kept */
	assert_int_equal(vbuf_len(b), 4);
	assert_memory_equal(vbuf_ptr(b), "data", 4);
	assert_int_equal(vbuf_consume(b, 4), 0);
	vbuf_release(b);
	assert_int_equal(vbuf_storage(b), 0);
	assert_int_equal(vbuf_len(b), 0);
	/* It grows again on the next write. */
	assert_int_equal(vbuf_put(b, "more", 4), 0);
	assert_memory_equal(vbuf_ptr(b), "more", 4);
	vbuf_free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    vbuf_get_int__when_enough_bytes__value_and_consumed),
		cmocka_unit_test(
		    vbuf_get_int__when_truncated_at_every_length__error_nothing_consumed),
		cmocka_unit_test(
		    vbuf_peek__when_in_range__value_not_consumed_else_truncated),
		cmocka_unit_test(
		    vbuf_get_bytes__when_short__error_output_zeroed_nothing_consumed),
		cmocka_unit_test(
		    vbuf_get_per_length__when_each_form__value_or_error),
		cmocka_unit_test(
		    vbuf_get_ber_length__when_each_form__value_or_error),
		cmocka_unit_test(
		    vbuf_put_lengths__when_encoded__shortest_form_round_trips),
		cmocka_unit_test(vbuf_put_int__when_written__exact_wire_bytes),
		cmocka_unit_test(
		    vbuf_put__when_past_hard_maximum__too_large_nothing_appended),
		cmocka_unit_test(vbuf_new__when_bad_size__null),
		cmocka_unit_test(
		    vbuf_growth__when_many_small_puts__contents_kept),
		cmocka_unit_test(vbuf_view__when_written__readonly_error),
		cmocka_unit_test(vbuf_get_view__when_nested__bounded_to_child),
		cmocka_unit_test(
		    vbuf_consume__when_too_much__error_else_front_and_end),
		cmocka_unit_test(
		    vbuf_poke__when_rewriting_length__in_place_and_bounded),
		cmocka_unit_test(vbuf_wipe__when_called__storage_zeroed),
		cmocka_unit_test(
		    vbuf_wipe__when_space_written_not_committed__zeroed_too),
		cmocka_unit_test(
		    vbuf_peek_frame32__when_each_case__body_or_error),
		cmocka_unit_test(
		    vbuf_space__when_committed__appended_else_bounded),
		cmocka_unit_test(
		    vbuf_release__when_empty__storage_freed_else_kept),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
