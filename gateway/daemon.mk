# gateway/: vdi-gatewayd's own modules (front door, tokens, relay engine).
# The RDP parsers are librdp (rdp/local.mk).
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
unit_tests += $(gwd_unit_tests)
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

# --- vdi-gatewayd ---------------------------------------------------------
# Pure modules (configuration, relay engine) go into libgwd so that unit
# tests link exactly what the daemon runs; the I/O modules are the
# daemon's own sources.
gateway_libgwd_la_SOURCES += \
	gateway/gwconf.h gateway/gwconf.c \
	gateway/relay.h gateway/relay_int.h gateway/relay.c \
	gateway/relay_domain.c gateway/relay_io.c gateway/relay_chan.c \
	gateway/cutset.h gateway/cutset.c \
	gateway/keymsg.h gateway/keymsg.c \
	gateway/keyproc.h gateway/keyproc.c gateway/keyclient.c \
	gateway/keypkey.c \
	gateway/sessfsm.h gateway/sessfsm.c
gateway_libgwd_la_CFLAGS += -I$(top_srcdir)/gateway

GWD_LIBS += $(top_builddir)/rdp/librdp.la $(VDICOMMON_LIBS)

sbin_PROGRAMS += vdi-gatewayd
vdi_gatewayd_SOURCES = \
	gateway/gateway.h gateway/session.h \
	gateway/gatewayd.c gateway/gwload.c gateway/gwlisten.c \
	gateway/session.c gateway/desktop.c \
	gateway/front.c gateway/admission.c gateway/client.c \
	gateway/pump.h gateway/pump.c gateway/leg.h gateway/leg.c \
	gateway/registry.c gateway/brokerlink.c gateway/gwmetrics.c \
	gateway/memtrim.h gateway/memtrim.c
vdi_gatewayd_CFLAGS = $(AM_CFLAGS) $(VDICOMMON_CFLAGS) $(LIBEVENT_CFLAGS) \
	$(LIBCURL_CFLAGS) -I$(top_srcdir)/gateway -I$(top_srcdir)/policies
vdi_gatewayd_LDADD = $(top_builddir)/gateway/libgwd.la \
	$(VDIHEALTHZ_LIBS) $(VDITRUST_LIBS) $(GWD_LIBS) \
	$(LIBEVENT_LIBS) $(LIBCURL_LIBS) -lpthread

dist_man_MANS += docs/vdi-gatewayd.8 docs/vdi-gatewayd.conf.5
# The gateway links the policy's trust view, not the evaluator.
integration_tests += tests/integration/test_gateway_links.sh
EXTRA_DIST += gateway/examples/vdi-gatewayd.conf \
	gateway/examples/vdi-gatewayd.service.in docs/gateway.md

units_generated += gateway/vdi-gatewayd.service
gateway/vdi-gatewayd.service: $(srcdir)/gateway/examples/vdi-gatewayd.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) gateway && $(UNIT_SED) $(srcdir)/gateway/examples/vdi-gatewayd.service.in >$@.tmp && mv $@.tmp $@

# Unit tests of the pure modules.
gwd_more_unit_tests = tests/unit/test_gw_conf tests/unit/test_gw_relay \
	tests/unit/test_cutset tests/unit/test_keymsg tests/unit/test_keyproc \
	tests/unit/test_sessfsm
unit_tests += $(gwd_more_unit_tests)
tests_unit_test_gw_conf_SOURCES = tests/unit/test_gw_conf.c
tests_unit_test_gw_conf_CFLAGS = $(GWD_TEST_CFLAGS)
tests_unit_test_gw_conf_LDADD = $(GWD_LIBS) $(CMOCKA_LIBS)
tests_unit_test_gw_relay_SOURCES = tests/unit/test_gw_relay.c
tests_unit_test_gw_relay_CFLAGS = $(GWD_TEST_CFLAGS)
tests_unit_test_gw_relay_LDADD = $(GWD_LIBS) $(CMOCKA_LIBS)
tests_unit_test_cutset_SOURCES = tests/unit/test_cutset.c
tests_unit_test_cutset_CFLAGS = $(GWD_TEST_CFLAGS)
tests_unit_test_cutset_LDADD = $(GWD_LIBS) $(CMOCKA_LIBS)
tests_unit_test_sessfsm_SOURCES = tests/unit/test_sessfsm.c
tests_unit_test_sessfsm_CFLAGS = $(GWD_TEST_CFLAGS)
tests_unit_test_sessfsm_LDADD = $(GWD_LIBS) $(CMOCKA_LIBS)
tests_unit_test_keymsg_SOURCES = tests/unit/test_keymsg.c \
	tests/unit/privmsg_test.c tests/unit/privmsg_test.h
