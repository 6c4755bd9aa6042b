#!/bin/bash
# vdi-connect end to end against a REAL xrdp + Xvnc desktop
# (tests/integration/xrdp/env.sh), everything under Xvfb: vdi-connect
# (device identity from a PKCS#12 file with a passphrase) logs alice in at
# the real broker, answers the PAM prompt from a pipe, tunnels through the
# real gateway and launches the real xfreerdp, whose window must show the
# colour the test draws on alice's Xvnc. Between the shim and the gateway
# sits a TCP relay the test cuts, as a network drop would: the same X
# display must be back within 2 seconds without a password prompt (sesman
# reconnects instead of creating a session, the broker keeps its session
# id). vdi-connect --logoff ends the broker's session at the end; xrdp
# with Xvnc keeps the X session (RDP gives a client no way to end it).
. "${top_srcdir:?run through make check}/tests/integration/lib.sh"
vdi_init
. "$VDI_SRCDIR/tests/integration/broker/env.sh"
. "$VDI_SRCDIR/tests/integration/gateway/env.sh"
. "$VDI_SRCDIR/tests/integration/xrdp/env.sh"
vdi_require xfreerdp freerdp2-x11
vdi_require xwd x11-apps
xrdp_require
SHIM="$VDI_BUILDDIR/vdi-connect"
[ -x "$SHIM" ] || vdi_die "$SHIM not built"
broker_setup
gateway_setup
A="$VDI_PKI/city-a/devices"
[ -s "$A/tablet-1.p12" ] || vdi_die "mkpki.sh made no city-a/devices/tablet-1.p12"

# --- the world: xrdp as alice's desktop, the gateway behind a cuttable relay ---
xrdp_setup
xrdp_start
xrdp_policy own-alice
set -- $(vdi_free_port 2)
GWP=$1
RELAY_PORT=$2
sed -i "s|^listen = \"127.0.0.1:0\";|listen = \"127.0.0.1:$GWP\";|" "$VDI_RUN/gatewayd.conf"
sed -i "s|address = \"127.0.0.1:9443\"|address = \"127.0.0.1:$RELAY_PORT\"|" \
	"$VDI_RUN/brokerd.conf"

# A TCP relay the test can cut: SIGUSR1 resets every open connection (as a
# network change does) and keeps listening (as in test_shim.sh).
vdi_start relay python3 "$VDI_SRCDIR/tests/peers/cut-relay.py" "$RELAY_PORT" 127.0.0.1 "$GWP"
vdi_wait_log relay listening 10 || vdi_die "relay did not start"

broker_start
gateway_start
[ "$GW_PORT" = "$GWP" ] || vdi_die "gateway not on its fixed port"

# --- the device: PKCS#12 identity, a fake home, the client's screen ----------
xvfb_start xvfb-client 1024x768x24
CDISP=$XVFB_DISPLAY
DEV_HOME=$VDI_RUN/device-home
DEV_TMP=$VDI_RUN/device-tmp
mkdir -p "$DEV_HOME" "$DEV_TMP"
cat >"$VDI_RUN/connect.conf" <<EOC
# vdi-connect for the integration test: the device identity as PKCS#12
broker_url = "$BROKER_URL";
ca = "$VDI_PKI/infra/ca.pem";
device = { pkcs12 = "$A/tablet-1.p12"; passphrase = "test"; };
gateway_rdp_fingerprint = "$(echo "$INNER_PIN" | sed 's/../&:/g; s/:$//')";
rdp = { command = "/usr/bin/xfreerdp"; size = "800x600"; };
reconnect = { initial_delay_ms = 50; max_delay = "1s"; give_up_after = "20s"; };
connect_timeout = "5s";
EOC
vdi_check "vdi-connect -t accepts the PKCS#12 configuration" \
	"$SHIM" -t -f "$VDI_RUN/connect.conf"
sed 's/passphrase = "test"/passphrase = "wrong"/' "$VDI_RUN/connect.conf" \
	>"$VDI_RUN/badpass.conf"
echo alice-pw | HOME=$DEV_HOME TMPDIR=$DEV_TMP DISPLAY=":$CDISP" \
	timeout -k 2 30 "$SHIM" -f "$VDI_RUN/badpass.conf" -u alice \
	>"$VDI_RUN/badpass.log" 2>&1
