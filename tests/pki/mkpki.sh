#!/bin/sh
# mkpki.sh: a throwaway test PKI made with the openssl command.
#
#   mkpki.sh OUTDIR [TENANT...]          (default tenants: city-a city-b)
#   mkpki.sh --revoke OUTDIR TENANT NAME (revoke TENANT/devices/NAME, or
#                                         infra/NAME with TENANT "infra";
#                                         rewrites that CA's crl.pem)
#
# Honours $OPENSSL (the openssl binary). No prompts. OUTDIR is wiped first
# (only when it is empty or was made by this script: it carries the marker
# file .vdi-test-pki). Keys are test fixtures: never commit them.
#
# Layout (other code depends on it):
#   OUTDIR/infra/ca.pem ca.key crl.pem    infrastructure CA and its CRL
#                                          (empty, nextUpdate in 30 days)
#   OUTDIR/infra/broker.{pem,key}          server, ECDSA P-256
#   OUTDIR/infra/gateway.{pem,key}         server + TLS client, ECDSA P-256
#   OUTDIR/infra/gateway-2.{pem,key}       the same for a second gateway
#   OUTDIR/infra/desktop-{1,2}.{pem,key}   server, RSA 2048
#     (every server cert: subjectAltName DNS:localhost, IP:127.0.0.1)
#   OUTDIR/infra/admin.{pem,key}           admin client cert, CN=admin
#   OUTDIR/TENANT/ca.pem ca.key crl.pem    tenant device CA and its CRL
#                                          (nextUpdate in 30 days)
#   OUTDIR/TENANT/devices/NAME.{pem,key}   subject /O=TENANT/OU=CLASS/CN=TENANT-NAME,
#                                          extendedKeyUsage clientAuth:
#       tablet-1, tablet-2   OU=field-tablet   valid
#       shared-1             OU=shared-tablet  valid
#       expired              OU=field-tablet   validity entirely in the past
#       notyet               OU=field-tablet   validity starts in the future
#       revoked              OU=field-tablet   valid dates, listed in crl.pem
#   OUTDIR/TENANT/devices/tablet-1.p12     PKCS#12 of tablet-1, passphrase "test"
#   OUTDIR/rogue/ca.pem ca.key             a CA nobody trusts
#   OUTDIR/rogue/devices/wrongca.{pem,key} looks like FIRST-TENANT-tablet-1,
#                                          signed by the rogue CA
#   OUTDIR/*/ca-db/                        openssl ca database (index.txt...)
set -eu

OPENSSL=${OPENSSL:-openssl}
MARKER=.vdi-test-pki

die() {
	echo "mkpki.sh: $*" >&2
	exit 1
}

usage() {
	echo "usage: mkpki.sh OUTDIR [TENANT...]" >&2
	echo "       mkpki.sh --revoke OUTDIR TENANT NAME" >&2
	exit 2
}

ossl() {
	"$OPENSSL" "$@" 2>"$ERRLOG" ||
		die "$OPENSSL $1 failed: $(cat "$ERRLOG")"
}

