"""`replay verify` , registered by replay/cli/app.py."""
from __future__ import annotations

import sys
from typing import Optional

import typer


def verify(
    recording: str = typer.Argument(..., help="The recording: a trace (.py) or a state (.pvsm)."),
    script: Optional[str] = typer.Option(None, "--script", "-s", help="Check this existing replay script "
                                         "instead of converting the recording now."),
    tolerance: float = typer.Option(0.0, "--tolerance", "-t", min=0.0, help="Allowed difference, as a fraction "
                                    "(0 = exact): an image pixel differs when a channel differs by more than "
                                    "T x 255; data values match when |a - b| <= T x max(1, |a|, |b|)."),
    keep: bool = typer.Option(False, "--keep", help="Keep both output folders and write a difference image "
                              "for each image that differs."),
    pvbatch: Optional[str] = typer.Option(None, "--pvbatch", help="The pvbatch to run (default: on PATH)."),
    recorded_with: Optional[str] = typer.Option(None, "--recorded-with", metavar="PVBATCH", help="The pvbatch "
                                                "of the ParaView that made the recording: the recording runs "
                                                "there, the replay on --pvbatch (an upgrade check)."),
    native_look: bool = typer.Option(False, "--native-look", help="Run the replay with --native-look: the "
                                     "running ParaView's own default looks instead of the recording's."),
) -> None:
    """Run the recording as it is and the replay with its defaults under pvbatch; compare every output.

    Exit 0 when every output matches, 1 when any differs or is missing, 2 when the recording's data is not at its recorded paths.
    """
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from ...verification.verify import verify as run_verify

    result = run_verify(recording, script=script, tolerance=tolerance, keep=keep, pvbatch=pvbatch,
                        recorded_with=recorded_with, native_look=native_look)
    console = Console(highlight=False, soft_wrap=True)
    for note in result.notes:
        sys.stderr.write(note + "\n")
    where = f" on {recorded_with}" if recorded_with else ""
    replay_on = f" on {pvbatch or 'pvbatch'}" if recorded_with else ""
    console.print(f"{recording}{where} vs {script or 'its replay (converted now)'}{replay_on}", markup=False)
    table = Table()
    for column in ("output", "kind", "result", "difference"):
        table.add_column(column, overflow="fold")
    for c in result.comparisons:
        table.add_row(c.name, c.kind, "[green]same[/]" if c.same else "[red]differs[/]", c.detail)
    if result.comparisons:
        console.print(table)
    if result.problem:
        console.print(Text(result.problem, style="red"))  # a path may hold [brackets]: not markup
    bad = len(result.differing)
    if result.ok:
        console.print(f"[green]all {len(result.comparisons)} outputs match[/] (tolerance {tolerance:g})")
    elif result.comparisons:
        console.print(f"[red]{bad} of {len(result.comparisons)} outputs differ[/] (tolerance {tolerance:g})")
    if result.kept:
        console.print(f"kept: recording outputs in {result.recording_side.output_dir}, "
                      f"replay outputs in {result.replay_side.output_dir}, logs in {result.kept}", markup=False)
        if result.diff_dir:
            console.print(f"difference images (differing pixels in red) in {result.diff_dir}", markup=False)
    sys.stdout.flush()
    sys.exit(result.exit_code)
