#!/bin/bash
# test_admin_guide.sh: runs every shell block of docs/admin-guide.md, in
# order, in one shell, so the guide cannot drift from the programs. The
# conventions (scratch root, stand-ins, marks for blocks not run) are in
# the guide's introduction; tests/integration/guide-blocks.py extracts
# the blocks. The first command that fails fails the test, named with its
# line in the guide.
. "${top_srcdir:?run through make check}/tests/integration/lib.sh"
vdi_init
vdi_require python3 python3
vdi_require sqlite3 sqlite3
B=$VDI_BUILDDIR
# The scratch root lives under a short /tmp path: the guide's admin socket
# ($R/run/vdi/brokerd.sock) must stay within the 107 bytes of a Unix socket
# path, which the run folder of a distcheck build does not leave room for.
R=$(mktemp -d /tmp/vdi-guide.XXXXXX) || vdi_die "cannot make a scratch root in /tmp"
vdi_at_exit "rm -rf '$R'"
ln -s "$R" "$VDI_RUN/root"
mkdir -p "$R/bin" "$R/etc/pam.d" "$R/root" "$R/var/lib" "$R/var/backups" "$R/run/vdi" "$R/usr/local/sbin"
chmod 0755 "$VDI_RUN" "$R" "$R/etc" "$R/var" "$R/var/lib" "$R/run" "$R/run/vdi"
for p in vdi-brokerd vdictl vdi-gatewayd vdi-connect policies/vdi-policy; do
	ln -s "$B/$p" "$R/bin/${p##*/}"
done
# What the vdi-broker package puts in /etc/pam.d.
cp "$VDI_SRCDIR/debian/vdi-broker.vdi.pam" "$R/etc/pam.d/vdi"

# The service user and the admin groups: the caller's own when not root;
# as root the worker really drops (to nobody).
if [ "$(id -u)" = 0 ]; then
	SU=nobody SG=nogroup AG=root
else
	SU=$(id -un) SG=$(id -gn) AG=$(id -gn)
fi
set -- $(vdi_free_port 3)
BPORT=$1 GPORT=$2 DEAD=$3
PIN=$(printf 'guide-desktop' | sha256sum | cut -c1-64)

python3 "$VDI_SRCDIR/tests/integration/guide-blocks.py" "$VDI_SRCDIR/docs/admin-guide.md" "$R" \
	"/etc/vdi=>$R/etc/vdi" "/etc/pam.d=>$R/etc/pam.d" "/root/=>$R/root/" \
	"/var/lib/vdi=>$R/var/lib/vdi" "/run/vdi=>$R/run/vdi" \
	"/var/backups/vdi=>$R/var/backups/vdi" "/usr/local/sbin=>$R/usr/local/sbin" \
	"re:(?<=:)8443\\b=>$BPORT" "re:(?<=:)9443\\b=>$GPORT" "vdi.example.lg.jp:=>127.0.0.1:" \
	"\"*:=>\"127.0.0.1:" "\"0.0.0.0:=>\"127.0.0.1:" \
	"10.30.1.10:3389=>127.0.0.1:$DEAD" "10.30.1.11:3389=>127.0.0.2:$DEAD" \
	"10.30.0.0/16=>127.0.0.0/8" "<rdp-pin output>=>$PIN" \
	"\"vdiadmin\"=>\"$AG\"" "\"vdiops\"=>\"$AG\"" \
	"user = \"vdi\"; group = \"vdi\";=>user = \"$SU\"; group = \"$SG\";" \
	"-o vdi =>-o $SU " "re:(?<=\\s)vdi:vdi(?=\\s)=>$SU:$SG" "re:(?<=\\s)vdi(?=\\s)=>$SG" \
	>"$VDI_RUN/guide.sh" || vdi_die "cannot extract the guide's blocks"
vdi_check "the guide has shell blocks to run" grep -q '^GUIDE_LINE=' "$VDI_RUN/guide.sh"

