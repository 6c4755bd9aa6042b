/* Unit tests for broker/pammsg.c (and the PAM code mapping of pam_child.c). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <security/pam_appl.h>

#include "pam_child.h"
#include "pammsg.h"
#include "privmsg_test.h"

#define BUF_MAX (PAMMSG_HEADER_LEN + PAMMSG_FRAME_MAX)
/* A device thumbprint, a login id, and the tenant and device fields that
 * end a PAM_START (TD_LEN bytes). */
#define DEV      "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
#define LOGIN_ID "0123456789abcdef0123456789abcdef"
#define TD       "\x00\x06town-a\x00\x2b" DEV
#define TD_LEN   53

/* Parses len bytes and returns the result; *consumed gets what was used. */
static int
parse_bytes(const void *p, size_t len, struct pammsg *m, size_t *consumed)
{
	struct vbuf v;
	int r;

	vbuf_init_view(&v, p, len);
	r = pammsg_parse(&v, m);
	if (consumed != NULL)
		*consumed = len - vbuf_len(&v);
	return r;
}

/* One valid message of every type. */
static void
sample(void *msg, int type)
{
	struct pammsg *m = msg;

	memset(m, 0, sizeof(*m));
	m->type = type;
	switch (type) {
	case PAMMSG_PROMPTS:
		m->u.prompts.n = 3;
		m->u.prompts.msg[0].style = PAMMSG_TEXT_INFO;
		strcpy(
		    m->u.prompts.msg[0].text, "Bitte Code\neingeben\t\xc3\xa4");
		m->u.prompts.msg[1].style = PAMMSG_ECHO_OFF;
		strcpy(m->u.prompts.msg[1].text, "Password: ");
		m->u.prompts.msg[2].style = PAMMSG_ECHO_ON;
		strcpy(m->u.prompts.msg[2].text, "");
		break;
	case PAMMSG_ANSWERS:
		m->u.answers.n = 2;
		strcpy(m->u.answers.answer[0], "s3cret \x01\xff");
		strcpy(m->u.answers.answer[1], "");
		break;
	case PAMMSG_RESULT:
		m->u.result.status = PAMMSG_STATUS_OK;
		strcpy(m->u.result.user, "alice@example.org");
		break;
	case PAMMSG_PAM_START:
		strcpy(m->u.pam_start.service, "vdi-broker");
		strcpy(m->u.pam_start.user, "J\xc3\xbcrgen");
		strcpy(m->u.pam_start.rhost, "2001:db8::1");
		strcpy(m->u.pam_start.tenant, "town-a");
		strcpy(m->u.pam_start.device, DEV);
		break;
	case PAMMSG_PAM_STARTED:
		strcpy(m->u.pam_started.login, LOGIN_ID);
		break;
	case PAMMSG_SIGN:
		m->u.sign.kind = PAMMSG_SIGN_LOGIN;
		strcpy(m->u.sign.ref, LOGIN_ID);
		strcpy(m->u.sign.claims, "{\"sub\":\"alice\"}");
		m->u.sign.len = strlen(m->u.sign.claims);
		break;
	case PAMMSG_TOKEN:
		strcpy(m->u.token.token, "eyJh.eyJz.c2ln-_");
		strcpy(m->u.token.grant, "g1.1700000000.c2ln");
		break;
	case PAMMSG_SEAL:
		m->u.seal.plain_len = 5;
		memcpy(m->u.seal.plain,
		    "a\0b\xff"
		    "c",
		    5);
		m->u.seal.aad_len = 3;
		memcpy(m->u.seal.aad, "jti", 3);
		break;
	case PAMMSG_SEALED:
		strcpy(m->u.sealed.sealed, "AAAA-_zz");
		break;
	case PAMMSG_ERROR:
		m->u.error.code = VDI_ERR_DENIED;
		break;
	case PAMMSG_READY:
		break;
	}
}

static const int all_types[] = {
	PAMMSG_PROMPTS,
	PAMMSG_ANSWERS,
	PAMMSG_RESULT,
	PAMMSG_PAM_START,
	PAMMSG_PAM_STARTED,
	PAMMSG_SIGN,
	PAMMSG_TOKEN,
	PAMMSG_SEAL,
	PAMMSG_SEALED,
	PAMMSG_READY,
	PAMMSG_ERROR,
};
#define NTYPES (sizeof(all_types) / sizeof(all_types[0]))

