/* Unit tests for rdp/svc.c. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "test_rdp_capture.h"

#include "rdp/svc.h"

static void
rdp_svc_parse_chunk__when_captured__header_and_data(void **state)
{
	/* xrdp-full: cliprdr from the client carries SHOW_PROTOCOL. */
	struct cap c = cap_load("xrdp-full/0048-c2s-svc-cliprdr.bin");
	struct vbuf d = cap_send_data(&c, NULL);
	struct rdp_svc_chunk ch;
	size_t k;

	assert_int_equal(rdp_svc_parse_chunk(&d, &ch), 0);
	assert_int_equal(ch.flags,
	    RDP_CHANNEL_FLAG_FIRST | RDP_CHANNEL_FLAG_LAST |
		RDP_CHANNEL_FLAG_SHOW_PROTOCOL);
	assert_int_equal(ch.length, vbuf_len(&d) - 8);
	assert_int_equal(vbuf_len(&ch.data), ch.length);
	/* Every prefix of a FIRST|LAST chunk is short of its length. */
	for (k = 0; k < vbuf_len(&d); k++) {
		unsigned char *q = dup_bytes(vbuf_ptr(&d), k);
		struct vbuf v;

		vbuf_init_view(&v, q, k);
		assert_true(is_length_error(rdp_svc_parse_chunk(&v, &ch)));
		free(q);
	}
	cap_free(&c);
}

static void
rdp_svc_parse_chunk__when_length_larger_or_smaller_than_data__bad_length(
    void **state)
{
	/* Guacamole CVE-2020-9497: a length field larger than the data that
	 * follows was trusted. */
	unsigned char b[8 + 4] = { 10, 0, 0, 0, 3, 0, 0, 0, 1, 2, 3, 4 };
	struct rdp_svc_chunk ch;
	struct vbuf v;

	vbuf_init_view(&v, b, sizeof(b));
	assert_int_equal(rdp_svc_parse_chunk(&v, &ch), VDI_ERR_BAD_LENGTH);
	b[0] = 3; /* data longer than the whole message */
	assert_int_equal(rdp_svc_parse_chunk(&v, &ch), VDI_ERR_BAD_LENGTH);
	b[4] = RDP_CHANNEL_FLAG_FIRST; /* a first part: 4 of 10 is fine */
	b[0] = 10;
	assert_int_equal(rdp_svc_parse_chunk(&v, &ch), 0);
	assert_int_equal(vbuf_len(&ch.data), 4);
}

/* Splits msg with rdp_svc_write_message, parses every TPKT back and feeds
 * the chunks to s. Returns the number of chunks. */
static size_t
roundtrip(struct rdp_svc_stream *s, const unsigned char *msg, size_t len,
    size_t chunk, struct vbuf *whole, enum rdp_action decide)
{
	struct vbuf *out = vbuf_new(1u << 20);
	struct rdp_frame f;
	struct rdp_svc_chunk ch;
	struct rdp_svc_step st;
	struct rdp_mcs_pdu p;
	struct vbuf pdu, mcs;
	size_t n = 0;

	assert_int_equal(rdp_svc_write_message(out, 1, 1007, 1004, msg, len,
			     RDP_CHANNEL_FLAG_SHOW_PROTOCOL, chunk),
	    0);
	while (vbuf_len(out) > 0) {
		assert_int_equal(rdp_frame_next(out, 0, &f, &pdu), 0);
		assert_int_equal(rdp_x224_parse_data(&pdu, &mcs), 0);
		assert_int_equal(rdp_mcs_parse_domain(&mcs, &p), 0);
		assert_int_equal(p.type, RDP_MCS_SEND_DATA_INDICATION);
		assert_int_equal(p.channel_id, 1004);
		assert_int_equal(rdp_svc_parse_chunk(&p.data, &ch), 0);
		assert_true(ch.flags & RDP_CHANNEL_FLAG_SHOW_PROTOCOL);
		assert_int_equal(rdp_svc_stream_feed(s, &ch, &st), 0);
		assert_int_equal(st.first, n == 0);
		if (st.first)
			rdp_svc_stream_decide(s, decide);
		else
			assert_int_equal(st.decision, decide);
		assert_true(rdp_svc_stream_busy(s) == !st.last);
		if (st.last && whole != NULL)
			assert_int_equal(vbuf_put_buf(whole, &st.msg), 0);
		n++;
	}
	vbuf_free(out);
	return n;
}

