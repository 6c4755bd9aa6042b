/*
 * Unit tests for the evaluator (policies/eval.c): deny by default, first
 * match wins, groups and users, device classes, sites over IPv4 and IPv6,
 * time windows across midnight, across DST in New York and in Tokyo,
 * modes overriding sites, rules and limits, zones, channel classes, shared
 * devices, traces and the log line.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "policy.h"
#include "test_policy_util.h"

static const char conf[] =
    "version = 1;\n"
    "limits = { idle_disconnect = \"20m\"; };\n"
    "channels = { audio_out = false; };\n"
    "time_windows = {\n"
    "  office = { time_zone = \"Asia/Tokyo\"; days = [\"weekdays\"];\n"
    "             hours = \"08:30-17:15\"; };\n"
    "  night = { time_zone = \"Asia/Tokyo\"; hours = \"22:00-06:00\"; };\n"
    "  ny-night = { time_zone = \"America/New_York\"; days = [\"sun\"];\n"
    "               hours = \"01:30-03:30\"; };\n"
    "};\n"
    "sites = {\n"
    "  hq = [\"192.0.2.0/24\", \"2001:db8:1::/48\"];\n"
    "  lte = [\"198.51.100.0/24\", \"2001:db8:100::/40\"];\n"
    "};\n"
    "zones = {\n"
    "  lgwan = { sites = [\"hq\"]; };\n"
    "  internet = { };\n"
    "};\n"
    "tenants = {\n"
    "  t1 = { ca = \"pki/t1/ca.pem\"; crl = \"pki/t1/crl.pem\";\n"
    "    device = { classes = [\"field-tablet\", \"shared-tablet\"];\n"
    "               shared_classes = [\"shared-tablet\"]; };\n"
    "    limits = { max_session = \"8h\"; };\n"
    "    admins = [\"boss\"]; admin_groups = [\"it\"]; };\n"
    "  t2 = { ca = \"pki/t2/ca.pem\"; crl = \"pki/t2/crl.pem\";\n"
    "    device = { classes = [\"field-tablet\"]; };\n"
    "    pam_service = \"vdi-t2\";\n"
    "    mode = \"relocation\"; };\n"
    "};\n"
    "modes = {\n"
    "  relocation = {\n"
    "    sites = { hq = [\"203.0.113.0/24\"]; };\n"
    "    limits = { reconnect_window = \"30m\"; };\n"
    "    rules = ( { name = \"reloc-evac\"; action = \"allow\";\n"
    "                groups = [\"evac\"]; pools = [\"t1-internet\"]; } );\n"
    "  };\n"
    "  lockdown = { inherit_rules = false;\n"
    "    channels = { audio_out = true; };\n"
    "    rules = ( { name = \"lockdown-it\"; action = \"allow\";\n"
    "                groups = [\"it\"]; pools = [\"t1-lgwan\"]; } ); };\n"
    "  t2only = { tenants = [\"t2\"]; };\n"
    "};\n"
    "pools = {\n"
    "  t1-lgwan = { tenant = \"t1\"; zone = \"lgwan\"; assignment = "
    "\"persistent\";\n"
    "    security = \"nla\";\n"
    "    desktop_ranges = ( { prefix = \"lg-\"; count = 3; address = "
    "\"10.1.0.10\"; } ); };\n"
    "  t1-internet = { tenant = \"t1\"; zone = \"internet\"; assignment = "
    "\"pooled\";\n"
    "    desktops = ( { name = \"in-1\"; address = \"[2001:db8:5::1]:3390\";\n"
    "      pin = "
    "\"00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF\"; } "
    "); };\n"
    "  t1-night = { tenant = \"t1\"; zone = \"internet\"; assignment = "
    "\"pooled\";\n"
    "    desktops = ( { name = \"ni-1\"; address = \"night.example:3389\"; "
    "capacity = 4; } ); };\n"
    "  t2-pool = { tenant = \"t2\"; zone = \"internet\"; assignment = "
    "\"pooled\";\n"
    "    desktops = ( { name = \"t2-1\"; address = \"10.2.0.1\"; } ); };\n"
    "};\n"
    "rules = (\n"
    "  { name = \"block-lost\"; action = \"deny\"; users = [\"lost-user\"]; "
    "},\n"
    "  { name = \"office\"; action = \"allow\"; groups = [\"staff\"];\n"
    "    sites = [\"hq\"]; time = [\"office\"];\n"
    "    pools = [\"t1-lgwan\", \"t1-internet\"]; },\n"
    "  { name = \"field\"; action = \"allow\"; groups = [\"staff\", "
    "\"field\"];\n"
    "    sites = [\"lte\"]; device_classes = [\"field-tablet\"];\n"
    "    pools = [\"t1-internet\"];\n"
    "    limits = { idle_disconnect = \"5m\"; };\n"
    "    channels = { audio_out = true; }; },\n"
    "  { name = \"oncall-night\"; action = \"allow\"; groups = [\"oncall\"];\n"
    "    time = [\"night\"]; pools = [\"t1-night\"]; },\n"
    "  { name = \"shared\"; action = \"allow\"; groups = [\"staff\"];\n"
    "    device_classes = [\"shared-tablet\"]; pools = [\"t1-internet\"]; },\n"
    "  { name = \"ny\"; action = \"allow\"; users = [\"nyc\"];\n"
    "    time = [\"ny-night\"]; pools = [\"t1-internet\"]; },\n"
    "  { name = \"remote-lgwan\"; action = \"allow\"; groups = [\"remote\"];\n"
    "    pools = [\"t1-lgwan\"]; },\n"
    "  { name = \"t2-staff\"; action = \"allow\"; groups = [\"staff\"];\n"
    "    sites = [\"hq\"]; pools = [\"t2-pool\"]; }\n"
    ");\n";

static char tmpdir[256];
static struct policy *pol;

/* Friday 2026-11-20 10:00 in Tokyo. */
#define FRI_10 "2026-11-20T10:00+09:00"

