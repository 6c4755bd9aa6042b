/*
 * fdwait.h: a monotonic clock in milliseconds and a bounded wait for one
 * descriptor, for the small blocking request/answer links between
 * processes (the broker's monitor, the gateway's key process).
 */
#ifndef VDI_FDWAIT_H
#define VDI_FDWAIT_H

#include <stdint.h>

#include "vdierr.h"

/* Milliseconds of CLOCK_MONOTONIC. */
int64_t vdi_now_ms(void);

/*
 * Waits until fd is ready for events (POLLIN, POLLOUT) or until deadline
 * (vdi_now_ms() time; < 0: no deadline), retrying on EINTR. Returns 0,
 * VDI_ERR_TIMEOUT, VDI_ERR_INVALID_ARG (fd is not open) or VDI_ERR_SYSTEM.
 */
int vdi_wait_fd(int fd, short events, int64_t deadline) VDI_WUR;

#endif
