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
