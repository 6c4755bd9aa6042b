/*
 * memtrim.h: gives the heap's free pages back to the system after
 * connection churn.
 *
 * A TLS handshake allocates far more than the session it leaves behind
 * keeps; glibc's free() returns only the top of a heap, so the freed
 * handshake memory between live sessions stays in the RSS (measured: about
 * 70 KiB per idle session, tests/bench/bench_session_memory.sh, see
 * docs/performance.md). Every few seconds, when connections came or went,
 * malloc_trim(0) releases those free pages (madvise) in every arena.
 */
#ifndef VDI_GATEWAY_MEMTRIM_H
#define VDI_GATEWAY_MEMTRIM_H

struct gw;

/* Starts the trim timer on gw->main_base. 0, or VDI_ERR_ALLOC. */
int memtrim_start(struct gw *gw);
void memtrim_stop(void);

#endif
