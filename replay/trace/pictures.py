"""A trace that writes no file still replays into pictures, as a converted state does.

The usual recording opens data, adds filters and colours them, then stops: no SaveScreenshot. Its
script would run and write nothing, so it ends with `_replay_pictures()` (replay/script/runtime.py),
which saves one <ViewName>.png per render view and one <LayoutName>.png per layout of several views,
named and sized as a state's. A trace that writes anything itself keeps exactly what it recorded.
"""
from __future__ import annotations

import libcst as cst

from .find import EXTRACTOR_CALLS, OUTPUT_CALLS, is_writer
from .literals import call_name

WHY = "The recording saves no file"
# Calls that write, beyond the outputs the finder turns into --output-dir sites: a writer made by
# CreateWriter or by its own constructor (`CSVWriter(...)`), an exporter, an extractor.
_WRITING = OUTPUT_CALLS | {"CreateWriter", "ExportView", *EXTRACTOR_CALLS}


class Writes(cst.BatchableCSTVisitor):
    """Does the code (not its comments: 5.9+ traces end with one naming SaveScreenshot) write a file?"""

    def __init__(self) -> None:
        super().__init__()
        self.found = False

    def visit_Call(self, node: cst.Call) -> None:
        name = call_name(node)
        if name and (name in _WRITING or is_writer(name)):
            self.found = True


def note() -> str:
    from ..script.emit import PICTURES

    return f"{WHY[0].lower()}{WHY[1:]}: the script saves {PICTURES}"


def ending(body: str, newline: str, apply_time: bool) -> str:
    """The body with the pictures saved after the last recorded line."""
    lines = ["", f"# replay: {note()}", f"_replay_pictures({'apply_time=True' if apply_time else ''})", ""]
    if body and not body.endswith(("\n", "\r")):
        body += newline
    return body + newline.join(lines)
