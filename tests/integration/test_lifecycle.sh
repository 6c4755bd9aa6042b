#!/bin/bash
# test_lifecycle: the limits of vdi-policy.conf(5) LIMITS, applied by the
# real vdi-brokerd and vdi-gatewayd (a freerdp-shadow-cli desktop, the real
# xfreerdp through tunnel-client), with short limits so the test is quick:
#
#  - max_session: the deadline is in the token (mxs), fixed at the start
#    (a reconnect after a reload that shortens it keeps it), the gateway
#    cuts the relay at it (reason max_session), the broker ends the
#    session, voids its ticket (a reconnect gets 403 max_session), audits
#    and counts it;
#  - the sweeper ends a pending session after the token lifetime and a
#    disconnected one after its reconnect window; a persistent desktop
#    keeps its assignment;
#  - with single_session = false a reconnect ticket brings back its own
#    session (not a new one);
#  - a relocation mode admits a new network on reconnect;
#  - the admin socket refuses the broker's own service user (root runs).
. "${top_srcdir:?run through make check}/tests/integration/lib.sh"
vdi_init
. "$VDI_SRCDIR/tests/integration/broker/env.sh"
. "$VDI_SRCDIR/tests/integration/gateway/env.sh"
vdi_require xfreerdp freerdp2-x11
vdi_require python3 python3
broker_setup

# Policy: dave's sessions last 15 s; erin may have several sessions, with a
# 15 s reconnect window; bob may come from 127.0.0.1 only, or from the
# shelter 127.0.0.5 in the relocation mode.
python3 - "$VDI_RUN/policy.conf" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
s = s.replace('sites = { loopback = ["127.0.0.0/8", "::1/128"]; };',
    'sites = { loopback = ["127.0.0.0/8", "::1/128"]; office = ["127.0.0.1/32"]; };')
s = s.replace('rules = (\n', '''rules = (
  { name = "dave-short"; action = "allow"; tenants = ["city-a"];
    users = ["dave"]; pools = ["field"]; limits = { max_session = "15s"; }; },
  { name = "erin-multi"; action = "allow"; tenants = ["city-a"];
    users = ["erin"]; pools = ["field"];
    limits = { single_session = false; reconnect_window = "15s"; }; },
  { name = "bob-office"; action = "allow"; tenants = ["city-a"];
    users = ["bob"]; sites = ["office"]; pools = ["field"]; },
  { name = "bob-nowhere-else"; action = "deny"; users = ["bob"]; },
''', 1)
s = s.replace('modes = {\n', '''modes = {
  relocation = { tenants = ["city-a"];
    sites = { shelter = ["127.0.0.5/32"]; };
    rules = ( { name = "bob-shelter"; action = "allow"; users = ["bob"];
                sites = ["shelter"]; pools = ["field"]; } ); };
''', 1)
open(p, "w").write(s)
PY
grep -q dave-short "$VDI_RUN/policy.conf" && grep -q bob-shelter "$VDI_RUN/policy.conf" ||
	vdi_die "could not edit the policy"
# Tokens live 5 s, the sweeper runs every second.
sed -i -e 's|^token = { signing_key = "token.key"; seal_key = "seal.key"; };|token = { signing_key = "token.key"; seal_key = "seal.key"; lifetime = "5s"; };|' \
	"$VDI_RUN/brokerd.conf"
echo 'sweep = { interval = "1s"; };' >>"$VDI_RUN/brokerd.conf"
grep -q 'lifetime = "5s"' "$VDI_RUN/brokerd.conf" || vdi_die "could not edit brokerd.conf"
gateway_setup
broker_start
gateway_start
xvfb_start xvfb-client 1024x768x24
A="$VDI_PKI/city-a/devices"
METRICS="http://$(sed -n 's/^metrics_listen = "\(.*\)";/\1/p' "$VDI_RUN/brokerd.conf")/metrics"

claim() { # TOKEN NAME: a claim of a token's payload
	python3 -c 'import base64,json,sys
p = sys.argv[1].split(".")[1]
print(json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4))).get(sys.argv[2], ""))' "$1" "$2"
}
sess() { # SID KEY: a field of a session, ended ones included
	"$VDICTL" --json sessions list --all | python3 -c 'import json,sys
for s in json.load(sys.stdin)["sessions"]:
    if s["id"] == sys.argv[1]:
        print(s.get(sys.argv[2], "")); break' "$1" "$2"
}
state_is() { [ "$(sess "$1" state)" = "$2" ]; }
ended_as() { [ "$(sess "$1" state)" = ended ] && [ "$(sess "$1" end_reason)" = "$2" ]; }
reconnect() { api "$1" POST /v1/reconnect "{\"ticket\":\"$2\"}"; }
metric() { curl -s "$METRICS" | sed -n "s/^$1 //p"; }

