#!/bin/bash
# vdi-gatewayd end to end: the real broker (tests/integration/broker/env.sh),
# the real gateway, a real desktop (freerdp-shadow-cli on Xvfb), the test
# tunnel client (tests/peers/tunnel-client, stand-in for the shim) and the
# real xfreerdp under its own Xvfb, started with every redirection switch.
. "${top_srcdir:?run through make check}/tests/integration/lib.sh"
vdi_init
. "$VDI_SRCDIR/tests/integration/broker/env.sh"
. "$VDI_SRCDIR/tests/integration/gateway/env.sh"
vdi_require xfreerdp freerdp2-x11
vdi_require xwd x11-apps
broker_setup
gateway_setup
A="$VDI_PKI/city-a/devices"

# --- configuration check mode --------------------------------------------
sed "s|url = \"BROKER_URL\"|url = \"https://127.0.0.1:1\"|" \
	"$VDI_RUN/gatewayd.conf" >"$VDI_RUN/check.conf"
vdi_check "vdi-gatewayd -t accepts the test configuration" \
	"$GATEWAY" -t -f "$VDI_RUN/check.conf"
{ cat "$VDI_RUN/check.conf"; printf 'limits_typo = 1;\n'; } >"$VDI_RUN/bad.conf"
"$GATEWAY" -t -f "$VDI_RUN/bad.conf" >"$VDI_RUN/bad.out" 2>&1
vdi_assert_eq "vdi-gatewayd -t refuses an unknown key (exit 1)" 1 "$?"
vdi_assert_contains "... naming file:line and the key" "$VDI_RUN/bad.out" \
	"bad.conf:$(wc -l <"$VDI_RUN/bad.conf"): limits_typo: unknown key"
sed 's|rdp.key|missing.key|' "$VDI_RUN/check.conf" >"$VDI_RUN/bad2.conf"
vdi_check_not "vdi-gatewayd -t refuses a missing key file" \
	"$GATEWAY" -t -f "$VDI_RUN/bad2.conf"

broker_start
gateway_start
vdi_check "gateway logs its start" vdi_wait_log "$GW_NAME" "event=started" 5
vdi_check "gateway reaches the broker's command queue" \
	vdi_wait_log "$GW_NAME" "event=broker_connected" 10

# --- token and device refusals ---------------------------------------------
out=$(login "$A/tablet-1" alice alice-pw)
vdi_assert_eq "alice logs in" 200 "$(status)"
TOK=$(echo "$out" | jget "['token']")
SID=$(echo "$out" | jget "['session']")

vdi_assert_eq "another device's certificate: 403" 403 \
	"$(tunnel_probe "$A/tablet-2" "$TOK")"
vdi_assert_contains "... token_wrong_device in the JSON body" \
	"$VDI_RUN/probe.out" '"error":"token_wrong_device"'
vdi_assert_eq "a revoked device certificate is refused at TLS" 0 \
	"$(tunnel_probe "$A/revoked" "$TOK")"
vdi_check "... and the gateway logs why" \
	vdi_wait_log "$GW_NAME" "certificate revoked" 5
vdi_assert_eq "a garbage token: 401" 401 "$(tunnel_probe "$A/tablet-1" "a.b.c")"
vdi_assert_contains "... token_invalid" "$VDI_RUN/probe.out" '"error":"token_invalid"'
EXPIRED=$(mint_token "$TOK" 'c["iat"]-=600; c["nbf"]-=600; c["exp"]-=600; c["jti"]="expired-1"')
vdi_assert_eq "an expired token: 401" 401 "$(tunnel_probe "$A/tablet-1" "$EXPIRED")"
vdi_assert_contains "... token_expired" "$VDI_RUN/probe.out" '"error":"token_expired"'
WRONGAUD=$(mint_token "$TOK" 'c["aud"]="some-other-gateway"; c["jti"]="aud-1"')
vdi_assert_eq "a token for another audience: 401" 401 \
	"$(tunnel_probe "$A/tablet-1" "$WRONGAUD")"
vdi_assert_contains "... token_wrong_audience" "$VDI_RUN/probe.out" \
	'"error":"token_wrong_audience"'
FORGED=$(echo "$TOK" | sed 's/\.[^.]*$/.AAAA/')
vdi_assert_eq "a token with a broken signature: 401" 401 \
	"$(tunnel_probe "$A/tablet-1" "$FORGED")"
NOPIN=$(mint_token "$TOK" 'c["dpin"]="AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"; c["jti"]="pin-1"')
vdi_assert_eq "a desktop that does not match the pin: 503" 503 \
	"$(tunnel_probe "$A/tablet-1" "$NOPIN")"
vdi_assert_contains "... desktop_untrusted" "$VDI_RUN/probe.out" \
	'"error":"desktop_untrusted"'
NLA=$(mint_token "$TOK" 'c["sec"]="nla"; c["jti"]="nla-1"')
vdi_assert_eq "an nla token: 503 (NLA not implemented)" 503 \
	"$(tunnel_probe "$A/tablet-1" "$NLA")"
