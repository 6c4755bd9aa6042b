/*
 * rdp-capture-proxy.c: a TLS-terminating RDP proxy that records every PDU
 * of one session, for building test inputs. Tests only: it checks nothing
 * and must never face a real network.
 *
 *   rdp-capture-proxy -l 127.0.0.1:13389 -s 127.0.0.1:3389 \
 *       -c cert.pem -k key.pem -o outdir [-n maxfiles]
 *
 * It accepts one client, relays the X.224 Connection Request and Confirm
 * in clear (recording both), then, when the server selected SSL (1), does
 * TLS as server to the client (with cert.pem / key.pem) and TLS as client
 * to the server (no verification), and relays the decrypted streams. Each
 * PDU (split with rdp_frame_next) is written to outdir/NNNN-c2s.bin or
 * outdir/NNNN-s2c.bin, NNNN counting PDUs of both directions in the order
 * they were seen; at most maxfiles files are written (default 2000), the
 * relay goes on after that. It exits when either side closes.
 *
 * With -r it also applies the gateway's rewriters (rdp/) the way
 * the relay will, so that real clients and desktops show whether they
 * accept the rewritten PDUs: the MCS Connect Initial / Response (channel
 * allowlist, fake ids, whose Channel Join Requests it answers itself and
 * whose data it drops), the Client Info PDU, the capability exchange and
 * I/O channel data, the drdynvc channel (DVC filter, re-chunked) and the
 * fast-path checks; -a allows audio_out. A PDU that was changed is also
 * written as NNNN-dir.fwd.bin (what was forwarded, empty when dropped), and
 * PDUs the proxy made up as NNNN-dir.local.bin. It stops at the first
 * verdict that says close, printing the reason.
 */
#include "config.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "rdp/caps.h"
#include "rdp/dvc.h"
#include "rdp/frame.h"
#include "rdp/gcc.h"
#include "rdp/info.h"
#include "rdp/mcs.h"
#include "rdp/sec.h"
#include "rdp/svc.h"
#include "rdp/x224.h"
#include "vbuf.h"

#define BUF_MAX (1u << 20)

struct side {
	const char *name; /* direction of the bytes read from this side */
	int fd;
	SSL *ssl;
	struct vbuf *in; /* bytes read, not yet split into PDUs */
};

static const char *outdir = ".";
static unsigned long seq, maxfiles = 2000;

/* Rewrite mode (-r): the relay's state. */
static int rewrite;
static struct {
	struct rdp_policy pol;
	uint32_t client_requested; /* from the client's X.224 CR */
	uint32_t selected;         /* from the server's CC */
	int ci_done, crsp_done, info_done, licensing;
	struct rdp_share_state share;
	struct rdp_gcc_map map;
	uint16_t drdynvc; /* 0 until the response is rewritten */
	struct rdp_svc_stream dyn[2];
	struct rdp_dvc_table dvc;
	struct rdp_dvc_result dres;
} rs;

static void
die(const char *what)
{
	fprintf(stderr, "rdp-capture-proxy: %s: %s\n", what,
	    errno ? strerror(errno) : "failed");
	ERR_print_errors_fp(stderr);
	exit(1);
}

static int
split_hostport(const char *s, struct sockaddr_in *sin)
{
	char host[256];
	const char *colon = strrchr(s, ':');

	if (colon == NULL || (size_t)(colon - s) >= sizeof(host))
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)atoi(colon + 1));
	return inet_pton(AF_INET, host, &sin->sin_addr) == 1 ? 0 : -1;
}

static void
record_as(unsigned long n_, const char *dir, const char *suffix,
    const unsigned char *p, size_t n)
{
	char path[4096];
	FILE *f;

	if (n_ >= maxfiles)
		return;
	snprintf(
	    path, sizeof(path), "%s/%04lu-%s%s.bin", outdir, n_, dir, suffix);
	if ((f = fopen(path, "wb")) == NULL)
		die(path);
	if ((n > 0 && fwrite(p, 1, n, f) != n) || fclose(f) != 0)
		die(path);
}

static void
record(const char *dir, const unsigned char *p, size_t n)
{
	record_as(seq++, dir, "", p, n);
}

static void
write_all(struct side *to, const unsigned char *p, size_t n)
{
	while (n > 0) {
		ssize_t w;

		if (to->ssl != NULL) {
			int r = SSL_write(to->ssl, p, (int)n);

			if (r <= 0)
				die("SSL_write");
			w = r;
		} else if ((w = write(to->fd, p, n)) < 0) {
			if (errno == EINTR)
				continue;
			die("write");
		}
		p += w;
		n -= (size_t)w;
	}
}

