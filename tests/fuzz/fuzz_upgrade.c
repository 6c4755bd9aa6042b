/* fuzz_upgrade.c: the tunnel's Upgrade request parser on arbitrary bytes.
 * Checks that an accepted token lies inside the input and holds only
 * base64url characters and dots, and that consumed never exceeds it. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "upgrade.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct upgrade_req u;
	struct vbuf v;
	size_t i;

	vbuf_init_view(&v, data, size);
	if (upgrade_parse(&v, &u) != 0)
		return 0;
	if (u.consumed > size)
		abort();
	if (u.error == VDI_REASON_OK) {
		if (u.token == NULL || u.token_len == 0 ||
		    (const uint8_t *)u.token < data ||
		    (const uint8_t *)u.token + u.token_len > data + size)
			abort();
		for (i = 0; i < u.token_len; i++)
			if (strchr(
				"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRS"
				"TUVWXYZ0123456789-_.",
				u.token[i]) == NULL ||
			    u.token[i] == '\0')
				abort();
	}
	return 0;
}
