/* gfx.c: client-to-server graphics pipeline filter (see gfx.h). */
#include "config.h"

#include <string.h>

#include "rdp/gfx.h"

int
rdp_gfx_next(struct vbuf *b, struct rdp_gfx_header *h, struct vbuf *pdu)
{
	int r;

	memset(h, 0, sizeof(*h));
	memset(pdu, 0, sizeof(*pdu));
	if ((r = vbuf_peek_u16le(b, 0, &h->cmd)) != 0 ||
	    (r = vbuf_peek_u16le(b, 2, &h->flags)) != 0 ||
	    (r = vbuf_peek_u32le(b, 4, &h->length)) != 0)
		goto fail;
	if (h->length < RDP_GFX_HEADER_LEN) {
		r = VDI_ERR_BAD_LENGTH;
		goto fail;
	}
	if ((r = vbuf_get_view(b, h->length, pdu)) != 0)
		goto fail;
	return 0;
fail:
	memset(h, 0, sizeof(*h));
	return r;
}

int
rdp_gfx_filter_c2s(
    const struct vbuf *msg, struct rdp_verdict *v, struct vbuf *out)
{
	struct vbuf b = *msg, pdu;
	struct rdp_gfx_header h;
	size_t mark = vbuf_len(out);
	unsigned int kept = 0, dropped = 0;
	int r;

	rdp_verdict_init(v);
	if (vbuf_len(&b) == 0) {
		rdp_verdict_set(v, RDP_CLOSE, "gfx_empty_message");
		return 0;
	}
	while (vbuf_len(&b) > 0) {
		if ((r = rdp_gfx_next(&b, &h, &pdu)) != 0) {
			rdp_truncate(out, mark);
			rdp_verdict_set(v, RDP_CLOSE, "gfx_malformed err=%s",
			    vdi_errname(r));
			return 0;
		}
		switch (h.cmd) {
		case RDP_GFX_CMD_FRAMEACKNOWLEDGE:
		case RDP_GFX_CMD_CAPSADVERTISE:
		case RDP_GFX_CMD_QOEFRAMEACKNOWLEDGE:
			if ((r = vbuf_put_buf(out, &pdu)) != 0) {
				rdp_truncate(out, mark);
				rdp_verdict_init(v);
				return r;
			}
			kept++;
			break;
		case RDP_GFX_CMD_CACHEIMPORTOFFER:
			rdp_verdict_refuse(v, RDP_REWRITE, RDP_REFUSED_PDU,
			    h.cmd, NULL, 0, "gfx_cache_import_offer_dropped");
			dropped++;
			break;
		default:
			rdp_verdict_refuse(v, RDP_REWRITE, RDP_REFUSED_PDU,
			    h.cmd, NULL, 0, "gfx_cmd_refused cmd=0x%04x",
			    h.cmd);
			dropped++;
			break;
		}
	}
	/* Nothing dropped: v is still a PASS. Something dropped (each one
	 * raised v to REWRITE): a DROP when nothing is left. */
	if (dropped == 0)
		rdp_truncate(out, mark);
	else if (kept == 0) {
		rdp_truncate(out, mark);
		rdp_verdict_escalate(v, RDP_DROP);
	}
	return 0;
}
