#!/bin/bash
# vdi-gatewayd operations: GET /healthz on the metrics listener; the broker
# link metrics; what the gateway does while it cannot hear the broker's
# cuts (new tunnels refused after broker.stale_after, running ones kept);
# CRL and certificate expiry metrics; -t refuses an expired tenant CRL, a
# missing broker CRL and a key the service user cannot read.
. "${top_srcdir:?run through make check}/tests/integration/lib.sh"
vdi_init
. "$VDI_SRCDIR/tests/integration/broker/env.sh"
. "$VDI_SRCDIR/tests/integration/gateway/env.sh"
broker_setup
gateway_setup
A="$VDI_PKI/city-a/devices"

# The broker on a fixed port, so that the gateway finds it after a restart.
BP=$(vdi_free_port)
sed -i "s|^listen = \"127.0.0.1:0\";|listen = \"127.0.0.1:$BP\";|" "$VDI_RUN/brokerd.conf"
sed -i 's|^  crl = "pki/infra/crl.pem";|&\n  stale_after = "2s";|' "$VDI_RUN/gatewayd.conf"
grep -q 'stale_after = "2s"' "$VDI_RUN/gatewayd.conf" || vdi_die "cannot set stale_after"
GW_HEALTH="http://127.0.0.1:$GW_METRICS_PORT/healthz"
GW_METRICS="http://127.0.0.1:$GW_METRICS_PORT/metrics"
health() { curl -sS -o "$VDI_RUN/health.txt" -w '%{http_code}' --max-time 5 "$GW_HEALTH"; }
metric() { curl -sS --max-time 5 "$GW_METRICS" | sed -n "s/^$1 //p"; }

# --- -t and an expired tenant CRL -----------------------------------------------
sed "s|url = \"BROKER_URL\"|url = \"https://127.0.0.1:$BP\"|" \
	"$VDI_RUN/gatewayd.conf" >"$VDI_RUN/check.conf"
vdi_check "vdi-gatewayd -t accepts the configuration" "$GATEWAY" -t -f "$VDI_RUN/check.conf"
# -t opens, as the service user, what the gateway opens after the drop.
sed 's|  crl = "pki/infra/crl.pem";|  crl = "pki/infra/nope-crl.pem";|' "$VDI_RUN/check.conf" >"$VDI_RUN/t-nocrl.conf"
"$GATEWAY" -t -f "$VDI_RUN/t-nocrl.conf" >"$VDI_RUN/t-nocrl.out" 2>&1
vdi_assert_eq "vdi-gatewayd -t refuses a missing broker CRL (exit 1)" 1 "$?"
vdi_check "... as t-nocrl.conf:LINE: broker.crl: cannot read" \
	grep -qE 't-nocrl\.conf:[0-9]+: broker\.crl: cannot read .*nope-crl.pem' "$VDI_RUN/t-nocrl.out"
if [ "$(id -u)" = 0 ]; then
	cp "$VDI_PKI/infra/gateway.key" "$VDI_RUN/root-only.key"
	chmod 600 "$VDI_RUN/root-only.key"
	sed 's|key = "pki/infra/gateway.key"|key = "root-only.key"|' "$VDI_RUN/check.conf" >"$VDI_RUN/t-rootkey.conf"
	"$GATEWAY" -t -f "$VDI_RUN/t-rootkey.conf" >"$VDI_RUN/t-rootkey.out" 2>&1
	vdi_assert_eq "vdi-gatewayd -t refuses a TLS key only root can read (exit 1)" 1 "$?"
	vdi_check "... as t-rootkey.conf:LINE: tls.key: cannot read ... as user nobody" \
		grep -qE 't-rootkey\.conf:[0-9]+: tls\.key: cannot read .*root-only.key as user nobody' \
		"$VDI_RUN/t-rootkey.out"
fi
cp "$VDI_PKI/city-b/crl.pem" "$VDI_RUN/city-b-crl.good"
"$OPENSSL" ca -config "$VDI_PKI/city-b/ca-db/openssl.cnf" -gencrl \
	-crl_lastupdate "$(date -u -d '-40 days' +%Y%m%d%H%M%SZ)" \
	-crl_nextupdate "$(date -u -d '-10 days' +%Y%m%d%H%M%SZ)" \
	-out "$VDI_PKI/city-b/crl.pem" >>"$VDI_RUN/mkpki.log" 2>&1 || vdi_die "cannot make a CRL"
