/* Unit tests for rdp/mcs.c and gcc.c. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "test_rdp_capture.h"

#include "rdp/gcc.h"
#include "rdp/mcs.h"

static const struct rdp_policy hardened = { 0 };
static const struct rdp_policy audio = { 1 };

/* Parses a whole Connect-Initial TPKT down to its client blocks; checks
 * every enclosing length on the way (TPKT, LI, BER, PER). */
static void
ci_blocks(const struct vbuf *pdu, struct rdp_gcc_client *c)
{
	struct rdp_mcs_connect_initial ci;
	struct vbuf mcs, blocks;

	assert_int_equal(rdp_x224_parse_data(pdu, &mcs), 0);
	assert_int_equal(rdp_mcs_parse_connect_initial(&mcs, &ci), 0);
	assert_int_equal(
	    rdp_gcc_parse_create_request(&ci.user_data, &blocks), 0);
	assert_int_equal(rdp_gcc_parse_client_blocks(&blocks, c), 0);
}

static void
cr_blocks(const struct vbuf *pdu, struct rdp_gcc_server *s)
{
	struct rdp_mcs_connect_response cr;
	struct vbuf mcs, blocks;
	uint16_t node;
	uint32_t tag;

	assert_int_equal(rdp_x224_parse_data(pdu, &mcs), 0);
	assert_int_equal(rdp_mcs_parse_connect_response(&mcs, &cr), 0);
	assert_int_equal(cr.result, 0);
	assert_int_equal(
	    rdp_gcc_parse_create_response(&cr.user_data, &node, &tag, &blocks),
	    0);
	assert_int_equal(rdp_gcc_parse_server_blocks(&blocks, s), 0);
}

#define BIT(t) (1u << ((t)&0x1F))

static void
rdp_mcs_parse_connect_initial__when_captured__four_channels(void **state)
{
	struct cap c = cap_load("shadow-full/0002-c2s-mcs-connect-initial.bin");
	struct vbuf v = cap_view(&c);
	struct rdp_gcc_client cl;

	ci_blocks(&v, &cl);
	assert_int_equal(cl.nchannels, 4);
	assert_string_equal(cl.ch[0].name, "rdpdr");
	assert_string_equal(cl.ch[1].name, "rdpsnd");
	assert_string_equal(cl.ch[2].name, "cliprdr");
	assert_string_equal(cl.ch[3].name, "drdynvc");
	assert_true(cl.has_server_selected);
	assert_int_equal(cl.server_selected, RDP_PROTOCOL_SSL);
	assert_true(cl.blocks_seen & BIT(RDP_CS_MCS_MSGCHANNEL));
	assert_true(cl.blocks_seen & BIT(RDP_CS_MULTITRANSPORT));
	assert_true(cl.has_cluster);
	assert_true(cl.cluster_flags & RDP_CLUSTER_REDIRECTION_SUPPORTED);
	cap_free(&c);
}

static void
rdp_mcs_rewrite_connect_initial__when_hardened__only_drdynvc(void **state)
{
	struct cap c = cap_load("shadow-full/0002-c2s-mcs-connect-initial.bin");
	struct vbuf v = cap_view(&c);
	struct vbuf *out = vbuf_new(RDP_FRAME_MAX);
	struct rdp_gcc_client cl;
	struct rdp_gcc_map map;
	struct rdp_frame f;

	assert_int_equal(rdp_mcs_rewrite_connect_initial(
			     &v, &hardened, RDP_PROTOCOL_HYBRID, &map, out),
	    0);
	/* One whole TPKT whose every length is consistent. */
	assert_int_equal(rdp_frame_peek(out, 0, &f), 0);
	assert_int_equal(f.len, vbuf_len(out));
	ci_blocks(out, &cl);
	assert_int_equal(cl.nchannels, 1);
	assert_string_equal(cl.ch[0].name, "drdynvc");
	assert_int_equal(cl.ch[0].options & RDP_CHANNEL_OPTION_COMPRESS_RDP, 0);
	assert_int_equal(cl.server_selected, RDP_PROTOCOL_HYBRID);
	assert_int_equal(
	    cl.early_caps & RDP_CS_CORE_SUPPORT_SKIP_CHANNELJOIN, 0);
	assert_int_equal(cl.cluster_flags &
		(RDP_CLUSTER_REDIRECTION_SUPPORTED |
		    RDP_CLUSTER_REDIRECTED_SESSIONID_VALID),
	    0);
	assert_false(cl.blocks_seen & BIT(RDP_CS_MCS_MSGCHANNEL));
	assert_false(cl.blocks_seen & BIT(RDP_CS_MULTITRANSPORT));
	assert_true(cl.blocks_seen & BIT(RDP_CS_SECURITY));
	/* The decisions, for the audit log. */
	assert_int_equal(map.n, 4);
	assert_int_equal(map.nkept, 1);
	assert_false(map.ch[0].kept);
	assert_false(map.ch[1].kept);
	assert_false(map.ch[2].kept);
	assert_true(map.ch[3].kept);
	assert_int_equal(map.ch[3].desk_index, 0);
	/* The relay's output when the shadow server accepted it. */
	{
		struct cap fwd = cap_load(
		    "relay-shadow/0002-c2s.fwd-mcs-connect-initial.bin");

		vbuf_reset(out);
		cap_free(&c);
		c = cap_load("relay-shadow/0002-c2s-mcs-connect-initial.bin");
		v = cap_view(&c);
		assert_int_equal(rdp_mcs_rewrite_connect_initial(&v, &hardened,
				     RDP_PROTOCOL_SSL, &map, out),
		    0);
		assert_int_equal(vbuf_len(out), fwd.len);
		assert_memory_equal(vbuf_ptr(out), fwd.p, fwd.len);
		cap_free(&fwd);
	}
	vbuf_free(out);
	cap_free(&c);
}

