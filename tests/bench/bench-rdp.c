/*
 * bench-rdp.c: a light synthetic RDP desktop and client for the benchmarks
 * (tests/bench/, docs/performance.md). Tests only, never installed.
 *
 * One process, one libevent loop, any number of connections. Both sides
 * run the real connection sequence (X.224 with SSL, TLS, MCS Connect
 * Initial/Response, Erect Domain, Attach User, Channel Joins, Client Info,
 * licensing, Demand/Confirm Active, finalization, drdynvc capabilities and
 * the graphics channel), built with the encoders of rdp/, so that
 * vdi-gatewayd relays them as it relays a real session.
 *
 *   bench-rdp desktop -c CERT -k KEY -P PORTFILE [-m MODE] [-w WORK]
 *                     [-r BYTES/S] [-s SIZE]
 *     MODE  idle    nothing after the sequence
 *           stream  updates of the WORK kind, at -r bytes per second per
 *                   connection (0: as fast as the peer takes them)
 *           echo    one update of -s bytes per fast-path input received
 *     WORK  fastpath  fast-path bitmap updates of -s bytes (default 16000)
 *           gfx       RDPGFX segmented data on the graphics DVC, frames of
 *                     -s bytes (default 64000) cut into 1600-byte chunks,
 *                     as FreeRDP's shadow server sends them with /gfx
 *
 *   bench-rdp client -t HOST:PORT [-T direct|tls|gateway] -n N
 *                    [-m idle|stream|echo] [-d SECONDS] [-i MS]
 *                    [-p PARALLEL] [-c DEV.pem -k DEV.key -C CA.pem]
 *                    [-j TOKEN-FILE (-K SIGNING-KEY | -J)]
 *     -T direct   TCP straight to the desktop (X.224, then its TLS)
 *        tls      an outer TLS (device certificate) to a TLS relay such as
 *                 stunnel, the RDP stream with its own TLS inside
 *        gateway  the outer TLS, then GET /v1/tunnel with a token (each
 *                 connection gets its own: the claims of TOKEN-FILE with a
 *                 new jti/sid/iat/exp, re-signed with SIGNING-KEY), then
 *                 the RDP stream as with tls; -J: one connection
 *                 with the token of TOKEN-FILE as it is (a broker's)
 *     -n N        connections, at most PARALLEL (default 64) in their
 *                 connection sequence at once
 *     -d SECONDS  after all are up (or failed): stay that long, then close
 *                 all and exit (default: until SIGTERM/SIGINT)
 *     -i MS       echo mode: each connection sends one fast-path input
 *                 every MS milliseconds (default 200) and times the update
 *                 that answers it
 *
 * Output: one line per event, key=value. The client prints
 *   bench event=ready sessions=N errors=E connect_ms_p50=.. p99=.. max=..
 * once every connection is up or failed, and at the end
 *   bench event=done sessions=N errors=E dropped=D bytes=B seconds=S
 *         lat_n=K lat_us_p50=.. lat_us_p99=.. first_frame_ms_p50=..
 * Exit 0 when no connection failed, 1 otherwise, 2 for usage errors.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <jansson.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "b64url.h"
#include "jws.h"
#include "rdp/caps.h"
#include "rdp/dvc.h"
#include "rdp/frame.h"
#include "rdp/gcc.h"
#include "rdp/mcs.h"
#include "rdp/sec.h"
#include "rdp/svc.h"
#include "rdp/x224.h"
#include "rdppeer.h"
#include "tls.h"
#include "vbuf.h"

#define PROG        "bench-rdp"
#define OUT_MAX     (1u << 20)
#define GFX_NAME    "Microsoft::Windows::RDS::Graphics"
#define SERVER_USER 1007 /* the user id the desktop hands out */
#define IO_CHANNEL  1003
#define DYN_CHANNEL 1004
#define CHUNK       1600 /* VC chunk size (FreeRDP's default) */
#define LAT_MAX     (1u << 22)

enum mode { M_IDLE = 0, M_STREAM, M_ECHO };
enum work { W_FASTPATH = 0, W_GFX };
enum transport { T_DIRECT = 0, T_TLS, T_GATEWAY };

enum cstate {
	C_CONNECTING = 0, /* TCP / outer TLS */
	C_HTTP,           /* waiting for the 101 */
	C_CC,             /* waiting for the X.224 CC */
	C_INNER,          /* inner TLS handshake */
	C_CONNRESP,
	C_ATTACH,
	C_JOIN,
	C_LICENSE,
	C_DEMAND,
	C_FONTMAP,
	C_ACTIVE, /* sequence done: waiting for the first frame */
	C_RUN,    /* first frame seen */
	C_DEAD,
};

enum dstate {
	D_CR = 0,
	D_TLS,
	D_CI,
	D_DOMAIN,
	D_SHARE,
	D_RUN,
};

struct conn {
	struct bufferevent *bev;
	int id;
	int state;
	int desktop; /* 1: desktop side */
	/* client */
	uint16_t user, io, dyn;
	uint16_t joins[3];
	unsigned int njoins, joined;
	uint32_t share_id;
	long gfx_left; /* bytes of the current GFX frame still to come */
	double t_start, t_ready, t_first, t_ping;
	int ping_out;
	struct event *timer;
	/* desktop */
	int dvc_open, streaming;
	double t_stream;
	uint64_t sent;
	uint8_t gfx_id;
};

static struct {
	int desktop;
	enum mode mode;
	enum work work;
	enum transport transport;
	size_t size;
	double rate;
	int n, parallel, interval_ms;
	double duration;
	struct event_base *base;
	SSL_CTX *srv_ctx, *inner_ctx, *outer_ctx;
	struct sockaddr_in target;
	char host[256];
	/* tokens */
	json_t *claims;
	struct jws_key *sign_key;
	char *token_as_is; /* -J: the token file's token, unchanged */
	/* client accounting */
	int started, up, failed, dropped, inflight;
	struct conn **conns;
	double *connect_ms, *first_ms;
	size_t nconnect, nfirst;
	double *lat_us;
	size_t nlat;
	uint64_t bytes;
	double t0, t_all_up;
	int ready_said, finishing;
	struct event *sig_term, *sig_int, *end_timer;
	unsigned char *payload;
	int conn_seq;
} G;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("bench ");
	vprintf(fmt, ap);
	printf("\n");
	fflush(stdout);
	va_end(ap);
}