PRIVMSG_ANY_CODEC(pammsg)

static const struct privmsg_test_codec codec = { pammsg_parse_any,
	pammsg_encode_any, sample, all_types, NTYPES, sizeof(struct pammsg),
	PAMMSG_FRAME_MAX };

#define parse_raw(type, body, len)                                             \
	privmsg_test_parse_raw(&codec, (type), (body), (len))

static void
pammsg_encode__when_each_type__parses_back_equal(void **state)
{
	privmsg_test_round_trip(&codec);
}

static void
pammsg_parse__when_truncated_at_every_byte__need_more_nothing_consumed(
    void **state)
{
	privmsg_test_truncations(&codec);
}

static void
pammsg_parse__when_two_frames_back_to_back__one_per_call(void **state)
{
	struct pammsg *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	struct vbuf *buf = vbuf_new(BUF_MAX);

	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(buf);
	sample(a, PAMMSG_PROMPTS);
	assert_int_equal(pammsg_encode(buf, a), 0);
	sample(a, PAMMSG_RESULT);
	assert_int_equal(pammsg_encode(buf, a), 0);
	assert_int_equal(pammsg_parse(buf, b), 0);
	assert_int_equal(b->type, PAMMSG_PROMPTS);
	assert_int_equal(pammsg_parse(buf, b), 0);
	assert_int_equal(b->type, PAMMSG_RESULT);
	assert_int_equal(pammsg_parse(buf, b), VDI_ERR_NEED_MORE);
	free(a);
	free(b);
	vbuf_free(buf);
}

static void
pammsg_parse__when_length_field_too_large__too_large_from_header(void **state)
{
	static const unsigned char big[] = { 0x00, 0x00, 0x40, 0x01 };
	static const unsigned char huge[] = { 0xff, 0xff, 0xff, 0xff };
	static const unsigned char zero[] = { 0, 0, 0, 0, 1 };
	static const unsigned char max[] = { 0x00, 0x00, 0x40, 0x00, 1 };
	struct pammsg m;
	size_t used;

	assert_int_equal(
	    parse_bytes(big, sizeof(big), &m, &used), VDI_ERR_TOO_LARGE);
	assert_int_equal(used, 0);
	assert_int_equal(
	    parse_bytes(huge, sizeof(huge), &m, &used), VDI_ERR_TOO_LARGE);
	assert_int_equal(
	    parse_bytes(zero, sizeof(zero), &m, &used), VDI_ERR_BAD_LENGTH);
	/* Exactly the maximum is allowed: only waits for the bytes. */
	assert_int_equal(
	    parse_bytes(max, sizeof(max), &m, &used), VDI_ERR_NEED_MORE);
}

static void
pammsg_parse__when_bytes_after_fields__bad_length(void **state)
{
	assert_int_equal(parse_raw(PAMMSG_READY, "x", 1), VDI_ERR_BAD_LENGTH);
	assert_int_equal(parse_raw(PAMMSG_RESULT, "\x01\x00\x00\x00", 4),
	    VDI_ERR_BAD_LENGTH);
	assert_int_equal(parse_raw(PAMMSG_ERROR, "\xff\xff\xff\xf0\x00", 5),
	    VDI_ERR_BAD_LENGTH);
}

static void
pammsg_parse__when_field_runs_past_frame__truncated(void **state)
{
	/* A string claiming 10 bytes with 3 present. */
	assert_int_equal(parse_raw(PAMMSG_TOKEN,
			     "\x00\x0a"
			     "abc",
			     5),
	    VDI_ERR_TRUNCATED);
	/* Prompt count 2, one prompt present. */
	assert_int_equal(parse_raw(PAMMSG_PROMPTS, "\x02\x01\x00\x01P", 5),
	    VDI_ERR_TRUNCATED);
	/* Result without the user field; error without its code. */
	assert_int_equal(
	    parse_raw(PAMMSG_RESULT, "\x01", 1), VDI_ERR_TRUNCATED);
	assert_int_equal(
	    parse_raw(PAMMSG_ERROR, "\xff\xff", 2), VDI_ERR_TRUNCATED);
	assert_int_equal(parse_raw(PAMMSG_PAM_START,
			     "\x00\x03vdi\x00\x05"
			     "alice",
			     12),
	    VDI_ERR_TRUNCATED);
}

