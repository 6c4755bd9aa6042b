#!/bin/sh
# plot.sh ROWS OUT.png: the relay's cost against load (docs/performance.md)
# from the rows bench_relay_cost.sh writes to BENCH_OUT
# ("relay sessions MB/s CPU-s/GB CPU-s/60s" per line). Needs gnuplot-nox.
#   BENCH_OUT=/tmp/relay.rows make bench; sh tests/bench/plot.sh /tmp/relay.rows docs/performance-relay.png
set -e
rows=$1
out=$2
title=${3:-relay CPU per GB of desktop graphics}
command -v gnuplot >/dev/null || { echo "gnuplot not found: apt-get install gnuplot-nox" >&2; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for r in stunnel gateway; do
	awk -v r="$r" '$1 == r { print $3, $4, $2 }' "$rows" | sort -g >"$tmp/$r"
done
gnuplot <<EOP
set terminal pngcairo size 800,480 noenhanced
set output "$out"
set title "$title"
set xlabel "load: MB/s relayed to the clients (sessions at 3.5 MB/s each)"
set ylabel "relay CPU-seconds per GB"
set yrange [0:*]
set key top right
set grid
plot "$tmp/gateway" using 1:2 with linespoints lw 2 pt 7 title "vdi-gatewayd (3 TLS layers + parsing)", \
     "$tmp/gateway" using 1:2:(sprintf("%d", \$3)) with labels offset 0,1 notitle, \
     "$tmp/stunnel" using 1:2 with linespoints lw 2 pt 5 title "stunnel4 (1 TLS layer)"
EOP
