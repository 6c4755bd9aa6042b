#!/bin/bash
# test_gateway_probe: what reaches a desktop through vdi-gatewayd. The real
# broker and gateway (tests/integration/{broker,gateway}/env.sh) with
# probe-desktop (tests/peers/README.md) as the desktops:
#
#  - probe-x (checks alice's broker password) serves alice: the real
#    xfreerdp, started with every redirection switch it has, connects once
#    straight to it (the control: cliprdr, rdpdr, rdpsnd do arrive) and
#    once through tunnel-client -> gateway (only display and input arrive,
#    with the broker's sealed credentials). Both show the probe's picture.
#  - probe-a serves bob: every hostile-client attack, each through its own
#    tunnel, must be refused (closed with a logged reason, or the
#    forbidden thing never in the probe's record) while alice's session
#    keeps running; afterwards a new session still works, and the broker's
#    audit holds the refusals.
. "${top_srcdir:?run through make check}/tests/integration/lib.sh"
vdi_init
. "$VDI_SRCDIR/tests/integration/broker/env.sh"
. "$VDI_SRCDIR/tests/integration/gateway/env.sh"
vdi_require xfreerdp freerdp2-x11
vdi_require xwd x11-apps
vdi_require python3 python3-minimal
vdi_require_probe_desktop
T0=$(date +%s)

HOSTILE=$VDI_PEERS/hostile-client
PROBE=$VDI_PEERS/probe-desktop
[ -x "$HOSTILE" ] && [ -x "$PROBE" ] || vdi_die "tests/peers not built (make check builds them)"

broker_setup
A="$VDI_PKI/city-a/devices"
# The shadow desktop of broker_setup is not used here.
vdi_stop desktop

# --- the probe desktops --------------------------------------------------------
RX=$VDI_RUN/probe-x.jsonl
RA=$VDI_RUN/probe-a.jsonl
vdi_start probe-x "$PROBE" -c "$VDI_PKI/infra/desktop-1.pem" \
	-k "$VDI_PKI/infra/desktop-1.key" -P "$VDI_RUN/probe-x.port" -o "$RX" \
	-u alice -p alice-pw
vdi_start probe-a "$PROBE" -c "$VDI_PKI/infra/desktop-1.pem" \
	-k "$VDI_PKI/infra/desktop-1.key" -P "$VDI_RUN/probe-a.port" -o "$RA"
vdi_wait_file "$VDI_RUN/probe-x.port" 10 probe-x || vdi_die "probe-x did not start"
vdi_wait_file "$VDI_RUN/probe-a.port" 10 probe-a || vdi_die "probe-a did not start"
PX_PORT=$(cat "$VDI_RUN/probe-x.port")
PA_PORT=$(cat "$VDI_RUN/probe-a.port")
PROBE_PIN=$(vdi_thumbprint "$VDI_PKI/infra/desktop-1.pem")

# broker_setup's policy: alice's own desktop (own-alice, 127.0.0.1) becomes
# probe-x, the field pool's live desktop (field-1, 127.0.0.2) probe-a,
# pinned to the probe's certificate. gateway_setup pins DESKTOP_PORT.
sed -i -e "s/\"127\.0\.0\.1:$DESKTOP_PORT\"/\"127.0.0.1:$PX_PORT\"/" \
	-e "s/\"127\.0\.0\.2:$DESKTOP_PORT\"; }/\"127.0.0.1:$PA_PORT\"; pin = \"$PROBE_PIN\"; }/" \
	"$VDI_RUN/policy.conf"
grep -q "name = \"own-alice\"; address = \"127.0.0.1:$PX_PORT\"" "$VDI_RUN/policy.conf" &&
	grep -q "name = \"field-1\"; address = \"127.0.0.1:$PA_PORT\"; pin" "$VDI_RUN/policy.conf" ||
	vdi_die "could not point the policy at the probes"
DESKTOP_PORT=$PX_PORT
gateway_setup
vdi_assert_eq "the desktop pin is the SHA-256 of the probe's certificate" \
	"$PROBE_PIN" "$DESKTOP_PIN"
broker_start
gateway_start
vdi_wait_log "$GW_NAME" "event=broker_connected" 10 ||
	vdi_die "the gateway did not reach the broker"

# --- helpers ---------------------------------------------------------------------

