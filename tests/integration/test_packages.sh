#!/bin/bash
# test_packages.sh: installs the Debian packages (scripts/build-debs.sh)
# on this machine, configures them with a test PKI, starts both daemons
# from their installed systemd units (systemctl when systemd is PID 1,
# else the units' ExecStartPre/ExecStart/ExecReload lines run by hand, with
# a notification socket standing in for systemd's), checks that they
# answer, then purges the packages and checks that nothing is left
# running or installed.
#
#   VDI_DEBS=DIR bash tests/integration/test_packages.sh   (as root; CI does)
#
# Changes the machine (packages, /etc/vdi, /etc/pam.d/vdi, user vdi):
# root only, and refused when /etc/vdi holds a configuration it did not
# make.
if [ "$(id -u)" != 0 ]; then
	echo "SKIP: installs packages on this machine: run as root (CI does)"
	exit 77
fi
. "${top_srcdir:?set top_srcdir and top_builddir (or run through make check)}/tests/integration/lib.sh"
vdi_init
MARK=/etc/vdi/.vdi-package-test
if [ -d /etc/vdi ] && [ ! -e "$MARK" ]; then
	echo "SKIP: /etc/vdi exists and was not made by this test: it would overwrite a real installation"
	VDI_FINISHED=1
	exit 77
fi
DEBS=${VDI_DEBS:-}
[ -n "$DEBS" ] && ls "$DEBS"/vdi-broker_*.deb >/dev/null 2>&1 ||
	vdi_die "no packages in VDI_DEBS='$DEBS': run scripts/build-debs.sh DIR and set VDI_DEBS=DIR"
PKGS="vdi-broker vdi-gateway vdi-client vdi-policy-tools"
had_user=no
getent passwd vdi >/dev/null && had_user=yes

