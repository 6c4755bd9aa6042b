# policies/: libvdipolicy (load, evaluate, identify devices), the
# vdi-policy tool, its man pages, example policies and their tests.
# The loader and the loaded policy without the evaluator (rules, device
# identification, decisions): what a program that only needs the trust
# view (trust.h: tenants' CA/CRL files, their desktops) links, such as
# the gateway. libvdipolicy.la adds the evaluator on top of it.
noinst_LTLIBRARIES += policies/libvdipolicyload.la policies/libvdipolicy.la

policies_libvdipolicyload_la_SOURCES = \
	policies/policy.h policies/policy_int.h policies/load_int.h \
	policies/policy.c \
	policies/load.c policies/load_report.c policies/load_get.c \
	policies/load_limits.c policies/load_time.c policies/load_site.c \
	policies/load_mode.c policies/load_rule.c policies/load_tenant.c \
	policies/load_pool.c policies/load_desktop.c policies/load_addr.c \
	policies/tzfile.c policies/timewin.c \
	policies/policy_files.c policies/policy_files.h \
	policies/trust.c policies/trust.h
policies_libvdipolicyload_la_CFLAGS = $(AM_CFLAGS) $(VDICOMMON_CFLAGS) \
	$(LIBCONFIG_CFLAGS)
policies_libvdipolicyload_la_LIBADD = $(LIBCONFIG_LIBS) $(OPENSSL_LIBS)

policies_libvdipolicy_la_SOURCES = \
	policies/eval.c policies/identify.c policies/format.c
policies_libvdipolicy_la_CFLAGS = $(AM_CFLAGS) $(VDICOMMON_CFLAGS) \
	$(LIBCONFIG_CFLAGS)
policies_libvdipolicy_la_LIBADD = $(top_builddir)/policies/libvdipolicyload.la \
	$(LIBCONFIG_LIBS) $(OPENSSL_LIBS)

# What a program using the policy needs (libvdicommon comes after it).
VDIPOLICY_CFLAGS = -I$(top_srcdir)/policies $(LIBCONFIG_CFLAGS) \
	$(VDICOMMON_CFLAGS)
VDIPOLICY_LIBS = $(top_builddir)/policies/libvdipolicy.la $(LIBCONFIG_LIBS) \
	$(VDICOMMON_LIBS)
# What a program using only the trust view (trust.h) needs.
VDITRUST_CFLAGS = $(VDIPOLICY_CFLAGS)
VDITRUST_LIBS = $(top_builddir)/policies/libvdipolicyload.la \
	$(LIBCONFIG_LIBS) $(VDICOMMON_LIBS)

bin_PROGRAMS += policies/vdi-policy
policies_vdi_policy_SOURCES = policies/vdi-policy.c
policies_vdi_policy_CFLAGS = $(AM_CFLAGS) $(VDIPOLICY_CFLAGS)
policies_vdi_policy_LDADD = $(VDIPOLICY_LIBS)

dist_man_MANS += docs/vdi-policy.conf.5 docs/vdi-policy.1

# Unit tests (cmocka). test_policy_util.c makes CAs, CRLs and device
# certificates with the OpenSSL API and writes fixtures into a temp dir.
POLICY_TEST_CFLAGS = $(AM_CFLAGS) $(VDIPOLICY_CFLAGS) $(CMOCKA_CFLAGS)
POLICY_TEST_LIBS = $(VDIPOLICY_LIBS) $(CMOCKA_LIBS)
POLICY_TEST_UTIL = tests/unit/test_policy_util.c tests/unit/test_policy_util.h

policy_unit_tests = \
	tests/unit/test_policy_time \
	tests/unit/test_policy_load \
	tests/unit/test_policy_eval \
	tests/unit/test_policy_device \
	tests/unit/test_policy_trust
unit_tests += $(policy_unit_tests)

tests_unit_test_policy_time_SOURCES = tests/unit/test_policy_time.c
tests_unit_test_policy_time_CFLAGS = $(POLICY_TEST_CFLAGS)
tests_unit_test_policy_time_LDADD = $(POLICY_TEST_LIBS)
tests_unit_test_policy_load_SOURCES = tests/unit/test_policy_load.c \
	$(POLICY_TEST_UTIL)
tests_unit_test_policy_load_CFLAGS = $(POLICY_TEST_CFLAGS)
tests_unit_test_policy_load_LDADD = $(POLICY_TEST_LIBS)
tests_unit_test_policy_eval_SOURCES = tests/unit/test_policy_eval.c \
	$(POLICY_TEST_UTIL)
tests_unit_test_policy_eval_CFLAGS = $(POLICY_TEST_CFLAGS)
tests_unit_test_policy_eval_LDADD = $(POLICY_TEST_LIBS)
tests_unit_test_policy_device_SOURCES = tests/unit/test_policy_device.c \
	$(POLICY_TEST_UTIL)
tests_unit_test_policy_device_CFLAGS = $(POLICY_TEST_CFLAGS)
tests_unit_test_policy_device_LDADD = $(POLICY_TEST_LIBS)
# The trust view links only the loader (as the gateway does).
tests_unit_test_policy_trust_SOURCES = tests/unit/test_policy_trust.c \
	$(POLICY_TEST_UTIL)
tests_unit_test_policy_trust_CFLAGS = $(POLICY_TEST_CFLAGS)
tests_unit_test_policy_trust_LDADD = $(VDITRUST_LIBS) $(CMOCKA_LIBS)

EXTRA_DIST += tests/unit/policy-fixtures

# libFuzzer harness over the loader (and the evaluator on what loads).
fuzz_harnesses += tests/fuzz/fuzz_policy
tests_fuzz_fuzz_policy_SOURCES = tests/fuzz/fuzz_policy.c $(FUZZ_DRIVER)
tests_fuzz_fuzz_policy_CFLAGS = $(FUZZ_COMPILE_FLAGS) $(VDIPOLICY_CFLAGS)
tests_fuzz_fuzz_policy_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_policy_LDADD = $(VDIPOLICY_LIBS)

# Every example is checked, and every question in vdi-policy.conf(5) is
# asked of vdi-policy explain and compared with the page's answer.
policy_examples = \
	policies/examples/prefecture-field.conf \
	policies/examples/prefecture-field-pools.conf \
	policies/examples/town-relocation.conf \
	policies/examples/shared-datacenter.conf \
	policies/examples/README
EXTRA_DIST += $(policy_examples)
dist_noinst_SCRIPTS += tests/integration/test_policy_examples.sh
TESTS += tests/integration/test_policy_examples.sh
