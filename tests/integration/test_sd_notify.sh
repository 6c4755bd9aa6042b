#!/bin/bash
# test_sd_notify.sh: the daemons tell systemd (sd_notify(3), Type=notify
# units) READY=1 once their listeners accept, RELOADING=1 then READY=1
# around a SIGHUP reload, STOPPING=1 on SIGTERM; and with stderr as the
# journal (JOURNAL_STREAM names it) their log lines carry sd-daemon
# priorities. A small datagram socket (tests/peers/notify-socket.py)
# stands in for systemd.
. "${top_srcdir:?run through make check}/tests/integration/lib.sh"
vdi_init
vdi_require python3 python3
vdi_require curl curl
grep -q '^#define HAVE_LIBSYSTEMD 1' "$VDI_BUILDDIR/config.h" ||
	vdi_skip "built without libsystemd (configure --with-libsystemd; Debian package libsystemd-dev)"

BROKER="$VDI_BUILDDIR/vdi-brokerd"
GATEWAY="$VDI_BUILDDIR/vdi-gatewayd"
vdi_make_pki city-a
"$OPENSSL" genpkey -algorithm ed25519 -out "$VDI_RUN/token.key" 2>/dev/null
"$OPENSSL" pkey -in "$VDI_RUN/token.key" -pubout -out "$VDI_RUN/token.pub"
chmod 600 "$VDI_RUN/token.key"
"$OPENSSL" req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-subj "/CN=vdi-gateway-rdp" -keyout "$VDI_RUN/rdp.key" -out "$VDI_RUN/rdp.pem" 2>/dev/null ||
	vdi_die "cannot make the inner RDP certificate"
ln -sfn "$VDI_PKI" "$VDI_RUN/pki"
DEAD_PORT=$(vdi_free_port)
cat >"$VDI_RUN/policy.conf" <<EOP
version = 1;
sites = { loopback = ["127.0.0.0/8"]; };
zones = { dc = { networks = ["127.0.0.0/8"]; }; };
tenants = {
  city-a = {
    ca = "pki/city-a/ca.pem"; crl = "pki/city-a/crl.pem";
    device = { subject = { O = "city-a"; }; classes = ["field-tablet"]; };
  };
};
pools = {
  field = { tenant = "city-a"; zone = "dc"; assignment = "pooled";
            security = "tls"; capacity = 1; desktops = (
              { name = "d-1"; address = "127.0.0.1:$DEAD_PORT"; } ); };
};
rules = ( { name = "all"; action = "allow"; tenants = ["city-a"];
            sites = ["loopback"]; pools = ["field"]; } );
EOP
userline="" admin_group=""
if [ "$(id -u)" = 0 ]; then
	chmod 0777 "$VDI_RUN"
	chmod -R go+rX "$VDI_PKI"
	chgrp nogroup "$VDI_PKI/infra/broker.key" "$VDI_PKI/infra/gateway.key"
	chmod 0640 "$VDI_PKI/infra/broker.key" "$VDI_PKI/infra/gateway.key"
	userline='user = "nobody"; group = "nogroup";'
else
	admin_group="admin_group = \"$(id -gn)\";"
fi
BROKER_METRICS=$(vdi_free_port)
cat >"$VDI_RUN/brokerd.conf" <<EOP
$admin_group
user = "nobody";
group = "nogroup";
listen = "127.0.0.1:0";
metrics_listen = "127.0.0.1:$BROKER_METRICS";
admin_socket = "$VDI_RUN/brokerd.sock";
policy = "policy.conf";
store = "$VDI_RUN/broker.db";
tls = { cert = "pki/infra/broker.pem"; key = "pki/infra/broker.key"; };
gateway_ca = "pki/infra/ca.pem";
gateway_crl = "pki/infra/crl.pem";
gateways = ( { name = "gateway"; address = "127.0.0.1:9443"; } );
token = { signing_key = "token.key"; };
EOP

# notify_start NAME: a notification socket for daemon NAME
notify_start() {
	vdi_start "notify-$1" python3 "$VDI_SRCDIR/tests/peers/notify-socket.py" \
		"$VDI_RUN/$1.notify" "$VDI_RUN/$1.msgs"
	vdi_wait_log "notify-$1" listening 10 || vdi_die "notify socket for $1 did not start"
}
# msgs NAME: what NAME sent so far, one message a line
msgs() { cat "$VDI_RUN/$1.msgs" 2>/dev/null; }
# count NAME MESSAGE: how many times NAME sent exactly MESSAGE
count() { grep -cx "$2" "$VDI_RUN/$1.msgs" 2>/dev/null || true; }
# sent_ge NAME MESSAGE N: NAME sent MESSAGE at least N times
sent_ge() { [ "$(count "$1" "$2")" -ge "$3" ]; }

