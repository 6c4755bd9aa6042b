/*
 * Unit tests for policies/identify.c: which tenant issued a device
 * certificate, the device class according to the tenant's device rules,
 * validity and the tenant's CRL.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "policy.h"
#include "test_policy_util.h"

static const char conf[] =
    "version = 1;\n"
    "tenants = {\n"
    "  t1 = { ca = \"pki/t1/ca.pem\"; crl = \"pki/t1/crl.pem\";\n"
    "    device = { classes = [\"field-tablet\", \"shared-tablet\"];\n"
    "               shared_classes = [\"shared-tablet\"];\n"
    "               subject = { O = \"t1\"; }; cn_prefix = \"t1-\"; }; };\n"
    "  t2 = { ca = \"pki/t2/ca.pem\"; crl = \"pki/t2/crl.pem\";\n"
    "    device = { class_attribute = \"title\"; classes = [\"kiosk\"]; }; };\n"
    "};\n";

static char tmpdir[256];
static struct tp_ca ca1, ca2, rogue;
static struct policy *pol;
static int64_t now;

static int
setup(void **state)
{
	const long revoked[] = { 99 };
	struct policy_errors e;

	tp_enter_tmpdir(tmpdir, sizeof(tmpdir));
	tp_tenant_pki("pki", "t1", &ca1, revoked, 1);
	tp_tenant_pki("pki", "t2", &ca2, NULL, 0);
	/* Same subject as t1's CA, another key. */
	tp_ca_new(&rogue, "t1");
	tp_write("policy.conf", conf);
	if (policy_load_file("policy.conf", NULL, &pol, &e) != 0) {
		fprintf(stderr, "%s", e.text != NULL ? e.text : "?");
		policy_errors_clear(&e);
		return -1;
	}
	now = (int64_t)time(NULL);
	return 0;
}

static int
teardown(void **state)
{
	policy_unref(pol);
	tp_ca_free(&ca1);
	tp_ca_free(&ca2);
	tp_ca_free(&rogue);
	tp_leave_tmpdir(tmpdir);
	return 0;
}

static struct policy_device
identify(
    const struct tp_ca *ca, const char *subject, long nb, long na, long serial)
{
	struct policy_device d;
	X509 *x = tp_cert_new(ca, subject, nb, na, serial, 0);

	assert_int_equal(policy_identify(pol, x, now, &d), 0);
	X509_free(x);
	return d;
}

static void
policy_identify__when_tenant_device__tenant_and_class(void **state)
{
	struct policy_device d;

	d = identify(
	    &ca1, "/O=t1/OU=field-tablet/CN=t1-tablet-1", -60, 3600, 10);
	assert_int_equal(d.status, POLICY_DEVICE_OK);
	assert_string_equal(policy_tenant_name(d.tenant), "t1");
	assert_string_equal(d.device_class, "field-tablet");
	assert_int_equal(d.shared, 0);
	d = identify(
	    &ca1, "/O=t1/OU=shared-tablet/CN=t1-shared-1", -60, 3600, 11);
	assert_int_equal(d.status, POLICY_DEVICE_OK);
	assert_string_equal(d.device_class, "shared-tablet");
	assert_int_equal(d.shared, 1);
	/* t2 reads the class from the title attribute. */
	d = identify(&ca2, "/O=t2/title=kiosk/CN=k-1", -60, 3600, 12);
	assert_int_equal(d.status, POLICY_DEVICE_OK);
	assert_string_equal(policy_tenant_name(d.tenant), "t2");
	assert_string_equal(d.device_class, "kiosk");
}

static void
policy_identify__when_other_ca__unknown_tenant(void **state)
{
	struct policy_device d;
	struct tp_ca other;

	/* Same issuer name as t1's CA, but the signature does not verify. */
	d = identify(
	    &rogue, "/O=t1/OU=field-tablet/CN=t1-tablet-1", -60, 3600, 10);
	assert_int_equal(d.status, POLICY_DEVICE_UNKNOWN_CA);
	assert_null(d.tenant);
	assert_non_null(strstr(d.detail, "is not the CA of any tenant"));
	tp_ca_new(&other, "t9");
	d = identify(&other, "/O=t9/OU=field-tablet/CN=t9-1", -60, 3600, 10);
	assert_int_equal(d.status, POLICY_DEVICE_UNKNOWN_CA);
	tp_ca_free(&other);
}

