#!/bin/bash
# How a tunnel ended, as the broker's audit says it (tunnel_end reason=...):
# the client closing it, idleness, an admin kill, a logoff, a reconnect, a
# takeover from another device, a protocol error (a garbage X.224 request;
# a relay rule broken by hostile-client) and the desktop closing give each
# their own reason (before, every normal end was client_error). The
# max_session deadline (reason time_limit) is in test_lifecycle.sh.
. "${top_srcdir:?run through make check}/tests/integration/lib.sh"
vdi_init
. "$VDI_SRCDIR/tests/integration/broker/env.sh"
. "$VDI_SRCDIR/tests/integration/gateway/env.sh"
vdi_require xfreerdp freerdp2-x11
HOSTILE=$VDI_PEERS/hostile-client
[ -x "$HOSTILE" ] || vdi_die "$HOSTILE not built (make check builds it)"
broker_setup
gateway_setup
broker_start
gateway_start
A="$VDI_PKI/city-a/devices"
xvfb_start xvfb-client 1024x768x24
FP=$(echo "$INNER_PIN" | sed 's/../&:/g; s/:$//')

# ends USER: USER's tunnel_end audit rows, oldest first
ends() { "$VDICTL" audit --user "$1" | grep 'action=tunnel_end'; }
# tunnel NAME USER PASSWORD [MINT-EXPR]: logs USER in from tablet-1 and
# opens a tunnel (its port in $VDI_RUN/tun-NAME.port); sets SID, TICKET
# and END0 (how many tunnel_end rows USER had before).
tunnel() {
	local out tok
	END0=$(ends "$2" | wc -l)
	out=$(login "$A/tablet-1" "$2" "$3")
	[ "$(status)" = 200 ] || vdi_die "$2 cannot log in: $out"
	SID=$(echo "$out" | jget "['session']")
	TICKET=$(echo "$out" | jget "['ticket']")
	tok=$(echo "$out" | jget "['token']")
	[ -n "${4:-}" ] && tok=$(mint_token "$tok" "$4")
	tunnel_open "tun-$1" "$A/tablet-1" "$tok"
	vdi_wait_file "$VDI_RUN/tun-$1.port" 15 "tun-$1" || vdi_die "$1: no 101"
}
# session NAME USER PASSWORD [MINT-EXPR]: a tunnel and an xfreerdp through
# it; waits for the relay.
session() {
	local mark
	mark=$(vdi_log_mark "$GW_NAME")
	tunnel "$@"
	DISPLAY=":$XVFB_DISPLAY" vdi_start "rdp-$1" xfreerdp \
		"/v:127.0.0.1:$(cat "$VDI_RUN/tun-$1.port")" /sec:tls \
		"/cert:deny,fingerprint:sha256:$FP" \
		"/u:$2" /p:not-used /size:800x600 -clipboard
	vdi_wait_log "$GW_NAME" "event=relay_start" 20 "$mark" ||
		vdi_die "$1: the relay did not start"
}
# ended USER REASON: the broker audits the end of USER's newest tunnel
# (a row after the END0 older ones) with REASON
end_is() {
	ends "$1" | tail -n +$((END0 + 1)) >"$VDI_RUN/end-$1.txt"
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

# 4. A logoff: the tablet ends its session while the tunnel relays.
session logoff erin erin-pw
api "$A/tablet-1" POST /v1/logoff "{\"session\":\"$SID\"}" >/dev/null
vdi_assert_eq "erin logs off while her tunnel relays" 200 "$(status)"
ended erin logoff
vdi_stop rdp-logoff
vdi_stop tun-logoff

# 5. A reconnect: the tablet comes back with its ticket while its old
# tunnel still relays (a link it gave up on); the broker cuts the old one.
session reco alice alice-pw
api "$A/tablet-1" POST /v1/reconnect "{\"ticket\":\"$TICKET\"}" >/dev/null
vdi_assert_eq "alice reconnects with her ticket" 200 "$(status)"
ended alice reconnect
vdi_stop rdp-reco
vdi_stop tun-reco

# 6. A takeover: the same user logs in from another device.
session take bob bob-pw
out=$(login "$A/tablet-2" bob bob-pw)
vdi_assert_eq "bob logs in from tablet-2 into his running session" "200 $SID" \
	"$(status) $(echo "$out" | jget "['session']")"
ended bob takeover
vdi_stop rdp-take
vdi_stop tun-take

# 7. A protocol error before the relay: a garbage X.224 Connection Request
# through the tunnel (a TPKT of 11 bytes whose TPDU is a DT, not a CR).
mark=$(vdi_log_mark "$GW_NAME")
tunnel x224 carol carol-pw
python3 - "$(cat "$VDI_RUN/tun-x224.port")" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(b"\x03\x00\x00\x0b\x06\xf0\x00\x00\x00\x00\x00")
while s.recv(4096):
    pass
PY
vdi_check "the gateway refuses the garbage X.224" \
	vdi_wait_log "$GW_NAME" "reason=x224_cr_malformed" 10 "$mark"
ended carol protocol_error
vdi_stop tun-x224

# 8. A protocol error in the relay: hostile-client sends the desktop's MCS
# PDUs (Attach User Confirm, Channel Join Confirm); the relay closes.
mark=$(vdi_log_mark "$GW_NAME")
tunnel mcs erin erin-pw
vdi_run hostile-mcs 40 "$HOSTILE" -a mcs-wrong-direction \
	-c "127.0.0.1:$(cat "$VDI_RUN/tun-mcs.port")" -w 2
vdi_assert_contains "hostile-client's attack goes out, the peer closes" \
	"$VDI_RUN/hostile-mcs.log" "attack=mcs-wrong-direction delivered=yes peer=closed"
vdi_check "the relay closes the tunnel for it" \
	vdi_wait_log "$GW_NAME" 'reason="mcs_wrong_direction' 10 "$mark"
ended erin protocol_error
vdi_stop tun-mcs

# 9. The desktop goes away (last: it is the only one).
session desk dave dave-pw
vdi_stop desktop
ended dave desktop_closed

vdi_finish
