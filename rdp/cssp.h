/*
 * cssp.h: CredSSP (MS-CSSP) messages as pure code: the TSRequest
 * (2.2.1), TSCredentials (2.2.1.2) with TSPasswordCreds (2.2.1.2.1) in
 * DER (der.h), and the public-key binding of 3.1.5 (the v5+ hashes over
 * the client nonce and the TLS SubjectPublicKey).
 *
 * No I/O, no allocation: parsed messages are views into the caller's
 * bytes; writers append to the caller's vbuf and append nothing on failure.
 * What the authentication package (NTLM, ...) puts in negoTokens, authInfo
 * and pubKeyAuth is opaque here.
 *
 *   TSRequest ::= SEQUENCE {
 *     version     [0] INTEGER,
 *     negoTokens  [1] NegoData OPTIONAL,      -- SEQUENCE OF SEQUENCE {
 *                                             --   negoToken [0] OCTET STRING }
 *     authInfo    [2] OCTET STRING OPTIONAL,
 *     pubKeyAuth  [3] OCTET STRING OPTIONAL,
 *     errorCode   [4] INTEGER OPTIONAL,       -- version 3 and later
 *     clientNonce [5] OCTET STRING OPTIONAL } -- version 5 and later, 32 bytes
 *   TSCredentials ::= SEQUENCE { credType [0] INTEGER,
 *                                credentials [1] OCTET STRING }
 *   TSPasswordCreds ::= SEQUENCE { domainName [0] OCTET STRING,
 *                                  userName [1] OCTET STRING,
 *                                  password [2] OCTET STRING }
 *
 * The tags are explicit. The parsers refuse fields out of order, repeated,
 * with a tag the grammar does not have (there is no extension marker),
 * errorCode below version 3 and clientNonce below version 5, and more than
 * one negoToken (no CredSSP peer sends two).
 */
#ifndef VDI_RDP_CSSP_H
#define VDI_RDP_CSSP_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "rdp/der.h"

/* The version we speak; the lowest that has the nonce binding (CVE-2018-
 * 0886 is fixed from 5 on: below it pubKeyAuth is not bound to a nonce). */
#define RDP_CSSP_VERSION        6
#define RDP_CSSP_VERSION_NONCE  5
#define RDP_CSSP_VERSION_ERRORS 3

#define RDP_CSSP_NONCE_LEN 32
#define RDP_CSSP_HASH_LEN  32 /* SHA-256 */

/* Caps on what a peer may send (bytes of the value). A whole TSRequest is
 * at most 64 KiB; an NTLM message is under 2 KiB and a Kerberos/SPNEGO
 * token with a large PAC stays under 48 KiB. */
#define RDP_CSSP_REQUEST_MAX      (64u * 1024u)
#define RDP_CSSP_TOKEN_MAX        (48u * 1024u)
#define RDP_CSSP_AUTH_INFO_MAX    (8u * 1024u)
#define RDP_CSSP_PUB_KEY_AUTH_MAX (8u * 1024u)
/* TSPasswordCreds strings, UTF-16LE bytes (so even): a 256-character
 * domain, a 512-character user name (a UPN), a 256-character password. */
#define RDP_CSSP_DOMAIN_MAX   512u
#define RDP_CSSP_USER_MAX     1024u
#define RDP_CSSP_PASSWORD_MAX 512u
#define RDP_CSSP_CREDS_MAX    4096u /* a whole TSCredentials */

/* TSCredentials.credType. Only passwords are supported. */
#define RDP_CSSP_CRED_PASSWORD     1
#define RDP_CSSP_CRED_SMARTCARD    2
#define RDP_CSSP_CRED_REMOTE_GUARD 6

/*
 * A TSRequest. When parsed, the views point into the parsed bytes (keep
 * them alive); to write one, set the has_ flags and the views
 * (vbuf_init_view) of what to send.
 */
struct rdp_cssp_request {
	uint32_t version;
	int has_nego_token;
	struct vbuf nego_token;
	int has_auth_info;
	struct vbuf auth_info;
	int has_pub_key_auth;
	struct vbuf pub_key_auth;
	int has_error_code;
	uint32_t error_code; /* an NTSTATUS */
	int has_client_nonce;
	uint8_t client_nonce[RDP_CSSP_NONCE_LEN];
};

/* TSCredentials with TSPasswordCreds: views of UTF-16LE strings (no NUL).
 * The password view points at secret bytes the caller owns and wipes. */
struct rdp_cssp_password_creds {
	struct vbuf domain;
	struct vbuf user;
	struct vbuf password;
};

