# broker/: vdi-brokerd, vdictl, and libvdibroker (the broker's modules, so
# that unit tests link exactly the code the daemon runs).
noinst_LTLIBRARIES += broker/libvdibroker.la
broker_libvdibroker_la_SOURCES = \
	broker/store.h broker/store_sqlite.c
broker_libvdibroker_la_CFLAGS = $(AM_CFLAGS) $(VDICOMMON_CFLAGS) $(SQLITE_CFLAGS)
broker_libvdibroker_la_LIBADD = $(SQLITE_LIBS)

VDIBROKER_LIBS = $(top_builddir)/broker/libvdibroker.la $(SQLITE_LIBS) $(VDICOMMON_LIBS)

check_PROGRAMS += tests/unit/test_store
TESTS += tests/unit/test_store
tests_unit_test_store_SOURCES = tests/unit/test_store.c
tests_unit_test_store_CFLAGS = $(AM_CFLAGS) $(VDICOMMON_CFLAGS) $(SQLITE_CFLAGS) $(CMOCKA_CFLAGS) -I$(top_srcdir)/broker
tests_unit_test_store_LDADD = $(VDIBROKER_LIBS) $(CMOCKA_LIBS)