static void
rdp_mcs_rewrite_connect_initial__when_audio_out__drdynvc_and_rdpsnd(void **s)
{
	struct cap c = cap_load("shadow-full/0002-c2s-mcs-connect-initial.bin");
	struct vbuf v = cap_view(&c);
	struct vbuf *out = vbuf_new(RDP_FRAME_MAX);
	struct rdp_gcc_client cl;
	struct rdp_gcc_map map;

	assert_int_equal(rdp_mcs_rewrite_connect_initial(
			     &v, &audio, RDP_PROTOCOL_SSL, &map, out),
	    0);
	ci_blocks(out, &cl);
	assert_int_equal(cl.nchannels, 2);
	assert_string_equal(cl.ch[0].name, "rdpsnd");
	assert_string_equal(cl.ch[1].name, "drdynvc");
	assert_int_equal(map.nkept, 2);
	assert_int_equal(map.ch[1].desk_index, 0);
	assert_int_equal(map.ch[3].desk_index, 1);
	vbuf_free(out);
	cap_free(&c);
}

/* The desktop answered the filtered request (capture made through the
 * proxy in rewrite mode): one id; the client gets four, three fake. */
static void
rdp_mcs_rewrite_connect_response__when_desktop_saw_one__positional_fakes(
    void **state)
{
	struct cap ci =
	    cap_load("relay-shadow/0002-c2s-mcs-connect-initial.bin");
	struct cap cr =
	    cap_load("relay-shadow/0003-s2c-mcs-connect-response.bin");
	struct cap fwd =
	    cap_load("relay-shadow/0003-s2c.fwd-mcs-connect-response.bin");
	struct vbuf vci = cap_view(&ci), vcr = cap_view(&cr);
	struct vbuf *out = vbuf_new(RDP_FRAME_MAX);
	struct rdp_gcc_server desk, cl;
	struct rdp_gcc_map map;
	const struct rdp_gcc_channel *ch;

	assert_int_equal(rdp_mcs_rewrite_connect_initial(
			     &vci, &hardened, RDP_PROTOCOL_SSL, &map, out),
	    0);
	vbuf_reset(out);
	cr_blocks(&vcr, &desk);
	assert_int_equal(desk.nchannels, 1);
	assert_int_equal(rdp_mcs_rewrite_connect_response(&vcr,
			     RDP_PROTOCOL_SSL | RDP_PROTOCOL_HYBRID, &map, out),
	    0);
	cr_blocks(out, &cl);
	assert_int_equal(cl.io_channel, desk.io_channel);
	assert_int_equal(cl.nchannels, 4);
	assert_int_equal(cl.ids[0], RDP_FAKE_CHANNEL_BASE + 0);
	assert_int_equal(cl.ids[1], RDP_FAKE_CHANNEL_BASE + 1);
	assert_int_equal(cl.ids[2], RDP_FAKE_CHANNEL_BASE + 2);
	assert_int_equal(cl.ids[3], desk.ids[0]);
	assert_int_equal(
	    cl.client_requested, RDP_PROTOCOL_SSL | RDP_PROTOCOL_HYBRID);
	assert_false(cl.has_msgchannel);
	assert_true(map.have_ids);
	assert_true(rdp_gcc_is_fake_id(&map, RDP_FAKE_CHANNEL_BASE + 2));
	assert_false(rdp_gcc_is_fake_id(&map, desk.ids[0]));
	assert_false(rdp_gcc_is_fake_id(&map, desk.io_channel));
	assert_non_null(ch = rdp_gcc_lookup(&map, RDP_FAKE_CHANNEL_BASE + 2));
	assert_string_equal(ch->name, "cliprdr");
	assert_null(rdp_gcc_lookup(&map, 1));
	/* What the real client accepted (clientRequestedProtocols was 1). */
	vbuf_reset(out);
	assert_int_equal(
	    rdp_mcs_rewrite_connect_response(&vcr, RDP_PROTOCOL_SSL, &map, out),
	    0);
	assert_int_equal(vbuf_len(out), fwd.len);
	assert_memory_equal(vbuf_ptr(out), fwd.p, fwd.len);
	vbuf_free(out);
	cap_free(&ci);
	cap_free(&cr);
	cap_free(&fwd);
}

/* With audio_out (relay-xrdp-audio, proxy -r -a against xrdp): rdpsnd and
 * drdynvc reach the desktop, which answers with two ids. */
