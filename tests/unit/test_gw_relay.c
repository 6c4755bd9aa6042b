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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    relay_pdu__when_relay_shadow_session__matches_what_peers_accepted),
		cmocka_unit_test(relay_frame_len__when_tpkt__reads_be16),
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
