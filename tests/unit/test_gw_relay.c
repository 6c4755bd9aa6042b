/*
 * test_gw_relay.c: the relay engine (gateway/relay.c) driven with a real
 * session captured through the rewriting capture proxy
 * (tests/unit/rdp-captures/relay-shadow): every PDU's output must be what
 * the real peers accepted (.fwd files), locally answered PDUs must match
 * the .local files, and the rest passes unchanged. Plus framing and
 * fail-closed cases.
 */
#include "config.h"

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "relay.h"
#include "rdp/mcs.h"
#include "rdp/sec.h"
#include "rdp/x224.h"

struct file {
	char name[256];
	unsigned char *p;
	size_t n;
};

static int
load(const char *dir, const char *name, struct file *f)
{
	const char *top = getenv("top_srcdir");
	char path[4096];
	unsigned char tmp[70000];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/tests/unit/rdp-captures/%s/%s",
	    top != NULL ? top : "..", dir, name);
	if ((fp = fopen(path, "rb")) == NULL)
		return -1;
	f->n = fread(tmp, 1, sizeof(tmp), fp);
	fclose(fp);
	f->p = malloc(f->n ? f->n : 1);
	assert_non_null(f->p);
	memcpy(f->p, tmp, f->n);
	snprintf(f->name, sizeof(f->name), "%s", name);
	return 0;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted file names of a capture directory (caller frees). */
static size_t
list(const char *dir, char ***out)
{
	const char *top = getenv("top_srcdir");
	char path[4096];
	struct dirent *de;
	char **v = NULL;
	size_t n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "%s/tests/unit/rdp-captures/%s",
	    top != NULL ? top : "..", dir);
	d = opendir(path);
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		v = realloc(v, (n + 1) * sizeof(*v));
		assert_non_null(v);
		v[n++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(v, n, sizeof(*v), cmp_names);
	*out = v;
	return n;
}

/* "0021-s2c.fwd-io-demand-active.bin" -> number 21, dir s2c, kind fwd */
static void
parse_name(const char *s, unsigned int *num, char dir[4], char kind[8])
{
	*num = (unsigned int)strtoul(s, NULL, 10);
	memcpy(dir, s + 5, 3);
	dir[3] = '\0';
	kind[0] = '\0';
	if (s[8] == '.')
		sscanf(s + 9, "%7[a-z]", kind);
}

static const char *
find(char **names, size_t n, unsigned int num, const char *kind)
{
	unsigned int k;
	char d[4], kd[8];
	size_t i;

	for (i = 0; i < n; i++) {
		parse_name(names[i], &k, d, kd);
		if (k == num && strcmp(kd, kind) == 0)
			return names[i];
	}
	return NULL;
}

