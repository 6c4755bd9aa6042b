/* Unit tests for rdp/caps.c. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "test_rdp_capture.h"

#include "rdp/caps.h"

static const char *demand[] = { "shadow-full/0023-s2c-io-demand-active.bin",
	"xrdp-full/0023-s2c-io-demand-active.bin" };
static const char *confirm[] = { "shadow-full/0024-c2s-io-confirm-active.bin",
	"xrdp-full/0024-c2s-io-confirm-active.bin",
	"shadow-persist/0022-c2s-io-confirm-active.bin" };

static const struct rdp_capset *
find_cap(const struct rdp_caps_pdu *c, uint16_t type)
{
	unsigned int i;

	for (i = 0; i < c->ncaps; i++)
		if (c->caps[i].type == type)
			return &c->caps[i];
	return NULL;
}

static void
rdp_caps_parse__when_captured__all_sets_and_trailer(void **state)
{
	struct rdp_caps_pdu c;
	size_t i;

	for (i = 0; i < 2; i++) {
		struct cap cp = cap_load(demand[i]);
		struct vbuf d = cap_send_data(&cp, NULL);

		assert_int_equal(rdp_caps_parse(&d, &c), 0);
		assert_int_equal(c.type, RDP_PDUTYPE_DEMANDACTIVE);
		assert_int_equal(vbuf_len(&c.trailer), 4);
		assert_true(c.ncaps >= 13);
		assert_memory_equal(vbuf_ptr(&c.source), "RDP\0", 4);
		cap_free(&cp);
	}
	for (i = 0; i < 3; i++) {
		struct cap cp = cap_load(confirm[i]);
		struct vbuf d = cap_send_data(&cp, NULL);

		assert_int_equal(rdp_caps_parse(&d, &c), 0);
		assert_int_equal(c.type, RDP_PDUTYPE_CONFIRMACTIVE);
		assert_int_equal(vbuf_len(&c.trailer), 0);
		assert_non_null(find_cap(&c, RDP_CAPSET_BITMAPCACHE_REV2));
		cap_free(&cp);
	}
}

/* Re-encodes a parsed PDU with extra capability sets appended. */
static struct vbuf *
build(const struct rdp_caps_pdu *c, const unsigned char *extra, size_t extralen,
    unsigned int nextra)
{
	struct vbuf *b = vbuf_new(8192);
	size_t comb = 4, i;

	for (i = 0; i < c->ncaps; i++)
		comb += 4 + vbuf_len(&c->caps[i].body);
	comb += extralen;
	assert_int_equal(vbuf_put_u16le(b, 0), 0);
	assert_int_equal(vbuf_put_u16le(b, 0x10 | c->type), 0);
	assert_int_equal(vbuf_put_u16le(b, 1002), 0);
	assert_int_equal(vbuf_put_u32le(b, c->share_id), 0);
	if (c->type == RDP_PDUTYPE_CONFIRMACTIVE)
		assert_int_equal(vbuf_put_u16le(b, c->originator_id), 0);
	assert_int_equal(vbuf_put_u16le(b, (uint16_t)vbuf_len(&c->source)), 0);
	assert_int_equal(vbuf_put_u16le(b, (uint16_t)comb), 0);
	assert_int_equal(vbuf_put_buf(b, &c->source), 0);
	assert_int_equal(vbuf_put_u16le(b, (uint16_t)(c->ncaps + nextra)), 0);
	assert_int_equal(vbuf_put_u16le(b, 0), 0);
	for (i = 0; i < c->ncaps; i++) {
		assert_int_equal(vbuf_put_u16le(b, c->caps[i].type), 0);
		assert_int_equal(
		    vbuf_put_u16le(
			b, (uint16_t)(4 + vbuf_len(&c->caps[i].body))),
		    0);
		assert_int_equal(vbuf_put_buf(b, &c->caps[i].body), 0);
	}
	assert_int_equal(vbuf_put(b, extra, extralen), 0);
	assert_int_equal(vbuf_put_buf(b, &c->trailer), 0);
	assert_int_equal(vbuf_poke_u16le(b, 0, (uint16_t)vbuf_len(b)), 0);
	return b;
}

