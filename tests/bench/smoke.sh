#!/bin/bash
# smoke.sh (make check): every benchmark of tests/bench/ for a few seconds
# (BENCH_SMOKE=1: small N, short runs, goals printed but not judged), so
# that the tools keep working. Fails only when a benchmark itself breaks.
: "${top_srcdir:?run through make check}"
rc=0
for b in relay_cost session_memory latency connect broker_storm; do
	echo "=== bench_$b.sh (smoke)"
	BENCH_SMOKE=1 bash "$top_srcdir/tests/bench/bench_$b.sh"
	r=$?
	echo "=== bench_$b.sh: exit $r"
	case $r in 0 | 77) ;; *) rc=$r ;; esac
done
exit $rc
