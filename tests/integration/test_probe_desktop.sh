#!/bin/bash
# test_probe_desktop: the control measurement for the gateway's channel
# tests. xfreerdp started with every redirection it has (+clipboard,
# /drive, /sound) connects straight to probe-desktop (no gateway): the
# probe must record cliprdr, rdpdr, rdpsnd and drdynvc requested and
# joined, the drive announced, the Client Info it got, and the client must
# show the probe's picture. A wrong password must be refused.
. "${top_srcdir:?run through make check}/tests/integration/lib.sh"
vdi_init
vdi_require xfreerdp freerdp2-x11
vdi_require Xvfb xvfb
vdi_require xdpyinfo x11-utils
vdi_require xwd x11-apps
vdi_require python3 python3-minimal
vdi_require_probe_desktop
vdi_make_pki

REC=$VDI_RUN/record.jsonl

# rec N EXPR: evaluates the Python expression EXPR on connection N's
# record (r) and prints the result (json for lists and dicts).
rec() {
	python3 - "$REC" "$1" "$2" <<'EOF'
import json, sys
r = None
for line in open(sys.argv[1]):
    x = json.loads(line)
    if x["conn"] == int(sys.argv[2]):
        r = x
if r is None:
    print("NO-RECORD")
    sys.exit(0)
ch = {c["name"]: c for c in r["channels"]}
v = eval(sys.argv[3])
print(json.dumps(v) if isinstance(v, (list, dict, bool)) else v)
EOF
}

# picture FILE.xwd: the probe's bands and checkerboard at (0,0) (no window
# manager under Xvfb, so the client window sits at the origin).
picture() {
	python3 - "$1" <<'EOF'
import struct, sys
d = open(sys.argv[1], "rb").read()
h = struct.unpack(">25I", d[:100])
off, bpl, bo = h[0] + h[19] * 12, h[12], h[7]
def px(x, y):
    o = off + y * bpl + x * 4
    b = d[o:o + 4] if bo == 0 else d[o:o + 4][::-1]
    return (b[2], b[1], b[0])
bands = [(255, 255, 255), (255, 255, 0), (0, 255, 255), (0, 255, 0),
         (255, 0, 255), (255, 0, 0), (0, 0, 255), (0, 0, 0)]
ok = all(px(i * 128 + 64, 300) == c for i, c in enumerate(bands))
ok = ok and px(2, 2) == (0, 0, 0) and px(10, 2) == (255, 255, 255)
ok = ok and px(2, 10) == (255, 255, 255) and px(10, 10) == (0, 0, 0)
sys.exit(0 if ok else 1)
EOF
}

vdi_start xvfb Xvfb -displayfd 1 -screen 0 1280x1024x24 -nolisten tcp -noreset
vdi_wait_file "$VDI_RUN/xvfb.log" 10 xvfb || vdi_die "Xvfb did not start"
vdi_wait_until 10 grep -q '^[0-9]' "$VDI_RUN/xvfb.log" ||
	vdi_die "Xvfb gave no display number"
export DISPLAY=:$(grep -m1 '^[0-9]' "$VDI_RUN/xvfb.log")
# The display answers before the client is started (as test_gateway_probe).
vdi_wait_until 10 xdpyinfo -display "$DISPLAY" >/dev/null 2>&1 ||
	vdi_die "Xvfb on $DISPLAY does not answer"

vdi_start probe "$VDI_PEERS/probe-desktop" -c "$VDI_PKI/infra/desktop-1.pem" \
	-k "$VDI_PKI/infra/desktop-1.key" -P "$VDI_RUN/probe.port" -o "$REC" \
	-u alice -p 's3cret pass'
vdi_wait_file "$VDI_RUN/probe.port" 10 probe || vdi_die "probe did not start"
PORT=$(cat "$VDI_RUN/probe.port")

# 1. The control connection: everything the client offers.
vdi_start xfreerdp xfreerdp /v:127.0.0.1:"$PORT" /sec:tls /cert:ignore \
	/u:alice '/p:s3cret pass' /size:1024x768 +clipboard /drive:t,"$VDI_RUN" \
	/sound /log-level:INFO
