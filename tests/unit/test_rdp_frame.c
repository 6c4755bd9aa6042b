/* Unit tests for rdp/frame.c and rdp.c. */
#include "config.h"

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "test_rdp_capture.h"

#include "rdp/frame.h"
#include "rdp/rdp.h"

static const char *sessions[] = { "shadow-hardened", "shadow-full",
	"shadow-persist", "xrdp-full", "relay-shadow", "relay-xrdp",
	"relay-xrdp-audio", "relay-persist" };

/* Calls fn on every captured PDU file (not the empty "dropped" ones). */
static void
each_capture(
    void (*fn)(const char *rel, const struct cap *c, void *arg), void *arg)
{
	const char *top = getenv("top_srcdir");
	char dir[4096], rel[512];
	struct dirent *e;
	size_t i, n = 0;
	DIR *d;

	for (i = 0; i < sizeof(sessions) / sizeof(sessions[0]); i++) {
		snprintf(dir, sizeof(dir), "%s/tests/unit/rdp-captures/%s",
		    top != NULL ? top : "..", sessions[i]);
		assert_non_null(d = opendir(dir));
		while ((e = readdir(d)) != NULL) {
			struct cap c;

			if (e->d_name[0] == '.' ||
			    strstr(e->d_name, "dropped") != NULL)
				continue;
			snprintf(
			    rel, sizeof(rel), "%s/%s", sessions[i], e->d_name);
			c = cap_load(rel);
			fn(rel, &c, arg);
			cap_free(&c);
			n++;
		}
		closedir(d);
	}
	assert_true(n > 100);
}

static void
one_pdu(const char *rel, const struct cap *c, void *arg)
{
	struct vbuf s = cap_view(c), pdu;
	struct rdp_frame f;
	int want_fp = strstr(rel, "fastpath") != NULL;

	(void)arg;
	if (strstr(rel, ".fwd") != NULL || strstr(rel, ".local") != NULL)
		return; /* may hold several PDUs: see the stream test */
	assert_int_equal(rdp_frame_next(&s, 0, &f, &pdu), 0);
	assert_int_equal(f.len, c->len);
	assert_int_equal(vbuf_len(&s), 0);
	assert_int_equal(f.kind, want_fp ? RDP_FRAME_FASTPATH : RDP_FRAME_TPKT);
}

static void
rdp_frame_next__when_each_captured_pdu__one_whole_frame(void **state)
{
	each_capture(one_pdu, NULL);
}

static void
every_prefix(const char *rel, const struct cap *c, void *arg)
{
	struct vbuf s;
	struct rdp_frame f;
	size_t k;

	(void)rel;
	(void)arg;
	for (k = 0; k < c->len; k++) {
		unsigned char *q = dup_bytes(c->p, k);

		vbuf_init_view(&s, q, k);
		assert_int_equal(rdp_frame_peek(&s, 0, &f), VDI_ERR_NEED_MORE);
		assert_int_equal(f.len, 0);
		free(q);
	}
}

static void
rdp_frame_peek__when_every_prefix_of_captures__need_more(void **state)
{
	each_capture(every_prefix, NULL);
}

struct stream {
	struct vbuf *all;
	size_t count;
};

static void
append(const char *rel, const struct cap *c, void *arg)
{
	struct stream *st = arg;

	if (c->len == 0)
		return;
	assert_int_equal(vbuf_put(st->all, c->p, c->len), 0);
	(void)rel;
}

static void
rdp_frame_next__when_captures_back_to_back__split_at_every_boundary(void **s)
{
	struct stream st = { NULL, 0 };
	struct rdp_frame f;
	struct vbuf pdu;
	size_t total;

	assert_non_null(st.all = vbuf_new(4u << 20));
	each_capture(append, &st);
	total = vbuf_len(st.all);
	while (vbuf_len(st.all) > 0) {
		assert_int_equal(rdp_frame_next(st.all, 0, &f, &pdu), 0);
		assert_int_equal(vbuf_len(&pdu), f.len);
		st.count++;
	}
	assert_true(st.count > 100);
	assert_true(total > 10000);
	vbuf_free(st.all);
}

