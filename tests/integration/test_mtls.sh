#!/bin/bash
# test_mtls.sh: mutual TLS on common/tls against the real openssl s_client.
#
# tls-test-server trusts the city-a and city-b device CAs with their CRLs.
# Valid tablets of both tenants are accepted (thumbprint = openssl's,
# issuing CA reported); expired, not yet valid, revoked, wrong-CA and
# certificate-less clients are refused with the verification error logged;
# TLS 1.2 works with a profile cipher and not with others. Then, without
# restarting the server: tablet-2 is revoked and SIGHUP reloads the CRLs;
# tablet-2 is refused, a connection opened before still carries data,
# tablet-1 is still accepted; a broken CRL is refused on reload and the old
# one stays in force.
set -u
. "${top_srcdir:?run through make check}/tests/integration/lib.sh"

vdi_init mtls
vdi_require "${OPENSSL:-openssl}" openssl
vdi_require timeout coreutils
vdi_require setsid util-linux
server_bin=$VDI_PEERS/tls-test-server
[ -x "$server_bin" ] || vdi_die "$server_bin is missing (make check builds it)"

vdi_make_pki city-a city-b
P=$VDI_PKI

vdi_start server "$server_bin" -p "$VDI_RUN/server.port" \
    -c "$P/infra/broker.pem" -k "$P/infra/broker.key" \
    -a "$P/city-a/ca.pem" -r "$P/city-a/crl.pem" -n city-a \
    -a "$P/city-b/ca.pem" -r "$P/city-b/crl.pem" -n city-b
vdi_wait_file "$VDI_RUN/server.port" 10 server ||
	vdi_die "tls-test-server did not start"
PORT=$(cat "$VDI_RUN/server.port")
server_pid=$(vdi_pid server)
vdi_log "server listening on 127.0.0.1:$PORT"

# connect LOGNAME CERTBASE|"" [s_client options...]: one short session
# (send "hello", then "quit"); the output goes to LOGNAME.log. Returns 0
# when the server answered OK.
connect() {
	local name=$1 base=$2
	local -a certargs=()
	shift 2
	[ -z "$base" ] || certargs=(-cert "$base.pem" -key "$base.key")
	printf 'hello\nquit\n' | vdi_run "$name" 20 "$OPENSSL" s_client \
	    -connect "127.0.0.1:$PORT" -CAfile "$P/infra/ca.pem" \
	    -verify_return_error -verify_ip 127.0.0.1 -nocommands -ign_eof \
	    "${certargs[@]}" "$@"
	grep -q '^OK thumbprint=' "$VDI_RUN/$name.log"
}

# accepted DESC LOGNAME DEVICE TENANT INDEX [s_client options...]
accepted() {
	local desc=$1 name=$2 dev=$3 tenant=$4 idx=$5 thumb mark
	shift 5
	thumb=$(vdi_thumbprint "$dev.pem")
	mark=$(vdi_log_mark server)
	if ! connect "$name" "$dev" "$@"; then
		vdi_fail "$desc: accepted" "no OK line, see $name.log"
		return
	fi
	vdi_pass "$desc: accepted"
	vdi_assert_contains "$desc: thumbprint equals openssl x509 -fingerprint" \
	    "$VDI_RUN/$name.log" "OK thumbprint=$thumb "
	vdi_assert_contains "$desc: issuing CA is $tenant (#$idx)" \
	    "$VDI_RUN/$name.log" "ca=$idx tenant=$tenant"
	vdi_assert_contains "$desc: connection carries data" \
	    "$VDI_RUN/$name.log" "ECHO hello"
	vdi_check "$desc: server logged tls_accept" vdi_wait_log server \
	    "event=tls_accept peer=127.0.0.1:" 10 "$mark"
}

# refused DESC LOGNAME DEVICE|"" REASON [s_client options...]
refused() {
	local desc=$1 name=$2 dev=$3 reason=$4 mark
	shift 4
	mark=$(vdi_log_mark server)
	vdi_check_not "$desc: refused" connect "$name" "$dev" "$@"
	vdi_check "$desc: server logged tls_refused reason=\"$reason\"" \
	    vdi_wait_log server "event=tls_refused" 10 "$mark"
	vdi_check "$desc: reason is \"$reason\"" vdi_wait_log server \
	    "reason=\"$reason\"" 2 "$mark"
}

# --- the PKI as others code against it ----------------------------------
vdi_check "PKI: tablet-1.p12 opens with passphrase 'test'" \
    "$OPENSSL" pkcs12 -in "$P/city-a/devices/tablet-1.p12" -passin pass:test \
    -noout
vdi_check "PKI: gateway certificate is a TLS client too" \
    vdi_run verify-gateway 10 "$OPENSSL" verify -purpose sslclient \
    -CAfile "$P/infra/ca.pem" "$P/infra/gateway.pem"

