/*
 * probe-desktop: an RDP "desktop" for tests that records everything a
 * client (or the gateway in front of it) sent it. Test-only: never
 * installed, never facing a real network.
 *
 *   probe-desktop -c CERT -k KEY [-l PORT] [-P PORTFILE] [-o RECORD]
 *                 [-u USER -p PASSWORD] [-T SECONDS] [-1]
 *
 * Listens on 127.0.0.1:PORT (default 0: the kernel picks one, written to
 * PORTFILE). Each connection is served by a child process in two halves:
 *
 *   - the recorder (this file's front) reads the client's X.224 Connection
 *     Request in clear, terminates TLS with CERT/KEY and parses every PDU
 *     in both directions with the gateway's parsers (rdp/) or, where
 *     a hostile peer may send what they refuse, with lenient code of its
 *     own; it forwards each PDU unchanged to
 *   - the desktop, a libfreerdp-server2 peer (freerdp_peer) reached over a
 *     socketpair and a second TLS session: TLS only (no NLA, no standard
 *     RDP security), it paints a known picture, and runs the server side of
 *     the channels a Windows desktop offers: cliprdr (capabilities, Monitor
 *     Ready), rdpdr (Server Announce, capabilities, Client ID Confirm, which
 *     makes a client announce its drives), rdpsnd (Server Audio Formats) and
 *     drdynvc (capabilities version 3, then Create Requests for a list of
 *     dynamic channels, display and non-display ones alike).
 *
 * Nothing is filtered: whatever the client asks for, the probe grants, so a
 * record shows what reached the desktop. With -u and -p the Client Info
 * PDU must carry that user name and password (else the connection is
 * closed, auth "refused"); without them any credentials are accepted.
 *
 * When a connection ends (either side closes, -T SECONDS after the TLS
 * handshake, SIGTERM/SIGINT) one JSON line describing it is appended to
 * RECORD (one write, O_APPEND) and printed on stdout. tests/peers/README.md
 * documents the fields. Passwords are never recorded, only whether one was
 * present; the recorder wipes the password bytes it held.
 *
 * The picture (DesktopWidth x DesktopHeight as the client asked): eight
 * vertical bands of equal width, left to right white, yellow, cyan, green,
 * magenta, red, blue, black; the top-left 64x64 pixels are a checkerboard
 * of 8x8 squares, black at (0,0). Sent as uncompressed 32 bpp Bitmap
 * Updates of 64x32 tiles on every activation.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <freerdp/freerdp.h>
#include <freerdp/peer.h>
#include <freerdp/update.h>
#include <freerdp/channels/wtsvc.h>

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

#define PROG           "probe-desktop"
#define IN_MAX         (4u << 20)
#define OUT_MAX        (64u << 20)
#define OUT_HIGH       (8u << 20) /* stop reading the other side above */
#define MSG_MAX        (1u << 20) /* reassembled channel message */
#define REC_MAX        (64u << 10)
#define MAX_OTHER      16
#define MAX_TYPES      16
#define MAX_DEVICES    8
#define MAX_DVC        32
#define MAX_UNREQ      16
#define HANDSHAKE_SECS 15

/* Dynamic channels the desktop asks the client to open, as a Windows
 * desktop would (display ones and redirections alike). */
static const char *const dvc_names[] = {
	"Microsoft::Windows::RDS::Graphics",
	"Microsoft::Windows::RDS::DisplayControl",
	"Microsoft::Windows::RDS::Input",
	"AUDIO_INPUT",
	"AUDIO_PLAYBACK_DVC",
	"TSMF",
	"URBDRC",
	"RDCamera_Device_Enumerator",
	"ECHO",
	"Microsoft::Windows::RDS::Geometry::v08.01",
	"Microsoft::Windows::RDS::Video::Control::v08.01",
	"Microsoft::Windows::RDS::Video::Data::v08.01",
};
#define NDVC     (sizeof(dvc_names) / sizeof(dvc_names[0]))
#define GFX_NAME "Microsoft::Windows::RDS::Graphics"

static const char *opt_cert, *opt_key, *opt_record, *opt_user, *opt_pass;
static int opt_timeout, opt_once;
static volatile sig_atomic_t got_term;

static void
on_term(int sig)
{
	(void)sig;
	got_term = 1;
}

static void __attribute__((noreturn, format(printf, 1, 2)))
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, PROG ": ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	ERR_print_errors_fp(stderr);
	exit(1);
}

/* ------------------------------------------------------------------ */
/* The desktop half: a libfreerdp-server2 peer.                        */
/* ------------------------------------------------------------------ */

struct desk_chan {
	UINT16 id;
	unsigned char *buf;
	size_t len, cap;
};

struct desk {
	rdpContext base; /* must come first (FreeRDP's context) */
	int activations;
	int channels_started;
	struct desk_chan dyn, dr;
};

static BOOL
desk_send(freerdp_peer *peer, UINT16 id, const unsigned char *p, size_t n)
{
	if (id == 0)
		return TRUE;
	return peer->SendChannelData(peer, id, p, n);
}

static uint32_t
get16(const unsigned char *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8);
}

static uint32_t
get32(const unsigned char *p)
{
	return get16(p) | (get16(p + 2) << 16);
}

/* Paints the picture (see the top of the file) in 64x32 tiles. */
static void
desk_paint(freerdp_peer *peer)
{
	static const unsigned char bands[8][3] = {
		{ 255, 255, 255 },
		{ 255, 255, 0 },
		{ 0, 255, 255 },
		{ 0, 255, 0 },
		{ 255, 0, 255 },
		{ 255, 0, 0 },
		{ 0, 0, 255 },
		{ 0, 0, 0 },
	};
	enum { TW = 64, TH = 32 };
	unsigned char tile[TW * TH * 4];
	UINT32 w = peer->settings->DesktopWidth;
	UINT32 h = peer->settings->DesktopHeight;
	UINT32 tx, ty, x, y;

	if (w == 0 || h == 0)
		return;
	for (ty = 0; ty < h; ty += TH) {
		for (tx = 0; tx < w; tx += TW) {
			BITMAP_DATA bd;
			BITMAP_UPDATE bu;
			UINT32 cw = w - tx < TW ? w - tx : TW;
			UINT32 ch = h - ty < TH ? h - ty : TH;

			/* Uncompressed bitmaps are bottom-up BGRA rows. */
			for (y = 0; y < ch; y++) {
				for (x = 0; x < cw; x++) {
					UINT32 px = tx + x, py = ty + y;
					const unsigned char *c =
					    bands[px * 8 / w];
					unsigned char *o =
					    tile + ((ch - 1 - y) * cw + x) * 4;
					unsigned char rgb[3];

					memcpy(rgb, c, 3);
					if (px < 64 && py < 64) {
						int white =
						    ((px / 8) + (py / 8)) % 2;

						memset(rgb, white ? 255 : 0, 3);
					}
					o[0] = rgb[2];
					o[1] = rgb[1];
					o[2] = rgb[0];
					o[3] = 0xFF;
				}
			}
			memset(&bd, 0, sizeof(bd));
			bd.destLeft = tx;
			bd.destTop = ty;
			bd.destRight = tx + cw - 1;
			bd.destBottom = ty + ch - 1;
			bd.width = cw;
			bd.height = ch;
			bd.bitsPerPixel = 32;
			bd.bitmapLength = cw * ch * 4;
			bd.bitmapDataStream = tile;
			bd.compressed = FALSE;
			memset(&bu, 0, sizeof(bu));
			bu.count = bu.number = 1;
			bu.rectangles = &bd;
			if (!peer->update->BitmapUpdate(peer->context, &bu))
				return;
		}
	}
}

