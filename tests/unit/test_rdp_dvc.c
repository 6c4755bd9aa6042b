/* Unit tests for rdp/dvc.c and gfx.c. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "test_rdp_capture.h"

#include "rdp/dvc.h"
#include "rdp/gfx.h"

static const struct rdp_policy hardened = { 0 };
static const struct rdp_policy audio = { 1 };

struct ctx {
	struct rdp_dvc_table t;
	struct rdp_dvc_result res;
};

static int
setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	rdp_dvc_table_init(&c->t);
	assert_int_equal(rdp_dvc_result_init(&c->res), 0);
	*state = c;
	return 0;
}

static int
teardown(void **state)
{
	struct ctx *c = *state;

	rdp_dvc_table_free(&c->t);
	rdp_dvc_result_free(&c->res);
	free(c);
	return 0;
}

/* Filters raw bytes. */
static enum rdp_action
run(struct ctx *c, const struct rdp_policy *pol, enum rdp_dir dir,
    const void *p, size_t n)
{
	struct vbuf v;

	vbuf_init_view(&v, p, n);
	assert_int_equal(rdp_dvc_filter(&c->t, pol, dir, &v, &c->res), 0);
	return c->res.v.action;
}

/* Filters a captured drdynvc message. */
static enum rdp_action
run_cap(struct ctx *c, const struct rdp_policy *pol, const char *file)
{
	struct cap cp = cap_load(file);
	struct vbuf m = cap_svc_msg(&cp);
	enum rdp_action a;

	a = run(c, pol, strstr(file, "c2s") ? RDP_C2S : RDP_S2C, vbuf_ptr(&m),
	    vbuf_len(&m));
	cap_free(&cp);
	return a;
}

static void
rdp_dvc_parse__when_captured__fields(void **state)
{
	static const struct {
		const char *file;
		uint8_t cmd;
		uint32_t id;
		const char *name;
	} t[] = {
		{ "shadow-full/0034-s2c-svc-drdynvc-caps.bin", RDP_DVC_CMD_CAPS,
		    0, "" },
		{ "xrdp-full/0034-s2c-svc-drdynvc-caps.bin", RDP_DVC_CMD_CAPS,
		    0, "" },
		{ "shadow-full/0047-s2c-svc-drdynvc-create.bin",
		    RDP_DVC_CMD_CREATE, 1, "AUDIO_INPUT" },
		{ "shadow-full/0048-s2c-svc-drdynvc-create.bin",
		    RDP_DVC_CMD_CREATE, 2,
		    "Microsoft::Windows::RDS::Graphics" },
		{ "xrdp-full/0047-s2c-svc-drdynvc-create.bin",
		    RDP_DVC_CMD_CREATE, 1,
		    "Microsoft::Windows::RDS::DisplayControl" },
		{ "shadow-full/0049-c2s-svc-drdynvc-create.bin",
		    RDP_DVC_CMD_CREATE, 1, "" },
		{ "shadow-full/0051-c2s-svc-drdynvc-data.bin", RDP_DVC_CMD_DATA,
		    2, "" },
	};
	struct rdp_dvc_pdu p;
	size_t i, k;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct cap c = cap_load(t[i].file);
		struct vbuf m = cap_svc_msg(&c);
		enum rdp_dir dir = strstr(t[i].file, "c2s") ? RDP_C2S : RDP_S2C;

		assert_int_equal(rdp_dvc_parse(&m, dir, &p), 0);
		assert_int_equal(p.cmd, t[i].cmd);
		assert_int_equal(p.channel_id, t[i].id);
		assert_string_equal(p.name, t[i].name);
		/* Every prefix fails (a Data PDU of 1 byte has no id). */
		for (k = 0; k < vbuf_len(&m); k++) {
			unsigned char *q = dup_bytes(vbuf_ptr(&m), k);
			struct vbuf v;
			int r;

			vbuf_init_view(&v, q, k);
			r = rdp_dvc_parse(&v, dir, &p);
			if (p.cmd == RDP_DVC_CMD_DATA && k >= 2)
				assert_int_equal(r, 0); /* shorter data */
			else
				assert_true(is_length_error(r));
			free(q);
		}
		cap_free(&c);
	}
}

