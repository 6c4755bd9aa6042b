#!/bin/bash
# Operating the broker (issue 17): what vdictl refuses instead of ignoring,
# device thumbprints by unique prefix, the store's file modes. The real
# broker with real certificates, PAM (pam_wrapper) and a desktop.
. "${top_srcdir:?run through make check}/tests/integration/lib.sh"
vdi_init
. "$VDI_SRCDIR/tests/integration/broker/env.sh"
. "$VDI_SRCDIR/tests/integration/gateway/env.sh"
broker_setup
gateway_setup
A="$VDI_PKI/city-a/devices"
B="$VDI_PKI/city-b/devices"
umask 022
# Retention short enough to watch (vdi-brokerd.conf(5), sweep).
echo 'sweep = { interval = "1s"; keep_ended_sessions = "3s"; keep_tickets = "3s"; };' \
	>>"$VDI_RUN/brokerd.conf"
broker_start
gateway_start

out=$(login "$A/tablet-1" carol carol-pw)
CAROL_SID=$(echo "$out" | jget "['session']")
# (the shadow desktops answer slowly on a loaded machine: a probe that
# timed out makes b-1 unhealthy for a second, so try again then)
for try in 1 2 3 4 5; do
	out=$(login "$B/tablet-1" olga olga-pw 424242)
	OLGA_SID=$(echo "$out" | jget "['session']" 2>/dev/null)
	[ -n "$OLGA_SID" ] && break
	sleep 2
done
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

