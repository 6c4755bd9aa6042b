# docs/: see the fragment's comments.
