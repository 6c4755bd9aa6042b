#!/bin/bash
# Pre-authentication floods against the real broker and gateway (issue 18):
# thousands of idle TCP connections reopened as they are closed, stalled
# TLS handshakes and requests trickled a byte a second, each from one
# source address (tests/peers/flood.py, bounded in count and time), while a
# real session (xfreerdp through the gateway to freerdp-shadow-cli) keeps
# relaying and new logins (broker login + tunnel 101) succeed. Prints how
# long a login takes without and during the flood. Also: one device cannot
# take every PAM slot of the broker.
. "${top_srcdir:?run through make check}/tests/integration/lib.sh"
vdi_init
. "$VDI_SRCDIR/tests/integration/broker/env.sh"
. "$VDI_SRCDIR/tests/integration/gateway/env.sh"
vdi_require xfreerdp freerdp2-x11
FLOOD="python3 $VDI_SRCDIR/tests/peers/flood.py"
broker_setup
gateway_setup
A="$VDI_PKI/city-a/devices"
# A small PAM budget, so that one device could fill it; health probes
# that tolerate a loaded machine (the desktop must stay "healthy").
sed -i 's|^login = { |login = { max_pending = 8; |; s|timeout = "1s"; };|timeout = "4s"; };|' \
	"$VDI_RUN/brokerd.conf"
grep -q 'timeout = "4s"' "$VDI_RUN/brokerd.conf" || vdi_die "cannot set the health timeout"
broker_start
gateway_start
vdi_wait_log "$GW_NAME" "event=broker_connected" 10 || vdi_die "gateway not linked"

ms() { echo $(($(date +%s%N) / 1000000)); }

# login_tunnel NAME USER PASSWORD: a broker login then a tunnel Upgrade;
# prints the milliseconds it took; the statuses land in $VDI_RUN/NAME.st
login_tunnel() {
	local t0 out tok st
	t0=$(ms)
	out=$(login "$A/tablet-1" "$2" "$3")
	st=$(status)
	tok=$(echo "$out" | jget "['token']" 2>/dev/null)
	if [ "$st" = 200 ] && [ -n "$tok" ]; then
		st="$st $(tunnel_probe "$A/tablet-1" "$tok")"
		cp "$VDI_RUN/probe.out" "$VDI_RUN/$1.probe"
	fi
	echo "$st" >"$VDI_RUN/$1.st"
	echo $(($(ms) - t0))
}
bytes_s2c() {
	curl -sS --max-time 5 "http://127.0.0.1:$GW_METRICS_PORT/metrics" |
		sed -n 's/^vdi_gateway_bytes_total{dir="desktop_to_client"} //p'
}

# --- a real session that must keep relaying through the flood ---------------
out=$(login "$A/tablet-1" alice alice-pw)
vdi_assert_eq "alice logs in" 200 "$(status)"
xvfb_start xvfb-client 800x600x24
tunnel_open tunnel1 "$A/tablet-1" "$(echo "$out" | jget "['token']")"
vdi_wait_file "$VDI_RUN/tunnel1.port" 10 tunnel1 || vdi_die "tunnel1 got no 101"
DISPLAY=":$XVFB_DISPLAY" vdi_start xfreerdp xfreerdp \
	"/v:127.0.0.1:$(cat "$VDI_RUN/tunnel1.port")" /sec:tls \
	"/cert:deny,fingerprint:sha256:$(echo "$INNER_PIN" | sed 's/../&:/g; s/:$//')" \
	/u:alice /p:not-used /size:640x480 -clipboard
vdi_check "the session relays" vdi_wait_log "$GW_NAME" "event=relay_start" 15

# --- logins without the flood --------------------------------------------------
vdi_wait_until 10 sh -c "'$VDICTL' desktops list | grep -qE '^field-1 .* healthy '" ||
	vdi_log "field-1 is not healthy: $("$VDICTL" desktops list 2>&1 | grep field-1)"
base=$(login_tunnel base1 bob bob-pw)
vdi_assert_eq "without a flood: login and tunnel (200, 101)" "200 101" \
	"$(cat "$VDI_RUN/base1.st")"

# --- the flood: every kind at once, one source address each --------------------
B=127.0.0.1:$(cat "$VDI_RUN/broker.port")
G=127.0.0.1:$GW_PORT
vdi_start flood-gw-idle $FLOOD -t "$G" -m idle -n 2000 --reopen -r 800 \
	-s 127.0.0.20 -d 18
vdi_start flood-gw-tls $FLOOD -t "$G" -m tls -n 300 --reopen -r 200 \
	-s 127.0.0.21 -d 18
vdi_start flood-br-idle $FLOOD -t "$B" -m idle -n 2000 --reopen -r 800 \
	-s 127.0.0.22 -d 18
vdi_start flood-br-tls $FLOOD -t "$B" -m tls -n 300 --reopen -r 200 \
	-s 127.0.0.23 -d 18
vdi_start flood-br-trickle $FLOOD -t "$B" -m trickle -n 30 -s 127.0.0.24 \
	-c "$A/shared-1.pem" -k "$A/shared-1.key" -C "$VDI_PKI/infra/ca.pem" -d 18