static int
setup(void **state)
{
	struct tp_ca ca;
	struct policy_errors e;

	tp_enter_tmpdir(tmpdir, sizeof(tmpdir));
	tp_tenant_pki("pki", "t1", &ca, NULL, 0);
	tp_ca_free(&ca);
	tp_tenant_pki("pki", "t2", &ca, NULL, 0);
	tp_ca_free(&ca);
	tp_write("policy.conf", conf);
	if (policy_load_file("policy.conf", NULL, &pol, &e) != 0) {
		fprintf(stderr, "%s", e.text != NULL ? e.text : "?");
		policy_errors_clear(&e);
		return -1;
	}
	return 0;
}

static int
teardown(void **state)
{
	policy_unref(pol);
	tp_leave_tmpdir(tmpdir);
	return 0;
}

struct q {
	const char *tenant, *user, *groups, *dclass, *from, *at, *mode;
};

static struct policy_decision
ask(const struct q *q)
{
	struct policy_request req;
	struct policy_decision d;
	struct vdi_addr from;
	const char *groups[8];
	char gbuf[128], *tok, *save = NULL;
	size_t n = 0;

	memset(&req, 0, sizeof(req));
	if (q->groups != NULL) {
		snprintf(gbuf, sizeof(gbuf), "%s", q->groups);
		for (tok = strtok_r(gbuf, ",", &save); tok != NULL && n < 8;
		     tok = strtok_r(NULL, ",", &save))
			groups[n++] = tok;
	}
	req.tenant = q->tenant != NULL ? q->tenant : "t1";
	req.user = q->user != NULL ? q->user : "sato";
	req.groups = groups;
	req.ngroups = n;
	req.device_class = q->dclass != NULL ? q->dclass : "field-tablet";
	assert_int_equal(
	    vdi_addr_parse(q->from != NULL ? q->from : "192.0.2.10", &from), 0);
	req.from = &from;
	assert_int_equal(
	    policy_time_parse(q->at != NULL ? q->at : FRI_10, &req.now), 0);
	req.mode = q->mode;
	assert_int_equal(policy_evaluate(pol, &req, &d, NULL, NULL), 0);
	return d;
}