/* Reads what is available from s into s->in. Returns 0 on EOF. */
static int
fill(struct side *s)
{
	unsigned char tmp[16384];
	ssize_t n;

	if (s->ssl != NULL) {
		int r = SSL_read(s->ssl, tmp, sizeof(tmp));

		if (r <= 0) {
			int e = SSL_get_error(s->ssl, r);

			if (e == SSL_ERROR_WANT_READ)
				return 1;
			return 0;
		}
		n = r;
	} else if ((n = read(s->fd, tmp, sizeof(tmp))) <= 0)
		return 0;
	if (vbuf_put(s->in, tmp, (size_t)n) != 0)
		die("buffer full");
	return 1;
}

static void
closing(const char *why)
{
	fprintf(stderr, "rdp-capture-proxy: close: %s\n", why);
	exit(3);
}

static struct vbuf *
new_out(void)
{
	struct vbuf *b = vbuf_new(4u << 20);

	if (b == NULL)
		die("vbuf_new");
	return b;
}

/* Forwards out instead of the PDU recorded as number n. */
static void
forward_changed(
    struct side *to, unsigned long n, const char *dir, const struct vbuf *out)
{
	record_as(n, dir, ".fwd", vbuf_ptr(out), vbuf_len(out));
	write_all(to, vbuf_ptr(out), vbuf_len(out));
}

/* Sends a PDU the proxy made up. */
static void
send_local(struct side *to, const char *dir, const struct vbuf *out)
{
	record_as(seq++, dir, ".local", vbuf_ptr(out), vbuf_len(out));
	write_all(to, vbuf_ptr(out), vbuf_len(out));
}

/* One drdynvc chunk through reassembly and the DVC filter. */
static void
relay_drdynvc(struct side *from, struct side *to, enum rdp_dir dir,
    unsigned long n, const struct rdp_mcs_pdu *p, struct vbuf *out)
{
	static uint32_t show[2];
	struct rdp_svc_chunk c;
	struct rdp_svc_step st;
	struct vbuf m, *back;
	size_t i;
	int r, ind = dir == RDP_S2C;

	if ((r = rdp_svc_parse_chunk(&p->data, &c)) != 0 ||
	    (r = rdp_svc_stream_feed(&rs.dyn[dir], &c, &st)) != 0)
		closing(vdi_errname(r));
	if (st.first)
		show[dir] = c.flags & RDP_CHANNEL_FLAG_SHOW_PROTOCOL;
	if (!st.last) {
		forward_changed(to, n, from->name, out); /* held: nothing */
		return;
	}
	if ((r = rdp_dvc_filter(&rs.dvc, &rs.pol, dir, &st.msg, &rs.dres)) != 0)
		closing(vdi_errname(r));
	if (rs.dres.v.reason[0] != '\0')
		fprintf(stderr, "rdp-capture-proxy: %s: dvc %s %s\n",
		    from->name, rdp_action_name(rs.dres.v.action),
		    rs.dres.v.reason);
	switch (rs.dres.v.action) {
	case RDP_CLOSE:
		closing(rs.dres.v.reason);
		break;
	case RDP_PASS:
		if (rdp_svc_write_message(out, ind, p->initiator, p->channel_id,
			vbuf_ptr(&st.msg), vbuf_len(&st.msg), show[dir],
			0) != 0)
			die("svc write");
		break;
	case RDP_REWRITE:
		for (i = 0; i < rs.dres.out.n; i++)
			if (rdp_msgs_get(&rs.dres.out, i, &m) != 0 ||
			    rdp_svc_write_message(out, ind, p->initiator,
				p->channel_id, vbuf_ptr(&m), vbuf_len(&m),
				show[dir], 0) != 0)
				die("svc write");
		break;
	case RDP_DROP:
		break;
	}
	forward_changed(to, n, from->name, out);
	if (rs.dres.reply.n == 0)
		return;
	back = new_out();
	for (i = 0; i < rs.dres.reply.n; i++)
		if (rdp_msgs_get(&rs.dres.reply, i, &m) != 0 ||
		    rdp_svc_write_message(back, !ind, p->initiator,
			p->channel_id, vbuf_ptr(&m), vbuf_len(&m), 0, 0) != 0)
			die("svc write");
	send_local(from, to->name, back);
	vbuf_free(back);
}

