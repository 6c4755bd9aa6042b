/*
 * sdnotify.h: tells the service manager what the daemon is doing, for
 * systemd units of Type=notify (sd_notify(3)).
 *
 *   vdi_notify("READY=1");      listeners up, serving
 *   vdi_notify("RELOADING=1");  SIGHUP taken, re-reading files
 *   vdi_notify("STOPPING=1");   SIGTERM taken, shutting down
 *
 * Without libsystemd at build time (configure --without-libsystemd), or
 * when the process was not started by systemd (NOTIFY_SOCKET unset), it
 * does nothing.
 */
#ifndef VDI_SDNOTIFY_H
#define VDI_SDNOTIFY_H

/* Sends state (one or more "KEY=VALUE" lines) to $NOTIFY_SOCKET. A
 * failure to send is logged at debug level and otherwise ignored: the
 * daemon's work does not depend on it. */
void vdi_notify(const char *state);

#endif
