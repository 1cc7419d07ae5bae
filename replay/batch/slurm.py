"""Sweeps on SLURM: job-array tasks that each serve several runs with a kept-pipeline worker (or one pvbatch per
run), results gathered into the local backend's manifest rows.

Pipeline: write (tasks.json + task.py + worker_driver.py + array.sbatch in <out>/slurm/) -> submit (sbatch) ->
wait (squeue) -> collect (each run's status file). The sbatch script holds no user value: every task reads its
command and its runs' arguments from tasks.json by SLURM_ARRAY_TASK_ID and runs them without a shell, so a
parameter value can never become shell code.
"""
from __future__ import annotations

import inspect
import json
import os
import re
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
from .runner import DISPLAY_RETRY_PAUSES, LOST_DISPLAY_SIGNS

STATUS_FILE = ".replay-status.json"  # .replay* names are not outputs (replay.batch.runner.list_outputs)
JOB_DIR = "slurm"

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
class ArrayJob:
    """The files of one submitted (or dry-run) sweep; `directory` is <out>/slurm."""

    directory: Path
    script: Path
    tasks: Path
    count: int


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
    with open(tasks_path, encoding="utf-8") as f:
        task = json.load(f)["tasks"][index]
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
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(status, f, indent=2)
        os.replace(tmp, os.path.join(folder, task["status"]))
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
    return (
        "#!/usr/bin/env python3\n"
        '"""Written by replay sweep --backend slurm: runs one array task from tasks.json."""\n'
        f"LOST_DISPLAY_SIGNS = {LOST_DISPLAY_SIGNS!r}\n"
        f"DISPLAY_RETRY_PAUSES = {DISPLAY_RETRY_PAUSES!r}\n\n\n"
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
    groups: dict[str, list] = {}
    for run in runs:
        groups.setdefault(session(run), []).append(run)
    return [group[i:i + size] for group in groups.values() for i in range(0, len(group), size)]


def write_array(script, runs: Sequence, out_dir, *, mpi: Optional[int] = None, partition: Optional[str] = None,
                time_limit: Optional[str] = None, sbatch_args: Iterable[str] = (), pvbatch: Optional[str] = None,
                cwd=None, separate: bool = False, per_task: Optional[int] = None,
                session: Optional[Callable] = None, estimate: Optional[float] = None) -> ArrayJob:
    """Write <out>/slurm/{tasks.json, task.py, worker_driver.py, array.sbatch}; nothing is submitted.

    By default a task runs the kept-pipeline worker over up to `per_task` runs of one `session(run)` (without
    `session`, each run is its own session: packed, but the pipeline is rebuilt); `separate` gives each run a
    task and a pvbatch of its own."""
    if not runs:
        raise UsageError("the sweep has no runs to submit")
    if mpi is not None and mpi < 1:
        raise UsageError(f"--mpi {mpi}: must be at least 1")
    from .runner import script_arguments
    from .worker import DRIVER

    out = Path(out_dir).resolve()
    job_dir = out / JOB_DIR
    (job_dir / "logs").mkdir(parents=True, exist_ok=True)
    script_path = Path(script).resolve()
    work = str(Path(cwd or os.getcwd()).resolve())
    size = 1 if separate else runs_per_task(per_task, time_limit and _time_limit(time_limit), estimate)
    session = session or (lambda run: run.key)
    driver = job_dir / "worker_driver.py"
    tasks = []
    for chunk in pack(runs, size, session):
        entries = []
        for run in chunk:
            folder = Path(run.folder)
            folder = str((folder if folder.is_absolute() else out / folder).resolve())
            entries.append({"key": run.key, "folder": folder, "script": str(script_path),
                            "argv": [*script_arguments(run.params), "--output-dir", folder],
                            "session": session(run)})
        if separate:
            command = _pvbatch_command(mpi, pvbatch) + [entries[0]["script"], *entries[0]["argv"]]
        else:
            command = _pvbatch_command(mpi, pvbatch, worker=True) + [str(driver)]
        tasks.append({"status": STATUS_FILE, "cwd": work, "worker": not separate, "command": command,
                      "runs": entries})
    tasks_path = job_dir / "tasks.json"
    write_atomic(tasks_path, json.dumps({"script": str(script_path), "tasks": tasks}, indent=2) + "\n")
    task_py = job_dir / "task.py"
    write_atomic(task_py, _task_source())
    if not separate:
        write_atomic(driver, DRIVER.read_text(encoding="utf-8"))

    directives = [
        f"--job-name=replay-{re.sub(r'[^A-Za-z0-9_.-]', '_', script_path.stem)}",
        f"--array=0-{len(tasks) - 1}",
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
    lines = ["#!/bin/bash"]
    lines += [f"#SBATCH {d}" for d in directives]
    lines += [
        "# Written by replay sweep --backend slurm. Each task serves the runs listed in its tasks.json entry",
        "# ($SLURM_ARRAY_TASK_ID): task.py runs them without a shell. Submit again with: sbatch <this file>",
        "set -eu",
        "exec " + " ".join(shlex.quote(p) for p in (python, str(task_py), str(tasks_path))) + ' "$SLURM_ARRAY_TASK_ID"',
    ]
    sbatch_path = job_dir / "array.sbatch"
    write_atomic(sbatch_path, "\n".join(lines) + "\n")
    sbatch_path.chmod(0o755)
    return ArrayJob(job_dir, sbatch_path, tasks_path, len(tasks))


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


def submit(job: ArrayJob) -> str:
    """Submit the array; returns the job id."""
    sbatch = _slurm_tool("sbatch")
    try:
        proc = subprocess.run([sbatch, "--parsable", str(job.script)], capture_output=True, text=True,
                              cwd=str(job.directory), timeout=120)
    except subprocess.TimeoutExpired:
        raise SlurmUnavailable("sbatch did not answer within 120 s: the SLURM controller is not responding")
    if proc.returncode != 0:
        message = _last_line(proc.stderr + "\n" + proc.stdout)
        if _unreachable(proc.stderr):
            raise SlurmUnavailable(f"cannot reach the SLURM controller: {message}")
        raise RunError(f"sbatch refused the job: {message}", path=str(job.script))
    job_id = proc.stdout.strip().split(";")[0]
    if not job_id.isdigit():
        raise RunError(f"sbatch gave no job id: {_last_line(proc.stdout + proc.stderr)}", path=str(job.script))
    return job_id


def _pending(job_id: str) -> Optional[int]:
    """How many of the job's tasks SLURM still lists (pending, running, completing); None if squeue failed."""
    proc = subprocess.run([_slurm_tool("squeue"), "-h", "-r", "-j", job_id, "-o", "%i %T"], capture_output=True,
                          text=True, timeout=60)
    if proc.returncode != 0:
        if "invalid job id" in proc.stderr.lower():
            return 0  # finished long enough ago that the controller forgot it
        return None
    return len([line for line in proc.stdout.splitlines() if line.strip()])


def wait(job_id: str, *, poll: float = 1.0, on_progress: Optional[Callable[[int], None]] = None,
         count: Optional[Callable[[int], int]] = None) -> None:
    """Block until no task of the job is queued or running, or count says no run is left; Ctrl-C cancels the
    job. on_progress gets the number of tasks left, or count(tasks left) (run_array: the runs left) when given."""
    failures, last = 0, None
    try:
        while True:
            left = _pending(job_id)
            if left is None:
                failures += 1
                if failures >= 10:
                    raise SlurmUnavailable(f"squeue cannot reach the SLURM controller while waiting for job {job_id}")
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
            # Between squeue calls the runs' own status files tell sooner that the last run is done.
            deadline = time.monotonic() + poll
            while time.monotonic() < deadline:
                time.sleep(min(poll, max(0.2, shown / 1000)))  # stat calls: fewer while many runs are left
                shown = count(left)
                if shown == 0:
                    if on_progress and shown != last:
                        on_progress(shown)
                    return
    except KeyboardInterrupt:
        scancel = shutil.which("scancel")
        if scancel:
            subprocess.run([scancel, job_id], capture_output=True, timeout=60)
        raise


# ---------------------------------------------------------------------------------------------------------------
# collect

def _slurm_state(job_id: Optional[str], index: int) -> Optional[str]:
    """SLURM's word for a task that left no status (TIMEOUT, CANCELLED, FAILED...), while it still remembers."""
    scontrol = shutil.which("scontrol")
    if not (scontrol and job_id):
        return None
    proc = subprocess.run([scontrol, "-o", "show", "job", f"{job_id}_{index}"], capture_output=True, text=True,
                          timeout=60)
    for field in proc.stdout.split():
        if field.startswith("JobState="):
            return field.split("=", 1)[1]
    return None


def task_result(task: dict, run: dict, status: Optional[dict], *, missing: str = ""):
    """A status file as the local backend's RunResult, so both backends word errors and rows alike."""
    from .runner import RunResult, filter_noise

    command = task["command"] + ([f"<{Path(run['script']).name} {' '.join(run['argv'])}>"] if task.get("worker")
                                 else [])
    if status is None:
        return RunResult(command=command, returncode=1, seconds=0.0, output_dir=run["folder"],
                         stderr=f"ERROR: {missing}")
    stopped = status.get("stopped")
    stderr = "\n".join(status.get("stderr_tail") or [])
    if stopped:
        stderr += "\nERROR: stopped by SLURM (time limit or scancel)"
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


def collect(job: ArrayJob, runs: Sequence, job_id: Optional[str] = None) -> list[dict]:
    """One manifest row per run, in run order, from the status files the tasks left."""
    tasks = json.loads(job.tasks.read_text(encoding="utf-8"))["tasks"]
    by_key = {}
    for index, task in enumerate(tasks):
        for entry in task["runs"]:
            try:
                status = json.loads((Path(entry["folder"]) / STATUS_FILE).read_text(encoding="utf-8"))
                if status.get("key") != entry["key"]:
                    raise ValueError("another run's status")
                missing = ""
            except (OSError, ValueError):
                status = None
                state = _slurm_state(job_id, index)
                log = job.directory / "logs" / f"{job_id}_{index}.out"
                missing = (f"array task {index} left no status for this run (SLURM state {state or 'unknown'}); "
                           f"see {log}")
            by_key[entry["key"]] = task_result(task, entry, status, missing=missing)
    return [_row(run, by_key[run.key]) for run in runs]


def _row(run, result) -> dict:
    from .plan import manifest_row

    row = manifest_row(run, folder=result.output_dir, returncode=result.returncode, seconds=result.seconds,
                       outputs=result.outputs, error=result.error)
    if getattr(result, "executions", None) is not None:
        row["pipeline"] = "new" if result.reset else "kept"
        row["executions"] = result.executions
    return row


def _clear_statuses(job: ArrayJob) -> None:
    # A status left by an earlier sweep into the same folder must not pass for this job's result.
    for task in json.loads(job.tasks.read_text(encoding="utf-8"))["tasks"]:
        for entry in task["runs"]:
            try:
                os.unlink(os.path.join(entry["folder"], STATUS_FILE))
            except FileNotFoundError:
                pass


def run_array(script, runs: Sequence, out_dir, *, mpi: Optional[int] = None, partition: Optional[str] = None,
              time_limit: Optional[str] = None, sbatch_args: Iterable[str] = (), dry_run: bool = False,
              pvbatch: Optional[str] = None, cwd=None, poll: float = 1.0, separate: bool = False,
              per_task: Optional[int] = None, session: Optional[Callable] = None, estimate: Optional[float] = None,
              on_submit: Optional[Callable[[ArrayJob, Optional[str]], None]] = None,
              on_progress: Optional[Callable[[int], None]] = None) -> list[dict]:
    """Run the runs as tasks of a SLURM job array (see write_array) and return manifest rows shaped like the
    local backend's.

    With dry_run, only write the array script (on_submit gets it with no job id) and return [].
    """
    if not dry_run:
        _slurm_tool("sbatch")  # no SLURM here: say so before writing anything
    job = write_array(script, runs, out_dir, mpi=mpi, partition=partition, time_limit=time_limit,
                      sbatch_args=sbatch_args, pvbatch=pvbatch, cwd=cwd, separate=separate, per_task=per_task,
                      session=session, estimate=estimate)
    if dry_run:
        if on_submit:
            on_submit(job, None)
        return []
    _clear_statuses(job)
    job_id = submit(job)
    if on_submit:
        on_submit(job, job_id)
    folders = [Path(entry["folder"]) for task in json.loads(job.tasks.read_text(encoding="utf-8"))["tasks"]
               for entry in task["runs"]]

    remaining = set(folders)

    def runs_left(tasks_left: int) -> int:
        # A task serves many runs: its runs' status files say how far it got.
        remaining.difference_update([folder for folder in remaining if (folder / STATUS_FILE).exists()])
        return len(remaining)

    wait(job_id, poll=poll, on_progress=on_progress, count=runs_left)
    return collect(job, runs, job_id)