static void
rdp_mcs_rewrite_connect__when_audio_out_relay_capture__rdpsnd_kept(void **s)
{
	struct cap ci =
	    cap_load("relay-xrdp-audio/0002-c2s-mcs-connect-initial.bin");
	struct cap cif =
	    cap_load("relay-xrdp-audio/0002-c2s.fwd-mcs-connect-initial.bin");
	struct cap cr =
	    cap_load("relay-xrdp-audio/0003-s2c-mcs-connect-response.bin");
	struct cap crf =
	    cap_load("relay-xrdp-audio/0003-s2c.fwd-mcs-connect-response.bin");
	struct vbuf vci = cap_view(&ci), vcr = cap_view(&cr);
	struct vbuf *out = vbuf_new(RDP_FRAME_MAX);
	struct rdp_gcc_server desk, cl;
	struct rdp_gcc_map map;
	unsigned int i;

	assert_int_equal(rdp_mcs_rewrite_connect_initial(
			     &vci, &audio, RDP_PROTOCOL_SSL, &map, out),
	    0);
	assert_int_equal(vbuf_len(out), cif.len);
	assert_memory_equal(vbuf_ptr(out), cif.p, cif.len);
	assert_int_equal(map.nkept, 2);
	cr_blocks(&vcr, &desk);
	assert_int_equal(desk.nchannels, 2);
	vbuf_reset(out);
	assert_int_equal(
	    rdp_mcs_rewrite_connect_response(&vcr, RDP_PROTOCOL_SSL, &map, out),
	    0);
	assert_int_equal(vbuf_len(out), crf.len);
	assert_memory_equal(vbuf_ptr(out), crf.p, crf.len);
	cr_blocks(out, &cl);
	assert_int_equal(cl.nchannels, map.n);
	for (i = 0; i < map.n; i++) {
		if (strcmp(map.ch[i].name, "rdpsnd") == 0 ||
		    strcmp(map.ch[i].name, "drdynvc") == 0) {
			assert_true(map.ch[i].kept);
			assert_int_equal(
			    cl.ids[i], desk.ids[map.ch[i].desk_index]);
		} else {
			assert_false(map.ch[i].kept);
			assert_true(rdp_gcc_is_fake_id(&map, cl.ids[i]));
		}
	}
	vbuf_free(out);
	cap_free(&ci);
	cap_free(&cif);
	cap_free(&cr);
	cap_free(&crf);
}

static void
rdp_mcs_rewrite_connect_response__when_desktop_saw_other_list__bad_format(
    void **state)
{
	/* The unfiltered session's response lists four ids and a message
	 * channel; the map says the desktop saw one channel. */
	struct cap ci =
	    cap_load("shadow-full/0002-c2s-mcs-connect-initial.bin");
	struct cap cr =
	    cap_load("shadow-full/0003-s2c-mcs-connect-response.bin");
	struct vbuf vci = cap_view(&ci), vcr = cap_view(&cr);
	struct vbuf *out = vbuf_new(RDP_FRAME_MAX);
	struct rdp_gcc_server s;
	struct rdp_gcc_map map;

	cr_blocks(&vcr, &s);
	assert_true(s.has_msgchannel);
	assert_int_equal(rdp_mcs_rewrite_connect_initial(
			     &vci, &hardened, RDP_PROTOCOL_SSL, &map, out),
	    0);
	vbuf_reset(out);
	assert_int_equal(
	    rdp_mcs_rewrite_connect_response(&vcr, RDP_PROTOCOL_SSL, &map, out),
	    VDI_ERR_BAD_FORMAT);
	assert_int_equal(vbuf_len(out), 0);
	/* With audio_out two channels were kept: still not four. */
	assert_int_equal(rdp_mcs_rewrite_connect_initial(
			     &vci, &audio, RDP_PROTOCOL_SSL, &map, out),
	    0);
	vbuf_reset(out);
	assert_int_equal(
	    rdp_mcs_rewrite_connect_response(&vcr, RDP_PROTOCOL_SSL, &map, out),
	    VDI_ERR_BAD_FORMAT);
	vbuf_free(out);
	cap_free(&ci);
	cap_free(&cr);
}

/* Builds client blocks: CS_CORE (minimal) + CS_NET with the given names
 * (8 raw bytes each). */
static struct vbuf *
client_blocks(const char (*names)[8], unsigned int n, uint32_t count)
{
	struct vbuf *b = vbuf_new(4096);
	unsigned int i;

	assert_non_null(b);
	assert_int_equal(vbuf_put_u16le(b, RDP_CS_CORE), 0);
	assert_int_equal(vbuf_put_u16le(b, 4 + 128), 0);
	assert_int_equal(vbuf_reserve(b, 128, NULL), 0);
	assert_int_equal(vbuf_put_u16le(b, RDP_CS_NET), 0);
	assert_int_equal(vbuf_put_u16le(b, (uint16_t)(8 + 12 * n)), 0);
	assert_int_equal(vbuf_put_u32le(b, count), 0);
	for (i = 0; i < n; i++) {
		assert_int_equal(vbuf_put(b, names[i], 8), 0);
		assert_int_equal(vbuf_put_u32le(b, 0xC0800000), 0);
	}
	return b;
}

