/* caps.c: Share Control PDUs and the capability rewrite (see caps.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "rdp/caps.h"

#define FLOW_PDU_LEN 8 /* TS_FLOW_PDU (2.2.8.1.1.1.1 note, T.128 8.21) */

int
rdp_share_next(struct vbuf *data, struct rdp_share_ctrl *h, struct vbuf *pdu)
{
	uint16_t len = 0, type = 0, src = 0;
	int r;

	memset(h, 0, sizeof(*h));
	memset(pdu, 0, sizeof(*pdu));
	if ((r = vbuf_peek_u16le(data, 0, &len)) != 0)
		return r;
	if (len == RDP_SHARE_FLOW_MARKER) {
		h->flow = 1;
		h->total_length = FLOW_PDU_LEN;
		return vbuf_get_view(data, FLOW_PDU_LEN, pdu);
	}
	if ((r = vbuf_peek_u16le(data, 2, &type)) != 0 ||
	    (r = vbuf_peek_u16le(data, 4, &src)) != 0)
		return r;
	if (len < RDP_SHARE_CTRL_LEN)
		return VDI_ERR_BAD_LENGTH;
	if (len > vbuf_len(data))
		return VDI_ERR_TRUNCATED;
	if ((type >> 4) != 1) /* TS_PROTOCOL_VERSION */
		return VDI_ERR_BAD_FORMAT;
	h->total_length = len;
	h->type = (uint8_t)(type & 0x0F);
	h->source = src;
	return vbuf_get_view(data, len, pdu);
}

int
rdp_share_parse_data(const struct vbuf *pdu, struct rdp_share_data *d)
{
	struct vbuf b = *pdu;
	uint8_t pad;
	int r;

	memset(d, 0, sizeof(*d));
	if ((r = vbuf_consume(&b, RDP_SHARE_CTRL_LEN)) != 0 ||
	    (r = vbuf_get_u32le(&b, &d->share_id)) != 0 ||
	    (r = vbuf_get_u8(&b, &pad)) != 0 ||
	    (r = vbuf_get_u8(&b, &d->stream_id)) != 0 ||
	    (r = vbuf_get_u16le(&b, &d->uncompressed_length)) != 0 ||
	    (r = vbuf_get_u8(&b, &d->pdu_type2)) != 0 ||
	    (r = vbuf_get_u8(&b, &d->compressed_type)) != 0 ||
	    (r = vbuf_get_u16le(&b, &d->compressed_length)) != 0 ||
	    (r = vbuf_get_view(&b, vbuf_len(&b), &d->payload)) != 0) {
		memset(d, 0, sizeof(*d));
		return r;
	}
	return 0;
}

