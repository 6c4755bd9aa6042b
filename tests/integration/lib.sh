# tests/integration/lib.sh: harness sourced by integration tests (bash).
#
#   #!/bin/bash
#   . "${top_srcdir:?run through make check}/tests/integration/lib.sh"
#   vdi_init                                  # run dir, traps, counters
#   vdi_require xfreerdp freerdp2-x11         # program + Debian package
#   vdi_require_probe_desktop                 # skip when built without FreeRDP
#   vdi_make_pki                              # test PKI in $VDI_PKI
#   vdi_start srv "$VDI_PEERS/tls-test-server" -p "$VDI_RUN/srv.port" ...
#   vdi_wait_file "$VDI_RUN/srv.port" 10 srv || vdi_die "srv did not start"
#   vdi_check "tablet accepted" grep -q OK "$VDI_RUN/client.log"
#   vdi_finish                                # "N passed, N failed", exit
#
# Variables set by vdi_init:
#   VDI_TEST      test name (default: script name without .sh)
#   VDI_RUN       run folder $top_builddir/tests/integration/run/$VDI_TEST,
#                 wiped at start; every process log lives there as NAME.log.
#                 Removed after a passing run unless VDI_KEEP_RUN=1.
#   VDI_SRCDIR    $top_srcdir          VDI_BUILDDIR  $top_builddir
#   VDI_PEERS     $top_builddir/tests/peers (test programs)
#   OPENSSL       the openssl command (make check sets it)
#   VDI_PKI       set by vdi_make_pki: $VDI_RUN/pki (layout: tests/pki/mkpki.sh)
#
# Processes:
#   vdi_start NAME CMD [ARG...]   start CMD in the background in its own
#                                 session/process group; stdout+stderr go to
#                                 $VDI_RUN/NAME.log, stdin is /dev/null
#   vdi_start_stdin NAME FILE CMD...  the same with stdin from FILE (e.g. a
#                                 fifo the test writes to)
#   vdi_pid NAME                  print its pid
#   vdi_alive NAME                true while it runs
#   vdi_signal NAME SIG           send SIG (HUP, USR1...) to it
#   vdi_stop NAME [SECONDS]       TERM its process group, KILL after SECONDS
#                                 (default 5); returns its exit status
#   vdi_wait_exit NAME [SECONDS]  wait for it to end; returns its exit status
#                                 (124 on timeout)
#   vdi_run NAME SECONDS CMD...   run CMD in the foreground with a timeout,
#                                 output to $VDI_RUN/NAME.log, stdin
#                                 inherited; returns CMD's status
#   vdi_free_port [COUNT]         print free 127.0.0.1 ports (prefer daemons
#                                 that bind port 0 and write their port)
# Waiting (SECONDS default 10; with a process NAME, give up early when it
# dies; every wait returns non-zero on timeout):
#   vdi_wait_file FILE [SECONDS] [NAME]       FILE exists and is not empty
#   vdi_wait_port PORT [SECONDS] [NAME]       127.0.0.1:PORT accepts
#   vdi_wait_log NAME TEXT [SECONDS] [MARK]   NAME.log has a line with TEXT
#                                             (fixed string) after line MARK
#   vdi_log_mark NAME                         print NAME.log's line count
#   vdi_log_since NAME MARK                   print NAME.log after line MARK
#   vdi_wait_until SECONDS CMD...             until CMD succeeds
# Assertions (call them at the top level, not in a pipeline or $(...),
# or the counts are lost):
#   vdi_pass DESC / vdi_fail DESC [DETAIL]
#   vdi_check DESC CMD...         pass if CMD succeeds
#   vdi_check_not DESC CMD...     pass if CMD fails
#   vdi_assert_eq DESC EXPECTED ACTUAL
#   vdi_assert_contains DESC FILE TEXT     (fixed string)
#   vdi_assert_lacks DESC FILE TEXT
# Ending:
#   vdi_finish                    print "N passed, N failed" and exit 0 or 1
#   vdi_skip REASON               exit 77 (never when CI=true: then 99)
#   vdi_die REASON                hard error: exit 99
#   vdi_at_exit COMMAND           run COMMAND (a string, eval'd) on every
#                                 exit, after the processes are killed, e.g.
#                                 to delete UNIX users a test created
# Any failure, error or interruption prints every log of the run. Processes
# are killed (whole process groups) on every exit, SIGINT and SIGTERM.
#
# Exit codes follow automake: 0 pass, 1 fail, 77 skip, 99 hard error.

