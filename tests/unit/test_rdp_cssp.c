/* Unit tests for rdp/der.c and rdp/cssp.c (CredSSP TSRequest,
 * TSCredentials, the public-key binding of MS-CSSP 3.1.5). */
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

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "rdp/cssp.h"
#include "rdp/der.h"

/* --- helpers -------------------------------------------------------------- */

/* Parses len bytes copied into an exact-size allocation (ASan sees any
 * read past the end); checks that a failure consumed nothing. */
static int
parse_exact(const unsigned char *p, size_t len, struct rdp_cssp_request *req)
{
	unsigned char *copy = malloc(len > 0 ? len : 1);
	struct vbuf v;
	int r;

	assert_non_null(copy);
	memcpy(copy, p, len);
	vbuf_init_view(&v, copy, len);
	r = rdp_cssp_parse_request(&v, req);
	assert_int_equal(vbuf_len(&v), r == 0 ? 0 : len);
	/* The views must not outlive copy: tests read only scalars after a
	 * parse of this kind. */
	if (r == 0) {
		req->has_nego_token = req->has_nego_token ? 1 : 0;
		vbuf_init_view(&req->nego_token, NULL, 0);
		vbuf_init_view(&req->auth_info, NULL, 0);
		vbuf_init_view(&req->pub_key_auth, NULL, 0);
	}
	free(copy);
	return r;
}

static int
parse_creds_exact(const unsigned char *p, size_t len)
{
	unsigned char *copy = malloc(len > 0 ? len : 1);
	struct rdp_cssp_password_creds c;
	struct vbuf v;
	int r;

	assert_non_null(copy);
	memcpy(copy, p, len);
	vbuf_init_view(&v, copy, len);
	r = rdp_cssp_parse_password_creds(&v, &c);
	assert_int_equal(vbuf_len(&v), r == 0 ? 0 : len);
	free(copy);
	return r;
}

static const unsigned char token[] = "NTLMSSP\0\x01\x00\x00\x00\xb7\x82";
static const unsigned char auth[] = { 0x01, 0x00, 0x00, 0x00, 0xaa, 0xbb };
static const unsigned char pka[] = { 0x01, 0x00, 0x00, 0x00, 0x11, 0x22, 0x33 };

/* A request of the given version with every field that version has. */
static void
full_request(struct rdp_cssp_request *req, uint32_t version)
{
	unsigned int i;

	memset(req, 0, sizeof(*req));
	req->version = version;
	req->has_nego_token = 1;
	vbuf_init_view(&req->nego_token, token, sizeof(token));
	req->has_auth_info = 1;
	vbuf_init_view(&req->auth_info, auth, sizeof(auth));
	req->has_pub_key_auth = 1;
	vbuf_init_view(&req->pub_key_auth, pka, sizeof(pka));
	if (version >= RDP_CSSP_VERSION_ERRORS) {
		req->has_error_code = 1;
		req->error_code = 0xC000006Du; /* STATUS_LOGON_FAILURE */
	}
	if (version >= RDP_CSSP_VERSION_NONCE) {
		req->has_client_nonce = 1;
		for (i = 0; i < RDP_CSSP_NONCE_LEN; i++)
			req->client_nonce[i] = (uint8_t)(0xA0 + i);
	}
}

static int
view_eq(const struct vbuf *v, const void *p, size_t n)
{
	return vbuf_len(v) == n && memcmp(vbuf_ptr(v), p, n) == 0;
}

/* Positions of every tag byte in a DER encoding: constructed elements
 * are walked into, primitive ones are not. */
static size_t
tag_positions(
    const unsigned char *p, size_t len, size_t base, size_t *pos, size_t max)
{
	size_t i = 0, n = 0, hl, vl, k;

	while (i < len && n < max) {
		pos[n++] = base + i;
		if (p[i + 1] < 0x80) {
			hl = 2;
			vl = p[i + 1];
		} else {
			hl = 2 + (p[i + 1] & 0x7F);
			for (vl = 0, k = 0; k < (size_t)(p[i + 1] & 0x7F); k++)
				vl = (vl << 8) | p[i + 2 + k];
		}
		if ((p[i] & 0x20) != 0)
			n += tag_positions(
			    p + i + hl, vl, base + i + hl, pos + n, max - n);
		i += hl + vl;
	}
	return n;
}

/* --- DER primitives --------------------------------------------------------
 */

static void
rdp_der_get_tlv__when_lengths_malformed__each_error(void **state)
{
	static const struct {
		unsigned char in[8];
		size_t len;
		int err;
	} cases[] = {
		{ { 0x04, 0x80, 0x00, 0x00 }, 4,
		    VDI_ERR_BAD_FORMAT }, /* indef. */
		{ { 0x04, 0x81, 0x05, 1, 2, 3, 4, 5 }, 8,
		    VDI_ERR_BAD_FORMAT }, /* fits short */
		{ { 0x04, 0x82, 0x00, 0x90 }, 4, VDI_ERR_BAD_FORMAT }, /* 00 */
		{ { 0x04, 0x84, 0x00, 0x00, 0x01, 0x00 }, 6,
		    VDI_ERR_TOO_LARGE }, /* 4-byte length */
		{ { 0x04, 0x85 }, 2, VDI_ERR_TOO_LARGE },
		{ { 0x04, 0x83, 0x01, 0x00, 0x00 }, 5,
		    VDI_ERR_TOO_LARGE }, /* >max */
		{ { 0x04, 0x03, 0x01 }, 3, VDI_ERR_TRUNCATED },
		{ { 0x04, 0x82, 0x01 }, 3, VDI_ERR_TRUNCATED },
		{ { 0x04 }, 1, VDI_ERR_TRUNCATED },
		{ { 0x05, 0x00 }, 2, VDI_ERR_BAD_FORMAT }, /* wrong tag */
	};
	struct vbuf v, val;
	size_t i, total;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		vbuf_init_view(&v, cases[i].in, cases[i].len);
		assert_int_equal(
		    rdp_der_get_tlv(&v, RDP_DER_OCTET_STRING, 0xFFFF, &val),
		    cases[i].err);
		assert_int_equal(vbuf_len(&v), cases[i].len);
		assert_int_equal(vbuf_len(&val), 0);
		assert_int_equal(
		    rdp_der_peek_size(&v, RDP_DER_OCTET_STRING, 0xFFFF, &total),
		    cases[i].err == VDI_ERR_TRUNCATED &&
			    (cases[i].len < 3 || cases[i].in[1] == 0x82)
			? VDI_ERR_NEED_MORE
			: cases[i].err == VDI_ERR_TRUNCATED ? 0
							    : cases[i].err);
	}
}

