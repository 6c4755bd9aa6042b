/*
 * privmsg_fuzz.h: the stream check that the fuzzers of the two
 * privilege-separation codecs (fuzz_pammsg.c, fuzz_keymsg.c) share.
 *
 * The input is read as a stream of frames, as the processes read their
 * sockets. For every frame that parses: the encoder writes back exactly
 * the bytes that were read (one encoding per message), the re-encoded
 * frame parses to an equal message, and every strict prefix of the frame
 * (up to 600 bytes, to keep executions fast) is VDI_ERR_NEED_MORE with
 * nothing consumed. A failed parse consumes nothing and leaves the
 * message cleared. Any broken rule aborts.
 */
#ifndef VDI_FUZZ_PRIVMSG_FUZZ_H
#define VDI_FUZZ_PRIVMSG_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "vbuf.h"

struct privmsg_fuzz_codec {
	int (*parse)(struct vbuf *in, void *msg);
	int (*encode)(struct vbuf *out, const void *msg);
	void *a, *b;      /* two messages of msg_size bytes */
	size_t msg_size;  /* sizeof the codec's message struct */
	size_t frame_max; /* its largest frame body */
};

/* Runs the stream check over data; a and b are left holding the last
 * messages (the caller wipes them). */
void privmsg_fuzz_stream(
    const struct privmsg_fuzz_codec *c, const uint8_t *data, size_t size);

#endif
