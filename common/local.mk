# common/: libvdicommon, linked by every binary, test and fuzzer.
noinst_LTLIBRARIES += common/libvdicommon.la

common_libvdicommon_la_SOURCES = \
	common/vdierr.c common/vdierr.h \
	common/vbuf.c common/vbuf.h \
	common/vlog.c common/vlog.h \
	common/cidr.c common/cidr.h \
	common/srclimit.c common/srclimit.h \
	common/fdwait.c common/fdwait.h \
	common/cfgfile.c common/cfgfile.h \
	common/procinfo.c common/procinfo.h \
	common/httpstatus.c common/httpstatus.h \
	common/daemonopt.c common/daemonopt.h
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
# common/ TLS (tls.h): the reloadable holder (tls.c), contexts with their
# profile, CAs and CRLs (tls_ctx.c), files (tls_load.c), per connection
# and thumbprints (tls_peer.c).
common_libvdicommon_la_SOURCES += common/tls.h common/tls_int.h \
	common/tls.c common/tls_ctx.c common/tls_load.c common/tls_peer.c
# sd_notify(3) for Type=notify units (a no-op without libsystemd).
common_libvdicommon_la_SOURCES += common/sdnotify.c common/sdnotify.h
common_libvdicommon_la_CFLAGS += $(LIBSYSTEMD_CFLAGS)
common_libvdicommon_la_LIBADD += $(LIBSYSTEMD_LIBS)
VDICOMMON_LIBS += $(LIBSYSTEMD_LIBS)
# Certificate and CRL expiry for the daemons' metrics.
common_libvdicommon_la_SOURCES += common/certexp.c common/certexp.h
common_libvdicommon_la_SOURCES += common/cfgwhere.c common/cfgwhere.h
# The /healthz answer of both daemons (libevent: its own library, so the
# programs without an HTTP listener do not link libevent).
noinst_LTLIBRARIES += common/libvdihealthz.la
common_libvdihealthz_la_SOURCES = common/healthz.c common/healthz.h
common_libvdihealthz_la_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS)
VDIHEALTHZ_LIBS = $(top_builddir)/common/libvdihealthz.la
# The privilege-separation frame layout (broker/pammsg.c, gateway/keymsg.c).
common_libvdicommon_la_SOURCES += common/privmsg.c common/privmsg.h
