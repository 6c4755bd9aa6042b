#!/bin/bash
# vdi-brokerd under descriptor pressure (issue 18): started with a soft
# limit of 256 descriptors, flooded with more idle TCP connections (from
# many source addresses) than it has descriptors, while a login request
# that was already connected arrives at the worst moment (tests/peers/
# flood.py -m hold). The broker must not spin on "Too many open files",
# must not lose its monitor link, and must log people in once the flood is
# over. Run twice: with the connection cap derived from the limit, and
# with a cap set above the limit (the accept back-off on EMFILE).
. "${top_srcdir:?run through make check}/tests/integration/lib.sh"
vdi_init
. "$VDI_SRCDIR/tests/integration/broker/env.sh"
FLOOD="python3 $VDI_SRCDIR/tests/peers/flood.py"
broker_setup
A="$VDI_PKI/city-a/devices"
SOURCES=$(seq -s, -f '127.0.1.%g' 1 16)

# flood_round TAG: a held login, 480 idle connections (30 from each of 16
# addresses), the held login sent, the flood ended, a normal login.
flood_round() {
	local tag=$1 mark
	mark=$(vdi_log_mark "$BROKER_NAME")
	rm -f "$VDI_RUN/go-$tag"
	vdi_start "hold-$tag" $FLOOD -t "127.0.0.1:$(cat "$VDI_RUN/broker.port")" \
		-m hold -u alice -g "$VDI_RUN/go-$tag" -d 30 \
		-c "$A/tablet-1.pem" -k "$A/tablet-1.key" -C "$VDI_PKI/infra/ca.pem"
	vdi_wait_log "hold-$tag" "hold sent" 10 || vdi_die "the held login did not connect"
	vdi_start "flood-$tag" $FLOOD -t "127.0.0.1:$(cat "$VDI_RUN/broker.port")" \
		-m idle -n 480 -s "$SOURCES" -r 2000 -d 8
	vdi_wait_until 8 grep -q "open=480" "$VDI_RUN/flood-$tag.log"
	sleep 2
	touch "$VDI_RUN/go-$tag"
	vdi_wait_exit "hold-$tag" 15
	HELD=$(sed -n 's/^status=//p' "$VDI_RUN/hold-$tag.log")
	vdi_log "$tag: the login that arrived during the flood got $HELD: $(tail -n1 "$VDI_RUN/hold-$tag.log")"
	vdi_wait_exit "flood-$tag" 20
	vdi_log "$tag: $(tail -n1 "$VDI_RUN/flood-$tag.log")"
	# Give the broker the time to close what the flood left.
	sleep 2
	vdi_check "$tag: the broker is still running" vdi_alive "$BROKER_NAME"
	out=$(login "$A/tablet-2" bob bob-pw)
	vdi_assert_eq "$tag: after the flood, bob logs in" 200 "$(status)"
	[ "$(status)" = 200 ] || vdi_log "$tag: $(cat "$VDI_RUN/body")"
	vdi_check "$tag: ... and gets a token" sh -c "echo '$out' | grep -q '\"token\"'"
	vdi_log_since "$BROKER_NAME" "$mark" >"$VDI_RUN/round-$tag.log"
	vdi_assert_lacks "$tag: the monitor link was not lost" \
		"$VDI_RUN/round-$tag.log" "privsep_monitor_lost"
	n=$(grep -c "Too many open files" "$VDI_RUN/round-$tag.log")
	vdi_log "$tag: $n log lines about descriptors, $(wc -l <"$VDI_RUN/round-$tag.log") lines in all"
	vdi_check "$tag: at most 50 log lines about descriptor exhaustion ($n)" \
		test "$n" -le 50
}

# --- configuration: the new limits are checked ---------------------------------
{ cat "$VDI_RUN/brokerd.conf"
  printf 'limits = { max_connections = 100; max_connections_per_source = 101; };\n'
} >"$VDI_RUN/bad.conf"
"$BROKER" -t -f "$VDI_RUN/bad.conf" >"$VDI_RUN/bad.out" 2>&1
vdi_assert_eq "vdi-brokerd -t refuses a per-source share above the cap" 1 "$?"
vdi_assert_contains "... naming file:line and the key" "$VDI_RUN/bad.out" \
	"bad.conf:$(wc -l <"$VDI_RUN/bad.conf"): limits.max_connections_per_source: 101 is above max_connections (100)"
{ cat "$VDI_RUN/brokerd.conf"
  printf 'limits = { request_timeout = "0s"; };\n'; } >"$VDI_RUN/bad2.conf"
vdi_check_not "vdi-brokerd -t refuses request_timeout 0" \
	"$BROKER" -t -f "$VDI_RUN/bad2.conf"

# --- 1: the connection cap derived from the descriptor limit ------------------
ulimit -S -n 256
broker_start
ulimit -S -n "$(ulimit -H -n)"
flood_round derived
vdi_assert_eq "derived: the login that arrived during the flood got its prompt" \
	200 "$HELD"
vdi_stop "$BROKER_NAME" 10

# --- 2: a cap above the limit: accept back-off on EMFILE ------------------------
printf 'limits = { max_connections = 2000; };\n' >>"$VDI_RUN/brokerd.conf"
ulimit -S -n 256
broker_start
ulimit -S -n "$(ulimit -H -n)"
flood_round emfile
vdi_check "emfile: the back-off on EMFILE is logged" \
	grep -q "event=accept_backoff" "$VDI_RUN/round-emfile.log"
vdi_finish