# rec FILE MARK EXPR: EXPR (Python; r is the record, ch maps channel names
# to their entries) on the first record after line MARK of FILE that came
# through TLS (the broker's health probes stop at X.224).
rec() {
	python3 - "$1" "$2" "$3" <<'EOF'
import json, sys
r = None
for i, line in enumerate(open(sys.argv[1])):
    x = json.loads(line)
    if i >= int(sys.argv[2]) and x["tls"]:
        r = x
        break
if r is None:
    print("NO-RECORD")
    sys.exit(0)
ch = {c["name"]: c for c in r["channels"]}
v = eval(sys.argv[3])
print(json.dumps(v) if isinstance(v, (list, dict, bool)) else v)
EOF
}
# nrec FILE MARK: how many TLS records came after line MARK.
nrec() {
	python3 -c 'import json,sys; print(sum(1 for i, l in enumerate(open(sys.argv[1])) if i >= int(sys.argv[2]) and json.loads(l)["tls"]))' "$1" "$2" 2>/dev/null || echo 0
}
has_rec() { [ "$(nrec "$1" "$2")" -ge 1 ]; }
lines() { if [ -f "$1" ]; then wc -l <"$1" | tr -d ' '; else echo 0; fi; }

# picture FILE.xwd: the probe's bands and checkerboard at (0,0) (no window
# manager under Xvfb), as test_probe_desktop.sh checks them, for 1024x768.
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
shot() {
	xwd -root -silent -display "$CDISPLAY" -out "$VDI_RUN/screen.xwd" 2>/dev/null &&
		picture "$VDI_RUN/screen.xwd"
}
# The client's own X server (xfreerdp's window at the origin).
vdi_start xvfb-client Xvfb -displayfd 1 -screen 0 1280x1024x24 -nolisten tcp -noreset
vdi_wait_until 10 grep -qE '^[0-9]+$' "$VDI_RUN/xvfb-client.log" ||
	vdi_die "client Xvfb did not start"
CDISPLAY=:$(grep -m1 -E '^[0-9]+$' "$VDI_RUN/xvfb-client.log")
vdi_wait_until 10 xdpyinfo -display "$CDISPLAY" >/dev/null 2>&1 ||
	vdi_die "client Xvfb did not start"

# Every redirection switch Debian's xfreerdp 2.11 has (test_gateway.sh).
EVERYTHING=(/size:1024x768 +clipboard "/drive:x,$VDI_RUN" /printer /smartcard
	/microphone /sound /usb:id:054c:0268 /video /gfx /dynamic-resolution
	/multitouch /echo /geometry)

# --- 1. control: xfreerdp straight to probe-x ------------------------------------
m=$(lines "$RX")
DISPLAY=$CDISPLAY vdi_start xfreerdp-direct xfreerdp "/v:127.0.0.1:$PX_PORT" \
	/sec:tls /cert:ignore /u:alice /p:alice-pw "${EVERYTHING[@]}"
vdi_check "control: xfreerdp shows the probe's picture" vdi_wait_until 20 shot
vdi_wait_until 10 grep -q 'Loading device service drive' "$VDI_RUN/xfreerdp-direct.log"
sleep 2
vdi_stop xfreerdp-direct
vdi_check_not "control window gone: the picture is off the screen" shot
vdi_wait_until 10 has_rec "$RX" "$m" || vdi_die "no control record"
CM=$m
vdi_assert_eq "control: credentials accepted" accepted "$(rec "$RX" "$m" 'r["auth"]')"
for c in cliprdr rdpdr rdpsnd drdynvc; do
	vdi_assert_eq "control: $c requested and joined" true \
		"$(rec "$RX" "$m" "'$c' in ch and ch['$c']['joined']")"
done
vdi_assert_eq "control: cliprdr and rdpsnd traffic reached the desktop" true \
	"$(rec "$RX" "$m" 'ch["cliprdr"]["msgs"] > 0 and ch["rdpsnd"]["msgs"] > 0')"
vdi_assert_eq "control: drive x announced over rdpdr" true \
	"$(rec "$RX" "$m" '{"type": 8, "name": "x"} in ch["rdpdr"]["devices"]')"
vdi_assert_eq "control: AUDIO_INPUT and AUDIO_PLAYBACK_DVC opened" true \
	"$(rec "$RX" "$m" '{"AUDIO_INPUT", "AUDIO_PLAYBACK_DVC"} <= set(r["dvc"]["opened"])')"