static void
rdp_der_integers__when_edge_values__shortest_form_and_back(void **state)
{
	static const uint32_t vals[] = { 0, 1, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF,
		0x8000, 0x7FFFFFFF, 0x80000000u, 0xC000006Du, 0xFFFFFFFFu };
	struct vbuf *b = vbuf_new(64);
	uint32_t got;
	size_t i;

	(void)state;
	assert_non_null(b);
	for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		assert_int_equal(rdp_der_put_uint(b, vals[i]), 0);
		assert_int_equal(vbuf_len(b), rdp_der_uint_size(vals[i]));
		assert_int_equal(rdp_der_get_uint(b, &got), 0);
		assert_int_equal(got, vals[i]);
		assert_int_equal(rdp_der_put_i32(b, vals[i]), 0);
		assert_int_equal(vbuf_len(b), rdp_der_i32_size(vals[i]));
		assert_int_equal(rdp_der_get_u32bits(b, &got), 0);
		assert_int_equal(got, vals[i]);
		assert_int_equal(vbuf_len(b), 0);
	}
	/* 0xC000006D as Windows writes it: four bytes, negative. */
	assert_int_equal(rdp_der_put_i32(b, 0xC000006Du), 0);
	assert_memory_equal(vbuf_ptr(b), "\x02\x04\xC0\x00\x00\x6D", 6);
	assert_int_equal(rdp_der_get_uint(b, &got), VDI_ERR_BAD_FORMAT);
	vbuf_reset(b);
	/* Non-minimal forms, empty, too long. */
	{
		static const struct {
			unsigned char in[8];
			size_t len;
			int err;
		} bad[] = {
			{ { 0x02, 0x02, 0x00, 0x06 }, 4, VDI_ERR_BAD_FORMAT },
			{ { 0x02, 0x02, 0xFF, 0x80 }, 4, VDI_ERR_BAD_FORMAT },
			{ { 0x02, 0x00 }, 2, VDI_ERR_BAD_FORMAT },
			{ { 0x02, 0x06, 0x00, 0x80, 0, 0, 0, 0 }, 8,
			    VDI_ERR_TOO_LARGE },
			{ { 0x02, 0x05, 0x01, 0, 0, 0, 0 }, 7,
			    VDI_ERR_TOO_LARGE },
		};
		struct vbuf v;

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			vbuf_init_view(&v, bad[i].in, bad[i].len);
			assert_int_equal(
			    rdp_der_get_u32bits(&v, &got), bad[i].err);
			assert_int_equal(vbuf_len(&v), bad[i].len);
		}
	}
	vbuf_free(b);
}

/* --- TSRequest --------------------------------------------------------------
 */

static void
rdp_cssp_write_request__when_nego_token__exact_der(void **state)
{
	/* version 6, one 6-byte negoToken, hand-encoded from 2.2.1. */
	static const unsigned char want[] = { 0x30, 0x15, 0xA0, 0x03, 0x02,
		0x01, 0x06, 0xA1, 0x0E, 0x30, 0x0C, 0x30, 0x0A, 0xA0, 0x08,
		0x04, 0x06, 'N', 'T', 'L', 'M', 'S', 'S' };
	struct rdp_cssp_request req, got;
	struct vbuf *b = vbuf_new(RDP_CSSP_REQUEST_MAX + 16);
	size_t total;

	(void)state;
	memset(&req, 0, sizeof(req));
	req.version = 6;
	req.has_nego_token = 1;
	vbuf_init_view(&req.nego_token, "NTLMSS", 6);
	assert_int_equal(rdp_cssp_write_request(b, &req), 0);
	assert_int_equal(vbuf_len(b), sizeof(want));
	assert_memory_equal(vbuf_ptr(b), want, sizeof(want));
	assert_int_equal(rdp_cssp_frame(b, &total), 0);
	assert_int_equal(total, sizeof(want));
	assert_int_equal(rdp_cssp_parse_request(b, &got), 0);
	assert_int_equal(got.version, 6);
	assert_true(got.has_nego_token);
	assert_true(view_eq(&got.nego_token, "NTLMSS", 6));
	assert_false(got.has_auth_info || got.has_pub_key_auth ||
	    got.has_error_code || got.has_client_nonce);
	vbuf_free(b);
}

