#!/bin/bash
# vdi-connect end to end: the real broker and gateway
# (tests/integration/broker/env.sh, gateway/env.sh), a real desktop
# (freerdp-shadow-cli on Xvfb, solid DESKTOP_RGB background), and
# vdi-connect launching the real xfreerdp on its own Xvfb. Between the shim
# and the gateway sits a small TCP relay the test can cut, as a network drop
# would.
. "${top_srcdir:?run through make check}/tests/integration/lib.sh"
vdi_init
. "$VDI_SRCDIR/tests/integration/broker/env.sh"
. "$VDI_SRCDIR/tests/integration/gateway/env.sh"
vdi_require xfreerdp freerdp2-x11
vdi_require xwd x11-apps
vdi_require xsetroot x11-xserver-utils
vdi_require strace strace
SHIM="$VDI_BUILDDIR/vdi-connect"
[ -x "$SHIM" ] || vdi_die "$SHIM not built"
broker_setup
gateway_setup
A="$VDI_PKI/city-a/devices"
B="$VDI_PKI/city-b/devices"

# --- the world: gateway on a fixed port, clients sent to a cuttable relay -----
set -- $(vdi_free_port 2)
GWP=$1
RELAY_PORT=$2
sed -i "s|^listen = \"127.0.0.1:0\";|listen = \"127.0.0.1:$GWP\";|" "$VDI_RUN/gatewayd.conf"
sed -i "s|address = \"127.0.0.1:9443\"|address = \"127.0.0.1:$RELAY_PORT\"|" \
	"$VDI_RUN/brokerd.conf"
# olga (city-b) may only work in a window that is never now: outside hours.
H=$(( ($(date -u +%-H) + 12) % 24 ))
sed -i "s|^zones = |time_windows = { never-now = { time_zone = \"UTC\"; hours = \"$(printf '%02d:00-%02d:30' $H $H)\"; }; };\nzones = |" \
	"$VDI_RUN/policy.conf"
sed -i 's|{ name = "city-b"; action = "allow"; tenants = \["city-b"\];|{ name = "city-b"; action = "allow"; tenants = ["city-b"]; time = ["never-now"];|' \
	"$VDI_RUN/policy.conf"
grep -q 'time = \["never-now"\]' "$VDI_RUN/policy.conf" || vdi_die "could not add the time window"

vdi_start relay python3 "$VDI_SRCDIR/tests/peers/cut-relay.py" "$RELAY_PORT" 127.0.0.1 "$GWP"
vdi_wait_log relay listening 10 || vdi_die "relay did not start"

broker_start
gateway_start
[ "$GW_PORT" = "$GWP" ] || vdi_die "gateway not on its fixed port"

# --- the device: configuration, a fake home, the client's screen --------------
xvfb_start xvfb-client 1024x768x24
CDISP=$XVFB_DISPLAY
DEV_HOME=$VDI_RUN/device-home
DEV_TMP=$VDI_RUN/device-tmp
mkdir -p "$DEV_HOME" "$DEV_TMP"
echo "keep me" >"$DEV_HOME/notes.txt"

# connect_conf FILE DEVICE-BASE [EXTRA-LINES]
connect_conf() {
	cat >"$1" <<EOC
# vdi-connect for the integration test
broker_url = "$BROKER_URL";
ca = "$VDI_PKI/infra/ca.pem";
device = { cert = "$2.pem"; key = "$2.key"; };
gateway_rdp_fingerprint = "$(echo "$INNER_PIN" | sed 's/../&:/g; s/:$//')";
rdp = {
  command = "${RDP_COMMAND:-/usr/bin/xfreerdp}";
  size = "800x600";
  keyboard = { layout = "jp106"; };
};
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
	HOME=$DEV_HOME TMPDIR=$DEV_TMP DISPLAY=":$CDISP" XDG_RUNTIME_DIR= \
		vdi_start_stdin "$name" "$VDI_RUN/$name.answers" \
		${SHIM_WRAP:-} "$SHIM" -l info -f "$conf" -u "$user" ${SHIM_ARGS:-}
}

