#!/bin/bash
# The lost-device guarantee, with the timing made deterministic: after a
# cut's acknowledgement (the gateway's next poll after it applied the cut)
# no tunnel of a revoked device or ended session is relayed, whatever the
# timing. RDP-free: the tunnels are the test tunnel client's probes; the
# desktop leg goes to the real shadow desktop, through a relay that holds
# it while the test cuts (tests/peers/cut-relay.py --hold).
#
#   1. a token issued before a device revoke, used after the cut's ack
#   2. a token issued before an admin kill, used after the cut's ack
#   3. a tunnel whose desktop leg is still connecting when the kill comes
#   4. a "start" event for an ended session: the broker answers with a cut
#      and audits the tunnel as refused
#   5. the broker killed with SIGKILL between the cut and the token's use,
#      and a fresh gateway (nothing in memory): still refused
. "${top_srcdir:?run through make check}/tests/integration/lib.sh"
vdi_init
. "$VDI_SRCDIR/tests/integration/broker/env.sh"
. "$VDI_SRCDIR/tests/integration/gateway/env.sh"
vdi_require python3 python3
broker_setup
gateway_setup
A="$VDI_PKI/city-a/devices"
# The held desktop leg must outlast the test's steps, not the handshake
# timeout.
sed -i 's|handshake_timeout = "5s"|handshake_timeout = "30s"|' "$VDI_RUN/gatewayd.conf"
HOLD_PORT=$(vdi_free_port)
# The gateway goes to a desktop only if the policy gives it to the token's
# tenant: its copy of the policy has the held desktop in city-a's field
# pool; the broker's has not (so the broker never probes or assigns it).
sed -e "s|{ name = \"dead-1\"; address = \"127.0.0.1:$DEAD_PORT\"; },|&\\
              { name = \"held-1\"; address = \"127.0.0.1:$HOLD_PORT\"; },|" \
	"$VDI_RUN/policy.conf" >"$VDI_RUN/policy-gw.conf"
grep -q "held-1" "$VDI_RUN/policy-gw.conf" || vdi_die "could not add held-1 to the gateway's policy"
sed -i 's|^policy = "policy.conf";|policy = "policy-gw.conf";|' "$VDI_RUN/gatewayd.conf"
grep -q '^policy = "policy-gw.conf";' "$VDI_RUN/gatewayd.conf" ||
	vdi_die "could not point the gateway at its policy"
broker_start
gateway_start
vdi_check "the gateway polls the broker" \
	vdi_wait_log "$GW_NAME" "event=broker_connected" 10

vdi_start hold python3 "$VDI_SRCDIR/tests/peers/cut-relay.py" --hold "$HOLD_PORT" \
	127.0.0.1 "$DESKTOP_PORT"
vdi_wait_log hold listening 10 || vdi_die "the holding relay did not start"

# probe NAME DEVICE TOKEN: one Upgrade; NAME.status (0: TLS failed), NAME.out
probe() {
	printf '%s\n' "$3" >"$VDI_RUN/$1.token"
	"$TUNNEL" -p -g "127.0.0.1:$GW_PORT" -c "$2.pem" -k "$2.key" \
		-C "$VDI_PKI/infra/ca.pem" -t "$VDI_RUN/$1.token" \
		>"$VDI_RUN/$1.out" 2>"$VDI_RUN/$1.err"
	sed -n 's/^status=//p' "$VDI_RUN/$1.out" | head -n1 >"$VDI_RUN/$1.status"
}
pstatus() { cat "$VDI_RUN/$1.status"; }
# acked MARK: the gateway applied a cut after MARK and polled again
# (the broker logs the acknowledgement).
acked() {
	vdi_wait_log "$BROKER_NAME" "event=gateway_cuts_acked" 10 "$1"
}
# no_start SID MARK: the gateway started no tunnel of SID after MARK
no_start() {
	! vdi_log_since "$GW_NAME" "$2" | grep -E 'event=(tunnel_start|relay_start)' |
		grep -q "sid=$1"
}

# --- the sanity of the setup: an unused token opens a tunnel ----------------
out=$(login "$A/shared-1" erin erin-pw)
vdi_assert_eq "erin logs in" 200 "$(status)"
probe ok "$A/shared-1" "$(echo "$out" | jget "['token']")"
vdi_assert_eq "an uncut token opens its tunnel (101)" 101 "$(pstatus ok)"

# --- 1. a token issued before a revoke, used after the ack -----------------
out=$(login "$A/tablet-1" alice alice-pw)
vdi_assert_eq "alice logs in on tablet-1" 200 "$(status)"
TOK1=$(echo "$out" | jget "['token']")
SID1=$(echo "$out" | jget "['session']")
THUMB1=$(vdi_thumbprint "$A/tablet-1.pem")
# A token of tablet-1 for no session the broker knows: only the device cut
# names it.
OTHER1=$(mint_token "$TOK1" 'c["sid"]="0123456789abcdef0123456789abcdef"; c["jti"]="other-session-1"')
bmark=$(vdi_log_mark "$BROKER_NAME")
gmark=$(vdi_log_mark "$GW_NAME")
vdi_check "vdictl devices revoke tablet-1" "$VDICTL" devices revoke "$THUMB1" \
	--reason "lost in the field"
vdi_check "... the gateway acknowledges the cut" acked "$bmark"
probe p1 "$A/tablet-1" "$TOK1"
vdi_assert_eq "alice's unused token, issued before the revoke: refused (403)" \
	403 "$(pstatus p1)"
vdi_assert_contains "... because of the cut" "$VDI_RUN/p1.out" '"error":"cut"'
probe p1b "$A/tablet-1" "$OTHER1"
vdi_assert_eq "a token of the revoked device for another session: refused (403)" \
	403 "$(pstatus p1b)"
vdi_check "... the gateway logs the refusal with the cut's reason" \
	vdi_wait_log "$GW_NAME" "cut=cut:device_revoked" 5 "$gmark"
vdi_check "no tunnel of the revoked device started" no_start "$SID1" "$gmark"

# --- 2. a token issued before a kill, used after the ack -------------------
out=$(login "$A/tablet-2" bob bob-pw)
vdi_assert_eq "bob logs in on tablet-2" 200 "$(status)"
TOK2=$(echo "$out" | jget "['token']")
SID2=$(echo "$out" | jget "['session']")
bmark=$(vdi_log_mark "$BROKER_NAME")
gmark=$(vdi_log_mark "$GW_NAME")
vdi_check "vdictl sessions kill bob's session" sh -c \
	"'$VDICTL' --json sessions kill '$SID2' >'$VDI_RUN/kill2.json'"
SEQ2=$(jget "['cut_seq']" <"$VDI_RUN/kill2.json")
vdi_check "... the gateway acknowledges the cut" acked "$bmark"
"$VDICTL" --json cuts list >"$VDI_RUN/cuts2.json"
vdi_check "vdictl cuts list: the cut, and the gateway acknowledged it" \
	python3 - "$VDI_RUN/cuts2.json" "$SID2" "$SEQ2" <<'PY'
import json, sys
d, sid, seq = json.load(open(sys.argv[1])), sys.argv[2], int(sys.argv[3])
cut = [c for c in d["cuts"] if c["seq"] == seq]
gw = [g for g in d["gateways"] if g["name"] == "gateway"]
sys.exit(0 if cut and cut[0]["name"] == sid and cut[0]["kind"] == "session"
         and cut[0]["reason"] == "admin_kill" and gw and gw[0]["acked"] >= seq
         and gw[0]["current"] else 1)
PY
"$VDICTL" cuts list >"$VDI_RUN/cuts2.txt"
vdi_assert_contains "... said plainly" "$VDI_RUN/cuts2.txt" "has every cut"
probe p2 "$A/tablet-2" "$TOK2"
vdi_assert_eq "bob's unused token, issued before the kill: refused (403)" \
	403 "$(pstatus p2)"
vdi_assert_contains "... because of the cut" "$VDI_RUN/p2.out" '"error":"cut"'
vdi_check "no tunnel of the killed session started" no_start "$SID2" "$gmark"

# --- 3. the cut comes while the desktop leg connects -------------------------
out=$(login "$A/tablet-2" dave dave-pw)
vdi_assert_eq "dave logs in on tablet-2" 200 "$(status)"
SID3=$(echo "$out" | jget "['session']")
HELD=$(mint_token "$(echo "$out" | jget "['token']")" \
	"c['dst']='127.0.0.1:$HOLD_PORT'; c['jti']='held-1'")
hmark=$(vdi_log_mark hold)
gmark=$(vdi_log_mark "$GW_NAME")
probe p3 "$A/tablet-2" "$HELD" &
p3pid=$!
vdi_check "the gateway's desktop leg is held (TCP up, no X.224 answer)" \
	vdi_wait_log hold "held" 10 "$hmark"
vdi_check "vdictl sessions kill dave's session meanwhile" \
	"$VDICTL" sessions kill "$SID3"
vdi_check "... the gateway cuts the connecting tunnel" \
	vdi_wait_log "$GW_NAME" "event=broker_cut sid=$SID3" 5 "$gmark"
vdi_check "... (broker_cut names one tunnel)" sh -c \
	"tail -n +$((gmark + 1)) '$VDI_RUN/$GW_NAME.log' | grep 'event=broker_cut' | grep 'sid=$SID3' | grep -q 'tunnels=1'"
vdi_signal hold USR1 # the desktop answers now: too late
wait "$p3pid"
vdi_assert_eq "the connecting tunnel gets 403, never a 101" 403 "$(pstatus p3)"
vdi_assert_contains "... because of the cut" "$VDI_RUN/p3.out" '"error":"cut"'
sleep 1
vdi_check "nothing of the killed session was started or relayed" \
	no_start "$SID3" "$gmark"
audit_rows() { "$VDICTL" audit "$@" >"$VDI_RUN/audit.txt" 2>&1; }
audit_rows --user dave
vdi_check "the broker saw no tunnel start for it" \
	sh -c "! grep 'action=tunnel_start' '$VDI_RUN/audit.txt' | grep -q 'session=$SID3'"

# --- 4. a start event for an ended session ----------------------------------
bmark=$(vdi_log_mark "$BROKER_NAME")
gwpost() { # PATH JSON: as the gateway (its client certificate)
	curl -sS --max-time 10 --cacert "$VDI_PKI/infra/ca.pem" \
		--cert "$VDI_PKI/infra/gateway.pem" --key "$VDI_PKI/infra/gateway.key" \
		-H 'Content-Type: application/json' --data-binary "$2" \
		"$BROKER_URL$1"
}
gwpost /internal/v1/events "{\"events\":[{\"type\":\"start\",\"sid\":\"$SID2\",\"jti\":\"late-1\"}]}" \
	>"$VDI_RUN/events.out"
vdi_assert_contains "the broker accepts the late start event" \
	"$VDI_RUN/events.out" '"accepted":1'
vdi_check "... and answers it with a cut for the session" \
	vdi_wait_log "$BROKER_NAME" "sid=$SID2 keep_jti=- reason=session_ended" 5 "$bmark"
gwpost /internal/v1/commands '{"after":0,"wait":0}' >"$VDI_RUN/commands.json"
vdi_check "... which gateways are served" python3 - "$VDI_RUN/commands.json" "$SID2" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if any(c.get("sid") == sys.argv[2] and c["reason"] == "session_ended"
                  for c in d["commands"]) else 1)