static void
rdp_cssp_request__when_versions_2_to_6__roundtrip_every_field_subset(
    void **state)
{
	struct rdp_cssp_request all, req, got;
	struct vbuf *b = vbuf_new(RDP_CSSP_REQUEST_MAX + 16);
	uint32_t v;
	unsigned int mask;

	(void)state;
	for (v = 2; v <= 6; v++) {
		full_request(&all, v);
		for (mask = 0; mask < 32; mask++) {
			req = all;
			req.has_nego_token = (mask & 1) != 0;
			req.has_auth_info = (mask & 2) != 0;
			req.has_pub_key_auth = (mask & 4) != 0;
			req.has_error_code = all.has_error_code && (mask & 8);
			req.has_client_nonce =
			    all.has_client_nonce && (mask & 16);
			vbuf_reset(b);
			assert_int_equal(rdp_cssp_write_request(b, &req), 0);
			assert_int_equal(rdp_cssp_parse_request(b, &got), 0);
			assert_int_equal(vbuf_len(b), 0);
			assert_int_equal(got.version, v);
			assert_int_equal(
			    got.has_nego_token, req.has_nego_token);
			assert_int_equal(got.has_auth_info, req.has_auth_info);
			assert_int_equal(
			    got.has_pub_key_auth, req.has_pub_key_auth);
			assert_int_equal(
			    got.has_error_code, req.has_error_code);
			assert_int_equal(
			    got.has_client_nonce, req.has_client_nonce);
			if (req.has_nego_token)
				assert_true(view_eq(
				    &got.nego_token, token, sizeof(token)));
			if (req.has_auth_info)
				assert_true(view_eq(
				    &got.auth_info, auth, sizeof(auth)));
			if (req.has_pub_key_auth)
				assert_true(view_eq(
				    &got.pub_key_auth, pka, sizeof(pka)));
			if (req.has_error_code)
				assert_int_equal(got.error_code, 0xC000006Du);
			if (req.has_client_nonce)
				assert_memory_equal(got.client_nonce,
				    all.client_nonce, RDP_CSSP_NONCE_LEN);
		}
	}
	vbuf_free(b);
}

static void
rdp_cssp_parse_request__when_truncated_anywhere__truncated_nothing_consumed(
    void **state)
{
	struct rdp_cssp_request req, got;
	struct vbuf *b = vbuf_new(RDP_CSSP_REQUEST_MAX + 16);
	size_t n, len, total;
	uint32_t v;

	(void)state;
	for (v = 2; v <= 6; v++) {
		full_request(&req, v);
		vbuf_reset(b);
		assert_int_equal(rdp_cssp_write_request(b, &req), 0);
		len = vbuf_len(b);
		assert_int_equal(parse_exact(vbuf_ptr(b), len, &got), 0);
		for (n = 0; n < len; n++) {
			assert_int_equal(parse_exact(vbuf_ptr(b), n, &got),
			    VDI_ERR_TRUNCATED);
			assert_int_equal(got.version, 0);
			assert_false(got.has_nego_token);
		}
		/* The framer waits for the header, then knows the size. */
		{
			struct vbuf part;

			vbuf_init_view(&part, vbuf_ptr(b), 1);
			assert_int_equal(
			    rdp_cssp_frame(&part, &total), VDI_ERR_NEED_MORE);
			vbuf_init_view(&part, vbuf_ptr(b), 4);
			assert_int_equal(rdp_cssp_frame(&part, &total), 0);
			assert_int_equal(total, len);
		}
	}
	vbuf_free(b);
}

static void
rdp_cssp_parse_request__when_any_tag_wrong__bad_format(void **state)
{
	static const uint8_t wrong[] = { 0x31, 0x05, 0x24, 0xA7, 0xBF, 0x80,
		0x00 };
	struct rdp_cssp_request req, got;
	struct vbuf *b = vbuf_new(RDP_CSSP_REQUEST_MAX + 16);
	unsigned char *copy;
	size_t pos[64], n, i, k, len;

	(void)state;
	full_request(&req, 6);
	assert_int_equal(rdp_cssp_write_request(b, &req), 0);
	len = vbuf_len(b);
	n = tag_positions(vbuf_ptr(b), len, 0, pos, 64);
	/* SEQUENCE, 5 x [n], the fields' INTEGER/OCTET STRINGs, NegoData's
	 * two SEQUENCEs and the token's [0]: 16 tags. */
	assert_int_equal(n, 16);
	copy = malloc(len);
	assert_non_null(copy);
	for (i = 0; i < n; i++)
		for (k = 0; k < sizeof(wrong); k++) {
			memcpy(copy, vbuf_ptr(b), len);
			copy[pos[i]] = wrong[k];
			assert_int_equal(
			    parse_exact(copy, len, &got), VDI_ERR_BAD_FORMAT);
		}
	free(copy);
	vbuf_free(b);
}

