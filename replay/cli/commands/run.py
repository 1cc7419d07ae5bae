"""`replay run`, registered by replay/cli/app.py."""
from __future__ import annotations

import sys
from typing import Optional

import typer

# Every word after the script goes to the script, options included.
CONTEXT_SETTINGS = {"allow_extra_args": True, "ignore_unknown_options": True}


def run(
    ctx: typer.Context,
    script: str = typer.Argument(..., help="A replay script (from replay convert), or any pvbatch script."),
    mpi: Optional[int] = typer.Option(None, "--mpi", min=1, help="Run on N MPI ranks (mpiexec -n N pvbatch)."),
    pvbatch: Optional[str] = typer.Option(None, "--pvbatch", help="The pvbatch to run (default: $PVBATCH, "
                                          "then PATH)."),
    timeout: Optional[float] = typer.Option(None, "--timeout", help="Stop pvbatch after this many seconds."),
) -> None:
    """Run a replay script under pvbatch, headless; every other option goes to the script.

    Example: replay run contour_replay.py --FileName big.vti --Isosurfaces 120 --mpi 4

    Exits with pvbatch's exit status; pvbatch's INFO log lines are not shown.
    """
    import os

    from ...errors import InputError
    from ...batch.runner import run as run_script

    if not os.path.isfile(script):
        raise InputError("no such file" if not os.path.exists(script) else "not a file", script)
    try:
        result = run_script(script, list(ctx.args), mpi=mpi, pvbatch=pvbatch, timeout=timeout)
    except KeyboardInterrupt:
        # pvbatch is stopped by now (run() stops its process group); Click would turn this into its Abort.
        sys.stderr.write("replay: interrupted\n")
        sys.exit(130)
    sys.stdout.write(result.stdout)
    sys.stdout.flush()
    if not result.ok:
        # The full stderr (minus INFO noise) first, then the one line that says what went wrong.
        sys.stderr.write(result.stderr)
        result.check(script)
    sys.stderr.write(result.stderr)
