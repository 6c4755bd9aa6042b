#!/bin/bash
# Reconnect storms the product could make itself, with real vdi-connect
# processes (xfreerdp under Xvfb), the real broker, gateway and a
# freerdp-shadow-cli desktop (tests/integration/scenarios/env.sh):
#   1. two vdi-connect for alice with ONE device certificate (the app
#      started twice): the newer one keeps the session, the older one is
#      told it was replaced and stops (exit 12), its ticket void; the
#      gateway sees a handful of tunnel ends, not a storm;
#   2. the same with TWO device certificates (tablet-1, then tablet-2);
#   3. a tunnel that keeps ending right after each reconnect (the network
#      path is cut again and again): the shim backs off (0.5 s, 1 s, 2 s
#      ... with the attempt count growing) instead of relaunching xfreerdp
#      at once, and after a tunnel that lasted it starts again at attempt 1.
. "${top_srcdir:?run through make check}/tests/integration/lib.sh"
vdi_init
. "$VDI_SRCDIR/tests/integration/scenarios/env.sh"
scen_policy() { base_policy 'reconnect_window = "10m"; single_session = true;'; }
scen_setup
connect_conf "$VDI_RUN/t1.conf" "$A/tablet-1"
connect_conf "$VDI_RUN/t2.conf" "$A/tablet-2"
WATCH=${STORM_WATCH:-15}

# tunnel_ends MARK: tunnel ends the gateway logged after MARK
tunnel_ends() { vdi_log_since "$GW_NAME" "$1" | grep -c 'event=tunnel_end'; }
# launches NAME: xfreerdp processes NAME's vdi-connect started
launches() { grep -c 'event=client_started' "$VDI_RUN/$1.log"; }
# watch_exit NAME SECONDS: wait for NAME to end; prints its exit status
# (124 while it still runs after SECONDS)
watch_exit() {
	vdi_wait_exit "$1" "$2"
	echo $?
}

# pair OLD NEW CONF-OLD CONF-NEW WHAT
pair() {
	local old=$1 new=$2 what=$5 mark rc ends sid
	mark=$(vdi_log_mark "$GW_NAME")
	shim "$old" "$3" alice alice-pw
	vdi_check "$what: the first vdi-connect works" shim_up "$old" "$mark"
	# An older process that has been running for a while (not one that
	# just started and failed).
	sleep 5
	sid=$(sid_of alice)
	mark=$(vdi_log_mark "$GW_NAME")
	shim "$new" "$4" alice alice-pw
	vdi_check "$what: the second vdi-connect logs in and is relayed" \
		shim_up "$new" "$mark"
	rc=$(watch_exit "$old" "$WATCH")
	ends=$(tunnel_ends "$mark")
	echo "# $what: in ${WATCH} s after the second login: $ends tunnel ends at the gateway," \
		"xfreerdp started $(launches "$old") times by the first shim and" \
		"$(launches "$new") times by the second"
	vdi_log_since "$GW_NAME" "$mark" | grep -o 'event=tunnel_end.*reason=[^ ]*' |
		sed 's/conn=.*reason=/reason=/' | sort | uniq -c | sed 's/^/#   /'
	vdi_check "$what: no storm: at most 2 tunnel ends ($ends)" test "$ends" -le 2
	vdi_assert_eq "$what: the older vdi-connect stops: exit 12 (replaced)" 12 "$rc"
	vdi_assert_contains "$what: ... saying a newer connection replaced it" \
		"$VDI_RUN/$old.log" "opened by a newer connection"
	vdi_check "$what: ... its ticket was refused as replaced" \
		grep -q 'event=reconnect_refused code=replaced' "$VDI_RUN/$old.log"
	vdi_check "$what: the newer vdi-connect keeps running" vdi_alive "$new"
	vdi_assert_eq "$what: ... with the same desktop session" "$sid" "$(sid_of alice)"
	vdi_check "$what: ... active" sstate_is "$sid" active
	vdi_assert_eq "$what: ... the newer one never reconnected" 1 "$(launches "$new")"
	mark=$(vdi_log_mark "$GW_NAME")
	sleep 2
	vdi_assert_eq "$what: ... and its tunnel stays up" 0 "$(tunnel_ends "$mark")"
	kill -TERM "$(pgrep -P "$(vdi_pid "$new")" -x vdi-connect || vdi_pid "$new")"
	vdi_wait_exit "$new" 15
	vdi_assert_eq "$what: the newer vdi-connect ends normally" 0 "$?"
}

# --- 1. one device certificate, two vdi-connect ----------------------------------
pair a1 a2 "$VDI_RUN/t1.conf" "$VDI_RUN/t1.conf" "one device"
audit_rows audit-1.txt --user alice
vdi_check "audit: the older shim's reconnect refused as replaced" \
	audit_has audit-1.txt "action=reconnect " "outcome=refused" "replaced"

# --- 2. two device certificates ----------------------------------------------------
pair b1 b2 "$VDI_RUN/t1.conf" "$VDI_RUN/t2.conf" "two devices"
audit_rows audit-2.txt --user alice
vdi_check "audit: the takeover by tablet-2" \
	audit_has audit-2.txt "action=takeover" "outcome=ok"

# --- 3. back-off when reconnects keep ending soon after they succeed ------------
mark=$(vdi_log_mark "$GW_NAME")
shim c1 "$VDI_RUN/t1.conf" alice alice-pw
vdi_check "flapping: vdi-connect works" shim_up c1 "$mark"
smark=$(vdi_log_mark c1)
# Cut the path every 0.25 s for 8 s: every tunnel dies right after it came.
for _ in $(seq 1 32); do
	vdi_signal relay USR1
	sleep 0.25
done
attempts=$(vdi_log_since c1 "$smark" | grep -o 'reconnecting (attempt [0-9]*)' | grep -o '[0-9]*' | tr '\n' ' ')
n=$(vdi_log_since c1 "$smark" | grep -c 'event=client_started')
echo "# flapping 8 s: xfreerdp relaunched $n times; attempts: $attempts"
vdi_check "flapping: vdi-connect keeps going (it was not replaced)" vdi_alive c1
vdi_check "flapping: it backs off: at most 6 relaunches in 8 s ($n)" test "$n" -le 6
vdi_check "flapping: the attempt count grows (${attempts})" \
	sh -c "echo '$attempts' | grep -qE '(^| )3( |$)'"
vdi_assert_contains "flapping: the shim names its wait" "$VDI_RUN/c1.log" "next try in"
mark=$(vdi_log_mark "$GW_NAME")
vdi_check "flapping over: the session comes back" \
	vdi_wait_log "$GW_NAME" "event=relay_start" 40 "$mark"
# A tunnel that lasted resets the back-off: the next drop is attempt 1 and
# quick again.
sleep 11
smark=$(vdi_log_mark c1)
mark=$(vdi_log_mark "$GW_NAME")
t0=$(ms_now)
vdi_signal relay USR1
vdi_wait_log "$GW_NAME" "event=relay_start" 10 "$mark"
ms=$(( $(ms_now) - t0 ))
vdi_check "after a lasting tunnel: attempt 1 again" \
	sh -c "tail -n +$((smark + 1)) '$VDI_RUN/c1.log' | grep -q 'reconnecting (attempt 1)'"
# (A back-off left over from the flapping would wait 6 s or more.)
vdi_check "... and back at once, without a back-off wait ($ms ms)" test "$ms" -lt 4000
vdi_finish
