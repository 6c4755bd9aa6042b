# rdp/: librdp, the RDP parsers and filters (pure: bytes in, struct or
# verdict out), used by vdi-gatewayd's relay, the broker's X.224 health
# probe and the test peers; their unit tests and fuzz harnesses.
# Users include "rdp/NAME.h" (AM_CPPFLAGS has -I$(top_srcdir)).
noinst_LTLIBRARIES += rdp/librdp.la

rdp_librdp_la_SOURCES = \
	rdp/rdp.c rdp/rdp.h \
	rdp/frame.c rdp/frame.h \
	rdp/x224.c rdp/x224.h \
	rdp/mcs.c rdp/mcs.h \
	rdp/gcc.c rdp/gcc.h \
	rdp/sec.c rdp/sec.h \
	rdp/info.c rdp/info.h \
	rdp/caps.c rdp/caps.h \
	rdp/svc.c rdp/svc.h \
	rdp/dvc.c rdp/dvc.h \
	rdp/gfx.c rdp/gfx.h \
	rdp/der.c rdp/der.h \
	rdp/cssp.c rdp/cssp.h
rdp_librdp_la_CFLAGS = $(AM_CFLAGS) $(VDICOMMON_CFLAGS)

RDP_LIBS = $(top_builddir)/rdp/librdp.la $(VDICOMMON_LIBS)

# Unit tests of the parsers (cmocka), fed with tests/unit/rdp-captures/.
RDP_UNIT_CFLAGS = $(AM_CFLAGS) $(VDICOMMON_CFLAGS) $(CMOCKA_CFLAGS)
RDP_UNIT_LIBS = $(RDP_LIBS) $(CMOCKA_LIBS)
unit_rdp_tests = \
	tests/unit/test_rdp_frame \
	tests/unit/test_rdp_x224 \
	tests/unit/test_rdp_mcs \
	tests/unit/test_rdp_info \
	tests/unit/test_rdp_caps \
	tests/unit/test_rdp_svc \
	tests/unit/test_rdp_dvc \
	tests/unit/test_rdp_cssp
unit_tests += $(unit_rdp_tests)

tests_unit_test_rdp_frame_SOURCES = tests/unit/test_rdp_frame.c \
	tests/unit/test_rdp_capture.h
tests_unit_test_rdp_frame_CFLAGS = $(RDP_UNIT_CFLAGS)
tests_unit_test_rdp_frame_LDADD = $(RDP_UNIT_LIBS)
tests_unit_test_rdp_x224_SOURCES = tests/unit/test_rdp_x224.c \
	tests/unit/test_rdp_capture.h
tests_unit_test_rdp_x224_CFLAGS = $(RDP_UNIT_CFLAGS)
tests_unit_test_rdp_x224_LDADD = $(RDP_UNIT_LIBS)
tests_unit_test_rdp_mcs_SOURCES = tests/unit/test_rdp_mcs.c \
	tests/unit/test_rdp_capture.h
tests_unit_test_rdp_mcs_CFLAGS = $(RDP_UNIT_CFLAGS)
tests_unit_test_rdp_mcs_LDADD = $(RDP_UNIT_LIBS)
tests_unit_test_rdp_info_SOURCES = tests/unit/test_rdp_info.c \
	tests/unit/test_rdp_capture.h
tests_unit_test_rdp_info_CFLAGS = $(RDP_UNIT_CFLAGS)
tests_unit_test_rdp_info_LDADD = $(RDP_UNIT_LIBS)
tests_unit_test_rdp_caps_SOURCES = tests/unit/test_rdp_caps.c \
	tests/unit/test_rdp_capture.h
tests_unit_test_rdp_caps_CFLAGS = $(RDP_UNIT_CFLAGS)
tests_unit_test_rdp_caps_LDADD = $(RDP_UNIT_LIBS)
tests_unit_test_rdp_svc_SOURCES = tests/unit/test_rdp_svc.c \
	tests/unit/test_rdp_capture.h
tests_unit_test_rdp_svc_CFLAGS = $(RDP_UNIT_CFLAGS)
tests_unit_test_rdp_svc_LDADD = $(RDP_UNIT_LIBS)
tests_unit_test_rdp_dvc_SOURCES = tests/unit/test_rdp_dvc.c \
	tests/unit/test_rdp_capture.h
tests_unit_test_rdp_dvc_CFLAGS = $(RDP_UNIT_CFLAGS)
tests_unit_test_rdp_dvc_LDADD = $(RDP_UNIT_LIBS)
# CredSSP DER and binding (makes a PKI with tests/pki/mkpki.sh at test time).
tests_unit_test_rdp_cssp_SOURCES = tests/unit/test_rdp_cssp.c
tests_unit_test_rdp_cssp_CFLAGS = $(RDP_UNIT_CFLAGS)
tests_unit_test_rdp_cssp_LDADD = $(RDP_UNIT_LIBS)

