# gateway/: vdi-gatewayd's own modules (front door, tokens, relay engine).
# The RDP parsers are in gateway/local.mk (librdp).
noinst_LTLIBRARIES += gateway/libgwd.la
gateway_libgwd_la_SOURCES = \
	gateway/upgrade.h gateway/upgrade.c \
	gateway/replay.h gateway/replay.c \
	gateway/gwtoken.h gateway/gwtoken.c
gateway_libgwd_la_CFLAGS = $(AM_CFLAGS) $(VDICOMMON_CFLAGS)

GWD_LIBS = $(top_builddir)/gateway/libgwd.la $(VDICOMMON_LIBS)
GWD_TEST_CFLAGS = $(AM_CFLAGS) $(VDICOMMON_CFLAGS) $(CMOCKA_CFLAGS) \
	-I$(top_srcdir)/gateway

gwd_unit_tests = tests/unit/test_upgrade tests/unit/test_replay \
	tests/unit/test_gwtoken
check_PROGRAMS += $(gwd_unit_tests)
TESTS += $(gwd_unit_tests)
tests_unit_test_upgrade_SOURCES = tests/unit/test_upgrade.c
tests_unit_test_upgrade_CFLAGS = $(GWD_TEST_CFLAGS)
tests_unit_test_upgrade_LDADD = $(GWD_LIBS) $(CMOCKA_LIBS)
tests_unit_test_replay_SOURCES = tests/unit/test_replay.c
tests_unit_test_replay_CFLAGS = $(GWD_TEST_CFLAGS)
tests_unit_test_replay_LDADD = $(GWD_LIBS) $(CMOCKA_LIBS)
tests_unit_test_gwtoken_SOURCES = tests/unit/test_gwtoken.c
tests_unit_test_gwtoken_CFLAGS = $(GWD_TEST_CFLAGS)
tests_unit_test_gwtoken_LDADD = $(GWD_LIBS) $(CMOCKA_LIBS)

fuzz_harnesses += tests/fuzz/fuzz_upgrade
tests_fuzz_fuzz_upgrade_SOURCES = tests/fuzz/fuzz_upgrade.c $(FUZZ_DRIVER)
tests_fuzz_fuzz_upgrade_CFLAGS = $(FUZZ_COMPILE_FLAGS) $(VDICOMMON_CFLAGS) \
	-I$(top_srcdir)/gateway
tests_fuzz_fuzz_upgrade_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_upgrade_LDADD = $(GWD_LIBS)