static void
rdp_dvc_parse__when_malformed__each_error(void **state)
{
	static const struct {
		unsigned char b[8];
		size_t n;
		enum rdp_dir dir;
		int want;
	} t[] = {
		{ { 0x33, 1, 2, 3, 4 }, 5, RDP_C2S,
		    VDI_ERR_BAD_FORMAT }, /* cbId 3 */
		{ { 0x2C, 1, 5, 0 }, 4, RDP_C2S,
		    VDI_ERR_BAD_FORMAT },                        /* Len 3 */
		{ { 0xA0, 1 }, 2, RDP_C2S, VDI_ERR_BAD_FORMAT }, /* Cmd 10 */
		{ { 0x10, 1, 'a', 'b' }, 4, RDP_S2C,
		    VDI_ERR_TRUNCATED }, /* no NUL */
		{ { 0x10, 1, 'a', 0, 'b' }, 5, RDP_S2C, VDI_ERR_BAD_LENGTH },
		{ { 0x10, 1, 0, 0, 0, 0, 0 }, 7, RDP_C2S, VDI_ERR_BAD_LENGTH },
		{ { 0x40, 1, 0 }, 3, RDP_C2S, VDI_ERR_BAD_LENGTH }, /* close */
		{ { 0x50, 0, 2, 0 }, 4, RDP_S2C,
		    VDI_ERR_TRUNCATED }, /* caps v2 */
		{ { 0x50, 0, 1, 0, 0 }, 5, RDP_C2S, VDI_ERR_BAD_LENGTH },
		{ { 0x21, 1, 0 }, 3, RDP_C2S,
		    VDI_ERR_TRUNCATED }, /* 2-byte id */
	};
	struct rdp_dvc_pdu p;
	struct vbuf v;
	size_t i;
	unsigned char longname[2 + RDP_DVC_NAME_MAX + 2];

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		vbuf_init_view(&v, t[i].b, t[i].n);
		assert_int_equal(rdp_dvc_parse(&v, t[i].dir, &p), t[i].want);
	}
	memset(longname, 'a', sizeof(longname));
	longname[0] = 0x10;
	longname[1] = 1;
	longname[sizeof(longname) - 1] = 0;
	vbuf_init_view(&v, longname, sizeof(longname));
	assert_int_equal(rdp_dvc_parse(&v, RDP_S2C, &p), VDI_ERR_TOO_LARGE);
	vbuf_init_view(&v, longname, sizeof(longname) - 1);
	longname[sizeof(longname) - 2] = 0;
	assert_int_equal(rdp_dvc_parse(&v, RDP_S2C, &p), 0);
	assert_int_equal(p.name_len, RDP_DVC_NAME_MAX);
}

static void
rdp_dvc_filter__when_captured_session__graphics_open_audio_input_refused(
    void **state)
{
	struct ctx *c = *state;
	const struct rdp_dvc_entry *e;
	struct vbuf r;

	assert_int_equal(
	    run_cap(c, &hardened, "shadow-full/0034-s2c-svc-drdynvc-caps.bin"),
	    RDP_PASS);
	assert_int_equal(
	    run_cap(c, &hardened, "shadow-full/0044-c2s-svc-drdynvc-caps.bin"),
	    RDP_PASS);
	assert_int_equal(c->t.version, 1);
	/* AUDIO_INPUT: not forwarded, answered for the client. */
	assert_int_equal(run_cap(c, &hardened,
			     "shadow-full/0047-s2c-svc-drdynvc-create.bin"),
	    RDP_DROP);
	assert_string_equal(c->res.v.reason, "dvc_refused name=AUDIO_INPUT");
	assert_int_equal(c->res.v.what.kind, RDP_REFUSED_DVC);
	assert_string_equal(c->res.v.what.name, "AUDIO_INPUT");
	assert_int_equal(c->res.reply.n, 1);
	assert_int_equal(rdp_msgs_get(&c->res.reply, 0, &r), 0);
	{
		/* What the proxy sent the shadow server in the live session. */
		struct cap rc = cap_load(
		    "relay-shadow/0043-c2s.local-svc-drdynvc-create.bin");
		struct vbuf m = cap_svc_msg(&rc);

		assert_int_equal(vbuf_len(&r), vbuf_len(&m));
		assert_memory_equal(vbuf_ptr(&r), vbuf_ptr(&m), vbuf_len(&m));
		assert_memory_equal(
		    vbuf_ptr(&r), "\x10\x01\x01\x00\x00\xC0", 6);
		cap_free(&rc);
	}
	assert_null(rdp_dvc_lookup(&c->t, 1));
	/* Graphics: requested, then opened by the client's response. */
	assert_int_equal(run_cap(c, &hardened,
			     "shadow-full/0048-s2c-svc-drdynvc-create.bin"),
	    RDP_PASS);
	assert_non_null(e = rdp_dvc_lookup(&c->t, 2));
	assert_int_equal(e->state, RDP_DVC_REQUESTED);
	assert_int_equal(e->cls, RDP_DVC_CLASS_GRAPHICS);
	/* The client's success for id 1 was never requested: dropped. */
	assert_int_equal(run_cap(c, &hardened,
			     "shadow-full/0049-c2s-svc-drdynvc-create.bin"),
	    RDP_DROP);
	assert_string_equal(
	    c->res.v.reason, "dvc_unrequested_create_response id=1");
	assert_int_equal(run_cap(c, &hardened,
			     "shadow-full/0050-c2s-svc-drdynvc-create.bin"),
	    RDP_PASS);
	assert_int_equal(e->state, RDP_DVC_OPEN);
	/* Graphics traffic both ways. */
	assert_int_equal(
	    run_cap(c, &hardened, "shadow-full/0051-c2s-svc-drdynvc-data.bin"),
	    RDP_PASS);
	assert_int_equal(
	    run_cap(c, &hardened, "shadow-full/0052-s2c-svc-drdynvc-data.bin"),
	    RDP_PASS);
	/* Audio input data on id 1 (never opened here): dropped. */
	assert_int_equal(
	    run_cap(c, &hardened, "shadow-full/0058-s2c-svc-drdynvc-data.bin"),
	    RDP_DROP);
	assert_int_equal(
	    run_cap(c, &hardened, "shadow-full/0059-c2s-svc-drdynvc-data.bin"),
	    RDP_DROP);
	assert_string_equal(c->res.v.reason, "dvc_data_not_open id=1");
}