vdi_start flood-gw-trickle $FLOOD -t "$G" -m trickle -n 30 -s 127.0.0.25 \
	-c "$A/shared-1.pem" -k "$A/shared-1.key" -C "$VDI_PKI/infra/ca.pem" -d 18
# Each idle flood has opened its 2,000 connections (and keeps reopening).
vdi_wait_until 10 grep -qE "opened=([2-9][0-9]{3}|[0-9]{5})" "$VDI_RUN/flood-gw-idle.log"
vdi_wait_until 10 grep -qE "opened=([2-9][0-9]{3}|[0-9]{5})" "$VDI_RUN/flood-br-idle.log"
vdi_log "gateway flood: $(tail -n1 "$VDI_RUN/flood-gw-idle.log")"
vdi_log "broker flood: $(tail -n1 "$VDI_RUN/flood-br-idle.log")"
b0=$(bytes_s2c)
# Past the handshake timeout (5 s): the idle connections were closed and
# opened again.
sleep 6
during=""
ok=0
for i in 1 2; do
	t=$(login_tunnel "during$i" "carol" "carol-pw")
	during="$during ${t}"
	[ "$(cat "$VDI_RUN/during$i.st")" = "200 101" ] && ok=$((ok + 1))
done
vdi_assert_eq "during the flood: two logins with tunnels succeed (200, 101)" 2 "$ok"
for i in 1 2; do
	[ "$(cat "$VDI_RUN/during$i.st")" = "200 101" ] ||
		vdi_log "during$i: $(cat "$VDI_RUN/during$i.st") $(cat "$VDI_RUN/during$i.probe" 2>/dev/null | tr '\n' ' ')"
done
vdi_assert_lacks "the gateway never answered busy" "$VDI_RUN/$GW_NAME.log" "reason=busy"
b1=$(bytes_s2c)
vdi_check "the real session kept relaying during the flood ($b0 -> $b1 bytes)" \
	test "${b1:-0}" -gt "${b0:-0}"
vdi_check "... and xfreerdp is still connected" vdi_alive xfreerdp
echo "# login + tunnel: ${base} ms without a flood; during it:${during} ms"
vdi_check "only the relaying session counts against max_sessions (admitted 1)" \
	vdi_wait_until 5 sh -c "curl -sS --max-time 2 'http://127.0.0.1:$GW_METRICS_PORT/metrics' | grep -qx 'vdi_gateway_sessions_admitted 1'"
curl -sS --max-time 5 "http://127.0.0.1:$GW_METRICS_PORT/metrics" >"$VDI_RUN/metrics.txt"
vdi_check "the gateway refused the flood by its per-source handshake limit" \
	grep -qE '^vdi_gateway_handshakes_refused_total\{limit="per_source"\} [1-9]' \
	"$VDI_RUN/metrics.txt"
vdi_check "... and logged it" grep -qE \
	"event=handshake_refused peer=127\.0\.0\.2[01] reason=per_source_limit" \
	"$VDI_RUN/$GW_NAME.log"
vdi_check "the broker refused the flood by its per-source share" grep -qE \
	"event=http_refused peer=127\.0\.0\.2[23] reason=per_source_limit" \
	"$VDI_RUN/$BROKER_NAME.log"

# --- slowloris: requests trickled a byte a second are cut ------------------------
vdi_wait_exit flood-br-trickle 30
vdi_log "broker trickle: $(tail -n1 "$VDI_RUN/flood-br-trickle.log")"
vdi_assert_contains "the broker ends every trickled request (none still open)" \
	"$VDI_RUN/flood-br-trickle.log" "still_open=0 "
vdi_assert_contains "... at its request deadline" "$VDI_RUN/$BROKER_NAME.log" \
	"reason=request_timeout"
vdi_wait_exit flood-gw-trickle 30
vdi_log "gateway trickle: $(tail -n1 "$VDI_RUN/flood-gw-trickle.log")"
vdi_assert_contains "the gateway ends every trickled Upgrade (none still open)" \
	"$VDI_RUN/flood-gw-trickle.log" "still_open=0 "
for f in flood-gw-idle flood-gw-tls flood-br-idle flood-br-tls; do
	vdi_wait_exit "$f" 30
	vdi_log "$f: $(tail -n1 "$VDI_RUN/$f.log")"
done
vdi_check "the broker survived" vdi_alive "$BROKER_NAME"
vdi_check "the gateway survived" vdi_alive "$GW_NAME"

# --- one device cannot take every PAM slot ----------------------------------------
for i in 1 2 3 4 5 6 7 8; do
	api "$A/tablet-2" POST /v1/login '{"user":"dave"}' >/dev/null
	echo "$(status)" >>"$VDI_RUN/hog.st"
done
vdi_log "tablet-2's eight open logins: $(tr '\n' ' ' <"$VDI_RUN/hog.st")"
out=$(login "$A/tablet-1" erin erin-pw)
vdi_assert_eq "another device still logs in while one holds open logins" 200 "$(status)"
vdi_finish