static void
rdp_svc_stream_feed__when_chunked_message__reassembled_decision_kept(
    void **state)
{
	static unsigned char msg[5000];
	struct vbuf *whole = vbuf_new(8192);
	struct rdp_svc_stream s;
	size_t i;

	for (i = 0; i < sizeof(msg); i++)
		msg[i] = (unsigned char)(i * 7);
	rdp_svc_stream_init(&s, 1, 0);
	assert_int_equal(
	    roundtrip(&s, msg, sizeof(msg), 0, whole, RDP_DROP), 4);
	assert_int_equal(vbuf_len(whole), sizeof(msg));
	assert_memory_equal(vbuf_ptr(whole), msg, sizeof(msg));
	/* A second message on the same stream; small chunks. */
	vbuf_reset(whole);
	assert_int_equal(roundtrip(&s, msg, 100, 7, whole, RDP_PASS), 15);
	assert_memory_equal(vbuf_ptr(whole), msg, 100);
	/* Empty message: one FIRST|LAST chunk. */
	vbuf_reset(whole);
	assert_int_equal(roundtrip(&s, msg, 0, 0, whole, RDP_PASS), 1);
	assert_int_equal(vbuf_len(whole), 0);
	rdp_svc_stream_free(&s);
	rdp_svc_stream_free(&s);
	rdp_svc_stream_free(NULL);
	/* Pass-through streams keep nothing: msg is each chunk's part. */
	rdp_svc_stream_init(&s, 0, 0);
	assert_int_equal(roundtrip(&s, msg, 3200, 1600, NULL, RDP_PASS), 2);
	assert_null(s.buf);
	vbuf_free(whole);
}

static struct rdp_svc_chunk
mk(uint32_t length, uint32_t flags, const void *data, size_t n)
{
	struct rdp_svc_chunk c;

	memset(&c, 0, sizeof(c));
	c.length = length;
	c.flags = flags;
	vbuf_init_view(&c.data, data, n);
	return c;
}

static void
rdp_svc_stream_feed__when_sequence_broken__errors_and_reset(void **state)
{
	static const unsigned char d[16];
	struct rdp_svc_stream s;
	struct rdp_svc_step st;
	struct rdp_svc_chunk c;
	const uint32_t F = RDP_CHANNEL_FLAG_FIRST, L = RDP_CHANNEL_FLAG_LAST;

	rdp_svc_stream_init(&s, 1, 0);
	/* Fragments without FIRST (BlueGate-like index games). */
	c = mk(16, 0, d, 8);
	assert_int_equal(rdp_svc_stream_feed(&s, &c, &st), VDI_ERR_BAD_FORMAT);
	c = mk(16, L, d, 8);
	assert_int_equal(rdp_svc_stream_feed(&s, &c, &st), VDI_ERR_BAD_FORMAT);
	/* FIRST inside a message. */
	c = mk(16, F, d, 8);
	assert_int_equal(rdp_svc_stream_feed(&s, &c, &st), 0);
	assert_int_equal(rdp_svc_stream_feed(&s, &c, &st), VDI_ERR_BAD_FORMAT);
	assert_false(rdp_svc_stream_busy(&s)); /* reset */
	/* Length field changing between chunks. */
	c = mk(16, F, d, 8);
	assert_int_equal(rdp_svc_stream_feed(&s, &c, &st), 0);
	c = mk(17, L, d, 8);
	assert_int_equal(rdp_svc_stream_feed(&s, &c, &st), VDI_ERR_BAD_LENGTH);
	/* Chunks overrunning the total. */
	c = mk(16, F, d, 8);
	assert_int_equal(rdp_svc_stream_feed(&s, &c, &st), 0);
	c = mk(16, 0, d, 9);
	assert_int_equal(rdp_svc_stream_feed(&s, &c, &st), VDI_ERR_BAD_LENGTH);
	/* LAST leaving it short. */
	c = mk(16, F, d, 8);
	assert_int_equal(rdp_svc_stream_feed(&s, &c, &st), 0);
	c = mk(16, L, d, 7);
	assert_int_equal(rdp_svc_stream_feed(&s, &c, &st), VDI_ERR_BAD_LENGTH);
	/* An empty middle chunk, and a complete message without LAST. */
	c = mk(16, F, d, 8);
	assert_int_equal(rdp_svc_stream_feed(&s, &c, &st), 0);
	c = mk(16, 0, d, 0);
	assert_int_equal(rdp_svc_stream_feed(&s, &c, &st), VDI_ERR_BAD_LENGTH);
	c = mk(16, F, d, 16);
	assert_int_equal(rdp_svc_stream_feed(&s, &c, &st), VDI_ERR_BAD_LENGTH);
	/* Compressed: channel compression is switched off. */
	c = mk(8, F | L | RDP_CHANNEL_PACKET_COMPRESSED, d, 8);
	assert_int_equal(rdp_svc_stream_feed(&s, &c, &st), VDI_ERR_UNSUPPORTED);
	/* Still usable after every error. */
	c = mk(8, F | L, d, 8);
	assert_int_equal(rdp_svc_stream_feed(&s, &c, &st), 0);
	assert_true(st.first && st.last);
	assert_int_equal(vbuf_len(&st.msg), 8);
	rdp_svc_stream_free(&s);
}

