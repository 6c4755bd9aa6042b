#!/bin/bash
# vdi-gatewayd out of descriptors (issue 18): started with a soft limit of
# 160 descriptors and flooded with 480 idle connections from 16 addresses
# (more than it has descriptors, each address within its handshake share),
# it must pause accept instead of spinning on "Too many open files", log
# that at most once a second, and open a tunnel once the flood is over.
. "${top_srcdir:?run through make check}/tests/integration/lib.sh"
vdi_init
. "$VDI_SRCDIR/tests/integration/broker/env.sh"
. "$VDI_SRCDIR/tests/integration/gateway/env.sh"
FLOOD="python3 $VDI_SRCDIR/tests/peers/flood.py"
broker_setup
gateway_setup
A="$VDI_PKI/city-a/devices"
broker_start
ulimit -S -n 160
gateway_start
ulimit -S -n "$(ulimit -H -n)"
vdi_wait_log "$GW_NAME" "event=broker_connected" 10 || vdi_die "gateway not linked"
vdi_assert_contains "the gateway warns that its limits exceed RLIMIT_NOFILE" \
	"$VDI_RUN/$GW_NAME.log" "event=limits_above_nofile nofile=160"

out=$(login "$A/tablet-1" alice alice-pw)
vdi_assert_eq "alice logs in" 200 "$(status)"
TOK=$(echo "$out" | jget "['token']")

mark=$(vdi_log_mark "$GW_NAME")
vdi_start flood $FLOOD -t "127.0.0.1:$GW_PORT" -m idle -n 480 \
	-s "$(seq -s, -f '127.0.2.%g' 1 16)" -r 2000 -d 6
vdi_wait_exit flood 20
vdi_log "$(tail -n1 "$VDI_RUN/flood.log")"
vdi_check "the gateway survived" vdi_alive "$GW_NAME"
vdi_log_since "$GW_NAME" "$mark" >"$VDI_RUN/round.log"
n=$(grep -c "Too many open files" "$VDI_RUN/round.log")
vdi_log "$n log lines about descriptors, $(wc -l <"$VDI_RUN/round.log") in all"
vdi_check "accept paused on EMFILE (accept_backoff logged)" \
	grep -q "event=accept_backoff" "$VDI_RUN/round.log"
vdi_check "at most 20 log lines about descriptor exhaustion ($n)" test "$n" -le 20
vdi_assert_eq "after the flood, alice's token opens a tunnel (101)" 101 \
	"$(tunnel_probe "$A/tablet-1" "$TOK")"
vdi_finish