vdi_assert_eq "control: client info without INFO_NOAUDIOPLAYBACK" false \
	"$(rec "$RX" "$m" '"INFO_NOAUDIOPLAYBACK" in r["info"]["flag_names"]')"
echo "# control channels: $(rec "$RX" "$m" 'sorted(ch)') dvc opened: $(rec "$RX" "$m" 'r["dvc"]["opened"]')"
echo "# control info flags: $(rec "$RX" "$m" 'r["info"]["flag_names"]')"

# --- 2. the same xfreerdp through the gateway --------------------------------------
out=$(login "$A/tablet-1" alice alice-pw)
vdi_assert_eq "alice logs in" 200 "$(status)"
TOK=$(echo "$out" | jget "['token']")
ASID=$(echo "$out" | jget "['session']")
tunnel_open tunnel-x "$A/tablet-1" "$TOK"
vdi_wait_file "$VDI_RUN/tunnel-x.port" 10 tunnel-x || vdi_die "tunnel-x got no 101"
XGM=$(vdi_log_mark "$GW_NAME")
gm=$XGM
m=$(lines "$RX")
DISPLAY=$CDISPLAY vdi_start xfreerdp xfreerdp "/v:127.0.0.1:$(cat "$VDI_RUN/tunnel-x.port")" \
	/sec:tls "/cert:deny,fingerprint:sha256:$(echo "$INNER_PIN" | sed 's/../&:/g; s/:$//')" \
	/u:tablet-user /p:not-the-password "${EVERYTHING[@]}"
vdi_check "gateway relays alice's session" \
	vdi_wait_log "$GW_NAME" "event=relay_start" 15 "$gm"
vdi_check "through the gateway: xfreerdp shows the probe's picture" \
	vdi_wait_until 20 shot
vdi_check "gateway logs cliprdr refused" \
	vdi_wait_log "$GW_NAME" "name=cliprdr verdict=refused" 5 "$gm"
vdi_check "gateway logs rdpdr refused" \
	vdi_wait_log "$GW_NAME" "name=rdpdr verdict=refused" 5 "$gm"
vdi_check "gateway logs rdpsnd refused" \
	vdi_wait_log "$GW_NAME" "name=rdpsnd verdict=refused" 5 "$gm"
vdi_check "gateway logs AUDIO_INPUT refused" \
	vdi_wait_log "$GW_NAME" "name=AUDIO_INPUT verdict=refused" 10 "$gm"
XM=$m
vdi_check "alice's session is up after the handshake" \
	sh -c "kill -0 $(vdi_pid xfreerdp) && kill -0 $(vdi_pid tunnel-x)"
echo "# $(($(date +%s) - T0)) s: alice's session up, attacks next"

# --- 3. every hostile-client attack through the gateway -------------------------
# Bob (field pool: probe-a) runs each attack in a tunnel of its own while
# alice's session stays up. A login per attack: the broker reuses bob's
# session and hands out a fresh token.
ATTACKS=$("$HOSTILE" -l | awk '{print $1}')
vdi_assert_eq "hostile-client lists 20 attacks" 20 "$(echo "$ATTACKS" | wc -l)"
# What no record through the gateway may show, whatever the attack.
CLEAN='(set(ch) <= {"drdynvc"} and all(c["nul"] for c in r["channels"])
and r["other_ids"] == [] and not any(r["svc"].values())
and r["info"]["flags"] & (0x80 | 0x1E00 | 0x8000 | 0x2000000 | 0x200000 | 0x2000) == 0
and not r["info"]["alternate_shell"] and not r["info"]["working_dir"]
and r["cluster_flags"] & 1 == 0 and "0xc00a" not in r["blocks"]
and not r["caps"]["persistent_keys_expected"] and r["caps"]["persistent_cells"] == 0
and not r["caps"]["rail"] and not r["caps"]["window"] and r["caps"]["vc_flags"] == 0
and r["persistent_key_list"]["pdus"] == 0 and r["gfx"]["cache_import_offer"] == 0
and r["dvc"]["compressed"] == 0 and r["dvc"]["unrequested_responses"] == []
and r["dvc"]["data_unopened"] == 0 and r["dvc"]["caps_version"] in (0, 1, 2)
and r["data_types"] == [] and r["mcs_wrong_dir"] == 0 and r["fastpath_early"] == 0
and set(r["dvc"]["opened"]) <= {"Microsoft::Windows::RDS::Graphics",
  "Microsoft::Windows::RDS::DisplayControl", "Microsoft::Windows::RDS::Input"})'