static void
relay_pdu__when_relay_shadow_session__matches_what_peers_accepted(void **st)
{
	const char *dir = "relay-shadow";
	struct relay_params rp;
	struct relay r;
	struct relay_result res;
	struct file in, want;
	struct vbuf view;
	char **names, d[4], kind[8];
	const char *fwdname, *localname;
	const struct relay_record *rec;
	size_t n, i, nrec, checked = 0;
	unsigned int num;

	n = list(dir, &names);
	memset(&rp, 0, sizeof(rp));
	rp.client_requested = RDP_PROTOCOL_SSL | RDP_PROTOCOL_HYBRID;
	rp.desktop_selected = RDP_PROTOCOL_SSL;
	/* The client's CR: what it asked for. */
	{
		struct rdp_x224_cr cr;

		assert_int_equal(load(dir, "0000-c2s-x224-cr.bin", &in), 0);
		vbuf_init_view(&view, in.p, in.n);
		assert_int_equal(rdp_x224_parse_cr(&view, &cr), 0);
		rp.client_requested = cr.requested_protocols;
		free(in.p);
	}
	assert_int_equal(relay_init(&r, &rp), 0);
	res.fwd = vbuf_new(RELAY_OUT_MAX);
	res.back = vbuf_new(RELAY_OUT_MAX);
	assert_non_null(res.fwd);
	assert_non_null(res.back);
	for (i = 0; i < n; i++) {
		parse_name(names[i], &num, d, kind);
		if (kind[0] != '\0' || num < 2)
			continue; /* outputs, and the X.224 exchange */
		assert_int_equal(load(dir, names[i], &in), 0);
		vbuf_init_view(&view, in.p, in.n);
		vbuf_reset(res.fwd);
		vbuf_reset(res.back);
		assert_int_equal(
		    relay_pdu(&r, strcmp(d, "c2s") == 0 ? RDP_C2S : RDP_S2C,
			&view, in.p, NULL, &res),
		    0);
		if (res.v.action == RDP_CLOSE)
			fail_msg("%s: closed: %s", names[i], res.v.reason);
		fwdname = find(names, n, num, "fwd");
		if (fwdname != NULL) {
			assert_int_equal(load(dir, fwdname, &want), 0);
		} else {
			/* Unchanged. Reload: the engine may wipe a
			 * password in place. */
			assert_int_equal(load(dir, names[i], &want), 0);
		}
		if (vbuf_len(res.fwd) != want.n ||
		    memcmp(vbuf_ptr(res.fwd), want.p, want.n) != 0)
			fail_msg("%s: forwarded %zu bytes, expected %zu (%s)",
			    names[i], vbuf_len(res.fwd), want.n,
			    fwdname != NULL ? fwdname : "unchanged");
		free(want.p);
		localname = find(names, n, num + 1, "local");
		if (localname != NULL) {
			assert_int_equal(load(dir, localname, &want), 0);
			assert_int_equal(vbuf_len(res.back), want.n);
			assert_memory_equal(vbuf_ptr(res.back), want.p, want.n);
			free(want.p);
		} else
			assert_int_equal(vbuf_len(res.back), 0);
		free(in.p);
		checked++;
	}
	assert_true(checked > 30);
	/* The full client asked for cliprdr, rdpdr, rdpsnd...: only
	 * drdynvc went through. */
	rec = relay_records(&r, &nrec);
	assert_true(nrec >= 2);
	for (i = 0; i < nrec; i++) {
		if (!rec[i].dynamic)
			assert_int_equal(rec[i].allowed,
			    strcmp(rec[i].name, "drdynvc") == 0);
	}
	vbuf_free(res.fwd);
	vbuf_free(res.back);
	relay_free(&r);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static void
relay_frame_len__when_tpkt__reads_be16(void **st)
{
	const unsigned char h[] = { 0x03, 0x00, 0x01, 0x02 };
	size_t len;

	assert_int_equal(relay_frame_len(h, 4, 0, &len), 0);
	assert_int_equal(len, 0x102);
}

static void
relay_frame_len__when_header_short__needs_more(void **st)
{
	const unsigned char t[] = { 0x03, 0x00, 0x01 };
	const unsigned char f[] = { 0x04, 0x81 };
	size_t len;

	assert_int_equal(relay_frame_len(t, 0, 0, &len), VDI_ERR_NEED_MORE);
	assert_int_equal(relay_frame_len(t, 3, 0, &len), VDI_ERR_NEED_MORE);
	assert_int_equal(relay_frame_len(f, 1, 0, &len), VDI_ERR_NEED_MORE);
	assert_int_equal(relay_frame_len(f, 2, 0, &len), VDI_ERR_NEED_MORE);
}

static void
relay_frame_len__when_fastpath__reads_one_or_two_bytes(void **st)
{
	const unsigned char a[] = { 0x04, 0x10 };
	const unsigned char b[] = { 0x00, 0x81, 0x00 };
	size_t len;

	assert_int_equal(relay_frame_len(a, 2, 0, &len), 0);
	assert_int_equal(len, 0x10);
	assert_int_equal(relay_frame_len(b, 3, 0, &len), 0);
	assert_int_equal(len, 0x100);
}

static void
relay_frame_len__when_bad_first_byte__bad_format(void **st)
{
	const unsigned char a[] = { 0x01, 0x00, 0x00, 0x10 };
	const unsigned char b[] = { 0x03, 0x01, 0x00, 0x10 };
	size_t len;

	assert_int_equal(relay_frame_len(a, 4, 0, &len), VDI_ERR_BAD_FORMAT);
	assert_int_equal(relay_frame_len(b, 4, 0, &len), VDI_ERR_BAD_FORMAT);
}

static void
relay_frame_len__when_lengths_out_of_range__refused(void **st)
{
	const unsigned char small[] = { 0x03, 0x00, 0x00, 0x06 };
	const unsigned char big[] = { 0x03, 0x00, 0x10, 0x00 };
	const unsigned char fp1[] = { 0x04, 0x01 };
	size_t len;

	assert_int_equal(
	    relay_frame_len(small, 4, 0, &len), VDI_ERR_BAD_LENGTH);
	assert_int_equal(
	    relay_frame_len(big, 4, 1024, &len), VDI_ERR_TOO_LARGE);
	assert_int_equal(relay_frame_len(fp1, 2, 0, &len), VDI_ERR_BAD_LENGTH);
}

static void
setup_relay(struct relay *r, struct relay_result *res)
{
	struct relay_params rp;

	memset(&rp, 0, sizeof(rp));
	rp.client_requested = RDP_PROTOCOL_SSL;
	rp.desktop_selected = RDP_PROTOCOL_SSL;
	assert_int_equal(relay_init(r, &rp), 0);
	res->fwd = vbuf_new(RELAY_OUT_MAX);
	res->back = vbuf_new(RELAY_OUT_MAX);
}

static void
teardown_relay(struct relay *r, struct relay_result *res)
{
	vbuf_free(res->fwd);
	vbuf_free(res->back);
	relay_free(r);
}

static void
relay_pdu__when_fastpath_before_client_info__closes(void **st)
{
	const unsigned char fp[] = { 0x04, 0x06, 0x01, 0x00, 0x00, 0x00 };
	struct relay r;
	struct relay_result res;
	struct vbuf v;

	setup_relay(&r, &res);
	vbuf_init_view(&v, fp, sizeof(fp));
	assert_int_equal(relay_pdu(&r, RDP_C2S, &v, NULL, NULL, &res), 0);
	assert_int_equal(res.v.action, RDP_CLOSE);
	assert_int_equal(vbuf_len(res.fwd), 0);
	teardown_relay(&r, &res);
}

static void
relay_pdu__when_desktop_speaks_first__closes(void **st)
{
	const unsigned char data[] = { 0x03, 0x00, 0x00, 0x0c, 0x02, 0xf0, 0x80,
		0x68, 0x00, 0x01, 0x03, 0xeb };
	struct relay r;
	struct relay_result res;
	struct vbuf v;

	setup_relay(&r, &res);
	vbuf_init_view(&v, data, sizeof(data));
	assert_int_equal(relay_pdu(&r, RDP_S2C, &v, NULL, NULL, &res), 0);
	assert_int_equal(res.v.action, RDP_CLOSE);
	assert_int_equal(vbuf_len(res.fwd), 0);
	teardown_relay(&r, &res);
}

static void
relay_pdu__when_length_field_disagrees__closes(void **st)
{
	const unsigned char data[] = { 0x03, 0x00, 0x00, 0x10, 0x02, 0xf0,
		0x80 };
	struct relay r;
	struct relay_result res;
	struct vbuf v;

	setup_relay(&r, &res);
	vbuf_init_view(&v, data, sizeof(data));
	assert_int_equal(relay_pdu(&r, RDP_C2S, &v, NULL, NULL, &res), 0);
	assert_int_equal(res.v.action, RDP_CLOSE);
	teardown_relay(&r, &res);
}

static void
relay_pdu__when_x224_disconnect__closes(void **st)
{
	const unsigned char dr[] = { 0x03, 0x00, 0x00, 0x0b, 0x06, 0x80, 0x00,
		0x00, 0x00, 0x00, 0x00 };
	struct relay r;
	struct relay_result res;
	struct vbuf v;

	setup_relay(&r, &res);
	vbuf_init_view(&v, dr, sizeof(dr));
	assert_int_equal(relay_pdu(&r, RDP_C2S, &v, NULL, NULL, &res), 0);
	assert_int_equal(res.v.action, RDP_CLOSE);
	teardown_relay(&r, &res);
}

/* ---- the phase rules, on top of the real session's prefix ---------------- */

/* Relays the captured relay-shadow session's PDUs 2..upto (none may
 * close). */
static void
drive(struct relay *r, struct relay_result *res, unsigned int upto)
{
	const char *dir = "relay-shadow";
	char **names, d[4], kind[8];
	struct file in;
	struct vbuf view;
	unsigned int num;
	size_t n, i;

	n = list(dir, &names);
	for (i = 0; i < n; i++) {
		parse_name(names[i], &num, d, kind);
		if (kind[0] == '\0' && num >= 2 && num <= upto) {
			assert_int_equal(load(dir, names[i], &in), 0);
			vbuf_init_view(&view, in.p, in.n);
			vbuf_reset(res->fwd);
			vbuf_reset(res->back);
			assert_int_equal(
			    relay_pdu(r,
				strcmp(d, "c2s") == 0 ? RDP_C2S : RDP_S2C,
				&view, in.p, NULL, res),
			    0);
			if (res->v.action == RDP_CLOSE)
				fail_msg(
				    "%s: closed: %s", names[i], res->v.reason);
			free(in.p);
		}
		free(names[i]);
	}
	free(names);
}

/* Relays one hand-made PDU; returns its action. */
static enum rdp_action
inject(struct relay *r, struct relay_result *res, enum rdp_dir dir,
    const unsigned char *p, size_t n)
{
	struct vbuf v;

	vbuf_init_view(&v, p, n);
	vbuf_reset(res->fwd);
	vbuf_reset(res->back);
	assert_int_equal(relay_pdu(r, dir, &v, NULL, NULL, res), 0);
	if (res->v.action == RDP_CLOSE) {
		assert_int_equal(vbuf_len(res->fwd), 0);
		assert_int_equal(vbuf_len(res->back), 0);
	}
	return res->v.action;
}

/* Send Data on channel id with data (initiator: the session's user). */
static enum rdp_action
inject_data(struct relay *r, struct relay_result *res, enum rdp_dir dir,
    uint16_t id, const void *data, size_t n)
{
	struct vbuf *b = vbuf_new(RELAY_OUT_MAX);
	enum rdp_action a;

	assert_int_equal(rdp_mcs_write_send_data(
			     b, dir == RDP_S2C, r->user_channel, id, data, n),
	    0);
	a = inject(r, res, dir, vbuf_ptr(b), vbuf_len(b));
	vbuf_free(b);
	return a;
}

/* A whole TPKT around X.224 data header and an MCS domain PDU. */
static size_t
mcs_pdu(unsigned char *b, const unsigned char *mcs, size_t n)
{
	b[0] = 3;
	b[1] = 0;
	b[2] = (unsigned char)((n + 7) >> 8);
	b[3] = (unsigned char)(n + 7);
	b[4] = 2;
	b[5] = 0xF0;
	b[6] = 0x80;
	memcpy(b + 7, mcs, n);
	return n + 7;
}

static size_t
join_req(unsigned char *b, uint16_t user, uint16_t id)
{
	unsigned char m[5] = { 0x38 };

	m[1] = (unsigned char)((user - 1001) >> 8);
	m[2] = (unsigned char)(user - 1001);
	m[3] = (unsigned char)(id >> 8);
	m[4] = (unsigned char)id;
	return mcs_pdu(b, m, sizeof(m));
}

/* A Share Control PDU that is also a client licensing PDU: totalLength
 * 0x0180 reads as SEC_LICENSE_PKT flags, pduSource 0x0313 as a New
 * License Request preamble, and the low 16 bits of shareId as its
 * wMsgSize (the bypass of the review: the desktop reads a Confirm
 * Active with RAIL and WINDOW capability sets). */
static void
disguised_confirm_active(unsigned char *b)
{
	memset(b, 0, 0x180);
	b[0] = 0x80;
	b[1] = 0x01; /* totalLength 0x180 */
	b[2] = 0x13; /* Confirm Active, version 1 */
	b[4] = 0x13; /* pduSource: bMsgType NEW_LICENSE_REQUEST ... */
	b[5] = 0x03; /* ... flags: version 3 */
	b[6] = 0x7C; /* shareId 0x0001017C: wMsgSize 0x17C */
	b[7] = 0x01;
	b[8] = 0x01;
	b[10] = 0xEA; /* originatorId */
	b[11] = 0x03;
	b[12] = 4; /* lengthSourceDescriptor */
	/* lengthCombinedCapabilities = what is left after the source */
	b[14] = (unsigned char)(0x180 - 16 - 4);
	b[15] = (unsigned char)((0x180 - 16 - 4) >> 8);
	memcpy(b + 16, "MSTS", 4);
	b[20] = 2;  /* numberCapabilities */
	b[24] = 23; /* RAIL */
	b[26] = 8;
	b[28] = 1;
	b[32] = 24; /* WINDOW: the rest */
	b[34] = (unsigned char)(0x180 - 32);
	b[35] = (unsigned char)((0x180 - 32) >> 8);
}

static void
relay_pdu__when_licensing_pdu_unasked__closes(void **st)
{
	unsigned char ca[0x180];
	struct rdp_sec_header h;
	struct relay r;
	struct relay_result res;
	struct rdp_license l;
	struct vbuf v;

	/* the disguise is a well-formed licensing PDU of the client... */
	disguised_confirm_active(ca);
	vbuf_init_view(&v, ca, sizeof(ca));
	assert_true(rdp_sec_is_license(&v));
	assert_int_equal(rdp_sec_parse_header(&v, &h), 0);
	vbuf_init_view(&v, ca, sizeof(ca));
	/* ...on the outside only: its body is no New License Request */
	assert_int_equal(
	    rdp_sec_parse_license(&v, RDP_C2S, &l), VDI_ERR_BAD_FORMAT);
	setup_relay(&r, &res);
	drive(&r, &res, 19); /* up to the Client Info */
	assert_int_equal(r.phase, RELAY_LICENSING);
	assert_int_equal(
	    inject_data(&r, &res, RDP_C2S, r.map.io_channel, ca, sizeof(ca)),
	    RDP_CLOSE);
	teardown_relay(&r, &res);

	/* a real New License Request the desktop did not ask for */
	{
		unsigned char nlr[4 + 4 + 4 + 4 + 32 + 4 + 4 + 4];

		memset(nlr, 0, sizeof(nlr));
		nlr[0] = 0x80; /* SEC_LICENSE_PKT */
		nlr[4] = RDP_LICENSE_NEW_LICENSE_REQUEST;
		nlr[5] = 3;
		nlr[6] = (unsigned char)(sizeof(nlr) - 4);
		nlr[8] = 1;  /* KEY_EXCHANGE_ALG_RSA */
		nlr[48] = 2; /* BB_RANDOM_BLOB, empty */
		nlr[52] = 0x0F;
		nlr[56] = 0x10;
		vbuf_init_view(&v, nlr, sizeof(nlr));
		assert_int_equal(rdp_sec_parse_license(&v, RDP_C2S, &l), 0);
		setup_relay(&r, &res);
		drive(&r, &res, 19);
		assert_int_equal(inject_data(&r, &res, RDP_C2S,
				     r.map.io_channel, nlr, sizeof(nlr)),
		    RDP_CLOSE);
		assert_string_equal(
		    res.v.reason, "license_unasked type=0x13 asked=0x00");
		teardown_relay(&r, &res);

		/* asked for by a License Request: passes, once */
		{
			unsigned char req[4 + 4 + 32];

			memset(req, 0, sizeof(req));
			req[0] = 0x80;
			req[4] = RDP_LICENSE_REQUEST;
			req[5] = 3;
			req[6] = (unsigned char)(sizeof(req) - 4);
			setup_relay(&r, &res);
			drive(&r, &res, 19);
			assert_int_equal(
			    inject_data(&r, &res, RDP_S2C, r.map.io_channel,
				req, sizeof(req)),
			    RDP_PASS);
			assert_int_equal(
			    inject_data(&r, &res, RDP_C2S, r.map.io_channel,
				nlr, sizeof(nlr)),
			    RDP_PASS);
			assert_true(vbuf_len(res.fwd) > 0);
			assert_int_equal(
			    inject_data(&r, &res, RDP_C2S, r.map.io_channel,
				nlr, sizeof(nlr)),
			    RDP_CLOSE);
			teardown_relay(&r, &res);
		}
	}
	/* after licensing the disguise is a Confirm Active out of phase */
	setup_relay(&r, &res);
	drive(&r, &res, 20);
	assert_int_equal(r.phase, RELAY_SHARE);
	assert_int_equal(
	    inject_data(&r, &res, RDP_C2S, r.map.io_channel, ca, sizeof(ca)),
	    RDP_CLOSE);
	teardown_relay(&r, &res);
}

static void
relay_pdu__when_share_pdu_in_licensing__closes(void **st)
{
	/* a Synchronize Data PDU right after the Client Info */
	static const unsigned char sync[] = { 0x16, 0x00, 0x17, 0x00, 0xEA,
		0x03, 0xEA, 0x03, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x1F,
		0x00, 0x00, 0x00, 0x01, 0x00, 0xEA, 0x03 };
	struct relay r;
	struct relay_result res;

	setup_relay(&r, &res);
	drive(&r, &res, 19);
	assert_int_equal(inject_data(&r, &res, RDP_C2S, r.map.io_channel, sync,
			     sizeof(sync)),
	    RDP_CLOSE);
	assert_string_equal(
	    res.v.reason, "not_licensing_in_licensing from=client");
	teardown_relay(&r, &res);
	/* the desktop skipping licensing is closed too */
	setup_relay(&r, &res);
	drive(&r, &res, 19);
	assert_int_equal(inject_data(&r, &res, RDP_S2C, r.map.io_channel, sync,
			     sizeof(sync)),
	    RDP_CLOSE);
	teardown_relay(&r, &res);
}

static void
relay_pdu__when_data_on_user_channel__closes(void **st)
{
	/* a cliprdr Format List shape */
	static const unsigned char clip[] = { 0x0C, 0, 0, 0, 0x03, 0, 0, 0,
		0x02, 0, 0, 0, 0x06, 0, 0, 0 };
	struct relay r;
	struct relay_result res;
	int d;

	for (d = 0; d < 2; d++) {
		setup_relay(&r, &res);
		drive(&r, &res, 31); /* active, drdynvc caps sent */
		assert_true(r.user_channel != 0);
		assert_int_equal(inject_data(&r, &res, d ? RDP_S2C : RDP_C2S,
				     r.user_channel, clip, sizeof(clip)),
		    RDP_CLOSE);
		assert_non_null(strstr(res.v.reason, "user_channel_data"));
		teardown_relay(&r, &res);
	}
}

static void
relay_pdu__when_join_for_unassigned_or_repeated_id__closes(void **st)
{
	static const uint16_t ids[] = { 0, 1, 1001, 1002, 0xFFFF, 1100 };
	unsigned char b[32];
	struct relay r;
	struct relay_result res;
	size_t i, n;

	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		setup_relay(&r, &res);
		drive(&r, &res, 8); /* the user channel joined */
		if (ids[i] == r.user_channel || ids[i] == r.map.io_channel)
			fail_msg("capture uses id %u", ids[i]);
		n = join_req(b, r.user_channel, ids[i]);
		assert_int_equal(inject(&r, &res, RDP_C2S, b, n), RDP_CLOSE);
		assert_non_null(
		    strstr(res.v.reason, "channel_join_unassigned"));
		teardown_relay(&r, &res);
	}
	/* the user channel again, a fake id again (answered once) */
	setup_relay(&r, &res);
	drive(&r, &res, 8);
	n = join_req(b, r.user_channel, r.user_channel);
	assert_int_equal(inject(&r, &res, RDP_C2S, b, n), RDP_CLOSE);
	assert_non_null(strstr(res.v.reason, "channel_join_repeated"));
	teardown_relay(&r, &res);
	setup_relay(&r, &res);
	drive(&r, &res, 12); /* the first fake id answered locally */
	for (i = 0; i < r.map.n && (r.fake_asked & (1u << i)) == 0; i++)
		;
	assert_true(i < r.map.n);
	n = join_req(b, r.user_channel, r.map.ch[i].id);
	assert_true(rdp_gcc_is_fake_id(&r.map, r.map.ch[i].id));
	assert_int_equal(inject(&r, &res, RDP_C2S, b, n), RDP_CLOSE);
	assert_non_null(strstr(res.v.reason, "channel_join_repeated"));
	teardown_relay(&r, &res);
	/* and no join at all once the Client Info is sent */
	setup_relay(&r, &res);
	drive(&r, &res, 19);
	n = join_req(b, r.user_channel, r.map.ch[i].id);
	assert_int_equal(inject(&r, &res, RDP_C2S, b, n), RDP_CLOSE);
	teardown_relay(&r, &res);
}