# --- the broker ------------------------------------------------------------
notify_start broker
: >"$VDI_RUN/broker.log"
JS=$(stat -c '%d:%i' "$VDI_RUN/broker.log")
NOTIFY_SOCKET="$VDI_RUN/broker.notify" JOURNAL_STREAM=$JS \
	vdi_start broker "$BROKER" -d -f "$VDI_RUN/brokerd.conf" -P "$VDI_RUN/broker.port"
vdi_wait_until 20 grep -qx 'READY=1' "$VDI_RUN/broker.msgs" ||
	vdi_fail "broker sent READY=1" "$(msgs broker)"
# Ready means listening: the port file is written and the port answers
# before READY=1 is sent.
BPORT=$(cat "$VDI_RUN/broker.port" 2>/dev/null)
vdi_check "broker: HTTPS port accepts once READY=1 was sent" \
	bash -c "exec 3<>/dev/tcp/127.0.0.1/$BPORT"
vdi_check "broker: metrics port answers once READY=1 was sent" \
	curl -sf -o /dev/null "http://127.0.0.1:$BROKER_METRICS/metrics"
vdi_check "broker: admin socket exists once READY=1 was sent" test -S "$VDI_RUN/brokerd.sock"
vdi_assert_eq "broker: READY=1 once at start" 1 "$(count broker READY=1)"
vdi_signal broker HUP
vdi_wait_until 10 sent_ge broker READY=1 2 ||
	vdi_fail "broker sent READY=1 after SIGHUP" "$(msgs broker)"
vdi_assert_eq "broker: RELOADING=1 then READY=1 around the reload" \
	"READY=1 RELOADING=1 READY=1" "$(msgs broker | tr '\n' ' ' | sed 's/ $//')"
vdi_check "broker: journal stream lines carry <N> (notice for started)" \
	grep -q '^<5>.* level=notice event=started' "$VDI_RUN/broker.log"
vdi_check "broker: journal stream lines carry <N> (info for privsep)" \
	grep -q '^<6>.* level=info event=privsep_monitor_ready' "$VDI_RUN/broker.log"
vdi_check_not "broker: no journal line without a priority" \
	grep -v '^<[0-7]>' "$VDI_RUN/broker.log"
BROKER_URL="https://127.0.0.1:$BPORT"

# --- the gateway -----------------------------------------------------------
cat >"$VDI_RUN/gatewayd.conf" <<EOP
listen = "127.0.0.1:0";
metrics_listen = "127.0.0.1:$(vdi_free_port)";
threads = 1;
$userline
tls = { cert = "pki/infra/gateway.pem"; key = "pki/infra/gateway.key"; };
policy = "policy.conf";
broker = {
  url = "$BROKER_URL";
  ca = "pki/infra/ca.pem";
  crl = "pki/infra/crl.pem";
  public_key = [ "token.pub" ];
};
inner_rdp = { cert = "rdp.pem"; key = "rdp.key"; };
EOP
notify_start gateway
NOTIFY_SOCKET="$VDI_RUN/gateway.notify" \
	vdi_start gateway "$GATEWAY" -d -f "$VDI_RUN/gatewayd.conf" -P "$VDI_RUN/gateway.port"
vdi_wait_until 20 grep -qx 'READY=1' "$VDI_RUN/gateway.msgs" ||
	vdi_fail "gateway sent READY=1" "$(msgs gateway)"
GPORT=$(cat "$VDI_RUN/gateway.port" 2>/dev/null)
vdi_check "gateway: tunnel port accepts once READY=1 was sent" \
	bash -c "exec 3<>/dev/tcp/127.0.0.1/$GPORT"
vdi_signal gateway HUP
vdi_wait_until 10 sent_ge gateway READY=1 2 ||
	vdi_fail "gateway sent READY=1 after SIGHUP" "$(msgs gateway)"
vdi_assert_eq "gateway: RELOADING=1 then READY=1 around the reload" \
	"READY=1 RELOADING=1 READY=1" "$(msgs gateway | tr '\n' ' ' | sed 's/ $//')"
vdi_check_not "gateway: stderr not the journal: no priority prefix" \
	grep -q '^<[0-7]>' "$VDI_RUN/gateway.log"

# --- stopping ----------------------------------------------------------------
vdi_stop gateway 10
vdi_assert_eq "gateway: STOPPING=1 on SIGTERM" 1 "$(count gateway STOPPING=1)"
vdi_stop broker 10
vdi_assert_eq "broker: STOPPING=1 on SIGTERM" 1 "$(count broker STOPPING=1)"
vdi_finish