static void
rdp_gcc_rewrite_client_blocks__when_known_bad_names__refused(void **state)
{
	/* BlueKeep: the client names MS_T120. Also: a name filling all 8
	 * bytes (no NUL), upper case, a duplicate, and audio without the
	 * right. */
	static const char names[][8] = { "MS_T120",
		{ 'd', 'r', 'd', 'y', 'n', 'v', 'c', 'X' }, "DRDYNVC",
		"drdynvc", "rdpsnd", "cliprdr" };
	struct vbuf *b = client_blocks(names, 6, 6);
	struct vbuf *out = vbuf_new(4096);
	struct rdp_gcc_client cl;
	struct rdp_gcc_map map;

	assert_int_equal(
	    rdp_gcc_rewrite_client_blocks(b, &hardened, 1, &map, out), 0);
	assert_int_equal(map.n, 6);
	assert_int_equal(map.nkept, 1);
	assert_false(map.ch[0].kept); /* MS_T120 */
	assert_false(map.ch[1].kept); /* no NUL */
	assert_true(map.ch[2].kept);  /* DRDYNVC */
	assert_false(map.ch[3].kept); /* duplicate */
	assert_false(map.ch[4].kept); /* rdpsnd without audio_out */
	assert_false(map.ch[5].kept);
	assert_string_equal(map.ch[1].name, "drdynvcX");
	assert_int_equal(rdp_gcc_parse_client_blocks(out, &cl), 0);
	assert_int_equal(cl.nchannels, 1);
	/* Forwarded under its canonical name. */
	assert_memory_equal(cl.ch[0].raw, "drdynvc\0", 8);
	assert_int_equal(rdp_gcc_channel_allowed(
			     &audio, (const unsigned char *)"RdPsNd\0\0"),
	    1);
	assert_int_equal(
	    rdp_gcc_channel_allowed(&audio, (const unsigned char *)"MS_T120\0"),
	    0);
	vbuf_free(b);
	vbuf_free(out);
}

static void
rdp_gcc_parse_client_blocks__when_bad_net__errors(void **state)
{
	static const char names[32][8];
	struct rdp_gcc_client cl;
	struct vbuf *b;

	/* 32 channels: over CHANNEL_MAX_COUNT. */
	b = client_blocks(names, 32, 32);
	assert_int_equal(
	    rdp_gcc_parse_client_blocks(b, &cl), VDI_ERR_TOO_LARGE);
	vbuf_free(b);
	/* channelCount disagreeing with the block length. */
	b = client_blocks(names, 2, 3);
	assert_int_equal(
	    rdp_gcc_parse_client_blocks(b, &cl), VDI_ERR_BAD_LENGTH);
	vbuf_free(b);
	b = client_blocks(names, 2, 1);
	assert_int_equal(
	    rdp_gcc_parse_client_blocks(b, &cl), VDI_ERR_BAD_LENGTH);
	vbuf_free(b);
	b = client_blocks(names, 1, 1);
	assert_int_equal(rdp_gcc_parse_client_blocks(b, &cl), 0);
	/* A second CS_NET. */
	assert_int_equal(vbuf_put(b, "\x03\xC0\x08\x00\x00\x00\x00\x00", 8), 0);
	assert_int_equal(
	    rdp_gcc_parse_client_blocks(b, &cl), VDI_ERR_BAD_FORMAT);
	vbuf_free(b);
	/* A block header whose length overruns. */
	b = client_blocks(names, 0, 0);
	assert_int_equal(vbuf_put(b, "\x04\xC0\x10\x00\x00\x00", 6), 0);
	assert_int_equal(
	    rdp_gcc_parse_client_blocks(b, &cl), VDI_ERR_BAD_LENGTH);
	vbuf_free(b);
	/* Block length below its own header. */
	b = client_blocks(names, 0, 0);
	assert_int_equal(vbuf_put(b, "\x04\xC0\x02\x00", 4), 0);
	assert_int_equal(
	    rdp_gcc_parse_client_blocks(b, &cl), VDI_ERR_BAD_LENGTH);
	vbuf_free(b);
	/* No CS_CORE at all. */
	b = vbuf_new(64);
	assert_int_equal(vbuf_put(b, "\x03\xC0\x08\x00\x00\x00\x00\x00", 8), 0);
	assert_int_equal(
	    rdp_gcc_parse_client_blocks(b, &cl), VDI_ERR_BAD_FORMAT);
	vbuf_free(b);
}

