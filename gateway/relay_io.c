/* relay_io.c: the relay's I/O channel (relay.h): the Client Info PDU
 * with the injected credentials, licensing, the Share Control PDUs of the
 * capability exchange and the session; and fast-path. */
#include "config.h"

#include <string.h>

#include "rdp/caps.h"
#include "rdp/frame.h"
#include "rdp/mcs.h"
#include "rdp/sec.h"
#include "relay.h"
#include "relay_int.h"

/* Share Data pduType2 of slow-path input (2.2.8.1.1.3). */
#define PDUTYPE2_INPUT 0x1C

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
		    "not_licensing_in_licensing from=%s", relay_dir_name(dir));
		return 0;
	}
	if ((e = rdp_sec_parse_license(&p->data, dir, &l)) != 0)
		return relay_close_err(res,
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
		return relay_close_err(res, "client_info", e);
	r->phase = RELAY_LICENSING;
	return 0;
}

/* I/O channel data: Client Info, licensing, then Share Control PDUs. */
int
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
			return relay_close_err(
			    res, "io_before_client_info", VDI_ERR_BAD_FORMAT);
		return relay_client_info(r, pdu, pdu_mut, p, creds, res);
	case RELAY_LICENSING:
		return relay_license(r, dir, pdu, p, res);
	case RELAY_SHARE:
		break;
	default: /* relay_pdu() routes no data before DOMAIN */
		return relay_close_err(
		    res, "io_out_of_phase", VDI_ERR_BAD_FORMAT);
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

/* Fast-path (2.2.8.1.2, 2.2.9.1.2): input once a Confirm Active went to
 * the desktop, output once the session was activated; input still in
 * flight during a reactivation is dropped. */
int
relay_fastpath(struct relay *r, enum rdp_dir dir, const struct vbuf *pdu,
    struct relay_result *res)
{
	struct rdp_verdict v;
	int e,
	    active =
		r->phase == RELAY_SHARE && r->share.phase == RDP_SHARE_ACTIVE;

	if (!active && !(r->phase == RELAY_SHARE && r->share.activated)) {
		rdp_verdict_set(&res->v, RDP_CLOSE,
		    "fastpath_out_of_phase from=%s phase=%s",
		    relay_dir_name(dir), relay_phase_name(r->phase));
		return 0;
	}
	e = dir == RDP_S2C ? rdp_fastpath_check_output(pdu, &v)
			   : rdp_fastpath_check_input(pdu, &v);
	if (e != 0)
		return relay_close_err(res, "fastpath", e);
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
