"""The assignments that crashed a real release (crashes-X.Y.json, written by make_crashes.py), as a script needs them.

A view or display crash is kept for its proxy group (another representation type shares the property and its
sub-proxy), a source's or filter's for its own type.
"""
from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources

_PREFIX, _SUFFIX = "crashes-", ".json"
_BROAD = ("views", "representations")


@lru_cache(maxsize=None)
def catalogue() -> dict[str, list[list]]:
    """release 'X.Y' -> [[proxy group or type, property, value], ...]."""
    found = {}
    for entry in resources.files(__package__).iterdir():
        if entry.name.startswith(_PREFIX) and entry.name.endswith(_SUFFIX):
            table = json.loads(entry.read_text(encoding="utf-8"))
            rows = {(c["group"] if c["group"] in _BROAD else c["proxy"], c["property"], json.dumps(c["value"]))
                    for c in table["crashes"]}
            found[table["version"]] = [[on, name, json.loads(value)] for on, name, value in sorted(rows)]
    return found


def crashes_for(text: str) -> dict[str, list[list]]:
    """The entries whose property the recording names (a script carries only those)."""
    words = set(re.findall(r"\b[A-Za-z_]\w*\b", text))
    return {version: kept for version, rows in sorted(catalogue().items())
            if (kept := [row for row in rows if row[1] in words])}
