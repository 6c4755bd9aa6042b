/* info.c: Client Info PDU parse and rewrite (see info.h). */
#include "config.h"

#include <string.h>

#include <openssl/crypto.h>

#include "rdp/info.h"

#define INFO_CLEAR                                                             \
	(RDP_INFO_COMPRESSION | RDP_INFO_COMPRESSION_TYPE_MASK |               \
	    RDP_INFO_RAIL | RDP_INFO_HIDEF_RAIL_SUPPORTED |                    \
	    RDP_INFO_AUDIOCAPTURE | RDP_INFO_REMOTECONSOLEAUDIO |              \
	    RDP_INFO_PASSWORD_IS_SC_PIN)

/* A string of cb bytes (even, <= RDP_INFO_STRING_MAX) and its 2-byte NUL. */
static int
get_string(struct vbuf *b, uint16_t cb, struct vbuf *s)
{
	uint16_t nul;
	int r;

	memset(s, 0, sizeof(*s));
	if (cb > RDP_INFO_STRING_MAX)
		return VDI_ERR_TOO_LARGE;
	if (cb % 2 != 0)
		return VDI_ERR_BAD_FORMAT;
	if ((r = vbuf_get_view(b, cb, s)) != 0 ||
	    (r = vbuf_get_u16le(b, &nul)) != 0)
		return r;
	return nul == 0 ? 0 : VDI_ERR_BAD_FORMAT;
}

/* A u16 count then that many bytes: even, at most max. */
static int
skip_counted(struct vbuf *b, uint16_t max, uint16_t *cbp)
{
	uint16_t cb;
	int r;

	if ((r = vbuf_get_u16le(b, &cb)) != 0)
		return r;
	if (cbp != NULL)
		*cbp = cb;
	if (cb > max)
		return VDI_ERR_TOO_LARGE;
	if (cb % 2 != 0)
		return VDI_ERR_BAD_FORMAT;
	return vbuf_consume(b, cb);
}

/* TS_EXTENDED_INFO_PACKET. The fields after clientDir are optional, but
 * once one is missing none may follow, so each group is either complete or
 * the data ends before it. */
static int
check_extra(const struct vbuf *extra, int *has_arc)
{
	struct vbuf b = *extra;
	uint16_t family, cb;
	int r;

	*has_arc = 0;
	if (vbuf_len(&b) == 0)
		return 0; /* RDP 4.0 style: no extraInfo */
	if ((r = vbuf_get_u16le(&b, &family)) != 0 ||
	    (r = skip_counted(&b, RDP_INFO_ADDRESS_MAX, NULL)) != 0 ||
	    (r = skip_counted(&b, RDP_INFO_CLIENT_DIR_MAX, NULL)) != 0)
		return r;
	if (vbuf_len(&b) == 0)
		return 0;
	if ((r = vbuf_consume(&b, RDP_INFO_TIMEZONE_LEN)) != 0)
		return r;
	if (vbuf_len(&b) == 0)
		return 0;
	if ((r = vbuf_consume(&b, 4)) != 0) /* clientSessionId */
		return r;
	if (vbuf_len(&b) == 0)
		return 0;
	if ((r = vbuf_consume(&b, 4)) != 0) /* performanceFlags */
		return r;
	if (vbuf_len(&b) == 0)
		return 0;
	if ((r = vbuf_get_u16le(&b, &cb)) != 0)
		return r;
	if (cb != 0 && cb != RDP_INFO_ARC_COOKIE_LEN)
		return VDI_ERR_BAD_LENGTH;
	if ((r = vbuf_consume(&b, cb)) != 0)
		return r;
	*has_arc = cb != 0;
	if (vbuf_len(&b) == 0)
		return 0;
	if ((r = vbuf_consume(&b, 4)) != 0) /* reserved1, reserved2 */
		return r;
	if (vbuf_len(&b) == 0)
		return 0;
	if ((r = skip_counted(&b, RDP_INFO_DST_KEY_MAX, NULL)) != 0 ||
	    (r = vbuf_consume(&b, 2)) != 0) /* dynamicDaylightTimeDisabled */
		return r;
	return vbuf_len(&b) == 0 ? 0 : VDI_ERR_BAD_LENGTH;
}