static void
rdp_svc_stream_feed__when_total_over_cap__too_large_before_storing(void **state)
{
	/* FreeRDP proxy / Guacamole: unbounded reassembly. The total is
	 * checked on FIRST, before any allocation. */
	static const unsigned char d[1600];
	struct rdp_svc_stream s;
	struct rdp_svc_step st;
	struct rdp_svc_chunk c;
	uint32_t i;

	rdp_svc_stream_init(&s, 1, 0);
	assert_int_equal(s.cap, RDP_SVC_REASSEMBLY_MAX);
	c = mk(RDP_SVC_REASSEMBLY_MAX + 1, RDP_CHANNEL_FLAG_FIRST, d, 1600);
	assert_int_equal(rdp_svc_stream_feed(&s, &c, &st), VDI_ERR_TOO_LARGE);
	assert_null(s.buf);
	c = mk(0xFFFFFFFF, RDP_CHANNEL_FLAG_FIRST, d, 1600);
	assert_int_equal(rdp_svc_stream_feed(&s, &c, &st), VDI_ERR_TOO_LARGE);
	/* Exactly the cap is fine, chunk after chunk. */
	c = mk(RDP_SVC_REASSEMBLY_MAX, RDP_CHANNEL_FLAG_FIRST, d, 1600);
	assert_int_equal(rdp_svc_stream_feed(&s, &c, &st), 0);
	for (i = 1600; i + 1600 < RDP_SVC_REASSEMBLY_MAX; i += 1600) {
		c = mk(RDP_SVC_REASSEMBLY_MAX, 0, d, 1600);
		assert_int_equal(rdp_svc_stream_feed(&s, &c, &st), 0);
	}
	c = mk(RDP_SVC_REASSEMBLY_MAX, RDP_CHANNEL_FLAG_LAST, d,
	    RDP_SVC_REASSEMBLY_MAX - i);
	assert_int_equal(rdp_svc_stream_feed(&s, &c, &st), 0);
	assert_true(st.last);
	assert_int_equal(vbuf_len(&st.msg), RDP_SVC_REASSEMBLY_MAX);
	rdp_svc_stream_free(&s);
	/* A smaller cap per stream. */
	rdp_svc_stream_init(&s, 1, 100);
	c = mk(101, RDP_CHANNEL_FLAG_FIRST, d, 50);
	assert_int_equal(rdp_svc_stream_feed(&s, &c, &st), VDI_ERR_TOO_LARGE);
	rdp_svc_stream_free(&s);
}

static void
rdp_svc_write_message__when_bad_arguments__invalid_nothing_appended(
    void **state)
{
	struct vbuf *out = vbuf_new(1u << 16);

	assert_int_equal(rdp_svc_write_message(out, 0, 1007, 1004, "x", 1,
			     RDP_CHANNEL_FLAG_FIRST, 0),
	    VDI_ERR_INVALID_ARG);
	assert_int_equal(
	    rdp_svc_write_message(out, 0, 1007, 1004, "x", 1, 0, 0x4000),
	    VDI_ERR_INVALID_ARG);
	assert_int_equal(
	    rdp_svc_write_message(out, 0, 1000, 1004, "x", 1, 0, 0),
	    VDI_ERR_INVALID_ARG);
	assert_int_equal(vbuf_len(out), 0);
	vbuf_free(out);
	/* Output too small: partial chunks are removed. */
	out = vbuf_new(100);
	{
		static const unsigned char big[300];

		assert_int_equal(rdp_svc_write_message(out, 0, 1007, 1004, big,
				     sizeof(big), 0, 60),
		    VDI_ERR_TOO_LARGE);
	}
	assert_int_equal(vbuf_len(out), 0);
	vbuf_free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    rdp_svc_parse_chunk__when_captured__header_and_data),
		cmocka_unit_test(
		    rdp_svc_parse_chunk__when_length_larger_or_smaller_than_data__bad_length),
		cmocka_unit_test(
		    rdp_svc_stream_feed__when_chunked_message__reassembled_decision_kept),
		cmocka_unit_test(
		    rdp_svc_stream_feed__when_sequence_broken__errors_and_reset),
		cmocka_unit_test(
		    rdp_svc_stream_feed__when_total_over_cap__too_large_before_storing),
		cmocka_unit_test(
		    rdp_svc_write_message__when_bad_arguments__invalid_nothing_appended),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
