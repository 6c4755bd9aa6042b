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
# How xrdp runs here without touching the machine's xrdp or /etc/xrdp:
# - xrdp 0.9 has compiled-in paths: /etc/xrdp (xrdp reads the sesman port
#   from /etc/xrdp/sesman.ini, keymaps, rsakeys.ini), /run/xrdp (pid files,
#   whose mere presence stops a second xrdp, and sockdir, the sockets of
#   chansrv and the displays). Each daemon therefore runs in a private
#   mount namespace (unshare) where the run folder's xrdp/etc and
#   xrdp/run are bind-mounted over /etc/xrdp and /run/xrdp; nothing
#   outside the namespace sees them. It is also a private PID namespace:
#   when the test stops sesman, the kernel ends the whole session (Xvnc,
#   chansrv, window manager) with it.
# - Unprivileged: as root, xrdp and sesman drop to nobody (setpriv) inside
#   the namespace; not root, a user namespace gives the same view. sesman
#   runs under pam_wrapper (service "xrdp-sesman" from the run folder:
#   pam_matrix, then pam_permit for the session), nss_wrapper (alice and
#   bob exist only in the run folder's passwd, homes in the run folder,
#   the uid the daemons run as) and uid_wrapper (sesman's setgid,
#   initgroups and setuid to the session user succeed without privilege).
#   Xvnc, chansrv and the window manager are started by sesman with a
#   cleared environment: real processes of the same unprivileged uid.
. "${top_srcdir:?run through make check}/tests/integration/lib.sh"
vdi_init
. "$VDI_SRCDIR/tests/integration/broker/env.sh"
. "$VDI_SRCDIR/tests/integration/gateway/env.sh"
vdi_require xfreerdp freerdp2-x11
vdi_require xwd x11-apps
vdi_require xrdp xrdp
vdi_require xrdp-sesman xrdp
vdi_require Xvnc tigervnc-standalone-server
vdi_require xsetroot x11-xserver-utils
vdi_require xauth xauth
vdi_require unshare util-linux
vdi_require setpriv util-linux
LIBDIR=/usr/lib/x86_64-linux-gnu
[ -d "$LIBDIR" ] || LIBDIR=$(dirname "$(ldconfig -p | sed -n 's/.*=> \(.*libpam_wrapper\.so\)$/\1/p' | head -n1)")
for w in nss_wrapper:libnss-wrapper uid_wrapper:libuid-wrapper pam_wrapper:libpam-wrapper; do
	[ -f "$LIBDIR/lib${w%%:*}.so" ] ||
		vdi_skip "lib${w%%:*}.so not found: install the Debian package '${w#*:}'"
done
[ -f /usr/lib/x86_64-linux-gnu/security/pam_permit.so ] ||
	[ -f /lib/x86_64-linux-gnu/security/pam_permit.so ] ||
	vdi_skip "pam_permit.so not found: install the Debian package 'libpam-modules'"

# The namespace: as root a mount + PID namespace and a drop to nobody;
# otherwise the same in a user namespace (if the kernel allows it).
NSFLAGS=(-m -p -f --kill-child --mount-proc --propagation private)
if [ "$(id -u)" = 0 ]; then
	RUNAS=(setpriv --reuid=nobody --regid=nogroup --clear-groups --)
	XUID=$(id -u nobody)
	XGID=$(getent group nogroup | cut -d: -f3)
else
	NSFLAGS=(-r "${NSFLAGS[@]}")
	RUNAS=()
	XUID=0 # the ids inside the user namespace
	XGID=0
	unshare "${NSFLAGS[@]}" true 2>/dev/null ||
		vdi_skip "not root and no user namespaces: xrdp needs a private /etc/xrdp and /run/xrdp"
fi

broker_setup
gateway_setup
A="$VDI_PKI/city-a/devices"

