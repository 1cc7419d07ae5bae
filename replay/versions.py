"""Which ParaView version made a recording, and how we know."""
from __future__ import annotations

import re

_HEADER = re.compile(r"^#\s*trace generated using paraview version\s+(\d+(?:\.\d+)*)", re.M | re.I)


def detect_trace_version(text: str) -> tuple[str | None, str | None]:
    m = _HEADER.search(text[:2000])
    if m:
        return m.group(1), "trace header"
    return None, None


def compatibility_preamble(version: str | None) -> list[str]:
    """Lines that must run before `paraview.simple` is imported (see versions issue)."""
    return []