CLOSED_BY_GW=
for a in $ATTACKS; do
	out=$(login "$A/tablet-2" bob bob-pw)
	[ "$(status)" = 200 ] || vdi_die "bob's login for $a failed: $out"
	tunnel_open "t-$a" "$A/tablet-2" "$(echo "$out" | jget "['token']")"
	vdi_wait_file "$VDI_RUN/t-$a.port" 10 "t-$a" || vdi_die "$a: tunnel got no 101"
	gm=$(vdi_log_mark "$GW_NAME")
	m=$(lines "$RA")
	rss0=$(awk '/^VmRSS/ {print $2}' "/proc/$(vdi_pid "$GW_NAME")/status")
	vdi_run "hostile-$a" 40 "$HOSTILE" -a "$a" \
		-c "127.0.0.1:$(cat "$VDI_RUN/t-$a.port")" -w 2
	H=$VDI_RUN/hostile-$a.log
	vdi_assert_contains "$a: the attack went out through the gateway" "$H" \
		"attack=$a delivered=yes"
	vdi_wait_log "$GW_NAME" "event=tunnel_end" 10 "$gm" >/dev/null ||
		vdi_fail "$a: the gateway ended the tunnel"
	vdi_wait_until 10 has_rec "$RA" "$m" || vdi_fail "$a: probe-a wrote a record"
	vdi_log_since "$GW_NAME" "$gm" | grep -v 'event=health\|event=longpoll' \
		>"$VDI_RUN/gw-$a.log"
	closed=no
	grep -q "attack=$a delivered=yes peer=closed" "$H" && closed=yes
	grep -q 'event=relay_close' "$VDI_RUN/gw-$a.log" &&
		CLOSED_BY_GW="$CLOSED_BY_GW $a"
	# what the record must (not) show, and the log's reason
	why=() expr=
	case $a in
	cs-net-cliprdr | cs-net-rdpdr | cs-net-ms-t120 | cs-net-unknown | cs-net-no-nul)
		case $a in
		cs-net-cliprdr) n=cliprdr ;;
		cs-net-rdpdr) n=rdpdr ;;
		cs-net-ms-t120) n=MS_T120 ;;
		cs-net-unknown) n=evilchn ;;
		cs-net-no-nul) n=drdynvcX ;;
		esac
		why=("kind=static name=$n verdict=refused" "channel_data_dropped")
		expr='sorted(ch) == ["drdynvc"] and all(c["nul"] for c in r["channels"]) and r["other_ids"] == []'
		;;
	svc-unjoined)
		# channel data before the Client Info: out of phase, closed
		why=("name=cliprdr verdict=refused" 'event=relay_close'
			"channel_data_out_of_phase from=client phase=domain")
		expr='"cliprdr" not in ch and ch["drdynvc"]["chunks"] == 0 and r["other_ids"] == []'
		;;
	license-disguise)
		why=('event=relay_close' 'reason="license_client err=VDI_ERR_BAD_FORMAT"')
		expr='not r["caps"]["rail"] and not r["caps"]["window"] and r["caps"]["vc_flags"] == 0 and r["caps"]["persistent_cells"] == 0 and r["persistent_key_list"]["pdus"] == 0 and r["caps"]["confirm_active"] == 0'
		;;
	user-channel-data)
		why=('event=relay_close' 'reason="user_channel_data from=client')
		expr='r["other_ids"] == []'
		;;
	join-unassigned)
		why=('event=relay_close' 'channel_join_unassigned id=')
		expr='not any(o["join_requested"] for o in r["other_ids"])'
		;;
	mcs-wrong-direction)
		why=('event=relay_close' 'reason="mcs_wrong_direction from=client type=11"')
		expr='r["mcs_wrong_dir"] == 0'
		;;
	fastpath-early)
		why=('event=relay_close' 'reason="fastpath_out_of_phase from=client phase=licensing"')
		expr='r["fastpath_early"] == 0 and r["fastpath_input"] == 0'
		;;
	share-data-type2)
		why=('event=relay_close' 'reason="share_data_type2_refused type2=0x02"')
		expr='r["data_types"] == []'
		;;
	join-flood)
		why=('event=relay_close' 'reason="channel_join_repeated id=')
		expr='"cliprdr" not in ch'
		;;
	svc-fake-id)
		why=("channel_data_dropped id=$(sed -n 's/.*event=fake_id id=\([0-9]*\).*/\1/p' "$H")")
		expr='r["other_ids"] == [] and r["font_list"]'
		;;
	dvc-unrequested-create)
		why=("dvc_unrequested_create_response id=200" "dvc_data_not_open id=200")
		expr='r["dvc"]["unrequested_responses"] == [] and r["dvc"]["data_unopened"] == 0'
		;;
	dvc-compressed)
		why=('event=relay_close' 'reason="dvc_compressed cmd=6"')
		expr='r["dvc"]["compressed"] == 0'
		;;
	persistent-cache)
		why=("persistent_key_list_dropped")
		expr='not r["caps"]["persistent_keys_expected"] and r["caps"]["persistent_cells"] == 0 and r["caps"]["rev2_flags"] & 1 == 0 and r["persistent_key_list"]["pdus"] == 0 and r["caps"]["confirm_active"] >= 1'
		;;
	gfx-cache-import)
		why=("gfx_cache_import_offer_dropped")
		expr='r["gfx"]["cache_import_offer"] == 0 and r["gfx"]["cache_entries"] == 0 and r["gfx"]["caps_advertise"] == 1'
		;;
	svc-length)
		why=('event=relay_close' 'reason="drdynvc_chunk err=VDI_ERR_BAD_LENGTH"')
		expr='r["svc"]["length_mismatch"] == 0 and r["svc"]["overrun"] == 0'
		;;
	svc-no-first)
		why=('event=relay_close' 'reason="drdynvc_chunk err=VDI_ERR_BAD_FORMAT"')
		expr='r["svc"]["no_first"] == 0'
		;;
	*)
		vdi_fail "$a: this test has no expectation for the attack"
		continue
		;;
	esac
	vdi_assert_eq "$a: nothing of it in the probe's record" true \
		"$(rec "$RA" "$m" "$expr")"
	vdi_assert_eq "$a: and nothing else forbidden in it (one desktop connection)" "1 true" \
		"$(nrec "$RA" "$m") $(rec "$RA" "$m" "$CLEAN")"
	vdi_assert_eq "$a: the credentials were bob's, from the broker" bob \
		"$(rec "$RA" "$m" 'r["info"]["user"] if r["info"]["seen"] else "bob"')"
	for w in "${why[@]}"; do
		vdi_assert_contains "$a: gateway log: $w" "$VDI_RUN/gw-$a.log" "$w"
	done
	case $a in
	dvc-compressed | svc-length | svc-no-first | svc-unjoined | license-disguise | \
		user-channel-data | join-unassigned | mcs-wrong-direction | \
		fastpath-early | share-data-type2 | join-flood)
		vdi_assert_eq "$a: the gateway closed the session" yes "$closed" ;;
	esac
	# what the attack made the gateway hold (answers it queued itself)
	rss1=$(awk '/^VmRSS/ {print $2}' "/proc/$(vdi_pid "$GW_NAME")/status")
	echo "# $a: gateway RSS ${rss0} -> ${rss1} KiB"
	[ "$a" = join-flood ] &&
		vdi_check "join-flood: the gateway's RSS grew by less than 8 MiB (${rss0} -> ${rss1} KiB)" \
			test $((rss1 - rss0)) -lt 8192
	echo "# $a: peer closed=$closed, record: end=$(rec "$RA" "$m" 'r["end"]') parse_error=$(rec "$RA" "$m" 'r["parse_error"]')"
	vdi_alive "t-$a" && vdi_stop "t-$a" 2
	vdi_check "after $a: the gateway and alice's session are still up" \
		sh -c "kill -0 $(vdi_pid "$GW_NAME") && kill -0 $(vdi_pid xfreerdp) && kill -0 $(vdi_pid tunnel-x)"
