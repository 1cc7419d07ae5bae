"""`replay convert`'s work, shared by the fast path (launch.py) and the typer app (app.py); no CLI framework."""
from __future__ import annotations

import sys


def convert_command(input: str, output: str | None = None, param=(), embed: bool = False,
                    target_version: str | None = None, quiet: bool = False) -> None:
    """`replay convert`: write the script, report notes and warnings on stderr."""
    from ..recordings import convert_file

    path = str(input)
    result, out = convert_file(path, output, list(param), embed=embed, target_version=target_version)
    if out == "-":
        sys.stdout.write(result.code)
    if not quiet:
        for d in result.notes:
            _err(d.format(path))
        for d in result.warnings:
            _err(f"{path}:{d.line}:{d.col}: warning: {d.message}")
        if out != "-":
            names = ", ".join(f"--{p.name}" for p in result.parameters)
            _err(f"wrote {out} ({len(result.parameters)} parameters: {names})")


def _err(line: str) -> None:
    sys.stderr.write(line + "\n")
