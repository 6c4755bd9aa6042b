/* cssp.c: CredSSP TSRequest / TSCredentials DER and the public-key
 * binding (MS-CSSP 2.2.1, 3.1.5); see cssp.h. */
#include "config.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "rdp/cssp.h"

static const char c2s_magic[] = "CredSSP Client-To-Server Binding Hash";
static const char s2c_magic[] = "CredSSP Server-To-Client Binding Hash";

/* An inner element overrunning what holds it is a length error, not a
 * short read: only the outermost element can be cut by the stream. */
static int
inner(int r)
{
	return r == VDI_ERR_TRUNCATED ? VDI_ERR_BAD_LENGTH : r;
}

/* An element inside another: a required one that is not there at all is
 * a format error, one that runs past its holder a length error. */
static int
get_inner(struct vbuf *b, uint8_t tag, size_t max, struct vbuf *val)
{
	memset(val, 0, sizeof(*val));
	if (vbuf_len(b) == 0)
		return VDI_ERR_BAD_FORMAT;
	return inner(rdp_der_get_tlv(b, tag, max, val));
}

/* [tag] { OCTET STRING } of at most max bytes. */
static int
get_ctx_octets(struct vbuf *b, unsigned int n, size_t max, struct vbuf *val)
{
	struct vbuf ctx;
	int r;

	memset(val, 0, sizeof(*val));
	if ((r = get_inner(b, RDP_DER_CTX(n), RDP_DER_LEN_MAX, &ctx)) != 0)
		return r;
	if ((r = get_inner(&ctx, RDP_DER_OCTET_STRING, max, val)) != 0)
		return r;
	return vbuf_len(&ctx) != 0 ? VDI_ERR_BAD_LENGTH : 0;
}

/* [tag] { INTEGER } read as an unsigned value or as 32 bits. */
static int
get_ctx_int(struct vbuf *b, unsigned int n, int bits, uint32_t *v)
{
	struct vbuf ctx;
	int r;

	*v = 0;
	if ((r = get_inner(b, RDP_DER_CTX(n), RDP_DER_LEN_MAX, &ctx)) != 0)
		return r;
	if (vbuf_len(&ctx) == 0)
		return VDI_ERR_BAD_FORMAT;
	r = bits ? rdp_der_get_u32bits(&ctx, v) : rdp_der_get_uint(&ctx, v);
	if (r != 0)
		return inner(r);
	return vbuf_len(&ctx) != 0 ? VDI_ERR_BAD_LENGTH : 0;
}

/* NegoData with exactly one NegoDataItem. */
static int
get_nego_data(struct vbuf *b, struct vbuf *token)
{
	struct vbuf ctx, seq, item;
	int r;

	memset(token, 0, sizeof(*token));
	if ((r = get_inner(b, RDP_DER_CTX(1), RDP_DER_LEN_MAX, &ctx)) != 0)
		return r;
	if ((r = get_inner(&ctx, RDP_DER_SEQUENCE, RDP_DER_LEN_MAX, &seq)) != 0)
		return r;
	if (vbuf_len(&ctx) != 0)
		return VDI_ERR_BAD_LENGTH;
	if (vbuf_len(&seq) == 0)
		return VDI_ERR_BAD_FORMAT; /* no token at all */
	if ((r = get_inner(&seq, RDP_DER_SEQUENCE, RDP_DER_LEN_MAX, &item)) !=
	    0)
		return r;
	if (vbuf_len(&seq) != 0) {
		uint8_t t = 0;
		/* Another well-formed item, or garbage. */
		if (rdp_der_peek_tag(&seq, &t) == 0 && t == RDP_DER_SEQUENCE)
			return VDI_ERR_UNSUPPORTED;
		return VDI_ERR_BAD_LENGTH;
	}
	if ((r = get_ctx_octets(&item, 0, RDP_CSSP_TOKEN_MAX, token)) != 0)
		return r;
	if (vbuf_len(&item) != 0)
		return VDI_ERR_BAD_LENGTH;
	return 0;
}

int
rdp_cssp_frame(const struct vbuf *b, size_t *total)
{
	return rdp_der_peek_size(
	    b, RDP_DER_SEQUENCE, RDP_CSSP_REQUEST_MAX, total);
}

