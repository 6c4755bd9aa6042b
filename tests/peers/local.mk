# tests/peers/: see the fragment's comments.