# The stand-ins, then the blocks, in one bash that stops at the first
# failing command.
cat >"$VDI_RUN/run.sh" <<EOF
set -eE -o pipefail
trap 'echo "FAILED: guide block at line \$GUIDE_LINE: \$BASH_COMMAND (exit \$?)"' ERR
export PATH="$R/bin:$R/usr/local/sbin:\$PATH" VDI_BROKER_SOCKET="$R/run/vdi/brokerd.sock"
export ASAN_OPTIONS="\${ASAN_OPTIONS:+\$ASAN_OPTIONS:}detect_leaks=0"
adduser() { echo "stand-in: adduser \$*"; }
addgroup() { echo "stand-in: addgroup \$*"; }
# systemctl: the units' commands run by hand (ExecStartPre -t, ExecStart
# in the background, ExecReload -t then SIGHUP, stop with SIGTERM).
starts=0
unit_start() {
	local conf="$R/etc/vdi/\$1.conf" d=\$1 i
	\$d -t -f "\$conf"
	starts=\$((starts + 1))
	setsid \$d -d -f "\$conf" </dev/null >"$VDI_RUN/\$d.\$starts.log" 2>&1 &
	echo \$! >"$VDI_RUN/\$d.pid"; echo \$! >>"$VDI_RUN/all.pids"
	for i in \$(seq 150); do
		case \$d in
		vdi-brokerd) [ -S "$R/run/vdi/brokerd.sock" ] && vdictl desktops list >/dev/null 2>&1 && return 0 ;;
		vdi-gatewayd) (exec 3<>/dev/tcp/127.0.0.1/$GPORT) 2>/dev/null && return 0 ;;
		esac
		kill -0 \$(cat "$VDI_RUN/\$d.pid") 2>/dev/null || { cat "$VDI_RUN/\$d.\$starts.log"; return 1; }
		sleep 0.2
	done
	cat "$VDI_RUN/\$d.\$starts.log"
	return 1
}
unit_stop() {
	local pid=\$(cat "$VDI_RUN/\$1.pid") i
	kill -TERM "\$pid"
	for i in \$(seq 100); do kill -0 "\$pid" 2>/dev/null || return 0; sleep 0.1; done
	return 1
}
systemctl() {
	local verb=\$1 u; shift
	[ "\$verb" = enable ] && [ "\$1" = --now ] && { verb=start; shift; }
	for u in "\$@"; do
		u=\${u%.service}
		case \$verb in
		daemon-reload) ;;
		start) unit_start "\$u" ;;
		stop) unit_stop "\$u" ;;
		reload) \$u -t -f "$R/etc/vdi/\$u.conf" && kill -HUP "\$(cat "$VDI_RUN/\$u.pid")" ;;
		*) echo "stand-in systemctl: \$verb not known"; return 1 ;;
		esac
	done
}
cd "$R/root"
. "$VDI_RUN/guide.sh"
echo "GUIDE DONE"
EOF
vdi_at_exit 'for p in $(cat "$VDI_RUN/all.pids" 2>/dev/null); do kill -TERM -- -$p 2>/dev/null; kill -TERM $p 2>/dev/null; done'
vdi_run guide 600 bash "$VDI_RUN/run.sh"
vdi_check "every shell block of the guide ran" grep -qx 'GUIDE DONE' "$VDI_RUN/guide.log"
vdi_check_not "no guide command failed" grep '^FAILED: ' "$VDI_RUN/guide.log"
# What the blocks should have shown.
vdi_check "the policy built from the guide's snippets passes vdi-policy check" \
	"$B/policies/vdi-policy" check "$R/etc/vdi/policy.conf"
vdi_check "the relocation mode lets alice in from the lent floor (rule town-a-staff)" \
	grep -q 'town-a-staff' "$VDI_RUN/guide.log"
vdi_check "the backup is intact (integrity_check: ok)" grep -qx ok "$VDI_RUN/guide.log"
vdi_finish
