#!/bin/bash
# Operating the broker (issue 17): what vdictl refuses instead of ignoring,
# device thumbprints by unique prefix, the store's file modes. The real
# broker with real certificates, PAM (pam_wrapper) and a desktop.
. "${top_srcdir:?run through make check}/tests/integration/lib.sh"
vdi_init
. "$VDI_SRCDIR/tests/integration/broker/env.sh"
broker_setup
A="$VDI_PKI/city-a/devices"
B="$VDI_PKI/city-b/devices"
umask 022
broker_start

out=$(login "$A/tablet-1" carol carol-pw)
CAROL_SID=$(echo "$out" | jget "['session']")
out=$(login "$B/tablet-1" olga olga-pw 424242)
OLGA_SID=$(echo "$out" | jget "['session']")
vdi_check "sessions of city-a and city-b exist" test -n "$CAROL_SID" -a -n "$OLGA_SID"
THUMB_A=$(vdi_thumbprint "$A/tablet-1.pem")
THUMB_B=$(vdi_thumbprint "$B/tablet-1.pem")

# py EXPR: evaluates EXPR with d = the JSON in $VDI_RUN/out.
py() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print('"$1"')' "$VDI_RUN/out"; }
ctl() { "$VDICTL" "$@" >"$VDI_RUN/out" 2>"$VDI_RUN/err"; }

# --- the store is the broker's user's alone -----------------------------------
for f in broker.db broker.db-wal broker.db-shm; do
	vdi_assert_eq "$f is 0600 under umask 022" 600 "$(stat -c %a "$VDI_RUN/$f")"
done

# --- options vdictl used to ignore are errors ---------------------------------
ctl sessions list --tenant nosuch
vdi_assert_eq "sessions list --tenant nosuch: exit 1" 1 "$?"
vdi_assert_contains "... names the tenant" "$VDI_RUN/err" "no tenant nosuch in the policy"
ctl --json sessions list --tenant city-b
vdi_assert_eq "sessions list --tenant city-b: city-b's only" "city-b" \
	"$(py "','.join(sorted({x['tenant'] for x in d['sessions']}))")"
ctl devices list --tenant nosuch
vdi_assert_eq "devices list --tenant nosuch: exit 1" 1 "$?"
ctl audit --limit abc
vdi_assert_eq "audit --limit abc: exit 2" 2 "$?"
vdi_assert_contains "... says what a limit is" "$VDI_RUN/err" "--limit abc: expected a number"
ctl audit --limit -3
vdi_assert_eq "audit --limit -3: exit 2" 2 "$?"
ctl desktops list --user alice
vdi_assert_eq "an option the command does not take: exit 2" 2 "$?"
vdi_assert_contains "... named" "$VDI_RUN/err" "desktops.list does not take --user"
ctl --json audit --limit 2
vdi_assert_eq "audit --limit 2: two rows" 2 "$(py "len(d['rows'])")"

# --- thumbprints: one length shown, any unique prefix taken ----------------------
ctl sessions list
vdi_check "sessions list shows the whole thumbprint" grep -q "$THUMB_A" "$VDI_RUN/out"
ctl audit --tenant city-a
vdi_check "audit lines show the whole thumbprint" grep -q "device=$THUMB_A " "$VDI_RUN/out"
vdi_check "... and so does the broker's log" grep -q "device=\"\?$THUMB_A" "$VDI_RUN/$BROKER_NAME.log"
ctl --json audit --device "${THUMB_A:0:10}"
vdi_assert_eq "audit --device with 10 digits: that device's rows" "$THUMB_A" \
	"$(py "','.join(sorted({x['device'] for x in d['rows']}))")"
ctl --json audit --device "$(echo "${THUMB_A:0:12}" | tr a-f A-F)"
vdi_assert_eq "... upper case too" "$THUMB_A" \
	"$(py "','.join(sorted({x['device'] for x in d['rows']}))")"
ctl audit --device 0123456789abcdef0123
vdi_assert_eq "a prefix of no device: exit 1" 1 "$?"
vdi_assert_contains "... says so" "$VDI_RUN/err" "no device thumbprint starts with"
ctl audit --device zz
vdi_assert_eq "not hex: exit 2" 2 "$?"

vdi_finish
