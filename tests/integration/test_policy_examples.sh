#!/bin/sh
# test_policy_examples.sh: every example policy passes `vdi-policy check`,
# and every question in vdi-policy.conf(5), EXAMPLES, gets the answer the
# page prints.
#
# The examples name CA and CRL files relative to themselves
# (pki/TENANT/ca.pem), so they are copied into a temp dir next to a PKI
# made here with the openssl command. The device certificates are valid
# from 2025 to 2035 whatever the clock says, because the questions ask
# about fixed dates (--at 2026-11-20T10:00+09:00); tests/pki/mkpki.sh makes
# certificates valid from now, which would change the answers with time.
#
# The man page's questions are the .EX/.EE blocks whose first line is
# "$ vdi-policy ..." (continued with a trailing backslash); the lines after
# it are the expected output: the first must equal vdi-policy's first line,
# each other one must begin a line of the output.
set -eu

: "${top_srcdir:?run through make check}" "${top_builddir:?}"
OPENSSL=${OPENSSL:-openssl}
bindir=$top_builddir/policies
man=$top_srcdir/docs/vdi-policy.conf.5
examples=$top_srcdir/policies/examples
tenants="pref-miyagi town-kawabe city-aoba town-minato village-moriyama"

[ -x "$bindir/vdi-policy" ] || { echo "FAIL: no $bindir/vdi-policy"; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/vdi-policy-examples.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
fail=0

ossl() {
	"$OPENSSL" "$@" >"$work/ossl.log" 2>&1 || {
		echo "FAIL: $OPENSSL $1:"; cat "$work/ossl.log"; exit 1; }
}

# make_tenant TENANT: pki/TENANT/{ca.pem,crl.pem,devices/NAME.pem}
make_tenant() {
	t=$1 d=$work/pki/$1
	mkdir -p "$d/devices" "$d/db/new"
	: >"$d/db/index.txt"
	echo 1000 >"$d/db/serial"
	echo 1000 >"$d/db/crlnumber"
	cat >"$d/db/ca.cnf" <<EOF
[ ca ]
default_ca = tenant_ca
[ tenant_ca ]
database = $d/db/index.txt
new_certs_dir = $d/db/new
serial = $d/db/serial
crlnumber = $d/db/crlnumber
certificate = $d/ca.pem
private_key = $d/ca.key
default_md = sha256
default_crl_days = 3650
policy = device_policy
unique_subject = no
x509_extensions = device_ext
[ device_policy ]
organizationName = supplied
organizationalUnitName = supplied
commonName = supplied
[ device_ext ]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
EOF
	ossl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$d/ca.key" -out "$d/ca.pem" -days 36500 \
	    -subj "/O=$t/CN=$t device CA" \
	    -addext "basicConstraints=critical,CA:TRUE" \
	    -addext "keyUsage=critical,keyCertSign,cRLSign"
	for dev in tablet-1:field-tablet:250101000000Z:351231235959Z \
	    tablet-2:field-tablet:250101000000Z:351231235959Z \
	    shared-1:shared-tablet:250101000000Z:351231235959Z \
	    revoked:field-tablet:250101000000Z:351231235959Z \
	    expired:field-tablet:200101000000Z:210101000000Z; do
		name=${dev%%:*} rest=${dev#*:}
		class=${rest%%:*} rest=${rest#*:}
		start=${rest%%:*} end=${rest#*:}
		ossl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		    -keyout "$d/devices/$name.key" -out "$d/devices/$name.csr" \
		    -subj "/O=$t/OU=$class/CN=$t-$name"
		ossl ca -batch -config "$d/db/ca.cnf" -notext \
		    -startdate "$start" -enddate "$end" \
		    -in "$d/devices/$name.csr" -out "$d/devices/$name.pem"
	done
	ossl ca -config "$d/db/ca.cnf" -revoke "$d/devices/revoked.pem"
	ossl ca -config "$d/db/ca.cnf" -gencrl -out "$d/crl.pem"
}

for t in $tenants; do
	make_tenant "$t"
done
cp "$examples"/*.conf "$work/"
cd "$work"

# 1. Every top-level example loads; included parts are checked through it.
n=0
for f in "$examples"/*.conf; do
	f=$(basename "$f")
	grep -q '^version *= *1;' "$f" || continue
	if out=$("$bindir/vdi-policy" check "$f" 2>&1); then
		echo "ok: check $f: $out"
	else
		echo "FAIL: vdi-policy check $f:"
		echo "$out"
		fail=1
	fi
	n=$((n + 1))
done
[ "$n" -ge 3 ] || { echo "FAIL: only $n examples"; fail=1; }

# 1b. NLA desktops load, but vdi-gatewayd refuses their tunnels until it
# speaks CredSSP: check still succeeds and warns, naming file and line.
if out=$("$bindir/vdi-policy" check -q town-relocation.conf 2>&1); then
	case $out in
	town-relocation.conf:[0-9]*": pools."*": warning: security = \"nla\""*nla_unsupported*)
		echo "ok: nla desktops warned: $(echo "$out" | head -n1)" ;;
	*)	echo "FAIL: no warning for the nla desktops: '$out'"; fail=1 ;;
	esac
else
	echo "FAIL: check refused town-relocation.conf: $out"
	fail=1
fi
sed 's/security = "nla"/security = "tls"/' town-relocation.conf >tls-only.conf
if out=$("$bindir/vdi-policy" check -q tls-only.conf 2>&1) && [ -z "$out" ]; then
	echo "ok: no warning without nla desktops"
else
	echo "FAIL: tls-only.conf: '$out'"
	fail=1
fi
rm -f tls-only.conf

# 2. A broken copy is refused with FILE:LINE: KEY and exit 1.
sed 's#"198.51.100.0/25"#"198.51.100.1/25"#' town-relocation.conf >broken.conf
if out=$("$bindir/vdi-policy" check broken.conf 2>&1); then
	echo "FAIL: check accepted broken.conf"
	fail=1
else
	line=$(grep -n '198.51.100.1/25' broken.conf | cut -d: -f1)
	case $out in
	"broken.conf:$line: sites.field-lte[0]: bad CIDR"*)
		echo "ok: broken copy refused: $out" ;;
	*)	echo "FAIL: unexpected message: $out"; fail=1 ;;
	esac
fi
rm -f broken.conf
mv pki/city-aoba/crl.pem pki/city-aoba/crl.pem.away
if out=$("$bindir/vdi-policy" check shared-datacenter.conf 2>&1); then
	echo "FAIL: check accepted a missing CRL"
	fail=1
else
	line=$(grep -n 'pki/city-aoba/crl.pem' shared-datacenter.conf | cut -d: -f1)
	case $out in
	"shared-datacenter.conf:$line: tenants.city-aoba.crl: cannot read CRL"*)
		echo "ok: missing CRL refused: $out" ;;
	*)	echo "FAIL: unexpected message: $out"; fail=1 ;;
	esac
fi
mv pki/city-aoba/crl.pem.away pki/city-aoba/crl.pem

# 3. The man page's questions.
awk '
/^\.EX/ { inex = 1; first = 1; next }
/^\.EE/ { if (inq) print "END"; inex = 0; inq = 0; cont = 0; next }
!inex { next }
{
	line = $0
	gsub(/\\-/, "-", line); gsub(/\\\(aq/, "\047", line)
	gsub(/\\&/, "", line); gsub(/\\e/, "\\", line)
	if (cont) {
		sub(/^ +/, "", line)
		cmd = cmd " " line
	} else if (first && line ~ /^\$ vdi-policy /) {
		inq = 1
		cmd = substr(line, 3)
	} else if (inq) {
		print "E " line
		first = 0
		next
	} else {
		first = 0
		next
	}
	first = 0
	if (cmd ~ /\\$/) {
		sub(/ *\\$/, "", cmd)
		cont = 1
	} else {
		cont = 0
		print "Q " cmd
	}
}' "$man" >questions.txt

asked=0
ask() {
	[ -n "$cmd" ] || return 0
	asked=$((asked + 1))
	out=$(PATH="$bindir:$PATH" eval "$cmd" 2>&1) || true
	first_out=$(printf '%s\n' "$out" | sed -n 1p)
	bad=0
	first_exp=$(sed -n 1p expected.txt)
	[ "$first_out" = "$first_exp" ] || bad=1
	while IFS= read -r e; do
		printf '%s\n' "$out" | awk -v e="$e" \
		    'index($0, e) == 1 { found = 1 } END { exit !found }' || bad=1
	done <expected.txt
	if [ "$bad" -eq 0 ]; then
		echo "ok: $cmd -> $first_out"
	else
		echo "FAIL: $cmd"
		echo "  expected:"; sed 's/^/    /' expected.txt
		echo "  got:"; printf '%s\n' "$out" | sed 's/^/    /'
		fail=1
	fi
	cmd=
}
cmd=
while IFS= read -r line; do
	case $line in
	"Q "*)	cmd=${line#Q }; : >expected.txt ;;
	"E "*)	printf '%s\n' "${line#E }" >>expected.txt ;;
	END)	ask ;;
	esac
done <questions.txt
ask
echo "$asked questions asked"
[ "$asked" -ge 15 ] || { echo "FAIL: expected at least 15 questions"; fail=1; }

# 4. --json gives the same verdict.
out=$("$bindir/vdi-policy" explain shared-datacenter.conf --json \
    --user aoba-suzuki --groups staff \
    --cert pki/city-aoba/devices/tablet-1.pem --from 198.51.100.7 \
    --at 2026-11-20T10:00+09:00) || true
case $out in
*'"verdict": "allow"'*'"pools": ['*'"aoba-internet"'*)
	echo "ok: --json" ;;
*)	echo "FAIL: --json: $out"; fail=1 ;;
esac

exit $fail
