/*
 * Unit tests for the policy loader (policies/load*.c): one test per kind of
 * error, each asserting the exact "FILE:LINE: KEY: problem" of the first
 * message; @include; CA/CRL files; the never-half-loads and refcount
 * contracts.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "policy.h"
#include "test_policy_util.h"

static char tmpdir[256];
static struct tp_ca ca1, ca2;

/* Lines 1..9: a tenant t1 and a zone. */
#define HDR_BASE                                                               \
	"version = 1;\n"                                                       \
	"tenants = {\n"                                                        \
	"  t1 = {\n"                                                           \
	"    ca = \"pki/t1/ca.pem\";\n"                                        \
	"    crl = \"pki/t1/crl.pem\";\n"                                      \
	"    device = { classes = [\"field-tablet\", \"shared-tablet\"]; };\n" \
	"  };\n"                                                               \
	"};\n"                                                                 \
	"zones = { lgwan = { networks = [\"10.0.0.0/16\"]; }; };\n"

/* Lines 1..11: plus a pool p1. Tests append from line 12. */
#define HDR                                                                    \
	HDR_BASE                                                               \
	"pools = { p1 = { tenant = \"t1\"; zone = \"lgwan\"; assignment = "    \
	"\"pooled\";\n"                                                        \
	"  desktops = ( { name = \"d1\"; address = \"10.0.0.1\"; } ); }; };\n"

static int
setup(void **state)
{
	X509 *leaf;
	const long revoked[] = { 99 };

	tp_enter_tmpdir(tmpdir, sizeof(tmpdir));
	tp_tenant_pki("pki", "t1", &ca1, revoked, 1);
	tp_tenant_pki("pki", "t2", &ca2, NULL, 0);
	tp_write("pki/bad/garbage.pem",
	    "-----BEGIN CERTIFICATE-----\nnot "
	    "base64 at all\n-----END CERTIFICATE-----\n");
	leaf = tp_cert_new(
	    &ca1, "/O=t1/OU=field-tablet/CN=t1-leaf", -60, 86400, 7, 0);
	tp_write_cert("pki/bad/leaf.pem", leaf);
	X509_free(leaf);
	return 0;
}

static int
teardown(void **state)
{
	tp_ca_free(&ca1);
	tp_ca_free(&ca2);
	tp_leave_tmpdir(tmpdir);
	return 0;
}

static struct policy *
load_ok(const char *conf)
{
	struct policy *p = NULL;
	struct policy_errors e;
	int r;

	tp_write("policy.conf", conf);
	r = policy_load_file("policy.conf", NULL, &p, &e);
	if (r != 0)
		fail_msg("load failed (%d):\n%s", r,
		    e.text != NULL ? e.text : "(no text)");
	assert_int_equal(e.count, 0);
	assert_null(e.text);
	assert_non_null(p);
	return p;
}

/* Loads conf and asserts that it fails, and that the first error starts
 * with prefix ("policy.conf:12: key: ") and contains contains. */
static void
expect_err(const char *conf, const char *prefix, const char *contains)
{
	struct policy *p = NULL;
	struct policy_errors e;
	char *nl;
	int r;

	tp_write("policy.conf", conf);
	r = policy_load_file("policy.conf", NULL, &p, &e);
	if (r != VDI_ERR_CONFIG || p != NULL || e.text == NULL)
		fail_msg("expected a config error, got %d", r);
	assert_true(e.count >= 1);
	if ((nl = strchr(e.text, '\n')) != NULL)
		*nl = '\0';
	if (strncmp(e.text, prefix, strlen(prefix)) != 0 ||
	    (contains != NULL && strstr(e.text, contains) == NULL))
		fail_msg(
		    "first error:\n  %s\nexpected prefix:\n  %s\nand:\n  %s",
		    e.text, prefix, contains != NULL ? contains : "");
	policy_errors_clear(&e);
}

/* ---- the good case ----------------------------------------------------- */

static void
policy_load_file__when_valid__loads_with_one_reference(void **state)
{
	struct policy *p = load_ok(HDR "rules = ( { name = \"r1\"; action = "
				       "\"allow\"; pools = [\"p1\"]; } );\n");
	const struct policy_tenant *t;
	const struct policy_pool *pool;

	assert_string_equal(policy_source(p), "policy.conf");
	assert_int_equal(policy_tenant_count(p), 1);
	t = policy_tenant_lookup(p, "t1");
	assert_non_null(t);
	assert_string_equal(policy_tenant_pam_service(t), "vdi");
	assert_non_null(policy_tenant_ca(t));
	assert_non_null(policy_tenant_crl(t));
	pool = policy_pool_lookup(p, "p1");
	assert_non_null(pool);
	assert_ptr_equal(policy_pool_tenant(pool), t);
	assert_int_equal(policy_pool_desktop_count(pool), 1);
	assert_string_equal(policy_pool_desktop(pool, 0)->host, "10.0.0.1");
	assert_int_equal(policy_pool_desktop(pool, 0)->port, 3389);
	assert_int_equal(policy_rule_count(p), 1);
	assert_null(policy_pool_lookup(p, "p2"));
	policy_unref(p);
}

