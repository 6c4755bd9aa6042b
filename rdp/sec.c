/* sec.c: basic security header and licensing preamble (see sec.h). */
#include "config.h"

#include <string.h>

#include "rdp/sec.h"

int
rdp_sec_parse_header(struct vbuf *b, struct rdp_sec_header *h)
{
	uint16_t flags = 0, hi = 0;
	int r;

	memset(h, 0, sizeof(*h));
	if ((r = vbuf_peek_u16le(b, 0, &flags)) != 0 ||
	    (r = vbuf_peek_u16le(b, 2, &hi)) != 0)
		return r;
	if (flags &
	    (RDP_SEC_ENCRYPT | RDP_SEC_EXCHANGE_PKT | RDP_SEC_SECURE_CHECKSUM))
		return VDI_ERR_UNSUPPORTED;
	if ((r = vbuf_consume(b, 4)) != 0)
		return r;
	h->flags = flags;
	h->flags_hi = hi;
	return 0;
}

int
rdp_sec_is_license(const struct vbuf *data)
{
	uint16_t flags = 0;

	if (vbuf_peek_u16le(data, 0, &flags) != 0)
		return 0;
	return (flags & RDP_SEC_LICENSE_PKT) != 0;
}

static int
type_allowed(enum rdp_dir dir, uint8_t type)
{
	if (type == RDP_LICENSE_ERROR_ALERT)
		return 1;
	if (dir == RDP_S2C)
		return type == RDP_LICENSE_REQUEST ||
		    type == RDP_LICENSE_PLATFORM_CHALLENGE ||
		    type == RDP_LICENSE_NEW_LICENSE ||
		    type == RDP_LICENSE_UPGRADE_LICENSE;
	return type == RDP_LICENSE_INFO ||
	    type == RDP_LICENSE_NEW_LICENSE_REQUEST ||
	    type == RDP_LICENSE_PLATFORM_CHALLENGE_RESPONSE;
}

/* A licensing binary blob (MS-RDPBCGR 2.2.1.12.1.2):
 * wBlobType, wBlobLen, data. type 0 accepts any type (error blobs, and
 * an empty blob may carry type 0). */
static int
get_blob(struct vbuf *b, uint16_t type)
{
	uint16_t t = 0, len = 0;
	int r;

	if ((r = vbuf_get_u16le(b, &t)) != 0 ||
	    (r = vbuf_get_u16le(b, &len)) != 0)
		return r;
	if (type != 0 && t != type && !(len == 0 && t == 0))
		return VDI_ERR_BAD_FORMAT;
	return vbuf_consume(b, len);
}

/* The body of a client licensing message, or of an error alert either
 * way, field by field; it must fill the message exactly. Server
 * requests, challenges and licences go to the client, which parses them
 * as licensing PDUs whatever they hold: their bodies are not read. */
static int
check_body(enum rdp_dir dir, uint8_t type, const struct vbuf *body)
{
	struct vbuf b = *body;
	uint32_t alg = 0;
	int r;

	switch (type) {
	case RDP_LICENSE_ERROR_ALERT:
		/* dwErrorCode, dwStateTransition, bbErrorInfo */
		if ((r = vbuf_consume(&b, 8)) != 0 ||
		    (r = get_blob(&b, 0)) != 0)
			return r;
		break;
	case RDP_LICENSE_NEW_LICENSE_REQUEST:
	case RDP_LICENSE_INFO:
		/* PreferredKeyExchangeAlg (KEY_EXCHANGE_ALG_RSA), PlatformId,
		 * ClientRandom[32], EncryptedPreMasterSecret (BB_RANDOM) */
		if ((r = vbuf_get_u32le(&b, &alg)) != 0)
			return r;
		if (alg != 1)
			return VDI_ERR_BAD_FORMAT;
		if ((r = vbuf_consume(&b, 4 + 32)) != 0 ||
		    (r = get_blob(&b, 0x0002)) != 0)
			return r;
		if (type == RDP_LICENSE_NEW_LICENSE_REQUEST) {
			/* ClientUserName, ClientMachineName */
			if ((r = get_blob(&b, 0x000F)) != 0 ||
			    (r = get_blob(&b, 0x0010)) != 0)
				return r;
		} else {
			/* LicenseInfo (BB_DATA), EncryptedHWID, MACData */
			if ((r = get_blob(&b, 0x0001)) != 0 ||
			    (r = get_blob(&b, 0x0009)) != 0 ||
			    (r = vbuf_consume(&b, 16)) != 0)
				return r;
		}
		break;
	case RDP_LICENSE_PLATFORM_CHALLENGE_RESPONSE:
		/* EncryptedPlatformChallengeResponse, EncryptedHWID,
		 * MACData */
		if ((r = get_blob(&b, 0x0009)) != 0 ||
		    (r = get_blob(&b, 0x0009)) != 0 ||
		    (r = vbuf_consume(&b, 16)) != 0)
			return r;
		break;
	default:
		if (dir == RDP_C2S)
			return VDI_ERR_UNSUPPORTED;
		return 0;
	}
	return vbuf_len(&b) == 0 ? 0 : VDI_ERR_BAD_LENGTH;
}

int
rdp_sec_parse_license(
    const struct vbuf *data, enum rdp_dir dir, struct rdp_license *l)
{
	struct vbuf b = *data;
	int r;

	memset(l, 0, sizeof(*l));
	if ((r = rdp_sec_parse_header(&b, &l->sec)) != 0)
		goto fail;
	if ((l->sec.flags & RDP_SEC_LICENSE_PKT) == 0) {
		r = VDI_ERR_BAD_FORMAT;
		goto fail;
	}
	if ((r = vbuf_get_u8(&b, &l->msg_type)) != 0 ||
	    (r = vbuf_get_u8(&b, &l->flags)) != 0 ||
	    (r = vbuf_get_u16le(&b, &l->size)) != 0)
		goto fail;
	if (l->size < 4 || (size_t)l->size - 4 != vbuf_len(&b)) {
		r = VDI_ERR_BAD_LENGTH;
		goto fail;
	}
	if ((l->flags & 0x0F) != 2 && (l->flags & 0x0F) != 3) {
		r = VDI_ERR_BAD_FORMAT;
		goto fail;
	}
	if (!type_allowed(dir, l->msg_type)) {
		r = VDI_ERR_UNSUPPORTED;
		goto fail;
	}
	if ((r = vbuf_get_view(&b, vbuf_len(&b), &l->body)) != 0 ||
	    (r = check_body(dir, l->msg_type, &l->body)) != 0)
		goto fail;
	return 0;
fail:
	memset(l, 0, sizeof(*l));
	return r;
}
