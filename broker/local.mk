# broker/: vdi-brokerd, vdictl, and libvdibroker (the broker's modules, so
# that unit tests link exactly the code the daemon runs).
noinst_LTLIBRARIES += broker/libvdibroker.la
broker_libvdibroker_la_SOURCES = \
	broker/store.h broker/store_sqlite_int.h broker/store_sqlite.c \
	broker/store_sqlite_schema.c broker/store_sqlite_device.c \
	broker/store_sqlite_desktop.c broker/store_sqlite_session.c \
	broker/store_sqlite_ticket.c broker/store_sqlite_audit.c \
	broker/store_sqlite_setting.c broker/store_sqlite_prune.c \
	broker/audithash.c \
	broker/ratelimit.h broker/ratelimit.c \
	broker/assign.h broker/assign.c \
	broker/token.h broker/token.c \
	broker/bconf.h broker/bconf.c \
	broker/broker.h broker/reload.c broker/audit.c \
	broker/http.h broker/http.c broker/http_conn.h broker/http_conn.c \
	broker/grant.h broker/grant.c \
	broker/login.h broker/login.c \
	broker/devapi.h broker/devapi.c \
	broker/gwapi.h broker/gwapi_int.h broker/gwapi.c broker/gwapi_events.c \
	broker/health.h broker/health.c \
	broker/sweep.h broker/sweep.c \
	broker/admin.h broker/admin.c broker/admin_sock.c \
	broker/status.h broker/status.c \
	broker/metrics.h broker/metrics.c \
	broker/apireq.h broker/apireq.c
broker_libvdibroker_la_CFLAGS = $(AM_CFLAGS) $(VDICOMMON_CFLAGS) $(SQLITE_CFLAGS) \
	-I$(top_srcdir)/policies $(LIBCONFIG_CFLAGS) \
	$(LIBEVENT_CFLAGS)
broker_libvdibroker_la_LIBADD = $(SQLITE_LIBS)

VDIBROKER_LIBS = $(top_builddir)/broker/libvdibroker.la \
	$(top_builddir)/policies/libvdipolicy.la \
	$(top_builddir)/rdp/librdp.la $(VDIHEALTHZ_LIBS) \
	$(SQLITE_LIBS) $(LIBCONFIG_LIBS) $(LIBEVENT_LIBS) $(VDICOMMON_LIBS)
# The daemon's flags; the unit tests add cmocka's (never the daemon).
BROKER_CFLAGS = $(AM_CFLAGS) $(VDICOMMON_CFLAGS) $(SQLITE_CFLAGS) \
	$(LIBEVENT_CFLAGS) -I$(top_srcdir)/broker -I$(top_srcdir)/policies
BROKER_TEST_CFLAGS = $(BROKER_CFLAGS) $(CMOCKA_CFLAGS)

sbin_PROGRAMS += vdi-brokerd

dist_man_MANS += docs/vdi-brokerd.8 docs/vdictl.8 docs/vdi-brokerd.conf.5
EXTRA_DIST += broker/examples/vdi-brokerd.conf broker/examples/vdi-brokerd.service.in

# The systemd unit, with the configured paths (make install and the unit
# agree whatever the prefix; see UNIT_SED in Makefile.am).
units_generated += broker/vdi-brokerd.service
broker/vdi-brokerd.service: $(srcdir)/broker/examples/vdi-brokerd.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) broker && $(UNIT_SED) $(srcdir)/broker/examples/vdi-brokerd.service.in >$@.tmp && mv $@.tmp $@

sbin_PROGRAMS += vdictl
vdictl_SOURCES = broker/vdictl.c broker/vdictl.h broker/vdictl_core.c \
	broker/vdictl_fleet.c broker/vdictl_policy.c broker/vdictl_audit.c \
	broker/audithash.c
vdictl_CFLAGS = $(AM_CFLAGS) $(VDICOMMON_CFLAGS) -I$(top_srcdir)/policies
vdictl_LDADD = $(top_builddir)/policies/libvdipolicy.la $(LIBCONFIG_LIBS) $(VDICOMMON_LIBS)
vdi_brokerd_SOURCES = broker/brokerd.c
vdi_brokerd_CFLAGS = $(BROKER_CFLAGS)
vdi_brokerd_LDADD = $(VDIBROKER_LIBS)

