#!/bin/bash
# bench_reconnect.sh: how long a field tablet waits to get back in.
#
# Against the real broker (PAM through pam_wrapper, SQLite with synchronous
# writes, mTLS with CRLs), measures N times, each with a fresh TLS
# connection as a tablet coming back from a network drop would:
#   baseline   GET /v1/health            (TLS handshake + one request)
#   reconnect  POST /v1/reconnect        (ticket checked, rotated, token signed)
#   login      POST /v1/login x2         (the PAM conversation, for contrast)
# and prints p50/p95/max. Goal (docs/architecture.md: back in about a second, of which
# the broker's share must be small): reconnect p95 < 250 ms and within
# 10x the baseline p95 of the same run. Exit 1 when the goal is missed.
#
#   tests/bench/bench_reconnect.sh [N]     (run from a build directory
#                                           through `make bench`)
. "${top_srcdir:?run through make bench}/tests/integration/lib.sh"
VDI_TEST=bench_reconnect
vdi_init
. "$VDI_SRCDIR/tests/integration/broker/env.sh"
N=${1:-${BENCH_N:-40}}
broker_setup
broker_start
A="$VDI_PKI/city-a/devices"

ms() { python3 -c 'import sys; print(int(float(sys.argv[1]) * 1000))' "$1"; }
timed() { # outfile cmd... : appends seconds
	local t0 t1
	t0=$(date +%s.%N)
	"$@" >/dev/null
	t1=$(date +%s.%N)
	echo "$t1 - $t0" | bc >>"$OUT"
}

OUT=$VDI_RUN/baseline
for i in $(seq "$N"); do timed api "$A/tablet-1" GET /v1/health; done
out=$(login "$A/tablet-1" carol carol-pw)
ticket=$(echo "$out" | jget "['ticket']")
OUT=$VDI_RUN/reconnect
for i in $(seq "$N"); do
	t0=$(date +%s.%N)
	out=$(api "$A/tablet-1" POST /v1/reconnect "{\"ticket\":\"$ticket\"}")
	t1=$(date +%s.%N)
	echo "$t1 - $t0" | bc >>"$OUT"
	ticket=$(echo "$out" | jget "['ticket']") || vdi_die "reconnect $i failed: $out"
done
OUT=$VDI_RUN/login
for i in $(seq $((N / 4 + 1))); do timed login "$A/tablet-2" bob bob-pw; done

stats() { # file -> "p50 p95 max" in ms
	python3 - "$1" <<'PY'
import sys
v = sorted(float(x) for x in open(sys.argv[1]) if x.strip())
q = lambda p: v[min(len(v) - 1, int(round(p * (len(v) - 1))))]
print(int(q(.5) * 1000), int(q(.95) * 1000), int(v[-1] * 1000))
PY
}
read -r b50 b95 bmax < <(stats "$VDI_RUN/baseline")
read -r r50 r95 rmax < <(stats "$VDI_RUN/reconnect")
read -r l50 l95 lmax < <(stats "$VDI_RUN/login")
printf '\n%-34s %8s %8s %8s\n' "broker, $N runs each (ms)" p50 p95 max
printf '%-34s %8s %8s %8s\n' "baseline: mTLS health request" "$b50" "$b95" "$bmax"
printf '%-34s %8s %8s %8s\n' "reconnect with a ticket" "$r50" "$r95" "$rmax"
printf '%-34s %8s %8s %8s\n' "login with PAM (for contrast)" "$l50" "$l95" "$lmax"
echo
vdi_check "reconnect p95 ${r95} ms < 250 ms" test "$r95" -lt 250
vdi_check "reconnect p95 within 10x the baseline p95 (${b95} ms)" \
	test "$r95" -le $((10 * (b95 > 0 ? b95 : 1)))
vdi_finish
