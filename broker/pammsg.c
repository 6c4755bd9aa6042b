/* pammsg.c: codec for the privilege separation messages (see pammsg.h). */
#include "config.h"

#include <string.h>

#include <openssl/crypto.h>

#include "pammsg.h"
#include "privmsg.h"

void
pammsg_clear(struct pammsg *m)
{
	if (m != NULL)
		OPENSSL_cleanse(m, sizeof(*m));
}

/* --- text rules ----------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at p (at most n bytes available), or 0
 * when it is not one: no overlong forms, no surrogates, nothing above
 * U+10FFFF (RFC 3629). */
static size_t
utf8_seq(const unsigned char *p, size_t n)
{
	unsigned char c = p[0];
	size_t len, i;
	unsigned long cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF) {
		len = 2;
		cp = c & 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		len = 3;
		cp = c & 0x0F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4;
		cp = c & 0x07;
	} else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3F);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
		return 0;
	return len;
}

/* Valid UTF-8 without NUL and without control characters (C0, DEL), except
 * '\n' and '\t' when allow_nl is set. */
static int
text_ok(const char *s, size_t len, int allow_nl)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, k;

	while (i < len) {
		if (p[i] < 0x20 || p[i] == 0x7F) {
			if (!allow_nl || (p[i] != '\n' && p[i] != '\t'))
				return 0;
		}
		if ((k = utf8_seq(p + i, len - i)) == 0)
			return 0;
		i += k;
	}
	return 1;
}

size_t
pammsg_sanitize(const char *in, char *out, size_t outlen)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t i = 0, o = 0, k, n, room;

	if (outlen == 0)
		return 0;
	room = outlen - 1;
	if (room > PAMMSG_TEXT_MAX)
		room = PAMMSG_TEXT_MAX;
	n = in == NULL ? 0 : strlen(in);
	while (i < n) {
		if ((p[i] < 0x20 && p[i] != '\n' && p[i] != '\t') ||
		    p[i] == 0x7F || (k = utf8_seq(p + i, n - i)) == 0) {
			if (o + 1 > room)
				break;
			out[o++] = '?';
			i++;
			continue;
		}
		if (o + k > room)
			break;
		memcpy(out + o, p + i, k);
		o += k;
		i += k;
	}
	out[o] = '\0';
	return o;
}

int
pammsg_check_service(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || s[0] == '.')
		return VDI_ERR_BAD_FORMAT;
	if (len > PAMMSG_SERVICE_MAX)
		return VDI_ERR_TOO_LARGE;
	for (i = 0; i < len; i++) {
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
			(s[i] >= 'A' && s[i] <= 'Z') ||
			(s[i] >= '0' && s[i] <= '9') || s[i] == '.' ||
			s[i] == '_' || s[i] == '-'))
			return VDI_ERR_BAD_FORMAT;
	}
	return 0;
}

int
pammsg_check_user(const char *s, size_t len)
{
	if (len == 0)
		return VDI_ERR_BAD_FORMAT;
	if (len > PAMMSG_USER_MAX)
		return VDI_ERR_TOO_LARGE;
	return text_ok(s, len, 0) ? 0 : VDI_ERR_BAD_FORMAT;
}

int
pammsg_check_rhost(const char *s, size_t len)
{
	size_t i;

	if (len > PAMMSG_RHOST_MAX)
		return VDI_ERR_TOO_LARGE;
	for (i = 0; i < len; i++) {
		if (s[i] <= 0x20 || s[i] >= 0x7F)
			return VDI_ERR_BAD_FORMAT;
	}
	return 0;
}

static size_t slen(const char *s, size_t max);

int
pammsg_check_tenant(const char *s, size_t len)
{
	if (len > PAMMSG_TENANT_MAX)
		return VDI_ERR_TOO_LARGE;
	return pammsg_check_service(s, len);
}

int
pammsg_check_device(const char *s, size_t len)
{
	if (len > PAMMSG_DEVICE_LEN)
		return VDI_ERR_TOO_LARGE;
	if (len != PAMMSG_DEVICE_LEN || !privmsg_b64url_ok(s, len, 0))
		return VDI_ERR_BAD_FORMAT;
	return 0;
}