static void
pammsg_parse__when_unknown_type_style_or_status__unsupported(void **state)
{
	assert_int_equal(parse_raw(0, NULL, 0), VDI_ERR_UNSUPPORTED);
	assert_int_equal(parse_raw(4, NULL, 0), VDI_ERR_UNSUPPORTED);
	assert_int_equal(parse_raw(255, NULL, 0), VDI_ERR_UNSUPPORTED);
	assert_int_equal(parse_raw(PAMMSG_PROMPTS, "\x01\x00\x00\x00", 4),
	    VDI_ERR_UNSUPPORTED);
	assert_int_equal(parse_raw(PAMMSG_PROMPTS, "\x01\x05\x00\x00", 4),
	    VDI_ERR_UNSUPPORTED);
	assert_int_equal(
	    parse_raw(PAMMSG_RESULT, "\x07\x00\x00", 3), VDI_ERR_UNSUPPORTED);
}

static void
pammsg_parse__when_counts_out_of_range__error(void **state)
{
	unsigned char body[1 + 9 * 3];
	size_t i;

	/* Zero prompts is meaningless; nine is one too many. */
	assert_int_equal(
	    parse_raw(PAMMSG_PROMPTS, "\x00", 1), VDI_ERR_BAD_FORMAT);
	body[0] = 9;
	for (i = 0; i < 9; i++) {
		body[1 + i * 3] = PAMMSG_TEXT_INFO;
		body[2 + i * 3] = 0;
		body[3 + i * 3] = 0;
	}
	assert_int_equal(
	    parse_raw(PAMMSG_PROMPTS, body, sizeof(body)), VDI_ERR_TOO_LARGE);
	/* Answers: zero is fine (no prompts in the batch), nine is not. */
	assert_int_equal(parse_raw(PAMMSG_ANSWERS, "\x00", 1), 0);
	memset(body, 0, sizeof(body));
	body[0] = 9;
	assert_int_equal(
	    parse_raw(PAMMSG_ANSWERS, body, 1 + 9 * 2), VDI_ERR_TOO_LARGE);
	body[0] = 8;
	assert_int_equal(parse_raw(PAMMSG_ANSWERS, body, 1 + 8 * 2), 0);
}

static void
pammsg_parse__when_string_over_its_limit__too_large(void **state)
{
	static unsigned char body[4 + PAMMSG_TOKEN_MAX + 16];
	size_t n;

	/* Prompt text of 513 bytes. */
	body[0] = 1;
	body[1] = PAMMSG_TEXT_INFO;
	body[2] = (PAMMSG_TEXT_MAX + 1) >> 8;
	body[3] = (PAMMSG_TEXT_MAX + 1) & 0xff;
	memset(body + 4, 'a', PAMMSG_TEXT_MAX + 1);
	assert_int_equal(
	    parse_raw(PAMMSG_PROMPTS, body, 4 + PAMMSG_TEXT_MAX + 1),
	    VDI_ERR_TOO_LARGE);
	/* 512 is fine. */
	body[2] = PAMMSG_TEXT_MAX >> 8;
	body[3] = PAMMSG_TEXT_MAX & 0xff;
	assert_int_equal(
	    parse_raw(PAMMSG_PROMPTS, body, 4 + PAMMSG_TEXT_MAX), 0);
	/* Answer of 513 bytes. */
	body[0] = 1;
	body[1] = (PAMMSG_ANSWER_MAX + 1) >> 8;
	body[2] = (PAMMSG_ANSWER_MAX + 1) & 0xff;
	memset(body + 3, 'a', PAMMSG_ANSWER_MAX + 1);
	assert_int_equal(
	    parse_raw(PAMMSG_ANSWERS, body, 3 + PAMMSG_ANSWER_MAX + 1),
	    VDI_ERR_TOO_LARGE);
	/* Service of 65 bytes. */
	n = PAMMSG_SERVICE_MAX + 1;
	body[0] = 0;
	body[1] = (unsigned char)n;
	memset(body + 2, 's', n);
	assert_int_equal(
	    parse_raw(PAMMSG_PAM_START, body, 2 + n), VDI_ERR_TOO_LARGE);
	/* Token of 8193 bytes. */
	n = PAMMSG_TOKEN_MAX + 1;
	body[0] = (unsigned char)(n >> 8);
	body[1] = (unsigned char)n;
	memset(body + 2, 'A', n);
	assert_int_equal(
	    parse_raw(PAMMSG_TOKEN, body, 2 + n), VDI_ERR_TOO_LARGE);
	/* Seal plaintext of 1025 bytes. */
	n = PAMMSG_SEAL_PLAIN_MAX + 1;
	body[0] = (unsigned char)(n >> 8);
	body[1] = (unsigned char)n;
	assert_int_equal(
	    parse_raw(PAMMSG_SEAL, body, 2 + n + 2), VDI_ERR_TOO_LARGE);
}

