#!/bin/bash
# bench_relay_cost.sh: CPU of the relay per byte of desktop graphics.
#
# bench-rdp plays the desktop (GFX frames on the graphics DVC, cut into
# 1600-byte channel chunks as FreeRDP's shadow server sends them with
# /gfx; -w fastpath for fast-path bitmap updates) and the client; both run
# the real connection sequence first. Relays, interleaved run by run:
#   direct   no relay (the client's throughput, for reference)
#   stunnel  stunnel4: one TLS layer (the device's mTLS), RDP's TLS passes
#            through end to end
#   gateway  vdi-gatewayd: outer tunnel TLS + inner RDP TLS + desktop TLS,
#            and the display-only parsing
# Cost: utime+stime of the relay process (/proc/PID/stat) over the run,
# divided by the bytes the client received: CPU-seconds per GB. Sessions
# (load) 1, 4 and 16 at BENCH_RATE bytes/s each (default 3.5 MB/s, the
# issue's measured workload); RUNS runs per relay and load, medians.
# Crypto only: `openssl speed -evp` of the negotiated cipher at 16 KiB
# records (TLS's largest), times 1 (stunnel) and 3 (gateway).
# Goal: gateway <= 1.5x stunnel's CPU per byte (same run); exits 1 only
# when the ratio misses it by more than BENCH_WIDE (default 1.5x more).
#
#   make bench                      (all benchmarks)
#   top_srcdir=.. top_builddir=. bash ../tests/bench/bench_relay_cost.sh
# Environment: BENCH_SECS (per run, 15), BENCH_RUNS (4), BENCH_LOADS
# ("1 4 16"), BENCH_RATE (3500000; 0 = as fast as possible), BENCH_WORK
# (gfx|fastpath), BENCH_OUT (a file for the table's rows, for the plot),
# BENCH_SMOKE=1 (make check: 1 run of 2 s at load 1).
. "${top_srcdir:?run through make bench}/tests/integration/lib.sh"
VDI_TEST=bench_relay_cost
vdi_init "$VDI_TEST"
. "$VDI_SRCDIR/tests/integration/broker/env.sh"
. "$VDI_SRCDIR/tests/integration/gateway/env.sh"
. "$VDI_SRCDIR/tests/bench/lib.sh"

SECS=${BENCH_SECS:-15}
RUNS=${BENCH_RUNS:-4}
LOADS=${BENCH_LOADS:-1 4 16}
RATE=${BENCH_RATE:-3500000}
WORK=${BENCH_WORK:-gfx}
WIDE=${BENCH_WIDE:-1.5}
if [ "$SMOKE" = 1 ]; then
	SECS=2
	RUNS=1
	LOADS=1
fi
RELAYS="direct stunnel gateway"

bench_world stream -w "$WORK" -r "$RATE"
bench_stunnel

# run RELAY N: one run; appends "cpu_s bytes mbps" to $VDI_RUN/RELAY.N
run() {
	local relay=$1 n=$2 pid c0 c1 bytes secs name=c-$1-$2
	pid=$(relay_pid "$relay")
	c0=$(cpu_ticks "$pid")
	bench_client "$name" "$relay" $((SECS + 60)) -n "$n" -m stream -d "$SECS" ||
		vdi_die "$relay run with $n sessions failed: $(tail -n 3 "$VDI_RUN/$name.log")"
	c1=$(cpu_ticks "$pid")
	bytes=$(kv "$VDI_RUN/$name.log" bytes)
	secs=$(kv "$VDI_RUN/$name.log" seconds)
	[ "${bytes:-0}" -gt 0 ] || vdi_die "$relay: no bytes reached the client"
	grep -h 'event=tls' "$VDI_RUN/$name.log" | sed "s/^/# $relay: /" | sort -u >>"$VDI_RUN/tls.txt"
	awk -v c=$((c1 - c0)) -v hz="$HZ" -v b="$bytes" -v s="$secs" \
		'BEGIN { printf "%.3f %.0f %.2f\n", c / hz, b, b / s / 1e6 }' >>"$VDI_RUN/$relay.$n"
}

for n in $LOADS; do
	for r in $(seq "$RUNS"); do
		for relay in $RELAYS; do
			run "$relay" "$n"
		done
	done
done

# CPU-seconds per GB of each run, then the median per relay and load.
per_gb() { awk '{ if ($2 > 0) printf "%.3f\n", $1 / ($2 / 1e9) }' "$1"; }
col() { awk -v k="$2" '{ print $k }' "$1"; }

# Crypto only, for the cipher the tunnel negotiated.
cipher=$(sed -n 's/.*gateway: bench event=tls layer=outer cipher=\([^ ]*\).*/\1/p' "$VDI_RUN/tls.txt" | head -n1)
case $cipher in
*AES_128_GCM* | *AES128-GCM*) evp=aes-128-gcm ;;
*CHACHA20*) evp=chacha20-poly1305 ;;
*) evp=aes-256-gcm ;;
esac
speed=$("$OPENSSL" speed -mr -seconds 1 -bytes 16384 -evp "$evp" 2>/dev/null |
	awk -F: '/^\+F:/ { print $4 }' | head -n1)
crypto_gb=$(awk -v s="${speed:-0}" 'BEGIN { if (s > 0) printf "%.3f", 1e9 / s; else print 0 }')

printf '\n# relay cost, %s workload, %s bytes/s per session (0: unlimited), %s s x %s runs, interleaved\n' \
	"$WORK" "$RATE" "$SECS" "$RUNS"
cat "$VDI_RUN/tls.txt"
printf '%-8s %8s %12s %14s %14s %10s\n' relay sessions "MB/s" "CPU-s/GB" "CPU-s/60s" "vs stunnel"
: >"$VDI_RUN/rows"
for n in $LOADS; do
	declare -A med=()
	for relay in $RELAYS; do
		f=$VDI_RUN/$relay.$n
		med[$relay]=$(median $(per_gb "$f"))
		mbps=$(median $(col "$f" 3))
		cpu60=$(awk -v g="${med[$relay]}" -v m="$mbps" 'BEGIN { printf "%.2f", g * m * 60 / 1000 }')
		rel=$(ratio "${med[$relay]}" "${med[stunnel]:-0}")
		[ "$relay" = direct ] && rel=-
		printf '%-8s %8s %12s %14s %14s %10s\n' "$relay" "$n" "$mbps" "${med[$relay]}" "$cpu60" "$rel"
		echo "$relay $n $mbps ${med[$relay]} $cpu60" >>"$VDI_RUN/rows"
	done
	eval "gw_$n=${med[gateway]} st_$n=${med[stunnel]}"
	unset med
done
printf 'crypto only (openssl speed -evp %s, 16 KiB): %s CPU-s/GB per layer: stunnel 1 layer %s, gateway 3 layers %s\n' \
	"$evp" "$crypto_gb" "$crypto_gb" "$(awk -v c="$crypto_gb" 'BEGIN { printf "%.3f", 3 * c }')"
[ -n "${BENCH_OUT:-}" ] && cp "$VDI_RUN/rows" "$BENCH_OUT"
echo

first=${LOADS%% *}
eval "g=\$gw_$first s=\$st_$first"
bench_goal "gateway CPU per byte vs stunnel's ($first session(s))" "$(ratio "$g" "$s")" 1.5 "$WIDE"
vdi_finish
