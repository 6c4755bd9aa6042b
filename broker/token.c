/* token.c: gateway token claims, reconnect tickets, random ids. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "b64url.h"
#include "policy.h"
#include "token.h"

#define JTI_BYTES 16

static void
hex(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0xF];
	}
	out[2 * n] = '\0';
}

int
token_random_id(char out[TOKEN_ID_HEX])
{
	unsigned char r[16];

	out[0] = '\0';
	if (RAND_bytes(r, sizeof(r)) != 1)
		return VDI_ERR_TLS;
	hex(r, sizeof(r), out);
	return 0;
}

static int
sha256_hex(const void *data, size_t len, char out[TOKEN_HASH_HEX])
{
	unsigned char h[32];
	unsigned int hl = 0;

	out[0] = '\0';
	if (EVP_Digest(data, len, h, &hl, EVP_sha256(), NULL) != 1 || hl != 32)
		return VDI_ERR_TLS;
	hex(h, 32, out);
	return 0;
}

int
token_ticket_new(char ticket[TOKEN_TICKET_SIZE], char hash_hex[TOKEN_HASH_HEX])
{
	unsigned char r[32];
	int rc;

	ticket[0] = '\0';
	hash_hex[0] = '\0';
	if (RAND_bytes(r, sizeof(r)) != 1)
		return VDI_ERR_TLS;
	rc = b64url_encode(r, sizeof(r), ticket, TOKEN_TICKET_SIZE);
	OPENSSL_cleanse(r, sizeof(r));
	if (rc != 0)
		return rc;
	return sha256_hex(ticket, strlen(ticket), hash_hex);
}

int
token_ticket_hash(const char *ticket, char hash_hex[TOKEN_HASH_HEX])
{
	unsigned char raw[32];
	size_t n = 0;
	int r;

	hash_hex[0] = '\0';
	if (ticket == NULL || strlen(ticket) != TOKEN_TICKET_SIZE - 1)
		return VDI_ERR_BAD_FORMAT;
	/* Must be canonical base64url of 32 bytes. */
	r = b64url_decode(ticket, strlen(ticket), raw, sizeof(raw), &n);
	OPENSSL_cleanse(raw, sizeof(raw));
	if (r != 0 || n != sizeof(raw))
		return VDI_ERR_BAD_FORMAT;
	return sha256_hex(ticket, strlen(ticket), hash_hex);
}

static int
set_str(json_t *o, const char *k, const char *v)
{
	return json_object_set_new(o, k, json_string(v)) == 0 ? 0
							      : VDI_ERR_ALLOC;
}

static int
set_int(json_t *o, const char *k, int64_t v)
{
	return json_object_set_new(o, k, json_integer(v)) == 0 ? 0
							       : VDI_ERR_ALLOC;
}

int
token_gateway_claims(const struct token_params *tp, json_t **out)
{
	unsigned char jti_raw[JTI_BYTES];
	char jti[32], pin[48], dst[300];
	json_t *o = NULL, *ch = NULL, *cnf = NULL;
	int r = VDI_ERR_ALLOC;

	*out = NULL;
	if (tp->issuer == NULL || tp->audience == NULL || tp->user == NULL ||
	    tp->tenant == NULL || tp->session_id == NULL ||
	    tp->desktop_host == NULL || tp->desktop_port == 0 ||
	    tp->security == NULL || tp->device_x5t == NULL ||
	    tp->lifetime == 0 || tp->lifetime > 60 || tp->now <= 0 ||
	    tp->deadline < 0 ||
	    (strcmp(tp->security, "tls") != 0 &&
		strcmp(tp->security, "nla") != 0))
		return VDI_ERR_INVALID_ARG;
	if (strchr(tp->desktop_host, ':') != NULL)
		snprintf(dst, sizeof(dst), "[%s]:%u", tp->desktop_host,
		    tp->desktop_port);
	else
		snprintf(dst, sizeof(dst), "%s:%u", tp->desktop_host,
		    tp->desktop_port);
	if (RAND_bytes(jti_raw, sizeof(jti_raw)) != 1)
		return VDI_ERR_TLS;
	if ((r = b64url_encode(jti_raw, sizeof(jti_raw), jti, sizeof(jti))) !=
	    0)
		return r;
	r = VDI_ERR_ALLOC;
	if ((o = json_object()) == NULL || (ch = json_array()) == NULL ||
	    (cnf = json_object()) == NULL)
		goto out;
	if (set_str(o, "iss", tp->issuer) || set_str(o, "aud", tp->audience) ||
	    set_int(o, "iat", tp->now) || set_int(o, "nbf", tp->now) ||
	    set_int(o, "exp", tp->now + tp->lifetime) ||
	    set_str(o, "jti", jti) || set_str(o, "sub", tp->user) ||
	    set_str(o, "tid", tp->tenant) ||
	    set_str(o, "sid", tp->session_id) || set_str(o, "dst", dst) ||
	    set_str(o, "sec", tp->security) || set_int(o, "idle", tp->idle))
		goto out;
	/* The session's max_session deadline: gateways refuse the token at
	 * and after it, and cut the tunnel when it comes. */
	if (tp->deadline > 0 && set_int(o, "mxs", tp->deadline))
		goto out;
	if (tp->pin != NULL) {
		if ((r = b64url_encode(tp->pin, 32, pin, sizeof(pin))) != 0)
			goto out;
		r = VDI_ERR_ALLOC;
		if (set_str(o, "dpin", pin))
			goto out;
	}
	/* Display and input always; audio_out only when the policy says. */
	if (json_array_append_new(ch, json_string("display")) != 0 ||
	    json_array_append_new(ch, json_string("input")) != 0)
		goto out;
	if ((tp->channels & POLICY_CH_AUDIO_OUT) &&
	    json_array_append_new(ch, json_string("audio_out")) != 0)
		goto out;
	if (json_object_set(o, "ch", ch) != 0)
		goto out;
	if (set_str(cnf, "x5t#S256", tp->device_x5t) ||
	    json_object_set(o, "cnf", cnf) != 0)
		goto out;
	if (tp->cred != NULL && set_str(o, "cred", tp->cred))
		goto out;
	*out = o;
	o = NULL;
	r = 0;
out:
	json_decref(ch);
	json_decref(cnf);
	json_decref(o);
	return r;
}
