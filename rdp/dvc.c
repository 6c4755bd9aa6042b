/* dvc.c: dynamic virtual channel PDUs and the relay's DVC table (see
 * dvc.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "rdp/dvc.h"
#include "rdp/gfx.h"

/* Bytes of a ChannelId / Length field for a 2-bit size code. */
static int
var_size(uint8_t code)
{
	switch (code) {
	case 0:
		return 1;
	case 1:
		return 2;
	case 2:
		return 4;
	}
	return -1;
}

static int
get_var(struct vbuf *b, uint8_t code, uint32_t *v)
{
	uint8_t u8;
	uint16_t u16;
	int r;

	*v = 0;
	switch (var_size(code)) {
	case 1:
		if ((r = vbuf_get_u8(b, &u8)) != 0)
			return r;
		*v = u8;
		return 0;
	case 2:
		if ((r = vbuf_get_u16le(b, &u16)) != 0)
			return r;
		*v = u16;
		return 0;
	case 4:
		return vbuf_get_u32le(b, v);
	}
	return VDI_ERR_BAD_FORMAT;
}

/* Smallest size code for v. */
static uint8_t
var_code(uint32_t v)
{
	return v <= 0xFF ? 0 : v <= 0xFFFF ? 1 : 2;
}

static int
put_var(struct vbuf *b, uint32_t v, uint8_t code)
{
	switch (code) {
	case 0:
		return vbuf_put_u8(b, (uint8_t)v);
	case 1:
		return vbuf_put_u16le(b, (uint16_t)v);
	default:
		return vbuf_put_u32le(b, v);
	}
}

static int
parse_pdu(struct vbuf *b, enum rdp_dir dir, struct rdp_dvc_pdu *p)
{
	const unsigned char *s;
	uint8_t b0, pad;
	uint32_t u;
	size_t n, i;
	int r;

	if ((r = vbuf_get_u8(b, &b0)) != 0)
		return r;
	p->cmd = b0 >> 4;
	p->sp = (b0 >> 2) & 0x03;
	p->cbid = b0 & 0x03;
	switch (p->cmd) {
	case RDP_DVC_CMD_CAPS:
		if ((r = vbuf_get_u8(b, &pad)) != 0 ||
		    (r = vbuf_get_u16le(b, &p->version)) != 0)
			return r;
		if (dir == RDP_S2C && (p->version == 2 || p->version == 3))
			n = 8; /* PriorityCharge0..3 */
		else if (dir == RDP_S2C && p->version != 1)
			return 0; /* unknown version: the filter refuses */
		else
			n = 0;
		if (vbuf_len(b) < n)
			return VDI_ERR_TRUNCATED;
		return vbuf_len(b) == n ? 0 : VDI_ERR_BAD_LENGTH;
	case RDP_DVC_CMD_CREATE:
		if ((r = get_var(b, p->cbid, &p->channel_id)) != 0)
			return r;
		if (dir == RDP_C2S) {
			if ((r = vbuf_get_u32le(b, &u)) != 0)
				return r;
			p->creation_status = (int32_t)u;
			return vbuf_len(b) == 0 ? 0 : VDI_ERR_BAD_LENGTH;
		}
		s = vbuf_ptr(b);
		n = vbuf_len(b);
		for (i = 0; i < n && s[i] != '\0'; i++)
			;
		if (i == n)
			return VDI_ERR_TRUNCATED; /* no terminator */
		if (i > RDP_DVC_NAME_MAX)
			return VDI_ERR_TOO_LARGE;
		if (i + 1 != n)
			return VDI_ERR_BAD_LENGTH; /* bytes after the name */
		memcpy(p->name, s, i);
		p->name[i] = '\0';
		p->name_len = i;
		return vbuf_consume(b, n);
	case RDP_DVC_CMD_DATA_FIRST:
		if ((r = get_var(b, p->cbid, &p->channel_id)) != 0 ||
		    (r = get_var(b, p->sp, &p->length)) != 0)
			return r;
		return vbuf_get_view(b, vbuf_len(b), &p->data);
	case RDP_DVC_CMD_DATA:
		if ((r = get_var(b, p->cbid, &p->channel_id)) != 0)
			return r;
		return vbuf_get_view(b, vbuf_len(b), &p->data);
	case RDP_DVC_CMD_CLOSE:
		if ((r = get_var(b, p->cbid, &p->channel_id)) != 0)
			return r;
		return vbuf_len(b) == 0 ? 0 : VDI_ERR_BAD_LENGTH;
	case RDP_DVC_CMD_DATA_FIRST_COMPRESSED:
	case RDP_DVC_CMD_DATA_COMPRESSED:
	case RDP_DVC_CMD_SOFT_SYNC_REQUEST:
	case RDP_DVC_CMD_SOFT_SYNC_RESPONSE:
		return 0; /* refused by the filter whatever follows */
	}
	return VDI_ERR_BAD_FORMAT;
}

