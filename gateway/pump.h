/*
 * pump.h: the relay pump of a started tunnel (pump.c): reads whole PDUs
 * from one leg, runs them through the relay engine (relay.c) and queues
 * what it returns on the other leg (and answers back on the same one),
 * with back-pressure between the two legs. It runs on the session's
 * worker thread; session.c calls it at the edges below and is called
 * back through session_close() when the relay ends the tunnel.
 */
#ifndef VDI_GATEWAY_PUMP_H
#define VDI_GATEWAY_PUMP_H

struct session;

/* The desktop leg is up but the relay has not started: it is not read
 * (its bytes wait) and its end closes the tunnel. */
void pump_park_desktop(struct session *s);
/* Installs the pump's callbacks and watermarks on both legs (s->cin,
 * s->desk, s->relay, s->fwd and s->back set up) and enables them. */
void pump_attach(struct session *s);
/* Relays what both legs already hold (the client first). Returns 0, or -1
 * when the tunnel was closed. */
int pump_start(struct session *s);

#endif