static void
expect_allow(const struct q *q, const char *rule, const char *pools)
{
	struct policy_decision d = ask(q);
	char got[256] = "";
	size_t i;

	if (d.verdict != POLICY_ALLOW)
		fail_msg("expected allow by %s, got deny (%s)", rule,
		    policy_reason_str(d.reason));
	assert_non_null(d.rule);
	assert_string_equal(policy_rule_name(d.rule), rule);
	assert_int_equal(d.reason, POLICY_REASON_ALLOWED);
	for (i = 0; i < d.npools; i++) {
		strcat(got, i > 0 ? "," : "");
		strcat(got, policy_pool_name(d.pools[i]));
	}
	assert_string_equal(got, pools);
}

static void
expect_deny(const struct q *q, enum policy_reason reason, const char *rule)
{
	struct policy_decision d = ask(q);

	if (d.verdict != POLICY_DENY)
		fail_msg("expected deny (%s), got allow by %s",
		    policy_reason_str(reason), policy_rule_name(d.rule));
	if (d.reason != reason)
		fail_msg("expected reason \"%s\", got \"%s\"",
		    policy_reason_str(reason), policy_reason_str(d.reason));
	if (rule == NULL)
		assert_true(d.rule == NULL && d.closest == NULL);
	else if (reason == POLICY_REASON_RULE_DENIES ||
	    reason == POLICY_REASON_ZONE)
		assert_string_equal(policy_rule_name(d.rule), rule);
	else
		assert_string_equal(policy_rule_name(d.closest), rule);
	assert_int_equal(d.npools, 0);
	assert_int_equal(d.channels, 0);
	assert_int_equal(d.limits.reconnect_window, 0);
}

static void
policy_tenant_desktop__when_dst__only_the_tenants_own_desktops(void **state)
{
	const struct policy_desktop *d;

	d = policy_tenant_desktop(pol, "t1", "10.1.0.11", 3389);
	assert_non_null(d);
	assert_string_equal(d->name, "lg-002");
	d = policy_tenant_desktop(pol, "t1", "2001:db8:5::1", 3390);
	assert_non_null(d);
	assert_string_equal(d->name, "in-1");
	d = policy_tenant_desktop(pol, "t1", "NIGHT.example", 3389);
	assert_non_null(d);
	assert_string_equal(d->name, "ni-1");
	/* Another port, a host no pool lists, another tenant's desktop. */
	assert_null(policy_tenant_desktop(pol, "t1", "10.1.0.11", 22));
	assert_null(policy_tenant_desktop(pol, "t1", "10.1.0.99", 3389));
	assert_null(policy_tenant_desktop(pol, "t1", "10.2.0.1", 3389));
	assert_non_null(policy_tenant_desktop(pol, "t2", "10.2.0.1", 3389));
	assert_null(policy_tenant_desktop(pol, "t2", "10.1.0.11", 3389));
	assert_null(policy_tenant_desktop(pol, "nobody", "10.2.0.1", 3389));
	assert_null(policy_tenant_desktop(pol, NULL, "10.2.0.1", 3389));
}

static void
policy_evaluate__when_no_rule_matches__deny_by_default(void **state)
{
	struct q q = { .tenant = "t2",
		.user = "nobody",
		.mode = "none",
		.from = "198.51.100.1" };
	struct q t1 = { .user = "nobody" };

	/* No rule comes close: t2's only rule wants staff at hq. */
	expect_deny(&q, POLICY_REASON_NO_RULE, NULL);
	q.groups = "visitors,guests";
	expect_deny(&q, POLICY_REASON_NO_RULE, NULL);
	/* At hq only the group is missing. */
	q.from = "192.0.2.1";
	expect_deny(&q, POLICY_REASON_GROUP, "t2-staff");
	/* For t1, "office" fails on the group alone. */
	expect_deny(&t1, POLICY_REASON_GROUP, "office");
}

static void
policy_evaluate__when_several_rules_match__first_wins(void **state)
{
	/* staff and remote: "office" comes before "remote-lgwan". */
	struct q q = { .groups = "remote,staff" };
	struct q lost = { .user = "lost-user", .groups = "staff" };

	expect_allow(&q, "office", "t1-lgwan,t1-internet");
	/* A deny rule before everything else wins over "office". */
	expect_deny(&lost, POLICY_REASON_RULE_DENIES, "block-lost");
}