int
rdp_caps_parse(const struct vbuf *pdu, struct rdp_caps_pdu *c)
{
	struct vbuf b = *pdu, combined;
	uint16_t len, type, src_len, comb_len, ncaps, pad, clen;
	unsigned int i;
	int r;

	memset(c, 0, sizeof(*c));
	if ((r = vbuf_get_u16le(&b, &len)) != 0 ||
	    (r = vbuf_get_u16le(&b, &type)) != 0 ||
	    (r = vbuf_consume(&b, 2)) != 0)
		goto fail;
	if (len != vbuf_len(pdu)) {
		r = VDI_ERR_BAD_LENGTH;
		goto fail;
	}
	c->type = (uint8_t)(type & 0x0F);
	if (c->type != RDP_PDUTYPE_DEMANDACTIVE &&
	    c->type != RDP_PDUTYPE_CONFIRMACTIVE) {
		r = VDI_ERR_BAD_FORMAT;
		goto fail;
	}
	if ((r = vbuf_get_u32le(&b, &c->share_id)) != 0 ||
	    (c->type == RDP_PDUTYPE_CONFIRMACTIVE &&
		(r = vbuf_get_u16le(&b, &c->originator_id)) != 0) ||
	    (r = vbuf_get_u16le(&b, &src_len)) != 0 ||
	    (r = vbuf_get_u16le(&b, &comb_len)) != 0 ||
	    (r = vbuf_get_view(&b, src_len, &c->source)) != 0)
		goto fail;
	if (comb_len < 4) {
		r = VDI_ERR_BAD_LENGTH;
		goto fail;
	}
	if ((r = vbuf_get_view(&b, comb_len, &combined)) != 0 ||
	    (r = vbuf_get_u16le(&combined, &ncaps)) != 0 ||
	    (r = vbuf_get_u16le(&combined, &pad)) != 0)
		goto fail;
	if (ncaps > RDP_CAPS_MAX) {
		r = VDI_ERR_TOO_LARGE;
		goto fail;
	}
	for (i = 0; i < ncaps; i++) {
		if ((r = vbuf_get_u16le(&combined, &c->caps[i].type)) != 0 ||
		    (r = vbuf_get_u16le(&combined, &clen)) != 0)
			goto fail;
		if (clen < 4) {
			r = VDI_ERR_BAD_LENGTH;
			goto fail;
		}
		if ((r = vbuf_get_view(
			 &combined, clen - 4, &c->caps[i].body)) != 0)
			goto fail;
	}
	c->ncaps = ncaps;
	if (vbuf_len(&combined) != 0) {
		r = VDI_ERR_BAD_LENGTH;
		goto fail;
	}
	/* Demand Active: sessionId (4 bytes, absent in old servers). */
	if (vbuf_len(&b) != 0 &&
	    !(c->type == RDP_PDUTYPE_DEMANDACTIVE && vbuf_len(&b) == 4)) {
		r = VDI_ERR_BAD_LENGTH;
		goto fail;
	}
	if ((r = vbuf_get_view(&b, vbuf_len(&b), &c->trailer)) != 0)
		goto fail;
	return 0;
fail:
	memset(c, 0, sizeof(*c));
	return r == VDI_ERR_TRUNCATED ? VDI_ERR_BAD_LENGTH : r;
}

/* Appends one capability set, applying the rules; *kept is 0 when the set
 * is dropped. */
static int
put_capset(
    struct vbuf *out, uint8_t pdu_type, const struct rdp_capset *cs, int *kept)
{
	size_t pos, n = vbuf_len(&cs->body);
	uint32_t u;
	uint16_t f;
	unsigned int i;
	int r;

	*kept = 0;
	switch (cs->type) {
	case RDP_CAPSET_BITMAPCACHE_HOSTSUPPORT:
	case RDP_CAPSET_RAIL:
	case RDP_CAPSET_WINDOW:
		return 0;
	default:
		break;
	}
	if (n > 0xFFFF - 4)
		return VDI_ERR_TOO_LARGE;
	if ((r = vbuf_put_u16le(out, cs->type)) != 0 ||
	    (r = vbuf_put_u16le(out, (uint16_t)(n + 4))) != 0)
		return r;
	pos = vbuf_len(out);
	if ((r = vbuf_put_buf(out, &cs->body)) != 0)
		return r;
	*kept = 1;
	if (cs->type == RDP_CAPSET_VIRTUALCHANNEL && n >= 4)
		return vbuf_poke_u32le(out, pos, 0);
	if (cs->type == RDP_CAPSET_BITMAPCACHE_REV2 &&
	    pdu_type == RDP_PDUTYPE_CONFIRMACTIVE) {
		/* CacheFlags(2) pad(1) NumCellCaches(1) cellInfo[5](4). */
		if (n >= 2) {
			if ((r = vbuf_peek_u16le(&cs->body, 0, &f)) != 0 ||
			    (r = vbuf_poke_u16le(out, pos,
				 f & (uint16_t)~RDP_BMPCACHE2_PERSISTENT_KEYS)) !=
				0)
				return r;
		}
		for (i = 0; i < 5 && 4 + 4 * (size_t)i + 4 <= n; i++) {
			if ((r = vbuf_peek_u32le(&cs->body, 4 + 4 * i, &u)) !=
				0 ||
			    (r = vbuf_poke_u32le(out, pos + 4 + 4 * i,
				 u & ~RDP_BMPCACHE2_CELL_PERSISTENT)) != 0)
				return r;
		}
	}
	return 0;
}