PY
audit_rows --user bob
vdi_check "the audit says the tunnel start was refused, not ok" \
	sh -c "grep 'action=tunnel_start' '$VDI_RUN/audit.txt' | grep 'session=$SID2' | grep 'outcome=refused' | grep -q session_ended"
vdi_check "... and has no tunnel start ok for the ended session" \
	sh -c "! grep 'action=tunnel_start' '$VDI_RUN/audit.txt' | grep 'session=$SID2' | grep -q 'outcome=ok'"
vdi_check "the session stays ended" sh -c \
	"! '$VDICTL' --json sessions list | grep -q '$SID2'"

# --- 5. kill -9 of the broker between the cut and the token's use -----------
out=$(login "$A/tablet-2" carol carol-pw)
vdi_assert_eq "carol logs in on tablet-2" 200 "$(status)"
TOK5=$(echo "$out" | jget "['token']")
SID5=$(echo "$out" | jget "['session']")
bmark=$(vdi_log_mark "$BROKER_NAME")
vdi_check "vdictl sessions kill carol's session" "$VDICTL" sessions kill "$SID5"
vdi_check "... acknowledged" acked "$bmark"
kill -9 -- "-$(vdi_pid "$BROKER_NAME")"
vdi_wait_exit "$BROKER_NAME" 5
# A fresh gateway too: nothing of the cut is left in any memory.
vdi_stop "$GW_NAME" 10
broker_start
vdi_check "the restarted broker loads the cuts in force" \
	vdi_wait_log "$BROKER_NAME" "event=gateway_cuts_loaded" 5
