"""`replay sweep`: run a replay script for many parameter values, each run into its own folder.

Pipeline: plan (replay/batch/plan.py: grid/table -> validated RunSpecs) -> resume (skip runs the manifest says
succeeded) -> execute (local workers, or SLURM via replay/batch/slurm.py) -> record (manifest.json, manifest.csv and
index.html, rewritten atomically after every run, so a killed sweep resumes where it stopped).

Local execution: by default each of the -j workers is one persistent pvbatch (replay/batch/worker.py) that keeps the
data pipeline between runs that change only properties (with --mpi, an `mpiexec -n N pvbatch` worker);
`separate=True` starts one pvbatch per run.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping, Optional, Sequence

from ..errors import OutputError, RunError, UsageError
from ..files import read_text, write_atomic
from .pace import Paced
from .plan import RunSpec, manifest_row, plan, read_spec, session_key, shown  # noqa: F401 - rows live in plan
from .run_status import STATUS_FILE as STATUS_NAME, rebuild, row_of, statuses, succeeded, whole, write_status
from .storage import RecordsFault, describe
from .sweep_lock import LOCK_NAME, sweep_lock

MANIFEST_JSON = "manifest.json"
DAMAGED = "manifest.json.damaged"
MANIFEST_CSV = "manifest.csv"
GALLERY = "index.html"


@dataclass
class SweepResult:
    out_dir: Path
    rows: list
    ran: int = 0
    skipped: int = 0
    manifest: Optional[Path] = None
    gallery: Optional[Path] = None
    slurm_script: Optional[Path] = None
    interrupted: bool = False
    attached: int = 0  # runs of jobs an earlier sweep submitted, collected by this one
    jobs: list = field(default_factory=list)  # SLURM: the jobs this sweep submitted (jobs.json entries)
    detached: bool = False
    limits: Optional[object] = None  # SLURM: the cluster's limits the arrays were split by (slurm_limits.Limits)

    @property
    def failed(self) -> list:
        return [r for r in self.rows if r.get("status") != "ok"]

    @property
    def ok(self) -> bool:
        return not self.failed and not self.interrupted


# -- manifest ---------------------------------------------------------------------------------------------------

def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class DamagedManifest(OutputError):
    """manifest.json is there but cannot be read as one (truncated by a crash, edited by hand)."""


def load_manifest(out_dir: Path) -> Optional[dict]:
    path = out_dir / MANIFEST_JSON
    if not path.exists():
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DamagedManifest(f"is not a replay sweep manifest (cannot read it as JSON: {exc})", str(path)) from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("runs", []), list):
        raise DamagedManifest("is not a replay sweep manifest (no list of runs)", str(path))
    return manifest


def previous_sweep(out_dir: Path, script_sha256: str, note: Callable[[str], None]) -> tuple[Optional[dict], dict]:
    """The earlier sweep in out_dir, and its runs' status files. The run folders are the truth: a manifest that
    is missing (with run folders left) or damaged is rebuilt from them, the damaged one kept aside."""
    found = statuses(out_dir) if out_dir.is_dir() else {}
    try:
        previous = load_manifest(out_dir)
    except DamagedManifest as exc:
        if not found and not (out_dir / MANIFEST_CSV).exists():
            raise OutputError(f"{exc.message}; choose another -o", exc.path) from None  # not a sweep's folder
        try:
            os.replace(out_dir / MANIFEST_JSON, out_dir / DAMAGED)
        except OSError as failed:
            raise RecordsFault(f"cannot keep the damaged manifest aside ({describe(failed)})", str(out_dir)) from None
        note(f"{exc.path}: {exc.message}; kept it as {DAMAGED} and rebuilt the manifest from {len(found)} run "
             "folders")
        return rebuild(out_dir, found, script_sha256), found
    if previous is None and found:
        note(f"{out_dir}: no {MANIFEST_JSON}; rebuilt it from {len(found)} run folders")
        return rebuild(out_dir, found, script_sha256), found
    return previous, found


def manifest_csv(rows: Sequence[dict]) -> str:
    names: list[str] = []
    for row in rows:
        names += [n for n in row["params"] if n not in names]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["folder", *names, "status", "returncode", "seconds", "outputs", "error"])
    for row in rows:
        writer.writerow([row["folder"], *(row["params"].get(n, "") for n in names), row["status"],
                         "" if row.get("returncode") is None else row["returncode"],
                         "" if row.get("seconds") is None else row["seconds"],
                         ";".join(row.get("outputs") or []), row.get("error") or ""])
    return buffer.getvalue()


def write_records(out_dir: Path, header: dict, rows: Sequence[dict]) -> None:
    """manifest.json, manifest.csv, index.html and data.csv (the folder is a Cinema database): each replaced
    whole, never half-written."""
    from .cinema import DATA_CSV, data_csv
    from .gallery import render

    manifest = {**header, "runs": list(rows)}
    write_atomic(out_dir / MANIFEST_JSON, json.dumps(manifest, indent=2) + "\n")
    write_atomic(out_dir / MANIFEST_CSV, manifest_csv(rows))
    write_atomic(out_dir / GALLERY, render(manifest))
    write_atomic(out_dir / DATA_CSV, data_csv(rows))


# -- time=all ---------------------------------------------------------------------------------------------------

_PROBE = r'''
import json, sys
from paraview.simple import OpenDataFile, GetAnimationScene
request = json.loads(sys.argv[1])
steps = set()
for files in request:
    reader = OpenDataFile(files if len(files) > 1 else files[0])
    if reader is None:
        sys.exit("replay: ParaView has no reader for %s" % files[0])
    steps.update(getattr(reader, "TimestepValues", None) or [])
print("REPLAY-TIMESTEPS " + json.dumps(sorted(float(s) for s in steps)))
'''


def probe_timesteps(spec: dict, files: Mapping[str, list], *, pvbatch: Optional[str] = None) -> list[float]:
    """The data's time steps, read by pvbatch from the run's file parameters (or the recorded files)."""
    from .runner import run

    request = []
    for param in spec["parameters"]:
        if param["kind"] != "file":
            continue
        value = files.get(param["name"]) or param["default"]
        request.append([value] if isinstance(value, str) else list(value))
    if not request:
        raise UsageError("--grid time=all: the script reads no file whose time steps could be listed")
    with tempfile.TemporaryDirectory(prefix="replay-probe-") as folder:
        probe = Path(folder, "timesteps.py")
        probe.write_text(_PROBE, encoding="utf-8")
        result = run(probe, [json.dumps(request)], pvbatch=pvbatch)
    for line in result.stdout.splitlines():
        if line.startswith("REPLAY-TIMESTEPS "):
            return json.loads(line.split(" ", 1)[1])
    raise RunError(f"--grid time=all: could not read the time steps: {result.error or 'no answer from pvbatch'}")


# -- execution --------------------------------------------------------------------------------------------------

class _Local:
    """-j threads, each feeding one pvbatch (a persistent worker, or one process per run)."""

    def __init__(self, script: Path, spec: dict, out_dir: Path, *, jobs: int, mpi, pvbatch, separate, cwd,
                 timeout, record: Callable[[RunSpec, dict], None], workers: Sequence = (), sha: str = ""):
        self.script, self.spec, self.out_dir, self.sha = script, spec, out_dir, sha
        self.jobs, self.mpi, self.pvbatch, self.cwd, self.timeout = jobs, mpi, pvbatch, cwd, timeout
        self.separate = separate
        self.record = record
        self.stop = threading.Event()
        # Set when the records cannot be written: no new run starts, the ones running finish and keep their status.
        self.halt = threading.Event()
        self.fault: Optional[BaseException] = None
        self.lock = threading.Lock()
        self.workers: list = []
        self.idle = list(workers)  # started while the sweep was planned; the ones no thread takes are stopped
        self.procs: set = set()
        self.running: dict = {}

    def execute(self, runs: list[RunSpec]) -> None:
        # Runs that read the same files go to the same worker one after another: it keeps their pipeline.
        # Groups are split only when there are fewer groups than workers; workers pull whole groups.
        groups: dict[str, list] = {}
        for run in runs:
            groups.setdefault(session_key(self.spec, run.params, str(self.script)), []).append(run)
        queue = sorted(groups.values(), key=len, reverse=True)
        while queue and len(queue) < self.jobs and len(queue[0]) > 1:
            big = queue.pop(0)
            half = (len(big) + 1) // 2
            queue = sorted(queue + [big[:half], big[half:]], key=len, reverse=True)
        self.queue = queue
        threads = [threading.Thread(target=self._serve, daemon=True) for _ in range(min(self.jobs, len(queue)))]
        for thread in threads:
            thread.start()
        try:
            self._stop_idle(len(threads))
            for thread in threads:
                while thread.is_alive():
                    thread.join(0.2)
        except KeyboardInterrupt:
            self.stop.set()
            self._kill_all()
            for thread in threads:
                thread.join(10)
            raise

    def _stop_idle(self, needed: int) -> None:
        with self.lock:
            spare, self.idle = self.idle[needed:], self.idle[:needed]
        for worker in spare:
            worker.stop(wait=False)

    def _kill_all(self) -> None:
        from .runner import _stop

        with self.lock:
            for worker in self.idle:
                worker.kill()
            for worker in self.workers:
                worker.kill()
            for proc in list(self.procs):
                _stop(proc)

    def _next_group(self):
        with self.lock:
            return self.queue.pop(0) if self.queue else None

    def _serve(self) -> None:
        worker = None
        if not self.separate:
            from .worker import Worker

            with self.lock:
                worker = self.idle.pop() if self.idle else Worker(pvbatch=self.pvbatch, mpi=self.mpi)
                self.workers.append(worker)
        try:
            while not (self.stop.is_set() or self.halt.is_set()):
                group = self._next_group()
                if group is None:
                    return
                for run in group:
                    if self.stop.is_set() or self.halt.is_set():
                        return
                    try:
                        self._one(run, worker)
                    except (OSError, OutputError) as exc:  # its folder or status cannot be written: storage
                        self.failed_storage(exc)
        finally:
            if worker is not None:
                worker.stop(wait=False)

    def failed_storage(self, exc: BaseException) -> None:
        with self.lock:
            self.fault = self.fault or exc
        self.halt.set()

    def _one(self, run: RunSpec, worker) -> None:
        from .runner import list_outputs, run as run_script, script_arguments

        folder = self.out_dir / run.folder
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        words = script_arguments(run.params) + ["--output-dir", str(folder)]
        try:
            if worker is not None:
                session = session_key(self.spec, run.params, str(self.script))
                result = worker.run(self.script, words, session=session, cwd=self.cwd, timeout=self.timeout)
            else:
                def track(proc):
                    with self.lock:
                        self.procs.add(proc)

                result = run_script(self.script, words, mpi=self.mpi, pvbatch=self.pvbatch, cwd=self.cwd,
                                    timeout=self.timeout, on_start=track)
        except Exception as exc:  # noqa: BLE001 - one run's trouble must not stop the others
            if self.stop.is_set():
                return
            row = manifest_row(run, returncode=None, error=f"{type(exc).__name__}: {exc}",
                               outputs=list_outputs(folder))
            self._keep(folder, row)
            self.record(run, row)
            return
        if self.stop.is_set():
            return  # killed by Ctrl-C: not a result; the run stays pending and re-runs next time
        row = manifest_row(run, returncode=result.returncode, seconds=result.seconds,
                           outputs=list_outputs(folder), error=result.error)
        if getattr(result, "executions", None) is not None:
            # What the worker re-executed: shows that property-only runs did not read the data again.
            row["pipeline"] = "new" if result.reset else "kept"
            row["executions"] = result.executions
        self._keep(folder, row)
        self.record(run, row)

    def _keep(self, folder: Path, row: dict) -> None:
        """The run's own record, in its folder, before the sweep's: if that cannot be written, the run cannot
        count as done (OSError: the caller stops the sweep)."""
        write_status(folder, {**{k: v for k, v in row.items() if k not in ("folder", "status")},
                              "script_sha256": self.sha})


def _start_workers(jobs: int, mpi, pvbatch) -> list:
    from ..errors import PvbatchNotFound
    from .worker import Worker

    try:
        workers = [Worker(pvbatch=pvbatch, mpi=mpi) for _ in range(jobs)]
    except PvbatchNotFound:
        return []  # said once, after the plan is checked
    for worker in workers:
        worker.start()
    return workers


def _script_text(script) -> tuple[Path, str]:
    path = Path(os.fspath(script))
    return path.resolve(), read_text(path)


def _check_out_dir(out_dir: Path, header: dict, previous: Optional[dict], force: bool) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError("exists and is not a folder", str(out_dir))
    if previous is None:
        if out_dir.is_dir() and any(p.name != LOCK_NAME for p in out_dir.iterdir()) and not force:
            raise OutputError("is not empty and holds no sweep manifest: a sweep never writes over other files "
                              "(use another -o, or --force)", str(out_dir))
        return
    if force:
        return
    if previous.get("script_sha256") != header["script_sha256"]:
        raise OutputError(f"holds a sweep of another script or an older version of it "
                          f"({previous.get('script', '?')}); its results would no longer match: use another -o, "
                          "or --force to run every run again", str(out_dir))


def sweep(script, variants: Optional[Sequence[Mapping]] = None, *, out_dir="sweep", wait: bool = False,
          on_wait: Optional[Callable[[str], None]] = None, on_stale: Optional[Callable[[str], None]] = None,
          **options) -> SweepResult:
    """Run `script` once per variant, grid point or table row, each run into its own folder under out_dir
    (options: those of _sweep below). One sweep at a time per out_dir (replay/sweep_lock.py): another one
    writing there is FolderLocked naming it, or with wait, this one starts when it has ended; on_wait and
    on_stale get a line to show (waiting; took over the lock of a killed sweep)."""
    with sweep_lock(Path(os.fspath(out_dir)).resolve(), wait=wait, on_wait=on_wait, on_stale=on_stale):
        return _sweep(script, variants, out_dir=out_dir, **options)


def _sweep(script, variants: Optional[Sequence[Mapping]] = None, *, grid: Sequence[str] = (),
          table: Optional[str] = None, out_dir="sweep", jobs: int = 1, mpi: Optional[int] = None,
          pvbatch: Optional[str] = None, force: bool = False, separate: bool = False, backend: str = "local",
          cwd=None, timeout: Optional[float] = None, partition: Optional[str] = None,
          time_limit: Optional[str] = None, sbatch_args: Sequence[str] = (), dry_run: bool = False,
          runs_per_task: Optional[int] = None, max_concurrent: Optional[int] = None, detach: bool = False,
          on_plan: Optional[Callable[[list, list], None]] = None,
          on_attach: Optional[Callable[[list], None]] = None,
          on_run: Optional[Callable[[dict], None]] = None,
          on_pending: Optional[Callable[[int], None]] = None,
          on_note: Optional[Callable[[str], None]] = None) -> SweepResult:
    """Run `script` once per variant (dicts name -> value(s)), grid point (['Name=v1,v2', ...]) or table row.

    Every value is checked against the script's parameters before anything runs. Runs that succeeded in an
    earlier sweep into the same out_dir are skipped unless force. Returns the manifest rows.
    """
    if jobs < 1:
        raise UsageError(f"-j {jobs}: must be at least 1")
    if backend not in ("local", "slurm"):
        raise UsageError(f"--backend {backend!r}: use local or slurm")
    for given, option in ((detach, "--detach"), (max_concurrent is not None, "--max-concurrent")):
        if given and backend != "slurm":
            raise UsageError(f"{option} is for --backend slurm (locally, -j says how many runs at once)")
    script_path, text = _script_text(script)
    spec = read_spec(text, str(script))
    # Workers boot pvbatch (~1-3 s) while the sweep is planned and checked.
    early = _start_workers(jobs, mpi, pvbatch) if backend == "local" and not separate and not dry_run else []
    try:
        timesteps = (lambda sp, files: probe_timesteps(sp, files, pvbatch=pvbatch))
        runs = plan(text, str(script), grid=grid, table=table, variants=variants, timesteps=timesteps)
        out = Path(os.fspath(out_dir)).resolve()
        header = {"replay_sweep": 1, "script": str(script_path), "script_name": script_path.name,
                  "script_sha256": _sha(text)}
        if backend == "local":
            from .runner import find_pvbatch

            find_pvbatch(pvbatch)  # missing pvbatch is one error up front, not a failed row per run
        previous, found = previous_sweep(out, header["script_sha256"], on_note or (lambda line: None))
        _check_out_dir(out, header, previous, force)
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RecordsFault(f"cannot make the folder ({describe(exc)})", str(out)) from None
    except BaseException:
        for worker in early:
            worker.kill()
        raise

    # Rows of the manifest, in order: earlier runs first (kept), then this plan's new ones.
    rows: dict[str, dict] = {}
    # --force runs the planned runs again but keeps the rows of earlier runs it does not touch.
    if previous and previous.get("script_sha256") == header["script_sha256"]:
        for row in previous.get("runs", []):
            rows[row["folder"]] = row
    lock = threading.RLock()
    fault: dict = {}
    ran: list = []
    local = None  # the local backend's runner, once it starts

    def failed_storage(exc: BaseException) -> None:
        fault["error"] = exc
        if local is not None:
            local.failed_storage(exc)

    # A killed sweep loses at most the rows of one pause between writes; the next sweep runs those again.
    paced = Paced(lambda: write_records(out, header, list(rows.values())), lock, failed_storage)

    def flush(always: bool) -> None:
        paced.now() if always else paced.soon()

    def record(run: RunSpec, row: dict) -> None:
        with lock:
            rows[row["folder"]] = row
            ran.append(row)
            if not fault:
                try:
                    flush(False)
                except (OSError, OutputError) as exc:
                    failed_storage(exc)
        if on_run:
            on_run(row)

    def records_fault(exc: BaseException, finished: list) -> RecordsFault:
        good = sum(1 for r in finished if r["status"] == "ok")
        what = (f"stopped starting runs: {len(finished)} of {len(todo)} finished ({good} succeeded), "
                f"{len(todo) - len(finished)} not done" if len(finished) < len(todo) else
                f"all {len(todo)} runs finished ({good} succeeded)")
        return RecordsFault(f"cannot write the sweep's records: {describe(exc)}; {what}; each run folder's "
                            f"{STATUS_NAME} keeps its result: once there is space, the same command does the rest",
                            str(out))

    def first_flush() -> None:
        try:
            flush(True)
        except (OSError, OutputError) as exc:
            raise records_fault(exc, []) from None

    def flush_or_fault(always: bool) -> None:
        try:
            flush(always)
        except (OSError, OutputError) as exc:
            raise records_fault(exc, ran) from None

    try:
        todo: list = []
        attached: dict = {}
        if backend == "slurm":
            # Jobs an earlier sweep submitted here and did not collect (detached, hung up, killed): wait for them and
            # take their finished runs before deciding what is left to submit.
            from .slurm_study import attach_earlier

            attached = attach_earlier(out, runs, dry_run=dry_run, record=record, flush=flush_or_fault,
                                      on_attach=on_attach, on_pending=on_pending)
        skipped = 0
        for run in runs:
            if run.key in attached and not force:
                continue
            folder = run.folder.as_posix() if isinstance(run.folder, Path) else Path(run.folder).as_posix()
            old = rows.get(folder)
            status = found.get(folder)
            # The run's own status is the truth; a manifest row alone counts only for runs of sweeps older than them.
            if not force and succeeded(status, run.key, out / folder):
                skipped += 1
                if not (old and old.get("status") == "ok" and old.get("key") == run.key):
                    # Its records were not written (a full disk): the status says what the row is.
                    rows[folder] = {**row_of(status, folder), "params": manifest_row(run)["params"]}
                continue
            if (not force and status is None and old and old.get("status") == "ok" and old.get("key") == run.key
                    and all(whole(out / folder / o) for o in old.get("outputs", []))):
                skipped += 1
                continue
            if not dry_run:  # a dry run writes no manifest: 100,000 pending rows would only cost memory
                rows[folder] = manifest_row(run, status="pending")
            todo.append(run)
        if on_plan:
            on_plan(runs, todo)
        result = SweepResult(out, [], skipped=skipped, manifest=out / MANIFEST_JSON, gallery=out / GALLERY,
                             attached=len(attached))
        if backend == "slurm":
            from .slurm_study import run_on_slurm

            run_on_slurm(result, script_path, spec, out, runs, todo, rows, flush=flush_or_fault, record=record,
                         mpi=mpi, partition=partition, time_limit=time_limit, sbatch_args=sbatch_args, dry_run=dry_run,
                         pvbatch=pvbatch, cwd=cwd, separate=separate, runs_per_task=runs_per_task,
                         max_concurrent=max_concurrent, detach=detach, on_pending=on_pending)
            if fault:
                raise records_fault(fault["error"], ran)
        else:
            local = _Local(script_path, spec, out, jobs=min(jobs, max(1, len(todo))), mpi=mpi, pvbatch=pvbatch,
                           separate=separate, cwd=cwd, timeout=timeout, record=record, workers=early,
                           sha=header["script_sha256"])
            try:
                first_flush()
            except RecordsFault:
                for worker in early:
                    worker.kill()
                raise
            try:
                local.execute(todo)
            except KeyboardInterrupt:
                with lock:
                    for row in rows.values():
                        if row["status"] == "pending":
                            row["status"] = "interrupted"
                            row["error"] = "stopped by Ctrl-C before it finished"
                    flush(True)
                raise
            finally:
                with lock:
                    if paced.behind and not fault:
                        try:
                            flush(True)
                        except (OSError, OutputError) as exc:
                            fault["error"] = exc
            if local.fault is not None or fault:
                with lock:
                    try:
                        flush(True)  # the space may be back; if not, the status files still say what finished
                    except (OSError, OutputError):
                        pass
                raise records_fault(fault.get("error") or local.fault, ran)
            result.ran = len(todo)
        result.rows = list(rows.values())
        return result
    finally:
        paced.close()  # written, or given up on: nothing late may follow
