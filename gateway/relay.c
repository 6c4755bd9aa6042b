/* relay.c: the display-only relay engine (see relay.h, docs/gateway.md). */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "rdp/caps.h"
#include "rdp/frame.h"
#include "rdp/mcs.h"
#include "rdp/sec.h"
#include "rdp/x224.h"
#include "relay.h"

/* Share Data pduType2 of slow-path input (2.2.8.1.1.3). */
#define PDUTYPE2_INPUT 0x1C

int
relay_init(struct relay *r, const struct relay_params *p)
{
	memset(r, 0, sizeof(*r));
	r->p = *p;
	if (r->p.max_pdu == 0 || r->p.max_pdu > RDP_FRAME_MAX)
		r->p.max_pdu = RDP_FRAME_MAX;
	rdp_svc_stream_init(&r->dyn[0], 1, r->p.reassembly);
	rdp_svc_stream_init(&r->dyn[1], 1, r->p.reassembly);
	rdp_svc_stream_init(&r->snd[0], 0, r->p.reassembly);
	rdp_svc_stream_init(&r->snd[1], 0, r->p.reassembly);
	rdp_dvc_table_init(&r->dvc);
	return rdp_dvc_result_init(&r->dres);
}

void
relay_free(struct relay *r)
{
	if (r == NULL)
		return;
	rdp_svc_stream_free(&r->dyn[0]);
	rdp_svc_stream_free(&r->dyn[1]);
	rdp_svc_stream_free(&r->snd[0]);
	rdp_svc_stream_free(&r->snd[1]);
	rdp_dvc_table_free(&r->dvc);
	rdp_dvc_result_free(&r->dres);
}

int
relay_frame_len(const unsigned char *h, size_t n, size_t max_len, size_t *len)
{
	size_t l;

	*len = 0;
	if (max_len == 0 || max_len > RDP_FRAME_MAX)
		max_len = RDP_FRAME_MAX;
	if (n < 1)
		return VDI_ERR_NEED_MORE;
	if (h[0] == 0x03) {
		if (n < 4)
			return VDI_ERR_NEED_MORE;
		if (h[1] != 0)
			return VDI_ERR_BAD_FORMAT;
		l = ((size_t)h[2] << 8) | h[3];
		if (l < RDP_TPKT_MIN)
			return VDI_ERR_BAD_LENGTH;
	} else if ((h[0] & 0x03) == 0) {
		if (n < 2)
			return VDI_ERR_NEED_MORE;
		if (h[1] & 0x80) {
			if (n < 3)
				return VDI_ERR_NEED_MORE;
			l = ((size_t)(h[1] & 0x7F) << 8) | h[2];
			if (l < 3)
				return VDI_ERR_BAD_LENGTH;
		} else {
			l = h[1];
			if (l < 2)
				return VDI_ERR_BAD_LENGTH;
		}
	} else
		return VDI_ERR_BAD_FORMAT;
	if (l > max_len)
		return VDI_ERR_TOO_LARGE;
	*len = l;
	return 0;
}

const struct relay_record *
relay_records(const struct relay *r, size_t *n)
{
	*n = r->nrec;
	return r->rec;
}

static void
record(struct relay *r, const char *name, int dynamic, int allowed)
{
	struct relay_record *e;
	size_t len;

	r->nrec_total++;
	if (r->nrec >= RELAY_RECORDS_MAX)
		return;
	e = &r->rec[r->nrec++];
	/* name may point into r (the channel map): no snprintf */
	len = strnlen(name, sizeof(e->name) - 1);
	memmove(e->name, name, len);
	e->name[len] = '\0';
	e->dynamic = dynamic;
	e->allowed = allowed;
}

static int
close_err(struct relay_result *res, const char *what, int err)
{
	rdp_verdict_set(
	    &res->v, RDP_CLOSE, "%s err=%s", what, vdi_errname(err));
	return 0;
}

/* One drdynvc chunk: reassembly, the DVC filter, re-chunking. */
static int
relay_drdynvc(struct relay *r, enum rdp_dir dir, const struct rdp_mcs_pdu *p,
    struct relay_result *res)
{
	struct rdp_svc_chunk c;
	struct rdp_svc_step st;
	struct rdp_dvc_result *d = &r->dres;
	struct vbuf m;
	size_t i;
	int e, ind = dir == RDP_S2C;