static int
parse_request_body(struct vbuf *seq, struct rdp_cssp_request *req)
{
	struct vbuf nonce;
	unsigned int last = 0, n;
	uint8_t tag;
	int r;

	if ((r = get_ctx_int(seq, 0, 0, &req->version)) != 0)
		return r;
	if (req->version < 2)
		return VDI_ERR_UNSUPPORTED;
	while (vbuf_len(seq) > 0) {
		if ((r = rdp_der_peek_tag(seq, &tag)) != 0)
			return r;
		n = tag & 0x1F;
		if ((tag & 0xE0) != 0xA0 || n == 0x1F || n <= last || n > 5)
			return VDI_ERR_BAD_FORMAT;
		last = n;
		switch (n) {
		case 1:
			r = get_nego_data(seq, &req->nego_token);
			req->has_nego_token = r == 0;
			break;
		case 2:
			r = get_ctx_octets(
			    seq, 2, RDP_CSSP_AUTH_INFO_MAX, &req->auth_info);
			req->has_auth_info = r == 0;
			break;
		case 3:
			r = get_ctx_octets(seq, 3, RDP_CSSP_PUB_KEY_AUTH_MAX,
			    &req->pub_key_auth);
			req->has_pub_key_auth = r == 0;
			break;
		case 4:
			if (req->version < RDP_CSSP_VERSION_ERRORS)
				return VDI_ERR_BAD_FORMAT;
			r = get_ctx_int(seq, 4, 1, &req->error_code);
			req->has_error_code = r == 0;
			break;
		default: /* 5 */
			if (req->version < RDP_CSSP_VERSION_NONCE)
				return VDI_ERR_BAD_FORMAT;
			if ((r = get_ctx_octets(seq, 5, 255, &nonce)) != 0)
				break;
			if (vbuf_len(&nonce) != RDP_CSSP_NONCE_LEN)
				return VDI_ERR_BAD_FORMAT;
			r = vbuf_get_bytes(
			    &nonce, req->client_nonce, RDP_CSSP_NONCE_LEN);
			req->has_client_nonce = r == 0;
			break;
		}
		if (r != 0)
			return r;
	}
	return 0;
}

int
rdp_cssp_parse_request(struct vbuf *b, struct rdp_cssp_request *req)
{
	struct vbuf start = *b, seq;
	int r;

	memset(req, 0, sizeof(*req));
	if ((r = rdp_der_get_tlv(
		 b, RDP_DER_SEQUENCE, RDP_CSSP_REQUEST_MAX, &seq)) != 0)
		goto out;
	if (vbuf_len(b) != 0) {
		r = VDI_ERR_BAD_LENGTH;
		goto out;
	}
	r = parse_request_body(&seq, req);
out:
	if (r != 0) {
		*b = start;
		memset(req, 0, sizeof(*req));
	}
	return r;
}

/* --- writers -------------------------------------------------------------- */

/* Size of [n] { OCTET STRING of len }. */
static size_t
ctx_octets_size(size_t len)
{
	return rdp_der_tlv_size(rdp_der_tlv_size(len));
}

static int
put_ctx_octets(struct vbuf *out, unsigned int n, const struct vbuf *v)
{
	int r;

	if ((r = rdp_der_put_header(
		 out, RDP_DER_CTX(n), rdp_der_tlv_size(vbuf_len(v)))) != 0)
		return r;
	return rdp_der_put_tlv(
	    out, RDP_DER_OCTET_STRING, vbuf_ptr(v), vbuf_len(v));
}

/* Takes back (and wipes) what a failed writer appended past before. */
static void
undo(struct vbuf *out, size_t before)
{
	size_t n = vbuf_len(out) - before;
	unsigned char *p = vbuf_mutable_ptr(out);

	if (n == 0 || p == NULL)
		return;
	OPENSSL_cleanse(p + before, n);
	if (vbuf_consume_end(out, n) != 0)
		return;
}

static int
check_view(int has, const struct vbuf *v, size_t max)
{
	if (!has)
		return 0;
	return vbuf_len(v) > max ? VDI_ERR_TOO_LARGE : 0;
}

