#!/bin/sh
# Builds the Debian packages (debian/) from a clean copy of this tree and
# checks them with lintian.
#
#   scripts/build-debs.sh [OUTDIR]      (default: build-debs/)
#
# OUTDIR gets the .deb files, the .changes/.buildinfo, build.log and
# lintian.txt (every tag lintian printed). Exits non-zero when the build
# fails, takes longer than VDI_DEB_TIMEOUT seconds (default 1800), or
# lintian reports an error; warnings are listed, not fatal.
# The copy holds the files git knows (committed or not, minus ignored
# ones), so a developer's build folders never leak into the packages and
# dh clean never touches the working tree.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$top/build-debs}
timeout_s=${VDI_DEB_TIMEOUT:-1800}
mkdir -p "$out"
out=$(cd "$out" && pwd)
for p in dpkg-buildpackage dh lintian; do
	command -v "$p" >/dev/null 2>&1 || {
		echo "build-debs: $p not found: install debhelper, dpkg-dev and lintian (scripts/deps.sh)" >&2
		exit 2
	}
done

work=$(mktemp -d "${TMPDIR:-/tmp}/vdi-debs.XXXXXX")
trap 'rm -rf "$work"' EXIT
version=$(dpkg-parsechangelog -l "$top/debian/changelog" -S Version)
src=$work/vdi-$version
mkdir -p "$src"
(cd "$top" && git ls-files -z --cached --others --exclude-standard |
	xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh |
	tar --null -T - -cf -) | tar -C "$src" -xf -

jobs=$(nproc 2>/dev/null || echo 2)
echo "build-debs: dpkg-buildpackage -us -uc -b in $src (log: $out/build.log)"
status=0
(cd "$src" && DEB_BUILD_OPTIONS="parallel=$jobs ${DEB_BUILD_OPTIONS:-}" \
	timeout "$timeout_s" dpkg-buildpackage -us -uc -b) >"$out/build.log" 2>&1 || status=$?
if [ "$status" -ne 0 ]; then
	tail -n 60 "$out/build.log"
	[ "$status" -eq 124 ] && echo "build-debs: dpkg-buildpackage took longer than ${timeout_s}s" >&2
	echo "build-debs: dpkg-buildpackage failed ($status)" >&2
	exit 1
fi
rm -f "$out"/*.deb "$out"/*.changes "$out"/*.buildinfo
cp "$work"/*.deb "$work"/*.changes "$work"/*.buildinfo "$out"/

echo "build-debs: lintian"
# --fail-on error: warnings are listed (lintian.txt), errors fail the run.
status=0
lintian --fail-on error --info --display-info "$out"/vdi_*.changes >"$out/lintian.txt" 2>&1 || status=$?
grep -E '^[EWI]: ' "$out/lintian.txt" | sed 's/^/  /' || true
errors=$(grep -c '^E: ' "$out/lintian.txt" || true)
warnings=$(grep -c '^W: ' "$out/lintian.txt" || true)
echo "build-debs: lintian: $errors errors, $warnings warnings"
ls -1 "$out"/*.deb
[ "$status" -eq 0 ] && [ "$errors" -eq 0 ]
