"""Sweeps on SLURM: job-array tasks that each serve several runs with a kept-pipeline worker (or one pvbatch per
run), results gathered into the local backend's manifest rows.

Pipeline: write (tasks.jsonl + tasks.idx + task.py + worker_driver.py + array-K.sbatch in <out>/slurm/, as many
arrays as the cluster's MaxArraySize needs: slurm_limits.py) -> submit (sbatch each array, recorded in jobs.json:
slurm_jobs.py) -> wait (squeue), or detach -> collect (each run's status file, as it lands; SLURM's failure states
for the tasks that ended otherwise). A later sweep on the same folder attaches to recorded jobs instead of
submitting again (attach). The sbatch scripts hold no user value: every task reads its command and its runs'
arguments from its own line of tasks.jsonl (task_file.py) and runs them without a shell, so a parameter value can
never become shell code.
"""
from __future__ import annotations

import inspect
import json
import os
import re
import secrets
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Optional, Sequence

from ..errors import RunError, SlurmUnavailable, UsageError
from ..files import write_atomic
from .run_status import STATUS_FILE  # noqa: F401 - each run's own result, shared with local sweeps
from .runner import DISPLAY_RETRY_PAUSES, LOST_DISPLAY_SIGNS
from .slurm_limits import Limits, array_spec, read_limits, split
from . import slurm_jobs
from .task_file import read_task  # noqa: F401 - _replay_task calls it in task.py, where it is copied beside

JOB_DIR = "slurm"
# The line task.py logs when a run's status file cannot be written (a full or read-only folder).
STATUS_FAILED = "replay task: cannot write the status of "

# sbatch/squeue say these when there is no controller to talk to (down, unconfigured, munge broken).
_UNREACHABLE = (
    "unable to contact slurm controller",
    "could not establish a configuration source",
    "fetch_config",
    "socket timed out",
    "connection refused",
    "zero bytes were transmitted",
    "munge",
    "slurm_load_partitions",
    "unable to establish",
)


@dataclass(frozen=True)
class Array:
    """One sbatch array: its script, job name, and its tasks' place in tasks.jsonl (first line, how many)."""

    script: Path
    name: str
    first: int
    count: int


@dataclass(frozen=True)
class ArrayJob:
    """The files of one submitted (or dry-run) sweep; `directory` is <out>/slurm; `script` the first array's."""

    directory: Path
    script: Path
    tasks: Path
    count: int
    arrays: tuple = ()
    limits: Optional[Limits] = None


# ---------------------------------------------------------------------------------------------------------------
# The task runner. Real Python, stdlib only, copied verbatim into <out>/slurm/task.py: compute nodes need a python3
# but not replay. A task serves its runs one after another: with "worker", one pvbatch running worker_driver.py
# (copied beside it) keeps the pipeline between them, as the local backend's worker does; otherwise it runs its one
# run's command. No shell either way. After each run it leaves a status file in the run folder, which `collect`
# turns into a manifest row, so a task stopped by its time limit keeps the runs it finished.

