#!/bin/bash
# The README's main job: a demo on loopback, from a fresh Debian 12 machine.
#
#   scripts/demo.sh          build, run the demo, print a report, stop
#   scripts/demo.sh --keep   leave everything running to try vdictl
#
# What it does today: makes a throwaway PKI for two municipalities (city-a,
# city-b), starts a real desktop (freerdp-shadow-cli on Xvfb) and
# vdi-brokerd with an example policy and PAM through pam_wrapper, then logs
# a field tablet in as two people: alice (password) and olga (password and
# one-time code), and shows what the broker decided. The gateway relay and
# the client shim are not built yet; the report says so.
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
make -j"$(nproc)" vdi-brokerd vdictl tests/peers/freeport tests/peers/pam_vdi_otp.la \
	>make.out 2>&1 || { tail -40 make.out; exit 1; }

export top_srcdir="$top" top_builddir="$top/build-demo" OPENSSL="$(command -v openssl)"
export VDI_TEST=demo VDI_KEEP_RUN=1
. "$top/tests/integration/lib.sh"
vdi_init
. "$top/tests/integration/broker/env.sh"
broker_setup
broker_start

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
	echo "channels granted: $(echo "$alice" | jget "['channels']") (display and input only)"
	echo "revoked tablet at the TLS door: $([ "$revoked" = 000 ] && echo refused || echo "ACCEPTED ($revoked)")"
	echo "desktops:"; "$VDICTL" desktops list | sed 's/^/  /'
	echo "audit chain: $("$VDICTL" audit verify)"
	echo
	echo "not built yet: the gateway relay (vdi-gatewayd) and the client shim"
	echo "(vdi-connect), so no RDP session is drawn and no screenshot is taken."
	echo "================================================="
}
report
echo
vdi_assert_eq "alice got her persistent desktop" own-alice "$(echo "$alice" | jget "['desktop']")"
vdi_assert_eq "olga passed two PAM prompts" ok "$(echo "$olga" | jget "['state']")"
vdi_assert_eq "alice reconnected to the same session without a password" \
	"$(echo "$alice" | jget "['session']")" "$(echo "$again" | jget "['session']")"
vdi_assert_eq "the revoked tablet was refused at TLS" 000 "$revoked"
if [ "$keep" = yes ]; then
	echo
	echo "left running (Ctrl-C to stop everything):"
	echo "  export VDI_BROKER_SOCKET=$VDI_BROKER_SOCKET"
	echo "  $VDICTL sessions list"
	echo "  logs: $VDI_RUN/*.log"
	while vdi_alive "$BROKER_NAME"; do sleep 2; done
fi
vdi_finish