"$VDICTL" cuts list >"$VDI_RUN/cuts5.txt"
vdi_assert_contains "... carol's among them" "$VDI_RUN/cuts5.txt" "$SID5"
vdi_assert_contains "... and no gateway has acknowledged them yet" \
	"$VDI_RUN/cuts5.txt" "NOT POLLING"
gateway_start
vdi_check "the new gateway polls the restarted broker" \
	vdi_wait_log "$GW_NAME" "event=broker_connected" 10
vdi_check "... and holds carol's cut" vdi_wait_log "$GW_NAME" "sid=$SID5" 10
probe p5 "$A/tablet-2" "$TOK5"
vdi_assert_eq "carol's token, issued before the kill and kill -9: refused (403)" \
	403 "$(pstatus p5)"
vdi_assert_contains "... because of the cut" "$VDI_RUN/p5.out" '"error":"cut"'
probe p5b "$A/tablet-1" "$TOK1"
vdi_check "alice's token of the revoked tablet: still refused (cut, or expired by now)" \
	test "$(pstatus p5b)" = 403 -o "$(pstatus p5b)" = 401
vdi_check "nothing of the killed session started on the new gateway" \
	no_start "$SID5" 0

curl -sS --max-time 5 "http://127.0.0.1:$GW_METRICS_PORT/metrics" >"$VDI_RUN/metrics.txt"
vdi_check "metrics: refusals by cut counted" \
	grep -qE '^vdi_gateway_refusals_total\{reason="cut"\} [1-9]' "$VDI_RUN/metrics.txt"
vdi_assert_contains "metrics: cuts held" "$VDI_RUN/metrics.txt" \
	'vdi_gateway_cuts_held'
vdi_finish