/* I/O channel data: Client Info, licensing, then Share Control PDUs. */
static void
relay_io(struct side *from, struct side *to, enum rdp_dir dir, unsigned long n,
    const struct vbuf *pdu, const struct rdp_mcs_pdu *p, struct vbuf *out)
{
	struct vbuf *tmp = new_out();
	struct rdp_io_events ev;
	struct rdp_verdict v;
	struct rdp_license l;
	int r, ind = dir == RDP_S2C;

	if (dir == RDP_C2S && !rs.info_done) {
		if ((r = rdp_info_rewrite(&p->data, &rs.pol, NULL, tmp)) != 0)
			closing(vdi_errname(r));
		rs.info_done = rs.licensing = 1;
		goto rewritten;
	}
	if (rs.licensing && rdp_sec_is_license(&p->data)) {
		if ((r = rdp_sec_parse_license(&p->data, dir, &l)) != 0)
			closing(vdi_errname(r));
		if (dir == RDP_S2C &&
		    (l.msg_type == RDP_LICENSE_ERROR_ALERT ||
			l.msg_type == RDP_LICENSE_NEW_LICENSE ||
			l.msg_type == RDP_LICENSE_UPGRADE_LICENSE))
			rs.licensing = 0;
		write_all(to, vbuf_ptr(pdu), vbuf_len(pdu));
		vbuf_free(tmp);
		return;
	}
	rs.licensing = 0;
	if ((r = rdp_caps_filter_io(&p->data, dir, &rs.share, &ev, &v, tmp)) !=
	    0)
		closing(vdi_errname(r));
	if (v.reason[0] != '\0')
		fprintf(stderr, "rdp-capture-proxy: %s: io %s %s\n", from->name,
		    rdp_action_name(v.action), v.reason);
	switch (v.action) {
	case RDP_CLOSE:
		closing(v.reason);
		break;
	case RDP_PASS:
		write_all(to, vbuf_ptr(pdu), vbuf_len(pdu));
		vbuf_free(tmp);
		return;
	case RDP_DROP:
		forward_changed(to, n, from->name, out);
		vbuf_free(tmp);
		return;
	case RDP_REWRITE:
		break;
	}
rewritten:
	if (rdp_mcs_write_send_data(out, ind, p->initiator, p->channel_id,
		vbuf_ptr(tmp), vbuf_len(tmp)) != 0)
		die("send data");
	forward_changed(to, n, from->name, out);
	vbuf_wipe(tmp);
	vbuf_free(tmp);
}

/* Rewrite mode: what the relay does with one PDU (already recorded as
 * number seq - 1). */
static void
relay_pdu(struct side *from, struct side *to, const struct vbuf *pdu)
{
	enum rdp_dir dir = strcmp(from->name, "c2s") == 0 ? RDP_C2S : RDP_S2C;
	unsigned long n = seq - 1;
	struct rdp_verdict v;
	struct rdp_mcs_pdu p;
	struct rdp_frame f;
	struct vbuf mcs, *out = new_out();
	unsigned int i;
	int r;

	if (rdp_frame_peek(pdu, 0, &f) == 0 && f.kind == RDP_FRAME_FASTPATH) {
		r = dir == RDP_S2C ? rdp_fastpath_check_output(pdu, &v)
				   : rdp_fastpath_check_input(pdu, &v);
		if (r != 0 || v.action == RDP_CLOSE)
			closing(r != 0 ? vdi_errname(r) : v.reason);
		goto pass;
	}
	if (rdp_x224_parse_data(pdu, &mcs) != 0)
		goto pass;
	if (dir == RDP_C2S && !rs.ci_done) {
		if ((r = rdp_mcs_rewrite_connect_initial(
			 pdu, &rs.pol, rs.selected, &rs.map, out)) != 0)
			closing(vdi_errname(r));
		for (i = 0; i < rs.map.n; i++)
			if (!rs.map.ch[i].kept)
				fprintf(stderr,
				    "rdp-capture-proxy: "
				    "channel_refused name=%s\n",
				    rs.map.ch[i].name);
		rs.ci_done = 1;
		goto changed;
	}
	if (dir == RDP_S2C && !rs.crsp_done) {
		if ((r = rdp_mcs_rewrite_connect_response(
			 pdu, rs.client_requested, &rs.map, out)) != 0)
			closing(vdi_errname(r));
		for (i = 0; i < rs.map.n; i++)
			if (rs.map.ch[i].kept &&
			    strcmp(rs.map.ch[i].name, "drdynvc") == 0)
				rs.drdynvc = rs.map.ch[i].id;
		rs.crsp_done = 1;
		goto changed;
	}
	if ((r = rdp_mcs_parse_domain(&mcs, &p)) != 0)
		closing(vdi_errname(r));
	if (p.type == RDP_MCS_CHANNEL_JOIN_REQUEST &&
	    rdp_gcc_is_fake_id(&rs.map, p.channel_id)) {
		if (rdp_mcs_write_channel_join_confirm(
			out, 0, p.initiator, p.channel_id, p.channel_id) != 0)
			die("join confirm");
		record_as(n, from->name, ".fwd", NULL, 0);
		send_local(from, to->name, out);
		vbuf_free(out);
		return;
	}
	if (p.type != RDP_MCS_SEND_DATA_REQUEST &&
	    p.type != RDP_MCS_SEND_DATA_INDICATION)
		goto pass;
	if (rdp_gcc_is_fake_id(&rs.map, p.channel_id))
		goto changed; /* dropped: out is empty */
	if (p.channel_id == rs.map.io_channel) {
		relay_io(from, to, dir, n, pdu, &p, out);
		vbuf_free(out);
		return;
	}
	if (p.channel_id == rs.drdynvc) {
		relay_drdynvc(from, to, dir, n, &p, out);
		vbuf_free(out);
		return;
	}
pass:
	write_all(to, vbuf_ptr(pdu), vbuf_len(pdu));
	vbuf_free(out);
	return;
changed:
	forward_changed(to, n, from->name, out);
	vbuf_free(out);
}