done
echo "# closed by the gateway:$CLOSED_BY_GW"
echo "# $(($(date +%s) - T0)) s: attacks done"


# --- 4. alice's record: only display and input reached probe-x ------------------------
vdi_check "alice's session outlived every attack" \
	sh -c "kill -0 $(vdi_pid xfreerdp) && kill -0 $(vdi_pid tunnel-x)"
vdi_check "... and still shows the probe's picture" shot
vdi_stop xfreerdp
vdi_check "the gateway ends alice's tunnel when xfreerdp leaves" \
	vdi_wait_until 10 grep -qE "event=tunnel_end conn=[0-9]+ sid=$ASID" "$VDI_RUN/$GW_NAME.log"
vdi_wait_until 10 has_rec "$RX" "$XM" || vdi_die "no record of alice's session"
grep "sid=$ASID" "$VDI_RUN/$GW_NAME.log" >"$VDI_RUN/gw-alice.log"
vdi_assert_contains "alice's token does not allow audio_out" "$VDI_RUN/gw-alice.log" \
	"audio_out=no"
vdi_assert_eq "one desktop connection for alice's session" 1 "$(nrec "$RX" "$XM")"
vdi_assert_eq "static channels: drdynvc only (control: cliprdr, drdynvc, rdpdr, rdpsnd)" \
	'["drdynvc"]' "$(rec "$RX" "$XM" 'sorted(ch)')"
