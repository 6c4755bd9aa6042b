# gateway/authpkg: the authentication package under CredSSP (authpkg.h),
# NTLM through winpr2's SSPI when configure found it, else a stub that says
# there is none. Not linked into vdi-gatewayd yet (NLA pools are still
# refused with nla_unsupported); its unit test proves the backend.
noinst_LTLIBRARIES += gateway/libauthpkg.la
if HAVE_WINPR
gateway_libauthpkg_la_SOURCES = gateway/authpkg.h gateway/authpkg_winpr.c
gateway_libauthpkg_la_CFLAGS = $(AM_CFLAGS) $(VDICOMMON_CFLAGS) $(WINPR_CFLAGS)
gateway_libauthpkg_la_LIBADD = $(WINPR_LIBS)

# A real NTLM exchange between winpr's client and server in one process,
# and the gateway's TLS profiles checked unchanged after winpr's init.
unit_tests += tests/unit/test_authpkg
tests_unit_test_authpkg_SOURCES = tests/unit/test_authpkg.c
tests_unit_test_authpkg_CFLAGS = $(AM_CFLAGS) $(VDICOMMON_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_authpkg_LDADD = gateway/libauthpkg.la $(RDP_LIBS) \
	$(VDICOMMON_LIBS) $(CMOCKA_LIBS)
else
gateway_libauthpkg_la_SOURCES = gateway/authpkg.h gateway/authpkg_none.c
gateway_libauthpkg_la_CFLAGS = $(AM_CFLAGS) $(VDICOMMON_CFLAGS)
endif
EXTRA_DIST += gateway/authpkg_winpr.c gateway/authpkg_none.c \
	tests/unit/test_authpkg.c