static void
policy_ref__when_reloaded__old_object_stays_valid(void **state)
{
	struct policy *old = load_ok(HDR "rules = ( { name = \"r1\"; action = "
					 "\"allow\"; pools = [\"p1\"]; } );\n");
	struct policy *session = policy_ref(old);
	struct policy *p = NULL;
	struct policy_errors e;

	/* A reload with a broken file fails and hands out nothing. */
	tp_write("policy.conf", HDR "rules = ( { name = \"r1\"; } );\n");
	assert_int_equal(
	    policy_load_file("policy.conf", NULL, &p, &e), VDI_ERR_CONFIG);
	assert_null(p);
	policy_errors_clear(&e);
	/* A good reload is a different object. */
	p = load_ok(HDR "rules = ( { name = \"r2\"; action = \"allow\"; pools "
			"= [\"p1\"]; } );\n");
	assert_ptr_not_equal(p, old);
	policy_unref(old); /* the broker drops the old one */
	/* The session still holds it, intact. */
	assert_int_equal(policy_rule_count(session), 1);
	assert_string_equal(policy_rule_name(policy_rule_at(session, 0)), "r1");
	assert_string_equal(policy_rule_name(policy_rule_at(p, 0)), "r2");
	assert_null(policy_rule_at(p, 1));
	assert_non_null(policy_pool_lookup(session, "p1"));
	assert_non_null(policy_tenant_lookup(session, "t1"));
	policy_unref(session);
	policy_unref(p);
	policy_unref(NULL);
}

/* ---- one test per kind of error ---------------------------------------- */

static void
policy_load_file__when_file_missing__error_names_file(void **state)
{
	struct policy *p = NULL;
	struct policy_errors e;

	assert_int_equal(
	    policy_load_file("nope.conf", NULL, &p, &e), VDI_ERR_CONFIG);
	assert_null(p);
	assert_non_null(e.text);
	assert_non_null(strstr(e.text,
	    "nope.conf: cannot read the policy "
	    "file (No such file or directory)"));
	policy_errors_clear(&e);
}

static void
policy_load_file__when_syntax_error__libconfig_line(void **state)
{
	expect_err(HDR "limits = { idle_disconnect = ; };\n",
	    "policy.conf:12: ", "syntax error");
}

static void
policy_load_file__when_unknown_key__lists_allowed(void **state)
{
	expect_err(HDR "colour = \"blue\";\n",
	    "policy.conf:12: colour: unknown key (allowed: version, limits, "
	    "channels, time_windows, sites, zones, tenants, pools, rules, "
	    "modes, crl_warning)",
	    NULL);
	expect_err(HDR
	    "rules = (\n"
	    "  { name = \"r1\"; action = \"allow\"; pools = [\"p1\"];\n"
	    "    colour = 1; }\n"
	    ");\n",
	    "policy.conf:14: rules[0].colour: unknown key (allowed: name, ",
	    "device_classes");
}

static void
policy_load_file__when_wrong_type__names_type_and_expected(void **state)
{
	expect_err(HDR "limits = { idle_disconnect = true; };\n",
	    "policy.conf:12: limits.idle_disconnect: wrong type: boolean "
	    "(expected a duration",
	    NULL);
	expect_err(HDR "sites = { office = \"192.0.2.0/24\"; };\n",
	    "policy.conf:12: sites.office: wrong type: string (expected a list "
	    "of networks",
	    NULL);
	expect_err(HDR "limits = { single_session = \"yes\"; };\n",
	    "policy.conf:12: limits.single_session: wrong type: string "
	    "(expected true or false)",
	    NULL);
}

static void
policy_load_file__when_out_of_range__gives_range(void **state)
{
	expect_err(HDR "limits = { reconnect_window = \"2d\"; };\n",
	    "policy.conf:12: limits.reconnect_window: 172800 seconds is out of "
	    "range (expected 0..86400 seconds)",
	    NULL);
	expect_err(HDR_BASE
	    "pools = { p1 = { tenant = \"t1\"; zone = \"lgwan\";\n"
	    "  assignment = \"pooled\"; capacity = 5000;\n"
	    "  desktops = ( { name = \"d1\"; address = \"10.0.0.1\"; } ); }; "
	    "};\n",
	    "policy.conf:11: pools.p1.capacity: 5000 is out of range (expected "
	    "1..1000)",
	    NULL);
	expect_err("version = 2;\n",
	    "policy.conf:1: version: 2 is out of range (expected 1..1)", NULL);
}