# shim_fail NAME CONF USER ANSWERS...: runs to the end; exit status in
# $VDI_RUN/NAME.rc
shim_fail() {
	local name=$1 conf=$2 user=$3
	shift 3
	printf '%s\n' "$@" >"$VDI_RUN/$name.answers"
	HOME=$DEV_HOME TMPDIR=$DEV_TMP DISPLAY=":$CDISP" XDG_RUNTIME_DIR= \
		timeout -k 2 40 "$SHIM" -f "$conf" -u "$user" \
		<"$VDI_RUN/$name.answers" >"$VDI_RUN/$name.log" 2>&1
	echo $? >"$VDI_RUN/$name.rc"
}

# client_pid NAME: the xfreerdp that NAME's vdi-connect launched (other
# tests may run xfreerdp at the same time).
client_pid() {
	local p q
	for p in $(vdi_pid "$1") $(pgrep -P "$(vdi_pid "$1")"); do
		for q in $(pgrep -P "$p" -x xfreerdp); do
			echo "$q"
			return 0
		done
	done
	return 1
}

# colour_share FILE RRGGBB: percent of the screen within 12 of the colour.
colour_share() {
	python3 - "$1" "$2" <<'PY'
import sys
d = open(sys.argv[1], "rb").read()
be = lambda o: int.from_bytes(d[o:o + 4], "big")
hdr, w, h, bpp, bpl, ncol = be(0), be(16), be(20), be(44), be(48), be(76)
want = bytes.fromhex(sys.argv[2])
px = d[hdr + ncol * 12:]
hit = tot = 0
for y in range(0, h, 4):
    row = px[y * bpl:(y + 1) * bpl]
    for x in range(0, w, 4):
        b, g, r = row[x * 4], row[x * 4 + 1], row[x * 4 + 2]
        tot += 1
        if abs(r - want[0]) <= 12 and abs(g - want[1]) <= 12 and abs(b - want[2]) <= 12:
            hit += 1
print(hit * 100 // max(tot, 1))
PY
}

connect_conf "$VDI_RUN/connect.conf" "$A/tablet-1"
vdi_check "vdi-connect -t accepts the configuration" "$SHIM" -t -f "$VDI_RUN/connect.conf"
{ cat "$VDI_RUN/connect.conf"; echo 'reconect = { enabled = true; };'; } >"$VDI_RUN/bad.conf"
"$SHIM" -t -f "$VDI_RUN/bad.conf" >"$VDI_RUN/bad.out" 2>&1
vdi_assert_eq "vdi-connect -t refuses an unknown key (exit 2)" 2 "$?"
vdi_assert_contains "... naming file:line and the key" "$VDI_RUN/bad.out" \
	"bad.conf:$(wc -l <"$VDI_RUN/bad.conf"): reconect: unknown key"

# --- 1. a full session under strace: pixels, every redirection asked ----------
# The RDP command is a wrapper asking for every redirection xfreerdp has:
# the gateway refuses them and nothing may be written on the device.
cat >"$VDI_RUN/greedy-xfreerdp" <<EOS
#!/bin/sh
exec /usr/bin/xfreerdp "\$@" +clipboard /drive:home,\$HOME /drive:tmp,/tmp +home-drive \
	/printer /smartcard /microphone /sound /usb:id:054c:0268 /video /serial:COM1,/dev/null \
	/parallel:LPT1,/dev/null /echo /geometry /multitouch
EOS
chmod +x "$VDI_RUN/greedy-xfreerdp"
RDP_COMMAND=$VDI_RUN/greedy-xfreerdp connect_conf "$VDI_RUN/greedy.conf" "$A/tablet-1"
# Files with size and time; directories by name only (making and removing
# the private directory touches TMPDIR's own time, as it must).
snapshot() {
	find "$DEV_HOME" "$DEV_TMP" \( -type d -printf '%p/\n' \) -o -printf '%p %s %T@\n' | sort
}
snapshot >"$VDI_RUN/fs.before"
mark=$(vdi_log_mark "$GW_NAME")
# (LeakSanitizer cannot run under ptrace: off for this run only.)
SHIM_WRAP="env ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 strace -f -qq -o $VDI_RUN/strace.out -e trace=%file" \
	shim shim1 "$VDI_RUN/greedy.conf" alice alice-pw
vdi_check "alice logs in through vdi-connect" vdi_wait_log shim1 "logged in, desktop" 20
vdi_check "the gateway relays xfreerdp's session" \
	vdi_wait_log "$GW_NAME" "event=relay_start" 20 "$mark"
for ch in cliprdr rdpdr rdpsnd; do
	vdi_check "the gateway refuses $ch asked for by the client" \
		vdi_wait_log "$GW_NAME" "name=$ch verdict=refused" 10 "$mark"
done
vdi_wait_until 10 client_pid shim1 >/dev/null
XPID=$(client_pid shim1)
# xfreerdp's HOME is the private directory: with XDG_RUNTIME_DIR empty and
# TMPDIR on disk it must be in /dev/shm (memory), never in TMPDIR.
PRIV=$(tr '\0' '\n' </proc/"$XPID"/environ | sed -n 's/^HOME=//p')
vdi_check "a private directory exists during the session" test -d "$PRIV"
vdi_assert_eq "... with mode 0700" 700 "$(stat -c %a "$PRIV" 2>/dev/null)"
vdi_check "... in /dev/shm, not in the disk-backed TMPDIR ($PRIV)" \
	test "${PRIV#/dev/shm/vdi-connect.}" != "$PRIV"
vdi_assert_eq "... on a memory file system" tmpfs "$(stat -f -c %T "$PRIV" 2>/dev/null)"
vdi_check "xfreerdp runs with TMPDIR in the private directory" \
	sh -c "tr '\0' '\n' </proc/$XPID/environ | grep -qx 'TMPDIR=$PRIV/tmp'"
vdi_check "xfreerdp has core dumps off" \
	sh -c "grep -E '^Max core file size +0 +0' /proc/$XPID/limits"
vdi_check_not "no password on xfreerdp's command line" \
	sh -c "tr '\0' ' ' </proc/$XPID/cmdline | grep -q -e alice-pw -e '/p:'"
vdi_check_not "no password in xfreerdp's environment" \
	sh -c "tr '\0' '\n' </proc/$XPID/environ | grep -q alice-pw"
vdi_check "xfreerdp was told the Japanese 106/109 keyboard" \
	sh -c "tr '\0' ' ' </proc/$XPID/cmdline | grep -q '/kbd:0x00000411 /kbd-type:7 /kbd-subtype:2 /kbd-fn-key:12'"
sleep 4
xwd -root -silent -display ":$CDISP" >"$VDI_RUN/client.xwd" 2>/dev/null
share=$(colour_share "$VDI_RUN/client.xwd" "$DESKTOP_RGB")
echo "# $share% of the client screen shows the desktop's colour #$DESKTOP_RGB"
vdi_check "the client window shows the desktop's pixels (>= 30% #$DESKTOP_RGB)" \
	test "${share:-0}" -ge 30
SID=$("$VDICTL" sessions list | awk '/alice/ && /active/ {print $1; exit}')
vdi_check "the broker has alice's session active" test -n "$SID"
# Ctrl-C ends cleanly.
kill -INT "$(pgrep -P "$(vdi_pid shim1)" -x vdi-connect)"
vdi_wait_exit shim1 15
vdi_assert_eq "Ctrl-C: vdi-connect exits 0" 0 "$?"
vdi_check "the private directory is removed at exit" test ! -e "$PRIV"
snapshot >"$VDI_RUN/fs.after"
vdi_check "nothing appeared or changed in the device's HOME and TMPDIR" \
	cmp -s "$VDI_RUN/fs.before" "$VDI_RUN/fs.after"
# Every file the shim and xfreerdp created or wrote, from strace: only
# inside the private directory (and devices, sockets).
python3 - "$VDI_RUN/strace.out" "$PRIV" >"$VDI_RUN/fs.writes" <<'PY'
import re, sys
priv = sys.argv[2]
out = set()
for line in open(sys.argv[1], errors="replace"):
    m = re.search(r'^\s*\d+\s+(open|openat|creat|mkdir|mkdirat|rename|renameat2?|link|linkat|symlink|symlinkat|unlink|unlinkat|rmdir|truncate|chmod|fchmodat)\((?:AT_FDCWD, |\d+, )?"([^"]*)"(.*)', line)
    if not m or "= -1" in line:
        continue
    call, path, rest = m.groups()
    if call in ("open", "openat") and not re.search(r"O_WRONLY|O_RDWR|O_CREAT|O_TRUNC", rest):
        continue
    if call in ("rename", "renameat", "renameat2", "link", "linkat", "symlink", "symlinkat"):
        m2 = re.search(r'"([^"]*)"[^"]*$', rest)
        if m2:
            path = m2.group(1)
    if path.startswith(priv) or path.startswith("/dev/") or path.startswith("/proc/") or path.startswith("/sys/"):
        continue
    out.add(call + " " + path)
print("\n".join(sorted(out)))
PY
echo "# files written outside the private directory: $(wc -w <"$VDI_RUN/fs.writes" | tr -d ' ')"
vdi_check "strace: no file written outside the private directory" \
	sh -c "! grep -q . '$VDI_RUN/fs.writes'"
vdi_check "strace: xfreerdp did use the private directory" \
	grep -q "$PRIV/config/freerdp" "$VDI_RUN/strace.out"

# --- 2. reconnect: the tunnel is cut, the same session is back in < 2 s -------
mark=$(vdi_log_mark "$GW_NAME")
shim shim2 "$VDI_RUN/connect.conf" alice alice-pw
vdi_check "alice connects again" vdi_wait_log shim2 "connected to" 20
vdi_check "... relayed" vdi_wait_log "$GW_NAME" "event=relay_start" 20 "$mark"
vdi_wait_until 5 sh -c "'$VDICTL' sessions list | grep '$SID' | grep -q active"
SID2=$("$VDICTL" sessions list | awk '/alice/ && /active/ {print $1; exit}')
vdi_assert_eq "the broker brings back the same desktop session" "$SID" "$SID2"
sleep 2
mark=$(vdi_log_mark "$GW_NAME")
smark=$(vdi_log_mark shim2)
t0=$(date +%s%N)
vdi_signal relay USR1
vdi_check "vdi-connect notices the drop" vdi_wait_log shim2 "connection to the desktop was lost" 10 "$smark"
vdi_wait_log "$GW_NAME" "event=relay_start" 10 "$mark"
t1=$(date +%s%N)
ms=$(( (t1 - t0) / 1000000 ))
echo "# reconnect: tunnel cut -> gateway relays the new session after $ms ms"
vdi_log_since shim2 "$smark" | grep -o 'Reconnected to [^ ]* in [0-9]* ms' | sed 's/^/# shim: /'
vdi_check "the session is back within 2 s ($ms ms)" test "$ms" -lt 2000
vdi_assert_eq "... without a password prompt" 1 "$(grep -c 'Password' "$VDI_RUN/shim2.log")"
vdi_wait_until 5 sh -c "'$VDICTL' sessions list | grep '$SID' | grep -q active"
SID3=$("$VDICTL" sessions list | awk '/alice/ && /active/ {print $1; exit}')
vdi_assert_eq "... the same desktop session" "$SID" "$SID3"
sleep 3
xwd -root -silent -display ":$CDISP" >"$VDI_RUN/client2.xwd" 2>/dev/null
share=$(colour_share "$VDI_RUN/client2.xwd" "$DESKTOP_RGB")
vdi_check "the desktop's pixels are back ($share%)" test "${share:-0}" -ge 30

# Gateway restart: the shim waits it out.
mark=$(vdi_log_mark shim2)
vdi_stop "$GW_NAME" 10
sleep 1
gateway_start
vdi_check "after a gateway restart the shim reconnects by itself" \
	vdi_wait_log shim2 "Reconnected to" 20 "$mark"
vdi_assert_eq "... still without a password prompt" 1 "$(grep -c 'Password' "$VDI_RUN/shim2.log")"

# --logoff-less end by closing the client window: exit 0.
kill -TERM "$(client_pid shim2)"
vdi_wait_exit shim2 15
vdi_assert_eq "closing the client ends vdi-connect with 0" 0 "$?"

# Giving up: the gateway stays away.
GIVE_UP=3s connect_conf "$VDI_RUN/giveup.conf" "$A/tablet-1"
SHIM_ARGS=--logoff shim shim3 "$VDI_RUN/giveup.conf" alice alice-pw
vdi_check "alice connects" vdi_wait_log shim3 "connected to" 20
vdi_stop "$GW_NAME" 10
vdi_wait_exit shim3 20
vdi_assert_eq "gateway gone for good: exit 8 (gave up)" 8 "$?"
vdi_assert_contains "... with a clear message" "$VDI_RUN/shim3.log" \
	"could not be restored after"
gateway_start

# --- 3. failure messages, each triggered for real --------------------------
shim_fail wrongpw "$VDI_RUN/connect.conf" bob wrong-password
vdi_assert_eq "wrong password: exit 3" 3 "$(cat "$VDI_RUN/wrongpw.rc")"
vdi_assert_contains "... 'Wrong user name or password'" "$VDI_RUN/wrongpw.log" \
	"Wrong user name or password"

connect_conf "$VDI_RUN/expired.conf" "$A/expired"
shim_fail expired "$VDI_RUN/expired.conf" bob bob-pw
vdi_assert_eq "expired device certificate: exit 4" 4 "$(cat "$VDI_RUN/expired.rc")"
EXP_DATE=$("$OPENSSL" x509 -in "$A/expired.pem" -noout -enddate | sed 's/notAfter=//')
EXP_DAY=$(date -u -d "$EXP_DATE" +%Y-%m-%d)
vdi_assert_contains "... 'certificate expired on $EXP_DAY'" "$VDI_RUN/expired.log" \
	"certificate expired on $EXP_DAY"

connect_conf "$VDI_RUN/revoked-crl.conf" "$A/revoked"
shim_fail revokedcrl "$VDI_RUN/revoked-crl.conf" bob bob-pw
vdi_assert_eq "device on the CRL: exit 4" 4 "$(cat "$VDI_RUN/revokedcrl.rc")"
vdi_assert_contains "... 'has been blocked'" "$VDI_RUN/revokedcrl.log" "has been blocked"

connect_conf "$VDI_RUN/tablet2.conf" "$A/tablet-2"
# Revoked while connected: the tunnel is cut, the reconnect refused, and
# the tablet is told so (not "start the connection again").
shim shimrev "$VDI_RUN/tablet2.conf" bob bob-pw
vdi_check "bob connects from tablet-2" vdi_wait_log shimrev "connected to" 20
"$VDICTL" devices revoke "$(vdi_thumbprint "$A/tablet-2.pem")" --reason "lost in the field" \
	>"$VDI_RUN/revoke.out" 2>&1 || vdi_die "vdictl devices revoke failed"
vdi_wait_exit shimrev 30
vdi_assert_eq "revoked while connected: exit 4" 4 "$?"
vdi_assert_contains "... 'cannot be restored from this tablet'" "$VDI_RUN/shimrev.log" \
	"cannot be restored from this tablet"
vdi_assert_contains "... 'has been blocked'" "$VDI_RUN/shimrev.log" "has been blocked"
vdi_assert_lacks "... not 'start the connection again'" "$VDI_RUN/shimrev.log" \
	"start the connection again"
"$VDICTL" devices revoke "$(vdi_thumbprint "$A/tablet-2.pem")" --reason "lost in the field" \
	>"$VDI_RUN/revoke.out" 2>&1 || vdi_die "vdictl devices revoke failed"
shim_fail revoked "$VDI_RUN/tablet2.conf" bob bob-pw
vdi_assert_eq "device revoked with vdictl: exit 4" 4 "$(cat "$VDI_RUN/revoked.rc")"
vdi_assert_contains "... 'device revoked' and the reason" "$VDI_RUN/revoked.log" \
	"lost in the field"

connect_conf "$VDI_RUN/city-b.conf" "$B/tablet-1"
shim_fail hours "$VDI_RUN/city-b.conf" olga olga-pw 424242
vdi_assert_eq "outside hours (password + one-time code first): exit 5" 5 \
	"$(cat "$VDI_RUN/hours.rc")"
vdi_assert_contains "... 'outside the allowed hours'" "$VDI_RUN/hours.log" \
	"outside the allowed hours"

"$VDICTL" desktops drain field-1 >/dev/null 2>&1 || vdi_die "vdictl desktops drain failed"
shim_fail nodesk "$VDI_RUN/connect.conf" erin erin-pw
"$VDICTL" desktops enable field-1 >/dev/null 2>&1
vdi_assert_eq "no desktop (pool drained): exit 6" 6 "$(cat "$VDI_RUN/nodesk.rc")"
vdi_assert_contains "... 'No desktop is available'" "$VDI_RUN/nodesk.log" \
	"No desktop is available"

sed "s|broker_url = \".*\";|broker_url = \"https://127.0.0.1:$DEAD_PORT\";|" \
	"$VDI_RUN/connect.conf" >"$VDI_RUN/unreach.conf"
shim_fail unreach "$VDI_RUN/unreach.conf" bob bob-pw
vdi_assert_eq "broker unreachable: exit 7" 7 "$(cat "$VDI_RUN/unreach.rc")"
vdi_assert_contains "... 'Cannot reach the VDI service'" "$VDI_RUN/unreach.log" \
	"Cannot reach the VDI service"

# A private_dir on disk is refused before the tunnel (exit 2), saying why.
connect_conf "$VDI_RUN/diskpriv.conf" "$A/tablet-1" "private_dir = \"$DEV_TMP\";"
mark=$(vdi_log_mark "$GW_NAME")
shim_fail diskpriv "$VDI_RUN/diskpriv.conf" bob bob-pw
vdi_assert_eq "private_dir on a disk: exit 2" 2 "$(cat "$VDI_RUN/diskpriv.rc")"
vdi_assert_contains "... 'No memory-backed place'" "$VDI_RUN/diskpriv.log" \
	"No memory-backed place for the desktop client's private files"
vdi_assert_contains "... naming the directory and that it is not in memory" \
	"$VDI_RUN/diskpriv.log" "private_dir $DEV_TMP is on "
vdi_check "... before any tunnel was opened" \
	sh -c "! tail -n +$((mark + 1)) '$VDI_RUN/$GW_NAME.log' | grep -q 'event=tunnel_start'"

for f in wrongpw expired revokedcrl revoked hours nodesk unreach diskpriv; do
	echo "# $f: $(grep -v -e '^Password' -e '^One' "$VDI_RUN/$f.log" | tail -1)"
done
vdi_check "no private directory left behind" \
	sh -c "! ls -d '$DEV_TMP'/vdi-connect.* 2>/dev/null | grep -q ."
vdi_finish