/*
 * The size of the TSRequest at the front of a stream, from its first
 * bytes: 0 with *total set, VDI_ERR_NEED_MORE until the DER header is
 * there, VDI_ERR_BAD_FORMAT (not a SEQUENCE, indefinite or non-minimal
 * length) or VDI_ERR_TOO_LARGE (over RDP_CSSP_REQUEST_MAX).
 */
int rdp_cssp_frame(const struct vbuf *b, size_t *total) VDI_WUR;

/*
 * Parses the one TSRequest that b holds (exactly: trailing bytes are
 * VDI_ERR_BAD_LENGTH) and consumes it. Returns 0, VDI_ERR_TRUNCATED when
 * b ends before the message does, VDI_ERR_BAD_LENGTH when an inner length
 * runs past what holds it or leaves bytes over, VDI_ERR_BAD_FORMAT for a
 * wrong, repeated or out-of-order tag, a bad length or INTEGER form, a
 * field the version does not have or a nonce not 32 bytes long,
 * VDI_ERR_TOO_LARGE for a field over its cap, VDI_ERR_UNSUPPORTED for a
 * version below 2 or more than one negoToken. *req is cleared first.
 */
int rdp_cssp_parse_request(
    struct vbuf *b, struct rdp_cssp_request *req) VDI_WUR;

/* Appends the DER of req. VDI_ERR_INVALID_ARG for a version below 2, a
 * field the version does not have, or an empty negoToken; VDI_ERR_TOO_LARGE
 * for a field over its cap or when out has no room. */
int rdp_cssp_write_request(
    struct vbuf *out, const struct rdp_cssp_request *req) VDI_WUR;

/*
 * Parses a whole TSCredentials of credType password (b holds exactly it,
 * as decrypted from authInfo). Errors as rdp_cssp_parse_request(), plus
 * VDI_ERR_UNSUPPORTED for another credType and VDI_ERR_BAD_FORMAT for a
 * string of odd length. The views point into b.
 */
int rdp_cssp_parse_password_creds(
    struct vbuf *b, struct rdp_cssp_password_creds *c) VDI_WUR;

/*
 * Appends TSCredentials{credType 1, TSPasswordCreds} for the UTF-16LE
 * strings in c (lengths even and within the caps, else
 * VDI_ERR_INVALID_ARG / VDI_ERR_TOO_LARGE). out then holds the password:
 * vbuf_wipe() it once sent. On failure nothing stays appended (the bytes
 * that were are wiped).
 */
int rdp_cssp_write_password_creds(
    struct vbuf *out, const struct rdp_cssp_password_creds *c) VDI_WUR;

/*
 * The SubjectPublicKey of cert (the contents of the subjectPublicKey BIT
 * STRING of its SubjectPublicKeyInfo, what MS-CSSP 3.1.5 binds), appended
 * to out. VDI_ERR_INVALID_ARG without a key, VDI_ERR_TOO_LARGE when out
 * has no room.
 */
int rdp_cssp_subject_public_key(struct vbuf *out, X509 *cert) VDI_WUR;

/* The two directions of the binding hash (3.1.5, version 5 and later). */
enum rdp_cssp_binding {
	RDP_CSSP_CLIENT_TO_SERVER = 0,
	RDP_CSSP_SERVER_TO_CLIENT = 1,
};

/*
 * SHA-256("CredSSP Client-To-Server Binding Hash\0" or "...Server-To-
 * Client...\0" + nonce + spk) into out. Returns 0 or VDI_ERR_TLS.
 */
int rdp_cssp_binding_hash(enum rdp_cssp_binding dir,
    const uint8_t nonce[RDP_CSSP_NONCE_LEN], const unsigned char *spk,
    size_t spk_len, uint8_t out[RDP_CSSP_HASH_LEN]) VDI_WUR;

/*
 * What the client encrypts into its pubKeyAuth, appended to out: the
 * Client-To-Server hash from version 5 on, the SubjectPublicKey itself
 * below (versions 2..4).
 */
int rdp_cssp_client_binding(struct vbuf *out, uint32_t version,
    const uint8_t nonce[RDP_CSSP_NONCE_LEN], const unsigned char *spk,
    size_t spk_len) VDI_WUR;

/*
 * Checks the server's decrypted pubKeyAuth: from version 5 on it must be
 * the Server-To-Client hash, below it the SubjectPublicKey with its first
 * byte plus one. Returns 0 when it matches (compared in constant time),
 * VDI_ERR_DENIED when it does not, VDI_ERR_TLS when hashing fails.
 */
int rdp_cssp_check_server_binding(uint32_t version,
    const uint8_t nonce[RDP_CSSP_NONCE_LEN], const unsigned char *spk,
    size_t spk_len, const unsigned char *got, size_t got_len) VDI_WUR;

#endif