	if ((e = rdp_svc_parse_chunk(&p->data, &c)) != 0 ||
	    (e = rdp_svc_stream_feed(&r->dyn[dir], &c, &st)) != 0)
		return close_err(res, "drdynvc_chunk", e);
	if (st.first)
		r->dyn_show[dir] = c.flags & RDP_CHANNEL_FLAG_SHOW_PROTOCOL;
	if (!st.last)
		return 0; /* held until the whole message is here */
	if ((e = rdp_dvc_filter(&r->dvc, &r->p.pol, dir, &st.msg, d)) != 0)
		return e;
	/* Each refused Create Request is answered here; a desktop that
	 * keeps asking is closed rather than answered without end. */
	r->dvc_refusals += (unsigned int)d->reply.n;
	if (r->dvc_refusals > RELAY_DVC_REFUSALS_MAX) {
		rdp_verdict_set(&res->v, RDP_CLOSE,
		    "dvc_refusals_exceeded max=%u", RELAY_DVC_REFUSALS_MAX);
		return 0;
	}
	if (d->v.what.kind == RDP_REFUSED_DVC ||
	    d->v.what.kind == RDP_REFUSED_DVC_TABLE_FULL)
		record(r, d->v.what.name, 1, 0);
	rdp_verdict_merge(&res->v, &d->v);
	switch (d->v.action) {
	case RDP_CLOSE:
		return 0;
	case RDP_PASS:
		if ((e = rdp_svc_write_message(res->fwd, ind, p->initiator,
			 p->channel_id, vbuf_ptr(&st.msg), vbuf_len(&st.msg),
			 r->dyn_show[dir], 0)) != 0)
			return e;
		break;
	case RDP_REWRITE:
		for (i = 0; i < d->out.n; i++) {
			if ((e = rdp_msgs_get(&d->out, i, &m)) != 0 ||
			    (e = rdp_svc_write_message(res->fwd, ind,
				 p->initiator, p->channel_id, vbuf_ptr(&m),
				 vbuf_len(&m), r->dyn_show[dir], 0)) != 0)
				return e;
		}
		break;
	case RDP_DROP:
		r->dropped++;
		break;
	}
	/* A Create Request the relay allowed: record it once. */
	if (dir == RDP_S2C && d->v.action != RDP_DROP &&
	    d->v.action != RDP_CLOSE && vbuf_len(&st.msg) > 0) {
		struct rdp_dvc_pdu dp;

		if (rdp_dvc_parse(&st.msg, dir, &dp) == 0 &&
		    dp.cmd == RDP_DVC_CMD_CREATE) {
			char safe[48];

			rdp_name_sanitize(
			    safe, sizeof(safe), dp.name, dp.name_len);
			record(r, safe, 1, 1);
		}
	}
	for (i = 0; i < d->reply.n; i++) {
		if ((e = rdp_msgs_get(&d->reply, i, &m)) != 0 ||
		    (e = rdp_svc_write_message(res->back, !ind, p->initiator,
			 p->channel_id, vbuf_ptr(&m), vbuf_len(&m), 0, 0)) != 0)
			return e;
	}
	return 0;
}

/* 1 when I/O data from the client is a slow-path input PDU. */
static int
is_slow_input(const struct vbuf *data)
{
	struct vbuf copy, pdu;
	struct rdp_share_ctrl h;
	struct rdp_share_data d;

	vbuf_init_view(&copy, vbuf_ptr(data), vbuf_len(data));
	while (vbuf_len(&copy) > 0) {
		if (rdp_share_next(&copy, &h, &pdu) != 0)
			return 0;
		if (h.type == RDP_PDUTYPE_DATA &&
		    rdp_share_parse_data(&pdu, &d) == 0 &&
		    d.pdu_type2 == PDUTYPE2_INPUT)
			return 1;
	}
	return 0;
}

static const char *
dir_name(enum rdp_dir dir)
{
	return dir == RDP_C2S ? "client" : "desktop";
}