int
rdp_dvc_parse(const struct vbuf *msg, enum rdp_dir dir, struct rdp_dvc_pdu *p)
{
	struct vbuf b = *msg;
	int r;

	memset(p, 0, sizeof(*p));
	if ((r = parse_pdu(&b, dir, p)) != 0)
		memset(p, 0, sizeof(*p));
	return r;
}

static const struct {
	const char *name;
	enum rdp_dvc_class cls;
} allowlist[] = {
	{ "Microsoft::Windows::RDS::Graphics", RDP_DVC_CLASS_GRAPHICS },
	{ "Microsoft::Windows::RDS::DisplayControl", RDP_DVC_CLASS_DISPLAY },
	{ "Microsoft::Windows::RDS::Input", RDP_DVC_CLASS_INPUT },
	{ "AUDIO_PLAYBACK_DVC", RDP_DVC_CLASS_AUDIO_OUT },
	{ "AUDIO_PLAYBACK_LOSSY_DVC", RDP_DVC_CLASS_AUDIO_OUT },
};

enum rdp_dvc_class
rdp_dvc_name_class(const char *name, const struct rdp_policy *pol)
{
	size_t i;

	for (i = 0; i < sizeof(allowlist) / sizeof(allowlist[0]); i++) {
		if (strcmp(name, allowlist[i].name) != 0)
			continue;
		if (allowlist[i].cls == RDP_DVC_CLASS_AUDIO_OUT &&
		    (pol == NULL || !pol->audio_out))
			return RDP_DVC_CLASS_NONE;
		return allowlist[i].cls;
	}
	return RDP_DVC_CLASS_NONE;
}

void
rdp_dvc_table_init(struct rdp_dvc_table *t)
{
	memset(t, 0, sizeof(*t));
}

static void
entry_free(struct rdp_dvc_entry *e)
{
	vbuf_free(e->inspect);
	memset(e, 0, sizeof(*e));
}

void
rdp_dvc_table_free(struct rdp_dvc_table *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < RDP_DVC_MAX_CHANNELS; i++)
		entry_free(&t->e[i]);
	t->version = 0;
}

static struct rdp_dvc_entry *
find(struct rdp_dvc_table *t, uint32_t id)
{
	size_t i;

	for (i = 0; i < RDP_DVC_MAX_CHANNELS; i++)
		if (t->e[i].state != RDP_DVC_FREE && t->e[i].id == id)
			return &t->e[i];
	return NULL;
}

const struct rdp_dvc_entry *
rdp_dvc_lookup(const struct rdp_dvc_table *t, uint32_t id)
{
	size_t i;

	for (i = 0; i < RDP_DVC_MAX_CHANNELS; i++)
		if (t->e[i].state != RDP_DVC_FREE && t->e[i].id == id)
			return &t->e[i];
	return NULL;
}