static void
pammsg_parse__when_text_breaks_rules__bad_format(void **state)
{
	/* NUL inside a prompt, an answer, a user. */
	assert_int_equal(parse_raw(PAMMSG_PROMPTS, "\x01\x01\x00\x03P\0w", 7),
	    VDI_ERR_BAD_FORMAT);
	assert_int_equal(parse_raw(PAMMSG_ANSWERS, "\x01\x00\x02\0x", 5),
	    VDI_ERR_BAD_FORMAT);
	/* Bad UTF-8 (lone continuation, overlong, surrogate) and control
	 * characters in prompt text; newline and tab are allowed. */
	assert_int_equal(parse_raw(PAMMSG_PROMPTS, "\x01\x04\x00\x01\x80", 5),
	    VDI_ERR_BAD_FORMAT);
	assert_int_equal(
	    parse_raw(PAMMSG_PROMPTS, "\x01\x04\x00\x02\xc0\xaf", 6),
	    VDI_ERR_BAD_FORMAT);
	assert_int_equal(
	    parse_raw(PAMMSG_PROMPTS, "\x01\x04\x00\x03\xed\xa0\x80", 7),
	    VDI_ERR_BAD_FORMAT);
	assert_int_equal(parse_raw(PAMMSG_PROMPTS, "\x01\x04\x00\x01\x1b", 5),
	    VDI_ERR_BAD_FORMAT);
	assert_int_equal(
	    parse_raw(PAMMSG_PROMPTS, "\x01\x04\x00\x02\n\t", 6), 0);
	/* Result: OK needs a user, a failure must not carry one. */
	assert_int_equal(
	    parse_raw(PAMMSG_RESULT, "\x00\x00\x00", 3), VDI_ERR_BAD_FORMAT);
	assert_int_equal(
	    parse_raw(PAMMSG_RESULT, "\x01\x00\x01u", 4), VDI_ERR_BAD_FORMAT);
	assert_int_equal(
	    parse_raw(PAMMSG_RESULT, "\x00\x00\x02u\n", 5), VDI_ERR_BAD_FORMAT);
	/* PAM_START: service syntax, empty user, rhost with a space. */
	assert_int_equal(parse_raw(PAMMSG_PAM_START,
			     "\x00\x04../x\x00\x01u\x00\x00" TD, 11 + TD_LEN),
	    VDI_ERR_BAD_FORMAT);
	assert_int_equal(parse_raw(PAMMSG_PAM_START,
			     "\x00\x04.vdi\x00\x01u\x00\x00" TD, 11 + TD_LEN),
	    VDI_ERR_BAD_FORMAT);
	assert_int_equal(parse_raw(PAMMSG_PAM_START,
			     "\x00\x03vdi\x00\x00\x00\x00" TD, 9 + TD_LEN),
	    VDI_ERR_BAD_FORMAT);
	assert_int_equal(parse_raw(PAMMSG_PAM_START,
			     "\x00\x03vdi\x00\x01u\x00\x03"
			     "a b" TD,
			     13 + TD_LEN),
	    VDI_ERR_BAD_FORMAT);
	assert_int_equal(parse_raw(PAMMSG_PAM_START,
			     "\x00\x03vdi\x00\x01u\x00\x00" TD, 10 + TD_LEN),
	    0);
	/* Tenant with a slash, device one character short, or missing. */
	assert_int_equal(parse_raw(PAMMSG_PAM_START,
			     "\x00\x03vdi\x00\x01u\x00\x00"
			     "\x00\x03t/a\x00\x2b" DEV,
			     10 + 50),
	    VDI_ERR_BAD_FORMAT);
	assert_int_equal(parse_raw(PAMMSG_PAM_START,
			     "\x00\x03vdi\x00\x01u\x00\x00"
			     "\x00\x03t-a\x00\x2a" DEV,
			     10 + 49),
	    VDI_ERR_BAD_FORMAT);
	assert_int_equal(parse_raw(PAMMSG_PAM_START,
			     "\x00\x03vdi\x00\x01u\x00\x00"
			     "\x00\x03t-a\x00\x00",
			     10 + 7),
	    VDI_ERR_BAD_FORMAT);
	/* PAM_STARTED: the login id is 32 lowercase hex digits. */
	assert_int_equal(
	    parse_raw(PAMMSG_PAM_STARTED, "\x00\x20" LOGIN_ID, 34), 0);
	assert_int_equal(parse_raw(PAMMSG_PAM_STARTED,
			     "\x00\x20"
			     "0123456789ABCDEF0123456789abcdef",
			     34),
	    VDI_ERR_BAD_FORMAT);
	assert_int_equal(
	    parse_raw(PAMMSG_PAM_STARTED, NULL, 0), VDI_ERR_TRUNCATED);
	/* SIGN: a known kind, a login id or a grant, claims of "{}" at
	 * least. */
	assert_int_equal(parse_raw(PAMMSG_SIGN,
			     "\x01\x00\x20" LOGIN_ID "\x00\x02{}", 3 + 32 + 4),
	    0);
	assert_int_equal(parse_raw(PAMMSG_SIGN,
			     "\x01\x00\x20" LOGIN_ID "\x00\x01{", 3 + 32 + 3),
	    VDI_ERR_BAD_FORMAT);
	assert_int_equal(parse_raw(PAMMSG_SIGN,
			     "\x03\x00\x20" LOGIN_ID "\x00\x02{}", 3 + 32 + 4),
	    VDI_ERR_UNSUPPORTED);
	assert_int_equal(
	    parse_raw(PAMMSG_SIGN, "\x01\x00\x04g1.x\x00\x02{}", 3 + 4 + 4),
	    VDI_ERR_BAD_FORMAT);
	assert_int_equal(
	    parse_raw(PAMMSG_SIGN, "\x02\x00\x04g1.x\x00\x02{}", 3 + 4 + 4), 0);
	assert_int_equal(
	    parse_raw(PAMMSG_SIGN, "\x02\x00\x00\x00\x02{}", 3 + 4),
	    VDI_ERR_BAD_FORMAT);
	assert_int_equal(
	    parse_raw(PAMMSG_SIGN, "\x02\x00\x03g/1\x00\x02{}", 3 + 3 + 4),
	    VDI_ERR_BAD_FORMAT);
	assert_int_equal(parse_raw(PAMMSG_TOKEN,
			     "\x00\x02"
			     "a=\x00\x00",
			     6),
	    VDI_ERR_BAD_FORMAT);
	assert_int_equal(
	    parse_raw(PAMMSG_TOKEN, "\x00\x00\x00\x00", 4), VDI_ERR_BAD_FORMAT);
	/* TOKEN: the grant may be empty, but not hold other bytes. */
	assert_int_equal(parse_raw(PAMMSG_TOKEN,
			     "\x00\x01"
			     "a\x00\x00",
			     5),
	    0);
	assert_int_equal(parse_raw(PAMMSG_TOKEN,
			     "\x00\x01"
			     "a\x00\x01=",
			     6),
	    VDI_ERR_BAD_FORMAT);
	assert_int_equal(parse_raw(PAMMSG_SEALED,
			     "\x00\x03"
			     "a.b",
			     5),
	    VDI_ERR_BAD_FORMAT);
	/* SEAL needs a plaintext; any bytes are fine in it. */
	assert_int_equal(
	    parse_raw(PAMMSG_SEAL, "\x00\x00\x00\x00", 4), VDI_ERR_BAD_FORMAT);
	assert_int_equal(
	    parse_raw(PAMMSG_SEAL, "\x00\x02\0\xff\x00\x00", 6), 0);
	/* ERROR must carry a negative code. */
	assert_int_equal(
	    parse_raw(PAMMSG_ERROR, "\x00\x00\x00\x00", 4), VDI_ERR_BAD_FORMAT);
	assert_int_equal(
	    parse_raw(PAMMSG_ERROR, "\x7f\xff\xff\xff", 4), VDI_ERR_BAD_FORMAT);
	assert_int_equal(parse_raw(PAMMSG_ERROR, "\xff\xff\xff\xf0", 4), 0);
}