static void
die(const char *what)
{
	fprintf(stderr, PROG ": %s\n", what);
	ERR_print_errors_fp(stderr);
	exit(2);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct vbuf *
nb(void)
{
	struct vbuf *b = vbuf_new(OUT_MAX);

	if (b == NULL)
		die("out of memory");
	return b;
}

/* Sends b (and empties it); -1 when the connection is gone. */
static int
send_buf(struct conn *c, struct vbuf *b)
{
	int r = bufferevent_write(c->bev, vbuf_ptr(b), vbuf_len(b));

	vbuf_reset(b);
	return r == 0 ? 0 : -1;
}

static int
send_x224(struct conn *c, const void *p, size_t n)
{
	struct vbuf *b = nb();
	int r = rdp_x224_write_data(b, p, n) == 0 ? send_buf(c, b) : -1;

	vbuf_free(b);
	return r;
}

/* One Send Data Request (client) / Indication (desktop) on channel. */
static int
send_mcs(struct conn *c, uint16_t channel, const void *p, size_t n)
{
	struct vbuf *b = nb();
	int r = rdp_mcs_write_send_data(b, c->desktop,
		    c->desktop ? 1002 : c->user, channel, p, n) == 0
	    ? send_buf(c, b)
	    : -1;

	vbuf_free(b);
	return r;
}

/* One static channel message on drdynvc (chunked as FreeRDP does). */
static int
send_dyn(struct conn *c, const void *p, size_t n)
{
	struct vbuf *b = nb();
	int r =
	    rdp_svc_write_message(b, c->desktop, c->desktop ? 1002 : c->user,
		c->desktop ? DYN_CHANNEL : c->dyn, p, n, 0, 0) == 0
	    ? send_buf(c, b)
	    : -1;

	vbuf_free(b);
	return r;
}

static int
send_data_pdu(struct conn *c, uint16_t source, uint8_t type2,
    const unsigned char *body, size_t len)
{
	struct vbuf *b = nb();
	int r = rdppeer_put_share_data(
		    b, source, c->share_id, type2, body, len) == 0
	    ? send_mcs(c, IO_CHANNEL, vbuf_ptr(b), vbuf_len(b))
	    : -1;

	vbuf_free(b);
	return r;
}

/* The capability sets both sides send (a plain 32 bpp desktop); returns
 * how many, or -1. */
static int
put_caps(struct vbuf *caps, int demand)
{
	unsigned char multifrag[4] = { 0 }, share[4] = { 0 }, font[4] = { 0 },
		      color[4] = { 0 }, surface[8] = { 0 }, largeptr[2] = { 0 };

	rdppeer_p32(multifrag, 0xFFFFFF);
	rdppeer_p16(share, demand ? 1002 : 0);
	rdppeer_p16(font, 1);
	rdppeer_p16(color, 6);
	rdppeer_p32(surface, 0x52);
	rdppeer_p16(largeptr, 1);
	if (rdppeer_put_caps_display(caps) != 0 ||
	    rdppeer_put_caps_input(caps, CHUNK) != 0 ||
	    rdppeer_put_tlv(caps, 26, multifrag, sizeof(multifrag)) != 0 ||
	    rdppeer_put_tlv(caps, 9, share, sizeof(share)) != 0 ||
	    rdppeer_put_tlv(caps, 14, font, sizeof(font)) != 0 ||
	    rdppeer_put_tlv(caps, 10, color, sizeof(color)) != 0)
		return -1;
	if (demand &&
	    (rdppeer_put_tlv(caps, 28, surface, sizeof(surface)) != 0 ||
		rdppeer_put_tlv(caps, 27, largeptr, sizeof(largeptr)) != 0))
		return -1;
	return demand ? 12 : 10;
}

static void conn_free(struct conn *c, const char *why);

/* --- stats ---------------------------------------------------------- */

static int
cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
quant(double *v, size_t n, double q)
{
	size_t i;

	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), cmpd);
	i = (size_t)llround(q * (double)(n - 1));
	return v[i < n ? i : n - 1];
}

static void
check_ready(void)
{
	if (G.finishing || G.ready_said || G.up + G.failed < G.n)
		return;
	G.ready_said = 1;
	G.t_all_up = now();
	say("event=ready sessions=%d errors=%d seconds=%.3f "
	    "connect_ms_p50=%.1f connect_ms_p99=%.1f connect_ms_max=%.1f",
	    G.up, G.failed, G.t_all_up - G.t0,
	    quant(G.connect_ms, G.nconnect, .5),
	    quant(G.connect_ms, G.nconnect, .99),
	    quant(G.connect_ms, G.nconnect, 1));
	if (G.duration > 0) {
		struct timeval tv = { (time_t)G.duration,
			(suseconds_t)((G.duration - floor(G.duration)) * 1e6) };

		evtimer_add(G.end_timer, &tv);
	}
}

/* --- tokens -------------------------------------------------------- */

static void
load_token(const char *tokfile, const char *keyfile)
{
	char tok[16384], err[256], *p, *q, *kid = NULL;
	unsigned char *raw;
	size_t rawlen;
	json_t *hdr;
	FILE *f = fopen(tokfile, "r");

	if (f == NULL || fgets(tok, sizeof(tok), f) == NULL)
		die("cannot read the token file");
	fclose(f);
	tok[strcspn(tok, "\r\n")] = '\0';
	if ((p = strchr(tok, '.')) == NULL || (q = strchr(p + 1, '.')) == NULL)
		die("the token file holds no JWS");
	if (b64url_decode_alloc(tok, (size_t)(p - tok), &raw, &rawlen) != 0 ||
	    (hdr = json_loadb((char *)raw, rawlen, 0, NULL)) == NULL)
		die("bad token header");
	free(raw);
	if (json_is_string(json_object_get(hdr, "kid")))
		kid = strdup(json_string_value(json_object_get(hdr, "kid")));
	json_decref(hdr);
	if (b64url_decode_alloc(p + 1, (size_t)(q - p - 1), &raw, &rawlen) !=
		0 ||
	    (G.claims = json_loadb((char *)raw, rawlen, 0, NULL)) == NULL)
		die("bad token claims");
	free(raw);
	json_object_del(G.claims, "cred");
	if (jws_key_load_private(keyfile, kid, &G.sign_key, err, sizeof(err)) !=
	    0)
		die(err);
	free(kid);
}

static char *
mint_token(int id)
{
	json_t *c;
	char jti[64], sid[64], *tok = NULL;
	json_int_t t = (json_int_t)time(NULL);

	if (G.token_as_is != NULL)
		return strdup(G.token_as_is);
	c = json_deep_copy(G.claims);

	snprintf(
	    jti, sizeof(jti), "bench-%d-%d-%d", (int)getpid(), id, G.conn_seq);
	snprintf(sid, sizeof(sid), "bench-%d-%d", (int)getpid(), id);
	json_object_set_new(c, "jti", json_string(jti));
	json_object_set_new(c, "sid", json_string(sid));
	json_object_set_new(c, "iat", json_integer(t));
	json_object_set_new(c, "nbf", json_integer(t));
	json_object_set_new(c, "exp", json_integer(t + 55));
	if (jws_sign(G.sign_key, c, &tok) != 0)
		die("cannot sign a token");
	json_decref(c);
	return tok;
}

/* --- framing ------------------------------------------------------- */

/* Length of the PDU at the front of in (0: not known yet, -1: garbage). */
static long
frame_len(struct evbuffer *in)
{
	size_t avail = evbuffer_get_length(in);
	unsigned char *h;

	if (avail < 4)
		return 0;
	h = evbuffer_pullup(in, 4);
	if (h[0] == 3)
		return h[1] == 0 ? (long)((h[2] << 8) | h[3]) : -1;
	if (h[1] & 0x80)
		return (long)(((h[1] & 0x7F) << 8) | h[2]);
	return h[1];
}

/* --- the desktop --------------------------------------------------- */

static void desk_stream(struct conn *c);
static int put_update(struct conn *c, struct vbuf *out, size_t n);

