/*
 * fuzz_rdp_mcs.c: the MCS layer (rdp/mcs.c). The first byte picks
 * the mode, the rest is one TPKT PDU:
 *   0: Connect-Initial rewrite under both policies; a result must parse
 *      back through every layer and carry only allowed channels;
 *   1: Connect-Response rewrite against a fixed map (the first byte after
 *      the mode says which of four client channels were kept); a result
 *      must list all four ids, fake ones for refused channels;
 *   2: domain PDU parse, and the builders' output must parse back.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rdp/frame.h"
#include "rdp/gcc.h"
#include "rdp/mcs.h"
#include "rdp/x224.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_ci(const struct vbuf *pdu, const struct rdp_policy *pol,
    const struct rdp_gcc_map *map)
{
	struct rdp_mcs_connect_initial ci;
	struct rdp_gcc_client c;
	struct vbuf mcs, blocks;
	unsigned int i;

	if (rdp_x224_parse_data(pdu, &mcs) != 0 ||
	    rdp_mcs_parse_connect_initial(&mcs, &ci) != 0 ||
	    rdp_gcc_parse_create_request(&ci.user_data, &blocks) != 0 ||
	    rdp_gcc_parse_client_blocks(&blocks, &c) != 0)
		abort();
	if (c.nchannels != map->nkept)
		abort();
	for (i = 0; i < c.nchannels; i++)
		if (!rdp_gcc_channel_allowed(pol, c.ch[i].raw))
			abort();
	if (c.blocks_seen &
	    ((1u << (RDP_CS_MCS_MSGCHANNEL & 0x1F)) |
		(1u << (RDP_CS_MULTITRANSPORT & 0x1F))))
		abort();
}

static void
mode_ci(const struct vbuf *in)
{
	static const struct rdp_policy pols[2] = { { 0 }, { 1 } };
	struct rdp_gcc_map map;
	struct vbuf *out;
	int i;

	if ((out = vbuf_new(RDP_FRAME_MAX)) == NULL)
		abort();
	for (i = 0; i < 2; i++) {
		vbuf_reset(out);
		if (rdp_mcs_rewrite_connect_initial(
			in, &pols[i], RDP_PROTOCOL_SSL, &map, out) == 0)
			check_ci(out, &pols[i], &map);
		else if (vbuf_len(out) != 0)
			abort();
	}
	vbuf_free(out);
}

static void
mode_crsp(uint8_t kept, const struct vbuf *in)
{
	static const char *names[4] = { "rdpdr", "rdpsnd", "cliprdr",
		"drdynvc" };
	struct rdp_gcc_map map;
	struct rdp_mcs_connect_response cr;
	struct rdp_gcc_server s;
	struct vbuf *out, mcs, blocks;
	uint16_t node;
	uint32_t tag;
	unsigned int i;

	memset(&map, 0, sizeof(map));
	map.n = 4;
	for (i = 0; i < 4; i++) {
		memcpy(map.ch[i].raw, names[i], strlen(names[i]));
		memcpy(map.ch[i].name, names[i], strlen(names[i]));
		if (kept & (1u << i)) {
			map.ch[i].kept = 1;
			map.ch[i].desk_index = map.nkept++;
		}
	}
	if ((out = vbuf_new(RDP_FRAME_MAX)) == NULL)
		abort();
	if (rdp_mcs_rewrite_connect_response(in, RDP_PROTOCOL_SSL, &map, out) ==
	    0) {
		if (rdp_x224_parse_data(out, &mcs) != 0 ||
		    rdp_mcs_parse_connect_response(&mcs, &cr) != 0 ||
		    rdp_gcc_parse_create_response(
			&cr.user_data, &node, &tag, &blocks) != 0 ||
		    rdp_gcc_parse_server_blocks(&blocks, &s) != 0)
			abort();
		if (s.nchannels != 4 || s.has_msgchannel ||
		    s.client_requested != RDP_PROTOCOL_SSL || !map.have_ids)
			abort();
		for (i = 0; i < 4; i++)
			if (rdp_gcc_is_fake_id(&map, s.ids[i]) ==
			    map.ch[i].kept)
				abort();
	} else if (vbuf_len(out) != 0)
		abort();
	vbuf_free(out);
}

static void
mode_domain(const struct vbuf *in)
{
	struct rdp_mcs_pdu p, q;
	struct vbuf mcs, *out;

	if (rdp_x224_parse_data(in, &mcs) != 0 ||
	    rdp_mcs_parse_domain(&mcs, &p) != 0)
		return;
	if ((out = vbuf_new(RDP_FRAME_MAX)) == NULL)
		abort();
	switch (p.type) {
	case RDP_MCS_SEND_DATA_REQUEST:
	case RDP_MCS_SEND_DATA_INDICATION:
		if (rdp_mcs_write_send_data(out,
			p.type == RDP_MCS_SEND_DATA_INDICATION, p.initiator,
			p.channel_id, vbuf_ptr(&p.data),
			vbuf_len(&p.data)) != 0)
			abort();
		break;
	case RDP_MCS_CHANNEL_JOIN_REQUEST:
		if (rdp_mcs_write_channel_join_confirm(
			out, 0, p.initiator, p.channel_id, p.channel_id) != 0)
			abort();
		break;
	case RDP_MCS_DISCONNECT_PROVIDER_ULTIMATUM:
		if (rdp_mcs_write_disconnect(out, p.reason) != 0)
			abort();
		break;
	default:
		vbuf_free(out);
		return;
	}
	if (rdp_x224_parse_data(out, &mcs) != 0 ||
	    rdp_mcs_parse_domain(&mcs, &q) != 0)
		abort();
	if (p.type == RDP_MCS_CHANNEL_JOIN_REQUEST) {
		if (q.type != RDP_MCS_CHANNEL_JOIN_CONFIRM ||
		    q.channel_id != p.channel_id || q.initiator != p.initiator)
			abort();
	} else if (q.type != p.type || q.initiator != p.initiator ||
	    q.channel_id != p.channel_id || q.reason != p.reason ||
	    vbuf_len(&q.data) != vbuf_len(&p.data))
		abort();
	vbuf_free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vbuf in;

	if (size < 2)
		return 0;
	switch (data[0] % 3) {
	case 0:
		vbuf_init_view(&in, data + 1, size - 1);
		mode_ci(&in);
		break;
	case 1:
		vbuf_init_view(&in, data + 2, size - 2);
		mode_crsp(data[1], &in);
		break;
	default:
		vbuf_init_view(&in, data + 1, size - 1);
		mode_domain(&in);
		break;
	}
	return 0;
}
