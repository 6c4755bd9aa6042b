/*
 * privmsg.h: the frame layout that the privilege-separation codecs share:
 * the broker's worker / monitor / PAM child messages (broker/pammsg.h)
 * and the gateway's key-process messages (gateway/keymsg.h). Pure (no
 * sockets); each codec keeps its own message types, fields and limits and
 * uses these for the framing and the field encoding:
 *
 *   u32be  length of what follows (1..frame_max)
 *   u8     type
 *   ...    fields: u8 / i32be integers, and strings as u16be length +
 *          that many bytes
 */
#ifndef VDI_PRIVMSG_H
#define VDI_PRIVMSG_H

#include <stddef.h>
#include <stdint.h>

#include "vbuf.h"
#include "vdierr.h"

#define PRIVMSG_HEADER_LEN 4

/* Reads one frame's body (the bytes after the length: type byte and
 * fields) into msg, writes msg's fields (after the type byte), and checks
 * msg against the codec's rules. Each returns 0 or an error code. */
typedef int (*privmsg_body_fn)(struct vbuf *body, void *msg);
typedef int (*privmsg_fields_fn)(struct vbuf *out, const void *msg);
typedef int (*privmsg_check_fn)(const void *msg);

/*
 * Parses the frame at the front of in with body (which fills msg, msglen
 * bytes large, wiped on entry), then refuses bytes left over after the
 * fields (VDI_ERR_BAD_LENGTH), then checks msg with check. Returns 0 with
 * the frame consumed, VDI_ERR_NEED_MORE when it is not complete yet,
 * VDI_ERR_TOO_LARGE when its length exceeds frame_max, VDI_ERR_BAD_LENGTH
 * for length 0, or what body or check returned; on any error nothing is
 * consumed and msg is wiped.
 */
int privmsg_parse(struct vbuf *in, size_t frame_max, privmsg_body_fn body,
    privmsg_check_fn check, void *msg, size_t msglen) VDI_WUR;

/* Checks msg, then appends its frame of type with fields (at most
 * frame_max bytes of body). Returns 0, or check's or the writer's error
 * with nothing appended (privmsg_frame_end()). */
int privmsg_encode(struct vbuf *out, size_t frame_max, uint8_t type,
    privmsg_check_fn check, privmsg_fields_fn fields, const void *msg) VDI_WUR;

/* An i32be field (the ERROR messages' code). */
int privmsg_get_i32(struct vbuf *b, int32_t *v) VDI_WUR;
int privmsg_put_i32(struct vbuf *b, int32_t v) VDI_WUR;

/*
 * Reads a string field of at most max bytes into out; *len gets its
 * length. A text field (text set) refuses a NUL byte and is
 * NUL-terminated (out holds max + 1 bytes); a binary one takes any byte
 * and is not terminated. Returns 0, VDI_ERR_TOO_LARGE (longer than max),
 * VDI_ERR_TRUNCATED (past the end of b), VDI_ERR_BAD_FORMAT (NUL in text)
 * or a vbuf error.
 */
int privmsg_get_field(
    struct vbuf *b, size_t max, void *out, size_t *len, int text) VDI_WUR;

/* Appends a string field (len <= UINT16_MAX, else VDI_ERR_TOO_LARGE). */
int privmsg_put_field(struct vbuf *b, const void *p, size_t len) VDI_WUR;

/* Starts a frame in b: a length placeholder and the type byte. *start is
 * where the frame begins in b's unread data, for privmsg_frame_end(). */
int privmsg_frame_begin(struct vbuf *b, uint8_t type, size_t *start) VDI_WUR;

/*
 * Ends the frame begun at start: with r == 0 fills in its length (a body
 * over frame_max is VDI_ERR_TOO_LARGE); on error (r != 0, or that one)
 * wipes and removes the partial frame, since it may hold a secret.
 * Returns r, the length error, or VDI_ERR_INTERNAL if the frame could not
 * be removed.
 */
int privmsg_frame_end(
    struct vbuf *b, size_t start, size_t frame_max, int r) VDI_WUR;

/* Defines static prefix_parse_any() and prefix_encode_any(), prefix_parse()
 * and prefix_encode() taking the message as void *, for code that drives
 * the codecs alike (the shared unit tests and fuzzers). */
#define PRIVMSG_ANY_CODEC(prefix)                                              \
	static int prefix##_parse_any(struct vbuf *in, void *m)                \
	{                                                                      \
		return prefix##_parse(in, m);                                  \
	}                                                                      \
	static int prefix##_encode_any(struct vbuf *out, const void *m)        \
	{                                                                      \
		return prefix##_encode(out, m);                                \
	}

/* 1 when the len bytes at s are base64url characters (and '.' when dots
 * is set), else 0. */
int privmsg_b64url_ok(const char *s, size_t len, int dots);

#endif
