/*
 * pump.c: the relay pump (pump.h). Every PDU a leg of a started tunnel
 * sends goes through pump(): framed (relay_frame_len), judged and
 * rewritten by the relay engine (relay_pdu), then queued on the other leg
 * (and any answer on the same leg).
 *
 * Once the relay starts, the two legs are no longer bufferevents: each is
 * a struct leg (leg.c) with its own large reads and whole-record writes.
 * The pump parses PDUs in place in the leg's contiguous input, queues the
 * relay's output as plaintext on the legs, and flushes each leg once per
 * batch, so a burst of PDUs becomes a few TLS records and one write per
 * leg. Reading a leg pauses while what is queued towards either leg is
 * over PUMP_HIGH_WATER and resumes once the socket took it down to half.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/util.h>

#include "leg.h"
#include "pump.h"
#include "session.h"
#include "vlog.h"

/* Pending bytes towards one side above which the other side's reading
 * pauses; it resumes at half of it. */
#define PUMP_HIGH_WATER (1u << 20)
/* Plaintext queued in one batch before the pump flushes it mid-batch. */
#define PUMP_BATCH_FLUSH (256u << 10)

static struct leg *
leg_of(struct session *s, enum rdp_dir dir)
{
	return dir == RDP_C2S ? s->lc : s->ld;
}

static const char *
who(enum rdp_dir dir)
{
	return dir == RDP_C2S ? "client" : "desktop";
}

/* 1 when reading the leg dir comes from must wait: what is queued towards
 * the other leg, or back towards this one, is over the mark. */
static int
over_water(struct session *s, enum rdp_dir dir)
{
	return leg_pending(leg_of(s, !dir)) > PUMP_HIGH_WATER ||
	    leg_pending(leg_of(s, dir)) > PUMP_HIGH_WATER;
}

/* Closes the tunnel for a leg that failed. */
static void
leg_failed(struct session *s, enum rdp_dir dir, struct leg *l)
{
	char why[64];

	vlog(VLOG_DEBUG, "relay_leg_error", "sid=%s leg=%s error=%s",
	    VLOG_Q(s->adm.tok.sid), who(dir), VLOG_Q(leg_why(l)));
	snprintf(why, sizeof(why), "%s_%s", who(dir),
	    leg_peer_gone(l) ? "closed" : "error");
	session_close(s, why);
}

/* Encrypts and writes what both legs have queued. Returns 0, or -1 when
 * the tunnel was closed. */
static int
flush(struct session *s, enum rdp_dir dir, int secret)
{
	struct leg *from = leg_of(s, dir), *to = leg_of(s, !dir);

	if (leg_flush(to, secret) != 0) {
		leg_failed(s, !dir, to);
		return -1;
	}
	if (leg_flush(from, 0) != 0) {
		leg_failed(s, dir, from);
		return -1;
	}
	return 0;
}

/*
 * Relays every whole PDU waiting in the leg dir comes from. Returns 0, or
 * -1 when the tunnel was closed (the caller touches nothing of s then).
 */
static int
pump(struct session *s, enum rdp_dir dir)
{
	struct leg *from = leg_of(s, dir), *to = leg_of(s, !dir);
	struct vbuf *in = leg_in(from), view;
	struct vbuf *fwd = s->w->relay_fwd, *back = s->w->relay_back;
	struct relay_result res;
	unsigned char *p;
	size_t len, avail;
	int r, secret = 0, input = 0;

	while (!leg_paused(from) && (avail = vbuf_len(in)) > 0) {
		r = relay_frame_len(
		    vbuf_ptr(in), avail, s->gw->conf.max_pdu, &len);
		if (r == VDI_ERR_NEED_MORE)
			break;
		if (r != 0) {
			char why[96];

			snprintf(why, sizeof(why), "framing_%s err=%s",
			    who(dir), vdi_errname(r));
			gwm_add(s->gw, GWM_CLOSES_PROTOCOL, 1);
			session_close(s, why);
			return -1;
		}
		if (avail < len)
			break;
		/* The PDU is contiguous in the leg's input: judged in place,
		 * and the password bytes of a Client Info PDU wiped there. */
		p = vbuf_mutable_ptr(in);
		vbuf_init_view(&view, p, len);
		vbuf_reset(fwd);
		vbuf_reset(back);
		memset(&res, 0, sizeof(res));
		res.fwd = fwd;
		res.back = back;
		r = relay_pdu(
		    &s->relay, dir, &view, p, admission_creds(s), &res);
		if (vbuf_consume(in, len) != 0)
			r = VDI_ERR_INTERNAL;
		if (dir == RDP_C2S)
			s->bytes_c2s += len;
		else
			s->bytes_s2c += len;
		gwm_add(s->gw, dir == RDP_C2S ? GWM_BYTES_C2S : GWM_BYTES_S2C,
		    (int64_t)len);
		if (s->relay.nrec != s->rec_reported)
			session_report_channels(s);
		if (r != 0 || res.v.action == RDP_CLOSE) {
			char why[RDP_REASON_MAX + 32];

			/* The worker's output buffer outlives this session:
			 * an injected password in it goes now, not at the next
			 * PDU's reset. */
			if (res.secret)
				vbuf_wipe(fwd);

			if (r != 0)
				snprintf(why, sizeof(why), "relay_error err=%s",
				    vdi_errname(r));
			else
				snprintf(why, sizeof(why), "%s", res.v.reason);
			gwm_add(s->gw, GWM_CLOSES_PROTOCOL, 1);
			vlog(VLOG_NOTICE, "relay_close",
			    "sid=%s dir=%s reason=%s", VLOG_Q(s->adm.tok.sid),
			    dir == RDP_C2S ? "c2s" : "s2c", VLOG_Q(why));
			session_close(s, "protocol_violation");
			return -1;
		}
		input |= res.input;
		if (res.v.reason[0] != '\0')
			vlog(VLOG_DEBUG, "relay_rewrite",
			    "sid=%s dir=%s what=%s", VLOG_Q(s->adm.tok.sid),
			    dir == RDP_C2S ? "c2s" : "s2c",
			    VLOG_Q(res.v.reason));
		if (vbuf_put_buf(leg_out(to), fwd) != 0 ||
		    vbuf_put_buf(leg_out(from), back) != 0) {
			vbuf_wipe(fwd);
			session_close(s, "out_of_memory");
			return -1;
		}
		if (res.secret) {
			/* The Client Info PDU with the injected password: the
			 * copies go as soon as it is encrypted. */
			vbuf_wipe(fwd);
			secret = 1;
		}
		if (secret ||
		    vbuf_len(leg_out(to)) + vbuf_len(leg_out(from)) >
			PUMP_BATCH_FLUSH) {
			if (flush(s, dir, secret) != 0)
				return -1;
			secret = 0;
			if (over_water(s, dir)) {
				/* A leg reads slowly, the other one or this
				 * one (the answers written back to it): stop
				 * reading this one until both catch up. */
				leg_pause(from, 1);
			}
		}
	}
	if (input)
		s->last_input = time(NULL);
	if (flush(s, dir, secret) != 0)
		return -1;
	if (over_water(s, dir))
		leg_pause(from, 1);
	return 0;
}