# One libFuzzer harness per parser file, seeded from the captures
# (tests/unit/rdp-captures/tools/fuzz-seeds.py writes tests/fuzz/corpus/rdp_*/).
# With --enable-fuzzers the parsers themselves are compiled again with the
# fuzzer's coverage instrumentation (a library built with AM_CFLAGS would
# leave libFuzzer blind to every branch in them).
RDP_FUZZ_CFLAGS = $(FUZZ_COMPILE_FLAGS) $(VDICOMMON_CFLAGS)
if ENABLE_FUZZERS
noinst_LTLIBRARIES += rdp/librdp_fuzz.la
rdp_librdp_fuzz_la_SOURCES = $(rdp_librdp_la_SOURCES)
rdp_librdp_fuzz_la_CFLAGS = $(RDP_FUZZ_CFLAGS)
RDP_FUZZ_LIBS = $(top_builddir)/rdp/librdp_fuzz.la $(VDICOMMON_LIBS)
else
RDP_FUZZ_LIBS = $(RDP_LIBS)
endif
fuzz_harnesses += \
	tests/fuzz/fuzz_rdp_frame \
	tests/fuzz/fuzz_rdp_x224 \
	tests/fuzz/fuzz_rdp_mcs \
	tests/fuzz/fuzz_rdp_gcc \
	tests/fuzz/fuzz_rdp_sec \
	tests/fuzz/fuzz_rdp_info \
	tests/fuzz/fuzz_rdp_caps \
	tests/fuzz/fuzz_rdp_svc \
	tests/fuzz/fuzz_rdp_dvc \
	tests/fuzz/fuzz_rdp_gfx \
	tests/fuzz/fuzz_rdp_cssp
tests_fuzz_fuzz_rdp_frame_SOURCES = tests/fuzz/fuzz_rdp_frame.c $(FUZZ_DRIVER)
tests_fuzz_fuzz_rdp_frame_CFLAGS = $(RDP_FUZZ_CFLAGS)
tests_fuzz_fuzz_rdp_frame_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_rdp_frame_LDADD = $(RDP_FUZZ_LIBS)
tests_fuzz_fuzz_rdp_x224_SOURCES = tests/fuzz/fuzz_rdp_x224.c $(FUZZ_DRIVER)
tests_fuzz_fuzz_rdp_x224_CFLAGS = $(RDP_FUZZ_CFLAGS)
tests_fuzz_fuzz_rdp_x224_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_rdp_x224_LDADD = $(RDP_FUZZ_LIBS)
tests_fuzz_fuzz_rdp_mcs_SOURCES = tests/fuzz/fuzz_rdp_mcs.c $(FUZZ_DRIVER)
tests_fuzz_fuzz_rdp_mcs_CFLAGS = $(RDP_FUZZ_CFLAGS)
tests_fuzz_fuzz_rdp_mcs_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_rdp_mcs_LDADD = $(RDP_FUZZ_LIBS)
tests_fuzz_fuzz_rdp_gcc_SOURCES = tests/fuzz/fuzz_rdp_gcc.c $(FUZZ_DRIVER)
tests_fuzz_fuzz_rdp_gcc_CFLAGS = $(RDP_FUZZ_CFLAGS)
tests_fuzz_fuzz_rdp_gcc_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_rdp_gcc_LDADD = $(RDP_FUZZ_LIBS)
tests_fuzz_fuzz_rdp_sec_SOURCES = tests/fuzz/fuzz_rdp_sec.c $(FUZZ_DRIVER)
tests_fuzz_fuzz_rdp_sec_CFLAGS = $(RDP_FUZZ_CFLAGS)
tests_fuzz_fuzz_rdp_sec_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_rdp_sec_LDADD = $(RDP_FUZZ_LIBS)
tests_fuzz_fuzz_rdp_info_SOURCES = tests/fuzz/fuzz_rdp_info.c $(FUZZ_DRIVER)
tests_fuzz_fuzz_rdp_info_CFLAGS = $(RDP_FUZZ_CFLAGS)
tests_fuzz_fuzz_rdp_info_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_rdp_info_LDADD = $(RDP_FUZZ_LIBS)
tests_fuzz_fuzz_rdp_caps_SOURCES = tests/fuzz/fuzz_rdp_caps.c $(FUZZ_DRIVER)
tests_fuzz_fuzz_rdp_caps_CFLAGS = $(RDP_FUZZ_CFLAGS)
tests_fuzz_fuzz_rdp_caps_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_rdp_caps_LDADD = $(RDP_FUZZ_LIBS)
tests_fuzz_fuzz_rdp_svc_SOURCES = tests/fuzz/fuzz_rdp_svc.c $(FUZZ_DRIVER)
tests_fuzz_fuzz_rdp_svc_CFLAGS = $(RDP_FUZZ_CFLAGS)
tests_fuzz_fuzz_rdp_svc_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_rdp_svc_LDADD = $(RDP_FUZZ_LIBS)
tests_fuzz_fuzz_rdp_dvc_SOURCES = tests/fuzz/fuzz_rdp_dvc.c $(FUZZ_DRIVER)
tests_fuzz_fuzz_rdp_dvc_CFLAGS = $(RDP_FUZZ_CFLAGS)
tests_fuzz_fuzz_rdp_dvc_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_rdp_dvc_LDADD = $(RDP_FUZZ_LIBS)
tests_fuzz_fuzz_rdp_gfx_SOURCES = tests/fuzz/fuzz_rdp_gfx.c $(FUZZ_DRIVER)
tests_fuzz_fuzz_rdp_gfx_CFLAGS = $(RDP_FUZZ_CFLAGS)
tests_fuzz_fuzz_rdp_gfx_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_rdp_gfx_LDADD = $(RDP_FUZZ_LIBS)
# Seeds: tests/fuzz/corpus/rdp_cssp/README (written by our encoder).
tests_fuzz_fuzz_rdp_cssp_SOURCES = tests/fuzz/fuzz_rdp_cssp.c $(FUZZ_DRIVER)
tests_fuzz_fuzz_rdp_cssp_CFLAGS = $(RDP_FUZZ_CFLAGS)
tests_fuzz_fuzz_rdp_cssp_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_rdp_cssp_LDADD = $(RDP_FUZZ_LIBS)

EXTRA_DIST += tests/unit/rdp-captures docs/rdp-relay-parsers.md
