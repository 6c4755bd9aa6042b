#!/bin/bash
# vdi-brokerd operations: a failed reload is logged and audited as a
# failure; tenant CRLs near or past their nextUpdate are warned about and
# refused by vdi-policy check, vdi-brokerd -t and vdictl policy reload; a
# device refused at TLS (here: its tenant's CRL ran out while the broker
# ran) is logged with its thumbprint and audited; GET /healthz on the
# metrics listener; vdi-connect -t opens every file it will use.
. "${top_srcdir:?run through make check}/tests/integration/lib.sh"
vdi_init
. "$VDI_SRCDIR/tests/integration/broker/env.sh"
broker_setup
VDIPOLICY="$VDI_BUILDDIR/policies/vdi-policy"

# crl TENANT LASTUPDATE NEXTUPDATE: rewrite TENANT/crl.pem with these dates
# (YYYYMMDDHHMMSSZ), signed by the tenant's CA.
crl() {
	"$OPENSSL" ca -config "$VDI_PKI/$1/ca-db/openssl.cnf" -gencrl \
		-crl_lastupdate "$2" -crl_nextupdate "$3" \
		-out "$VDI_PKI/$1/crl.pem" >>"$VDI_RUN/mkpki.log" 2>&1 ||
		vdi_die "cannot make a CRL for $1"
	chmod go+r "$VDI_PKI/$1/crl.pem"
}
utc() { date -u -d "$1" +%Y%m%d%H%M%SZ; }

# --- vdi-brokerd -t loads what the start loads, as the service user ---------------
vdi_check "vdi-brokerd -t accepts the test configuration" "$BROKER" -t -f "$VDI_RUN/brokerd.conf"
head -c 16 /dev/urandom >"$VDI_RUN/short-seal.key"
cp "$VDI_PKI/infra/broker.key" "$VDI_RUN/root-only.key"
chmod 600 "$VDI_RUN/root-only.key"
# tcase NAME SED-EXPRESSION EXPECTED-REGEX
tcase() {
	sed "$2" "$VDI_RUN/brokerd.conf" >"$VDI_RUN/t-$1.conf"
	"$BROKER" -t -f "$VDI_RUN/t-$1.conf" >"$VDI_RUN/t-$1.out" 2>&1
	vdi_assert_eq "vdi-brokerd -t refuses $1 (exit 1)" 1 "$?"
	vdi_check "... with t-$1.conf:LINE: $3" grep -qE "t-$1\.conf:[0-9]+: $3" "$VDI_RUN/t-$1.out"
}
tcase missing-tls-key 's|key = "pki/infra/broker.key"|key = "pki/infra/nope.key"|' \
	'tls.key: cannot read .*nope.key'
tcase key-not-cert 's|key = "pki/infra/broker.key"|key = "pki/infra/gateway.key"|' 'tls: '
tcase missing-gateway-crl 's|gateway_crl = "pki/infra/crl.pem"|gateway_crl = "pki/infra/nope-crl.pem"|' \
	'gateway_crl: cannot read'
tcase short-seal-key 's|seal_key = "seal.key"|seal_key = "short-seal.key"|' 'token.seal_key: '
tcase no-such-user 's|^user = "nobody";|user = "vdi-no-such-user";|' 'user: no such user vdi-no-such-user'
tcase no-admin-group 's|^user = "nobody";|admin_group = "vdi-no-such-group";\nuser = "nobody";|' \
	'admin_group: no such group vdi-no-such-group'
tcase long-admin-socket "s|^admin_socket = .*|admin_socket = \"/run/$(printf '%0120d' 0)\";|" \
	'admin_socket: longer than 107 bytes'
if [ "$(id -u)" = 0 ]; then
	tcase root-only-key 's|key = "pki/infra/broker.key"|key = "root-only.key"|' \
		'tls.key: cannot read .*root-only.key as user nobody'
fi