static void
rdp_frame_peek__when_bad_first_bytes__errors(void **state)
{
	static const unsigned char act1[] = { 0x01, 0x05, 0, 0, 0 };
	static const unsigned char act2[] = { 0x02, 0x05, 0, 0, 0 };
	static const unsigned char tpkt_rsv[] = { 0x03, 0x01, 0x00, 0x07, 2,
		0xF0, 0x80 };
	static const unsigned char tpkt_short[] = { 0x03, 0x00, 0x00, 0x06, 2,
		0xF0 };
	static const unsigned char fp_short[] = { 0x00, 0x02 };
	static const unsigned char fp_short2[] = { 0x00, 0x80, 0x03 };
	static const unsigned char fp_big[] = { 0x00, 0xFF, 0xFF };
	static const unsigned char tpkt_big[] = { 0x03, 0x00, 0xFF, 0xFF };
	struct rdp_frame f;
	struct vbuf v;

	vbuf_init_view(&v, act1, sizeof(act1));
	assert_int_equal(rdp_frame_peek(&v, 0, &f), VDI_ERR_BAD_FORMAT);
	vbuf_init_view(&v, act2, sizeof(act2));
	assert_int_equal(rdp_frame_peek(&v, 0, &f), VDI_ERR_BAD_FORMAT);
	vbuf_init_view(&v, tpkt_rsv, sizeof(tpkt_rsv));
	assert_int_equal(rdp_frame_peek(&v, 0, &f), VDI_ERR_BAD_FORMAT);
	vbuf_init_view(&v, tpkt_short, sizeof(tpkt_short));
	assert_int_equal(rdp_frame_peek(&v, 0, &f), VDI_ERR_BAD_LENGTH);
	vbuf_init_view(&v, fp_short, sizeof(fp_short));
	assert_int_equal(rdp_frame_peek(&v, 0, &f), VDI_ERR_BAD_LENGTH);
	vbuf_init_view(&v, fp_short2, sizeof(fp_short2));
	assert_int_equal(rdp_frame_peek(&v, 0, &f), VDI_ERR_BAD_LENGTH);
	/* Hard maximum: refused before the bytes arrive. */
	vbuf_init_view(&v, fp_big, sizeof(fp_big));
	assert_int_equal(rdp_frame_peek(&v, 1000, &f), VDI_ERR_TOO_LARGE);
	assert_int_equal(rdp_frame_peek(&v, 0, &f), VDI_ERR_NEED_MORE);
	vbuf_init_view(&v, tpkt_big, sizeof(tpkt_big));
	assert_int_equal(rdp_frame_peek(&v, 16384, &f), VDI_ERR_TOO_LARGE);
	assert_int_equal(rdp_frame_peek(&v, 0, &f), VDI_ERR_NEED_MORE);
}

static void
rdp_tpkt_begin_end__when_payload__length_filled_and_payload_view(void **s)
{
	struct vbuf *out, payload;
	size_t mark;

	assert_non_null(out = vbuf_new(RDP_FRAME_MAX + 10));
	assert_int_equal(vbuf_put_u8(out, 0xAA), 0); /* something before */
	assert_int_equal(rdp_tpkt_begin(out, &mark), 0);
	assert_int_equal(mark, 1);
	assert_int_equal(vbuf_put(out, "hello", 5), 0);
	assert_int_equal(rdp_tpkt_end(out, mark), 0);
	assert_int_equal(vbuf_consume(out, 1), 0);
	assert_int_equal(rdp_tpkt_payload(out, &payload), 0);
	assert_int_equal(vbuf_len(&payload), 5);
	assert_memory_equal(vbuf_ptr(&payload), "hello", 5);
	/* Too large for TPKT. */
	vbuf_reset(out);
	assert_int_equal(rdp_tpkt_begin(out, &mark), 0);
	assert_int_equal(vbuf_reserve(out, RDP_FRAME_MAX, NULL), 0);
	assert_int_equal(rdp_tpkt_end(out, mark), VDI_ERR_TOO_LARGE);
	vbuf_free(out);
}

