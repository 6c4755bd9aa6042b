/*
 * vdictl.c: the broker's admin command (see vdictl(8)). Talks to
 * vdi-brokerd over its admin socket: one JSON request, one JSON reply.
 * This file reads the command line, asks each command family
 * (vdictl_fleet.c, vdictl_policy.c, vdictl_audit.c) for the request,
 * sends it (vdictl_core.c) and prints the reply.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "procinfo.h"
#include "vdictl.h"

#define DEFAULT_SOCKET "/run/vdi/brokerd.sock"

static int json_out;

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: vdictl [-s SOCKET] [--json] COMMAND\n"
	    "       vdictl -V | --version | -h | --help\n"
	    "commands:\n"
	    "  status                       (version, store, gateways, "
	    "certificate and CRL\n"
	    "                               dates, tenants and their modes)\n"
	    "  tenants list                 (each tenant's mode in force, CRL "
	    "and CA dates)\n"
	    "  sessions list [--all] [--tenant T]\n"
	    "  sessions kill ID [--reason TEXT]\n"
	    "  desktops list\n"
	    "  desktops drain NAME | desktops enable NAME\n"
	    "  devices list [--tenant T]\n"
	    "  devices revoke THUMBPRINT [--reason TEXT]  (or the start of "
	    "the thumbprint\n"
	    "                               of a device seen)\n"
	    "  cuts list                    (cuts in force, what each gateway "
	    "acknowledged)\n"
	    "  policy reload\n"
	    "  policy mode TENANT MODE      (MODE \"default\": the policy's "
	    "own)\n"
	    "  audit [--tenant T] [--user U] [--device T] [--since TIME] "
	    "[--limit N]\n"
	    "  audit verify [--tenant T]\n"
	    "  audit export --tenant T --file FILE   (the tenant's chain, as "
	    "JSON lines)\n"
	    "  audit verify --file FILE     (an export, checked here without "
	    "the broker)\n"
	    "each command sees only the tenants the caller administers "
	    "(root and the\n"
	    "broker's operators_group: every tenant)\n"
	    "THUMBPRINT (also --device): 64 hex digits, or any start of them "
	    "that names\none device\n"
	    "TIME: 2026-11-21T09:00+09:00, a unix time, or an age like 2h\n"
	    "socket: -s, else $VDI_BROKER_SOCKET, else " DEFAULT_SOCKET "\n");
}

static void
print_human(const char *what, json_t *rep)
{
	json_t *o;
	size_t i;

	/* What was done but needs an eye (a CRL near its nextUpdate). */
	json_array_foreach(json_object_get(rep, "warnings"), i, o)
		fprintf(stderr, "vdictl: %s\n", json_string_value(o));
	if (vctl_policy_print(what, rep) || vctl_fleet_print(rep) ||
	    vctl_audit_print(rep))
		return;
	printf("%s: done\n", what);
}

int
main(int argc, char **argv)
{
	const char *sock = getenv("VDI_BROKER_SOCKET");
	struct vctl_args v;
	char what[64];
	json_t *req = NULL, *rep;
	int i, rc = 0;
	unsigned int takes = 0;
	enum vctl_match m;

	memset(&v, 0, sizeof(v));

	if (sock == NULL)
		sock = DEFAULT_SOCKET;
	for (i = 1; i < argc; i++) {
		const char *o = argv[i];
		const char **dst = NULL;
		unsigned int bit = 0;

		if (strcmp(o, "--json") == 0)
			json_out = 1;
		else if (strcmp(o, "--all") == 0) {
			v.all = 1;
			v.given |= OPT_ALL;
		} else if (strcmp(o, "-h") == 0 || strcmp(o, "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(o, "-V") == 0 ||
		    strcmp(o, "--version") == 0) {
			vdi_version_print(stdout, "vdictl");
			return 0;
		} else if (strcmp(o, "-s") == 0)
			dst = &sock;
		else if (strcmp(o, "--reason") == 0)
			dst = &v.reason, bit = OPT_REASON;
		else if (strcmp(o, "--tenant") == 0)
			dst = &v.tenant, bit = OPT_TENANT;
		else if (strcmp(o, "--user") == 0)
			dst = &v.user, bit = OPT_USER;
		else if (strcmp(o, "--device") == 0)
			dst = &v.device, bit = OPT_DEVICE;
		else if (strcmp(o, "--since") == 0)
			dst = &v.since, bit = OPT_SINCE;
		else if (strcmp(o, "--limit") == 0)
			dst = &v.limit, bit = OPT_LIMIT;
		else if (strcmp(o, "--file") == 0)
			dst = &v.file, bit = OPT_FILE;
		else if (o[0] == '-') {
			fprintf(stderr, "vdictl: unknown option %s\n", o);
			usage(stderr);
			return 2;
		} else if (v.na < 8)
			v.a[v.na++] = o;
		else {
			fprintf(stderr, "vdictl: too many arguments\n");
			return 2;
		}
		if (dst != NULL) {
			if (++i >= argc) {
				fprintf(
				    stderr, "vdictl: %s needs a value\n", o);
				return 2;
			}
			*dst = argv[i];
			v.given |= bit;
		}
	}
	if ((m = vctl_fleet_req(&v, &req, &takes, &rc)) == VCTL_NO &&
	    (m = vctl_policy_req(&v, &req, &takes, &rc)) == VCTL_NO &&
	    (m = vctl_audit_req(&v, &req, &takes, &rc)) == VCTL_NO) {
		usage(stderr);
		return 2;
	}
	if (m == VCTL_DONE)
		return rc;
	if (req == NULL)
		return 1;
	if (vctl_check_opts(json_string_value(json_object_get(req, "cmd")),
		v.given, takes) != 0) {
		json_decref(req);
		return 2;
	}
	if (v.reason != NULL)
		json_object_set_new(req, "reason", json_string(v.reason));
	if (v.tenant != NULL)
		json_object_set_new(req, "tenant", json_string(v.tenant));
	if (v.user != NULL)
		json_object_set_new(req, "user", json_string(v.user));
	if (v.device != NULL)
		json_object_set_new(req, "device", json_string(v.device));
	snprintf(what, sizeof(what), "%s",
	    json_string_value(json_object_get(req, "cmd")));
	rep = vctl_call(sock, req);
	json_decref(req);
	if (rep == NULL)
		return 1;
	rc = json_is_true(json_object_get(rep, "ok")) ? 0 : 1;
	if (rc == 0 && json_object_get(rep, "intact") != NULL &&
	    !json_is_true(json_object_get(rep, "intact")))
		rc = 3; /* audit verify found tampering */
	if (rc == 0 && strcmp(what, "audit.export") == 0) {
		/* The rows go to the file, whatever the output format. */
		rc = vctl_audit_export_write(v.file, rep);
	} else if (json_out) {
		char *s = json_dumps(rep, JSON_INDENT(2) | JSON_SORT_KEYS);

		printf("%s\n", s ? s : "{}");
		free(s);
	} else if (rc == 1) {
		fprintf(stderr, "vdictl: %s: %s\n", vctl_str(rep, "error"),
		    vctl_str(rep, "message"));
	} else {
		print_human(what, rep);
	}
	json_decref(rep);
	return rc;
}