broker_unit_tests = tests/unit/test_store tests/unit/test_ratelimit \
	tests/unit/test_token tests/unit/test_assign tests/unit/test_apireq \
	tests/unit/test_login tests/unit/test_metrics
unit_tests += $(broker_unit_tests)
tests_unit_test_store_SOURCES = tests/unit/test_store.c
tests_unit_test_store_CFLAGS = $(BROKER_TEST_CFLAGS)
tests_unit_test_store_LDADD = $(VDIBROKER_LIBS) $(CMOCKA_LIBS)
tests_unit_test_ratelimit_SOURCES = tests/unit/test_ratelimit.c
tests_unit_test_ratelimit_CFLAGS = $(BROKER_TEST_CFLAGS)
tests_unit_test_ratelimit_LDADD = $(VDIBROKER_LIBS) $(CMOCKA_LIBS)
tests_unit_test_token_SOURCES = tests/unit/test_token.c
tests_unit_test_token_CFLAGS = $(BROKER_TEST_CFLAGS)
tests_unit_test_token_LDADD = $(VDIBROKER_LIBS) $(CMOCKA_LIBS)
tests_unit_test_assign_SOURCES = tests/unit/test_assign.c
tests_unit_test_assign_CFLAGS = $(BROKER_TEST_CFLAGS)
tests_unit_test_assign_LDADD = $(VDIBROKER_LIBS) $(CMOCKA_LIBS)
tests_unit_test_apireq_SOURCES = tests/unit/test_apireq.c
tests_unit_test_apireq_CFLAGS = $(BROKER_TEST_CFLAGS)
tests_unit_test_apireq_LDADD = $(VDIBROKER_LIBS) $(CMOCKA_LIBS)
tests_unit_test_login_SOURCES = tests/unit/test_login.c
tests_unit_test_login_CFLAGS = $(BROKER_TEST_CFLAGS)
tests_unit_test_login_LDADD = $(VDIBROKER_LIBS) $(CMOCKA_LIBS)
tests_unit_test_metrics_SOURCES = tests/unit/test_metrics.c
tests_unit_test_metrics_CFLAGS = $(BROKER_TEST_CFLAGS)
tests_unit_test_metrics_LDADD = $(VDIBROKER_LIBS) $(CMOCKA_LIBS)

fuzz_harnesses += tests/fuzz/fuzz_apireq
tests_fuzz_fuzz_apireq_SOURCES = tests/fuzz/fuzz_apireq.c $(FUZZ_DRIVER)
tests_fuzz_fuzz_apireq_CFLAGS = $(FUZZ_COMPILE_FLAGS) $(BROKER_CFLAGS)
tests_fuzz_fuzz_apireq_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_apireq_LDADD = $(VDIBROKER_LIBS)

# --- privilege separation and PAM conversations (privsep*.c, monitor*.c,
# pam_child.c, pammsg.c; docs/privsep.md). Kept together at the end of
# this fragment.
broker_libvdibroker_la_SOURCES += \
	broker/privsep.c broker/privsep.h broker/privsep_int.h \
	broker/privsep_io.c broker/privsep_worker.c \
	broker/monitor.c broker/monitor_sign.c \
	broker/pam_child.c broker/pam_child.h \
	broker/pammsg.c broker/pammsg.h
broker_libvdibroker_la_LIBADD += $(PAM_LIBS)
VDIBROKER_LIBS += $(PAM_LIBS)

# Test-only PAM module: asks "One-time code: " (echo on) and checks it
# against codes=FILE ("user code" lines). A shared object for pam_wrapper
# service files, never installed.
noinst_LTLIBRARIES += tests/peers/pam_vdi_otp.la
tests_peers_pam_vdi_otp_la_SOURCES = tests/peers/pam_vdi_otp.c
tests_peers_pam_vdi_otp_la_CFLAGS = $(AM_CFLAGS)
tests_peers_pam_vdi_otp_la_LDFLAGS = $(AM_LDFLAGS) -module -avoid-version \
	-shared -rpath /nowhere
tests_peers_pam_vdi_otp_la_LIBADD = $(PAM_LIBS)