# Variables set here are for the tests that source this file.
# shellcheck disable=SC2034

VDI_PASSED=0
VDI_FAILED=0
VDI_FINISHED=0
declare -A VDI_PIDS=()
VDI_NAMES=()
VDI_AT_EXIT=()

vdi_log() {
	echo "# $*"
}

vdi_init() {
	VDI_TEST=${1:-$(basename "$0" .sh)}
	: "${top_srcdir:?run through make check (top_srcdir is not set)}"
	: "${top_builddir:?run through make check (top_builddir is not set)}"
	VDI_SRCDIR=$top_srcdir
	VDI_BUILDDIR=$top_builddir
	VDI_PEERS=$top_builddir/tests/peers
	OPENSSL=${OPENSSL:-openssl}
	VDI_RUN=$top_builddir/tests/integration/run/$VDI_TEST
	rm -rf "$VDI_RUN"
	# Another test may remove the empty parent at the same moment: retry.
	mkdir -p "$VDI_RUN" 2>/dev/null || mkdir -p "$VDI_RUN" ||
		{ echo "ERROR: cannot create $VDI_RUN"; exit 99; }
	trap 'vdi__on_exit' EXIT
	trap 'vdi__on_signal INT 130' INT
	trap 'vdi__on_signal TERM 143' TERM
	vdi_log "test $VDI_TEST, run folder $VDI_RUN"
}

# --- requirements and endings ------------------------------------------

vdi_skip() {
	if [ "${CI:-}" = true ]; then
		echo "ERROR: $* (CI=true: a missing requirement is an error, not a skip)"
		VDI_FINISHED=1
		exit 99
	fi
	echo "SKIP: $*"
	VDI_FINISHED=1
	exit 77
}

vdi_die() {
	echo "ERROR: $*"
	VDI_FAILED=$((VDI_FAILED + 1))
	exit 99
}

# vdi_require PROGRAM DEBIAN-PACKAGE
vdi_require() {
	command -v "$1" >/dev/null 2>&1 ||
		vdi_skip "$1 not found: install the Debian package '$2' (apt-get install $2)"
}

# vdi_require_probe_desktop: tests/peers/probe-desktop is built only when
# configure found FreeRDP (test-only); without it the test is skipped.
vdi_require_probe_desktop() {
	if [ "${VDI_HAVE_FREERDP:-yes}" = no ]; then
		vdi_skip "tests/peers/probe-desktop not built: configure found no FreeRDP (install the Debian package 'freerdp2-dev' and run configure again)"
	fi
	[ -x "$VDI_PEERS/probe-desktop" ] ||
		vdi_die "tests/peers/probe-desktop not built (make check builds it)"
}

vdi_finish() {
	echo "$VDI_PASSED passed, $VDI_FAILED failed"
	VDI_FINISHED=1
	if [ "$VDI_FAILED" -gt 0 ]; then
		exit 1
	fi
	if [ "$VDI_PASSED" -eq 0 ]; then
		echo "ERROR: no assertion ran"
		exit 99
	fi
	exit 0
}