static void
rdp_tpkt_payload__when_length_mismatch_or_not_tpkt__errors(void **state)
{
	static const unsigned char bad_len[] = { 3, 0, 0, 9, 2, 0xF0, 0x80 };
	static const unsigned char fp[] = { 0, 4, 1, 1 };
	struct vbuf v, p;

	vbuf_init_view(&v, bad_len, sizeof(bad_len));
	assert_int_equal(rdp_tpkt_payload(&v, &p), VDI_ERR_BAD_LENGTH);
	vbuf_init_view(&v, fp, sizeof(fp));
	assert_int_equal(rdp_tpkt_payload(&v, &p), VDI_ERR_BAD_FORMAT);
	vbuf_init_view(&v, fp, 1);
	assert_int_equal(rdp_tpkt_payload(&v, &p), VDI_ERR_TRUNCATED);
}

/* --- fast-path ------------------------------------------------------------ */

static void
rdp_fastpath_check_output__when_captured_uncompressed__pass(void **state)
{
	/* Compression switched off by the relay's Client Info rewrite. */
	struct cap c = cap_load("relay-xrdp/0033-s2c-fastpath-output.bin");
	struct vbuf v;
	struct rdp_verdict vd;

	v = cap_view(&c);
	assert_int_equal(rdp_fastpath_check_output(&v, &vd), 0);
	assert_int_equal(vd.action, RDP_PASS);
	cap_free(&c);
	/* compressionFlags present but without PACKET_COMPRESSED. */
	c = cap_load("xrdp-full/0033-s2c-fastpath-output.bin");
	v = cap_view(&c);
	assert_int_equal(rdp_fastpath_check_output(&v, &vd), 0);
	assert_int_equal(vd.action, RDP_PASS);
	cap_free(&c);
}

static void
rdp_fastpath_check_output__when_captured_compressed__close(void **state)
{
	/* The client asked for compression (no relay in between). */
	static const char *files[] = {
		"shadow-full/0035-s2c-fastpath-output.bin",
		"shadow-full/0036-s2c-fastpath-output.bin",
	};
	struct rdp_verdict vd;
	struct vbuf v;
	struct cap c;
	size_t i;

	for (i = 0; i < 2; i++) {
		c = cap_load(files[i]);
		v = cap_view(&c);
		assert_int_equal(rdp_fastpath_check_output(&v, &vd), 0);
		assert_int_equal(vd.action, RDP_CLOSE);
		assert_non_null(
		    strstr(vd.reason, "fastpath_output_compressed"));
		cap_free(&c);
	}
}

static void
rdp_fastpath_check_output__when_encrypted_or_bad_size__close(void **state)
{
	/* action 0, flags ENCRYPTED; length 6; one update of size 1. */
	unsigned char enc[] = { 0x80, 6, 0x00, 0x01, 0x00, 0xAA };
	/* update size 9 but 1 byte follows. */
	unsigned char big[] = { 0x00, 6, 0x00, 0x09, 0x00, 0xAA };
	/* compression flag set, compressionFlags byte missing. */
	unsigned char cut[] = { 0x00, 3, 0x80 };
	unsigned char ok[] = { 0x00, 6, 0x00, 0x01, 0x00, 0xAA };
	struct rdp_verdict vd;
	struct vbuf v;

	vbuf_init_view(&v, enc, sizeof(enc));
	assert_int_equal(rdp_fastpath_check_output(&v, &vd), 0);
	assert_int_equal(vd.action, RDP_CLOSE);
	assert_string_equal(vd.reason, "fastpath_output_encrypted");
	vbuf_init_view(&v, big, sizeof(big));
	assert_int_equal(rdp_fastpath_check_output(&v, &vd), 0);
	assert_int_equal(vd.action, RDP_CLOSE);
	assert_string_equal(vd.reason, "fastpath_output_malformed");
	vbuf_init_view(&v, cut, sizeof(cut));
	assert_int_equal(rdp_fastpath_check_output(&v, &vd), 0);
	assert_int_equal(vd.action, RDP_CLOSE);
	vbuf_init_view(&v, ok, sizeof(ok));
	assert_int_equal(rdp_fastpath_check_output(&v, &vd), 0);
	assert_int_equal(vd.action, RDP_PASS);
	/* Not a whole fast-path PDU. */
	vbuf_init_view(&v, ok, 5);
	assert_int_equal(
	    rdp_fastpath_check_output(&v, &vd), VDI_ERR_INVALID_ARG);
}

