/*
 * pump.c: the relay pump (pump.h). Every PDU a leg of a started tunnel
 * sends goes through pump(): framed (relay_frame_len), judged and
 * rewritten by the relay engine (relay_pdu), then queued on the other leg
 * (and any answer on the same leg). Reading a leg pauses while what is
 * queued towards either leg is over SESSION_HIGH_WATER and resumes from
 * the write callback below half of it.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <openssl/crypto.h>

#include "pump.h"
#include "session.h"
#include "vlog.h"

/* Pending bytes towards one side above which the other side's reading
 * pauses; it resumes below half of it. */
#define SESSION_HIGH_WATER (1u << 20)
/* Most bytes read ahead from a side before they are relayed. */
#define SESSION_READ_AHEAD (256u << 10)

static void
wipe_free(const void *data, size_t len, void *extra)
{
	OPENSSL_cleanse((void *)(uintptr_t)data, len);
	free((void *)(uintptr_t)data);
}

/* Queues b on bev; a buffer holding a secret is handed over by reference
 * and wiped when sent. */
static int
send_vbuf(struct bufferevent *bev, struct vbuf *b, int secret)
{
	struct evbuffer *out = bufferevent_get_output(bev);
	size_t n = vbuf_len(b);
	unsigned char *copy;

	if (n == 0)
		return 0;
	if (!secret)
		return evbuffer_add(out, vbuf_ptr(b), n);
	if ((copy = malloc(n)) == NULL)
		return -1;
	memcpy(copy, vbuf_ptr(b), n);
	vbuf_wipe(b);
	if (evbuffer_add_reference(out, copy, n, wipe_free, NULL) != 0) {
		wipe_free(copy, n, NULL);
		return -1;
	}
	return 0;
}

static struct bufferevent *
side(struct session *s, enum rdp_dir dir)
{
	return dir == RDP_C2S ? s->cin : s->desk;
}

/* 1 when reading the side dir comes from must wait: what is queued
 * towards the other side, or back towards this one, is over the mark.
 * Every byte the relay queues comes from reading, so this caps both
 * outputs at the mark plus one PDU's output. */
static int
over_water(struct session *s, enum rdp_dir dir)
{
	return evbuffer_get_length(bufferevent_get_output(side(s, !dir))) >
	    SESSION_HIGH_WATER ||
	    evbuffer_get_length(bufferevent_get_output(side(s, dir))) >
	    SESSION_HIGH_WATER;
}

/*
 * Relays every whole PDU waiting on the side dir comes from. Returns 0, or
 * -1 when the tunnel was closed (the caller touches nothing of s then).
 */
