/*
 * pump.h: the relay pump of a started tunnel (pump.c): reads whole PDUs
 * from one leg, runs them through the relay engine (relay.c) and queues
 * what it returns on the other leg (and answers back on the same one),
 * with back-pressure between the two legs. The legs are struct leg
 * (leg.h) from pump_attach() on. It runs on the session's worker thread;
 * session.c calls it at the edges below and is called back through
 * session_close() when the relay ends the tunnel.
 */
#ifndef VDI_GATEWAY_PUMP_H
#define VDI_GATEWAY_PUMP_H

struct session;

/* The desktop leg is up but the relay has not started: it is not read
 * (its bytes wait) and its end closes the tunnel. */
void pump_park_desktop(struct session *s);
/* Takes both legs over from their bufferevents (s->cin, s->desk; set to
 * NULL, with s->cli) once s->relay, s->fwd and s->back are set up.
 * Returns 0, or -1 when the tunnel was closed. */
int pump_attach(struct session *s);
/* Relays what both legs already hold (the client first). Returns 0, or -1
 * when the tunnel was closed. */
int pump_start(struct session *s);
/* Frees the legs (from session_free). */
void pump_free(struct session *s);

#endif