static int
desk_connect_response(struct conn *c, const struct vbuf *mcs)
{
	static const uint32_t params[8] = { 34, 3, 0, 1, 0, 1, 65528, 2 };
	struct rdp_mcs_connect_initial ci;
	struct rdp_gcc_client cl;
	struct vbuf blocks;
	struct vbuf *sb = nb(), *ud = nb(), *pr = nb(), *out = nb();
	unsigned int i;
	int r = -1;

	if (rdp_mcs_parse_connect_initial(mcs, &ci) != 0 ||
	    rdp_gcc_parse_create_request(&ci.user_data, &blocks) != 0 ||
	    rdp_gcc_parse_client_blocks(&blocks, &cl) != 0)
		goto out;
	/* SC_CORE: version, clientRequestedProtocols, earlyCapabilityFlags */
	if (vbuf_put_u16le(sb, RDP_SC_CORE) != 0 ||
	    vbuf_put_u16le(sb, 16) != 0 ||
	    vbuf_put_u32le(sb, 0x00080004) != 0 ||
	    vbuf_put_u32le(sb, RDP_PROTOCOL_SSL) != 0 ||
	    vbuf_put_u32le(sb, 0) != 0)
		goto out;
	if (vbuf_put_u16le(sb, RDP_SC_SECURITY) != 0 ||
	    vbuf_put_u16le(sb, 12) != 0 || vbuf_put_u32le(sb, 0) != 0 ||
	    vbuf_put_u32le(sb, 0) != 0)
		goto out;
	if (vbuf_put_u16le(sb, RDP_SC_NET) != 0 ||
	    vbuf_put_u16le(sb,
		(uint16_t)(8 + 2 * cl.nchannels + 2 * (cl.nchannels & 1))) !=
		0 ||
	    vbuf_put_u16le(sb, IO_CHANNEL) != 0 ||
	    vbuf_put_u16le(sb, (uint16_t)cl.nchannels) != 0)
		goto out;
	for (i = 0; i < cl.nchannels; i++)
		if (vbuf_put_u16le(sb, (uint16_t)(DYN_CHANNEL + i)) != 0)
			goto out;
	if ((cl.nchannels & 1) && vbuf_put_u16le(sb, 0) != 0)
		goto out;
	if (rdppeer_put_domain_params(pr, params) != 0)
		goto out;
	if (rdp_gcc_write_create_response(ud, 0x79F3, 1, sb) != 0 ||
	    rdp_mcs_write_connect_response(out, 0, 0, pr, ud) != 0)
		goto out;
	r = send_buf(c, out);
out:
	vbuf_free(sb);
	vbuf_free(ud);
	vbuf_free(pr);
	vbuf_free(out);
	return r;
}

static int
desk_license_and_demand(struct conn *c)
{
	/* Error Alert STATUS_VALID_CLIENT, ST_NO_TRANSITION, empty blob */
	unsigned char lic[4 + 4 + 12] = { 0 };
	struct vbuf *caps = nb(), *pdu = nb();
	int r = -1;

	rdppeer_p16(lic, RDP_SEC_LICENSE_PKT);
	lic[4] = 0xFF;
	lic[5] = 0x83;
	rdppeer_p16(lic + 6, 16);
	rdppeer_p32(lic + 8, 7);
	rdppeer_p32(lic + 12, 2);
	rdppeer_p16(lic + 16, 4);
	rdppeer_p16(lic + 18, 0);
	if (send_mcs(c, IO_CHANNEL, lic, sizeof(lic)) != 0)
		goto out;
	c->share_id = 0x103EA;
	if (put_caps(caps, 1) != 12)
		goto out;
	if (vbuf_put_u16le(pdu,
		(uint16_t)(6 + 4 + 2 + 2 + 4 + 4 + vbuf_len(caps) + 4)) != 0 ||
	    vbuf_put_u16le(pdu, 0x10 | RDP_PDUTYPE_DEMANDACTIVE) != 0 ||
	    vbuf_put_u16le(pdu, 1002) != 0 ||
	    vbuf_put_u32le(pdu, c->share_id) != 0 ||
	    vbuf_put_u16le(pdu, 4) != 0 ||
	    vbuf_put_u16le(pdu, (uint16_t)(4 + vbuf_len(caps))) != 0 ||
	    vbuf_put(pdu, "RDP", 4) != 0 || vbuf_put_u16le(pdu, 12) != 0 ||
	    vbuf_put_u16le(pdu, 0) != 0 || vbuf_put_buf(pdu, caps) != 0 ||
	    vbuf_put_u32le(pdu, 0) != 0)
		goto out;
	r = send_mcs(c, IO_CHANNEL, vbuf_ptr(pdu), vbuf_len(pdu));
out:
	vbuf_free(caps);
	vbuf_free(pdu);
	return r;
}

/* Every mode paints once when the session is up (the client's "first
 * frame"); stream mode then keeps painting. */
static int
desk_first_frame(struct conn *c)
{
	struct vbuf *b;
	int r;

	if (G.mode == M_STREAM) {
		desk_stream(c);
		return 0;
	}
	b = nb();
	r = put_update(c, b, G.size) == 0 ? send_buf(c, b) : -1;
	vbuf_free(b);
	return r;
}

static int
desk_finalize(struct conn *c)
{
	unsigned char sync[4] = { 0 }, coop[8] = { 0 }, grant[8] = { 0 },
		      fmap[8] = { 0 };
	static const unsigned char dvc_caps[] = { 0x50, 0x00, 0x02, 0x00, 0x33,
		0x33, 0x11, 0x11, 0x3d, 0x0a, 0xa7, 0x04 };

	rdppeer_p16(sync, 1);
	rdppeer_p16(sync + 2, 1002);
	rdppeer_p16(coop, 4);
	rdppeer_p16(grant, 2);
	rdppeer_p16(grant + 2, c->user);
	rdppeer_p32(grant + 4, 0x03EA);
	rdppeer_p16(fmap + 4, 3);
	rdppeer_p16(fmap + 6, 4);
	if (send_data_pdu(c, 1002, 0x1F, sync, sizeof(sync)) != 0 ||
	    send_data_pdu(c, 1002, 0x14, coop, sizeof(coop)) != 0 ||
	    send_data_pdu(c, 1002, 0x14, grant, sizeof(grant)) != 0 ||
	    send_data_pdu(c, 1002, 0x28, fmap, sizeof(fmap)) != 0)
		return -1;
	c->state = D_RUN;
	if (G.work == W_GFX)
		return send_dyn(c, dvc_caps, sizeof(dvc_caps));
	return desk_first_frame(c);
}