int
pammsg_check_login_id(const char *s, size_t len)
{
	size_t i;

	if (len > PAMMSG_LOGIN_ID_LEN)
		return VDI_ERR_TOO_LARGE;
	if (len != PAMMSG_LOGIN_ID_LEN)
		return VDI_ERR_BAD_FORMAT;
	for (i = 0; i < len; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') ||
			(s[i] >= 'a' && s[i] <= 'f')))
			return VDI_ERR_BAD_FORMAT;
	}
	return 0;
}

/* A grant: 1..PAMMSG_GRANT_MAX base64url characters and dots (empty when
 * empty_ok). */
static int
grant_ok(const char *s, int empty_ok)
{
	size_t len = slen(s, PAMMSG_GRANT_MAX);

	if (len > PAMMSG_GRANT_MAX)
		return VDI_ERR_TOO_LARGE;
	if ((len == 0 && !empty_ok) || !privmsg_b64url_ok(s, len, 1))
		return VDI_ERR_BAD_FORMAT;
	return 0;
}

/* Bounded strlen for the fixed arrays of struct pammsg: max + 1 when no NUL
 * within max + 1 bytes (then the string is too long). */
static size_t
slen(const char *s, size_t max)
{
	const char *e = memchr(s, '\0', max + 1);

	return e == NULL ? max + 1 : (size_t)(e - s);
}

/* The rules of pammsg.h on a decoded message; shared by parser and
 * encoders so that both refuse exactly the same messages. */
static int
validate(const void *msg)
{
	const struct pammsg *m = msg;
	size_t i, len;
	int r;

	switch (m->type) {
	case PAMMSG_PROMPTS:
		if (m->u.prompts.n > PAMMSG_MSGS_MAX)
			return VDI_ERR_TOO_LARGE;
		if (m->u.prompts.n == 0)
			return VDI_ERR_BAD_FORMAT;
		for (i = 0; i < m->u.prompts.n; i++) {
			const struct pammsg_prompt *p = &m->u.prompts.msg[i];

			if (p->style < PAMMSG_ECHO_OFF ||
			    p->style > PAMMSG_TEXT_INFO)
				return VDI_ERR_UNSUPPORTED;
			if ((len = slen(p->text, PAMMSG_TEXT_MAX)) >
			    PAMMSG_TEXT_MAX)
				return VDI_ERR_TOO_LARGE;
			if (!text_ok(p->text, len, 1))
				return VDI_ERR_BAD_FORMAT;
		}
		return 0;
	case PAMMSG_ANSWERS:
		if (m->u.answers.n > PAMMSG_MSGS_MAX)
			return VDI_ERR_TOO_LARGE;
		for (i = 0; i < m->u.answers.n; i++) {
			if (slen(m->u.answers.answer[i], PAMMSG_ANSWER_MAX) >
			    PAMMSG_ANSWER_MAX)
				return VDI_ERR_TOO_LARGE;
		}
		return 0;
	case PAMMSG_RESULT:
		if (m->u.result.status > PAMMSG_STATUS_LAST)
			return VDI_ERR_UNSUPPORTED;
		len = slen(m->u.result.user, PAMMSG_USER_MAX);
		if (m->u.result.status != PAMMSG_STATUS_OK)
			return len == 0 ? 0 : VDI_ERR_BAD_FORMAT;
		return pammsg_check_user(m->u.result.user, len);
	case PAMMSG_PAM_START:
		if ((r = pammsg_check_service(m->u.pam_start.service,
			 slen(m->u.pam_start.service, PAMMSG_SERVICE_MAX))) !=
		    0)
			return r;
		if ((r = pammsg_check_user(m->u.pam_start.user,
			 slen(m->u.pam_start.user, PAMMSG_USER_MAX))) != 0)
			return r;
		if ((r = pammsg_check_rhost(m->u.pam_start.rhost,
			 slen(m->u.pam_start.rhost, PAMMSG_RHOST_MAX))) != 0)
			return r;
		if ((r = pammsg_check_tenant(m->u.pam_start.tenant,
			 slen(m->u.pam_start.tenant, PAMMSG_TENANT_MAX))) != 0)
			return r;
		return pammsg_check_device(m->u.pam_start.device,
		    slen(m->u.pam_start.device, PAMMSG_DEVICE_LEN));
	case PAMMSG_PAM_STARTED:
		return pammsg_check_login_id(m->u.pam_started.login,
		    slen(m->u.pam_started.login, PAMMSG_LOGIN_ID_LEN));
	case PAMMSG_SIGN:
		if (m->u.sign.kind == PAMMSG_SIGN_LOGIN) {
			if ((r = pammsg_check_login_id(m->u.sign.ref,
				 slen(m->u.sign.ref, PAMMSG_GRANT_MAX))) != 0)
				return r;
		} else if (m->u.sign.kind == PAMMSG_SIGN_RECONNECT) {
			if ((r = grant_ok(m->u.sign.ref, 0)) != 0)
				return r;
		} else
			return VDI_ERR_UNSUPPORTED;
		len = m->u.sign.len;
		if (len > PAMMSG_CLAIMS_MAX)
			return VDI_ERR_TOO_LARGE;
		/* "{}" at least; JSON is checked by the monitor. */
		if (len < 2 || memchr(m->u.sign.claims, '\0', len) != NULL)
			return VDI_ERR_BAD_FORMAT;
		return 0;
	case PAMMSG_TOKEN:
		if ((len = slen(m->u.token.token, PAMMSG_TOKEN_MAX)) >
		    PAMMSG_TOKEN_MAX)
			return VDI_ERR_TOO_LARGE;
		if (len == 0 || !privmsg_b64url_ok(m->u.token.token, len, 1))
			return VDI_ERR_BAD_FORMAT;
		return grant_ok(m->u.token.grant, 1);
	case PAMMSG_SEAL:
		if (m->u.seal.plain_len > PAMMSG_SEAL_PLAIN_MAX ||
		    m->u.seal.aad_len > PAMMSG_SEAL_AAD_MAX)
			return VDI_ERR_TOO_LARGE;
		if (m->u.seal.plain_len == 0)
			return VDI_ERR_BAD_FORMAT;
		return 0;
	case PAMMSG_SEALED:
		if ((len = slen(m->u.sealed.sealed, PAMMSG_SEALED_MAX)) >
		    PAMMSG_SEALED_MAX)
			return VDI_ERR_TOO_LARGE;
		if (len == 0 || !privmsg_b64url_ok(m->u.sealed.sealed, len, 0))
			return VDI_ERR_BAD_FORMAT;
		return 0;
	case PAMMSG_READY:
		return 0;
	case PAMMSG_ERROR:
		return m->u.error.code < 0 ? 0 : VDI_ERR_BAD_FORMAT;
	}
	return VDI_ERR_UNSUPPORTED;
}