/* The first PDUs of each static channel's server side. */
static void
desk_start_channels(freerdp_peer *peer)
{
	struct desk *d = (struct desk *)peer->context;
	UINT16 id;

	if (d->channels_started)
		return;
	d->channels_started = 1;
	if ((id = WTSChannelGetId(peer, "cliprdr")) != 0 &&
	    WTSIsChannelJoinedById(peer, id)) {
		/* CB_CLIP_CAPS (general, version 2, long format names),
		 * then CB_MONITOR_READY. */
		unsigned char caps[24] = { 0 }, ready[8] = { 0 };

		rdppeer_p16(caps, 0x0007);
		rdppeer_p32(caps + 4, 16);
		rdppeer_p16(caps + 8, 1);
		rdppeer_p16(caps + 12, 1);
		rdppeer_p16(caps + 14, 12);
		rdppeer_p32(caps + 16, 2);
		rdppeer_p32(caps + 20, 0x2);
		rdppeer_p16(ready, 0x0001);
		desk_send(peer, id, caps, sizeof(caps));
		desk_send(peer, id, ready, sizeof(ready));
	}
	if ((id = WTSChannelGetId(peer, "rdpdr")) != 0 &&
	    WTSIsChannelJoinedById(peer, id)) {
		/* Server Announce Request, version 1.12, client id 1. */
		unsigned char ann[12] = { 0 };

		d->dr.id = id;
		rdppeer_p16(ann, 0x4472);
		rdppeer_p16(ann + 2, 0x496E);
		rdppeer_p16(ann + 4, 1);
		rdppeer_p16(ann + 6, 0x000C);
		rdppeer_p32(ann + 8, 1);
		desk_send(peer, id, ann, sizeof(ann));
	}
	if ((id = WTSChannelGetId(peer, "rdpsnd")) != 0 &&
	    WTSIsChannelJoinedById(peer, id)) {
		/* Server Audio Formats and Version: one PCM format. */
		unsigned char f[24 + 18] = { 0 };

		f[0] = 0x07;
		rdppeer_p16(f + 2, sizeof(f) - 4);
		rdppeer_p16(f + 18, 1); /* wNumberOfFormats */
		rdppeer_p16(f + 21, 6); /* wVersion */
		rdppeer_p16(f + 24, 1); /* WAVE_FORMAT_PCM */
		rdppeer_p16(f + 26, 2);
		rdppeer_p32(f + 28, 44100);
		rdppeer_p32(f + 32, 44100 * 4);
		rdppeer_p16(f + 36, 4);
		rdppeer_p16(f + 38, 16);
		desk_send(peer, id, f, sizeof(f));
	}
	if ((id = WTSChannelGetId(peer, "drdynvc")) != 0 &&
	    WTSIsChannelJoinedById(peer, id)) {
		/* DYNVC_CAPS_VERSION3, as Windows offers it. */
		unsigned char caps[12] = { 0x50, 0x00 };

		d->dyn.id = id;
		rdppeer_p16(caps + 2, 3);
		desk_send(peer, id, caps, sizeof(caps));
	}
}

static void
desk_dvc_message(freerdp_peer *peer, const unsigned char *p, size_t n)
{
	struct desk *d = (struct desk *)peer->context;
	unsigned char req[8 + 64];
	size_t i, len;

	if (n < 1 || (p[0] >> 4) != 0x5)
		return;
	/* Capabilities response: ask for every channel, ids 1.. (1 byte). */
	for (i = 0; i < NDVC; i++) {
		len = strlen(dvc_names[i]) + 1;
		req[0] = 0x10;
		req[1] = (unsigned char)(i + 1);
		memcpy(req + 2, dvc_names[i], len);
		desk_send(peer, d->dyn.id, req, 2 + len);
	}
}

static void
desk_rdpdr_message(freerdp_peer *peer, const unsigned char *p, size_t n)
{
	struct desk *d = (struct desk *)peer->context;
	/* Server Core Capability Request: general (44) + drive (8). */
	unsigned char caps[8 + 44 + 8] = { 0 }, confirm[12] = { 0 };

	if (n < 4 || get16(p) != 0x4472)
		return;
	if (get16(p + 2) == 0x4350) {
		/* Client Core Capability Response: the user is "logged on",
		 * which makes clients announce their drives and printers. */
		unsigned char logon[4] = { 0 };

		rdppeer_p16(logon, 0x4472);
		rdppeer_p16(logon + 2, 0x554C);
		desk_send(peer, d->dr.id, logon, sizeof(logon));
		return;
	}
	if (get16(p + 2) != 0x4343)
		return;
	rdppeer_p16(caps, 0x4472);
	rdppeer_p16(caps + 2, 0x5350);
	rdppeer_p16(caps + 4, 2);
	rdppeer_p16(caps + 8, 1); /* CAP_GENERAL_TYPE */
	rdppeer_p16(caps + 10, 44);
	rdppeer_p32(caps + 12, 2);
	rdppeer_p16(caps + 24, 1); /* protocolMajorVersion */
	rdppeer_p16(caps + 26, 0x000C);
	rdppeer_p32(caps + 28, 0xFFFF); /* ioCode1 */
	rdppeer_p32(caps + 36, 0x7);    /* extendedPDU */
	rdppeer_p16(caps + 52, 4);      /* CAP_DRIVE_TYPE */
	rdppeer_p16(caps + 54, 8);
	rdppeer_p32(caps + 56, 2);
	desk_send(peer, d->dr.id, caps, sizeof(caps));
	rdppeer_p16(confirm, 0x4472);
	rdppeer_p16(confirm + 2, 0x4343);
	rdppeer_p16(confirm + 4, 1);
	rdppeer_p16(confirm + 6, 0x000C);
	rdppeer_p32(confirm + 8, 1);
	desk_send(peer, d->dr.id, confirm, sizeof(confirm));
}

/* Reassembles one channel's chunks leniently; returns 1 with a message. */
static int
desk_chunk(struct desk_chan *c, const BYTE *data, size_t size, UINT32 flags)
{
	if (flags & RDP_CHANNEL_FLAG_FIRST)
		c->len = 0;
	if (c->len + size > MSG_MAX)
		return 0;
	if (c->len + size > c->cap) {
		unsigned char *nb = realloc(c->buf, c->len + size);

		if (nb == NULL)
			return 0;
		c->buf = nb;
		c->cap = c->len + size;
	}
	memcpy(c->buf + c->len, data, size);
	c->len += size;
	return (flags & RDP_CHANNEL_FLAG_LAST) != 0;
}

static BOOL
desk_receive(freerdp_peer *peer, UINT16 id, const BYTE *data, size_t size,
    UINT32 flags, size_t total)
{
	struct desk *d = (struct desk *)peer->context;

	(void)total;
	if (id != 0 && id == d->dyn.id) {
		if (desk_chunk(&d->dyn, data, size, flags))
			desk_dvc_message(peer, d->dyn.buf, d->dyn.len);
	} else if (id != 0 && id == d->dr.id) {
		if (desk_chunk(&d->dr, data, size, flags))
			desk_rdpdr_message(peer, d->dr.buf, d->dr.len);
	}
	return TRUE; /* whatever came: the recorder has seen it */
}

static BOOL
desk_post_connect(freerdp_peer *peer)
{
	return TRUE;
}

static BOOL
desk_activate(freerdp_peer *peer)
{
	struct desk *d = (struct desk *)peer->context;

	d->activations++;
	desk_paint(peer);
	desk_start_channels(peer);
	return TRUE;
}

static void
desk_context_free(freerdp_peer *peer, rdpContext *ctx)
{
	struct desk *d = (struct desk *)ctx;

	free(d->dyn.buf);
	free(d->dr.buf);
	d->dyn.buf = d->dr.buf = NULL;
}

static void __attribute__((noreturn)) desk_run(int fd)
{
	freerdp_peer *peer;
	rdpSettings *s;

	if ((peer = freerdp_peer_new(fd)) == NULL)
		_exit(1);
	peer->ContextSize = sizeof(struct desk);
	peer->ContextFree = desk_context_free;
	if (!freerdp_peer_context_new(peer))
		_exit(1);
	s = peer->settings;
	s->CertificateFile = strdup(opt_cert);
	s->PrivateKeyFile = strdup(opt_key);
	if (s->CertificateFile == NULL || s->PrivateKeyFile == NULL)
		_exit(1);
	s->RdpSecurity = FALSE;
	s->TlsSecurity = TRUE;
	s->NlaSecurity = FALSE;
	s->ColorDepth = 32;
	s->RefreshRect = TRUE;
	s->SuppressOutput = TRUE;
	s->MultifragMaxRequestSize = 0xFFFFFF;
	peer->PostConnect = desk_post_connect;
	peer->Activate = desk_activate;
	peer->ReceiveChannelData = desk_receive;
	if (!peer->Initialize(peer))
		_exit(1);
	while (!got_term) {
		HANDLE h[32];
		DWORD n = peer->GetEventHandles(peer, h, 32);

		if (n == 0)
			break;
		if (WaitForMultipleObjects(n, h, FALSE, 1000) == WAIT_FAILED)
			break;
		if (!peer->CheckFileDescriptor(peer))
			break;
	}
	peer->Disconnect(peer);
	freerdp_peer_context_free(peer);
	freerdp_peer_free(peer);
	_exit(0);
}

