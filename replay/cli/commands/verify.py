"""`replay verify` , registered by replay/cli/app.py."""
from __future__ import annotations

import glob
import os
import sys
from typing import List, Optional

import typer


def verify(
    recordings: List[str] = typer.Argument(..., metavar="RECORDING...", help="Recordings: traces (.py) and "
                                           "states (.pvsm), folders of them, or quoted globs ('archive/**/*.py')."),
    script: Optional[str] = typer.Option(None, "--script", "-s", help="Check this existing replay script "
                                         "instead of converting the recording now (one recording only)."),
    jobs: Optional[int] = typer.Option(None, "--jobs", "-j", min=1, help="Verify N recordings at a time "
                                       "(default 1)."),
    report: Optional[str] = typer.Option(None, "--report", metavar="DIR", help="Write DIR/index.html: each "
                                         "recording's images (recording, replay, difference) side by side, "
                                         "failures first."),
    tolerance: float = typer.Option(0.0, "--tolerance", "-t", min=0.0, help="Allowed difference, as a fraction "
                                    "(0 = exact): an image pixel differs when a channel differs by more than "
                                    "T x 255; data values match when |a - b| <= T x max(1, |a|, |b|)."),
    keep: bool = typer.Option(False, "--keep", help="Keep both output folders and write a difference image "
                              "for each image that differs."),
    pvbatch: Optional[str] = typer.Option(None, "--pvbatch", help="The pvbatch to run (default: on PATH), or a "
                                          "ParaView version X.Y (pvbatch-X.Y on PATH or in $REPLAY_PARAVIEW_ROOTS/bin)."),
    recorded_with: Optional[str] = typer.Option(None, "--recorded-with", metavar="PVBATCH", help="The pvbatch "
                                                "of the ParaView that made the recording, or its version X.Y: the "
                                                "recording runs there, the replay on --pvbatch (an upgrade check)."),
    native_look: bool = typer.Option(False, "--native-look", help="Run the replay with --native-look: the "
                                     "running ParaView's own default looks instead of the recording's."),
) -> None:
    """Run the recording as it is and the replay with its defaults under pvbatch; compare every output.

    Several recordings (files, folders, quoted globs): one row per recording and output, then a count.
    Exit 0 when every output matches, 1 when any differs or is missing or a recording failed, 2 when a recording's data is not at its recorded paths (and nothing differs).
    """
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from ...verification.many import resolve_pvbatch

    pvbatch, recorded_with = resolve_pvbatch(pvbatch), resolve_pvbatch(recorded_with)
    if _many(recordings, jobs, report):
        if script:
            from ...errors import UsageError

            raise UsageError("--script checks one recording's script: give one recording")
        _verify_many(recordings, jobs=jobs or 1, report=report, tolerance=tolerance, keep=keep, pvbatch=pvbatch,
                     recorded_with=recorded_with, native_look=native_look)
        return
    recording = recordings[0]
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


def _many(recordings, jobs, report) -> bool:
    """The many-recordings table: more than one name, a folder, a glob, -j or --report."""
    if len(recordings) > 1 or jobs or report:
        return True
    given = recordings[0]
    return os.path.isdir(given) or (glob.has_magic(given) and not os.path.exists(given))


def _verify_many(recordings, *, jobs, report, tolerance, keep, pvbatch, recorded_with, native_look) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from ...verification.many import verify_many

    console = Console(highlight=False, soft_wrap=True)
    err = Console(stderr=True, highlight=False, soft_wrap=True)

    def done(outcome):
        err.print(f"{outcome.status}: {outcome.recording}", markup=False)
        for note in outcome.result.notes if outcome.result is not None else ():
            err.print(note, markup=False)

    result = verify_many(recordings, jobs=jobs, tolerance=tolerance, pvbatch=pvbatch, recorded_with=recorded_with,
                         native_look=native_look, report=report, keep=keep, on_done=done)
    if recorded_with:
        console.print(f"recordings on {recorded_with} vs their replays on {pvbatch or 'pvbatch'}", markup=False)
    table = Table()
    for column in ("recording", "output", "result", "difference"):
        table.add_column(column, overflow="fold")
    colour = {"same": "green", "differs": "red", "failed": "red", "no data": "yellow"}
    for outcome in result.outcomes:
        for output, status, detail in outcome.rows():
            table.add_row(outcome.recording, output, f"[{colour[status]}]{status}[/]", Text(detail))
    console.print(table)
    for outcome in result.outcomes:
        if outcome.result is not None and outcome.result.kept:
            console.print(f"kept: {outcome.recording}: {outcome.result.kept}", markup=False)
    if result.report:
        console.print(f"report: {result.report}", markup=False)
    console.print(result.summary(), markup=False)
    sys.stdout.flush()
    sys.exit(result.exit_code)