/* A free slot, else one whose channel is closing (its peer never answered
 * the Close), else NULL. */
static struct rdp_dvc_entry *
alloc_slot(struct rdp_dvc_table *t)
{
	size_t i;

	for (i = 0; i < RDP_DVC_MAX_CHANNELS; i++)
		if (t->e[i].state == RDP_DVC_FREE)
			return &t->e[i];
	for (i = 0; i < RDP_DVC_MAX_CHANNELS; i++)
		if (t->e[i].state == RDP_DVC_CLOSING) {
			entry_free(&t->e[i]);
			return &t->e[i];
		}
	return NULL;
}

int
rdp_dvc_result_init(struct rdp_dvc_result *res)
{
	int r;

	memset(res, 0, sizeof(*res));
	rdp_verdict_init(&res->v);
	if ((r = rdp_msgs_init(&res->out, 2 * RDP_DVC_INSPECT_MAX)) != 0 ||
	    (r = rdp_msgs_init(&res->reply, 4 * RDP_DVC_PDU_MAX)) != 0) {
		rdp_dvc_result_free(res);
		return r;
	}
	return 0;
}

void
rdp_dvc_result_free(struct rdp_dvc_result *res)
{
	if (res == NULL)
		return;
	rdp_msgs_free(&res->out);
	rdp_msgs_free(&res->reply);
}

int
rdp_dvc_write(struct rdp_msgs *m, uint8_t cmd, uint32_t id, uint32_t value,
    const void *data, size_t len)
{
	uint8_t idc = var_code(id), lc = var_code(value);
	size_t mark;
	int r;

	if (m->buf == NULL)
		return VDI_ERR_INVALID_ARG;
	mark = vbuf_len(m->buf);
	switch (cmd) {
	case RDP_DVC_CMD_CREATE:
		if ((r = vbuf_put_u8(m->buf, (uint8_t)(cmd << 4 | idc))) != 0 ||
		    (r = put_var(m->buf, id, idc)) != 0 ||
		    (r = vbuf_put_u32le(m->buf, value)) != 0)
			goto fail;
		break;
	case RDP_DVC_CMD_CLOSE:
		if ((r = vbuf_put_u8(m->buf, (uint8_t)(cmd << 4 | idc))) != 0 ||
		    (r = put_var(m->buf, id, idc)) != 0)
			goto fail;
		break;
	case RDP_DVC_CMD_DATA:
		if ((r = vbuf_put_u8(m->buf, (uint8_t)(cmd << 4 | idc))) != 0 ||
		    (r = put_var(m->buf, id, idc)) != 0 ||
		    (len > 0 && (r = vbuf_put(m->buf, data, len)) != 0))
			goto fail;
		break;
	case RDP_DVC_CMD_DATA_FIRST:
		if ((r = vbuf_put_u8(
			 m->buf, (uint8_t)(cmd << 4 | lc << 2 | idc))) != 0 ||
		    (r = put_var(m->buf, id, idc)) != 0 ||
		    (r = put_var(m->buf, value, lc)) != 0 ||
		    (len > 0 && (r = vbuf_put(m->buf, data, len)) != 0))
			goto fail;
		break;
	default:
		return VDI_ERR_INVALID_ARG;
	}
	if ((r = rdp_msgs_close(m)) != 0)
		goto fail;
	return 0;
fail:
	rdp_truncate(m->buf, mark);
	return r;
}

/* Writes a whole message for id as Data, or Data First + Data, each PDU at
 * most RDP_DVC_PDU_MAX bytes. */
