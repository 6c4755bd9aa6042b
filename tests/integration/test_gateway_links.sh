#!/bin/bash
# The gateway reads the policy only through its trust view
# (policies/trust.h): its own objects name no other symbol of the policy
# library, and the linked binary carries none of the evaluator (rules,
# device identification, decision formatting).
. "${top_srcdir:?run through make check}/tests/integration/lib.sh"
vdi_init
vdi_require nm binutils

gw="$VDI_BUILDDIR/vdi-gatewayd"
[ -x "$gw" ] || vdi_die "no $gw"
objs=$(find "$VDI_BUILDDIR/gateway" -maxdepth 1 \( -name 'vdi_gatewayd-*.o' \
	-o -name 'libgwd_la-*.o' \))
[ -n "$objs" ] || vdi_die "no gateway object files under $VDI_BUILDDIR/gateway"

# Every policy_* symbol the gateway's own code needs.
nm -u $objs 2>/dev/null | awk '{print $NF}' | grep '^policy_' | sort -u \
	>"$VDI_RUN/policy-undef.txt"
grep -v '^policy_trust_' "$VDI_RUN/policy-undef.txt" >"$VDI_RUN/other.txt" || true
vdi_check "the gateway's code uses the policy through trust.h" \
	grep -q '^policy_trust_load$' "$VDI_RUN/policy-undef.txt"
vdi_assert_eq "no policy_* symbol outside trust.h is named" "" \
	"$(tr '\n' ' ' <"$VDI_RUN/other.txt")"

nm "$gw" | awk '$2 == "T" {print $3}' >"$VDI_RUN/gw-text.txt"
for sym in policy_evaluate policy_identify policy_decision_format_kv \
	policy_reason_str; do
	vdi_check_not "vdi-gatewayd holds no $sym" \
		grep -qx "$sym" "$VDI_RUN/gw-text.txt"
done
vdi_check "vdi-gatewayd holds the trust view" \
	grep -qx policy_trust_load "$VDI_RUN/gw-text.txt"
vdi_finish
