# common/: libvdicommon, linked by every binary, test and fuzzer.
noinst_LTLIBRARIES += common/libvdicommon.la

common_libvdicommon_la_SOURCES = \
	common/vdierr.c common/vdierr.h \
	common/vbuf.c common/vbuf.h \
	common/vlog.c common/vlog.h \
	common/cidr.c common/cidr.h
common_libvdicommon_la_CFLAGS = $(AM_CFLAGS) $(OPENSSL_CFLAGS) $(JANSSON_CFLAGS)
common_libvdicommon_la_LIBADD = $(OPENSSL_LIBS) $(JANSSON_LIBS)

# What a program linking libvdicommon needs.
VDICOMMON_CFLAGS = $(OPENSSL_CFLAGS) $(JANSSON_CFLAGS)
VDICOMMON_LIBS = $(top_builddir)/common/libvdicommon.la $(OPENSSL_LIBS) $(JANSSON_LIBS)