static void
policy_load_file__when_required_key_missing__names_it(void **state)
{
	expect_err(HDR "rules = (\n"
		       "  { name = \"r1\"; pools = [\"p1\"]; }\n"
		       ");\n",
	    "policy.conf:13: rules[0].action: missing (expected \"allow\" or "
	    "\"deny\")",
	    NULL);
	expect_err("sites = { a = [\"192.0.2.0/24\"]; };\n",
	    "policy.conf:1: version: missing (expected version = 1;", NULL);
	expect_err(HDR_BASE
	    "pools = {\n"
	    "  p1 = { tenant = \"t1\"; assignment = \"pooled\";\n"
	    "    desktops = ( { name = \"d1\"; address = \"10.0.0.1\"; } ); "
	    "};\n"
	    "};\n",
	    "policy.conf:11: pools.p1.zone: missing (expected a name from "
	    "zones)",
	    NULL);
}

static void
policy_load_file__when_reference_undefined__names_kind(void **state)
{
	expect_err(HDR "rules = (\n"
		       "  { name = \"r1\"; action = \"allow\";\n"
		       "    pools = [\"p1\", \"p9\"]; }\n"
		       ");\n",
	    "policy.conf:14: rules[0].pools[1]: undefined pool \"p9\" "
	    "(expected a name from pools)",
	    NULL);
	expect_err(HDR "rules = ( { name = \"r1\"; action = \"deny\"; sites = "
		       "[\"hq\"]; } );\n",
	    "policy.conf:12: rules[0].sites[0]: undefined site \"hq\"", NULL);
	expect_err(HDR "rules = ( { name = \"r1\"; action = \"deny\"; time = "
		       "[\"night\"]; } );\n",
	    "policy.conf:12: rules[0].time[0]: undefined time window "
	    "\"night\"",
	    NULL);
	expect_err(HDR "rules = ( { name = \"r1\"; action = \"deny\"; tenants "
		       "= [\"t9\"]; } );\n",
	    "policy.conf:12: rules[0].tenants[0]: undefined tenant \"t9\"",
	    NULL);
	expect_err(HDR
	    "rules = ( { name = \"r1\"; action = \"allow\"; pools = [\"p1\"];\n"
	    "  device_classes = [\"kiosk\"]; } );\n",
	    "policy.conf:13: rules[0].device_classes[0]: undefined device "
	    "class \"kiosk\" (expected a class listed in device.classes of t1)",
	    NULL);
	expect_err(HDR_BASE "pools = { p1 = { tenant = \"t1\"; zone = \"dmz\"; "
			    "assignment = \"pooled\";\n"
			    "  desktops = ( { name = \"d1\"; address = "
			    "\"10.0.0.1\"; } ); }; };\n",
	    "policy.conf:10: pools.p1.zone: undefined zone \"dmz\"", NULL);
	expect_err("version = 1;\n"
		   "tenants = {\n"
		   "  t1 = {\n"
		   "    ca = \"pki/t1/ca.pem\"; crl = \"pki/t1/crl.pem\";\n"
		   "    device = { classes = [\"field-tablet\"]; };\n"
		   "    mode = \"relocation\";\n"
		   "  };\n"
		   "};\n",
	    "policy.conf:6: tenants.t1.mode: undefined mode \"relocation\"",
	    NULL);
}

static void
policy_load_file__when_name_duplicated__both_places(void **state)
{
	/* Two members of one group: libconfig's own check. */
	expect_err(HDR "sites = { office = [\"192.0.2.0/24\"];\n"
		       "  office = [\"198.51.100.0/24\"]; };\n",
	    "policy.conf:13: office: duplicate name", NULL);
	expect_err(HDR
	    "rules = (\n"
	    "  { name = \"r1\"; action = \"deny\"; groups = [\"a\"]; },\n"
	    "  { action = \"deny\";\n"
	    "    name = \"r1\"; }\n"
	    ");\n",
	    "policy.conf:15: rules[1].name: duplicate rule name \"r1\" (first "
	    "defined at policy.conf:13",
	    NULL);
	expect_err(HDR_BASE "pools = {\n"
			    "  p1 = { tenant = \"t1\"; zone = \"lgwan\"; "
			    "assignment = \"pooled\";\n"
			    "    desktops = ( { name = \"d1\"; address = "
			    "\"10.0.0.1\"; } ); };\n"
			    "  p2 = { tenant = \"t1\"; zone = \"lgwan\"; "
			    "assignment = \"pooled\";\n"
			    "    desktops = ( { name = \"d1\"; address = "
			    "\"10.0.0.2\"; } ); };\n"
			    "};\n",
	    "policy.conf:14: pools.p2.desktops[0]: duplicate desktop name "
	    "\"d1\" (first defined at policy.conf:12",
	    NULL);
	expect_err(HDR_BASE
	    "pools = {\n"
	    "  p1 = { tenant = \"t1\"; zone = \"lgwan\"; assignment = "
	    "\"pooled\";\n"
	    "    desktops = ( { name = \"d1\"; address = \"10.0.0.1:3389\"; } "
	    ");\n"
	    "    desktop_ranges = ( { prefix = \"v-\"; count = 5;\n"
	    "      address = \"10.0.0.1\"; } ); };\n"
	    "};\n",
	    "policy.conf:13: pools.p1.desktop_ranges[0]: duplicate desktop "
	    "address 10.0.0.1 port 3389 (first defined at policy.conf:12",
	    NULL);
}