static void
rdp_dvc_filter__when_caps_version3__downgraded_unknown_closed(void **state)
{
	struct ctx *c = *state;
	static const unsigned char req3[] = { 0x50, 0, 3, 0, 1, 0, 2, 0, 3, 0,
		4, 0 };
	static const unsigned char rsp3[] = { 0x50, 0, 3, 0 };
	static const unsigned char rsp4[] = { 0x50, 0, 4, 0 };
	static const unsigned char req9[] = { 0x50, 0, 9, 0, 1, 2, 3 };
	struct vbuf m;

	assert_int_equal(
	    run(c, &hardened, RDP_S2C, req3, sizeof(req3)), RDP_REWRITE);
	assert_int_equal(c->res.out.n, 1);
	assert_int_equal(rdp_msgs_get(&c->res.out, 0, &m), 0);
	assert_int_equal(vbuf_len(&m), sizeof(req3));
	assert_memory_equal(vbuf_ptr(&m), "\x50\x00\x02\x00\x01\x00", 6);
	assert_int_equal(
	    run(c, &hardened, RDP_C2S, rsp3, sizeof(rsp3)), RDP_REWRITE);
	assert_int_equal(rdp_msgs_get(&c->res.out, 0, &m), 0);
	assert_memory_equal(vbuf_ptr(&m), "\x50\x00\x02\x00", 4);
	assert_int_equal(c->t.version, 2);
	assert_int_equal(
	    run(c, &hardened, RDP_C2S, rsp4, sizeof(rsp4)), RDP_CLOSE);
	assert_int_equal(
	    run(c, &hardened, RDP_S2C, req9, sizeof(req9)), RDP_CLOSE);
	assert_string_equal(c->res.v.reason, "dvc_caps_version version=9");
	/* xrdp's version 2 request passes as is. */
	assert_int_equal(
	    run_cap(c, &hardened, "xrdp-full/0034-s2c-svc-drdynvc-caps.bin"),
	    RDP_PASS);
}

/* Opens id (1 byte) with name through request + success response. */
static void
open_channel(
    struct ctx *c, const struct rdp_policy *pol, uint8_t id, const char *name)
{
	unsigned char req[300] = { 0x10, id };
	unsigned char rsp[] = { 0x10, id, 0, 0, 0, 0 };
	size_t n = strlen(name) + 1;

	memcpy(req + 2, name, n);
	assert_int_equal(run(c, pol, RDP_S2C, req, 2 + n), RDP_PASS);
	assert_int_equal(run(c, pol, RDP_C2S, rsp, sizeof(rsp)), RDP_PASS);
	assert_int_equal(rdp_dvc_lookup(&c->t, id)->state, RDP_DVC_OPEN);
}

