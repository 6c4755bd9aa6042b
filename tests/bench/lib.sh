# tests/bench/lib.sh: shared by the relay benchmarks (sourced after
# tests/integration/lib.sh, broker/env.sh and gateway/env.sh).
#
#   bench_world MODE [DESKTOP-ARGS...]
#       the real broker and gateway (tests/integration/{broker,gateway}/
#       env.sh) with bench-rdp as the desktop (MODE idle|stream|echo) in
#       place of the shadow desktop; sets BENCH_DESK_PORT, GW_PORT, TOKEN
#       ($VDI_RUN/token: alice's token from a real login, the template the
#       bench client re-signs per connection), DEV (the device cert base)
#   bench_stunnel       stunnel4 as the one-layer TLS relay to the desktop
#                       (mTLS with the device CA, as the gateway): STUNNEL_PORT
#   bench_client NAME ARGS...   runs bench-rdp client in the foreground,
#                       output in $VDI_RUN/NAME.log; the relay target and
#                       credentials come from the relay name in ARGS' -R:
#                         -R direct|stunnel|gateway
#   cpu_ticks PID       utime+stime of PID (all threads) in clock ticks
#   rss_kib PID         VmRSS of PID in KiB
#   median V...         median of the numbers
#   kv FILE KEY         value of KEY=... on the last "bench event=" line
# BENCH_SMOKE=1 (make check) shrinks every benchmark to seconds.

BENCH_RDP=$VDI_BUILDDIR/tests/bench/bench-rdp
HZ=$(getconf CLK_TCK)
SMOKE=${BENCH_SMOKE:-0}

bench_fds() {
	# 10,000 sessions: two descriptors each in the gateway, one in the
	# client and the desktop, plus TLS relays. Root may raise the hard
	# limit; otherwise take what there is.
	ulimit -Hn 65536 2>/dev/null
	ulimit -n "$(ulimit -Hn)" 2>/dev/null
}

bench_world() {
	local mode=$1
	shift
	[ -x "$BENCH_RDP" ] || vdi_die "$BENCH_RDP not built (make check builds it)"
	bench_fds
	broker_setup
	DEV="$VDI_PKI/city-a/devices/tablet-1"
	# broker_setup's shadow desktop is not used: bench-rdp replaces it.
	vdi_stop desktop
	vdi_alive desktop-clock && vdi_stop desktop-clock
	vdi_start bdesk "$BENCH_RDP" desktop -c "$VDI_PKI/infra/desktop-1.pem" \
		-k "$VDI_PKI/infra/desktop-1.key" -P "$VDI_RUN/bdesk.port" \
		-m "$mode" "$@"
	vdi_wait_file "$VDI_RUN/bdesk.port" 10 bdesk || vdi_die "bench desktop did not start"
	BENCH_DESK_PORT=$(cat "$VDI_RUN/bdesk.port")
	sed -i -e "s/\"127\.0\.0\.1:$DESKTOP_PORT\"/\"127.0.0.1:$BENCH_DESK_PORT\"/" \
		"$VDI_RUN/policy.conf"
	grep -q "address = \"127.0.0.1:$BENCH_DESK_PORT\"" "$VDI_RUN/policy.conf" ||
		vdi_die "could not point the policy at the bench desktop"
	DESKTOP_PORT=$BENCH_DESK_PORT
	gateway_setup
	# Production-like: info logs, room for 10,000 sessions from one
	# address, and handshakes that may queue behind each other.
	sed -i -e 's/handshake_timeout = "5s"; clock_skew = 5;/handshake_timeout = "60s"; clock_skew = 5; max_sessions = 20000; max_handshakes = 1024; max_handshakes_per_source = 1024;/' \
		"$VDI_RUN/gatewayd.conf"
	broker_start
	GW_STARTS=$((GW_STARTS + 1))
	GW_NAME=gateway
	sed -i "s|url = \".*\";|url = \"$BROKER_URL\";|" "$VDI_RUN/gatewayd.conf"
	vdi_start "$GW_NAME" "$GATEWAY" -d -l info -f "$VDI_RUN/gatewayd.conf" \
		-P "$VDI_RUN/gateway.port"
	vdi_wait_file "$VDI_RUN/gateway.port" 15 "$GW_NAME" ||
		vdi_die "gateway did not start"
	GW_PORT=$(cat "$VDI_RUN/gateway.port")
	vdi_wait_log "$GW_NAME" "event=broker_connected" 15 ||
		vdi_log "the gateway has not reached the broker yet"
	local out
	out=$(login "$DEV" alice alice-pw)
	echo "$out" | jget "['token']" >"$VDI_RUN/token" 2>/dev/null ||
		vdi_die "alice's login gave no token: $out"
	TOKEN=$VDI_RUN/token
}