static void
pammsg_encode__when_message_breaks_rules__error_nothing_appended(void **state)
{
	struct pammsg *m = calloc(1, sizeof(*m));
	struct vbuf *buf = vbuf_new(BUF_MAX);

	assert_non_null(m);
	assert_non_null(buf);
	assert_int_equal(vbuf_put(buf, "keep", 4), 0);
	sample(m, PAMMSG_PROMPTS);
	m->u.prompts.n = 0;
	assert_int_equal(pammsg_encode(buf, m), VDI_ERR_BAD_FORMAT);
	m->u.prompts.n = PAMMSG_MSGS_MAX + 1;
	assert_int_equal(pammsg_encode(buf, m), VDI_ERR_TOO_LARGE);
	sample(m, PAMMSG_PROMPTS);
	m->u.prompts.msg[1].style = 9;
	assert_int_equal(pammsg_encode(buf, m), VDI_ERR_UNSUPPORTED);
	sample(m, PAMMSG_PROMPTS);
	memset(m->u.prompts.msg[0].text, 'x', sizeof(m->u.prompts.msg[0].text));
	assert_int_equal(pammsg_encode(buf, m), VDI_ERR_TOO_LARGE);
	sample(m, PAMMSG_RESULT);
	m->u.result.user[0] = '\0';
	assert_int_equal(pammsg_encode(buf, m), VDI_ERR_BAD_FORMAT);
	sample(m, PAMMSG_PAM_START);
	strcpy(m->u.pam_start.service, "a/b");
	assert_int_equal(pammsg_encode(buf, m), VDI_ERR_BAD_FORMAT);
	sample(m, PAMMSG_SIGN);
	m->u.sign.len = PAMMSG_CLAIMS_MAX + 1;
	assert_int_equal(pammsg_encode(buf, m), VDI_ERR_TOO_LARGE);
	sample(m, PAMMSG_ERROR);
	m->u.error.code = 1;
	assert_int_equal(pammsg_encode(buf, m), VDI_ERR_BAD_FORMAT);
	m->type = (enum pammsg_type)99;
	assert_int_equal(pammsg_encode(buf, m), VDI_ERR_UNSUPPORTED);
	assert_int_equal(
	    pammsg_encode_empty(buf, PAMMSG_SIGN), VDI_ERR_INVALID_ARG);
	assert_int_equal(
	    pammsg_encode_empty(buf, PAMMSG_PAM_STARTED), VDI_ERR_INVALID_ARG);
	sample(m, PAMMSG_SIGN);
	m->u.sign.kind = 9;
	assert_int_equal(pammsg_encode(buf, m), VDI_ERR_UNSUPPORTED);
	sample(m, PAMMSG_TOKEN);
	strcpy(m->u.token.grant, "g1 1");
	assert_int_equal(pammsg_encode(buf, m), VDI_ERR_BAD_FORMAT);
	assert_int_equal(pammsg_encode_error(buf, 0), VDI_ERR_INVALID_ARG);
	assert_int_equal(vbuf_len(buf), 4);
	assert_memory_equal(vbuf_ptr(buf), "keep", 4);
	free(m);
	vbuf_free(buf);
}

