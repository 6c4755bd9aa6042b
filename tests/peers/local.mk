# tests/peers/: test-only programs driven by integration tests (built by
# make check, never installed).
#
#   tls-test-server  mTLS server on common/tls: answers accepted clients with
#                    "OK thumbprint=... subject=... ca=... tenant=...", logs
#                    refusals with the verification error, SIGHUP reloads.
#   freeport         prints free 127.0.0.1 TCP ports (for third-party
#                    servers that cannot bind port 0 and report it).
check_PROGRAMS += tests/peers/tls-test-server tests/peers/freeport

tests_peers_tls_test_server_SOURCES = tests/peers/tls-test-server.c
tests_peers_tls_test_server_CFLAGS = $(AM_CFLAGS) $(VDICOMMON_CFLAGS)
tests_peers_tls_test_server_LDADD = $(VDICOMMON_LIBS)

tests_peers_freeport_SOURCES = tests/peers/freeport.c

# probe-desktop: an RDP desktop on libfreerdp-server2 that records, as one
# JSON line per connection, every channel, capability and flag that reached
# it (tests/peers/README.md). hostile-client: a raw RDP client running one
# attack on the relay's rules (docs/gateway.md) per invocation.
# probe-desktop needs FreeRDP (optional in configure); the tests that run
# it skip without it (lib.sh vdi_require_probe_desktop).
# rdppeer: the connection-sequence builders they and tests/bench's
# bench-rdp share (tests/peers/rdppeer.h).
noinst_LTLIBRARIES += tests/peers/librdppeer.la
tests_peers_librdppeer_la_SOURCES = tests/peers/rdppeer.c tests/peers/rdppeer.h
tests_peers_librdppeer_la_CFLAGS = $(AM_CFLAGS) $(VDICOMMON_CFLAGS)
RDPPEER_LIBS = $(top_builddir)/tests/peers/librdppeer.la
if HAVE_FREERDP
check_PROGRAMS += tests/peers/probe-desktop
endif
tests_peers_probe_desktop_SOURCES = tests/peers/probe-desktop.c
tests_peers_probe_desktop_CFLAGS = $(AM_CFLAGS) $(VDICOMMON_CFLAGS) \
	$(FREERDP_CFLAGS)
tests_peers_probe_desktop_LDADD = $(RDPPEER_LIBS) $(RDP_LIBS) $(FREERDP_LIBS)
check_PROGRAMS += tests/peers/hostile-client
tests_peers_hostile_client_SOURCES = tests/peers/hostile-client.c
tests_peers_hostile_client_CFLAGS = $(AM_CFLAGS) $(VDICOMMON_CFLAGS)
tests_peers_hostile_client_LDADD = $(RDPPEER_LIBS) $(RDP_LIBS)
EXTRA_DIST += tests/peers/README.md
integration_tests += tests/integration/test_probe_desktop.sh \
	tests/integration/test_hostile_control.sh
EXTRA_DIST += tests/peers/cut-relay.py
# flood.py: bounded pre-authentication floods (idle TCP, stalled TLS,
# trickled requests, a held login) for tests/integration/test_flood.sh.
EXTRA_DIST += tests/peers/flood.py

# Test-only TLS-terminating proxy that records the PDUs of a session
# (tests/unit/rdp-captures/README.md says how the captures were made).
check_PROGRAMS += tests/peers/rdp-capture-proxy
tests_peers_rdp_capture_proxy_SOURCES = tests/peers/rdp-capture-proxy.c
tests_peers_rdp_capture_proxy_CFLAGS = $(AM_CFLAGS) $(VDICOMMON_CFLAGS)
tests_peers_rdp_capture_proxy_LDADD = $(RDP_LIBS)
