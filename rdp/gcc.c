/* gcc.c: GCC Conference Create Request/Response and the relay's rewrite
 * of the RDP user data blocks (see gcc.h). */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "rdp/gcc.h"

/* ConnectData::t124Identifier: choice object, OID 0.0.20.124.0.1. */
static const unsigned char t124_key[7] = { 0x00, 0x05, 0x00, 0x14, 0x7C, 0x00,
	0x01 };
/* ConferenceCreateRequest as every RDP client sends it: choice 0, userData
 * present, conferenceName "1", one set, h221NonStandard "Duca". */
static const unsigned char ccr_prefix[12] = { 0x00, 0x08, 0x00, 0x10, 0x00,
	0x01, 0xC0, 0x00, 'D', 'u', 'c', 'a' };
/* After the response's nodeID and tag: result, one set, h221NonStandard
 * "McDn". */
static const unsigned char ccrsp_tail[8] = { 0x01, 0xC0, 0x00, 'M', 'c', 'D',
	'n' };
#define CCRSP_CHOICE 0x14
#define MCS_MIN_ID   1001 /* lowest dynamic MCS channel / user id */
#define BLOCK_HDR    4

static int
expect_bytes(struct vbuf *b, const unsigned char *want, size_t n)
{
	unsigned char got[16];
	int r;

	if (n > sizeof(got))
		return VDI_ERR_INTERNAL;
	if ((r = vbuf_get_bytes(b, got, n)) != 0)
		return r;
	return memcmp(got, want, n) == 0 ? 0 : VDI_ERR_BAD_FORMAT;
}

int
rdp_gcc_parse_create_request(const struct vbuf *ud, struct vbuf *blocks)
{
	struct vbuf b = *ud;
	uint16_t len;
	int r;

	memset(blocks, 0, sizeof(*blocks));
	if ((r = expect_bytes(&b, t124_key, sizeof(t124_key))) != 0 ||
	    (r = vbuf_get_per_length(&b, &len)) != 0)
		return r;
	if (len != vbuf_len(&b))
		return VDI_ERR_BAD_LENGTH;
	if ((r = expect_bytes(&b, ccr_prefix, sizeof(ccr_prefix))) != 0 ||
	    (r = vbuf_get_per_length(&b, &len)) != 0)
		return r;
	if (len != vbuf_len(&b))
		return VDI_ERR_BAD_LENGTH;
	return vbuf_get_view(&b, len, blocks);
}

int
rdp_gcc_parse_create_response(const struct vbuf *ud, uint16_t *node_id,
    uint32_t *tag, struct vbuf *blocks)
{
	struct vbuf b = *ud;
	uint16_t len;
	uint8_t choice, taglen, result, v;
	unsigned int i;
	int r;

	*node_id = 0;
	*tag = 0;
	memset(blocks, 0, sizeof(*blocks));
	if ((r = expect_bytes(&b, t124_key, sizeof(t124_key))) != 0 ||
	    (r = vbuf_get_per_length(&b, &len)) != 0 || /* not checked */
	    (r = vbuf_get_u8(&b, &choice)) != 0)
		return r;
	if (choice != CCRSP_CHOICE)
		return VDI_ERR_BAD_FORMAT;
	/* nodeID (UserID, PER offset from 1001 kept as encoded). */
	if ((r = vbuf_get_u16be(&b, node_id)) != 0 ||
	    (r = vbuf_get_u8(&b, &taglen)) != 0)
		return r;
	if (taglen < 1 || taglen > 4)
		return VDI_ERR_BAD_FORMAT;
	for (i = 0; i < taglen; i++) {
		if ((r = vbuf_get_u8(&b, &v)) != 0)
			return r;
		*tag = (*tag << 8) | v;
	}
	if ((r = vbuf_get_u8(&b, &result)) != 0)
		return r;
	if (result != 0)
		return VDI_ERR_DENIED;
	if ((r = expect_bytes(&b, ccrsp_tail, 7)) != 0 ||
	    (r = vbuf_get_per_length(&b, &len)) != 0)
		return r;
	if (len != vbuf_len(&b))
		return VDI_ERR_BAD_LENGTH;
	return vbuf_get_view(&b, len, blocks);
}

