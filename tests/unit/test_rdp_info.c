/* Unit tests for rdp/info.c and sec.c. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "test_rdp_capture.h"

#include "rdp/info.h"
#include "rdp/sec.h"

static const struct rdp_policy hardened = { 0 };
static const struct rdp_policy audio = { 1 };

static const unsigned char alice16[] = { 'a', 0, 'l', 0, 'i', 0, 'c', 0, 'e',
	0 };
static const unsigned char secret16[] = { 's', 0, 'e', 0, 'c', 0, 'r', 0, 'e',
	0, 't', 0, '1', 0 };

static void
rdp_info_parse__when_captured_cbdomain_zero__empty_domain(void **state)
{
	/* FreeRDP sends cbDomain 0: the FreeRDP proxy turned that into a
	 * NULL string and crashed. */
	struct cap c = cap_load("shadow-full/0021-c2s-io-client-info.bin");
	struct vbuf d = cap_send_data(&c, NULL);
	struct rdp_info info;

	assert_int_equal(rdp_info_parse(&d, &info), 0);
	assert_int_equal(info.sec.flags, RDP_SEC_INFO_PKT);
	assert_int_equal(vbuf_len(&info.domain), 0);
	assert_int_equal(vbuf_len(&info.user), sizeof(alice16));
	assert_memory_equal(vbuf_ptr(&info.user), alice16, sizeof(alice16));
	assert_int_equal(vbuf_len(&info.password), sizeof(secret16));
	assert_memory_equal(
	    vbuf_ptr(&info.password), secret16, sizeof(secret16));
	assert_memory_equal(
	    vbuf_ptr(&d) + info.password_off, secret16, sizeof(secret16));
	assert_true(info.flags & RDP_INFO_UNICODE);
	assert_true(info.flags & RDP_INFO_COMPRESSION);
	assert_true(info.flags & RDP_INFO_AUDIOCAPTURE); /* /microphone */
	assert_int_equal(vbuf_len(&info.extra), 272);
	assert_false(info.has_arc_cookie);
	cap_free(&c);
}

static void
rdp_info_rewrite__when_hardened_no_creds__flags_and_strings(void **state)
{
	struct cap c = cap_load("shadow-full/0021-c2s-io-client-info.bin");
	struct vbuf d = cap_send_data(&c, NULL);
	struct vbuf *out = vbuf_new(4096);
	struct rdp_info in, info;

	assert_int_equal(rdp_info_parse(&d, &in), 0);
	assert_int_equal(rdp_info_rewrite(&d, &hardened, NULL, out), 0);
	assert_int_equal(rdp_info_parse(out, &info), 0);
	assert_int_equal(info.flags &
		(RDP_INFO_COMPRESSION | RDP_INFO_COMPRESSION_TYPE_MASK |
		    RDP_INFO_AUDIOCAPTURE | RDP_INFO_RAIL |
		    RDP_INFO_HIDEF_RAIL_SUPPORTED |
		    RDP_INFO_REMOTECONSOLEAUDIO | RDP_INFO_PASSWORD_IS_SC_PIN),
	    0);
	assert_true(info.flags & RDP_INFO_NOAUDIOPLAYBACK);
	assert_int_equal(
	    info.flags & RDP_INFO_AUTOLOGON, in.flags & RDP_INFO_AUTOLOGON);
	assert_int_equal(info.code_page, in.code_page);
	assert_int_equal(vbuf_len(&info.user), sizeof(alice16));
	assert_int_equal(vbuf_len(&info.password), sizeof(secret16));
	assert_int_equal(vbuf_len(&info.shell), 0);
	assert_int_equal(vbuf_len(&info.workdir), 0);
	assert_int_equal(vbuf_len(&info.extra), vbuf_len(&in.extra));
	assert_memory_equal(
	    vbuf_ptr(&info.extra), vbuf_ptr(&in.extra), vbuf_len(&in.extra));
	vbuf_free(out);
	cap_free(&c);
}