static void
policy_load_file__when_cidr_bad__names_element(void **state)
{
	expect_err(HDR
	    "sites = { office = [\"192.0.2.0/24\", \"192.0.2.1/24\"]; };\n",
	    "policy.conf:12: sites.office[1]: bad CIDR \"192.0.2.1/24\" "
	    "(expected a.b.c.d/n or x:y::/n with the host bits zero)",
	    NULL);
	expect_err(HDR "sites = { lte = [\"2001:db8::/129\"]; };\n",
	    "policy.conf:12: sites.lte[0]: bad CIDR", NULL);
	expect_err(HDR
	    "sites = { lte = [\"2001:db8::/48\", \"2001:db8::/48\"]; };\n",
	    "policy.conf:12: sites.lte[1]: duplicate network 2001:db8::/48",
	    NULL);
}

static void
policy_load_file__when_time_window_bad__says_why(void **state)
{
	expect_err(HDR "time_windows = {\n"
		       "  night = { time_zone = \"Asia/Tokyo\";\n"
		       "    hours = \"22:00-25:00\"; };\n"
		       "};\n",
	    "policy.conf:14: time_windows.night.hours: bad time window "
	    "\"22:00-25:00\" (bad end time",
	    NULL);
	expect_err(HDR "time_windows = { w = { time_zone = \"Asia/Tokyo\"; "
		       "hours = \"09:00-09:00\"; }; };\n",
	    "policy.conf:12: time_windows.w.hours: bad time window "
	    "\"09:00-09:00\" (empty window",
	    NULL);
	expect_err(HDR "time_windows = { w = { time_zone = \"Asia/Tokyo\"; "
		       "hours = \"09:00-17:00\";\n"
		       "  days = [\"mon\", \"funday\"]; }; };\n",
	    "policy.conf:13: time_windows.w.days[1]: bad day \"funday\"", NULL);
	expect_err(HDR "time_windows = { w = { time_zone = \"Asia/Tokyo\"; "
		       "hours = \"09:00-17:00\";\n"
		       "  days = [\"weekdays\", \"mon\"]; }; };\n",
	    "policy.conf:13: time_windows.w.days[1]: day \"mon\" overlaps",
	    NULL);
	expect_err(HDR "time_windows = {\n"
		       "  w = { hours = \"09:00-17:00\";\n"
		       "    time_zone = \"Asia/Tokio\"; };\n"
		       "};\n",
	    "policy.conf:14: time_windows.w.time_zone: unknown time zone "
	    "\"Asia/Tokio\"",
	    NULL);
	expect_err(HDR "time_windows = { w = { time_zone = "
		       "\"../../etc/passwd\"; hours = \"09:00-17:00\"; }; };\n",
	    "policy.conf:12: time_windows.w.time_zone: bad time zone name",
	    NULL);
	expect_err(HDR
	    "time_windows = { w = { hours = \"09:00-17:00\"; }; };\n",
	    "policy.conf:12: time_windows.w.time_zone: missing (expected an "
	    "IANA "
	    "time zone",
	    NULL);
}