static void
policy_evaluate__when_groups_or_users__either_matches(void **state)
{
	struct q staff = { .groups = "staff" };
	struct q other = { .groups = "finance" };
	struct q field = { .groups = "field", .from = "198.51.100.7" };

	expect_allow(&staff, "office", "t1-lgwan,t1-internet");
	/* All but the group holds for "office": the reason says groups. */
	expect_deny(&other, POLICY_REASON_GROUP, "office");
	expect_allow(&field, "field", "t1-internet");
}

static void
policy_evaluate__when_device_class__tenant_and_rule_decide(void **state)
{
	struct q kiosk = { .groups = "staff", .dclass = "kiosk" };
	struct q shared = { .groups = "staff",
		.from = "198.51.100.7",
		.dclass = "shared-tablet" };
	struct q fieldonly = { .groups = "field",
		.from = "198.51.100.7",
		.dclass = "shared-tablet" };

	/* Not a class of the tenant at all. */
	expect_deny(&kiosk, POLICY_REASON_DEVICE_CLASS, NULL);
	/* "field" wants field-tablet; "shared" takes shared tablets. */
	expect_allow(&shared, "shared", "t1-internet");
	/* Only "field" would fit, but for the class. */
	expect_deny(&fieldonly, POLICY_REASON_DEVICE_CLASS, "field");
}

static void
policy_evaluate__when_shared_device__no_reconnect_ticket(void **state)
{
	struct q shared = { .groups = "staff",
		.from = "198.51.100.7",
		.dclass = "shared-tablet" };
	struct q own = { .groups = "staff", .from = "198.51.100.7" };
	struct policy_decision d;

	d = ask(&shared);
	assert_int_equal(d.verdict, POLICY_ALLOW);
	assert_int_equal(d.limits.shared_device, 1);
	assert_int_equal(d.limits.reconnect_ticket, 0);
	d = ask(&own);
	assert_int_equal(d.verdict, POLICY_ALLOW);
	assert_int_equal(d.limits.shared_device, 0);
	assert_int_equal(d.limits.reconnect_ticket, 1);
}

static void
policy_evaluate__when_sites_ipv4_ipv6__cidr_match(void **state)
{
	struct q q = { .groups = "staff" };

	q.from = "192.0.2.200";
	expect_allow(&q, "office", "t1-lgwan,t1-internet");
	q.from = "2001:db8:1:ff::5";
	expect_allow(&q, "office", "t1-lgwan,t1-internet");
	/* An IPv4 client seen on an IPv6 socket. */
	q.from = "::ffff:192.0.2.9";
	expect_allow(&q, "office", "t1-lgwan,t1-internet");
	/* Field LTE over IPv6. */
	q.from = "2001:db8:1ff::1";
	expect_allow(&q, "field", "t1-internet");
	/* Just outside both. */
	q.from = "192.0.3.1";
	expect_deny(&q, POLICY_REASON_SITE, "office");
	q.from = "2001:db8:2::1";
	expect_deny(&q, POLICY_REASON_SITE, "office");
}

static void
policy_evaluate__when_window_crosses_midnight__next_morning_counts(void **state)
{
	struct q q = { .groups = "oncall", .from = "198.51.100.9" };

	q.at = "2026-11-20T21:59+09:00";
	expect_deny(&q, POLICY_REASON_OUTSIDE_TIME, "oncall-night");
	q.at = "2026-11-20T22:00+09:00";
	expect_allow(&q, "oncall-night", "t1-night");
	q.at = "2026-11-21T03:00+09:00";
	expect_allow(&q, "oncall-night", "t1-night");
	q.at = "2026-11-21T05:59:59+09:00";
	expect_allow(&q, "oncall-night", "t1-night");
	q.at = "2026-11-21T06:00+09:00";
	expect_deny(&q, POLICY_REASON_OUTSIDE_TIME, "oncall-night");
}