/* Server blocks: SC_CORE(12), SC_SECURITY, SC_NET with io + ids. */
static struct vbuf *
server_blocks(
    uint16_t io, const uint16_t *ids, unsigned int n, uint32_t enc_method)
{
	struct vbuf *b = vbuf_new(4096);
	unsigned int i;

	assert_int_equal(vbuf_put(b,
			     "\x01\x0C\x10\x00\x04\x00\x08\x00"
			     "\x01\x00\x00\x00\x0F\x00\x00\x00",
			     16),
	    0);
	assert_int_equal(vbuf_put_u16le(b, RDP_SC_SECURITY), 0);
	assert_int_equal(vbuf_put_u16le(b, 12), 0);
	assert_int_equal(vbuf_put_u32le(b, enc_method), 0);
	assert_int_equal(vbuf_put_u32le(b, enc_method ? 2 : 0), 0);
	assert_int_equal(vbuf_put_u16le(b, RDP_SC_NET), 0);
	assert_int_equal(
	    vbuf_put_u16le(b, (uint16_t)(8 + 2 * n + 2 * (n % 2))), 0);
	assert_int_equal(vbuf_put_u16le(b, io), 0);
	assert_int_equal(vbuf_put_u16le(b, (uint16_t)n), 0);
	for (i = 0; i < n; i++)
		assert_int_equal(vbuf_put_u16le(b, ids[i]), 0);
	if (n % 2)
		assert_int_equal(vbuf_put_u16le(b, 0), 0);
	return b;
}

static void
rdp_gcc_rewrite_server_blocks__when_ids_invalid__bad_format(void **state)
{
	static const char names[][8] = { "cliprdr", "drdynvc", "rdpsnd" };
	static const uint16_t ok[] = { 1004, 1005 };
	static const uint16_t dup[] = { 1004, 1004 };
	static const uint16_t io_clash[] = { 1003, 1005 };
	static const uint16_t high[] = { 1004, RDP_FAKE_CHANNEL_BASE };
	static const uint16_t low[] = { 1000, 1005 };
	struct vbuf *cb = client_blocks(names, 3, 3), *sb;
	struct vbuf *out = vbuf_new(4096);
	struct rdp_gcc_server s;
	struct rdp_gcc_map map;

	assert_int_equal(
	    rdp_gcc_rewrite_client_blocks(cb, &audio, 1, &map, out), 0);
	assert_int_equal(map.nkept, 2);
	vbuf_reset(out);
	sb = server_blocks(1003, dup, 2, 0);
	assert_int_equal(rdp_gcc_rewrite_server_blocks(sb, 1, &map, out),
	    VDI_ERR_BAD_FORMAT);
	vbuf_free(sb);
	sb = server_blocks(1003, io_clash, 2, 0);
	assert_int_equal(rdp_gcc_rewrite_server_blocks(sb, 1, &map, out),
	    VDI_ERR_BAD_FORMAT);
	vbuf_free(sb);
	sb = server_blocks(1003, high, 2, 0);
	assert_int_equal(rdp_gcc_rewrite_server_blocks(sb, 1, &map, out),
	    VDI_ERR_BAD_FORMAT);
	vbuf_free(sb);
	sb = server_blocks(1003, low, 2, 0);
	assert_int_equal(rdp_gcc_rewrite_server_blocks(sb, 1, &map, out),
	    VDI_ERR_BAD_FORMAT);
	vbuf_free(sb);
	sb = server_blocks(1003, ok, 1, 0);
	assert_int_equal(rdp_gcc_rewrite_server_blocks(sb, 1, &map, out),
	    VDI_ERR_BAD_FORMAT);
	vbuf_free(sb);
	/* RDP encryption: the relay only speaks TLS. */
	sb = server_blocks(1003, ok, 2, 0x2);
	assert_int_equal(rdp_gcc_rewrite_server_blocks(sb, 1, &map, out),
	    VDI_ERR_UNSUPPORTED);
	vbuf_free(sb);
	assert_int_equal(vbuf_len(out), 0);
	assert_false(map.have_ids);
	sb = server_blocks(1003, ok, 2, 0);
	assert_int_equal(rdp_gcc_rewrite_server_blocks(sb, 1, &map, out), 0);
	assert_int_equal(rdp_gcc_parse_server_blocks(out, &s), 0);
	assert_int_equal(s.nchannels, 3);
	assert_int_equal(s.ids[0], RDP_FAKE_CHANNEL_BASE);
	assert_int_equal(s.ids[1], 1004); /* drdynvc: desktop's 1st */
	assert_int_equal(s.ids[2], 1005); /* rdpsnd: desktop's 2nd */
	assert_int_equal(s.early_caps & RDP_SC_CORE_SKIP_CHANNELJOIN, 0);
	vbuf_free(sb);
	vbuf_free(cb);
	vbuf_free(out);
}

/* Each prefix of the MCS PDU, wrapped with consistent TPKT/X.224 lengths:
 * the BER and PER lengths inside must catch it. */