# --- who gets in -----------------------------------------------------------
accepted "city-a tablet-1" a-tablet-1 "$P/city-a/devices/tablet-1" city-a 0
accepted "city-b tablet-1" b-tablet-1 "$P/city-b/devices/tablet-1" city-b 1
accepted "city-a shared-1 over TLS 1.2" a-shared-1-tls12 \
    "$P/city-a/devices/shared-1" city-a 0 -tls1_2
refused "expired" a-expired "$P/city-a/devices/expired" \
    "certificate has expired"
refused "not yet valid" b-notyet "$P/city-b/devices/notyet" \
    "certificate is not yet valid"
refused "revoked" a-revoked "$P/city-a/devices/revoked" \
    "certificate revoked"
refused "rogue CA" rogue-wrongca "$P/rogue/devices/wrongca" \
    "unable to get local issuer certificate"
refused "no client certificate" no-cert "" "no peer certificate"
refused "TLS 1.2 cipher outside the profile" a-tablet-1-badcipher \
    "$P/city-a/devices/tablet-1" "no shared cipher" -tls1_2 \
    -cipher AES128-GCM-SHA256

# --- a connection that stays open across reloads ---------------------------
mkfifo "$VDI_RUN/live.in" || vdi_die "mkfifo failed"
vdi_start_stdin live "$VDI_RUN/live.in" "$OPENSSL" s_client \
    -connect "127.0.0.1:$PORT" -CAfile "$P/infra/ca.pem" \
    -verify_return_error -verify_ip 127.0.0.1 -nocommands -ign_eof \
    -cert "$P/city-a/devices/tablet-2.pem" \
    -key "$P/city-a/devices/tablet-2.key"
exec 7>"$VDI_RUN/live.in"
vdi_check "live tablet-2: accepted" vdi_wait_log live "OK thumbprint=" 10
echo "before-reload" >&7
vdi_check "live tablet-2: exchanges data" vdi_wait_log live \
    "ECHO before-reload" 10

# --- revoke tablet-2, reload ------------------------------------------------
vdi_revoke city-a tablet-2
mark=$(vdi_log_mark server)
vdi_signal server HUP
vdi_check "SIGHUP: CRLs reloaded (generation 2)" vdi_wait_log server \
    "event=tls_reload generation=2" 10 "$mark"
refused "tablet-2 after revocation" a-tablet-2-revoked \
    "$P/city-a/devices/tablet-2" "certificate revoked"
echo "after-reload" >&7
vdi_check "live tablet-2 opened before the reload still exchanges data" \
    vdi_wait_log live "ECHO after-reload" 10
accepted "tablet-1 after reload" a-tablet-1-after "$P/city-a/devices/tablet-1" \
    city-a 0
accepted "city-b tablet-2 after reload" b-tablet-2-after \
    "$P/city-b/devices/tablet-2" city-b 1

# --- a broken CRL is refused, the old one stays -------------------------------
cp "$P/city-a/crl.pem" "$VDI_RUN/crl.good"
echo "garbage, not a CRL" >"$P/city-a/crl.pem"
mark=$(vdi_log_mark server)
vdi_signal server HUP
vdi_check "broken CRL: reload refused and logged" vdi_wait_log server \
    "event=tls_reload_failed generation=2" 10 "$mark"
vdi_check "broken CRL: the log names the file" vdi_wait_log server \
    "$P/city-a/crl.pem" 2 "$mark"
accepted "tablet-1 with the old CRL kept" a-tablet-1-kept \
    "$P/city-a/devices/tablet-1" city-a 0
refused "tablet-2 still revoked by the old CRL" a-tablet-2-kept \
    "$P/city-a/devices/tablet-2" "certificate revoked"
cp "$VDI_RUN/crl.good" "$P/city-a/crl.pem"
mark=$(vdi_log_mark server)
vdi_signal server HUP
vdi_check "fixed CRL: reload accepted (generation 3)" vdi_wait_log server \
    "event=tls_reload generation=3" 10 "$mark"

# --- the same server all along -------------------------------------------------
echo "still-there" >&7
vdi_check "live tablet-2 survives all reloads" vdi_wait_log live \
    "ECHO still-there" 10
echo "quit" >&7
vdi_check "live tablet-2: server says BYE" vdi_wait_log live "BYE" 10
exec 7>&-
vdi_assert_eq "server never restarted (same pid)" "$server_pid" \
    "$(vdi_pid server)"
vdi_check "server still running" vdi_alive server
vdi_assert_eq "server listened once" 1 \
    "$(grep -c 'event=tls_listen' "$VDI_RUN/server.log")"
vdi_check "server stops cleanly on SIGTERM" vdi_stop server 10
vdi_assert_contains "server logged its shutdown" "$VDI_RUN/server.log" \
    "event=shutdown"

vdi_finish