static void
policy_load_file__when_ca_or_crl_unusable__load_error(void **state)
{
#define TENANT(ca, crl)                                                        \
	"version = 1;\n"                                                       \
	"tenants = {\n"                                                        \
	"  t2 = {\n"                                                           \
	"    device = { classes = [\"field-tablet\"]; };\n"                    \
	"    ca = \"" ca "\";\n"                                               \
	"    crl = \"" crl "\";\n"                                             \
	"  };\n"                                                               \
	"};\n"
	expect_err(TENANT("pki/nope/ca.pem", "pki/t2/crl.pem"),
	    "policy.conf:5: tenants.t2.ca: cannot read CA certificate "
	    "pki/nope/ca.pem: No such file or directory",
	    NULL);
	expect_err(TENANT("pki", "pki/t2/crl.pem"),
	    "policy.conf:5: tenants.t2.ca: cannot read CA certificate pki: not "
	    "a regular file",
	    NULL);
	expect_err(TENANT("pki/bad/garbage.pem", "pki/t2/crl.pem"),
	    "policy.conf:5: tenants.t2.ca: cannot parse CA certificate "
	    "pki/bad/garbage.pem",
	    NULL);
	expect_err(TENANT("pki/bad/leaf.pem", "pki/t2/crl.pem"),
	    "policy.conf:5: tenants.t2.ca: pki/bad/leaf.pem is not a CA "
	    "certificate",
	    NULL);
	expect_err(TENANT("pki/t2/ca.pem", "pki/t2/nope.pem"),
	    "policy.conf:6: tenants.t2.crl: cannot read CRL pki/t2/nope.pem",
	    NULL);
	expect_err(TENANT("pki/t2/ca.pem", "pki/t2/ca.pem"),
	    "policy.conf:6: tenants.t2.crl: cannot parse CRL pki/t2/ca.pem",
	    NULL);
	expect_err(TENANT("pki/t2/ca.pem", "pki/t1/crl.pem"),
	    "policy.conf:6: tenants.t2.crl: CRL pki/t1/crl.pem was not issued "
	    "by the tenant's CA",
	    NULL);
#undef TENANT
	/* Two tenants with one CA: a device could not find its tenant. */
	expect_err(
	    "version = 1;\n"
	    "tenants = {\n"
	    "  t1 = { ca = \"pki/t1/ca.pem\"; crl = \"pki/t1/crl.pem\";\n"
	    "    device = { classes = [\"c\"]; }; };\n"
	    "  t1b = { ca = \"pki/t1/ca.pem\"; crl = \"pki/t1/crl.pem\";\n"
	    "    device = { classes = [\"c\"]; }; };\n"
	    "};\n",
	    "policy.conf:5: tenants.t1b.ca: CA has the same subject as tenant "
	    "\"t1\"'s CA",
	    NULL);
}

static void
policy_load_file__when_list_empty__error(void **state)
{
	expect_err(HDR
	    "rules = ( { name = \"r1\"; action = \"deny\"; groups = []; } );\n",
	    "policy.conf:12: rules[0].groups: empty list (expected at least "
	    "one "
	    "of group names; leave the key out to mean any)",
	    NULL);
}

static void
policy_load_file__when_rule_inconsistent__error(void **state)
{
	expect_err(HDR "rules = ( { name = \"r1\"; action = \"deny\";\n"
		       "  pools = [\"p1\"]; } );\n",
	    "policy.conf:13: rules[0].pools: not allowed on a deny rule", NULL);
	expect_err(HDR "rules = ( { name = \"r1\"; action = \"permit\"; } );\n",
	    "policy.conf:12: rules[0].action: bad value \"permit\" (expected "
	    "\"allow\" or \"deny\")",
	    NULL);
	expect_err(HDR "rules = ( { name = \"r1\"; action = \"allow\"; } );\n",
	    "policy.conf:12: rules[0].pools: missing (expected a list of pool "
	    "names",
	    NULL);
}

static void
policy_load_file__when_rule_pool_of_other_tenant__error(void **state)
{
	expect_err(
	    "version = 1;\n"
	    "tenants = {\n"
	    "  t1 = { ca = \"pki/t1/ca.pem\"; crl = \"pki/t1/crl.pem\";\n"
	    "    device = { classes = [\"c\"]; }; };\n"
	    "  t2 = { ca = \"pki/t2/ca.pem\"; crl = \"pki/t2/crl.pem\";\n"
	    "    device = { classes = [\"c\"]; }; };\n"
	    "};\n"
	    "zones = { z = {}; };\n"
	    "pools = { p2 = { tenant = \"t2\"; zone = \"z\"; assignment = "
	    "\"pooled\";\n"
	    "  desktops = ( { name = \"d\"; address = \"vd.example\"; } ); }; "
	    "};\n"
	    "rules = ( { name = \"r\"; action = \"allow\"; tenants = "
	    "[\"t1\"];\n"
	    "  pools = [\"p2\"]; } );\n",
	    "policy.conf:12: rules[0].pools[0]: pool \"p2\" belongs to tenant "
	    "\"t2\", which this rule's tenants do not include",
	    NULL);
}

