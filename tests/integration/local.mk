# tests/integration/: shell tests that drive real binaries against real
# peers. Each test sources lib.sh (see its header for the helpers); its
# processes and logs live in $(top_builddir)/tests/integration/run/NAME/,
# removed when the test passes (VDI_KEEP_RUN=1 keeps it).
#
# To add a test: append it to integration_tests, a shared list of
# Makefile.am (it is then run by make check and shipped in the tarball):
#   integration_tests += tests/integration/test_NAME.sh
integration_tests += tests/integration/test_mtls.sh

EXTRA_DIST += tests/integration/lib.sh

# Folders of failed runs are kept for debugging; make clean removes them.
clean-local: clean-local-integration
clean-local-integration:
	-rm -rf tests/integration/run
.PHONY: clean-local-integration

# sd_notify readiness, reload and stop; journald priority prefixes.
integration_tests += tests/integration/test_sd_notify.sh
EXTRA_DIST += tests/peers/notify-socket.py

# Every shell block of docs/admin-guide.md, run in a scratch root.
integration_tests += tests/integration/test_admin_guide.sh
EXTRA_DIST += tests/integration/guide-blocks.py
# Installs the Debian packages on this machine (root; CI runs it after
# scripts/build-debs.sh, not make check).
dist_noinst_SCRIPTS += tests/integration/test_packages.sh