vdi_assert_eq "no cliprdr/rdpdr/rdpsnd/MS_T120 under any spelling" false \
	"$(rec "$RX" "$XM" 'any(c["name"].lower() in ("cliprdr", "rdpdr", "rdpsnd", "ms_t120") for c in r["channels"])')"
vdi_assert_eq "drdynvc joined" true "$(rec "$RX" "$XM" 'ch["drdynvc"]["joined"]')"
vdi_assert_eq "CS_CLUSTER: REDIRECTION_SUPPORTED cleared (control: set)" "0 1" \
	"$(rec "$RX" "$XM" 'r["cluster_flags"] & 1') $(rec "$RX" "$CM" 'r["cluster_flags"] & 1')"
vdi_assert_eq "no CS_MULTITRANSPORT block" false \
	"$(rec "$RX" "$XM" '"0xc00a" in r["blocks"]')"
vdi_assert_eq "no data on ids outside CS_NET" '[]' "$(rec "$RX" "$XM" 'r["other_ids"]')"
vdi_assert_eq "the gateway's own handshake to the desktop ended the sequence" true \
	"$(rec "$RX" "$XM" 'r["font_list"] and r["caps"]["confirm_active"] >= 1')"
vdi_assert_eq "user name from the broker's sealed credentials" alice \
	"$(rec "$RX" "$XM" 'r["info"]["user"]')"
vdi_assert_eq "password from the broker's sealed credentials (probe-x checks alice-pw)" \
	accepted "$(rec "$RX" "$XM" 'r["auth"]')"
for f in INFO_COMPRESSION INFO_RAIL INFO_HIDEF_RAIL_SUPPORTED INFO_AUDIOCAPTURE \
	INFO_REMOTECONSOLEAUDIO; do
	vdi_assert_eq "Client Info without $f" false \
		"$(rec "$RX" "$XM" "'$f' in r['info']['flag_names']")"
done
vdi_assert_eq "Client Info flags: no compression bits, no RAIL, no audio capture" 0 \
	"$(rec "$RX" "$XM" 'r["info"]["flags"] & (0x80 | 0x1E00 | 0x8000 | 0x2000000 | 0x200000 | 0x2000)')"
for f in INFO_NOAUDIOPLAYBACK INFO_AUTOLOGON; do
	vdi_assert_eq "Client Info with $f" true \
		"$(rec "$RX" "$XM" "'$f' in r['info']['flag_names']")"
done
vdi_assert_eq "no alternate shell, no working directory" false \
	"$(rec "$RX" "$XM" 'r["info"]["alternate_shell"] or r["info"]["working_dir"]')"
vdi_assert_eq "no persistent bitmap cache (keys expected, persistent cells)" true \
	"$(rec "$RX" "$XM" 'not r["caps"]["persistent_keys_expected"] and r["caps"]["persistent_cells"] == 0 and r["caps"]["rev2_flags"] & 1 == 0')"
vdi_assert_eq "no RAIL or WINDOW capability sets" true \
	"$(rec "$RX" "$XM" 'not r["caps"]["rail"] and not r["caps"]["window"] and not ({23, 24} & set(r["caps"]["sets"]))')"
vdi_assert_eq "no virtual channel compression" 0 "$(rec "$RX" "$XM" 'r["caps"]["vc_flags"]')"
vdi_assert_eq "no Persistent Key List" 0 "$(rec "$RX" "$XM" 'r["persistent_key_list"]["pdus"]')"
vdi_assert_eq "no graphics cache import offer" 0 \
	"$(rec "$RX" "$XM" 'r["gfx"]["cache_import_offer"]')"
