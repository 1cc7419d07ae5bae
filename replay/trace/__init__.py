"""Python traces: read (libcst) -> find (Inventory) -> rewrite (libcst transformers)."""