/* Appends one update of about n bytes of the configured kind to out. */
static int
put_update(struct conn *c, struct vbuf *out, size_t n)
{
	if (G.work == W_FASTPATH) {
		/* fpOutputHeader, 2-byte length, TS_FP_UPDATE (bitmap,
		 * no fragmentation, no compression), TS_UPDATE_BITMAP_DATA
		 * with one rectangle of raw 32 bpp pixels */
		unsigned char h[3 + 3 + 4 + 18];
		size_t body, total;

		if (n > RDP_FASTPATH_MAX - sizeof(h))
			n = RDP_FASTPATH_MAX - sizeof(h);
		if (n < 64)
			n = 64;
		body = n;
		total = sizeof(h) + body;
		h[0] = 0;
		h[1] = (unsigned char)(0x80 | (total >> 8));
		h[2] = (unsigned char)(total & 0xFF);
		h[3] = 0x01;
		rdppeer_p16(h + 4, (unsigned int)(total - 6));
		rdppeer_p16(h + 6, 1);
		rdppeer_p16(h + 8, 1);
		rdppeer_p16(h + 10, 0);
		rdppeer_p16(h + 12, 0);
		rdppeer_p16(h + 14, 63);
		rdppeer_p16(h + 16, (unsigned int)(body / 256 - 1));
		rdppeer_p16(h + 18, 64);
		rdppeer_p16(h + 20, (unsigned int)(body / 256));
		rdppeer_p16(h + 22, 32);
		rdppeer_p16(h + 24, 0);
		rdppeer_p16(h + 26, (unsigned int)body);
		return vbuf_put(out, h, sizeof(h)) != 0 ||
			vbuf_put(out, G.payload, body) != 0
		    ? -1
		    : 0;
	}
	/* GFX: RDP_SEGMENTED_DATA single (0xE0), descriptor + the
	 * (uncompressed-flagged ZGFX) bytes, as DVC Data First + Data PDUs,
	 * one static channel message of <= 1600 bytes each */
	{
		unsigned char hdr[8];
		size_t off = 0, total = n + 2, first = 1;

		while (off < total) {
			unsigned char msg[CHUNK];
			size_t hl, room, take, i = 0;
			struct vbuf *b;

			if (first && total > CHUNK - 2) {
				/* Data First, cbId 1 byte, Len 4 bytes */
				hdr[0] = 0x20 | (2 << 2);
				hdr[1] = c->gfx_id;
				rdppeer_p32(hdr + 2, (uint32_t)total);
				hl = 6;
			} else {
				hdr[0] = 0x30;
				hdr[1] = c->gfx_id;
				hl = 2;
			}
			room = CHUNK - hl;
			take = total - off < room ? total - off : room;
			memcpy(msg, hdr, hl);
			if (off == 0) {
				msg[hl] = 0xE0;
				msg[hl + 1] = 0x04; /* ZGFX: not compressed */
				i = 2;
			}
			memcpy(msg + hl + i, G.payload, take - i);
			b = out;
			if (rdp_svc_write_message(b, 1, 1002, DYN_CHANNEL, msg,
				hl + take, 0, 0) != 0)
				return -1;
			off += take;
			first = 0;
		}
		return 0;
	}
}

/* Keeps the output buffer fed (rate 0) or on the configured rate. */
static void
desk_stream(struct conn *c)
{
	struct evbuffer *o = bufferevent_get_output(c->bev);
	struct bufferevent *u = bufferevent_get_underlying(c->bev);
	struct evbuffer *uo = u != NULL ? bufferevent_get_output(u) : NULL;
	struct vbuf *b;
	double due;

	if (!c->streaming) {
		c->streaming = 1;
		c->t_stream = now();
	}
	b = nb();
	for (;;) {
		/* the TLS filter encrypts at once into the socket's buffer */
		if (evbuffer_get_length(o) +
			(uo != NULL ? evbuffer_get_length(uo) : 0) >=
		    256 * 1024)
			break;
		if (G.rate > 0) {
			due = (now() - c->t_stream) * G.rate;
			if ((double)c->sent >= due)
				break;
		}
		vbuf_reset(b);
		if (put_update(c, b, G.size) != 0 || send_buf(c, b) != 0)
			break;
		c->sent += G.size;
	}
	vbuf_free(b);
}

static void
desk_tick(evutil_socket_t fd, short ev, void *arg)
{
	struct conn *c = arg;
	struct timeval tv = { 0, G.rate > 0 ? 10000 : 2000 };

	(void)fd;
	(void)ev;
	if (c->state == D_RUN && (G.work == W_FASTPATH || c->dvc_open))
		desk_stream(c);
	evtimer_add(c->timer, &tv);
}

static int
desk_dvc(struct conn *c, const struct vbuf *data)
{
	const unsigned char *p = vbuf_ptr(data);
	size_t n = vbuf_len(data);
	unsigned char req[64];
	uint8_t cmd;

	if (n < 8 + 1)
		return 0;
	p += 8; /* CHANNEL_PDU_HEADER */
	n -= 8;
	cmd = p[0] >> 4;
	if (cmd == 0x5) { /* caps response: ask for the graphics channel */
		req[0] = 0x10;
		req[1] = 1;
		memcpy(req + 2, GFX_NAME, sizeof(GFX_NAME));
		return send_dyn(c, req, 2 + sizeof(GFX_NAME));
	}
	if (cmd == 0x1 && n >= 6) { /* create response */
		int32_t st = (int32_t)((uint32_t)p[2] | (uint32_t)p[3] << 8 |
		    (uint32_t)p[4] << 16 | (uint32_t)p[5] << 24);

		if (st < 0)
			return -1;
		c->gfx_id = p[1];
		c->dvc_open = 1;
		return desk_first_frame(c);
	}
	return 0;
}

static int
desk_pdu(struct conn *c, const unsigned char *p, size_t n)
{
	struct vbuf pdu, mcs;
	struct rdp_mcs_pdu m;
	struct vbuf *b;
	int r = 0;

	vbuf_init_view(&pdu, p, n);
	if (p[0] != 3) { /* fast-path input */
		if (G.mode == M_ECHO && (c->dvc_open || G.work == W_FASTPATH)) {
			b = nb();
			r = put_update(c, b, G.size) == 0 ? send_buf(c, b) : -1;
			vbuf_free(b);
		}
		return r;
	}
	if (c->state == D_CR) {
		struct rdp_x224_cr cr;

		if (rdp_x224_parse_cr(&pdu, &cr) != 0 ||
		    !(cr.requested_protocols & RDP_PROTOCOL_SSL))
			return -1;
		b = nb();
		r = rdp_x224_write_cc(b, 0, RDP_PROTOCOL_SSL) == 0
		    ? send_buf(c, b)
		    : -1;
		vbuf_free(b);
		if (r != 0)
			return -1;
		c->state = D_TLS;
		return 1; /* the caller starts TLS */
	}
	if (rdp_x224_parse_data(&pdu, &mcs) != 0)
		return -1;
	if (c->state == D_CI || c->state == D_TLS) {
		c->state = D_DOMAIN;
		return desk_connect_response(c, &mcs);
	}
	if (rdp_mcs_parse_domain(&mcs, &m) != 0)
		return -1;
	switch (m.type) {
	case RDP_MCS_ERECT_DOMAIN_REQUEST:
		return 0;
	case RDP_MCS_ATTACH_USER_REQUEST: {
		unsigned char auc[4] = { 0x2E, 0, (SERVER_USER - 1001) >> 8,
			(SERVER_USER - 1001) & 0xFF };

		c->user = SERVER_USER;
		return send_x224(c, auc, sizeof(auc));
	}
	case RDP_MCS_CHANNEL_JOIN_REQUEST:
		b = nb();
		r = rdp_mcs_write_channel_join_confirm(
			b, 0, m.initiator, m.channel_id, m.channel_id) == 0
		    ? send_buf(c, b)
		    : -1;
		vbuf_free(b);
		return r;
	case RDP_MCS_DISCONNECT_PROVIDER_ULTIMATUM:
		return -1;
	case RDP_MCS_SEND_DATA_REQUEST:
		break;
	default:
		return 0;
	}
	if (m.channel_id == DYN_CHANNEL)
		return desk_dvc(c, &m.data);
	if (m.channel_id != IO_CHANNEL || vbuf_len(&m.data) < 4)
		return 0;
	p = vbuf_ptr(&m.data);
	n = vbuf_len(&m.data);
	if (c->state == D_DOMAIN) {
		if (!(p[0] & RDP_SEC_INFO_PKT))
			return 0;
		c->state = D_SHARE;
		return desk_license_and_demand(c);
	}
	/* Share Control from the client: the Font List ends finalization */
	if (n >= 18 && (p[2] & 0xF) == RDP_PDUTYPE_DATA && p[14] == 0x27)
		return desk_finalize(c);
	return 0;
}

