# tests/integration/broker/env.sh: sourced by the broker tests after
# lib.sh. Builds a complete broker setup in $VDI_RUN: PKI, token and seal
# keys, PAM services through pam_wrapper + pam_matrix (+ the test OTP
# module), a policy, a real desktop (freerdp-shadow-cli on Xvfb) plus a dead
# one, and vdi-brokerd.conf. Then broker_start runs the daemon.

BROKER="$VDI_BUILDDIR/vdi-brokerd"
VDICTL="$VDI_BUILDDIR/vdictl"

# xvfb_start NAME [GEOMETRY]: an Xvfb on a display it picks itself
# (-displayfd: no collision with other servers on the machine); sets
# XVFB_DISPLAY to its number once it accepts clients. -noreset keeps it
# from resetting when its last client (the readiness probe) leaves.
xvfb_start() {
	vdi_require Xvfb xvfb
	vdi_require xdpyinfo x11-utils
	vdi_start "$1" Xvfb -displayfd 1 -screen 0 "${2:-1024x768x24}" \
		-nolisten tcp -noreset
	vdi_wait_until 10 grep -qE '^[0-9]+$' "$VDI_RUN/$1.log" ||
		vdi_die "Xvfb $1 did not start"
	XVFB_DISPLAY=$(grep -E '^[0-9]+$' "$VDI_RUN/$1.log" | head -1)
	vdi_wait_until 10 xdpyinfo -display ":$XVFB_DISPLAY" >/dev/null 2>&1 ||
		vdi_die "Xvfb $1 does not answer"
}