static void
relay_pdu__when_mcs_pdu_in_wrong_direction__closes(void **st)
{
	/* Attach User Confirm (user 1007), Channel Join Confirm for 1003,
	 * from the client; an Erect Domain from the desktop */
	static const unsigned char auc[] = { 0x2E, 0x00, 0x00, 0x06 };
	static const unsigned char cjc[] = { 0x3E, 0x00, 0x00, 0x06, 0x03, 0xEB,
		0x03, 0xEB };
	static const unsigned char edr[] = { 0x04, 0x01, 0x00, 0x01, 0x00 };
	unsigned char b[32];
	struct relay r;
	struct relay_result res;

	setup_relay(&r, &res);
	drive(&r, &res, 5);
	assert_int_equal(
	    inject(&r, &res, RDP_C2S, b, mcs_pdu(b, auc, sizeof(auc))),
	    RDP_CLOSE);
	assert_string_equal(
	    res.v.reason, "mcs_wrong_direction from=client type=11");
	teardown_relay(&r, &res);
	setup_relay(&r, &res);
	drive(&r, &res, 8);
	assert_int_equal(
	    inject(&r, &res, RDP_C2S, b, mcs_pdu(b, cjc, sizeof(cjc))),
	    RDP_CLOSE);
	teardown_relay(&r, &res);
	setup_relay(&r, &res);
	drive(&r, &res, 3);
	assert_int_equal(
	    inject(&r, &res, RDP_S2C, b, mcs_pdu(b, edr, sizeof(edr))),
	    RDP_CLOSE);
	teardown_relay(&r, &res);
	/* a second Erect Domain, an Attach User before it, a confirm the
	 * client never asked for */
	setup_relay(&r, &res);
	drive(&r, &res, 4);
	assert_int_equal(
	    inject(&r, &res, RDP_C2S, b, mcs_pdu(b, edr, sizeof(edr))),
	    RDP_CLOSE);
	teardown_relay(&r, &res);
	setup_relay(&r, &res);
	drive(&r, &res, 3);
	b[0] = 0x28;
	assert_int_equal(
	    inject(&r, &res, RDP_C2S, b + 8, mcs_pdu(b + 8, b, 1)), RDP_CLOSE);
	teardown_relay(&r, &res);
	setup_relay(&r, &res);
	drive(&r, &res, 8);
	assert_int_equal(
	    inject(&r, &res, RDP_S2C, b, mcs_pdu(b, cjc, sizeof(cjc))),
	    RDP_CLOSE); /* 1003 not requested yet */
	teardown_relay(&r, &res);
}