/* ------------------------------------------------------------------ */
/* The recorder half.                                                 */
/* ------------------------------------------------------------------ */

/* Per-channel chunk accounting (lenient CHANNEL_PDU_HEADER walk). */
struct svc_acct {
	uint32_t chunks, bytes, msgs;
	int in_msg;
	uint32_t total, received;
	struct vbuf *msg; /* reassembled message (inspected channels) */
	int over;         /* message exceeded MSG_MAX: not inspected */
};

struct chan {
	char name[9];
	int nul; /* a NUL inside the 8 bytes */
	uint32_t options;
	uint16_t id; /* from SC_NET, 0 until then */
	int join_requested, joined;
	struct svc_acct a;
	unsigned int ntypes;
	uint32_t types[MAX_TYPES]; /* first distinct message types */
	unsigned int ndev;
	struct {
		uint32_t type;
		char name[9];
	} dev[MAX_DEVICES];
};

struct other {
	uint16_t id;
	int join_requested;
	struct svc_acct a;
};

struct dvc {
	uint32_t id;
	char name[64];
	int responded;
	int32_t status;
	uint32_t data_pdus;
};

struct rec {
	unsigned long conn;
	char peer[64];
	uint32_t requested, selected;
	int has_cr, has_cc, tls;
	uint32_t blocks[16];
	unsigned int nblocks;
	int has_net;
	unsigned int nch;
	struct chan ch[RDP_CHANNEL_MAX];
	int has_cluster;
	uint32_t cluster_flags;
	uint16_t io_channel, user_channel, msg_channel;
	unsigned int nother;
	struct other other[MAX_OTHER];
	/* Client Info */
	int info;
	uint32_t info_flags;
	char user[128], domain[128];
	int password, shell, workdir;
	const char *auth;
	/* capabilities */
	unsigned int confirm_active;
	unsigned int ncaps;
	uint16_t caps[RDP_CAPS_MAX];
	int rev2;
	uint16_t rev2_flags;
	unsigned int rev2_cells, rev2_persistent_cells;
	int rail, window, vc;
	uint32_t vc_flags;
	unsigned int pkl_pdus, pkl_entries;
	int font_list;
	/* dynamic channels */
	int dvc_caps_version;
	unsigned int ndvc;
	struct dvc dvc[MAX_DVC];
	unsigned int nunreq;
	struct {
		uint32_t id;
		int32_t status;
	} unreq[MAX_UNREQ];
	unsigned int dvc_compressed, dvc_data_unopened, dvc_bad;
	unsigned int gfx_caps_advertise, gfx_cache_import_offer;
	unsigned int gfx_cache_entries;
	/* static channel anomalies */
	unsigned int svc_no_first, svc_first_in_msg, svc_length_mismatch;
	unsigned int svc_overrun, svc_short;
	unsigned int fastpath_input, parse_errors;
	unsigned int fastpath_early; /* before any Confirm Active */
	unsigned int mcs_wrong_dir;  /* confirms/indications from the client */
	unsigned int ntype2;         /* client Data PDU types only a server
				      * sends, or none defines */
	uint8_t type2[16];
	unsigned long long bytes_c2s, bytes_s2c;
	int demand_active;
	char end[64];
	char parse_error[96];
};

struct leg {
	const char *name;
	int fd;
	SSL *ssl;
	struct vbuf *in;  /* read, not yet parsed and forwarded */
	struct vbuf *out; /* to write to this leg */
	int eof;
	int parse; /* still parsing this direction */
};

static struct rec R;
static struct svc_acct s2c_dyn;

static void
rec_parse_error(const char *what, int r)
{
	R.parse_errors++;
	if (R.parse_error[0] == '\0')
		snprintf(R.parse_error, sizeof(R.parse_error), "%s:%s", what,
		    vdi_errname(r));
}

static void
add_type(struct chan *c, uint32_t t)
{
	unsigned int i;

	for (i = 0; i < c->ntypes; i++)
		if (c->types[i] == t)
			return;
	if (c->ntypes < MAX_TYPES)
		c->types[c->ntypes++] = t;
}

static struct chan *
chan_by_id(uint16_t id)
{
	unsigned int i;

	for (i = 0; i < R.nch; i++)
		if (R.ch[i].id != 0 && R.ch[i].id == id)
			return &R.ch[i];
	return NULL;
}

static struct other *
other_by_id(uint16_t id)
{
	unsigned int i;

	for (i = 0; i < R.nother; i++)
		if (R.other[i].id == id)
			return &R.other[i];
	if (R.nother == MAX_OTHER)
		return NULL;
	R.other[R.nother].id = id;
	return &R.other[R.nother++];
}

static struct dvc *
dvc_by_id(uint32_t id)
{
	unsigned int i;

	for (i = 0; i < R.ndvc; i++)
		if (R.dvc[i].id == id)
			return &R.dvc[i];
	return NULL;
}

/* UTF-16LE to a sanitised ASCII string for the record. */
static void
utf16_to_rec(const struct vbuf *s, char *out, size_t outlen)
{
	const unsigned char *p = vbuf_ptr(s);
	size_t n = vbuf_len(s) / 2, i, o = 0;

	for (i = 0; i < n && o + 1 < outlen; i++) {
		uint32_t c = get16(p + 2 * i);

		out[o++] = ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			       (c >= '0' && c <= '9') || c == '_' || c == '.' ||
			       c == '-' || c == '@')
		    ? (char)c
		    : '?';
	}
	out[o] = '\0';
}

static int
utf16_equals(const struct vbuf *s, const char *utf8)
{
	struct vbuf *b = vbuf_new(4096);
	int eq = 0;

	if (b == NULL)
		return 0;
	if (rdp_utf8_to_utf16le(utf8, 4000, b) == 0 &&
	    vbuf_len(b) == vbuf_len(s))
		eq = CRYPTO_memcmp(vbuf_ptr(b), vbuf_ptr(s), vbuf_len(s)) == 0;
	vbuf_free(b);
	return eq;
}

/* --- client to desktop ------------------------------------------- */

static void
c2s_connect_initial(const struct vbuf *mcs)
{
	struct rdp_mcs_connect_initial ci;
	struct vbuf blocks;
	int r;

	if ((r = rdp_mcs_parse_connect_initial(mcs, &ci)) != 0 ||
	    (r = rdp_gcc_parse_create_request(&ci.user_data, &blocks)) != 0) {
		rec_parse_error("connect_initial", r);
		return;
	}
	while (vbuf_len(&blocks) >= 4) {
		uint16_t type, len;
		struct vbuf body;

		if (vbuf_get_u16le(&blocks, &type) != 0 ||
		    vbuf_get_u16le(&blocks, &len) != 0 || len < 4 ||
		    vbuf_get_view(&blocks, len - 4u, &body) != 0) {
			rec_parse_error("gcc_block", VDI_ERR_BAD_LENGTH);
			return;
		}
		if (R.nblocks < 16)
			R.blocks[R.nblocks++] = type;
		if (type == RDP_CS_NET && !R.has_net) {
			uint32_t count, i;

			R.has_net = 1;
			if (vbuf_get_u32le(&body, &count) != 0)
				continue;
			for (i = 0; i < count && R.nch < RDP_CHANNEL_MAX; i++) {
				unsigned char raw[8];
				struct chan *c = &R.ch[R.nch];

				if (vbuf_get_bytes(&body, raw, 8) != 0 ||
				    vbuf_get_u32le(&body, &c->options) != 0)
					break;
				rdp_name_sanitize(
				    c->name, sizeof(c->name), raw, 8);
				c->nul = memchr(raw, 0, 8) != NULL;
				R.nch++;
			}
		} else if (type == RDP_CS_CLUSTER && !R.has_cluster) {
			R.has_cluster =
			    vbuf_get_u32le(&body, &R.cluster_flags) == 0;
		}
	}
}

static void
c2s_info(const struct vbuf *data, int *refuse)
{
	struct rdp_info info;
	int r;

	if ((r = rdp_info_parse(data, &info)) != 0) {
		uint16_t f;

		rec_parse_error("client_info", r);
		/* Record the flags even when the rest is malformed. */
		R.info = 1;
		if (vbuf_peek_u16le(data, 0, &f) == 0 &&
		    vbuf_peek_u32le(data, 8, &R.info_flags) != 0)
			R.info_flags = 0;
		return;
	}
	R.info = 1;
	R.info_flags = info.flags;
	utf16_to_rec(&info.user, R.user, sizeof(R.user));
	utf16_to_rec(&info.domain, R.domain, sizeof(R.domain));
	R.password = vbuf_len(&info.password) > 0;
	R.shell = vbuf_len(&info.shell) > 0;
	R.workdir = vbuf_len(&info.workdir) > 0;
	if (opt_user != NULL) {
		if (utf16_equals(&info.user, opt_user) &&
		    utf16_equals(&info.password, opt_pass))
			R.auth = "accepted";
		else {
			R.auth = "refused";
			*refuse = 1;
		}
	}
}