int
rdp_gcc_write_create_request(struct vbuf *out, const struct vbuf *blocks)
{
	size_t n = vbuf_len(blocks), pdu, mark = vbuf_len(out);
	int r;

	if (n > 0x7FFF) /* 15-bit PER, as peers write it */
		return VDI_ERR_TOO_LARGE;
	pdu = sizeof(ccr_prefix) + (n < 0x80 ? 1 : 2) + n;
	if ((r = vbuf_put(out, t124_key, sizeof(t124_key))) != 0 ||
	    (r = vbuf_put_per_length(out, (uint16_t)pdu)) != 0 ||
	    (r = vbuf_put(out, ccr_prefix, sizeof(ccr_prefix))) != 0 ||
	    (r = vbuf_put_per_length(out, (uint16_t)n)) != 0 ||
	    (r = vbuf_put_buf(out, blocks)) != 0) {
		rdp_truncate(out, mark);
		return r;
	}
	return 0;
}

int
rdp_gcc_write_create_response(
    struct vbuf *out, uint16_t node_id, uint32_t tag, const struct vbuf *blocks)
{
	size_t n = vbuf_len(blocks), pdu, taglen, mark = vbuf_len(out);
	unsigned int i;
	int r;

	if (n > 0x7FFF) /* 15-bit PER, as peers write it */
		return VDI_ERR_TOO_LARGE;
	taglen = tag <= 0xFF ? 1 : tag <= 0xFFFF ? 2 : tag <= 0xFFFFFF ? 3 : 4;
	pdu = 1 + 2 + 1 + taglen + 1 + 7 + (n < 0x80 ? 1 : 2) + n;
	if ((r = vbuf_put(out, t124_key, sizeof(t124_key))) != 0 ||
	    (r = vbuf_put_per_length(out, (uint16_t)pdu)) != 0 ||
	    (r = vbuf_put_u8(out, CCRSP_CHOICE)) != 0 ||
	    (r = vbuf_put_u16be(out, node_id)) != 0 ||
	    (r = vbuf_put_u8(out, (uint8_t)taglen)) != 0)
		goto fail;
	for (i = (unsigned int)taglen; i > 0; i--)
		if ((r = vbuf_put_u8(out, (uint8_t)(tag >> (8 * (i - 1))))) !=
		    0)
			goto fail;
	if ((r = vbuf_put_u8(out, 0)) != 0 || /* result: success */
	    (r = vbuf_put(out, ccrsp_tail, 7)) != 0 ||
	    (r = vbuf_put_per_length(out, (uint16_t)n)) != 0 ||
	    (r = vbuf_put_buf(out, blocks)) != 0)
		goto fail;
	return 0;
fail:
	rdp_truncate(out, mark);
	return r;
}

/* --- data blocks ---------------------------------------------------------- */

/* Reads one block header and makes body a view of its content. */
static int
next_block(struct vbuf *b, uint16_t *type, struct vbuf *body)
{
	uint16_t len;
	int r;

	memset(body, 0, sizeof(*body));
	if ((r = vbuf_get_u16le(b, type)) != 0 ||
	    (r = vbuf_get_u16le(b, &len)) != 0)
		return r;
	if (len < BLOCK_HDR)
		return VDI_ERR_BAD_LENGTH;
	if ((r = vbuf_get_view(b, len - BLOCK_HDR, body)) != 0)
		return r == VDI_ERR_TRUNCATED ? VDI_ERR_BAD_LENGTH : r;
	return 0;
}

/* Records a block type; known families only, duplicates refused. */
static int
seen(uint32_t *mask, uint16_t type, uint16_t family)
{
	uint32_t bit;

	if ((type & 0xFF00) != family || (type & 0xFF) >= 32)
		return 0;
	bit = 1u << (type & 0x1F);
	if (*mask & bit)
		return VDI_ERR_BAD_FORMAT;
	*mask |= bit;
	return 0;
}

static int
parse_monitor(const struct vbuf *body, int ex)
{
	uint32_t flags, size = 20, count;
	struct vbuf b = *body;
	int r;

	if ((r = vbuf_get_u32le(&b, &flags)) != 0 ||
	    (ex && (r = vbuf_get_u32le(&b, &size)) != 0) ||
	    (r = vbuf_get_u32le(&b, &count)) != 0)
		return r;
	if (size != 20 || count < 1 || count > RDP_MONITOR_MAX)
		return VDI_ERR_BAD_FORMAT;
	return vbuf_len(&b) == (size_t)count * 20 ? 0 : VDI_ERR_BAD_LENGTH;
}