/* --- parser --------------------------------------------------------------- */

/* A text field into a char array (NUL refused, NUL-terminated). */
#define GET_TEXT(b, arr, len)                                                  \
	privmsg_get_field((b), sizeof(arr) - 1, (arr), (len), 1)

static int
parse_body(struct vbuf *b, void *msg)
{
	struct pammsg *m = msg;
	uint8_t t, n, u8;
	size_t i, len;
	int r;

	if ((r = vbuf_get_u8(b, &t)) != 0)
		return r;
	m->type = t;
	switch (t) {
	case PAMMSG_PROMPTS:
		if ((r = vbuf_get_u8(b, &n)) != 0)
			return r;
		if (n > PAMMSG_MSGS_MAX)
			return VDI_ERR_TOO_LARGE;
		if (n == 0)
			return VDI_ERR_BAD_FORMAT;
		m->u.prompts.n = n;
		for (i = 0; i < n; i++) {
			struct pammsg_prompt *p = &m->u.prompts.msg[i];

			if ((r = vbuf_get_u8(b, &u8)) != 0)
				return r;
			p->style = u8;
			if ((r = GET_TEXT(b, p->text, &len)) != 0)
				return r;
		}
		break;
	case PAMMSG_ANSWERS:
		if ((r = vbuf_get_u8(b, &n)) != 0)
			return r;
		if (n > PAMMSG_MSGS_MAX)
			return VDI_ERR_TOO_LARGE;
		m->u.answers.n = n;
		for (i = 0; i < n; i++) {
			if ((r = GET_TEXT(b, m->u.answers.answer[i], &len)) !=
			    0)
				return r;
		}
		break;
	case PAMMSG_RESULT:
		if ((r = vbuf_get_u8(b, &u8)) != 0)
			return r;
		m->u.result.status = u8;
		if ((r = GET_TEXT(b, m->u.result.user, &len)) != 0)
			return r;
		break;
	case PAMMSG_PAM_START:
		if ((r = GET_TEXT(b, m->u.pam_start.service, &len)) != 0 ||
		    (r = GET_TEXT(b, m->u.pam_start.user, &len)) != 0 ||
		    (r = GET_TEXT(b, m->u.pam_start.rhost, &len)) != 0 ||
		    (r = GET_TEXT(b, m->u.pam_start.tenant, &len)) != 0 ||
		    (r = GET_TEXT(b, m->u.pam_start.device, &len)) != 0)
			return r;
		break;
	case PAMMSG_PAM_STARTED:
		if ((r = GET_TEXT(b, m->u.pam_started.login, &len)) != 0)
			return r;
		break;
	case PAMMSG_SIGN:
		if ((r = vbuf_get_u8(b, &u8)) != 0)
			return r;
		m->u.sign.kind = u8;
		if ((r = GET_TEXT(b, m->u.sign.ref, &len)) != 0 ||
		    (r = GET_TEXT(b, m->u.sign.claims, &m->u.sign.len)) != 0)
			return r;
		break;
	case PAMMSG_TOKEN:
		if ((r = GET_TEXT(b, m->u.token.token, &len)) != 0 ||
		    (r = GET_TEXT(b, m->u.token.grant, &len)) != 0)
			return r;
		break;
	case PAMMSG_SEAL:
		if ((r = privmsg_get_field(b, PAMMSG_SEAL_PLAIN_MAX,
			 m->u.seal.plain, &m->u.seal.plain_len, 0)) != 0 ||
		    (r = privmsg_get_field(b, PAMMSG_SEAL_AAD_MAX,
			 m->u.seal.aad, &m->u.seal.aad_len, 0)) != 0)
			return r;
		break;
	case PAMMSG_SEALED:
		if ((r = GET_TEXT(b, m->u.sealed.sealed, &len)) != 0)
			return r;
		break;
	case PAMMSG_READY:
		break;
	case PAMMSG_ERROR:
		if ((r = privmsg_get_i32(b, &m->u.error.code)) != 0)
			return r;
		break;
	default:
		return VDI_ERR_UNSUPPORTED;
	}
	return 0;
}

