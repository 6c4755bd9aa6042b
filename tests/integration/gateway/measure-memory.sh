#!/bin/bash
# Measures vdi-gatewayd's resident memory per tunnel (not run by make
# check; docs/gateway.md quotes its output):
#   top_srcdir=.. top_builddir=. bash ../tests/integration/gateway/measure-memory.sh [N]
# Opens N tunnels (device TLS, token, desktop TLS to the shadow desktop,
# 101) that then wait for their RDP client, and prints the RSS before and
# after. N defaults to 100.
. "${top_srcdir:?}/tests/integration/lib.sh"
vdi_init gateway-memory
. "$VDI_SRCDIR/tests/integration/broker/env.sh"
. "$VDI_SRCDIR/tests/integration/gateway/env.sh"
N=${1:-100}
broker_setup
gateway_setup
sed -i 's/handshake_timeout = "5s"/handshake_timeout = "300s"/; s/threads = 2;/threads = 1;/' \
	"$VDI_RUN/gatewayd.conf"
broker_start
gateway_start
A="$VDI_PKI/city-a/devices"
out=$(login "$A/tablet-1" alice alice-pw)
TOK=$(echo "$out" | jget "['token']")
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$(vdi_pid "$GW_NAME")/status"; }
# Warm up: one tunnel, so that one-time allocations are not counted.
tunnel_open warm "$A/tablet-1" "$(mint_token "$TOK" 'import time; t=int(time.time()); c["iat"]=c["nbf"]=t; c["exp"]=t+60; c["jti"]="warm"')"
vdi_wait_file "$VDI_RUN/warm.port" 10 warm || vdi_die "warm-up tunnel failed"
sleep 1
before=$(rss)
for i in $(seq 1 "$N"); do
	t=$(mint_token "$TOK" "import time; t=int(time.time()); c['iat']=c['nbf']=t; c['exp']=t+60; c['jti']='m$i'; c['sid']='mem-$i'; c.pop('cred', None)")
	tunnel_open "t$i" "$A/tablet-1" "$t"
done
for i in $(seq 1 "$N"); do
	vdi_wait_file "$VDI_RUN/t$i.port" 20 "t$i" || vdi_die "tunnel $i failed"
done
sleep 2
after=$(rss)
echo "tunnels=$N rss_before_kib=$before rss_after_kib=$after per_tunnel_kib=$(( (after - before) / N ))"
vdi_pass "measured"
vdi_finish
