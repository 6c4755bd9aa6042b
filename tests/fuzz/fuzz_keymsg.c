/*
 * fuzz_keymsg.c: feeds the input to keymsg_parse() as a stream of frames,
 * as the key process reads the gateway's requests; the checks are those of
 * privmsg_fuzz.h.
 */
#include "config.h"

#include <stdint.h>

#include "keymsg.h"
#include "privmsg.h"
#include "privmsg_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct keymsg a, b;

PRIVMSG_ANY_CODEC(keymsg)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct privmsg_fuzz_codec codec = { keymsg_parse_any,
		keymsg_encode_any, &a, &b, sizeof(a), KEYMSG_FRAME_MAX };

	privmsg_fuzz_stream(&codec, data, size);
	keymsg_clear(&a);
	keymsg_clear(&b);
	return 0;
}
