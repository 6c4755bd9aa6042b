#!/bin/sh
# Replays every fuzz harness's seed corpus (tests/fuzz/corpus/NAME/) through
# the harness. Harnesses are listed by the Makefile in FUZZ_HARNESSES.
# With real libFuzzer binaries (--enable-fuzzers) each runs its corpus once
# (-runs=0), which replays the inputs without mutating them.
set -u
: "${top_srcdir:?run through make check}" "${top_builddir:?}"
fail=0 n=0
for h in ${FUZZ_HARNESSES:?}; do
	name=$(basename "$h")
	corpus="$top_srcdir/tests/fuzz/corpus/${name#fuzz_}"
	if [ ! -d "$corpus" ]; then
		echo "FAIL: $name: no seed corpus at $corpus"
		fail=1
		continue
	fi
	if "$top_builddir/$h" -runs=0 "$corpus"; then
		echo "ok: $name ($corpus)"
	else
		echo "FAIL: $name crashed or failed on its corpus"
		fail=1
	fi
	n=$((n + 1))
done
[ "$n" -gt 0 ] || { echo "FAIL: no harnesses"; exit 1; }
exit $fail
