#!/bin/bash
# Scenario 1, field tablet: alice logs in on her tablet with vdi-connect and
# works (pointer input through xfreerdp); the network drops (the tunnel is
# cut); she is back in the same desktop session within 2 seconds without a
# password. Then she stops touching the tablet: the idle limit disconnects
# her. Once the reconnect window is over, her ticket is refused and the
# password is asked again.
. "${top_srcdir:?run through make check}/tests/integration/lib.sh"
vdi_init
. "$VDI_SRCDIR/tests/integration/scenarios/env.sh"
scen_policy() { base_policy 'idle_disconnect = "4s"; reconnect_window = "5s";'; }
scen_setup
connect_conf "$VDI_RUN/tablet-1.conf" "$A/tablet-1"

# --- log in and work ----------------------------------------------------------
mark=$(vdi_log_mark "$GW_NAME")
shim s1 "$VDI_RUN/tablet-1.conf" alice alice-pw
vdi_check "alice logs in with vdi-connect and xfreerdp is relayed" shim_up s1 "$mark"
vdi_assert_eq "... the password was asked once" 1 "$(grep -c 'Password' "$VDI_RUN/s1.log")"
SID=$(sid_of alice)
vdi_check "the broker has her session" test -n "$SID"
vdi_check "... active" vdi_wait_until 5 sstate_is "$SID" active
work 2
vdi_check "while she works the session is not idle-closed" \
	sh -c "! grep -F 'reason=idle' '$VDI_RUN/$GW_NAME.log'"

# --- the network drops ------------------------------------------------------------
mark=$(vdi_log_mark "$GW_NAME")
smark=$(vdi_log_mark s1)
t0=$(ms_now)
vdi_signal relay USR1
vdi_check "vdi-connect notices the drop" \
	vdi_wait_log s1 "connection to the desktop was lost" 10 "$smark"
vdi_wait_log "$GW_NAME" "event=relay_start" 10 "$mark"
ms=$(( $(ms_now) - t0 ))
echo "# tunnel cut -> relayed again after $ms ms"
vdi_check "back in the desktop within 2 s ($ms ms)" test "$ms" -lt 2000
vdi_assert_eq "... without a password prompt" 1 "$(grep -c 'Password' "$VDI_RUN/s1.log")"
vdi_check "... in the same desktop session" vdi_wait_until 5 sstate_is "$SID" active
vdi_assert_eq "... one live session" 1 "$(live_count)"
work 1

# --- idle ---------------------------------------------------------------------------
mark=$(vdi_log_mark "$GW_NAME")
t0=$(ms_now)
vdi_check "with no input the gateway disconnects her as idle" \
	vdi_wait_log "$GW_NAME" "reason=idle" 15 "$mark"
ms=$(( $(ms_now) - t0 ))
vdi_check "... after the 4 s idle limit ($ms ms after the last input)" \
	test "$ms" -ge 2500 -a "$ms" -le 8000
vdi_wait_exit s1 30
vdi_assert_eq "vdi-connect cannot resume after the window: it ends (exit 8)" 8 "$?"
vdi_assert_contains "... telling her to log in" "$VDI_RUN/s1.log" "reconnect window has passed: log in"
vdi_check "the desktop session is kept, disconnected" sstate_is "$SID" disconnected

# --- after the reconnect window ---------------------------------------------------
sleep 6
mark=$(vdi_log_mark "$GW_NAME")
shim s2 "$VDI_RUN/tablet-1.conf" alice alice-pw
vdi_check "after the window vdi-connect asks the password again" \
	vdi_wait_log s2 "Password" 15
vdi_check "... and with it she is back in the same session" shim_up s2 "$mark"
vdi_check "... same session id" vdi_wait_until 5 sstate_is "$SID" active
kill -TERM "$(pgrep -P "$(vdi_pid s2)" -x vdi-connect || vdi_pid s2)"
vdi_wait_exit s2 15

# --- audit -------------------------------------------------------------------------
THUMB=$(vdi_thumbprint "$A/tablet-1.pem")
audit_rows audit-alice.txt --user alice
audit_rows audit-dev.txt --device "$THUMB"
vdi_check "audit: the login" audit_has audit-alice.txt "action=login " "outcome=ok" "session=$SID"
vdi_check "audit: the reconnect after the drop, same session" \
	audit_has audit-alice.txt "action=reconnect " "outcome=ok" "session=$SID"
vdi_check "audit: the idle end of the tunnel" \
	audit_has audit-alice.txt "action=tunnel_end" "reason=\"idle\"" "session=$SID"
vdi_check "audit: the expired ticket refused" \
	audit_has audit-dev.txt "action=reconnect " "outcome=refused" "ticket_expired"
vdi_check "audit: the new login with the password, same session" \
	audit_has audit-alice.txt "action=login " "outcome=ok" "session=$SID" 'reason="reused"'
vdi_check "audit verify: intact" "$VDICTL" audit verify
vdi_finish
