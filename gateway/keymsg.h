/*
 * keymsg.h: the messages between vdi-gatewayd and its key process, as a
 * pure codec (bytes in, struct or verdict out; no sockets here).
 *
 *   gateway (threads that parse RDP)  <-- socketpair -->  key process
 *       UNSEAL, SIGN                                         PLAIN, SIGNED,
 *                                                            READY, ERROR
 *
 * Every message is one frame (the layout of common/privmsg.h):
 *
 *   u32be  length of what follows (1..KEYMSG_FRAME_MAX)
 *   u8     type (enum keymsg_type)
 *   ...    fields of that type, in the order below
 *
 * Fields are u8 / i32be integers and byte strings (u16be length + bytes).
 * A frame must be used up exactly by its fields; every length has a hard
 * maximum, a longer one is an error, never cut. The key process parses
 * what the less trusted gateway sends, so the layout is fixed, small and
 * parsed with vbuf alone (no allocation, no recursion).
 */
#ifndef VDI_GATEWAY_KEYMSG_H
#define VDI_GATEWAY_KEYMSG_H

#include <stddef.h>
#include <stdint.h>

#include "privmsg.h"
#include "vbuf.h"
#include "vdierr.h"

#define KEYMSG_HEADER_LEN PRIVMSG_HEADER_LEN
#define KEYMSG_FRAME_MAX  4096
/* UNSEAL: sealed text (base64url, SEAL_TEXT_MAX - 1), AAD (the sid). */
#define KEYMSG_SEALED_MAX 1411
#define KEYMSG_AAD_MAX    256
/* PLAIN: the opened credentials. */
#define KEYMSG_PLAIN_MAX 1024
/* SIGN input (an ECDSA digest, or an RSA block of up to 4096 bits) and
 * output (DER ECDSA signature or RSA block). */
#define KEYMSG_SIGN_IN_MAX  512
#define KEYMSG_SIGN_OUT_MAX 512

enum keymsg_type {
	/* gateway -> key: open sealed credentials. Fields: string aad
	 * (0..KEYMSG_AAD_MAX), string sealed (1..KEYMSG_SEALED_MAX,
	 * base64url). */
	KEYMSG_UNSEAL = 1,
	/* key -> gateway: fields: string plain (1..KEYMSG_PLAIN_MAX). */
	KEYMSG_PLAIN = 2,
	/* gateway -> key: a private-key operation with the inner TLS key.
	 * Fields: u8 alg (enum keymsg_alg), u8 padding (RSA: RSA_*_PADDING
	 * of OpenSSL, 1 PKCS#1 or 3 none; ECDSA: 0), string input
	 * (1..KEYMSG_SIGN_IN_MAX). */
	KEYMSG_SIGN = 3,
	/* key -> gateway: fields: string output (1..KEYMSG_SIGN_OUT_MAX). */
	KEYMSG_SIGNED = 4,
	/* key -> gateway, once after start: fields: u8 flags
	 * (KEYMSG_HAVE_*). */
	KEYMSG_READY = 5,
	/* key -> gateway: fields: i32be code (a negative VDI_ERR_*). */
	KEYMSG_ERROR = 6,
};

enum keymsg_alg {
	KEYMSG_ALG_ECDSA = 1, /* input: a digest; output: DER ECDSA-Sig */
	KEYMSG_ALG_RSA = 2,   /* input: RSA_size bytes; raw private op */
};

#define KEYMSG_RSA_PKCS1 1 /* RSA_PKCS1_PADDING */
#define KEYMSG_RSA_NONE  3 /* RSA_NO_PADDING (PSS is encoded by OpenSSL) */

#define KEYMSG_HAVE_SEAL  0x01
#define KEYMSG_HAVE_INNER 0x02

/* One decoded message; nothing points into the input. May hold opened
 * credentials: wipe it with keymsg_clear(). */
struct keymsg {
	enum keymsg_type type;
	union {
		struct {
			size_t aad_len, sealed_len;
			unsigned char aad[KEYMSG_AAD_MAX];
			char sealed[KEYMSG_SEALED_MAX + 1];
		} unseal;
		struct {
			size_t len;
			unsigned char data[KEYMSG_PLAIN_MAX];
		} plain;
		struct {
			uint8_t alg, padding;
			size_t len;
			unsigned char in[KEYMSG_SIGN_IN_MAX];
		} sign;
		struct {
			size_t len;
			unsigned char out[KEYMSG_SIGN_OUT_MAX];
		} signed_;
		struct {
			uint8_t flags;
		} ready;
		struct {
			int32_t code;
		} error;
	} u;
};

/* Wipes m. NULL is accepted. */
void keymsg_clear(struct keymsg *m);

/* Parses one frame from the front of in into out (cleared on entry).
 * Returns 0 (frame consumed), VDI_ERR_NEED_MORE (incomplete: nothing
 * consumed), VDI_ERR_TOO_LARGE (a length over its limit, known from the
 * header alone for the frame), VDI_ERR_BAD_LENGTH (length 0, or bytes left
 * after the fields), VDI_ERR_TRUNCATED (a field runs past the frame),
 * VDI_ERR_UNSUPPORTED (unknown type, algorithm or padding) or
 * VDI_ERR_BAD_FORMAT (empty required field, bad base64url, unknown flag,
 * non-negative error code). On error nothing is consumed and out is
 * cleared; the stream is unusable. */
int keymsg_parse(struct vbuf *in, struct keymsg *out) VDI_WUR;

/* Appends m's frame to out after the same checks as the parser, so that
 * whatever it writes parses back equal. On error nothing is appended. */
int keymsg_encode(struct vbuf *out, const struct keymsg *m) VDI_WUR;

/* Appends an ERROR frame with code (< 0). */
int keymsg_encode_error(struct vbuf *out, int code) VDI_WUR;

#endif