static const char *
phase_name(enum relay_phase ph)
{
	switch (ph) {
	case RELAY_CONNECT_INITIAL:
		return "connect_initial";
	case RELAY_CONNECT_RESPONSE:
		return "connect_response";
	case RELAY_DOMAIN:
		return "domain";
	case RELAY_LICENSING:
		return "licensing";
	case RELAY_SHARE:
		return "share";
	}
	return "?";
}

/* 1 when reply is a client message that answers the desktop's asked. */
static int
license_answers(uint8_t asked, uint8_t reply)
{
	if (reply == RDP_LICENSE_ERROR_ALERT)
		return 1;
	if (asked == RDP_LICENSE_REQUEST)
		return reply == RDP_LICENSE_NEW_LICENSE_REQUEST ||
		    reply == RDP_LICENSE_INFO;
	return asked == RDP_LICENSE_PLATFORM_CHALLENGE &&
	    reply == RDP_LICENSE_PLATFORM_CHALLENGE_RESPONSE;
}

/*
 * The licensing phase (relay.h). Both peers tell a licensing PDU from a
 * Share Control PDU by the SEC_LICENSE_PKT flag (sec.h), so nothing but
 * parsed licensing PDUs may pass here; a client PDU passes only as the one
 * reply the desktop's last request or challenge asked for, so a desktop
 * that is not waiting for a licensing reply never reads client bytes in
 * this phase.
 */
static int
relay_license(struct relay *r, enum rdp_dir dir, const struct vbuf *pdu,
    const struct rdp_mcs_pdu *p, struct relay_result *res)
{
	struct rdp_license l;
	int e;

	if (!rdp_sec_is_license(&p->data)) {
		rdp_verdict_set(&res->v, RDP_CLOSE,
		    "not_licensing_in_licensing from=%s", dir_name(dir));
		return 0;
	}
	if ((e = rdp_sec_parse_license(&p->data, dir, &l)) != 0)
		return close_err(res,
		    dir == RDP_C2S ? "license_client" : "license_desktop", e);
	if (dir == RDP_C2S) {
		if (!license_answers((uint8_t)r->license_reply, l.msg_type)) {
			rdp_verdict_set(&res->v, RDP_CLOSE,
			    "license_unasked type=0x%02x asked=0x%02x",
			    l.msg_type, (unsigned int)r->license_reply);
			return 0;
		}
		r->license_reply = 0;
		return vbuf_put_buf(res->fwd, pdu);
	}
	if (r->license_reply != 0) {
		rdp_verdict_set(&res->v, RDP_CLOSE,
		    "license_out_of_turn type=0x%02x", l.msg_type);
		return 0;
	}
	switch (l.msg_type) {
	case RDP_LICENSE_REQUEST:
	case RDP_LICENSE_PLATFORM_CHALLENGE:
		r->license_reply = l.msg_type;
		break;
	default: /* error alert, new or upgraded licence: done */
		r->phase = RELAY_SHARE;
		memset(&r->share, 0, sizeof(r->share));
		break;
	}
	return vbuf_put_buf(res->fwd, pdu);
}

/* The Client Info PDU (2.2.1.11): rewritten, credentials injected, the
 * client's own password wiped; then licensing. */
static int
relay_client_info(struct relay *r, const struct vbuf *pdu,
    unsigned char *pdu_mut, const struct rdp_mcs_pdu *p,
    const struct rdp_info_creds *creds, struct relay_result *res)
{
	struct vbuf *tmp;
	int e;

	if ((tmp = vbuf_new(RELAY_OUT_MAX)) == NULL)
		return VDI_ERR_ALLOC;
	e = rdp_info_rewrite(&p->data, &r->p.pol, creds, tmp);
	if (e == 0) {
		e = rdp_mcs_write_send_data(res->fwd, 0, p->initiator,
		    p->channel_id, vbuf_ptr(tmp), vbuf_len(tmp));
		res->secret = 1;
	}
	vbuf_wipe(tmp);
	vbuf_free(tmp);
	/* The client's own password, if it sent one, goes too. */
	if (pdu_mut != NULL) {
		size_t off = (size_t)(vbuf_ptr(&p->data) - vbuf_ptr(pdu));

		(void)!rdp_info_wipe_password(
		    pdu_mut + off, vbuf_len(&p->data));
	}
	if (e != 0)
		return close_err(res, "client_info", e);
	r->phase = RELAY_LICENSING;
	return 0;
}