static void
policy_load_file__when_desktop_bad__error(void **state)
{
	expect_err(HDR_BASE "pools = { p1 = { tenant = \"t1\"; zone = "
			    "\"lgwan\"; assignment = \"pooled\";\n"
			    "  desktops = ( { name = \"d1\"; address = "
			    "\"10.0.0.1:99999\"; } ); }; };\n",
	    "policy.conf:11: pools.p1.desktops[0].address: bad address "
	    "\"10.0.0.1:99999\"",
	    NULL);
	expect_err(HDR_BASE
	    "pools = { p1 = { tenant = \"t1\"; zone = \"lgwan\"; assignment = "
	    "\"pooled\";\n"
	    "  desktops = ( { name = \"d1\"; address = \"10.0.9.1\";\n"
	    "    pin = \"00ff\"; } ); }; };\n",
	    "policy.conf:12: pools.p1.desktops[0].pin: bad pin \"00ff\"", NULL);
	/* The zone lists networks and the desktop is outside them. */
	expect_err(HDR_BASE "pools = { p1 = { tenant = \"t1\"; zone = "
			    "\"lgwan\"; assignment = \"pooled\";\n"
			    "  desktops = ( { name = \"d1\"; address = "
			    "\"192.0.2.5\"; } ); }; };\n",
	    "policy.conf:11: pools.p1.desktops[0].address: address 192.0.2.5 "
	    "is "
	    "outside the networks of zone \"lgwan\"",
	    NULL);
	expect_err(HDR_BASE
	    "pools = { p1 = { tenant = \"t1\"; zone = \"lgwan\";\n"
	    "  assignment = \"persistent\";\n"
	    "  desktops = ( { name = \"d1\"; address = \"10.0.0.1\"; capacity "
	    "= 2; } ); }; };\n",
	    "policy.conf:12: pools.p1.desktops[0].capacity: 2 for a persistent "
	    "pool (expected 1",
	    NULL);
	expect_err(HDR_BASE "pools = { p1 = { tenant = \"t1\"; zone = "
			    "\"lgwan\"; assignment = \"pooled\";\n"
			    "  security = \"rdp\";\n"
			    "  desktops = ( { name = \"d1\"; address = "
			    "\"10.0.0.1\"; } ); }; };\n",
	    "policy.conf:11: pools.p1.security: bad value \"rdp\" (expected "
	    "\"tls\" or \"nla\")",
	    NULL);
}

static void
policy_load_file__when_channel_class_not_optional__error(void **state)
{
	expect_err(HDR "channels = { clipboard = true; };\n",
	    "policy.conf:12: channels.clipboard: no such channel class", NULL);
	expect_err(HDR "channels = { display = false; };\n",
	    "policy.conf:12: channels.display: display and input are always on",
	    NULL);
}

static void
policy_load_file__when_mode_not_for_tenant__error(void **state)
{
	expect_err(
	    "version = 1;\n"
	    "modes = { relocation = { tenants = [\"t2\"]; }; };\n"
	    "tenants = {\n"
	    "  t1 = { ca = \"pki/t1/ca.pem\"; crl = \"pki/t1/crl.pem\";\n"
	    "    device = { classes = [\"c\"]; };\n"
	    "    mode = \"relocation\"; };\n"
	    "  t2 = { ca = \"pki/t2/ca.pem\"; crl = \"pki/t2/crl.pem\";\n"
	    "    device = { classes = [\"c\"]; }; };\n"
	    "};\n",
	    "policy.conf:6: tenants.t1.mode: tenant \"t1\" is switched to mode "
	    "\"relocation\", which is not for it",
	    NULL);
}

static void
policy_load_file__when_many_errors__reports_all(void **state)
{
	struct policy *p = NULL;
	struct policy_errors e;

	tp_write("policy.conf",
	    HDR "colour = 1;\n"
		"sites = { a = [\"300.0.0.0/8\"]; };\n"
		"rules = ( { name = \"r1\"; action = \"allow\"; pools = "
		"[\"nope\"]; } );\n");
	assert_int_equal(
	    policy_load_file("policy.conf", NULL, &p, &e), VDI_ERR_CONFIG);
	assert_null(p);
	assert_int_equal(e.count, 3);
	assert_non_null(strstr(e.text, "policy.conf:12: colour: unknown key"));
	assert_non_null(strstr(e.text, "policy.conf:13: sites.a[0]: bad CIDR"));
	assert_non_null(strstr(e.text,
	    "policy.conf:14: rules[0].pools[0]: "
	    "undefined pool"));
	policy_errors_clear(&e);
}

/* ---- @include and relative paths --------------------------------------- */

static void
policy_load_file__when_error_in_include__names_included_file(void **state)
{
	tp_write("inc/bad.conf",
	    "# sites of the town\n"
	    "office = [\"300.1.2.0/24\"];\n");
	expect_err(HDR "sites = {\n"
		       "@include \"inc/bad.conf\"\n"
		       "};\n",
	    "inc/bad.conf:2: sites.office[0]: bad CIDR \"300.1.2.0/24\"", NULL);
	expect_err(HDR "@include \"inc/missing.conf\"\n",
	    "policy.conf:12: ", "include");
}

