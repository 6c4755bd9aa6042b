#!/bin/sh
# Installs the Debian 12 packages needed to build and test vdi.
# Installs only what is missing; needs root (or sudo) when something is.
set -eu

PACKAGES="
build-essential autoconf automake autoconf-archive libtool pkg-config
clang libclang-rt-14-dev clang-format
openssl libssl-dev libevent-dev libconfig-dev libpam0g-dev libjansson-dev
libsqlite3-dev libpq-dev libcurl4-openssl-dev libcmocka-dev
libpam-wrapper libnss-wrapper libuid-wrapper freerdp2-dev freerdp2-x11
libwinpr2-dev winpr-utils
freerdp2-shadow-x11 xvfb x11-utils xauth xrdp tigervnc-standalone-server
curl sqlite3 bc netpbm x11-apps x11-xserver-utils xdotool python3 tzdata ca-certificates
strace stunnel4 gnuplot-nox
libsystemd-dev
debhelper dpkg-dev fakeroot lintian
"

missing=""
for p in $PACKAGES; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$st" in
	*"install ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done

if [ -z "$missing" ]; then
	echo "deps: all build and test packages are installed"
	exit 0
fi

echo "deps: installing:$missing"
if [ "$(id -u)" -eq 0 ]; then
	SUDO=""
elif command -v sudo >/dev/null 2>&1; then
	SUDO="sudo"
else
	echo "deps: not root and no sudo; as root run:" >&2
	echo "  apt-get update && apt-get install -y$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