static void
policy_evaluate__when_tokyo_office_hours__boundaries(void **state)
{
	struct q q = { .groups = "staff" };

	q.at = "2026-11-20T08:29+09:00";
	expect_deny(&q, POLICY_REASON_OUTSIDE_TIME, "office");
	q.at = "2026-11-20T08:30+09:00";
	expect_allow(&q, "office", "t1-lgwan,t1-internet");
	q.at = "2026-11-20T17:14:59+09:00";
	expect_allow(&q, "office", "t1-lgwan,t1-internet");
	q.at = "2026-11-20T17:15+09:00";
	expect_deny(&q, POLICY_REASON_OUTSIDE_TIME, "office");
	/* Saturday. */
	q.at = "2026-11-21T09:00+09:00";
	expect_deny(&q, POLICY_REASON_OUTSIDE_TIME, "office");
	/* Friday 10:00 in Tokyo is Friday 01:00 UTC. */
	q.at = "2026-11-20T01:00:00Z";
	expect_allow(&q, "office", "t1-lgwan,t1-internet");
}

static void
policy_evaluate__when_dst_changes_in_new_york__wall_clock(void **state)
{
	struct q q = { .user = "nyc", .from = "198.51.100.9" };

	/* Spring forward, 2026-03-08: 01:30 EST .. 03:30 EDT is one hour. */
	q.at = "2026-03-08T01:29-05:00";
	expect_deny(&q, POLICY_REASON_OUTSIDE_TIME, "ny");
	q.at = "2026-03-08T01:59-05:00";
	expect_allow(&q, "ny", "t1-internet");
	q.at = "2026-03-08T03:00-04:00"; /* the next minute */
	expect_allow(&q, "ny", "t1-internet");
	q.at = "2026-03-08T03:30-04:00";
	expect_deny(&q, POLICY_REASON_OUTSIDE_TIME, "ny");
	/* Fall back, 2026-11-01: 01:30-01:59 happens twice. */
	q.at = "2026-11-01T01:45-04:00";
	expect_allow(&q, "ny", "t1-internet");
	q.at = "2026-11-01T01:15-05:00";
	expect_deny(&q, POLICY_REASON_OUTSIDE_TIME, "ny");
	q.at = "2026-11-01T01:45-05:00";
	expect_allow(&q, "ny", "t1-internet");
	q.at = "2026-11-01T03:29-05:00";
	expect_allow(&q, "ny", "t1-internet");
}

static void
policy_evaluate__when_mode_overrides_sites__new_networks_admitted(void **state)
{
	struct q q = { .groups = "staff", .mode = "relocation" };
	struct policy_decision d;

	/* The office moved: its new network is "hq" in this mode, for the
	 * rule and for the lgwan zone. */
	q.from = "203.0.113.40";
	expect_allow(&q, "office", "t1-lgwan,t1-internet");
	d = ask(&q);
	assert_non_null(d.mode);
	assert_string_equal(policy_mode_name(d.mode), "relocation");
	/* The old network is no longer hq. */
	q.from = "192.0.2.10";
	expect_deny(&q, POLICY_REASON_SITE, "office");
	/* Without the mode it is the other way round. */
	q.mode = "none";
	expect_allow(&q, "office", "t1-lgwan,t1-internet");
	q.from = "203.0.113.40";
	expect_deny(&q, POLICY_REASON_SITE, "office");
}

static void
policy_evaluate__when_mode_has_rules__they_come_first(void **state)
{
	struct q evac = {
		.groups = "evac", .from = "203.0.113.40", .mode = "relocation"
	};
	struct q it = { .groups = "it" };
	struct q staff = { .groups = "staff", .mode = "lockdown" };

	expect_allow(&evac, "reloc-evac", "t1-internet");
	evac.mode = NULL; /* t1's file mode is none */
	expect_deny(&evac, POLICY_REASON_GROUP, "remote-lgwan");
	/* lockdown replaces the base rules. */
	it.mode = "lockdown";
	expect_allow(&it, "lockdown-it", "t1-lgwan");
	expect_deny(&staff, POLICY_REASON_GROUP, "lockdown-it");
}

