/* rdppeer.c: connection-sequence builders of the test peers (rdppeer.h). */
#include "config.h"

#include <string.h>

#include "rdp/caps.h"
#include "rdp/gcc.h"
#include "rdp/mcs.h"
#include "rdp/sec.h"
#include "rdppeer.h"

void
rdppeer_p16(unsigned char *p, unsigned int v)
{
	p[0] = (unsigned char)(v & 0xFF);
	p[1] = (unsigned char)((v >> 8) & 0xFF);
}

void
rdppeer_p32(unsigned char *p, uint32_t v)
{
	rdppeer_p16(p, v & 0xFFFF);
	rdppeer_p16(p + 2, v >> 16);
}

/* One little-endian field of a fixed-layout structure: 2 or 4 bytes
 * (width) at off. */
struct field {
	uint16_t off;
	uint8_t width;
	uint32_t v;
};

/* Writes the n fields f into p (the caller zeroed the rest). */
static void
fill(unsigned char *p, const struct field *f, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (f[i].width == 4)
			rdppeer_p32(p + f[i].off, f[i].v);
		else
			rdppeer_p16(p + f[i].off, (unsigned int)f[i].v);
}

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* A capability set of len bytes with its fields. */
struct capset {
	uint16_t type, len;
	const struct field *f;
	size_t nf;
};

static int
put_capsets(struct vbuf *caps, const struct capset *cs, size_t n)
{
	unsigned char body[96];
	size_t i;

	for (i = 0; i < n; i++) {
		if (cs[i].len > sizeof(body))
			return -1;
		memset(body, 0, cs[i].len);
		fill(body, cs[i].f, cs[i].nf);
		if (rdppeer_put_tlv(caps, cs[i].type, body, cs[i].len) != 0)
			return -1;
	}
	return 0;
}

int
rdppeer_put_ber_int(struct vbuf *b, uint32_t v)
{
	unsigned char tmp[5];
	size_t n = 0, i;

	/* minimal two's complement, big endian */
	do {
		tmp[n++] = (unsigned char)(v & 0xFF);
		v >>= 8;
	} while (v != 0 && n < 4);
	if (tmp[n - 1] & 0x80)
		tmp[n++] = 0;
	if (vbuf_put_u8(b, 0x02) != 0 || vbuf_put_u8(b, (uint8_t)n) != 0)
		return -1;
	for (i = n; i > 0; i--)
		if (vbuf_put_u8(b, tmp[i - 1]) != 0)
			return -1;
	return 0;
}

int
rdppeer_put_domain_params(struct vbuf *b, const uint32_t v[8])
{
	struct vbuf *s = vbuf_new(64);
	int i, r = -1;

	if (s == NULL)
		return -1;
	for (i = 0; i < 8; i++)
		if (rdppeer_put_ber_int(s, v[i]) != 0)
			goto out;
	if (vbuf_put_u8(b, 0x30) == 0 &&
	    vbuf_put_ber_length(b, (uint32_t)vbuf_len(s)) == 0 &&
	    vbuf_put_buf(b, s) == 0)
		r = 0;
out:
	vbuf_free(s);
	return r;
}

int
rdppeer_put_utf16(struct vbuf *b, const char *s, size_t bytes)
{
	size_t i, n = s != NULL ? strlen(s) : 0;

	for (i = 0; i < bytes / 2; i++)
		if (vbuf_put_u16le(b, i < n ? (uint8_t)s[i] : 0) != 0)
			return -1;
	return 0;
}

int
rdppeer_put_tlv(
    struct vbuf *b, uint16_t type, const unsigned char *body, size_t len)
{
	return vbuf_put_u16le(b, type) != 0 ||
		vbuf_put_u16le(b, (uint16_t)(len + 4)) != 0 ||
		vbuf_put(b, body, len) != 0
	    ? -1
	    : 0;
}

