/*
 * fuzz_rdp_gcc.c: GCC user data (rdp/gcc.c). The first byte picks
 * the mode, the rest is:
 *   0: client data blocks: parse, rewrite under both policies, and the
 *      output must parse with only allowed channels and no dropped blocks;
 *   1: server data blocks, rewritten against the map of a fixed client
 *      list (drdynvc, cliprdr, rdpsnd): the output must list three ids;
 *   2: a ConnectData (request or response): parse, write, parse again to
 *      the same blocks.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rdp/gcc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
mode_client(const struct vbuf *in)
{
	static const struct rdp_policy pols[2] = { { 0 }, { 1 } };
	struct rdp_gcc_client c, c2;
	struct rdp_gcc_map map;
	struct vbuf *out;
	unsigned int i, k;

	if (rdp_gcc_parse_client_blocks(in, &c) != 0)
		return;
	if ((out = vbuf_new(65536)) == NULL)
		abort();
	for (k = 0; k < 2; k++) {
		vbuf_reset(out);
		if (rdp_gcc_rewrite_client_blocks(in, &pols[k], 2, &map, out) !=
		    0)
			abort(); /* it parsed: the rewrite cannot fail */
		if (rdp_gcc_parse_client_blocks(out, &c2) != 0)
			abort();
		if (c2.nchannels != map.nkept || map.n != c.nchannels ||
		    (c.has_server_selected && c2.server_selected != 2) ||
		    (c2.cluster_flags & RDP_CLUSTER_REDIRECTION_SUPPORTED) ||
		    (c2.early_caps & RDP_CS_CORE_SUPPORT_SKIP_CHANNELJOIN))
			abort();
		for (i = 0; i < c2.nchannels; i++)
			if (!rdp_gcc_channel_allowed(&pols[k], c2.ch[i].raw))
				abort();
		if (c2.blocks_seen &
		    ~((1u << 1) | (1u << 2) | (1u << 3) | (1u << 4) |
			(1u << 5) | (1u << 8)))
			abort();
	}
	vbuf_free(out);
}

static void
mode_server(const struct vbuf *in)
{
	/* CS_CORE (minimal) + CS_NET: drdynvc, cliprdr, rdpsnd. */
	static const unsigned char client[4 + 128 + 8 + 36] = {
		0x01,
		0xC0,
		132,
		0,
		[132] = 0x03,
		0xC0,
		44,
		0,
		3,
		0,
		0,
		0,
		'd',
		'r',
		'd',
		'y',
		'n',
		'v',
		'c',
		0,
		0,
		0,
		0,
		0,
		'c',
		'l',
		'i',
		'p',
		'r',
		'd',
		'r',
		0,
		0,
		0,
		0,
		0,
		'r',
		'd',
		'p',
		's',
		'n',
		'd',
		0,
		0,
		0,
		0,
		0,
		0,
	};
	static const struct rdp_policy audio = { 1 };
	struct rdp_gcc_server s;
	struct rdp_gcc_map map;
	struct vbuf cb, *out;

	vbuf_init_view(&cb, client, sizeof(client));
	if ((out = vbuf_new(65536)) == NULL)
		abort();
	if (rdp_gcc_rewrite_client_blocks(&cb, &audio, 1, &map, out) != 0 ||
	    map.nkept != 2)
		abort();
	vbuf_reset(out);
	if (rdp_gcc_rewrite_server_blocks(in, 7, &map, out) == 0) {
		if (rdp_gcc_parse_server_blocks(out, &s) != 0 ||
		    s.nchannels != 3 || s.has_msgchannel ||
		    (s.has_requested && s.client_requested != 7) ||
		    !rdp_gcc_is_fake_id(&map, s.ids[1]) ||
		    rdp_gcc_is_fake_id(&map, s.ids[0]) ||
		    rdp_gcc_is_fake_id(&map, s.ids[2]))
			abort();
	} else if (vbuf_len(out) != 0)
		abort();
	vbuf_free(out);
}

static void
mode_connect_data(const struct vbuf *in)
{
	struct vbuf blocks, b2, *out;
	uint16_t node, node2;
	uint32_t tag, tag2;

	if ((out = vbuf_new(65536)) == NULL)
		abort();
	if (rdp_gcc_parse_create_request(in, &blocks) == 0) {
		if (rdp_gcc_write_create_request(out, &blocks) != 0 ||
		    rdp_gcc_parse_create_request(out, &b2) != 0 ||
		    vbuf_len(&b2) != vbuf_len(&blocks) ||
		    memcmp(vbuf_ptr(&b2), vbuf_ptr(&blocks), vbuf_len(&b2)))
			abort();
	}
	vbuf_reset(out);
	if (rdp_gcc_parse_create_response(in, &node, &tag, &blocks) == 0) {
		if (rdp_gcc_write_create_response(out, node, tag, &blocks) !=
			0 ||
		    rdp_gcc_parse_create_response(out, &node2, &tag2, &b2) !=
			0 ||
		    node != node2 || tag != tag2 ||
		    vbuf_len(&b2) != vbuf_len(&blocks))
			abort();
	}
	vbuf_free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vbuf in;

	if (size < 1)
		return 0;
	vbuf_init_view(&in, data + 1, size - 1);
	switch (data[0] % 3) {
	case 0:
		mode_client(&in);
		break;
	case 1:
		mode_server(&in);
		break;
	default:
		mode_connect_data(&in);
		break;
	}
	return 0;
}
