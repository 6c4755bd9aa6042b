#!/bin/bash
# vdi-gatewayd in front of a REAL xrdp (Debian's xrdp + xrdp-sesman + Xvnc
# from tigervnc), started by this test with its own configuration in the
# run folder. Alice logs in through the broker (PAM password), the broker
# seals her credentials into the token, the gateway logs in to xrdp with
# them (TLS, Client Info autologon); xfreerdp started with every
# redirection switch must show the session's pixels and xrdp must see no
# clipboard and no device redirection channel, while the same xfreerdp
# straight to xrdp (control) does get them.
#
# How xrdp runs here (private namespaces, wrappers, no privilege): see
# tests/integration/xrdp/env.sh.
. "${top_srcdir:?run through make check}/tests/integration/lib.sh"
vdi_init
. "$VDI_SRCDIR/tests/integration/broker/env.sh"
. "$VDI_SRCDIR/tests/integration/gateway/env.sh"
. "$VDI_SRCDIR/tests/integration/xrdp/env.sh"
vdi_require xfreerdp freerdp2-x11
vdi_require xwd x11-apps
xrdp_require

broker_setup
gateway_setup
A="$VDI_PKI/city-a/devices"

# --- xrdp and sesman, configured in $VDI_RUN/xrdp ------------------------------
xrdp_setup
xrdp_start

# The broker's policy: alice's own desktop is this xrdp, with its pin.
xrdp_policy own-alice

broker_start
gateway_start
vdi_check "gateway reaches the broker" vdi_wait_log "$GW_NAME" "event=broker_connected" 10

# --- alice through the gateway, every redirection switch --------------------
out=$(login "$A/tablet-1" alice alice-pw)
vdi_assert_eq "alice logs in through the broker (PAM password)" 200 "$(status)"
TOK=$(echo "$out" | jget "['token']")
DST=$(echo "$TOK" | python3 -c 'import base64,json,sys; p=sys.stdin.read().split(".")[1]; print(json.loads(base64.urlsafe_b64decode(p+"="*(-len(p)%4)))["dst"])')
vdi_assert_eq "her token's desktop is xrdp" "127.0.0.1:$XRDP_PORT" "$DST"

start_client() { # NAME: an Xvfb for a client; its display in CLIENT_DISP
	vdi_start "$1" Xvfb -displayfd 1 -screen 0 1024x768x24 -nolisten tcp -noreset
	vdi_wait_until 10 grep -qE '^[0-9]+$' "$VDI_RUN/$1.log" || vdi_die "$1 did not start"
	CLIENT_DISP=$(grep -E '^[0-9]+$' "$VDI_RUN/$1.log" | head -n1)
	vdi_wait_until 10 xdpyinfo -display ":$CLIENT_DISP" >/dev/null 2>&1 ||
		vdi_die "$1 did not start"
}
SWITCHES=(/size:800x600 +clipboard "/drive:x,$VDI_RUN" /printer /smartcard
	/microphone /sound /usb:id:054c:0268 /video /gfx /dynamic-resolution)