tests_unit_test_keymsg_CFLAGS = $(GWD_TEST_CFLAGS)
tests_unit_test_keymsg_LDADD = $(GWD_LIBS) $(CMOCKA_LIBS)
tests_unit_test_keyproc_SOURCES = tests/unit/test_keyproc.c
tests_unit_test_keyproc_CFLAGS = $(GWD_TEST_CFLAGS)
tests_unit_test_keyproc_LDADD = $(GWD_LIBS) $(CMOCKA_LIBS) -lpthread

fuzz_harnesses += tests/fuzz/fuzz_keymsg
tests_fuzz_fuzz_keymsg_SOURCES = tests/fuzz/fuzz_keymsg.c \
	tests/fuzz/privmsg_fuzz.c tests/fuzz/privmsg_fuzz.h $(FUZZ_DRIVER)
tests_fuzz_fuzz_keymsg_CFLAGS = $(FUZZ_COMPILE_FLAGS) $(VDICOMMON_CFLAGS) \
	-I$(top_srcdir)/gateway
tests_fuzz_fuzz_keymsg_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_keymsg_LDADD = $(GWD_LIBS)

# Test tunnel client (stand-in for the client shim): mTLS + Upgrade, then
# splices a loopback listener into the tunnel.
check_PROGRAMS += tests/peers/tunnel-client
tests_peers_tunnel_client_SOURCES = tests/peers/tunnel-client.c
tests_peers_tunnel_client_CFLAGS = $(AM_CFLAGS) $(VDICOMMON_CFLAGS)
tests_peers_tunnel_client_LDADD = $(VDICOMMON_LIBS)

# Integration: broker + gateway + shadow desktop + xfreerdp through the
# test tunnel client.
integration_tests += tests/integration/test_gateway.sh
integration_tests += tests/integration/test_gateway_replay.sh
EXTRA_DIST += tests/integration/gateway/env.sh \
	tests/integration/gateway/measure-memory.sh
TESTS += tests/integration/test_gateway_keys.sh
dist_noinst_SCRIPTS += tests/integration/test_gateway_keys.sh
TESTS += tests/integration/test_gateway_idle.sh
# Pre-authentication floods against both daemons (tests/peers/flood.py).
TESTS += tests/integration/test_flood.sh
dist_noinst_SCRIPTS += tests/integration/test_flood.sh
# The gateway out of descriptors (a low RLIMIT_NOFILE and a flood).
TESTS += tests/integration/test_gateway_nofile.sh
dist_noinst_SCRIPTS += tests/integration/test_gateway_nofile.sh
dist_noinst_SCRIPTS += tests/integration/test_gateway_idle.sh
TESTS += tests/integration/test_lifecycle.sh
dist_noinst_SCRIPTS += tests/integration/test_lifecycle.sh
TESTS += tests/integration/test_gateway_probe.sh
dist_noinst_SCRIPTS += tests/integration/test_gateway_probe.sh
# The lost-device guarantee under deterministic timing (no RDP client).
integration_tests += tests/integration/test_cut_race.sh
TESTS += tests/integration/test_gateway_xrdp.sh
dist_noinst_SCRIPTS += tests/integration/test_gateway_xrdp.sh
EXTRA_DIST += tests/integration/xrdp/env.sh
# Operations: /healthz, the broker link and stale_after, expiry metrics.
integration_tests += tests/integration/test_gateway_ops.sh
# tunnel_end reasons: client close, idle, admin kill, desktop closed.
integration_tests += tests/integration/test_tunnel_end.sh

# The relay leg's own I/O against a real TLS peer on a socket pair.
unit_tests += tests/unit/test_leg
tests_unit_test_leg_SOURCES = tests/unit/test_leg.c gateway/leg.c gateway/leg.h
tests_unit_test_leg_CFLAGS = $(GWD_TEST_CFLAGS) $(LIBEVENT_CFLAGS)
tests_unit_test_leg_LDADD = $(VDICOMMON_LIBS) $(LIBEVENT_LIBS) $(CMOCKA_LIBS) \
	-lpthread