static void
c2s_caps(const struct vbuf *pdu)
{
	struct rdp_caps_pdu c;
	unsigned int i;
	int r;

	R.confirm_active++;
	if ((r = rdp_caps_parse(pdu, &c)) != 0) {
		rec_parse_error("confirm_active", r);
		return;
	}
	R.ncaps = c.ncaps;
	for (i = 0; i < c.ncaps; i++) {
		struct vbuf b = c.caps[i].body;

		R.caps[i] = c.caps[i].type;
		switch (c.caps[i].type) {
		case RDP_CAPSET_BITMAPCACHE_REV2: {
			uint8_t pad, n;
			unsigned int k;

			R.rev2 = 1;
			if (vbuf_get_u16le(&b, &R.rev2_flags) != 0 ||
			    vbuf_get_u8(&b, &pad) != 0 ||
			    vbuf_get_u8(&b, &n) != 0)
				break;
			R.rev2_cells = n;
			R.rev2_persistent_cells = 0;
			for (k = 0; k < n && k < 5; k++) {
				uint32_t cell;

				if (vbuf_get_u32le(&b, &cell) != 0)
					break;
				if (cell & RDP_BMPCACHE2_CELL_PERSISTENT)
					R.rev2_persistent_cells++;
			}
			break;
		}
		case RDP_CAPSET_RAIL:
			R.rail = 1;
			break;
		case RDP_CAPSET_WINDOW:
			R.window = 1;
			break;
		case RDP_CAPSET_VIRTUALCHANNEL:
			R.vc = 1;
			if (vbuf_get_u32le(&b, &R.vc_flags) != 0)
				R.vc_flags = 0;
			break;
		default:
			break;
		}
	}
}

static void
c2s_io(const struct vbuf *data, int *refuse)
{
	struct vbuf b = *data;
	uint16_t secflags = 0;

	if (!R.info) {
		if (vbuf_peek_u16le(data, 0, &secflags) == 0 &&
		    (secflags & RDP_SEC_INFO_PKT))
			c2s_info(data, refuse);
		else
			rec_parse_error("io_before_info", VDI_ERR_BAD_FORMAT);
		return;
	}
	while (vbuf_len(&b) > 0) {
		struct rdp_share_ctrl h;
		struct rdp_share_data sd;
		struct vbuf pdu;
		int r;

		/* As the FreeRDP server: after the Client Info PDU everything
		 * is a Share Control PDU; a client licensing PDU (security
		 * header with SEC_LICENSE_PKT) is only tolerated before the
		 * first Confirm Active. A length-only test would mistake a
		 * Share Control totalLength with bit 0x80 for that flag. */
		if ((r = rdp_share_next(&b, &h, &pdu)) != 0) {
			if (R.confirm_active == 0 &&
			    vbuf_peek_u16le(data, 0, &secflags) == 0 &&
			    (secflags & RDP_SEC_LICENSE_PKT))
				return;
			rec_parse_error("share_control", r);
			return;
		}
		if (h.flow)
			continue;
		if (h.type == RDP_PDUTYPE_CONFIRMACTIVE) {
			c2s_caps(&pdu);
			continue;
		}
		if (h.type != RDP_PDUTYPE_DATA)
			continue;
		if ((r = rdp_share_parse_data(&pdu, &sd)) != 0) {
			rec_parse_error("share_data", r);
			continue;
		}
		if (sd.pdu_type2 != RDP_PDUTYPE2_PERSISTENT_LIST &&
		    !rdp_share_type2_allowed(RDP_C2S, sd.pdu_type2) &&
		    R.ntype2 < sizeof(R.type2))
			R.type2[R.ntype2++] = sd.pdu_type2;
		if (sd.pdu_type2 == RDP_PDUTYPE2_PERSISTENT_LIST) {
			uint16_t n;
			unsigned int k;

			R.pkl_pdus++;
			for (k = 0; k < 5; k++)
				if (vbuf_peek_u16le(&sd.payload, 2 * k, &n) ==
				    0)
					R.pkl_entries += n;
		} else if (sd.pdu_type2 == 0x27)
			R.font_list = 1;
	}
}

static void
dvc_message(const unsigned char *p, size_t n)
{
	unsigned int cmd, cbid, sp;
	uint32_t id = 0;
	size_t off = 1;
	struct dvc *d;

	if (n < 1) {
		R.dvc_bad++;
		return;
	}
	cmd = p[0] >> 4;
	cbid = p[0] & 3;
	sp = (p[0] >> 2) & 3;
	if (cmd == RDP_DVC_CMD_CAPS) {
		if (n >= 4)
			R.dvc_caps_version = (int)get16(p + 2);
		return;
	}
	if (cmd == 0x6 || cmd == 0x7) {
		R.dvc_compressed++;
		return;
	}
	if (cmd == 0x8 || cmd == 0x9)
		return;
	if (cbid == 3 || n < off + (1u << cbid)) {
		R.dvc_bad++;
		return;
	}
	id = cbid == 0 ? p[1] : cbid == 1 ? get16(p + 1) : get32(p + 1);
	off += 1u << cbid;
	d = dvc_by_id(id);
	switch (cmd) {
	case 0x1: /* Create Response */
		if (n < off + 4) {
			R.dvc_bad++;
			return;
		}
		if (d != NULL && !d->responded) {
			d->responded = 1;
			d->status = (int32_t)get32(p + off);
		} else if (R.nunreq < MAX_UNREQ) {
			R.unreq[R.nunreq].id = id;
			R.unreq[R.nunreq++].status = (int32_t)get32(p + off);
		}
		return;
	case 0x2: /* Data First: skip Length */
		if (sp == 3) {
			R.dvc_bad++;
			return;
		}
		off += 1u << sp;
		/* FALLTHROUGH */
	case 0x3:
		if (d == NULL || !d->responded || d->status < 0) {
			R.dvc_data_unopened++;
			return;
		}
		d->data_pdus++;
		if (strcmp(d->name, GFX_NAME) == 0 && n >= off + 8) {
			uint32_t gcmd = get16(p + off);

			if (gcmd == 0x0012)
				R.gfx_caps_advertise++;
			else if (gcmd == 0x0010) {
				R.gfx_cache_import_offer++;
				if (n >= off + 10)
					R.gfx_cache_entries +=
					    get16(p + off + 8);
			}
		}
		return;
	default:
		return;
	}
}

static void
svc_message(struct chan *c, const unsigned char *p, size_t n)
{
	c->a.msgs++;
	if (strcmp(c->name, "drdynvc") == 0) {
		dvc_message(p, n);
		if (n >= 1)
			add_type(c, p[0] >> 4);
	} else if (strcmp(c->name, "cliprdr") == 0) {
		if (n >= 2)
			add_type(c, get16(p));
	} else if (strcmp(c->name, "rdpsnd") == 0) {
		if (n >= 1)
			add_type(c, p[0]);
	} else if (strcmp(c->name, "rdpdr") == 0) {
		uint32_t count, i;
		size_t off = 8;

		if (n < 4)
			return;
		add_type(c, get16(p + 2));
		if (get16(p + 2) != 0x4441 || n < 8)
			return;
		/* Client Device List Announce (MS-RDPEFS 2.2.2.9). */
		count = get32(p + 4);
		for (i = 0; i < count && off + 20 <= n; i++) {
			uint32_t len = get32(p + off + 16);

			if (c->ndev < MAX_DEVICES) {
				c->dev[c->ndev].type = get32(p + off);
				rdp_name_sanitize(c->dev[c->ndev].name,
				    sizeof(c->dev[0].name), p + off + 8, 8);
				c->ndev++;
			}
			if (len > n - off - 20)
				break;
			off += 20 + len;
		}
	}
}

/* Accounts one chunk; reassembles when msg is set up. Returns 1 with a
 * complete message in a->msg. */