int
pammsg_parse(struct vbuf *in, struct pammsg *out)
{
	return privmsg_parse(
	    in, PAMMSG_FRAME_MAX, parse_body, validate, out, sizeof(*out));
}

/* --- encoders ------------------------------------------------------------- */

static int
put_text(struct vbuf *b, const char *s)
{
	return privmsg_put_field(b, s, strlen(s));
}

static int
encode_fields(struct vbuf *b, const void *msg)
{
	const struct pammsg *m = msg;
	size_t i;
	int r = 0;

	switch (m->type) {
	case PAMMSG_PROMPTS:
		if ((r = vbuf_put_u8(b, (uint8_t)m->u.prompts.n)) != 0)
			return r;
		for (i = 0; i < m->u.prompts.n; i++) {
			if ((r = vbuf_put_u8(b, m->u.prompts.msg[i].style)) !=
				0 ||
			    (r = put_text(b, m->u.prompts.msg[i].text)) != 0)
				return r;
		}
		return 0;
	case PAMMSG_ANSWERS:
		if ((r = vbuf_put_u8(b, (uint8_t)m->u.answers.n)) != 0)
			return r;
		for (i = 0; i < m->u.answers.n; i++) {
			if ((r = put_text(b, m->u.answers.answer[i])) != 0)
				return r;
		}
		return 0;
	case PAMMSG_RESULT:
		if ((r = vbuf_put_u8(b, m->u.result.status)) != 0)
			return r;
		return put_text(b, m->u.result.user);
	case PAMMSG_PAM_START:
		if ((r = put_text(b, m->u.pam_start.service)) != 0 ||
		    (r = put_text(b, m->u.pam_start.user)) != 0 ||
		    (r = put_text(b, m->u.pam_start.rhost)) != 0 ||
		    (r = put_text(b, m->u.pam_start.tenant)) != 0)
			return r;
		return put_text(b, m->u.pam_start.device);
	case PAMMSG_PAM_STARTED:
		return put_text(b, m->u.pam_started.login);
	case PAMMSG_SIGN:
		if ((r = vbuf_put_u8(b, m->u.sign.kind)) != 0 ||
		    (r = put_text(b, m->u.sign.ref)) != 0)
			return r;
		return privmsg_put_field(b, m->u.sign.claims, m->u.sign.len);
	case PAMMSG_TOKEN:
		if ((r = put_text(b, m->u.token.token)) != 0)
			return r;
		return put_text(b, m->u.token.grant);
	case PAMMSG_SEAL:
		if ((r = privmsg_put_field(
			 b, m->u.seal.plain, m->u.seal.plain_len)) != 0)
			return r;
		return privmsg_put_field(b, m->u.seal.aad, m->u.seal.aad_len);
	case PAMMSG_SEALED:
		return put_text(b, m->u.sealed.sealed);
	case PAMMSG_READY:
		return 0;
	case PAMMSG_ERROR:
		return privmsg_put_i32(b, m->u.error.code);
	}
	return VDI_ERR_UNSUPPORTED;
}