/* Records and forwards every whole PDU in from->in. */
static void
pump(struct side *from, struct side *to)
{
	struct rdp_frame f;
	struct vbuf pdu;
	int r;

	while ((r = rdp_frame_next(from->in, 0, &f, &pdu)) == 0) {
		record(from->name, vbuf_ptr(&pdu), vbuf_len(&pdu));
		if (rewrite)
			relay_pdu(from, to, &pdu);
		else
			write_all(to, vbuf_ptr(&pdu), vbuf_len(&pdu));
	}
	if (r != VDI_ERR_NEED_MORE) {
		fprintf(stderr, "rdp-capture-proxy: %s: framing: %s\n",
		    from->name, vdi_strerror(r));
		exit(1);
	}
}

/* Reads one whole TPKT in clear (the X.224 CR or CC), records and forwards
 * it; copies up to *n bytes of it to copy and sets *n to its length. */
static void
one_clear_pdu(
    struct side *from, struct side *to, unsigned char *copy, size_t *n)
{
	struct rdp_frame f;
	struct vbuf pdu;
	int r;

	for (;;) {
		r = rdp_frame_next(from->in, 0, &f, &pdu);
		if (r == 0)
			break;
		if (r != VDI_ERR_NEED_MORE || !fill(from))
			die("connection request/confirm");
	}
	record(from->name, vbuf_ptr(&pdu), vbuf_len(&pdu));
	write_all(to, vbuf_ptr(&pdu), vbuf_len(&pdu));
	memcpy(copy, vbuf_ptr(&pdu), vbuf_len(&pdu) < *n ? vbuf_len(&pdu) : *n);
	*n = vbuf_len(&pdu);
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: rdp-capture-proxy -l addr:port -s addr:port "
	    "-c cert.pem -k key.pem -o outdir [-n maxfiles] [-r [-a]]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *listen_at = NULL, *server_at = NULL, *cert = NULL,
		   *key = NULL;
	struct sockaddr_in lsin, ssin;
	struct side c = { "c2s", -1, NULL, NULL };
	struct side s = { "s2c", -1, NULL, NULL };
	SSL_CTX *sctx, *cctx;
	unsigned char cc[512], crbuf[512];
	int ch, lfd, one = 1;
	size_t cclen, crlen;

	while ((ch = getopt(argc, argv, "al:s:c:k:o:n:r")) != -1) {
		switch (ch) {
		case 'a':
			rs.pol.audio_out = 1;
			break;
		case 'r':
			rewrite = 1;
			break;
		case 'l':
			listen_at = optarg;
			break;
		case 's':
			server_at = optarg;
			break;
		case 'c':
			cert = optarg;
			break;
		case 'k':
			key = optarg;
			break;
		case 'o':
			outdir = optarg;
			break;
		case 'n':
			maxfiles = strtoul(optarg, NULL, 10);
			break;
		default:
			usage();
		}
	}
	if (listen_at == NULL || server_at == NULL || cert == NULL ||
	    key == NULL || split_hostport(listen_at, &lsin) != 0 ||
	    split_hostport(server_at, &ssin) != 0)
		usage();
	signal(SIGPIPE, SIG_IGN);
	if ((c.in = vbuf_new(BUF_MAX)) == NULL ||
	    (s.in = vbuf_new(BUF_MAX)) == NULL)
		die("vbuf_new");