static void
rdp_caps_rewrite__when_demand_active_with_host_support_rail_window__dropped(
    void **state)
{
	/* BITMAPCACHE_HOSTSUPPORT (18, 8 bytes), RAIL (23, 8), WINDOW (24,
	 * 11), VIRTUALCHANNEL (20) with compression flags. */
	static const unsigned char extra[] = {
		18,
		0,
		8,
		0,
		1,
		0,
		0,
		0,
		23,
		0,
		8,
		0,
		3,
		0,
		0,
		0,
		24,
		0,
		11,
		0,
		2,
		0,
		0,
		0,
		3,
		3,
		0,
		20,
		0,
		12,
		0,
		3,
		0,
		0,
		0,
		0x40,
		0x06,
		0,
		0,
	};
	struct cap cp = cap_load(demand[0]);
	struct vbuf d = cap_send_data(&cp, NULL), *in, *out = vbuf_new(8192);
	struct rdp_caps_pdu c, r;
	const struct rdp_capset *vc;
	uint32_t flags, chunk;

	assert_int_equal(rdp_caps_parse(&d, &c), 0);
	in = build(&c, extra, sizeof(extra), 4);
	assert_int_equal(rdp_caps_parse(in, &r), 0);
	assert_int_equal(r.ncaps, c.ncaps + 4);
	assert_int_equal(rdp_caps_rewrite(in, out), 0);
	assert_int_equal(rdp_caps_parse(out, &r), 0);
	assert_int_equal(r.ncaps, c.ncaps + 1);
	assert_null(find_cap(&r, RDP_CAPSET_BITMAPCACHE_HOSTSUPPORT));
	assert_null(find_cap(&r, RDP_CAPSET_RAIL));
	assert_null(find_cap(&r, RDP_CAPSET_WINDOW));
	/* Every VIRTUALCHANNEL set has flags 0; the chunk size stays. */
	vc = &r.caps[r.ncaps - 1];
	assert_int_equal(vc->type, RDP_CAPSET_VIRTUALCHANNEL);
	assert_int_equal(vbuf_peek_u32le(&vc->body, 0, &flags), 0);
	assert_int_equal(flags, 0);
	assert_int_equal(vbuf_peek_u32le(&vc->body, 4, &chunk), 0);
	assert_int_equal(chunk, 1600);
	assert_int_equal(vbuf_len(&r.trailer), 4);
	{
		uint16_t tl;

		assert_int_equal(vbuf_peek_u16le(out, 0, &tl), 0);
		assert_int_equal(tl, vbuf_len(out));
	}
	vbuf_free(in);
	vbuf_free(out);
	cap_free(&cp);
}

static void
rdp_caps_rewrite__when_confirm_active_persistent__bits_cleared(void **s)
{
	/* The .rdp file asked for persistent caching: CacheFlags 0x0003. */
	struct cap cp = cap_load(confirm[2]);
	struct vbuf d = cap_send_data(&cp, NULL), *out = vbuf_new(8192), *in;
	struct rdp_caps_pdu c, r;
	const struct rdp_capset *bc;
	uint16_t f;
	uint32_t cell;
	unsigned int i;

	assert_int_equal(rdp_caps_parse(&d, &c), 0);
	assert_non_null(bc = find_cap(&c, RDP_CAPSET_BITMAPCACHE_REV2));
	assert_int_equal(vbuf_peek_u16le(&bc->body, 0, &f), 0);
	assert_int_equal(f, 0x0003);
	assert_int_equal(rdp_caps_rewrite(&d, out), 0);
	assert_int_equal(vbuf_len(out), vbuf_len(&d));
	assert_int_equal(rdp_caps_parse(out, &r), 0);
	assert_int_equal(r.ncaps, c.ncaps);
	assert_non_null(bc = find_cap(&r, RDP_CAPSET_BITMAPCACHE_REV2));
	assert_int_equal(vbuf_peek_u16le(&bc->body, 0, &f), 0);
	assert_int_equal(f, 0x0002); /* waiting list kept */
	/* The relay capture: the shadow server accepted this rewrite. */
	{
		struct cap org =
		    cap_load("relay-persist/0020-c2s-io-confirm-active.bin");
		struct cap fwd = cap_load(
		    "relay-persist/0020-c2s.fwd-io-confirm-active.bin");
		struct vbuf od = cap_send_data(&org, NULL);
		struct vbuf fd = cap_send_data(&fwd, NULL);
		struct vbuf *o2 = vbuf_new(8192);

		assert_int_equal(rdp_caps_rewrite(&od, o2), 0);
		assert_int_equal(vbuf_len(&fd), vbuf_len(o2));
		assert_memory_equal(vbuf_ptr(&fd), vbuf_ptr(o2), vbuf_len(o2));
		vbuf_free(o2);
		cap_free(&org);
		cap_free(&fwd);
	}
	/* Cell infos with the persistent bit (k) set. */
	{
		unsigned char extra[4 + 36];

		memset(extra, 0, sizeof(extra));
		extra[0] = RDP_CAPSET_BITMAPCACHE_REV2;
		extra[2] = sizeof(extra);
		extra[4] = 0x03;
		extra[7] = 5;
		for (i = 0; i < 5; i++) {
			extra[8 + 4 * i] = 0x58;
			extra[8 + 4 * i + 3] = 0x80;
		}
		for (i = 0; i < c.ncaps; i++)
			if (c.caps[i].type == RDP_CAPSET_BITMAPCACHE_REV2)
				c.caps[i].type = 0x7F; /* keep one REV2 */
		in = build(&c, extra, sizeof(extra), 1);
		vbuf_reset(out);
		assert_int_equal(rdp_caps_rewrite(in, out), 0);
		assert_int_equal(rdp_caps_parse(out, &r), 0);
		assert_non_null(bc = find_cap(&r, RDP_CAPSET_BITMAPCACHE_REV2));
		for (i = 0; i < 5; i++) {
			assert_int_equal(
			    vbuf_peek_u32le(&bc->body, 4 + 4 * i, &cell), 0);
			assert_int_equal(cell, 0x58);
		}
		vbuf_free(in);
	}
	vbuf_free(out);
	cap_free(&cp);
}