int
rdp_caps_rewrite(const struct vbuf *pdu, struct vbuf *out)
{
	struct rdp_caps_pdu *c;
	size_t mark = vbuf_len(out), comb_pos, ncaps_pos;
	uint16_t type, src;
	unsigned int i, nkept = 0;
	int r, kept;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return VDI_ERR_ALLOC;
	if ((r = rdp_caps_parse(pdu, c)) != 0 ||
	    (r = vbuf_peek_u16le(pdu, 2, &type)) != 0 ||
	    (r = vbuf_peek_u16le(pdu, 4, &src)) != 0)
		goto out;
	if ((r = vbuf_put_u16le(out, 0)) != 0 || /* totalLength, below */
	    (r = vbuf_put_u16le(out, type)) != 0 ||
	    (r = vbuf_put_u16le(out, src)) != 0 ||
	    (r = vbuf_put_u32le(out, c->share_id)) != 0 ||
	    (c->type == RDP_PDUTYPE_CONFIRMACTIVE &&
		(r = vbuf_put_u16le(out, c->originator_id)) != 0) ||
	    (r = vbuf_put_u16le(out, (uint16_t)vbuf_len(&c->source))) != 0)
		goto out;
	comb_pos = vbuf_len(out);
	if ((r = vbuf_put_u16le(out, 0)) != 0 || /* lengthCombined, below */
	    (r = vbuf_put_buf(out, &c->source)) != 0)
		goto out;
	ncaps_pos = vbuf_len(out);
	if ((r = vbuf_put_u16le(out, 0)) != 0 || /* numberCapabilities */
	    (r = vbuf_put_u16le(out, 0)) != 0)   /* pad2Octets */
		goto out;
	for (i = 0; i < c->ncaps; i++) {
		if ((r = put_capset(out, c->type, &c->caps[i], &kept)) != 0)
			goto out;
		nkept += (unsigned int)kept;
	}
	if (vbuf_len(out) - ncaps_pos > 0xFFFF) {
		r = VDI_ERR_TOO_LARGE;
		goto out;
	}
	if ((r = vbuf_poke_u16le(
		 out, comb_pos, (uint16_t)(vbuf_len(out) - ncaps_pos))) != 0 ||
	    (r = vbuf_poke_u16le(out, ncaps_pos, (uint16_t)nkept)) != 0 ||
	    (r = vbuf_put_buf(out, &c->trailer)) != 0)
		goto out;
	if (vbuf_len(out) - mark > 0xFFFF) {
		r = VDI_ERR_TOO_LARGE;
		goto out;
	}
	r = vbuf_poke_u16le(out, mark, (uint16_t)(vbuf_len(out) - mark));
out:
	if (r != 0)
		rdp_truncate(out, mark);
	free(c);
	return r;
}

int
rdp_share_type2_allowed(enum rdp_dir dir, uint8_t t)
{
	if (dir == RDP_C2S) {
		switch (t) {
		case RDP_PDUTYPE2_CONTROL:
		case RDP_PDUTYPE2_INPUT:
		case RDP_PDUTYPE2_SYNCHRONIZE:
		case RDP_PDUTYPE2_REFRESH_RECT:
		case RDP_PDUTYPE2_SUPPRESS_OUTPUT:
		case RDP_PDUTYPE2_SHUTDOWN_REQUEST:
		case RDP_PDUTYPE2_FONTLIST:
		case RDP_PDUTYPE2_BITMAPCACHE_ERROR:
		case RDP_PDUTYPE2_OFFSCRCACHE_ERROR:
		case RDP_PDUTYPE2_DRAWNINEGRID_ERROR:
		case RDP_PDUTYPE2_DRAWGDIPLUS_ERROR:
		case RDP_PDUTYPE2_FRAME_ACKNOWLEDGE:
			return 1;
		default:
			return 0;
		}
	}
	switch (t) {
	case RDP_PDUTYPE2_UPDATE:
	case RDP_PDUTYPE2_CONTROL:
	case RDP_PDUTYPE2_POINTER:
	case RDP_PDUTYPE2_SYNCHRONIZE:
	case RDP_PDUTYPE2_PLAY_SOUND:
	case RDP_PDUTYPE2_SHUTDOWN_DENIED:
	case RDP_PDUTYPE2_SAVE_SESSION_INFO:
	case RDP_PDUTYPE2_FONTMAP:
	case RDP_PDUTYPE2_SET_KBD_INDICATORS:
	case RDP_PDUTYPE2_SET_KBD_IME_STATUS:
	case RDP_PDUTYPE2_SET_ERROR_INFO:
	case RDP_PDUTYPE2_ARC_STATUS:
	case RDP_PDUTYPE2_STATUS_INFO:
	case RDP_PDUTYPE2_MONITOR_LAYOUT:
		return 1;
	default:
		return 0;
	}
}