broker_setup() {
	vdi_require curl curl
	vdi_require sqlite3 sqlite3
	vdi_require Xvfb xvfb
	vdi_require freerdp-shadow-cli freerdp2-shadow-x11
	vdi_make_pki city-a city-b
	[ -f "$VDI_PKI/infra/crl.pem" ] || vdi_die "mkpki.sh made no infra/crl.pem"

	# Keys only the monitor reads.
	"$OPENSSL" genpkey -algorithm ed25519 -out "$VDI_RUN/token.key" 2>/dev/null ||
		vdi_die "cannot make an Ed25519 key"
	"$OPENSSL" pkey -in "$VDI_RUN/token.key" -pubout -out "$VDI_RUN/token.pub"
	head -c 32 /dev/urandom >"$VDI_RUN/seal.key"
	chmod 600 "$VDI_RUN/token.key" "$VDI_RUN/seal.key"

	# PAM: city-a logs in with a password, city-b with a password and a
	# one-time code.
	local mods otp
	mods=$(pkg-config --variable=modules pam_wrapper 2>/dev/null)
	[ -n "$mods" ] && [ -f "$mods/pam_matrix.so" ] ||
		mods=/usr/lib/x86_64-linux-gnu/pam_wrapper
	[ -f "$mods/pam_matrix.so" ] ||
		vdi_die "pam_matrix.so not found: install the Debian package libpam-wrapper"
	otp="$VDI_BUILDDIR/tests/peers/.libs/pam_vdi_otp.so"
	[ -f "$otp" ] || vdi_die "$otp not built"
	mkdir -p "$VDI_RUN/pam"
	cat >"$VDI_RUN/pam/passdb" <<EOP
alice:alice-pw:vdi-city-a
bob:bob-pw:vdi-city-a
carol:carol-pw:vdi-city-a
dave:dave-pw:vdi-city-a
erin:erin-pw:vdi-city-a
mallory:mallory-pw:vdi-city-a
olga:olga-pw:vdi-city-b
EOP
	echo "olga 424242" >"$VDI_RUN/pam/codes"
	cat >"$VDI_RUN/pam/vdi-city-a" <<EOP
auth required $mods/pam_matrix.so passdb=$VDI_RUN/pam/passdb
account required $mods/pam_matrix.so passdb=$VDI_RUN/pam/passdb
EOP
	cat >"$VDI_RUN/pam/vdi-city-b" <<EOP
auth required $mods/pam_matrix.so passdb=$VDI_RUN/pam/passdb
auth required $otp codes=$VDI_RUN/pam/codes
account required $mods/pam_matrix.so passdb=$VDI_RUN/pam/passdb
EOP
	cat >"$VDI_RUN/pam/other" <<EOP
auth required $mods/pam_matrix.so passdb=$VDI_RUN/pam/none
account required $mods/pam_matrix.so passdb=$VDI_RUN/pam/none
EOP

	# A real desktop and a port where nothing listens.
	set -- $(vdi_free_port 2)
	DESKTOP_PORT=$1
	DEAD_PORT=$2
	local disp
	xvfb_start xvfb 800x600x24
	disp=$XVFB_DISPLAY
	# A desktop with a known look: a solid background (DESKTOP_RGB) and a
	# clock, so screenshots on the client side prove the pixels arrived.
	DESKTOP_RGB=1d6fa5
	DESKTOP_DISPLAY=$disp
	if command -v xsetroot >/dev/null 2>&1; then
		DISPLAY=":$disp" xsetroot -solid "#$DESKTOP_RGB"
		DISPLAY=":$disp" vdi_start desktop-clock xclock -geometry 160x160+40+40 -update 1
	fi
	DISPLAY=":$disp" vdi_start desktop freerdp-shadow-cli "/port:$DESKTOP_PORT" \
		/sec:tls -auth
	vdi_wait_port "$DESKTOP_PORT" 15 desktop || vdi_die "desktop did not start"

	cat >"$VDI_RUN/policy.conf" <<EOP
version = 1;
limits = { idle_disconnect = "15m"; reconnect_window = "10m"; };
sites = { loopback = ["127.0.0.0/8", "::1/128"]; };
zones = { dc = { networks = ["127.0.0.0/8"]; }; };
tenants = {
  city-a = {
    ca = "pki/city-a/ca.pem"; crl = "pki/city-a/crl.pem";
    device = { subject = { O = "city-a"; };
               classes = ["field-tablet", "shared-tablet"];
               shared_classes = ["shared-tablet"]; };
    pam_service = "vdi-city-a";
  };
  city-b = {
    ca = "pki/city-b/ca.pem"; crl = "pki/city-b/crl.pem";
    device = { subject = { O = "city-b"; }; classes = ["field-tablet"]; };
    pam_service = "vdi-city-b";
    limits = { reconnect_window = "3s"; };
  };
};
pools = {
  own = { tenant = "city-a"; zone = "dc"; assignment = "persistent";
          security = "tls"; desktops = (
            { name = "own-alice"; address = "127.0.0.1:$DESKTOP_PORT"; } ); };
  field = { tenant = "city-a"; zone = "dc"; assignment = "pooled";
            security = "tls"; capacity = 10; desktops = (
              { name = "dead-1"; address = "127.0.0.1:$DEAD_PORT"; },
              { name = "field-1"; address = "127.0.0.2:$DESKTOP_PORT"; } ); };
  b-pool = { tenant = "city-b"; zone = "dc"; assignment = "pooled";
             security = "tls"; capacity = 10; desktops = (
               { name = "b-1"; address = "127.0.0.3:$DESKTOP_PORT"; } ); };
};
rules = (
  { name = "nobody-mallory"; action = "deny"; users = ["mallory"]; },
  { name = "alice-own"; action = "allow"; tenants = ["city-a"];
    users = ["alice"]; pools = ["own", "field"]; },
  { name = "city-a-field"; action = "allow"; tenants = ["city-a"];
    sites = ["loopback"]; pools = ["field"]; },
  { name = "city-b"; action = "allow"; tenants = ["city-b"];
    pools = ["b-pool"]; }
);
modes = {
  lockdown = { tenants = ["city-a"]; inherit_rules = false;
    rules = ( { name = "lockdown-deny"; action = "deny"; } ); };
};
EOP
	ln -sfn "$VDI_PKI" "$VDI_RUN/pki"

	# Run as root (CI): the worker really drops to nobody. It needs the run
	# folder (store, socket) and the TLS key; the token and seal keys stay
	# root-only, read by the monitor alone.
	if [ "$(id -u)" = 0 ]; then
		chmod 0777 "$VDI_RUN"
		chmod -R go+rX "$VDI_PKI"
		chgrp nogroup "$VDI_PKI/infra/broker.key"
		chmod 0640 "$VDI_PKI/infra/broker.key"
	fi

	# Not root: the broker runs as this user, which the admin socket does
	# not admit for being the broker's user; its primary group does.
	local admin_group=""
	[ "$(id -u)" = 0 ] || admin_group="admin_group = \"$(id -gn)\";"
	cat >"$VDI_RUN/brokerd.conf" <<EOP
$admin_group
user = "nobody";
group = "nogroup";
listen = "127.0.0.1:0";
metrics_listen = "127.0.0.1:$(vdi_free_port)";
admin_socket = "$VDI_RUN/brokerd.sock";
policy = "policy.conf";
store = "$VDI_RUN/broker.db";
tls = { cert = "pki/infra/broker.pem"; key = "pki/infra/broker.key"; };
gateway_ca = "pki/infra/ca.pem";
gateway_crl = "pki/infra/crl.pem";
gateways = ( { name = "gateway"; address = "127.0.0.1:9443"; } );
token = { signing_key = "token.key"; seal_key = "seal.key"; };
health = { interval = "1s"; timeout = "1s"; };
login = { user_limits = { free_failures = 3; window = "10m"; base_delay = "30s"; max_delay = "5m"; }; };
EOP
	export VDI_BROKER_SOCKET="$VDI_RUN/brokerd.sock"
}

