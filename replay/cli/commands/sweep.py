"""`replay sweep` , registered by replay/cli/app.py."""
from __future__ import annotations

import sys
from typing import List, Optional

import typer


def sweep(
    script: str = typer.Argument(..., help="A replay script (from replay convert)."),
    grid: List[str] = typer.Option([], "--grid", "-g", help="NAME=v1,v2,...: one axis of the cross product. "
                                   "A file parameter takes quoted globs (naturally sorted); time=all runs every "
                                   "time step; spaces separate the words of one multi-value variant. Repeatable."),
    table: Optional[str] = typer.Option(None, "--table", help="A .csv (header = parameter names) or .yaml (list "
                                        "of mappings): one run per row; an empty cell keeps the recorded value."),
    out: Optional[str] = typer.Option(None, "-o", "--output", help="Folder for the runs, manifest.csv/json, "
                                      "index.html (a gallery) and data.csv (a Cinema database). Default: sweep."),
    cinema: Optional[str] = typer.Option(None, "--cinema", help="NAME.cdb: the folder to write, named as "
                                         "Cinema databases are (instead of -o)."),
    jobs: int = typer.Option(1, "-j", "--jobs", min=1, help="Runs at the same time (local backend)."),
    force: bool = typer.Option(False, "--force", help="Run again the runs that already succeeded in -o."),
    separate: bool = typer.Option(False, "--separate", help="One pvbatch process per run, instead of a worker "
                                  "that keeps the pipeline between runs."),
    mpi: Optional[int] = typer.Option(None, "--mpi", min=1, help="Each run on N MPI ranks: an `mpiexec -n N "
                                      "pvbatch` worker keeps the pipeline (srun -n N on SLURM)."),
    pvbatch: Optional[str] = typer.Option(None, "--pvbatch", help="The pvbatch to run (default: $PVBATCH, "
                                          "then PATH)."),
    timeout: Optional[float] = typer.Option(None, "--timeout", help="Stop a run after this many seconds."),
    backend: str = typer.Option("local", "--backend", help="local, or slurm (job-array tasks that each serve "
                                "--runs-per-task runs)."),
    partition: Optional[str] = typer.Option(None, "--partition", help="SLURM partition."),
    time_limit: Optional[str] = typer.Option(None, "--time-limit", help="SLURM time limit per array task (as "
                                             "sbatch --time)."),
    sbatch_arg: List[str] = typer.Option([], "--sbatch-arg", help="Extra sbatch option, e.g. --sbatch-arg=--mem=4G. "
                                         "Repeatable."),
    dry_run: bool = typer.Option(False, "--dry-run", help="SLURM: write the job-array script, do not submit."),
    wait: bool = typer.Option(False, "--wait", help="When another sweep is writing into -o, start once it has "
                              "finished (default: refuse, naming it)."),
    runs_per_task: Optional[int] = typer.Option(None, "--runs-per-task", min=1, help="SLURM: runs one array task "
                                                "serves with a kept pipeline (default 10, fewer when earlier "
                                                "runs' times say they would not fit in half of --time-limit)."),
    max_concurrent: Optional[int] = typer.Option(None, "--max-concurrent", min=1, help="SLURM: at most K array "
                                                 "tasks of each array running at once (sbatch --array=...%K)."),
    detach: bool = typer.Option(False, "--detach", help="SLURM: return once the study is submitted, printing the "
                                "job ids; the same command again attaches (waits, writes the manifest)."),
) -> None:
    """Run a replay script for many parameter values, each run into its own folder under -o.

    Example: replay sweep contour_replay.py --grid Isosurfaces=100,150,200 --grid FileName='runs/*/out.vti' -j 2 -o study/

    Writes -o/manifest.csv, manifest.json and index.html after every run; a failed run does not stop the
    others; running the same sweep again skips the runs that succeeded (--force runs them again).
    One sweep at a time per -o folder: another one writing there is refused, naming it (exit 1), or waited
    for with --wait.
    SLURM: the jobs a sweep submitted are recorded in -o/slurm/jobs.json; the same command run again attaches
    to them while they are queued or running (it submits nothing) and takes the runs they finished as done.
    A hang-up leaves the jobs running; Ctrl-C cancels them.
    Exit 0 when every run succeeded, 1 when any failed, 130 on Ctrl-C (the manifest says what finished).
    """
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from ...errors import UsageError
    from ...batch.study import sweep as run_sweep

    if cinema is not None:
        if not cinema.rstrip("/").endswith(".cdb"):
            raise UsageError(f"--cinema {cinema}: a Cinema database folder is named NAME.cdb")
        if out is not None and out.rstrip("/") != cinema.rstrip("/"):
            raise UsageError(f"--cinema {cinema} and -o {out}: give one folder")
        out = cinema
    out = out or "sweep"

    # soft_wrap: a line longer than the terminal (or than 80 columns in a log) stays one line.
    console = Console(stderr=True, highlight=False, soft_wrap=True)
    progress = Progress(TextColumn("[bold]sweep[/]"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        TextColumn("{task.fields[last]}"), console=console, transient=False)
    state = {"task": None, "failed": 0}

    def on_plan(runs, todo):
        skipped = len(runs) - len(todo)
        if skipped:
            console.print(f"{skipped} of {len(runs)} runs already succeeded in {out} (use --force to run them "
                          "again)", markup=False)
        state["todo"] = len(todo)
        if state["task"] is not None:  # the bar of the jobs attached to: the new submission gets its own
            progress.remove_task(state["task"])
            state["task"] = None
        if todo and backend == "local":
            start_progress()

    def start_progress():
        progress.start()
        state["started"] = True
        state["task"] = progress.add_task("runs", total=state["todo"], last="")

    def on_run(row):
        if row["status"] != "ok":
            state["failed"] += 1
            progress.console.print(f"failed {row['folder']}: {row['error']}", markup=False)
        if state["task"] is not None and backend == "local":
            progress.update(state["task"], advance=1, last=row["folder"][:60])

    def on_attach(jobs):
        ids = ", ".join(job["id"] for job in jobs) or "none found in squeue"
        console.print(f"attaching to the SLURM job(s) an earlier sweep submitted into {out}: {ids} (nothing is "
                      "submitted while they are queued or running)", markup=False)
        state["todo"] = None

    def on_pending(left):
        # SLURM, once the array is submitted: the runs whose task has not finished them yet.
        if state.get("todo") is None:
            state["todo"] = left  # attached to earlier jobs: their runs not landed yet
        if state["task"] is None:
            start_progress()
        total = state["todo"]
        progress.update(state["task"], completed=total - min(left, total), last=f"{left} runs left on SLURM")

    try:
        result = run_sweep(script, grid=grid, table=table, out_dir=out, jobs=jobs, mpi=mpi, pvbatch=pvbatch,
                           force=force, separate=separate, backend=backend, timeout=timeout, partition=partition,
                           time_limit=time_limit, sbatch_args=sbatch_arg, dry_run=dry_run,
                           runs_per_task=runs_per_task, max_concurrent=max_concurrent, detach=detach,
                           on_plan=on_plan, on_attach=on_attach,
                           on_run=on_run, on_pending=on_pending, wait=wait,
                           on_wait=lambda line: console.print(line, markup=False),
                           on_stale=lambda line: console.print(line, markup=False),
                           on_note=lambda line: console.print(line, markup=False))
    except KeyboardInterrupt as interrupt:
        if state.get("started"):
            progress.stop()
            state["started"] = False
        if getattr(interrupt, "ids", None):
            console.print(f"cancelled SLURM job(s) {', '.join(interrupt.ids)} (Ctrl-C)", markup=False)
        console.print(f"interrupted: finished runs are in {out}/manifest.csv; run the same command again to "
                      "do the rest", markup=False)
        # Click turns KeyboardInterrupt into its Abort, which cli.main does not see as typer.Abort here.
        sys.exit(130)
    finally:
        if state.get("started"):
            progress.stop()
    note = getattr(result.limits, "note", "")
    if note:
        console.print(note, markup=False)
    if dry_run and result.slurm_script:
        scripts = sorted(result.slurm_script.parent.glob("array-*.sbatch"), key=lambda p: int(p.stem.split("-")[1]))
        shown = str(result.slurm_script) if len(scripts) == 1 else \
            f"{len(scripts)} array scripts, {scripts[0]} to {scripts[-1].name}"
        console.print(f"wrote {shown} (not submitted: --dry-run)", markup=False)
        sys.exit(0)
    if result.detached:
        import shlex

        again = [word for word in sys.argv[1:] if word != "--detach"]
        console.print(f"submitted SLURM job(s) {', '.join(job['id'] for job in result.jobs)} for "
                      f"{state.get('todo', 0)} runs; detached: they run on without this command. To attach (wait, "
                      f"then write the full manifest), run: {shlex.join(['replay', *again])}", markup=False)
        sys.exit(0)
    failed = len(result.failed)
    total = len(result.rows)
    earlier = f", {result.attached} by jobs submitted earlier" if result.attached else ""
    console.print(f"{total - failed} of {total} runs succeeded ({result.ran} run now{earlier}, {result.skipped} "
                  f"already done); manifest: {result.manifest}; gallery: {result.gallery}", markup=False)
    sys.exit(1 if failed else 0)
