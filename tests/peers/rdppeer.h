/*
 * rdppeer.h: the pieces of the RDP connection sequence that the synthetic
 * test peers build alike (hostile-client, probe-desktop, tests/bench's
 * bench-rdp). Tests only, never installed. Pure builders over vbuf: each
 * appends one PDU (or part of one) and returns 0, or -1 when the buffer
 * is full; sending stays with the peer (blocking SSL or libevent).
 */
#ifndef VDI_RDPPEER_H
#define VDI_RDPPEER_H

#include <stddef.h>
#include <stdint.h>

#include "vbuf.h"

/* Little-endian stores into a fixed-layout structure being filled. */
void rdppeer_p16(unsigned char *p, unsigned int v);
void rdppeer_p32(unsigned char *p, uint32_t v);

/* A BER INTEGER (tag 0x02), minimal two's complement. */
int rdppeer_put_ber_int(struct vbuf *b, uint32_t v);
/* MCS DomainParameters: a SEQUENCE of the eight integers v. */
int rdppeer_put_domain_params(struct vbuf *b, const uint32_t v[8]);
/* The ASCII string s as UTF-16LE in a field of bytes bytes (zero padded,
 * cut to fit; s NULL: all zero). */
int rdppeer_put_utf16(struct vbuf *b, const char *s, size_t bytes);
/* One capability set or GCC user data block: type, length (with this
 * header), body. */
int rdppeer_put_tlv(
    struct vbuf *b, uint16_t type, const unsigned char *body, size_t len);

/* The MCS Connect Initial of a 1024x768 32 bpp client called name:
 * CS_CORE (serverSelectedProtocol selected), CS_SECURITY (no RDP
 * encryption), CS_NET with the n channels names (8 raw bytes each) all with
 * options, CS_CLUSTER (redirection supported, version 4). */
int rdppeer_put_connect_initial(struct vbuf *out, const char *name,
    uint32_t selected, const unsigned char (*names)[8], unsigned int n,
    uint32_t options);

/* The Client Info PDU (TS_INFO_PACKET after its security header) with
 * flags, user and password (pass "" for none), client address 127.0.0.1
 * and dir as the client directory. */
int rdppeer_put_client_info(struct vbuf *b, uint32_t flags, const char *user,
    const char *pass, const char *dir);

/* Capability sets both kinds of peers send for a plain 1024x768 32 bpp
 * session: general (fast-path output, long credentials), bitmap, order;
 * then pointer, input and virtual channel (vc_chunk bytes a chunk). */
int rdppeer_put_caps_display(struct vbuf *caps);
int rdppeer_put_caps_input(struct vbuf *caps, uint32_t vc_chunk);

/* The Confirm Active PDU (Share Control header from user, share_id,
 * source "MSTSC") carrying the ncaps capability sets in caps. */
int rdppeer_put_confirm_active(struct vbuf *pdu, uint16_t user,
    uint32_t share_id, const struct vbuf *caps, unsigned int ncaps);

/* A Share Data PDU of type2 from source with body (stream low, no
 * compression). */
int rdppeer_put_share_data(struct vbuf *pdu, uint16_t source, uint32_t share_id,
    uint8_t type2, const unsigned char *body, size_t len);

/* The client's finalization PDU bodies: Synchronize (target 1002),
 * Control Cooperate, Control Request Control, Font List. */
struct rdppeer_finalize {
	unsigned char sync[4], coop[8], req[8], fonts[8];
};
void rdppeer_finalize_init(struct rdppeer_finalize *f);

#endif