static void
rdp_info_rewrite__when_relay_capture__same_bytes_as_forwarded(void **state)
{
	/* The shadow server accepted this rewrite in a live session. */
	struct cap c = cap_load("relay-shadow/0019-c2s-io-client-info.bin");
	struct cap fwd =
	    cap_load("relay-shadow/0019-c2s.fwd-io-client-info.bin");
	struct rdp_mcs_pdu p;
	struct vbuf d = cap_send_data(&c, &p);
	struct vbuf *tmp = vbuf_new(4096), *out = vbuf_new(8192);

	assert_int_equal(rdp_info_rewrite(&d, &hardened, NULL, tmp), 0);
	assert_int_equal(rdp_mcs_write_send_data(out, 0, p.initiator,
			     p.channel_id, vbuf_ptr(tmp), vbuf_len(tmp)),
	    0);
	assert_int_equal(vbuf_len(out), fwd.len);
	assert_memory_equal(vbuf_ptr(out), fwd.p, fwd.len);
	vbuf_free(tmp);
	vbuf_free(out);
	cap_free(&c);
	cap_free(&fwd);
}

static void
rdp_info_rewrite__when_creds__injected_autologon(void **state)
{
	/* "pä€😀": 1-, 2-, 3- and 4-byte UTF-8. */
	static const unsigned char pw16[] = { 'p', 0, 0xE4, 0x00, 0xAC, 0x20,
		0x3D, 0xD8, 0x00, 0xDE };
	struct rdp_info_creds cr = { "CORP", "bob",
		"p\xC3\xA4\xE2\x82\xAC\xF0\x9F\x98\x80" };
	struct cap c = cap_load("shadow-full/0021-c2s-io-client-info.bin");
	struct vbuf d = cap_send_data(&c, NULL);
	struct vbuf *out = vbuf_new(4096);
	struct rdp_info info;

	assert_int_equal(rdp_info_rewrite(&d, &audio, &cr, out), 0);
	assert_int_equal(rdp_info_parse(out, &info), 0);
	assert_true(info.flags & RDP_INFO_AUTOLOGON);
	/* The client asked for sound: audio_out keeps playback on. */
	assert_false(info.flags & RDP_INFO_NOAUDIOPLAYBACK);
	assert_int_equal(vbuf_len(&info.domain), 8);
	assert_memory_equal(vbuf_ptr(&info.domain), "C\0O\0R\0P\0", 8);
	assert_int_equal(vbuf_len(&info.user), 6);
	assert_memory_equal(vbuf_ptr(&info.user), "b\0o\0b\0", 6);
	assert_int_equal(vbuf_len(&info.password), sizeof(pw16));
	assert_memory_equal(vbuf_ptr(&info.password), pw16, sizeof(pw16));
	/* Wiping the output's password leaves everything else. */
	{
		unsigned char *p = vbuf_mutable_ptr(out);
		size_t off = info.password_off, i;

		assert_int_equal(rdp_info_wipe_password(p, vbuf_len(out)), 0);
		for (i = 0; i < sizeof(pw16); i++)
			assert_int_equal(p[off + i], 0);
		assert_int_equal(rdp_info_parse(out, &info), 0);
		assert_memory_equal(vbuf_ptr(&info.user), "b\0o\0b\0", 6);
	}
	/* Bad credentials: nothing appended. */
	vbuf_reset(out);
	cr.password = "\xC0\x80";
	assert_int_equal(
	    rdp_info_rewrite(&d, &audio, &cr, out), VDI_ERR_INVALID_ARG);
	assert_int_equal(vbuf_len(out), 0);
	cr.password = NULL;
	assert_int_equal(
	    rdp_info_rewrite(&d, &audio, &cr, out), VDI_ERR_INVALID_ARG);
	vbuf_free(out);
	cap_free(&c);
}