static void
relay_pdu__when_fastpath_input_before_confirm_active__closes(void **st)
{
	/* one scancode event */
	static const unsigned char fp[] = { 0x04, 0x04, 0x00, 0x1E };
	struct relay r;
	struct relay_result res;

	setup_relay(&r, &res);
	drive(&r, &res, 19); /* Client Info sent */
	assert_int_equal(inject(&r, &res, RDP_C2S, fp, sizeof(fp)), RDP_CLOSE);
	assert_string_equal(
	    res.v.reason, "fastpath_out_of_phase from=client phase=licensing");
	teardown_relay(&r, &res);
	setup_relay(&r, &res);
	drive(&r, &res, 21); /* Demand Active passed, no Confirm yet */
	assert_int_equal(inject(&r, &res, RDP_C2S, fp, sizeof(fp)), RDP_CLOSE);
	teardown_relay(&r, &res);
	setup_relay(&r, &res);
	drive(&r, &res, 22); /* Confirm Active passed */
	assert_int_equal(inject(&r, &res, RDP_C2S, fp, sizeof(fp)), RDP_PASS);
	assert_true(res.input);
	teardown_relay(&r, &res);
}

static void
relay_pdu__when_desktop_repeats_refused_creates__closes(void **st)
{
	const char *dir = "relay-shadow";
	struct file create;
	struct relay r;
	struct relay_result res;
	struct vbuf v;
	unsigned int i;

	setup_relay(&r, &res);
	drive(&r, &res, 41); /* drdynvc ready */
	assert_int_equal(
	    load(dir, "0042-s2c-svc-drdynvc-create.bin", &create), 0);
	for (i = 0;; i++) {
		vbuf_init_view(&v, create.p, create.n);
		vbuf_reset(res.fwd);
		vbuf_reset(res.back);
		assert_int_equal(
		    relay_pdu(&r, RDP_S2C, &v, NULL, NULL, &res), 0);
		if (res.v.action == RDP_CLOSE)
			break;
		assert_true(vbuf_len(res.back) > 0); /* answered here */
		assert_true(i < RELAY_DVC_REFUSALS_MAX);
	}
	assert_int_equal(i, RELAY_DVC_REFUSALS_MAX);
	assert_non_null(strstr(res.v.reason, "dvc_refusals_exceeded"));
	free(create.p);
	teardown_relay(&r, &res);
}