/* A leg's socket took its queue down to the low mark: resume each leg
 * that waited and may go on (processed from the loop). */
static void
resume(struct session *s)
{
	enum rdp_dir dir;

	for (dir = RDP_C2S; dir <= RDP_S2C; dir++)
		if (leg_paused(leg_of(s, dir)) && !over_water(s, dir))
			leg_pause(leg_of(s, dir), 0);
}

static void
leg_event(struct leg *l, enum leg_event ev, void *arg)
{
	struct session *s = arg;
	enum rdp_dir dir = l == s->lc ? RDP_C2S : RDP_S2C;
	char why[64];

	/* Closed, waiting to be freed (session_reap): nothing more moves. */
	if (s->state == SS_CLOSING)
		return;
	switch (ev) {
	case LEG_READABLE:
		(void)pump(s, dir);
		return;
	case LEG_DRAINED:
		resume(s);
		return;
	case LEG_CLOSED:
		snprintf(why, sizeof(why), "%s_closed", who(dir));
		session_close(s, why);
		return;
	case LEG_ERROR:
		leg_failed(s, dir, l);
		return;
	}
}

/* The desktop leg's end while it waits for the relay. */
static void
parked_event(struct bufferevent *bev, short what, void *arg)
{
	struct session *s = arg;
	char why[64];

	(void)bev;
	/* A reset from a desktop that went away is its close too. */
	if ((what & BEV_EVENT_ERROR) &&
	    bufferevent_get_openssl_error(bev) == 0 &&
	    (EVUTIL_SOCKET_ERROR() == ECONNRESET ||
		EVUTIL_SOCKET_ERROR() == EPIPE))
		what |= BEV_EVENT_EOF;
	snprintf(why, sizeof(why), "desktop_%s",
	    (what & BEV_EVENT_EOF)           ? "closed"
		: (what & BEV_EVENT_TIMEOUT) ? "timeout"
					     : "error");
	session_close(s, why);
}

void
pump_park_desktop(struct session *s)
{
	bufferevent_setcb(s->desk, NULL, NULL, parked_event, s);
	bufferevent_disable(s->desk, EV_READ);
}

int
pump_attach(struct session *s)
{
	struct event_base *base = s->w->base;
	size_t in_max = s->gw->conf.max_pdu + 4 * LEG_READ_CHUNK;
	char why[96];

	/* Each leg's bufferevents (the client's: RDP-level TLS over the
	 * tunnel TLS; the desktop's: TLS over TCP) hand over to a leg. */
	if ((s->lc = leg_adopt(
		 base, s->cin, in_max, leg_event, s, why, sizeof(why))) == NULL)
		goto fail;
	s->cin = NULL;
	s->cli = NULL; /* freed under s->cin */
	if ((s->ld = leg_adopt(base, s->desk, in_max, leg_event, s, why,
		 sizeof(why))) == NULL)
		goto fail;
	s->desk = NULL;
	leg_set_low(s->lc, PUMP_HIGH_WATER / 2);
	leg_set_low(s->ld, PUMP_HIGH_WATER / 2);
	return 0;
fail:
	vlog(VLOG_ERROR, "relay_start_failed", "sid=%s error=%s",
	    VLOG_Q(s->adm.tok.sid), VLOG_Q(why));
	session_close(s, "out_of_memory");
	return -1;
}

int
pump_start(struct session *s)
{
	/* What the bufferevents had decrypted is in the legs' inputs now;
	 * what their TLS objects still hold is processed from the loop. */
	leg_kick(s->lc);
	leg_kick(s->ld);
	if (pump(s, RDP_C2S) != 0)
		return -1;
	return pump(s, RDP_S2C);
}

void
pump_free(struct session *s)
{
	leg_free(s->lc);
	s->lc = NULL;
	leg_free(s->ld);
	s->ld = NULL;
}