vdi_check "... logged clearly" vdi_wait_log "$GW_NAME" "reason=nla_unsupported" 5
DEAD=$(mint_token "$TOK" "c['dst']='127.0.0.1:$DEAD_PORT'; c['jti']='dead-1'")
vdi_assert_eq "an unreachable desktop: 503" 503 "$(tunnel_probe "$A/tablet-1" "$DEAD")"
vdi_assert_contains "... desktop_unreachable" "$VDI_RUN/probe.out" \
	'"error":"desktop_unreachable"'
# A token signed with the broker's key but naming a host the policy does not
# list, or another tenant's desktop: the gateway connects nowhere.
PIVOT_PORT=$(vdi_free_port)
PIVOT=$(mint_token "$TOK" "c['dst']='127.0.0.1:$PIVOT_PORT'; c['jti']='pivot-1'")
vdi_assert_eq "a dst outside the policy: 403" 403 "$(tunnel_probe "$A/tablet-1" "$PIVOT")"
vdi_assert_contains "... dst_not_in_policy" "$VDI_RUN/probe.out" \
	'"error":"dst_not_in_policy"'
vdi_check "... logged with the dst and tenant" vdi_wait_log "$GW_NAME" \
	"reason=dst_not_in_policy device=" 5
vdi_check "... naming it" vdi_wait_log "$GW_NAME" \
	"dst_host=127.0.0.1 dst_port=$PIVOT_PORT tid=city-a" 5
OTHER=$(mint_token "$TOK" "c['dst']='127.0.0.3:$DESKTOP_PORT'; c['jti']='pivot-2'")
vdi_assert_eq "city-b's desktop in a city-a token: 403" 403 \
	"$(tunnel_probe "$A/tablet-1" "$OTHER")"
vdi_assert_contains "... dst_not_in_policy" "$VDI_RUN/probe.out" \
	'"error":"dst_not_in_policy"'

# --- a real session: xfreerdp with every redirection switch ------------------
xvfb_start xvfb-client 1024x768x24
CDISP=$XVFB_DISPLAY
tunnel_open tunnel1 "$A/tablet-1" "$TOK"
vdi_wait_file "$VDI_RUN/tunnel1.port" 10 tunnel1 || vdi_die "tunnel1 got no 101"
vdi_pass "alice's token opens a tunnel (101)"
vdi_assert_eq "the same token again: 401 (replayed)" 401 \
	"$(tunnel_probe "$A/tablet-1" "$TOK")"
vdi_assert_contains "... token_replayed" "$VDI_RUN/probe.out" '"error":"token_replayed"'
mark=$(vdi_log_mark "$GW_NAME")
DISPLAY=":$CDISP" vdi_start xfreerdp xfreerdp "/v:127.0.0.1:$(cat "$VDI_RUN/tunnel1.port")" \
	/sec:tls "/cert:deny,fingerprint:sha256:$(echo "$INNER_PIN" | sed 's/../&:/g; s/:$//')" /u:alice /p:not-used \
	/size:800x600 +clipboard /drive:x,/tmp /printer /smartcard /microphone \
	/sound /usb:id:054c:0268 /video /gfx /dynamic-resolution \
	/multitouch /echo /geometry
vdi_check "gateway starts relaying" vdi_wait_log "$GW_NAME" "event=relay_start" 15 "$mark"
vdi_check "cliprdr refused" vdi_wait_log "$GW_NAME" "name=cliprdr verdict=refused" 10 "$mark"
vdi_check "rdpdr refused" vdi_wait_log "$GW_NAME" "name=rdpdr verdict=refused" 5 "$mark"
vdi_check "rdpsnd refused (no audio_out)" \
	vdi_wait_log "$GW_NAME" "name=rdpsnd verdict=refused" 5 "$mark"
vdi_check "drdynvc allowed" vdi_wait_log "$GW_NAME" "name=drdynvc verdict=allowed" 5 "$mark"
vdi_check "the graphics pipeline DVC allowed" \
	vdi_wait_log "$GW_NAME" "name=Microsoft::Windows::RDS::Graphics verdict=allowed" 15 "$mark"
vdi_check "AUDIO_INPUT (microphone) refused" \
	vdi_wait_log "$GW_NAME" "name=AUDIO_INPUT verdict=refused" 10 "$mark"
sleep 6
vdi_check "xfreerdp still connected after the handshake and 6 s" vdi_alive xfreerdp
vdi_check "the tunnel is still up" vdi_alive tunnel1
xwd -root -silent -display ":$CDISP" >"$VDI_RUN/client.xwd" 2>/dev/null
vdi_check "the client's screen is not blank" python3 - "$VDI_RUN/client.xwd" <<'PY'
import sys
d = open(sys.argv[1], "rb").read()
hdr = int.from_bytes(d[0:4], "big")
px = d[hdr:]
# More than a handful of distinct 4-byte pixels: something was drawn.
seen = set(px[i:i + 4] for i in range(0, min(len(px), 4 * 1024 * 768), 4 * 97))
sys.exit(0 if len(seen) > 8 else 1)
PY
vdi_assert_lacks "no protocol violation" "$VDI_RUN/$GW_NAME.log" "event=relay_close"