static void
rdp_info_parse__when_truncated_at_every_field__error(void **state)
{
	struct cap c = cap_load("xrdp-full/0019-c2s-io-client-info.bin");
	struct vbuf d = cap_send_data(&c, NULL);
	struct rdp_info info;
	size_t k, extra_off, ok = 0;

	assert_int_equal(rdp_info_parse(&d, &info), 0);
	extra_off = vbuf_len(&d) - vbuf_len(&info.extra);
	for (k = 0; k < vbuf_len(&d); k++) {
		unsigned char *q = dup_bytes(vbuf_ptr(&d), k);
		struct vbuf v;
		int r;

		vbuf_init_view(&v, q, k);
		r = rdp_info_parse(&v, &info);
		if (r == 0) {
			/* Only where extraInfo's optional groups end. */
			assert_true(k >= extra_off);
			ok++;
		} else
			assert_true(is_length_error(r));
		free(q);
	}
	/* none, after clientDir, timezone, session id, performance flags,
	 * autoreconnect, reserved: at most 7 valid cut points. */
	assert_true(ok >= 4 && ok <= 7);
	cap_free(&c);
}

/* Builds SEC header + TS_INFO_PACKET with the given sizes; strings are
 * filled with 'x' 0 pairs, each followed by nul (2 bytes). */
static struct vbuf *
build_info(uint16_t secflags, uint32_t flags, const uint16_t cb[5],
    uint16_t nul, const void *extra, size_t extralen)
{
	struct vbuf *b = vbuf_new(8192);
	unsigned int i, j;

	assert_int_equal(vbuf_put_u16le(b, secflags), 0);
	assert_int_equal(vbuf_put_u16le(b, 0), 0);
	assert_int_equal(vbuf_put_u32le(b, 0x409), 0);
	assert_int_equal(vbuf_put_u32le(b, flags), 0);
	for (i = 0; i < 5; i++)
		assert_int_equal(vbuf_put_u16le(b, cb[i]), 0);
	for (i = 0; i < 5; i++) {
		for (j = 0; j < cb[i]; j++)
			assert_int_equal(vbuf_put_u8(b, j % 2 ? 0 : 'x'), 0);
		assert_int_equal(vbuf_put_u16le(b, nul), 0);
	}
	if (extralen > 0)
		assert_int_equal(vbuf_put(b, extra, extralen), 0);
	return b;
}

