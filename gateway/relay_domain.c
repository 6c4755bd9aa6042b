/* relay_domain.c: the relay's MCS connection phases (relay.h): Connect
 * Initial and Response rewritten, then the domain phase (Erect Domain,
 * Attach User, Channel Joins, fake ids answered locally). */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "rdp/mcs.h"
#include "relay.h"
#include "relay_int.h"

int
relay_connect_initial(
    struct relay *r, const struct vbuf *pdu, struct relay_result *res)
{
	unsigned int i;
	int e;

	if ((e = rdp_mcs_rewrite_connect_initial(pdu, &r->p.pol,
		 r->p.desktop_selected, &r->map, res->fwd)) != 0)
		return relay_close_err(res, "mcs_connect_initial", e);
	for (i = 0; i < r->map.n; i++)
		relay_record(r, r->map.ch[i].name, 0, r->map.ch[i].kept);
	r->phase = RELAY_CONNECT_RESPONSE;
	return 0;
}

int
relay_connect_response(
    struct relay *r, const struct vbuf *pdu, struct relay_result *res)
{
	unsigned int i;
	int e;

	if ((e = rdp_mcs_rewrite_connect_response(
		 pdu, r->p.client_requested, &r->map, res->fwd)) != 0)
		return relay_close_err(res, "mcs_connect_response", e);
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
unsigned int
relay_joined_bit(const struct relay *r, uint16_t id)
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
int
relay_mcs_dir_allowed(enum rdp_dir dir, enum rdp_mcs_type t)
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
	if ((bit = relay_joined_bit(r, p->channel_id)) == 0) {
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
	unsigned int bit = relay_joined_bit(r, p->requested);

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
				return relay_close_err(res,
				    "user_id_in_fake_range",
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

/* A connection-sequence PDU of the domain phase (relay_int.h). */
int
relay_domain(struct relay *r, const struct vbuf *pdu,
    const struct rdp_mcs_pdu *p, struct relay_result *res)
{
	if (p->type == RDP_MCS_CHANNEL_JOIN_REQUEST)
		return join_request(r, pdu, p, res);
	if (p->type == RDP_MCS_CHANNEL_JOIN_CONFIRM)
		return join_confirm(r, pdu, p, res);
	return domain_pdu(r, pdu, p, res);
}