# --- the broker sees the tunnel ---------------------------------------------
vdi_check "the broker marks the session active" vdi_wait_until 10 sh -c \
	"'$VDICTL' sessions list | grep '$SID' | grep -q active"

# --- SIGHUP reloads the tenant CAs and CRLs ------------------------------------
mark=$(vdi_log_mark "$GW_NAME")
vdi_revoke city-a tablet-2
vdi_signal "$GW_NAME" HUP
vdi_check "SIGHUP reloads" vdi_wait_log "$GW_NAME" "event=reloaded" 5 "$mark"
vdi_check "the live session survives the reload" vdi_alive tunnel1
vdi_assert_eq "a device revoked since start is refused after the reload" 0 \
	"$(tunnel_probe "$A/tablet-2" "$TOK")"

# --- metrics ---------------------------------------------------------------------
curl -sS --max-time 5 "http://127.0.0.1:$GW_METRICS_PORT/metrics" >"$VDI_RUN/metrics.txt"
vdi_assert_contains "metrics: replayed tokens counted" "$VDI_RUN/metrics.txt" \
	'vdi_gateway_refusals_total{reason="token_replayed"} 1'
vdi_assert_contains "metrics: wrong device counted" "$VDI_RUN/metrics.txt" \
	'vdi_gateway_refusals_total{reason="token_wrong_device"} 1'
vdi_assert_contains "metrics: one live session" "$VDI_RUN/metrics.txt" \
	'vdi_gateway_sessions 1'
vdi_assert_contains "metrics: cuts applied" "$VDI_RUN/metrics.txt" \
	'vdi_gateway_broker_cuts_total'

# --- admin kill: the tunnel is cut within 5 s --------------------------------
mark=$(vdi_log_mark "$GW_NAME")
"$VDICTL" sessions kill "$SID" >"$VDI_RUN/kill.out" 2>&1
vdi_check "vdictl sessions kill" test $? -eq 0
t0=$(date +%s)
vdi_check "the gateway cuts the tunnel" \
	vdi_wait_log "$GW_NAME" "event=tunnel_end" 5 "$mark"
vdi_assert_contains "... because of the cut" "$VDI_RUN/$GW_NAME.log" "reason=cut:"
vdi_check "the tunnel client sees the tunnel closed within 5 s" \
	vdi_wait_until 5 sh -c "! kill -0 $(vdi_pid tunnel1) 2>/dev/null"
echo "# cut took $(($(date +%s) - t0)) s"

# --- events reached the broker ------------------------------------------------
vdi_check "start/end/refused events accepted by the broker" \
	vdi_wait_until 10 sh -c "'$VDICTL' audit --user alice | grep -q action=tunnel_end"
"$VDICTL" audit --user alice >"$VDI_RUN/audit-alice.txt"
vdi_assert_contains "audit: tunnel_start" "$VDI_RUN/audit-alice.txt" "action=tunnel_start"
vdi_assert_contains "audit: channel_refused" "$VDI_RUN/audit-alice.txt" "action=channel_refused"
vdi_assert_contains "audit: cliprdr named" "$VDI_RUN/audit-alice.txt" "cliprdr"
vdi_check "the audit chain is intact" "$VDICTL" audit verify

# --- one live tunnel per session ----------------------------------------------
out=$(login "$A/tablet-1" carol carol-pw)
T1=$(echo "$out" | jget "['token']")
tunnel_open tunnel2 "$A/tablet-1" "$T1"
vdi_wait_file "$VDI_RUN/tunnel2.port" 10 tunnel2 || vdi_die "tunnel2 got no 101"
out=$(api "$A/tablet-1" POST /v1/reconnect "{\"ticket\":\"$(echo "$out" | jget "['ticket']")\"}")
T2=$(echo "$out" | jget "['token']")
tunnel_open tunnel3 "$A/tablet-1" "$T2"
vdi_wait_file "$VDI_RUN/tunnel3.port" 10 tunnel3 || vdi_die "tunnel3 got no 101"
vdi_check "a newer tunnel of the same session replaces the older one" \
	vdi_wait_until 5 sh -c "! kill -0 $(vdi_pid tunnel2) 2>/dev/null"
vdi_check "... and the newer one stays" vdi_alive tunnel3

# --- handshake timeout: a silent peer affects only itself ---------------------
exec 7<>"/dev/tcp/127.0.0.1/$GW_PORT"
vdi_check "a silent connection is dropped after handshake_timeout" \
	vdi_wait_log "$GW_NAME" "reason=handshake_timeout" 8
exec 7>&-

# --- clean stop ---------------------------------------------------------------------
vdi_stop "$GW_NAME" 10
vdi_assert_eq "vdi-gatewayd stops cleanly on SIGTERM" 0 "$?"
vdi_assert_contains "... logging it" "$VDI_RUN/$GW_NAME.log" "event=stopping"
vdi_finish