vdi_assert_eq "DVCs opened: the allowlist only" '["Microsoft::Windows::RDS::Graphics", "Microsoft::Windows::RDS::DisplayControl", "Microsoft::Windows::RDS::Input"]' \
	"$(rec "$RX" "$XM" 'r["dvc"]["opened"]')"
vdi_assert_eq "no compressed DVC PDUs, DVC caps version 1 or 2" true \
	"$(rec "$RX" "$XM" 'r["dvc"]["compressed"] == 0 and r["dvc"]["caps_version"] in (1, 2)')"
vdi_assert_eq "the graphics pipeline was used (caps advertised)" true \
	"$(rec "$RX" "$XM" 'r["gfx"]["caps_advertise"] >= 1')"
vdi_assert_eq "the probe parsed everything" 0 "$(rec "$RX" "$XM" 'r["parse_errors"]')"
vdi_assert_lacks "no protocol violation in alice's session" "$VDI_RUN/gw-alice.log" \
	"event=relay_close"
vdi_assert_eq "no password in the probes' records" 0 \
	"$(cat "$RX" "$RA" | grep -c -e alice-pw -e bob-pw -e not-the-password)"
echo "# alice's session: channels $(rec "$RX" "$XM" 'sorted(ch)'), dvc opened $(rec "$RX" "$XM" 'r["dvc"]["opened"]')"
echo "# alice's Client Info flags: $(rec "$RX" "$XM" 'r["info"]["flag_names"]')"

# --- 5. a new session after the attacks ---------------------------------------------------
out=$(login "$A/tablet-2" carol carol-pw)
vdi_assert_eq "carol logs in after the attacks" 200 "$(status)"
tunnel_open tunnel-c "$A/tablet-2" "$(echo "$out" | jget "['token']")"
vdi_wait_file "$VDI_RUN/tunnel-c.port" 10 tunnel-c || vdi_die "tunnel-c got no 101"
m=$(lines "$RA")
DISPLAY=$CDISPLAY vdi_start xfreerdp-c xfreerdp "/v:127.0.0.1:$(cat "$VDI_RUN/tunnel-c.port")" \
	/sec:tls "/cert:deny,fingerprint:sha256:$(echo "$INNER_PIN" | sed 's/../&:/g; s/:$//')" \
	/u:carol /p:x "${EVERYTHING[@]}"
vdi_check "a new session after the attacks shows the probe's picture" \
	vdi_wait_until 20 shot
vdi_stop xfreerdp-c
vdi_wait_until 10 has_rec "$RA" "$m" || vdi_die "no record of carol's session"
vdi_assert_eq "... carol on probe-a, drdynvc only" 'carol ["drdynvc"]' \
	"$(rec "$RA" "$m" 'r["info"]["user"]') $(rec "$RA" "$m" 'sorted(ch)')"

# --- 6. the broker's audit ------------------------------------------------------------------
vdi_wait_until 10 sh -c "[ \$('$VDICTL' audit --user bob | grep -c action=tunnel_end) -ge 13 ]" ||
	vdi_fail "the broker got the end of bob's 13 tunnels"
"$VDICTL" audit --user bob >"$VDI_RUN/audit-bob.txt"
"$VDICTL" audit --user alice >"$VDI_RUN/audit-alice.txt"
for n in cliprdr rdpdr MS_T120 evilchn drdynvcX; do
	vdi_check "audit: channel_refused $n (bob)" \
		grep -qE "action=channel_refused .*detail=\\{\"channel\":\"$n\"\\}" "$VDI_RUN/audit-bob.txt"
done
for n in cliprdr rdpdr rdpsnd AUDIO_INPUT; do
	vdi_check "audit: channel_refused $n (alice)" \
		grep -qE "action=channel_refused .*detail=\\{\"channel\":\"$n\"\\}" "$VDI_RUN/audit-alice.txt"
done
vdi_check "audit: bob's protocol violations ended tunnels" \
	grep -q "action=tunnel_end.*protocol_violation" "$VDI_RUN/audit-bob.txt"
vdi_check "the audit chain is intact" "$VDICTL" audit verify

vdi_stop "$GW_NAME" 10
vdi_assert_eq "vdi-gatewayd stops cleanly after all of it" 0 "$?"
vdi_stop probe-x
vdi_stop probe-a
echo "# $(($(date +%s) - T0)) s in all"
vdi_finish