static void
rdp_caps_parse__when_truncated_at_every_field__error(void **state)
{
	struct cap cp = cap_load(demand[1]);
	struct vbuf d = cap_send_data(&cp, NULL);
	struct rdp_caps_pdu c;
	size_t k, n = vbuf_len(&d), ok = 0;

	for (k = 0; k < n; k++) {
		unsigned char *q = dup_bytes(vbuf_ptr(&d), k);
		struct vbuf v;
		int r;

		if (k >= 2) {
			q[0] = (unsigned char)k; /* totalLength follows */
			q[1] = (unsigned char)(k >> 8);
		}
		vbuf_init_view(&v, q, k);
		r = rdp_caps_parse(&v, &c);
		if (r == 0) {
			assert_int_equal(k, n - 4); /* without sessionId */
			ok++;
		} else
			assert_true(is_length_error(r));
		free(q);
	}
	assert_int_equal(ok, 1);
	cap_free(&cp);
}

static void
rdp_caps_parse__when_lengths_lie__errors(void **state)
{
	struct cap cp = cap_load(demand[0]);
	struct vbuf d = cap_send_data(&cp, NULL), v;
	unsigned char *q = dup_bytes(vbuf_ptr(&d), vbuf_len(&d));
	struct rdp_caps_pdu c;

	vbuf_init_view(&v, q, vbuf_len(&d));
	/* numberCapabilities one more than present. */
	q[6 + 4 + 4 + 4]++;
	assert_true(is_length_error(rdp_caps_parse(&v, &c)));
	q[6 + 4 + 4 + 4]--;
	/* lengthCombinedCapabilities one short. */
	q[6 + 4 + 2]--;
	assert_true(is_length_error(rdp_caps_parse(&v, &c)));
	q[6 + 4 + 2]++;
	/* A capability set length below 4. */
	q[6 + 4 + 4 + 4 + 4 + 2] = 3;
	q[6 + 4 + 4 + 4 + 4 + 3] = 0;
	assert_int_equal(rdp_caps_parse(&v, &c), VDI_ERR_BAD_LENGTH);
	free(q);
	cap_free(&cp);
}

/* --- I/O channel filter --------------------------------------------------- */

/* The phase filter() runs in; each test sets it (at() below). */
static struct rdp_share_state st;

static void
at(enum rdp_share_phase phase, int activated)
{
	st.phase = phase;
	st.activated = activated;
}

static void
filter(const void *p, size_t n, enum rdp_dir dir, struct rdp_verdict *v,
    struct rdp_io_events *ev, struct vbuf *out)
{
	struct vbuf in;

	vbuf_init_view(&in, p, n);
	vbuf_reset(out);
	assert_int_equal(rdp_caps_filter_io(&in, dir, &st, ev, v, out), 0);
}

