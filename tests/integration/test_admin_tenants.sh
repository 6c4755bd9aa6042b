#!/bin/bash
# Tenant isolation on the broker's admin socket: two tenants' administrators
# as real UNIX users (useradd/groupadd, removed at exit), vdictl run as each
# of them (runuser) against the real broker with sessions of both tenants
# (logins with test device certificates through PAM). Each admin sees and
# acts on its own tenant only; a request on the other tenant is refused and
# audited with the caller; root and the operators group see all; audit
# verify covers the caller's chains only.
. "${top_srcdir:?run through make check}/tests/integration/lib.sh"
vdi_init
[ "$(id -u)" = 0 ] ||
	vdi_skip "needs root: it creates UNIX users and groups (useradd, groupadd)"
vdi_require useradd passwd
vdi_require groupadd passwd
vdi_require runuser util-linux
. "$VDI_SRCDIR/tests/integration/broker/env.sh"

# --- UNIX users and groups, unique to this run ------------------------------
sfx=$$
GATE=vditest-vdiadm-$sfx # admin_group: may use the socket at all
OPS=vditest-ops-$sfx     # operators_group: every tenant
GRP_B=vditest-admb-$sfx  # city-b's admin_groups
ADM_A=vditest-adm-a-$sfx # city-a's admins name this user
ADM_B=vditest-adm-b-$sfx # in GRP_B
OPER=vditest-op-$sfx     # in OPS
NONE=vditest-none-$sfx   # in the gate only: administers no tenant
for g in "$GATE" "$OPS" "$GRP_B"; do
	vdi_at_exit "groupdel '$g'"
	groupadd "$g" || vdi_die "groupadd $g failed"
done
mkuser() { # NAME GROUPS
	vdi_at_exit "userdel '$1'"
	useradd -M -N -d /nonexistent -s /usr/sbin/nologin -G "$2" "$1" ||
		vdi_die "useradd $1 failed"
}
mkuser "$ADM_A" "$GATE"
mkuser "$ADM_B" "$GATE,$GRP_B"
mkuser "$OPER" "$GATE,$OPS"
mkuser "$NONE" "$GATE"

broker_setup
sed -i -e "s/pam_service = \"vdi-city-a\";/&\n    admins = [\"$ADM_A\"];/" \
	-e "s/pam_service = \"vdi-city-b\";/&\n    admin_groups = [\"$GRP_B\"];/" \
	"$VDI_RUN/policy.conf"
grep -q "admins = \[\"$ADM_A\"\]" "$VDI_RUN/policy.conf" || vdi_die "policy edit failed"
printf 'admin_group = "%s";\noperators_group = "%s";\n' "$GATE" "$OPS" \
	>>"$VDI_RUN/brokerd.conf"
broker_start
A="$VDI_PKI/city-a/devices"
B="$VDI_PKI/city-b/devices"
THUMB_A=$(vdi_thumbprint "$A/tablet-1.pem")
THUMB_B=$(vdi_thumbprint "$B/tablet-1.pem")
THUMB_UNSEEN=$(vdi_thumbprint "$A/shared-1.pem")

# vdictl as a user: stdout to $VDI_RUN/out, stderr to $VDI_RUN/err, exit
# status returned.
as() {
	local u=$1
	shift
	if [ "$u" = root ]; then
		"$VDICTL" "$@" >"$VDI_RUN/out" 2>"$VDI_RUN/err"
	else
		runuser -u "$u" -- env VDI_BROKER_SOCKET="$VDI_BROKER_SOCKET" \
			ASAN_OPTIONS="${ASAN_OPTIONS:-}" "$VDICTL" "$@" \
			>"$VDI_RUN/out" 2>"$VDI_RUN/err"
	fi
}
# py EXPR: evaluates EXPR with d = the JSON in $VDI_RUN/out.
py() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print('"$1"')' "$VDI_RUN/out"; }
tenants_of() { py "','.join(sorted({x['tenant'] for x in d['$1']}))"; }

# --- sessions of both tenants ------------------------------------------------
out=$(login "$A/tablet-1" carol carol-pw)
CAROL_SID=$(echo "$out" | jget "['session']")
out=$(login "$A/tablet-2" alice alice-pw)
ALICE_SID=$(echo "$out" | jget "['session']")
out=$(login "$B/tablet-1" olga olga-pw 424242)
OLGA_SID=$(echo "$out" | jget "['session']")
vdi_check "sessions of city-a and city-b exist" test -n "$CAROL_SID" -a -n "$ALICE_SID" -a -n "$OLGA_SID"