static void
rdp_cssp_parse_request__when_fields_misplaced__each_error(void **state)
{
	static const struct {
		const char *what;
		unsigned char in[64];
		size_t len;
		int err;
	} cases[] = {
		{ "version only", { 0x30, 0x05, 0xA0, 0x03, 0x02, 0x01, 0x06 },
		    7, 0 },
		{ "no version", { 0x30, 0x00 }, 2, VDI_ERR_BAD_FORMAT },
		{ "version 1", { 0x30, 0x05, 0xA0, 0x03, 0x02, 0x01, 0x01 }, 7,
		    VDI_ERR_UNSUPPORTED },
		{ "negative version",
		    { 0x30, 0x05, 0xA0, 0x03, 0x02, 0x01, 0xFE }, 7,
		    VDI_ERR_BAD_FORMAT },
		{ "non-minimal version",
		    { 0x30, 0x06, 0xA0, 0x04, 0x02, 0x02, 0x00, 0x06 }, 8,
		    VDI_ERR_BAD_FORMAT },
		{ "version not first",
		    { 0x30, 0x09, 0xA2, 0x02, 0x04, 0x00, 0xA0, 0x03, 0x02,
			0x01, 0x06 },
		    11, VDI_ERR_BAD_FORMAT },
		{ "authInfo twice",
		    { 0x30, 0x0D, 0xA0, 0x03, 0x02, 0x01, 0x06, 0xA2, 0x02,
			0x04, 0x00, 0xA2, 0x02, 0x04, 0x00 },
		    15, VDI_ERR_BAD_FORMAT },
		{ "pubKeyAuth before authInfo",
		    { 0x30, 0x0D, 0xA0, 0x03, 0x02, 0x01, 0x06, 0xA3, 0x02,
			0x04, 0x00, 0xA2, 0x02, 0x04, 0x00 },
		    15, VDI_ERR_BAD_FORMAT },
		{ "unknown field [6]",
		    { 0x30, 0x09, 0xA0, 0x03, 0x02, 0x01, 0x06, 0xA6, 0x02,
			0x04, 0x00 },
		    11, VDI_ERR_BAD_FORMAT },
		{ "errorCode in version 2",
		    { 0x30, 0x0A, 0xA0, 0x03, 0x02, 0x01, 0x02, 0xA4, 0x03,
			0x02, 0x01, 0x00 },
		    12, VDI_ERR_BAD_FORMAT },
		{ "errorCode in version 3",
		    { 0x30, 0x0A, 0xA0, 0x03, 0x02, 0x01, 0x03, 0xA4, 0x03,
			0x02, 0x01, 0x00 },
		    12, 0 },
		{ "clientNonce in version 4",
		    { 0x30, 0x0B, 0xA0, 0x03, 0x02, 0x01, 0x04, 0xA5, 0x04,
			0x04, 0x02, 0x00, 0x00 },
		    13, VDI_ERR_BAD_FORMAT },
		{ "clientNonce of 2 bytes",
		    { 0x30, 0x0B, 0xA0, 0x03, 0x02, 0x01, 0x05, 0xA5, 0x04,
			0x04, 0x02, 0x00, 0x00 },
		    13, VDI_ERR_BAD_FORMAT },
		{ "empty NegoData",
		    { 0x30, 0x09, 0xA0, 0x03, 0x02, 0x01, 0x06, 0xA1, 0x02,
			0x30, 0x00 },
		    11, VDI_ERR_BAD_FORMAT },
		{ "two negoTokens",
		    { 0x30, 0x17, 0xA0, 0x03, 0x02, 0x01, 0x06, 0xA1, 0x10,
			0x30, 0x0E, 0x30, 0x05, 0xA0, 0x03, 0x04, 0x01, 'a',
			0x30, 0x05, 0xA0, 0x03, 0x04, 0x01, 'b' },
		    25, VDI_ERR_UNSUPPORTED },
		{ "item without its token",
		    { 0x30, 0x0B, 0xA0, 0x03, 0x02, 0x01, 0x06, 0xA1, 0x04,
			0x30, 0x02, 0x30, 0x00 },
		    13, VDI_ERR_BAD_FORMAT },
		{ "inner length past its holder",
		    { 0x30, 0x09, 0xA0, 0x03, 0x02, 0x01, 0x06, 0xA2, 0x02,
			0x04, 0x05 },
		    11, VDI_ERR_BAD_LENGTH },
		{ "bytes left in [2]",
		    { 0x30, 0x0A, 0xA0, 0x03, 0x02, 0x01, 0x06, 0xA2, 0x03,
			0x04, 0x00, 0x00 },
		    12, VDI_ERR_BAD_LENGTH },
		{ "bytes after the SEQUENCE",
		    { 0x30, 0x05, 0xA0, 0x03, 0x02, 0x01, 0x06, 0x00 }, 8,
		    VDI_ERR_BAD_LENGTH },
		{ "indefinite length",
		    { 0x30, 0x80, 0xA0, 0x03, 0x02, 0x01, 0x06, 0x00, 0x00 }, 9,
		    VDI_ERR_BAD_FORMAT },
		{ "non-minimal length",
		    { 0x30, 0x81, 0x05, 0xA0, 0x03, 0x02, 0x01, 0x06 }, 8,
		    VDI_ERR_BAD_FORMAT },
		{ "non-minimal inner length",
		    { 0x30, 0x06, 0xA0, 0x81, 0x03, 0x02, 0x01, 0x06 }, 8,
		    VDI_ERR_BAD_FORMAT },
		{ "4-byte length",
		    { 0x30, 0x84, 0x00, 0x00, 0x00, 0x05, 0xA0, 0x03, 0x02,
			0x01, 0x06 },
		    11, VDI_ERR_TOO_LARGE },
		{ "errorCode as Windows writes it",
		    { 0x30, 0x0D, 0xA0, 0x03, 0x02, 0x01, 0x06, 0xA4, 0x06,
			0x02, 0x04, 0xC0, 0x00, 0x00, 0x6D },
		    15, 0 },
		{ "errorCode as a 5-byte positive",
		    { 0x30, 0x0E, 0xA0, 0x03, 0x02, 0x01, 0x06, 0xA4, 0x07,
			0x02, 0x05, 0x00, 0xC0, 0x00, 0x00, 0x6D },
		    16, 0 },
	};
	struct rdp_cssp_request got;
	size_t i;
	int r;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		r = parse_exact(cases[i].in, cases[i].len, &got);
		if (r != cases[i].err)
			fail_msg("%s: got %s, want %s", cases[i].what,
			    vdi_errname(r), vdi_errname(cases[i].err));
		if (r == 0 && got.has_error_code)
			assert_int_equal(got.error_code,
			    cases[i].len == 15 || cases[i].len == 16
				? 0xC000006Du
				: 0);
	}
}