# --- a pending session nobody opens (carol) -------------------------------
out=$(login "$A/tablet-2" carol carol-pw)
vdi_assert_eq "carol logs in" 200 "$(status)"
CAROL=$(echo "$out" | jget "['session']")
# alice's persistent desktop: a login, never used
out=$(login "$A/shared-1" alice alice-pw)
vdi_assert_eq "alice logs in to her own desktop" "200 persistent own-alice" \
	"$(status) $(echo "$out" | jget "['how']") $(echo "$out" | jget "['desktop']")"
ALICE=$(echo "$out" | jget "['session']")

# --- max_session (dave, 15 s) ---------------------------------------------
out=$(login "$A/tablet-1" dave dave-pw)
vdi_assert_eq "dave logs in" 200 "$(status)"
DAVE=$(echo "$out" | jget "['session']")
TICKET=$(echo "$out" | jget "['ticket']")
TOK=$(echo "$out" | jget "['token']")
MXS=$(claim "$TOK" mxs)
IAT=$(claim "$TOK" iat)
vdi_assert_eq "the token carries the deadline: start + max_session" \
	$((IAT + 15)) "$MXS"
# A reload that shortens max_session does not move a running session's
# deadline: a reconnect keeps it.
sed -i 's/max_session = "15s"/max_session = "2s"/' "$VDI_RUN/policy.conf"
vdi_check "the policy is reloaded with a shorter max_session" "$VDICTL" policy reload
out=$(reconnect "$A/tablet-1" "$TICKET")
vdi_assert_eq "dave reconnects with his ticket" 200 "$(status)"
TICKET=$(echo "$out" | jget "['ticket']")
TOK=$(echo "$out" | jget "['token']")
vdi_assert_eq "... into the same session" "$DAVE" "$(echo "$out" | jget "['session']")"
vdi_assert_eq "... whose deadline did not move" "$MXS" "$(claim "$TOK" mxs)"

mark=$(vdi_log_mark "$GW_NAME")
tunnel_open tunnel1 "$A/tablet-1" "$TOK"
vdi_wait_file "$VDI_RUN/tunnel1.port" 10 tunnel1 || vdi_die "no 101"
DISPLAY=":$XVFB_DISPLAY" vdi_start xfreerdp xfreerdp \
	"/v:127.0.0.1:$(cat "$VDI_RUN/tunnel1.port")" /sec:tls \
	"/cert:deny,fingerprint:sha256:$(echo "$INNER_PIN" | sed 's/../&:/g; s/:$//')" \
	/u:dave /p:not-used /size:800x600 -clipboard
vdi_check "the relay starts" vdi_wait_log "$GW_NAME" "event=relay_start" 15 "$mark"
vdi_check "the gateway closes the tunnel at the deadline as max_session" \
	vdi_wait_log "$GW_NAME" "reason=max_session" 15 "$mark"
t=$(date +%s)
vdi_check "... at the deadline, not before ($((t - MXS)) s after it)" \
	test "$t" -ge "$MXS" -a "$t" -le $((MXS + 10))
vdi_check "the broker ends the session as max_session" \
	vdi_wait_until 10 ended_as "$DAVE" max_session
vdi_check "the broker audits the end" \
	sh -c "'$VDICTL' audit --user dave | grep 'action=session_end' | grep -q max_session"
# The gateway reports the tunnel's end on its own (the broker link's event
# stream): wait for the row.
vdi_check "the broker audits the tunnel's end as reason=time_limit" \
	vdi_wait_until 10 sh -c "'$VDICTL' audit --user dave | grep 'action=tunnel_end' | grep -q 'reason=\"time_limit\"'"
reconnect "$A/tablet-1" "$TICKET" >"$VDI_RUN/late.json"
vdi_assert_eq "a reconnect after the deadline is refused" "403 max_session" \
	"$(status) $(jget "['error']" <"$VDI_RUN/late.json")"
vdi_assert_eq "the gateway counts the close" 1 \
	"$(curl -s "http://127.0.0.1:$GW_METRICS_PORT/metrics" | sed -n 's/^vdi_gateway_session_closes_total{cause="max_session"} //p')"
vdi_assert_eq "the broker counts the end" 1 \
	"$(metric 'vdi_broker_sessions_swept_total{reason="max_session"}')"
# A fresh login is a new session with a deadline of its own (now 2 s).
out=$(login "$A/tablet-1" dave dave-pw)
vdi_assert_eq "dave logs in again: a new session" "200 yes" \
	"$(status) $([ "$(echo "$out" | jget "['session']")" != "$DAVE" ] && echo yes)"