static void
rdp_dvc_filter__when_compressed_or_soft_sync__close_or_drop(void **state)
{
	/* DejaBlue lived in the compressed DVC path. */
	struct ctx *c = *state;
	static const unsigned char dfc[] = { 0x60, 3, 10, 1, 2, 3 };
	static const unsigned char dc[] = { 0x70, 3, 1, 2, 3 };
	static const unsigned char ssreq[] = { 0x80, 0, 8, 0, 0, 0, 0, 0 };
	static const unsigned char ssrsp[] = { 0x90, 0, 0, 0, 0, 0 };

	open_channel(c, &hardened, 3, "Microsoft::Windows::RDS::Input");
	assert_int_equal(
	    run(c, &hardened, RDP_S2C, dfc, sizeof(dfc)), RDP_CLOSE);
	assert_string_equal(c->res.v.reason, "dvc_compressed cmd=6");
	assert_int_equal(run(c, &hardened, RDP_C2S, dc, sizeof(dc)), RDP_CLOSE);
	assert_string_equal(c->res.v.reason, "dvc_compressed cmd=7");
	assert_int_equal(
	    run(c, &hardened, RDP_S2C, ssreq, sizeof(ssreq)), RDP_DROP);
	assert_int_equal(
	    run(c, &hardened, RDP_C2S, ssrsp, sizeof(ssrsp)), RDP_DROP);
	assert_string_equal(c->res.v.reason, "dvc_soft_sync_dropped");
}

static void
rdp_dvc_filter__when_names__allowlist_and_audio_policy(void **state)
{
	static const struct {
		const char *name;
		enum rdp_dvc_class hardened, audio;
	} t[] = {
		{ "Microsoft::Windows::RDS::Graphics", RDP_DVC_CLASS_GRAPHICS,
		    RDP_DVC_CLASS_GRAPHICS },
		{ "Microsoft::Windows::RDS::DisplayControl",
		    RDP_DVC_CLASS_DISPLAY, RDP_DVC_CLASS_DISPLAY },
		{ "Microsoft::Windows::RDS::Input", RDP_DVC_CLASS_INPUT,
		    RDP_DVC_CLASS_INPUT },
		{ "AUDIO_PLAYBACK_DVC", RDP_DVC_CLASS_NONE,
		    RDP_DVC_CLASS_AUDIO_OUT },
		{ "AUDIO_PLAYBACK_LOSSY_DVC", RDP_DVC_CLASS_NONE,
		    RDP_DVC_CLASS_AUDIO_OUT },
		{ "AUDIO_INPUT", RDP_DVC_CLASS_NONE, RDP_DVC_CLASS_NONE },
		{ "TSMF", RDP_DVC_CLASS_NONE, RDP_DVC_CLASS_NONE },
		{ "URBDRC", RDP_DVC_CLASS_NONE, RDP_DVC_CLASS_NONE },
		{ "urbdrc", RDP_DVC_CLASS_NONE, RDP_DVC_CLASS_NONE },
		{ "FileRedirectorChannel", RDP_DVC_CLASS_NONE,
		    RDP_DVC_CLASS_NONE },
		{ "Microsoft::Windows::RDS::AuthRedirection",
		    RDP_DVC_CLASS_NONE, RDP_DVC_CLASS_NONE },
		{ "microsoft::windows::rds::graphics", RDP_DVC_CLASS_NONE,
		    RDP_DVC_CLASS_NONE },
		{ "Microsoft::Windows::RDS::Graphics ", RDP_DVC_CLASS_NONE,
		    RDP_DVC_CLASS_NONE },
		{ "ECHO", RDP_DVC_CLASS_NONE, RDP_DVC_CLASS_NONE },
		{ "", RDP_DVC_CLASS_NONE, RDP_DVC_CLASS_NONE },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_int_equal(
		    rdp_dvc_name_class(t[i].name, &hardened), t[i].hardened);
		assert_int_equal(
		    rdp_dvc_name_class(t[i].name, &audio), t[i].audio);
	}
	assert_int_equal(
	    rdp_dvc_name_class("AUDIO_PLAYBACK_DVC", NULL), RDP_DVC_CLASS_NONE);
}

