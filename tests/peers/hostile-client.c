/*
 * hostile-client: a raw RDP client that runs one attack on the relay's
 * rules (docs/gateway.md, docs/threat-model.md "A hostile client")
 * per invocation, for the gateway's tests. Test-only, never installed.
 *
 *   hostile-client -a ATTACK (-c HOST:PORT | -f FD) [-u USER] [-p PASS]
 *                  [-w SECONDS] [-x closed|open] [-n COUNT]
 *   hostile-client -l          lists the attacks
 *
 * It speaks the real connection sequence (X.224 CR/CC, TLS without
 * verification, MCS Connect Initial with its GCC blocks, Erect Domain,
 * Attach User, Channel Joins, Client Info, Confirm Active, finalization)
 * as far as the attack needs, built with vbuf and the rdp/
 * builders, then sends the attack and watches the peer for -w seconds
 * (default 3); -n sets how many joins join-flood sends (default a
 * million, in writes of 5000). -f FD speaks over an already connected socket (a
 * test tunnel). What it saw goes to stdout as key=value lines; the last one is
 *
 *   hostile attack=NAME delivered=yes|no peer=closed|open stage=STAGE
 *
 * delivered: every PDU of the attack was written; peer: whether the peer
 * closed the connection (or refused at the X.224/TLS step) before the
 * watch ended; stage: how far the sequence got. Exit status: without -x,
 * 0 when the attack was delivered, 1 when it could not be; with -x, 0 when
 * the peer ended closed/open as expected, 3 otherwise; 2 on usage errors.
 */
#include "config.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "rdp/caps.h"
#include "rdp/dvc.h"
#include "rdp/frame.h"
#include "rdp/gcc.h"
#include "rdp/info.h"
#include "rdp/mcs.h"
#include "rdp/svc.h"
#include "rdp/x224.h"
#include "rdppeer.h"
#include "vbuf.h"

#define PROG    "hostile-client"
#define BUF_MAX (4u << 20)

enum attack {
	A_CLIPRDR,
	A_RDPDR,
	A_MS_T120,
	A_UNKNOWN,
	A_NO_NUL,
	A_UNJOINED,
	A_FAKE_ID,
	A_DVC_UNREQUESTED,
	A_DVC_COMPRESSED,
	A_PERSISTENT,
	A_GFX_IMPORT,
	A_SVC_LENGTH,
	A_SVC_NO_FIRST,
	A_LICENSE_DISGUISE,
	A_USER_CHANNEL,
	A_JOIN_UNASSIGNED,
	A_MCS_DIRECTION,
	A_FASTPATH_EARLY,
	A_SHARE_TYPE2,
	A_JOIN_FLOOD,
};

static const struct {
	const char *name;
	enum attack a;
	const char *what;
} attacks[] = {
	{ "cs-net-cliprdr", A_CLIPRDR,
	    "cliprdr in CS_NET, joined, "
	    "a Format List sent on it" },
	{ "cs-net-rdpdr", A_RDPDR,
	    "rdpdr in CS_NET, joined, a Client "
	    "Announce Reply and a drive announced on it" },
	{ "cs-net-ms-t120", A_MS_T120,
	    "MS_T120 in CS_NET (BlueKeep), "
	    "joined, data sent on it" },
	{ "cs-net-unknown", A_UNKNOWN,
	    "an unknown name (evilchn) in "
	    "CS_NET, joined, data sent on it" },
	{ "cs-net-no-nul", A_NO_NUL,
	    "drdynvcX: 8 name bytes without NUL, "
	    "joined, data sent on it" },
	{ "svc-unjoined", A_UNJOINED,
	    "data on the ids of drdynvc and "
	    "cliprdr without joining them (sent right after the joins)" },
	{ "svc-fake-id", A_FAKE_ID,
	    "data on a channel id the server never "
	    "announced" },
	{ "dvc-unrequested-create", A_DVC_UNREQUESTED,
	    "DVC Create Response "
	    "and Data for an id the server never requested" },
	{ "dvc-compressed", A_DVC_COMPRESSED,
	    "Data First Compressed (0x6) "
	    "and Data Compressed (0x7) on an opened DVC" },
	{ "persistent-cache", A_PERSISTENT,
	    "BITMAPCACHE_REV2 with "
	    "PERSISTENT_KEYS_EXPECTED and persistent cells, then a "
	    "Persistent Key List PDU" },
	{ "gfx-cache-import", A_GFX_IMPORT,
	    "RDPGFX caps advertise and a "
	    "CACHE_IMPORT_OFFER on the graphics DVC" },
	{ "svc-length", A_SVC_LENGTH,
	    "a FIRST|LAST drdynvc chunk whose "
	    "length says 4096 for 8 bytes of data" },
	{ "svc-no-first", A_SVC_NO_FIRST,
	    "a drdynvc chunk with LAST but no "
	    "FIRST outside any message" },
	{ "license-disguise", A_LICENSE_DISGUISE,
	    "with the Client Info, in one "
	    "write, a Confirm Active (RAIL, WINDOW, persistent cells, VC "
	    "compression) and a Persistent Key List that also parse as "
	    "licensing PDUs" },
	{ "user-channel-data", A_USER_CHANNEL,
	    "a cliprdr Format List sent "
	    "on the MCS user channel id" },
	{ "join-unassigned", A_JOIN_UNASSIGNED,
	    "after the joins, Channel Join "
	    "Requests for ids nobody assigned: 0, 1, 1001, 1002, 65535" },
	{ "mcs-wrong-direction", A_MCS_DIRECTION,
	    "an Attach User Confirm and "
	    "a Channel Join Confirm sent to the desktop" },
	{ "fastpath-early", A_FASTPATH_EARLY,
	    "fast-path input in the same "
	    "write as the Client Info, before any Confirm Active" },
	{ "share-data-type2", A_SHARE_TYPE2,
	    "client Data PDUs of types only a "
	    "server sends (Update 0x02, ARC Status 0x32)" },
	{ "join-flood", A_JOIN_FLOOD,
	    "after the joins, a million Channel "
	    "Join Requests for a refused channel's id, never reading the "
	    "answers" },
};
#define NATTACKS (sizeof(attacks) / sizeof(attacks[0]))