static void
pammsg_encode__when_buffer_too_small__too_large_nothing_appended(void **state)
{
	struct pammsg *m = calloc(1, sizeof(*m));
	struct vbuf *buf = vbuf_new(20);
	const char *ans[1] = { "a long answer that does not fit" };

	assert_non_null(m);
	assert_non_null(buf);
	sample(m, PAMMSG_PROMPTS);
	assert_int_equal(pammsg_encode(buf, m), VDI_ERR_TOO_LARGE);
	assert_int_equal(vbuf_len(buf), 0);
	assert_int_equal(pammsg_encode_answers(buf, ans, 1), VDI_ERR_TOO_LARGE);
	assert_int_equal(vbuf_len(buf), 0);
	assert_int_equal(pammsg_encode_empty(buf, PAMMSG_READY), 0);
	assert_int_equal(vbuf_len(buf), 5);
	free(m);
	vbuf_free(buf);
}

static void
pammsg_encode_answers__when_valid__exact_wire_bytes(void **state)
{
	static const unsigned char want[] = {
		0x00,
		0x00,
		0x00,
		0x09,
		PAMMSG_ANSWERS,
		0x02,
		0x00,
		0x03,
		'p',
		'w',
		'1',
		0x00,
		0x00,
	};
	const char *ans[2] = { "pw1", "" };
	struct vbuf *buf = vbuf_new(BUF_MAX);
	struct pammsg m;

	assert_non_null(buf);
	assert_int_equal(pammsg_encode_answers(buf, ans, 2), 0);
	assert_int_equal(vbuf_len(buf), sizeof(want));
	assert_memory_equal(vbuf_ptr(buf), want, sizeof(want));
	assert_int_equal(pammsg_parse(buf, &m), 0);
	assert_int_equal(m.u.answers.n, 2);
	assert_string_equal(m.u.answers.answer[0], "pw1");
	pammsg_clear(&m);
	vbuf_free(buf);
}

