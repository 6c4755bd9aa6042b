#!/bin/bash
# Idle disconnect: a session whose client sends no input for the token's
# `idle` seconds is closed by the gateway, and the broker hears why. The
# desktop session itself stays (disconnected, not ended) for a reconnect.
. "${top_srcdir:?run through make check}/tests/integration/lib.sh"
vdi_init
. "$VDI_SRCDIR/tests/integration/broker/env.sh"
. "$VDI_SRCDIR/tests/integration/gateway/env.sh"
vdi_require xfreerdp freerdp2-x11
broker_setup
gateway_setup
broker_start
gateway_start
A="$VDI_PKI/city-a/devices"

out=$(login "$A/tablet-1" carol carol-pw)
vdi_assert_eq "carol logs in" 200 "$(status)"
SID=$(echo "$out" | jget "['session']")
vdi_assert_eq "the policy's idle limit is in the token" 900 \
	"$(echo "$out" | jget "['idle_disconnect']")"
# The same grant with a 3-second idle limit, as a policy with
# idle_disconnect = "3s" would give (re-signed with the broker's key).
TOK=$(mint_token "$(echo "$out" | jget "['token']")" 'c["idle"]=3; c["jti"]="idle-1"')

xvfb_start xvfb-client 1024x768x24
tunnel_open tunnel1 "$A/tablet-1" "$TOK"
vdi_wait_file "$VDI_RUN/tunnel1.port" 10 tunnel1 || vdi_die "no 101"
mark=$(vdi_log_mark "$GW_NAME")
DISPLAY=":$XVFB_DISPLAY" vdi_start xfreerdp xfreerdp \
	"/v:127.0.0.1:$(cat "$VDI_RUN/tunnel1.port")" /sec:tls \
	"/cert:deny,fingerprint:sha256:$(echo "$INNER_PIN" | sed 's/../&:/g; s/:$//')" \
	/u:carol /p:not-used /size:800x600 -clipboard
vdi_check "the relay starts" vdi_wait_log "$GW_NAME" "event=relay_start" 15 "$mark"
t0=$(date +%s)
vdi_check "with no input the gateway closes the session as idle" \
	vdi_wait_log "$GW_NAME" "reason=idle" 15 "$mark"
t1=$(date +%s)
vdi_check "... after about 3 s, not before ($((t1 - t0)) s)" \
	test $((t1 - t0)) -ge 2 -a $((t1 - t0)) -le 8
vdi_check "the tunnel process sees the end" vdi_wait_exit tunnel1 10
vdi_check "the broker audits the end with the reason" vdi_wait_until 10 \
	sh -c "'$VDICTL' audit --user carol | grep 'action=tunnel_end' | grep -q idle"
vdi_check "the desktop session is disconnected, kept for a reconnect" \
	vdi_wait_until 10 sh -c "'$VDICTL' --json sessions list | grep -A8 '$SID' | grep -q '\"disconnected\"'"
vdi_finish
