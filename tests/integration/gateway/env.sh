# tests/integration/gateway/env.sh: sourced after lib.sh and
# tests/integration/broker/env.sh (broker_setup must have run). Adds what
# vdi-gatewayd needs to the broker's test world: the desktop's certificate
# pin in the policy, the RDP-level certificate of the tunnel, a gateway
# configuration, and helpers to start the gateway, open tunnels and mint
# tokens.

GATEWAY="$VDI_BUILDDIR/vdi-gatewayd"
TUNNEL="$VDI_PEERS/tunnel-client"

# desktop_pin HOST PORT: SHA-256 (hex) of the certificate an RDP desktop
# presents after X.224 negotiation of SSL.
desktop_pin() {
	python3 - "$1" "$2" <<'PY'
import hashlib, socket, ssl, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
# TPKT + X.224 CR + RDP_NEG_REQ(PROTOCOL_SSL)
s.sendall(bytes.fromhex("030000130ee000000000000100080001000000"))
cc = b""
while len(cc) < 19:
    b = s.recv(19 - len(cc))
    if not b:
        sys.exit("desktop closed during X.224")
    cc += b
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
t = ctx.wrap_socket(s)
print(hashlib.sha256(t.getpeercert(binary_form=True)).hexdigest())
t.close()
PY
}

# mint_token BASE-TOKEN PYTHON-EXPR: re-signs BASE-TOKEN's claims (a dict
# c) after PYTHON-EXPR changed them, with the broker's test signing key.
mint_token() {
	python3 - "$1" "$2" "$VDI_RUN/token.key" "$OPENSSL" <<'PY'
import base64, json, subprocess, sys, tempfile
tok, expr, key, ossl = sys.argv[1:5]
pad = lambda x: x + "=" * (-len(x) % 4)
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
h, p, s = tok.split(".")
c = json.loads(base64.urlsafe_b64decode(pad(p)))
exec(expr)
inp = h + "." + b64(json.dumps(c, separators=(",", ":"), sort_keys=True).encode())
with tempfile.NamedTemporaryFile() as m:
    m.write(inp.encode()); m.flush()
    sig = subprocess.run([ossl, "pkeyutl", "-sign", "-rawin", "-inkey", key,
                          "-in", m.name], check=True, capture_output=True).stdout
print(inp + "." + b64(sig))
PY
}

gateway_setup() {
	vdi_require python3 python3
	[ -x "$GATEWAY" ] || vdi_die "$GATEWAY not built"
	[ -x "$TUNNEL" ] || vdi_die "$TUNNEL not built (make check builds it)"

	# Pin the shadow desktop in the policy (the broker puts the pin in
	# the token; the gateway checks it).
	DESKTOP_PIN=$(desktop_pin 127.0.0.1 "$DESKTOP_PORT") ||
		vdi_die "cannot read the desktop's certificate"
	sed -i "s/address = \"\(127\.0\.0\.[0-9]*\):$DESKTOP_PORT\"; }/address = \"\1:$DESKTOP_PORT\"; pin = \"$DESKTOP_PIN\"; }/" \
		"$VDI_RUN/policy.conf"
	grep -q "pin = \"$DESKTOP_PIN\"" "$VDI_RUN/policy.conf" ||
		vdi_die "could not add the desktop pin to policy.conf"

	# The certificate of the RDP-level TLS inside the tunnel.
	"$OPENSSL" req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
		-nodes -days 2 -subj "/CN=vdi-gateway-rdp" \
		-keyout "$VDI_RUN/rdp.key" -out "$VDI_RUN/rdp.pem" 2>/dev/null ||
		vdi_die "cannot make the inner RDP certificate"
	INNER_PIN=$(vdi_thumbprint "$VDI_RUN/rdp.pem")

	local userline=""
	if [ "$(id -u)" = 0 ]; then
		# Really drop privileges: nobody must read what it needs
		# after the drop (CRLs on SIGHUP, the broker client key).
		userline='user = "nobody"; group = "nogroup";'
		chgrp nogroup "$VDI_PKI/infra/gateway.key" "$VDI_RUN/rdp.key"
		chmod 0640 "$VDI_PKI/infra/gateway.key" "$VDI_RUN/rdp.key"
	fi
	GW_METRICS_PORT=$(vdi_free_port)
	cat >"$VDI_RUN/gatewayd.conf" <<EOP
# vdi-gatewayd for the integration test
listen = "127.0.0.1:0";
metrics_listen = "127.0.0.1:$GW_METRICS_PORT";
threads = 2;
$userline
tls = { cert = "pki/infra/gateway.pem"; key = "pki/infra/gateway.key"; };
policy = "policy.conf";
broker = {
  url = "BROKER_URL";
  ca = "pki/infra/ca.pem";
  crl = "pki/infra/crl.pem";
  public_key = [ "token.pub" ];
};
seal_key = "seal.key";
inner_rdp = { cert = "rdp.pem"; key = "rdp.key"; };
limits = { handshake_timeout = "5s"; clock_skew = 5; };
EOP
}

# gateway_start: starts vdi-gatewayd (after broker_start) and waits for
# its port: GW_PORT, GW_NAME (gateway, gateway2, ...).
GW_STARTS=0
gateway_start() {
	GW_STARTS=$((GW_STARTS + 1))
	GW_NAME=gateway
	[ "$GW_STARTS" -gt 1 ] && GW_NAME=gateway$GW_STARTS
	sed -i "s|url = \".*\";|url = \"$BROKER_URL\";|" "$VDI_RUN/gatewayd.conf"
	rm -f "$VDI_RUN/gateway.port"
	vdi_start "$GW_NAME" "$GATEWAY" -d -l debug -f "$VDI_RUN/gatewayd.conf" \
		-P "$VDI_RUN/gateway.port"
	vdi_wait_file "$VDI_RUN/gateway.port" 15 "$GW_NAME" ||
		vdi_die "gateway did not start"
	GW_PORT=$(cat "$VDI_RUN/gateway.port")
}

# tunnel_probe DEVICE TOKEN: one Upgrade; prints the HTTP status (0 when
# TLS failed); the body is in $VDI_RUN/probe.out.
tunnel_probe() {
	printf '%s\n' "$2" >"$VDI_RUN/probe.token"
	"$TUNNEL" -p -g "127.0.0.1:$GW_PORT" -c "$1.pem" -k "$1.key" \
		-C "$VDI_PKI/infra/ca.pem" -t "$VDI_RUN/probe.token" \
		>"$VDI_RUN/probe.out" 2>"$VDI_RUN/probe.err"
	sed -n 's/^status=//p' "$VDI_RUN/probe.out" | head -n1
}

# tunnel_open NAME DEVICE TOKEN: a tunnel process NAME splicing a local
# port (written to $VDI_RUN/NAME.port) into the gateway.
tunnel_open() {
	printf '%s\n' "$3" >"$VDI_RUN/$1.token"
	rm -f "$VDI_RUN/$1.port"
	vdi_start "$1" "$TUNNEL" -g "127.0.0.1:$GW_PORT" -c "$2.pem" \
		-k "$2.key" -C "$VDI_PKI/infra/ca.pem" -t "$VDI_RUN/$1.token" \
		-P "$VDI_RUN/$1.port"
}