cp "$VDI_PKI/city-b/crl.pem" "$VDI_RUN/city-b-crl.good"
# city-b's CRL runs out 40 seconds from now: inside the 7-day window.
crl city-b "$(utc '-1 hour')" "$(utc '+40 seconds')"
CRL_DEADLINE=$(($(date +%s) + 40))
"$VDIPOLICY" check "$VDI_RUN/policy.conf" >"$VDI_RUN/check-soon.out" 2>&1
vdi_assert_eq "vdi-policy check passes a CRL near its nextUpdate" 0 "$?"
vdi_assert_contains "... with a warning naming the tenant's crl key" \
	"$VDI_RUN/check-soon.out" "tenants.city-b.crl: warning: CRL"
"$BROKER" -t -f "$VDI_RUN/brokerd.conf" >"$VDI_RUN/t-soon.out" 2>&1
vdi_assert_eq "vdi-brokerd -t passes it" 0 "$?"
vdi_assert_contains "... with the warning" "$VDI_RUN/t-soon.out" "tenants.city-b.crl: warning: CRL"

broker_start
vdi_check "the broker warns at start" \
	vdi_wait_log "$BROKER_NAME" "tenants.city-b.crl: warning: CRL" 5

# --- a failed reload is a failure in the log and in the audit -----------------
cp "$VDI_RUN/policy.conf" "$VDI_RUN/policy.good"
echo 'rules = ( { name = "x"; action = "maybe"; } );' >>"$VDI_RUN/policy.conf"
mark=$(vdi_log_mark "$BROKER_NAME")
vdi_signal "$BROKER_NAME" HUP
vdi_check "SIGHUP with a broken policy: reload_failed" \
	vdi_wait_log "$BROKER_NAME" "event=reload_failed" 5 "$mark"
vdi_log_since "$BROKER_NAME" "$mark" >"$VDI_RUN/hup.log"
vdi_assert_lacks "... which does not say errors=0" "$VDI_RUN/hup.log" "errors=0"
vdi_assert_contains "... and counts the problems" "$VDI_RUN/hup.log" "errors=1"
"$VDICTL" audit >"$VDI_RUN/audit-hup.txt"
grep 'action=policy_reload' "$VDI_RUN/audit-hup.txt" | tail -1 >"$VDI_RUN/audit-hup-last.txt"
vdi_assert_contains "the audit row of the failed SIGHUP says outcome=error" \
	"$VDI_RUN/audit-hup-last.txt" "outcome=error"
METRICS_URL="http://$(sed -n 's/^metrics_listen = "\(.*\)";/\1/p' "$VDI_RUN/brokerd.conf")"
code=$(curl -sS -o "$VDI_RUN/health-bad.txt" -w '%{http_code}' --max-time 5 "$METRICS_URL/healthz")
vdi_assert_eq "GET /healthz after a refused reload: 503" 503 "$code"
vdi_assert_contains "... saying why" "$VDI_RUN/health-bad.txt" "policy_reload_failed"
vdi_check_not "vdictl policy reload refuses it too" "$VDICTL" policy reload
"$VDICTL" audit | grep 'action=policy_reload' | tail -1 >"$VDI_RUN/audit-ctl-last.txt"
vdi_assert_contains "... audited outcome=error" "$VDI_RUN/audit-ctl-last.txt" "outcome=error"
cp "$VDI_RUN/policy.good" "$VDI_RUN/policy.conf"
mark=$(vdi_log_mark "$BROKER_NAME")
vdi_signal "$BROKER_NAME" HUP
vdi_check "SIGHUP with the good policy again: reloaded" \
	vdi_wait_log "$BROKER_NAME" "event=policy_reloaded" 5 "$mark"
"$VDICTL" audit | grep 'action=policy_reload' | tail -1 >"$VDI_RUN/audit-ok-last.txt"
code=$(curl -sS -o "$VDI_RUN/health-ok.txt" -w '%{http_code}' --max-time 5 "$METRICS_URL/healthz")
vdi_assert_eq "GET /healthz after a good reload: 200" 200 "$code"
vdi_assert_contains "... ready" "$VDI_RUN/health-ok.txt" "ready"
vdi_assert_contains "... audited outcome=ok" "$VDI_RUN/audit-ok-last.txt" "outcome=ok"

