"""The .pvsm pipeline: read (safe lxml parse) -> find (Inventory) -> select (shared) -> emit (script body)."""