static void
pammsg_encode_answers__when_bad_arguments__error_nothing_appended(void **state)
{
	static char longans[PAMMSG_ANSWER_MAX + 2];
	const char *ans[PAMMSG_MSGS_MAX + 1];
	struct vbuf *buf = vbuf_new(BUF_MAX);
	size_t i;

	assert_non_null(buf);
	for (i = 0; i <= PAMMSG_MSGS_MAX; i++)
		ans[i] = "x";
	assert_int_equal(pammsg_encode_answers(buf, ans, PAMMSG_MSGS_MAX + 1),
	    VDI_ERR_TOO_LARGE);
	assert_int_equal(
	    pammsg_encode_answers(buf, NULL, 1), VDI_ERR_INVALID_ARG);
	ans[1] = NULL;
	assert_int_equal(
	    pammsg_encode_answers(buf, ans, 2), VDI_ERR_INVALID_ARG);
	memset(longans, 'a', PAMMSG_ANSWER_MAX + 1);
	ans[1] = longans;
	assert_int_equal(pammsg_encode_answers(buf, ans, 2), VDI_ERR_TOO_LARGE);
	assert_int_equal(vbuf_len(buf), 0);
	longans[PAMMSG_ANSWER_MAX] = '\0';
	assert_int_equal(pammsg_encode_answers(buf, ans, 2), 0);
	assert_int_equal(pammsg_encode_answers(buf, NULL, 0), 0);
	vbuf_free(buf);
}

static void
pammsg_sanitize__when_bad_bytes_or_too_long__replaced_and_cut(void **state)
{
	static char big[PAMMSG_TEXT_MAX * 2];
	char out[PAMMSG_TEXT_MAX + 1];
	char small[6];

	assert_int_equal(pammsg_sanitize("ok\n\tfine", out, sizeof(out)), 8);
	assert_string_equal(out, "ok\n\tfine");
	assert_int_equal(
	    pammsg_sanitize("a\x1b[1m\x80\xc3(\x7f", out, sizeof(out)), 9);
	assert_string_equal(out,
	    "a?[1m?"
	    "?(?");
	/* Cut at a character boundary: "ab" + a 2-byte char fits in 5, a
	 * further 2-byte char does not. */
	assert_int_equal(
	    pammsg_sanitize("ab\xc3\xa4\xc3\xb6", small, sizeof(small)), 4);
	assert_string_equal(small, "ab\xc3\xa4");
	memset(big, 'z', sizeof(big) - 1);
	assert_int_equal(
	    pammsg_sanitize(big, out, sizeof(out)), PAMMSG_TEXT_MAX);
	assert_int_equal(pammsg_sanitize(NULL, out, sizeof(out)), 0);
	assert_string_equal(out, "");
	assert_int_equal(pammsg_sanitize("x", out, 0), 0);
}

static void
pammsg_helpers__when_called__counts_and_names(void **state)
{
	struct pammsg m;

	sample(&m, PAMMSG_PROMPTS);
	assert_int_equal(pammsg_prompt_count(&m), 2);
	m.u.prompts.msg[1].style = PAMMSG_ERROR_MSG;
	assert_int_equal(pammsg_prompt_count(&m), 1);
	sample(&m, PAMMSG_RESULT);
	assert_int_equal(pammsg_prompt_count(&m), 0);
	assert_string_equal(pammsg_status_name(PAMMSG_STATUS_OK), "ok");
	assert_string_equal(
	    pammsg_status_name(PAMMSG_STATUS_AUTH_FAILED), "auth_failed");
	assert_string_equal(pammsg_status_name(PAMMSG_STATUS_ACCOUNT_EXPIRED),
	    "account_expired");
	assert_string_equal(pammsg_status_name(PAMMSG_STATUS_PASSWORD_EXPIRED),
	    "password_expired");
	assert_string_equal(
	    pammsg_status_name(PAMMSG_STATUS_ACCOUNT_LOCKED), "account_locked");
	assert_string_equal(
	    pammsg_status_name(PAMMSG_STATUS_PAM_ERROR), "pam_error");
	assert_string_equal(
	    pammsg_status_name(PAMMSG_STATUS_TIMEOUT), "timeout");
	assert_string_equal(pammsg_status_name(42), "unknown");
	assert_string_equal(pammsg_style_name(PAMMSG_ECHO_OFF), "echo_off");
	assert_string_equal(pammsg_style_name(PAMMSG_ECHO_ON), "echo_on");
	assert_string_equal(pammsg_style_name(PAMMSG_ERROR_MSG), "error");
	assert_string_equal(pammsg_style_name(PAMMSG_TEXT_INFO), "info");
	assert_string_equal(pammsg_style_name(0), "unknown");
	pammsg_clear(NULL);
}