static void
policy_identify__when_device_rules_fail__rejected_with_reason(void **state)
{
	struct policy_device d;

	d = identify(
	    &ca1, "/O=t2/OU=field-tablet/CN=t1-tablet-1", -60, 3600, 10);
	assert_int_equal(d.status, POLICY_DEVICE_REJECTED);
	assert_string_equal(d.detail,
	    "subject O is \"t2\" (tenant requires "
	    "\"t1\")");
	d = identify(&ca1, "/OU=field-tablet/CN=t1-tablet-1", -60, 3600, 10);
	assert_int_equal(d.status, POLICY_DEVICE_REJECTED);
	assert_string_equal(d.detail,
	    "subject O is missing (tenant requires "
	    "\"t1\")");
	d = identify(
	    &ca1, "/O=t1/OU=field-tablet/CN=x-tablet-1", -60, 3600, 10);
	assert_int_equal(d.status, POLICY_DEVICE_REJECTED);
	assert_non_null(strstr(d.detail, "CN does not start with \"t1-\""));
	d = identify(&ca1, "/O=t1/CN=t1-tablet-1", -60, 3600, 10);
	assert_int_equal(d.status, POLICY_DEVICE_BAD_CLASS);
	assert_string_equal(d.detail,
	    "subject OU, which holds the device "
	    "class, is missing");
	d = identify(&ca1, "/O=t1/OU=field-tablet/OU=shared-tablet/CN=t1-x",
	    -60, 3600, 10);
	assert_int_equal(d.status, POLICY_DEVICE_BAD_CLASS);
	assert_non_null(strstr(d.detail, "repeated"));
	d = identify(&ca1, "/O=t1/OU=kiosk/CN=t1-tablet-1", -60, 3600, 10);
	assert_int_equal(d.status, POLICY_DEVICE_BAD_CLASS);
	assert_string_equal(d.detail,
	    "\"kiosk\" is not one of tenant t1's "
	    "device classes");
	assert_string_equal(policy_tenant_name(d.tenant), "t1");
}

static void
policy_identify__when_dates_or_crl__expired_notyet_revoked(void **state)
{
	struct policy_device d;

	d = identify(&ca1, "/O=t1/OU=field-tablet/CN=t1-old", -7200, -3600, 20);
	assert_int_equal(d.status, POLICY_DEVICE_EXPIRED);
	assert_int_equal(strncmp(d.detail, "valid until 20", 14), 0);
	d = identify(&ca1, "/O=t1/OU=field-tablet/CN=t1-new", 3600, 7200, 21);
	assert_int_equal(d.status, POLICY_DEVICE_NOT_YET_VALID);
	d = identify(&ca1, "/O=t1/OU=field-tablet/CN=t1-lost", -60, 3600, 99);
	assert_int_equal(d.status, POLICY_DEVICE_REVOKED);
	assert_string_equal(d.detail, "listed on tenant t1's CRL");
	assert_string_equal(d.device_class, "field-tablet");
}

static void
policy_identify__when_args_null__invalid(void **state)
{
	struct policy_device d;

	assert_int_equal(
	    policy_identify(pol, NULL, now, &d), VDI_ERR_INVALID_ARG);
	assert_int_equal(
	    policy_identify(NULL, NULL, now, NULL), VDI_ERR_INVALID_ARG);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    policy_identify__when_tenant_device__tenant_and_class),
		cmocka_unit_test(
		    policy_identify__when_other_ca__unknown_tenant),
		cmocka_unit_test(
		    policy_identify__when_device_rules_fail__rejected_with_reason),
		cmocka_unit_test(
		    policy_identify__when_dates_or_crl__expired_notyet_revoked),
		cmocka_unit_test(policy_identify__when_args_null__invalid),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
