/*
 * fuzz_pammsg.c: feeds the input to pammsg_parse() as a stream of frames,
 * as the monitor, the worker and the PAM child read their sockets, with
 * the checks of privmsg_fuzz.h. Also runs pammsg_sanitize() over the input
 * and checks that its output is text the parser accepts.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pammsg.h"
#include "privmsg.h"
#include "privmsg_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct pammsg a, b;

PRIVMSG_ANY_CODEC(pammsg)

static void
check_sanitize(const uint8_t *data, size_t size)
{
	char *in, text[PAMMSG_TEXT_MAX + 1];
	struct vbuf *out;
	size_t n;

	if ((in = malloc(size + 1)) == NULL)
		abort();
	memcpy(in, data, size);
	in[size] = '\0';
	n = pammsg_sanitize(in, text, sizeof(text));
	if (n != strlen(text) || n > PAMMSG_TEXT_MAX)
		abort();
	memset(&a, 0, sizeof(a));
	a.type = PAMMSG_PROMPTS;
	a.u.prompts.n = 1;
	a.u.prompts.msg[0].style = PAMMSG_TEXT_INFO;
	memcpy(a.u.prompts.msg[0].text, text, n + 1);
	if ((out = vbuf_new(PAMMSG_HEADER_LEN + PAMMSG_FRAME_MAX)) == NULL)
		abort();
	if (pammsg_encode(out, &a) != 0 || pammsg_parse(out, &b) != 0 ||
	    strcmp(b.u.prompts.msg[0].text, text) != 0)
		abort();
	vbuf_free(out);
	free(in);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct privmsg_fuzz_codec codec = { pammsg_parse_any,
		pammsg_encode_any, &a, &b, sizeof(a), PAMMSG_FRAME_MAX };

	privmsg_fuzz_stream(&codec, data, size);
	check_sanitize(data, size);
	pammsg_clear(&a);
	pammsg_clear(&b);
	return 0;
}
