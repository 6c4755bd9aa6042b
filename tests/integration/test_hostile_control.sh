#!/bin/bash
# test_hostile_control: every attack of hostile-client, run straight at
# probe-desktop (no gateway), must reach the desktop: the probe's record
# shows what the attack carried. This proves each attack is real; the
# gateway's tests run the same attacks through the relay and expect them
# refused.
. "${top_srcdir:?run through make check}/tests/integration/lib.sh"
vdi_init
vdi_require python3 python3-minimal
vdi_require_probe_desktop
vdi_make_pki

REC=$VDI_RUN/record.jsonl
HOSTILE=$VDI_PEERS/hostile-client

# rec N EXPR: Python expression EXPR on connection N's record (r; ch maps
# channel names to their entries).
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

vdi_start probe "$VDI_PEERS/probe-desktop" -c "$VDI_PKI/infra/desktop-1.pem" \
	-k "$VDI_PKI/infra/desktop-1.key" -P "$VDI_RUN/probe.port" -o "$REC"
vdi_wait_file "$VDI_RUN/probe.port" 10 probe || vdi_die "probe did not start"
PORT=$(cat "$VDI_RUN/probe.port")

N=0
# attack NAME [OPTION...]: runs it, checks it was delivered, waits for its record.
attack() {
	N=$((N + 1))
	vdi_run "hostile-$1" 40 "$HOSTILE" -a "$1" -c 127.0.0.1:"$PORT" -w 1 "${@:2}"
	vdi_assert_contains "$1: delivered" "$VDI_RUN/hostile-$1.log" \
		"attack=$1 delivered=yes"
	vdi_wait_until 10 grep -q "\"conn\":$N," "$REC" ||
		vdi_die "no record for $1 (connection $N)"
}

attack cs-net-cliprdr
vdi_assert_eq "cliprdr requested, joined, data reached the desktop" true \
	"$(rec $N 'ch["cliprdr"]["joined"] and ch["cliprdr"]["msgs"] >= 1')"

attack cs-net-rdpdr
vdi_assert_eq "rdpdr drive C announced to the desktop" \
	'[{"type": 8, "name": "C"}]' "$(rec $N 'ch["rdpdr"]["devices"]')"

attack cs-net-ms-t120
vdi_assert_eq "MS_T120 requested and data reached it" true \
	"$(rec $N 'ch["MS_T120"]["joined"] and ch["MS_T120"]["chunks"] >= 1')"

attack cs-net-unknown
vdi_assert_eq "unknown channel requested and data reached it" true \
	"$(rec $N 'ch["evilchn"]["chunks"] >= 1')"

attack cs-net-no-nul
vdi_assert_eq "name without NUL reached the desktop" false \
	"$(rec $N 'ch["drdynvcX"]["nul"]')"

attack svc-unjoined
vdi_assert_eq "data on unjoined cliprdr and drdynvc ids" true \
	"$(rec $N 'not ch["cliprdr"]["join_requested"] and ch["cliprdr"]["chunks"] == 1 and ch["drdynvc"]["chunks"] == 1')"

attack svc-fake-id
vdi_assert_eq "data on an id nobody announced" true \
	"$(rec $N 'any(o["chunks"] == 1 and not o["join_requested"] for o in r["other_ids"])')"

attack dvc-unrequested-create
vdi_assert_eq "unrequested DVC Create Response reached the desktop" \
	'[{"id": 200, "status": 0}]' "$(rec $N 'r["dvc"]["unrequested_responses"]')"
vdi_assert_eq "data on the unrequested DVC reached the desktop" true \
	"$(rec $N 'r["dvc"]["data_unopened"] >= 1')"

attack dvc-compressed
vdi_assert_eq "compressed DVC PDUs reached the desktop" 2 \
	"$(rec $N 'r["dvc"]["compressed"]')"

attack persistent-cache
vdi_assert_eq "PERSISTENT_KEYS_EXPECTED reached the desktop" true \
	"$(rec $N 'r["caps"]["persistent_keys_expected"]')"
vdi_assert_eq "persistent cell bits reached the desktop" 3 \
	"$(rec $N 'r["caps"]["persistent_cells"]')"
vdi_assert_eq "Persistent Key List reached the desktop" \
	'{"pdus": 1, "entries": 4}' "$(rec $N 'r["persistent_key_list"]')"

attack gfx-cache-import
vdi_assert_eq "RDPGFX cache import offer reached the desktop" \
	'{"caps_advertise": 1, "cache_import_offer": 1, "cache_entries": 3}' \
	"$(rec $N 'r["gfx"]')"

attack svc-length
vdi_assert_eq "SVC chunk shorter than its length reached the desktop" 1 \
	"$(rec $N 'r["svc"]["length_mismatch"]')"

attack svc-no-first
vdi_assert_eq "SVC chunk without FIRST reached the desktop" 1 \
	"$(rec $N 'r["svc"]["no_first"]')"

# The attacks of the hardening review: each reaches a desktop when nothing
# stands in between.
attack license-disguise
vdi_assert_eq "the disguised Confirm Active reached the desktop: RAIL, WINDOW, VC compression, persistent cells" \
	"true true 1 3 true" \
	"$(rec $N '"%s %s %d %d %s" % (str(r["caps"]["rail"]).lower(), str(r["caps"]["window"]).lower(), r["caps"]["vc_flags"], r["caps"]["persistent_cells"], str(r["caps"]["persistent_keys_expected"]).lower())')"
vdi_assert_eq "the disguised Persistent Key List reached the desktop" \
	'{"pdus": 1, "entries": 11}' "$(rec $N 'r["persistent_key_list"]')"

attack user-channel-data
vdi_assert_eq "a Format List on the user channel reached the desktop" true \
	"$(rec $N 'any(o["id"] == r["user_channel"] and o["chunks"] == 1 for o in r["other_ids"])')"

attack join-unassigned
vdi_assert_eq "joins for unassigned ids reached the desktop" true \
	"$(rec $N 'sum(1 for o in r["other_ids"] if o["join_requested"]) >= 3')"

attack mcs-wrong-direction
vdi_assert_eq "an Attach User Confirm and a Channel Join Confirm from the client reached the desktop" 2 \
	"$(rec $N 'r["mcs_wrong_dir"]')"

attack fastpath-early
vdi_assert_eq "fast-path input before any Confirm Active reached the desktop" 1 \
	"$(rec $N 'r["fastpath_early"]')"

attack share-data-type2
vdi_assert_eq "client Data PDUs of server types reached the desktop" "[2, 50]" \
	"$(rec $N 'r["data_types"]')"

attack join-flood -n 2000
vdi_assert_eq "repeated joins for one id reached the desktop" true \
	"$(rec $N 'ch["cliprdr"]["join_requested"]')"

vdi_assert_eq "the probe parsed every sane connection without error" 0 \
	"$(python3 -c 'import json,sys; print(sum(1 for l in open(sys.argv[1]) if json.loads(l)["parse_error"].startswith(("connect_initial", "confirm_active", "client_info"))))' "$REC")"

vdi_stop probe
vdi_finish
