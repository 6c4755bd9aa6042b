#!/bin/bash
# The README's main job: a demo on loopback, from a fresh Debian 12 machine.
#
#   scripts/demo.sh          build, run the demo, print a report, stop
#   scripts/demo.sh --keep   leave everything running to try vdictl
#
# It makes a throwaway PKI for two municipalities (city-a, city-b), starts
# two real desktops (freerdp-shadow-cli on Xvfb, and xrdp with Xvnc),
# vdi-brokerd with an example policy and PAM through pam_wrapper, and
# vdi-gatewayd. Tablets log in (a password; a password and a one-time
# code), one comes back with its reconnect ticket, a revoked one is turned
# away at TLS; then vdi-connect (the client shim) brings alice to her
# desktop and bob to his xrdp session, each through the gateway, with the
# real xfreerdp asking for every redirection it has: the gateway keeps
# clipboard, drives, printers, smart cards, sound and microphone out.
# Screenshots are saved and a report printed.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
keep=no
for a in "$@"; do
	case "$a" in
	--keep) keep=yes ;;
	-h|--help) sed -n '2,13p' "$0"; exit 0 ;;
	*) echo "demo.sh: unknown option $a (see --help)" >&2; exit 2 ;;
	esac
done

"$top/scripts/deps.sh"
cd "$top"
[ -x configure ] && [ configure -nt configure.ac ] || autoreconf -fi >/dev/null
mkdir -p build-demo
cd build-demo
[ -f Makefile ] || ../configure >configure.out 2>&1 || { cat configure.out; exit 1; }
echo "demo: building (log in build-demo/make.out)"
make -j"$(nproc)" vdi-brokerd vdictl vdi-gatewayd vdi-connect tests/peers/freeport \
	tests/peers/pam_vdi_otp.la tests/peers/tunnel-client \
	>make.out 2>&1 || { tail -40 make.out; exit 1; }

export top_srcdir="$top" top_builddir="$top/build-demo" OPENSSL="$(command -v openssl)"
export VDI_TEST=demo VDI_KEEP_RUN=1
. "$top/tests/integration/lib.sh"
vdi_init
. "$top/tests/integration/broker/env.sh"
. "$top/tests/integration/gateway/env.sh"
. "$top/tests/integration/xrdp/env.sh"
xrdp_require
broker_setup
gateway_setup
xrdp_setup
xrdp_start
# bob's pooled desktop (field-1) is the xrdp one
xrdp_policy field-1
# The gateway on a fixed port, which the broker hands to clients.
GWP=$(vdi_free_port)
sed -i "s|^listen = \"127.0.0.1:0\";|listen = \"127.0.0.1:$GWP\";|" "$VDI_RUN/gatewayd.conf"
sed -i "s|address = \"127.0.0.1:9443\"|address = \"127.0.0.1:$GWP\"|" "$VDI_RUN/brokerd.conf"
broker_start
gateway_start

A="$VDI_PKI/city-a/devices"
B="$VDI_PKI/city-b/devices"
t0=$(date +%s.%N)
alice=$(login "$A/tablet-1" alice alice-pw)
t1=$(date +%s.%N)
olga=$(login "$B/tablet-1" olga olga-pw 424242)
alice_ticket=$(echo "$alice" | jget "['ticket']")
t2=$(date +%s.%N)
again=$(api "$A/tablet-1" POST /v1/reconnect "{\"ticket\":\"$alice_ticket\"}")
t3=$(date +%s.%N)
api "$A/revoked" GET /v1/health >/dev/null
revoked=$(status)

# alice's desktop through vdi-connect (the client shim) and the gateway.
# vdi-connect itself launches xfreerdp hardened; to show the gateway keeps
# redirections out whatever the client asks for, the demo gives it an RDP
# client command that adds every redirection switch xfreerdp has.
xvfb_start xvfb-client 1024x768x24
cat >"$VDI_RUN/greedy-xfreerdp" <<'SH'
#!/bin/sh
exec /usr/bin/xfreerdp "$@" +clipboard /drive:home,/tmp /printer /smartcard \
	/microphone /sound /usb:id:054c:0268 /video /multitouch