bench_stunnel() {
	vdi_require stunnel4 stunnel4
	STUNNEL_PORT=$(vdi_free_port)
	cat >"$VDI_RUN/stunnel.conf" <<EOP
foreground = yes
pid =
debug = 3
[rdp]
accept = 127.0.0.1:$STUNNEL_PORT
connect = 127.0.0.1:$BENCH_DESK_PORT
cert = $VDI_PKI/infra/gateway.pem
key = $VDI_PKI/infra/gateway.key
CAfile = $VDI_PKI/city-a/ca.pem
verifyChain = yes
requireCert = yes
EOP
	vdi_start stunnel stunnel4 "$VDI_RUN/stunnel.conf"
	vdi_wait_port "$STUNNEL_PORT" 10 stunnel || vdi_die "stunnel did not start"
}

# bench_client NAME RELAY TIMEOUT ARGS...
bench_client() {
	local name=$1 relay=$2 t=$3
	shift 3
	case $relay in
	direct) set -- -T direct -t "127.0.0.1:$BENCH_DESK_PORT" "$@" ;;
	stunnel) set -- -T tls -t "127.0.0.1:$STUNNEL_PORT" -c "$DEV.pem" \
		-k "$DEV.key" -C "$VDI_PKI/infra/ca.pem" "$@" ;;
	gateway) set -- -T gateway -t "127.0.0.1:$GW_PORT" -c "$DEV.pem" \
		-k "$DEV.key" -C "$VDI_PKI/infra/ca.pem" -j "$TOKEN" \
		-K "$VDI_RUN/token.key" "$@" ;;
	*) vdi_die "bench_client: unknown relay $relay" ;;
	esac
	vdi_run "$name" "$t" "$BENCH_RDP" client "$@"
}

# The pid of the relay process (none for direct).
relay_pid() {
	case $1 in
	direct) echo "" ;;
	stunnel) vdi_pid stunnel ;;
	gateway) vdi_pid "$GW_NAME" ;;
	esac
}

cpu_ticks() {
	[ -n "$1" ] || { echo 0; return; }
	# fields 14 and 15 after the command name (which may hold spaces)
	sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}

rss_kib() {
	awk '/^VmRSS/ { print $2 }' "/proc/$1/status"
}

median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print 0; exit }
		if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

kv() {
	grep '^bench event=' "$1" | tail -n 1 | tr ' ' '\n' |
		sed -n "s/^$2=//p" | head -n 1
}

# ratio A B: A/B with two decimals ("inf" when B is 0)
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "inf"; else printf "%.2f\n", a / b }'
}

# ok_within A B LIMIT: A/B <= LIMIT
within() {
	awk -v a="$1" -v b="$2" -v l="$3" 'BEGIN { exit !(b > 0 && a / b <= l) }'
}

# bench_goal DESC RATIO GOAL WIDE: prints the goal line; a miss by more
# than WIDE (a factor) fails the benchmark, a narrower miss is reported.
bench_goal() {
	local desc=$1 r=$2 goal=$3 wide=$4
	if awk -v r="$r" -v g="$goal" 'BEGIN { exit !(r != "inf" && r <= g) }'; then
		echo "GOAL met: $desc: $r <= $goal"
		vdi_pass "$desc: $r <= $goal"
	elif [ "$SMOKE" = 1 ]; then
		echo "GOAL missed (smoke run, not judged): $desc: $r > $goal"
		vdi_pass "$desc measured (smoke run)"
	elif awk -v r="$r" -v g="$goal" -v w="$wide" 'BEGIN { exit !(r != "inf" && r <= g * w) }'; then
		echo "GOAL missed: $desc: $r > $goal (within ${wide}x of it: reported, not failed)"
		vdi_pass "$desc: $r (goal $goal missed narrowly)"
	else
		echo "GOAL missed widely: $desc: $r > $goal x $wide"
		vdi_fail "$desc: $r > $goal x $wide"
	fi
}
