/*
 * srclimit.h: how many connections are open per source address, with a
 * cap on the total and a share per source, so that one unauthenticated
 * peer cannot take every slot (issue 18). Both daemons use it for the
 * connections that have not proven anything yet: the gateway for tunnels
 * still in their handshake, the broker for its HTTPS connections.
 *
 * A source is an IPv4 address, or the /64 an IPv6 address lies in (one
 * host's privacy addresses are one source). The table is a fixed-size
 * open-addressing hash (no allocation after srclimit_new()), keyed with a
 * random seed so that a peer cannot choose colliding addresses.
 *
 * Not thread-safe: the gateway calls it under a mutex.
 */
#ifndef VDI_SRCLIMIT_H
#define VDI_SRCLIMIT_H

#include "cidr.h"
#include "vdierr.h"

#define SRCLIMIT_TOTAL_MAX 1000000

struct srclimit;

/* A table for at most max_total open connections (1..SRCLIMIT_TOTAL_MAX)
 * and max_per_source of them from one source (1..max_total). Returns NULL
 * on bad limits or when out of memory. Free with srclimit_free(). */
struct srclimit *srclimit_new(
    unsigned int max_total, unsigned int max_per_source);

/* Frees sl; NULL is accepted. */
void srclimit_free(struct srclimit *sl);

/* Counts one more connection from a. Returns 0, VDI_ERR_DENIED (a already
 * has max_per_source) or VDI_ERR_TOO_LARGE (max_total are open); nothing
 * is counted on error. */
int srclimit_take(struct srclimit *sl, const struct vdi_addr *a) VDI_WUR;

/* Counts one connection from a as closed (one taken before). A release
 * that matches no take is ignored. */
void srclimit_release(struct srclimit *sl, const struct vdi_addr *a);

/* Open connections in all, and from a's source. */
unsigned int srclimit_total(const struct srclimit *sl);
unsigned int srclimit_count(
    const struct srclimit *sl, const struct vdi_addr *a);

/* The limits given to srclimit_new(). */
unsigned int srclimit_max_total(const struct srclimit *sl);
unsigned int srclimit_max_per_source(const struct srclimit *sl);

#endif