unit_tests += tests/unit/test_pammsg tests/unit/test_privsep
tests_unit_test_pammsg_SOURCES = tests/unit/test_pammsg.c \
	tests/unit/privmsg_test.c tests/unit/privmsg_test.h
tests_unit_test_pammsg_CFLAGS = $(AM_CFLAGS) $(VDICOMMON_CFLAGS) \
	$(CMOCKA_CFLAGS) -I$(top_srcdir)/broker
tests_unit_test_pammsg_LDADD = $(VDIBROKER_LIBS) $(CMOCKA_LIBS)
# Re-executes itself under pam_wrapper (LD_PRELOAD) with pam_matrix and
# pam_vdi_otp service files; needs the module built first.
tests_unit_test_privsep_SOURCES = tests/unit/test_privsep.c
tests_unit_test_privsep_CFLAGS = $(AM_CFLAGS) $(VDICOMMON_CFLAGS) \
	$(CMOCKA_CFLAGS) -I$(top_srcdir)/broker
tests_unit_test_privsep_LDADD = $(VDIBROKER_LIBS) $(CMOCKA_LIBS)
EXTRA_tests_unit_test_privsep_DEPENDENCIES = tests/peers/pam_vdi_otp.la

fuzz_harnesses += tests/fuzz/fuzz_pammsg
# The codec and vbuf are compiled into the harness so that, with
# --enable-fuzzers, libFuzzer sees their coverage.
tests_fuzz_fuzz_pammsg_SOURCES = tests/fuzz/fuzz_pammsg.c broker/pammsg.c \
	common/vbuf.c common/privmsg.c tests/fuzz/privmsg_fuzz.c \
	tests/fuzz/privmsg_fuzz.h $(FUZZ_DRIVER)
tests_fuzz_fuzz_pammsg_CFLAGS = $(FUZZ_COMPILE_FLAGS) $(VDICOMMON_CFLAGS) \
	-I$(top_srcdir)/broker
tests_fuzz_fuzz_pammsg_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_pammsg_LDADD = $(VDICOMMON_LIBS)

EXTRA_DIST += docs/privsep.md

# Integration: the real daemon with real certificates, PAM and a desktop.
integration_tests += tests/integration/test_broker.sh
# Tenant isolation of the admin socket: creates UNIX users (root only).
integration_tests += tests/integration/test_admin_tenants.sh
# The broker under descriptor pressure (a low RLIMIT_NOFILE and a flood).
integration_tests += tests/integration/test_broker_nofile.sh
integration_tests += tests/integration/test_broker_state.sh
# Operating the broker: vdictl views and errors, metrics, retention, audit
# export, schema versions (issue 17).
integration_tests += tests/integration/test_broker_ops.sh
# Reload outcomes, CRL expiry warnings and refusals, -t, health.
integration_tests += tests/integration/test_broker_checks.sh
# A store that cannot write (disk full on a tmpfs): /healthz, 503s,
# recovery (root only).
integration_tests += tests/integration/test_broker_store_full.sh
EXTRA_DIST += tests/integration/broker/env.sh

# Benchmarks (bench_reconnect.sh among them): tests/bench/local.mk.

# Scenario tests: the stories of the field (real vdi-connect + xfreerdp,
# gateway, broker, desktops), each asserting behaviour and the audit log.
scenario_tests = tests/integration/scenarios/01-field-tablet.sh \
	tests/integration/scenarios/02-lost-tablet.sh \
	tests/integration/scenarios/03-relocated-office.sh \
	tests/integration/scenarios/04-shared-device.sh \
	tests/integration/scenarios/05-one-session.sh \
	tests/integration/scenarios/06-broker-kill9.sh \
	tests/integration/scenarios/07-desktop-dies.sh \
	tests/integration/scenarios/08-max-session.sh
TESTS += $(scenario_tests)
dist_noinst_SCRIPTS += $(scenario_tests)
EXTRA_DIST += tests/integration/scenarios/env.sh
EXTRA_DIST += docs/admin-guide.md
# vdi-brokerd -t: what the start loads, as the user that loads it.
vdi_brokerd_SOURCES += broker/bcheck.c broker/bcheck.h
