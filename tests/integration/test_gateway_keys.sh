#!/bin/bash
# vdi-gatewayd's key process: the seal key and the inner TLS private key are
# read by the key process alone (strace of every open of the whole process
# tree), and yet single sign-on (unsealing) and the RDP-level TLS inside the
# tunnel work, through it. A gateway whose key process dies stops.
. "${top_srcdir:?run through make check}/tests/integration/lib.sh"
vdi_init
. "$VDI_SRCDIR/tests/integration/broker/env.sh"
. "$VDI_SRCDIR/tests/integration/gateway/env.sh"
vdi_require strace strace
vdi_require python3 python3-minimal
broker_setup
gateway_setup
A="$VDI_PKI/city-a/devices"

# Every open of every process and thread of the gateway, with its pid.
REAL_GATEWAY=$GATEWAY
GATEWAY=$VDI_RUN/gateway-strace.sh
cat >"$GATEWAY" <<EOS
#!/bin/sh
exec strace -f -qq -e trace=open,openat -o "$VDI_RUN/strace.out" "$REAL_GATEWAY" "\$@"
EOS
chmod +x "$GATEWAY"
# strace may be refused (no ptrace in this sandbox): then say so and skip.
strace -qq -e trace=openat -o /dev/null true 2>/dev/null ||
	vdi_skip "strace cannot trace here"

broker_start
gateway_start
vdi_check "gateway logs its start" vdi_wait_log "$GW_NAME" "event=started" 10
KP=$(sed -n 's/.*event=keyproc_ready pid=\([0-9]*\) .*/\1/p' "$VDI_RUN/$GW_NAME.log" | head -n1)
# The first process traced is the gateway itself (strace execs it).
MAIN=$(awk 'NR == 1 { print $1 }' "$VDI_RUN/strace.out")
vdi_check "the key process is a process of its own" \
	test -n "$KP" -a -n "$MAIN" -a "$KP" != "$MAIN"
vdi_check "it holds the seal and inner keys" \
	vdi_wait_log "$GW_NAME" "channels=3 seal_key=yes inner_key=yes" 1

# Who opened the key files: the key process, never the gateway.
opens_of() { # FILE: the pids whose open of FILE succeeded
	grep -E "open(at)?\(.*\"[^\"]*$1\".* = [0-9]+$" "$VDI_RUN/strace.out" |
		awk '{ print $1 }' | sort -u | tr '\n' ' '
}
vdi_assert_eq "seal.key was opened by the key process only" "$KP " "$(opens_of seal.key)"
vdi_assert_eq "rdp.key was opened by the key process only" "$KP " "$(opens_of rdp.key)"
vdi_check "... while the gateway itself read the public rdp.pem" \
	grep -qE "^$MAIN +open(at)?\(.*rdp.pem\"" "$VDI_RUN/strace.out"

# Single sign-on: alice's token carries sealed credentials, which only the
# key process can open; a 101 means they opened.
out=$(login "$A/tablet-1" alice alice-pw)
vdi_assert_eq "alice logs in" 200 "$(status)"
TOK=$(echo "$out" | jget "['token']")
echo "$TOK" | python3 -c '
import base64, json, sys
p = sys.stdin.read().strip().split(".")[1]
c = json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))
sys.exit(0 if c.get("cred") else 1)' ||
	vdi_fail "alice's token carries no sealed credentials"
tunnel_open tun "$A/tablet-1" "$TOK"
vdi_wait_file "$VDI_RUN/tun.port" 10 tun || vdi_die "tunnel did not start"
vdi_check "the sealed credentials opened (key process) and the tunnel is up" \
	vdi_wait_log "$GW_NAME" "event=tunnel_start" 10

# The RDP-level TLS inside the tunnel: X.224 asking for SSL, then TLS 1.3
# and TLS 1.2 handshakes whose signatures the key process makes.
inner_tls() { # VERSION [TUNNEL]: prints the SHA-256 of the inner certificate
	python3 - "$(cat "$VDI_RUN/${2:-tun}.port")" "$1" <<'PY'
import hashlib, socket, ssl, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(bytes.fromhex("030000130ee000000000000100080001000000"))
cc = b""
while len(cc) < 19:
    b = s.recv(19 - len(cc))
    if not b:
        sys.exit("closed during X.224")
    cc += b
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
v = ssl.TLSVersion.TLSv1_3 if sys.argv[2] == "1.3" else ssl.TLSVersion.TLSv1_2
ctx.minimum_version = ctx.maximum_version = v
t = ctx.wrap_socket(s)
print(hashlib.sha256(t.getpeercert(binary_form=True)).hexdigest())
t.close()
PY
}
vdi_assert_eq "inner TLS 1.3 with the inner certificate" "$INNER_PIN" "$(inner_tls 1.3)"
vdi_stop tun
out=$(login "$A/tablet-1" alice alice-pw)
TOK=$(echo "$out" | jget "['token']")
tunnel_open tun2 "$A/tablet-1" "$TOK"
vdi_wait_file "$VDI_RUN/tun2.port" 10 tun2 || vdi_die "tunnel did not start"
vdi_assert_eq "inner TLS 1.2 with the inner certificate" "$INNER_PIN" "$(inner_tls 1.2 tun2)"
vdi_stop tun2
vdi_assert_eq "still no open of a key file outside the key process" "$KP $KP " \
	"$(opens_of seal.key)$(opens_of rdp.key)"

# The key process gone: the gateway says so and stops.
kill -9 "$KP"
vdi_check "a dead key process stops the gateway, logged" \
	vdi_wait_log "$GW_NAME" "event=keyproc_exited pid=$KP" 10
for _ in $(seq 1 100); do vdi_alive "$GW_NAME" || break; sleep 0.1; done
vdi_check_not "... and it exits" vdi_alive "$GW_NAME"

vdi_finish