static void
rdp_dvc_filter__when_ids_misused__drop_or_close(void **state)
{
	struct ctx *c = *state;
	static const unsigned char create5[] = { 0x10, 5, 'E', 'C', 'H', 'O',
		0 };
	static const unsigned char data9[] = { 0x30, 9, 1, 2 };
	static const unsigned char close9[] = { 0x40, 9 };
	static const unsigned char close4s[] = { 0x40, 4 };
	static const unsigned char data4[] = { 0x30, 4, 1 };
	static const unsigned char rsp4fail[] = { 0x10, 4, 1, 0, 0, 0xC0 };
	unsigned char req[64] = { 0x10, 4 };

	/* Unknown ids. */
	assert_int_equal(
	    run(c, &hardened, RDP_C2S, data9, sizeof(data9)), RDP_DROP);
	assert_int_equal(
	    run(c, &hardened, RDP_S2C, close9, sizeof(close9)), RDP_DROP);
	assert_string_equal(c->res.v.reason, "dvc_close_unknown id=9");
	/* A refused name never gets into the table. */
	assert_int_equal(
	    run(c, &hardened, RDP_S2C, create5, sizeof(create5)), RDP_DROP);
	assert_null(rdp_dvc_lookup(&c->t, 5));
	/* Open id 4, then reuse it while open: close. */
	open_channel(
	    c, &hardened, 4, "Microsoft::Windows::RDS::DisplayControl");
	memcpy(req + 2, "Microsoft::Windows::RDS::Input", 31);
	assert_int_equal(run(c, &hardened, RDP_S2C, req, 33), RDP_CLOSE);
	assert_string_equal(c->res.v.reason,
	    "dvc_id_reused id=4 name=Microsoft::Windows::RDS::Input");
	/* Desktop closes; client answers; data after that is dropped. */
	assert_int_equal(run(c, &hardened, RDP_S2C, close4s, 2), RDP_PASS);
	assert_int_equal(rdp_dvc_lookup(&c->t, 4)->state, RDP_DVC_CLOSING);
	assert_int_equal(run(c, &hardened, RDP_C2S, data4, 3), RDP_DROP);
	assert_int_equal(run(c, &hardened, RDP_S2C, close4s, 2), RDP_DROP);
	assert_string_equal(c->res.v.reason, "dvc_close_repeated id=4");
	assert_int_equal(run(c, &hardened, RDP_C2S, close4s, 2), RDP_PASS);
	assert_null(rdp_dvc_lookup(&c->t, 4));
	/* A failed create response frees the id. */
	assert_int_equal(run(c, &hardened, RDP_S2C, req, 33), RDP_PASS);
	assert_int_equal(run(c, &hardened, RDP_C2S, rsp4fail, 6), RDP_PASS);
	assert_null(rdp_dvc_lookup(&c->t, 4));
	/* A closing id may be created again (the peer never answered). */
	open_channel(c, &hardened, 4, "Microsoft::Windows::RDS::Input");
	assert_int_equal(run(c, &hardened, RDP_C2S, close4s, 2), RDP_PASS);
	open_channel(c, &hardened, 4, "Microsoft::Windows::RDS::Input");
}

static void
rdp_dvc_filter__when_table_full__refused_with_reply(void **state)
{
	struct ctx *c = *state;
	unsigned char req[64] = { 0x11, 0, 0 };
	struct vbuf r;
	unsigned int i;

	memcpy(req + 3, "Microsoft::Windows::RDS::Input", 31);
	for (i = 0; i < RDP_DVC_MAX_CHANNELS; i++) {
		req[1] = (unsigned char)(i + 1);
		req[2] = 1; /* 2-byte ids: 0x01xx */
		assert_int_equal(run(c, &hardened, RDP_S2C, req, 34), RDP_PASS);
	}
	req[1] = 0xFF;
	assert_int_equal(run(c, &hardened, RDP_S2C, req, 34), RDP_DROP);
	assert_string_equal(c->res.v.reason,
	    "dvc_table_full name=Microsoft::Windows::RDS::Input");
	assert_int_equal(c->res.v.what.kind, RDP_REFUSED_DVC_TABLE_FULL);
	assert_string_equal(
	    c->res.v.what.name, "Microsoft::Windows::RDS::Input");
	assert_int_equal(c->res.v.what.code, 0x1FF);
	assert_int_equal(rdp_msgs_get(&c->res.reply, 0, &r), 0);
	assert_memory_equal(vbuf_ptr(&r), "\x11\xFF\x01\x01\x00\x00\xC0", 7);
}

