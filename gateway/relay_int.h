/*
 * relay_int.h: what the relay engine's files (relay.c, relay_domain.c,
 * relay_io.c, relay_chan.c) share; not for callers of relay.h.
 *
 * The per-phase and per-channel handlers take one parsed PDU and fill res
 * as relay_pdu() does (relay.h): 0 with a verdict (a protocol violation is
 * a CLOSE verdict), or VDI_ERR_ALLOC / VDI_ERR_TOO_LARGE.
 */
#ifndef VDI_GATEWAY_RELAY_INT_H
#define VDI_GATEWAY_RELAY_INT_H

#include "rdp/mcs.h"
#include "relay.h"

/* relay.c */
/* Records a channel and its verdict (counted only past
 * RELAY_RECORDS_MAX); name may point into r. */
void relay_record(struct relay *r, const char *name, int dynamic, int allowed);
/* Sets a CLOSE verdict "what err=NAME" and returns 0. */
int relay_close_err(struct relay_result *res, const char *what, int err);
/* "client" or "desktop", for reasons. */
const char *relay_dir_name(enum rdp_dir dir);
/* The phase's name, for reasons. */
const char *relay_phase_name(enum relay_phase ph);

/* relay_domain.c */
/* The client's MCS Connect Initial, rewritten for the desktop. */
int relay_connect_initial(
    struct relay *r, const struct vbuf *pdu, struct relay_result *res);
/* The desktop's MCS Connect Response, rewritten for the client. */
int relay_connect_response(
    struct relay *r, const struct vbuf *pdu, struct relay_result *res);
/* The RELAY_JOINED_* bit of a channel id that may carry data, or 0. */
unsigned int relay_joined_bit(const struct relay *r, uint16_t id);
/* 1 when an MCS domain PDU of type t may travel in dir. */
int relay_mcs_dir_allowed(enum rdp_dir dir, enum rdp_mcs_type t);
/* A domain-phase PDU other than Send Data and the Ultimatum: Erect
 * Domain, Attach User, Channel Joins. */
int relay_domain(struct relay *r, const struct vbuf *pdu,
    const struct rdp_mcs_pdu *p, struct relay_result *res);

/* relay_io.c */
/* Data on the I/O channel in the DOMAIN, LICENSING or SHARE phase. */
int relay_io(struct relay *r, enum rdp_dir dir, const struct vbuf *pdu,
    unsigned char *pdu_mut, const struct rdp_mcs_pdu *p,
    const struct rdp_info_creds *creds, struct relay_result *res);
/* A fast-path PDU either way. */
int relay_fastpath(struct relay *r, enum rdp_dir dir, const struct vbuf *pdu,
    struct relay_result *res);

/* relay_chan.c */
/* One drdynvc chunk: reassembly, the DVC filter, re-chunking. */
int relay_drdynvc(struct relay *r, enum rdp_dir dir,
    const struct rdp_mcs_pdu *p, struct relay_result *res);
/* One rdpsnd chunk: sequence and compression checked, bytes passed. */
int relay_svc_pass(struct relay *r, enum rdp_dir dir, const struct vbuf *pdu,
    const struct rdp_mcs_pdu *p, struct relay_result *res);

#endif