static const char *
phase_name(enum rdp_share_phase p)
{
	switch (p) {
	case RDP_SHARE_WAIT_DEMAND:
		return "wait_demand";
	case RDP_SHARE_WAIT_CONFIRM:
		return "wait_confirm";
	case RDP_SHARE_ACTIVE:
		return "active";
	}
	return "?";
}

/*
 * The phase rule for one Data PDU (caps.h top): 0 to go on with it, 1 to
 * drop it (client data in flight during a reactivation), -1 to close (v
 * set).
 */
static int
data_phase_rule(const struct rdp_share_state *st, enum rdp_dir dir,
    const struct rdp_share_data *d, struct rdp_verdict *v)
{
	if (st->phase == RDP_SHARE_ACTIVE)
		return 0;
	if (dir == RDP_S2C) {
		/* 2.2.12.1: before the Demand Active, or after a Deactivate
		 * All once active (updates still in flight) */
		if (d->pdu_type2 == RDP_PDUTYPE2_MONITOR_LAYOUT &&
		    st->phase == RDP_SHARE_WAIT_DEMAND)
			return 0;
		if (st->activated && st->phase == RDP_SHARE_WAIT_DEMAND)
			return 0;
	} else if (st->activated)
		return 1;
	rdp_verdict_set(v, RDP_CLOSE,
	    "share_data_out_of_phase phase=%s type2=0x%02x",
	    phase_name(st->phase), d->pdu_type2);
	return -1;
}

int
rdp_caps_filter_io(const struct vbuf *data, enum rdp_dir dir,
    struct rdp_share_state *st, struct rdp_io_events *ev, struct rdp_verdict *v,
    struct vbuf *out)
{
	struct vbuf b = *data, pdu;
	struct rdp_share_ctrl h;
	struct rdp_share_data d;
	size_t mark = vbuf_len(out);
	int r, changed = 0, any = 0;

