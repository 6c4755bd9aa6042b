# common/: libvdicommon, linked by every binary, test and fuzzer.
noinst_LTLIBRARIES += common/libvdicommon.la

common_libvdicommon_la_SOURCES = \
	common/vdierr.c common/vdierr.h \
	common/vbuf.c common/vbuf.h \
	common/vlog.c common/vlog.h \
	common/cidr.c common/cidr.h \
	common/srclimit.c common/srclimit.h \
	common/fdwait.c common/fdwait.h \
	common/cfgfile.c common/cfgfile.h
common_libvdicommon_la_SOURCES += \
	common/b64url.c common/b64url.h \
	common/jws.c common/jws.h \
	common/claims.c common/claims.h \
	common/seal.c common/seal.h
common_libvdicommon_la_CFLAGS = $(AM_CFLAGS) $(OPENSSL_CFLAGS) $(JANSSON_CFLAGS) $(LIBCONFIG_CFLAGS)
common_libvdicommon_la_LIBADD = $(OPENSSL_LIBS) $(JANSSON_LIBS) $(LIBCONFIG_LIBS)

# What a program linking libvdicommon needs.
VDICOMMON_CFLAGS = $(OPENSSL_CFLAGS) $(JANSSON_CFLAGS) $(LIBCONFIG_CFLAGS)
VDICOMMON_LIBS = $(top_builddir)/common/libvdicommon.la $(OPENSSL_LIBS) $(JANSSON_LIBS) $(LIBCONFIG_LIBS)
# common/ TLS profiles, mTLS with per-tenant CAs and CRLs, thumbprints.
common_libvdicommon_la_SOURCES += common/tls.c common/tls.h
# Certificate and CRL expiry for the daemons' metrics.
common_libvdicommon_la_SOURCES += common/certexp.c common/certexp.h
common_libvdicommon_la_SOURCES += common/cfgwhere.c common/cfgwhere.h