static int
parse_net(const struct vbuf *body, struct rdp_gcc_client *c)
{
	struct vbuf b = *body;
	uint32_t count, i;
	int r;

	if ((r = vbuf_get_u32le(&b, &count)) != 0)
		return r;
	if (count > RDP_CHANNEL_MAX)
		return VDI_ERR_TOO_LARGE;
	if (vbuf_len(&b) != (size_t)count * 12)
		return VDI_ERR_BAD_LENGTH;
	for (i = 0; i < count; i++) {
		struct rdp_gcc_channel *ch = &c->ch[i];

		if ((r = vbuf_get_bytes(&b, ch->raw, 8)) != 0 ||
		    (r = vbuf_get_u32le(&b, &ch->options)) != 0)
			return r;
		rdp_name_sanitize(ch->name, sizeof(ch->name), ch->raw, 8);
	}
	c->nchannels = count;
	c->has_net = 1;
	return 0;
}

int
rdp_gcc_parse_client_blocks(const struct vbuf *blocks, struct rdp_gcc_client *c)
{
	struct vbuf b = *blocks, body;
	uint16_t type, early;
	uint32_t u;
	int r, has_core = 0;

	memset(c, 0, sizeof(*c));
	while (vbuf_len(&b) > 0) {
		if ((r = next_block(&b, &type, &body)) != 0 ||
		    (r = seen(&c->blocks_seen, type, 0xC000)) != 0)
			goto fail;
		switch (type) {
		case RDP_CS_CORE:
			if (vbuf_len(&body) < RDP_CS_CORE_MIN_BODY) {
				r = VDI_ERR_BAD_LENGTH;
				goto fail;
			}
			if ((r = vbuf_peek_u32le(&body, 0, &c->version)) != 0)
				goto fail;
			if (vbuf_len(&body) >= RDP_CS_CORE_EARLY_CAPS_OFF + 2 &&
			    vbuf_peek_u16le(
				&body, RDP_CS_CORE_EARLY_CAPS_OFF, &early) == 0)
				c->early_caps = early;
			if (vbuf_len(&body) >=
				RDP_CS_CORE_SERVER_SELECTED_OFF + 4 &&
			    vbuf_peek_u32le(&body,
				RDP_CS_CORE_SERVER_SELECTED_OFF, &u) == 0) {
				c->has_server_selected = 1;
				c->server_selected = u;
			}
			has_core = 1;
			break;
		case RDP_CS_SECURITY:
		case RDP_CS_CLUSTER:
			if (vbuf_len(&body) != 8) {
				r = VDI_ERR_BAD_LENGTH;
				goto fail;
			}
			if (type == RDP_CS_CLUSTER) {
				c->has_cluster = 1;
				if ((r = vbuf_peek_u32le(
					 &body, 0, &c->cluster_flags)) != 0)
					goto fail;
			}
			break;
		case RDP_CS_NET:
			if ((r = parse_net(&body, c)) != 0)
				goto fail;
			break;
		case RDP_CS_MONITOR:
		case RDP_CS_MONITOR_EX:
			if ((r = parse_monitor(
				 &body, type == RDP_CS_MONITOR_EX)) != 0)
				goto fail;
			break;
		case RDP_CS_MCS_MSGCHANNEL:
		case RDP_CS_MULTITRANSPORT:
			if (vbuf_len(&body) != 4) {
				r = VDI_ERR_BAD_LENGTH;
				goto fail;
			}
			break;
		default:
			break; /* unknown: the rewrite drops it */
		}
	}
	if (!has_core) {
		r = VDI_ERR_BAD_FORMAT;
		goto fail;
	}
	return 0;
fail:
	memset(c, 0, sizeof(*c));
	return r;
}