struct conn {
	int fd;
	SSL *ssl;
	struct vbuf *in;
	int closed;
	const char *stage;
	/* from the server */
	uint32_t selected;
	uint16_t io, user;
	unsigned int nch;
	char names[RDP_CHANNEL_MAX][9];
	uint16_t ids[RDP_CHANNEL_MAX];
	uint32_t share_id;
	int demand_active, font_map;
	int dvc_caps; /* server's DVC caps version, 0 before */
	unsigned int ncreate;
	struct {
		uint32_t id;
		char name[64];
	} create[32];
};

static enum attack A;
static const char *attack_name;
static int delivered; /* the PDU that carries the attack was written */
static int opt_wait = 3;
static long opt_count = 1000000; /* -n: join-flood's joins */

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("hostile ");
	vprintf(fmt, ap);
	printf("\n");
	fflush(stdout);
	va_end(ap);
}

/* --- output ------------------------------------------------------ */

static int
send_raw(struct conn *c, const unsigned char *p, size_t n)
{
	while (n > 0) {
		ssize_t w;

		if (c->ssl != NULL) {
			int r = SSL_write(c->ssl, p, (int)n);

			if (r <= 0)
				return -1;
			w = r;
		} else if ((w = write(c->fd, p, n)) <= 0) {
			if (w < 0 && errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
send_buf(struct conn *c, struct vbuf *b)
{
	int r = send_raw(c, vbuf_ptr(b), vbuf_len(b));

	vbuf_wipe(b);
	if (r != 0) {
		c->closed = 1;
		say("event=write_failed stage=%s", c->stage);
	}
	return r;
}

static struct vbuf *
nb(void)
{
	struct vbuf *b = vbuf_new(BUF_MAX);

	if (b == NULL) {
		fprintf(stderr, PROG ": out of memory\n");
		exit(1);
	}
	return b;
}

/* Sends an X.224 Data TPDU carrying mcs (len bytes). */
static int
send_x224(struct conn *c, const void *mcs, size_t len)
{
	struct vbuf *b = nb();
	int r;

	r = rdp_x224_write_data(b, mcs, len) == 0 ? send_buf(c, b) : -1;
	vbuf_free(b);
	return r;
}

/* Sends data (len bytes) in one MCS Send Data Request on channel. */
static int
send_mcs(struct conn *c, uint16_t channel, const void *data, size_t len)
{
	struct vbuf *b = nb();
	int r;

	r = rdp_mcs_write_send_data(b, 0, c->user, channel, data, len) == 0
	    ? send_buf(c, b)
	    : -1;
	vbuf_free(b);
	return r;
}

/* Sends one static channel message as a well-formed FIRST|LAST chunk. */
static int
send_svc(struct conn *c, uint16_t channel, const void *msg, size_t len)
{
	struct vbuf *b = nb();
	int r;

	r = rdp_svc_write_message(b, 0, c->user, channel, msg, len, 0, 0) == 0
	    ? send_buf(c, b)
	    : -1;
	vbuf_free(b);
	return r;
}

/* Sends a chunk with a header of our choosing (length, flags). */
static int
send_chunk(struct conn *c, uint16_t channel, uint32_t length, uint32_t flags,
    const void *data, size_t len)
{
	unsigned char p[1600 + 8];

	if (len > sizeof(p) - 8)
		return -1;
	p[0] = length & 0xFF;
	p[1] = (length >> 8) & 0xFF;
	p[2] = (length >> 16) & 0xFF;
	p[3] = (length >> 24) & 0xFF;
	p[4] = flags & 0xFF;
	p[5] = (flags >> 8) & 0xFF;
	p[6] = (flags >> 16) & 0xFF;
	p[7] = (flags >> 24) & 0xFF;
	memcpy(p + 8, data, len);
	return send_mcs(c, channel, p, len + 8);
}

/* --- input ------------------------------------------------------- */

/* Reads until a whole PDU is at the front of c->in, then makes pdu a view
 * of it (consumed by the next call). Returns 0, or -1 on EOF, timeout or
 * garbage (c->closed set on EOF). */
static int
recv_pdu(struct conn *c, struct vbuf *pdu, int ms, size_t *consume)
{
	struct rdp_frame f;
	int r;

	if (*consume > 0) {
		if (vbuf_consume(c->in, *consume) != 0)
			return -1;
		*consume = 0;
	}
	for (;;) {
		unsigned char tmp[16384];
		struct pollfd pfd;
		int n;

		r = rdp_frame_peek(c->in, 0, &f);
		if (r == 0) {
			vbuf_init_view(pdu, vbuf_ptr(c->in), f.len);
			*consume = f.len;
			return 0;
		}
		if (r != VDI_ERR_NEED_MORE) {
			say("event=garbage_from_peer stage=%s error=%s",
			    c->stage, vdi_errname(r));
			c->closed = 1;
			return -1;
		}
		if (c->ssl == NULL || SSL_pending(c->ssl) == 0) {
			pfd.fd = c->fd;
			pfd.events = POLLIN;
			pfd.revents = 0;
			if (poll(&pfd, 1, ms) <= 0)
				return -1; /* timeout */
		}
		if (c->ssl != NULL)
			n = SSL_read(c->ssl, tmp, sizeof(tmp));
		else
			n = (int)read(c->fd, tmp, sizeof(tmp));
		if (n <= 0) {
			c->closed = 1;
			return -1;
		}
		if (vbuf_put(c->in, tmp, (size_t)n) != 0)
			return -1;
	}
}

static uint16_t
chan_id(const struct conn *c, const char *name)
{
	unsigned int i;

	for (i = 0; i < c->nch; i++)
		if (strcmp(c->names[i], name) == 0)
			return c->ids[i];
	return 0;
}

static uint32_t
le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

/* The server's DVC PDUs (one per chunk: servers send small ones). */
static void
on_drdynvc(struct conn *c, const struct vbuf *data)
{
	const unsigned char *p = vbuf_ptr(data);
	size_t n = vbuf_len(data);
	unsigned int cmd;

	if (n < 9)
		return;
	p += 8;
	n -= 8;
	cmd = p[0] >> 4;
	if (cmd == RDP_DVC_CMD_CAPS && n >= 4) {
		c->dvc_caps = p[2] | p[3] << 8;
		say("event=dvc_caps_request version=%d", c->dvc_caps);
	} else if (cmd == RDP_DVC_CMD_CREATE && c->ncreate < 32) {
		unsigned int cb = p[0] & 3;
		size_t off = 1u + (1u << cb);
		uint32_t id;

		if (cb == 3 || n <= off)
			return;
		id = cb == 0  ? p[1]
		    : cb == 1 ? (uint32_t)(p[1] | p[2] << 8)
			      : le32(p + 1);
		c->create[c->ncreate].id = id;
		rdp_name_sanitize(c->create[c->ncreate].name,
		    sizeof(c->create[0].name), p + off, n - off);
		say("event=dvc_create_request id=%u name=%s", id,
		    c->create[c->ncreate].name);
		c->ncreate++;
	}
}

/* Looks at one server PDU in the active phases. */
static void
on_pdu(struct conn *c, const struct vbuf *pdu)
{
	struct vbuf mcs;
	struct rdp_mcs_pdu p;
	uint8_t b0;

	if (vbuf_peek_u8(pdu, 0, &b0) != 0 || b0 != 0x03)
		return; /* fast-path output */
	if (rdp_x224_parse_data(pdu, &mcs) != 0 ||
	    rdp_mcs_parse_domain(&mcs, &p) != 0)
		return;
	if (p.type == RDP_MCS_DISCONNECT_PROVIDER_ULTIMATUM) {
		say("event=disconnect_ultimatum reason=%u", p.reason);
		c->closed = 1;
		return;
	}
	if (p.type != RDP_MCS_SEND_DATA_INDICATION)
		return;
	if (p.channel_id == c->io) {
		struct vbuf b = p.data;
		struct rdp_share_ctrl h;
		struct vbuf one;

		if (rdp_sec_is_license(&p.data))
			return;
		while (rdp_share_next(&b, &h, &one) == 0) {
			struct rdp_share_data sd;

			if (h.type == RDP_PDUTYPE_DEMANDACTIVE &&
			    vbuf_peek_u32le(&one, 6, &c->share_id) == 0) {
				c->demand_active++;
				say("event=demand_active share_id=0x%08x",
				    c->share_id);
			} else if (h.type == RDP_PDUTYPE_DATA &&
			    rdp_share_parse_data(&one, &sd) == 0 &&
			    sd.pdu_type2 == 0x28) {
				c->font_map = 1;
				say("event=font_map");
			} else if (h.type == RDP_PDUTYPE_DEACTIVATEALL)
				say("event=deactivate_all");
		}
	} else if (p.channel_id != 0 && p.channel_id == chan_id(c, "drdynvc"))
		on_drdynvc(c, &p.data);
}

/* Reads and handles server PDUs until cond(c) or ms elapsed. Returns 1 if
 * cond became true, 0 otherwise (c->closed tells an EOF). */
static int
pump(struct conn *c, int (*cond)(const struct conn *), int ms)
{
	struct timespec t0, t;
	size_t consume = 0;
	int left = ms, ok = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!c->closed) {
		struct vbuf pdu;

		if (cond != NULL && cond(c)) {
			ok = 1;
			break;
		}
		if (recv_pdu(c, &pdu, left, &consume) == 0)
			on_pdu(c, &pdu);
		clock_gettime(CLOCK_MONOTONIC, &t);
		left = ms -
		    (int)((t.tv_sec - t0.tv_sec) * 1000 +
			(t.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0)
			break;
	}
	if (consume > 0 && vbuf_consume(c->in, consume) != 0)
		c->closed = 1;
	if (!ok && cond != NULL && cond(c))
		ok = 1;
	return ok;
}

static int
have_demand(const struct conn *c)
{
	return c->demand_active > 0;
}

static int
have_font_map(const struct conn *c)
{
	return c->font_map;
}

static int
have_dvc_caps(const struct conn *c)
{
	return c->dvc_caps > 0;
}

/* --- the connection sequence ------------------------------------- */

static int
tcp_connect(const char *hp)
{
	char host[256];
	const char *colon = strrchr(hp, ':');
	struct addrinfo hints, *res, *ai;
	int fd = -1;

	if (colon == NULL || (size_t)(colon - hp) >= sizeof(host))
		return -1;
	memcpy(host, hp, (size_t)(colon - hp));
	host[colon - hp] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, colon + 1, &hints, &res) != 0)
		return -1;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, ai->ai_socktype, 0)) < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

/* The channels this attack asks for in CS_NET (8 raw bytes each). */
static unsigned int
attack_channels(unsigned char names[][8])
{
	static const char *const base[] = { "drdynvc" };
	const char *extra = NULL;
	unsigned int n = 0;

	memset(names, 0, 8 * 4);
	memcpy(names[n++], base[0], strlen(base[0]));
	switch (A) {
	case A_CLIPRDR:
	case A_UNJOINED:
	case A_JOIN_FLOOD:
		extra = "cliprdr";
		break;
	case A_RDPDR:
		extra = "rdpdr";
		break;
	case A_MS_T120:
		extra = "MS_T120";
		break;
	case A_UNKNOWN:
		extra = "evilchn";
		break;
	case A_NO_NUL:
		memcpy(names[n++], "drdynvcX", 8);
		break;
	default:
		break;
	}
	if (extra != NULL)
		memcpy(names[n++], extra, strlen(extra));
	return n;
}

static int
do_connect_initial(struct conn *c)
{
	unsigned char names[4][8];
	struct vbuf *out = nb();
	unsigned int n;
	int r = -1;

	n = attack_channels(names);
	if (rdppeer_put_connect_initial(out, "hostile", c->selected,
		(const unsigned char(*)[8])names, n, 0xC0A00000u) != 0)
		goto out;
	r = send_buf(c, out);
	say("event=connect_initial channels=%u", n);
	if (r == 0 && A <= A_NO_NUL) {
		delivered = 1; /* the CS_NET is the attack */
		say("event=attack_part what=cs_net");
	}
out:
	vbuf_free(out);
	return r;
}

static int
do_connect_response(struct conn *c, unsigned char names[][8], unsigned int n)
{
	struct rdp_mcs_connect_response cr;
	struct rdp_gcc_server s;
	struct vbuf pdu, mcs, blocks;
	uint16_t node;
	uint32_t tag;
	size_t consume = 0;
	unsigned int i;
	int r;

	if (recv_pdu(c, &pdu, 10000, &consume) != 0)
		return -1;
	if ((r = rdp_x224_parse_data(&pdu, &mcs)) != 0 ||
	    (r = rdp_mcs_parse_connect_response(&mcs, &cr)) != 0 ||
	    (r = rdp_gcc_parse_create_response(
		 &cr.user_data, &node, &tag, &blocks)) != 0 ||
	    (r = rdp_gcc_parse_server_blocks(&blocks, &s)) != 0) {
		say("event=bad_connect_response error=%s", vdi_errname(r));
		return -1;
	}
	c->io = s.io_channel;
	c->nch = n;
	for (i = 0; i < n; i++) {
		rdp_name_sanitize(
		    c->names[i], sizeof(c->names[i]), names[i], 8);
		c->ids[i] = i < s.nchannels ? s.ids[i] : 0;
		say("event=channel name=%s id=%u", c->names[i], c->ids[i]);
	}
	say("event=connect_response result=%u io=%u ids=%u msgchannel=%d",
	    cr.result, c->io, s.nchannels, s.has_msgchannel);
	return vbuf_consume(c->in, consume) == 0 && cr.result == 0 ? 0 : -1;
}

static int
recv_domain(struct conn *c, struct rdp_mcs_pdu *p)
{
	struct vbuf pdu, mcs;
	size_t consume = 0;
	int r;

	if (recv_pdu(c, &pdu, 10000, &consume) != 0)
		return -1;
	r = rdp_x224_parse_data(&pdu, &mcs) == 0 &&
		rdp_mcs_parse_domain(&mcs, p) == 0
	    ? 0
	    : -1;
	/* p->data views c->in: callers here only read fixed fields */
	if (vbuf_consume(c->in, consume) != 0)
		return -1;
	return r;
}

/* Appends an X.224 Data TPDU with a Channel Join Request of our user for
 * id (T.125 ALIGNED PER: choice, initiator - 1001, channelId). */
static int
put_join(struct vbuf *b, uint16_t user, uint16_t id)
{
	unsigned char j[5] = { 0x38 };

	j[1] = (unsigned char)((user - 1001) >> 8);
	j[2] = (unsigned char)((user - 1001) & 0xFF);
	j[3] = (unsigned char)(id >> 8);
	j[4] = (unsigned char)(id & 0xFF);
	return rdp_x224_write_data(b, j, sizeof(j));
}

static int
join(struct conn *c, uint16_t id)
{
	struct vbuf *b = nb();
	struct rdp_mcs_pdu p;
	int r;

	r = put_join(b, c->user, id) == 0 ? send_buf(c, b) : -1;
	vbuf_free(b);
	if (r != 0 || recv_domain(c, &p) != 0 ||
	    p.type != RDP_MCS_CHANNEL_JOIN_CONFIRM)
		return -1;
	say("event=join id=%u result=%u", id, p.result);
	return 0;
}

static int
do_client_info(struct conn *c, const char *user, const char *pass)
{
	struct vbuf *b = nb();
	int r = -1;

	if (rdppeer_put_client_info(b,
		RDP_INFO_MOUSE | RDP_INFO_DISABLECTRLALTDEL | RDP_INFO_UNICODE |
		    RDP_INFO_LOGONNOTIFY | RDP_INFO_LOGONERRORS |
		    RDP_INFO_ENABLEWINDOWSKEY |
		    (pass[0] != '\0' ? RDP_INFO_AUTOLOGON : 0),
		user, pass, "C:\\hostile") == 0)
		r = send_mcs(c, c->io, vbuf_ptr(b), vbuf_len(b));
	vbuf_wipe(b);
	vbuf_free(b);
	return r;
}

static int
do_confirm_active(struct conn *c)
{
	unsigned char rev2[36] = { 0 }, sound[4] = { 0 }, font[4] = { 0 };
	unsigned char glyph[48] = { 0 }, offscreen[8] = { 0 }, brush[4] = { 0 };
	unsigned char multifrag[4] = { 0 };
	struct vbuf *caps = nb(), *pdu = nb();
	int persistent = A == A_PERSISTENT, r = -1;

	/* BITMAPCACHE_REV2: flags, pad, 3 cells */
	rdppeer_p16(rev2, persistent ? 0x0003 : 0x0002);
	rev2[3] = 3;
	rdppeer_p32(rev2 + 4, 600 | (persistent ? 0x80000000u : 0));
	rdppeer_p32(rev2 + 8, 600 | (persistent ? 0x80000000u : 0));
	rdppeer_p32(rev2 + 12, 2048 | (persistent ? 0x80000000u : 0));
	rdppeer_p16(sound, 1);
	rdppeer_p16(font, 1);
	rdppeer_p32(multifrag, 0xFFFFFF);
	if (rdppeer_put_caps_display(caps) != 0 ||
	    rdppeer_put_tlv(caps, 19, rev2, sizeof(rev2)) != 0 ||
	    rdppeer_put_caps_input(caps, 1600) != 0 ||
	    rdppeer_put_tlv(caps, 12, sound, sizeof(sound)) != 0 ||
	    rdppeer_put_tlv(caps, 14, font, sizeof(font)) != 0 ||
	    rdppeer_put_tlv(caps, 15, brush, sizeof(brush)) != 0 ||
	    rdppeer_put_tlv(caps, 16, glyph, sizeof(glyph)) != 0 ||
	    rdppeer_put_tlv(caps, 17, offscreen, sizeof(offscreen)) != 0 ||
	    rdppeer_put_tlv(caps, 26, multifrag, sizeof(multifrag)) != 0 ||
	    rdppeer_put_confirm_active(pdu, c->user, c->share_id, caps, 13) !=
		0)
		goto out;
	r = send_mcs(c, c->io, vbuf_ptr(pdu), vbuf_len(pdu));
	say("event=confirm_active persistent=%d", persistent);
	if (r == 0 && persistent)
		say("event=attack_part what=persistent_confirm_active");
out:
	vbuf_free(caps);
	vbuf_free(pdu);
	return r;
}

/* Sends a Share Data PDU of type2 with body. */
static int
send_data_pdu(
    struct conn *c, uint8_t type2, const unsigned char *body, size_t len)
{
	struct vbuf *b = nb();
	int r = rdppeer_put_share_data(
		    b, c->user, c->share_id, type2, body, len) == 0
	    ? send_mcs(c, c->io, vbuf_ptr(b), vbuf_len(b))
	    : -1;

	vbuf_free(b);
	return r;
}

static int
do_finalize(struct conn *c)
{
	struct rdppeer_finalize f;
	unsigned char pkl[24 + 4 * 8] = { 0 };
	unsigned int i;

	rdppeer_finalize_init(&f);
	if (send_data_pdu(c, 0x1F, f.sync, sizeof(f.sync)) != 0 ||
	    send_data_pdu(c, 0x14, f.coop, sizeof(f.coop)) != 0 ||
	    send_data_pdu(c, 0x14, f.req, sizeof(f.req)) != 0)
		return -1;
	if (A == A_PERSISTENT) {
		/* 4 entries in cache 0, FIRST|LAST */
		rdppeer_p16(pkl, 4);
		rdppeer_p16(pkl + 10, 4);
		pkl[20] = 0x03;
		for (i = 0; i < 4; i++) {
			rdppeer_p32(pkl + 24 + 8 * i, 0x11111111u * (i + 1));
			rdppeer_p32(pkl + 28 + 8 * i, 0xA5A5A5A5u);
		}
		if (send_data_pdu(
			c, RDP_PDUTYPE2_PERSISTENT_LIST, pkl, sizeof(pkl)) != 0)
			return -1;
		say("event=attack_part what=persistent_key_list entries=4");
		delivered = 1;
	}
	return send_data_pdu(c, 0x27, f.fonts, sizeof(f.fonts));
}

/* Sends one DVC PDU (whole SVC message) on drdynvc. */
static int
send_dvc(struct conn *c, const unsigned char *p, size_t n)
{
	uint16_t id = chan_id(c, "drdynvc");

	return id == 0 ? -1 : send_svc(c, id, p, n);
}

static int
dvc_caps_reply(struct conn *c)
{
	unsigned char caps[4] = { 0x50, 0 };

	rdppeer_p16(caps + 2, (unsigned int)c->dvc_caps);
	return send_dvc(c, caps, sizeof(caps));
}

/* Answers the create request for name (NULL: the first) with status.
 * Returns its id, or -1. */
static long
dvc_accept(struct conn *c, const char *name, int32_t status)
{
	unsigned char r[6] = { 0x10 };
	unsigned int i;

	for (i = 0; i < c->ncreate; i++) {
		if (name != NULL && strcmp(c->create[i].name, name) != 0)
			continue;
		if (c->create[i].id > 0xFF)
			continue;
		r[1] = (unsigned char)c->create[i].id;
		rdppeer_p32(r + 2, (uint32_t)status);
		if (send_dvc(c, r, sizeof(r)) != 0)
			return -1;
		say("event=dvc_create_response id=%u name=%s status=%d",
		    c->create[i].id, c->create[i].name, (int)status);
		return c->create[i].id;
	}
	return -1;
}

/* Waits for the DVC capabilities, answers them and collects the create
 * requests that follow. */
static int
dvc_ready(struct conn *c)
{
	c->stage = "dvc_caps";
	if (!pump(c, have_dvc_caps, 10000))
		return -1;
	if (dvc_caps_reply(c) != 0)
		return -1;
	c->stage = "dvc_create";
	(void)pump(c, NULL, 1500);
	return c->closed ? -1 : 0;
}

/* A Share Control PDU of totalLength len whose first bytes also read as
 * a client licensing PDU: totalLength (with 0x80) as SEC_LICENSE_PKT
 * flags, pduSource 0x0313 as a New License Request preamble of version
 * 3, and the low half of shareId as its wMsgSize. type: Share Control
 * pduType; body (the rest after shareId) is copied in and padded. */
static void
disguise(unsigned char *p, size_t len, unsigned int type,
    const unsigned char *body, size_t blen)
{
	memset(p, 0, len);
	rdppeer_p16(p, (unsigned int)len);
	rdppeer_p16(p + 2, 0x10 | type);
	rdppeer_p16(p + 4, 0x0313);
	rdppeer_p32(p + 6, 0x00010000u | (uint32_t)(len - 4));
	if (blen > 0)
		memcpy(p + 10, body, blen);
}

/* The Client Info, then the attack's PDUs, in one write. */
static int
client_info_and(struct conn *c, const char *user, const char *pass)
{
	unsigned char pdu[0x280];
	struct vbuf *b = nb();
	size_t n = 0;
	int r = -1;

	/* the Client Info PDU as do_client_info() sends it, captured */
	{
		struct conn tmp = *c;
		int fds[2];

		if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0)
			goto out;
		tmp.ssl = NULL;
		tmp.fd = fds[0];
		r = do_client_info(&tmp, user, pass);
		close(fds[0]);
		if (r == 0) {
			unsigned char tpkt[2048];
			ssize_t got = read(fds[1], tpkt, sizeof(tpkt));

			r = got > 0 ? vbuf_put(b, tpkt, (size_t)got) : -1;
		}
		close(fds[1]);
		if (r != 0)
			goto out;
	}
	r = -1;
	if (A == A_FASTPATH_EARLY) {
		/* one fast-path scancode event: 'a' down */
		static const unsigned char fp[] = { 0x04, 0x04, 0x00, 0x1E };

		if (vbuf_put(b, fp, sizeof(fp)) != 0)
			goto out;
	} else {
		/* Confirm Active after shareId: originatorId,
		 * lengthSourceDescriptor, lengthCombinedCapabilities,
		 * source (padding the PDU to its disguised length),
		 * numberCapabilities, pad, capability sets */
		unsigned char sets[80] = { 0 };
		size_t ns = 0, src;

		/* RAIL (23): TS_RAIL_LEVEL_SUPPORTED */
		rdppeer_p16(sets + ns, 23);
		rdppeer_p16(sets + ns + 2, 8);
		rdppeer_p32(sets + ns + 4, 1);
		ns += 8;
		/* WINDOW (24): level, 3 icon caches of 12 */
		rdppeer_p16(sets + ns, 24);
		rdppeer_p16(sets + ns + 2, 11);
		rdppeer_p32(sets + ns + 4, 1);
		sets[ns + 8] = 3;
		rdppeer_p16(sets + ns + 9, 12);
		ns += 11;
		/* BITMAPCACHE_REV2 (19): persistent keys, 3 persistent cells */
		rdppeer_p16(sets + ns, 19);
		rdppeer_p16(sets + ns + 2, 40);
		rdppeer_p16(sets + ns + 4, 0x0003);
		sets[ns + 7] = 3;
		rdppeer_p32(sets + ns + 8, 600 | 0x80000000u);
		rdppeer_p32(sets + ns + 12, 600 | 0x80000000u);
		rdppeer_p32(sets + ns + 16, 2048 | 0x80000000u);
		ns += 40;
		/* VIRTUALCHANNEL (20): VCCAPS_COMPR_SC */
		rdppeer_p16(sets + ns, 20);
		rdppeer_p16(sets + ns + 2, 12);
		rdppeer_p32(sets + ns + 4, 1);
		rdppeer_p32(sets + ns + 8, 1600);
		ns += 12;
		src = sizeof(pdu) - 16 - 4 - ns;
		disguise(pdu, sizeof(pdu), RDP_PDUTYPE_CONFIRMACTIVE, NULL, 0);
		rdppeer_p16(pdu + 10, 0x03EA);
		rdppeer_p16(pdu + 12, (unsigned int)src);
		rdppeer_p16(pdu + 14, (unsigned int)(4 + ns));
		memcpy(pdu + 16, "MSTSC", 6);
		rdppeer_p16(pdu + 16 + src, 4);
		memcpy(pdu + 16 + src + 4, sets, ns);
		if (rdp_mcs_write_send_data(
			b, 0, c->user, c->io, pdu, sizeof(pdu)) != 0)
			goto out;
		/* Persistent Key List: 11 entries in cache 0, FIRST|LAST */
		{
			unsigned char pk[0x82], d[8 + 24 + 88] = { 0 };
			unsigned int i;

			d[1] = 1; /* streamId */
			rdppeer_p16(d + 2, 24 + 88 + 4);
			d[4] = RDP_PDUTYPE2_PERSISTENT_LIST;
			rdppeer_p16(d + 8, 11);
			rdppeer_p16(d + 18, 11);
			d[28] = 0x03;
			for (i = 0; i < 11; i++) {
				rdppeer_p32(
				    d + 32 + 8 * i, 0x22222222u * (i + 1));
				rdppeer_p32(d + 36 + 8 * i, 0x5A5A5A5Au);
			}
			disguise(pk, sizeof(pk), RDP_PDUTYPE_DATA, d,
			    sizeof(pk) - 10);
			if (rdp_mcs_write_send_data(
				b, 0, c->user, c->io, pk, sizeof(pk)) != 0)
				goto out;
		}
		n = 2;
	}
	r = send_buf(c, b);
	if (r == 0) {
		say("event=attack_part what=client_info_and_%s pdus=%zu",
		    A == A_FASTPATH_EARLY ? "fastpath" : "disguised", n);
		delivered = 1;
	}
out:
	vbuf_free(b);
	return r;
}

