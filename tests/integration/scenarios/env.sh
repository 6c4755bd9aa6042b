# tests/integration/scenarios/env.sh: sourced by the scenario tests
# (tests/integration/scenarios/NN-*.sh) after lib.sh. Builds on
# tests/integration/broker/env.sh and gateway/env.sh: real PKI, PAM
# (pam_wrapper), desktops (freerdp-shadow-cli on Xvfb), vdi-brokerd,
# vdi-gatewayd, and vdi-connect running the real xfreerdp on a client Xvfb.
#
# A scenario defines scen_policy (prints the policy, usually through
# base_policy; may use DESKTOP_PORT and, with SCEN_DESKTOPS=2,
# DESKTOP2_PORT and DESKTOP2_PIN) and then calls scen_setup. Afterwards:
#   BROKER_PORT   fixed: the broker comes back on the same port after a
#                 restart, so running vdi-connect instances find it again
#   GWP           the gateway's fixed port; the broker sends devices to
#                 RELAY_PORT, a TCP relay the test cuts with `vdi_signal
#                 relay USR1` (a network drop)
#   A             city-a's device certificates (tablet-1, tablet-2, shared-1)
#   ADMIN         admin:<this user>, the actor of vdictl's audit rows
#   connect_conf FILE DEVICE-BASE [EXTRA]   a vdi-connect configuration
#                                 (BROKER_URL_FOR=URL overrides the broker)
#   shim NAME CONF USER ANSWERS...          vdi-connect in the background
#   shim_fail NAME CONF USER ANSWERS...     in the foreground; NAME.rc
#   shim_up NAME GW-MARK          NAME logged in and relayed by the gateway
#   work SECONDS                  pointer input on the client's screen
#   site_relay NAME SRC-ADDR      a path to the broker whose packets come
#                                 from SRC-ADDR (another 127/8 "network");
#                                 sets SITE_PORT
# The broker's state: live_count, sid_of USER, sfield SID KEY,
# sstate_is SID STATE, audit_rows FILE ARGS... (vdictl audit ARGS into
# $VDI_RUN/FILE), audit_has FILE PATTERN... (one row matches them all).

# Variables set here are for the scenarios that source this file.
# shellcheck disable=SC2034

. "$VDI_SRCDIR/tests/integration/broker/env.sh"
. "$VDI_SRCDIR/tests/integration/gateway/env.sh"

SHIM="$VDI_BUILDDIR/vdi-connect"
ADMIN="admin:$(id -un)"
vdi_require xdotool xdotool

# work SECONDS: a person at the tablet: the pointer moves over the client's
# screen every quarter second, so xfreerdp sends real input through the
# tunnel (the gateway's idle timer sees it).
work() {
	local end=$(($(date +%s) + $1)) x=300
	while [ "$(date +%s)" -lt "$end" ]; do
		DISPLAY=":$CDISP" xdotool mousemove "$x" 240 >/dev/null 2>&1 ||
			vdi_die "work: xdotool could not move the pointer on :$CDISP"
		x=$((x == 300 ? 340 : 300))
		sleep 0.25
	done
}

# The cuttable relay: tests/peers/cut-relay.py LPORT DHOST DPORT [SRC].
RELAY_PY=$VDI_SRCDIR/tests/peers/cut-relay.py

# desktop2_start: a second real desktop (its own Xvfb, another colour).
desktop2_start() {
	DESKTOP2_PORT=$(vdi_free_port)
	DESKTOP2_RGB=a5401d
	xvfb_start xvfb2 800x600x24
	DISPLAY=":$XVFB_DISPLAY" xsetroot -solid "#$DESKTOP2_RGB"
	DISPLAY=":$XVFB_DISPLAY" vdi_start desktop2 freerdp-shadow-cli \
		"/port:$DESKTOP2_PORT" /sec:tls -auth
	vdi_wait_port "$DESKTOP2_PORT" 15 desktop2 || vdi_die "desktop2 did not start"
	DESKTOP2_PIN=$(desktop_pin 127.0.0.1 "$DESKTOP2_PORT") ||
		vdi_die "cannot read desktop2's certificate"
}