int
rdp_cssp_write_request(struct vbuf *out, const struct rdp_cssp_request *req)
{
	size_t body, nego_item = 0, before = vbuf_len(out);
	struct vbuf nonce;
	unsigned char *p;
	int r;

	if (req->version < 2 ||
	    (req->has_error_code && req->version < RDP_CSSP_VERSION_ERRORS) ||
	    (req->has_client_nonce && req->version < RDP_CSSP_VERSION_NONCE) ||
	    (req->has_nego_token && vbuf_len(&req->nego_token) == 0))
		return VDI_ERR_INVALID_ARG;
	if ((r = check_view(req->has_nego_token, &req->nego_token,
		 RDP_CSSP_TOKEN_MAX)) != 0 ||
	    (r = check_view(req->has_auth_info, &req->auth_info,
		 RDP_CSSP_AUTH_INFO_MAX)) != 0 ||
	    (r = check_view(req->has_pub_key_auth, &req->pub_key_auth,
		 RDP_CSSP_PUB_KEY_AUTH_MAX)) != 0)
		return r;

	body = rdp_der_tlv_size(rdp_der_uint_size(req->version));
	if (req->has_nego_token) {
		/* SEQUENCE { [0] { OCTET STRING } } */
		nego_item = rdp_der_tlv_size(
		    ctx_octets_size(vbuf_len(&req->nego_token)));
		body += rdp_der_tlv_size(rdp_der_tlv_size(nego_item));
	}
	if (req->has_auth_info)
		body += ctx_octets_size(vbuf_len(&req->auth_info));
	if (req->has_pub_key_auth)
		body += ctx_octets_size(vbuf_len(&req->pub_key_auth));
	if (req->has_error_code)
		body += rdp_der_tlv_size(rdp_der_i32_size(req->error_code));
	if (req->has_client_nonce)
		body += ctx_octets_size(RDP_CSSP_NONCE_LEN);
	if (body > RDP_CSSP_REQUEST_MAX ||
	    rdp_der_tlv_size(body) > vbuf_avail(out))
		return VDI_ERR_TOO_LARGE;
	if ((r = vbuf_space(out, rdp_der_tlv_size(body), &p)) != 0)
		return r;

	if ((r = rdp_der_put_header(out, RDP_DER_SEQUENCE, body)) != 0 ||
	    (r = rdp_der_put_header(
		 out, RDP_DER_CTX(0), rdp_der_uint_size(req->version))) != 0 ||
	    (r = rdp_der_put_uint(out, req->version)) != 0)
		goto out;
	if (req->has_nego_token &&
	    ((r = rdp_der_put_header(
		  out, RDP_DER_CTX(1), rdp_der_tlv_size(nego_item))) != 0 ||
		(r = rdp_der_put_header(out, RDP_DER_SEQUENCE, nego_item)) !=
		    0 ||
		(r = rdp_der_put_header(out, RDP_DER_SEQUENCE,
		     ctx_octets_size(vbuf_len(&req->nego_token)))) != 0 ||
		(r = put_ctx_octets(out, 0, &req->nego_token)) != 0))
		goto out;
	if (req->has_auth_info &&
	    (r = put_ctx_octets(out, 2, &req->auth_info)) != 0)
		goto out;
	if (req->has_pub_key_auth &&
	    (r = put_ctx_octets(out, 3, &req->pub_key_auth)) != 0)
		goto out;
	if (req->has_error_code &&
	    ((r = rdp_der_put_header(out, RDP_DER_CTX(4),
		  rdp_der_i32_size(req->error_code))) != 0 ||
		(r = rdp_der_put_i32(out, req->error_code)) != 0))
		goto out;
	if (req->has_client_nonce) {
		vbuf_init_view(&nonce, req->client_nonce, RDP_CSSP_NONCE_LEN);
		if ((r = put_ctx_octets(out, 5, &nonce)) != 0)
			goto out;
	}
out:
	if (r != 0)
		undo(out, before);
	return r;
}

/* --- TSCredentials ---------------------------------------------------------
 */

static int
get_utf16(struct vbuf *b, unsigned int n, size_t max, struct vbuf *v)
{
	int r;

	if ((r = get_ctx_octets(b, n, max, v)) != 0)
		return r;
	if (vbuf_len(v) % 2 != 0) {
		memset(v, 0, sizeof(*v));
		return VDI_ERR_BAD_FORMAT;
	}
	return 0;
}