int
rdp_info_parse(const struct vbuf *data, struct rdp_info *info)
{
	struct vbuf b = *data;
	uint16_t cb[5];
	unsigned int i;
	int r;

	memset(info, 0, sizeof(*info));
	if ((r = rdp_sec_parse_header(&b, &info->sec)) != 0)
		goto fail;
	if ((info->sec.flags & RDP_SEC_INFO_PKT) == 0) {
		r = VDI_ERR_BAD_FORMAT;
		goto fail;
	}
	if ((r = vbuf_get_u32le(&b, &info->code_page)) != 0 ||
	    (r = vbuf_get_u32le(&b, &info->flags)) != 0)
		goto fail;
	for (i = 0; i < 5; i++)
		if ((r = vbuf_get_u16le(&b, &cb[i])) != 0)
			goto fail;
	if ((info->flags & RDP_INFO_UNICODE) == 0) {
		r = VDI_ERR_UNSUPPORTED;
		goto fail;
	}
	if ((r = get_string(&b, cb[0], &info->domain)) != 0 ||
	    (r = get_string(&b, cb[1], &info->user)) != 0)
		goto fail;
	info->password_off = vbuf_len(data) - vbuf_len(&b);
	if ((r = get_string(&b, cb[2], &info->password)) != 0 ||
	    (r = get_string(&b, cb[3], &info->shell)) != 0 ||
	    (r = get_string(&b, cb[4], &info->workdir)) != 0 ||
	    (r = vbuf_get_view(&b, vbuf_len(&b), &info->extra)) != 0 ||
	    (r = check_extra(&info->extra, &info->has_arc_cookie)) != 0)
		goto fail;
	return 0;
fail:
	memset(info, 0, sizeof(*info));
	return r;
}

int
rdp_utf8_to_utf16le(const char *s, size_t max_bytes, struct vbuf *out)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t mark = vbuf_len(out), used = 0;
	uint32_t cp;
	int r = 0, n, i;

	while (*p != '\0') {
		if (p[0] < 0x80) {
			cp = p[0];
			n = 1;
		} else if ((p[0] & 0xE0) == 0xC0) {
			cp = p[0] & 0x1F;
			n = 2;
		} else if ((p[0] & 0xF0) == 0xE0) {
			cp = p[0] & 0x0F;
			n = 3;
		} else if ((p[0] & 0xF8) == 0xF0) {
			cp = p[0] & 0x07;
			n = 4;
		} else {
			r = VDI_ERR_INVALID_ARG;
			goto fail;
		}
		for (i = 1; i < n; i++) {
			if ((p[i] & 0xC0) != 0x80) { /* also stops at NUL */
				r = VDI_ERR_INVALID_ARG;
				goto fail;
			}
			cp = (cp << 6) | (p[i] & 0x3F);
		}
		if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) ||
		    (n == 4 && cp < 0x10000) || cp > 0x10FFFF ||
		    (cp >= 0xD800 && cp <= 0xDFFF)) {
			r = VDI_ERR_INVALID_ARG;
			goto fail;
		}
		p += n;
		if (cp >= 0x10000) {
			if (used + 4 > max_bytes) {
				r = VDI_ERR_TOO_LARGE;
				goto fail;
			}
			cp -= 0x10000;
			if ((r = vbuf_put_u16le(
				 out, (uint16_t)(0xD800 | (cp >> 10)))) != 0 ||
			    (r = vbuf_put_u16le(
				 out, (uint16_t)(0xDC00 | (cp & 0x3FF)))) != 0)
				goto fail;
			used += 4;
		} else {
			if (used + 2 > max_bytes) {
				r = VDI_ERR_TOO_LARGE;
				goto fail;
			}
			if ((r = vbuf_put_u16le(out, (uint16_t)cp)) != 0)
				goto fail;
			used += 2;
		}
	}
	return 0;
fail:
	rdp_truncate(out, mark);
	return r;
}

static int
put_string(struct vbuf *out, const struct vbuf *s)
{
	int r;

	if (vbuf_len(s) > 0 && (r = vbuf_put_buf(out, s)) != 0)
		return r;
	return vbuf_put_u16le(out, 0);
}