static int
emit_message(struct rdp_msgs *m, uint32_t id, const struct vbuf *msg)
{
	const unsigned char *p = vbuf_ptr(msg);
	size_t len = vbuf_len(msg), off, n;
	size_t idlen = (size_t)var_size(var_code(id));
	size_t lenlen = (size_t)var_size(var_code((uint32_t)len));
	int r;

	if (1 + idlen + len <= RDP_DVC_PDU_MAX)
		return rdp_dvc_write(m, RDP_DVC_CMD_DATA, id, 0, p, len);
	n = RDP_DVC_PDU_MAX - 1 - idlen - lenlen;
	if ((r = rdp_dvc_write(
		 m, RDP_DVC_CMD_DATA_FIRST, id, (uint32_t)len, p, n)) != 0)
		return r;
	for (off = n; off < len; off += n) {
		n = len - off;
		if (n > RDP_DVC_PDU_MAX - 1 - idlen)
			n = RDP_DVC_PDU_MAX - 1 - idlen;
		if ((r = rdp_dvc_write(
			 m, RDP_DVC_CMD_DATA, id, 0, p + off, n)) != 0)
			return r;
	}
	return 0;
}

/* A complete client-to-desktop graphics message: filter and re-emit.
 * single is 1 when msg is the payload of the one Data PDU being filtered
 * (then a PASS forwards that PDU unchanged). */
static int
gfx_complete(
    struct rdp_dvc_result *res, uint32_t id, const struct vbuf *msg, int single)
{
	struct rdp_verdict gv;
	struct vbuf *tmp;
	int r;

	if ((tmp = vbuf_new(RDP_DVC_INSPECT_MAX)) == NULL)
		return VDI_ERR_ALLOC;
	if ((r = rdp_gfx_filter_c2s(msg, &gv, tmp)) != 0)
		goto out;
	switch (gv.action) {
	case RDP_PASS:
		if (single)
			break;
		r = emit_message(&res->out, id, msg);
		rdp_verdict_set(&res->v, RDP_REWRITE, NULL);
		break;
	case RDP_REWRITE:
		r = emit_message(&res->out, id, tmp);
		rdp_verdict_merge(&res->v, &gv);
		break;
	default:
		rdp_verdict_merge(&res->v, &gv);
		break;
	}
out:
	vbuf_free(tmp);
	return r;
}

/* Data First / Data on an open id: length bookkeeping, and reassembly plus
 * filtering for client-to-desktop graphics. */
static int
filter_data(struct rdp_dvc_entry *e, enum rdp_dir dir,
    const struct rdp_dvc_pdu *p, struct rdp_dvc_result *res)
{
	size_t n = vbuf_len(&p->data);
	int inspect = e->cls == RDP_DVC_CLASS_GRAPHICS && dir == RDP_C2S;
	struct vbuf whole;
	int r;

	if (p->cmd == RDP_DVC_CMD_DATA_FIRST) {
		if (e->remaining[dir] > 0) {
			rdp_verdict_set(&res->v, RDP_CLOSE,
			    "dvc_data_first_in_message id=%u", e->id);
			return 0;
		}
		if (p->length >
		    (inspect ? RDP_DVC_INSPECT_MAX : RDP_DVC_MESSAGE_MAX)) {
			rdp_verdict_set(&res->v, RDP_CLOSE,
			    "dvc_message_too_large id=%u length=%u", e->id,
			    p->length);
			return 0;
		}
		if (n > p->length) {
			rdp_verdict_set(&res->v, RDP_CLOSE,
			    "dvc_data_first_overrun id=%u", e->id);
			return 0;
		}
		e->remaining[dir] = p->length - (uint32_t)n;
		if (!inspect)
			return 0;
		if (e->remaining[dir] == 0)
			return gfx_complete(res, e->id, &p->data, 0);
		vbuf_free(e->inspect);
		if ((e->inspect = vbuf_new(p->length)) == NULL)
			return VDI_ERR_ALLOC;
		if ((r = vbuf_put_buf(e->inspect, &p->data)) != 0)
			return r;
		rdp_verdict_set(&res->v, RDP_REWRITE, NULL); /* held */
		return 0;
	}
	/* Data. */
	if (e->remaining[dir] == 0) /* a whole message in one PDU */
		return inspect ? gfx_complete(res, e->id, &p->data, 1) : 0;
	if (n > e->remaining[dir]) {
		rdp_verdict_set(
		    &res->v, RDP_CLOSE, "dvc_data_overrun id=%u", e->id);
		return 0;
	}
	e->remaining[dir] -= (uint32_t)n;
	if (!inspect)
		return 0;
	if (e->inspect == NULL)
		return VDI_ERR_INTERNAL;
	if ((r = vbuf_put_buf(e->inspect, &p->data)) != 0)
		return r;
	if (e->remaining[dir] > 0) {
		rdp_verdict_set(&res->v, RDP_REWRITE, NULL); /* held */
		return 0;
	}
	vbuf_init_view(&whole, vbuf_ptr(e->inspect), vbuf_len(e->inspect));
	r = gfx_complete(res, e->id, &whole, 0);
	vbuf_free(e->inspect);
	e->inspect = NULL;
	return r;
}

