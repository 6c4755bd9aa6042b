# tests/unit/: cmocka unit tests, one program per module.
UNIT_CFLAGS = $(AM_CFLAGS) $(VDICOMMON_CFLAGS) $(CMOCKA_CFLAGS)
UNIT_LIBS = $(VDICOMMON_LIBS) $(CMOCKA_LIBS)

unit_common_tests = \
	tests/unit/test_vbuf \
	tests/unit/test_vdierr \
	tests/unit/test_vlog \
	tests/unit/test_cidr \
	tests/unit/test_srclimit \
	tests/unit/test_fdwait

unit_tests += $(unit_common_tests)

tests_unit_test_fdwait_SOURCES = tests/unit/test_fdwait.c
tests_unit_test_fdwait_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_fdwait_LDADD = $(UNIT_LIBS)
tests_unit_test_vbuf_SOURCES = tests/unit/test_vbuf.c
tests_unit_test_vbuf_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_vbuf_LDADD = $(UNIT_LIBS)
tests_unit_test_vdierr_SOURCES = tests/unit/test_vdierr.c
tests_unit_test_vdierr_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_vdierr_LDADD = $(UNIT_LIBS)
tests_unit_test_vlog_SOURCES = tests/unit/test_vlog.c
tests_unit_test_vlog_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_vlog_LDADD = $(UNIT_LIBS)
tests_unit_test_cidr_SOURCES = tests/unit/test_cidr.c
tests_unit_test_cidr_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_cidr_LDADD = $(UNIT_LIBS)
tests_unit_test_srclimit_SOURCES = tests/unit/test_srclimit.c
tests_unit_test_srclimit_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_srclimit_LDADD = $(UNIT_LIBS)

# common/ HTTP reason phrases and the daemons' option loop.
unit_common_tests += tests/unit/test_httpstatus tests/unit/test_daemonopt
# common/ the refusal reason table (vdierr.h).
unit_common_tests += tests/unit/test_reason
tests_unit_test_reason_SOURCES = tests/unit/test_reason.c
tests_unit_test_reason_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_reason_LDADD = $(UNIT_LIBS)
# common/ the checked libconfig reader and the one duration parser.
unit_common_tests += tests/unit/test_cfgfile
tests_unit_test_cfgfile_SOURCES = tests/unit/test_cfgfile.c
tests_unit_test_cfgfile_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_cfgfile_LDADD = $(UNIT_LIBS)
tests_unit_test_httpstatus_SOURCES = tests/unit/test_httpstatus.c
tests_unit_test_httpstatus_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_httpstatus_LDADD = $(UNIT_LIBS)
tests_unit_test_daemonopt_SOURCES = tests/unit/test_daemonopt.c
tests_unit_test_daemonopt_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_daemonopt_LDADD = $(UNIT_LIBS)

# common/ base64url, JWS and token claims.
unit_common_tests += \
	tests/unit/test_b64url \
	tests/unit/test_jws \
	tests/unit/test_claims
tests_unit_test_b64url_SOURCES = tests/unit/test_b64url.c
tests_unit_test_b64url_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_b64url_LDADD = $(UNIT_LIBS)
tests_unit_test_jws_SOURCES = tests/unit/test_jws.c
tests_unit_test_jws_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_jws_LDADD = $(UNIT_LIBS)
tests_unit_test_claims_SOURCES = tests/unit/test_claims.c
tests_unit_test_claims_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_claims_LDADD = $(UNIT_LIBS)

# common/ TLS (makes a PKI with tests/pki/mkpki.sh at test time).
unit_common_tests += tests/unit/test_tls
tests_unit_test_tls_SOURCES = tests/unit/test_tls.c
tests_unit_test_tls_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_tls_LDADD = $(UNIT_LIBS)

# common/ credential sealing (AES-256-GCM).
unit_common_tests += tests/unit/test_seal
tests_unit_test_seal_SOURCES = tests/unit/test_seal.c
tests_unit_test_seal_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_seal_LDADD = $(UNIT_LIBS)