vdi_assert_eq "a wrong PKCS#12 passphrase: exit 2" 2 "$?"

# screen_has DISPLAY RRGGBB: at least half of the 800x600 session has the
# colour (exactly: Xvnc and RDP carry 24-bit colour losslessly).
screen_has() {
	xwd -root -silent -display ":$1" >"$VDI_RUN/shot.xwd" 2>/dev/null || return 1
	python3 - "$VDI_RUN/shot.xwd" "$2" <<'PY'
import sys
d = open(sys.argv[1], "rb").read()
h = [int.from_bytes(d[i:i + 4], "big") for i in range(0, 100, 4)]
hdr, width, height, order, bpp, bpl = h[0], h[4], h[5], h[7], h[11], h[12]
if bpp != 32:
    sys.exit(1)
rgb = bytes.fromhex(sys.argv[2])
want = rgb[::-1] if order == 0 else rgb
px = d[hdr + h[19] * 12:]
n = 0
for y in range(0, height, 4):
    row = px[y * bpl:(y + 1) * bpl]
    for x in range(0, width, 4):
        p = row[4 * x:4 * x + 4]
        if (p[0:3] if order == 0 else p[1:4]) == want:
            n += 1
sys.exit(0 if n * 16 >= 800 * 600 // 2 else 1)
PY
}

# client_pid: the xfreerdp that vdi-connect launched.
client_pid() {
	local p q
	for p in $(vdi_pid shim) $(pgrep -P "$(vdi_pid shim)"); do
		for q in $(pgrep -P "$p" -x xfreerdp); do
			echo "$q"
			return 0
		done
	done
	return 1
}

# broker_state [ID]: "ID STATE" of session ID (default: alice's only
# session that has not ended) from vdictl.
broker_state() {
	"$VDICTL" --json sessions list --all | python3 -c '
import json, sys
want = sys.argv[1]
for s in json.load(sys.stdin)["sessions"]:
    if (s["id"] == want) or (not want and s["user"] == "alice" and s["state"] != "ended"):
        print(s["id"], s["state"])
        break
' "${1:-}"
}

# --- 1. login with the PKCS#12 identity, PAM prompt answered from a pipe -------
mkfifo "$VDI_RUN/answers"
gmark=$(vdi_log_mark "$GW_NAME")
smark=$(vdi_log_mark sesman)
HOME=$DEV_HOME TMPDIR=$DEV_TMP DISPLAY=":$CDISP" XDG_RUNTIME_DIR= \
	vdi_start_stdin shim "$VDI_RUN/answers" "$SHIM" -l info \
	-f "$VDI_RUN/connect.conf" -u alice --logoff
# The writer keeps the pipe open (a closed pipe is end of file to the
# shim); the answer goes only once the prompt is there.
exec 7>"$VDI_RUN/answers"
vdi_check "vdi-connect shows the PAM password prompt" \
	vdi_wait_log shim "Password" 20
echo alice-pw >&7
vdi_check "alice logs in through vdi-connect (PKCS#12 device identity)" \
	vdi_wait_log shim "logged in, desktop" 20
vdi_check "the gateway relays xfreerdp's session" \
	vdi_wait_log "$GW_NAME" "event=relay_start" 20 "$gmark"
vdi_check "sesman authenticates alice (the gateway's sealed password)" \
	vdi_wait_log sesman "created session (access granted): username alice" 20 "$smark"
vdi_check "sesman starts her Xvnc session" \
	vdi_wait_log sesman "Session started successfully for user alice" 60 "$smark"
ADISP=$(xrdp_display alice "$smark")
[ -n "$ADISP" ] || vdi_die "no display for alice in sesman.log"
vdi_log "alice's Xvnc is :$ADISP"
vdi_wait_until 10 xrdp_x alice "$ADISP" xsetroot >/dev/null 2>&1
vdi_check_not "the client window is not #2a7f3c before the test draws" \
	screen_has "$CDISP" 2a7f3c
xrdp_x alice "$ADISP" xsetroot -solid '#2a7f3c'
vdi_check "the test draws #2a7f3c on alice's Xvnc" test $? -eq 0
vdi_check "vdi-connect's xfreerdp window shows alice's #2a7f3c desktop" \
	vdi_wait_until 20 screen_has "$CDISP" 2a7f3c
read -r SID SSTATE <<<"$(broker_state)"
vdi_assert_eq "the broker has alice's session active" active "$SSTATE"
vdi_log "broker session $SID"
XPID=$(client_pid)
vdi_check_not "no password on xfreerdp's command line" \
	sh -c "tr '\0' ' ' </proc/$XPID/cmdline | grep -q -e alice-pw -e '/p:'"

# --- 2. the tunnel is cut: the same X display is back within 2 s ---------------
sleep 1
gmark=$(vdi_log_mark "$GW_NAME")
smark=$(vdi_log_mark sesman)
xmark=$(vdi_log_mark shim)
t0=$(date +%s%N)
vdi_signal relay USR1
vdi_check "vdi-connect notices the drop" \
	vdi_wait_log shim "connection to the desktop was lost" 10 "$xmark"
vdi_check "xrdp is given alice's session again" \
	vdi_wait_log sesman "reconnected session: username alice" 10 "$smark"
t1=$(date +%s%N)
vdi_wait_until 10 screen_has "$CDISP" 2a7f3c
t2=$(date +%s%N)
back=$(( (t1 - t0) / 1000000 ))
pixels=$(( (t2 - t0) / 1000000 ))
echo "# reconnect: tunnel cut -> sesman gives xrdp alice's display again after $back ms; its pixels seen in the new window after $pixels ms (screenshot polling included)"
vdi_log_since shim "$xmark" | grep -o 'Reconnected to [^ ]* in [0-9]* ms' | sed 's/^/# shim: /'
vdi_check "the desktop session is back within 2 s ($back ms)" test "$back" -lt 2000
vdi_check "the window shows the colour again (after $pixels ms)" screen_has "$CDISP" 2a7f3c
vdi_assert_eq "... without a password prompt" 1 "$(grep -c 'Password' "$VDI_RUN/shim.log")"
vdi_check "... through a new tunnel" \
	vdi_wait_log "$GW_NAME" "event=relay_start" 5 "$gmark"
vdi_log_since sesman "$smark" >"$VDI_RUN/sesman-after-cut.txt"
vdi_assert_contains "sesman: the same display :$ADISP" "$VDI_RUN/sesman-after-cut.txt" \
	"reconnected session: username alice, display :$ADISP.0"
vdi_assert_lacks "sesman: no new session created after the drop" \
	"$VDI_RUN/sesman-after-cut.txt" "created session"
vdi_assert_lacks "sesman: no new X server started after the drop" \
	"$VDI_RUN/sesman-after-cut.txt" "Session started successfully"
vdi_check "alice's Xvnc :$ADISP still runs" sh -c "pgrep -f '[X]vnc :$ADISP ' >/dev/null"
read -r SID2 SSTATE2 <<<"$(broker_state)"
vdi_assert_eq "the broker's session id is unchanged" "$SID" "$SID2"
vdi_assert_eq "... and active" active "$SSTATE2"

# --- 3. --logoff: the broker's session ends -----------------------------------
# RDP gives a client no way to end the session on the desktop: xrdp 0.9
# denies the client's shutdown request, and sesman's limits for
# disconnected sessions work with Xorg only. What --logoff guarantees is the
# broker side: the session ends, its tickets die, and the tunnel is cut.
kill -TERM "$(client_pid)"
vdi_wait_exit shim 20
vdi_assert_eq "closing the client window ends vdi-connect with 0" 0 "$?"
exec 7>&-
vdi_assert_contains "vdi-connect logged off" "$VDI_RUN/shim.log" \
	"Desktop session ended (logoff)."
vdi_assert_lacks "... without calling the answer an error" "$VDI_RUN/shim.log" \
	"does not understand"
read -r SID3 SSTATE3 <<<"$(broker_state "$SID")"
vdi_assert_eq "the broker shows alice's session $SID ended" "$SID ended" "$SID3 $SSTATE3"
vdi_check "the broker audits the logoff" sh -c \
	"'$VDICTL' audit --user alice | grep -q 'action=logoff outcome=ok'"
vdi_finish