static int
run_attack(struct conn *c)
{
	static const unsigned char junk[16] = "AAAAAAAAAAAAAAAA";
	unsigned char buf[64];
	uint16_t id;
	long dvc;
	unsigned int i;

	switch (A) {
	case A_CLIPRDR:
		/* CB_FORMAT_LIST: CF_UNICODETEXT with an empty long name */
		memset(buf, 0, 14);
		rdppeer_p16(buf, 0x0002);
		rdppeer_p32(buf + 4, 6);
		rdppeer_p32(buf + 8, 13);
		id = chan_id(c, "cliprdr");
		return id == 0 ? -1 : send_svc(c, id, buf, 14);
	case A_RDPDR:
		/* Client Announce Reply, then Device List Announce: drive C */
		memset(buf, 0, 40);
		rdppeer_p16(buf, 0x4472);
		rdppeer_p16(buf + 2, 0x4343);
		rdppeer_p16(buf + 4, 1);
		rdppeer_p16(buf + 6, 0x000C);
		rdppeer_p32(buf + 8, 1);
		id = chan_id(c, "rdpdr");
		if (id == 0 || send_svc(c, id, buf, 12) != 0)
			return -1;
		memset(buf, 0, 40);
		rdppeer_p16(buf, 0x4472);
		rdppeer_p16(buf + 2, 0x4441);
		rdppeer_p32(buf + 4, 1);
		rdppeer_p32(buf + 8, 8); /* RDPDR_DTYP_FILESYSTEM */
		rdppeer_p32(buf + 12, 1);
		memcpy(buf + 16, "C", 1);
		rdppeer_p32(buf + 24, 0);
		return send_svc(c, id, buf, 28);
	case A_MS_T120:
		id = chan_id(c, "MS_T120");
		return id == 0 ? -1 : send_svc(c, id, junk, sizeof(junk));
	case A_UNKNOWN:
		id = chan_id(c, "evilchn");
		return id == 0 ? -1 : send_svc(c, id, junk, sizeof(junk));
	case A_NO_NUL:
		id = chan_id(c, "drdynvcX");
		return id == 0 ? -1 : send_svc(c, id, junk, sizeof(junk));
	case A_UNJOINED: {
		/* both in one write, so a peer that closes on the first
		 * still has the second in its input */
		struct vbuf *b = nb();
		int r = -1;

		if (chan_id(c, "drdynvc") != 0 && chan_id(c, "cliprdr") != 0 &&
		    rdp_svc_write_message(b, 0, c->user, chan_id(c, "cliprdr"),
			junk, sizeof(junk), 0, 0) == 0 &&
		    rdp_svc_write_message(b, 0, c->user, chan_id(c, "drdynvc"),
			junk, sizeof(junk), 0, 0) == 0)
			r = send_buf(c, b);
		vbuf_free(b);
		return r;
	}
	case A_FAKE_ID:
		/* an id nobody announced: above every id in use */
		id = 1100;
		for (i = 0; i < c->nch; i++)
			if (c->ids[i] >= id)
				id = (uint16_t)(c->ids[i] + 7);
		if (id == c->io || id == c->user)
			id = (uint16_t)(id + 13);
		say("event=fake_id id=%u", id);
		return send_svc(c, id, junk, sizeof(junk));
	case A_DVC_UNREQUESTED:
		if (dvc_ready(c) != 0)
			return -1;
		/* id 0xC8: Create Response status 0, then Data on it */
		buf[0] = 0x10;
		buf[1] = 0xC8;
		rdppeer_p32(buf + 2, 0);
		if (send_dvc(c, buf, 6) != 0)
			return -1;
		buf[0] = 0x30;
		memcpy(buf + 2, "hostile!", 8);
		return send_dvc(c, buf, 10);
	case A_DVC_COMPRESSED:
		if (dvc_ready(c) != 0 || (dvc = dvc_accept(c, NULL, 0)) < 0)
			return -1;
		/* Data First Compressed: Len 1 byte (sp 0), length 16 */
		buf[0] = 0x60;
		buf[1] = (unsigned char)dvc;
		buf[2] = 16;
		memcpy(buf + 3, junk, 8);
		if (send_dvc(c, buf, 11) != 0)
			return -1;
		buf[0] = 0x70;
		memcpy(buf + 2, junk, 8);
		return send_dvc(c, buf, 10);
	case A_GFX_IMPORT:
		if (dvc_ready(c) != 0 ||
		    (dvc = dvc_accept(
			 c, "Microsoft::Windows::RDS::Graphics", 0)) < 0)
			return -1;
		/* RDPGFX_CAPS_ADVERTISE: one capset, version 8.1 */
		memset(buf, 0, sizeof(buf));
		buf[0] = 0x30;
		buf[1] = (unsigned char)dvc;
		rdppeer_p16(buf + 2, 0x0012);
		rdppeer_p32(buf + 6, 8 + 2 + 12);
		rdppeer_p16(buf + 10, 1);
		rdppeer_p32(buf + 12, 0x00080105);
		rdppeer_p32(buf + 16, 4);
		if (send_dvc(c, buf, 2 + 22) != 0)
			return -1;
		/* RDPGFX_CACHE_IMPORT_OFFER: 3 entries */
		memset(buf, 0, sizeof(buf));
		buf[0] = 0x30;
		buf[1] = (unsigned char)dvc;
		rdppeer_p16(buf + 2, 0x0010);
		rdppeer_p32(buf + 6, 8 + 2 + 3 * 12);
		rdppeer_p16(buf + 10, 3);
		for (i = 0; i < 3; i++) {
			rdppeer_p32(buf + 12 + 12 * i, 0xCAFE0000u + i);
			rdppeer_p32(buf + 16 + 12 * i, 0x12345678u);
			rdppeer_p32(buf + 20 + 12 * i, 4096);
		}
		return send_dvc(c, buf, 2 + 46);
	case A_SVC_LENGTH:
		id = chan_id(c, "drdynvc");
		return id == 0
		    ? -1
		    : send_chunk(c, id, 4096,
			  RDP_CHANNEL_FLAG_FIRST | RDP_CHANNEL_FLAG_LAST, junk,
			  8);
	case A_SVC_NO_FIRST:
		id = chan_id(c, "drdynvc");
		return id == 0
		    ? -1
		    : send_chunk(c, id, 8, RDP_CHANNEL_FLAG_LAST, junk, 8);
	case A_PERSISTENT:
	case A_LICENSE_DISGUISE:
	case A_FASTPATH_EARLY:
		return 0; /* sent during the connection sequence */
	case A_USER_CHANNEL:
		/* CB_FORMAT_LIST as in A_CLIPRDR, on the user id */
		memset(buf, 0, 14);
		rdppeer_p16(buf, 0x0002);
		rdppeer_p32(buf + 4, 6);
		rdppeer_p32(buf + 8, 13);
		say("event=user_channel id=%u", c->user);
		return send_svc(c, c->user, buf, 14);
	case A_JOIN_UNASSIGNED: {
		static const uint16_t ids[] = { 0, 1, 1001, 1002, 0xFFFF };
		struct vbuf *b = nb();
		int r = 0;

		for (i = 0; i < sizeof(ids) / sizeof(ids[0]) && r == 0; i++) {
			if (ids[i] == c->user || ids[i] == c->io)
				continue;
			r = put_join(b, c->user, ids[i]);
			say("event=join_unassigned id=%u", ids[i]);
		}
		r = r == 0 ? send_buf(c, b) : -1;
		vbuf_free(b);
		return r;
	}
	case A_MCS_DIRECTION: {
		/* Attach User Confirm (result 0, our id), Channel Join
		 * Confirm for the I/O channel */
		unsigned char auc[4] = { 0x2E, 0x00 }, cjc[8] = { 0x3E, 0x00 };

		auc[2] = cjc[2] = (unsigned char)((c->user - 1001) >> 8);
		auc[3] = cjc[3] = (unsigned char)((c->user - 1001) & 0xFF);
		cjc[4] = cjc[6] = (unsigned char)(c->io >> 8);
		cjc[5] = cjc[7] = (unsigned char)(c->io & 0xFF);
		return send_x224(c, auc, sizeof(auc)) != 0 ||
			send_x224(c, cjc, sizeof(cjc)) != 0
		    ? -1
		    : 0;
	}
	case A_SHARE_TYPE2:
		/* an empty Update (updateType ORDERS) and an ARC Status */
		memset(buf, 0, 16);
		if (send_data_pdu(c, 0x02, buf, 4) != 0)
			return -1;
		return send_data_pdu(c, 0x32, buf, 16);
	case A_JOIN_FLOOD: {
		struct vbuf *b = nb();
		int r = 0, k;

		id = chan_id(c, "cliprdr");
		if (id == 0) {
			vbuf_free(b);
			return -1;
		}
		/* the same join twice, then writes of up to 5000, never
		 * reading; a peer that closes on the flood ends it, so the
		 * attack counts as delivered once the first two went out */
		long sent = 0, want = opt_count < 2 ? 2 : opt_count;
		int first = -1;

		for (k = 0; sent < want && r == 0; k++) {
			long n = k == 0
			    ? 2
			    : (want - sent > 5000 ? 5000 : want - sent);

			for (i = 0; i < (unsigned int)n && r == 0; i++)
				r = put_join(b, c->user, id);
			r = r == 0 ? send_buf(c, b) : -1;
			if (r == 0)
				sent += n;
			if (k == 0)
				first = r;
			vbuf_reset(b);
		}
		vbuf_free(b);
		say("event=join_flood id=%u sent=%ld", id, sent);
		return first;
	}
	}
	return -1;
}

