/*
 * vdictl_policy.c: vdictl's commands on the policy and the broker itself:
 * status (version, store, gateways, certificate and CRL dates, tenants),
 * tenants list, policy reload and policy mode; their requests and their
 * reports.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "vdictl.h"

/* "2027-01-31T00:00:00Z (in 58 days)" or "... (EXPIRED 2 days ago)". */
static const char *
date_in(json_int_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t, now = time(NULL);
	struct tm tm;
	char d[32];
	long days;

	if (t == 0)
		return "-";
	gmtime_r(&tt, &tm);
	strftime(d, sizeof(d), "%Y-%m-%dT%H:%M:%SZ", &tm);
	days = (long)((tt - now) / 86400);
	if (tt >= now)
		snprintf(buf, len, "%s (in %ld days)", d, days);
	else
		snprintf(buf, len, "%s (EXPIRED %ld days ago)", d, -days);
	return buf;
}

static void
print_tenants(json_t *list)
{
	json_t *o;
	size_t i;
	char t1[96], t2[96];

	printf("%-16s %-16s %-8s %-38s %s\n", "TENANT", "MODE", "SET BY",
	    "CRL NEXT UPDATE", "CA NOT AFTER");
	json_array_foreach(list, i, o)
		printf("%-16s %-16s %-8s %-38s %s\n", vctl_str(o, "name"),
		    *vctl_str(o, "mode") ? vctl_str(o, "mode") : "(none)",
		    *vctl_str(o, "mode_source") ? vctl_str(o, "mode_source")
						: "-",
		    date_in(json_integer_value(
				json_object_get(o, "crl_next_update")),
			t1, sizeof(t1)),
		    date_in(
			json_integer_value(json_object_get(o, "ca_not_after")),
			t2, sizeof(t2)));
}

static void
print_status(json_t *rep)
{
	json_t *st = json_object_get(rep, "store"), *o;
	time_t now = time(NULL);
	size_t i;
	char t1[96];

	printf("vdi-brokerd %s, pid %lld, up since %s\n",
	    vctl_str(rep, "version"),
	    (long long)json_integer_value(json_object_get(rep, "pid")),
	    vctl_when(rep, "started", t1, sizeof(t1)));
	printf("store %s: %s%s%s, schema %lld of %lld, %lld bytes\n",
	    vctl_str(st, "path"),
	    !json_is_true(json_object_get(st, "ok")) ? "NOT READABLE"
		: json_is_false(json_object_get(st, "writable"))
		? "NOT WRITABLE"
		: "ok",
	    json_is_false(json_object_get(st, "writable")) ? ": " : "",
	    json_is_false(json_object_get(st, "writable"))
		? vctl_str(st, "reason")
		: "",
	    (long long)json_integer_value(
		json_object_get(st, "schema_version")),
	    (long long)json_integer_value(json_object_get(st, "schema_latest")),
	    (long long)json_integer_value(json_object_get(st, "size_bytes")));
	printf("retention: ended sessions %llds, tickets and token uses %llds "
	       "after expiry (0: kept)\n",
	    (long long)json_integer_value(json_object_get(
		json_object_get(rep, "retention"), "ended_sessions")),
	    (long long)json_integer_value(
		json_object_get(json_object_get(rep, "retention"), "tickets")));
	printf("\n%-24s %-9s %-36s %s\n", "GATEWAY", "POLLING", "LAST HEARD",
	    "CUTS");
	json_array_foreach(json_object_get(rep, "gateways"), i, o) {
		json_int_t h =
		    json_integer_value(json_object_get(o, "last_heard"));
		char ago[160];

		if (h == 0)
			snprintf(ago, sizeof(ago), "never");
		else
			snprintf(ago, sizeof(ago), "%s (%llds ago)",
			    vctl_when(o, "last_heard", t1, sizeof(t1)),
			    (long long)(now - (time_t)h));
		printf("%-24s %-9s %-36s %s\n", vctl_str(o, "name"),
		    json_is_true(json_object_get(o, "polling")) ? "yes" : "no",
		    ago,
		    json_is_true(json_object_get(o, "current"))
			? "has every cut"
			: "BEHIND");
	}
	printf("\n%-12s %-44s %s\n", "FILE", "PATH", "DATE");
	json_array_foreach(json_object_get(rep, "certificates"), i, o) {
		char d[160];

		snprintf(d, sizeof(d), "%s %s", vctl_str(o, "date"),
		    date_in(json_integer_value(json_object_get(o, "when")), t1,
			sizeof(t1)));
		printf("%-12s %-44s %s\n", vctl_str(o, "what"),
		    vctl_str(o, "path"), d);
	}
	printf("\n");
	print_tenants(json_object_get(rep, "tenants"));
}

enum vctl_match
vctl_policy_req(struct vctl_args *v, json_t **req, unsigned int *takes, int *rc)
{
	(void)rc;
#define IS(n, s) VCTL_IS(v, n, s)
	if (IS(0, "status") && v->na == 1)
		*req = json_pack("{s:s}", "cmd", "status");
	else if (IS(0, "tenants") && IS(1, "list") && v->na == 2)
		*req = json_pack("{s:s}", "cmd", "tenants.list");
	else if (IS(0, "policy") && IS(1, "reload") && v->na == 2)
		*req = json_pack("{s:s}", "cmd", "policy.reload");
	else if (IS(0, "policy") && IS(1, "mode") && v->na == 4) {
		*req = json_pack(
		    "{s:s, s:s}", "cmd", "policy.mode", "tenant", v->a[2]);
		if (*req != NULL)
			json_object_set_new(*req, "mode",
			    strcmp(v->a[3], "default") == 0
				? json_null()
				: json_string(v->a[3]));
		*takes = OPT_REASON;
	} else
		return VCTL_NO;
	return VCTL_REQ;
#undef IS
}

int
vctl_policy_print(const char *what, json_t *rep)
{
	if (strcmp(what, "status") == 0) {
		print_status(rep);
		return 1;
	}
	if (strcmp(what, "tenants.list") == 0) {
		print_tenants(json_object_get(rep, "tenants"));
		return 1;
	}
	return 0;
}