/* I/O channel data: Client Info, licensing, then Share Control PDUs. */
static int
relay_io(struct relay *r, enum rdp_dir dir, const struct vbuf *pdu,
    unsigned char *pdu_mut, const struct rdp_mcs_pdu *p,
    const struct rdp_info_creds *creds, struct relay_result *res)
{
	struct vbuf *tmp;
	struct rdp_io_events ev;
	struct rdp_verdict v;
	int e, ind = dir == RDP_S2C;

	switch (r->phase) {
	case RELAY_DOMAIN:
		if (dir == RDP_S2C)
			return close_err(
			    res, "io_before_client_info", VDI_ERR_BAD_FORMAT);
		return relay_client_info(r, pdu, pdu_mut, p, creds, res);
	case RELAY_LICENSING:
		return relay_license(r, dir, pdu, p, res);
	case RELAY_SHARE:
		break;
	default: /* relay_pdu() routes no data before DOMAIN */
		return close_err(res, "io_out_of_phase", VDI_ERR_BAD_FORMAT);
	}
	if ((tmp = vbuf_new(RELAY_OUT_MAX)) == NULL)
		return VDI_ERR_ALLOC;
	if ((e = rdp_caps_filter_io(&p->data, dir, &r->share, &ev, &v, tmp)) !=
	    0)
		goto out;
	if (dir == RDP_C2S && v.action != RDP_CLOSE && is_slow_input(&p->data))
		res->input = 1;
	rdp_verdict_merge(&res->v, &v);
	switch (v.action) {
	case RDP_CLOSE:
		break;
	case RDP_PASS:
		e = vbuf_put_buf(res->fwd, pdu);
		break;
	case RDP_DROP:
		r->dropped++;
		break;
	case RDP_REWRITE:
		if (vbuf_len(tmp) > 0)
			e = rdp_mcs_write_send_data(res->fwd, ind, p->initiator,
			    p->channel_id, vbuf_ptr(tmp), vbuf_len(tmp));
		break;
	}
out:
	vbuf_free(tmp);
	return e;
}

/* A kept static channel other than drdynvc (rdpsnd): chunks checked for
 * their sequence and compression, bytes passed. */
static int
relay_svc_pass(struct relay *r, enum rdp_dir dir, const struct vbuf *pdu,
    const struct rdp_mcs_pdu *p, struct relay_result *res)
{
	struct rdp_svc_chunk c;
	struct rdp_svc_step st;
	int e;

	if ((e = rdp_svc_parse_chunk(&p->data, &c)) != 0 ||
	    (e = rdp_svc_stream_feed(&r->snd[dir], &c, &st)) != 0)
		return close_err(res, "svc_chunk", e);
	return vbuf_put_buf(res->fwd, pdu);
}

static int
connect_initial(
    struct relay *r, const struct vbuf *pdu, struct relay_result *res)
{
	unsigned int i;
	int e;

	if ((e = rdp_mcs_rewrite_connect_initial(pdu, &r->p.pol,
		 r->p.desktop_selected, &r->map, res->fwd)) != 0)
		return close_err(res, "mcs_connect_initial", e);
	for (i = 0; i < r->map.n; i++)
		record(r, r->map.ch[i].name, 0, r->map.ch[i].kept);
	r->phase = RELAY_CONNECT_RESPONSE;
	return 0;
}

static int
connect_response(
    struct relay *r, const struct vbuf *pdu, struct relay_result *res)
{
	unsigned int i;
	int e;

	if ((e = rdp_mcs_rewrite_connect_response(
		 pdu, r->p.client_requested, &r->map, res->fwd)) != 0)
		return close_err(res, "mcs_connect_response", e);
	for (i = 0; i < r->map.n; i++) {
		if (!r->map.ch[i].kept)
			continue;
		if (strcasecmp(r->map.ch[i].name, "drdynvc") == 0)
			r->drdynvc = r->map.ch[i].id;
		else if (strcasecmp(r->map.ch[i].name, "rdpsnd") == 0)
			r->rdpsnd = r->map.ch[i].id;
	}
	r->phase = RELAY_DOMAIN;
	return 0;
}