static int
session(struct conn *c, const char *user, const char *pass)
{
	struct vbuf *b = nb();
	struct vbuf pdu;
	struct rdp_x224_cc cc;
	struct rdp_mcs_pdu p;
	unsigned char names[4][8];
	size_t consume = 0;
	SSL_CTX *ctx;
	unsigned int n, i;
	int r;

	c->stage = "x224";
	if (rdp_x224_write_cr(b, user, RDP_PROTOCOL_SSL) != 0 ||
	    send_buf(c, b) != 0)
		goto fail;
	if (recv_pdu(c, &pdu, 10000, &consume) != 0 ||
	    rdp_x224_parse_cc(&pdu, &cc) != 0)
		goto fail;
	say("event=x224_confirm failure=%d selected=%u", cc.failure,
	    cc.selected_protocol);
	if (vbuf_consume(c->in, consume) != 0 || cc.failure ||
	    cc.selected_protocol != RDP_PROTOCOL_SSL) {
		c->closed = 1;
		goto fail;
	}
	c->selected = cc.selected_protocol;
	c->stage = "tls";
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		goto fail;
	c->ssl = SSL_new(ctx);
	SSL_CTX_free(ctx); /* the SSL keeps its reference */
	if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1 ||
	    SSL_connect(c->ssl) != 1) {
		say("event=tls_failed");
		c->closed = 1;
		goto fail;
	}
	say("event=tls version=%s", SSL_get_version(c->ssl));

	c->stage = "mcs_connect";
	n = attack_channels(names);
	if (do_connect_initial(c) != 0 || do_connect_response(c, names, n) != 0)
		goto fail;
	c->stage = "mcs_attach";
	if (send_x224(c, "\x04\x01\x00\x01\x00", 5) != 0 ||
	    send_x224(c, "\x28", 1) != 0 || recv_domain(c, &p) != 0 ||
	    p.type != RDP_MCS_ATTACH_USER_CONFIRM || !p.has_initiator)
		goto fail;
	c->user = p.initiator;
	say("event=attach_user user=%u", c->user);
	c->stage = "mcs_join";
	if (join(c, c->user) != 0 || join(c, c->io) != 0)
		goto fail;
	if (A == A_UNJOINED) {
		c->stage = "attack";
		r = run_attack(c);
		vbuf_free(b);
		return r;
	}
	for (i = 0; i < c->nch; i++)
		if (c->ids[i] != 0 && join(c, c->ids[i]) != 0)
			goto fail;
	if (A == A_JOIN_UNASSIGNED || A == A_JOIN_FLOOD) {
		/* more joins, still in the domain phase */
		c->stage = "attack";
		r = run_attack(c);
		vbuf_free(b);
		return r;
	}
	c->stage = "client_info";
	if (A == A_LICENSE_DISGUISE || A == A_FASTPATH_EARLY) {
		if (client_info_and(c, user, pass) != 0)
			goto fail;
	} else if (do_client_info(c, user, pass) != 0)
		goto fail;
	c->stage = "licensing";
	if (!pump(c, have_demand, 10000))
		goto fail;
	c->stage = "capabilities";
	/* the disguised Confirm Active already reached the desktop */
	if (A != A_LICENSE_DISGUISE && do_confirm_active(c) != 0)
		goto fail;
	c->stage = "finalization";
	if (do_finalize(c) != 0 || !pump(c, have_font_map, 10000))
		goto fail;
	c->stage = "active";
	say("event=active");
	c->stage = "attack";
	r = run_attack(c);
	vbuf_free(b);
	return r;