# --- --version on every program ------------------------------------------------
VERSION=$(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"$/\1/p' "$VDI_BUILDDIR/config.h")
for p in "$BROKER" "$GATEWAY" "$VDICTL" "$VDI_BUILDDIR/vdi-connect" \
	"$VDI_BUILDDIR/policies/vdi-policy"; do
	n=$(basename "$p")
	for o in --version -V; do
		"$p" $o >"$VDI_RUN/version.out" 2>&1
		vdi_assert_eq "$n $o: exit 0" 0 "$?"
		vdi_check "... prints '$n $VERSION'" grep -q "^$n $VERSION\( (git [^)]*)\)\?\$" \
			"$VDI_RUN/version.out"
	done
done

# --- metrics: build, process, each desktop ----------------------------------------
BM=$(sed -n 's/^metrics_listen = "\(.*\)";/\1/p' "$VDI_RUN/brokerd.conf")
curl -sS "http://$BM/metrics" >"$VDI_RUN/broker.metrics"
curl -sS "http://127.0.0.1:$GW_METRICS_PORT/metrics" >"$VDI_RUN/gateway.metrics"
for d in broker gateway; do
	m=$VDI_RUN/$d.metrics
	vdi_check "$d: vdi_build_info with the version" \
		grep -q "^vdi_build_info{version=\"$VERSION\",revision=\"[^\"]*\"} 1\$" "$m"
	for k in process_start_time_seconds process_cpu_seconds_total \
		process_resident_memory_bytes process_open_fds process_max_fds; do
		vdi_check "$d: $k" grep -q "^$k [0-9.e+]*\$" "$m"
	done
done
pid=$(vdi_pid "$GW_NAME")
rss=$(awk '/^process_resident_memory_bytes/ {print $2}' "$VDI_RUN/gateway.metrics")
vdi_check "gateway: RSS is the process's ($rss bytes, /proc says $(($(awk '/VmRSS/ {print $2}' /proc/$pid/status) * 1024)))" \
	python3 -c "import sys; a=$rss; b=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)*1024; sys.exit(0 if abs(a-b) < max(b//4, 8<<20) else 1)"
fds=$(awk '/^process_open_fds/ {print $2}' "$VDI_RUN/gateway.metrics")
vdi_check "gateway: open fds near /proc's ($fds, $(ls /proc/$pid/fd | wc -l))" \
	test "$fds" -ge $(( $(ls /proc/$pid/fd | wc -l) - 4 )) -a "$fds" -le $(( $(ls /proc/$pid/fd | wc -l) + 4 ))
start=$(awk '/^process_start_time_seconds/ {print int($2)}' "$VDI_RUN/gateway.metrics")
vdi_check "gateway: started within the last 10 minutes ($start)" \
	test $(( $(date +%s) - start )) -ge 0 -a $(( $(date +%s) - start )) -lt 600
vdi_check "broker: own-alice up, with pool and tenant" grep -q \
	'^vdi_broker_desktop_up{desktop="own-alice",pool="own",tenant="city-a"} 1$' "$VDI_RUN/broker.metrics"
vdi_check "broker: dead-1 down" grep -q \
	'^vdi_broker_desktop_up{desktop="dead-1",pool="field",tenant="city-a"} 0$' "$VDI_RUN/broker.metrics"
probe=$(sed -n 's/^vdi_broker_desktop_last_probe_timestamp_seconds{desktop="dead-1",[^}]*} //p' "$VDI_RUN/broker.metrics")
vdi_check "broker: dead-1 probed in the last minute ($probe)" \
	test $(( $(date +%s) - ${probe:-0} )) -lt 60
vdi_check "broker: dead-1 never up" grep -q \
	'^vdi_broker_desktop_last_up_timestamp_seconds{desktop="dead-1",[^}]*} 0$' "$VDI_RUN/broker.metrics"

# --- vdictl status and tenants list ------------------------------------------------
vdi_check "vdictl policy mode city-a lockdown" "$VDICTL" policy mode city-a lockdown
vdi_wait_until 10 sh -c "'$VDICTL' --json status | grep -q '\"polling\": true'"
ctl --json status
vdi_assert_eq "status: the broker's version" "$VERSION" "$(py "d['package_version']")"
vdi_assert_eq "... the store's schema, the latest" True \
	"$(py "d['store']['schema_version'] == d['store']['schema_latest'] and d['store']['ok']")"
vdi_assert_eq "... the gateway polling" True "$(py "[g['polling'] for g in d['gateways'] if g['name'] == 'gateway'][0]")"
vdi_assert_eq "... heard in the last minute" True \
	"$(py "0 <= __import__('time').time() - [g['last_heard'] for g in d['gateways'] if g['name'] == 'gateway'][0] < 60")"
vdi_assert_eq "... city-a in lockdown, set by vdictl" "lockdown vdictl" \
	"$(py "' '.join([(t['mode'], t['mode_source']) for t in d['tenants'] if t['name'] == 'city-a'][0])")"
vdi_assert_eq "... city-b in no mode" "" "$(py "[t['mode'] for t in d['tenants'] if t['name'] == 'city-b'][0]")"
NEXT=$(date -u -d "$("$OPENSSL" crl -in "$VDI_PKI/city-a/crl.pem" -noout -nextupdate | sed 's/^nextUpdate=//')" +%s)
vdi_assert_eq "... city-a's CRL next update, as openssl reads it" "$NEXT" \
	"$(py "[t['crl_next_update'] for t in d['tenants'] if t['name'] == 'city-a'][0]")"
NA=$(date -u -d "$("$OPENSSL" x509 -in "$VDI_PKI/infra/broker.pem" -noout -enddate | sed 's/^notAfter=//')" +%s)
vdi_assert_eq "... the broker's certificate's notAfter" "$NA" \
	"$(py "[c['when'] for c in d['certificates'] if c['what'] == 'tls cert'][0]")"
ctl status
vdi_check "status as text: version line" grep -q "^vdi-brokerd $VERSION" "$VDI_RUN/out"
vdi_check "... the gateway line" grep -q "^gateway  *yes .*s ago) *has every cut" "$VDI_RUN/out"
vdi_check "... city-a's mode" grep -q "^city-a  *lockdown  *vdictl" "$VDI_RUN/out"
ctl tenants list
vdi_check "tenants list: city-a in lockdown" grep -q "^city-a  *lockdown  *vdictl" "$VDI_RUN/out"
vdi_check "... city-b in none" grep -q "^city-b  *(none)" "$VDI_RUN/out"
vdi_check "vdictl policy mode city-a default" "$VDICTL" policy mode city-a default
ctl tenants list
vdi_check "back to the policy's: city-a in none" grep -q "^city-a  *(none)" "$VDI_RUN/out"

# --- retention: ended sessions and old tickets are pruned ------------------------
out=$(login "$A/tablet-2" alice alice-pw)
ALICE_SID=$(echo "$out" | jget "['session']")
api "$A/tablet-2" POST /v1/logoff "{\"session\":\"$ALICE_SID\"}" >/dev/null
vdi_assert_eq "alice logs off" 200 "$(status)"
db() { sqlite3 "$VDI_RUN/broker.db" "$1"; }
vdi_assert_eq "... her session is ended, still stored" 1 \
	"$(db "SELECT count(*) FROM sessions WHERE id = '$ALICE_SID' AND state = 3")"
vdi_check "the sweep prunes it after keep_ended_sessions (3 s)" vdi_wait_until 15 \
	sh -c "[ \"\$(sqlite3 '$VDI_RUN/broker.db' \"SELECT count(*) FROM sessions WHERE id = '$ALICE_SID'\")\" = 0 ]"
vdi_assert_eq "... with its tickets" 0 "$(db "SELECT count(*) FROM tickets WHERE session_id = '$ALICE_SID'")"
vdi_check "... and says so in the log" grep -q "event=pruned sessions=1" "$VDI_RUN/$BROKER_NAME.log"
# (what stays, live sessions and unexpired tickets, is in test_store: here
# every session is pending and the sweep ends it a minute after its login)
vdi_assert_eq "the audit rows of the pruned session stay" True \
	"$("$VDICTL" --json audit --user alice | python3 -c "import json,sys; print(any(r['session'] == '$ALICE_SID' for r in json.load(sys.stdin)['rows']))")"
"$VDICTL" --json audit verify >"$VDI_RUN/out"
vdi_assert_eq "... and the chain verifies" True "$(py "d['intact']")"

# --- audit export, verified on its own ------------------------------------------
EXP=$VDI_RUN/city-a.audit.jsonl
ctl audit export --tenant city-a --file "$EXP"
vdi_assert_eq "audit export --tenant city-a: exit 0" 0 "$?"
vdi_check "... says how many rows" grep -q "^exported [0-9]* audit rows of tenant city-a" "$VDI_RUN/out"
vdi_assert_eq "... the file is 0600" 600 "$(stat -c %a "$EXP")"
n=$(($(wc -l <"$EXP") - 1))
vdi_assert_eq "... one line per city-a row, and a header" \
	"$(db "SELECT count(*) FROM audit WHERE tenant = 'city-a' AND action != 'audit_export'")" \
	"$(python3 -c "import json,sys; print(sum(1 for l in open(sys.argv[1]).readlines()[1:] if json.loads(l)['action'] != 'audit_export'))" "$EXP")"
ctl audit verify --file "$EXP"
vdi_assert_eq "audit verify --file: intact, exit 0" 0 "$?"
vdi_check "... $n rows" grep -q "intact: $n rows, head [0-9a-f]\{64\}" "$VDI_RUN/out"
ctl --json audit --tenant city-a
vdi_assert_eq "the export is audited" True "$(py "any(r['action'] == 'audit_export' for r in d['rows'])")"
ctl --json audit export --tenant city-b --file "$EXP.b"
vdi_assert_eq "--json audit export still writes the file, and it verifies" 0 \
	"$("$VDICTL" audit verify --file "$EXP.b" >/dev/null; echo $?)"
ctl audit export --file "$EXP.x"
vdi_assert_eq "export without --tenant: exit 2" 2 "$?"
# tamper with copies: a changed field, a row removed, the end cut off
python3 - "$EXP" <<'PY'
import json, sys
p = sys.argv[1]
lines = open(p).readlines()
row = json.loads(lines[3]); row["reason"] = "nothing happened"
open(p + ".edited", "w").writelines(lines[:3] + [json.dumps(row) + "\n"] + lines[4:])
open(p + ".removed", "w").writelines(lines[:3] + lines[4:])
open(p + ".cut", "w").writelines(lines[:-1])
PY
ctl audit verify --file "$EXP.edited"
vdi_assert_eq "a changed row: exit 3" 3 "$?"
vdi_check "... named" grep -q "BROKEN: row [0-9]* was changed" "$VDI_RUN/out"
ctl audit verify --file "$EXP.removed"
vdi_assert_eq "a removed row: exit 3" 3 "$?"
vdi_check "... named" grep -q "BROKEN: row [0-9]* does not follow" "$VDI_RUN/out"
ctl audit verify --file "$EXP.cut"
vdi_assert_eq "rows cut off the end: exit 3" 3 "$?"
vdi_check "... said" grep -q "BROKEN: .*cut off the end" "$VDI_RUN/out"
echo '{"seq":1}' >"$VDI_RUN/not-an-export"
ctl audit verify --file "$VDI_RUN/not-an-export"
vdi_assert_eq "not an export: exit 1" 1 "$?"

# --- an older broker refuses a newer store -------------------------------------------
vdi_stop "$BROKER_NAME" 10
db "PRAGMA user_version = 99"
LD_PRELOAD=libpam_wrapper.so PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$VDI_RUN/pam" \
PAM_WRAPPER_DISABLE_DEEPBIND=1 UID_WRAPPER_DISABLE_DEEPBIND=1 \
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
	timeout 20 "$BROKER" -d -f "$VDI_RUN/brokerd.conf" >"$VDI_RUN/newer.log" 2>&1
vdi_assert_eq "a store of schema 99: the broker exits 1" 1 "$?"
vdi_check "... saying the store is newer than it knows" \
	grep -q "schema version 99 is newer than this vdi-brokerd knows ($(db "SELECT 9")).*restore" "$VDI_RUN/newer.log"
vdi_assert_eq "... and leaves it as it was" 99 "$(db "PRAGMA user_version")"
db "PRAGMA user_version = 9"
broker_start
ctl --json status
vdi_assert_eq "schema 9 again: it starts on the same store" "9 9" \
	"$(py "'%d %d' % (d['store']['schema_version'], d['store']['schema_latest'])")"

vdi_finish