# --- vdictl policy reload warns about the CRL -------------------------------------
"$VDICTL" policy reload >"$VDI_RUN/reload-soon.out" 2>&1
vdi_assert_eq "vdictl policy reload with a CRL near its nextUpdate succeeds" 0 "$?"
vdi_assert_contains "... and prints the warning" "$VDI_RUN/reload-soon.out" \
	"tenants.city-b.crl: warning: CRL"

# --- the CRL metric -----------------------------------------------------------------
curl -sS --max-time 5 "$METRICS_URL/metrics" >"$VDI_RUN/metrics.txt"
left=$(sed -n 's/^vdi_broker_crl_next_update_seconds{tenant="city-b",ca="[^"]*"} \(-\?[0-9]*\)$/\1/p' \
	"$VDI_RUN/metrics.txt")
vdi_check "vdi_broker_crl_next_update_seconds for city-b is under a minute ($left)" \
	test -n "$left" -a "${left:-99999}" -le 40 -a "${left:-0}" -gt 0
vdi_check "... and about 30 days for city-a" \
	grep -qE '^vdi_broker_crl_next_update_seconds\{tenant="city-a",ca="[^"]*"\} 25[0-9]{5}$' \
	"$VDI_RUN/metrics.txt"
vdi_check "the broker's own certificate expiry is exported" \
	grep -qE '^vdi_broker_certificate_expiry_seconds\{cert="tls"\} [0-9]+$' \
	"$VDI_RUN/metrics.txt"

