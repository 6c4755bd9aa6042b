/*
 * fuzz_rdp_cssp.c: the input is given to the CredSSP TSRequest framer and
 * parser and to the TSCredentials parser (rdp/cssp.c, rdp/der.c). A parsed
 * TSRequest is written back and must parse to the same fields, and the
 * framer must agree with the parser on the message's size (not
 * byte-identical: an errorCode may come as 4 negative or 5 positive bytes);
 * parsed credentials are written back and must be byte-identical.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rdp/cssp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
same_view(const struct vbuf *a, const struct vbuf *b)
{
	return vbuf_len(a) == vbuf_len(b) &&
	    (vbuf_len(a) == 0 ||
		memcmp(vbuf_ptr(a), vbuf_ptr(b), vbuf_len(a)) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rdp_cssp_request req, again;
	struct rdp_cssp_password_creds c, c2;
	struct vbuf in, *out;
	size_t total = 0;
	int framed;

	if ((out = vbuf_new(RDP_CSSP_REQUEST_MAX + 64)) == NULL)
		abort();
	vbuf_init_view(&in, data, size);
	framed = rdp_cssp_frame(&in, &total);
	if (rdp_cssp_parse_request(&in, &req) == 0) {
		if (framed != 0 || total != size)
			abort();
		if (rdp_cssp_write_request(out, &req) != 0 ||
		    rdp_cssp_parse_request(out, &again) != 0 ||
		    again.version != req.version ||
		    again.has_nego_token != req.has_nego_token ||
		    !same_view(&again.nego_token, &req.nego_token) ||
		    !same_view(&again.auth_info, &req.auth_info) ||
		    !same_view(&again.pub_key_auth, &req.pub_key_auth) ||
		    again.error_code != req.error_code ||
		    memcmp(again.client_nonce, req.client_nonce,
			RDP_CSSP_NONCE_LEN) != 0)
			abort();
	} else if (vbuf_len(&in) != size)
		abort(); /* a failed parse consumes nothing */
	vbuf_reset(out);
	vbuf_init_view(&in, data, size);
	if (rdp_cssp_parse_password_creds(&in, &c) == 0) {
		if (rdp_cssp_write_password_creds(out, &c) != 0 ||
		    vbuf_len(out) != size ||
		    memcmp(vbuf_ptr(out), data, size) != 0 ||
		    rdp_cssp_parse_password_creds(out, &c2) != 0 ||
		    !same_view(&c2.password, &c.password))
			abort();
	}
	vbuf_wipe(out);
	vbuf_free(out);
	return 0;
}