static int
parse_creds_body(struct vbuf *seq, struct rdp_cssp_password_creds *c)
{
	struct vbuf octets, pw;
	uint32_t type;
	int r;

	if ((r = get_ctx_int(seq, 0, 0, &type)) != 0)
		return r;
	if (type != RDP_CSSP_CRED_PASSWORD)
		return VDI_ERR_UNSUPPORTED;
	if ((r = get_ctx_octets(seq, 1, RDP_CSSP_CREDS_MAX, &octets)) != 0)
		return r;
	if (vbuf_len(seq) != 0)
		return VDI_ERR_BAD_LENGTH;
	/* TSPasswordCreds inside the OCTET STRING: exactly one SEQUENCE. */
	if ((r = get_inner(&octets, RDP_DER_SEQUENCE, RDP_DER_LEN_MAX, &pw)) !=
	    0)
		return r;
	if (vbuf_len(&octets) != 0)
		return VDI_ERR_BAD_LENGTH;
	if ((r = get_utf16(&pw, 0, RDP_CSSP_DOMAIN_MAX, &c->domain)) != 0 ||
	    (r = get_utf16(&pw, 1, RDP_CSSP_USER_MAX, &c->user)) != 0 ||
	    (r = get_utf16(&pw, 2, RDP_CSSP_PASSWORD_MAX, &c->password)) != 0)
		return r;
	return vbuf_len(&pw) != 0 ? VDI_ERR_BAD_LENGTH : 0;
}

int
rdp_cssp_parse_password_creds(struct vbuf *b, struct rdp_cssp_password_creds *c)
{
	struct vbuf start = *b, seq;
	int r;

	memset(c, 0, sizeof(*c));
	if ((r = rdp_der_get_tlv(
		 b, RDP_DER_SEQUENCE, RDP_CSSP_CREDS_MAX, &seq)) != 0)
		goto out;
	if (vbuf_len(b) != 0) {
		r = VDI_ERR_BAD_LENGTH;
		goto out;
	}
	r = parse_creds_body(&seq, c);
out:
	if (r != 0) {
		*b = start;
		memset(c, 0, sizeof(*c));
	}
	return r;
}

int
rdp_cssp_write_password_creds(
    struct vbuf *out, const struct rdp_cssp_password_creds *c)
{
	size_t pw, octets, body, before = vbuf_len(out);
	unsigned char *p;
	int r;

	if (vbuf_len(&c->domain) % 2 != 0 || vbuf_len(&c->user) % 2 != 0 ||
	    vbuf_len(&c->password) % 2 != 0)
		return VDI_ERR_INVALID_ARG;
	if (vbuf_len(&c->domain) > RDP_CSSP_DOMAIN_MAX ||
	    vbuf_len(&c->user) > RDP_CSSP_USER_MAX ||
	    vbuf_len(&c->password) > RDP_CSSP_PASSWORD_MAX)
		return VDI_ERR_TOO_LARGE;
	pw = ctx_octets_size(vbuf_len(&c->domain)) +
	    ctx_octets_size(vbuf_len(&c->user)) +
	    ctx_octets_size(vbuf_len(&c->password));
	octets = rdp_der_tlv_size(pw);
	body = rdp_der_tlv_size(rdp_der_uint_size(RDP_CSSP_CRED_PASSWORD)) +
	    ctx_octets_size(octets);
	if (body > RDP_CSSP_CREDS_MAX ||
	    rdp_der_tlv_size(body) > vbuf_avail(out))
		return VDI_ERR_TOO_LARGE;
	/* All the room at once: no reallocation leaves a copy behind. */
	if ((r = vbuf_space(out, rdp_der_tlv_size(body), &p)) != 0)
		return r;
	if ((r = rdp_der_put_header(out, RDP_DER_SEQUENCE, body)) != 0 ||
	    (r = rdp_der_put_header(out, RDP_DER_CTX(0),
		 rdp_der_uint_size(RDP_CSSP_CRED_PASSWORD))) != 0 ||
	    (r = rdp_der_put_uint(out, RDP_CSSP_CRED_PASSWORD)) != 0 ||
	    (r = rdp_der_put_header(
		 out, RDP_DER_CTX(1), rdp_der_tlv_size(octets))) != 0 ||
	    (r = rdp_der_put_header(out, RDP_DER_OCTET_STRING, octets)) != 0 ||
	    (r = rdp_der_put_header(out, RDP_DER_SEQUENCE, pw)) != 0 ||
	    (r = put_ctx_octets(out, 0, &c->domain)) != 0 ||
	    (r = put_ctx_octets(out, 1, &c->user)) != 0 ||
	    (r = put_ctx_octets(out, 2, &c->password)) != 0)
		undo(out, before);
	return r;
}