static void
rdp_fastpath_check_input__when_captured__pass(void **state)
{
	static const char *files[] = {
		"shadow-full/0040-c2s-fastpath-input.bin",
		"shadow-full/0041-c2s-fastpath-input.bin",
		"xrdp-full/0037-c2s-fastpath-input.bin",
	};
	struct rdp_verdict vd;
	struct vbuf v;
	struct cap c;
	size_t i;

	for (i = 0; i < 3; i++) {
		c = cap_load(files[i]);
		v = cap_view(&c);
		assert_int_equal(rdp_fastpath_check_input(&v, &vd), 0);
		assert_int_equal(vd.action, RDP_PASS);
		cap_free(&c);
	}
}

static void
rdp_fastpath_check_input__when_bad_events__close(void **state)
{
	/* 1 event: scancode (code 0) + key. */
	unsigned char ok[] = { 0x04, 4, 0x00, 0x1E };
	/* numEvents 0 -> extra byte: 2 events: sync, unicode(2). */
	unsigned char ext[] = { 0x00, 7, 2, 0x60, 0x80, 0x41, 0x00 };
	/* event code 7 does not exist. */
	unsigned char unk[] = { 0x04, 3, 0xE0 };
	/* 2 events announced, 1 present. */
	unsigned char few[] = { 0x08, 3, 0x60 };
	/* trailing byte after the events. */
	unsigned char extra[] = { 0x04, 4, 0x60, 0x00 };
	/* encrypted. */
	unsigned char enc[] = { 0x84, 3, 0x60 };
	struct rdp_verdict vd;
	struct vbuf v;

	vbuf_init_view(&v, ok, sizeof(ok));
	assert_int_equal(rdp_fastpath_check_input(&v, &vd), 0);
	assert_int_equal(vd.action, RDP_PASS);
	vbuf_init_view(&v, ext, sizeof(ext));
	assert_int_equal(rdp_fastpath_check_input(&v, &vd), 0);
	assert_int_equal(vd.action, RDP_PASS);
	vbuf_init_view(&v, unk, sizeof(unk));
	assert_int_equal(rdp_fastpath_check_input(&v, &vd), 0);
	assert_int_equal(vd.action, RDP_CLOSE);
	assert_string_equal(vd.reason, "fastpath_input_unknown_event code=7");
	vbuf_init_view(&v, few, sizeof(few));
	assert_int_equal(rdp_fastpath_check_input(&v, &vd), 0);
	assert_int_equal(vd.action, RDP_CLOSE);
	vbuf_init_view(&v, extra, sizeof(extra));
	assert_int_equal(rdp_fastpath_check_input(&v, &vd), 0);
	assert_int_equal(vd.action, RDP_CLOSE);
	vbuf_init_view(&v, enc, sizeof(enc));
	assert_int_equal(rdp_fastpath_check_input(&v, &vd), 0);
	assert_string_equal(vd.reason, "fastpath_input_encrypted");
}

/* --- rdp.c ---------------------------------------------------------------- */

static void
rdp_verdict_set__when_less_severe__kept(void **state)
{
	struct rdp_verdict v;

	rdp_verdict_init(&v);
	assert_int_equal(v.action, RDP_PASS);
	rdp_verdict_set(&v, RDP_DROP, "first=%d", 1);
	rdp_verdict_set(&v, RDP_REWRITE, "second");
	assert_int_equal(v.action, RDP_DROP);
	assert_string_equal(v.reason, "first=1");
	rdp_verdict_set(&v, RDP_DROP, "third");
	assert_string_equal(v.reason, "first=1");
	rdp_verdict_set(&v, RDP_CLOSE, "fourth");
	assert_int_equal(v.action, RDP_CLOSE);
	assert_string_equal(v.reason, "fourth");
	assert_string_equal(rdp_action_name(v.action), "close");
}