int
rdppeer_put_connect_initial(struct vbuf *out, const char *name,
    uint32_t selected, const unsigned char (*names)[8], unsigned int n,
    uint32_t options)
{
	static const uint32_t params[3][8] = {
		{ 34, 2, 0, 1, 0, 1, 65535, 2 },            /* target */
		{ 1, 1, 1, 1, 0, 1, 1056, 2 },              /* minimum */
		{ 65535, 64535, 65535, 1, 0, 1, 65535, 2 }, /* maximum */
	};
	/* TS_UD_CS_CORE after its header: version, 1024x768, SAS, keyboard
	 * 0x409, build 2600, keyboard type 4 with 12 function keys, 24 bpp
	 * of the depths 0x0F, early capability flags 1. */
	static const struct field core_fields[] = { { 0, 4, 0x0008000C },
		{ 4, 2, 1024 }, { 6, 2, 768 }, { 8, 2, 0xCA01 },
		{ 10, 2, 0xAA03 }, { 12, 4, 0x409 }, { 16, 4, 2600 },
		{ 52, 4, 4 }, { 60, 4, 12 }, { 128, 2, 0xCA01 }, { 130, 2, 1 },
		{ 136, 2, 24 }, { 138, 2, 0x000F }, { 140, 2, 0x0001 } };
	/* CS_SECURITY: no RDP encryption; CS_CLUSTER: redirection
	 * supported, version 4 */
	static const unsigned char security[8] = { 0 }, cluster[8] = { 0x0D };
	unsigned char core[216 - 4] = { 0 }, net[4 + 4 * 12];
	struct vbuf *v[3] = { vbuf_new(4096), vbuf_new(4096), vbuf_new(256) };
	struct vbuf *blocks = v[0], *ud = v[1], *head = v[2];
	unsigned int i;
	int r = v[0] != NULL && v[1] != NULL && v[2] != NULL && n <= 4 ? 0 : -1;

	fill(core, core_fields, NELEM(core_fields));
	for (i = 0; name[i] != '\0' && i < 15; i++)
		core[20 + 2 * i] = (unsigned char)name[i];
	rdppeer_p32(core + 208, selected);
	rdppeer_p32(net, n);
	for (i = 0; i < n && r == 0; i++) {
		memcpy(net + 4 + 12 * i, names[i], 8);
		rdppeer_p32(net + 4 + 12 * i + 8, options);
	}
	if (r == 0 &&
	    (rdppeer_put_tlv(blocks, RDP_CS_CORE, core, sizeof(core)) != 0 ||
		rdppeer_put_tlv(
		    blocks, RDP_CS_SECURITY, security, sizeof(security)) != 0 ||
		rdppeer_put_tlv(blocks, RDP_CS_NET, net, 4 + 12 * n) != 0 ||
		rdppeer_put_tlv(
		    blocks, RDP_CS_CLUSTER, cluster, sizeof(cluster)) != 0 ||
		rdp_gcc_write_create_request(ud, blocks) != 0 ||
		vbuf_put(head, "\x04\x01\x01\x04\x01\x01\x01\x01\xff", 9) != 0))
		r = -1;
	for (i = 0; i < 3 && r == 0; i++)
		r = rdppeer_put_domain_params(head, params[i]);
	if (r == 0)
		r = rdp_mcs_write_connect_initial(out, head, ud) == 0 ? 0 : -1;
	for (i = 0; i < 3; i++)
		vbuf_free(v[i]);
	return r;
}

int
rdppeer_put_client_info(struct vbuf *b, uint32_t flags, const char *user,
    const char *pass, const char *dir)
{
	static const char addr[] = "127.0.0.1";
	size_t ul = strlen(user) * 2, pl = strlen(pass) * 2;

	if (vbuf_put_u16le(b, RDP_SEC_INFO_PKT) != 0 ||
	    vbuf_put_u16le(b, 0) != 0 || vbuf_put_u32le(b, 0) != 0 ||
	    vbuf_put_u32le(b, flags) != 0 || vbuf_put_u16le(b, 0) != 0 ||
	    vbuf_put_u16le(b, (uint16_t)ul) != 0 ||
	    vbuf_put_u16le(b, (uint16_t)pl) != 0 || vbuf_put_u16le(b, 0) != 0 ||
	    vbuf_put_u16le(b, 0) != 0)
		return -1;
	if (rdppeer_put_utf16(b, NULL, 2) != 0 || /* domain */
	    rdppeer_put_utf16(b, user, ul + 2) != 0 ||
	    rdppeer_put_utf16(b, pass, pl + 2) != 0 ||
	    rdppeer_put_utf16(b, NULL, 2) != 0 || /* shell */
	    rdppeer_put_utf16(b, NULL, 2) != 0)   /* working dir */
		return -1;
	/* extended info: AF_INET, address, client dir, time zone, session
	 * id, performance flags, no auto-reconnect cookie */
	if (vbuf_put_u16le(b, 2) != 0 ||
	    vbuf_put_u16le(b, (uint16_t)(strlen(addr) * 2 + 2)) != 0 ||
	    rdppeer_put_utf16(b, addr, strlen(addr) * 2 + 2) != 0 ||
	    vbuf_put_u16le(b, (uint16_t)(strlen(dir) * 2 + 2)) != 0 ||
	    rdppeer_put_utf16(b, dir, strlen(dir) * 2 + 2) != 0 ||
	    rdppeer_put_utf16(b, NULL, 172) != 0 || vbuf_put_u32le(b, 0) != 0 ||
	    vbuf_put_u32le(b, 0) != 0 || vbuf_put_u16le(b, 0) != 0)
		return -1;
	return 0;
}