/* --- public-key binding (3.1.5) ------------------------------------------- */

int
rdp_cssp_subject_public_key(struct vbuf *out, X509 *cert)
{
	ASN1_BIT_STRING *bits;
	const unsigned char *data;
	int len;

	if (cert == NULL || (bits = X509_get0_pubkey_bitstr(cert)) == NULL)
		return VDI_ERR_INVALID_ARG;
	data = ASN1_STRING_get0_data(bits);
	len = ASN1_STRING_length(bits);
	if (data == NULL || len <= 0)
		return VDI_ERR_INVALID_ARG;
	if ((size_t)len > vbuf_avail(out))
		return VDI_ERR_TOO_LARGE;
	return vbuf_put(out, data, (size_t)len);
}

int
rdp_cssp_binding_hash(enum rdp_cssp_binding dir,
    const uint8_t nonce[RDP_CSSP_NONCE_LEN], const unsigned char *spk,
    size_t spk_len, uint8_t out[RDP_CSSP_HASH_LEN])
{
	const char *magic =
	    dir == RDP_CSSP_CLIENT_TO_SERVER ? c2s_magic : s2c_magic;
	EVP_MD_CTX *md;
	unsigned int n = 0;
	int ok;

	memset(out, 0, RDP_CSSP_HASH_LEN);
	if ((md = EVP_MD_CTX_new()) == NULL)
		return VDI_ERR_TLS;
	/* The magic string includes its terminating NUL. */
	ok = EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(md, magic, strlen(magic) + 1) == 1 &&
	    EVP_DigestUpdate(md, nonce, RDP_CSSP_NONCE_LEN) == 1 &&
	    EVP_DigestUpdate(md, spk, spk_len) == 1 &&
	    EVP_DigestFinal_ex(md, out, &n) == 1 && n == RDP_CSSP_HASH_LEN;
	EVP_MD_CTX_free(md);
	if (!ok) {
		memset(out, 0, RDP_CSSP_HASH_LEN);
		return VDI_ERR_TLS;
	}
	return 0;
}

int
rdp_cssp_client_binding(struct vbuf *out, uint32_t version,
    const uint8_t nonce[RDP_CSSP_NONCE_LEN], const unsigned char *spk,
    size_t spk_len)
{
	uint8_t h[RDP_CSSP_HASH_LEN];
	int r;

	if (version < RDP_CSSP_VERSION_NONCE)
		return vbuf_put(out, spk, spk_len);
	if ((r = rdp_cssp_binding_hash(
		 RDP_CSSP_CLIENT_TO_SERVER, nonce, spk, spk_len, h)) != 0)
		return r;
	r = vbuf_put(out, h, sizeof(h));
	OPENSSL_cleanse(h, sizeof(h));
	return r;
}

int
rdp_cssp_check_server_binding(uint32_t version,
    const uint8_t nonce[RDP_CSSP_NONCE_LEN], const unsigned char *spk,
    size_t spk_len, const unsigned char *got, size_t got_len)
{
	uint8_t h[RDP_CSSP_HASH_LEN];
	int r;

	if (version >= RDP_CSSP_VERSION_NONCE) {
		if ((r = rdp_cssp_binding_hash(RDP_CSSP_SERVER_TO_CLIENT, nonce,
			 spk, spk_len, h)) != 0)
			return r;
		r = got_len == sizeof(h) &&
			CRYPTO_memcmp(got, h, sizeof(h)) == 0
		    ? 0
		    : VDI_ERR_DENIED;
		OPENSSL_cleanse(h, sizeof(h));
		return r;
	}
	/* Versions 2..4: the key with its first byte incremented. */
	if (spk_len == 0 || got_len != spk_len ||
	    got[0] != (unsigned char)(spk[0] + 1) ||
	    CRYPTO_memcmp(got + 1, spk + 1, spk_len - 1) != 0)
		return VDI_ERR_DENIED;
	return 0;
}