/* No call of the verdict API makes a verdict less severe, or replaces the
 * refusal of an equally severe one: set, refuse, escalate and merge are
 * each tried with every action below and at CLOSE. */
static void
rdp_verdict__when_any_call_less_or_as_severe__unchanged(void **state)
{
	static const enum rdp_action all[] = { RDP_PASS, RDP_REWRITE, RDP_DROP,
		RDP_CLOSE };
	struct rdp_verdict v, other;
	size_t i;

	rdp_verdict_init(&v);
	rdp_verdict_refuse(
	    &v, RDP_CLOSE, RDP_REFUSED_DVC, 7, "cliprdr", 7, "dvc_refused");
	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		rdp_verdict_set(&v, all[i], "set");
		rdp_verdict_set(&v, all[i], NULL);
		rdp_verdict_refuse(
		    &v, all[i], RDP_REFUSED_PDU, 1, "x", 1, "refuse");
		rdp_verdict_escalate(&v, all[i]);
		rdp_verdict_init(&other);
		rdp_verdict_refuse(
		    &other, all[i], RDP_REFUSED_CHANNEL, 9, NULL, 0, "merged");
		rdp_verdict_merge(&v, &other);
		assert_int_equal(v.action, RDP_CLOSE);
		assert_int_equal(v.what.kind, RDP_REFUSED_DVC);
		assert_int_equal(v.what.code, 7);
		assert_string_equal(v.what.name, "cliprdr");
		assert_string_equal(v.reason, "dvc_refused name=cliprdr");
	}
	/* From DROP, only a CLOSE gets through. */
	rdp_verdict_init(&v);
	rdp_verdict_refuse(
	    &v, RDP_DROP, RDP_REFUSED_CHANNEL, 1004, NULL, 0, "dropped");
	rdp_verdict_set(&v, RDP_REWRITE, "rewrite");
	rdp_verdict_escalate(&v, RDP_PASS);
	assert_int_equal(v.action, RDP_DROP);
	assert_int_equal(v.what.kind, RDP_REFUSED_CHANNEL);
	assert_string_equal(v.reason, "dropped");
	rdp_verdict_set(&v, RDP_CLOSE, "closed");
	assert_int_equal(v.action, RDP_CLOSE);
	assert_int_equal(v.what.kind, RDP_REFUSED_RULE);
	assert_string_equal(v.reason, "closed");
}

/* A REWRITE that refused nothing (a held message) gives way to the first
 * one that refused something; escalate keeps what was refused. */
static void
rdp_verdict_refuse__when_rewrite_held__first_refusal_kept_and_escalated(
    void **state)
{
	struct rdp_verdict v;

	rdp_verdict_init(&v);
	rdp_verdict_set(&v, RDP_REWRITE, NULL);
	assert_int_equal(v.what.kind, RDP_REFUSED_NOTHING);
	rdp_verdict_refuse(&v, RDP_REWRITE, RDP_REFUSED_PDU, 0x2B, NULL, 0,
	    "persistent_key_list_dropped");
	rdp_verdict_refuse(
	    &v, RDP_REWRITE, RDP_REFUSED_PDU, 0x01, NULL, 0, "second");
	assert_int_equal(v.what.code, 0x2B);
	rdp_verdict_escalate(&v, RDP_DROP);
	assert_int_equal(v.action, RDP_DROP);
	assert_int_equal(v.what.kind, RDP_REFUSED_PDU);
	assert_int_equal(v.what.code, 0x2B);
	assert_string_equal(v.reason, "persistent_key_list_dropped");
	assert_string_equal(rdp_refusal_name(v.what.kind), "pdu");
}

/* A peer-supplied name is sanitised in the data and in the reason, and a
 * merged verdict carries it. */