chmod go+r "$VDI_PKI/city-b/crl.pem"
"$GATEWAY" -t -f "$VDI_RUN/check.conf" >"$VDI_RUN/t-expired.out" 2>&1
vdi_assert_eq "vdi-gatewayd -t refuses an expired tenant CRL (exit 1)" 1 "$?"
vdi_assert_contains "... naming the key and saying it expired" "$VDI_RUN/t-expired.out" \
	"tenants.city-b.crl: CRL"
cp "$VDI_RUN/city-b-crl.good" "$VDI_PKI/city-b/crl.pem"

broker_start
gateway_start
vdi_check "the gateway reaches the broker" \
	vdi_wait_log "$GW_NAME" "event=broker_connected" 10
vdi_assert_eq "GET /healthz: 200 while the broker answers" 200 "$(health)"
vdi_assert_contains "... ready" "$VDI_RUN/health.txt" "ready"
vdi_assert_eq "vdi_gateway_broker_link_up 1" 1 "$(metric vdi_gateway_broker_link_up)"
curl -sS --max-time 5 "$GW_METRICS" >"$VDI_RUN/metrics.txt"
vdi_check "vdi_gateway_crl_next_update_seconds for city-a (about 30 days)" \
	grep -qE '^vdi_gateway_crl_next_update_seconds\{tenant="city-a",ca="[^"]*"\} 25[0-9]{5}$' \
	"$VDI_RUN/metrics.txt"
vdi_check "vdi_gateway_certificate_expiry_seconds for its TLS certificate" \
	grep -qE '^vdi_gateway_certificate_expiry_seconds\{cert="tls"\} [0-9]+$' "$VDI_RUN/metrics.txt"
vdi_check "... and the inner RDP one" \
	grep -qE '^vdi_gateway_certificate_expiry_seconds\{cert="inner_rdp"\} [0-9]+$' "$VDI_RUN/metrics.txt"

out=$(login "$A/tablet-1" alice alice-pw)
vdi_assert_eq "alice logs in" 200 "$(status)"
TOK=$(echo "$out" | jget "['token']")

# --- the broker goes away ----------------------------------------------------------
vdi_stop "$BROKER_NAME"
vdi_check "GET /healthz turns 503 without the broker" \
	vdi_wait_until 15 sh -c "[ \"\$(curl -s -o '$VDI_RUN/health.txt' -w '%{http_code}' --max-time 5 '$GW_HEALTH')\" = 503 ]"
vdi_assert_contains "... saying broker_link_down" "$VDI_RUN/health.txt" "broker_link_down"
vdi_assert_eq "vdi_gateway_broker_link_up 0" 0 "$(metric vdi_gateway_broker_link_up)"
vdi_check "after stale_after the gateway says it refuses new tunnels" \
	vdi_wait_until 10 sh -c "curl -s --max-time 5 '$GW_HEALTH' | grep -q new_tunnels=refused"
T2=$(mint_token "$TOK" 'c["jti"]="stale-1"')
vdi_assert_eq "a new tunnel while the broker is silent: 503" 503 \
	"$(tunnel_probe "$A/tablet-1" "$T2")"
vdi_assert_contains "... broker_unreachable" "$VDI_RUN/probe.out" '"error":"broker_unreachable"'
vdi_check "... and the refusal is logged" \
	vdi_wait_log "$GW_NAME" "broker_unreachable" 5

# --- and comes back -----------------------------------------------------------------
broker_start
vdi_check "GET /healthz is 200 again once the broker answers" \
	vdi_wait_until 20 sh -c "[ \"\$(curl -s -o '$VDI_RUN/health.txt' -w '%{http_code}' --max-time 5 '$GW_HEALTH')\" = 200 ]"
vdi_assert_eq "vdi_gateway_broker_link_up 1 again" 1 "$(metric vdi_gateway_broker_link_up)"
T3=$(mint_token "$TOK" 'c["jti"]="back-1"')
vdi_assert_eq "new tunnels are accepted again: 101" 101 "$(tunnel_probe "$A/tablet-1" "$T3")"

vdi_finish