static void
rdp_caps_filter_io__when_captured_session__verdicts(void **state)
{
	static const struct {
		const char *file;
		enum rdp_dir dir;
		enum rdp_action action;
	} t[] = {
		{ "shadow-persist/0021-s2c-io-demand-active.bin", RDP_S2C,
		    RDP_REWRITE },
		{ "shadow-persist/0022-c2s-io-confirm-active.bin", RDP_C2S,
		    RDP_REWRITE },
		{ "shadow-persist/0023-c2s-io-data-synchronize.bin", RDP_C2S,
		    RDP_PASS },
		{ "shadow-persist/0024-c2s-io-data-control.bin", RDP_C2S,
		    RDP_PASS },
		{ "shadow-persist/0026-c2s-io-data-persistent-key-list.bin",
		    RDP_C2S, RDP_DROP },
		{ "shadow-persist/0027-c2s-io-data-fontlist.bin", RDP_C2S,
		    RDP_PASS },
		{ "shadow-persist/0031-s2c-io-data-fontmap.bin", RDP_S2C,
		    RDP_PASS },
		{ "xrdp-full/0029-s2c-io-data-synchronize.bin", RDP_S2C,
		    RDP_PASS },
	};
	struct vbuf *out = vbuf_new(65536);
	struct rdp_io_events ev;
	struct rdp_verdict v;
	size_t i;

	at(RDP_SHARE_WAIT_DEMAND, 0); /* licensing just ended */
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct cap c = cap_load(t[i].file);
		struct vbuf d = cap_send_data(&c, NULL);

		filter(vbuf_ptr(&d), vbuf_len(&d), t[i].dir, &v, &ev, out);
		assert_int_equal(v.action, t[i].action);
		if (v.action == RDP_DROP) {
			assert_string_equal(
			    v.reason, "persistent_key_list_dropped");
			assert_int_equal(v.what.kind, RDP_REFUSED_PDU);
			assert_int_equal(
			    v.what.code, RDP_PDUTYPE2_PERSISTENT_LIST);
			assert_int_equal(ev.dropped, 1);
		}
		if (v.action != RDP_REWRITE)
			assert_int_equal(vbuf_len(out), 0);
		cap_free(&c);
	}
	vbuf_free(out);
}

static void
rdp_caps_filter_io__when_several_pdus__only_the_key_list_removed(void **s)
{
	struct cap a =
	    cap_load("shadow-persist/0023-c2s-io-data-synchronize.bin");
	struct cap b =
	    cap_load("shadow-persist/0026-c2s-io-data-persistent-key-list.bin");
	struct cap c = cap_load("shadow-persist/0024-c2s-io-data-control.bin");
	struct vbuf da = cap_send_data(&a, NULL), db = cap_send_data(&b, NULL);
	struct vbuf dc = cap_send_data(&c, NULL);
	struct vbuf *in = vbuf_new(4096), *out = vbuf_new(4096);
	struct rdp_io_events ev;
	struct rdp_verdict v;

	assert_int_equal(vbuf_put_buf(in, &da), 0);
	assert_int_equal(vbuf_put_buf(in, &db), 0);
	assert_int_equal(vbuf_put_buf(in, &dc), 0);
	at(RDP_SHARE_ACTIVE, 1);
	filter(vbuf_ptr(in), vbuf_len(in), RDP_C2S, &v, &ev, out);
	assert_int_equal(v.action, RDP_REWRITE);
	assert_int_equal(vbuf_len(out), vbuf_len(&da) + vbuf_len(&dc));
	assert_memory_equal(vbuf_ptr(out), vbuf_ptr(&da), vbuf_len(&da));
	assert_memory_equal(
	    vbuf_ptr(out) + vbuf_len(&da), vbuf_ptr(&dc), vbuf_len(&dc));
	vbuf_free(in);
	vbuf_free(out);
	cap_free(&a);
	cap_free(&b);
	cap_free(&c);
}