static void
rdp_verdict_merge__when_more_severe__takes_sanitised_name(void **state)
{
	struct rdp_verdict lower, v;

	rdp_verdict_init(&lower);
	rdp_verdict_refuse(&lower, RDP_DROP, RDP_REFUSED_DVC, 3,
	    "a name=b\n\x01", 10, "dvc_refused");
	assert_string_equal(lower.what.name, "a?name?b??");
	assert_string_equal(lower.reason, "dvc_refused name=a?name?b??");
	rdp_verdict_init(&v);
	rdp_verdict_set(&v, RDP_REWRITE, NULL);
	rdp_verdict_merge(&v, &lower);
	assert_int_equal(v.action, RDP_DROP);
	assert_int_equal(v.what.kind, RDP_REFUSED_DVC);
	assert_int_equal(v.what.code, 3);
	assert_string_equal(v.what.name, "a?name?b??");
	assert_string_equal(v.reason, lower.reason);
}

static void
rdp_name_sanitize__when_hostile_bytes__replaced_and_bounded(void **state)
{
	char out[8];

	assert_string_equal(
	    rdp_name_sanitize(out, sizeof(out), "a b=\n", 5), "a?b??");
	assert_string_equal(
	    rdp_name_sanitize(out, sizeof(out), "Microsoft::Windows", 18),
	    "Microso");
	assert_string_equal(
	    rdp_name_sanitize(out, sizeof(out), "ab\0cd", 5), "ab");
	assert_string_equal(rdp_name_sanitize(out, 1, "abc", 3), "");
}

static void
rdp_msgs__when_full__too_large(void **state)
{
	struct rdp_msgs m;
	struct vbuf v;
	size_t i;

	assert_int_equal(rdp_msgs_init(&m, 0), VDI_ERR_INVALID_ARG);
	assert_int_equal(rdp_msgs_init(&m, 1000), 0);
	for (i = 0; i < RDP_MSGS_MAX; i++) {
		assert_int_equal(vbuf_put_u8(m.buf, (uint8_t)i), 0);
		assert_int_equal(rdp_msgs_close(&m), 0);
	}
	assert_int_equal(rdp_msgs_close(&m), VDI_ERR_TOO_LARGE);
	assert_int_equal(rdp_msgs_get(&m, 5, &v), 0);
	assert_int_equal(vbuf_len(&v), 1);
	assert_int_equal(*vbuf_ptr(&v), 5);
	assert_int_equal(
	    rdp_msgs_get(&m, RDP_MSGS_MAX, &v), VDI_ERR_INVALID_ARG);
	rdp_msgs_reset(&m);
	assert_int_equal(m.n, 0);
	rdp_msgs_free(&m);
	rdp_msgs_free(&m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    rdp_frame_next__when_each_captured_pdu__one_whole_frame),
		cmocka_unit_test(
		    rdp_frame_peek__when_every_prefix_of_captures__need_more),
		cmocka_unit_test(
		    rdp_frame_next__when_captures_back_to_back__split_at_every_boundary),
		cmocka_unit_test(rdp_frame_peek__when_bad_first_bytes__errors),
		cmocka_unit_test(
		    rdp_tpkt_begin_end__when_payload__length_filled_and_payload_view),
		cmocka_unit_test(
		    rdp_tpkt_payload__when_length_mismatch_or_not_tpkt__errors),
		cmocka_unit_test(
		    rdp_fastpath_check_output__when_captured_uncompressed__pass),
		cmocka_unit_test(
		    rdp_fastpath_check_output__when_captured_compressed__close),
		cmocka_unit_test(
		    rdp_fastpath_check_output__when_encrypted_or_bad_size__close),
		cmocka_unit_test(rdp_fastpath_check_input__when_captured__pass),
		cmocka_unit_test(
		    rdp_fastpath_check_input__when_bad_events__close),
		cmocka_unit_test(rdp_verdict_set__when_less_severe__kept),
		cmocka_unit_test(
		    rdp_verdict__when_any_call_less_or_as_severe__unchanged),
		cmocka_unit_test(
		    rdp_verdict_refuse__when_rewrite_held__first_refusal_kept_and_escalated),
		cmocka_unit_test(
		    rdp_verdict_merge__when_more_severe__takes_sanitised_name),
		cmocka_unit_test(
		    rdp_name_sanitize__when_hostile_bytes__replaced_and_bounded),
		cmocka_unit_test(rdp_msgs__when_full__too_large),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