scen_setup() {
	vdi_require xfreerdp freerdp2-x11
	vdi_require xsetroot x11-xserver-utils
	vdi_require python3 python3
	[ -x "$SHIM" ] || vdi_die "$SHIM not built"
	broker_setup
	[ "${SCEN_DESKTOPS:-1}" = 2 ] && desktop2_start
	scen_policy >"$VDI_RUN/policy.conf" || vdi_die "scen_policy failed"
	gateway_setup
	A="$VDI_PKI/city-a/devices"

	# shellcheck disable=SC2046
	set -- $(vdi_free_port 3)
	GWP=$1 RELAY_PORT=$2 BROKER_PORT=$3
	sed -i "s|^listen = \"127.0.0.1:0\";|listen = \"127.0.0.1:$GWP\";|" \
		"$VDI_RUN/gatewayd.conf"
	sed -i -e "s|address = \"127.0.0.1:9443\"|address = \"127.0.0.1:$RELAY_PORT\"|" \
		-e "s|^listen = \"127.0.0.1:0\";|listen = \"127.0.0.1:$BROKER_PORT\";|" \
		"$VDI_RUN/brokerd.conf"
	"$BROKER" -t -f "$VDI_RUN/brokerd.conf" >"$VDI_RUN/conf-check.log" 2>&1 ||
		vdi_die "the scenario's configuration is refused: $(cat "$VDI_RUN/conf-check.log")"
	vdi_start relay python3 "$RELAY_PY" "$RELAY_PORT" 127.0.0.1 "$GWP"
	vdi_wait_log relay listening 10 || vdi_die "relay did not start"
	broker_start
	gateway_start
	[ "$GW_PORT" = "$GWP" ] || vdi_die "gateway not on its fixed port"

	xvfb_start xvfb-client 1024x768x24
	CDISP=$XVFB_DISPLAY
	DEV_HOME=$VDI_RUN/device-home
	DEV_TMP=$VDI_RUN/device-tmp
	mkdir -p "$DEV_HOME" "$DEV_TMP"
}

# site_relay NAME SRC: a relay to the broker whose connections come from
# SRC (e.g. 127.0.0.5), as a device on another network would; sets
# SITE_PORT. vdi-connect configured with https://127.0.0.1:SITE_PORT goes
# that way.
site_relay() {
	SITE_PORT=$(vdi_free_port)
	vdi_start "$1" python3 "$RELAY_PY" "$SITE_PORT" 127.0.0.1 "$BROKER_PORT" "$2"
	vdi_wait_log "$1" listening 10 || vdi_die "$1 did not start"
}

# connect_conf FILE DEVICE-BASE [EXTRA-LINES] (BROKER_URL_FOR overrides the URL)
connect_conf() {
	cat >"$1" <<EOC
# vdi-connect for a scenario test
broker_url = "${BROKER_URL_FOR:-$BROKER_URL}";
ca = "$VDI_PKI/infra/ca.pem";
device = { cert = "$2.pem"; key = "$2.key"; };
gateway_rdp_fingerprint = "$(echo "$INNER_PIN" | sed 's/../&:/g; s/:$//')";
rdp = { command = "/usr/bin/xfreerdp"; size = "800x600"; };
reconnect = { initial_delay_ms = 50; max_delay = "1s"; give_up_after = "${GIVE_UP:-20s}"; };
connect_timeout = "5s";
$3
EOC
}

# shim NAME CONF USER ANSWERS...: vdi-connect in the background, answers on
# stdin (no terminal: prompts go to stderr).
shim() {
	local name=$1 conf=$2 user=$3
	shift 3
	printf '%s\n' "$@" >"$VDI_RUN/$name.answers"
	HOME=$DEV_HOME TMPDIR=$DEV_TMP DISPLAY=":$CDISP" XDG_RUNTIME_DIR='' \
		vdi_start_stdin "$name" "$VDI_RUN/$name.answers" \
		"$SHIM" -l info -f "$conf" -u "$user" ${SHIM_ARGS:-}
}