static void
rdp_caps_filter_io__when_redirection_compression_or_unknown__close(void **s)
{
	/* Server Redirection PDU (enhanced security): pduType 0x1A. */
	static const unsigned char redir[] = { 0x0C, 0x00, 0x1A, 0x00, 0xEA,
		0x03, 0, 0, 0xCC, 0xCC, 0, 0 };
	/* Data PDU with compressedType PACKET_COMPRESSED. */
	static const unsigned char comp[] = { 0x12, 0x00, 0x17, 0x00, 0xEA,
		0x03, 1, 0, 0, 0, 0, 1, 0, 0, 0x02, 0x21, 0, 0 };
	/* pduType 2 does not exist; version 2 either. */
	static const unsigned char unk[] = { 0x06, 0x00, 0x12, 0x00, 0, 0 };
	static const unsigned char ver[] = { 0x06, 0x00, 0x26, 0x00, 0, 0 };
	/* totalLength larger than the data, and below the header. */
	static const unsigned char over[] = { 0x20, 0x00, 0x16, 0x00, 0, 0 };
	static const unsigned char under[] = { 0x04, 0x00, 0x16, 0x00, 0, 0 };
	/* Deactivate All from the client. */
	static const unsigned char deact[] = { 0x0E, 0x00, 0x16, 0x00, 0xEA,
		0x03, 1, 0, 0, 0, 2, 0, 0, 0 };
	struct vbuf *out = vbuf_new(4096);
	struct rdp_io_events ev;
	struct rdp_verdict v;

	at(RDP_SHARE_ACTIVE, 1);
	filter(redir, sizeof(redir), RDP_S2C, &v, &ev, out);
	assert_int_equal(v.action, RDP_CLOSE);
	assert_string_equal(v.reason, "server_redirection");
	filter(comp, sizeof(comp), RDP_S2C, &v, &ev, out);
	assert_int_equal(v.action, RDP_CLOSE);
	assert_string_equal(v.reason, "share_data_compressed type2=0x02");
	filter(unk, sizeof(unk), RDP_S2C, &v, &ev, out);
	assert_string_equal(v.reason, "share_unknown_type type=2");
	filter(ver, sizeof(ver), RDP_S2C, &v, &ev, out);
	assert_int_equal(v.action, RDP_CLOSE);
	filter(over, sizeof(over), RDP_S2C, &v, &ev, out);
	assert_int_equal(v.action, RDP_CLOSE);
	filter(under, sizeof(under), RDP_S2C, &v, &ev, out);
	assert_int_equal(v.action, RDP_CLOSE);
	filter(deact, sizeof(deact), RDP_C2S, &v, &ev, out);
	assert_int_equal(v.action, RDP_CLOSE);
	filter(deact, sizeof(deact), RDP_S2C, &v, &ev, out);
	assert_int_equal(v.action, RDP_PASS);
	assert_true(ev.deactivate_all);
	filter(deact, 0, RDP_S2C, &v, &ev, out);
	assert_int_equal(v.action, RDP_CLOSE);
	assert_int_equal(vbuf_len(out), 0);
	vbuf_free(out);
}

static void
rdp_caps_filter_io__when_flow_pdu_or_wrong_direction__drop_or_close(void **s)
{
	static const unsigned char flow[] = { 0x00, 0x80, 0, 0x42, 1, 1, 0xEA,
		0x03 };
	struct cap cp = cap_load(demand[0]);
	struct vbuf d = cap_send_data(&cp, NULL);
	struct vbuf *out = vbuf_new(8192);
	struct rdp_io_events ev;
	struct rdp_verdict v;

	at(RDP_SHARE_ACTIVE, 1);
	filter(flow, sizeof(flow), RDP_S2C, &v, &ev, out);
	assert_int_equal(v.action, RDP_DROP);
	assert_string_equal(v.reason, "flow_pdu_dropped");
	filter(flow, 7, RDP_S2C, &v, &ev, out);
	assert_int_equal(v.action, RDP_CLOSE);
	filter(vbuf_ptr(&d), vbuf_len(&d), RDP_C2S, &v, &ev, out);
	assert_int_equal(v.action, RDP_CLOSE);
	assert_string_equal(v.reason, "share_wrong_direction type=1");
	filter(vbuf_ptr(&d), vbuf_len(&d), RDP_S2C, &v, &ev, out);
	assert_int_equal(v.action, RDP_REWRITE);
	assert_true(ev.demand_active);
	assert_int_equal(vbuf_len(out), vbuf_len(&d));
	/* A broken Demand Active closes. */
	filter(vbuf_ptr(&d), 30, RDP_S2C, &v, &ev, out);
	assert_int_equal(v.action, RDP_CLOSE);
	vbuf_free(out);
	cap_free(&cp);
}

