/*
 * fuzz_rdp_info.c: the Client Info PDU (rdp/info.c). The input is
 * the I/O channel data (security header first). A parsed PDU is rewritten
 * with and without credentials; the output must parse, with the flags the
 * relay promises, and wiping the password of a copy must zero exactly the
 * password bytes.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rdp/info.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(const struct vbuf *out, int creds, int audio)
{
	struct rdp_info info;

	if (rdp_info_parse(out, &info) != 0)
		abort();
	if (info.flags &
	    (RDP_INFO_COMPRESSION | RDP_INFO_COMPRESSION_TYPE_MASK |
		RDP_INFO_RAIL | RDP_INFO_HIDEF_RAIL_SUPPORTED |
		RDP_INFO_AUDIOCAPTURE | RDP_INFO_REMOTECONSOLEAUDIO))
		abort();
	if (!audio && !(info.flags & RDP_INFO_NOAUDIOPLAYBACK))
		abort();
	if (vbuf_len(&info.shell) != 0 || vbuf_len(&info.workdir) != 0)
		abort();
	if (creds &&
	    (!(info.flags & RDP_INFO_AUTOLOGON) || vbuf_len(&info.user) != 6 ||
		vbuf_len(&info.password) != 4))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct rdp_policy pols[2] = { { 0 }, { 1 } };
	const struct rdp_info_creds cr = { "", "bob", "pw" };
	struct rdp_info info;
	struct vbuf in, *out;
	unsigned char *copy;
	size_t i;
	int k;

	vbuf_init_view(&in, data, size);
	if (rdp_info_parse(&in, &info) != 0)
		return 0;
	if ((out = vbuf_new(65536)) == NULL)
		abort();
	for (k = 0; k < 2; k++) {
		vbuf_reset(out);
		if (rdp_info_rewrite(&in, &pols[k], NULL, out) != 0)
			abort();
		check(out, 0, k);
		vbuf_reset(out);
		if (rdp_info_rewrite(&in, &pols[k], &cr, out) != 0)
			abort();
		check(out, 1, k);
	}
	vbuf_free(out);
	if ((copy = malloc(size)) == NULL)
		abort();
	memcpy(copy, data, size);
	if (rdp_info_wipe_password(copy, size) != 0)
		abort();
	for (i = 0; i < size; i++) {
		int in_pw = i >= info.password_off &&
		    i < info.password_off + vbuf_len(&info.password);

		if (in_pw ? copy[i] != 0 : copy[i] != data[i])
			abort();
	}
	free(copy);
	return 0;
}