static void
policy_load_file__when_ca_named_in_include__relative_to_that_file(void **state)
{
	struct policy *p;
	struct tp_ca ca3;

	tp_tenant_pki("sub/pki", "t3", &ca3, NULL, 0);
	tp_ca_free(&ca3);
	tp_write("sub/tenants.conf",
	    "tenants = {\n"
	    "  t3 = { ca = \"pki/t3/ca.pem\"; crl = \"pki/t3/crl.pem\";\n"
	    "    device = { classes = [\"c\"]; }; };\n"
	    "};\n");
	p = load_ok("version = 1;\n@include \"sub/tenants.conf\"\n");
	assert_non_null(policy_tenant_ca(policy_tenant_lookup(p, "t3")));
	policy_unref(p);
	/* Named in the main file, the same path is relative to it. */
	tp_write("policy.conf",
	    "version = 1;\n"
	    "tenants = { t3 = { ca = \"pki/t3/ca.pem\"; crl = "
	    "\"pki/t3/crl.pem\";\n"
	    "  device = { classes = [\"c\"]; }; }; };\n");
	expect_err("version = 1;\n"
		   "tenants = { t3 = { ca = \"pki/t3/ca.pem\"; crl = "
		   "\"pki/t3/crl.pem\";\n"
		   "  device = { classes = [\"c\"]; }; }; };\n",
	    "policy.conf:2: tenants.t3.ca: cannot read CA certificate "
	    "pki/t3/ca.pem",
	    NULL);
}

static void
policy_load_file__when_fixture_includes__sources_are_included_files(
    void **state)
{
	const char *top = getenv("top_srcdir");
	const struct policy_load_opts opts = { NULL, 1 };
	struct policy *p = NULL;
	struct policy_errors e;
	char path[1024], want[1100];
	const struct policy_pool *pool;

	if (top == NULL)
		top = "../..";
	snprintf(path, sizeof(path),
	    "%s/tests/unit/policy-fixtures/"
	    "include-main.conf",
	    top);
	if (policy_load_file(path, &opts, &p, &e) != 0)
		fail_msg("%s", e.text != NULL ? e.text : "?");
	policy_errors_clear(&e);
	pool = policy_pool_lookup(p, "office");
	assert_non_null(pool);
	snprintf(want, sizeof(want),
	    "%s/tests/unit/policy-fixtures/parts/"
	    "pools.conf",
	    top);
	assert_string_equal(policy_pool_desktop(pool, 0)->src_file, want);
	assert_int_equal(policy_pool_desktop(pool, 0)->src_line, 6);
	policy_unref(p);

	snprintf(path, sizeof(path),
	    "%s/tests/unit/policy-fixtures/"
	    "include-bad.conf",
	    top);
	assert_int_equal(policy_load_file(path, &opts, &p, &e), VDI_ERR_CONFIG);
	snprintf(want, sizeof(want),
	    "%s/tests/unit/policy-fixtures/parts/"
	    "bad-rules.conf:4: rules[1].time[0]: undefined time window "
	    "\"lunch\"",
	    top);
	if (strncmp(e.text, want, strlen(want)) != 0)
		fail_msg("got %s", e.text);
	policy_errors_clear(&e);
}

static void
policy_load_string__when_fuzz_like_input__never_half_loads(void **state)
{
	static const char *const inputs[] = { "", "version = 1;",
		"version = 1; tenants = 3;", "version = 1; pools = { a = 1; };",
		"version = 1; rules = { };",
		"version = 1; modes = { none = {}; };", "@@@",
		"version = 1; sites = { a = [ 1, 2 ]; };",
		"version = 1; pools = { p = { desktop_ranges = ( { count = 0; "
		"} ); }; };",
		NULL };
	const struct policy_load_opts opts = { NULL, 1 };
	struct policy *p;
	struct policy_errors e;
	size_t i;
	int r;

	for (i = 0; inputs[i] != NULL; i++) {
		p = (struct policy *)&p;
		r = policy_load_string(inputs[i], "s", NULL, &opts, &p, &e);
		if (r == 0) {
			assert_non_null(p);
			policy_unref(p);
		} else {
			assert_null(p);
			assert_true(e.count > 0);
		}
		policy_errors_clear(&e);
	}
	assert_int_equal(
	    policy_load_string("version = 1;", "s", NULL, &opts, &p, NULL), 0);
	policy_unref(p);
	assert_int_equal(policy_load_string(NULL, "s", NULL, NULL, &p, NULL),
	    VDI_ERR_INVALID_ARG);
}

static void
collect_warning(const char *line, void *arg)
{
	char *buf = arg;

	snprintf(buf + strlen(buf), 4096 - strlen(buf), "%s\n", line);
}

