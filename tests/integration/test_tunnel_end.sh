#!/bin/bash
# How a tunnel ended, as the broker's audit says it (tunnel_end reason=...):
# the client closing it, idleness, an admin kill and the desktop closing
# give each their own reason (before, every normal end was client_error).
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
xvfb_start xvfb-client 1024x768x24
FP=$(echo "$INNER_PIN" | sed 's/../&:/g; s/:$//')

# session NAME USER PASSWORD [MINT-EXPR]: logs USER in, opens a tunnel and
# an xfreerdp through it, waits for the relay; sets SID.
session() {
	local out tok mark
	out=$(login "$A/tablet-1" "$2" "$3")
	[ "$(status)" = 200 ] || vdi_die "$2 cannot log in: $out"
	SID=$(echo "$out" | jget "['session']")
	tok=$(echo "$out" | jget "['token']")
	[ -n "${4:-}" ] && tok=$(mint_token "$tok" "$4")
	tunnel_open "tun-$1" "$A/tablet-1" "$tok"
	vdi_wait_file "$VDI_RUN/tun-$1.port" 15 "tun-$1" || vdi_die "$1: no 101"
	mark=$(vdi_log_mark "$GW_NAME")
	DISPLAY=":$XVFB_DISPLAY" vdi_start "rdp-$1" xfreerdp \
		"/v:127.0.0.1:$(cat "$VDI_RUN/tun-$1.port")" /sec:tls \
		"/cert:deny,fingerprint:sha256:$FP" \
		"/u:$2" /p:not-used /size:800x600 -clipboard
	vdi_wait_log "$GW_NAME" "event=relay_start" 20 "$mark" ||
		vdi_die "$1: the relay did not start"
}
# ended USER REASON: the broker audits USER's tunnel end with REASON
end_is() {
	"$VDICTL" audit --user "$1" | grep 'action=tunnel_end' >"$VDI_RUN/end-$1.txt"
	grep -q "reason=\"$2\"" "$VDI_RUN/end-$1.txt"
}
ended() {
	vdi_check "$1's tunnel end is audited reason=$2" vdi_wait_until 20 end_is "$1" "$2"
	vdi_assert_lacks "... not client_error" "$VDI_RUN/end-$1.txt" "client_error"
}

# 1. The client closes: the RDP client and the tunnel process go away.
session close alice alice-pw
vdi_stop rdp-close
vdi_stop tun-close
ended alice client_closed

# 2. Idle: a token with a 2-second idle limit and no input.
session idle bob bob-pw 'c["idle"]=2; c["jti"]="idle-1"'
ended bob idle

# 3. An admin kills the session.
session kill carol carol-pw
vdi_check "vdictl sessions kill" "$VDICTL" sessions kill "$SID"
ended carol admin_kill

# 4. The desktop goes away (last: it is the only one).
session desk dave dave-pw
vdi_stop desktop
ended dave desktop_closed

vdi_finish