static int
pump(struct session *s, enum rdp_dir dir)
{
	struct bufferevent *from = side(s, dir), *to = side(s, !dir);
	struct evbuffer *in = bufferevent_get_input(from);
	struct relay_result res;
	unsigned char hdr[4], *p;
	struct vbuf view;
	size_t len;
	ev_ssize_t n;
	int r;

	while (!s->paused[dir]) {
		n = evbuffer_copyout(in, hdr, sizeof(hdr));
		if (n <= 0)
			return 0;
		r = relay_frame_len(hdr, (size_t)n, s->gw->conf.max_pdu, &len);
		if (r == VDI_ERR_NEED_MORE)
			return 0;
		if (r != 0) {
			char why[96];

			snprintf(why, sizeof(why), "framing_%s err=%s",
			    dir == RDP_C2S ? "client" : "desktop",
			    vdi_errname(r));
			GW_INC(&s->gw->m.closes_protocol);
			session_close(s, why);
			return -1;
		}
		if (evbuffer_get_length(in) < len)
			return 0;
		p = evbuffer_pullup(in, (ev_ssize_t)len);
		vbuf_init_view(&view, p, len);
		vbuf_reset(s->fwd);
		vbuf_reset(s->back);
		memset(&res, 0, sizeof(res));
		res.fwd = s->fwd;
		res.back = s->back;
		r = relay_pdu(&s->relay, dir, &view, p,
		    s->has_creds ? &s->creds : NULL, &res);
		(void)evbuffer_drain(in, len);
		if (dir == RDP_C2S)
			s->bytes_c2s += len;
		else
			s->bytes_s2c += len;
		GW_ADD(
		    dir == RDP_C2S ? &s->gw->m.bytes_c2s : &s->gw->m.bytes_s2c,
		    len);
		if (s->relay.nrec != s->rec_reported)
			session_report_channels(s);
		if (r != 0 || res.v.action == RDP_CLOSE) {
			char why[RDP_REASON_MAX + 32];

			if (r != 0)
				snprintf(why, sizeof(why), "relay_error err=%s",
				    vdi_errname(r));
			else
				snprintf(why, sizeof(why), "%s", res.v.reason);
			GW_INC(&s->gw->m.closes_protocol);
			vlog(VLOG_NOTICE, "relay_close",
			    "sid=%s dir=%s reason=%s", VLOG_Q(s->tok.sid),
			    dir == RDP_C2S ? "c2s" : "s2c", VLOG_Q(why));
			session_close(s, "protocol_violation");
			return -1;
		}
		if (res.input)
			s->last_input = time(NULL);
		if (res.v.reason[0] != '\0')
			vlog(VLOG_DEBUG, "relay_rewrite",
			    "sid=%s dir=%s what=%s", VLOG_Q(s->tok.sid),
			    dir == RDP_C2S ? "c2s" : "s2c",
			    VLOG_Q(res.v.reason));
		if (send_vbuf(to, s->fwd, res.secret) != 0 ||
		    send_vbuf(from, s->back, 0) != 0) {
			session_close(s, "out_of_memory");
			return -1;
		}
		if (over_water(s, dir)) {
			/* A side reads slowly, the other one or this one
			 * (the answers written here back to it): stop
			 * reading this one until both catch up (write
			 * callback). */
			s->paused[dir] = 1;
			bufferevent_disable(from, EV_READ);
		}
	}
	return 0;
}

static void
relay_read(struct bufferevent *bev, void *arg)
{
	struct session *s = arg;

	(void)pump(s, bev == s->cin ? RDP_C2S : RDP_S2C);
}

/* Output towards bev drained below the low mark: resume each side that
 * waited and may go on. */
static void
relay_write(struct bufferevent *bev, void *arg)
{
	struct session *s = arg;
	enum rdp_dir first = bev == s->cin ? RDP_S2C : RDP_C2S, dir;
	int i;

	for (i = 0; i < 2; i++) {
		dir = i == 0 ? first : !first;
		if (!s->paused[dir] || over_water(s, dir))
			continue;
		s->paused[dir] = 0;
		bufferevent_enable(side(s, dir), EV_READ);
		if (pump(s, dir) != 0)
			return; /* closed */
	}
}

static void
relay_event(struct bufferevent *bev, short what, void *arg)
{
	struct session *s = arg;
	const char *who = bev == s->cin ? "client" : "desktop";
	char why[64];

	snprintf(why, sizeof(why), "%s_%s", who,
	    (what & BEV_EVENT_EOF)           ? "closed"
		: (what & BEV_EVENT_TIMEOUT) ? "timeout"
					     : "error");
	session_close(s, why);
}

void
pump_park_desktop(struct session *s)
{
	bufferevent_setcb(s->desk, NULL, NULL, relay_event, s);
	bufferevent_disable(s->desk, EV_READ);
}

void
pump_attach(struct session *s)
{
	bufferevent_setcb(s->cin, relay_read, relay_write, relay_event, s);
	bufferevent_setcb(s->desk, relay_read, relay_write, relay_event, s);
	bufferevent_setwatermark(s->cin, EV_WRITE, SESSION_HIGH_WATER / 2, 0);
	bufferevent_setwatermark(s->desk, EV_WRITE, SESSION_HIGH_WATER / 2, 0);
	bufferevent_setwatermark(s->cin, EV_READ, 0, SESSION_READ_AHEAD);
	bufferevent_setwatermark(s->desk, EV_READ, 0, SESSION_READ_AHEAD);
	bufferevent_enable(s->cin, EV_READ | EV_WRITE);
	bufferevent_enable(s->desk, EV_READ | EV_WRITE);
}

int
pump_start(struct session *s)
{
	if (pump(s, RDP_C2S) != 0)
		return -1;
	return pump(s, RDP_S2C);
}