# --- xrdp and sesman, configured in $VDI_RUN/xrdp ------------------------------
XR=$VDI_RUN/xrdp
mkdir -p "$XR/etc" "$XR/run/sockdir" "$XR/home/alice" "$XR/home/bob" "$XR/pam"
chmod 1777 "$XR/run/sockdir"
set -- $(vdi_free_port 2)
XRDP_PORT=$1
SESMAN_PORT=$2
# sesman takes the first display from here on that is free (X socket,
# lock file, VNC port 5900+N); Xvfbs of other tests use 500-899.
DISP_OFFSET=$((100 + RANDOM % 300))
cp "$VDI_PKI/infra/desktop-2.pem" "$XR/etc/cert.pem"
cp "$VDI_PKI/infra/desktop-2.key" "$XR/etc/key.pem"
cp /etc/xrdp/km-*.ini "$XR/etc/" 2>/dev/null
# Only its existence is checked (RDP security is off): never copy the
# machine's key.
xrdp-keygen xrdp "$XR/etc/rsakeys.ini" 2048 >"$VDI_RUN/xrdp-keygen.log" 2>&1 ||
	vdi_die "xrdp-keygen failed"

cat >"$XR/etc/xrdp.ini" <<EOP
[Globals]
ini_version=1
fork=false
port=tcp://127.0.0.1:$XRDP_PORT
tcp_nodelay=true
security_layer=tls
certificate=$XR/etc/cert.pem
key_file=$XR/etc/key.pem
ssl_protocols=TLSv1.2, TLSv1.3
autorun=Xvnc
allow_channels=true
allow_multimon=true
bitmap_cache=true
bitmap_compression=true
bulk_compression=true
max_bpp=32
new_cursors=true
use_fastpath=both

[Logging]
LogFile=$VDI_RUN/xrdp.log
LogLevel=DEBUG
EnableSyslog=false

[Channels]
rdpdr=true
rdpsnd=true
drdynvc=true
cliprdr=true
rail=true
xrdpvr=true
tcutils=true

[Xvnc]
name=Xvnc
lib=libvnc.so
username=ask
password=ask
ip=127.0.0.1
port=-1
EOP

# The "window manager": waits while the X server lives; the test draws.
cat >"$XR/etc/wm.sh" <<'EOP'
#!/bin/sh
while xsetroot >/dev/null 2>&1; do sleep 1; done
EOP
chmod 755 "$XR/etc/wm.sh"

cat >"$XR/etc/sesman.ini" <<EOP
[Globals]
ListenAddress=127.0.0.1
ListenPort=$SESMAN_PORT
EnableUserWindowManager=false
UserWindowManager=startwm.sh
DefaultWindowManager=$XR/etc/wm.sh
ReconnectScript=$XR/etc/wm.sh

[Security]
AllowRootLogin=false
MaxLoginRetry=4
AlwaysGroupCheck=false
RestrictOutboundClipboard=none
RestrictInboundClipboard=none

[Sessions]
X11DisplayOffset=$DISP_OFFSET
MaxSessions=4
KillDisconnected=false
DisconnectedTimeLimit=0
IdleTimeLimit=0
Policy=Default

[Logging]
LogFile=$VDI_RUN/sesman.log
LogLevel=DEBUG
EnableSyslog=false

[Xvnc]
param=Xvnc
param=-bs
param=-nolisten
param=tcp
param=-localhost
param=-dpi
param=96

[Chansrv]
FuseMountName=thinclient_drives
FileUmask=077
EnableFuseMount=false

[ChansrvLogging]
LogLevel=DEBUG
EnableSyslog=false

[SessionVariables]
EOP

# PAM service "xrdp-sesman" for pam_wrapper; its own users (the passwords
# are the broker's, so single sign-on is what makes alice's login work).
PAMMODS=$LIBDIR/pam_wrapper
cat >"$XR/pam/passdb" <<EOP
alice:alice-pw:xrdp-sesman
bob:bob-pw:xrdp-sesman
EOP
cat >"$XR/pam/xrdp-sesman" <<EOP
auth required $PAMMODS/pam_matrix.so passdb=$XR/pam/passdb
account required $PAMMODS/pam_matrix.so passdb=$XR/pam/passdb
session required pam_permit.so
EOP
cat >"$XR/passwd" <<EOP
root:x:0:0:root:/root:/bin/sh
alice:x:$XUID:$XGID:alice:$XR/home/alice:/bin/sh
bob:x:$XUID:$XGID:bob:$XR/home/bob:/bin/sh
EOP
cat >"$XR/group" <<EOP
root:x:0:
users:x:$XGID:alice,bob
EOP
[ "$(id -u)" = 0 ] && chown -R nobody:nogroup "$XR/etc" "$XR/home"
chmod 0600 "$XR/etc/key.pem"