shot() {
	xwd -root -silent -out "$VDI_RUN/screen.xwd" && picture "$VDI_RUN/screen.xwd"
}
vdi_check "xfreerdp shows the probe's picture" vdi_wait_until 20 shot
# Give the channels time to finish their handshakes, then end the session.
vdi_wait_until 10 grep -q 'Loading device service drive' "$VDI_RUN/xfreerdp.log"
sleep 2
vdi_stop xfreerdp
vdi_wait_until 10 grep -q '"conn":1' "$REC" || vdi_die "no record for connection 1"

vdi_assert_eq "TLS negotiated" true "$(rec 1 'r["tls"]')"
vdi_assert_eq "static channels requested in CS_NET" \
	'["cliprdr", "drdynvc", "rdpdr", "rdpsnd"]' \
	"$(rec 1 'sorted(ch)')"
for c in cliprdr rdpdr rdpsnd drdynvc; do
	vdi_assert_eq "$c joined" true "$(rec 1 "ch['$c']['joined']")"
	vdi_assert_eq "$c name has its NUL" true "$(rec 1 "ch['$c']['nul']")"
done
vdi_assert_eq "cliprdr traffic reached the desktop" true \
	"$(rec 1 'ch["cliprdr"]["msgs"] > 0')"
vdi_assert_eq "rdpsnd traffic reached the desktop" true \
	"$(rec 1 'ch["rdpsnd"]["msgs"] > 0')"
vdi_assert_eq "drive t announced over rdpdr" '[{"type": 8, "name": "t"}]' \
	"$(rec 1 'ch["rdpdr"]["devices"]')"
vdi_assert_eq "Client Info user" alice "$(rec 1 'r["info"]["user"]')"
vdi_assert_eq "a password was present" true "$(rec 1 'r["info"]["password"]')"
vdi_assert_eq "credentials accepted" accepted "$(rec 1 'r["auth"]')"
vdi_assert_eq "INFO_AUTOLOGON set" true \
	"$(rec 1 '"INFO_AUTOLOGON" in r["info"]["flag_names"]')"
vdi_assert_eq "Confirm Active seen" true "$(rec 1 'r["caps"]["confirm_active"] >= 1')"
vdi_assert_eq "client finished the connection sequence" true \
	"$(rec 1 'r["font_list"]')"
vdi_assert_eq "drdynvc capabilities answered" true \
	"$(rec 1 'r["dvc"]["caps_version"] >= 1')"
vdi_assert_eq "audio playback DVC opened (/sound)" true \
	"$(rec 1 '"AUDIO_PLAYBACK_DVC" in r["dvc"]["opened"]')"
vdi_assert_eq "every DVC create request answered" true \
	"$(rec 1 'all(d["responded"] for d in r["dvc"]["channels"]) and len(r["dvc"]["channels"]) == 12')"
vdi_assert_eq "no parse errors" 0 "$(rec 1 'r["parse_errors"]')"
vdi_assert_eq "no password in the record" 0 "$(grep -c 's3cret' "$REC")"
vdi_assert_eq "no password on the probe's output" 0 \
	"$(grep -c 's3cret' "$VDI_RUN/probe.log")"

# 2. Wrong password: the probe closes the connection.
vdi_run xfreerdp-bad 20 xfreerdp /v:127.0.0.1:"$PORT" /sec:tls /cert:ignore \
	/u:alice /p:wrong -sound -clipboard
vdi_wait_until 10 grep -q '"conn":2' "$REC" || vdi_die "no record for connection 2"
vdi_assert_eq "wrong password refused" refused "$(rec 2 'r["auth"]')"
vdi_assert_eq "refusal ended the connection" auth_refused "$(rec 2 'r["end"]')"
vdi_assert_eq "no Confirm Active after a refusal" 0 \
	"$(rec 2 'r["caps"]["confirm_active"]')"

vdi_stop probe
vdi_finish
