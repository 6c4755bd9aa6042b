#!/bin/bash
# Scenario 7, a desktop dies: a pooled pool of two real desktops
# (freerdp-shadow-cli on two Xvfb screens of different colours). carol
# works on one; it dies. Within 10 seconds the broker marks it unhealthy
# (health probes), and new logins to the pool go to the other desktop,
# whose pixels the client shows.
. "${top_srcdir:?run through make check}/tests/integration/lib.sh"
vdi_init
. "$VDI_SRCDIR/tests/integration/scenarios/env.sh"
vdi_require xwd x11-apps
# shellcheck disable=SC2034
SCEN_DESKTOPS=2 # read by scen_setup (env.sh)
scen_policy() {
	base_policy 'reconnect_window = "10m";' '' '' "pools = {
  field = { tenant = \"city-a\"; zone = \"dc\"; assignment = \"pooled\";
            security = \"tls\"; capacity = 5; desktops = (
              { name = \"desk-a\"; address = \"127.0.0.1:$DESKTOP_PORT\"; },
              { name = \"desk-b\"; address = \"127.0.0.1:$DESKTOP2_PORT\"; pin = \"$DESKTOP2_PIN\"; } ); };
};"
}
scen_setup
connect_conf "$VDI_RUN/t1.conf" "$A/tablet-1"
connect_conf "$VDI_RUN/t2.conf" "$A/tablet-2"
vdi_check "both desktops healthy" vdi_wait_until 10 sh -c \
	"[ \$('$VDICTL' --json desktops list | grep -c '\"healthy\": true') = 2 ]"
# colour_share FILE RRGGBB: percent of the screen within 12 of the colour.
colour_share() {
	python3 - "$1" "$2" <<'PY'
import sys
d = open(sys.argv[1], "rb").read()
be = lambda o: int.from_bytes(d[o:o + 4], "big")
hdr, w, h, bpl, ncol = be(0), be(16), be(20), be(48), be(76)
want = bytes.fromhex(sys.argv[2])
px = d[hdr + ncol * 12:]
hit = tot = 0
for y in range(0, h, 4):
    row = px[y * bpl:(y + 1) * bpl]
    for x in range(0, w, 4):
        b, g, r = row[x * 4], row[x * 4 + 1], row[x * 4 + 2]
        tot += 1
        if abs(r - want[0]) <= 12 and abs(g - want[1]) <= 12 and abs(b - want[2]) <= 12:
            hit += 1
print(hit * 100 // max(tot, 1))
PY
}
healthy() { # healthy DESKTOP -> true/false
	"$VDICTL" --json desktops list | python3 -c 'import json,sys
for d in json.load(sys.stdin)["desktops"]:
    if d["name"] == sys.argv[1]:
        print("true" if d["healthy"] else "false")' "$1"
}

mark=$(vdi_log_mark "$GW_NAME")
shim s1 "$VDI_RUN/t1.conf" carol carol-pw
vdi_check "carol works on the pool" shim_up s1 "$mark"
SC=$(sid_of carol)
DEAD=$(sfield "$SC" desktop)
if [ "$DEAD" = desk-a ]; then DPROC=desktop LIVE=desk-b LIVE_RGB=$DESKTOP2_RGB
else DPROC=desktop2 LIVE=desk-a LIVE_RGB=$DESKTOP_RGB; fi
echo "# carol is on $DEAD; it will die"

# --- the desktop dies ---------------------------------------------------------------
t_kill=$(date -u +%s)
t0=$(ms_now)
kill -9 -- "-$(vdi_pid "$DPROC")"
vdi_check "within 10 s $DEAD is marked unhealthy" \
	vdi_wait_until 10 sh -c "[ \"\$('$VDICTL' --json desktops list | python3 -c 'import json,sys; print([d[\"healthy\"] for d in json.load(sys.stdin)[\"desktops\"] if d[\"name\"]==\"$DEAD\"][0])')\" = False ]"
ms=$(( $(ms_now) - t0 ))
echo "# desktop killed -> unhealthy after $ms ms"
vdi_check "... ($ms ms < 10000)" test "$ms" -lt 10000
vdi_assert_eq "$LIVE is still healthy" true "$(healthy "$LIVE")"
"$VDICTL" desktops list >"$VDI_RUN/desktops.txt"
vdi_assert_contains "vdictl desktops list shows it DOWN" "$VDI_RUN/desktops.txt" "DOWN"
kill -TERM "$(vdi_pid s1)"
vdi_wait_exit s1 15

# --- new logins go to the other desktop -------------------------------------------
mark=$(vdi_log_mark "$GW_NAME")
shim s2 "$VDI_RUN/t2.conf" dave dave-pw
vdi_check "dave logs in" shim_up s2 "$mark"
SD=$(sid_of dave)
vdi_assert_eq "... and gets $LIVE" "$LIVE" "$(sfield "$SD" desktop)"
sleep 3
xwd -root -silent -display ":$CDISP" >"$VDI_RUN/dave.xwd" 2>/dev/null
share=$(colour_share "$VDI_RUN/dave.xwd" "$LIVE_RGB")
vdi_check "his screen shows $LIVE's pixels ($share% #$LIVE_RGB)" test "${share:-0}" -ge 30
kill -TERM "$(vdi_pid s2)"
vdi_wait_exit s2 15
mark=$(vdi_log_mark "$GW_NAME")
shim s3 "$VDI_RUN/t2.conf" erin erin-pw
vdi_check "erin logs in" shim_up s3 "$mark"
vdi_assert_eq "... and gets $LIVE too" "$LIVE" "$(sfield "$(sid_of erin)" desktop)"

audit_rows audit-all.txt --limit 1000
vdi_check "audit: the broker marked $DEAD unhealthy, with a reason" \
	audit_has audit-all.txt "actor=broker" "action=desktop_health" "outcome=error" \
	"\"desktop\":\"$DEAD\"" '"healthy":false'
htime=$(grep 'action=desktop_health outcome=error' "$VDI_RUN/audit-all.txt" | grep "\"$DEAD\"" | awk '{print $2}' | head -1)
hepoch=$(date -u -d "$htime" +%s 2>/dev/null || echo 0)
vdi_check "... within 10 s of its death ($htime)" test "$hepoch" -ge "$t_kill" -a "$hepoch" -le $((t_kill + 10))
audit_rows audit-dave.txt --user dave
vdi_check "audit: dave's login on $LIVE" \
	audit_has audit-dave.txt "action=login " "outcome=ok" "\"desktop\":\"$LIVE\""
vdi_check "audit verify: intact" "$VDICTL" audit verify
vdi_finish
