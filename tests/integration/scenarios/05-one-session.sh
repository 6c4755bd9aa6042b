#!/bin/bash
# Scenario 5, one live session per user: alice works on tablet-1, then logs
# in on tablet-2. She takes her session over (the same desktop session), the
# first tablet's tunnel is cut and cannot come back, and the audit records
# the takeover with both devices.
. "${top_srcdir:?run through make check}/tests/integration/lib.sh"
vdi_init
. "$VDI_SRCDIR/tests/integration/scenarios/env.sh"
scen_policy() { base_policy 'reconnect_window = "10m"; single_session = true;'; }
scen_setup
connect_conf "$VDI_RUN/t1.conf" "$A/tablet-1"
connect_conf "$VDI_RUN/t2.conf" "$A/tablet-2"
T1=$(vdi_thumbprint "$A/tablet-1.pem")
T2=$(vdi_thumbprint "$A/tablet-2.pem")

mark=$(vdi_log_mark "$GW_NAME")
shim s1 "$VDI_RUN/t1.conf" alice alice-pw
vdi_check "alice works on tablet-1" shim_up s1 "$mark"
work 1
SID=$(sid_of alice)
vdi_assert_eq "... her session is on tablet-1" "$T1" "$(sfield "$SID" device)"

mark=$(vdi_log_mark "$GW_NAME")
t0=$(ms_now)
shim s2 "$VDI_RUN/t2.conf" alice alice-pw
vdi_check "alice logs in on tablet-2 and is relayed" shim_up s2 "$mark"
vdi_check "the first tunnel is cut (takeover)" \
	vdi_wait_log "$GW_NAME" "reason=cut:takeover" 10 "$mark"
ms=$(( $(ms_now) - t0 ))
echo "# second login -> first tunnel cut after $ms ms"
vdi_assert_eq "the same desktop session" "$SID" "$(sid_of alice)"
vdi_assert_eq "... now on tablet-2" "$T2" "$(sfield "$SID" device)"
vdi_assert_eq "one live session for alice" 1 "$(live_count)"
vdi_wait_exit s1 20
rc=$?
vdi_check "tablet-1's vdi-connect ends, not reconnecting: replaced (exit $rc)" test "$rc" = 12
vdi_check "... its ticket was refused as replaced" \
	grep -q "event=reconnect_refused code=replaced" "$VDI_RUN/s1.log"
vdi_assert_contains "... and it says a newer connection has the session" \
	"$VDI_RUN/s1.log" "opened by a newer connection"
work 2
vdi_check "tablet-2 keeps the session" vdi_alive s2
vdi_check "... active" sstate_is "$SID" active
vdi_assert_eq "... still on tablet-2" "$T2" "$(sfield "$SID" device)"
vdi_assert_eq "exactly one tunnel started after the takeover" 1 \
	"$(tail -n +$((mark + 1)) "$VDI_RUN/$GW_NAME.log" | grep -c 'event=relay_start')"

audit_rows audit-alice.txt --user alice
vdi_check "audit: the takeover by tablet-2 naming tablet-1" \
	audit_has audit-alice.txt "action=takeover" "outcome=ok" "session=$SID" \
	"device=${T2:0:16}" "\"previous_device\":\"$T1\""
vdi_check "audit: the first tunnel ended with reason takeover" \
	audit_has audit-alice.txt "action=tunnel_end" "session=$SID" "reason=\"takeover\""
audit_rows audit-t1.txt --device "$T1"
vdi_check "audit: tablet-1's refused reconnect" \
	audit_has audit-t1.txt "action=reconnect " "outcome=refused"
vdi_check "audit verify: intact" "$VDICTL" audit verify
vdi_finish