static void
rdp_info_parse__when_malformed__each_error(void **state)
{
	static const uint16_t ok[5] = { 0, 6, 4, 0, 0 };
	static const uint16_t odd[5] = { 0, 5, 4, 0, 0 };
	static const uint16_t big[5] = { 0, 512, 4, 0, 0 };
	static const uint16_t max[5] = { 510, 510, 510, 510, 510 };
	/* clientAddressFamily, cbClientAddress 4, "1\0\0\0", cbClientDir 0. */
	static const unsigned char extra[] = { 2, 0, 4, 0, '1', 0, 0, 0, 0, 0 };
	/* cbClientAddress 82: over the limit. */
	static const unsigned char extra_big[] = { 2, 0, 82, 0 };
	unsigned char arc[10 + 172 + 4 + 4 + 2];
	const uint32_t u = RDP_INFO_UNICODE;
	struct rdp_info info;
	struct vbuf *b;

	b = build_info(RDP_SEC_INFO_PKT, u, ok, 0, extra, sizeof(extra));
	assert_int_equal(rdp_info_parse(b, &info), 0);
	vbuf_free(b);
	b = build_info(RDP_SEC_INFO_PKT, u, max, 0, NULL, 0);
	assert_int_equal(rdp_info_parse(b, &info), 0);
	vbuf_free(b);
	b = build_info(RDP_SEC_INFO_PKT, u, odd, 0, NULL, 0);
	assert_int_equal(rdp_info_parse(b, &info), VDI_ERR_BAD_FORMAT);
	vbuf_free(b);
	b = build_info(RDP_SEC_INFO_PKT, u, big, 0, NULL, 0);
	assert_int_equal(rdp_info_parse(b, &info), VDI_ERR_TOO_LARGE);
	vbuf_free(b);
	/* A terminator that is not NUL. */
	b = build_info(RDP_SEC_INFO_PKT, u, ok, 0x41, NULL, 0);
	assert_int_equal(rdp_info_parse(b, &info), VDI_ERR_BAD_FORMAT);
	vbuf_free(b);
	/* ANSI Client Info. */
	b = build_info(RDP_SEC_INFO_PKT, 0, ok, 0, NULL, 0);
	assert_int_equal(rdp_info_parse(b, &info), VDI_ERR_UNSUPPORTED);
	vbuf_free(b);
	/* Standard RDP security (encrypted). */
	b = build_info(RDP_SEC_INFO_PKT | RDP_SEC_ENCRYPT, u, ok, 0, NULL, 0);
	assert_int_equal(rdp_info_parse(b, &info), VDI_ERR_UNSUPPORTED);
	vbuf_free(b);
	/* Not a Client Info PDU. */
	b = build_info(RDP_SEC_LICENSE_PKT, u, ok, 0, NULL, 0);
	assert_int_equal(rdp_info_parse(b, &info), VDI_ERR_BAD_FORMAT);
	vbuf_free(b);
	b = build_info(
	    RDP_SEC_INFO_PKT, u, ok, 0, extra_big, sizeof(extra_big));
	assert_int_equal(rdp_info_parse(b, &info), VDI_ERR_TOO_LARGE);
	vbuf_free(b);
	/* Auto-reconnect cookie length other than 0 or 28. */
	memset(arc, 0, sizeof(arc));
	memcpy(arc, extra, sizeof(extra));
	arc[sizeof(arc) - 2] = 27;
	b = build_info(RDP_SEC_INFO_PKT, u, ok, 0, arc, sizeof(arc));
	assert_int_equal(rdp_info_parse(b, &info), VDI_ERR_BAD_LENGTH);
	vbuf_free(b);
	arc[sizeof(arc) - 2] = 0;
	b = build_info(RDP_SEC_INFO_PKT, u, ok, 0, arc, sizeof(arc));
	assert_int_equal(rdp_info_parse(b, &info), 0);
	/* ... and a stray byte after the last group. */
	assert_int_equal(vbuf_put_u8(b, 0), 0);
	assert_int_equal(rdp_info_parse(b, &info), VDI_ERR_TRUNCATED);
	vbuf_free(b);
	/* A cb that runs past the data. */
	b = build_info(RDP_SEC_INFO_PKT, u, ok, 0, NULL, 0);
	assert_int_equal(vbuf_poke_u16le(b, 4 + 8 + 2, 300), 0);
	assert_int_equal(rdp_info_parse(b, &info), VDI_ERR_TRUNCATED);
	vbuf_free(b);
}

static void
rdp_info_wipe_password__when_captured__only_password_zeroed(void **state)
{
	struct cap c = cap_load("shadow-full/0021-c2s-io-client-info.bin");
	unsigned char *data = c.p + 15, *copy;
	size_t n = c.len - 15, i;
	struct rdp_info info;
	struct vbuf v;

	copy = dup_bytes(data, n);
	assert_int_equal(rdp_info_wipe_password(data, n), 0);
	vbuf_init_view(&v, data, n);
	assert_int_equal(rdp_info_parse(&v, &info), 0);
	for (i = 0; i < n; i++) {
		if (i >= info.password_off && i < info.password_off + 14)
			assert_int_equal(data[i], 0);
		else
			assert_int_equal(data[i], copy[i]);
	}
	assert_int_equal(rdp_info_wipe_password(data, 10), VDI_ERR_TRUNCATED);
	free(copy);
	cap_free(&c);
}

