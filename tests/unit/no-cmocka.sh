#!/bin/sh
# no-cmocka.sh: run by make check instead of the unit tests when configure
# found no cmocka (a test-only dependency): says what is skipped and why.
# Under CI=true a missing requirement is an error, as in lib.sh.
n=0
for t in $UNIT_TESTS; do
	n=$((n + 1))
done
msg="$n unit tests not built, configure found no cmocka: install the Debian package 'libcmocka-dev' and run configure again. Skipped: $UNIT_TESTS"
if [ "${CI:-}" = true ]; then
	echo "ERROR: $msg (CI=true: a missing requirement is an error, not a skip)"
	exit 99
fi
echo "SKIP: $msg"
exit 77
