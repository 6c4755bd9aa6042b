#!/bin/bash
# One gateway token, one use per deployment: two real gateways (own
# certificates, gateway and gateway-2, both named in the broker's list with
# the same address, as behind a TCP load balancer), the real broker, a real
# desktop. The token opens a tunnel on the first gateway; presented to the
# second one, whose replay cache has never seen it, it is admitted there,
# but the broker sees the second "start" for that jti and cuts that tunnel
# on that gateway alone.
. "${top_srcdir:?run through make check}/tests/integration/lib.sh"
vdi_init
. "$VDI_SRCDIR/tests/integration/broker/env.sh"
. "$VDI_SRCDIR/tests/integration/gateway/env.sh"
broker_setup
gateway_setup
A="$VDI_PKI/city-a/devices"

# The broker knows both gateways by name; clients get one address.
sed -i 's|^gateways = .*$|gateways = ( { name = "gateway"; address = "127.0.0.1:9443"; }, { name = "gateway-2"; address = "127.0.0.1:9443"; } );|' \
	"$VDI_RUN/brokerd.conf"
# Tunnels wait (no RDP client) well past the time a cut takes.
sed -i 's|handshake_timeout = "5s"|handshake_timeout = "60s"|' "$VDI_RUN/gatewayd.conf"
sed -e 's|pki/infra/gateway\.|pki/infra/gateway-2.|g' \
	-e "s|metrics_listen = .*|metrics_listen = \"127.0.0.1:$(vdi_free_port)\";|" \
	"$VDI_RUN/gatewayd.conf" >"$VDI_RUN/gatewayd2.conf"
grep -q 'gateway-2.pem' "$VDI_RUN/gatewayd2.conf" || vdi_die "no gateway-2 configuration"
if [ "$(id -u)" = 0 ]; then
	chgrp nogroup "$VDI_PKI/infra/gateway-2.key"
	chmod 0640 "$VDI_PKI/infra/gateway-2.key"
fi

broker_start
gateway_start
GW1=$GW_NAME GW1_PORT=$GW_PORT
sed -i "s|url = \".*\";|url = \"$BROKER_URL\";|" "$VDI_RUN/gatewayd2.conf"
vdi_start gw2 "$GATEWAY" -d -l debug -f "$VDI_RUN/gatewayd2.conf" -P "$VDI_RUN/gw2.port"
vdi_wait_file "$VDI_RUN/gw2.port" 15 gw2 || vdi_die "gateway-2 did not start"
GW2_PORT=$(cat "$VDI_RUN/gw2.port")
vdi_check "gateway 1 polls the broker" vdi_wait_log "$GW1" "event=broker_connected" 10
vdi_check "gateway 2 polls the broker" vdi_wait_log gw2 "event=broker_connected" 10

out=$(login "$A/tablet-1" alice alice-pw)
vdi_assert_eq "alice logs in" 200 "$(status)"
TOK=$(echo "$out" | jget "['token']")
SID=$(echo "$out" | jget "['session']")
JTI=$(python3 -c 'import base64,json,sys; p=sys.argv[1].split(".")[1]; print(json.loads(base64.urlsafe_b64decode(p+"="*(-len(p)%4)))["jti"])' "$TOK")

# First use, on gateway 1: a tunnel that stays up.
GW_PORT=$GW1_PORT
tunnel_open tun1 "$A/tablet-1" "$TOK"
vdi_wait_file "$VDI_RUN/tun1.port" 15 tun1 || vdi_die "the first use got no 101"
vdi_pass "the token opens a tunnel on gateway 1 (101)"
vdi_check "the broker records the start" vdi_wait_until 10 sh -c \
	"'$VDICTL' sessions list | grep '$SID' | grep -q active"
vdi_assert_eq "gateway 1 itself refuses the token again (its replay cache)" 401 \
	"$(tunnel_probe "$A/tablet-1" "$TOK")"

# Second use, on gateway 2.
bmark=$(vdi_log_mark "$BROKER_NAME")
g2mark=$(vdi_log_mark gw2)
g1mark=$(vdi_log_mark "$GW1")
GW_PORT=$GW2_PORT
tunnel_open tun2 "$A/tablet-1" "$TOK"
vdi_check "gateway 2 cannot know the token was used: it admits it" \
	vdi_wait_log gw2 "event=tunnel_start" 15 "$g2mark"
vdi_check "the broker names the replay" \
	vdi_wait_log "$BROKER_NAME" "event=token_replayed sid=$SID jti=$JTI gateway=gateway-2 first_gateway=gateway" 10 "$bmark"
vdi_check "gateway 2 cuts that tunnel" \
	vdi_wait_log gw2 "reason=cut:token_replayed" 10 "$g2mark"
vdi_check "... and its tunnel process ends" vdi_wait_exit tun2 10
vdi_assert_lacks "gateway 1 got no cut" "$VDI_RUN/$GW1.log" "reason=cut:token_replayed"
sleep 1
vdi_check "the first tunnel is still up" vdi_alive tun1
vdi_assert_eq "gateway 1 logged no end since" "" \
	"$(vdi_log_since "$GW1" "$g1mark" | grep "event=tunnel_end")"
"$VDICTL" audit --user alice >"$VDI_RUN/audit-alice.txt"
vdi_assert_contains "the replay is audited as refused" "$VDI_RUN/audit-alice.txt" \
	"reason=\"token_replayed\""
vdi_check "the session stays active (the first tunnel)" sh -c \
	"'$VDICTL' sessions list | grep '$SID' | grep -q active"

# A fresh token is still good on the other gateway: the rule is per token.
out=$(api "$A/tablet-1" POST /v1/reconnect "{\"ticket\":\"$(echo "$out" | jget "['ticket']")\"}")
vdi_assert_eq "reconnect: 200" 200 "$(status)"
TOK2=$(echo "$out" | jget "['token']")
g2mark=$(vdi_log_mark gw2)
tunnel_open tun3 "$A/tablet-1" "$TOK2"
vdi_wait_file "$VDI_RUN/tun3.port" 15 tun3 || vdi_die "the new token got no 101 on gateway 2"
vdi_pass "a new token opens a tunnel on gateway 2"
sleep 2
vdi_check "... which is not cut as a replay" vdi_alive tun3
vdi_log_since gw2 "$g2mark" >"$VDI_RUN/gw2-since.txt"
vdi_assert_lacks "... gateway 2 logged no replay cut since" "$VDI_RUN/gw2-since.txt" \
	"token_replayed"

vdi_finish
