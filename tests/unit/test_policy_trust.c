/* Unit tests for policies/trust.c (the gateway's view of the policy). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_policy_util.h"
#include "trust.h"

static const char conf[] =
    "version = 1;\n"
    "tenants = {\n"
    "  t1 = { ca = \"pki/t1/ca.pem\"; crl = \"pki/t1/crl.pem\";\n"
    "    device = { classes = [\"field-tablet\"]; }; };\n"
    "  t2 = { ca = \"pki/t2/ca.pem\"; crl = \"pki/t2/crl.pem\";\n"
    "    device = { classes = [\"kiosk\"]; }; };\n"
    "};\n"
    "zones = { lgwan = { networks = [\"10.0.0.0/16\"]; }; };\n"
    "pools = {\n"
    "  p1 = { tenant = \"t1\"; zone = \"lgwan\"; assignment = \"pooled\";\n"
    "    desktops = ( { name = \"d1\"; address = \"10.0.0.1\"; } ); };\n"
    "  p2 = { tenant = \"t2\"; zone = \"lgwan\"; assignment = \"pooled\";\n"
    "    desktops = ( { name = \"d2\"; address = \"10.0.0.2:3390\"; } ); };\n"
    "};\n";

static char tmpdir[256];
static struct tp_ca ca1, ca2;

static int
setup(void **state)
{
	(void)state;
	tp_enter_tmpdir(tmpdir, sizeof(tmpdir));
	tp_tenant_pki("pki", "t1", &ca1, NULL, 0);
	tp_tenant_pki("pki", "t2", &ca2, NULL, 0);
	tp_write("policy.conf", conf);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	tp_ca_free(&ca1);
	tp_ca_free(&ca2);
	tp_leave_tmpdir(tmpdir);
	return 0;
}

static void
trust_load__when_good_file__lists_tenant_ca_and_crl(void **state)
{
	struct policy_trust *t = NULL;
	const struct policy_trust_tenant *e;
	char *errors = NULL;

	(void)state;
	assert_int_equal(policy_trust_load("policy.conf", &t, &errors), 0);
	assert_null(errors);
	assert_int_equal(policy_trust_count(t), 2);
	e = policy_trust_at(t, 0);
	assert_non_null(e);
	assert_string_equal(e->name, "t1");
	assert_string_equal(e->ca_file, "pki/t1/ca.pem");
	assert_string_equal(e->crl_file, "pki/t1/crl.pem");
	e = policy_trust_at(t, 1);
	assert_string_equal(e->name, "t2");
	assert_string_equal(e->ca_file, "pki/t2/ca.pem");
	assert_null(policy_trust_at(t, 2));
	policy_trust_unref(t);
}

static void
trust_desktop__when_dst_of_tenant__yes_else_no(void **state)
{
	struct policy_trust *t = NULL;

	(void)state;
	assert_int_equal(policy_trust_load("policy.conf", &t, NULL), 0);
	assert_int_equal(policy_trust_desktop(t, "t1", "10.0.0.1", 3389), 1);
	assert_int_equal(policy_trust_desktop(t, "t2", "10.0.0.2", 3390), 1);
	/* another tenant's desktop, another port, another tenant */
	assert_int_equal(policy_trust_desktop(t, "t1", "10.0.0.2", 3390), 0);
	assert_int_equal(policy_trust_desktop(t, "t1", "10.0.0.1", 3390), 0);
	assert_int_equal(policy_trust_desktop(t, "t3", "10.0.0.1", 3389), 0);
	assert_int_equal(policy_trust_desktop(NULL, "t1", "10.0.0.1", 3389), 0);
	policy_trust_unref(t);
}

static void
trust_ref__when_two_holders__last_unref_frees(void **state)
{
	struct policy_trust *t = NULL, *held;

	(void)state;
	assert_int_equal(policy_trust_load("policy.conf", &t, NULL), 0);
	held = policy_trust_ref(t);
	assert_ptr_equal(held, t);
	policy_trust_unref(t);
	/* still usable by the second holder (ASan would see a use after
	 * free otherwise) */
	assert_int_equal(policy_trust_count(held), 2);
	policy_trust_unref(held);
	policy_trust_unref(NULL);
}

static void
trust_load__when_bad_file__file_line_key_errors(void **state)
{
	struct policy_trust *t = NULL;
	char *errors = NULL;

	(void)state;
	tp_write(
	    "bad.conf", "version = 1;\ntenants = { t1 = { ca = 7; }; };\n");
	assert_int_equal(
	    policy_trust_load("bad.conf", &t, &errors), VDI_ERR_CONFIG);
	assert_null(t);
	assert_non_null(errors);
	assert_non_null(strstr(errors, "bad.conf:2: tenants.t1.ca: "));
	free(errors);
	assert_int_not_equal(policy_trust_load("missing.conf", &t, &errors), 0);
	assert_null(t);
	free(errors);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    trust_load__when_good_file__lists_tenant_ca_and_crl),
		cmocka_unit_test(
		    trust_desktop__when_dst_of_tenant__yes_else_no),
		cmocka_unit_test(trust_ref__when_two_holders__last_unref_frees),
		cmocka_unit_test(
		    trust_load__when_bad_file__file_line_key_errors),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