static void
rdp_dvc_filter__when_data_first_lengths_lie__close(void **state)
{
	struct ctx *c = *state;
	/* Data First Length 10 with 4 bytes; Data 4; Data 4 overruns. */
	static const unsigned char df[] = { 0x20, 3, 10, 1, 2, 3, 4 };
	static const unsigned char d4[] = { 0x30, 3, 1, 2, 3, 4 };
	static const unsigned char d2[] = { 0x30, 3, 1, 2 };
	/* Data First whose data is longer than Length. */
	static const unsigned char dfo[] = { 0x20, 3, 2, 1, 2, 3 };
	/* Data First of 64 MiB (4-byte Length). */
	static const unsigned char dfbig[] = { 0x28, 3, 0, 0, 0, 4, 1 };

	open_channel(c, &hardened, 3, "Microsoft::Windows::RDS::Input");
	assert_int_equal(run(c, &hardened, RDP_S2C, df, sizeof(df)), RDP_PASS);
	assert_int_equal(run(c, &hardened, RDP_S2C, d4, sizeof(d4)), RDP_PASS);
	assert_int_equal(run(c, &hardened, RDP_S2C, d4, sizeof(d4)), RDP_CLOSE);
	assert_string_equal(c->res.v.reason, "dvc_data_overrun id=3");
	teardown(state);
	setup(state);
	c = *state;
	open_channel(c, &hardened, 3, "Microsoft::Windows::RDS::Input");
	assert_int_equal(run(c, &hardened, RDP_S2C, df, sizeof(df)), RDP_PASS);
	assert_int_equal(run(c, &hardened, RDP_S2C, df, sizeof(df)), RDP_CLOSE);
	assert_string_equal(c->res.v.reason, "dvc_data_first_in_message id=3");
	teardown(state);
	setup(state);
	c = *state;
	open_channel(c, &hardened, 3, "Microsoft::Windows::RDS::Input");
	assert_int_equal(
	    run(c, &hardened, RDP_C2S, dfo, sizeof(dfo)), RDP_CLOSE);
	assert_int_equal(
	    run(c, &hardened, RDP_C2S, dfbig, sizeof(dfbig)), RDP_CLOSE);
	assert_string_equal(
	    c->res.v.reason, "dvc_message_too_large id=3 length=67108864");
	/* The two directions are tracked apart. */
	assert_int_equal(run(c, &hardened, RDP_S2C, df, sizeof(df)), RDP_PASS);
	assert_int_equal(run(c, &hardened, RDP_C2S, d2, sizeof(d2)), RDP_PASS);
	assert_int_equal(run(c, &hardened, RDP_S2C, d4, sizeof(d4)), RDP_PASS);
	assert_int_equal(run(c, &hardened, RDP_S2C, d2, sizeof(d2)), RDP_PASS);
}

/* RDPGFX PDUs (header + body of zeros). */
static size_t
gfx_pdu(unsigned char *p, uint16_t cmd, uint32_t len)
{
	memset(p, 0, len);
	p[0] = (unsigned char)cmd;
	p[1] = (unsigned char)(cmd >> 8);
	p[4] = (unsigned char)len;
	p[5] = (unsigned char)(len >> 8);
	p[6] = (unsigned char)(len >> 16);
	return len;
}