int
rdp_gcc_parse_server_blocks(const struct vbuf *blocks, struct rdp_gcc_server *s)
{
	struct vbuf b = *blocks, body;
	uint16_t type, count, i;
	int r;

	memset(s, 0, sizeof(*s));
	while (vbuf_len(&b) > 0) {
		if ((r = next_block(&b, &type, &body)) != 0 ||
		    (r = seen(&s->blocks_seen, type, 0x0C00)) != 0)
			goto fail;
		switch (type) {
		case RDP_SC_CORE:
			if ((r = vbuf_get_u32le(&body, &s->version)) != 0)
				goto fail;
			if (vbuf_len(&body) >= 4) {
				s->has_requested = 1;
				if ((r = vbuf_get_u32le(
					 &body, &s->client_requested)) != 0)
					goto fail;
			}
			if (vbuf_len(&body) >= 4 &&
			    (r = vbuf_get_u32le(&body, &s->early_caps)) != 0)
				goto fail;
			if (vbuf_len(&body) != 0) {
				r = VDI_ERR_BAD_LENGTH;
				goto fail;
			}
			break;
		case RDP_SC_SECURITY:
			if ((r = vbuf_get_u32le(
				 &body, &s->encryption_method)) != 0 ||
			    (r = vbuf_get_u32le(&body, &s->encryption_level)) !=
				0)
				goto fail;
			/* With no encryption nothing may follow; otherwise
			 * the server random and certificate do (the rewrite
			 * refuses those anyway). */
			if (s->encryption_method == 0 &&
			    s->encryption_level == 0 && vbuf_len(&body) != 0) {
				r = VDI_ERR_BAD_LENGTH;
				goto fail;
			}
			break;
		case RDP_SC_NET:
			if ((r = vbuf_get_u16le(&body, &s->io_channel)) != 0 ||
			    (r = vbuf_get_u16le(&body, &count)) != 0)
				goto fail;
			if (count > RDP_CHANNEL_MAX) {
				r = VDI_ERR_TOO_LARGE;
				goto fail;
			}
			for (i = 0; i < count; i++)
				if ((r = vbuf_get_u16le(&body, &s->ids[i])) !=
				    0) {
					r = VDI_ERR_BAD_LENGTH;
					goto fail;
				}
			s->nchannels = count;
			/* Pad(2) present when count is odd (optional). */
			if (vbuf_len(&body) != 0 &&
			    !(count % 2 == 1 && vbuf_len(&body) == 2)) {
				r = VDI_ERR_BAD_LENGTH;
				goto fail;
			}
			break;
		case RDP_SC_MCS_MSGCHANNEL:
			if (vbuf_len(&body) != 2) {
				r = VDI_ERR_BAD_LENGTH;
				goto fail;
			}
			s->has_msgchannel = 1;
			if ((r = vbuf_get_u16le(&body, &s->msgchannel)) != 0)
				goto fail;
			break;
		case RDP_SC_MULTITRANSPORT:
			if (vbuf_len(&body) != 4) {
				r = VDI_ERR_BAD_LENGTH;
				goto fail;
			}
			break;
		default:
			break;
		}
	}
	if ((s->blocks_seen & (1u << (RDP_SC_CORE & 0x1F))) == 0 ||
	    (s->blocks_seen & (1u << (RDP_SC_NET & 0x1F))) == 0) {
		r = VDI_ERR_BAD_FORMAT;
		goto fail;
	}
	return 0;
fail:
	memset(s, 0, sizeof(*s));
	return r;
}

/* Case-insensitive compare of a CHANNEL_DEF name (NUL inside the 8 bytes
 * required) with a lower-case name. */
static int
name_is(const unsigned char raw[8], const char *want)
{
	size_t i;

	for (i = 0; i < 8; i++) {
		unsigned char c = raw[i];

		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		if (c != (unsigned char)want[i])
			return 0;
		if (c == '\0')
			return 1;
	}
	return 0; /* no NUL inside the 8 bytes */
}

int
rdp_gcc_channel_allowed(
    const struct rdp_policy *pol, const unsigned char raw[8])
{
	if (name_is(raw, "drdynvc"))
		return 1;
	if (pol != NULL && pol->audio_out && name_is(raw, "rdpsnd"))
		return 1;
	return 0;
}

static int
put_block_header(struct vbuf *out, uint16_t type, size_t body)
{
	int r;

	if (body > 0xFFFF - BLOCK_HDR)
		return VDI_ERR_TOO_LARGE;
	if ((r = vbuf_put_u16le(out, type)) != 0)
		return r;
	return vbuf_put_u16le(out, (uint16_t)(body + BLOCK_HDR));
}

/* Appends a block with its body copied verbatim. */
static int
put_block(struct vbuf *out, uint16_t type, const struct vbuf *body)
{
	int r;

	if ((r = put_block_header(out, type, vbuf_len(body))) != 0)
		return r;
	return vbuf_put_buf(out, body);
}

/* Copies a block, then lets the caller patch it: returns the offset of the
 * body's first byte in out. */
static int
copy_block(
    struct vbuf *out, uint16_t type, const struct vbuf *body, size_t *body_pos)
{
	int r;

	if ((r = put_block(out, type, body)) != 0)
		return r;
	*body_pos = vbuf_len(out) - vbuf_len(body);
	return 0;
}

