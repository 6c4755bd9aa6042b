# docs/: prose documentation shipped in the tarball. Man pages are listed by
# the fragment of the part they document (dist_man_MANS).
EXTRA_DIST += docs/architecture.md docs/coding-style.md docs/threat-model.md
EXTRA_DIST += docs/performance.md docs/performance-relay-before.png
