#!/bin/bash
# Scenario 8, the working day's end: alice's session may last 20 s
# (max_session). At the deadline the gateway closes her tunnel, vdi-connect
# tries to come back, the broker refuses (the session has ended, its ticket
# is void) and vdi-connect stops with the plain message "Your session has
# reached its time limit" and exit status 13, instead of retrying or
# claiming the network failed. A new login starts a new session.
. "${top_srcdir:?run through make check}/tests/integration/lib.sh"
vdi_init
. "$VDI_SRCDIR/tests/integration/scenarios/env.sh"
scen_policy() { base_policy 'reconnect_window = "10m"; max_session = "20s";'; }
scen_setup
connect_conf "$VDI_RUN/t1.conf" "$A/tablet-1"

mark=$(vdi_log_mark "$GW_NAME")
shim s1 "$VDI_RUN/t1.conf" alice alice-pw
vdi_check "alice works on tablet-1" shim_up s1 "$mark"
SID=$(sid_of alice)
work 2
vdi_check "the gateway closes the tunnel at the session's deadline" \
	vdi_wait_log "$GW_NAME" "reason=max_session" 40 "$mark"
vdi_wait_exit s1 30
rc=$?
vdi_assert_eq "vdi-connect stops with exit status 13 (time limit)" 13 "$rc"
vdi_check "... telling alice plainly" \
	grep -q "Your session has reached its time limit" "$VDI_RUN/s1.log"
vdi_check "... without the lost-connection story" \
	sh -c "! grep -q 'could not be restored' '$VDI_RUN/s1.log'"
end_reason() {
	"$VDICTL" --json sessions list --all | python3 -c 'import json,sys
for s in json.load(sys.stdin)["sessions"]:
    if s["id"] == sys.argv[1]:
        print(s["state"], s["end_reason"])' "$1"
}
vdi_assert_eq "the session has ended as max_session" "ended max_session" \
	"$(end_reason "$SID")"
audit_rows audit-alice.txt --user alice
vdi_check "audit: the session's end" \
	audit_has audit-alice.txt "action=session_end" "session=$SID" "reason=\"max_session\""
vdi_check "audit: the refused reconnect" \
	audit_has audit-alice.txt "action=reconnect " "outcome=refused" "reason=\"max_session\""

mark=$(vdi_log_mark "$GW_NAME")
shim s2 "$VDI_RUN/t1.conf" alice alice-pw
vdi_check "a new login works" shim_up s2 "$mark"
vdi_check "... in a new session" test "$(sid_of alice)" != "$SID"
vdi_stop s2
vdi_check "audit verify: intact" "$VDICTL" audit verify
vdi_finish
