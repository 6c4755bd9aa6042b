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
# Probes that wait longer: on a loaded machine a 1 s timeout marks the
# one real desktop down now and then, and logins here need it.
sed -i 's/health = { interval = "1s"; timeout = "1s"; };/health = { interval = "1s"; timeout = "5s"; };/' \
	"$VDI_RUN/brokerd.conf"
grep -q 'timeout = "5s"' "$VDI_RUN/brokerd.conf" || vdi_die "cannot set the health timeout"

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

# --- 3b. a store write that fails is logged, and the admin is told --------
# Every change of a session's state fails (a trigger again): killing
# alice's session still cuts it, but the write failure is logged and
# vdictl says what did not happen.
SID=$(db "SELECT id FROM sessions WHERE user='alice' AND state < 3")
[ -n "$SID" ] || vdi_die "no live session for alice"
db "CREATE TRIGGER test_state_fails BEFORE UPDATE OF state ON sessions
    BEGIN SELECT RAISE(ABORT, 'injected by the test'); END;"
mark=$(vdi_log_mark "$BROKER_NAME")
"$VDICTL" sessions kill "$SID" >"$VDI_RUN/kill.out" 2>&1
vdi_assert_eq "vdictl sessions kill fails when the end cannot be written" 1 "$?"
vdi_assert_contains "... saying so" "$VDI_RUN/kill.out" "could not be written"
vdi_check "the failed write is logged with what and which session" \
	vdi_wait_log "$BROKER_NAME" "event=store_write_failed op=session_state session=$SID error=" 5 "$mark"
db "DROP TRIGGER test_state_fails;"
vdi_assert_eq "... and the session is still live in the store" 1 \
	"$(db "SELECT count(*) FROM sessions WHERE id='$SID' AND state < 3")"

# --- 4. a tenant added by SIGHUP with a new PAM service can log in --------
OPENSSL=$OPENSSL sh "$VDI_SRCDIR/tests/pki/mkpki.sh" "$VDI_RUN/pki-c" city-c \
	>>"$VDI_RUN/mkpki.log" 2>&1 || vdi_die "mkpki.sh city-c failed"
[ "$(id -u)" = 0 ] && chmod -R go+rX "$VDI_RUN/pki-c"
C="$VDI_RUN/pki-c/city-c/devices"
mods=$(sed -n 's|^auth required \(.*\)/pam_matrix.so.*|\1|p' "$VDI_RUN/pam/vdi-city-a" | head -1)
for svc in vdi-city-c:carl vdi-city-c2:cora; do
	cat >"$VDI_RUN/pam/${svc%:*}" <<EOP
auth required $mods/pam_matrix.so passdb=$VDI_RUN/pam/passdb
account required $mods/pam_matrix.so passdb=$VDI_RUN/pam/passdb
EOP
	echo "${svc#*:}:${svc#*:}-pw:${svc%:*}" >>"$VDI_RUN/pam/passdb"
done
python3 - "$VDI_RUN/policy.conf" "$DESKTOP_PORT" <<'PY'
import sys
path, port = sys.argv[1], sys.argv[2]
s = open(path).read()
tenant = """  city-c = {
    ca = "pki-c/city-c/ca.pem"; crl = "pki-c/city-c/crl.pem";
    device = { subject = { O = "city-c"; }; classes = ["field-tablet"]; };
    pam_service = "vdi-city-c";
  };
"""
pool = """  c-pool = { tenant = "city-c"; zone = "dc"; assignment = "pooled";
             security = "tls"; capacity = 10; desktops = (
               { name = "c-1"; address = "127.0.0.4:%s"; } ); };
""" % port
rule = """,
  { name = "city-c"; action = "allow"; tenants = ["city-c"];
    pools = ["c-pool"]; }"""
s = s.replace("};\npools = {\n", tenant + "};\npools = {\n", 1)
s = s.replace("};\nrules = (", pool + "};\nrules = (", 1)
s = s.replace("\n);\nmodes = {", rule + "\n);\nmodes = {", 1)
assert "city-c = {" in s and "c-pool" in s and 'name = "city-c"' in s
open(path, "w").write(s)
PY
vdi_check "the policy with city-c is valid" "$BROKER" -t -f "$VDI_RUN/brokerd.conf"
mark=$(vdi_log_mark "$BROKER_NAME")
vdi_signal "$BROKER_NAME" HUP
vdi_check "SIGHUP: the worker reloads the policy" \
	vdi_wait_log "$BROKER_NAME" "event=policy_reloaded" 5 "$mark"
vdi_check "... and the monitor its PAM services, itself" \
	vdi_wait_log "$BROKER_NAME" "event=privsep_services_reloaded trigger=SIGHUP services=3" 5 "$mark"