static void
rdp_cssp_request__when_over_caps__too_large(void **state)
{
	static unsigned char big[RDP_CSSP_REQUEST_MAX + 64];
	struct rdp_cssp_request req, got;
	struct vbuf *b = vbuf_new(RDP_CSSP_REQUEST_MAX + 64), v;
	unsigned char *p;
	size_t total;

	(void)state;
	/* Writer: each field over its cap, and no room in out. */
	memset(&req, 0, sizeof(req));
	req.version = 6;
	req.has_nego_token = 1;
	vbuf_init_view(&req.nego_token, big, RDP_CSSP_TOKEN_MAX + 1);
	assert_int_equal(rdp_cssp_write_request(b, &req), VDI_ERR_TOO_LARGE);
	vbuf_init_view(&req.nego_token, big, RDP_CSSP_TOKEN_MAX);
	assert_int_equal(rdp_cssp_write_request(b, &req), 0);
	vbuf_reset(b);
	req.has_auth_info = 1;
	vbuf_init_view(&req.auth_info, big, RDP_CSSP_AUTH_INFO_MAX + 1);
	assert_int_equal(rdp_cssp_write_request(b, &req), VDI_ERR_TOO_LARGE);
	req.has_auth_info = 0;
	req.has_pub_key_auth = 1;
	vbuf_init_view(&req.pub_key_auth, big, RDP_CSSP_PUB_KEY_AUTH_MAX + 1);
	assert_int_equal(rdp_cssp_write_request(b, &req), VDI_ERR_TOO_LARGE);
	/* Token + authInfo + pubKeyAuth at their caps pass 64 KiB. */
	vbuf_init_view(&req.pub_key_auth, big, RDP_CSSP_PUB_KEY_AUTH_MAX);
	req.has_auth_info = 1;
	vbuf_init_view(&req.auth_info, big, RDP_CSSP_AUTH_INFO_MAX);
	assert_int_equal(rdp_cssp_write_request(b, &req), VDI_ERR_TOO_LARGE);
	assert_int_equal(vbuf_len(b), 0);
	{
		struct vbuf *small = vbuf_new(16);

		memset(&req, 0, sizeof(req));
		req.version = 6;
		req.has_nego_token = 1;
		vbuf_init_view(&req.nego_token, big, 20);
		assert_int_equal(
		    rdp_cssp_write_request(small, &req), VDI_ERR_TOO_LARGE);
		assert_int_equal(vbuf_len(small), 0);
		vbuf_free(small);
	}

	/* Parser: a token one byte over its cap, a SEQUENCE over 64 KiB. */
	vbuf_reset(b);
	assert_int_equal(rdp_der_put_header(b, RDP_DER_SEQUENCE,
			     5 + 4 + 4 + 4 + 4 + 4 + RDP_CSSP_TOKEN_MAX + 1),
	    0);
	assert_int_equal(vbuf_put(b, "\xA0\x03\x02\x01\x06", 5), 0);
	assert_int_equal(rdp_der_put_header(b, RDP_DER_CTX(1),
			     4 + 4 + 4 + 4 + RDP_CSSP_TOKEN_MAX + 1),
	    0);
	assert_int_equal(rdp_der_put_header(b, RDP_DER_SEQUENCE,
			     4 + 4 + 4 + RDP_CSSP_TOKEN_MAX + 1),
	    0);
	assert_int_equal(rdp_der_put_header(b, RDP_DER_SEQUENCE,
			     4 + 4 + RDP_CSSP_TOKEN_MAX + 1),
	    0);
	assert_int_equal(
	    rdp_der_put_header(b, RDP_DER_CTX(0), 4 + RDP_CSSP_TOKEN_MAX + 1),
	    0);
	assert_int_equal(
	    rdp_der_put_header(b, RDP_DER_OCTET_STRING, RDP_CSSP_TOKEN_MAX + 1),
	    0);
	assert_int_equal(vbuf_reserve(b, RDP_CSSP_TOKEN_MAX + 1, &p), 0);
	assert_int_equal(
	    parse_exact(vbuf_ptr(b), vbuf_len(b), &got), VDI_ERR_TOO_LARGE);

	vbuf_reset(b);
	assert_int_equal(
	    rdp_der_put_header(b, RDP_DER_SEQUENCE, RDP_CSSP_REQUEST_MAX + 1),
	    0);
	assert_int_equal(vbuf_reserve(b, RDP_CSSP_REQUEST_MAX + 1, &p), 0);
	assert_int_equal(
	    parse_exact(vbuf_ptr(b), vbuf_len(b), &got), VDI_ERR_TOO_LARGE);
	vbuf_init_view(&v, vbuf_ptr(b), 5);
	assert_int_equal(rdp_cssp_frame(&v, &total), VDI_ERR_TOO_LARGE);
	vbuf_free(b);
}

static void
rdp_cssp_write_request__when_bad_arguments__invalid_arg_nothing_appended(
    void **state)
{
	struct rdp_cssp_request req;
	struct vbuf *b = vbuf_new(1024);

	(void)state;
	full_request(&req, 6);
	req.version = 1;
	assert_int_equal(rdp_cssp_write_request(b, &req), VDI_ERR_INVALID_ARG);
	full_request(&req, 6);
	req.version = 2; /* errorCode and nonce are 3+ and 5+ */
	assert_int_equal(rdp_cssp_write_request(b, &req), VDI_ERR_INVALID_ARG);
	full_request(&req, 6);
	req.version = 4;
	assert_int_equal(rdp_cssp_write_request(b, &req), VDI_ERR_INVALID_ARG);
	full_request(&req, 6);
	vbuf_init_view(&req.nego_token, token, 0);
	assert_int_equal(rdp_cssp_write_request(b, &req), VDI_ERR_INVALID_ARG);
	assert_int_equal(vbuf_len(b), 0);
	vbuf_free(b);
}

/* --- TSCredentials -----------------------------------------------------------
 */

static const unsigned char dom16[] = { 'C', 0, 'I', 0, 'T', 0, 'Y', 0 };
static const unsigned char user16[] = { 'a', 0, 'l', 0, 'i', 0, 'c', 0, 'e',
	0 };
static const unsigned char pass16[] = { 's', 0, '3', 0, 'c', 0, 'r', 0, 't',
	0 };

static void
set_creds(struct rdp_cssp_password_creds *c)
{
	vbuf_init_view(&c->domain, dom16, sizeof(dom16));
	vbuf_init_view(&c->user, user16, sizeof(user16));
	vbuf_init_view(&c->password, pass16, sizeof(pass16));
}