SH
chmod +x "$VDI_RUN/greedy-xfreerdp"
mkdir -p "$VDI_RUN/device-home" "$VDI_RUN/device-tmp"
cat >"$VDI_RUN/connect.conf" <<EOC
# vdi-connect.conf for the demo's tablet (what an MDM would provision)
broker_url = "$BROKER_URL";
ca = "$VDI_PKI/infra/ca.pem";
device = { cert = "$A/tablet-1.pem"; key = "$A/tablet-1.key"; };
gateway_rdp_fingerprint = "$(echo "$INNER_PIN" | sed 's/../&:/g; s/:$//')";
rdp = { command = "$VDI_RUN/greedy-xfreerdp"; size = "800x600"; };
EOC
echo alice-pw >"$VDI_RUN/alice.answers"
mark=$(vdi_log_mark "$GW_NAME")
t4=$(date +%s.%N)
HOME="$VDI_RUN/device-home" TMPDIR="$VDI_RUN/device-tmp" DISPLAY=":$XVFB_DISPLAY" \
	vdi_start_stdin shim "$VDI_RUN/alice.answers" "$VDI_BUILDDIR/vdi-connect" \
	-l info -f "$VDI_RUN/connect.conf" -u alice
# First frame: the desktop's background colour covers the client window.
first_frame() {
	xwd -root -silent -display ":$XVFB_DISPLAY" | xwdtopnm 2>/dev/null >"$VDI_RUN/frame.ppm"
	python3 - "$VDI_RUN/frame.ppm" "$DESKTOP_RGB" <<'PY'
import sys
data = open(sys.argv[1], "rb").read()
want = bytes.fromhex(sys.argv[2])
parts = data.split(maxsplit=4)
px = parts[4]
near = sum(1 for i in range(0, len(px) - 2, 3 * 16)
           if all(abs(px[i + k] - want[k]) <= 8 for k in range(3)))
sys.exit(0 if near > 100000 // 16 else 1)
PY
}
vdi_wait_until 30 first_frame || vdi_die "no frame from alice's desktop"
t5=$(date +%s.%N)
sleep 2
xwd -root -silent -display ":$XVFB_DISPLAY" | xwdtopnm 2>/dev/null >"$VDI_RUN/session.ppm"
pnmtopng <"$VDI_RUN/session.ppm" >"$VDI_RUN/session.png"
SHOT="$VDI_RUN/session.png"
alice2=$("$VDICTL" --json sessions list | python3 -c 'import json,sys; print(json.dumps([s for s in json.load(sys.stdin)["sessions"] if s["user"] == "alice"][0]))')

# bob on the xrdp desktop, the same way.
xvfb_start xvfb-bob 1024x768x24
BOB_DISP=$XVFB_DISPLAY
sed "s|tablet-1|tablet-2|g" "$VDI_RUN/connect.conf" >"$VDI_RUN/connect-bob.conf"
echo bob-pw >"$VDI_RUN/bob.answers"
smark=$(vdi_log_mark sesman)
t6=$(date +%s.%N)
HOME="$VDI_RUN/device-home" TMPDIR="$VDI_RUN/device-tmp" DISPLAY=":$BOB_DISP" \
	vdi_start_stdin shim-bob "$VDI_RUN/bob.answers" "$VDI_BUILDDIR/vdi-connect" \
	-l info -f "$VDI_RUN/connect-bob.conf" -u bob
vdi_wait_until 30 grep -aq "Session started successfully for user bob" \
	"$VDI_RUN/sesman.log" || vdi_die "xrdp started no session for bob"
t7=$(date +%s.%N)
BOB_X=$(xrdp_display bob "$smark")
[ -n "$BOB_X" ] || vdi_die "no X display for bob in sesman.log"
vdi_wait_until 10 xrdp_x bob "$BOB_X" xsetroot -solid '#2e7d32' ||
	vdi_die "cannot draw on bob's xrdp session"
sleep 3
xwd -root -silent -display ":$BOB_DISP" | xwdtopnm 2>/dev/null >"$VDI_RUN/session-bob.ppm"
pnmtopng <"$VDI_RUN/session-bob.ppm" >"$VDI_RUN/session-bob.png"
refused=$(vdi_log_since "$GW_NAME" "$mark" | sed -n 's/.*name=\([^ ]*\) verdict=refused.*/\1/p' | sort -u | tr '\n' ' ')
allowed=$(vdi_log_since "$GW_NAME" "$mark" | sed -n 's/.*name=\([^ ]*\) verdict=allowed.*/\1/p' | sort -u | tr '\n' ' ')

thumb() { "$OPENSSL" x509 -in "$1.pem" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr A-F a-f; }
report() {
	echo
	echo "================ vdi demo report ================"
	printf '%-10s %-8s %-18s %-12s %-9s %s\n' USER TENANT DEVICE DESKTOP HOW TIME
	printf '%-10s %-8s %-18.16s %-12s %-9s %.3fs (password)\n' alice city-a \
		"$(thumb "$A/tablet-1")" "$(echo "$alice" | jget "['desktop']")" \
		"$(echo "$alice" | jget "['how']")" "$(echo "$t1 - $t0" | bc)"
	printf '%-10s %-8s %-18.16s %-12s %-9s %s\n' olga city-b \
		"$(thumb "$B/tablet-1")" "$(echo "$olga" | jget "['desktop']")" \
		"$(echo "$olga" | jget "['how']")" "(password + one-time code)"
	printf '%-10s %-8s %-18.16s %-12s %-9s %.3fs (ticket, no password)\n' alice city-a \
		"$(thumb "$A/tablet-1")" "$(echo "$again" | jget "['desktop']")" \
		"$(echo "$again" | jget "['how']")" "$(echo "$t3 - $t2" | bc)"
	echo
	printf '%-10s %-8s %-18.16s %-12s %-9s %.3fs (vdi-connect start to first frame)\n' alice city-a \
		"$(thumb "$A/tablet-1")" "$(echo "$alice2" | jget "['desktop']")" session \
		"$(echo "$t5 - $t4" | bc)"
	printf '%-10s %-8s %-18.16s %-12s %-9s %.3fs (vdi-connect start to xrdp login)\n' bob city-a \
		"$(thumb "$A/tablet-2")" field-1 "xrdp" "$(echo "$t7 - $t6" | bc)"
	echo
	echo "channels granted: $(echo "$alice" | jget "['channels']") (display and input only)"
	echo "channels the gateway let through: $allowed"
	echo "channels xfreerdp asked for and the gateway refused: $refused"
	echo "screenshots: $SHOT (alice, shadow desktop)"
	echo "             $VDI_RUN/session-bob.png (bob, xrdp with Xvnc)"
	echo "revoked tablet at the TLS door: $([ "$revoked" = 000 ] && echo refused || echo "ACCEPTED ($revoked)")"
	echo "desktops:"; "$VDICTL" desktops list | sed 's/^/  /'
	echo "audit chain: $("$VDICTL" audit verify)"
	echo
	echo "alice's session state: $(echo "$alice2" | jget "['state']")"
	echo "================================================="
}
report
echo
vdi_assert_eq "alice got her persistent desktop" own-alice "$(echo "$alice" | jget "['desktop']")"
vdi_assert_eq "olga passed two PAM prompts" ok "$(echo "$olga" | jget "['state']")"
vdi_assert_eq "alice reconnected to the same session without a password" \
	"$(echo "$alice" | jget "['session']")" "$(echo "$again" | jget "['session']")"
vdi_assert_eq "the revoked tablet was refused at TLS" 000 "$revoked"
vdi_check "vdi-connect is still connected" vdi_alive shim
vdi_check "bob's vdi-connect is still connected" vdi_alive shim-bob
vdi_check "bob's xrdp session shows in his client window" \
	python3 - "$VDI_RUN/session-bob.ppm" 2e7d32 <<'PY'
import sys
data = open(sys.argv[1], "rb").read()
want = bytes.fromhex(sys.argv[2])
px = data.split(maxsplit=4)[4]
near = sum(1 for i in range(0, len(px) - 2, 3 * 16)
           if all(abs(px[i + k] - want[k]) <= 8 for k in range(3)))
sys.exit(0 if near > 100000 // 16 else 1)
PY
vdi_check "clipboard refused" sh -c "echo '$refused' | grep -q cliprdr"
vdi_check "drives, printers, smart cards refused" sh -c "echo '$refused' | grep -q rdpdr"
vdi_check "screenshot saved" test -s "$SHOT"
vdi_check "the screenshot shows the desktop's background colour #$DESKTOP_RGB" \
	python3 - "$VDI_RUN/session.ppm" "$DESKTOP_RGB" <<'PY'
import sys
data = open(sys.argv[1], "rb").read()
want = bytes.fromhex(sys.argv[2])
# binary PPM: "P6" W H MAXVAL, then RGB triples
parts = data.split(maxsplit=4)
assert parts[0] == b"P6" and parts[3] == b"255", parts[:4]
px = parts[4]
near = sum(1 for i in range(0, len(px) - 2, 3)
           if all(abs(px[i + k] - want[k]) <= 8 for k in range(3)))
sys.exit(0 if near > 100000 else 1)
PY
if [ "$keep" = yes ]; then
	echo
	echo "left running (Ctrl-C to stop everything):"
	echo "  export VDI_BROKER_SOCKET=$VDI_BROKER_SOCKET"
	echo "  $VDICTL sessions list"
	echo "  screenshot: $SHOT"
	echo "  logs: $VDI_RUN/*.log"
	while vdi_alive "$BROKER_NAME"; do sleep 2; done
fi
vdi_finish