#define CRL_TENANT(warn)                                                       \
	"version = 1;\n" warn "tenants = {\n"                                  \
	"  t2 = { device = { classes = [\"field-tablet\"]; };\n"               \
	"    ca = \"pki/t2/ca.pem\";\n"                                        \
	"    crl = \"pki/t2/soon.pem\"; };\n"                                  \
	"};\n"

static void
policy_load_file__when_crl_expired__error_names_crl_and_date(void **state)
{
	tp_write_crl("pki/t2/soon.pem", &ca2, -86400 * 31, -3600);
	expect_err(CRL_TENANT(""),
	    "policy.conf:5: tenants.t2.crl: CRL pki/t2/soon.pem expired on ",
	    "(its nextUpdate): every device of this tenant would be refused");
}

static void
policy_warnings__when_crl_next_update_near__warns_within_window(void **state)
{
	struct policy *p;
	char buf[4096] = "";

	/* Two days left: inside the default 7-day window. */
	tp_write_crl("pki/t2/soon.pem", &ca2, -3600, 2 * 86400);
	p = load_ok(CRL_TENANT(""));
	assert_int_equal(policy_crl_warning(p), 7 * 86400);
	assert_int_equal(policy_warnings(p, collect_warning, buf), 1);
	assert_non_null(strstr(buf,
	    "policy.conf:5: tenants.t2.crl: warning: CRL pki/t2/soon.pem "
	    "expires on "));
	assert_true(strstr(buf, "in 47h59m") != NULL ||
	    strstr(buf, "in 48h00m") != NULL);
	policy_unref(p);
	/* crl_warning = "1d": two days left is no warning. */
	p = load_ok(CRL_TENANT("crl_warning = \"1d\";\n"));
	assert_int_equal(policy_crl_warning(p), 86400);
	assert_int_equal(policy_warnings(p, NULL, NULL), 0);
	policy_unref(p);
	/* The usual 30 days: no warning. */
	tp_write_crl("pki/t2/soon.pem", &ca2, -3600, 30 * 86400);
	p = load_ok(CRL_TENANT(""));
	assert_int_equal(policy_warnings(p, NULL, NULL), 0);
	policy_unref(p);
	expect_err(CRL_TENANT("crl_warning = \"soon\";\n"),
	    "policy.conf:2: crl_warning: bad duration", NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    policy_load_file__when_crl_expired__error_names_crl_and_date),
		cmocka_unit_test(
		    policy_warnings__when_crl_next_update_near__warns_within_window),
		cmocka_unit_test(
		    policy_load_file__when_valid__loads_with_one_reference),
		cmocka_unit_test(
		    policy_ref__when_reloaded__old_object_stays_valid),
		cmocka_unit_test(
		    policy_load_file__when_file_missing__error_names_file),
		cmocka_unit_test(
		    policy_load_file__when_syntax_error__libconfig_line),
		cmocka_unit_test(
		    policy_load_file__when_unknown_key__lists_allowed),
		cmocka_unit_test(
		    policy_load_file__when_wrong_type__names_type_and_expected),
		cmocka_unit_test(
		    policy_load_file__when_out_of_range__gives_range),
		cmocka_unit_test(
		    policy_load_file__when_required_key_missing__names_it),
		cmocka_unit_test(
		    policy_load_file__when_reference_undefined__names_kind),
		cmocka_unit_test(
		    policy_load_file__when_name_duplicated__both_places),
		cmocka_unit_test(
		    policy_load_file__when_cidr_bad__names_element),
		cmocka_unit_test(
		    policy_load_file__when_time_window_bad__says_why),
		cmocka_unit_test(
		    policy_load_file__when_ca_or_crl_unusable__load_error),
		cmocka_unit_test(policy_load_file__when_list_empty__error),
		cmocka_unit_test(
		    policy_load_file__when_rule_inconsistent__error),
		cmocka_unit_test(
		    policy_load_file__when_rule_pool_of_other_tenant__error),
		cmocka_unit_test(policy_load_file__when_desktop_bad__error),
		cmocka_unit_test(
		    policy_load_file__when_channel_class_not_optional__error),
		cmocka_unit_test(
		    policy_load_file__when_mode_not_for_tenant__error),
		cmocka_unit_test(
		    policy_load_file__when_many_errors__reports_all),
		cmocka_unit_test(
		    policy_load_file__when_error_in_include__names_included_file),
		cmocka_unit_test(
		    policy_load_file__when_ca_named_in_include__relative_to_that_file),
		cmocka_unit_test(
		    policy_load_file__when_fixture_includes__sources_are_included_files),
		cmocka_unit_test(
		    policy_load_string__when_fuzz_like_input__never_half_loads),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