fail:
	vbuf_free(b);
	return -1;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: " PROG " -a ATTACK (-c HOST:PORT | -f FD) "
	    "[-u USER] [-p PASS] [-w SECONDS] [-x closed|open] [-n COUNT]\n"
	    "       " PROG " -l\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *target = NULL, *user = "hostile", *pass = "",
		   *expect = NULL;
	struct conn c;
	int ch, fd = -1, peer_closed;
	size_t i;

	while ((ch = getopt(argc, argv, "a:c:f:ln:p:u:w:x:")) != -1) {
		switch (ch) {
		case 'a':
			attack_name = optarg;
			break;
		case 'c':
			target = optarg;
			break;
		case 'f':
			fd = atoi(optarg);
			break;
		case 'l':
			for (i = 0; i < NATTACKS; i++)
				printf("%-24s %s\n", attacks[i].name,
				    attacks[i].what);
			return 0;
		case 'n':
			opt_count = atol(optarg);
			if (opt_count < 1 || opt_count > 10000000)
				usage();
			break;
		case 'p':
			pass = optarg;
			break;
		case 'u':
			user = optarg;
			break;
		case 'w':
			opt_wait = atoi(optarg);
			break;
		case 'x':
			expect = optarg;
			if (strcmp(expect, "closed") != 0 &&
			    strcmp(expect, "open") != 0)
				usage();
			break;
		default:
			usage();
		}
	}
	if (attack_name == NULL || (target == NULL) == (fd < 0) ||
	    optind != argc)
		usage();
	for (i = 0; i < NATTACKS; i++)
		if (strcmp(attacks[i].name, attack_name) == 0)
			break;
	if (i == NATTACKS) {
		fprintf(stderr, PROG ": unknown attack %s (-l lists them)\n",
		    attack_name);
		return 2;
	}
	A = attacks[i].a;
	signal(SIGPIPE, SIG_IGN);

	memset(&c, 0, sizeof(c));
	c.stage = "connect";
	if ((c.in = vbuf_new(BUF_MAX)) == NULL)
		return 1;
	c.fd = target != NULL ? tcp_connect(target) : fd;
	if (c.fd < 0) {
		fprintf(stderr, PROG ": cannot connect to %s\n", target);
		return 1;
	}
	say("event=start attack=%s", attack_name);
	if (session(&c, user, pass) == 0) {
		delivered = 1;
		say("event=attack_sent attack=%s", attack_name);
	}
	if (delivered && !c.closed) {
		c.stage = "watch";
		(void)pump(&c, NULL, opt_wait * 1000);
	}
	peer_closed = c.closed;
	say("attack=%s delivered=%s peer=%s stage=%s", attack_name,
	    delivered ? "yes" : "no", peer_closed ? "closed" : "open", c.stage);
	if (c.ssl != NULL) {
		if (!peer_closed)
			(void)SSL_shutdown(c.ssl);
		SSL_free(c.ssl);
	}
	close(c.fd);
	vbuf_free(c.in);
	if (expect != NULL)
		return (strcmp(expect, "closed") == 0) == (peer_closed != 0)
		    ? 0
		    : 3;
	return delivered ? 0 : 1;
}
