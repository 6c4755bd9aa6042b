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
 * Each request is scoped to the tenants its caller administers: the
 * policy's admins/admin_groups of a tenant name the caller's user or one
 * of its groups. Root, the broker's own user and members of
 * operators_group act on every tenant. Lists show only the caller's
 * tenants; a request on another tenant's session, device, desktop, mode
 * or audit, and a request that acts on every tenant (policy.reload) from
 * a tenant admin, is answered {"error": "forbidden", "message": "tenant X
 * is not administered by USER"} and audited as refused with the caller.
 *
 * Commands: sessions.list, sessions.kill {id}, desktops.list,
 * desktops.drain {name}, desktops.enable {name}, devices.list {tenant?},
 * devices.revoke {thumbprint, reason?}, policy.reload,
 * policy.mode {tenant, mode (null to clear)}, audit.query {user?, device?,
 * since?, limit?, tenant?}, audit.verify {tenant?} (the chains of the
 * caller's tenants).
 */
#ifndef VDI_BROKER_ADMIN_H
#define VDI_BROKER_ADMIN_H

#include <jansson.h>

#include "broker.h"

#define ADMIN_REQUEST_MAX 65536

/* The caller of an admin request. */
struct admin_caller {
	char user[STORE_NAME_MAX];  /* user name, or "uid<N>" */
	char actor[STORE_NAME_MAX]; /* "admin:<user>", for the audit */
	char **groups;              /* names of its groups (owned) */
	size_t ngroups;
	int all; /* acts on every tenant: root, the broker's user, operators */
};

/* Frees c's groups and clears it. NULL is accepted. */
void admin_caller_clear(struct admin_caller *c);

/* Checks that operators_group (when set) exists. Returns 0, or
 * VDI_ERR_CONFIG with a message in err. */
int admin_check_groups(
    const struct bconf *conf, char *err, size_t errlen) VDI_WUR;

/* Opens the listening socket at path (replacing a stale one), owned by
 * group (when not empty and we are root) with mode 0660. Returns the fd or
 * -1 with a message in err. Call before privileges are dropped. */
int admin_listen(const char *path, const char *group, char *err, size_t errlen);

/* Serves fd on b's loop. Returns 0 or VDI_ERR_ALLOC. */
int admin_start(struct broker *b, int fd) VDI_WUR;
void admin_stop(struct broker *b);

/* Runs one command for caller c, scoped to the tenants c administers (pure
 * dispatch, used by the socket). Returns a new reply object. */
json_t *admin_run_as(
    struct broker *b, const struct admin_caller *c, json_t *req);

/* A new error reply {"ok": false, "error": code, "message": msg}. */
json_t *admin_fail(const char *code, const char *msg);

/* Runs one command as actor on every tenant, as an operator would (tests
 * and the fuzz harness). Returns a new reply object. */
json_t *admin_run(struct broker *b, const char *actor, json_t *req);

#endif