static void
rdp_cssp_password_creds__when_written__exact_der_and_roundtrip(void **state)
{
	struct rdp_cssp_password_creds c, got;
	struct vbuf *b = vbuf_new(RDP_CSSP_CREDS_MAX);
	const unsigned char *p;

	(void)state;
	set_creds(&c);
	assert_int_equal(rdp_cssp_write_password_creds(b, &c), 0);
	p = vbuf_ptr(b);
	/* SEQUENCE { [0] INTEGER 1, [1] OCTET STRING { SEQUENCE {...} } } */
	assert_memory_equal(p,
	    "\x30\x33\xA0\x03\x02\x01\x01\xA1\x2C\x04\x2A"
	    "\x30\x28\xA0\x0A\x04\x08",
	    17);
	assert_int_equal(vbuf_len(b), 0x35);
	assert_int_equal(rdp_cssp_parse_password_creds(b, &got), 0);
	assert_true(view_eq(&got.domain, dom16, sizeof(dom16)));
	assert_true(view_eq(&got.user, user16, sizeof(user16)));
	assert_true(view_eq(&got.password, pass16, sizeof(pass16)));
	/* Empty domain, the usual case for a local account. */
	vbuf_reset(b);
	vbuf_init_view(&c.domain, dom16, 0);
	assert_int_equal(rdp_cssp_write_password_creds(b, &c), 0);
	assert_int_equal(rdp_cssp_parse_password_creds(b, &got), 0);
	assert_int_equal(vbuf_len(&got.domain), 0);
	assert_true(view_eq(&got.password, pass16, sizeof(pass16)));
	vbuf_free(b);
}

static void
rdp_cssp_parse_password_creds__when_truncated_or_wrong_tag__errors(void **state)
{
	static const uint8_t wrong[] = { 0x31, 0x05, 0xA5, 0x24 };
	struct rdp_cssp_password_creds c;
	struct vbuf *b = vbuf_new(RDP_CSSP_CREDS_MAX);
	unsigned char *copy;
	size_t n, len, pos[32], np, i, k;

	(void)state;
	set_creds(&c);
	assert_int_equal(rdp_cssp_write_password_creds(b, &c), 0);
	len = vbuf_len(b);
	for (n = 0; n < len; n++)
		assert_int_equal(
		    parse_creds_exact(vbuf_ptr(b), n), VDI_ERR_TRUNCATED);
	/* The OCTET STRING [1] holds DER too: walk it as constructed. */
	np = tag_positions(vbuf_ptr(b), len, 0, pos, 32);
	assert_int_equal(np, 5); /* up to the OCTET STRING */
	np += tag_positions(vbuf_ptr(b) + 11, len - 11, 11, pos + np, 32 - np);
	assert_int_equal(np, 5 + 7);
	copy = malloc(len);
	assert_non_null(copy);
	for (i = 0; i < np; i++)
		for (k = 0; k < sizeof(wrong); k++) {
			memcpy(copy, vbuf_ptr(b), len);
			if (copy[pos[i]] == wrong[k])
				continue;
			copy[pos[i]] = wrong[k];
			assert_int_equal(
			    parse_creds_exact(copy, len), VDI_ERR_BAD_FORMAT);
		}
	/* credType 2 (smart card) is not ours; an odd-length string. */
	memcpy(copy, vbuf_ptr(b), len);
	copy[6] = RDP_CSSP_CRED_SMARTCARD;
	assert_int_equal(parse_creds_exact(copy, len), VDI_ERR_UNSUPPORTED);
	free(copy);
	vbuf_reset(b);
	vbuf_init_view(&c.user, user16, sizeof(user16) - 1);
	assert_int_equal(
	    rdp_cssp_write_password_creds(b, &c), VDI_ERR_INVALID_ARG);
	vbuf_free(b);
	{
		static const unsigned char odd[] = { 0x30, 0x1A, 0xA0, 0x03,
			0x02, 0x01, 0x01, 0xA1, 0x13, 0x04, 0x11, 0x30, 0x0F,
			0xA0, 0x02, 0x04, 0x00, 0xA1, 0x03, 0x04, 0x01, 'a',
			0xA2, 0x04, 0x04, 0x02, 'p', 0 };

		assert_int_equal(
		    parse_creds_exact(odd, sizeof(odd)), VDI_ERR_BAD_FORMAT);
	}
}

static void
rdp_cssp_write_password_creds__when_over_cap_or_no_room__nothing_left(
    void **state)
{
	static unsigned char big[RDP_CSSP_USER_MAX + 2];
	struct rdp_cssp_password_creds c;
	struct vbuf *b = vbuf_new(RDP_CSSP_CREDS_MAX), *small;

	(void)state;
	set_creds(&c);
	vbuf_init_view(&c.password, big, RDP_CSSP_PASSWORD_MAX + 2);
	assert_int_equal(
	    rdp_cssp_write_password_creds(b, &c), VDI_ERR_TOO_LARGE);
	set_creds(&c);
	vbuf_init_view(&c.user, big, RDP_CSSP_USER_MAX + 2);
	assert_int_equal(
	    rdp_cssp_write_password_creds(b, &c), VDI_ERR_TOO_LARGE);
	set_creds(&c);
	vbuf_init_view(&c.domain, big, RDP_CSSP_DOMAIN_MAX + 2);
	assert_int_equal(
	    rdp_cssp_write_password_creds(b, &c), VDI_ERR_TOO_LARGE);
	assert_int_equal(vbuf_len(b), 0);
	/* At their caps all three fit in a TSCredentials. */
	vbuf_init_view(&c.domain, big, RDP_CSSP_DOMAIN_MAX);
	vbuf_init_view(&c.user, big, RDP_CSSP_USER_MAX);
	vbuf_init_view(&c.password, big, RDP_CSSP_PASSWORD_MAX);
	assert_int_equal(rdp_cssp_write_password_creds(b, &c), 0);
	vbuf_free(b);
	/* Some bytes already in a buffer too small: they stay, nothing of the
	 * password is appended. */
	set_creds(&c);
	small = vbuf_new(40);
	assert_int_equal(vbuf_put(small, "keep", 4), 0);
	assert_int_equal(
	    rdp_cssp_write_password_creds(small, &c), VDI_ERR_TOO_LARGE);
	assert_int_equal(vbuf_len(small), 4);
	assert_memory_equal(vbuf_ptr(small), "keep", 4);
	vbuf_free(small);
}