desktop_healthy() {
	"$VDICTL" --json desktops list | python3 -c '
import json, sys
d = json.load(sys.stdin)
rows = d["desktops"] if isinstance(d, dict) else d
sys.exit(0 if any(r.get("desktop", r.get("name")) == sys.argv[1] and r["healthy"]
                  for r in rows) else 1)' "$1"
}
vdi_check "city-c's desktop becomes healthy" vdi_wait_until 10 desktop_healthy c-1
out=$(login "$C/tablet-1" carl carl-pw)
vdi_assert_eq "carl of the new tenant logs in through its new PAM service" 200 "$(status)"
vdi_assert_eq "... to city-c's desktop" c-1 "$(echo "$out" | jget "['desktop']")"
vdi_assert_lacks "no service_not_allowed refusal" "$VDI_RUN/$BROKER_NAME.log" \
	"reason=service_not_allowed"
# vdictl policy reload reloads the worker only: the monitor reads the
# policy itself when the worker names a service it does not know.
sed -i 's|pam_service = "vdi-city-c";|pam_service = "vdi-city-c2";|' "$VDI_RUN/policy.conf"
mark=$(vdi_log_mark "$BROKER_NAME")
vdi_check "vdictl policy reload" "$VDICTL" policy reload
sleep 1.1 # the monitor re-reads on a miss at most once a second
out=$(login "$C/tablet-2" cora cora-pw)
vdi_assert_eq "after vdictl policy reload the changed service works" ok \
	"$(echo "$out" | jget "['state']")"
vdi_check "... the monitor reloaded on the unknown service" \
	vdi_wait_log "$BROKER_NAME" "event=privsep_services_reloaded trigger=unknown_service" 5 "$mark"

# --- 6. gateway events: one commit per batch --------------------------------
# strace counts the worker's WAL syncs while one batch of 30 events (10
# tunnels: start, a refused channel, end) is posted. Health probes, which
# also write, are paused by a long interval: the broker restarts with it.
vdi_require strace strace
vdi_stop "$BROKER_NAME"
sed -i 's/interval = "1s"/interval = "1h"/' "$VDI_RUN/brokerd.conf"
broker_start
out=$(login "$A/tablet-1" carol carol-pw)
vdi_assert_eq "carol logs in" 200 "$(status)"
CAROL_SID=$(echo "$out" | jget "['session']")
WORKER=$(grep -a "event=privsep_worker" "$VDI_RUN/$BROKER_NAME.log" | tail -1 |
	sed 's/.*vdi-brokerd\[\([0-9]*\)\].*/\1/')
ev=""
for i in $(seq 1 10); do
	ev="$ev{\"type\":\"start\",\"sid\":\"$CAROL_SID\",\"jti\":\"batch-$i\"},"
	ev="$ev{\"type\":\"refused\",\"sid\":\"$CAROL_SID\",\"jti\":\"batch-$i\",\"channel\":\"rdpdr\",\"reason\":\"channel_refused\"},"
	ev="$ev{\"type\":\"end\",\"sid\":\"$CAROL_SID\",\"jti\":\"batch-$i\",\"reason\":\"client_closed\"},"
done
printf '{"events":[%s]}' "${ev%,}" >"$VDI_RUN/batch.json"
strace -f -qq -e trace=fsync,fdatasync -o "$VDI_RUN/strace.out" -p "$WORKER" &
STRACE=$!
sleep 1 # strace has attached
code=$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$VDI_PKI/infra/ca.pem" \
	--cert "$VDI_PKI/infra/gateway.pem" --key "$VDI_PKI/infra/gateway.key" \
	-H 'Content-Type: application/json' --data-binary "@$VDI_RUN/batch.json" \
	"$BROKER_URL/internal/v1/events")
sleep 0.5
kill "$STRACE"
wait "$STRACE" 2>/dev/null
vdi_assert_eq "a batch of 30 events is accepted" 200 "$code"
syncs=$(grep -c 'sync(' "$VDI_RUN/strace.out")
vdi_log "WAL syncs for one batch of 30 gateway events: $syncs"
vdi_check "... in one commit (at most 2 syncs, was 80)" test "$syncs" -ge 1 -a "$syncs" -le 2
"$VDICTL" audit --user carol >"$VDI_RUN/audit-carol.txt"
vdi_assert_eq "all 30 events are in the audit" 30 \
	"$(grep -cE 'action=(tunnel_start|channel_refused|tunnel_end)' "$VDI_RUN/audit-carol.txt")"

# --- 6b. no NSS lookup on the event loop when no rule names groups --------
# The test policy has no groups rules: a login must not make the worker
# read the user and group databases (getpwnam/getgrouplist).
strace -f -qq -e trace=openat,connect -o "$VDI_RUN/strace-nss.out" -p "$WORKER" &
STRACE=$!
sleep 1 # strace has attached
out=$(login "$A/tablet-2" bob bob-pw)
sleep 0.5
kill "$STRACE"
wait "$STRACE" 2>/dev/null
vdi_assert_eq "bob logs in" 200 "$(status)"
vdi_assert_lacks "the worker did not read /etc/group" "$VDI_RUN/strace-nss.out" "/etc/group"
vdi_assert_lacks "... nor /etc/passwd" "$VDI_RUN/strace-nss.out" "/etc/passwd"

vdi_finish
