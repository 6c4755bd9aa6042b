/* relay_chan.c: the relay's kept virtual channels (relay.h): drdynvc
 * reassembled, filtered by the DVC rules and re-chunked; rdpsnd checked
 * chunk by chunk and passed. */
#include "config.h"

#include "rdp/mcs.h"
#include "rdp/svc.h"
#include "relay.h"
#include "relay_int.h"

/* One drdynvc chunk: reassembly, the DVC filter, re-chunking. */
int
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
		return relay_close_err(res, "drdynvc_chunk", e);
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
		relay_record(r, d->v.what.name, 1, 0);
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
			relay_record(r, safe, 1, 1);
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

/* A kept static channel other than drdynvc (rdpsnd): chunks checked for
 * their sequence and compression, bytes passed. */
int
relay_svc_pass(struct relay *r, enum rdp_dir dir, const struct vbuf *pdu,
    const struct rdp_mcs_pdu *p, struct relay_result *res)
{
	struct rdp_svc_chunk c;
	struct rdp_svc_step st;
	int e;

	if ((e = rdp_svc_parse_chunk(&p->data, &c)) != 0 ||
	    (e = rdp_svc_stream_feed(&r->snd[dir], &c, &st)) != 0)
		return relay_close_err(res, "svc_chunk", e);
	return vbuf_put_buf(res->fwd, pdu);
}