/* The RELAY_JOINED_* bit of a channel id that may carry data, 0 for others
 * (fake ids and unknown ids never carry data anyway). */
static unsigned int
joined_bit(const struct relay *r, uint16_t id)
{
	if (id == r->map.io_channel)
		return RELAY_JOINED_IO;
	if (r->user_channel != 0 && id == r->user_channel)
		return RELAY_JOINED_USER;
	if (r->drdynvc != 0 && id == r->drdynvc)
		return RELAY_JOINED_DRDYNVC;
	if (r->rdpsnd != 0 && id == r->rdpsnd)
		return RELAY_JOINED_RDPSND;
	return 0;
}

/* Index in the channel map of a fake id, or -1. */
static int
fake_index(const struct relay *r, uint16_t id)
{
	unsigned int i;

	if (!rdp_gcc_is_fake_id(&r->map, id))
		return -1;
	for (i = 0; i < r->map.n && i < RDP_CHANNEL_MAX; i++)
		if (r->map.ch[i].id == id)
			return (int)i;
	return -1;
}

/* 1 when an MCS domain PDU of type t may travel in dir (T.125: requests
 * go up to the provider, confirms and indications come down). */
static int
mcs_dir_allowed(enum rdp_dir dir, enum rdp_mcs_type t)
{
	switch (t) {
	case RDP_MCS_DISCONNECT_PROVIDER_ULTIMATUM:
		return 1;
	case RDP_MCS_ERECT_DOMAIN_REQUEST:
	case RDP_MCS_ATTACH_USER_REQUEST:
	case RDP_MCS_CHANNEL_JOIN_REQUEST:
	case RDP_MCS_SEND_DATA_REQUEST:
		return dir == RDP_C2S;
	case RDP_MCS_ATTACH_USER_CONFIRM:
	case RDP_MCS_CHANNEL_JOIN_CONFIRM:
	case RDP_MCS_SEND_DATA_INDICATION:
		return dir == RDP_S2C;
	}
	return 0;
}

/* A client's Channel Join Request (2.2.1.8): only in the domain phase,
 * after its Attach User Confirm, for its own user id, the I/O channel,
 * or an id SC_NET gave it, once each. Fake ids are confirmed here. */
static int
join_request(struct relay *r, const struct vbuf *pdu,
    const struct rdp_mcs_pdu *p, struct relay_result *res)
{
	unsigned int bit;
	int i;

	if (r->user_channel == 0 || p->initiator != r->user_channel) {
		rdp_verdict_set(&res->v, RDP_CLOSE,
		    "channel_join_before_attach id=%u", p->channel_id);
		return 0;
	}
	if ((i = fake_index(r, p->channel_id)) >= 0) {
		if (r->fake_asked & (1u << i))
			goto repeated;
		r->fake_asked |= 1u << i;
		return rdp_mcs_write_channel_join_confirm(
		    res->back, 0, p->initiator, p->channel_id, p->channel_id);
	}
	if ((bit = joined_bit(r, p->channel_id)) == 0) {
		rdp_verdict_set(&res->v, RDP_CLOSE,
		    "channel_join_unassigned id=%u", p->channel_id);
		return 0;
	}
	if (r->join_asked & bit)
		goto repeated;
	r->join_asked |= bit;
	return vbuf_put_buf(res->fwd, pdu);
repeated:
	rdp_verdict_set(
	    &res->v, RDP_CLOSE, "channel_join_repeated id=%u", p->channel_id);
	return 0;
}

/* The desktop's Channel Join Confirm: one per request passed on. */
static int
join_confirm(struct relay *r, const struct vbuf *pdu,
    const struct rdp_mcs_pdu *p, struct relay_result *res)
{
	unsigned int bit = joined_bit(r, p->requested);

	if (bit == 0 || (r->join_asked & bit) == 0 ||
	    (r->join_answered & bit) != 0 ||
	    (p->has_channel_id && p->channel_id != p->requested)) {
		rdp_verdict_set(&res->v, RDP_CLOSE,
		    "channel_join_confirm_unasked id=%u", p->requested);
		return 0;
	}
	r->join_answered |= bit;
	if (p->result == 0 && p->has_channel_id)
		r->joined |= bit;
	return vbuf_put_buf(res->fwd, pdu);
}

