#!/bin/bash
# Scenario 3, relocated office: city-a's office (site "hall", 127.0.0.0/30)
# is out of use. alice and bob work from it with vdi-connect. The admin
# switches the tenant to its "relocation" mode with vdictl: the site "hall"
# now means the lent office's network, 127.0.0.4/30. Logins from the old
# network are refused; alice and bob, now on the new network (their
# vdi-connect reaches the broker through a relay whose packets come from
# 127.0.0.5 and 127.0.0.6), land in their running desktop sessions. No
# restart, and as many live sessions after as before.
. "${top_srcdir:?run through make check}/tests/integration/lib.sh"
vdi_init
. "$VDI_SRCDIR/tests/integration/scenarios/env.sh"
scen_policy() {
	base_policy 'reconnect_window = "5m";' '
modes = {
  relocation = {
    description = "office flooded: staff work from the lent floor";
    tenants = ["city-a"];
    sites = { hall = ["127.0.0.4/30"]; };
    limits = { reconnect_window = "30m"; };
    inherit_rules = true;
  };
};' '  { name = "office"; action = "allow"; tenants = ["city-a"];
    sites = ["hall"]; pools = ["field"]; }' | sed 's|^sites = { loopback = \["127.0.0.0/8"\]; };|sites = { loopback = ["127.0.0.0/8"]; hall = ["127.0.0.0/30"]; };|'
}
scen_setup
grep -q 'hall = \["127.0.0.0/30"\]' "$VDI_RUN/policy.conf" || vdi_die "policy: no hall site"
connect_conf "$VDI_RUN/t1-old.conf" "$A/tablet-1"
connect_conf "$VDI_RUN/t2-old.conf" "$A/tablet-2"

# --- before: working from the office --------------------------------------------
mark=$(vdi_log_mark "$GW_NAME")
shim s1 "$VDI_RUN/t1-old.conf" alice alice-pw
vdi_check "alice works from the office" shim_up s1 "$mark"
mark=$(vdi_log_mark "$GW_NAME")
shim s2 "$VDI_RUN/t2-old.conf" bob bob-pw
vdi_check "bob works from the office" shim_up s2 "$mark"
SA=$(sid_of alice)
SB=$(sid_of bob)
vdi_wait_until 5 sstate_is "$SB" active
BEFORE=$(live_count)
vdi_assert_eq "two live sessions before the switch" 2 "$BEFORE"
BPID=$(vdi_pid "$BROKER_NAME")
GPID=$(vdi_pid "$GW_NAME")

# --- the switch ---------------------------------------------------------------
mark=$(vdi_log_mark "$GW_NAME")
vdi_check "vdictl policy mode city-a relocation" "$VDICTL" policy mode city-a relocation
work 2
vdi_check "no tunnel dropped by the switch" sh -c "! tail -n +$((mark + 1)) '$VDI_RUN/$GW_NAME.log' | grep -q event=tunnel_end"
vdi_check "... alice's active" sstate_is "$SA" active
vdi_check "... bob's active" sstate_is "$SB" active

# --- the staff move: the old network no longer counts -----------------------------
kill -TERM "$(vdi_pid s1)"; vdi_wait_exit s1 15
kill -TERM "$(vdi_pid s2)"; vdi_wait_exit s2 15
shim_fail old "$VDI_RUN/t1-old.conf" alice alice-pw
vdi_assert_eq "a login from the old office network is refused by policy (exit 5)" 5 \
	"$(cat "$VDI_RUN/old.rc")"

# --- from the new network ----------------------------------------------------------
site_relay site5 127.0.0.5
P5=$SITE_PORT
site_relay site6 127.0.0.6
P6=$SITE_PORT
BROKER_URL_FOR="https://127.0.0.1:$P5" connect_conf "$VDI_RUN/t1-new.conf" "$A/tablet-1"
BROKER_URL_FOR="https://127.0.0.1:$P6" connect_conf "$VDI_RUN/t2-new.conf" "$A/tablet-2"
mark=$(vdi_log_mark "$GW_NAME")
shim s3 "$VDI_RUN/t1-new.conf" alice alice-pw
vdi_check "alice, from the new office (127.0.0.5), is admitted" shim_up s3 "$mark"
vdi_assert_eq "... into her running desktop session" "$SA" "$(sid_of alice)"
mark=$(vdi_log_mark "$GW_NAME")
shim s4 "$VDI_RUN/t2-new.conf" bob bob-pw
vdi_check "bob, from the new office (127.0.0.6), is admitted" shim_up s4 "$mark"
vdi_assert_eq "... into his running desktop session" "$SB" "$(sid_of bob)"
vdi_check "... both active" vdi_wait_until 5 sstate_is "$SB" active
work 1
vdi_assert_eq "as many live sessions after as before" "$BEFORE" "$(live_count)"
vdi_assert_eq "no broker restart" "$BPID" "$(vdi_pid "$BROKER_NAME")"
vdi_check "... broker alive" vdi_alive "$BROKER_NAME"
vdi_assert_eq "no gateway restart" "$GPID" "$(vdi_pid "$GW_NAME")"
vdi_check "... gateway alive" vdi_alive "$GW_NAME"

# --- audit -------------------------------------------------------------------------
audit_rows audit-all.txt --limit 1000
vdi_check "audit: the mode switch by $ADMIN" \
	audit_has audit-all.txt "action=policy_mode" "actor=$ADMIN" "tenant=city-a" '"mode":"relocation"'
audit_rows audit-alice.txt --user alice
vdi_check "audit: the refused login from the old network (policy)" \
	audit_has audit-alice.txt "action=login " "outcome=refused" '"from":"127.0.0.1"'
vdi_check "audit: the login from 127.0.0.5 into the same session, with the mode" \
	audit_has audit-alice.txt "action=login " "outcome=ok" "session=$SA" 'reason="reused"' \
	'"from":"127.0.0.5"' 'relocation'
audit_rows audit-bob.txt --user bob
vdi_check "audit: bob from 127.0.0.6 into the same session" \
	audit_has audit-bob.txt "action=login " "outcome=ok" "session=$SB" '"from":"127.0.0.6"'
vdi_check "audit verify: intact" "$VDICTL" audit verify
vdi_finish
