# tests/integration/: see the fragment's comments.