/* --- the public-key binding
 * ---------------------------------------------------- */

static char tmpdir[256];

static int
group_setup(void **state)
{
	const char *t = getenv("TMPDIR"), *src = getenv("top_srcdir"),
		   *o = getenv("OPENSSL");
	char cmd[2048];

	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "%s/vdi-test-cssp.XXXXXX",
	    t != NULL && *t != '\0' ? t : "/tmp");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(cmd, sizeof(cmd),
	    "OPENSSL='%s' sh '%s/tests/pki/mkpki.sh' '%s/pki' "
	    ">'%s/mkpki.log' 2>&1",
	    o != NULL && *o != '\0' ? o : "openssl", src != NULL ? src : "..",
	    tmpdir, tmpdir);
	if (system(cmd) != 0) {
		fprintf(stderr, "mkpki.sh failed, see %s/mkpki.log\n", tmpdir);
		return -1;
	}
	return 0;
}

static int
group_teardown(void **state)
{
	char cmd[512];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static X509 *
load_cert(const char *name)
{
	char path[512];
	X509 *x;
	FILE *f;

	snprintf(path, sizeof(path), "%s/pki/infra/%s", tmpdir, name);
	f = fopen(path, "r");
	assert_non_null(f);
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(x);
	return x;
}

/* Runs a shell command (the openssl tool, independent of our code) and
 * reads its binary output. */
static size_t
run_read(const char *cmd, unsigned char *out, size_t max)
{
	FILE *f = popen(cmd, "r");
	size_t n;

	assert_non_null(f);
	n = fread(out, 1, max, f);
	assert_int_equal(pclose(f), 0);
	return n;
}

static const char *
ossl(void)
{
	const char *o = getenv("OPENSSL");

	return o != NULL && *o != '\0' ? o : "openssl";
}

static void
rdp_cssp_subject_public_key__when_rsa_cert__is_the_rsapublickey_der(
    void **state)
{
	unsigned char want[4096];
	char cmd[1024];
	struct vbuf *b = vbuf_new(4096);
	X509 *x = load_cert("desktop-1.pem");
	size_t n;

	(void)state;
	/* The BIT STRING of an RSA key holds RSAPublicKey (PKCS#1). */
	snprintf(cmd, sizeof(cmd),
	    "'%s' x509 -in '%s/pki/infra/desktop-1.pem' -noout -pubkey | "
	    "'%s' rsa -pubin -RSAPublicKey_out -outform DER 2>/dev/null",
	    ossl(), tmpdir, ossl());
	n = run_read(cmd, want, sizeof(want));
	assert_true(n > 256);
	assert_int_equal(rdp_cssp_subject_public_key(b, x), 0);
	assert_int_equal(vbuf_len(b), n);
	assert_memory_equal(vbuf_ptr(b), want, n);
	assert_int_equal(vbuf_ptr(b)[0], 0x30);
	vbuf_free(b);
	/* No room: nothing appended. */
	b = vbuf_new(16);
	assert_int_equal(rdp_cssp_subject_public_key(b, x), VDI_ERR_TOO_LARGE);
	assert_int_equal(vbuf_len(b), 0);
	assert_int_equal(
	    rdp_cssp_subject_public_key(b, NULL), VDI_ERR_INVALID_ARG);
	vbuf_free(b);
	X509_free(x);
}

static void
rdp_cssp_subject_public_key__when_ec_cert__is_the_uncompressed_point(
    void **state)
{
	unsigned char spki[512];
	char cmd[1024];
	struct vbuf *b = vbuf_new(4096);
	X509 *x = load_cert("gateway.pem");
	size_t n;

	(void)state;
	snprintf(cmd, sizeof(cmd),
	    "'%s' x509 -in '%s/pki/infra/gateway.pem' -noout -pubkey | "
	    "'%s' pkey -pubin -outform DER",
	    ossl(), tmpdir, ossl());
	n = run_read(cmd, spki, sizeof(spki));
	assert_int_equal(rdp_cssp_subject_public_key(b, x), 0);
	/* P-256: 04 || X || Y, the last 65 bytes of the SPKI. */
	assert_int_equal(vbuf_len(b), 65);
	assert_int_equal(vbuf_ptr(b)[0], 0x04);
	assert_true(n > 65);
	assert_memory_equal(vbuf_ptr(b), spki + n - 65, 65);
	vbuf_free(b);
	X509_free(x);
}

static void
rdp_cssp_binding_hash__when_real_key__matches_openssl_dgst(void **state)
{
	static const char *magic[2] = { "CredSSP Client-To-Server Binding Hash",
		"CredSSP Server-To-Client Binding Hash" };
	uint8_t nonce[RDP_CSSP_NONCE_LEN], h[RDP_CSSP_HASH_LEN];
	unsigned char want[64];
	char path[512], cmd[1024];
	struct vbuf *spk = vbuf_new(4096), *bind = vbuf_new(4096);
	X509 *x = load_cert("desktop-1.pem");
	unsigned char bad[RDP_CSSP_HASH_LEN];
	FILE *f;
	int d;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(nonce); i++)
		nonce[i] = (uint8_t)(i * 7 + 1);
	assert_int_equal(rdp_cssp_subject_public_key(spk, x), 0);
	for (d = 0; d < 2; d++) {
		/* The input written by hand: magic, its NUL, nonce, key. */
		snprintf(path, sizeof(path), "%s/bind-%d.bin", tmpdir, d);
		f = fopen(path, "wb");
		assert_non_null(f);
		assert_int_equal(fwrite(magic[d], 1, strlen(magic[d]) + 1, f),
		    strlen(magic[d]) + 1);
		assert_int_equal(
		    fwrite(nonce, 1, sizeof(nonce), f), sizeof(nonce));
		assert_int_equal(
		    fwrite(vbuf_ptr(spk), 1, vbuf_len(spk), f), vbuf_len(spk));
		fclose(f);
		snprintf(cmd, sizeof(cmd), "'%s' dgst -sha256 -binary '%s'",
		    ossl(), path);
		assert_int_equal(run_read(cmd, want, sizeof(want)), 32);
		assert_int_equal(
		    rdp_cssp_binding_hash(d == 0 ? RDP_CSSP_CLIENT_TO_SERVER
						 : RDP_CSSP_SERVER_TO_CLIENT,
			nonce, vbuf_ptr(spk), vbuf_len(spk), h),
		    0);
		assert_memory_equal(h, want, 32);
		if (d == 0) {
			/* What the client sends from version 5 on. */
			assert_int_equal(rdp_cssp_client_binding(bind, 6, nonce,
					     vbuf_ptr(spk), vbuf_len(spk)),
			    0);
			assert_int_equal(vbuf_len(bind), 32);
			assert_memory_equal(vbuf_ptr(bind), want, 32);
		} else {
			assert_int_equal(
			    rdp_cssp_check_server_binding(6, nonce,
				vbuf_ptr(spk), vbuf_len(spk), want, 32),
			    0);
			memcpy(bad, want, 32);
			bad[31] ^= 1;
			assert_int_equal(
			    rdp_cssp_check_server_binding(6, nonce,
				vbuf_ptr(spk), vbuf_len(spk), bad, 32),
			    VDI_ERR_DENIED);
			assert_int_equal(
			    rdp_cssp_check_server_binding(6, nonce,
				vbuf_ptr(spk), vbuf_len(spk), want, 31),
			    VDI_ERR_DENIED);
			/* The client's own hash is not the server's. */
			assert_int_equal(rdp_cssp_check_server_binding(6, nonce,
					     vbuf_ptr(spk), vbuf_len(spk),
					     vbuf_ptr(bind), 32),
			    VDI_ERR_DENIED);
		}
	}
	vbuf_free(spk);
	vbuf_free(bind);
	X509_free(x);
}

