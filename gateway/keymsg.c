/* keymsg.c: codec for the gateway's key process messages (keymsg.h). */
#include "config.h"

#include <string.h>

#include <openssl/crypto.h>

#include "keymsg.h"
#include "privmsg.h"

/* Largest digest an ECDSA request may carry (SHA-512). */
#define ECDSA_DIGEST_MAX 64

void
keymsg_clear(struct keymsg *m)
{
	if (m != NULL)
		OPENSSL_cleanse(m, sizeof(*m));
}

/* The rules of keymsg.h, shared by parser and encoder. */
static int
validate(const void *msg)
{
	const struct keymsg *m = msg;
	switch (m->type) {
	case KEYMSG_UNSEAL:
		if (m->u.unseal.aad_len > KEYMSG_AAD_MAX ||
		    m->u.unseal.sealed_len > KEYMSG_SEALED_MAX)
			return VDI_ERR_TOO_LARGE;
		if (m->u.unseal.sealed_len == 0 ||
		    !privmsg_b64url_ok(
			m->u.unseal.sealed, m->u.unseal.sealed_len, 0))
			return VDI_ERR_BAD_FORMAT;
		return 0;
	case KEYMSG_PLAIN:
		if (m->u.plain.len > KEYMSG_PLAIN_MAX)
			return VDI_ERR_TOO_LARGE;
		return m->u.plain.len == 0 ? VDI_ERR_BAD_FORMAT : 0;
	case KEYMSG_SIGN:
		if (m->u.sign.len > KEYMSG_SIGN_IN_MAX)
			return VDI_ERR_TOO_LARGE;
		if (m->u.sign.len == 0)
			return VDI_ERR_BAD_FORMAT;
		if (m->u.sign.alg == KEYMSG_ALG_ECDSA) {
			if (m->u.sign.padding != 0)
				return VDI_ERR_UNSUPPORTED;
			if (m->u.sign.len > ECDSA_DIGEST_MAX)
				return VDI_ERR_TOO_LARGE;
			return 0;
		}
		if (m->u.sign.alg == KEYMSG_ALG_RSA)
			return m->u.sign.padding == KEYMSG_RSA_PKCS1 ||
				m->u.sign.padding == KEYMSG_RSA_NONE
			    ? 0
			    : VDI_ERR_UNSUPPORTED;
		return VDI_ERR_UNSUPPORTED;
	case KEYMSG_SIGNED:
		if (m->u.signed_.len > KEYMSG_SIGN_OUT_MAX)
			return VDI_ERR_TOO_LARGE;
		return m->u.signed_.len == 0 ? VDI_ERR_BAD_FORMAT : 0;
	case KEYMSG_READY:
		return (m->u.ready.flags &
			   ~(KEYMSG_HAVE_SEAL | KEYMSG_HAVE_INNER)) != 0
		    ? VDI_ERR_BAD_FORMAT
		    : 0;
	case KEYMSG_ERROR:
		return m->u.error.code < 0 ? 0 : VDI_ERR_BAD_FORMAT;
	}
	return VDI_ERR_UNSUPPORTED;
}

/* --- parser --------------------------------------------------------------- */

/* A byte string field of at most max bytes (keymsg.h). */
#define GET_BYTES(b, max, out, len)                                            \
	privmsg_get_field((b), (max), (out), (len), 0)

static int
parse_body(struct vbuf *b, void *msg)
{
	struct keymsg *m = msg;
	uint8_t t;
	int r;

	if ((r = vbuf_get_u8(b, &t)) != 0)
		return r;
	m->type = t;
	switch (t) {
	case KEYMSG_UNSEAL:
		if ((r = GET_BYTES(b, KEYMSG_AAD_MAX, m->u.unseal.aad,
			 &m->u.unseal.aad_len)) != 0 ||
		    (r = GET_BYTES(b, KEYMSG_SEALED_MAX, m->u.unseal.sealed,
			 &m->u.unseal.sealed_len)) != 0)
			return r;
		m->u.unseal.sealed[m->u.unseal.sealed_len] = '\0';
		break;
	case KEYMSG_PLAIN:
		if ((r = GET_BYTES(b, KEYMSG_PLAIN_MAX, m->u.plain.data,
			 &m->u.plain.len)) != 0)
			return r;
		break;
	case KEYMSG_SIGN:
		if ((r = vbuf_get_u8(b, &m->u.sign.alg)) != 0 ||
		    (r = vbuf_get_u8(b, &m->u.sign.padding)) != 0 ||
		    (r = GET_BYTES(b, KEYMSG_SIGN_IN_MAX, m->u.sign.in,
			 &m->u.sign.len)) != 0)
			return r;
		break;
	case KEYMSG_SIGNED:
		if ((r = GET_BYTES(b, KEYMSG_SIGN_OUT_MAX, m->u.signed_.out,
			 &m->u.signed_.len)) != 0)
			return r;
		break;
	case KEYMSG_READY:
		if ((r = vbuf_get_u8(b, &m->u.ready.flags)) != 0)
			return r;
		break;
	case KEYMSG_ERROR:
		if ((r = privmsg_get_i32(b, &m->u.error.code)) != 0)
			return r;
		break;
	default:
		return VDI_ERR_UNSUPPORTED;
	}
	return 0;
}

int
keymsg_parse(struct vbuf *in, struct keymsg *out)
{
	return privmsg_parse(
	    in, KEYMSG_FRAME_MAX, parse_body, validate, out, sizeof(*out));
}

/* --- encoder -------------------------------------------------------------- */

static int
encode_fields(struct vbuf *b, const void *msg)
{
	const struct keymsg *m = msg;
	int r;

	switch (m->type) {
	case KEYMSG_UNSEAL:
		if ((r = privmsg_put_field(
			 b, m->u.unseal.aad, m->u.unseal.aad_len)) != 0)
			return r;
		return privmsg_put_field(
		    b, m->u.unseal.sealed, m->u.unseal.sealed_len);
	case KEYMSG_PLAIN:
		return privmsg_put_field(b, m->u.plain.data, m->u.plain.len);
	case KEYMSG_SIGN:
		if ((r = vbuf_put_u8(b, m->u.sign.alg)) != 0 ||
		    (r = vbuf_put_u8(b, m->u.sign.padding)) != 0)
			return r;
		return privmsg_put_field(b, m->u.sign.in, m->u.sign.len);
	case KEYMSG_SIGNED:
		return privmsg_put_field(b, m->u.signed_.out, m->u.signed_.len);
	case KEYMSG_READY:
		return vbuf_put_u8(b, m->u.ready.flags);
	case KEYMSG_ERROR:
		return privmsg_put_i32(b, m->u.error.code);
	}
	return VDI_ERR_UNSUPPORTED;
}

int
keymsg_encode(struct vbuf *out, const struct keymsg *m)
{
	return privmsg_encode(out, KEYMSG_FRAME_MAX, (uint8_t)m->type, validate,
	    encode_fields, m);
}

int
keymsg_encode_error(struct vbuf *out, int code)
{
	struct keymsg m;

	if (code >= 0)
		return VDI_ERR_INVALID_ARG;
	memset(&m, 0, sizeof(m));
	m.type = KEYMSG_ERROR;
	m.u.error.code = code;
	return keymsg_encode(out, &m);
}
