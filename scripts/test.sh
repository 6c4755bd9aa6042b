#!/bin/sh
# The README's test command: installs the dependencies, builds vdi with
# warnings as errors under AddressSanitizer and UndefinedBehaviorSanitizer,
# and runs the whole test suite (unit, fuzz corpora, integration).
#
#   scripts/test.sh                 # from a fresh clone
#   scripts/test.sh --no-sanitizers # faster, plain build
#   scripts/test.sh --distcheck     # also make distcheck afterwards
#
# The build goes to build-test/ so it never mixes with a developer's build.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

sanitize=yes
distcheck=no
for a in "$@"; do
	case "$a" in
	--no-sanitizers) sanitize=no ;;
	--distcheck) distcheck=yes ;;
	-h|--help) sed -n '2,11p' "$0"; exit 0 ;;
	*) echo "test.sh: unknown option $a (see --help)" >&2; exit 2 ;;
	esac
done

"$top/scripts/deps.sh"

[ -x configure ] && [ configure -nt configure.ac ] || autoreconf -fi

flags="--enable-werror"
[ "$sanitize" = yes ] && flags="$flags --enable-asan --enable-ubsan"

mkdir -p build-test
cd build-test
if [ ! -f Makefile ] || [ "$(cat configure.flags 2>/dev/null)" != "$flags" ]; then
	# shellcheck disable=SC2086
	../configure $flags >configure.out 2>&1 || { cat configure.out; exit 1; }
	echo "$flags" >configure.flags
fi

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

jobs=$(nproc 2>/dev/null || echo 2)
status=0
make -j"$jobs" >make.out 2>&1 || { cat make.out; exit 1; }
make -j"$jobs" check || status=$?

# Failed test logs are kept in build-test/; show them here as well.
if [ "$status" -ne 0 ]; then
	for log in $(find . -name '*.log' ! -name test-suite.log ! -name config.log); do
		if grep -qE '^(FAIL|ERROR)' "${log%.log}.trs" 2>/dev/null; then
			echo "==== $log"
			tail -n 80 "$log"
		fi
	done
fi

if [ "$distcheck" = yes ] && [ "$status" -eq 0 ]; then
	make -j"$jobs" distcheck DISTCHECK_CONFIGURE_FLAGS="--enable-werror" || status=$?
fi

# One closing line, whatever the runner: N passed, N failed.
pass=$(sed -n 's/^# PASS: *//p' test-suite.log 2>/dev/null | head -1)
fail=$(sed -n 's/^# FAIL: *//p' test-suite.log 2>/dev/null | head -1)
err=$(sed -n 's/^# ERROR: *//p' test-suite.log 2>/dev/null | head -1)
skip=$(sed -n 's/^# SKIP: *//p' test-suite.log 2>/dev/null | head -1)
echo
echo "tests: ${pass:-0} passed, $(( ${fail:-0} + ${err:-0} )) failed, ${skip:-0} skipped" |
	tee suite-summary.txt
exit "$status"