static void
rdp_cssp_check_server_binding__when_version_below_5__key_plus_one(void **state)
{
	static const uint8_t nonce[RDP_CSSP_NONCE_LEN];
	static const unsigned char spk[] = { 0x30, 0x82, 0x01, 0x0A, 0x02 };
	unsigned char reply[sizeof(spk)];
	struct vbuf *b = vbuf_new(64);

	(void)state;
	/* Versions 2..4: the client sends the key itself. */
	assert_int_equal(
	    rdp_cssp_client_binding(b, 4, nonce, spk, sizeof(spk)), 0);
	assert_int_equal(vbuf_len(b), sizeof(spk));
	assert_memory_equal(vbuf_ptr(b), spk, sizeof(spk));
	memcpy(reply, spk, sizeof(spk));
	reply[0]++;
	assert_int_equal(rdp_cssp_check_server_binding(
			     2, nonce, spk, sizeof(spk), reply, sizeof(reply)),
	    0);
	/* An echo of the key unchanged is refused. */
	assert_int_equal(rdp_cssp_check_server_binding(
			     4, nonce, spk, sizeof(spk), spk, sizeof(spk)),
	    VDI_ERR_DENIED);
	reply[4] ^= 0x40;
	assert_int_equal(rdp_cssp_check_server_binding(
			     3, nonce, spk, sizeof(spk), reply, sizeof(reply)),
	    VDI_ERR_DENIED);
	/* From version 5 on, the +1 form is not a valid answer. */
	reply[4] ^= 0x40;
	assert_int_equal(rdp_cssp_check_server_binding(
			     5, nonce, spk, sizeof(spk), reply, sizeof(reply)),
	    VDI_ERR_DENIED);
	vbuf_free(b);
}

int
main(void)
{
	const struct CMUnitTest pure[] = {
		cmocka_unit_test(
		    rdp_der_get_tlv__when_lengths_malformed__each_error),
		cmocka_unit_test(
		    rdp_der_integers__when_edge_values__shortest_form_and_back),
		cmocka_unit_test(
		    rdp_cssp_write_request__when_nego_token__exact_der),
		cmocka_unit_test(
		    rdp_cssp_request__when_versions_2_to_6__roundtrip_every_field_subset),
		cmocka_unit_test(
		    rdp_cssp_parse_request__when_truncated_anywhere__truncated_nothing_consumed),
		cmocka_unit_test(
		    rdp_cssp_parse_request__when_any_tag_wrong__bad_format),
		cmocka_unit_test(
		    rdp_cssp_parse_request__when_fields_misplaced__each_error),
		cmocka_unit_test(rdp_cssp_request__when_over_caps__too_large),
		cmocka_unit_test(
		    rdp_cssp_write_request__when_bad_arguments__invalid_arg_nothing_appended),
		cmocka_unit_test(
		    rdp_cssp_password_creds__when_written__exact_der_and_roundtrip),
		cmocka_unit_test(
		    rdp_cssp_parse_password_creds__when_truncated_or_wrong_tag__errors),
		cmocka_unit_test(
		    rdp_cssp_write_password_creds__when_over_cap_or_no_room__nothing_left),
		cmocka_unit_test(
		    rdp_cssp_check_server_binding__when_version_below_5__key_plus_one),
	};
	const struct CMUnitTest pki[] = {
		cmocka_unit_test(
		    rdp_cssp_subject_public_key__when_rsa_cert__is_the_rsapublickey_der),
		cmocka_unit_test(
		    rdp_cssp_subject_public_key__when_ec_cert__is_the_uncompressed_point),
		cmocka_unit_test(
		    rdp_cssp_binding_hash__when_real_key__matches_openssl_dgst),
	};
	int r;

	r = cmocka_run_group_tests_name("cssp", pure, NULL, NULL);
	r += cmocka_run_group_tests_name(
	    "cssp_pki", pki, group_setup, group_teardown);
	return r;
}