# screen_has DISPLAY: at least half of the 800x600 session is #123456
screen_has() {
	xwd -root -silent -display ":$1" >"$VDI_RUN/shot-$1.xwd" 2>/dev/null || return 1
	python3 - "$VDI_RUN/shot-$1.xwd" <<'PY'
import sys
d = open(sys.argv[1], "rb").read()
h = [int.from_bytes(d[i:i + 4], "big") for i in range(0, 100, 4)]
hdr, depth, width, height, order, bpp, bpl = h[0], h[3], h[4], h[5], h[7], h[11], h[12]
if bpp != 32:
    sys.exit(1)
want = bytes([0x56, 0x34, 0x12]) if order == 0 else bytes([0x12, 0x34, 0x56])
# The colour map follows the header (ncolors entries of 12 bytes).
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

start_client xvfb-client
CDISP=$CLIENT_DISP
tunnel_open tunnel1 "$A/tablet-1" "$TOK"
vdi_wait_file "$VDI_RUN/tunnel1.port" 15 tunnel1 || vdi_die "tunnel1 got no 101"
vdi_pass "the gateway reaches xrdp (pin checked) and opens the tunnel"
gmark=$(vdi_log_mark "$GW_NAME")
xmark=$(vdi_log_mark xrdp)
smark=$(vdi_log_mark sesman)
DISPLAY=":$CDISP" vdi_start xfreerdp xfreerdp \
	"/v:127.0.0.1:$(cat "$VDI_RUN/tunnel1.port")" /sec:tls \
	"/cert:deny,fingerprint:sha256:$(echo "$INNER_PIN" | sed 's/../&:/g; s/:$//')" \
	/u:alice /p:not-her-password "${SWITCHES[@]}"
vdi_check "gateway relays" vdi_wait_log "$GW_NAME" "event=relay_start" 15 "$gmark"
vdi_check "sesman authenticates alice (the gateway's sealed password, not the client's)" \
	vdi_wait_log sesman "created session (access granted): username alice" 20 "$smark"
vdi_check "sesman starts her Xvnc session" \
	vdi_wait_log sesman "Session started successfully for user alice" 60 "$smark"
ADISP=$(vdi_log_since sesman "$smark" |
	sed -n 's/.*Session started successfully for user alice on display \([0-9]*\).*/\1/p' | head -n1)
[ -n "$ADISP" ] || vdi_die "no display for alice in sesman.log"
vdi_log "alice's Xvnc is :$ADISP"
vdi_wait_until 10 env XAUTHORITY="$XR/home/alice/.Xauthority" \
	xsetroot -display ":$ADISP" >/dev/null 2>&1
vdi_check_not "xfreerdp's window is not #123456 before the test draws" screen_has "$CDISP"
XAUTHORITY="$XR/home/alice/.Xauthority" xsetroot -display ":$ADISP" -solid '#123456'
vdi_check "the test draws #123456 on alice's Xvnc" test $? -eq 0
vdi_check "xfreerdp's window shows alice's #123456 desktop" \
	vdi_wait_until 20 screen_has "$CDISP"
vdi_check "xfreerdp is still connected" vdi_alive xfreerdp
vdi_check "the gateway refused cliprdr" \
	vdi_wait_log "$GW_NAME" "name=cliprdr verdict=refused" 5 "$gmark"
vdi_check "the gateway refused rdpdr" \
	vdi_wait_log "$GW_NAME" "name=rdpdr verdict=refused" 5 "$gmark"
vdi_log_since xrdp "$xmark" >"$VDI_RUN/xrdp-gw.txt"
vdi_assert_contains "xrdp saw the client's channel list (drdynvc)" \
	"$VDI_RUN/xrdp-gw.txt" "Adding channel: name drdynvc"
vdi_assert_lacks "xrdp: no cliprdr channel" "$VDI_RUN/xrdp-gw.txt" "name cliprdr"
vdi_assert_lacks "xrdp: no rdpdr channel" "$VDI_RUN/xrdp-gw.txt" "name rdpdr"
vdi_assert_lacks "xrdp: no rdpsnd channel" "$VDI_RUN/xrdp-gw.txt" "name rdpsnd"
ACH=$XR/home/alice/.local/share/xrdp/xrdp-chansrv.$ADISP.log
vdi_check "alice's chansrv runs and logs" vdi_wait_file "$ACH" 10
ln -sf "$ACH" "$VDI_RUN/chansrv-alice.log"
sleep 2
vdi_assert_lacks "chansrv: no clipboard set up" "$ACH" "clipboard_init"
vdi_assert_lacks "chansrv: no device redirection" "$ACH" "Detected remote"
vdi_assert_lacks "chansrv: no drive mount attempted" "$ACH" "FUSE mounts"
vdi_assert_lacks "no protocol violation" "$VDI_RUN/$GW_NAME.log" "event=relay_close"

# --- control: the same xfreerdp straight to xrdp (bob) ---------------------
start_client xvfb-direct
DDISP=$CLIENT_DISP
xmark=$(vdi_log_mark xrdp)
smark=$(vdi_log_mark sesman)
DISPLAY=":$DDISP" vdi_start xfreerdp-direct xfreerdp "/v:127.0.0.1:$XRDP_PORT" \
	/sec:tls "/cert:deny,fingerprint:sha256:$(echo "$XRDP_PIN" | sed 's/../&:/g; s/:$//')" \
	/u:bob /p:bob-pw "${SWITCHES[@]}"
vdi_check "control: sesman starts bob's session" \
	vdi_wait_log sesman "Session started successfully for user bob" 60 "$smark"
BDISP=$(vdi_log_since sesman "$smark" |
	sed -n 's/.*Session started successfully for user bob on display \([0-9]*\).*/\1/p' | head -n1)
BCH=$XR/home/bob/.local/share/xrdp/xrdp-chansrv.$BDISP.log
ln -sf "$BCH" "$VDI_RUN/chansrv-bob.log"
vdi_check "control: xrdp adds cliprdr" \
	vdi_wait_log xrdp "Adding channel: name cliprdr" 5 "$xmark"
vdi_check "control: xrdp adds rdpdr" \
	vdi_wait_log xrdp "Adding channel: name rdpdr" 5 "$xmark"
vdi_check "control: chansrv sets up the clipboard" \
	vdi_wait_until 15 grep -q "clipboard_init" "$BCH"
vdi_check "control: chansrv sees redirected devices" \
	vdi_wait_until 15 grep -q "Detected remote" "$BCH"
XAUTHORITY="$XR/home/bob/.Xauthority" xsetroot -display ":$BDISP" -solid '#123456'
vdi_check "control: bob's desktop shows too" vdi_wait_until 20 screen_has "$DDISP"

vdi_stop xfreerdp-direct 5
vdi_stop xfreerdp 5
vdi_stop xrdp-d 5
vdi_stop sesman-d 5
vdi_check "the sessions end with sesman (PID namespace)" \
	vdi_wait_until 5 sh -c "! pgrep -f '[X]vnc :$ADISP ' >/dev/null && ! pgrep -f '[X]vnc :$BDISP ' >/dev/null"
vdi_finish