static void
prefixes_fail(const char *file, int response)
{
	struct cap c = cap_load(file);
	struct rdp_mcs_connect_initial ci;
	struct rdp_mcs_connect_response cr;
	struct rdp_gcc_map map;
	struct vbuf *out = vbuf_new(RDP_FRAME_MAX);
	size_t k;

	for (k = 0; k < c.len - 7; k++) {
		unsigned char *q = dup_bytes(c.p + 7, k);
		struct vbuf v;
		int r;

		vbuf_init_view(&v, q, k);
		r = response ? rdp_mcs_parse_connect_response(&v, &cr)
			     : rdp_mcs_parse_connect_initial(&v, &ci);
		assert_true(is_length_error(r));
		free(q);
	}
	/* The whole rewriter on raw prefixes of the TPKT. */
	for (k = 0; k < c.len; k++) {
		unsigned char *q = dup_bytes(c.p, k);
		struct vbuf v;
		int r;

		vbuf_init_view(&v, q, k);
		memset(&map, 0, sizeof(map));
		map.nkept = 1;
		r = response
		    ? rdp_mcs_rewrite_connect_response(&v, 1, &map, out)
		    : rdp_mcs_rewrite_connect_initial(
			  &v, &hardened, 1, &map, out);
		assert_true(is_length_error(r));
		assert_int_equal(vbuf_len(out), 0);
		free(q);
	}
	vbuf_free(out);
	cap_free(&c);
}

static void
rdp_mcs_parse_connect__when_truncated_at_every_field__error(void **state)
{
	prefixes_fail("shadow-full/0002-c2s-mcs-connect-initial.bin", 0);
	prefixes_fail("xrdp-full/0002-c2s-mcs-connect-initial.bin", 0);
	prefixes_fail("shadow-full/0003-s2c-mcs-connect-response.bin", 1);
	prefixes_fail("xrdp-full/0003-s2c-mcs-connect-response.bin", 1);
}

static void
rdp_mcs_parse_connect_response__when_result_not_success__denied(void **s)
{
	struct cap c =
	    cap_load("relay-shadow/0003-s2c-mcs-connect-response.bin");
	struct vbuf *out = vbuf_new(RDP_FRAME_MAX), v;
	struct rdp_gcc_map map;

	memset(&map, 0, sizeof(map));
	map.nkept = 1;
	/* 7F 66 62 0A 01 <result> */
	assert_int_equal(c.p[7 + 5], 0);
	c.p[7 + 5] = 14; /* rt-unspecified-failure */
	v = cap_view(&c);
	assert_int_equal(
	    rdp_mcs_rewrite_connect_response(&v, 1, &map, out), VDI_ERR_DENIED);
	c.p[7 + 5] = 16;
	assert_int_equal(rdp_mcs_rewrite_connect_response(&v, 1, &map, out),
	    VDI_ERR_BAD_FORMAT);
	vbuf_free(out);
	cap_free(&c);
}

static void
rdp_gcc_parse_create__when_prefix_or_key_wrong__errors(void **state)
{
	struct cap c = cap_load("shadow-full/0002-c2s-mcs-connect-initial.bin");
	struct vbuf mcs = cap_mcs(&c), blocks;
	struct rdp_mcs_connect_initial ci;
	unsigned char *ud;
	size_t n;
	uint16_t node;
	uint32_t tag;

	assert_int_equal(rdp_mcs_parse_connect_initial(&mcs, &ci), 0);
	n = vbuf_len(&ci.user_data);
	ud = dup_bytes(vbuf_ptr(&ci.user_data), n);
	{
		struct vbuf v;

		vbuf_init_view(&v, ud, n);
		assert_int_equal(rdp_gcc_parse_create_request(&v, &blocks), 0);
		/* A response parser refuses the request. */
		assert_int_equal(
		    rdp_gcc_parse_create_response(&v, &node, &tag, &blocks),
		    VDI_ERR_BAD_FORMAT);
		ud[3] ^= 1; /* OID */
		assert_int_equal(rdp_gcc_parse_create_request(&v, &blocks),
		    VDI_ERR_BAD_FORMAT);
		ud[3] ^= 1;
		ud[7 + 2 + 8] = 'X'; /* "Duca" key */
		assert_int_equal(rdp_gcc_parse_create_request(&v, &blocks),
		    VDI_ERR_BAD_FORMAT);
		ud[7 + 2 + 8] = 'D';
		ud[8]++; /* connectPDU length */
		assert_int_equal(rdp_gcc_parse_create_request(&v, &blocks),
		    VDI_ERR_BAD_LENGTH);
		ud[8]--;
		ud[7] = 0xC1; /* a 15-bit PER length far past the data */
		assert_int_not_equal(
		    rdp_gcc_parse_create_request(&v, &blocks), 0);
	}
	free(ud);
	cap_free(&c);
}

/* --- domain PDUs ---------------------------------------------------------- */

