/*
 * privmsg_test.h: what the unit tests of the two privilege-separation
 * codecs (test_pammsg.c, test_keymsg.c) share: raw frames built by hand,
 * and the checks every codec of common/privmsg.h must pass for each of
 * its message types (cmocka assertions).
 */
#ifndef VDI_TEST_PRIVMSG_TEST_H
#define VDI_TEST_PRIVMSG_TEST_H

#include <stddef.h>
#include <stdint.h>

#include "vbuf.h"

struct privmsg_test_codec {
	int (*parse)(struct vbuf *in, void *msg);
	int (*encode)(struct vbuf *out, const void *msg);
	void (*sample)(void *msg, int type); /* one valid message of type */
	const int *types;                    /* every message type */
	size_t ntypes;
	size_t msg_size;  /* sizeof the codec's message struct */
	size_t frame_max; /* its largest frame body */
};

/* Writes a frame to out (room for PRIVMSG_HEADER_LEN + 1 + len bytes):
 * the length header, type, then len bytes of body. Returns its size. */
size_t privmsg_test_frame(
    unsigned char *out, uint8_t type, const void *body, size_t len);

/* Parses the frame of type and body (len <= frame_max + 64) and returns
 * the parser's result, asserting that an error consumed nothing and a
 * success everything. */
int privmsg_test_parse_raw(const struct privmsg_test_codec *c, uint8_t type,
    const void *body, size_t len);

/* For each type: the sample encodes and parses back equal, using up the
 * frame. */
void privmsg_test_round_trip(const struct privmsg_test_codec *c);

/* For each type: every strict prefix of the sample's frame is
 * VDI_ERR_NEED_MORE, consumes nothing and leaves the message cleared. */
void privmsg_test_truncations(const struct privmsg_test_codec *c);

#endif