static int
write_client_net(struct vbuf *out, const struct rdp_policy *pol,
    const struct rdp_gcc_client *c, struct rdp_gcc_map *map)
{
	unsigned int i, j;
	int r;

	map->n = c->nchannels;
	map->nkept = 0;
	for (i = 0; i < c->nchannels; i++) {
		struct rdp_gcc_channel *ch = &map->ch[i];

		*ch = c->ch[i];
		ch->kept = rdp_gcc_channel_allowed(pol, ch->raw);
		/* The same channel twice: only the first one counts. */
		for (j = 0; ch->kept && j < i; j++)
			if (map->ch[j].kept &&
			    strcasecmp(map->ch[j].name, ch->name) == 0)
				ch->kept = 0;
		if (ch->kept)
			ch->desk_index = map->nkept++;
	}
	if ((r = put_block_header(out, RDP_CS_NET, 4 + 12 * map->nkept)) != 0 ||
	    (r = vbuf_put_u32le(out, map->nkept)) != 0)
		return r;
	for (i = 0; i < map->n; i++) {
		unsigned char name[8];
		size_t k;

		if (!map->ch[i].kept)
			continue;
		/* Canonical lower-case name, zero padded. */
		memset(name, 0, sizeof(name));
		for (k = 0; k < 7 && map->ch[i].raw[k] != '\0'; k++) {
			unsigned char ch = map->ch[i].raw[k];

			name[k] = (ch >= 'A' && ch <= 'Z')
			    ? (unsigned char)(ch - 'A' + 'a')
			    : ch;
		}
		if ((r = vbuf_put(out, name, sizeof(name))) != 0 ||
		    (r = vbuf_put_u32le(out,
			 map->ch[i].options &
			     ~(RDP_CHANNEL_OPTION_COMPRESS_RDP |
				 RDP_CHANNEL_OPTION_COMPRESS))) != 0)
			return r;
	}
	return 0;
}

int
rdp_gcc_rewrite_client_blocks(const struct vbuf *blocks,
    const struct rdp_policy *pol, uint32_t desktop_selected,
    struct rdp_gcc_map *map, struct vbuf *out)
{
	struct rdp_gcc_client c;
	struct vbuf b = *blocks, body;
	size_t pos, mark = vbuf_len(out);
	uint16_t type, early;
	uint32_t flags;
	int r;

	memset(map, 0, sizeof(*map));
	if ((r = rdp_gcc_parse_client_blocks(blocks, &c)) != 0)
		return r;
	while (vbuf_len(&b) > 0) {
		if ((r = next_block(&b, &type, &body)) != 0)
			goto fail;
		switch (type) {
		case RDP_CS_CORE:
			if ((r = copy_block(out, type, &body, &pos)) != 0)
				goto fail;
			if (vbuf_len(&body) >= RDP_CS_CORE_EARLY_CAPS_OFF + 2) {
				if ((r = vbuf_peek_u16le(&body,
					 RDP_CS_CORE_EARLY_CAPS_OFF, &early)) !=
					0 ||
				    (r = vbuf_poke_u16le(out,
					 pos + RDP_CS_CORE_EARLY_CAPS_OFF,
					 early &
					     (uint16_t)~RDP_CS_CORE_SUPPORT_SKIP_CHANNELJOIN)) !=
					0)
					goto fail;
			}
			if (c.has_server_selected &&
			    (r = vbuf_poke_u32le(out,
				 pos + RDP_CS_CORE_SERVER_SELECTED_OFF,
				 desktop_selected)) != 0)
				goto fail;
			break;
		case RDP_CS_SECURITY:
		case RDP_CS_MONITOR:
		case RDP_CS_MONITOR_EX:
			if ((r = put_block(out, type, &body)) != 0)
				goto fail;
			break;
		case RDP_CS_NET:
			if ((r = write_client_net(out, pol, &c, map)) != 0)
				goto fail;
			break;
		case RDP_CS_CLUSTER:
			flags = c.cluster_flags &
			    ~(RDP_CLUSTER_REDIRECTION_SUPPORTED |
				RDP_CLUSTER_REDIRECTED_SESSIONID_VALID |
				RDP_CLUSTER_REDIRECTED_SMARTCARD);
			if ((r = put_block_header(out, type, 8)) != 0 ||
			    (r = vbuf_put_u32le(out, flags)) != 0 ||
			    (r = vbuf_put_u32le(out, 0)) != 0)
				goto fail;
			break;
		default:
			/* CS_MCS_MSGCHANNEL, CS_MULTITRANSPORT, unknown. */
			break;
		}
	}
	return 0;
fail:
	rdp_truncate(out, mark);
	memset(map, 0, sizeof(*map));
	return r;
}