static void
rdp_dvc_filter__when_gfx_cache_import_offer__dropped(void **state)
{
	struct ctx *c = *state;
	unsigned char m[4000];
	size_t n;
	struct vbuf out;

	open_channel(c, &hardened, 2, "Microsoft::Windows::RDS::Graphics");
	/* One Data PDU carrying the offer. */
	m[0] = 0x30;
	m[1] = 2;
	n = 2 + gfx_pdu(m + 2, RDP_GFX_CMD_CACHEIMPORTOFFER, 8 + 2 + 12);
	assert_int_equal(run(c, &hardened, RDP_C2S, m, n), RDP_DROP);
	assert_string_equal(c->res.v.reason, "gfx_cache_import_offer_dropped");
	/* The offer from the desktop's side is not inspected. */
	assert_int_equal(run(c, &hardened, RDP_S2C, m, n), RDP_PASS);
	/* Frame acknowledge + offer in one message: only the ack goes on. */
	n = 2 + gfx_pdu(m + 2, RDP_GFX_CMD_FRAMEACKNOWLEDGE, 20);
	n += gfx_pdu(m + n, RDP_GFX_CMD_CACHEIMPORTOFFER, 8 + 2 + 12 * 3);
	assert_int_equal(run(c, &hardened, RDP_C2S, m, n), RDP_REWRITE);
	assert_int_equal(c->res.out.n, 1);
	assert_int_equal(rdp_msgs_get(&c->res.out, 0, &out), 0);
	assert_int_equal(vbuf_len(&out), 2 + 20);
	assert_memory_equal(vbuf_ptr(&out), m, 22);
	/* An offer split as Data First + Data: held, then dropped. */
	{
		unsigned char df[1600], d[1600];
		size_t total = 8 + 2 + 12 * 200, first = 1000;
		unsigned char body[8 + 2 + 12 * 200];

		gfx_pdu(body, RDP_GFX_CMD_CACHEIMPORTOFFER, (uint32_t)total);
		df[0] = 0x24; /* Data First, Len 2 bytes, id 1 byte */
		df[1] = 2;
		df[2] = (unsigned char)total;
		df[3] = (unsigned char)(total >> 8);
		memcpy(df + 4, body, first);
		assert_int_equal(
		    run(c, &hardened, RDP_C2S, df, 4 + first), RDP_REWRITE);
		assert_int_equal(c->res.out.n, 0); /* held */
		d[0] = 0x30;
		d[1] = 2;
		memcpy(d + 2, body + first, 1000);
		assert_int_equal(
		    run(c, &hardened, RDP_C2S, d, 1002), RDP_REWRITE);
		assert_int_equal(c->res.out.n, 0);
		memcpy(d + 2, body + 2000, total - 2000);
		assert_int_equal(
		    run(c, &hardened, RDP_C2S, d, 2 + total - 2000), RDP_DROP);
		assert_string_equal(
		    c->res.v.reason, "gfx_cache_import_offer_dropped");
	}
}

static void
rdp_dvc_filter__when_gfx_long_message__refragmented(void **state)
{
	/* A 5000-byte caps advertise sent in pieces comes out as Data First
	 * + Data PDUs of at most 1600 bytes that add up to the same. */
	struct ctx *c = *state;
	unsigned char body[5000], df[1600], d[1600];
	struct rdp_dvc_pdu p;
	struct vbuf *whole = vbuf_new(8192), m;
	size_t i, off;

	open_channel(c, &hardened, 2, "Microsoft::Windows::RDS::Graphics");
	gfx_pdu(body, RDP_GFX_CMD_CAPSADVERTISE, sizeof(body));
	for (i = 8; i < sizeof(body); i++)
		body[i] = (unsigned char)i;
	df[0] = 0x24;
	df[1] = 2;
	df[2] = (unsigned char)sizeof(body);
	df[3] = (unsigned char)(sizeof(body) >> 8);
	memcpy(df + 4, body, 1500);
	assert_int_equal(run(c, &hardened, RDP_C2S, df, 1504), RDP_REWRITE);
	for (off = 1500; off < sizeof(body); off += 1500) {
		size_t n =
		    sizeof(body) - off < 1500 ? sizeof(body) - off : 1500;

		d[0] = 0x30;
		d[1] = 2;
		memcpy(d + 2, body + off, n);
		assert_int_equal(
		    run(c, &hardened, RDP_C2S, d, 2 + n), RDP_REWRITE);
	}
	assert_true(c->res.out.n >= 4);
	for (i = 0; i < c->res.out.n; i++) {
		assert_int_equal(rdp_msgs_get(&c->res.out, i, &m), 0);
		assert_true(vbuf_len(&m) <= RDP_DVC_PDU_MAX);
		assert_int_equal(rdp_dvc_parse(&m, RDP_C2S, &p), 0);
		assert_int_equal(
		    p.cmd, i == 0 ? RDP_DVC_CMD_DATA_FIRST : RDP_DVC_CMD_DATA);
		assert_int_equal(p.channel_id, 2);
		if (i == 0)
			assert_int_equal(p.length, sizeof(body));
		assert_int_equal(vbuf_put_buf(whole, &p.data), 0);
	}
	assert_int_equal(vbuf_len(whole), sizeof(body));
	assert_memory_equal(vbuf_ptr(whole), body, sizeof(body));
	/* Over the inspection cap: close. */
	df[0] = 0x28; /* 4-byte Length */
	df[2] = 0;
	df[3] = 0;
	df[4] = 0x10;
	df[5] = 0;
	assert_int_equal(run(c, &hardened, RDP_C2S, df, 10), RDP_CLOSE);
	vbuf_free(whole);
}