/* Connection-sequence PDUs of the domain phase other than joins. */
static int
domain_pdu(struct relay *r, const struct vbuf *pdu, const struct rdp_mcs_pdu *p,
    struct relay_result *res)
{
	switch (p->type) {
	case RDP_MCS_ERECT_DOMAIN_REQUEST:
		if (r->erected)
			break;
		r->erected = 1;
		return vbuf_put_buf(res->fwd, pdu);
	case RDP_MCS_ATTACH_USER_REQUEST:
		if (!r->erected || r->attach_asked)
			break;
		r->attach_asked = 1;
		return vbuf_put_buf(res->fwd, pdu);
	case RDP_MCS_ATTACH_USER_CONFIRM:
		if (!r->attach_asked || r->user_channel != 0 || r->attached)
			break;
		r->attached = 1;
		if (p->result == 0 && p->has_initiator) {
			/* The user id must not collide with the fake ids the
			 * client was given for refused channels. */
			if (p->initiator >= RDP_FAKE_CHANNEL_BASE)
				return close_err(res, "user_id_in_fake_range",
				    VDI_ERR_BAD_FORMAT);
			r->user_channel = p->initiator;
		}
		return vbuf_put_buf(res->fwd, pdu);
	default:
		break;
	}
	rdp_verdict_set(&res->v, RDP_CLOSE, "mcs_out_of_order type=%u",
	    (unsigned int)p->type);
	return 0;
}

/* Fast-path (2.2.8.1.2, 2.2.9.1.2): input once a Confirm Active went to
 * the desktop, output once the session was activated; input still in
 * flight during a reactivation is dropped. */
static int
relay_fastpath(struct relay *r, enum rdp_dir dir, const struct vbuf *pdu,
    struct relay_result *res)
{
	struct rdp_verdict v;
	int e,
	    active =
		r->phase == RELAY_SHARE && r->share.phase == RDP_SHARE_ACTIVE;

	if (!active && !(r->phase == RELAY_SHARE && r->share.activated)) {
		rdp_verdict_set(&res->v, RDP_CLOSE,
		    "fastpath_out_of_phase from=%s phase=%s", dir_name(dir),
		    phase_name(r->phase));
		return 0;
	}
	e = dir == RDP_S2C ? rdp_fastpath_check_output(pdu, &v)
			   : rdp_fastpath_check_input(pdu, &v);
	if (e != 0)
		return close_err(res, "fastpath", e);
	rdp_verdict_merge(&res->v, &v);
	if (v.action == RDP_CLOSE)
		return 0;
	if (dir == RDP_C2S && !active) {
		r->dropped++;
		rdp_verdict_set(&res->v, RDP_DROP,
		    "fastpath_input_during_reactivation_dropped");
		return 0;
	}
	res->input = dir == RDP_C2S;
	return vbuf_put_buf(res->fwd, pdu);
}

/* Send Data on a channel: the I/O channel's phases, the kept channels'
 * filters; the user channel carries nothing. */