int
rdppeer_put_caps_display(struct vbuf *caps)
{
	/* general: OS 1/3, protocol 0x200, fast-path output and long
	 * credentials; bitmap: 32 bpp, 1024x768, resize, compression;
	 * order: one glyph cache entry per 20 fragments, 230400 bytes of
	 * desktop save */
	static const struct field general[] = { { 0, 2, 1 }, { 2, 2, 3 },
		{ 4, 2, 0x200 }, { 10, 2, 0x0405 } };
	static const struct field bitmap[] = { { 0, 2, 32 }, { 2, 2, 1 },
		{ 4, 2, 1 }, { 6, 2, 1 }, { 8, 2, 1024 }, { 10, 2, 768 },
		{ 14, 2, 1 }, { 16, 2, 1 }, { 20, 2, 1 } };
	static const struct field order[] = { { 20, 2, 1 }, { 22, 2, 20 },
		{ 26, 2, 1 }, { 30, 2, 0x2A }, { 72, 4, 230400 } };
	static const struct capset sets[] = {
		{ 1, 20, general, NELEM(general) },
		{ 2, 24, bitmap, NELEM(bitmap) },
		{ 3, 84, order, NELEM(order) },
	};

	return put_capsets(caps, sets, NELEM(sets));
}

int
rdppeer_put_caps_input(struct vbuf *caps, uint32_t vc_chunk)
{
	/* pointer: color, cache 20, large cache 21; input: scancodes,
	 * mouse wheel, unicode, fast-path input, keyboard 0x409 type 4 with
	 * 12 function keys; virtual channel: the chunk size */
	static const struct field pointer[] = { { 0, 2, 1 }, { 2, 2, 20 },
		{ 4, 2, 21 } };
	static const struct field input[] = { { 0, 2, 0x0035 }, { 4, 4, 0x409 },
		{ 8, 4, 4 }, { 16, 4, 12 } };
	const struct field vc[] = { { 4, 4, vc_chunk } };
	const struct capset sets[] = {
		{ 8, 6, pointer, NELEM(pointer) },
		{ 13, 84, input, NELEM(input) },
		{ 20, 8, vc, NELEM(vc) },
	};

	return put_capsets(caps, sets, NELEM(sets));
}

int
rdppeer_put_confirm_active(struct vbuf *pdu, uint16_t user, uint32_t share_id,
    const struct vbuf *caps, unsigned int ncaps)
{
	/* Share Control header, shareId, originatorId, source "MSTSC" */
	return vbuf_put_u16le(pdu,
		   (uint16_t)(6 + 4 + 2 + 2 + 2 + 6 + 4 + vbuf_len(caps))) !=
		    0 ||
		vbuf_put_u16le(pdu, 0x10 | RDP_PDUTYPE_CONFIRMACTIVE) != 0 ||
		vbuf_put_u16le(pdu, user) != 0 ||
		vbuf_put_u32le(pdu, share_id) != 0 ||
		vbuf_put_u16le(pdu, 0x03EA) != 0 ||
		vbuf_put_u16le(pdu, 6) != 0 ||
		vbuf_put_u16le(pdu, (uint16_t)(4 + vbuf_len(caps))) != 0 ||
		vbuf_put(pdu, "MSTSC", 6) != 0 ||
		vbuf_put_u16le(pdu, (uint16_t)ncaps) != 0 ||
		vbuf_put_u16le(pdu, 0) != 0 || vbuf_put_buf(pdu, caps) != 0
	    ? -1
	    : 0;
}

int
rdppeer_put_share_data(struct vbuf *pdu, uint16_t source, uint32_t share_id,
    uint8_t type2, const unsigned char *body, size_t len)
{
	/* Share Control header, shareId, pad, streamId low, length,
	 * pduType2, no compression */
	return vbuf_put_u16le(pdu, (uint16_t)(18 + len)) != 0 ||
		vbuf_put_u16le(pdu, 0x10 | RDP_PDUTYPE_DATA) != 0 ||
		vbuf_put_u16le(pdu, source) != 0 ||
		vbuf_put_u32le(pdu, share_id) != 0 ||
		vbuf_put_u8(pdu, 0) != 0 || vbuf_put_u8(pdu, 1) != 0 ||
		vbuf_put_u16le(pdu, (uint16_t)(len + 4)) != 0 ||
		vbuf_put_u8(pdu, type2) != 0 || vbuf_put_u8(pdu, 0) != 0 ||
		vbuf_put_u16le(pdu, 0) != 0 || vbuf_put(pdu, body, len) != 0
	    ? -1
	    : 0;
}

void
rdppeer_finalize_init(struct rdppeer_finalize *f)
{
	memset(f, 0, sizeof(*f));
	rdppeer_p16(f->sync, 1);
	rdppeer_p16(f->sync + 2, 1002);
	rdppeer_p16(f->coop, 4);
	rdppeer_p16(f->req, 1);
	rdppeer_p16(f->fonts + 4, 3);
	rdppeer_p16(f->fonts + 6, 50);
}
