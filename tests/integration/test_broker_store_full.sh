#!/bin/bash
# A broker whose store cannot write (issue 17): its SQLite file lives on a
# small tmpfs that the test fills. /healthz goes 503 store_unavailable with
# SQLite's words, vdi_broker_store_up reads 0, the failure is logged once,
# a login meanwhile is refused 503 store_unavailable and leaves no session;
# once the space is freed the broker is ready again by itself (its write
# probe), and logins work. Root only (mount).
. "${top_srcdir:?run through make check}/tests/integration/lib.sh"
vdi_init
[ "$(id -u)" = 0 ] ||
	vdi_skip "needs root to mount a small tmpfs for the broker's store (CI runs as root)"
. "$VDI_SRCDIR/tests/integration/broker/env.sh"
broker_setup
A="$VDI_PKI/city-a/devices"

FS="$VDI_RUN/storefs"
mkdir -p "$FS"
mount -t tmpfs -o size=4m,mode=0777 vdi-test-store "$FS" ||
	vdi_die "cannot mount a tmpfs on $FS"
vdi_at_exit "umount -l '$FS'"
sed -i "s|^store = .*|store = \"$FS/broker.db\";|" "$VDI_RUN/brokerd.conf"
grep -q "^store = \"$FS/broker.db\";" "$VDI_RUN/brokerd.conf" ||
	vdi_die "cannot move the store to $FS"
broker_start
METRICS_URL="http://$(sed -n 's/^metrics_listen = "\(.*\)";/\1/p' "$VDI_RUN/brokerd.conf")"

# healthz FILE -> status code; the body in FILE
healthz() {
	curl -sS -o "$1" -w '%{http_code}' --max-time 5 "$METRICS_URL/healthz" 2>/dev/null ||
		echo 000
}
store_up() {
	curl -sS --max-time 5 "$METRICS_URL/metrics" 2>/dev/null |
		sed -n 's/^vdi_broker_store_up \([01]\)$/\1/p'
}

vdi_assert_eq "GET /healthz with room on the disk: 200" 200 "$(healthz "$VDI_RUN/h-ok.txt")"
vdi_assert_eq "vdi_broker_store_up 1" 1 "$(store_up)"
out=$(login "$A/tablet-1" alice alice-pw)
vdi_assert_eq "alice logs in" 200 "$(status)"

# --- the disk fills up ------------------------------------------------------------
mark=$(vdi_log_mark "$BROKER_NAME")
dd if=/dev/zero of="$FS/fill" bs=64k 2>/dev/null
[ "$(df --output=avail "$FS" | tail -1 | tr -d ' ')" -le 64 ] ||
	vdi_die "the tmpfs did not fill: $(df -k "$FS" | tail -1)"
out=$(login "$A/tablet-2" bob bob-pw)
vdi_assert_eq "bob's login while the store cannot write: 503" 503 "$(status)"
vdi_assert_eq "... error store_unavailable" store_unavailable \
	"$(echo "$out" | jget "['error']" 2>/dev/null)"
login "$A/tablet-2" bob bob-pw >/dev/null
login "$A/tablet-3" carol carol-pw >/dev/null
vdi_check "GET /healthz goes 503" \
	vdi_wait_until 10 sh -c "[ \"\$(curl -sS -o '$VDI_RUN/h-full.txt' -w '%{http_code}' --max-time 5 '$METRICS_URL/healthz')\" = 503 ]"
vdi_assert_contains "... saying store_unavailable" "$VDI_RUN/h-full.txt" "store_unavailable"
vdi_assert_contains "... with SQLite's words" "$VDI_RUN/h-full.txt" "full"
vdi_assert_eq "vdi_broker_store_up 0" 0 "$(store_up)"
vdi_assert_eq "the failure is logged once, not once a request" 1 \
	"$(vdi_log_since "$BROKER_NAME" "$mark" | grep -c ' event=store_unavailable ')"
sleep 2 # a few write probes, still failing
vdi_assert_eq "still 503 while the disk is full" 503 "$(healthz "$VDI_RUN/h-full2.txt")"
"$VDICTL" status >"$VDI_RUN/status-full.txt" 2>&1
vdi_assert_contains "vdictl status says the store is not writable, and why" \
	"$VDI_RUN/status-full.txt" "NOT WRITABLE: "

# --- room again ----------------------------------------------------------------------
rm -f "$FS/fill"
vdi_check "GET /healthz is 200 again within 5 s, by itself" \
	vdi_wait_until 5 sh -c "[ \"\$(curl -sS -o /dev/null -w '%{http_code}' --max-time 5 '$METRICS_URL/healthz')\" = 200 ]"
vdi_assert_eq "vdi_broker_store_up 1 again" 1 "$(store_up)"
"$VDICTL" status >"$VDI_RUN/status-ok.txt" 2>&1
vdi_assert_lacks "vdictl status: the store is writable again" \
	"$VDI_RUN/status-ok.txt" "NOT WRITABLE"
vdi_check "the recovery is logged" \
	vdi_wait_log "$BROKER_NAME" "event=store_recovered" 5 "$mark"
"$VDICTL" --json sessions list >"$VDI_RUN/sessions.json"
vdi_assert_contains "alice's session, written before, is there" "$VDI_RUN/sessions.json" '"alice"'
vdi_assert_lacks "no session of bob's refused logins" "$VDI_RUN/sessions.json" '"bob"'
out=$(login "$A/tablet-2" bob bob-pw)
vdi_assert_eq "bob logs in now" 200 "$(status)"
vdi_finish
