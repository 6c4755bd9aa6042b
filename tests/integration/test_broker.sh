#!/bin/bash
# vdi-brokerd end to end: real daemon, real certificates (tests/pki), real
# PAM through pam_wrapper + pam_matrix (+ an OTP module), a real desktop
# (freerdp-shadow-cli) for health probes, curl as the device.
. "${top_srcdir:?run through make check}/tests/integration/lib.sh"
vdi_init
. "$VDI_SRCDIR/tests/integration/broker/env.sh"
broker_setup

# --- configuration check mode -------------------------------------------
vdi_check "vdi-brokerd -t accepts the test configuration" \
	"$BROKER" -t -f "$VDI_RUN/brokerd.conf"
sed 's/interval = "1s"/interval = "soon"/' "$VDI_RUN/brokerd.conf" >"$VDI_RUN/bad.conf"
printf 'tls_typo = 1;\n' >>"$VDI_RUN/bad.conf"
vdi_check_not "vdi-brokerd -t refuses a bad configuration" \
	"$BROKER" -t -f "$VDI_RUN/bad.conf"
"$BROKER" -t -f "$VDI_RUN/bad.conf" >"$VDI_RUN/bad.out" 2>&1
vdi_assert_contains "unknown key named with file:line" "$VDI_RUN/bad.out" "bad.conf:"
vdi_assert_contains "unknown key named" "$VDI_RUN/bad.out" "tls_typo: unknown key"
vdi_assert_contains "bad duration named" "$VDI_RUN/bad.out" "health.interval"

broker_start
A="$VDI_PKI/city-a/devices"
B="$VDI_PKI/city-b/devices"