# ns.sh CMD...: the private view of /etc/xrdp and /run/xrdp, then CMD
# (as nobody when root).
cat >"$XR/ns.sh" <<EOP
#!/bin/sh
set -e
if [ -d /run/xrdp ]; then
	mount --bind "$XR/run" /run/xrdp
else
	mount -t tmpfs -o mode=0755 tmpfs /run
	mkdir /run/xrdp
	mount --bind "$XR/run" /run/xrdp
fi
mount --bind "$XR/etc" /etc/xrdp
exec "\$@"
EOP
chmod 755 "$XR/ns.sh"

vdi_start sesman-d unshare "${NSFLAGS[@]}" "$XR/ns.sh" "${RUNAS[@]}" env \
	LD_PRELOAD="$LIBDIR/libuid_wrapper.so $LIBDIR/libnss_wrapper.so $LIBDIR/libpam_wrapper.so" \
	UID_WRAPPER=1 UID_WRAPPER_ROOT=1 UID_WRAPPER_DISABLE_DEEPBIND=1 \
	NSS_WRAPPER_PASSWD="$XR/passwd" NSS_WRAPPER_GROUP="$XR/group" \
	NSS_WRAPPER_DISABLE_DEEPBIND=1 \
	PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$XR/pam" PAM_WRAPPER_DISABLE_DEEPBIND=1 \
	xrdp-sesman -n -c /etc/xrdp/sesman.ini
vdi_wait_log sesman "starting xrdp-sesman" 10 || vdi_die "xrdp-sesman did not start"
vdi_start xrdp-d unshare "${NSFLAGS[@]}" "$XR/ns.sh" "${RUNAS[@]}" \
	xrdp -n -c /etc/xrdp/xrdp.ini
vdi_wait_port "$XRDP_PORT" 15 xrdp-d || vdi_die "xrdp did not start"
vdi_pass "xrdp and xrdp-sesman run from the run folder's configuration"
if [ "$(id -u)" = 0 ]; then
	# unshare's child is xrdp itself (ns.sh and setpriv exec it)
	vdi_assert_eq "xrdp runs as nobody" nobody \
		"$(ps -o user= -p "$(pgrep -P "$(vdi_pid xrdp-d)" | head -n1)" | tr -d ' ')"
	vdi_assert_eq "xrdp-sesman runs as nobody" nobody \
		"$(ps -o user= -p "$(pgrep -P "$(vdi_pid sesman-d)" | head -n1)" | tr -d ' ')"
fi

# The broker's policy: alice's own desktop is this xrdp, with its pin.
XRDP_PIN=$(desktop_pin 127.0.0.1 "$XRDP_PORT") || vdi_die "cannot read xrdp's certificate"
vdi_assert_eq "xrdp presents infra/desktop-2" \
	"$(vdi_thumbprint "$VDI_PKI/infra/desktop-2.pem")" "$XRDP_PIN"
sed -i "s|{ name = \"own-alice\"; address = \"[^\"]*\"; pin = \"[^\"]*\"; }|{ name = \"own-alice\"; address = \"127.0.0.1:$XRDP_PORT\"; pin = \"$XRDP_PIN\"; }|" \
	"$VDI_RUN/policy.conf"
grep -q "127.0.0.1:$XRDP_PORT\"; pin = \"$XRDP_PIN\"" "$VDI_RUN/policy.conf" ||
	vdi_die "could not point own-alice at xrdp in policy.conf"

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
	vdi_wait_log sesman "Session started successfully for user alice" 20 "$smark"
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
	vdi_wait_log sesman "Session started successfully for user bob" 20 "$smark"
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