purge() {
	apt-get -o DPkg::Lock::Timeout=300 purge -y -qq $PKGS >>"$VDI_RUN/purge.log" 2>&1
}
cleanup() {
	for p in $(pgrep -u vdi 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
	if dpkg-query -W -f='${Status}' vdi-broker 2>/dev/null | grep -q installed ||
		dpkg-query -W -f='${Status}' vdi-gateway 2>/dev/null | grep -q 'config-files\|installed'; then
		purge || true
	fi
	rm -rf /etc/vdi /var/lib/vdi /run/vdi
	if [ "$had_user" = no ] && getent passwd vdi >/dev/null; then
		deluser --quiet --system vdi >/dev/null 2>&1 || userdel vdi 2>/dev/null || true
	fi
	for g in vdi vdiadmin vdiops; do
		[ "$had_user" = no ] && getent group "$g" >/dev/null &&
			{ delgroup --quiet --system "$g" >/dev/null 2>&1 || groupdel "$g" 2>/dev/null || true; }
	done
}
vdi_at_exit cleanup

# --- install ---------------------------------------------------------------
# The installation block of docs/admin-guide.md (marked guide-test:
# packages), run in the packages' folder as the guide says.
python3 - "$VDI_SRCDIR/docs/admin-guide.md" >"$VDI_RUN/install.sh" <<'PY'
import re, sys
t = open(sys.argv[1], encoding="utf-8").read()
m = re.search(r"<!-- guide-test: packages -->\n```sh\n(.*?)\n```", t, re.S)
sys.exit("no guide-test: packages block in the guide") if not m else print(m.group(1))
PY
vdi_check "the guide's installation block names the four packages" \
	sh -c "grep -q vdi-broker_ '$VDI_RUN/install.sh' && grep -q vdi-gateway_ '$VDI_RUN/install.sh' && grep -q vdi-client_ '$VDI_RUN/install.sh' && grep -q vdi-policy-tools_ '$VDI_RUN/install.sh'"
vdi_check "the four packages install (the guide's block)" \
	bash -ec "cd '$DEBS'; export DEBIAN_FRONTEND=noninteractive; apt-get() { command apt-get -o DPkg::Lock::Timeout=300 --no-install-recommends \"\$@\"; }; . '$VDI_RUN/install.sh'"
touch "$MARK"
for p in $PKGS; do
	vdi_check "$p installed" sh -c "dpkg-query -W -f='\${Status}' $p | grep -q 'install ok installed'"
done
vdi_check "service user vdi" getent passwd vdi
vdi_check "admin group vdiadmin" getent group vdiadmin
vdi_check "operators group vdiops" getent group vdiops
vdi_assert_eq "/var/lib/vdi owned by vdi, 0750" "vdi vdi 750" "$(stat -c '%U %G %a' /var/lib/vdi 2>&1)"
for f in /usr/sbin/vdi-brokerd /usr/sbin/vdictl /usr/sbin/vdi-gatewayd /usr/bin/vdi-connect /usr/bin/vdi-policy \
	/lib/systemd/system/vdi-brokerd.service /lib/systemd/system/vdi-gatewayd.service \
	/usr/lib/sysusers.d/vdi-broker.conf /usr/lib/tmpfiles.d/vdi-broker.conf; do
	vdi_check "installed: $f" test -e "$f"
done
for m in vdi-brokerd.8 vdictl.8 vdi-brokerd.conf.5 vdi-gatewayd.8 vdi-gatewayd.conf.5 vdi-connect.1 vdi-policy.1 vdi-policy.conf.5; do
	vdi_check "man page $m" sh -c "ls /usr/share/man/man${m##*.}/$m.gz"
done
conff=$(dpkg-query -W -f='${Conffiles}\n' vdi-broker vdi-gateway vdi-client)
for f in /etc/vdi/vdi-brokerd.conf /etc/vdi/vdi-gatewayd.conf /etc/vdi/connect.conf /etc/pam.d/vdi; do
	vdi_check "conffile $f" sh -c "echo '$conff' | grep -q ' $f '"
done
vdi_check "the units are Type=notify" grep -qx 'Type=notify' /lib/systemd/system/vdi-brokerd.service
vdi_check "the units call /usr/sbin" grep -qx 'ExecStart=/usr/sbin/vdi-gatewayd -f /etc/vdi/vdi-gatewayd.conf' /lib/systemd/system/vdi-gatewayd.service
vdi_check "the broker's ExecReload runs -t first" \
	sh -c "grep '^ExecReload=' /lib/systemd/system/vdi-brokerd.service | head -1 | grep -q -- ' -t '"
vdi_check "vdi-policy checks a shipped example" \
	sh -c 'ls /usr/share/doc/vdi-policy-tools/examples/ | grep -q conf'

# --- configure -------------------------------------------------------------
VDI_PKI=/etc/vdi/pki/test
OPENSSL=${OPENSSL:-openssl} sh "$VDI_SRCDIR/tests/pki/mkpki.sh" "$VDI_PKI" city-a >"$VDI_RUN/mkpki.log" 2>&1 ||
	vdi_die "mkpki.sh failed"
chgrp -R vdi "$VDI_PKI" && chmod -R g+rX "$VDI_PKI"
chmod 0640 "$VDI_PKI"/infra/*.key
openssl genpkey -algorithm ed25519 -out /etc/vdi/keys/token-ed25519.pem 2>/dev/null
openssl pkey -in /etc/vdi/keys/token-ed25519.pem -pubout -out /etc/vdi/keys/broker-token.pub
head -c 32 /dev/urandom >/etc/vdi/keys/seal.key
chmod 600 /etc/vdi/keys/token-ed25519.pem /etc/vdi/keys/seal.key
chmod 0644 /etc/vdi/keys/broker-token.pub
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-subj "/CN=vdi-gateway-rdp" -keyout /etc/vdi/pki/gateway-rdp.key -out /etc/vdi/pki/gateway-rdp.pem 2>/dev/null
chmod 600 /etc/vdi/pki/gateway-rdp.key
set -- $(vdi_free_port 4)
BPORT=$1 BMETRICS=$2 GPORT=$3 GMETRICS=$4
cat >/etc/vdi/policy.conf <<EOP
version = 1;
sites = { loopback = ["127.0.0.0/8"]; };
zones = { dc = { networks = ["127.0.0.0/8"]; }; };
tenants = {
  city-a = {
    ca = "pki/test/city-a/ca.pem"; crl = "pki/test/city-a/crl.pem";
    device = { subject = { O = "city-a"; }; classes = ["field-tablet"]; };
  };
};
pools = {
  field = { tenant = "city-a"; zone = "dc"; assignment = "pooled";
            security = "tls"; capacity = 1; desktops = (
              { name = "d-1"; address = "127.0.0.1:9"; } ); };
};
rules = ( { name = "all"; action = "allow"; tenants = ["city-a"];
            sites = ["loopback"]; pools = ["field"]; } );
EOP
# The packaged example, with the test's files and ports.
sed -e "s|^listen = .*|listen = \"127.0.0.1:$BPORT\";|" \
	-e "s|^metrics_listen = .*|metrics_listen = \"127.0.0.1:$BMETRICS\";|" \
	-e "s|/etc/vdi/pki/infra/|/etc/vdi/pki/test/infra/|" \
	-e "s|address = \"gw1.dc.example:443\"|address = \"127.0.0.1:$GPORT\"|" \
	-e '/seal_key/d' /etc/vdi/vdi-brokerd.conf >"$VDI_RUN/b.conf" && cp "$VDI_RUN/b.conf" /etc/vdi/vdi-brokerd.conf
sed -e "s|^listen = .*|listen = \"127.0.0.1:$GPORT\";|" \
	-e "s|^metrics_listen = .*|metrics_listen = \"127.0.0.1:$GMETRICS\";|" \
	-e 's|cert = "pki/gateway.pem"; key = "pki/gateway.key"|cert = "pki/test/infra/gateway.pem"; key = "pki/test/infra/gateway.key"|' \
	-e "s|url = \".*\"|url = \"https://127.0.0.1:$BPORT\"|" \
	-e 's|"pki/infra-ca.pem"|"pki/test/infra/ca.pem"|; s|"pki/infra-crl.pem"|"pki/test/infra/crl.pem"|' \
	-e 's|"broker-token.pub"|"keys/broker-token.pub"|; s|^seal_key = .*|seal_key = "keys/seal.key";|' \
	-e 's|^desktop_ca = .*||' /etc/vdi/vdi-gatewayd.conf >"$VDI_RUN/g.conf" && cp "$VDI_RUN/g.conf" /etc/vdi/vdi-gatewayd.conf
cp /etc/vdi/vdi-brokerd.conf /etc/vdi/vdi-gatewayd.conf "$VDI_RUN/"

# --- start from the units ----------------------------------------------------
# unit_lines UNIT KEY: the unit's KEY= values, one a line
unit_lines() { sed -n "s/^$2=//p" "/lib/systemd/system/$1.service"; }
SYSTEMD=no
[ "$(ps -p 1 -o comm=)" = systemd ] && SYSTEMD=yes
vdi_log "PID 1 is $(ps -p 1 -o comm=): systemd=$SYSTEMD"
# start_unit NAME: ExecStartPre lines, then ExecStart in the background
# with the unit's RuntimeDirectory, UMask and NOTIFY_SOCKET; waits for
# READY=1 (Type=notify).
start_unit() {
	local u=$1 cmd rd
	if [ "$SYSTEMD" = yes ]; then
		vdi_check "systemctl start $u" systemctl start "$u"
		vdi_check "$u is active" systemctl is-active -q "$u"
		return
	fi
	while read -r cmd; do
		vdi_check "$u ExecStartPre: $cmd" $cmd
	done < <(unit_lines "$u" ExecStartPre)
	rd=$(unit_lines "$u" RuntimeDirectory)
	[ -n "$rd" ] && install -d -m "$(unit_lines "$u" RuntimeDirectoryMode)" "/run/$rd"
	vdi_start "notify-$u" python3 "$VDI_SRCDIR/tests/peers/notify-socket.py" "$VDI_RUN/$u.sock" "$VDI_RUN/$u.msgs"
	vdi_wait_log "notify-$u" listening 10 || vdi_die "notify socket"
	cmd=$(unit_lines "$u" ExecStart)
	NOTIFY_SOCKET="$VDI_RUN/$u.sock" vdi_start "$u" \
		bash -c "umask $(unit_lines "$u" UMask); ulimit -n $(unit_lines "$u" LimitNOFILE) 2>/dev/null; exec $cmd"
	vdi_wait_until 30 grep -qx READY=1 "$VDI_RUN/$u.msgs"
	vdi_check "$u sent READY=1 (Type=notify)" grep -qx READY=1 "$VDI_RUN/$u.msgs"
}
reload_unit() {
	local u=$1 cmd n
	if [ "$SYSTEMD" = yes ]; then
		vdi_check "systemctl reload $u" systemctl reload "$u"
		return
	fi
	n=$(grep -cx READY=1 "$VDI_RUN/$u.msgs")
	while read -r cmd; do
		cmd=${cmd//\$MAINPID/$(vdi_pid "$u")}
		vdi_check "$u ExecReload: $cmd" $cmd
	done < <(unit_lines "$u" ExecReload)
	vdi_wait_until 10 sh -c "[ \$(grep -cx READY=1 '$VDI_RUN/$u.msgs') -gt $n ]"
	vdi_check "$u: RELOADING=1 and READY=1 after the reload" \
		sh -c "grep -qx RELOADING=1 '$VDI_RUN/$u.msgs' && [ \$(grep -cx READY=1 '$VDI_RUN/$u.msgs') -gt $n ]"
}
stop_unit() {
	if [ "$SYSTEMD" = yes ]; then
		vdi_check "systemctl stop $1" systemctl stop "$1"
		return
	fi
	vdi_stop "$1" 10 || true
	vdi_check "$1 sent STOPPING=1" grep -qx STOPPING=1 "$VDI_RUN/$1.msgs"
}

start_unit vdi-brokerd
vdi_check "broker: metrics answer" curl -sf -o /dev/null "http://127.0.0.1:$BMETRICS/metrics"
vdi_check "broker: HTTPS answers a device (health)" \
	curl -sf -o /dev/null --max-time 10 --cacert "$VDI_PKI/infra/ca.pem" \
	--cert "$VDI_PKI/city-a/devices/tablet-1.pem" --key "$VDI_PKI/city-a/devices/tablet-1.key" \
	"https://127.0.0.1:$BPORT/v1/health"
vdi_check "broker: vdictl answers on /run/vdi/brokerd.sock" vdictl desktops list
vdi_check "broker: its worker runs as vdi" pgrep -u vdi -x vdi-brokerd
start_unit vdi-gatewayd
vdi_check "gateway: metrics answer" curl -sf -o /dev/null "http://127.0.0.1:$GMETRICS/metrics"
vdi_check "gateway: tunnel port accepts" bash -c "exec 3<>/dev/tcp/127.0.0.1/$GPORT"
vdi_check "gateway: runs as vdi after binding" pgrep -u vdi -x vdi-gatewayd
reload_unit vdi-brokerd
reload_unit vdi-gatewayd
stop_unit vdi-gatewayd
stop_unit vdi-brokerd

# --- purge -------------------------------------------------------------------
rm -rf "$VDI_PKI" /etc/vdi/keys/* /etc/vdi/pki/gateway-rdp.* /etc/vdi/policy.conf "$MARK"
vdi_check "the packages purge" purge
for p in $PKGS; do
	vdi_check_not "$p gone" sh -c "dpkg-query -W -f='\${Status}' $p 2>/dev/null | grep -q 'installed\|config-files'"
done
vdi_check_not "nothing runs as vdi" pgrep -u vdi
vdi_check_not "no packaged daemon runs" pgrep -f '^/usr/sbin/vdi-(brokerd|gatewayd)'
for f in /etc/vdi /etc/pam.d/vdi /var/lib/vdi /usr/sbin/vdi-brokerd /lib/systemd/system/vdi-brokerd.service; do
	vdi_check_not "purged: $f" test -e "$f"
done
vdi_finish