static int
svc_chunk(struct svc_acct *a, const struct vbuf *data, int inspect)
{
	struct vbuf b = *data;
	uint32_t length, flags, n;

	a->chunks++;
	if (vbuf_get_u32le(&b, &length) != 0 ||
	    vbuf_get_u32le(&b, &flags) != 0) {
		R.svc_short++;
		return 0;
	}
	n = (uint32_t)vbuf_len(&b);
	a->bytes += n;
	if (flags & RDP_CHANNEL_FLAG_FIRST) {
		if (a->in_msg)
			R.svc_first_in_msg++;
		a->in_msg = 1;
		a->total = length;
		a->received = 0;
		a->over = 0;
		if (a->msg != NULL)
			vbuf_reset(a->msg);
	} else if (!a->in_msg) {
		R.svc_no_first++;
		return 0;
	}
	if (length != a->total || n > a->total - a->received)
		R.svc_overrun++;
	a->received += n;
	if (inspect && !a->over) {
		if (a->msg == NULL && (a->msg = vbuf_new(MSG_MAX)) == NULL)
			a->over = 1;
		else if (vbuf_put(a->msg, vbuf_ptr(&b), n) != 0)
			a->over = 1;
	}
	if (!(flags & RDP_CHANNEL_FLAG_LAST))
		return 0;
	a->in_msg = 0;
	if (a->received != a->total)
		R.svc_length_mismatch++;
	return inspect && !a->over;
}

static void
c2s_svc(uint16_t id, const struct vbuf *data)
{
	struct chan *c = chan_by_id(id);
	struct other *o;

	if (c != NULL) {
		if (svc_chunk(&c->a, data, 1))
			svc_message(c, vbuf_ptr(c->a.msg), vbuf_len(c->a.msg));
		return;
	}
	if ((o = other_by_id(id)) != NULL)
		(void)svc_chunk(&o->a, data, 0);
}

static void
c2s_frame(const struct vbuf *pdu, int *refuse)
{
	struct vbuf mcs;
	struct rdp_mcs_pdu p;
	int r, t;
	uint8_t b0;

	if (vbuf_peek_u8(pdu, 0, &b0) == 0 && b0 != 0x03) {
		R.fastpath_input++;
		if (R.confirm_active == 0)
			R.fastpath_early++;
		return;
	}
	if ((t = rdp_x224_tpdu_type(pdu)) < 0) {
		rec_parse_error("x224", t);
		return;
	}
	if (t != RDP_X224_TPDU_DATA)
		return;
	if ((r = rdp_x224_parse_data(pdu, &mcs)) != 0) {
		rec_parse_error("x224_data", r);
		return;
	}
	if (vbuf_peek_u8(&mcs, 0, &b0) == 0 && b0 == 0x7F) {
		c2s_connect_initial(&mcs);
		return;
	}
	if ((r = rdp_mcs_parse_domain(&mcs, &p)) != 0) {
		rec_parse_error("mcs_domain", r);
		return;
	}
	switch (p.type) {
	case RDP_MCS_CHANNEL_JOIN_REQUEST: {
		struct chan *c = chan_by_id(p.channel_id);
		struct other *o;

		if (c != NULL)
			c->join_requested = 1;
		else if (p.channel_id != R.io_channel &&
		    p.channel_id != R.user_channel &&
		    (R.msg_channel == 0 || p.channel_id != R.msg_channel) &&
		    (o = other_by_id(p.channel_id)) != NULL)
			o->join_requested = 1;
		break;
	}
	case RDP_MCS_SEND_DATA_REQUEST:
		if (p.channel_id == R.io_channel)
			c2s_io(&p.data, refuse);
		else
			c2s_svc(p.channel_id, &p.data);
		break;
	case RDP_MCS_ATTACH_USER_CONFIRM:
	case RDP_MCS_CHANNEL_JOIN_CONFIRM:
	case RDP_MCS_SEND_DATA_INDICATION:
		R.mcs_wrong_dir++;
		break;
	default:
		break;
	}
}

/* --- desktop to client ------------------------------------------- */

static void
s2c_connect_response(const struct vbuf *mcs)
{
	struct rdp_mcs_connect_response cr;
	struct vbuf blocks;
	uint16_t node;
	uint32_t tag;
	int r;

	if ((r = rdp_mcs_parse_connect_response(mcs, &cr)) != 0 ||
	    (r = rdp_gcc_parse_create_response(
		 &cr.user_data, &node, &tag, &blocks)) != 0) {
		rec_parse_error("connect_response", r);
		return;
	}
	while (vbuf_len(&blocks) >= 4) {
		uint16_t type, len, io, count, i;
		struct vbuf body;

		if (vbuf_get_u16le(&blocks, &type) != 0 ||
		    vbuf_get_u16le(&blocks, &len) != 0 || len < 4 ||
		    vbuf_get_view(&blocks, len - 4u, &body) != 0)
			return;
		if (type == RDP_SC_MCS_MSGCHANNEL &&
		    vbuf_get_u16le(&body, &io) == 0)
			R.msg_channel = io;
		if (type != RDP_SC_NET || vbuf_get_u16le(&body, &io) != 0 ||
		    vbuf_get_u16le(&body, &count) != 0)
			continue;
		R.io_channel = io;
		for (i = 0; i < count && i < R.nch; i++)
			if (vbuf_get_u16le(&body, &R.ch[i].id) != 0)
				break;
	}
}

static void
s2c_dvc(const struct vbuf *data)
{
	const unsigned char *p;
	size_t n;

	if (!svc_chunk(&s2c_dyn, data, 1))
		return;
	p = vbuf_ptr(s2c_dyn.msg);
	n = vbuf_len(s2c_dyn.msg);
	/* Create Request with a 1-byte id (what the desktop half sends). */
	if (n >= 3 && (p[0] >> 4) == 0x1 && (p[0] & 3) == 0 &&
	    R.ndvc < MAX_DVC && dvc_by_id(p[1]) == NULL) {
		struct dvc *d = &R.dvc[R.ndvc++];

		d->id = p[1];
		rdp_name_sanitize(d->name, sizeof(d->name), p + 2, n - 2);
	}
}

static void
s2c_frame(const struct vbuf *pdu)
{
	struct vbuf mcs;
	struct rdp_mcs_pdu p;
	struct rdp_x224_cc cc;
	int t;
	uint8_t b0;

	if (vbuf_peek_u8(pdu, 0, &b0) != 0 || b0 != 0x03)
		return; /* fast-path output */
	if ((t = rdp_x224_tpdu_type(pdu)) < 0)
		return;
	if (t == RDP_X224_TPDU_CC) {
		if (rdp_x224_parse_cc(pdu, &cc) == 0) {
			R.has_cc = 1;
			R.selected = cc.selected_protocol;
		}
		return;
	}
	if (t != RDP_X224_TPDU_DATA || rdp_x224_parse_data(pdu, &mcs) != 0)
		return;
	if (vbuf_peek_u8(&mcs, 0, &b0) == 0 && b0 == 0x7F) {
		s2c_connect_response(&mcs);
		return;
	}
	if (rdp_mcs_parse_domain(&mcs, &p) != 0)
		return;
	if (p.type == RDP_MCS_ATTACH_USER_CONFIRM && p.has_initiator)
		R.user_channel = p.initiator;
	else if (p.type == RDP_MCS_CHANNEL_JOIN_CONFIRM && p.result == 0) {
		struct chan *c = chan_by_id(p.channel_id);

		if (c != NULL)
			c->joined = 1;
	} else if (p.type == RDP_MCS_SEND_DATA_INDICATION) {
		struct chan *c = chan_by_id(p.channel_id);
		uint16_t st;

		if (c != NULL && strcmp(c->name, "drdynvc") == 0)
			s2c_dvc(&p.data);
		else if (p.channel_id == R.io_channel &&
		    vbuf_peek_u16le(&p.data, 2, &st) == 0 &&
		    (st & 0xF) == RDP_PDUTYPE_DEMANDACTIVE)
			R.demand_active++;
	}
}

/* --- the record ---------------------------------------------------- */

struct jbuf {
	char s[REC_MAX];
	size_t n;
};

static void __attribute__((format(printf, 2, 3)))
jp(struct jbuf *j, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (j->n >= sizeof(j->s))
		return;
	va_start(ap, fmt);
	r = vsnprintf(j->s + j->n, sizeof(j->s) - j->n, fmt, ap);
	va_end(ap);
	if (r < 0 || (size_t)r >= sizeof(j->s) - j->n)
		j->n = sizeof(j->s);
	else
		j->n += (size_t)r;
}

static const char *
tf(int v)
{
	return v ? "true" : "false";
}

