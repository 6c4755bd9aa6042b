/* relay.c: the display-only relay engine (see relay.h, RDP-RELAY.md). */
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

/* "dvc_refused name=X" -> X */
static const char *
reason_name(const char *reason)
{
	const char *p = strstr(reason, "name=");

	return p != NULL ? p + 5 : "?";
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
	if (strncmp(d->v.reason, "dvc_refused", 11) == 0 ||
	    strncmp(d->v.reason, "dvc_table_full", 14) == 0)
		record(r, reason_name(d->v.reason), 1, 0);
	switch (d->v.action) {
	case RDP_CLOSE:
		rdp_verdict_set(&res->v, RDP_CLOSE, "%s", d->v.reason);
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
	if (d->v.reason[0] != '\0' && d->v.action != RDP_CLOSE)
		snprintf(
		    res->v.reason, sizeof(res->v.reason), "%s", d->v.reason);
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

/* I/O channel data: Client Info, licensing, then Share Control PDUs. */
static int
relay_io(struct relay *r, enum rdp_dir dir, const struct vbuf *pdu,
    unsigned char *pdu_mut, const struct rdp_mcs_pdu *p,
    const struct rdp_info_creds *creds, struct relay_result *res)
{
	struct vbuf *tmp;
	struct rdp_io_events ev;
	struct rdp_verdict v;
	struct rdp_license l;
	int e, ind = dir == RDP_S2C;

	if (dir == RDP_C2S && !r->info_done) {
		if ((tmp = vbuf_new(RELAY_OUT_MAX)) == NULL)
			return VDI_ERR_ALLOC;
		e = rdp_info_rewrite(&p->data, &r->p.pol, creds, tmp);
		if (e == 0) {
			e = rdp_mcs_write_send_data(res->fwd, ind, p->initiator,
			    p->channel_id, vbuf_ptr(tmp), vbuf_len(tmp));
			res->secret = 1;
		}
		vbuf_wipe(tmp);
		vbuf_free(tmp);
		/* The client's own password, if it sent one, goes too. */
		if (pdu_mut != NULL) {
			size_t off =
			    (size_t)(vbuf_ptr(&p->data) - vbuf_ptr(pdu));

			(void)!rdp_info_wipe_password(
			    pdu_mut + off, vbuf_len(&p->data));
		}
		if (e != 0)
			return close_err(res, "client_info", e);
		r->info_done = r->licensing = 1;
		return 0;
	}
	if (dir == RDP_S2C && !r->info_done)
		return close_err(
		    res, "io_before_client_info", VDI_ERR_BAD_FORMAT);
	if (r->licensing && rdp_sec_is_license(&p->data)) {
		if ((e = rdp_sec_parse_license(&p->data, dir, &l)) != 0)
			return close_err(res, "license", e);
		if (dir == RDP_S2C &&
		    (l.msg_type == RDP_LICENSE_ERROR_ALERT ||
			l.msg_type == RDP_LICENSE_NEW_LICENSE ||
			l.msg_type == RDP_LICENSE_UPGRADE_LICENSE))
			r->licensing = 0;
		return vbuf_put_buf(res->fwd, pdu);
	}
	r->licensing = 0;
	if ((tmp = vbuf_new(RELAY_OUT_MAX)) == NULL)
		return VDI_ERR_ALLOC;
	if ((e = rdp_caps_filter_io(&p->data, dir, &ev, &v, tmp)) != 0)
		goto out;
	if (dir == RDP_C2S && v.action != RDP_CLOSE && is_slow_input(&p->data))
		res->input = 1;
	switch (v.action) {
	case RDP_CLOSE:
		rdp_verdict_set(&res->v, RDP_CLOSE, "%s", v.reason);
		break;
	case RDP_PASS:
		e = vbuf_put_buf(res->fwd, pdu);
		break;
	case RDP_DROP:
		r->dropped++;
		snprintf(res->v.reason, sizeof(res->v.reason), "%s", v.reason);
		break;
	case RDP_REWRITE:
		snprintf(res->v.reason, sizeof(res->v.reason), "%s", v.reason);
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
	r->ci_done = 1;
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
	r->crsp_done = 1;
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
	if (f.kind == RDP_FRAME_FASTPATH) {
		if (!r->info_done)
			return close_err(
			    res, "fastpath_too_early", VDI_ERR_BAD_FORMAT);
		e = dir == RDP_S2C ? rdp_fastpath_check_output(pdu, &res->v)
				   : rdp_fastpath_check_input(pdu, &res->v);
		if (e != 0)
			return close_err(res, "fastpath", e);
		if (res->v.action == RDP_CLOSE)
			return 0;
		res->input = dir == RDP_C2S;
		return vbuf_put_buf(res->fwd, pdu);
	}
	t = rdp_x224_tpdu_type(pdu);
	if (t == RDP_X224_TPDU_DR) {
		rdp_verdict_set(&res->v, RDP_CLOSE, "x224_disconnect dir=%s",
		    dir == RDP_C2S ? "client" : "desktop");
		return 0;
	}
	if ((e = rdp_x224_parse_data(pdu, &mcs)) != 0)
		return close_err(res, "x224_data", e);
	if (!r->ci_done) {
		if (dir != RDP_C2S)
			return close_err(
			    res, "desktop_spoke_first", VDI_ERR_BAD_FORMAT);
		return connect_initial(r, pdu, res);
	}
	if (!r->crsp_done) {
		if (dir != RDP_S2C)
			return close_err(
			    res, "client_before_response", VDI_ERR_BAD_FORMAT);
		return connect_response(r, pdu, res);
	}
	if ((e = rdp_mcs_parse_domain(&mcs, &p)) != 0)
		return close_err(res, "mcs_domain", e);
	switch (p.type) {
	case RDP_MCS_CHANNEL_JOIN_REQUEST:
		if (dir == RDP_C2S && rdp_gcc_is_fake_id(&r->map, p.channel_id))
			return rdp_mcs_write_channel_join_confirm(res->back, 0,
			    p.initiator, p.channel_id, p.channel_id);
		return vbuf_put_buf(res->fwd, pdu);
	case RDP_MCS_ATTACH_USER_CONFIRM:
		if (dir == RDP_S2C && p.has_initiator) {
			/* The user id must not collide with the fake ids the
			 * client was given for refused channels. */
			if (p.initiator >= RDP_FAKE_CHANNEL_BASE)
				return close_err(res, "user_id_in_fake_range",
				    VDI_ERR_BAD_FORMAT);
			r->user_channel = p.initiator;
		}
		return vbuf_put_buf(res->fwd, pdu);
	case RDP_MCS_CHANNEL_JOIN_CONFIRM:
		if (dir == RDP_S2C && p.result == 0 && p.has_channel_id)
			r->joined |= joined_bit(r, p.channel_id);
		return vbuf_put_buf(res->fwd, pdu);
	case RDP_MCS_SEND_DATA_REQUEST:
	case RDP_MCS_SEND_DATA_INDICATION:
		if ((dir == RDP_C2S) != (p.type == RDP_MCS_SEND_DATA_REQUEST))
			return close_err(
			    res, "send_data_direction", VDI_ERR_BAD_FORMAT);
		break;
	default:
		return vbuf_put_buf(res->fwd, pdu);
	}
	/* Only channels the desktop confirmed a join for carry data. */
	if (joined_bit(r, p.channel_id) != 0 &&
	    (r->joined & joined_bit(r, p.channel_id)) == 0) {
		r->dropped++;
		rdp_verdict_set(&res->v, RDP_DROP, "channel_not_joined id=%u",
		    p.channel_id);
		return 0;
	}
	if (p.channel_id == r->map.io_channel)
		return relay_io(r, dir, pdu, pdu_mut, &p, creds, res);
	if (r->drdynvc != 0 && p.channel_id == r->drdynvc)
		return relay_drdynvc(r, dir, &p, res);
	if (r->rdpsnd != 0 && p.channel_id == r->rdpsnd)
		return relay_svc_pass(r, dir, pdu, &p, res);
	if (r->user_channel != 0 && p.channel_id == r->user_channel)
		return vbuf_put_buf(res->fwd, pdu);
	/* Fake ids of refused channels, the dropped message channel, ids
	 * nobody handed out: nothing gets through. */
	r->dropped++;
	rdp_verdict_set(
	    &res->v, RDP_DROP, "channel_data_dropped id=%u", p.channel_id);
	return 0;
}