	memset(ev, 0, sizeof(*ev));
	rdp_verdict_init(v);
	if (vbuf_len(&b) == 0) {
		rdp_verdict_set(v, RDP_CLOSE, "share_empty");
		return 0;
	}
	while (vbuf_len(&b) > 0) {
		if ((r = rdp_share_next(&b, &h, &pdu)) != 0) {
			rdp_verdict_set(v, RDP_CLOSE, "share_malformed err=%s",
			    vdi_errname(r));
			goto close;
		}
		if (h.flow) {
			rdp_verdict_set(v, RDP_REWRITE, "flow_pdu_dropped");
			ev->dropped++;
			changed = 1;
			continue;
		}
		switch (h.type) {
		case RDP_PDUTYPE_DEMANDACTIVE:
		case RDP_PDUTYPE_CONFIRMACTIVE:
			if ((h.type == RDP_PDUTYPE_DEMANDACTIVE) !=
			    (dir == RDP_S2C)) {
				rdp_verdict_set(v, RDP_CLOSE,
				    "share_wrong_direction type=%u", h.type);
				goto close;
			}
			/* A Demand Active starts every (re)activation; a
			 * Confirm Active only answers one. */
			if (h.type == RDP_PDUTYPE_CONFIRMACTIVE
				? st->phase != RDP_SHARE_WAIT_CONFIRM
				: st->phase == RDP_SHARE_WAIT_CONFIRM) {
				rdp_verdict_set(v, RDP_CLOSE,
				    "share_out_of_phase phase=%s type=%u",
				    phase_name(st->phase), h.type);
				goto close;
			}
			if ((r = rdp_caps_rewrite(&pdu, out)) != 0) {
				if (r == VDI_ERR_ALLOC)
					goto err;
				rdp_verdict_set(v, RDP_CLOSE,
				    "caps_malformed err=%s", vdi_errname(r));
				goto close;
			}
			/* The capability sets are rewritten: a REWRITE
			 * that refuses nothing by itself. */
			rdp_verdict_set(v, RDP_REWRITE, NULL);
			if (h.type == RDP_PDUTYPE_DEMANDACTIVE) {
				ev->demand_active = 1;
				st->phase = RDP_SHARE_WAIT_CONFIRM;
			} else {
				ev->confirm_active = 1;
				st->phase = RDP_SHARE_ACTIVE;
				st->activated = 1;
			}
			changed = any = 1;
			continue;
		case RDP_PDUTYPE_DEACTIVATEALL:
			if (dir != RDP_S2C) {
				rdp_verdict_set(v, RDP_CLOSE,
				    "share_wrong_direction type=%u", h.type);
				goto close;
			}
			if (st->phase != RDP_SHARE_ACTIVE) {
				rdp_verdict_set(v, RDP_CLOSE,
				    "share_out_of_phase phase=%s type=%u",
				    phase_name(st->phase), h.type);
				goto close;
			}
			ev->deactivate_all = 1;
			st->phase = RDP_SHARE_WAIT_DEMAND;
			break;
		case RDP_PDUTYPE_DATA:
			if ((r = rdp_share_parse_data(&pdu, &d)) != 0) {
				rdp_verdict_set(
				    v, RDP_CLOSE, "share_data_malformed");
				goto close;
			}
			if (d.compressed_type & RDP_SHARE_PACKET_COMPRESSED) {
				rdp_verdict_set(v, RDP_CLOSE,
				    "share_data_compressed type2=0x%02x",
				    d.pdu_type2);
				goto close;
			}
			if (dir == RDP_C2S &&
			    d.pdu_type2 == RDP_PDUTYPE2_PERSISTENT_LIST) {
				rdp_verdict_refuse(v, RDP_REWRITE,
				    RDP_REFUSED_PDU, d.pdu_type2, NULL, 0,
				    "persistent_key_list_dropped");
				ev->dropped++;
				changed = 1;
				continue;
			}
			if (!rdp_share_type2_allowed(dir, d.pdu_type2)) {
				rdp_verdict_set(v, RDP_CLOSE,
				    "share_data_type2_refused type2=0x%02x",
				    d.pdu_type2);
				goto close;
			}
			switch (data_phase_rule(st, dir, &d, v)) {
			case -1:
				goto close;
			case 1:
				rdp_verdict_set(v, RDP_REWRITE,
				    "share_data_during_reactivation_dropped");
				ev->dropped++;
				changed = 1;
				continue;
			}
			break;
		case RDP_PDUTYPE_SERVER_REDIR:
			rdp_verdict_set(v, RDP_CLOSE, "server_redirection");
			goto close;
		default:
			rdp_verdict_set(
			    v, RDP_CLOSE, "share_unknown_type type=%u", h.type);
			goto close;
		}
		if ((r = vbuf_put_buf(out, &pdu)) != 0)
			goto err;
		any = 1;
	}
	/* Unchanged: v is still the PASS of rdp_verdict_init(). Changed
	 * (each change raised v to REWRITE with what it refused): a DROP
	 * when nothing is left to forward. */
	if (!changed)
		rdp_truncate(out, mark);
	else if (!any) {
		rdp_truncate(out, mark);
		rdp_verdict_escalate(v, RDP_DROP);
	}
	return 0;
close:
	rdp_truncate(out, mark);
	return 0;
err:
	rdp_truncate(out, mark);
	rdp_verdict_init(v);
	return r;
}
