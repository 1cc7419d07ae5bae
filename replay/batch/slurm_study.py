"""The SLURM half of `replay sweep`: submit what is left of a study, then follow it (or detach), the manifest
filling in as its runs land. study.py plans and attaches; replay/batch/slurm.py writes, submits and collects."""
from __future__ import annotations

from typing import Callable, Optional

from ..errors import OutputError


def attach_earlier(out, runs, *, dry_run: bool, record: Callable, flush: Callable[[bool], None],
                   on_attach=None, on_pending=None) -> dict:
    """{run key: row} of the runs that jobs an earlier sweep into `out` submitted have finished (slurm.attach),
    each row recorded as it lands."""
    from .slurm import JOB_DIR, attach
    from .slurm_jobs import pending_record

    if dry_run:
        if pending_record(out / JOB_DIR):
            # Writing the arrays again would replace the task file the submitted jobs still read.
            raise OutputError("holds SLURM jobs an earlier sweep submitted and no sweep has collected yet: run "
                              "the sweep without --dry-run to attach to them first", str(out))
        return {}
    attached: dict = {}

    def landed(row: dict) -> None:
        attached[row["key"]] = row
        record(None, row)

    attach(out, runs, on_attach=on_attach, on_row=landed, on_progress=on_pending)
    if attached:
        flush(True)
    return attached


def run_on_slurm(result, script_path, spec, out, runs, todo, rows: dict, *, flush: Callable[[bool], None],
                 record: Callable, mpi=None, partition=None, time_limit=None, sbatch_args=(), dry_run=False,
                 pvbatch=None, cwd=None, separate=False, runs_per_task=None, max_concurrent=None,
                 detach=False, on_pending: Optional[Callable[[int], None]] = None) -> None:
    from . import slurm
    from .plan import session_key

    if not dry_run:
        flush(True)

    def submitted(job, jobs):
        result.slurm_script = job.script
        result.jobs = list(jobs or [])
        result.limits = job.limits

    # Earlier runs' times size the tasks to their time limit (slurm.runs_per_task).
    timed = [r["seconds"] for r in rows.values() if r.get("status") == "ok" and r.get("seconds")]
    landed = []

    def on_row(row):
        landed.append(row)
        record(None, row)  # the manifest, data.csv and the gallery fill in while the sweep waits

    if todo:
        files = {name for name, param in spec["by_name"].items() if param.get("kind") == "file"}
        sessions: dict = {}

        def session(run):
            # What decides a session is the run's files: one session_key (a stat, a JSON) per set of them.
            chosen = {name: words for name, words in run.params.items() if name in files}
            key = repr(sorted(chosen.items()))
            if key not in sessions:
                sessions[key] = session_key(spec, chosen, str(script_path))
            return sessions[key]

        slurm.run_array(script_path, todo, out, mpi=mpi, partition=partition, time_limit=time_limit,
                        sbatch_args=sbatch_args, dry_run=dry_run, pvbatch=pvbatch, cwd=cwd, separate=separate,
                        per_task=runs_per_task, estimate=max(timed, default=None), session=session,
                        max_concurrent=max_concurrent, detach=detach, on_submit=submitted,
                        on_progress=on_pending, on_row=on_row)
    if detach and result.jobs:
        result.detached = True
    if landed or not dry_run:
        flush(True)
    result.ran = len(landed)
