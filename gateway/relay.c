/*
 * relay.c: the display-only relay engine (see relay.h, docs/gateway.md):
 * set-up, framing, the channel records, and relay_pdu(), which routes each
 * PDU by phase and channel to the other relay_*.c files:
 *
 *   relay_domain.c  MCS Connect Initial / Response, the domain phase
 *   relay_io.c      the I/O channel (Client Info, licensing, Share
 *                   Control PDUs) and fast-path
 *   relay_chan.c    the kept virtual channels (drdynvc, rdpsnd)
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "rdp/frame.h"
#include "rdp/mcs.h"
#include "rdp/x224.h"
#include "relay.h"
#include "relay_int.h"

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

void
relay_record(struct relay *r, const char *name, int dynamic, int allowed)
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

int
relay_close_err(struct relay_result *res, const char *what, int err)
{
	rdp_verdict_set(
	    &res->v, RDP_CLOSE, "%s err=%s", what, vdi_errname(err));
	return 0;
}

const char *
relay_dir_name(enum rdp_dir dir)
{
	return dir == RDP_C2S ? "client" : "desktop";
}

const char *
relay_phase_name(enum relay_phase ph)
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

/* Send Data on a channel: the I/O channel's phases, the kept channels'
 * filters; the user channel carries nothing. */
static int
send_data(struct relay *r, enum rdp_dir dir, const struct vbuf *pdu,
    unsigned char *pdu_mut, const struct rdp_mcs_pdu *p,
    const struct rdp_info_creds *creds, struct relay_result *res)
{
	unsigned int bit = relay_joined_bit(r, p->channel_id);

	if (r->user_channel != 0 && p->channel_id == r->user_channel) {
		rdp_verdict_set(&res->v, RDP_CLOSE,
		    "user_channel_data from=%s id=%u", relay_dir_name(dir),
		    p->channel_id);
		return 0;
	}
	if (p->channel_id != r->map.io_channel && r->phase != RELAY_SHARE) {
		rdp_verdict_set(&res->v, RDP_CLOSE,
		    "channel_data_out_of_phase from=%s phase=%s id=%u",
		    relay_dir_name(dir), relay_phase_name(r->phase),
		    p->channel_id);
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
		return relay_close_err(
		    res, "framing", e != 0 ? e : VDI_ERR_BAD_LENGTH);
	if (f.kind == RDP_FRAME_FASTPATH)
		return relay_fastpath(r, dir, pdu, res);
	t = rdp_x224_tpdu_type(pdu);
	if (t == RDP_X224_TPDU_DR) {
		rdp_verdict_set(&res->v, RDP_CLOSE, "x224_disconnect dir=%s",
		    relay_dir_name(dir));
		return 0;
	}
	if ((e = rdp_x224_parse_data(pdu, &mcs)) != 0)
		return relay_close_err(res, "x224_data", e);
	switch (r->phase) {
	case RELAY_CONNECT_INITIAL:
		if (dir != RDP_C2S)
			return relay_close_err(
			    res, "desktop_spoke_first", VDI_ERR_BAD_FORMAT);
		return relay_connect_initial(r, pdu, res);
	case RELAY_CONNECT_RESPONSE:
		if (dir != RDP_S2C)
			return relay_close_err(
			    res, "client_before_response", VDI_ERR_BAD_FORMAT);
		return relay_connect_response(r, pdu, res);
	default:
		break;
	}
	if ((e = rdp_mcs_parse_domain(&mcs, &p)) != 0)
		return relay_close_err(res, "mcs_domain", e);
	if (!relay_mcs_dir_allowed(dir, p.type)) {
		rdp_verdict_set(&res->v, RDP_CLOSE,
		    "mcs_wrong_direction from=%s type=%u", relay_dir_name(dir),
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
		    relay_phase_name(r->phase));
		return 0;
	}
	return relay_domain(r, pdu, &p, res);
}