static int
filter_create(struct rdp_dvc_table *t, const struct rdp_policy *pol,
    enum rdp_dir dir, const struct rdp_dvc_pdu *p, struct rdp_dvc_result *res)
{
	struct rdp_dvc_entry *e = find(t, p->channel_id);
	enum rdp_dvc_class cls;
	char safe[48];

	if (dir == RDP_C2S) {
		/* Create Response. */
		if (e == NULL || e->state != RDP_DVC_REQUESTED) {
			rdp_verdict_set(&res->v, RDP_DROP,
			    "dvc_unrequested_create_response id=%u",
			    p->channel_id);
			return 0;
		}
		if (p->creation_status >= 0)
			e->state = RDP_DVC_OPEN;
		else
			entry_free(e);
		return 0;
	}
	/* Create Request. */
	rdp_name_sanitize(safe, sizeof(safe), p->name, p->name_len);
	if (e != NULL) {
		if (e->state != RDP_DVC_CLOSING) {
			rdp_verdict_set(&res->v, RDP_CLOSE,
			    "dvc_id_reused id=%u name=%s", p->channel_id, safe);
			return 0;
		}
		entry_free(e);
	}
	cls = rdp_dvc_name_class(p->name, pol);
	if (cls == RDP_DVC_CLASS_NONE || (e = alloc_slot(t)) == NULL) {
		if (cls == RDP_DVC_CLASS_NONE)
			rdp_verdict_refuse(&res->v, RDP_DROP, RDP_REFUSED_DVC,
			    p->channel_id, p->name, p->name_len, "dvc_refused");
		else
			rdp_verdict_refuse(&res->v, RDP_DROP,
			    RDP_REFUSED_DVC_TABLE_FULL, p->channel_id, p->name,
			    p->name_len, "dvc_table_full");
		return rdp_dvc_write(&res->reply, RDP_DVC_CMD_CREATE,
		    p->channel_id, RDP_DVC_CREATE_REFUSED, NULL, 0);
	}
	e->id = p->channel_id;
	e->state = RDP_DVC_REQUESTED;
	e->cls = cls;
	memcpy(e->name, safe, sizeof(e->name));
	return 0;
}

static void
filter_close(struct rdp_dvc_table *t, enum rdp_dir dir,
    const struct rdp_dvc_pdu *p, struct rdp_dvc_result *res)
{
	struct rdp_dvc_entry *e = find(t, p->channel_id);

	if (e == NULL) {
		rdp_verdict_set(&res->v, RDP_DROP, "dvc_close_unknown id=%u",
		    p->channel_id);
		return;
	}
	if (e->state == RDP_DVC_CLOSING) {
		if (e->closer == dir) {
			rdp_verdict_set(&res->v, RDP_DROP,
			    "dvc_close_repeated id=%u", p->channel_id);
			return;
		}
		entry_free(e); /* the answer to the other side's Close */
		return;
	}
	e->state = RDP_DVC_CLOSING;
	e->closer = dir;
	e->remaining[0] = e->remaining[1] = 0;
	vbuf_free(e->inspect);
	e->inspect = NULL;
}