int
pammsg_encode(struct vbuf *out, const struct pammsg *m)
{
	return privmsg_encode(out, PAMMSG_FRAME_MAX, (uint8_t)m->type, validate,
	    encode_fields, m);
}

int
pammsg_encode_answers(struct vbuf *out, const char *const *answers, size_t n)
{
	size_t start, i;
	int r;

	if (n > PAMMSG_MSGS_MAX)
		return VDI_ERR_TOO_LARGE;
	if (n > 0 && answers == NULL)
		return VDI_ERR_INVALID_ARG;
	for (i = 0; i < n; i++) {
		if (answers[i] == NULL)
			return VDI_ERR_INVALID_ARG;
		if (strnlen(answers[i], PAMMSG_ANSWER_MAX + 1) >
		    PAMMSG_ANSWER_MAX)
			return VDI_ERR_TOO_LARGE;
	}
	if ((r = privmsg_frame_begin(out, PAMMSG_ANSWERS, &start)) == 0 &&
	    (r = vbuf_put_u8(out, (uint8_t)n)) == 0) {
		for (i = 0; i < n && r == 0; i++)
			r = put_text(out, answers[i]);
	}
	return privmsg_frame_end(out, start, PAMMSG_FRAME_MAX, r);
}

int
pammsg_encode_empty(struct vbuf *out, enum pammsg_type type)
{
	size_t start;
	int r;

	if (type != PAMMSG_READY)
		return VDI_ERR_INVALID_ARG;
	r = privmsg_frame_begin(out, (uint8_t)type, &start);
	return privmsg_frame_end(out, start, PAMMSG_FRAME_MAX, r);
}

int
pammsg_encode_error(struct vbuf *out, int code)
{
	size_t start;
	int r;

	if (code >= 0)
		return VDI_ERR_INVALID_ARG;
	if ((r = privmsg_frame_begin(out, PAMMSG_ERROR, &start)) == 0)
		r = privmsg_put_i32(out, (int32_t)code);
	return privmsg_frame_end(out, start, PAMMSG_FRAME_MAX, r);
}

/* --- helpers -------------------------------------------------------------- */

size_t
pammsg_prompt_count(const struct pammsg *m)
{
	size_t i, n = 0;

	if (m->type != PAMMSG_PROMPTS)
		return 0;
	for (i = 0; i < m->u.prompts.n && i < PAMMSG_MSGS_MAX; i++) {
		if (m->u.prompts.msg[i].style == PAMMSG_ECHO_OFF ||
		    m->u.prompts.msg[i].style == PAMMSG_ECHO_ON)
			n++;
	}
	return n;
}

const char *
pammsg_status_name(int status)
{
	switch (status) {
	case PAMMSG_STATUS_OK:
		return "ok";
	case PAMMSG_STATUS_AUTH_FAILED:
		return "auth_failed";
	case PAMMSG_STATUS_ACCOUNT_EXPIRED:
		return "account_expired";
	case PAMMSG_STATUS_PASSWORD_EXPIRED:
		return "password_expired";
	case PAMMSG_STATUS_ACCOUNT_LOCKED:
		return "account_locked";
	case PAMMSG_STATUS_PAM_ERROR:
		return "pam_error";
	case PAMMSG_STATUS_TIMEOUT:
		return "timeout";
	}
	return "unknown";
}

const char *
pammsg_style_name(int style)
{
	switch (style) {
	case PAMMSG_ECHO_OFF:
		return "echo_off";
	case PAMMSG_ECHO_ON:
		return "echo_on";
	case PAMMSG_ERROR_MSG:
		return "error";
	case PAMMSG_TEXT_INFO:
		return "info";
	}
	return "unknown";
}