static void
policy_evaluate__when_mode_overrides_limits__longer_reconnect(void **state)
{
	struct q q = { .groups = "staff" };
	struct policy_decision d;

	d = ask(&q);
	assert_int_equal(d.verdict, POLICY_ALLOW);
	/* top-level idle 20m, tenant max 8h, built-in reconnect 5m */
	assert_int_equal(d.limits.idle_disconnect, 1200);
	assert_int_equal(d.limits.max_session, 28800);
	assert_int_equal(d.limits.reconnect_window, 300);
	assert_int_equal(d.limits.single_session, 1);
	q.mode = "relocation";
	q.from = "203.0.113.40";
	d = ask(&q);
	assert_int_equal(d.verdict, POLICY_ALLOW);
	assert_int_equal(d.limits.reconnect_window, 1800);
	assert_int_equal(d.limits.idle_disconnect, 1200);
	/* A rule's own limits. */
	q.mode = NULL;
	q.from = "198.51.100.3";
	d = ask(&q);
	assert_string_equal(policy_rule_name(d.rule), "field");
	assert_int_equal(d.limits.idle_disconnect, 300);
}

static void
policy_evaluate__when_mode_unknown_or_not_for_tenant__deny(void **state)
{
	struct q q = { .groups = "staff", .mode = "nosuch" };
	struct q t2 = {
		.tenant = "t2", .groups = "staff", .from = "203.0.113.5"
	};
	struct policy_decision d;

	expect_deny(&q, POLICY_REASON_UNKNOWN_MODE, NULL);
	q.mode = "t2only";
	expect_deny(&q, POLICY_REASON_UNKNOWN_MODE, NULL);
	/* t2 is in relocation by its file: hq is the new network. */
	expect_allow(&t2, "t2-staff", "t2-pool");
	d = ask(&t2);
	assert_string_equal(policy_mode_name(d.mode), "relocation");
	t2.mode = "none";
	expect_deny(&t2, POLICY_REASON_SITE, "t2-staff");
	t2.mode = "t2only";
	t2.from = "192.0.2.1";
	expect_allow(&t2, "t2-staff", "t2-pool");
}

static void
policy_evaluate__when_audio_out__only_where_granted(void **state)
{
	struct q office = { .groups = "staff" };
	struct q field = { .groups = "staff", .from = "198.51.100.3" };
	struct q it = { .groups = "it", .mode = "lockdown" };
	struct policy_decision d;
	char buf[64];

	d = ask(&office);
	assert_int_equal(d.channels, POLICY_CH_DISPLAY | POLICY_CH_INPUT);
	assert_string_equal(
	    policy_channels_format(d.channels, buf, sizeof(buf)),
	    "display,input");
	d = ask(&field);
	assert_int_equal(d.channels,
	    POLICY_CH_DISPLAY | POLICY_CH_INPUT | POLICY_CH_AUDIO_OUT);
	assert_string_equal(
	    policy_channels_format(d.channels, buf, sizeof(buf)),
	    "display,input,audio_out");
	d = ask(&it);
	assert_true(d.channels & POLICY_CH_AUDIO_OUT);
}

static void
policy_evaluate__when_zone_unreachable__pool_dropped_or_deny(void **state)
{
	struct q remote = { .groups = "remote", .from = "198.51.100.3" };

	/* lgwan is reachable from hq only. */
	expect_deny(&remote, POLICY_REASON_ZONE, "remote-lgwan");
	remote.from = "192.0.2.50";
	expect_allow(&remote, "remote-lgwan", "t1-lgwan");
}

static void
policy_evaluate__when_tenant_unknown__deny(void **state)
{
	struct q q = { .tenant = "t9", .groups = "staff" };

	expect_deny(&q, POLICY_REASON_UNKNOWN_TENANT, NULL);
}

struct trace_log {
	char names[512];
	unsigned int failed[16];
	size_t n;
};

static void
trace_cb(void *arg, const struct policy_rule *r, unsigned int failed)
{
	struct trace_log *t = arg;

	strcat(t->names, policy_rule_name(r));
	strcat(t->names, " ");
	if (t->n < 16)
		t->failed[t->n] = failed;
	t->n++;
}