/* --- the client ---------------------------------------------------- */

static void start_more(void);

static int
cli_send_ci(struct conn *c)
{
	static const unsigned char names[1][8] = { "drdynvc" };
	struct vbuf *out = nb();
	int r = rdppeer_put_connect_initial(
		    out, "bench", RDP_PROTOCOL_SSL, names, 1, 0xC0800000u) == 0
	    ? send_buf(c, out)
	    : -1;

	vbuf_free(out);
	return r;
}

static int
cli_join_next(struct conn *c)
{
	unsigned char j[5] = { 0x38 };
	uint16_t id = c->joins[c->joined];

	j[1] = (unsigned char)((c->user - 1001) >> 8);
	j[2] = (unsigned char)((c->user - 1001) & 0xFF);
	j[3] = (unsigned char)(id >> 8);
	j[4] = (unsigned char)(id & 0xFF);
	return send_x224(c, j, sizeof(j));
}

static int
cli_client_info(struct conn *c)
{
	struct vbuf *b = nb();
	int r = rdppeer_put_client_info(b, 0x3 | 0x10 | 0x100 | 0x40 | 0x40000,
		    "bench", "", "C:\\") == 0
	    ? send_mcs(c, c->io, vbuf_ptr(b), vbuf_len(b))
	    : -1;

	vbuf_free(b);
	return r;
}

static int
cli_confirm_and_finalize(struct conn *c)
{
	struct vbuf *caps = nb(), *pdu = nb();
	struct rdppeer_finalize f;
	int ncaps, r = -1;

	if ((ncaps = put_caps(caps, 0)) < 0 ||
	    rdppeer_put_confirm_active(
		pdu, c->user, c->share_id, caps, (unsigned int)ncaps) != 0)
		goto out;
	if (send_mcs(c, c->io, vbuf_ptr(pdu), vbuf_len(pdu)) != 0)
		goto out;
	rdppeer_finalize_init(&f);
	if (send_data_pdu(c, c->user, 0x1F, f.sync, sizeof(f.sync)) != 0 ||
	    send_data_pdu(c, c->user, 0x14, f.coop, sizeof(f.coop)) != 0 ||
	    send_data_pdu(c, c->user, 0x14, f.req, sizeof(f.req)) != 0 ||
	    send_data_pdu(c, c->user, 0x27, f.fonts, sizeof(f.fonts)) != 0)
		goto out;
	r = 0;
out:
	vbuf_free(caps);
	vbuf_free(pdu);
	return r;
}

static void
cli_send_input(struct conn *c)
{
	/* one fast-path mouse move */
	unsigned char in[9] = { 0x04, 9, 0x20, 0x00, 0x08 };

	rdppeer_p16(in + 5, (unsigned int)(c->id % 1000));
	rdppeer_p16(in + 7, 100);
	c->t_ping = now();
	c->ping_out = 1;
	if (bufferevent_write(c->bev, in, sizeof(in)) != 0)
		conn_free(c, "write");
}

static void
cli_tick(evutil_socket_t fd, short ev, void *arg)
{
	struct conn *c = arg;
	struct timeval tv = { G.interval_ms / 1000,
		(G.interval_ms % 1000) * 1000 };

	(void)fd;
	(void)ev;
	if (!c->ping_out)
		cli_send_input(c);
	evtimer_add(c->timer, &tv);
}

static void
cli_frame(struct conn *c)
{
	double t = now();

	if (c->state == C_ACTIVE) {
		c->state = C_RUN;
		c->t_first = t;
		G.first_ms[G.nfirst++] = (t - c->t_start) * 1000;
		if (G.mode == M_ECHO) {
			/* spread the first pings over one interval */
			struct timeval tv = { 0,
				(suseconds_t)(rand() %
				    (G.interval_ms * 1000)) };

			c->timer = evtimer_new(G.base, cli_tick, c);
			evtimer_add(c->timer, &tv);
		}
		return;
	}
	if (c->ping_out) {
		c->ping_out = 0;
		if (G.nlat < LAT_MAX && G.ready_said)
			G.lat_us[G.nlat++] = (t - c->t_ping) * 1e6;
	}
}

static void
cli_up(struct conn *c)
{
	c->t_ready = now();
	c->state = C_ACTIVE;
	G.up++;
	G.inflight--;
	G.connect_ms[G.nconnect++] = (c->t_ready - c->t_start) * 1000;
	start_more();
	check_ready();
}

static int
cli_io(struct conn *c, const struct vbuf *data)
{
	const unsigned char *p = vbuf_ptr(data);
	size_t n = vbuf_len(data);

	if (c->state == C_LICENSE) {
		if (!rdp_sec_is_license(data))
			return -1;
		c->state = C_DEMAND;
		return 0;
	}
	if (n < 6)
		return 0;
	if ((p[2] & 0xF) == RDP_PDUTYPE_DEMANDACTIVE && n >= 10) {
		c->share_id = (uint32_t)p[6] | (uint32_t)p[7] << 8 |
		    (uint32_t)p[8] << 16 | (uint32_t)p[9] << 24;
		c->state = C_FONTMAP;
		return cli_confirm_and_finalize(c);
	}
	if ((p[2] & 0xF) == RDP_PDUTYPE_DATA && n >= 18 && p[14] == 0x28 &&
	    c->state == C_FONTMAP)
		cli_up(c);
	return 0;
}

static int
cli_dyn(struct conn *c, const struct vbuf *data)
{
	const unsigned char *p = vbuf_ptr(data);
	size_t n = vbuf_len(data);
	uint8_t cmd;

	if (n < 9)
		return 0;
	p += 8;
	n -= 8;
	cmd = p[0] >> 4;
	if (cmd == 0x5) {
		unsigned char rsp[4] = { 0x50, 0x00, 0x02, 0x00 };

		return send_dyn(c, rsp, sizeof(rsp));
	}
	if (cmd == 0x1 && n >= 2) {
		unsigned char rsp[6] = { 0x10, p[1], 0, 0, 0, 0 };

		return send_dyn(c, rsp, sizeof(rsp));
	}
	if (cmd == 0x2 && n >= 6) { /* Data First, 4-byte Len */
		c->gfx_left = (long)((uint32_t)p[2] | (uint32_t)p[3] << 8 |
				  (uint32_t)p[4] << 16 | (uint32_t)p[5] << 24) -
		    (long)(n - 6);
		return 0;
	}
	if (cmd == 0x3) { /* Data: the frame is whole when nothing is left */
		c->gfx_left -= (long)(n - 2);
		if (c->gfx_left <= 0) {
			c->gfx_left = 0;
			cli_frame(c);
		}
	}
	return 0;
}