static void
rdp_utf8_to_utf16le__when_each_form__converted_or_refused(void **state)
{
	static const struct {
		const char *in;
		int want;
		size_t outlen;
	} t[] = {
		{ "", 0, 0 },
		{ "abc", 0, 6 },
		{ "\xC3\xA4", 0, 2 },
		{ "\xE2\x82\xAC", 0, 2 },
		{ "\xF0\x9F\x98\x80", 0, 4 },
		{ "\xC0\x80", VDI_ERR_INVALID_ARG, 0 },     /* overlong NUL */
		{ "\xE0\x80\xAF", VDI_ERR_INVALID_ARG, 0 }, /* overlong */
		{ "\xED\xA0\x80", VDI_ERR_INVALID_ARG, 0 }, /* surrogate */
		{ "\xF4\x90\x80\x80", VDI_ERR_INVALID_ARG, 0 }, /* > 10FFFF */
		{ "\x80", VDI_ERR_INVALID_ARG, 0 },      /* continuation */
		{ "a\xE2\x82", VDI_ERR_INVALID_ARG, 0 }, /* cut short */
		{ "\xFF", VDI_ERR_INVALID_ARG, 0 },
	};
	struct vbuf *out = vbuf_new(64);
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		vbuf_reset(out);
		assert_int_equal(
		    rdp_utf8_to_utf16le(t[i].in, 64, out), t[i].want);
		assert_int_equal(vbuf_len(out), t[i].outlen);
	}
	vbuf_reset(out);
	assert_int_equal(rdp_utf8_to_utf16le("abc", 4, out), VDI_ERR_TOO_LARGE);
	assert_int_equal(vbuf_len(out), 0);
	assert_int_equal(
	    rdp_utf8_to_utf16le("\xF0\x9F\x98\x80", 2, out), VDI_ERR_TOO_LARGE);
	vbuf_free(out);
}

/* --- sec.c: licensing ----------------------------------------------------- */

static void
rdp_sec_parse_license__when_captured_exchange__types(void **state)
{
	static const struct {
		const char *file;
		enum rdp_dir dir;
		uint8_t type;
	} t[] = {
		{ "xrdp-full/0020-s2c-io-license-01.bin", RDP_S2C,
		    RDP_LICENSE_REQUEST },
		{ "xrdp-full/0021-c2s-io-license-13.bin", RDP_C2S,
		    RDP_LICENSE_NEW_LICENSE_REQUEST },
		{ "xrdp-full/0022-s2c-io-license-ff.bin", RDP_S2C,
		    RDP_LICENSE_ERROR_ALERT },
		{ "shadow-full/0022-s2c-io-license-ff.bin", RDP_S2C,
		    RDP_LICENSE_ERROR_ALERT },
	};
	struct rdp_license l;
	size_t i, k;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct cap c = cap_load(t[i].file);
		struct vbuf d = cap_send_data(&c, NULL);

		assert_true(rdp_sec_is_license(&d));
		assert_int_equal(rdp_sec_parse_license(&d, t[i].dir, &l), 0);
		assert_int_equal(l.msg_type, t[i].type);
		assert_int_equal(l.size, vbuf_len(&d) - 4);
		/* The other direction may not send it. */
		if (t[i].type != RDP_LICENSE_ERROR_ALERT)
			assert_int_equal(
			    rdp_sec_parse_license(&d,
				t[i].dir == RDP_S2C ? RDP_C2S : RDP_S2C, &l),
			    VDI_ERR_UNSUPPORTED);
		for (k = 0; k < vbuf_len(&d); k++) {
			unsigned char *q = dup_bytes(vbuf_ptr(&d), k);
			struct vbuf v;

			vbuf_init_view(&v, q, k);
			assert_true(is_length_error(
			    rdp_sec_parse_license(&v, t[i].dir, &l)));
			free(q);
		}
		cap_free(&c);
	}
}

