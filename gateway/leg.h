/*
 * leg.h: one relaying leg of a tunnel once its handshakes are done: a
 * socket, the TLS layers over it (the desktop's TLS; or the front tunnel
 * TLS with the client's RDP-level TLS inside it) and the byte queues
 * between them, with its own reads and writes instead of bufferevents.
 *
 * Why: the bufferevents that carry the handshakes read at most 4 KiB per
 * system call (libevent 2.1 has no knob for it), write each PDU as its own
 * TLS record and system call, and suspend and resume reading per PDU. A
 * leg reads up to LEG_READ_CHUNK bytes per call, decrypts every layer in
 * one pass, encrypts whatever the pump queued in whole records and hands
 * the socket all of it in one write. Its TLS layers write into memory (the
 * leg's queues), so no SSL_write ever blocks and the socket write is the
 * only thing that can.
 *
 * A leg is made by leg_adopt() from the bufferevents that did the
 * handshakes (they are freed; the SSL objects and the socket live on in
 * the leg). Everything runs on the session's worker thread.
 */
#ifndef VDI_GATEWAY_LEG_H
#define VDI_GATEWAY_LEG_H

#include <stddef.h>

#include <event2/bufferevent.h>
#include <event2/event.h>

#include "vbuf.h"

/* Most TLS layers on one leg (front tunnel TLS + RDP-level TLS). */
#define LEG_LAYERS_MAX 2
/* A leg quiet this long gives its buffers back (leg_trim). */
#define LEG_TRIM_SECONDS 2
/* Most bytes read from the socket per system call. */
#define LEG_READ_CHUNK (64u * 1024u)

struct leg;

enum leg_event {
	LEG_READABLE, /* leg_in() has new bytes */
	LEG_DRAINED,  /* what was queued towards the peer fell to the low
		       * mark (leg_set_low) */
	LEG_CLOSED,   /* the peer closed (TCP FIN or TLS close_notify) */
	LEG_ERROR,    /* a socket or TLS error: leg_why() says which */
};

/* Called on the leg's events. The callback may free the leg (through the
 * session it belongs to): the leg touches nothing after calling it. */
typedef void leg_cb(struct leg *l, enum leg_event ev, void *arg);

/*
 * Takes over the bufferevent stack whose top is top: each level is an
 * OpenSSL bufferevent (filter or socket) or, at the bottom, a plain socket
 * one. What the bufferevents had buffered moves into the leg's queues, the
 * SSL objects get the leg's memory BIOs and SSL_MODE_RELEASE_BUFFERS, and
 * top is freed with everything under it (its underlying bufferevents must
 * be freed with it, BEV_OPT_CLOSE_ON_FREE). in_max caps leg_in(). Returns
 * the leg, or NULL with why filled (top is then left as it was).
 */
struct leg *leg_adopt(struct event_base *base, struct bufferevent *top,
    size_t in_max, leg_cb *cb, void *arg, char *why, size_t whylen);

/* Closes the socket and frees the SSL objects and queues (wiping them).
 * NULL is accepted. */
void leg_free(struct leg *l);

/* Plaintext read from the peer: the pump consumes what it relays. */
struct vbuf *leg_in(struct leg *l);

/* Plaintext to send to the peer: the pump appends; leg_flush() sends. */
struct vbuf *leg_out(struct leg *l);

/*
 * Encrypts everything in leg_out() and writes what the socket takes now
 * (the rest waits for the socket to be writable). With wipe set, the
 * plaintext queue's storage is wiped once encrypted (it held a secret).
 * Returns 0, or -1 on a TLS or socket error (leg_why() says which).
 */
int leg_flush(struct leg *l, int wipe);

/* Bytes queued towards the peer that the socket has not taken yet. */
size_t leg_pending(const struct leg *l);

/* LEG_DRAINED is reported when a socket write that had to wait brings
 * leg_pending() from above low to low or below. */
void leg_set_low(struct leg *l, size_t low);

/*
 * Stops (on = 1) or resumes (on = 0) reading from the peer. On resuming,
 * what was already buffered is processed from the event loop (as by
 * leg_kick()). No function here calls the callback: only the leg's own
 * events do, so the pump never re-enters itself.
 */
void leg_pause(struct leg *l, int on);
int leg_paused(const struct leg *l);

/* Makes the loop process whatever is buffered (after leg_adopt(), or when
 * the pump left bytes in leg_in() it can now relay): the callback then
 * reports LEG_READABLE, LEG_CLOSED or LEG_ERROR as for a socket read. */
void leg_kick(struct leg *l);

/* 1 when the peer reset the connection (a close, not an error). */
int leg_peer_gone(const struct leg *l);

/* Why the leg failed (after LEG_ERROR or -1). */
const char *leg_why(const struct leg *l);

/* Bytes of memory the leg holds in its queues (for the memory figures). */
size_t leg_storage(const struct leg *l);

/* Frees the storage of empty queues (an idle leg costs little). */
void leg_trim(struct leg *l);

#endif