static void
pam_child_status__when_each_pam_code__documented_reason(void **state)
{
	assert_int_equal(pam_child_status(PAM_SUCCESS), PAMMSG_STATUS_OK);
	assert_int_equal(
	    pam_child_status(PAM_AUTH_ERR), PAMMSG_STATUS_AUTH_FAILED);
	/* Never tell the client that the user does not exist. */
	assert_int_equal(
	    pam_child_status(PAM_USER_UNKNOWN), PAMMSG_STATUS_AUTH_FAILED);
	assert_int_equal(
	    pam_child_status(PAM_ACCT_EXPIRED), PAMMSG_STATUS_ACCOUNT_EXPIRED);
	assert_int_equal(pam_child_status(PAM_NEW_AUTHTOK_REQD),
	    PAMMSG_STATUS_PASSWORD_EXPIRED);
	assert_int_equal(pam_child_status(PAM_AUTHTOK_EXPIRED),
	    PAMMSG_STATUS_PASSWORD_EXPIRED);
	assert_int_equal(
	    pam_child_status(PAM_PERM_DENIED), PAMMSG_STATUS_ACCOUNT_LOCKED);
	assert_int_equal(
	    pam_child_status(PAM_MAXTRIES), PAMMSG_STATUS_ACCOUNT_LOCKED);
	assert_int_equal(
	    pam_child_status(PAM_CONV_ERR), PAMMSG_STATUS_PAM_ERROR);
	assert_int_equal(
	    pam_child_status(PAM_AUTHINFO_UNAVAIL), PAMMSG_STATUS_PAM_ERROR);
	assert_int_equal(
	    pam_child_status(PAM_SYSTEM_ERR), PAMMSG_STATUS_PAM_ERROR);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    pammsg_encode__when_each_type__parses_back_equal),
		cmocka_unit_test(
		    pammsg_parse__when_truncated_at_every_byte__need_more_nothing_consumed),
		cmocka_unit_test(
		    pammsg_parse__when_two_frames_back_to_back__one_per_call),
		cmocka_unit_test(
		    pammsg_parse__when_length_field_too_large__too_large_from_header),
		cmocka_unit_test(
		    pammsg_parse__when_bytes_after_fields__bad_length),
		cmocka_unit_test(
		    pammsg_parse__when_field_runs_past_frame__truncated),
		cmocka_unit_test(
		    pammsg_parse__when_unknown_type_style_or_status__unsupported),
		cmocka_unit_test(pammsg_parse__when_counts_out_of_range__error),
		cmocka_unit_test(
		    pammsg_parse__when_string_over_its_limit__too_large),
		cmocka_unit_test(
		    pammsg_parse__when_text_breaks_rules__bad_format),
		cmocka_unit_test(
		    pammsg_encode__when_message_breaks_rules__error_nothing_appended),
		cmocka_unit_test(
		    pammsg_encode__when_buffer_too_small__too_large_nothing_appended),
		cmocka_unit_test(
		    pammsg_encode_answers__when_valid__exact_wire_bytes),
		cmocka_unit_test(
		    pammsg_encode_answers__when_bad_arguments__error_nothing_appended),
		cmocka_unit_test(
		    pammsg_sanitize__when_bad_bytes_or_too_long__replaced_and_cut),
		cmocka_unit_test(pammsg_helpers__when_called__counts_and_names),
		cmocka_unit_test(
		    pam_child_status__when_each_pam_code__documented_reason),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