static void
rdp_sec_parse_license__when_malformed__errors(void **state)
{
	/* ERROR_ALERT: STATUS_VALID_CLIENT, ST_NO_TRANSITION, an empty
	 * BB_ERROR_BLOB (2.2.1.12.1.3) */
	unsigned char b[] = { 0x80, 0x00, 0x00, 0x00, 0xFF, 0x03, 0x10, 0x00,
		0x07, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x04, 0x00,
		0x00, 0x00 };
	/* the same with dwErrorCode only: no error alert */
	unsigned char shrt[] = { 0x80, 0x00, 0x00, 0x00, 0xFF, 0x03, 0x08, 0x00,
		0x07, 0x00, 0x00, 0x00 };
	struct rdp_license l;
	struct rdp_sec_header h;
	struct vbuf v;

	vbuf_init_view(&v, shrt, sizeof(shrt));
	assert_int_equal(
	    rdp_sec_parse_license(&v, RDP_S2C, &l), VDI_ERR_TRUNCATED);
	vbuf_init_view(&v, b, sizeof(b));
	assert_int_equal(rdp_sec_parse_license(&v, RDP_S2C, &l), 0);
	b[6] = 0x11; /* wMsgSize */
	assert_int_equal(
	    rdp_sec_parse_license(&v, RDP_S2C, &l), VDI_ERR_BAD_LENGTH);
	b[6] = 0x10;
	b[5] = 0x01; /* preamble version 1 */
	assert_int_equal(
	    rdp_sec_parse_license(&v, RDP_S2C, &l), VDI_ERR_BAD_FORMAT);
	b[5] = 0x83;
	assert_int_equal(rdp_sec_parse_license(&v, RDP_S2C, &l), 0);
	b[0] = 0x88; /* SEC_ENCRYPT */
	assert_int_equal(
	    rdp_sec_parse_license(&v, RDP_S2C, &l), VDI_ERR_UNSUPPORTED);
	b[0] = 0x40; /* not a licensing PDU */
	assert_int_equal(
	    rdp_sec_parse_license(&v, RDP_S2C, &l), VDI_ERR_BAD_FORMAT);
	b[0] = 0x80;
	b[4] = 0x05; /* unknown message type */
	assert_int_equal(
	    rdp_sec_parse_license(&v, RDP_S2C, &l), VDI_ERR_UNSUPPORTED);
	/* Header reader: nothing consumed on error. */
	b[0] = 0x09;
	assert_int_equal(rdp_sec_parse_header(&v, &h), VDI_ERR_UNSUPPORTED);
	assert_int_equal(vbuf_len(&v), sizeof(b));
	vbuf_init_view(&v, b, 3);
	assert_int_equal(rdp_sec_parse_header(&v, &h), VDI_ERR_TRUNCATED);
	assert_int_equal(vbuf_len(&v), 3);
}

static void
rdp_sec_is_license__when_share_length_has_bit7__true(void **state)
{
	/* xrdp's Demand Active has totalLength 0x019A: read as security
	 * flags it carries SEC_LICENSE_PKT. FreeRDP only asks during the
	 * licensing phase, so the relay must track that phase (sec.h). */
	struct cap c = cap_load("xrdp-full/0023-s2c-io-demand-active.bin");
	struct vbuf d = cap_send_data(&c, NULL);

	assert_true(rdp_sec_is_license(&d));
	cap_free(&c);
	c = cap_load("shadow-full/0023-s2c-io-demand-active.bin");
	d = cap_send_data(&c, NULL);
	assert_false(rdp_sec_is_license(&d));
	cap_free(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    rdp_info_parse__when_captured_cbdomain_zero__empty_domain),
		cmocka_unit_test(
		    rdp_info_rewrite__when_hardened_no_creds__flags_and_strings),
		cmocka_unit_test(
		    rdp_info_rewrite__when_relay_capture__same_bytes_as_forwarded),
		cmocka_unit_test(
		    rdp_info_rewrite__when_creds__injected_autologon),
		cmocka_unit_test(
		    rdp_info_parse__when_truncated_at_every_field__error),
		cmocka_unit_test(rdp_info_parse__when_malformed__each_error),
		cmocka_unit_test(
		    rdp_info_wipe_password__when_captured__only_password_zeroed),
		cmocka_unit_test(
		    rdp_utf8_to_utf16le__when_each_form__converted_or_refused),
		cmocka_unit_test(
		    rdp_sec_parse_license__when_captured_exchange__types),
		cmocka_unit_test(rdp_sec_parse_license__when_malformed__errors),
		cmocka_unit_test(
		    rdp_sec_is_license__when_share_length_has_bit7__true),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