static void
rdp_mcs_parse_domain__when_captured__each_type(void **state)
{
	static const struct {
		const char *file;
		enum rdp_mcs_type type;
		uint16_t initiator, channel;
	} t[] = {
		{ "shadow-full/0004-c2s-mcs-erect-domain.bin",
		    RDP_MCS_ERECT_DOMAIN_REQUEST, 0, 0 },
		{ "shadow-full/0005-c2s-mcs-attach-user-request.bin",
		    RDP_MCS_ATTACH_USER_REQUEST, 0, 0 },
		{ "shadow-full/0006-s2c-mcs-attach-user-confirm.bin",
		    RDP_MCS_ATTACH_USER_CONFIRM, 1009, 0 },
		{ "shadow-full/0007-c2s-mcs-channel-join-request.bin",
		    RDP_MCS_CHANNEL_JOIN_REQUEST, 1009, 1009 },
		{ "shadow-full/0010-s2c-mcs-channel-join-confirm.bin",
		    RDP_MCS_CHANNEL_JOIN_CONFIRM, 1009, 1003 },
		{ "shadow-full/0021-c2s-io-client-info.bin",
		    RDP_MCS_SEND_DATA_REQUEST, 1009, 1003 },
		{ "shadow-full/0023-s2c-io-demand-active.bin",
		    RDP_MCS_SEND_DATA_INDICATION, 1009, 1003 },
	};
	struct rdp_mcs_pdu p;
	size_t i, k;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct cap c = cap_load(t[i].file);
		struct vbuf mcs = cap_mcs(&c);

		assert_int_equal(rdp_mcs_parse_domain(&mcs, &p), 0);
		assert_int_equal(p.type, t[i].type);
		assert_int_equal(p.initiator, t[i].initiator);
		assert_int_equal(p.channel_id, t[i].channel);
		if (p.type == RDP_MCS_SEND_DATA_REQUEST)
			assert_int_equal(vbuf_len(&p.data), c.len - 15);
		/* Every prefix of the MCS PDU fails. */
		for (k = 0; k < vbuf_len(&mcs); k++) {
			unsigned char *q = dup_bytes(vbuf_ptr(&mcs), k);
			struct vbuf v;

			vbuf_init_view(&v, q, k);
			assert_true(
			    is_length_error(rdp_mcs_parse_domain(&v, &p)));
			assert_int_equal(p.type, 0);
			free(q);
		}
		cap_free(&c);
	}
}

static void
rdp_mcs_write_channel_join_confirm__when_fake_id__matches_relay_capture(
    void **state)
{
	struct cap c = cap_load(
	    "relay-shadow/0012-s2c.local-mcs-channel-join-confirm.bin");
	struct vbuf *out = vbuf_new(64), mcs;
	struct rdp_mcs_pdu p;

	/* The desktop gave user id 1005 (it saw one channel). */
	assert_int_equal(rdp_mcs_write_channel_join_confirm(out, 0, 1005,
			     RDP_FAKE_CHANNEL_BASE, RDP_FAKE_CHANNEL_BASE),
	    0);
	assert_int_equal(vbuf_len(out), c.len);
	assert_memory_equal(vbuf_ptr(out), c.p, c.len);
	assert_int_equal(rdp_x224_parse_data(out, &mcs), 0);
	assert_int_equal(rdp_mcs_parse_domain(&mcs, &p), 0);
	assert_int_equal(p.type, RDP_MCS_CHANNEL_JOIN_CONFIRM);
	assert_true(p.has_channel_id);
	assert_int_equal(p.requested, RDP_FAKE_CHANNEL_BASE);
	vbuf_reset(out);
	assert_int_equal(rdp_mcs_write_channel_join_confirm(out, 0, 1000, 1, 1),
	    VDI_ERR_INVALID_ARG);
	vbuf_free(out);
	cap_free(&c);
}

static void
rdp_mcs_write_send_data__when_roundtrip__same_fields(void **state)
{
	static unsigned char big[0x8000];
	struct vbuf *out = vbuf_new(RDP_FRAME_MAX), mcs;
	struct rdp_mcs_pdu p;

	assert_int_equal(
	    rdp_mcs_write_send_data(out, 1, 1007, 1004, "xyz", 3), 0);
	assert_int_equal(rdp_x224_parse_data(out, &mcs), 0);
	assert_int_equal(rdp_mcs_parse_domain(&mcs, &p), 0);
	assert_int_equal(p.type, RDP_MCS_SEND_DATA_INDICATION);
	assert_int_equal(p.initiator, 1007);
	assert_int_equal(p.channel_id, 1004);
	assert_int_equal(p.priority, 1);
	assert_memory_equal(vbuf_ptr(&p.data), "xyz", 3);
	vbuf_reset(out);
	assert_int_equal(
	    rdp_mcs_write_send_data(out, 0, 1007, 1003, big, 0x3FFF), 0);
	assert_int_equal(rdp_x224_parse_data(out, &mcs), 0);
	assert_int_equal(rdp_mcs_parse_domain(&mcs, &p), 0);
	assert_int_equal(vbuf_len(&p.data), 0x3FFF);
	vbuf_reset(out);
	/* 15-bit PER lengths, as FreeRDP writes them, up to 0x7FFF */
	assert_int_equal(
	    rdp_mcs_write_send_data(out, 0, 1007, 1003, big, 0x4000), 0);
	assert_int_equal(rdp_x224_parse_data(out, &mcs), 0);
	assert_int_equal(rdp_mcs_parse_domain(&mcs, &p), 0);
	assert_int_equal(vbuf_len(&p.data), 0x4000);
	vbuf_reset(out);
	assert_int_equal(
	    rdp_mcs_write_send_data(out, 0, 1007, 1003, big, 0x8000),
	    VDI_ERR_TOO_LARGE);
	assert_int_equal(vbuf_len(out), 0);
	vbuf_free(out);
}

