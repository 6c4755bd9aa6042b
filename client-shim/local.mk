# client-shim/: libvdiclient (the device side as a small C API, public
# header client-shim/vdiclient.h) and vdi-connect, the command-line shim.
noinst_LTLIBRARIES += client-shim/libvdiclient.la

client_shim_libvdiclient_la_SOURCES = \
	client-shim/vdiclient.h \
	client-shim/shim.h client-shim/shim_io.h \
	client-shim/conf.c \
	client-shim/reply.c \
	client-shim/launch.c \
	client-shim/devcert.c \
	client-shim/https.c \
	client-shim/tunnel.c \
	client-shim/vdic_int.h \
	client-shim/client.c \
	client-shim/auth.c \
	client-shim/loop.c \
	client-shim/rdpclient.c \
	client-shim/loopback.c \
	client-shim/splice.c
client_shim_libvdiclient_la_CFLAGS = $(AM_CFLAGS) $(VDICOMMON_CFLAGS) \
	$(LIBCURL_CFLAGS)
client_shim_libvdiclient_la_LIBADD = $(VDICOMMON_LIBS) $(LIBCURL_LIBS)

VDICLIENT_LIBS = $(top_builddir)/client-shim/libvdiclient.la \
	$(VDICOMMON_LIBS) $(LIBCURL_LIBS)

bin_PROGRAMS += vdi-connect
vdi_connect_SOURCES = client-shim/vdi-connect.c
vdi_connect_CFLAGS = $(AM_CFLAGS) $(VDICOMMON_CFLAGS)
vdi_connect_LDADD = $(VDICLIENT_LIBS)

dist_man_MANS += docs/vdi-connect.1
dist_noinst_DATA += client-shim/examples/connect.conf

# Unit tests of the pure parts (cmocka).
unit_shim_tests = \
	tests/unit/test_shim_conf \
	tests/unit/test_shim_reply \
	tests/unit/test_shim_argv
unit_tests += $(unit_shim_tests)
SHIM_UNIT_CFLAGS = $(AM_CFLAGS) $(VDICOMMON_CFLAGS) $(CMOCKA_CFLAGS) \
	-I$(top_srcdir)/client-shim
SHIM_UNIT_LIBS = $(VDICLIENT_LIBS) $(CMOCKA_LIBS)
tests_unit_test_shim_conf_SOURCES = tests/unit/test_shim_conf.c
tests_unit_test_shim_conf_CFLAGS = $(SHIM_UNIT_CFLAGS)
tests_unit_test_shim_conf_LDADD = $(SHIM_UNIT_LIBS)
tests_unit_test_shim_reply_SOURCES = tests/unit/test_shim_reply.c
tests_unit_test_shim_reply_CFLAGS = $(SHIM_UNIT_CFLAGS)
tests_unit_test_shim_reply_LDADD = $(SHIM_UNIT_LIBS)
tests_unit_test_shim_argv_SOURCES = tests/unit/test_shim_argv.c
tests_unit_test_shim_argv_CFLAGS = $(SHIM_UNIT_CFLAGS)
tests_unit_test_shim_argv_LDADD = $(SHIM_UNIT_LIBS)

# The whole chain: broker, gateway, shadow desktop, vdi-connect, xfreerdp.
TESTS += tests/integration/test_shim.sh
dist_noinst_SCRIPTS += tests/integration/test_shim.sh

# The same chain with a real xrdp + Xvnc desktop: PKCS#12 device identity,
# reconnect to the same X display, logoff.
TESTS += tests/integration/test_shim_xrdp.sh
dist_noinst_SCRIPTS += tests/integration/test_shim_xrdp.sh

# Reconnect storms: two vdi-connect for one user (one device certificate,
# then two) and a path that keeps cutting each new tunnel.
TESTS += tests/integration/test_shim_storm.sh
dist_noinst_SCRIPTS += tests/integration/test_shim_storm.sh