# --- lists show only the caller's tenants ---------------------------------------
as "$ADM_A" --json sessions list
vdi_assert_eq "admin A lists city-a's sessions only" city-a "$(tenants_of sessions)"
vdi_assert_eq "... carol's among them" True "$(py "'$CAROL_SID' in [x['id'] for x in d['sessions']]")"
as "$ADM_B" --json sessions list
vdi_assert_eq "admin B lists city-b's sessions only" city-b "$(tenants_of sessions)"
as "$ADM_A" --json devices list
vdi_assert_eq "admin A lists city-a's devices only" city-a "$(tenants_of devices)"
as "$ADM_B" --json devices list
vdi_assert_eq "admin B lists city-b's devices only" city-b "$(tenants_of devices)"
as "$ADM_A" --json desktops list
vdi_assert_eq "admin A lists city-a's desktops only" dead-1,field-1,own-alice \
	"$(py "','.join(sorted(x['name'] for x in d['desktops']))")"
as "$ADM_B" --json desktops list
vdi_assert_eq "admin B lists city-b's desktops only" b-1 \
	"$(py "','.join(sorted(x['name'] for x in d['desktops']))")"
for u in root "$OPER"; do
	as "$u" --json sessions list
	vdi_assert_eq "$u lists every tenant's sessions" city-a,city-b "$(tenants_of sessions)"
	as "$u" --json devices list
	vdi_assert_eq "$u lists every tenant's devices" city-a,city-b "$(tenants_of devices)"
	as "$u" --json desktops list
	vdi_assert_eq "$u lists every tenant's desktops" city-a,city-b "$(tenants_of desktops)"
done
as "$NONE" --json sessions list
vdi_assert_eq "an admin_group member who administers no tenant sees no session" 0 \
	"$(py "len(d['sessions'])")"

# --- requests on the other tenant are refused and audited ----------------------
refused() { # DESC USER TENANT CMD...
	local desc=$1 u=$2 t=$3
	shift 3
	as "$u" "$@"
	vdi_assert_eq "$desc: refused (exit 1)" 1 "$?"
	vdi_assert_contains "$desc: says why" "$VDI_RUN/err" \
		"forbidden: tenant $t is not administered by $u"
}
refused "admin A kills olga's session" "$ADM_A" city-b sessions kill "$OLGA_SID"
refused "admin B kills carol's session" "$ADM_B" city-a sessions kill "$CAROL_SID"
refused "admin A revokes city-b's tablet" "$ADM_A" city-b devices revoke "$THUMB_B"
refused "admin B revokes city-a's tablet" "$ADM_B" city-a devices revoke "$THUMB_A"
refused "admin A drains city-b's desktop" "$ADM_A" city-b desktops drain b-1
refused "admin B enables city-a's desktop" "$ADM_B" city-a desktops enable field-1
refused "admin A switches city-b's mode" "$ADM_A" city-b policy mode city-b none
refused "admin B switches city-a's mode" "$ADM_B" city-a policy mode city-a lockdown
refused "admin A reads city-b's audit" "$ADM_A" city-b audit --tenant city-b
refused "admin A verifies city-b's chain" "$ADM_A" city-b audit verify --tenant city-b
refused "admin A lists city-b's devices" "$ADM_A" city-b devices list --tenant city-b
as "$ADM_A" policy reload
vdi_assert_eq "a tenant admin cannot reload every tenant's policy" 1 "$?"
vdi_assert_contains "... and is told who may" "$VDI_RUN/err" "only root and the operators group"
as "$ADM_A" devices revoke "$THUMB_UNSEEN"
vdi_assert_eq "a tenant admin cannot revoke a device no tenant has seen" 1 "$?"

as root --json sessions list
vdi_assert_eq "olga's session is still live" True \
	"$(py "'$OLGA_SID' in [x['id'] for x in d['sessions']]")"
vdi_assert_eq "carol's session is still live" True \
	"$(py "'$CAROL_SID' in [x['id'] for x in d['sessions']]")"
as root --json devices list
vdi_assert_eq "city-b's tablet is not revoked" 0 \
	"$(py "[x['revoked_at'] for x in d['devices'] if x['thumbprint'] == '$THUMB_B'][0]")"
as root --json desktops list
vdi_assert_eq "b-1 is not drained" False \
	"$(py "[x['drained'] for x in d['desktops'] if x['name'] == 'b-1'][0]")"

as root --json audit --tenant city-b
vdi_assert_eq "each refusal on city-b is audited in city-b with the caller" \
	"audit_query,audit_verify,desktop_drain,device_revoke,devices_list,policy_mode,session_kill" \
	"$(py "','.join(sorted({x['action'] for x in d['rows'] if x['outcome'] == 'refused' and x['actor'] == 'admin:$ADM_A'}))")"