	if ((lfd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		die("socket");
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&lsin, sizeof(lsin)) != 0 ||
	    listen(lfd, 1) != 0)
		die("bind/listen");
	printf("listening on %s\n", listen_at);
	fflush(stdout);
	if ((c.fd = accept(lfd, NULL, NULL)) < 0)
		die("accept");
	close(lfd);
	if ((s.fd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    connect(s.fd, (struct sockaddr *)&ssin, sizeof(ssin)) != 0)
		die("connect to server");
	setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(s.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

	/* X.224 CR and CC in clear. The CC must end with RDP_NEG_RSP
	 * (type 02) selecting SSL (1): TPKT 4, X.224 7, RDP_NEG_RSP 8. */
	crlen = sizeof(crbuf);
	one_clear_pdu(&c, &s, crbuf, &crlen);
	cclen = sizeof(cc);
	one_clear_pdu(&s, &c, cc, &cclen);
	if (cclen != 19 || cc[11] != 0x02 || cc[15] != 1 || cc[16] != 0 ||
	    cc[17] != 0 || cc[18] != 0) {
		errno = 0;
		die("server did not select SSL (run it with TLS only)");
	}
	if (rewrite) {
		struct rdp_x224_cr cr;
		struct vbuf v;

		/* The CR was recorded as file 0000; parse it again. */
		vbuf_init_view(&v, crbuf, crlen);
		if (rdp_x224_parse_cr(&v, &cr) != 0)
			die("client CR");
		rs.client_requested = cr.requested_protocols;
		rs.selected = RDP_PROTOCOL_SSL;
		rdp_svc_stream_init(&rs.dyn[0], 1, 0);
		rdp_svc_stream_init(&rs.dyn[1], 1, 0);
		rdp_dvc_table_init(&rs.dvc);
		if (rdp_dvc_result_init(&rs.dres) != 0)
			die("dvc result");
	}

	sctx = SSL_CTX_new(TLS_server_method());
	cctx = SSL_CTX_new(TLS_client_method());
	if (sctx == NULL || cctx == NULL ||
	    SSL_CTX_use_certificate_chain_file(sctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(sctx, key, SSL_FILETYPE_PEM) != 1)
		die("TLS setup");
	/* Old peers (shadow, xrdp) may still offer only TLS 1.2. */
	SSL_CTX_set_min_proto_version(sctx, TLS1_2_VERSION);
	SSL_CTX_set_min_proto_version(cctx, TLS1_2_VERSION);
	SSL_CTX_set_security_level(cctx, 0);
	SSL_CTX_set_verify(cctx, SSL_VERIFY_NONE, NULL);
	/* Blocking sockets: let SSL_read return after a non-data record (a
	 * TLS 1.3 session ticket) instead of blocking for the next one. */
	SSL_CTX_clear_mode(sctx, SSL_MODE_AUTO_RETRY);
	SSL_CTX_clear_mode(cctx, SSL_MODE_AUTO_RETRY);
	if ((c.ssl = SSL_new(sctx)) == NULL || (s.ssl = SSL_new(cctx)) == NULL)
		die("SSL_new");
	SSL_set_fd(c.ssl, c.fd);
	SSL_set_fd(s.ssl, s.fd);
	if (SSL_connect(s.ssl) != 1)
		die("TLS connect to server");
	if (SSL_accept(c.ssl) != 1)
		die("TLS accept from client");

	for (;;) {
		struct pollfd pfd[2] = { { c.fd, POLLIN, 0 },
			{ s.fd, POLLIN, 0 } };

		/* Drain what OpenSSL already decrypted before polling. */
		if (SSL_pending(c.ssl) == 0 && SSL_pending(s.ssl) == 0 &&
		    poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		if (SSL_pending(c.ssl) > 0 || pfd[0].revents) {
			if (!fill(&c))
				break;
			pump(&c, &s);
		}
		if (SSL_pending(s.ssl) > 0 || pfd[1].revents) {
			if (!fill(&s))
				break;
			pump(&s, &c);
		}
	}
	printf("done: %lu PDUs seen\n", seq);
	SSL_free(c.ssl);
	SSL_free(s.ssl);
	SSL_CTX_free(sctx);
	SSL_CTX_free(cctx);
	close(c.fd);
	close(s.fd);
	vbuf_free(c.in);
	vbuf_free(s.in);
	return 0;
}
