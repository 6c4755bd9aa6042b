# tests/integration/xrdp/env.sh: sourced after lib.sh,
# tests/integration/broker/env.sh and gateway/env.sh. A REAL xrdp desktop
# (Debian's xrdp + xrdp-sesman + Xvnc from tigervnc), started by the test
# with its own configuration in $VDI_RUN/xrdp, for the users alice and bob
# (passwords alice-pw, bob-pw: the broker's, so single sign-on is what
# logs them in).
#
#   xrdp_require              before broker_setup: programs, wrappers,
#                             namespaces (skips when something is missing)
#   xrdp_setup                after broker_setup: configuration in $XR
#   xrdp_start                sesman (process sesman-d, log sesman.log) and
#                             xrdp (xrdp-d, xrdp.log); XRDP_PORT
#   xrdp_policy DESKTOP       points DESKTOP (e.g. own-alice) of the broker
#                             policy at xrdp, with its pin (XRDP_PIN);
#                             before broker_start
#   xrdp_display USER MARK    the display sesman started for USER after
#                             line MARK of sesman.log
#   xrdp_x USER DISPLAY CMD.. runs an X client on USER's session
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
# - sesman keeps a disconnected session (KillDisconnected=false, no time
#   limits): a new connection of the same user with the same size and
#   depth is reconnected to it ("++ reconnected session" in sesman.log).

xrdp_require() {
	vdi_require xrdp xrdp
	vdi_require xrdp-sesman xrdp
	vdi_require Xvnc tigervnc-standalone-server
	vdi_require xsetroot x11-xserver-utils
	vdi_require xdpyinfo x11-utils
	vdi_require xauth xauth
	vdi_require unshare util-linux
	vdi_require setpriv util-linux
	LIBDIR=/usr/lib/x86_64-linux-gnu
	[ -d "$LIBDIR" ] || LIBDIR=$(dirname "$(ldconfig -p | sed -n 's/.*=> \(.*libpam_wrapper\.so\)$/\1/p' | head -n1)")
	local w
	for w in nss_wrapper:libnss-wrapper uid_wrapper:libuid-wrapper pam_wrapper:libpam-wrapper; do
		[ -f "$LIBDIR/lib${w%%:*}.so" ] ||
			vdi_skip "lib${w%%:*}.so not found: install the Debian package '${w#*:}'"
	done
	[ -f /usr/lib/x86_64-linux-gnu/security/pam_permit.so ] ||
		[ -f /lib/x86_64-linux-gnu/security/pam_permit.so ] ||
		vdi_skip "pam_permit.so not found: install the Debian package 'libpam-modules'"

	# The namespace: as root a mount + PID namespace and a drop to
	# nobody; otherwise the same in a user namespace (if the kernel
	# allows it).
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
}

xrdp_setup() {
	XR=$VDI_RUN/xrdp
	mkdir -p "$XR/etc" "$XR/run/sockdir" "$XR/home/alice" "$XR/home/bob" "$XR/pam"
	chmod 1777 "$XR/run/sockdir"
	set -- $(vdi_free_port 2)
	XRDP_PORT=$1
	SESMAN_PORT=$2
	# sesman takes the first display from here on that is free (X socket,
	# lock file, VNC port 5900+N); Xvfbs of other tests use 500-899.
	# Pick a range whose displays are all free now (no socket, no lock:
	# a killed X server leaves both behind, and sesman then finds no
	# display in its range).
	local try d busy
	for try in $(seq 50); do
		DISP_OFFSET=$((100 + RANDOM % 300))
		busy=0
		for d in $(seq "$DISP_OFFSET" $((DISP_OFFSET + 5))); do
			if [ -e "/tmp/.X11-unix/X$d" ] || [ -e "/tmp/.X$d-lock" ]; then
				busy=1
				break
			fi
		done
		[ "$busy" = 0 ] && break
	done
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

	# The "window manager": waits while the X server lives; the test
	# draws. (Not "xsetroot" as the probe: without options it resets the
	# root window to its default, black, wiping what the test drew.)
	cat >"$XR/etc/wm.sh" <<'EOP'
#!/bin/sh
while xdpyinfo >/dev/null 2>&1; do sleep 1; done
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

	# PAM service "xrdp-sesman" for pam_wrapper; its own users (the
	# passwords are the broker's, so single sign-on is what makes
	# alice's login work).
	local pammods=$LIBDIR/pam_wrapper
	cat >"$XR/pam/passdb" <<EOP
alice:alice-pw:xrdp-sesman
bob:bob-pw:xrdp-sesman
EOP
	cat >"$XR/pam/xrdp-sesman" <<EOP
auth required $pammods/pam_matrix.so passdb=$XR/pam/passdb
account required $pammods/pam_matrix.so passdb=$XR/pam/passdb
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
}

xrdp_start() {
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
}

# xrdp_policy DESKTOP: DESKTOP's address and pin in policy.conf become
# xrdp's (gateway_setup has added the pin of the shadow desktop).
xrdp_policy() {
	XRDP_PIN=$(desktop_pin 127.0.0.1 "$XRDP_PORT") || vdi_die "cannot read xrdp's certificate"
	vdi_assert_eq "xrdp presents infra/desktop-2" \
		"$(vdi_thumbprint "$VDI_PKI/infra/desktop-2.pem")" "$XRDP_PIN"
	sed -i "s|{ name = \"$1\"; address = \"[^\"]*\"; pin = \"[^\"]*\"; }|{ name = \"$1\"; address = \"127.0.0.1:$XRDP_PORT\"; pin = \"$XRDP_PIN\"; }|" \
		"$VDI_RUN/policy.conf"
	grep -q "name = \"$1\"; address = \"127.0.0.1:$XRDP_PORT\"; pin = \"$XRDP_PIN\"" \
		"$VDI_RUN/policy.conf" ||
		vdi_die "could not point $1 at xrdp in policy.conf"
}

xrdp_display() {
	vdi_log_since sesman "$2" |
		sed -n "s/.*Session started successfully for user $1 on display \([0-9]*\).*/\1/p" |
		head -n1
}

xrdp_x() {
	local user=$1 disp=$2
	shift 2
	XAUTHORITY="$XR/home/$user/.Xauthority" DISPLAY=":$disp" "$@"
}