static void
j_acct(struct jbuf *j, const struct svc_acct *a)
{
	jp(j, "\"chunks\":%u,\"bytes\":%u,\"msgs\":%u", a->chunks, a->bytes,
	    a->msgs);
}

static void
rec_write(void)
{
	static const struct {
		uint32_t bit;
		const char *name;
	} fl[] = {
		{ RDP_INFO_MOUSE, "INFO_MOUSE" },
		{ RDP_INFO_DISABLECTRLALTDEL, "INFO_DISABLECTRLALTDEL" },
		{ RDP_INFO_AUTOLOGON, "INFO_AUTOLOGON" },
		{ RDP_INFO_UNICODE, "INFO_UNICODE" },
		{ RDP_INFO_MAXIMIZESHELL, "INFO_MAXIMIZESHELL" },
		{ RDP_INFO_LOGONNOTIFY, "INFO_LOGONNOTIFY" },
		{ RDP_INFO_COMPRESSION, "INFO_COMPRESSION" },
		{ RDP_INFO_ENABLEWINDOWSKEY, "INFO_ENABLEWINDOWSKEY" },
		{ RDP_INFO_REMOTECONSOLEAUDIO, "INFO_REMOTECONSOLEAUDIO" },
		{ RDP_INFO_FORCE_ENCRYPTED_CS_PDU,
		    "INFO_FORCE_ENCRYPTED_CS_PDU" },
		{ RDP_INFO_RAIL, "INFO_RAIL" },
		{ RDP_INFO_LOGONERRORS, "INFO_LOGONERRORS" },
		{ RDP_INFO_MOUSE_HAS_WHEEL, "INFO_MOUSE_HAS_WHEEL" },
		{ RDP_INFO_PASSWORD_IS_SC_PIN, "INFO_PASSWORD_IS_SC_PIN" },
		{ RDP_INFO_NOAUDIOPLAYBACK, "INFO_NOAUDIOPLAYBACK" },
		{ RDP_INFO_USING_SAVED_CREDS, "INFO_USING_SAVED_CREDS" },
		{ RDP_INFO_AUDIOCAPTURE, "INFO_AUDIOCAPTURE" },
		{ RDP_INFO_VIDEO_DISABLE, "INFO_VIDEO_DISABLE" },
		{ RDP_INFO_HIDEF_RAIL_SUPPORTED, "INFO_HIDEF_RAIL_SUPPORTED" },
	};
	static struct jbuf j;
	unsigned int i, k;
	const char *sep;
	int fd;

	j.n = 0;
	jp(&j, "{\"probe\":\"" PROG "\",\"conn\":%lu,\"peer\":\"%s\"", R.conn,
	    R.peer);
	jp(&j, ",\"x224\":{\"cr\":%s,\"requested\":%u,\"selected\":%u}",
	    tf(R.has_cr), R.requested, R.has_cc ? R.selected : 0);
	jp(&j, ",\"tls\":%s", tf(R.tls));
	jp(&j, ",\"blocks\":[");
	for (i = 0; i < R.nblocks; i++)
		jp(&j, "%s\"0x%04x\"", i ? "," : "", R.blocks[i]);
	jp(&j, "],\"cluster_flags\":%u", R.cluster_flags);
	jp(&j, ",\"io_channel\":%u,\"user_channel\":%u,\"msg_channel\":%u",
	    R.io_channel, R.user_channel, R.msg_channel);
	jp(&j, ",\"channels\":[");
	for (i = 0; i < R.nch; i++) {
		const struct chan *c = &R.ch[i];

		jp(&j,
		    "%s{\"name\":\"%s\",\"nul\":%s,\"options\":%u,"
		    "\"id\":%u,\"join_requested\":%s,\"joined\":%s,",
		    i ? "," : "", c->name, tf(c->nul), c->options, c->id,
		    tf(c->join_requested), tf(c->joined));
		j_acct(&j, &c->a);
		jp(&j, ",\"types\":[");
		for (k = 0; k < c->ntypes; k++)
			jp(&j, "%s%u", k ? "," : "", c->types[k]);
		jp(&j, "],\"devices\":[");
		for (k = 0; k < c->ndev; k++)
			jp(&j, "%s{\"type\":%u,\"name\":\"%s\"}", k ? "," : "",
			    c->dev[k].type, c->dev[k].name);
		jp(&j, "]}");
	}
	jp(&j, "],\"other_ids\":[");
	for (i = 0; i < R.nother; i++) {
		jp(&j, "%s{\"id\":%u,\"join_requested\":%s,", i ? "," : "",
		    R.other[i].id, tf(R.other[i].join_requested));
		j_acct(&j, &R.other[i].a);
		jp(&j, "}");
	}
	jp(&j,
	    "],\"svc\":{\"no_first\":%u,\"first_in_msg\":%u,"
	    "\"length_mismatch\":%u,\"overrun\":%u,\"short\":%u}",
	    R.svc_no_first, R.svc_first_in_msg, R.svc_length_mismatch,
	    R.svc_overrun, R.svc_short);
	jp(&j, ",\"info\":{\"seen\":%s,\"flags\":%u,\"flag_names\":[",
	    tf(R.info), R.info_flags);
	sep = "";
	for (i = 0; i < sizeof(fl) / sizeof(fl[0]); i++)
		if (R.info_flags & fl[i].bit) {
			jp(&j, "%s\"%s\"", sep, fl[i].name);
			sep = ",";
		}
	jp(&j,
	    "],\"compression_type\":%u,\"user\":\"%s\",\"domain\":\"%s\","
	    "\"password\":%s,\"alternate_shell\":%s,\"working_dir\":%s}",
	    (R.info_flags & RDP_INFO_COMPRESSION_TYPE_MASK) >> 9, R.user,
	    R.domain, tf(R.password), tf(R.shell), tf(R.workdir));
	jp(&j, ",\"auth\":\"%s\"", R.auth);
	jp(&j,
	    ",\"caps\":{\"demand_active\":%d,\"confirm_active\":%u,"
	    "\"sets\":[",
	    R.demand_active, R.confirm_active);
	for (i = 0; i < R.ncaps; i++)
		jp(&j, "%s%u", i ? "," : "", R.caps[i]);
	jp(&j,
	    "],\"bitmapcache_rev2\":%s,\"rev2_flags\":%u,"
	    "\"persistent_keys_expected\":%s,\"rev2_cells\":%u,"
	    "\"persistent_cells\":%u,\"rail\":%s,\"window\":%s,"
	    "\"virtualchannel\":%s,\"vc_flags\":%u}",
	    tf(R.rev2), R.rev2_flags,
	    tf(R.rev2_flags & RDP_BMPCACHE2_PERSISTENT_KEYS), R.rev2_cells,
	    R.rev2_persistent_cells, tf(R.rail), tf(R.window), tf(R.vc),
	    R.vc_flags);
	jp(&j, ",\"persistent_key_list\":{\"pdus\":%u,\"entries\":%u}",
	    R.pkl_pdus, R.pkl_entries);
	jp(&j, ",\"font_list\":%s", tf(R.font_list));
	jp(&j, ",\"dvc\":{\"caps_version\":%d,\"channels\":[",
	    R.dvc_caps_version);
	for (i = 0; i < R.ndvc; i++) {
		const struct dvc *d = &R.dvc[i];

		jp(&j,
		    "%s{\"name\":\"%s\",\"id\":%u,\"responded\":%s,"
		    "\"status\":%d,\"opened\":%s,\"data_pdus\":%u}",
		    i ? "," : "", d->name, d->id, tf(d->responded),
		    d->responded ? (int)d->status : 0,
		    tf(d->responded && d->status >= 0), d->data_pdus);
	}
	jp(&j, "],\"opened\":[");
	sep = "";
	for (i = 0; i < R.ndvc; i++)
		if (R.dvc[i].responded && R.dvc[i].status >= 0) {
			jp(&j, "%s\"%s\"", sep, R.dvc[i].name);
			sep = ",";
		}
	jp(&j, "],\"unrequested_responses\":[");
	for (i = 0; i < R.nunreq; i++)
		jp(&j, "%s{\"id\":%u,\"status\":%d}", i ? "," : "",
		    R.unreq[i].id, (int)R.unreq[i].status);
	jp(&j, "],\"compressed\":%u,\"data_unopened\":%u,\"malformed\":%u}",
	    R.dvc_compressed, R.dvc_data_unopened, R.dvc_bad);
	jp(&j,
	    ",\"gfx\":{\"caps_advertise\":%u,\"cache_import_offer\":%u,"
	    "\"cache_entries\":%u}",
	    R.gfx_caps_advertise, R.gfx_cache_import_offer,
	    R.gfx_cache_entries);
	jp(&j, ",\"fastpath_input\":%u,\"bytes_c2s\":%llu,\"bytes_s2c\":%llu",
	    R.fastpath_input, R.bytes_c2s, R.bytes_s2c);
	jp(&j, ",\"fastpath_early\":%u,\"mcs_wrong_dir\":%u,\"data_types\":[",
	    R.fastpath_early, R.mcs_wrong_dir);
	for (i = 0; i < R.ntype2; i++)
		jp(&j, "%s%u", i ? "," : "", R.type2[i]);
	jp(&j, "]");
	jp(&j, ",\"parse_errors\":%u,\"parse_error\":\"%s\",\"end\":\"%s\"}\n",
	    R.parse_errors, R.parse_error, R.end);
	if (j.n >= sizeof(j.s)) {
		fprintf(stderr, PROG ": record too large\n");
		return;
	}
	if (opt_record != NULL) {
		fd = open(opt_record, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
		    0644);
		if (fd < 0 || write(fd, j.s, j.n) != (ssize_t)j.n)
			fprintf(stderr, PROG ": %s: %s\n", opt_record,
			    strerror(errno));
		if (fd >= 0)
			close(fd);
	}
	if (write(STDOUT_FILENO, j.s, j.n) != (ssize_t)j.n)
		fprintf(stderr, PROG ": stdout: %s\n", strerror(errno));
}