/* --- gfx.c ---------------------------------------------------------------- */

static void
rdp_gfx_filter_c2s__when_captured_caps_advertise__pass(void **state)
{
	struct cap c = cap_load("shadow-full/0051-c2s-svc-drdynvc-data.bin");
	struct vbuf m = cap_svc_msg(&c), gfx, pdu;
	struct vbuf *out = vbuf_new(4096);
	struct rdp_gfx_header h;
	struct rdp_verdict v;
	size_t k;

	/* Skip the DVC header: 30 02. */
	assert_int_equal(vbuf_peek_view(&m, 2, vbuf_len(&m) - 2, &gfx), 0);
	assert_int_equal(rdp_gfx_filter_c2s(&gfx, &v, out), 0);
	assert_int_equal(v.action, RDP_PASS);
	assert_int_equal(vbuf_len(out), 0);
	{
		struct vbuf g = gfx;

		assert_int_equal(rdp_gfx_next(&g, &h, &pdu), 0);
		assert_int_equal(h.cmd, RDP_GFX_CMD_CAPSADVERTISE);
		assert_int_equal(h.length, vbuf_len(&gfx));
	}
	/* Every prefix: the PDU no longer fits. */
	for (k = 0; k < vbuf_len(&gfx); k++) {
		unsigned char *q = dup_bytes(vbuf_ptr(&gfx), k);
		struct vbuf g;

		vbuf_init_view(&g, q, k);
		assert_int_equal(rdp_gfx_filter_c2s(&g, &v, out), 0);
		assert_int_equal(v.action, RDP_CLOSE);
		free(q);
	}
	vbuf_free(out);
	cap_free(&c);
}

static void
rdp_gfx_filter_c2s__when_unknown_or_short__dropped_or_closed(void **state)
{
	unsigned char m[64];
	struct vbuf *out = vbuf_new(4096), g;
	struct rdp_verdict v;
	size_t n;

	n = gfx_pdu(m, 0x0001, 12); /* WireToSurface from the client */
	vbuf_init_view(&g, m, n);
	assert_int_equal(rdp_gfx_filter_c2s(&g, &v, out), 0);
	assert_int_equal(v.action, RDP_DROP);
	assert_string_equal(v.reason, "gfx_cmd_refused cmd=0x0001");
	assert_int_equal(v.what.kind, RDP_REFUSED_PDU);
	assert_int_equal(v.what.code, 0x0001);
	n = gfx_pdu(m, RDP_GFX_CMD_QOEFRAMEACKNOWLEDGE, 7); /* below header */
	m[4] = 7;
	vbuf_init_view(&g, m, 8);
	assert_int_equal(rdp_gfx_filter_c2s(&g, &v, out), 0);
	assert_int_equal(v.action, RDP_CLOSE);
	assert_string_equal(v.reason, "gfx_malformed err=VDI_ERR_BAD_LENGTH");
	vbuf_init_view(&g, m, 0);
	assert_int_equal(rdp_gfx_filter_c2s(&g, &v, out), 0);
	assert_int_equal(v.action, RDP_CLOSE);
	(void)n;
	vbuf_free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rdp_dvc_parse__when_captured__fields),
		cmocka_unit_test(rdp_dvc_parse__when_malformed__each_error),
		cmocka_unit_test_setup_teardown(
		    rdp_dvc_filter__when_captured_session__graphics_open_audio_input_refused,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    rdp_dvc_filter__when_caps_version3__downgraded_unknown_closed,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    rdp_dvc_filter__when_compressed_or_soft_sync__close_or_drop,
		    setup, teardown),
		cmocka_unit_test(
		    rdp_dvc_filter__when_names__allowlist_and_audio_policy),
		cmocka_unit_test_setup_teardown(
		    rdp_dvc_filter__when_ids_misused__drop_or_close, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    rdp_dvc_filter__when_table_full__refused_with_reply, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    rdp_dvc_filter__when_data_first_lengths_lie__close, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    rdp_dvc_filter__when_gfx_cache_import_offer__dropped, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    rdp_dvc_filter__when_gfx_long_message__refragmented, setup,
		    teardown),
		cmocka_unit_test(
		    rdp_gfx_filter_c2s__when_captured_caps_advertise__pass),
		cmocka_unit_test(
		    rdp_gfx_filter_c2s__when_unknown_or_short__dropped_or_closed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