static int
filter_caps(struct rdp_dvc_table *t, const struct vbuf *msg,
    const struct rdp_dvc_pdu *p, struct rdp_dvc_result *res)
{
	int r;

	switch (p->version) {
	case 1:
	case 2:
		t->version = p->version;
		return 0;
	case 3:
		/* Same layout as version 2; only the number changes. */
		if ((r = vbuf_put_buf(res->out.buf, msg)) != 0 ||
		    (r = vbuf_poke_u16le(res->out.buf,
			 vbuf_len(res->out.buf) - vbuf_len(msg) + 2, 2)) != 0 ||
		    (r = rdp_msgs_close(&res->out)) != 0)
			return r;
		t->version = 2;
		rdp_verdict_refuse(&res->v, RDP_REWRITE, RDP_REFUSED_CAPS,
		    p->version, NULL, 0, "dvc_caps_downgraded from=3 to=2");
		return 0;
	}
	rdp_verdict_set(
	    &res->v, RDP_CLOSE, "dvc_caps_version version=%u", p->version);
	return 0;
}

int
rdp_dvc_filter(struct rdp_dvc_table *t, const struct rdp_policy *pol,
    enum rdp_dir dir, const struct vbuf *msg, struct rdp_dvc_result *res)
{
	struct rdp_dvc_pdu *p;
	struct rdp_dvc_entry *e;
	int r;

	rdp_verdict_init(&res->v);
	rdp_msgs_reset(&res->out);
	rdp_msgs_reset(&res->reply);
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return VDI_ERR_ALLOC;
	if ((r = rdp_dvc_parse(msg, dir, p)) != 0) {
		rdp_verdict_set(
		    &res->v, RDP_CLOSE, "dvc_malformed err=%s", vdi_errname(r));
		r = 0;
		goto out;
	}
	switch (p->cmd) {
	case RDP_DVC_CMD_CAPS:
		r = filter_caps(t, msg, p, res);
		break;
	case RDP_DVC_CMD_CREATE:
		r = filter_create(t, pol, dir, p, res);
		break;
	case RDP_DVC_CMD_DATA_FIRST:
	case RDP_DVC_CMD_DATA:
		e = find(t, p->channel_id);
		if (e == NULL || e->state != RDP_DVC_OPEN) {
			rdp_verdict_set(&res->v, RDP_DROP,
			    "dvc_data_not_open id=%u", p->channel_id);
			break;
		}
		r = filter_data(e, dir, p, res);
		break;
	case RDP_DVC_CMD_CLOSE:
		filter_close(t, dir, p, res);
		break;
	case RDP_DVC_CMD_DATA_FIRST_COMPRESSED:
	case RDP_DVC_CMD_DATA_COMPRESSED:
		rdp_verdict_set(
		    &res->v, RDP_CLOSE, "dvc_compressed cmd=%u", p->cmd);
		break;
	case RDP_DVC_CMD_SOFT_SYNC_REQUEST:
	case RDP_DVC_CMD_SOFT_SYNC_RESPONSE:
		rdp_verdict_set(&res->v, RDP_DROP, "dvc_soft_sync_dropped");
		break;
	default:
		rdp_verdict_set(
		    &res->v, RDP_CLOSE, "dvc_unknown_cmd cmd=%u", p->cmd);
		break;
	}
out:
	if (r != 0) {
		rdp_verdict_init(&res->v);
		rdp_msgs_reset(&res->out);
		rdp_msgs_reset(&res->reply);
	} else if (res->v.action == RDP_CLOSE) {
		rdp_msgs_reset(&res->out);
		rdp_msgs_reset(&res->reply);
	}
	free(p);
	return r;
}