vdi_assert_eq "... under the policy now in force" \
	$(($(claim "$(echo "$out" | jget "['token']")" iat) + 2)) \
	"$(claim "$(echo "$out" | jget "['token']")" mxs)"

# --- the sweeper: pending ----------------------------------------------------
vdi_check "carol's unused session ends after the token lifetime" \
	vdi_wait_until 20 ended_as "$CAROL" pending_expired
t=$(( $(sess "$CAROL" ended) - $(sess "$CAROL" created) ))
vdi_check "... not before it (5 s + 5 s grace: after $t s)" test "$t" -ge 10
vdi_check "... audited" \
	sh -c "'$VDICTL' audit --user carol | grep 'action=session_end' | grep -q pending_expired"
vdi_check "alice's unused session ends too" vdi_wait_until 10 ended_as "$ALICE" pending_expired
out=$(login "$A/shared-1" alice alice-pw)
vdi_assert_eq "... and her persistent desktop stays hers" "200 persistent own-alice" \
	"$(status) $(echo "$out" | jget "['how']") $(echo "$out" | jget "['desktop']")"

# --- single_session = false: a ticket brings back its own session (erin) -----
out=$(login "$A/tablet-2" erin erin-pw)
vdi_assert_eq "erin logs in" 200 "$(status)"
E1=$(echo "$out" | jget "['session']")
ET=$(echo "$out" | jget "['ticket']")
out=$(login "$A/tablet-2" erin erin-pw)
E2=$(echo "$out" | jget "['session']")
vdi_check "a second login is a second session" test "$E1" != "$E2" -a -n "$E2"
out=$(reconnect "$A/tablet-2" "$ET")
vdi_assert_eq "the first session's ticket reconnects" 200 "$(status)"
vdi_assert_eq "... into the first session" "$E1 reused" \
	"$(echo "$out" | jget "['session']") $(echo "$out" | jget "['how']")"
vdi_check "... which is live" test "$(sess "$E1" state)" != ended
# A tunnel that comes up and goes: the session is disconnected, and ends
# when its reconnect window passes.
vdi_assert_eq "a tunnel opens" 101 "$(tunnel_probe "$A/tablet-2" "$(echo "$out" | jget "['token']")")"
vdi_check "erin's session is disconnected after the tunnel ends" \
	vdi_wait_until 10 state_is "$E1" disconnected
T_DROP=$(sess "$E1" updated)
vdi_check "... and ends when the window has passed" \
	vdi_wait_until 30 ended_as "$E1" disconnected_expired
t=$(( $(sess "$E1" ended) - T_DROP ))
vdi_check "... not before ($t s after the drop)" test "$t" -ge 15
vdi_check "the pending second session ended as well" vdi_wait_until 10 ended_as "$E2" pending_expired
vdi_check "/metrics counts the sweeps" \
	test "$(metric 'vdi_broker_sessions_swept_total{reason="pending_expired"}')" -ge 3 -a \
	"$(metric 'vdi_broker_sessions_swept_total{reason="disconnected_expired"}')" -ge 1

# --- relocation: the mode in force at the reconnect decides (bob) -----------
out=$(login "$A/tablet-1" bob bob-pw)
vdi_assert_eq "bob logs in from the office" 200 "$(status)"
BOB=$(echo "$out" | jget "['session']")
BT=$(echo "$out" | jget "['ticket']")
vdi_check "vdictl policy mode city-a relocation" "$VDICTL" policy mode city-a relocation
curl -sS -o "$VDI_RUN/body" -w '%{http_code}' --max-time 20 --interface 127.0.0.5 \
	--cacert "$VDI_PKI/infra/ca.pem" --cert "$A/tablet-1.pem" --key "$A/tablet-1.key" \
	-H 'Content-Type: application/json' --data-binary "{\"ticket\":\"$BT\"}" \
	"$BROKER_URL/v1/reconnect" >"$VDI_RUN/status" 2>"$VDI_RUN/curl.err"
vdi_assert_eq "from the shelter, the relocation mode admits his reconnect" \
	"200 $BOB" "$(status) $(jget "['session']" <"$VDI_RUN/body")"
vdi_check "vdictl policy mode city-a default" "$VDICTL" policy mode city-a default

# --- the admin socket and the broker's own user -------------------------------
if [ "$(id -u)" = 0 ]; then
	chmod 0666 "$VDI_BROKER_SOCKET"
	mark=$(vdi_log_mark broker)
	vdi_check_not "vdictl as the broker's service user (nobody) is refused" \
		setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$VDICTL" sessions list
	vdi_check "... and logged" vdi_wait_log broker "event=admin_refused peer=admin:nobody" 5 "$mark"
	vdi_check "root still gets in" "$VDICTL" sessions list
else
	vdi_log "not root: the service-user check needs root (the broker runs as this user)"
fi
vdi_finish