/* --- relaying ------------------------------------------------------ */

static void
set_nonblock(int fd, int on)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl >= 0)
		(void)fcntl(
		    fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK);
}

/* Reads one TPKT in clear (blocking, SO_RCVTIMEO bounded) into l->in. */
static int
read_clear_tpkt(struct leg *l)
{
	struct rdp_frame f;
	int r;

	for (;;) {
		unsigned char tmp[1024];
		ssize_t n;

		r = rdp_frame_peek(l->in, 0, &f);
		if (r == 0)
			return f.kind == RDP_FRAME_TPKT ? 0 : -1;
		if (r != VDI_ERR_NEED_MORE)
			return -1;
		n = read(l->fd, tmp, sizeof(tmp));
		if (n <= 0)
			return -1;
		if (vbuf_put(l->in, tmp, (size_t)n) != 0)
			return -1;
	}
}

static int
write_clear(int fd, const unsigned char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void
timeouts(int fd, int secs)
{
	struct timeval tv = { secs, 0 };

	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* Reads what TLS has (at most 1 MiB at a time) into l->in, counting the
 * bytes in *count. Returns 1 (data or nothing yet), 0 on EOF, -1 on an
 * error. */
static int
leg_read(struct leg *l, unsigned long long *count)
{
	unsigned char tmp[16384];
	size_t got = 0;

	while (got < (1u << 20)) {
		int r = SSL_read(l->ssl, tmp, sizeof(tmp));

		if (r > 0) {
			if (vbuf_put(l->in, tmp, (size_t)r) != 0)
				return -1;
			got += (size_t)r;
			*count += (unsigned long long)r;
			continue;
		}
		switch (SSL_get_error(l->ssl, r)) {
		case SSL_ERROR_WANT_READ:
		case SSL_ERROR_WANT_WRITE:
			return 1;
		case SSL_ERROR_ZERO_RETURN:
		case SSL_ERROR_SYSCALL:
			return 0;
		default:
			return -1;
		}
	}
	return 1;
}

static int
leg_flush(struct leg *l)
{
	while (vbuf_len(l->out) > 0) {
		size_t n = vbuf_len(l->out);
		int r = SSL_write(
		    l->ssl, vbuf_ptr(l->out), n > 65536 ? 65536 : (int)n);

		if (r > 0) {
			if (vbuf_consume(l->out, (size_t)r) != 0)
				return -1;
			continue;
		}
		switch (SSL_get_error(l->ssl, r)) {
		case SSL_ERROR_WANT_READ:
		case SSL_ERROR_WANT_WRITE:
			return 0;
		default:
			return -1;
		}
	}
	return 0;
}

/* Splits from's input into PDUs, records them and queues them for to.
 * Sets *refuse when the recorder closes the connection (auth). */
static int
leg_process(struct leg *from, struct leg *to, enum rdp_dir dir, int *refuse)
{
	for (;;) {
		struct rdp_frame f;
		struct vbuf pdu;
		size_t n = vbuf_len(from->in);
		int r;

		if (n == 0)
			return 0;
		if (from->parse) {
			r = rdp_frame_peek(from->in, 0, &f);
			if (r == VDI_ERR_NEED_MORE)
				return 0;
			if (r != 0) {
				if (dir == RDP_C2S)
					rec_parse_error("frame", r);
				from->parse = 0;
				continue;
			}
			n = f.len;
			vbuf_init_view(&pdu, vbuf_ptr(from->in), n);
			if (dir == RDP_C2S) {
				c2s_frame(&pdu, refuse);
				if (*refuse) {
					/* never forward refused credentials */
					OPENSSL_cleanse(
					    vbuf_mutable_ptr(from->in), n);
					return 0;
				}
			} else
				s2c_frame(&pdu);
		}
		if (vbuf_put(to->out, vbuf_ptr(from->in), n) != 0)
			return -1;
		/* Wipe what we held (it may include a password). */
		OPENSSL_cleanse(vbuf_mutable_ptr(from->in), n);
		if (vbuf_consume(from->in, n) != 0)
			return -1;
	}
}

static SSL_CTX *
ctx_new(int server)
{
	SSL_CTX *ctx =
	    SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());

	if (ctx == NULL)
		fatal("SSL_CTX_new");
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	if (server) {
		if (SSL_CTX_use_certificate_chain_file(ctx, opt_cert) != 1 ||
		    SSL_CTX_use_PrivateKey_file(
			ctx, opt_key, SSL_FILETYPE_PEM) != 1)
			fatal("cannot load %s / %s", opt_cert, opt_key);
		SSL_CTX_set_num_tickets(ctx, 0);
	} else
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_mode(ctx,
	    SSL_MODE_ENABLE_PARTIAL_WRITE |
		SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_clear_mode(ctx, SSL_MODE_AUTO_RETRY);
	return ctx;
}

static void
serve(int cfd, unsigned long conn, const char *peer)
{
	struct leg cl = { "client", cfd, NULL, NULL, NULL, 0, 1 };
	struct leg dk = { "desktop", -1, NULL, NULL, NULL, 0, 1 };
	SSL_CTX *sctx = NULL, *cctx = NULL;
	struct rdp_x224_cr cr;
	struct vbuf pdu;
	struct rdp_frame f;
	time_t deadline = 0;
	int sp[2], refuse = 0, status;
	unsigned int i;
	pid_t pid;

	memset(&R, 0, sizeof(R));
	R.conn = conn;
	R.auth = opt_user != NULL ? "none" : "not_checked";
	snprintf(R.peer, sizeof(R.peer), "%s", peer);
	snprintf(R.end, sizeof(R.end), "unknown");
	R.io_channel = RDP_MCS_GLOBAL_CHANNEL_ID;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp) != 0)
		fatal("socketpair");
	if ((pid = fork()) < 0)
		fatal("fork");
	if (pid == 0) {
		close(sp[0]);
		close(cfd);
		desk_run(sp[1]);
	}
	close(sp[1]);
	dk.fd = sp[0];
	cl.in = vbuf_new(IN_MAX);
	dk.in = vbuf_new(IN_MAX);
	cl.out = vbuf_new(OUT_MAX);
	dk.out = vbuf_new(OUT_MAX);
	if (cl.in == NULL || dk.in == NULL || cl.out == NULL || dk.out == NULL)
		fatal("vbuf_new");
	timeouts(cfd, HANDSHAKE_SECS);
	timeouts(dk.fd, HANDSHAKE_SECS);

	/* X.224 Connection Request and Confirm, in clear. */
	if (read_clear_tpkt(&cl) != 0 ||
	    rdp_frame_next(cl.in, 0, &f, &pdu) != 0) {
		snprintf(R.end, sizeof(R.end), "no_connection_request");
		goto done;
	}
	if (rdp_x224_parse_cr(&pdu, &cr) == 0) {
		R.has_cr = 1;
		R.requested = cr.requested_protocols;
	} else
		rec_parse_error("x224_cr", VDI_ERR_BAD_FORMAT);
	if (write_clear(dk.fd, vbuf_ptr(&pdu), vbuf_len(&pdu)) != 0 ||
	    read_clear_tpkt(&dk) != 0 ||
	    rdp_frame_next(dk.in, 0, &f, &pdu) != 0) {
		snprintf(R.end, sizeof(R.end), "desktop_no_confirm");
		goto done;
	}
	s2c_frame(&pdu);
	if (write_clear(cfd, vbuf_ptr(&pdu), vbuf_len(&pdu)) != 0) {
		snprintf(R.end, sizeof(R.end), "client_closed");
		goto done;
	}
	if (!R.has_cc || R.selected != RDP_PROTOCOL_SSL) {
		snprintf(R.end, sizeof(R.end), "no_tls_negotiated");
		goto done;
	}
	vbuf_reset(cl.in);
	vbuf_reset(dk.in);

	/* TLS on both legs (the desktop half waits for our ClientHello). */
	sctx = ctx_new(1);
	cctx = ctx_new(0);
	if ((dk.ssl = SSL_new(cctx)) == NULL ||
	    SSL_set_fd(dk.ssl, dk.fd) != 1 || SSL_connect(dk.ssl) != 1) {
		snprintf(R.end, sizeof(R.end), "desktop_tls_failed");
		goto done;
	}
	if ((cl.ssl = SSL_new(sctx)) == NULL || SSL_set_fd(cl.ssl, cfd) != 1 ||
	    SSL_accept(cl.ssl) != 1) {
		snprintf(R.end, sizeof(R.end), "client_tls_failed");
		goto done;
	}
	R.tls = 1;
	set_nonblock(cfd, 1);
	set_nonblock(dk.fd, 1);
	if (opt_timeout > 0)
		deadline = time(NULL) + opt_timeout;

	for (;;) {
		struct pollfd pfd[2];
		int timeout_ms = 1000, r;

		if (got_term) {
			snprintf(R.end, sizeof(R.end), "probe_stopped");
			break;
		}
		if (deadline != 0 && time(NULL) >= deadline) {
			snprintf(R.end, sizeof(R.end), "probe_timeout");
			break;
		}
		pfd[0].fd = cfd;
		pfd[0].events = vbuf_len(dk.out) < OUT_HIGH ? POLLIN : 0;
		if (vbuf_len(cl.out) > 0)
			pfd[0].events |= POLLOUT;
		pfd[1].fd = dk.fd;
		pfd[1].events = vbuf_len(cl.out) < OUT_HIGH ? POLLIN : 0;
		if (vbuf_len(dk.out) > 0)
			pfd[1].events |= POLLOUT;
		pfd[0].revents = pfd[1].revents = 0;
		if (SSL_pending(cl.ssl) == 0 && SSL_pending(dk.ssl) == 0 &&
		    poll(pfd, 2, timeout_ms) < 0 && errno != EINTR)
			break;
		if ((r = leg_read(&cl, &R.bytes_c2s)) <= 0) {
			snprintf(R.end, sizeof(R.end),
			    r == 0 ? "client_closed" : "client_error");
			break;
		}
		if ((r = leg_read(&dk, &R.bytes_s2c)) <= 0) {
			/* record what the client sent meanwhile, let what the
			 * desktop said last reach the client */
			(void)leg_read(&cl, &R.bytes_c2s);
			(void)leg_process(&cl, &dk, RDP_C2S, &refuse);
			(void)leg_process(&dk, &cl, RDP_S2C, &refuse);
			set_nonblock(cfd, 0);
			(void)leg_flush(&cl);
			snprintf(R.end, sizeof(R.end),
			    r == 0 ? "desktop_closed" : "desktop_error");
			break;
		}
		if (leg_process(&cl, &dk, RDP_C2S, &refuse) != 0 ||
		    leg_process(&dk, &cl, RDP_S2C, &refuse) != 0) {
			snprintf(R.end, sizeof(R.end), "buffer_full");
			break;
		}
		if (refuse) {
			snprintf(R.end, sizeof(R.end), "auth_refused");
			break;
		}
		if (leg_flush(&cl) != 0) {
			snprintf(R.end, sizeof(R.end), "client_closed");
			break;
		}
		if (leg_flush(&dk) != 0) {
			snprintf(R.end, sizeof(R.end), "desktop_closed");
			break;
		}
	}
done:
	rec_write();
	if (cl.ssl != NULL) {
		(void)SSL_shutdown(cl.ssl);
		SSL_free(cl.ssl);
	}
	if (dk.ssl != NULL)
		SSL_free(dk.ssl);
	SSL_CTX_free(sctx);
	SSL_CTX_free(cctx);
	close(cfd);
	close(dk.fd);
	vbuf_free(cl.in);
	vbuf_free(dk.in);
	vbuf_free(cl.out);
	vbuf_free(dk.out);
	vbuf_free(s2c_dyn.msg);
	for (i = 0; i < R.nch; i++)
		vbuf_free(R.ch[i].a.msg);
	(void)kill(pid, SIGTERM);
	(void)waitpid(pid, &status, 0);
}

