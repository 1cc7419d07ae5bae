"""`replay check` and `replay sync`: the lint rules (rules.py: text in, problems out) and their file edge
(files.py: read recordings and scripts, refresh scripts, run in parallel)."""