# shim_fail NAME CONF USER ANSWERS...: runs to the end; status in NAME.rc
shim_fail() {
	local name=$1 conf=$2 user=$3
	shift 3
	printf '%s\n' "$@" >"$VDI_RUN/$name.answers"
	HOME=$DEV_HOME TMPDIR=$DEV_TMP DISPLAY=":$CDISP" XDG_RUNTIME_DIR='' \
		timeout -k 2 40 "$SHIM" -l info -f "$conf" -u "$user" \
		<"$VDI_RUN/$name.answers" >"$VDI_RUN/$name.log" 2>&1
	echo $? >"$VDI_RUN/$name.rc"
}

# shim_up NAME: vdi-connect NAME is logged in and the gateway relays for it
# (MARK: gateway log line count before it started).
shim_up() {
	vdi_wait_log "$1" "connected to" 20 && vdi_wait_log "$GW_NAME" "event=relay_start" 20 "$2"
}

# --- the broker's state -----------------------------------------------------
sessions_json() { "$VDICTL" --json sessions list; }
# live_count: live sessions (pending, active, disconnected)
live_count() {
	sessions_json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["sessions"]))'
}
# sid_of USER: the user's live session id
sid_of() {
	sessions_json | python3 -c 'import json,sys
for s in json.load(sys.stdin)["sessions"]:
    if s["user"] == sys.argv[1]:
        print(s["id"]); break' "$1"
}
# sfield SID KEY: a field of a live session (state, desktop, device...)
sfield() {
	sessions_json | python3 -c 'import json,sys
for s in json.load(sys.stdin)["sessions"]:
    if s["id"] == sys.argv[1]:
        print(s.get(sys.argv[2], "")); break' "$1" "$2"
}
# sstate_is SID STATE
sstate_is() { [ "$(sfield "$1" state)" = "$2" ]; }
# audit_rows FILE ARGS...: vdictl audit ARGS into $VDI_RUN/FILE
audit_rows() {
	local f=$1
	shift
	"$VDICTL" audit "$@" >"$VDI_RUN/$f" 2>&1
}
# audit_has FILE PATTERN...: one row of FILE matches every (grep -E) pattern
audit_has() {
	local f=$VDI_RUN/$1 tmp
	shift
	tmp=$(cat "$f")
	for p in "$@"; do
		tmp=$(printf '%s\n' "$tmp" | grep -E -- "$p") || return 1
	done
	[ -n "$tmp" ]
}
# gw_since MARK TEXT: the gateway logged TEXT after MARK
gw_has() { vdi_log_since "$GW_NAME" "$1" | grep -qF -- "$2"; }
ms_now() { echo $(( $(date +%s%N) / 1000000 )); }

# base_policy LIMITS [EXTRA-TOP-LEVEL] [RULES] [POOLS]: city-a with field
# and shared tablets, two pooled desktop slots on the one real desktop
# (127.0.0.1 and 127.0.0.2 reach the same freerdp-shadow-cli), every
# city-a user allowed from loopback.
base_policy() {
	local pools=${4:-} rules=${3:-}
	[ -n "$pools" ] || pools="pools = {
  field = { tenant = \"city-a\"; zone = \"dc\"; assignment = \"pooled\";
            security = \"tls\"; capacity = 1; desktops = (
              { name = \"field-1\"; address = \"127.0.0.1:$DESKTOP_PORT\"; },
              { name = \"field-2\"; address = \"127.0.0.2:$DESKTOP_PORT\"; } ); };
};"
	[ -n "$rules" ] || rules='  { name = "city-a-field"; action = "allow"; tenants = ["city-a"];
    sites = ["loopback"]; pools = ["field"]; }'
	cat <<EOP
version = 1;
limits = { $1 };
sites = { loopback = ["127.0.0.0/8"]; };
zones = { dc = { networks = ["127.0.0.0/8"]; }; };
tenants = {
  city-a = {
    ca = "pki/city-a/ca.pem"; crl = "pki/city-a/crl.pem";
    device = { subject = { O = "city-a"; };
               classes = ["field-tablet", "shared-tablet"];
               shared_classes = ["shared-tablet"]; };
    pam_service = "vdi-city-a";
  };
};
$pools
rules = (
$rules
);
$2
EOP
}