static int
cli_pdu(struct conn *c, const unsigned char *p, size_t n)
{
	struct vbuf pdu, mcs;
	struct rdp_mcs_pdu m;

	vbuf_init_view(&pdu, p, n);
	if (p[0] != 3) {
		if (c->state >= C_ACTIVE)
			cli_frame(c);
		return 0;
	}
	if (c->state == C_CC) {
		struct rdp_x224_cc cc;

		if (rdp_x224_parse_cc(&pdu, &cc) != 0 || cc.failure ||
		    cc.selected_protocol != RDP_PROTOCOL_SSL)
			return -1;
		c->state = C_INNER;
		return 1; /* the caller starts TLS */
	}
	if (rdp_x224_parse_data(&pdu, &mcs) != 0)
		return -1;
	if (c->state == C_CONNRESP) {
		struct rdp_mcs_connect_response cr;
		struct rdp_gcc_server s;
		struct vbuf blocks;
		uint16_t node;
		uint32_t tag;
		static const unsigned char ed[] = { 0x04, 0x01, 0x00, 0x01,
			0x00 };
		static const unsigned char au[] = { 0x28 };

		if (rdp_mcs_parse_connect_response(&mcs, &cr) != 0 ||
		    cr.result != 0 ||
		    rdp_gcc_parse_create_response(
			&cr.user_data, &node, &tag, &blocks) != 0 ||
		    rdp_gcc_parse_server_blocks(&blocks, &s) != 0 ||
		    s.nchannels < 1)
			return -1;
		c->io = s.io_channel;
		c->dyn = s.ids[0];
		c->state = C_ATTACH;
		return send_x224(c, ed, sizeof(ed)) != 0 ||
			send_x224(c, au, sizeof(au)) != 0
		    ? -1
		    : 0;
	}
	if (rdp_mcs_parse_domain(&mcs, &m) != 0)
		return -1;
	switch (m.type) {
	case RDP_MCS_ATTACH_USER_CONFIRM:
		if (c->state != C_ATTACH || m.result != 0)
			return -1;
		c->user = m.initiator;
		c->joins[0] = c->user;
		c->joins[1] = c->io;
		c->joins[2] = c->dyn;
		c->njoins = 3;
		c->joined = 0;
		c->state = C_JOIN;
		return cli_join_next(c);
	case RDP_MCS_CHANNEL_JOIN_CONFIRM:
		if (c->state != C_JOIN || m.result != 0)
			return -1;
		if (++c->joined < c->njoins)
			return cli_join_next(c);
		c->state = C_LICENSE;
		return cli_client_info(c);
	case RDP_MCS_DISCONNECT_PROVIDER_ULTIMATUM:
		return -1;
	case RDP_MCS_SEND_DATA_INDICATION:
		break;
	default:
		return 0;
	}
	if (m.channel_id == c->io)
		return cli_io(c, &m.data);
	if (m.channel_id == c->dyn)
		return cli_dyn(c, &m.data);
	return 0;
}

/* --- connections --------------------------------------------------- */

static void conn_read(struct bufferevent *bev, void *arg);
static void conn_event(struct bufferevent *bev, short what, void *arg);
static void desk_write(struct bufferevent *bev, void *arg);

static void
conn_set_cb(struct conn *c)
{
	bufferevent_setcb(c->bev, conn_read,
	    c->desktop && G.mode == M_STREAM ? desk_write : NULL, conn_event,
	    c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	if (c->desktop && G.mode == M_STREAM)
		bufferevent_setwatermark(c->bev, EV_WRITE, 64 * 1024, 0);
}

static void
conn_free(struct conn *c, const char *why)
{
	if (c->state == C_DEAD)
		return;
	if (!c->desktop) {
		if (c->state < C_ACTIVE) {
			G.failed++;
			G.inflight--;
			say("event=connect_failed conn=%d state=%d why=%s",
			    c->id, c->state, why);
			start_more();
			check_ready();
		} else if (why != NULL) {
			G.dropped++;
			say("event=dropped conn=%d why=%s", c->id, why);
		}
		G.conns[c->id] = NULL;
	} else if (why != NULL && !G.finishing && c->state != D_RUN)
		say("event=desktop_closed state=%d why=%s", c->state, why);
	c->state = C_DEAD;
	if (c->timer != NULL)
		event_free(c->timer);
	bufferevent_free(c->bev);
	free(c);
}

static void
desk_write(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	(void)bev;
	if (c->state == D_RUN && (G.work == W_FASTPATH || c->dvc_open))
		desk_stream(c);
}

static void
conn_read(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	long len;
	int r;

	for (;;) {
		if (!c->desktop && c->state == C_HTTP) {
			struct evbuffer_ptr e =
			    evbuffer_search(in, "\r\n\r\n", 4, NULL);
			char line[16] = { 0 };

			if (e.pos < 0) {
				if (evbuffer_get_length(in) > 16384)
					goto bad;
				return;
			}
			evbuffer_copyout(in, line, sizeof(line) - 1);
			if (strncmp(line, "HTTP/1.1 101", 12) != 0) {
				char body[512] = { 0 };

				evbuffer_copyout(in, body, sizeof(body) - 1);
				body[strcspn(body, "\r\n")] = '\0';
				conn_free(c, body);
				return;
			}
			evbuffer_drain(in, (size_t)e.pos + 4);
			c->state = C_CC;
			{
				struct vbuf *b = nb();

				r = rdp_x224_write_cr(
					b, "bench", RDP_PROTOCOL_SSL) == 0
				    ? send_buf(c, b)
				    : -1;
				vbuf_free(b);
				if (r != 0)
					goto bad;
			}
			continue;
		}
		if (!c->desktop && c->state == C_RUN && G.mode != M_ECHO) {
			/* streaming: count, do not parse */
			G.bytes += evbuffer_get_length(in);
			evbuffer_drain(in, evbuffer_get_length(in));
			return;
		}
		if ((len = frame_len(in)) < 0)
			goto bad;
		if (len == 0 || evbuffer_get_length(in) < (size_t)len)
			return;
		if (len < 4)
			goto bad;
		if (!c->desktop && c->state == C_RUN)
			G.bytes += (uint64_t)len;
		{
			unsigned char *p = evbuffer_pullup(in, len);

			r = c->desktop ? desk_pdu(c, p, (size_t)len)
				       : cli_pdu(c, p, (size_t)len);
		}
		if (c->state == C_DEAD)
			return;
		if (r < 0)
			goto bad;
		if (r == 1) {
			/* X.224 done: TLS inside the stream from here */
			SSL *ssl =
			    SSL_new(c->desktop ? G.srv_ctx : G.inner_ctx);
			struct bufferevent *f;

			evbuffer_drain(in, (size_t)len);
			f = ssl == NULL
			    ? NULL
			    : bufferevent_openssl_filter_new(G.base, bev, ssl,
				  c->desktop ? BUFFEREVENT_SSL_ACCEPTING
					     : BUFFEREVENT_SSL_CONNECTING,
				  BEV_OPT_CLOSE_ON_FREE);
			if (f == NULL)
				goto bad;
			c->bev = f;
			conn_set_cb(c);
			return;
		}
		evbuffer_drain(in, (size_t)len);
	}
bad:
	conn_free(c, "protocol");
}

static void
conn_event(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;
	char why[128];

	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		if (c->desktop) {
			if (c->state == D_TLS)
				c->state = D_CI;
			return;
		}
		if (c->id == 0) {
			SSL *ssl = bufferevent_openssl_get_ssl(c->bev);

			if (ssl != NULL)
				say("event=tls layer=%s cipher=%s version=%s",
				    c->state == C_CONNECTING ? "outer"
							     : "inner",
				    SSL_get_cipher_name(ssl),
				    SSL_get_version(ssl));
		}
		if (c->state == C_CONNECTING) {
			if (G.transport == T_GATEWAY) {
				char *tok = mint_token(c->id);

				evbuffer_add_printf(
				    bufferevent_get_output(c->bev),
				    "GET /v1/tunnel HTTP/1.1\r\nHost: %s\r\n"
				    "Authorization: Bearer %s\r\n"
				    "Connection: Upgrade\r\nUpgrade: "
				    "vdi-rdp\r\n\r\n",
				    G.host, tok);
				free(tok);
				c->state = C_HTTP;
			} else {
				struct vbuf *b = nb();
				int r = rdp_x224_write_cr(
					    b, "bench", RDP_PROTOCOL_SSL) == 0
				    ? send_buf(c, b)
				    : -1;

				vbuf_free(b);
				c->state = C_CC;
				if (r != 0)
					conn_free(c, "write");
			}
		} else if (c->state == C_INNER) {
			c->state = C_CONNRESP;
			if (cli_send_ci(c) != 0)
				conn_free(c, "write");
		}
		return;
	}
	if (what & BEV_EVENT_EOF)
		snprintf(why, sizeof(why), "eof");
	else {
		unsigned long e = bufferevent_get_openssl_error(c->bev);

		snprintf(why, sizeof(why), "error:%s:%s",
		    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()),
		    e ? ERR_reason_error_string(e) : "-");
	}
	if (c->desktop && c->state < D_CI) {
		/* health probes stop early */
		conn_free(c, NULL);
		return;
	}
	conn_free(c, why);
}