static int
check_desktop_ids(const struct rdp_gcc_server *s)
{
	unsigned int i, j;

	if (s->io_channel < MCS_MIN_ID ||
	    s->io_channel >= RDP_FAKE_CHANNEL_BASE)
		return VDI_ERR_BAD_FORMAT;
	for (i = 0; i < s->nchannels; i++) {
		if (s->ids[i] < MCS_MIN_ID ||
		    s->ids[i] >= RDP_FAKE_CHANNEL_BASE ||
		    s->ids[i] == s->io_channel)
			return VDI_ERR_BAD_FORMAT;
		for (j = 0; j < i; j++)
			if (s->ids[j] == s->ids[i])
				return VDI_ERR_BAD_FORMAT;
	}
	return 0;
}

int
rdp_gcc_rewrite_server_blocks(const struct vbuf *blocks,
    uint32_t client_requested_protocols, struct rdp_gcc_map *map,
    struct vbuf *out)
{
	struct rdp_gcc_server s;
	struct vbuf b = *blocks, body;
	size_t pos, mark = vbuf_len(out);
	unsigned int i;
	uint16_t type;
	int r;

	if ((r = rdp_gcc_parse_server_blocks(blocks, &s)) != 0)
		return r;
	if (s.encryption_method != 0 || s.encryption_level != 0)
		return VDI_ERR_UNSUPPORTED;
	if (s.nchannels != map->nkept)
		return VDI_ERR_BAD_FORMAT;
	if ((r = check_desktop_ids(&s)) != 0)
		return r;
	while (vbuf_len(&b) > 0) {
		if ((r = next_block(&b, &type, &body)) != 0)
			goto fail;
		switch (type) {
		case RDP_SC_CORE:
			if ((r = copy_block(out, type, &body, &pos)) != 0)
				goto fail;
			if (s.has_requested &&
			    (r = vbuf_poke_u32le(out, pos + 4,
				 client_requested_protocols)) != 0)
				goto fail;
			if (vbuf_len(&body) >= 12 &&
			    (r = vbuf_poke_u32le(out, pos + 8,
				 s.early_caps &
				     ~RDP_SC_CORE_SKIP_CHANNELJOIN)) != 0)
				goto fail;
			break;
		case RDP_SC_SECURITY:
			if ((r = put_block(out, type, &body)) != 0)
				goto fail;
			break;
		case RDP_SC_NET:
			if ((r = put_block_header(out, type,
				 4 + 2 * map->n + (map->n % 2) * 2)) != 0 ||
			    (r = vbuf_put_u16le(out, s.io_channel)) != 0 ||
			    (r = vbuf_put_u16le(out, (uint16_t)map->n)) != 0)
				goto fail;
			for (i = 0; i < map->n; i++) {
				struct rdp_gcc_channel *ch = &map->ch[i];

				ch->id = ch->kept
				    ? s.ids[ch->desk_index]
				    : (uint16_t)(RDP_FAKE_CHANNEL_BASE + i);
				if ((r = vbuf_put_u16le(out, ch->id)) != 0)
					goto fail;
			}
			if (map->n % 2 == 1 &&
			    (r = vbuf_put_u16le(out, 0)) != 0)
				goto fail;
			break;
		default:
			/* SC_MCS_MSGCHANNEL, SC_MULTITRANSPORT, unknown. */
			break;
		}
	}
	map->io_channel = s.io_channel;
	map->have_ids = 1;
	return 0;
fail:
	rdp_truncate(out, mark);
	return r;
}

int
rdp_gcc_is_fake_id(const struct rdp_gcc_map *map, uint16_t id)
{
	const struct rdp_gcc_channel *ch = rdp_gcc_lookup(map, id);

	return ch != NULL && !ch->kept;
}

const struct rdp_gcc_channel *
rdp_gcc_lookup(const struct rdp_gcc_map *map, uint16_t id)
{
	unsigned int i;

	if (!map->have_ids)
		return NULL;
	for (i = 0; i < map->n && i < RDP_CHANNEL_MAX; i++)
		if (map->ch[i].id == id)
			return &map->ch[i];
	return NULL;
}