/* ------------------------------------------------------------------ */

static void
usage(void)
{
	fprintf(stderr,
	    "usage: " PROG " -c CERT -k KEY [-l PORT] "
	    "[-P PORTFILE] [-o RECORD] [-u USER -p PASSWORD] [-T SECONDS] "
	    "[-1]\n");
	exit(2);
}

static void
write_portfile(const char *path, unsigned int port)
{
	char tmp[4096];
	FILE *fp;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((fp = fopen(tmp, "w")) == NULL || fprintf(fp, "%u\n", port) < 0 ||
	    fclose(fp) != 0 || rename(tmp, path) != 0)
		fatal("%s: %s", path, strerror(errno));
}

int
main(int argc, char **argv)
{
	const char *portfile = NULL;
	unsigned long port = 0, conn = 0;
	struct sockaddr_in sin;
	socklen_t slen = sizeof(sin);
	struct sigaction sa;
	int ch, lfd, one = 1;

	while ((ch = getopt(argc, argv, "1c:k:l:o:p:P:T:u:")) != -1) {
		switch (ch) {
		case '1':
			opt_once = 1;
			break;
		case 'c':
			opt_cert = optarg;
			break;
		case 'k':
			opt_key = optarg;
			break;
		case 'l':
			port = strtoul(optarg, NULL, 10);
			if (port > 65535)
				usage();
			break;
		case 'o':
			opt_record = optarg;
			break;
		case 'p':
			opt_pass = optarg;
			break;
		case 'P':
			portfile = optarg;
			break;
		case 'T':
			opt_timeout = atoi(optarg);
			break;
		case 'u':
			opt_user = optarg;
			break;
		default:
			usage();
		}
	}
	if (opt_cert == NULL || opt_key == NULL || optind != argc ||
	    (opt_user == NULL) != (opt_pass == NULL))
		usage();

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if ((lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		fatal("socket: %s", strerror(errno));
	(void)setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)port);
	if (bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    listen(lfd, 16) != 0 ||
	    getsockname(lfd, (struct sockaddr *)&sin, &slen) != 0)
		fatal("bind 127.0.0.1:%lu: %s", port, strerror(errno));
	if (portfile != NULL)
		write_portfile(portfile, ntohs(sin.sin_port));
	fprintf(
	    stderr, PROG ": listening on 127.0.0.1:%u\n", ntohs(sin.sin_port));

	while (!got_term) {
		struct sockaddr_in pin;
		socklen_t plen = sizeof(pin);
		char peer[64], addr[INET_ADDRSTRLEN];
		pid_t pid;
		int cfd, status;

		while (waitpid(-1, &status, WNOHANG) > 0)
			;
		cfd = accept(lfd, (struct sockaddr *)&pin, &plen);
		if (cfd < 0) {
			if (errno == EINTR)
				continue;
			fatal("accept: %s", strerror(errno));
		}
		conn++;
		inet_ntop(AF_INET, &pin.sin_addr, addr, sizeof(addr));
		snprintf(
		    peer, sizeof(peer), "%s:%u", addr, ntohs(pin.sin_port));
		fprintf(stderr, PROG ": conn=%lu peer=%s\n", conn, peer);
		if ((pid = fork()) < 0)
			fatal("fork: %s", strerror(errno));
		if (pid == 0) {
			close(lfd);
			serve(cfd, conn, peer);
			_exit(0);
		}
		close(cfd);
		if (opt_once) {
			(void)waitpid(pid, &status, 0);
			break;
		}
	}
	/* SIGTERM reaches the whole process group: wait for the records. */
	while (wait(NULL) > 0 || errno == EINTR)
		;
	close(lfd);
	return 0;
}