# Starts vdi-brokerd under pam_wrapper and waits for its port. Each start
# gets its own process name (broker, broker2, ...): BROKER_NAME.
BROKER_STARTS=0
broker_start() {
	BROKER_STARTS=$((BROKER_STARTS + 1))
	BROKER_NAME=broker
	[ "$BROKER_STARTS" -gt 1 ] && BROKER_NAME=broker$BROKER_STARTS
	rm -f "$VDI_RUN/broker.port"
	LD_PRELOAD=libpam_wrapper.so PAM_WRAPPER=1 \
	PAM_WRAPPER_SERVICE_DIR="$VDI_RUN/pam" \
	PAM_WRAPPER_DISABLE_DEEPBIND=1 UID_WRAPPER_DISABLE_DEEPBIND=1 \
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
		vdi_start "$BROKER_NAME" "$BROKER" -d -l debug -f "$VDI_RUN/brokerd.conf" \
		-P "$VDI_RUN/broker.port"
	vdi_wait_file "$VDI_RUN/broker.port" 15 "$BROKER_NAME" ||
		vdi_die "broker did not start"
	BROKER_URL="https://127.0.0.1:$(cat "$VDI_RUN/broker.port")"
	# The first health round has run once a desktop is healthy.
	vdi_wait_until 10 sh -c "'$VDICTL' --json desktops list | grep -q '\"healthy\": true'" ||
		vdi_die "no desktop became healthy"
}

# api DEVICE-CERT-BASE METHOD PATH [JSON] -> body on stdout, status in
# $VDI_RUN/status
api() {
	local cert=$1 method=$2 path=$3 body=${4:-}
	set -- -sS -o "$VDI_RUN/body" -w '%{http_code}' --max-time 20 \
		--cacert "$VDI_PKI/infra/ca.pem" --cert "$cert.pem" --key "$cert.key" \
		-X "$method" "$BROKER_URL$path"
	[ -n "$body" ] && set -- "$@" -H 'Content-Type: application/json' --data-binary "$body"
	curl "$@" >"$VDI_RUN/status" 2>"$VDI_RUN/curl.err" || echo 000 >"$VDI_RUN/status"
	cat "$VDI_RUN/body" 2>/dev/null
}

status() { cat "$VDI_RUN/status"; }
jget() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(d'"$1"')'; }

# login DEVICE USER ANSWER... -> final body; status in $VDI_RUN/status
login() {
	local dev=$1 user=$2 out id
	shift 2
	out=$(api "$dev" POST /v1/login "{\"user\":\"$user\"}")
	while [ "$(status)" = 200 ] && [ "$(echo "$out" | jget "['state']")" = prompt ] && [ $# -gt 0 ]; do
		id=$(echo "$out" | jget "['login_id']")
		out=$(api "$dev" POST /v1/login "{\"login_id\":\"$id\",\"answers\":[\"$1\"]}")
		shift
	done
	echo "$out"
}