# --- vdi-connect -t opens everything it will use ----------------------------------
SHIM="$VDI_BUILDDIR/vdi-connect"
FP=$(printf 'ab%.0s' $(seq 32) | sed 's/../&:/g; s/:$//')
# shim_conf FILE DEVICE-BLOCK [CA]
shim_conf() {
	cat >"$1" <<EOC
broker_url = "$BROKER_URL";
ca = "${3:-$VDI_PKI/infra/ca.pem}";
device = { $2 };
gateway_rdp_fingerprint = "$FP";
rdp = { command = "/bin/true"; };
EOC
}
A="$VDI_PKI/city-a/devices"
head -c 600 /dev/urandom >"$VDI_RUN/garbage.p12"
shim_conf "$VDI_RUN/c-ok.conf" "pkcs12 = \"$A/tablet-1.p12\"; passphrase = \"test\";"
vdi_check "vdi-connect -t: a good PKCS#12 and passphrase pass" "$SHIM" -t -f "$VDI_RUN/c-ok.conf"
for c in "wrongpw:pkcs12 = \"$A/tablet-1.p12\"; passphrase = \"nope\";:wrong passphrase" \
	 "missing:pkcs12 = \"$VDI_RUN/nope.p12\"; passphrase = \"test\";:nope.p12" \
	 "garbage:pkcs12 = \"$VDI_RUN/garbage.p12\"; passphrase = \"test\";:garbage.p12" \
	 "nocert:cert = \"$A/nope.pem\"; key = \"$A/tablet-1.key\";:nope.pem"; do
	name=${c%%:*} rest=${c#*:}
	block=${rest%:*} why=${rest##*:}
	shim_conf "$VDI_RUN/c-$name.conf" "$block"
	"$SHIM" -t -f "$VDI_RUN/c-$name.conf" >"$VDI_RUN/c-$name.out" 2>&1
	vdi_assert_eq "vdi-connect -t refuses $name (exit 2)" 2 "$?"
	vdi_assert_contains "... saying $why" "$VDI_RUN/c-$name.out" "$why"
done
shim_conf "$VDI_RUN/c-noca.conf" "pkcs12 = \"$A/tablet-1.p12\"; passphrase = \"test\";" \
	"$VDI_RUN/no-ca.pem"
"$SHIM" -t -f "$VDI_RUN/c-noca.conf" >"$VDI_RUN/c-noca.out" 2>&1
vdi_assert_eq "vdi-connect -t refuses a missing CA file (exit 2)" 2 "$?"
vdi_assert_contains "... naming it" "$VDI_RUN/c-noca.out" "no-ca.pem"
shim_conf "$VDI_RUN/c-nordp.conf" "pkcs12 = \"$A/tablet-1.p12\"; passphrase = \"test\";"
sed -i 's|/bin/true|/nonexistent/xfreerdp|' "$VDI_RUN/c-nordp.conf"
"$SHIM" -t -f "$VDI_RUN/c-nordp.conf" >"$VDI_RUN/c-nordp.out" 2>&1
vdi_assert_eq "vdi-connect -t refuses an RDP command it cannot run (exit 2)" 2 "$?"
vdi_assert_contains "... naming it" "$VDI_RUN/c-nordp.out" "rdp.command: cannot run /nonexistent/xfreerdp"
shim_conf "$VDI_RUN/c-expired.conf" "cert = \"$A/expired.pem\"; key = \"$A/expired.key\";"
"$SHIM" -t -f "$VDI_RUN/c-expired.conf" >"$VDI_RUN/c-expired.out" 2>&1
vdi_assert_eq "vdi-connect -t refuses an expired device certificate (exit 4)" 4 "$?"

# --- the CRL runs out while the broker runs --------------------------------------
while [ "$(date +%s)" -le $((CRL_DEADLINE + 1)) ]; do sleep 1; done
B="$VDI_PKI/city-b/devices"
thumb=$(vdi_thumbprint "$B/tablet-1.pem")
mark=$(vdi_log_mark "$BROKER_NAME")
api "$B/tablet-1" GET /v1/health >/dev/null
vdi_assert_eq "city-b's tablet is refused at TLS once the CRL has expired" 000 "$(status)"
vdi_check "... the broker logs the reason with the device thumbprint" \
	vdi_wait_log "$BROKER_NAME" "reason=\"CRL has expired\"" 5 "$mark"
vdi_log_since "$BROKER_NAME" "$mark" >"$VDI_RUN/refused.log"
vdi_assert_contains "... device=THUMBPRINT" "$VDI_RUN/refused.log" "device=$thumb"
shim_conf "$VDI_RUN/c-cityb.conf" "cert = \"$B/tablet-1.pem\"; key = \"$B/tablet-1.key\";"
echo olga-pw | timeout -k 2 30 "$SHIM" -f "$VDI_RUN/c-cityb.conf" -u olga \
	>"$VDI_RUN/c-cityb.out" 2>&1
vdi_assert_eq "vdi-connect: the organisation's CRL has expired: exit 14" 14 "$?"
vdi_assert_contains "... and says so (not 'device certificate has expired')" \
	"$VDI_RUN/c-cityb.out" "revocation list has expired: tell IT"
vdi_assert_lacks "... not the device certificate message" "$VDI_RUN/c-cityb.out" \
	"device certificate has expired"
"$VDICTL" audit --device "$thumb" >"$VDI_RUN/audit-tls.txt"
vdi_assert_contains "the refusal is audited" "$VDI_RUN/audit-tls.txt" "action=tls_refused"
vdi_assert_contains "... with the reason" "$VDI_RUN/audit-tls.txt" "CRL has expired"
vdi_assert_eq "... once for two attempts in a minute" 1 \
	"$(grep -c 'action=tls_refused' "$VDI_RUN/audit-tls.txt")"

# --- and now the checks refuse it ------------------------------------------------------
"$VDIPOLICY" check "$VDI_RUN/policy.conf" >"$VDI_RUN/check-expired.out" 2>&1
vdi_assert_eq "vdi-policy check refuses an expired CRL" 1 "$?"
vdi_assert_contains "... naming file:line, key and date" "$VDI_RUN/check-expired.out" \
	"tenants.city-b.crl: CRL"
vdi_assert_contains "... saying it expired" "$VDI_RUN/check-expired.out" "expired on"
vdi_check_not "vdi-brokerd -t refuses it" "$BROKER" -t -f "$VDI_RUN/brokerd.conf"
vdi_check_not "vdictl policy reload refuses it" "$VDICTL" policy reload
cp "$VDI_RUN/city-b-crl.good" "$VDI_PKI/city-b/crl.pem"
vdi_check "a fresh CRL: vdictl policy reload" "$VDICTL" policy reload
api "$B/tablet-1" GET /v1/health >/dev/null
vdi_assert_eq "city-b's tablet is accepted again" 200 "$(status)"

vdi_finish