static void
desk_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct conn *c = calloc(1, sizeof(*c));
	int one = 1;

	(void)l;
	(void)sa;
	(void)salen;
	(void)arg;
	if (c == NULL) {
		close(fd);
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->desktop = 1;
	c->state = D_CR;
	c->bev = bufferevent_socket_new(G.base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		close(fd);
		free(c);
		return;
	}
	conn_set_cb(c);
	if (G.mode == M_STREAM) {
		struct timeval tv = { 0, 10000 };

		c->timer = evtimer_new(G.base, desk_tick, c);
		evtimer_add(c->timer, &tv);
	}
}

static void
start_one(void)
{
	struct conn *c = calloc(1, sizeof(*c));
	int fd, one = 1;

	if (c == NULL)
		die("out of memory");
	c->id = G.started++;
	c->t_start = now();
	G.conns[c->id] = c;
	G.inflight++;
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0) {
		say("event=connect_failed conn=%d why=socket:%s", c->id,
		    strerror(errno));
		G.conns[c->id] = NULL;
		G.failed++;
		G.inflight--;
		free(c);
		check_ready();
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	evutil_make_socket_nonblocking(fd);
	if (G.transport == T_DIRECT) {
		c->bev =
		    bufferevent_socket_new(G.base, fd, BEV_OPT_CLOSE_ON_FREE);
	} else {
		SSL *ssl = SSL_new(G.outer_ctx);

		if (ssl == NULL)
			die("SSL_new");
		if (vdi_tls_set_peer_host(ssl, G.host) != 0)
			die("vdi_tls_set_peer_host");
		c->bev = bufferevent_openssl_socket_new(G.base, fd, ssl,
		    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
	}
	if (c->bev == NULL)
		die("bufferevent");
	c->state = C_CONNECTING;
	conn_set_cb(c);
	if (bufferevent_socket_connect(
		c->bev, (struct sockaddr *)&G.target, sizeof(G.target)) != 0)
		conn_free(c, "connect");
}

static void
start_more(void)
{
	while (!G.finishing && G.started < G.n && G.inflight < G.parallel)
		start_one();
}

static void
finish(void)
{
	double t = now(), secs;
	int i;

	if (G.finishing)
		return;
	G.finishing = 1;
	secs = G.t_all_up > 0 ? t - G.t_all_up : t - G.t0;
	for (i = 0; i < G.started; i++)
		if (G.conns[i] != NULL)
			conn_free(G.conns[i], NULL);
	say("event=done sessions=%d errors=%d dropped=%d bytes=%llu "
	    "seconds=%.3f lat_n=%zu lat_us_p50=%.0f lat_us_p99=%.0f "
	    "lat_us_max=%.0f first_frame_ms_p50=%.1f first_frame_ms_max=%.1f",
	    G.up, G.failed, G.dropped, (unsigned long long)G.bytes, secs,
	    G.nlat, quant(G.lat_us, G.nlat, .5), quant(G.lat_us, G.nlat, .99),
	    quant(G.lat_us, G.nlat, 1), quant(G.first_ms, G.nfirst, .5),
	    quant(G.first_ms, G.nfirst, 1));
	event_base_loopexit(G.base, NULL);
}

static void
on_signal(evutil_socket_t sig, short ev, void *arg)
{
	(void)sig;
	(void)ev;
	(void)arg;
	if (G.desktop)
		event_base_loopexit(G.base, NULL);
	else
		finish();
}

static void
on_end(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	finish();
}

static SSL_CTX *
tls_ctx(
    enum vdi_tls_role role, const char *cert, const char *key, const char *ca)
{
	struct vdi_tls_config tc;
	struct vdi_tls_ca tca = { NULL, ca, NULL };
	char err[VDI_TLS_ERR_SIZE];
	SSL_CTX *ctx;

	memset(&tc, 0, sizeof(tc));
	tc.role = role;
	tc.cert_file = cert;
	tc.key_file = key;
	if (ca != NULL) {
		tc.cas = &tca;
		tc.ncas = 1;
	} else
		tc.flags = VDI_TLS_VERIFY_NONE;
	if (role == VDI_TLS_SERVER) {
		/* an RDP desktop: no client certificate, any TLS client */
		if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL ||
		    SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
		    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) !=
			1)
			die("cannot load the desktop certificate");
		return ctx;
	}
	if (vdi_tls_ctx_new(&tc, &ctx, err, sizeof(err)) != 0)
		die(err);
	return ctx;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: " PROG " desktop -c CERT -k KEY -P PORTFILE [-m MODE] "
	    "[-w fastpath|gfx] [-r BYTES/S] [-s SIZE]\n"
	    "       " PROG " client -t HOST:PORT [-T direct|tls|gateway] -n N "
	    "[-m MODE] [-d SECONDS] [-i MS] [-p PARALLEL]\n"
	    "              [-c DEV.pem -k DEV.key -C CA.pem] "
	    "[-j TOKEN-FILE -K SIGNING-KEY]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *cert = NULL, *key = NULL, *ca = NULL, *portfile = NULL,
		   *target = NULL, *tokfile = NULL, *signkey = NULL;
	struct rlimit rl;
	int ch, as_is = 0;
	size_t i;

	if (argc < 2)
		usage();
	if (strcmp(argv[1], "desktop") == 0)
		G.desktop = 1;
	else if (strcmp(argv[1], "client") != 0)
		usage();
	argv++;
	argc--;
	G.n = 1;
	G.parallel = 64;
	G.interval_ms = 200;
	while ((ch = getopt(argc, argv, "c:k:C:P:m:w:r:s:t:T:n:d:i:p:j:JK:")) !=
	    -1) {
		switch (ch) {
		case 'c':
			cert = optarg;
			break;
		case 'k':
			key = optarg;
			break;
		case 'C':
			ca = optarg;
			break;
		case 'P':
			portfile = optarg;
			break;
		case 'm':
			if (strcmp(optarg, "idle") == 0)
				G.mode = M_IDLE;
			else if (strcmp(optarg, "stream") == 0)
				G.mode = M_STREAM;
			else if (strcmp(optarg, "echo") == 0)
				G.mode = M_ECHO;
			else
				usage();
			break;
		case 'w':
			if (strcmp(optarg, "fastpath") == 0)
				G.work = W_FASTPATH;
			else if (strcmp(optarg, "gfx") == 0)
				G.work = W_GFX;
			else
				usage();
			break;
		case 'r':
			G.rate = atof(optarg);
			break;
		case 's':
			G.size = (size_t)atol(optarg);
			break;
		case 't':
			target = optarg;
			break;
		case 'T':
			if (strcmp(optarg, "direct") == 0)
				G.transport = T_DIRECT;
			else if (strcmp(optarg, "tls") == 0)
				G.transport = T_TLS;
			else if (strcmp(optarg, "gateway") == 0)
				G.transport = T_GATEWAY;
			else
				usage();
			break;
		case 'n':
			G.n = atoi(optarg);
			break;
		case 'd':
			G.duration = atof(optarg);
			break;
		case 'i':
			G.interval_ms = atoi(optarg);
			break;
		case 'p':
			G.parallel = atoi(optarg);
			break;
		case 'j':
			tokfile = optarg;
			break;
		case 'K':
			signkey = optarg;
			break;
		case 'J':
			as_is = 1;
			break;
		default:
			usage();
		}
	}
	if (G.size == 0)
		G.size = G.work == W_GFX ? 64000 : 16000;
	if (G.n < 1 || G.parallel < 1 || G.interval_ms < 1 || G.size > OUT_MAX)
		usage();
	signal(SIGPIPE, SIG_IGN);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	if ((G.payload = malloc(OUT_MAX)) == NULL)
		die("out of memory");
	for (i = 0; i < OUT_MAX; i++)
		G.payload[i] = (unsigned char)(i * 2654435761u >> 13);
	if ((G.base = event_base_new()) == NULL)
		die("event_base_new");
	G.sig_term = evsignal_new(G.base, SIGTERM, on_signal, NULL);
	G.sig_int = evsignal_new(G.base, SIGINT, on_signal, NULL);
	evsignal_add(G.sig_term, NULL);
	evsignal_add(G.sig_int, NULL);
	if (G.desktop) {
		struct sockaddr_in sin;
		socklen_t sl = sizeof(sin);
		struct evconnlistener *l;
		char tmp[4096];
		FILE *f;

		if (cert == NULL || key == NULL || portfile == NULL)
			usage();
		G.srv_ctx = tls_ctx(VDI_TLS_SERVER, cert, key, NULL);
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		l = evconnlistener_new_bind(G.base, desk_accept, NULL,
		    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 4096,
		    (struct sockaddr *)&sin, sizeof(sin));
		if (l == NULL)
			die("cannot listen");
		getsockname(
		    evconnlistener_get_fd(l), (struct sockaddr *)&sin, &sl);
		snprintf(tmp, sizeof(tmp), "%s.tmp", portfile);
		if ((f = fopen(tmp, "w")) == NULL)
			die("cannot write the port file");
		fprintf(f, "%u\n", ntohs(sin.sin_port));
		fclose(f);
		if (rename(tmp, portfile) != 0)
			die("cannot write the port file");
		say("event=listening port=%u mode=%d work=%d size=%zu "
		    "rate=%.0f",
		    ntohs(sin.sin_port), G.mode, G.work, G.size, G.rate);
		event_base_dispatch(G.base);
		evconnlistener_free(l);
		return 0;
	}
	if (target == NULL)
		usage();
	{
		const char *colon = strrchr(target, ':');

		if (colon == NULL || (size_t)(colon - target) >= sizeof(G.host))
			usage();
		memcpy(G.host, target, (size_t)(colon - target));
		G.target.sin_family = AF_INET;
		G.target.sin_port = htons((uint16_t)atoi(colon + 1));
		if (inet_pton(AF_INET, G.host, &G.target.sin_addr) != 1)
			usage();
	}
	G.inner_ctx = tls_ctx(VDI_TLS_CLIENT, NULL, NULL, NULL);
	if (G.transport != T_DIRECT) {
		if (cert == NULL || key == NULL || ca == NULL)
			usage();
		G.outer_ctx = tls_ctx(VDI_TLS_CLIENT, cert, key, ca);
	}
	if (G.transport == T_GATEWAY && as_is) {
		char tok[16384];
		FILE *f = tokfile != NULL ? fopen(tokfile, "r") : NULL;

		if (f == NULL || fgets(tok, sizeof(tok), f) == NULL || G.n != 1)
			usage();
		fclose(f);
		tok[strcspn(tok, "\r\n")] = '\0';
		G.token_as_is = strdup(tok);
	} else if (G.transport == T_GATEWAY) {
		if (tokfile == NULL || signkey == NULL)
			usage();
		load_token(tokfile, signkey);
	}
	G.conns = calloc((size_t)G.n, sizeof(*G.conns));
	G.connect_ms = calloc((size_t)G.n, sizeof(double));
	G.first_ms = calloc((size_t)G.n, sizeof(double));
	G.lat_us = G.mode == M_ECHO ? calloc(LAT_MAX, sizeof(double)) : NULL;
	if (G.conns == NULL || G.connect_ms == NULL || G.first_ms == NULL ||
	    (G.mode == M_ECHO && G.lat_us == NULL))
		die("out of memory");
	G.end_timer = evtimer_new(G.base, on_end, NULL);
	G.t0 = now();
	srand((unsigned int)getpid());
	start_more();
	event_base_dispatch(G.base);
	return G.failed > 0 || G.dropped > 0 ? 1 : 0;
}