# Writes the openssl config of the CA in directory $1 (absolute) to
# $1/ca-db/openssl.cnf. Rewritten on every use so OUTDIR may move.
write_cnf() {
	cat >"$1/ca-db/openssl.cnf" <<EOF
[ ca ]
default_ca = ca_default

[ ca_default ]
dir = $1/ca-db
database = \$dir/index.txt
new_certs_dir = \$dir/newcerts
serial = \$dir/serial
crlnumber = \$dir/crlnumber
certificate = $1/ca.pem
private_key = $1/ca.key
default_md = sha256
default_days = 365
default_crl_days = 30
policy = policy_any
unique_subject = no
copy_extensions = none
email_in_dn = no
preserve = yes
name_opt = ca_default
cert_opt = ca_default

[ policy_any ]
organizationName = optional
organizationalUnitName = optional
commonName = supplied

[ req ]
distinguished_name = req_dn
string_mask = utf8only
prompt = no

[ req_dn ]
CN = unused

[ v3_ca ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[ server_ec ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[ server_client_ec ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[ server_rsa ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[ client_ec ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[ crl_ext ]
authorityKeyIdentifier = keyid:always
EOF
}

genkey() { # TYPE(ec|rsa) FILE
	case $1 in
	ec) ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
		-out "$2" ;;
	rsa) ossl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
		-out "$2" ;;
	esac
}

# make_ca DIR SUBJECT: self-signed CA with an empty openssl ca database.
make_ca() {
	mkdir -p "$1/ca-db/newcerts"
	: >"$1/ca-db/index.txt"
	echo "unique_subject = no" >"$1/ca-db/index.txt.attr"
	# Random positive 64-bit serials, so CAs never share serial numbers.
	echo "10$(ossl rand -hex 7)" >"$1/ca-db/serial"
	echo 1000 >"$1/ca-db/crlnumber"
	write_cnf "$1"
	genkey ec "$1/ca.key"
	ossl req -config "$1/ca-db/openssl.cnf" -new -x509 -key "$1/ca.key" \
	    -subj "$2" -days 3650 -extensions v3_ca -out "$1/ca.pem"
}

# issue CADIR OUTBASE KEYTYPE SUBJECT EXTENSIONS [openssl ca date options]
issue() {
	# POSIX sh has no local variables: i_* names stay private by convention.
	i_cadir=$1 i_out=$2 i_ktype=$3 i_subj=$4 i_ext=$5
	shift 5
	genkey "$i_ktype" "$i_out.key"
	ossl req -config "$i_cadir/ca-db/openssl.cnf" -new -key "$i_out.key" \
	    -subj "$i_subj" -out "$i_out.csr"
	ossl ca -batch -notext -config "$i_cadir/ca-db/openssl.cnf" \
	    -extensions "$i_ext" -in "$i_out.csr" -out "$i_out.pem" "$@"
	rm -f "$i_out.csr"
}

gencrl() { # CADIR: (re)writes CADIR/crl.pem atomically
	write_cnf "$1"
	ossl ca -batch -config "$1/ca-db/openssl.cnf" -gencrl -crldays 30 \
	    -crlexts crl_ext -out "$1/crl.pem.tmp"
	mv -f "$1/crl.pem.tmp" "$1/crl.pem"
}

revoke() { # CADIR CERTFILE
	write_cnf "$1"
	ossl ca -batch -config "$1/ca-db/openssl.cnf" -revoke "$2" \
	    -crl_reason keyCompromise
}

utc() { # date offset for openssl ca -startdate/-enddate
	date -u -d "$1" +%Y%m%d%H%M%SZ
}

abspath() {
	(cd "$1" && pwd)
}

umask 077
ERRLOG=$(mktemp "${TMPDIR:-/tmp}/mkpki.XXXXXX")
trap 'rm -f "$ERRLOG"' EXIT

command -v "$OPENSSL" >/dev/null 2>&1 ||
	die "no openssl command '$OPENSSL' (Debian package 'openssl', or set OPENSSL)"

if [ "${1:-}" = "--revoke" ]; then
	[ $# -eq 4 ] || usage
	[ -f "$2/$MARKER" ] || die "$2 is not a PKI made by mkpki.sh"
	case $3/$4 in */ca | */crl | */*/* | */ | /*) die "cannot revoke $3/$4" ;; esac
	r_cadir=$(abspath "$2")/$3
	r_cert=$r_cadir/devices/$4.pem
	[ -f "$r_cert" ] || r_cert=$r_cadir/$4.pem
	[ -f "$r_cert" ] ||
		die "no certificate $r_cadir/devices/$4.pem or $r_cadir/$4.pem"
	revoke "$r_cadir" "$r_cert"
	gencrl "$r_cadir"
	chmod 644 "$r_cadir/crl.pem"
	exit 0
fi

[ $# -ge 1 ] || usage
case $1 in -*) usage ;; esac
out=$1
shift
[ $# -gt 0 ] || set -- city-a city-b
for t in "$@"; do
	case $t in
	infra | rogue | ca-db | "" | *[!a-z0-9-]*)
		die "bad tenant name '$t' (lower-case letters, digits, '-'; not infra or rogue)"
		;;
	esac
done

if [ -e "$out" ]; then
	[ -d "$out" ] || die "$out exists and is not a directory"
	if [ ! -f "$out/$MARKER" ] && [ -n "$(ls -A "$out")" ]; then
		die "refusing to wipe $out: not empty and not made by mkpki.sh"
	fi
	rm -rf "$out"
fi
mkdir -p "$out"
out=$(abspath "$out")
: >"$out/$MARKER"

now_start=$(utc '-1 hour')

# Infrastructure: CA, servers, the gateway's client use, admin.
make_ca "$out/infra" "/O=vdi-test/CN=vdi-test infrastructure CA"
for s in broker gateway gateway-2 desktop-1 desktop-2 admin; do
	case $s in
	gateway | gateway-2) kt=ec ext=server_client_ec ;;
	desktop-*) kt=rsa ext=server_rsa ;;
	admin) kt=ec ext=client_ec ;;
	*) kt=ec ext=server_ec ;;
	esac
	issue "$out/infra" "$out/infra/$s" $kt "/O=vdi-test/CN=$s" $ext \
	    -startdate "$now_start" -days 365
done
# Every CA a vdi server trusts publishes a CRL (the broker trusts the
# infrastructure CA for gateway certificates).
gencrl "$out/infra"
chmod 644 "$out/infra/crl.pem"

# Tenants.
past_start=$(utc '-2 years') past_end=$(utc '-1 year')
future_start=$(utc '+1 year') future_end=$(utc '+2 years')
for t in "$@"; do
	d=$out/$t
	make_ca "$d" "/O=$t/CN=$t device CA"
	mkdir -p "$d/devices"
	for n in tablet-1 tablet-2 shared-1 expired notyet revoked; do
		class=field-tablet
		dates="-startdate $now_start -days 365"
		case $n in
		shared-*) class=shared-tablet ;;
		expired) dates="-startdate $past_start -enddate $past_end" ;;
		notyet) dates="-startdate $future_start -enddate $future_end" ;;
		esac
		# shellcheck disable=SC2086 # $dates is a word list on purpose
		issue "$d" "$d/devices/$n" ec "/O=$t/OU=$class/CN=$t-$n" \
		    client_ec $dates
	done
	ossl pkcs12 -export -in "$d/devices/tablet-1.pem" \
	    -inkey "$d/devices/tablet-1.key" -certfile "$d/ca.pem" \
	    -name "$t-tablet-1" -passout pass:test \
	    -out "$d/devices/tablet-1.p12"
	revoke "$d" "$d/devices/revoked.pem"
	gencrl "$d"
done

# A CA nobody trusts, issuing a look-alike of the first tenant's tablet.
first=$1
make_ca "$out/rogue" "/O=$first/CN=$first device CA"
mkdir -p "$out/rogue/devices"
issue "$out/rogue" "$out/rogue/devices/wrongca" ec \
    "/O=$first/OU=field-tablet/CN=$first-tablet-1" client_ec \
    -startdate "$now_start" -days 365

# Keys (and the PKCS#12) stay 0600; certificates, CRLs, folders are public.
find "$out" -type d -exec chmod 755 {} +
find "$out" -name '*.pem' -exec chmod 644 {} +
exit 0