static void
policy_evaluate__when_traced__every_rule_until_decision(void **state)
{
	struct policy_request req;
	struct policy_decision d;
	struct trace_log t;
	struct vdi_addr from;
	const char *groups[] = { "oncall" };
	char kv[512];

	memset(&req, 0, sizeof(req));
	memset(&t, 0, sizeof(t));
	assert_int_equal(vdi_addr_parse("198.51.100.9", &from), 0);
	req.tenant = "t1";
	req.user = "sato";
	req.groups = groups;
	req.ngroups = 1;
	req.device_class = "field-tablet";
	req.from = &from;
	assert_int_equal(
	    policy_time_parse("2026-11-20T23:00+09:00", &req.now), 0);
	assert_int_equal(policy_evaluate(pol, &req, &d, trace_cb, &t), 0);
	assert_string_equal(t.names, "block-lost office field oncall-night ");
	assert_int_equal(t.failed[0], POLICY_COND_USER);
	assert_int_equal(t.failed[1],
	    POLICY_COND_USER | POLICY_COND_SITE | POLICY_COND_TIME);
	assert_int_equal(t.failed[2], POLICY_COND_USER);
	assert_int_equal(t.failed[3], 0);
	assert_int_equal(policy_decision_format_kv(&d, kv, sizeof(kv)), 0);
	assert_string_equal(kv,
	    "verdict=allow tenant=t1 rule=oncall-night "
	    "rule_src=policy.conf:65 mode=none pools=t1-night "
	    "idle_disconnect=1200 reconnect_window=300 max_session=28800 "
	    "single_session=1 reconnect_ticket=1 shared_device=0 "
	    "channels=display,input reason=\"allowed\"");
	assert_int_equal(
	    policy_decision_format_kv(&d, kv, 20), VDI_ERR_TOO_LARGE);
	assert_int_equal(strlen(kv), 19);
	assert_int_equal(
	    policy_evaluate(pol, NULL, &d, NULL, NULL), VDI_ERR_INVALID_ARG);
	assert_int_equal(d.verdict, POLICY_DENY);
}

static void
policy_accessors__when_tenant_and_pools__expose_the_file(void **state)
{
	const struct policy_tenant *t1 = policy_tenant_lookup(pol, "t1");
	const struct policy_tenant *t2 = policy_tenant_lookup(pol, "t2");
	const struct policy_pool *lg = policy_pool_lookup(pol, "t1-lgwan");
	const struct policy_pool *in = policy_pool_lookup(pol, "t1-internet");
	const struct policy_desktop *d;
	const char *it[] = { "it" };

	assert_true(policy_tenant_is_admin(t1, "boss", NULL, 0));
	assert_true(policy_tenant_is_admin(t1, "x", it, 1));
	assert_false(policy_tenant_is_admin(t1, "x", NULL, 0));
	assert_false(policy_tenant_is_admin(t2, "boss", NULL, 0));
	assert_string_equal(policy_tenant_pam_service(t2), "vdi-t2");
	assert_string_equal(
	    policy_mode_name(policy_tenant_mode(t2)), "relocation");
	assert_null(policy_tenant_mode(t1));
	assert_int_equal(policy_pool_assignment(lg), POLICY_ASSIGN_PERSISTENT);
	assert_string_equal(policy_pool_zone(lg), "lgwan");
	assert_int_equal(policy_pool_desktop_count(lg), 3);
	d = policy_pool_desktop(lg, 2);
	assert_string_equal(d->name, "lg-003");
	assert_string_equal(d->host, "10.1.0.12");
	assert_int_equal(d->security, POLICY_SEC_NLA);
	assert_null(policy_pool_desktop(lg, 3));
	d = policy_pool_desktop(in, 0);
	assert_string_equal(d->host, "2001:db8:5::1");
	assert_int_equal(d->port, 3390);
	assert_int_equal(d->security, POLICY_SEC_TLS);
	assert_true(d->has_pin);
	assert_int_equal(d->pin[0], 0x00);
	assert_int_equal(d->pin[31], 0xff);
	assert_int_equal(
	    policy_pool_desktop(policy_pool_lookup(pol, "t1-night"), 0)
		->capacity,
	    4);
	assert_int_equal(policy_mode_count(pol), 3);
}

