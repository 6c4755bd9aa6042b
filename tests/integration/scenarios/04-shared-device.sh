#!/bin/bash
# Scenario 4, shared device: erin and then dave use the same shared tablet
# (class shared-tablet, one of city-a's shared_classes). Each gets their own
# desktop; no reconnect ticket is ever issued for the tablet, so a drop
# asks for the password again and the next person can never resume the
# previous one's session; the audit tells the two apart.
. "${top_srcdir:?run through make check}/tests/integration/lib.sh"
vdi_init
. "$VDI_SRCDIR/tests/integration/scenarios/env.sh"
scen_policy() { base_policy 'reconnect_window = "10m";'; }
scen_setup
connect_conf "$VDI_RUN/shared.conf" "$A/shared-1"
TH=$(vdi_thumbprint "$A/shared-1.pem")
tickets_live() { # live (unused, unexpired) tickets of the shared tablet
	sqlite3 "file:$VDI_RUN/broker.db?mode=ro" \
		"SELECT count(*) FROM tickets WHERE device='$TH' AND used_at=0 AND expires>strftime('%s','now');"
}

# --- erin ----------------------------------------------------------------------
mark=$(vdi_log_mark "$GW_NAME")
shim s1 "$VDI_RUN/shared.conf" erin erin-pw
vdi_check "erin logs in on the shared tablet and works" shim_up s1 "$mark"
work 1
SE=$(sid_of erin)
DE=$(sfield "$SE" desktop)
vdi_assert_eq "no reconnect ticket for the shared tablet" 0 "$(tickets_live)"
# A drop: with no ticket she cannot slip back in without her password.
vdi_signal relay USR1
vdi_wait_exit s1 15
vdi_assert_eq "after a drop vdi-connect cannot resume (exit 8, gave up)" 8 "$?"
vdi_assert_contains "... and says why" "$VDI_RUN/s1.log" "no reconnect ticket (shared device)"
vdi_check "no reconnect was even tried at the broker" \
	sh -c "! grep -q 'action=reconnect' '$VDI_RUN/$BROKER_NAME.log'"

# --- dave, on the same tablet -------------------------------------------------------
mark=$(vdi_log_mark "$GW_NAME")
shim s2 "$VDI_RUN/shared.conf" dave dave-pw
vdi_check "dave logs in on the same tablet" shim_up s2 "$mark"
vdi_assert_eq "... with his own password (asked)" 1 "$(grep -c 'Password' "$VDI_RUN/s2.log")"
work 1
SD=$(sid_of dave)
DD=$(sfield "$SD" desktop)
vdi_check "dave has his own session ($SD), not erin's ($SE)" test -n "$SD" -a "$SD" != "$SE"
vdi_check "dave has his own desktop ($DD), not erin's ($DE)" test -n "$DD" -a "$DD" != "$DE"
vdi_assert_eq "erin's session is still hers" erin "$(sfield "$SE" user)"
vdi_assert_eq "still no reconnect ticket for the tablet" 0 "$(tickets_live)"
vdi_assert_eq "no ticket was ever stored for it" 0 \
	"$(sqlite3 "file:$VDI_RUN/broker.db?mode=ro" "SELECT count(*) FROM tickets WHERE device='$TH';")"
kill -TERM "$(vdi_pid s2)"
vdi_wait_exit s2 15

# --- erin again: her own desktop, with her password ------------------------------
mark=$(vdi_log_mark "$GW_NAME")
shim s3 "$VDI_RUN/shared.conf" erin erin-pw
vdi_check "erin, later, logs in with her password" shim_up s3 "$mark"
vdi_assert_eq "... and is back in her own session" "$SE" "$(sid_of erin)"
vdi_assert_eq "... on her desktop" "$DE" "$(sfield "$SE" desktop)"

# --- audit -------------------------------------------------------------------------
audit_rows audit-dev.txt --device "$TH"
vdi_check "audit: erin's login on the tablet, no ticket" \
	audit_has audit-dev.txt "action=login " "outcome=ok" "user=erin" "session=$SE" '"ticket":false'
vdi_check "audit: dave's login on the tablet, no ticket, his own session" \
	audit_has audit-dev.txt "action=login " "outcome=ok" "user=dave" "session=$SD" '"ticket":false'
vdi_check "audit: erin's tunnel rows carry her session" \
	audit_has audit-dev.txt "action=tunnel_start" "user=erin" "session=$SE"
vdi_check "audit: dave's tunnel rows carry his session" \
	audit_has audit-dev.txt "action=tunnel_start" "user=dave" "session=$SD"
vdi_check "audit: no row mixes dave with erin's session" \
	sh -c "! grep 'user=dave' '$VDI_RUN/audit-dev.txt' | grep -q 'session=$SE'"
vdi_check "audit: no row mixes erin with dave's session" \
	sh -c "! grep 'user=erin' '$VDI_RUN/audit-dev.txt' | grep -q 'session=$SD'"
vdi_check "audit: no reconnect from the shared tablet" \
	sh -c "! grep -q 'action=reconnect' '$VDI_RUN/audit-dev.txt'"
vdi_check "audit verify: intact" "$VDICTL" audit verify
vdi_finish