/* A Data PDU of type2 (no payload), as either side would send it. */
static size_t
data_pdu(unsigned char *b, uint8_t type2)
{
	memset(b, 0, 18);
	b[0] = 18;   /* totalLength */
	b[2] = 0x17; /* PDUTYPE_DATAPDU, version 1 */
	b[4] = 0xEA;
	b[5] = 0x03;
	b[6] = 0xEA; /* shareId */
	b[7] = 0x03;
	b[8] = 0x01;
	b[11] = 1; /* streamId */
	b[14] = type2;
	return 18;
}

static void
rdp_share_type2_allowed__when_each_direction__allowlist(void **s)
{
	unsigned int t, c2s = 0, s2c = 0;

	for (t = 0; t < 256; t++) {
		c2s +=
		    (unsigned int)rdp_share_type2_allowed(RDP_C2S, (uint8_t)t);
		s2c +=
		    (unsigned int)rdp_share_type2_allowed(RDP_S2C, (uint8_t)t);
	}
	assert_int_equal(c2s, 12);
	assert_int_equal(s2c, 14);
	assert_true(rdp_share_type2_allowed(RDP_C2S, RDP_PDUTYPE2_INPUT));
	assert_false(rdp_share_type2_allowed(RDP_S2C, RDP_PDUTYPE2_INPUT));
	assert_true(rdp_share_type2_allowed(RDP_S2C, RDP_PDUTYPE2_UPDATE));
	assert_false(rdp_share_type2_allowed(RDP_C2S, RDP_PDUTYPE2_UPDATE));
	assert_false(
	    rdp_share_type2_allowed(RDP_C2S, RDP_PDUTYPE2_PERSISTENT_LIST));
	assert_false(rdp_share_type2_allowed(RDP_C2S, 0x99));
	assert_false(rdp_share_type2_allowed(RDP_S2C, 0x99));
}

static void
rdp_caps_filter_io__when_type2_not_allowed__close(void **s)
{
	unsigned char b[18];
	struct vbuf *out = vbuf_new(4096);
	struct rdp_io_events ev;
	struct rdp_verdict v;

	at(RDP_SHARE_ACTIVE, 1);
	filter(b, data_pdu(b, RDP_PDUTYPE2_UPDATE), RDP_C2S, &v, &ev, out);
	assert_int_equal(v.action, RDP_CLOSE);
	assert_string_equal(v.reason, "share_data_type2_refused type2=0x02");
	filter(b, data_pdu(b, RDP_PDUTYPE2_INPUT), RDP_S2C, &v, &ev, out);
	assert_int_equal(v.action, RDP_CLOSE);
	filter(b, data_pdu(b, 0x99), RDP_C2S, &v, &ev, out);
	assert_int_equal(v.action, RDP_CLOSE);
	assert_string_equal(v.reason, "share_data_type2_refused type2=0x99");
	filter(b, data_pdu(b, RDP_PDUTYPE2_INPUT), RDP_C2S, &v, &ev, out);
	assert_int_equal(v.action, RDP_PASS);
	assert_int_equal(vbuf_len(out), 0);
	vbuf_free(out);
}