static struct policy *
load_text(const char *text)
{
	struct policy_errors e;
	struct policy *p = NULL;

	if (policy_load_string(text, "groups.conf", NULL, NULL, &p, &e) != 0) {
		fprintf(stderr, "%s", e.text != NULL ? e.text : "?");
		policy_errors_clear(&e);
	}
	return p;
}

#define GROUPS_BASE                                                            \
	"version = 1;\n"                                                       \
	"zones = { dc = { }; };\n"                                             \
	"tenants = { t1 = { ca = \"pki/t1/ca.pem\"; crl = "                    \
	"\"pki/t1/crl.pem\";\n"                                                \
	"  device = { classes = [\"field-tablet\"]; }; }; };\n"                \
	"pools = { p = { tenant = \"t1\"; zone = \"dc\"; assignment = "        \
	"\"pooled\"; security = \"tls\"; desktops = ( { name = \"d\"; "        \
	"address = \"192.0.2.1:3389\"; } ); }; };\n"

static void
policy_uses_groups__when_rules_name_groups__1_else_0(void **state)
{
	struct policy *p;

	/* the fixture: base rules and mode rules with groups */
	assert_int_equal(policy_uses_groups(pol), 1);
	p = load_text(
	    GROUPS_BASE "rules = ( { name = \"all\"; action = \"allow\"; "
			"users = [\"sato\"]; pools = [\"p\"]; } );\n");
	assert_non_null(p);
	assert_int_equal(policy_uses_groups(p), 0);
	policy_unref(p);
	p = load_text(GROUPS_BASE
	    "rules = ( { name = \"all\"; action = \"allow\"; "
	    "pools = [\"p\"]; } );\n"
	    "modes = { m = { rules = ( { name = \"g\"; action = \"deny\"; "
	    "groups = [\"x\"]; } ); }; };\n");
	assert_non_null(p);
	assert_int_equal(policy_uses_groups(p), 1);
	policy_unref(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    policy_uses_groups__when_rules_name_groups__1_else_0),
		cmocka_unit_test(
		    policy_tenant_desktop__when_dst__only_the_tenants_own_desktops),
		cmocka_unit_test(
		    policy_evaluate__when_no_rule_matches__deny_by_default),
		cmocka_unit_test(
		    policy_evaluate__when_several_rules_match__first_wins),
		cmocka_unit_test(
		    policy_evaluate__when_groups_or_users__either_matches),
		cmocka_unit_test(
		    policy_evaluate__when_device_class__tenant_and_rule_decide),
		cmocka_unit_test(
		    policy_evaluate__when_shared_device__no_reconnect_ticket),
		cmocka_unit_test(
		    policy_evaluate__when_sites_ipv4_ipv6__cidr_match),
		cmocka_unit_test(
		    policy_evaluate__when_window_crosses_midnight__next_morning_counts),
		cmocka_unit_test(
		    policy_evaluate__when_tokyo_office_hours__boundaries),
		cmocka_unit_test(
		    policy_evaluate__when_dst_changes_in_new_york__wall_clock),
		cmocka_unit_test(
		    policy_evaluate__when_mode_overrides_sites__new_networks_admitted),
		cmocka_unit_test(
		    policy_evaluate__when_mode_has_rules__they_come_first),
		cmocka_unit_test(
		    policy_evaluate__when_mode_overrides_limits__longer_reconnect),
		cmocka_unit_test(
		    policy_evaluate__when_mode_unknown_or_not_for_tenant__deny),
		cmocka_unit_test(
		    policy_evaluate__when_audio_out__only_where_granted),
		cmocka_unit_test(
		    policy_evaluate__when_zone_unreachable__pool_dropped_or_deny),
		cmocka_unit_test(policy_evaluate__when_tenant_unknown__deny),
		cmocka_unit_test(
		    policy_evaluate__when_traced__every_rule_until_decision),
		cmocka_unit_test(
		    policy_accessors__when_tenant_and_pools__expose_the_file),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
