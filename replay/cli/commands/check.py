"""`replay check` (the lint) and `replay sync` (the replay-convert pre-commit hook), registered by replay/cli/app.py.

The work is in replay/lint/files.py, which replay/cli/launch.py also runs without typer.
"""
from __future__ import annotations

from typing import List

import typer


def check(
    files: List[str] = typer.Argument(..., help="Recordings (traces, .pvsm states) and replay scripts."),
    select: List[str] = typer.Option([], "--select", help="Only these codes or prefixes (RP001,RP00; ALL). "
                                     "Comma separated, repeatable."),
    ignore: List[str] = typer.Option([], "--ignore", help="Not these codes or prefixes. Comma separated, repeatable."),
    skip_other: bool = typer.Option(False, "--skip-other", help="Silently skip files that are not ParaView "
                                    "recordings (what the pre-commit hook does)."),
    jobs: int = typer.Option(0, "--jobs", "-j", min=0, help="Processes for many files (default: one per CPU, "
                             "at most 8; 1 = no extra process)."),
) -> None:
    """Lint recordings for batch replay: `path:line:col: CODE message` per problem; exit 1 if any."""
    from ...lint.files import run_check

    run_check(files, select, ignore, skip_other, jobs)


def sync(
    files: List[str] = typer.Argument(..., help="Recordings; other files (and replay scripts) are skipped."),
) -> None:
    """Write or refresh <stem>_replay.py beside each recording, keeping the --param options of an existing
    one. Exit 1 when a file was written or a recording could not be converted (pre-commit's convention)."""
    from ...lint.files import run_sync

    run_sync(files)