# --- device certificates ---------------------------------------------------
api "$A/tablet-1" GET /v1/health >/dev/null
vdi_assert_eq "valid device certificate: health 200" 200 "$(status)"
for bad in "$A/expired:certificate has expired" \
	   "$A/notyet:certificate is not yet valid" \
	   "$A/revoked:certificate revoked" \
	   "$VDI_PKI/rogue/devices/wrongca:unable to get local issuer certificate"; do
	cert=${bad%%:*} why=${bad#*:}
	mark=$(vdi_log_mark broker)
	api "$cert" GET /v1/health >/dev/null
	vdi_assert_eq "$(basename "$cert") refused at TLS" 000 "$(status)"
	vdi_check "$(basename "$cert"): broker logs \"$why\"" \
		vdi_wait_log broker "$why" 5 "$mark"
done
curl -sS -o /dev/null --max-time 5 --cacert "$VDI_PKI/infra/ca.pem" \
	"$BROKER_URL/v1/health" 2>/dev/null
vdi_assert_eq "no client certificate refused" 1 "$([ $? -ne 0 ] && echo 1)"

# --- login with a password ---------------------------------------------
out=$(login "$A/tablet-1" carol carol-pw)
vdi_assert_eq "carol logs in" 200 "$(status)"
vdi_assert_eq "carol gets a pooled desktop" pooled "$(echo "$out" | jget "['how']")"
vdi_assert_eq "the dead desktop is skipped" field-1 "$(echo "$out" | jget "['desktop']")"
tok=$(echo "$out" | jget "['token']")
vdi_check "token has three parts" test "$(echo "$tok" | tr -cd . | wc -c)" = 2
vdi_check "token verifies with the broker's public key" \
	python3 - "$tok" "$VDI_RUN/token.pub" "$OPENSSL" <<'PY'
import base64, json, subprocess, sys, tempfile
tok, pub, ossl = sys.argv[1:4]
h, p, s = tok.split('.')
pad = lambda x: x + '=' * (-len(x) % 4)
claims = json.loads(base64.urlsafe_b64decode(pad(p)))
assert claims['sub'] == 'carol' and claims['tid'] == 'city-a', claims
assert claims['exp'] - claims['iat'] <= 60
assert 'x5t#S256' in claims['cnf'] and 'cred' in claims
with tempfile.NamedTemporaryFile() as m, tempfile.NamedTemporaryFile() as g:
    m.write((h + '.' + p).encode()); m.flush()
    g.write(base64.urlsafe_b64decode(pad(s))); g.flush()
    subprocess.run([ossl, 'pkeyutl', '-verify', '-pubin', '-inkey', pub,
                    '-rawin', '-in', m.name, '-sigfile', g.name],
                   check=True, capture_output=True)
PY
CAROL_TICKET=$(echo "$out" | jget "['ticket']")
CAROL_SID=$(echo "$out" | jget "['session']")

out=$(login "$A/tablet-2" carol wrong-pw)
vdi_assert_eq "wrong password: 401" 401 "$(status)"
vdi_assert_eq "wrong password: auth_failed" auth_failed "$(echo "$out" | jget "['error']")"
out=$(login "$A/tablet-2" nobody whatever)
vdi_assert_eq "unknown user looks like a wrong password" auth_failed \
	"$(echo "$out" | jget "['error']")"

# --- two-prompt PAM stack -----------------------------------------------
out=$(api "$B/tablet-1" POST /v1/login '{"user":"olga"}')
vdi_assert_eq "olga: first prompt is a secret" echo_off \
	"$(echo "$out" | jget "['prompts'][0]['style']")"
id=$(echo "$out" | jget "['login_id']")
out=$(api "$B/tablet-1" POST /v1/login "{\"login_id\":\"$id\",\"answers\":[\"olga-pw\"]}")
vdi_assert_eq "olga: second prompt is the one-time code" "One-time code: " \
	"$(echo "$out" | jget "['prompts'][0]['text']")"
out=$(api "$A/tablet-1" POST /v1/login "{\"login_id\":\"$id\",\"answers\":[\"424242\"]}")
vdi_assert_eq "a login cannot be continued from another device" 404 "$(status)"
# A login is pending: a step with a short or a too long login_id is just
# unknown (the id is compared after its length is checked).
for bad in a "${id:0:31}" "${id}0"; do
	out=$(api "$B/tablet-1" POST /v1/login "{\"login_id\":\"$bad\",\"answers\":[\"x\"]}")
	vdi_assert_eq "a ${#bad}-character login_id: 404 no_such_login" 404:no_such_login \
		"$(status):$(echo "$out" | jget "['error']")"
done
out=$(api "$B/tablet-1" POST /v1/login "{\"login_id\":\"$id\",\"answers\":[\"424242\"]}")
vdi_assert_eq "olga: password and code accepted" ok "$(echo "$out" | jget "['state']")"
OLGA_TICKET=$(echo "$out" | jget "['ticket']")
out=$(login "$B/tablet-2" olga olga-pw 000000)
vdi_assert_eq "olga: wrong code refused" auth_failed "$(echo "$out" | jget "['error']")"

# --- persistent assignment ------------------------------------------------
out=$(login "$A/tablet-2" alice alice-pw)
vdi_assert_eq "alice gets her persistent desktop" own-alice \
	"$(echo "$out" | jget "['desktop']")"
ALICE_SID=$(echo "$out" | jget "['session']")
ALICE_TICKET=$(echo "$out" | jget "['ticket']")

# --- policy refusal ---------------------------------------------------------
out=$(login "$A/tablet-1" mallory mallory-pw)
vdi_assert_eq "a deny rule refuses mallory" 403 "$(status)"
vdi_assert_eq "... with policy_denied" policy_denied "$(echo "$out" | jget "['error']")"

# --- reconnect tickets ----------------------------------------------------
out=$(api "$A/tablet-1" POST /v1/reconnect "{\"ticket\":\"$CAROL_TICKET\"}")
vdi_assert_eq "reconnect with the ticket: 200" 200 "$(status)"
vdi_assert_eq "reconnect lands in the same session" "$CAROL_SID" \
	"$(echo "$out" | jget "['session']")"
vdi_assert_eq "reconnect reuses" reused "$(echo "$out" | jget "['how']")"
NEW_TICKET=$(echo "$out" | jget "['ticket']")
vdi_check "the ticket is rotated" test "$NEW_TICKET" != "$CAROL_TICKET"
out=$(api "$A/tablet-1" POST /v1/reconnect "{\"ticket\":\"$CAROL_TICKET\"}")
vdi_assert_eq "a used ticket is refused" ticket_used "$(echo "$out" | jget "['error']")"
out=$(api "$A/tablet-2" POST /v1/reconnect "{\"ticket\":\"$NEW_TICKET\"}")
vdi_assert_eq "another device's ticket is refused" ticket_wrong_device \
	"$(echo "$out" | jget "['error']")"
sleep 4 # city-b's reconnect window is 3 s
out=$(api "$B/tablet-1" POST /v1/reconnect "{\"ticket\":\"$OLGA_TICKET\"}")
vdi_assert_eq "an expired ticket is refused" ticket_expired \
	"$(echo "$out" | jget "['error']")"
out=$(api "$A/tablet-1" POST /v1/reconnect '{"ticket":"not-a-ticket"}')
vdi_assert_eq "garbage ticket refused" ticket_invalid "$(echo "$out" | jget "['error']")"

# --- takeover: one live session per user -------------------------------
gw_poll() { # after -> commands JSON
	curl -sS --max-time 10 --cacert "$VDI_PKI/infra/ca.pem" \
		--cert "$VDI_PKI/infra/gateway.pem" --key "$VDI_PKI/infra/gateway.key" \
		-H 'Content-Type: application/json' \
		--data-binary "{\"after\":$1,\"wait\":0}" "$BROKER_URL/internal/v1/commands"
}
before=$(gw_poll 0 | jget "['next']")
out=$(login "$A/tablet-1" alice alice-pw)
vdi_assert_eq "alice from a second device: same session" "$ALICE_SID" \
	"$(echo "$out" | jget "['session']")"
cmds=$(gw_poll "$before")
vdi_assert_eq "the gateways are told to cut the old tunnel" takeover \
	"$(echo "$cmds" | jget "['commands'][-1]['reason']")"
vdi_assert_eq "... of alice's session" "$ALICE_SID" \
	"$(echo "$cmds" | jget "['commands'][-1]['sid']")"
out=$(api "$A/tablet-2" POST /v1/reconnect "{\"ticket\":\"$ALICE_TICKET\"}")
vdi_assert_eq "the first device's ticket died with the takeover" 401 "$(status)"
vdi_assert_eq "... refused as replaced" replaced "$(echo "$out" | jget "['error']")"
# The newest login wins on one device too (the app started twice): carol's
# second login voids the first one's ticket; the new line of tickets works.
out=$(login "$A/tablet-1" carol carol-pw)
vdi_assert_eq "carol logs in again on the same device: same session" "$CAROL_SID" \
	"$(echo "$out" | jget "['session']")"
CAROL2_TICKET=$(echo "$out" | jget "['ticket']")
cmds=$(gw_poll "$before")
vdi_assert_eq "... her other tunnel is cut as replaced" replaced \
	"$(echo "$cmds" | jget "['commands'][-1]['reason']")"
out=$(api "$A/tablet-1" POST /v1/reconnect "{\"ticket\":\"$NEW_TICKET\"}")
vdi_assert_eq "the first program's ticket is refused as replaced (401)" \
	401:replaced "$(status):$(echo "$out" | jget "['error']")"
out=$(api "$A/tablet-1" POST /v1/reconnect "{\"ticket\":\"$CAROL2_TICKET\"}")
vdi_assert_eq "the newer program's ticket works" 200 "$(status)"

# --- attempt limits ----------------------------------------------------------
# free_failures = 3: the fourth failure starts the backoff.
for i in 1 2 3 4; do login "$A/shared-1" dave wrong >/dev/null; done
out=$(login "$A/shared-1" dave dave-pw)
vdi_assert_eq "after 4 failures dave must wait, right password or not: 429" \
	429 "$(status)"
vdi_check "retry_after is given" test "$(echo "$out" | jget "['retry_after']")" -gt 0

# --- shared device: no ticket -----------------------------------------------
out=$(login "$A/shared-1" erin erin-pw)
vdi_assert_eq "erin logs in on a shared tablet" ok "$(echo "$out" | jget "['state']")"
vdi_assert_eq "shared device gets no reconnect ticket" False \
	"$(echo "$out" | jget ".get('ticket') is not None")"

# --- gateway events -----------------------------------------------------------
ev="{\"events\":[{\"type\":\"start\",\"sid\":\"$CAROL_SID\"},{\"type\":\"refused\",\"sid\":\"$CAROL_SID\",\"channel\":\"cliprdr\",\"reason\":\"static channel not allowed\"}]}"
code=$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$VDI_PKI/infra/ca.pem" \
	--cert "$VDI_PKI/infra/gateway.pem" --key "$VDI_PKI/infra/gateway.key" \
	-H 'Content-Type: application/json' --data-binary "$ev" \
	"$BROKER_URL/internal/v1/events")
vdi_assert_eq "gateway events accepted" 200 "$code"
vdi_check "carol's session is active" sh -c \
	"'$VDICTL' --json sessions list | grep -A8 '$CAROL_SID' | grep -q '\"active\"'"
code=$(api "$A/tablet-1" POST /internal/v1/events "$ev" >/dev/null; status)
vdi_assert_eq "a device cannot post gateway events" 403 "$code"

# --- malformed input: 4xx and the daemon keeps serving ------------------------
api "$A/tablet-1" POST /v1/login '{"user":' >/dev/null
vdi_assert_eq "broken JSON: 400" 400 "$(status)"
api "$A/tablet-1" POST /v1/login '[1,2]' >/dev/null
vdi_assert_eq "JSON that is not an object: 400" 400 "$(status)"
api "$A/tablet-1" POST /v1/login '{"user":"a","user":"b"}' >/dev/null
vdi_assert_eq "duplicate keys: 400" 400 "$(status)"
api "$A/tablet-1" POST /v1/login "{\"user\":\"$(head -c 20000 /dev/zero | tr '\0' a)\"}" >/dev/null
vdi_check "oversized body: 4xx" test "$(status)" -ge 400 -a "$(status)" -lt 500
api "$A/tablet-1" GET /v1/nothing >/dev/null
vdi_assert_eq "unknown path: 404" 404 "$(status)"
api "$A/tablet-1" GET /v1/login >/dev/null
vdi_assert_eq "wrong method: 405" 405 "$(status)"
"$OPENSSL" s_client -quiet -connect "127.0.0.1:${BROKER_URL##*:}" \
	-cert "$A/tablet-1.pem" -key "$A/tablet-1.key" -CAfile "$VDI_PKI/infra/ca.pem" \
	</dev/null >/dev/null 2>&1 <<<$'GARBAGE\r\n\r\n'
api "$A/tablet-1" GET /v1/health >/dev/null
vdi_assert_eq "still serving after garbage" 200 "$(status)"
vdi_check "broker process alive" vdi_alive "$BROKER_NAME"

# --- metrics ----------------------------------------------------------------------
mport=$(sed -n 's/^metrics_listen = "127.0.0.1:\([0-9]*\)";/\1/p' "$VDI_RUN/brokerd.conf")
curl -sS "http://127.0.0.1:$mport/metrics" >"$VDI_RUN/metrics.txt"
vdi_assert_contains "metrics: logins" "$VDI_RUN/metrics.txt" "vdi_broker_logins_total"
vdi_assert_contains "metrics: failures by reason" "$VDI_RUN/metrics.txt" \
	'vdi_broker_login_failures_total{reason="auth"}'
vdi_assert_contains "metrics: desktops down" "$VDI_RUN/metrics.txt" \
	'vdi_broker_desktops{health="unhealthy"} 1'
vdi_assert_contains "metrics: latency histogram" "$VDI_RUN/metrics.txt" \
	'vdi_broker_request_duration_seconds_bucket{le="+Inf"}'

# --- admin: desktops, revoke, mode ----------------------------------------------
"$VDICTL" desktops list >"$VDI_RUN/desktops.txt"
vdi_assert_contains "vdictl shows the dead desktop down" "$VDI_RUN/desktops.txt" "DOWN"
thumb=$("$OPENSSL" x509 -in "$A/tablet-1.pem" -noout -fingerprint -sha256 |
	sed 's/.*=//; s/://g' | tr A-F a-f)
before=$(gw_poll 0 | jget "['next']")
vdi_check "vdictl devices revoke" "$VDICTL" devices revoke "$thumb" --reason "lost in the field"
cmds=$(gw_poll "$before")
vdi_check "revoking cuts the device's live sessions" sh -c \
	"echo '$cmds' | grep -q device_revoked"
out=$(login "$A/tablet-1" carol carol-pw)
vdi_assert_eq "a revoked device cannot log in" device_revoked "$(echo "$out" | jget "['error']")"
out=$(api "$A/tablet-1" POST /v1/reconnect "{\"ticket\":\"$NEW_TICKET\"}")
vdi_assert_eq "nor reconnect: 403" 403 "$(status)"
vdi_assert_eq "... device_revoked, whatever the ticket" device_revoked \
	"$(echo "$out" | jget "['error']")"
"$VDICTL" audit --device "$thumb" >"$VDI_RUN/audit-dev.txt"
vdi_assert_contains "the audit says who revoked it" "$VDI_RUN/audit-dev.txt" "action=device_revoke"
vdi_assert_contains "... and that it was an admin" "$VDI_RUN/audit-dev.txt" "actor=admin:"

vdi_check "vdictl policy mode city-a lockdown" "$VDICTL" policy mode city-a lockdown
out=$(login "$A/tablet-2" bob bob-pw)
vdi_assert_eq "in lockdown mode bob is refused" 403 "$(status)"
vdi_check "vdictl policy mode city-a default" "$VDICTL" policy mode city-a default
out=$(login "$A/tablet-2" bob bob-pw)
vdi_assert_eq "back to normal: bob logs in" ok "$(echo "$out" | jget "['state']")"
BOB_SID=$(echo "$out" | jget "['session']")
BOB_TICKET=$(echo "$out" | jget "['ticket']")

# --- policy reload: a broken file is refused, the old one stays --------------------
cp "$VDI_RUN/policy.conf" "$VDI_RUN/policy.good"
echo 'rules = ( { name = "x"; action = "maybe"; } );' >>"$VDI_RUN/policy.conf"
vdi_check_not "vdictl policy reload refuses a broken policy" "$VDICTL" policy reload
cp "$VDI_RUN/policy.good" "$VDI_RUN/policy.conf"
vdi_check "vdictl policy reload" "$VDICTL" policy reload
api "$A/shared-1" GET /v1/health >/dev/null
vdi_assert_eq "shared-1 is accepted before its revocation" 200 "$(status)"
# A new CRL published at run time: SIGHUP, no restart.
vdi_revoke city-a shared-1
chmod go+r "$VDI_PKI/city-a/crl.pem"
mark=$(vdi_log_mark "$BROKER_NAME")
vdi_signal "$BROKER_NAME" HUP
vdi_check "SIGHUP reloads the policy and the CRLs" \
	vdi_wait_log "$BROKER_NAME" "event=policy_reloaded" 5 "$mark"
api "$A/tablet-2" GET /v1/health >/dev/null
vdi_assert_eq "serving after SIGHUP" 200 "$(status)"
api "$A/shared-1" GET /v1/health >/dev/null
vdi_assert_eq "shared-1, now on the CRL, is refused at TLS" 000 "$(status)"
vdi_check "... with the reason logged" \
	vdi_wait_log "$BROKER_NAME" "certificate revoked" 5 "$mark"

# --- kill -9: nothing acknowledged is lost ------------------------------------------
"$VDICTL" --json sessions list | jget "['sessions']" >"$VDI_RUN/sessions-before.txt"
# A crash takes both processes (monitor and worker) at once.
kill -9 -- "-$(vdi_pid "$BROKER_NAME")"
vdi_wait_exit "$BROKER_NAME" 5
broker_start
"$VDICTL" --json sessions list | jget "['sessions']" >"$VDI_RUN/sessions-after.txt"
vdi_check "sessions survive kill -9" cmp -s "$VDI_RUN/sessions-before.txt" "$VDI_RUN/sessions-after.txt"
out=$(api "$A/tablet-2" POST /v1/reconnect "{\"ticket\":\"$BOB_TICKET\"}")
vdi_assert_eq "a ticket issued before kill -9 still works" "$BOB_SID" \
	"$(echo "$out" | jget "['session']")"
out=$(login "$A/tablet-2" alice alice-pw)
vdi_assert_eq "persistent assignment survives" own-alice "$(echo "$out" | jget "['desktop']")"
out=$(api "$B/tablet-1" POST /v1/logoff "{\"session\":\"$CAROL_SID\"}")
vdi_assert_eq "logoff of another device's session: 404" 404 "$(status)"

# --- audit chain ----------------------------------------------------------------------
vdi_check "vdictl audit verify: intact" "$VDICTL" audit verify
"$VDICTL" audit --user carol >"$VDI_RUN/audit-carol.txt"
vdi_assert_contains "login attempts are audited with reasons" "$VDI_RUN/audit-carol.txt" "reason=\"auth_failed\""
vdi_assert_contains "refused channels are audited" "$VDI_RUN/audit-carol.txt" "action=channel_refused"
vdi_stop "$BROKER_NAME"
sqlite3 "$VDI_RUN/broker.db" "DROP TRIGGER audit_no_update; UPDATE audit SET user='eve' WHERE seq=3;"
broker_start
"$VDICTL" audit verify >"$VDI_RUN/verify.txt"
vdi_assert_eq "an edited audit row is detected (exit 3)" 3 "$?"
vdi_assert_contains "... and named" "$VDI_RUN/verify.txt" "row 3"

vdi_finish