static int
send_data(struct relay *r, enum rdp_dir dir, const struct vbuf *pdu,
    unsigned char *pdu_mut, const struct rdp_mcs_pdu *p,
    const struct rdp_info_creds *creds, struct relay_result *res)
{
	unsigned int bit = joined_bit(r, p->channel_id);

	if (r->user_channel != 0 && p->channel_id == r->user_channel) {
		rdp_verdict_set(&res->v, RDP_CLOSE,
		    "user_channel_data from=%s id=%u", dir_name(dir),
		    p->channel_id);
		return 0;
	}
	if (p->channel_id != r->map.io_channel && r->phase != RELAY_SHARE) {
		rdp_verdict_set(&res->v, RDP_CLOSE,
		    "channel_data_out_of_phase from=%s phase=%s id=%u",
		    dir_name(dir), phase_name(r->phase), p->channel_id);
		return 0;
	}
	/* Only channels the desktop confirmed a join for carry data. */
	if (bit != 0 && (r->joined & bit) == 0) {
		r->dropped++;
		rdp_verdict_refuse(&res->v, RDP_DROP, RDP_REFUSED_CHANNEL,
		    p->channel_id, NULL, 0, "channel_not_joined id=%u",
		    p->channel_id);
		return 0;
	}
	if (p->channel_id == r->map.io_channel)
		return relay_io(r, dir, pdu, pdu_mut, p, creds, res);
	if (r->drdynvc != 0 && p->channel_id == r->drdynvc)
		return relay_drdynvc(r, dir, p, res);
	if (r->rdpsnd != 0 && p->channel_id == r->rdpsnd)
		return relay_svc_pass(r, dir, pdu, p, res);
	/* Fake ids of refused channels, the dropped message channel, ids
	 * nobody handed out: nothing gets through. */
	r->dropped++;
	rdp_verdict_refuse(&res->v, RDP_DROP, RDP_REFUSED_CHANNEL,
	    p->channel_id, NULL, 0, "channel_data_dropped id=%u",
	    p->channel_id);
	return 0;
}

int
relay_pdu(struct relay *r, enum rdp_dir dir, const struct vbuf *pdu,
    unsigned char *pdu_mut, const struct rdp_info_creds *creds,
    struct relay_result *res)
{
	struct rdp_frame f;
	struct rdp_mcs_pdu p;
	struct vbuf mcs;
	int e, t;

	rdp_verdict_init(&res->v);
	res->secret = res->input = 0;
	if ((e = rdp_frame_peek(pdu, r->p.max_pdu, &f)) != 0 ||
	    f.len != vbuf_len(pdu))
		return close_err(
		    res, "framing", e != 0 ? e : VDI_ERR_BAD_LENGTH);
	if (f.kind == RDP_FRAME_FASTPATH)
		return relay_fastpath(r, dir, pdu, res);
	t = rdp_x224_tpdu_type(pdu);
	if (t == RDP_X224_TPDU_DR) {
		rdp_verdict_set(&res->v, RDP_CLOSE, "x224_disconnect dir=%s",
		    dir_name(dir));
		return 0;
	}
	if ((e = rdp_x224_parse_data(pdu, &mcs)) != 0)
		return close_err(res, "x224_data", e);
	switch (r->phase) {
	case RELAY_CONNECT_INITIAL:
		if (dir != RDP_C2S)
			return close_err(
			    res, "desktop_spoke_first", VDI_ERR_BAD_FORMAT);
		return connect_initial(r, pdu, res);
	case RELAY_CONNECT_RESPONSE:
		if (dir != RDP_S2C)
			return close_err(
			    res, "client_before_response", VDI_ERR_BAD_FORMAT);
		return connect_response(r, pdu, res);
	default:
		break;
	}
	if ((e = rdp_mcs_parse_domain(&mcs, &p)) != 0)
		return close_err(res, "mcs_domain", e);
	if (!mcs_dir_allowed(dir, p.type)) {
		rdp_verdict_set(&res->v, RDP_CLOSE,
		    "mcs_wrong_direction from=%s type=%u", dir_name(dir),
		    (unsigned int)p.type);
		return 0;
	}
	switch (p.type) {
	case RDP_MCS_DISCONNECT_PROVIDER_ULTIMATUM:
		return vbuf_put_buf(res->fwd, pdu);
	case RDP_MCS_SEND_DATA_REQUEST:
	case RDP_MCS_SEND_DATA_INDICATION:
		return send_data(r, dir, pdu, pdu_mut, &p, creds, res);
	default:
		break;
	}
	if (r->phase != RELAY_DOMAIN) {
		rdp_verdict_set(&res->v, RDP_CLOSE,
		    "mcs_out_of_phase type=%u phase=%s", (unsigned int)p.type,
		    phase_name(r->phase));
		return 0;
	}
	if (p.type == RDP_MCS_CHANNEL_JOIN_REQUEST)
		return join_request(r, pdu, &p, res);
	if (p.type == RDP_MCS_CHANNEL_JOIN_CONFIRM)
		return join_confirm(r, pdu, &p, res);
	return domain_pdu(r, pdu, &p, res);
}
