# tests/fuzz/: libFuzzer harnesses, one per parser.
#
# With --enable-fuzzers (CC=clang) each harness is a real libFuzzer binary:
#   tests/fuzz/fuzz_vbuf -max_total_time=60 $(srcdir)/tests/fuzz/corpus/vbuf
# Without it the harness is linked with standalone.c, and `make check` replays
# its seed corpus (tests/fuzz/corpus/NAME/) through it via run-corpus.sh.
#
# To add a harness NAME (from any folder's local.mk):
#   fuzz_harnesses += tests/fuzz/fuzz_NAME
#   tests_fuzz_fuzz_NAME_SOURCES = path/to/fuzz_NAME.c $(FUZZ_DRIVER)
#   tests_fuzz_fuzz_NAME_CFLAGS = $(FUZZ_COMPILE_FLAGS) ...
#   tests_fuzz_fuzz_NAME_LDFLAGS = $(FUZZ_LINK_FLAGS)
#   tests_fuzz_fuzz_NAME_LDADD = ... $(VDICOMMON_LIBS)
# and put seed inputs in tests/fuzz/corpus/NAME/.
if ENABLE_FUZZERS
FUZZ_DRIVER =
FUZZ_COMPILE_FLAGS = $(AM_CFLAGS) $(FUZZ_FLAGS)
FUZZ_LINK_FLAGS = $(AM_LDFLAGS) $(FUZZ_FLAGS)
else
FUZZ_DRIVER = tests/fuzz/standalone.c
FUZZ_COMPILE_FLAGS = $(AM_CFLAGS)
FUZZ_LINK_FLAGS = $(AM_LDFLAGS)
endif

fuzz_harnesses += tests/fuzz/fuzz_vbuf
tests_fuzz_fuzz_vbuf_SOURCES = tests/fuzz/fuzz_vbuf.c $(FUZZ_DRIVER)
tests_fuzz_fuzz_vbuf_CFLAGS = $(FUZZ_COMPILE_FLAGS) $(VDICOMMON_CFLAGS)
tests_fuzz_fuzz_vbuf_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_vbuf_LDADD = $(VDICOMMON_LIBS)

EXTRA_DIST += tests/fuzz/standalone.c tests/fuzz/corpus
dist_noinst_SCRIPTS += tests/fuzz/run-corpus.sh
TESTS += tests/fuzz/run-corpus.sh

fuzz_harnesses += tests/fuzz/fuzz_jws
tests_fuzz_fuzz_jws_SOURCES = tests/fuzz/fuzz_jws.c $(FUZZ_DRIVER)
tests_fuzz_fuzz_jws_CFLAGS = $(FUZZ_COMPILE_FLAGS) $(VDICOMMON_CFLAGS)
tests_fuzz_fuzz_jws_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_jws_LDADD = $(VDICOMMON_LIBS)