static void
rdp_mcs_parse_domain__when_malformed__each_error(void **state)
{
	static const struct {
		unsigned char b[12];
		size_t n;
		int want;
	} t[] = {
		/* Detach User Request (12): not used by RDP. */
		{ { 0x30, 0x00, 0x00 }, 3, VDI_ERR_UNSUPPORTED },
		/* Send Data: segmentation not begin|end. */
		{ { 0x64, 0, 6, 0x03, 0xEB, 0x40, 1, 0xAA }, 8,
		    VDI_ERR_BAD_FORMAT },
		/* Send Data: PER length larger than the data. */
		{ { 0x64, 0, 6, 0x03, 0xEB, 0x70, 2, 0xAA }, 8,
		    VDI_ERR_TRUNCATED },
		/* ... and smaller. */
		{ { 0x64, 0, 6, 0x03, 0xEB, 0x70, 1, 0xAA, 0xBB }, 9,
		    VDI_ERR_BAD_LENGTH },
		/* Send Data: a 15-bit PER length (0x4100) past the data. */
		{ { 0x64, 0, 6, 0x03, 0xEB, 0x70, 0xC1, 0x00 }, 8,
		    VDI_ERR_TRUNCATED },
		/* Attach User Request with a trailing byte. */
		{ { 0x28, 0x00 }, 2, VDI_ERR_BAD_LENGTH },
		/* Erect Domain with a 5-byte integer. */
		{ { 0x04, 0x05, 0, 0, 0, 0, 0, 0x01, 0x00 }, 9,
		    VDI_ERR_BAD_FORMAT },
		/* Channel Join Request with stray low bits. */
		{ { 0x39, 0, 6, 0x03, 0xEB }, 5, VDI_ERR_BAD_FORMAT },
		/* User id 0xFFFF - 1001 + 1 overflows. */
		{ { 0x38, 0xFC, 0x18, 0x03, 0xEB }, 5, VDI_ERR_BAD_FORMAT },
	};
	struct rdp_mcs_pdu p;
	struct vbuf v;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		vbuf_init_view(&v, t[i].b, t[i].n);
		assert_int_equal(rdp_mcs_parse_domain(&v, &p), t[i].want);
	}
}

static void
rdp_mcs_write_disconnect__when_user_requested__21_80(void **state)
{
	struct vbuf *out = vbuf_new(64), mcs;
	struct rdp_mcs_pdu p;

	assert_int_equal(rdp_mcs_write_disconnect(out, 3), 0);
	assert_int_equal(rdp_x224_parse_data(out, &mcs), 0);
	assert_memory_equal(vbuf_ptr(&mcs), "\x21\x80", 2);
	assert_int_equal(rdp_mcs_parse_domain(&mcs, &p), 0);
	assert_int_equal(p.type, RDP_MCS_DISCONNECT_PROVIDER_ULTIMATUM);
	assert_int_equal(p.reason, 3);
	vbuf_reset(out);
	assert_int_equal(rdp_mcs_write_disconnect(out, 4), 0);
	assert_int_equal(rdp_x224_parse_data(out, &mcs), 0);
	assert_int_equal(rdp_mcs_parse_domain(&mcs, &p), 0);
	assert_int_equal(p.reason, 4);
	assert_int_equal(rdp_mcs_write_disconnect(out, 8), VDI_ERR_INVALID_ARG);
	vbuf_free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    rdp_mcs_parse_connect_initial__when_captured__four_channels),
		cmocka_unit_test(
		    rdp_mcs_rewrite_connect_initial__when_hardened__only_drdynvc),
		cmocka_unit_test(
		    rdp_mcs_rewrite_connect_initial__when_audio_out__drdynvc_and_rdpsnd),
		cmocka_unit_test(
		    rdp_mcs_rewrite_connect_response__when_desktop_saw_one__positional_fakes),
		cmocka_unit_test(
		    rdp_mcs_rewrite_connect__when_audio_out_relay_capture__rdpsnd_kept),
		cmocka_unit_test(
		    rdp_mcs_rewrite_connect_response__when_desktop_saw_other_list__bad_format),
		cmocka_unit_test(
		    rdp_gcc_rewrite_client_blocks__when_known_bad_names__refused),
		cmocka_unit_test(
		    rdp_gcc_parse_client_blocks__when_bad_net__errors),
		cmocka_unit_test(
		    rdp_gcc_rewrite_server_blocks__when_ids_invalid__bad_format),
		cmocka_unit_test(
		    rdp_mcs_parse_connect__when_truncated_at_every_field__error),
		cmocka_unit_test(
		    rdp_mcs_parse_connect_response__when_result_not_success__denied),
		cmocka_unit_test(
		    rdp_gcc_parse_create__when_prefix_or_key_wrong__errors),
		cmocka_unit_test(
		    rdp_mcs_parse_domain__when_captured__each_type),
		cmocka_unit_test(
		    rdp_mcs_write_channel_join_confirm__when_fake_id__matches_relay_capture),
		cmocka_unit_test(
		    rdp_mcs_write_send_data__when_roundtrip__same_fields),
		cmocka_unit_test(
		    rdp_mcs_parse_domain__when_malformed__each_error),
		cmocka_unit_test(
		    rdp_mcs_write_disconnect__when_user_requested__21_80),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