/* A refused DVC: the relay's verdict says DROP (not PASS with a reason),
 * and the channel record names it, from the parsed Create Request. */
static void
relay_pdu__when_dvc_refused__drop_verdict_names_channel(void **st)
{
	struct file create;
	struct relay r;
	struct relay_result res;
	const struct relay_record *rec;
	struct vbuf v;
	size_t n;

	setup_relay(&r, &res);
	drive(&r, &res, 41); /* drdynvc ready */
	assert_int_equal(
	    load("relay-shadow", "0042-s2c-svc-drdynvc-create.bin", &create),
	    0);
	vbuf_init_view(&v, create.p, create.n);
	vbuf_reset(res.fwd);
	vbuf_reset(res.back);
	assert_int_equal(relay_pdu(&r, RDP_S2C, &v, NULL, NULL, &res), 0);
	assert_int_equal(res.v.action, RDP_DROP);
	assert_string_equal(res.v.reason, "dvc_refused name=AUDIO_INPUT");
	assert_int_equal(res.v.what.kind, RDP_REFUSED_DVC);
	assert_string_equal(res.v.what.name, "AUDIO_INPUT");
	assert_int_equal(vbuf_len(res.fwd), 0);
	assert_true(vbuf_len(res.back) > 0);
	rec = relay_records(&r, &n);
	assert_true(n > 0);
	assert_string_equal(rec[n - 1].name, "AUDIO_INPUT");
	assert_int_equal(rec[n - 1].dynamic, 1);
	assert_int_equal(rec[n - 1].allowed, 0);
	free(create.p);
	teardown_relay(&r, &res);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    relay_pdu__when_relay_shadow_session__matches_what_peers_accepted),
		cmocka_unit_test(relay_frame_len__when_tpkt__reads_be16),
		cmocka_unit_test(
		    relay_pdu__when_dvc_refused__drop_verdict_names_channel),
		cmocka_unit_test(
		    relay_frame_len__when_header_short__needs_more),
		cmocka_unit_test(
		    relay_frame_len__when_fastpath__reads_one_or_two_bytes),
		cmocka_unit_test(
		    relay_frame_len__when_bad_first_byte__bad_format),
		cmocka_unit_test(
		    relay_frame_len__when_lengths_out_of_range__refused),
		cmocka_unit_test(
		    relay_pdu__when_fastpath_before_client_info__closes),
		cmocka_unit_test(relay_pdu__when_desktop_speaks_first__closes),
		cmocka_unit_test(
		    relay_pdu__when_length_field_disagrees__closes),
		cmocka_unit_test(relay_pdu__when_x224_disconnect__closes),
		cmocka_unit_test(relay_pdu__when_licensing_pdu_unasked__closes),
		cmocka_unit_test(
		    relay_pdu__when_share_pdu_in_licensing__closes),
		cmocka_unit_test(relay_pdu__when_data_on_user_channel__closes),
		cmocka_unit_test(
		    relay_pdu__when_join_for_unassigned_or_repeated_id__closes),
		cmocka_unit_test(
		    relay_pdu__when_mcs_pdu_in_wrong_direction__closes),
		cmocka_unit_test(
		    relay_pdu__when_fastpath_input_before_confirm_active__closes),
		cmocka_unit_test(
		    relay_pdu__when_desktop_repeats_refused_creates__closes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