static void
rdp_caps_filter_io__when_out_of_phase__close_or_drop(void **s)
{
	static const unsigned char deact[] = { 0x0E, 0x00, 0x16, 0x00, 0xEA,
		0x03, 1, 0, 0, 0, 2, 0, 0, 0 };
	struct cap da =
	    cap_load("shadow-persist/0021-s2c-io-demand-active.bin");
	struct cap ca =
	    cap_load("shadow-persist/0022-c2s-io-confirm-active.bin");
	struct vbuf dd = cap_send_data(&da, NULL),
		    dc = cap_send_data(&ca, NULL);
	struct vbuf *out = vbuf_new(65536);
	struct rdp_io_events ev;
	struct rdp_verdict v;
	unsigned char b[18];

	/* after licensing: no client data, no Confirm Active yet */
	at(RDP_SHARE_WAIT_DEMAND, 0);
	filter(b, data_pdu(b, RDP_PDUTYPE2_INPUT), RDP_C2S, &v, &ev, out);
	assert_int_equal(v.action, RDP_CLOSE);
	assert_string_equal(
	    v.reason, "share_data_out_of_phase phase=wait_demand type2=0x1c");
	at(RDP_SHARE_WAIT_DEMAND, 0);
	filter(vbuf_ptr(&dc), vbuf_len(&dc), RDP_C2S, &v, &ev, out);
	assert_int_equal(v.action, RDP_CLOSE);
	assert_string_equal(
	    v.reason, "share_out_of_phase phase=wait_demand type=3");
	/* a desktop update before the activation, a Deactivate All too */
	at(RDP_SHARE_WAIT_DEMAND, 0);
	filter(b, data_pdu(b, RDP_PDUTYPE2_UPDATE), RDP_S2C, &v, &ev, out);
	assert_int_equal(v.action, RDP_CLOSE);
	at(RDP_SHARE_WAIT_DEMAND, 0);
	filter(deact, sizeof(deact), RDP_S2C, &v, &ev, out);
	assert_int_equal(v.action, RDP_CLOSE);
	/* a Monitor Layout PDU may come before the Demand Active */
	at(RDP_SHARE_WAIT_DEMAND, 0);
	filter(
	    b, data_pdu(b, RDP_PDUTYPE2_MONITOR_LAYOUT), RDP_S2C, &v, &ev, out);
	assert_int_equal(v.action, RDP_PASS);
	/* the sequence: Demand Active, then only the Confirm Active */
	filter(vbuf_ptr(&dd), vbuf_len(&dd), RDP_S2C, &v, &ev, out);
	assert_int_equal(v.action, RDP_REWRITE);
	assert_int_equal(st.phase, RDP_SHARE_WAIT_CONFIRM);
	filter(b, data_pdu(b, RDP_PDUTYPE2_SYNCHRONIZE), RDP_C2S, &v, &ev, out);
	assert_int_equal(v.action, RDP_CLOSE);
	at(RDP_SHARE_WAIT_CONFIRM, 0);
	filter(vbuf_ptr(&dd), vbuf_len(&dd), RDP_S2C, &v, &ev, out);
	assert_int_equal(v.action, RDP_CLOSE);
	at(RDP_SHARE_WAIT_CONFIRM, 0);
	filter(vbuf_ptr(&dc), vbuf_len(&dc), RDP_C2S, &v, &ev, out);
	assert_int_equal(v.action, RDP_REWRITE);
	assert_int_equal(st.phase, RDP_SHARE_ACTIVE);
	assert_true(st.activated);
	/* active: a second Confirm Active is out of phase */
	filter(vbuf_ptr(&dc), vbuf_len(&dc), RDP_C2S, &v, &ev, out);
	assert_int_equal(v.action, RDP_CLOSE);
	/* reactivation: client data in flight is dropped, desktop updates
	 * before the new Demand Active pass */
	at(RDP_SHARE_ACTIVE, 1);
	filter(deact, sizeof(deact), RDP_S2C, &v, &ev, out);
	assert_int_equal(v.action, RDP_PASS);
	assert_int_equal(st.phase, RDP_SHARE_WAIT_DEMAND);
	filter(b, data_pdu(b, RDP_PDUTYPE2_INPUT), RDP_C2S, &v, &ev, out);
	assert_int_equal(v.action, RDP_DROP);
	assert_string_equal(v.reason, "share_data_during_reactivation_dropped");
	filter(b, data_pdu(b, RDP_PDUTYPE2_UPDATE), RDP_S2C, &v, &ev, out);
	assert_int_equal(v.action, RDP_PASS);
	vbuf_free(out);
	cap_free(&da);
	cap_free(&ca);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    rdp_caps_parse__when_captured__all_sets_and_trailer),
		cmocka_unit_test(
		    rdp_caps_rewrite__when_demand_active_with_host_support_rail_window__dropped),
		cmocka_unit_test(
		    rdp_caps_rewrite__when_confirm_active_persistent__bits_cleared),
		cmocka_unit_test(
		    rdp_caps_parse__when_truncated_at_every_field__error),
		cmocka_unit_test(rdp_caps_parse__when_lengths_lie__errors),
		cmocka_unit_test(
		    rdp_caps_filter_io__when_captured_session__verdicts),
		cmocka_unit_test(
		    rdp_caps_filter_io__when_several_pdus__only_the_key_list_removed),
		cmocka_unit_test(
		    rdp_caps_filter_io__when_redirection_compression_or_unknown__close),
		cmocka_unit_test(
		    rdp_caps_filter_io__when_flow_pdu_or_wrong_direction__drop_or_close),
		cmocka_unit_test(
		    rdp_share_type2_allowed__when_each_direction__allowlist),
		cmocka_unit_test(
		    rdp_caps_filter_io__when_type2_not_allowed__close),
		cmocka_unit_test(
		    rdp_caps_filter_io__when_out_of_phase__close_or_drop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
