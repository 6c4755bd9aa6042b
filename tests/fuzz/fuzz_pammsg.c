/*
 * fuzz_pammsg.c: feeds the input to pammsg_parse() as a stream of frames,
 * as the monitor, the worker and the PAM child read their sockets.
 *
 * Checks, for every frame that parses: the encoder writes back exactly the
 * bytes that were read (the format has one encoding per message), the
 * re-encoded frame parses to an equal message, and every strict prefix of
 * the frame is VDI_ERR_NEED_MORE with nothing consumed. A failed parse
 * consumes nothing. Also runs pammsg_sanitize() over the input and checks
 * that its output is text the parser accepts.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pammsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct pammsg a, b;

static void
check_frame(const unsigned char *frame, size_t len)
{
	struct vbuf *out, v;
	size_t cut;

	if ((out = vbuf_new(PAMMSG_HEADER_LEN + PAMMSG_FRAME_MAX)) == NULL)
		abort();
	if (pammsg_encode(out, &a) != 0)
		abort();
	if (vbuf_len(out) != len || memcmp(vbuf_ptr(out), frame, len) != 0)
		abort();
	if (pammsg_parse(out, &b) != 0 || vbuf_len(out) != 0 ||
	    memcmp(&a, &b, sizeof(a)) != 0)
		abort();
	vbuf_free(out);
	/* Prefixes: only the cheap ones, to keep executions fast. */
	for (cut = 0; cut < len && cut < 600; cut++) {
		vbuf_init_view(&v, frame, cut);
		if (pammsg_parse(&v, &b) != VDI_ERR_NEED_MORE ||
		    vbuf_len(&v) != cut)
			abort();
	}
}

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
	struct vbuf in;
	const unsigned char *start;
	size_t before;
	int r;

	vbuf_init_view(&in, data, size);
	for (;;) {
		before = vbuf_len(&in);
		start = vbuf_ptr(&in);
		r = pammsg_parse(&in, &a);
		if (r != 0) {
			if (vbuf_len(&in) != before || a.type != 0)
				abort();
			break;
		}
		if (vbuf_len(&in) >= before)
			abort();
		check_frame(start, before - vbuf_len(&in));
	}
	check_sanitize(data, size);
	pammsg_clear(&a);
	pammsg_clear(&b);
	return 0;
}
