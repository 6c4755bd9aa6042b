#!/bin/bash
# Scenario 6, broker killed with -9 during sessions: alice and bob work
# through vdi-connect; the broker (monitor and worker) is killed with
# SIGKILL and started again on the same port. Sessions and their desktop
# assignments are intact, the running tunnels were never touched, and
# after a network drop both tablets reconnect with the tickets issued
# before the crash, without a password.
. "${top_srcdir:?run through make check}/tests/integration/lib.sh"
vdi_init
. "$VDI_SRCDIR/tests/integration/scenarios/env.sh"
scen_policy() { base_policy 'reconnect_window = "10m";'; }
scen_setup
connect_conf "$VDI_RUN/t1.conf" "$A/tablet-1"
connect_conf "$VDI_RUN/t2.conf" "$A/tablet-2"

mark=$(vdi_log_mark "$GW_NAME")
shim s1 "$VDI_RUN/t1.conf" alice alice-pw
vdi_check "alice works" shim_up s1 "$mark"
mark=$(vdi_log_mark "$GW_NAME")
shim s2 "$VDI_RUN/t2.conf" bob bob-pw
vdi_check "bob works" shim_up s2 "$mark"
SA=$(sid_of alice)
SB=$(sid_of bob)
vdi_wait_until 5 sstate_is "$SB" active
digest() { # id user device desktop pool of every live session
	sessions_json | python3 -c 'import json,sys
for s in sorted(json.load(sys.stdin)["sessions"], key=lambda s: s["id"]):
    print(s["id"], s["user"], s["device"], s["desktop"], s["pool"], s["state"])'
}
digest >"$VDI_RUN/sessions-before.txt"
cat "$VDI_RUN/sessions-before.txt" | sed 's/^/# before: /'

# --- kill -9 -------------------------------------------------------------------
gmark=$(vdi_log_mark "$GW_NAME")
kill -9 -- "-$(vdi_pid "$BROKER_NAME")"
vdi_wait_exit "$BROKER_NAME" 5
vdi_check "the broker is gone" sh -c "! kill -0 $(vdi_pid "$BROKER_NAME") 2>/dev/null"
work 1
vdi_check "the tunnels keep running without the broker" \
	sh -c "! tail -n +$((gmark + 1)) '$VDI_RUN/$GW_NAME.log' | grep -q event=tunnel_end"
broker_start
vdi_check "the broker is back on the same port" test "$BROKER_URL" = "https://127.0.0.1:$BROKER_PORT"
digest >"$VDI_RUN/sessions-after.txt"
vdi_check "sessions and assignments are intact after kill -9" \
	cmp -s "$VDI_RUN/sessions-before.txt" "$VDI_RUN/sessions-after.txt"
vdi_check "both tablets still connected" sh -c "kill -0 $(vdi_pid s1) && kill -0 $(vdi_pid s2)"

# --- a network drop after the restart: reconnect with pre-crash tickets ----------
mark=$(vdi_log_mark "$GW_NAME")
m1=$(vdi_log_mark s1)
m2=$(vdi_log_mark s2)
t0=$(ms_now)
vdi_signal relay USR1
vdi_check "alice's vdi-connect reconnects" vdi_wait_log s1 "Reconnected to" 15 "$m1"
vdi_check "bob's vdi-connect reconnects" vdi_wait_log s2 "Reconnected to" 15 "$m2"
ms=$(( $(ms_now) - t0 ))
echo "# drop -> both reconnected after $ms ms"
vdi_assert_eq "... without a password (alice)" 1 "$(grep -c 'Password' "$VDI_RUN/s1.log")"
vdi_assert_eq "... without a password (bob)" 1 "$(grep -c 'Password' "$VDI_RUN/s2.log")"
vdi_check "alice is in the same session" vdi_wait_until 5 sstate_is "$SA" active
vdi_check "bob is in the same session" vdi_wait_until 5 sstate_is "$SB" active
digest >"$VDI_RUN/sessions-end.txt"
vdi_check "same sessions, desktops and devices" \
	cmp -s "$VDI_RUN/sessions-before.txt" "$VDI_RUN/sessions-end.txt"
work 1

audit_rows audit-alice.txt --user alice
vdi_check "audit: alice's reconnect after the restart, same session" \
	audit_has audit-alice.txt "action=reconnect " "outcome=ok" "session=$SA" 'reason="reused"'
audit_rows audit-bob.txt --user bob
vdi_check "audit: bob's reconnect after the restart, same session" \
	audit_has audit-bob.txt "action=reconnect " "outcome=ok" "session=$SB" 'reason="reused"'
vdi_check "audit: the gateway's events after the restart reached the new broker" \
	audit_has audit-bob.txt "action=tunnel_start" "session=$SB"
vdi_check "audit verify: the chain survived kill -9" "$VDICTL" audit verify
vdi_finish
