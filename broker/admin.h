/*
 * admin.h: the admin socket behind vdictl(8).
 *
 * A UNIX stream socket (mode 0660, group admin_group). Each connection sends
 * one JSON object on one line, {"cmd": "...", ...args}, and gets one JSON
 * object back: {"ok": true, ...} or {"ok": false, "error": "...",
 * "message": "..."}. The caller is identified by SO_PEERCRED: root, or a
 * member of admin_group; anyone else is refused. Every change is audited
 * with actor "admin:<user name>".
 *
 * Commands: sessions.list, sessions.kill {id}, desktops.list,
 * desktops.drain {name}, desktops.enable {name}, devices.list {tenant?},
 * devices.revoke {thumbprint, reason?}, policy.reload,
 * policy.mode {tenant, mode (null to clear)}, audit.query {user?, device?,
 * since?, limit?}, audit.verify.
 */
#ifndef VDI_BROKER_ADMIN_H
#define VDI_BROKER_ADMIN_H

#include <jansson.h>

#include "broker.h"

#define ADMIN_REQUEST_MAX 65536

/* Opens the listening socket at path (replacing a stale one), owned by
 * group (when not empty and we are root) with mode 0660. Returns the fd or
 * -1 with a message in err. Call before privileges are dropped. */
int admin_listen(const char *path, const char *group, char *err, size_t errlen);

/* Serves fd on b's loop. Returns 0 or VDI_ERR_ALLOC. */
int admin_start(struct broker *b, int fd) VDI_WUR;
void admin_stop(struct broker *b);

/* Runs one command as actor (pure dispatch, used by the socket and by
 * tests). Returns a new reply object. */
json_t *admin_run(struct broker *b, const char *actor, json_t *req);

#endif