int
rdp_info_rewrite(const struct vbuf *data, const struct rdp_policy *pol,
    const struct rdp_info_creds *creds, struct vbuf *out)
{
	struct rdp_info info;
	struct vbuf *cd = NULL, *cu = NULL, *cp = NULL;
	struct vbuf dom, usr, pwd, empty;
	size_t mark = vbuf_len(out);
	uint32_t flags;
	int r;

	if ((r = rdp_info_parse(data, &info)) != 0)
		return r;
	vbuf_init_view(&empty, "", 0);
	dom = info.domain;
	usr = info.user;
	pwd = info.password;
	flags = info.flags & ~INFO_CLEAR;
	if (pol == NULL || !pol->audio_out)
		flags |= RDP_INFO_NOAUDIOPLAYBACK;
	if (creds != NULL) {
		if (creds->domain == NULL || creds->user == NULL ||
		    creds->password == NULL)
			return VDI_ERR_INVALID_ARG;
		if ((cd = vbuf_new(RDP_INFO_STRING_MAX)) == NULL ||
		    (cu = vbuf_new(RDP_INFO_STRING_MAX)) == NULL ||
		    (cp = vbuf_new(RDP_INFO_STRING_MAX)) == NULL) {
			r = VDI_ERR_ALLOC;
			goto out;
		}
		if ((r = rdp_utf8_to_utf16le(
			 creds->domain, RDP_INFO_STRING_MAX, cd)) != 0 ||
		    (r = rdp_utf8_to_utf16le(
			 creds->user, RDP_INFO_STRING_MAX, cu)) != 0 ||
		    (r = rdp_utf8_to_utf16le(
			 creds->password, RDP_INFO_STRING_MAX, cp)) != 0) {
			if (r == VDI_ERR_TOO_LARGE)
				r = VDI_ERR_INVALID_ARG;
			goto out;
		}
		dom = *cd;
		usr = *cu;
		pwd = *cp;
		flags |= RDP_INFO_AUTOLOGON;
	}
	if ((r = vbuf_put_u16le(out, RDP_SEC_INFO_PKT)) != 0 ||
	    (r = vbuf_put_u16le(out, 0)) != 0 ||
	    (r = vbuf_put_u32le(out, info.code_page)) != 0 ||
	    (r = vbuf_put_u32le(out, flags)) != 0 ||
	    (r = vbuf_put_u16le(out, (uint16_t)vbuf_len(&dom))) != 0 ||
	    (r = vbuf_put_u16le(out, (uint16_t)vbuf_len(&usr))) != 0 ||
	    (r = vbuf_put_u16le(out, (uint16_t)vbuf_len(&pwd))) != 0 ||
	    (r = vbuf_put_u16le(out, 0)) != 0 || /* AlternateShell */
	    (r = vbuf_put_u16le(out, 0)) != 0 || /* WorkingDir */
	    (r = put_string(out, &dom)) != 0 ||
	    (r = put_string(out, &usr)) != 0 ||
	    (r = put_string(out, &pwd)) != 0 ||
	    (r = put_string(out, &empty)) != 0 ||
	    (r = put_string(out, &empty)) != 0 ||
	    (vbuf_len(&info.extra) > 0 &&
		(r = vbuf_put_buf(out, &info.extra)) != 0))
		goto out;
out:
	if (r != 0) {
		/* The partial output may hold the password. */
		if (vbuf_len(out) > mark) {
			unsigned char *p = vbuf_mutable_ptr(out);

			if (p != NULL)
				OPENSSL_cleanse(p + mark, vbuf_len(out) - mark);
		}
		rdp_truncate(out, mark);
	}
	vbuf_free(cd); /* vbuf_free wipes */
	vbuf_free(cu);
	vbuf_free(cp);
	return r;
}

int
rdp_info_wipe_password(void *data, size_t len)
{
	struct vbuf v;
	struct rdp_info info;
	int r;

	vbuf_init_view(&v, data, len);
	if ((r = rdp_info_parse(&v, &info)) != 0)
		return r;
	if (vbuf_len(&info.password) > 0)
		OPENSSL_cleanse((unsigned char *)data + info.password_off,
		    vbuf_len(&info.password));
	return 0;
}
