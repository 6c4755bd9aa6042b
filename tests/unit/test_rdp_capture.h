/*
 * test_rdp_capture.h: helpers shared by the tests of rdp/: loading
 * captured PDUs from tests/unit/rdp-captures/ (README.md there says how
 * they were recorded) and peeling their outer layers.
 *
 * Include after <cmocka.h>.
 */
#ifndef VDI_TEST_RDP_CAPTURE_H
#define VDI_TEST_RDP_CAPTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rdp/frame.h"
#include "rdp/mcs.h"
#include "rdp/x224.h"
#include "vbuf.h"

/* A captured PDU: bytes in an exact-size allocation so that ASan sees any
 * read past the end. */
struct cap {
	unsigned char *p;
	size_t len;
};

/* Loads tests/unit/rdp-captures/<rel>; fails the test when it is missing. */
static inline struct cap
cap_load(const char *rel)
{
	const char *top = getenv("top_srcdir");
	char path[4096];
	unsigned char tmp[70000];
	struct cap c = { NULL, 0 };
	FILE *f;

	snprintf(path, sizeof(path), "%s/tests/unit/rdp-captures/%s",
	    top != NULL ? top : "..", rel);
	f = fopen(path, "rb");
	if (f == NULL)
		fail_msg("cannot open capture %s", path);
	c.len = fread(tmp, 1, sizeof(tmp), f);
	fclose(f);
	c.p = malloc(c.len > 0 ? c.len : 1);
	assert_non_null(c.p);
	memcpy(c.p, tmp, c.len);
	return c;
}

static inline void
cap_free(struct cap *c)
{
	free(c->p);
	c->p = NULL;
	c->len = 0;
}

/* A view of the whole capture. */
static inline struct vbuf
cap_view(const struct cap *c)
{
	struct vbuf v;

	vbuf_init_view(&v, c->p, c->len);
	return v;
}

/* The X.224 user data (the MCS PDU) of a captured TPKT. */
static inline struct vbuf
cap_mcs(const struct cap *c)
{
	struct vbuf pdu = cap_view(c), mcs;

	assert_int_equal(rdp_x224_parse_data(&pdu, &mcs), 0);
	return mcs;
}

/* The Send Data user data of a captured TPKT; *pp receives the parsed MCS
 * PDU when not NULL. */
static inline struct vbuf
cap_send_data(const struct cap *c, struct rdp_mcs_pdu *pp)
{
	struct vbuf mcs = cap_mcs(c);
	struct rdp_mcs_pdu p;

	assert_int_equal(rdp_mcs_parse_domain(&mcs, &p), 0);
	assert_true(p.type == RDP_MCS_SEND_DATA_REQUEST ||
	    p.type == RDP_MCS_SEND_DATA_INDICATION);
	if (pp != NULL)
		*pp = p;
	return p.data;
}

/* The drdynvc message (one whole FIRST|LAST chunk) of a captured TPKT. */
static inline struct vbuf
cap_svc_msg(const struct cap *c)
{
	struct vbuf d = cap_send_data(c, NULL), msg;

	assert_true(vbuf_len(&d) >= 8);
	assert_int_equal(vbuf_peek_view(&d, 8, vbuf_len(&d) - 8, &msg), 0);
	return msg;
}

/* Copies a view into a fresh exact-size allocation (for prefix tests). */
static inline unsigned char *
dup_bytes(const void *p, size_t n)
{
	unsigned char *q = malloc(n > 0 ? n : 1);

	assert_non_null(q);
	if (n > 0)
		memcpy(q, p, n);
	return q;
}

/* Wraps payload in a fresh TPKT (length fixed up) in an exact-size
 * allocation; returns its length in *len. */
static inline unsigned char *
tpkt_wrap(const unsigned char *payload, size_t n, size_t *len)
{
	unsigned char *q = malloc(n + 4);

	assert_non_null(q);
	q[0] = 3;
	q[1] = 0;
	q[2] = (unsigned char)((n + 4) >> 8);
	q[3] = (unsigned char)(n + 4);
	memcpy(q + 4, payload, n);
	*len = n + 4;
	return q;
}

/* True for the errors a parser may give for short or inconsistent input. */
static inline int
is_length_error(int r)
{
	return r == VDI_ERR_TRUNCATED || r == VDI_ERR_BAD_LENGTH ||
	    r == VDI_ERR_NEED_MORE || r == VDI_ERR_BAD_FORMAT ||
	    r == VDI_ERR_TOO_LARGE || r == VDI_ERR_UNSUPPORTED;
}

#endif
