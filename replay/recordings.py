"""File-level convert and inspect: the edge between paths and the text-in, result-out core."""
from __future__ import annotations

import os
from pathlib import Path

from .errors import OutputError, ReplayError
from .files import read_text, same_file, write_atomic
from .source import detect_kind


def default_output(path: str) -> str:
    from .script.emit import default_script_name

    p = Path(path)
    return str(p.with_name(default_script_name(p.name)))


def convert_text(text: str, params, *, source_name: str, script_name: str, embed: bool = False,
                 target_version: str | None = None, state_path: str | None = None):
    kind = detect_kind(text)
    if kind == "state":
        from .state.convert import convert_state

        return convert_state(text, params, source_name=source_name, script_name=script_name, embed=embed,
                             state_path=state_path)
    from .trace.convert import convert_trace

    options = {"target_version": target_version} if target_version else {}
    return convert_trace(text, params, source_name=source_name, script_name=script_name, **options)


def convert_file(path: str, output: str | None, params, *, embed: bool = False, target_version: str | None = None):
    """Convert one recording and write the script (unless output is '-'). Returns (result, output)."""
    text = read_text(path)
    out = output or default_output(path)
    script_name = "SCRIPT.py" if out == "-" else os.path.basename(out)
    # A state's script finds the state relative to itself (stdout: relative to the working directory).
    script_dir = os.path.dirname(os.path.abspath(out)) if out != "-" else os.getcwd()
    state_path = os.path.relpath(os.path.abspath(path), script_dir)
    try:
        result = convert_text(text, params, source_name=os.path.basename(path), script_name=script_name,
                              embed=embed, target_version=target_version, state_path=state_path)
    except ReplayError as exc:
        raise exc.at(path, os.path.basename(path))
    if out != "-":
        if os.path.exists(out) and same_file(out, path):
            raise OutputError("refusing to write over the input recording", out)
        write_atomic(out, result.code)
    return result, out


def inspect_file(path: str):
    from . import inspect

    text = read_text(path)
    try:
        return inspect(text, os.path.basename(path))
    except ReplayError as exc:
        raise exc.at(path, os.path.basename(path))
