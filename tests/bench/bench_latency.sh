#!/bin/bash
# bench_latency.sh: the latency a relay adds between an input and the
# desktop's answer.
#
# bench-rdp desktop in echo mode answers every fast-path input PDU with one
# fast-path bitmap update (BENCH_SIZE bytes, 4000: a small screen change);
# the bench-rdp client runs N sessions at once (1, 100, 1,000), each sending
# a mouse move every 200 ms and timing the update that answers it (one in
# flight per session), for BENCH_SECS after every session is up. Relays
# interleaved run by run: direct, stunnel4 (one TLS layer), vdi-gatewayd.
# Printed: p50/p99 in microseconds (median over the runs) and the gateway's
# p99 against stunnel's. Goal: gateway p99 <= 1.2x stunnel's; exit 1 only
# when it is above BENCH_WIDE (2) times that.
#
#   top_srcdir=.. top_builddir=. bash ../tests/bench/bench_latency.sh
# Environment: BENCH_LOADS ("1 100 1000"), BENCH_RUNS (3; 2 at 1,000),
# BENCH_SECS (10), BENCH_SMOKE=1 (make check: loads 1 and 10, 2 s, 1 run).
. "${top_srcdir:?run through make bench}/tests/integration/lib.sh"
VDI_TEST=bench_latency
vdi_init "$VDI_TEST"
. "$VDI_SRCDIR/tests/integration/broker/env.sh"
. "$VDI_SRCDIR/tests/integration/gateway/env.sh"
. "$VDI_SRCDIR/tests/bench/lib.sh"

LOADS=${BENCH_LOADS:-1 100 1000}
RUNS=${BENCH_RUNS:-3}
SECS=${BENCH_SECS:-10}
SIZE=${BENCH_SIZE:-4000}
WIDE=${BENCH_WIDE:-2}
if [ "$SMOKE" = 1 ]; then
	LOADS="1 10"
	RUNS=1
	SECS=2
fi
RELAYS="direct stunnel gateway"

bench_world echo -w fastpath -s "$SIZE"
bench_stunnel

printf '\n# input -> answering update, %s-byte update, one input per session every 200 ms, %s s per run\n' "$SIZE" "$SECS"
printf '%-8s %8s %6s %10s %10s %12s %12s\n' relay sessions runs "p50 us" "p99 us" "samples" "p99 vs st"
: >"$VDI_RUN/rows"
for n in $LOADS; do
	runs=$RUNS
	[ "$n" -ge 1000 ] && [ "$runs" -gt 2 ] && runs=2
	for r in $(seq "$runs"); do
		for relay in $RELAYS; do
			name=l-$relay-$n-$r
			bench_client "$name" "$relay" $((SECS + n / 10 + 60)) -n "$n" -m echo \
				-i 200 -d "$SECS" -p 32 ||
				vdi_die "$relay with $n sessions failed: $(grep -m3 'failed\|dropped' "$VDI_RUN/$name.log")"
			echo "$(kv "$VDI_RUN/$name.log" lat_us_p50) $(kv "$VDI_RUN/$name.log" lat_us_p99) $(kv "$VDI_RUN/$name.log" lat_n)" \
				>>"$VDI_RUN/$relay.$n"
		done
	done
	for relay in $RELAYS; do
		f=$VDI_RUN/$relay.$n
		p50=$(median $(awk '{ print $1 }' "$f"))
		p99=$(median $(awk '{ print $2 }' "$f"))
		samples=$(awk '{ s += $3 } END { print s }' "$f")
		eval "p99_${relay}_$n=$p99"
		eval "st=\$p99_stunnel_$n"
		rel=$(ratio "$p99" "${st:-0}")
		[ "$relay" = direct ] && rel=-
		printf '%-8s %8s %6s %10s %10s %12s %12s\n' "$relay" "$n" "$runs" "$p50" "$p99" "$samples" "$rel"
		echo "$relay $n $p50 $p99 $samples" >>"$VDI_RUN/rows"
	done
done
[ -n "${BENCH_OUT:-}" ] && cp "$VDI_RUN/rows" "$BENCH_OUT"
echo
for n in $LOADS; do
	eval "g=\$p99_gateway_$n s=\$p99_stunnel_$n"
	bench_goal "gateway p99 vs stunnel's at $n session(s)" "$(ratio "$g" "$s")" 1.2 "$WIDE"
done
vdi_finish