vdi__dump_logs() {
	local f n=${VDI_LOG_LINES:-300}

	[ -d "${VDI_RUN:-}" ] || return 0
	for f in "$VDI_RUN"/*.log; do
		[ -f "$f" ] || continue
		echo "----- $f (last $n lines) -----"
		tail -n "$n" "$f"
	done
	echo "----- end of logs (kept in $VDI_RUN) -----"
}

vdi__kill_all() {
	local name pid i

	for name in "${VDI_NAMES[@]}"; do
		pid=${VDI_PIDS[$name]}
		kill -0 "$pid" 2>/dev/null || continue
		kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
	done
	for i in $(seq 1 30); do
		local alive=0
		for name in "${VDI_NAMES[@]}"; do
			kill -0 "${VDI_PIDS[$name]}" 2>/dev/null && alive=1
		done
		[ $alive -eq 0 ] && break
		sleep 0.1
	done
	for name in "${VDI_NAMES[@]}"; do
		pid=${VDI_PIDS[$name]}
		kill -0 "$pid" 2>/dev/null || continue
		echo "# $name (pid $pid) ignored SIGTERM: SIGKILL"
		kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
	done
	wait 2>/dev/null
}

vdi__on_exit() {
	local rc=$? c

	trap - EXIT INT TERM
	vdi__kill_all
	for c in "${VDI_AT_EXIT[@]}"; do
		eval "$c" >/dev/null 2>&1
	done
	if [ "$VDI_FINISHED" -ne 1 ] && [ "$rc" -eq 0 ]; then
		echo "ERROR: the test ended without vdi_finish"
		rc=99
	fi
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ]; then
		vdi__dump_logs
	elif [ "$rc" -eq 0 ] && [ "${VDI_KEEP_RUN:-0}" != 1 ]; then
		rm -rf "$VDI_RUN"
		rmdir "$(dirname "$VDI_RUN")" 2>/dev/null
	fi
	exit "$rc"
}

vdi_at_exit() {
	VDI_AT_EXIT+=("$*")
}

vdi__on_signal() {
	echo "ERROR: interrupted by SIG$1"
	VDI_FAILED=$((VDI_FAILED + 1))
	exit "$2"
}

# --- assertions --------------------------------------------------------

vdi_pass() {
	VDI_PASSED=$((VDI_PASSED + 1))
	echo "ok $((VDI_PASSED + VDI_FAILED)) - $1"
}

vdi_fail() {
	VDI_FAILED=$((VDI_FAILED + 1))
	echo "not ok $((VDI_PASSED + VDI_FAILED)) - $1"
	[ $# -lt 2 ] || printf '#   %s\n' "$2"
}

vdi_check() {
	local desc=$1
	shift
	if "$@"; then
		vdi_pass "$desc"
	else
		vdi_fail "$desc" "command failed: $*"
	fi
}

vdi_check_not() {
	local desc=$1
	shift
	if "$@"; then
		vdi_fail "$desc" "command succeeded: $*"
	else
		vdi_pass "$desc"
	fi
}

vdi_assert_eq() {
	if [ "$2" = "$3" ]; then
		vdi_pass "$1"
	else
		vdi_fail "$1" "expected '$2', got '$3'"
	fi
}

vdi_assert_contains() {
	if grep -qF -- "$3" "$2" 2>/dev/null; then
		vdi_pass "$1"
	else
		vdi_fail "$1" "'$3' not found in $2"
	fi
}

vdi_assert_lacks() {
	if grep -qF -- "$3" "$2" 2>/dev/null; then
		vdi_fail "$1" "'$3' found in $2: $(grep -F -m1 -- "$3" "$2")"
	else
		vdi_pass "$1"
	fi
}

# --- processes ----------------------------------------------------------

vdi__start() {
	local name=$1 in=$2 pid
	shift 2

	[ -z "${VDI_PIDS[$name]:-}" ] || vdi_die "vdi_start: $name started twice"
	# Not a process group leader (no job control), so setsid(1) calls
	# setsid() itself without forking: $! is the new group's id.
	setsid "$@" <"$in" >"$VDI_RUN/$name.log" 2>&1 &
	pid=$!
	VDI_PIDS[$name]=$pid
	VDI_NAMES+=("$name")
	echo "$pid" >"$VDI_RUN/$name.pid"
	vdi_log "started $name (pid $pid): $*"
}

vdi_start() {
	local name=$1
	shift
	vdi__start "$name" /dev/null "$@"
}

vdi_start_stdin() {
	local name=$1 in=$2
	shift 2
	vdi__start "$name" "$in" "$@"
}

vdi_pid() {
	[ -n "${VDI_PIDS[$1]:-}" ] || return 1
	echo "${VDI_PIDS[$1]}"
}

vdi_alive() {
	[ -n "${VDI_PIDS[$1]:-}" ] && kill -0 "${VDI_PIDS[$1]}" 2>/dev/null
}

vdi_signal() {
	[ -n "${VDI_PIDS[$1]:-}" ] || vdi_die "vdi_signal: no process $1"
	kill -s "$2" "${VDI_PIDS[$1]}"
}

vdi_wait_exit() {
	local name=$1 t=${2:-10} pid i
	pid=${VDI_PIDS[$name]:-}
	[ -n "$pid" ] || vdi_die "vdi_wait_exit: no process $name"
	for i in $(seq 1 $((t * 10))); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && return 124
	wait "$pid"
}

vdi_stop() {
	local name=$1 t=${2:-5} pid rc
	pid=${VDI_PIDS[$name]:-}
	[ -n "$pid" ] || vdi_die "vdi_stop: no process $name"
	kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
	vdi_wait_exit "$name" "$t"
	rc=$?
	if [ $rc -eq 124 ]; then
		kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
	return $rc
}

vdi_run() {
	local name=$1 t=$2
	shift 2
	timeout -k 2 "$t" "$@" >"$VDI_RUN/$name.log" 2>&1
}

vdi_free_port() {
	local fp=$VDI_PEERS/freeport
	[ -x "$fp" ] || vdi_die "$fp is missing: build it with make check"
	"$fp" "${1:-1}"
}

# --- waiting -----------------------------------------------------------

vdi_wait_until() {
	local t=$1 i
	shift
	for i in $(seq 1 $((t * 20))); do
		"$@" && return 0
		sleep 0.05
	done
	"$@"
}

vdi__died() { # NAME or empty
	[ -n "$1" ] && ! vdi_alive "$1"
}

vdi_wait_file() {
	local f=$1 t=${2:-10} name=${3:-} i
	for i in $(seq 1 $((t * 20))); do
		[ -s "$f" ] && return 0
		if vdi__died "$name"; then
			echo "# $name died while waiting for $f"
			return 1
		fi
		sleep 0.05
	done
	[ -s "$f" ] || { echo "# timeout (${t}s) waiting for $f"; return 1; }
}

vdi__port_open() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

vdi_wait_port() {
	local port=$1 t=${2:-10} name=${3:-} i
	for i in $(seq 1 $((t * 20))); do
		vdi__port_open "$port" && return 0
		if vdi__died "$name"; then
			echo "# $name died while waiting for port $port"
			return 1
		fi
		sleep 0.05
	done
	vdi__port_open "$port" ||
		{ echo "# timeout (${t}s) waiting for 127.0.0.1:$port"; return 1; }
}

vdi_log_mark() {
	local f=$VDI_RUN/$1.log
	if [ -f "$f" ]; then
		wc -l <"$f" | tr -d ' '
	else
		echo 0
	fi
}

vdi_log_since() {
	tail -n "+$(($2 + 1))" "$VDI_RUN/$1.log" 2>/dev/null
}

vdi_wait_log() {
	local name=$1 text=$2 t=${3:-10} mark=${4:-0} i
	for i in $(seq 1 $((t * 20))); do
		vdi_log_since "$name" "$mark" | grep -qF -- "$text" && return 0
		if [ -n "${VDI_PIDS[$name]:-}" ] && ! vdi_alive "$name"; then
			# one last look: it may have logged and then exited
			vdi_log_since "$name" "$mark" | grep -qF -- "$text" &&
				return 0
			echo "# $name ended without logging '$text'"
			return 1
		fi
		sleep 0.05
	done
	echo "# timeout (${t}s) waiting for '$text' in $name.log"
	return 1
}

# --- fixtures ------------------------------------------------------------

# vdi_make_pki [TENANT...]: a fresh test PKI in $VDI_RUN/pki (see
# tests/pki/mkpki.sh for the layout); sets VDI_PKI.
vdi_make_pki() {
	VDI_PKI=$VDI_RUN/pki
	OPENSSL=$OPENSSL sh "$VDI_SRCDIR/tests/pki/mkpki.sh" "$VDI_PKI" "$@" \
	    >"$VDI_RUN/mkpki.log" 2>&1 ||
		vdi_die "tests/pki/mkpki.sh failed (see mkpki.log)"
}

# vdi_revoke TENANT NAME: revoke devices/NAME and rewrite TENANT/crl.pem.
vdi_revoke() {
	OPENSSL=$OPENSSL sh "$VDI_SRCDIR/tests/pki/mkpki.sh" --revoke \
	    "$VDI_PKI" "$1" "$2" >>"$VDI_RUN/mkpki.log" 2>&1 ||
		vdi_die "mkpki.sh --revoke $1 $2 failed (see mkpki.log)"
}

# vdi_thumbprint CERT.pem: SHA-256 of the DER, lower-case hex, no colons,
# as the openssl command computes it.
vdi_thumbprint() {
	"$OPENSSL" x509 -noout -fingerprint -sha256 -in "$1" |
		sed 's/^.*=//; s/://g' | tr 'A-F' 'a-f'
}