def _replay_task(argv):
    import collections
    import json
    import os
    import random
    import signal
    import subprocess
    import sys
    import threading
    import time

    mark = "\x1ereplay-worker "  # replay.batch.worker.MARK
    tasks_path, index = argv[1], int(argv[2])
    task = read_task(tasks_path, index)  # its own line of tasks.jsonl, never the whole study
    stopped = []
    current = {"proc": None}

    def kill(proc):
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(proc.pid, sig)
                proc.wait(timeout=5)
                return
            except (OSError, subprocess.TimeoutExpired):
                if proc.poll() is not None:
                    return

    def on_term(signum, frame):
        # SLURM sends SIGTERM at the time limit and on scancel; say so in the status instead of dying silently.
        stopped.append(signum)
        proc = current["proc"]
        if proc is not None and proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except OSError:
                pass

    signal.signal(signal.SIGTERM, on_term)

    def lost_x(said):
        # The display was lost, not the run: retry on another (as replay.batch.runner.run does for local runs).
        return any(sign in said for sign in LOST_DISPLAY_SIGNS)

    def new_display(command):
        number_at = [i + 1 for i in (1, 2) if command[0] == "xvfb-run" and command[i] == "-n"]
        if not number_at:
            return False
        command[number_at[0]] = str(random.randrange(100, 30000))
        return True

    def again_on_new_display(command, pause, said):
        # True after a lost display and its pause: the caller runs the command again, now on another display.
        if stopped or pause is None or not lost_x(said) or not new_display(command):
            return False
        time.sleep(pause)
        return not stopped

    def finish(run, returncode, seconds, tail, extra=None):
        folder = run["folder"]
        outputs = []
        for root, dirs, files in os.walk(folder):
            dirs.sort()
            for name in sorted(files):
                if not name.startswith(".replay"):
                    outputs.append(os.path.relpath(os.path.join(root, name), folder).replace(os.sep, "/"))
        status = {
            "key": run["key"],
            "returncode": returncode,
            "seconds": round(seconds, 3),
            "outputs": outputs,
            "stopped": bool(stopped),
            "stderr_tail": list(tail)[-200:] if returncode != 0 or stopped else [],
            "job": os.environ.get("SLURM_ARRAY_JOB_ID"),
            "task": index,
            "node": os.environ.get("SLURMD_NODENAME"),
        }
        status.update(extra or {})
        tmp = os.path.join(folder, task["status"] + ".tmp")
        try:
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump(status, f, indent=2)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, os.path.join(folder, task["status"]))
        except OSError as exc:
            # A full or read-only folder: the run cannot count as done. Say so in the log (replay's collect
            # quotes it) and start no more runs: they would fail alike.
            try:
                os.unlink(tmp)
            except OSError:
                pass
            sys.stderr.write("%s%s: %s\n" % (STATUS_FAILED, folder, exc))
            sys.stderr.flush()
            stopped.append("storage")
            return False
        return returncode == 0 and not stopped

    command = list(task["command"])
    if not task.get("worker"):
        (run,) = task["runs"]
        os.makedirs(run["folder"], exist_ok=True)
        tail = collections.deque(maxlen=200)
        start = time.monotonic()
        returncode = None
        for pause in DISPLAY_RETRY_PAUSES + (None,):
            tail.clear()
            try:
                child = subprocess.Popen(command, cwd=task["cwd"], stderr=subprocess.PIPE, text=True,
                                         errors="replace", start_new_session=True)
            except OSError as exc:
                returncode = 127
                tail.append("ERROR: cannot start %s: %s" % (command[0], exc.strerror))
                break
            current["proc"] = child
            for line in child.stderr:
                sys.stderr.write(line)
                tail.append(line.rstrip("\n"))
            returncode = child.wait()
            if returncode == 0 or not again_on_new_display(command, pause, "\n".join(tail)):
                break
        return 0 if finish(run, returncode, time.monotonic() - start, tail) else 1

    def start_worker():
        proc = subprocess.Popen(command, cwd=task["cwd"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, errors="replace", bufsize=1,
                                start_new_session=True)
        lines = collections.deque(maxlen=200)

        def drain():
            for line in proc.stderr:
                sys.stderr.write(line)
                lines.append(line.rstrip("\n"))

        drainer = threading.Thread(target=drain, daemon=True)
        drainer.start()
        current["proc"] = proc
        return proc, lines, drainer

    worker, all_ok = None, True
    for number, run in enumerate(task["runs"]):
        if stopped:
            break
        os.makedirs(run["folder"], exist_ok=True)
        job = {"id": number, "script": run["script"], "argv": run["argv"], "cwd": task["cwd"],
               "session": run["session"]}
        answer, code, tail = None, None, []
        start = time.monotonic()
        for pause in DISPLAY_RETRY_PAUSES + (None,):
            try:
                if worker is None:
                    worker = start_worker()
            except OSError as exc:
                code, tail = 127, ["ERROR: cannot start %s: %s" % (command[0], exc.strerror)]
                break
            proc, lines, drainer = worker
            lines.clear()
            start = time.monotonic()
            try:
                proc.stdin.write(json.dumps(job) + "\n")
                proc.stdin.flush()
                for line in proc.stdout:
                    if line.startswith(mark):
                        answer = json.loads(line[len(mark):])
                        break
                    sys.stdout.write(line)
            except (OSError, ValueError):
                pass
            if answer is not None:
                break
            # The worker died during this run (a crash, or SLURM stopping the task): this run fails alone and
            # the next one gets a fresh worker.
            code = proc.wait()
            drainer.join(5)
            kill(proc)
            worker = None
            if code in (-signal.SIGTERM, 128 + signal.SIGTERM):
                time.sleep(0.2)  # SLURM signals the whole task: let our own handler see it first
            tail = list(lines)
            if not again_on_new_display(command, pause, "\n".join(tail)):
                break
        seconds = time.monotonic() - start
        if answer is not None:
            said = [line for line in (answer.get("stderr") or "").splitlines()]
            ok = finish(run, answer["returncode"], seconds, list(lines) + said,
                        {"executions": answer.get("executions") or {},
                         "pipeline": "new" if answer.get("reset") else "kept"})
        else:
            code = code or 1
            if not stopped:
                tail.append("pvbatch worker died (exit %s) during this run" % code)
            ok = finish(run, code, seconds, tail)
        all_ok = all_ok and ok
    if worker is not None:
        proc = worker[0]
        try:
            proc.stdin.write(json.dumps({"quit": True}) + "\n")
            proc.stdin.flush()
            proc.wait(timeout=10)
        except (OSError, ValueError, subprocess.TimeoutExpired):
            pass
        kill(proc)  # xvfb-run's Xvfb may outlive pvbatch for a moment
    return 0 if all_ok and not stopped else 1


def _task_source() -> str:
    from .task_file import read_task

    return (
        "#!/usr/bin/env python3\n"
        '"""Written by replay sweep --backend slurm: runs one array task of tasks.jsonl."""\n'
        f"LOST_DISPLAY_SIGNS = {LOST_DISPLAY_SIGNS!r}\n"
        f"STATUS_FAILED = {STATUS_FAILED!r}\n"
        f"DISPLAY_RETRY_PAUSES = {DISPLAY_RETRY_PAUSES!r}\n\n\n"
        + inspect.getsource(read_task) + "\n\n"
        + inspect.getsource(_replay_task)
        + "\n\nif __name__ == '__main__':\n    import sys\n    sys.exit(_replay_task(sys.argv))\n"
    )


# ---------------------------------------------------------------------------------------------------------------
# write

def _checked(what: str, value: str) -> str:
    # #SBATCH lines are read by sbatch, not bash, but a newline would start a new script line.
    if not value or any(c in value for c in "\n\r\0"):
        raise UsageError(f"{what} {value!r}: must be one non-empty line")
    return value


# sbatch --time: minutes, minutes:seconds, hours:minutes:seconds, days-hours[:minutes[:seconds]], or unlimited.
_TIME_LIMIT = re.compile(r"(\d+(:\d+){0,2}|\d+-\d+(:\d+){0,2}|unlimited|infinite)", re.IGNORECASE)


def _time_limit(value: str) -> str:
    if not _TIME_LIMIT.fullmatch(value.strip()):
        raise UsageError(f"--time-limit {value!r}: use minutes, MM:SS, HH:MM:SS or D-HH[:MM[:SS]] (as sbatch --time)")
    return value.strip()


def _directive_path(path: Path, pattern: str = "") -> str:
    text = str(path)
    if '"' in text or "\n" in text:
        raise UsageError(f"{text}: the SLURM backend cannot use a folder whose name holds a double quote or newline")
    # sbatch expands %A/%a in --output: the folder's own % must stay literal (%%), the pattern's must not.
    return '"' + text.replace("%", "%%") + pattern + '"'


def _pvbatch_command(mpi: Optional[int], pvbatch: Optional[str], *, worker: bool = False) -> list[str]:
    """pvbatch as the local backend runs it, with srun launching the ranks inside the allocation."""
    from .runner import pvbatch_command

    command = pvbatch_command(mpi, pvbatch)
    if mpi:
        # srun, not mpiexec: it knows the allocation (PMIx wire-up, ranks on the job's CPUs and nodes).
        pv = len(command) - 1
        launcher = next(i for i, word in enumerate(command) if Path(word).name in ("mpiexec", "mpirun"))
        # A worker's jobs go to rank 0, the only one running Python (srun's default feeds stdin to every rank).
        extra = ["--input=0"] if worker else []
        command = command[:launcher] + ["srun", "-n", str(mpi), *extra] + command[pv:]
    return command


DEFAULT_RUNS_PER_TASK = 10


def time_limit_seconds(value: Optional[str]) -> Optional[float]:
    """sbatch --time as seconds; None for no limit."""
    if not value or value.strip().lower() in ("unlimited", "infinite"):
        return None
    days, _, rest = value.strip().rpartition("-")
    parts = [int(p) for p in rest.split(":")]
    if days:
        parts += [0] * (3 - len(parts))  # D-HH[:MM[:SS]]
        h, m, sec = parts
    elif len(parts) == 1:
        h, m, sec = 0, parts[0], 0      # minutes
    elif len(parts) == 2:
        h, m, sec = 0, parts[0], parts[1]
    else:
        h, m, sec = parts
    return (int(days or 0) * 24 + h) * 3600 + m * 60 + sec


def runs_per_task(requested: Optional[int], time_limit: Optional[str], estimate: Optional[float]) -> int:
    """--runs-per-task, else DEFAULT_RUNS_PER_TASK, fewer when earlier runs' times say a task would not fit in
    half its time limit (the rest is margin for a slower node and the worker's start)."""
    if requested is not None:
        if requested < 1:
            raise UsageError(f"--runs-per-task {requested}: must be at least 1")
        return requested
    limit = time_limit_seconds(time_limit)
    if limit and estimate and estimate > 0:
        return max(1, min(DEFAULT_RUNS_PER_TASK, int(limit / 2 // estimate)))
    return DEFAULT_RUNS_PER_TASK


def pack(runs: Sequence, size: int, session: Callable) -> list[list]:
    """Array tasks: runs of one session (same script and files) together, in order, at most `size` per task."""
    return [[run for run, _ in chunk] for chunk in _pack(runs, size, session)]


def _pack(runs: Sequence, size: int, session: Callable) -> list[list]:
    # (run, its session) pairs: the session is worked out once per run.
    groups: dict[str, list] = {}
    for run in runs:
        key = session(run)
        groups.setdefault(key, []).append((run, key))
    return [group[i:i + size] for group in groups.values() for i in range(0, len(group), size)]


def write_array(script, runs: Sequence, out_dir, *, mpi: Optional[int] = None, partition: Optional[str] = None,
                time_limit: Optional[str] = None, sbatch_args: Iterable[str] = (), pvbatch: Optional[str] = None,
                cwd=None, separate: bool = False, per_task: Optional[int] = None,
                session: Optional[Callable] = None, estimate: Optional[float] = None,
                max_concurrent: Optional[int] = None, limits: Optional[Limits] = None) -> ArrayJob:
    """Write <out>/slurm/{tasks.jsonl, tasks.idx, task.py, worker_driver.py, array-K.sbatch}; nothing is submitted.

    By default a task runs the kept-pipeline worker over up to `per_task` runs of one `session(run)` (without
    `session`, each run is its own session: packed, but the pipeline is rebuilt); `separate` gives each run a
    task and a pvbatch of its own. The tasks are split into as many arrays as the cluster's MaxArraySize needs
    (`limits`, read from scontrol when not given); `max_concurrent` is each array's %K throttle."""
    if not runs:
        raise UsageError("the sweep has no runs to submit")
    if mpi is not None and mpi < 1:
        raise UsageError(f"--mpi {mpi}: must be at least 1")
    if max_concurrent is not None and max_concurrent < 1:
        raise UsageError(f"--max-concurrent {max_concurrent}: must be at least 1")
    from . import task_file
    from .runner import script_arguments
    from .worker import DRIVER

    limits = limits or read_limits()
    out = Path(out_dir).resolve()
    job_dir = out / JOB_DIR
    (job_dir / "logs").mkdir(parents=True, exist_ok=True)
    script_path = Path(script).resolve()
    work = str(Path(cwd or os.getcwd()).resolve())
    session = session or (lambda run: run.key)
    if separate:
        size = 1
    else:
        size = runs_per_task(per_task, time_limit and _time_limit(time_limit), estimate)
    chunks = _pack(runs, size, session)
    room = limits.max_job_count
    if len(chunks) > room:
        # Every array task counts as one job against MaxJobCount: pack more runs per task, unless told how many.
        if separate or per_task is not None:
            raise UsageError(f"{len(chunks)} array tasks exceed the cluster's MaxJobCount ({room}): give "
                             f"--runs-per-task {-(-len(runs) // room)} or more")
        size = max(size, -(-len(runs) // room))
        chunks = _pack(runs, size, session)
    driver = job_dir / "worker_driver.py"
    pvbatch_words = _pvbatch_command(mpi, pvbatch, worker=not separate)
    base, script_text = str(out), str(script_path)

    def tasks():
        for chunk in chunks:
            entries = []
            for run, run_session in chunk:
                # Plan folders are single names made safe (plan.make_runs): joined, not resolved one by one.
                folder = str(run.folder)
                folder = str(Path(folder).resolve()) if os.path.isabs(folder) else os.path.join(base, folder)
                entries.append({"key": run.key, "folder": folder, "script": script_text,
                                "argv": [*script_arguments(run.params), "--output-dir", folder],
                                "session": run_session})
            if separate:
                command = pvbatch_words + [entries[0]["script"], *entries[0]["argv"]]
            else:
                command = pvbatch_words + [str(driver)]
            yield {"status": STATUS_FILE, "cwd": work, "worker": not separate, "command": command, "runs": entries}

    count = task_file.write(job_dir, tasks())
    tasks_path = job_dir / task_file.TASKS
    task_py = job_dir / "task.py"
    write_atomic(task_py, _task_source())
    if not separate:
        write_atomic(driver, DRIVER.read_text(encoding="utf-8"))
    for old in job_dir.glob("array*.sbatch"):
        old.unlink()  # an earlier submission's arrays: never to be submitted again by hand by mistake

    directives = [
        f"--output={_directive_path(job_dir / 'logs', '/%A_%a.out')}",
        f"--ntasks={mpi or 1}",
    ]
    if mpi:
        # The ranks of one run share a node, so they share the one virtual X server xvfb-run starts.
        directives.append("--nodes=1")
    if partition:
        directives.append(f"--partition={_checked('--partition', partition)}")
    if time_limit:
        directives.append(f"--time={_time_limit(time_limit)}")
    for arg in sbatch_args:
        if not _checked("--sbatch-arg", arg).startswith("-"):
            raise UsageError(f"--sbatch-arg {arg!r}: give one sbatch option per --sbatch-arg, as --name=value")
        name, eq, value = arg.partition("=")
        if eq and any(c.isspace() for c in value):
            # sbatch splits #SBATCH lines on blanks unless the value is in double quotes.
            if '"' in value:
                raise UsageError(f"--sbatch-arg {arg!r}: a value with blanks cannot also hold a double quote")
            arg = f'{name}="{value}"'
        directives.append(arg)
    python = shutil.which("python3") or sys.executable
    # Each submission's job names are its own: a submitter killed before it wrote a job id down finds the job
    # again by name (slurm_jobs.find_by_name).
    token = secrets.token_hex(4)
    stem = re.sub(r"[^A-Za-z0-9_.-]", "_", script_path.stem)[:40]
    arrays = []
    for number, indices in enumerate(split(count, limits.max_array_size)):
        name = f"replay-{stem}-{token}-{number}"
        lines = ["#!/bin/bash", f"#SBATCH --job-name={name}",
                 f"#SBATCH --array={array_spec(len(indices), max_concurrent)}"]
        lines += [f"#SBATCH {d}" for d in directives]
        lines += [
            f"# Written by replay sweep --backend slurm: array {number + 1} of the study's tasks (MaxArraySize "
            f"{limits.max_array_size}), its task 0 being line {indices.start} of tasks.jsonl.",
            "# task.py reads only its task's line (tasks.idx says where) and runs its runs without a shell.",
            "set -eu",
            "exec " + " ".join(shlex.quote(p) for p in (python, str(task_py), str(tasks_path)))
            + f' "$(({indices.start} + SLURM_ARRAY_TASK_ID))"',
        ]
        sbatch_path = job_dir / f"array-{number}.sbatch"
        write_atomic(sbatch_path, "\n".join(lines) + "\n")
        sbatch_path.chmod(0o755)
        arrays.append(Array(sbatch_path, name, indices.start, len(indices)))
    return ArrayJob(job_dir, arrays[0].script, tasks_path, count, tuple(arrays), limits)


# ---------------------------------------------------------------------------------------------------------------
# submit, wait

def _slurm_tool(name: str) -> str:
    path = shutil.which(name)
    if not path:
        raise SlurmUnavailable(f"{name} not found on PATH: SLURM is not installed here (use --backend local, "
                               "or run on a SLURM login node)")
    return path


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "no message"


def _unreachable(text: str) -> bool:
    low = text.lower()
    return any(marker in low for marker in _UNREACHABLE)


def _sbatch(script: Path, cwd: Path) -> str:
    """Submit one array script; returns the job id."""
    sbatch = _slurm_tool("sbatch")
    try:
        proc = subprocess.run([sbatch, "--parsable", str(script)], capture_output=True, text=True,
                              cwd=str(cwd), timeout=120)
    except subprocess.TimeoutExpired:
        raise SlurmUnavailable("sbatch did not answer within 120 s: the SLURM controller is not responding")
    if proc.returncode != 0:
        message = _last_line(proc.stderr + "\n" + proc.stdout)
        if _unreachable(proc.stderr):
            raise SlurmUnavailable(f"cannot reach the SLURM controller: {message}")
        raise RunError(f"sbatch refused the job: {message}", path=str(script))
    job_id = proc.stdout.strip().split(";")[0]
    if not job_id.isdigit():
        raise RunError(f"sbatch gave no job id: {_last_line(proc.stdout + proc.stderr)}", path=str(script))
    return job_id


def submit(job: ArrayJob) -> list[dict]:
    """Submit every array of the job, each written down in <out>/slurm/jobs.json before sbatch is asked (by name)
    and with its id right after: a sweep started again later attaches to them instead of submitting again. If one
    array is refused, the ones already submitted are cancelled: a study is submitted whole or not at all."""
    record = {"collected": False, "tasks": job.tasks.name, "jobs": []}
    try:
        for array in job.arrays:
            entry = {"name": array.name, "id": None, "first": array.first, "count": array.count,
                     "script": array.script.name}
            record["jobs"].append(entry)
            slurm_jobs.save(job.directory, record)
            entry["id"] = _sbatch(array.script, job.directory)
            slurm_jobs.save(job.directory, record)
    except BaseException as exc:
        ids = cancel([entry for entry in record["jobs"] if entry["id"]])
        record["jobs"] = [entry for entry in record["jobs"] if entry["id"]]
        record["collected"] = True
        slurm_jobs.save(job.directory, record)
        if isinstance(exc, KeyboardInterrupt) and ids:
            raise Cancelled(ids) from None
        raise
    return record["jobs"]


def cancel(jobs: Sequence[dict]) -> list[str]:
    """scancel the jobs; returns their ids."""
    ids = [entry["id"] for entry in jobs if entry.get("id")]
    scancel = shutil.which("scancel")
    if scancel and ids:
        subprocess.run([scancel, *ids], capture_output=True, timeout=60)
    return ids


class Cancelled(KeyboardInterrupt):
    """Ctrl-C while a sweep waited: its jobs were cancelled (`ids`)."""

    def __init__(self, ids):
        super().__init__()
        self.ids = list(ids)


def _as_jobs(jobs) -> list[dict]:
    if isinstance(jobs, str):
        return [{"id": jobs, "name": None}]
    return list(jobs)


SQUEUE_EVERY = 15.0  # seconds: the longest pause between squeue calls while the runs' status files are watched


def wait(jobs, *, poll: float = 1.0, on_progress: Optional[Callable[[int], None]] = None,
         count: Optional[Callable[[int], int]] = None) -> None:
    """Block until no task of the jobs (a job id, or jobs.json entries) is queued or running, or count says no
    run is left; Ctrl-C cancels the jobs (Cancelled names them). on_progress gets the number of tasks left, or
    count(tasks left) (the runs left) when given. A hang-up (SIGHUP) ends the waiting process, never the jobs."""
    jobs = _as_jobs(jobs)
    failures, last, between = 0, None, poll
    try:
        while True:
            listed = slurm_jobs.tasks_listed(jobs)
            left = None if listed is None else sum(listed.values())
            if left is None:
                failures += 1
                if failures >= 10:
                    ids = ", ".join(j["id"] for j in jobs if j.get("id"))
                    raise SlurmUnavailable(f"squeue cannot reach the SLURM controller while waiting for job {ids}")
            else:
                failures = 0
                shown = count(left) if count and left else left
                if on_progress and shown != last:
                    on_progress(shown)
                last = shown
                if left == 0 or shown == 0:
                    # Every run left its status: the tasks only stop their workers now, and SLURM takes
                    # another second or two to list them as done. The results need not wait for that.
                    return
            if not (count and left):
                time.sleep(poll)
                continue
            # Between squeue calls the runs' own status files tell sooner that a run is done, so squeue, which
            # asks the controller the whole cluster shares, is asked less and less often: it only tells of jobs
            # that ended without them (a crash, scancel). A day-long study asks it every SQUEUE_EVERY seconds.
            deadline = time.monotonic() + between
            between = min(between * 2, max(poll, SQUEUE_EVERY))
            while time.monotonic() < deadline:
                time.sleep(min(poll, max(0.2, shown / 1000)))  # stat calls: fewer while many runs are left
                shown = count(left)
                if on_progress and shown != last:
                    on_progress(shown)
                last = shown
                if shown == 0:
                    return
    except KeyboardInterrupt:
        raise Cancelled(cancel(jobs)) from None


# ---------------------------------------------------------------------------------------------------------------
# collect

def task_result(task: dict, run: dict, status: Optional[dict], *, missing: str = "", state: Optional[str] = None):
    """A status file as the local backend's RunResult, so both backends word errors and rows alike. `state`:
    SLURM's word for how the task ended (TIMEOUT, CANCELLED...), named in the error of a stopped run."""
    from .runner import RunResult, filter_noise

    command = task["command"] + ([f"<{Path(run['script']).name} {' '.join(run['argv'])}>"] if task.get("worker")
                                 else [])
    if status is None:
        return RunResult(command=command, returncode=1, seconds=0.0, output_dir=run["folder"],
                         stderr=f"ERROR: {missing}")
    stopped = status.get("stopped")
    stderr = "\n".join(status.get("stderr_tail") or [])
    if stopped:
        why = f"{state}: {slurm_jobs.meaning(state)}" if state in slurm_jobs.FAILURE_STATES else \
            "time limit or scancel"
        stderr += f"\nERROR: stopped by SLURM ({why})"
    returncode = status["returncode"]
    if stopped and not returncode:
        returncode = 124  # the local backend's word for "stopped before it finished"
    result = RunResult(command=command, returncode=returncode, seconds=status.get("seconds") or 0.0,
                       stderr=filter_noise(stderr), outputs=status.get("outputs") or [], output_dir=run["folder"],
                       script=run["script"])
    if "pipeline" in status:
        result.reset = status["pipeline"] == "new"
        result.executions = status.get("executions") or {}
    return result


def _status_failure(log: Path, folder: Optional[str] = None) -> Optional[str]:
    """What the task logged when it could not write the status of folder (task.py's STATUS_FAILED line): the
    error; without folder, the whole line after the prefix for any run of the task."""
    try:
        text = log.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    prefix = STATUS_FAILED + (f"{folder}: " if folder else "")
    for line in reversed(text.splitlines()):
        if line.startswith(prefix):
            return line[len(prefix):]
    return None


def _row(run, result, state: Optional[str] = None) -> dict:
    from .plan import manifest_row

    row = manifest_row(run, folder=result.output_dir, returncode=result.returncode, seconds=result.seconds,
                       outputs=result.outputs, error=result.error)
    if getattr(result, "executions", None) is not None:
        row["pipeline"] = "new" if result.reset else "kept"
        row["executions"] = result.executions
    if state in slurm_jobs.FAILURE_STATES and row["status"] != "ok":
        row["slurm_state"] = state
    return row


class Watch:
    """The runs of one submission (jobs.json + tasks.jsonl) and their rows, made as their status files land.

    `runs` maps run keys to the plan's RunSpecs: a run of the submission the plan no longer has gets no row."""

    def __init__(self, job_dir: Path, jobs: Sequence[dict], runs: dict):
        from . import task_file

        self.job_dir, self.jobs, self.runs = Path(job_dir), list(jobs), runs
        self.commands: dict = {}  # one list per distinct command: 100,000 runs share a few
        self.pending: dict[str, tuple] = {}
        for index, task in enumerate(task_file.read_all(self.job_dir)):
            command = self.commands.setdefault(json.dumps(task["command"]), task["command"])
            meta = {"command": command, "worker": task.get("worker")}
            for entry in task["runs"]:
                self.pending[entry["folder"]] = (index, meta, {k: entry[k] for k in ("key", "folder", "script",
                                                                                      "argv")})
        self.total = len(self.pending)
        self._states = None

    def _job_of(self, index: int) -> tuple[Optional[str], int]:
        for job in self.jobs:
            if job["first"] <= index < job["first"] + job["count"]:
                return job.get("id"), index - job["first"]
        return None, index

    def state(self, index: int) -> Optional[str]:
        if self._states is None:
            self._states = slurm_jobs.States([j.get("id") for j in self.jobs], self.job_dir / "logs")
        return self._states.of(*self._job_of(index))

    def landed(self) -> list[dict]:
        """Rows of the runs whose status appeared since the last call."""
        rows = []
        for folder in [f for f in self.pending if os.path.exists(os.path.join(f, STATUS_FILE))]:
            index, meta, entry = self.pending[folder]
            try:
                status = json.loads(Path(folder, STATUS_FILE).read_text(encoding="utf-8"))
                if status.get("key") != entry["key"]:
                    raise ValueError("another run's status")
            except (OSError, ValueError):
                continue  # being replaced, or not this run's: the end of the wait decides
            del self.pending[folder]
            run = self.runs.get(entry["key"])
            if run is not None:
                state = self.state(index) if status.get("stopped") else None
                rows.append(_row(run, task_result(meta, entry, status, state=state), state))
        return rows

    def missing(self) -> list[dict]:
        """Rows of the runs that left no status, once the jobs have ended: named with SLURM's word for the task."""
        rows = []
        for folder, (index, meta, entry) in self.pending.items():
            run = self.runs.get(entry["key"])
            if run is None:
                continue
            state = self.state(index)
            job_id, local = self._job_of(index)
            log = self.job_dir / "logs" / f"{job_id}_{local}.out"
            said = _status_failure(log, entry["folder"])
            other = None if said else _status_failure(log)
            why = f"; {slurm_jobs.meaning(state)}" if state in slurm_jobs.FAILURE_STATES else ""
            if said:
                missing = f"array task {local} of job {job_id} could not write this run's status: {said}; see {log}"
            elif other:
                missing = (f"not run: array task {local} of job {job_id} stopped when it could not write the status "
                           f"of {other}; see {log}")
            else:
                missing = (f"array task {local} of job {job_id} left no status for this run (SLURM state "
                           f"{state or 'unknown'}{why}); see {log}")
            rows.append(_row(run, task_result(meta, entry, None, missing=missing), state))
        self.pending.clear()
        return rows

    def follow(self, *, poll: float, on_row: Callable[[dict], None],
               on_progress: Optional[Callable[[int], None]] = None) -> None:
        """Wait for the jobs, passing each run's row on as it lands; at the end, the rows of runs left without."""
        def runs_left(tasks_left: int) -> int:
            for row in self.landed():
                on_row(row)
            return len(self.pending)

        wait(self.jobs, poll=poll, on_progress=on_progress, count=runs_left)
        for row in self.landed() + self.missing():
            on_row(row)


def collect(job: ArrayJob, runs: Sequence, job_id=None) -> list[dict]:
    """One manifest row per run, in run order, from the status files the tasks left."""
    jobs = (slurm_jobs.load(job.directory) or {}).get("jobs") or _as_jobs(job_id or "")
    watch = Watch(job.directory, jobs, {run.key: run for run in runs})
    by_key = {row["key"]: row for row in watch.landed() + watch.missing()}
    return [by_key[run.key] for run in runs if run.key in by_key]


def _clear_statuses(job: ArrayJob) -> None:
    # A status left by an earlier sweep into the same folder must not pass for this job's result.
    from . import task_file

    for task in task_file.read_all(job.directory):
        for entry in task["runs"]:
            try:
                os.unlink(os.path.join(entry["folder"], STATUS_FILE))
            except FileNotFoundError:
                pass


def attach(out_dir, runs: Sequence, *, poll: float = 1.0, on_attach: Optional[Callable[[list], None]] = None,
           on_row: Optional[Callable[[dict], None]] = None,
           on_progress: Optional[Callable[[int], None]] = None) -> dict:
    """Finish the submission an earlier sweep into out_dir made and did not collect (it was detached, hung up or
    killed): wait while its jobs are queued or running (submitting nothing), then take every run that left its
    status as done. Returns {run key: row} of those runs; the others are the caller's to submit again.
    on_attach gets the recorded jobs first when there are any."""
    job_dir = Path(out_dir).resolve() / JOB_DIR
    record = slurm_jobs.pending_record(job_dir)
    if record is None:
        return {}
    for entry in record["jobs"]:
        if not entry.get("id"):
            entry["id"] = slurm_jobs.find_by_name(entry["name"])  # a submitter killed right after sbatch
    jobs = [entry for entry in record["jobs"] if entry.get("id")]
    if on_attach:
        on_attach(jobs)
    try:
        watch = Watch(job_dir, jobs, {run.key: run for run in runs})
    except (OSError, ValueError):
        record["collected"] = True  # its tasks file is gone: nothing to attach to (its runs are planned again)
        slurm_jobs.save(job_dir, record)
        return {}
    rows: dict = {}

    def take(row):
        rows[row["key"]] = row
        if on_row:
            on_row(row)

    def landed_only(left):
        for row in watch.landed():
            take(row)
        return len(watch.pending)

    wait(jobs, poll=poll, on_progress=on_progress, count=landed_only)
    for row in watch.landed():
        take(row)
    record["collected"] = True
    slurm_jobs.save(job_dir, record)
    return rows


def run_array(script, runs: Sequence, out_dir, *, mpi: Optional[int] = None, partition: Optional[str] = None,
              time_limit: Optional[str] = None, sbatch_args: Iterable[str] = (), dry_run: bool = False,
              pvbatch: Optional[str] = None, cwd=None, poll: float = 1.0, separate: bool = False,
              per_task: Optional[int] = None, session: Optional[Callable] = None, estimate: Optional[float] = None,
              max_concurrent: Optional[int] = None, detach: bool = False, limits: Optional[Limits] = None,
              on_submit: Optional[Callable[[ArrayJob, Optional[list]], None]] = None,
              on_progress: Optional[Callable[[int], None]] = None,
              on_row: Optional[Callable[[dict], None]] = None) -> list[dict]:
    """Run the runs as tasks of SLURM job arrays (see write_array) and return manifest rows shaped like the
    local backend's, in run order; on_row gets each as its run lands.

    With dry_run, only write the array scripts (on_submit gets them with no jobs) and return []. With detach,
    return [] once submitted: the jobs run on, and attach() finishes the study later.
    """
    if not dry_run:
        _slurm_tool("sbatch")  # no SLURM here: say so before writing anything
    job = write_array(script, runs, out_dir, mpi=mpi, partition=partition, time_limit=time_limit,
                      sbatch_args=sbatch_args, pvbatch=pvbatch, cwd=cwd, separate=separate, per_task=per_task,
                      session=session, estimate=estimate, max_concurrent=max_concurrent, limits=limits)
    if dry_run:
        if on_submit:
            on_submit(job, None)
        return []
    _clear_statuses(job)
    jobs = submit(job)
    if on_submit:
        on_submit(job, jobs)
    if detach:
        return []
    watch = Watch(job.directory, jobs, {run.key: run for run in runs})
    by_key = {}

    def take(row):
        by_key[row["key"]] = row
        if on_row:
            on_row(row)

    watch.follow(poll=poll, on_row=take, on_progress=on_progress)
    record = slurm_jobs.load(job.directory)
    if record:
        record["collected"] = True
        slurm_jobs.save(job.directory, record)
    return [by_key[run.key] for run in runs if run.key in by_key]