vdi_assert_eq "... with the reason" \
	"forbidden: tenant city-b is not administered by $ADM_A" \
	"$(py "[x['reason'] for x in d['rows'] if x['action'] == 'session_kill' and x['outcome'] == 'refused'][0]")"
vdi_assert_eq "... naming the session" "$OLGA_SID" \
	"$(py "[x['session'] for x in d['rows'] if x['action'] == 'session_kill' and x['outcome'] == 'refused'][0]")"
as "$ADM_B" --json audit
vdi_assert_eq "admin B sees in its own audit that admin A tried" True \
	"$(py "any(x['actor'] == 'admin:$ADM_A' and x['action'] == 'session_kill' for x in d['rows'])")"

# --- own tenant: allowed ----------------------------------------------------------
vdi_check "admin A switches city-a to lockdown" as "$ADM_A" policy mode city-a lockdown
vdi_check "... and back" as "$ADM_A" policy mode city-a default
vdi_check "admin B drains its desktop" as "$ADM_B" desktops drain b-1
vdi_check "... and enables it again" as "$ADM_B" desktops enable b-1
vdi_check "admin A kills carol's session" as "$ADM_A" sessions kill "$CAROL_SID" --reason test
vdi_check "the operator kills alice's session (city-a)" as "$OPER" sessions kill "$ALICE_SID"
vdi_check "the operator drains city-b's desktop" as "$OPER" desktops drain b-1
vdi_check "the operator enables it again" as "$OPER" desktops enable b-1
vdi_check "the operator reloads the policy" as "$OPER" policy reload
vdi_check "root revokes a device not seen yet" as root devices revoke "$THUMB_UNSEEN"

# --- audit: each admin reads and verifies its own chains ---------------------------
# count TENANT LAST-SEQ: rows of TENANT up to LAST-SEQ (health rows may be
# written meanwhile).
count() { sqlite3 "$VDI_RUN/broker.db" "SELECT count(*) FROM audit WHERE tenant LIKE '$1' AND seq <= $2"; }
last_seq() { py "max(x['seq'] for x in d['rows'])"; }
head_seq() { sqlite3 "$VDI_RUN/broker.db" "SELECT seq FROM audit WHERE hash = '$(py "d['chains'][0]['head']")'"; }
as "$ADM_A" --json audit
vdi_assert_eq "admin A's audit has city-a's rows only" city-a "$(tenants_of rows)"
vdi_assert_eq "... all of them" "$(count city-a "$(last_seq)")" "$(py "len(d['rows'])")"
as "$ADM_B" --json audit
vdi_assert_eq "admin B's audit has city-b's rows only" city-b "$(tenants_of rows)"
as "$OPER" --json audit
vdi_assert_eq "the operator's audit has every row" \
	"$(count % "$(last_seq)")" "$(py "len(d['rows'])")"
as "$ADM_A" --json audit verify
vdi_assert_eq "admin A verifies city-a's chain only" city-a \
	"$(py "','.join(c['tenant'] for c in d['chains'])")"
vdi_assert_eq "... every row of it" "$(count city-a "$(head_seq)")" "$(py "d['rows']")"
as "$ADM_B" --json audit verify
vdi_assert_eq "admin B verifies city-b's chain only" city-b \
	"$(py "','.join(c['tenant'] for c in d['chains'])")"
as root --json audit verify
vdi_assert_eq "root verifies every chain" ",city-a,city-b" \
	"$(py "','.join(sorted(c['tenant'] for c in d['chains']))")"

# An edited row of city-b: city-b's chain and the whole log fail, city-a's holds.
vdi_stop "$BROKER_NAME"
sqlite3 "$VDI_RUN/broker.db" "DROP TRIGGER audit_no_update;
	UPDATE audit SET reason = 'nothing happened' WHERE seq =
	(SELECT min(seq) FROM audit WHERE tenant = 'city-b');"
broker_start
as "$ADM_A" audit verify
vdi_assert_eq "admin A: city-a's chain is intact (exit 0)" 0 "$?"
vdi_assert_contains "... and says whose chains it checked" "$VDI_RUN/out" "chain city-a:"
as "$ADM_B" audit verify
vdi_assert_eq "admin B: city-b's chain is broken (exit 3)" 3 "$?"
as "$OPER" audit verify
vdi_assert_eq "the operator: the log is broken (exit 3)" 3 "$?"
as root audit verify
vdi_assert_eq "root: the log is broken (exit 3)" 3 "$?"

vdi_finish
