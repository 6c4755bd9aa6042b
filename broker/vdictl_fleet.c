/*
 * vdictl_fleet.c: vdictl's commands on what runs: sessions (list, kill),
 * desktops (list, drain, enable), devices (list, revoke) and the cuts in
 * force; their requests and their tables.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "vdictl.h"

enum vctl_match
vctl_fleet_req(struct vctl_args *v, json_t **req, unsigned int *takes, int *rc)
{
#define IS(n, s) VCTL_IS(v, n, s)
	if (IS(0, "sessions") && IS(1, "list") && v->na == 2) {
		*req = json_pack(
		    "{s:s, s:b}", "cmd", "sessions.list", "all", v->all);
		*takes = OPT_ALL | OPT_TENANT;
	} else if (IS(0, "sessions") && IS(1, "kill") && v->na == 3) {
		*req = json_pack(
		    "{s:s, s:s}", "cmd", "sessions.kill", "id", v->a[2]);
		*takes = OPT_REASON;
	} else if (IS(0, "desktops") && IS(1, "list") && v->na == 2)
		*req = json_pack("{s:s}", "cmd", "desktops.list");
	else if (IS(0, "desktops") && (IS(1, "drain") || IS(1, "enable")) &&
	    v->na == 3) {
		*req = json_pack("{s:s, s:s}", "cmd",
		    IS(1, "drain") ? "desktops.drain" : "desktops.enable",
		    "name", v->a[2]);
		*takes = OPT_REASON;
	} else if (IS(0, "devices") && IS(1, "list") && v->na == 2) {
		*req = json_pack("{s:s}", "cmd", "devices.list");
		*takes = OPT_TENANT;
	} else if (IS(0, "devices") && IS(1, "revoke") && v->na == 3) {
		if (vctl_thumb_arg("devices revoke", v->a[2], v->dev) != 0)
			return vctl_done(rc, 2);
		*req = json_pack("{s:s, s:s}", "cmd", "devices.revoke",
		    "thumbprint", v->dev);
		*takes = OPT_REASON;
	} else if (IS(0, "cuts") && IS(1, "list") && v->na == 2)
		*req = json_pack("{s:s}", "cmd", "cuts.list");
	else
		return VCTL_NO;
	return VCTL_REQ;
#undef IS
}

int
vctl_fleet_print(json_t *rep)
{
	json_t *list, *o;
	size_t i;
	char t1[32], t2[32];

	if ((list = json_object_get(rep, "sessions")) != NULL) {
		printf("%-32s %-10s %-16s %-12s %-14s %-64s %s\n", "SESSION",
		    "TENANT", "USER", "STATE", "DESKTOP", "DEVICE", "UPDATED");
		json_array_foreach(list, i, o)
			printf("%-32s %-10s %-16s %-12s %-14s %-64s %s\n",
			    vctl_str(o, "id"), vctl_str(o, "tenant"),
			    vctl_str(o, "user"), vctl_str(o, "state"),
			    vctl_str(o, "desktop"), vctl_str(o, "device"),
			    vctl_when(o, "updated", t1, sizeof(t1)));
		return 1;
	}
	if ((list = json_object_get(rep, "desktops")) != NULL) {
		printf("%-16s %-12s %-10s %-22s %-9s %-8s %-9s %s\n", "DESKTOP",
		    "POOL", "TENANT", "ADDRESS", "HEALTH", "DRAINED",
		    "SESSIONS", "REASON");
		json_array_foreach(list, i, o) {
			char addr[300];

			snprintf(addr, sizeof(addr), "%s:%lld",
			    vctl_str(o, "host"),
			    (long long)json_integer_value(
				json_object_get(o, "port")));
			printf("%-16s %-12s %-10s %-22s %-9s %-8s %3lld/%-5lld "
			       "%s\n",
			    vctl_str(o, "name"), vctl_str(o, "pool"),
			    vctl_str(o, "tenant"), addr,
			    json_is_true(json_object_get(o, "healthy"))
				? "healthy"
				: "DOWN",
			    json_is_true(json_object_get(o, "drained")) ? "yes"
									: "no",
			    (long long)json_integer_value(
				json_object_get(o, "sessions")),
			    (long long)json_integer_value(
				json_object_get(o, "capacity")),
			    vctl_str(o, "reason"));
		}
		return 1;
	}
	if ((list = json_object_get(rep, "devices")) != NULL) {
		printf("%-64s %-10s %-20s %-20s %s\n", "THUMBPRINT", "TENANT",
		    "LAST SEEN", "REVOKED", "SUBJECT");
		json_array_foreach(list, i, o)
			printf("%-64s %-10s %-20s %-20s %s\n",
			    vctl_str(o, "thumbprint"), vctl_str(o, "tenant"),
			    vctl_when(o, "last_seen", t1, sizeof(t1)),
			    vctl_when(o, "revoked_at", t2, sizeof(t2)),
			    vctl_str(o, "subject"));
		return 1;
	}
	if ((list = json_object_get(rep, "cuts")) != NULL) {
		printf("%-6s %-8s %-64s %-16s %-20s %s\n", "SEQ", "KIND",
		    "NAME", "REASON", "HELD UNTIL", "KEEP_JTI");
		json_array_foreach(list, i, o)
			printf("%-6lld %-8s %-64s %-16s %-20s %s\n",
			    (long long)json_integer_value(
				json_object_get(o, "seq")),
			    vctl_str(o, "kind"), vctl_str(o, "name"),
			    vctl_str(o, "reason"),
			    vctl_when(o, "expires", t1, sizeof(t1)),
			    vctl_str(o, "keep_jti")[0] ? vctl_str(o, "keep_jti")
						       : "-");
		printf("\n%-24s %-8s %s\n", "GATEWAY", "ACKED", "STATE");
		json_array_foreach(json_object_get(rep, "gateways"), i, o) {
			long long a = (long long)json_integer_value(
			    json_object_get(o, "acked"));

			printf("%-24s %-8lld %s\n", vctl_str(o, "name"), a,
			    json_is_true(json_object_get(o, "current"))
				? "has every cut"
				: a == 0 ? "NOT POLLING: cuts not acknowledged"
					 : "BEHIND: cuts not acknowledged");
		}
		return 1;
	}
	return 0;
}
