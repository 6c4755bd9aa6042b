#!/bin/bash
# Scenario 2, lost tablet: bob works on tablet-2 with vdi-connect; the
# tablet is lost and the admin revokes it with vdictl. Its live session is
# cut within 5 seconds, the tablet's reconnect and new logins are refused,
# and the audit says who revoked it, when, and why.
. "${top_srcdir:?run through make check}/tests/integration/lib.sh"
vdi_init
. "$VDI_SRCDIR/tests/integration/scenarios/env.sh"
scen_policy() { base_policy 'reconnect_window = "10m";'; }
scen_setup
connect_conf "$VDI_RUN/tablet-2.conf" "$A/tablet-2"
THUMB=$(vdi_thumbprint "$A/tablet-2.pem")

mark=$(vdi_log_mark "$GW_NAME")
shim s1 "$VDI_RUN/tablet-2.conf" bob bob-pw
vdi_check "bob logs in on tablet-2 and works" shim_up s1 "$mark"
SID=$(sid_of bob)
vdi_check "... active session" vdi_wait_until 5 sstate_is "$SID" active
work 1

# --- the admin revokes the tablet ----------------------------------------------
mark=$(vdi_log_mark "$GW_NAME")
smark=$(vdi_log_mark s1)
t_before=$(date -u +%s)
t0=$(ms_now)
vdi_check "vdictl devices revoke" "$VDICTL" devices revoke "$THUMB" \
	--reason "tablet lost on the river bank"
vdi_check "the gateway cuts the live session" \
	vdi_wait_log "$GW_NAME" "reason=device_revoked" 5 "$mark"
ms=$(( $(ms_now) - t0 ))
t_after=$(date -u +%s)
echo "# revoke -> tunnel cut after $ms ms"
vdi_check "... within 5 s ($ms ms)" test "$ms" -lt 5000
vdi_check "vdi-connect sees the tunnel go" \
	vdi_wait_log s1 "connection to the desktop was lost" 10 "$smark"
vdi_wait_exit s1 15
vdi_assert_eq "its reconnect is refused: vdi-connect gives up, device refused (exit 4)" 4 "$?"
vdi_assert_contains "... saying it cannot be restored from this tablet" "$VDI_RUN/s1.log" "cannot be restored from this tablet"
vdi_assert_contains "... the broker refused the ticket" "$VDI_RUN/s1.log" "event=reconnect_refused"
vdi_check "the session is over at the broker" test -z "$(sfield "$SID" state)"

# --- new logins from the tablet --------------------------------------------------
shim_fail s2 "$VDI_RUN/tablet-2.conf" bob bob-pw
vdi_assert_eq "a new login from the lost tablet: exit 4" 4 "$(cat "$VDI_RUN/s2.rc")"
vdi_assert_contains "... 'tablet lost on the river bank' shown" "$VDI_RUN/s2.log" \
	"tablet lost on the river bank"
shim_fail s3 "$VDI_RUN/tablet-2.conf" carol carol-pw
vdi_assert_eq "... for any user (carol): exit 4" 4 "$(cat "$VDI_RUN/s3.rc")"
# The other tablet still works.
connect_conf "$VDI_RUN/tablet-1.conf" "$A/tablet-1"
mark=$(vdi_log_mark "$GW_NAME")
shim s4 "$VDI_RUN/tablet-1.conf" bob bob-pw
vdi_check "bob on another tablet is let in" shim_up s4 "$mark"

vdi_check "no tunnel of the revoked session was relayed after the cut" \
	sh -c "! tail -n +$((mark + 1)) '$VDI_RUN/$GW_NAME.log' | grep 'event=relay_start' | grep -q 'sid=$SID'"

# --- audit -------------------------------------------------------------------------
audit_rows audit-dev.txt --device "$THUMB"
vdi_check "audit: device_revoke by $ADMIN with the reason" \
	audit_has audit-dev.txt "action=device_revoke" "actor=$ADMIN" "outcome=ok" \
	"tablet lost on the river bank"
rev_time=$(grep 'action=device_revoke' "$VDI_RUN/audit-dev.txt" | awk '{print $2}' | head -1)
rev_epoch=$(date -u -d "$rev_time" +%s 2>/dev/null || echo 0)
vdi_check "... and when ($rev_time)" test "$rev_epoch" -ge "$t_before" -a "$rev_epoch" -le "$t_after"
vdi_check "audit: bob's session killed by $ADMIN because of the revocation" \
	audit_has audit-dev.txt "action=session_kill" "actor=$ADMIN" "user=bob" \
	"session=$SID" 'reason="device_revoked"'
vdi_check "audit: the tunnel end with the reason (revoked)" \
	audit_has audit-dev.txt "action=tunnel_end" "session=$SID" \
	'reason="revoked"' "device_revoked"
vdi_check "audit: the refused reconnect" \
	audit_has audit-dev.txt "action=reconnect " "outcome=refused"
vdi_check "audit: the refused logins" \
	audit_has audit-dev.txt "action=login " "outcome=refused" "user=carol" "device_revoked"
vdi_check "audit verify: intact" "$VDICTL" audit verify
vdi_finish
