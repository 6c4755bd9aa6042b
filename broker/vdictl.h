/*
 * vdictl.h: what the files of vdictl share. vdictl.c holds main (options,
 * dispatch, output); vdictl_core.c the admin socket and the reply's
 * fields; each command family builds its requests and prints its replies
 * in a file of its own: vdictl_fleet.c (sessions, desktops, devices,
 * cuts), vdictl_policy.c (status, tenants, policy), vdictl_audit.c
 * (audit query, verify, export).
 */
#ifndef VDI_BROKER_VDICTL_H
#define VDI_BROKER_VDICTL_H

#include <stddef.h>

#include <jansson.h>

#include "store.h"

/* The options a command takes (others given with it are errors). */
enum {
	OPT_ALL = 1 << 0,
	OPT_REASON = 1 << 1,
	OPT_TENANT = 1 << 2,
	OPT_USER = 1 << 3,
	OPT_DEVICE = 1 << 4,
	OPT_SINCE = 1 << 5,
	OPT_LIMIT = 1 << 6,
	OPT_FILE = 1 << 7,
};

/* The command line: the command's words and the options' values. */
struct vctl_args {
	const char *a[8];
	int na;
	int all;
	const char *reason, *tenant, *user, *device, *since, *limit, *file;
	unsigned int given;        /* OPT_* given */
	char dev[STORE_THUMB_MAX]; /* a thumbprint argument, normalised */
};

/* Word n of the command is s. */
#define VCTL_IS(v, n, s) ((v)->na > (n) && strcmp((v)->a[n], (s)) == 0)

/* What a family's request builder made of the command line. */
enum vctl_match {
	VCTL_NO,   /* not one of its commands */
	VCTL_REQ,  /* *req (NULL: out of memory) and *takes are set */
	VCTL_DONE, /* finished here (a usage error...): exit with *rc */
};

/* ---- core (vdictl_core.c) ---------------------------------------------- */

/* Sends req to the broker's admin socket at path; its reply, or NULL after
 * saying why on stderr. */
json_t *vctl_call(const char *path, json_t *req);
/* Text field k of o ("" when absent). */
const char *vctl_str(json_t *o, const char *k);
/* Time field k of o as an ISO 8601 UTC date in buf ("-" when 0). */
const char *vctl_when(json_t *o, const char *k, char *buf, size_t len);
/* A thumbprint or the start of one, as the broker takes it: lower-case
 * hex; colons (as openssl prints it) are dropped and upper case folded. */
int vctl_thumb_arg(const char *what, const char *in, char out[STORE_THUMB_MAX]);
/* Refuses the options given that the command does not take. */
int vctl_check_opts(const char *cmd, unsigned int given, unsigned int takes);

/* The command is finished in the family's builder: *rc = status. */
enum vctl_match vctl_done(int *rc, int status);

/* ---- command families ---------------------------------------------------- */

enum vctl_match vctl_fleet_req(
    struct vctl_args *v, json_t **req, unsigned int *takes, int *rc);
enum vctl_match vctl_policy_req(
    struct vctl_args *v, json_t **req, unsigned int *takes, int *rc);
enum vctl_match vctl_audit_req(
    struct vctl_args *v, json_t **req, unsigned int *takes, int *rc);

/* Human output of a reply: 1 when the family printed it. */
int vctl_fleet_print(json_t *rep);
int vctl_policy_print(const char *what, json_t *rep);
int vctl_audit_print(json_t *rep);

/* audit export: the reply's rows as JSON lines in path. Exit status. */
int vctl_audit_export_write(const char *path, json_t *rep);

#endif
