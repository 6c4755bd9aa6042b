/*
 * fuzz_rdp_x224.c: the input is one TPKT PDU given to the X.224 Connection
 * Request, Connection Confirm and Data parsers (rdp/x224.c). A
 * parsed cookie is written back with the CR builder and must parse to the
 * same value; the CC builder must never emit restricted-admin flags.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rdp/x224.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vbuf in, payload;
	struct vbuf *out;
	struct rdp_x224_cr cr, cr2;
	struct rdp_x224_cc cc;
	uint32_t sel;

	vbuf_init_view(&in, data, size);
	if ((out = vbuf_new(1024)) == NULL)
		abort();
	if (rdp_x224_parse_cr(&in, &cr) == 0) {
		if (rdp_x224_select_protocol(&cr, &sel) == 0 &&
		    sel != RDP_PROTOCOL_SSL)
			abort();
		if (cr.cookie[0] != '\0' && strchr(cr.cookie, '?') == NULL &&
		    rdp_x224_write_cr(out, cr.cookie, RDP_PROTOCOL_SSL) == 0) {
			if (rdp_x224_parse_cr(out, &cr2) != 0 ||
			    strcmp(cr.cookie, cr2.cookie) != 0 ||
			    cr2.neg_flags != 0)
				abort();
		}
		vbuf_reset(out);
	}
	if (rdp_x224_parse_cc(&in, &cc) == 0 && cc.has_neg && !cc.failure &&
	    (cc.selected_protocol == RDP_PROTOCOL_SSL ||
		cc.selected_protocol == RDP_PROTOCOL_HYBRID)) {
		if (rdp_x224_write_cc(out, cc.flags, cc.selected_protocol) !=
			0 ||
		    rdp_x224_parse_cc(out, &cc) != 0 ||
		    (cc.flags &
			(RDP_NEG_RSP_RESTRICTED_ADMIN |
			    RDP_NEG_RSP_REDIRECTED_AUTH)) != 0)
			abort();
		vbuf_reset(out);
	}
	if (rdp_x224_parse_data(&in, &payload) == 0) {
		if (rdp_x224_write_data(
			out, vbuf_ptr(&payload), vbuf_len(&payload)) != 0 ||
		    vbuf_len(out) != size || memcmp(vbuf_ptr(out), data, size))
			abort();
	}
	vbuf_free(out);
	return 0;
}
