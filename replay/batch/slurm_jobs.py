"""What a study submitted to SLURM, kept in its folder, so that a later sweep attaches instead of submitting again;
and what SLURM says became of a task (its failure states).

<out>/slurm/jobs.json names every array job of the last submission: its job name (unique to the submission),
its id and its tasks' place in tasks.jsonl. A job is written down *before* sbatch is called (id unknown) and its id
right after, so a submitter killed in between is found again by name in squeue. `collected` turns true once a sweep
has read every run's status after the jobs ended; until then the next sweep on the folder attaches to them.

A job is live while squeue lists a task of it under its recorded name (the name guards against a controller whose
job ids started again from 1).
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Iterable, Optional

from ..files import write_atomic

JOBS_FILE = "jobs.json"

# SLURM's words for a task it ended, as the manifest row names them.
FAILURE_STATES = ("TIMEOUT", "OUT_OF_MEMORY", "NODE_FAIL", "PREEMPTED", "CANCELLED", "DEADLINE", "BOOT_FAIL")
_MEANING = {
    "TIMEOUT": "the task reached its time limit (--time-limit)",
    "OUT_OF_MEMORY": "the task ran out of memory (ask for more with --sbatch-arg=--mem=...)",
    "NODE_FAIL": "the node running the task failed",
    "PREEMPTED": "the task was preempted by another job",
    "CANCELLED": "the job was cancelled (scancel)",
    "DEADLINE": "the job reached its deadline",
    "BOOT_FAIL": "the node could not boot for the task",
}


def meaning(state: str) -> str:
    return _MEANING.get(state, "")


def load(job_dir: Path) -> Optional[dict]:
    try:
        record = json.loads((Path(job_dir) / JOBS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and isinstance(record.get("jobs"), list) else None


def save(job_dir: Path, record: dict) -> None:
    write_atomic(Path(job_dir) / JOBS_FILE, json.dumps(record, indent=1) + "\n")


def pending_record(job_dir: Path) -> Optional[dict]:
    """The record of jobs a sweep submitted and nobody has collected yet."""
    record = load(job_dir)
    return record if record and not record.get("collected") and record["jobs"] else None


def _squeue(args: list[str]) -> Optional[str]:
    squeue = shutil.which("squeue")
    if not squeue:
        return None
    try:
        proc = subprocess.run([squeue, "-h", *args], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if proc.returncode != 0:
        return "" if "invalid job id" in proc.stderr.lower() else None
    return proc.stdout


def find_by_name(name: str) -> Optional[str]:
    """The id of the array job squeue lists under `name` (a submitter killed before it wrote the id down)."""
    out = _squeue(["-n", name, "-o", "%F"])
    ids = sorted({line.strip() for line in (out or "").splitlines() if line.strip()})
    return ids[0] if ids else None


def tasks_listed(jobs: Iterable[dict]) -> Optional[dict]:
    """{job id: lines squeue lists for it (its running tasks, one for its pending ones)} for the recorded jobs
    whose name matches: 0 once a job has ended; None when squeue cannot be asked."""
    jobs = [j for j in jobs if j.get("id")]
    if not jobs:
        return {}
    # Without -r: a study's thousands of pending tasks are one line per array, not one each.
    out = _squeue(["-j", ",".join(j["id"] for j in jobs), "-o", "%F %j"])
    if out is None:
        return None
    names = {j["id"]: j.get("name") for j in jobs}
    listed = {j["id"]: 0 for j in jobs}
    for line in out.splitlines():
        job_id, _, name = line.strip().partition(" ")
        if job_id in names and (names[job_id] is None or names[job_id] == name.strip()):
            listed[job_id] += 1
    return listed


# -- what became of a task ------------------------------------------------------------------------------------

def _sacct_states(job_ids: list[str]) -> dict:
    """{"<array id>_<task>": STATE} from accounting; {} where there is none (sacct says it is disabled)."""
    sacct = shutil.which("sacct")
    if not (sacct and job_ids):
        return {}
    try:
        proc = subprocess.run([sacct, "-n", "-P", "-X", "-j", ",".join(job_ids), "-o", "JobID,State"],
                              capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return {}
    if proc.returncode != 0:
        return {}
    states = {}
    for line in proc.stdout.splitlines():
        job, _, state = line.partition("|")
        if job and state:
            states[job.strip()] = state.split()[0]  # "CANCELLED by 0" -> CANCELLED
    return states


def _scontrol_state(job_id: str, index: int) -> Optional[str]:
    scontrol = shutil.which("scontrol")
    if not scontrol:
        return None
    try:
        proc = subprocess.run([scontrol, "-o", "show", "job", f"{job_id}_{index}"], capture_output=True, text=True,
                              timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    for field in proc.stdout.split():
        if field.startswith("JobState="):
            return field.split("=", 1)[1]
    return None


# slurmstepd writes these into the task's output when it ends the task; they outlive the controller's memory.
_LOG_SIGNS = (
    (re.compile(r"\*\*\* (?:JOB|STEP) \S+ ON \S+ CANCELLED AT \S+ DUE TO TIME LIMIT"), "TIMEOUT"),
    (re.compile(r"\*\*\* (?:JOB|STEP) \S+ ON \S+ CANCELLED AT \S+ DUE TO PREEMPTION"), "PREEMPTED"),
    (re.compile(r"\*\*\* (?:JOB|STEP) \S+ ON \S+ CANCELLED AT \S+ DUE TO NODE FAIL"), "NODE_FAIL"),
    (re.compile(r"oom[-_ ]kill|Exceeded (?:job|step) memory limit|OUT_OF_MEMORY", re.IGNORECASE), "OUT_OF_MEMORY"),
    (re.compile(r"\*\*\* (?:JOB|STEP) \S+ ON \S+ CANCELLED AT \S+"), "CANCELLED"),
)


def state_from_log(text: str) -> Optional[str]:
    for sign, state in _LOG_SIGNS:
        if sign.search(text):
            return state
    return None


class States:
    """SLURM's word for array tasks, asked once per job for all its tasks: sacct where accounting exists, else
    the controller (while it remembers the task, MinJobAge), else the task's log."""

    def __init__(self, job_ids: Iterable[str], logs: Path):
        self.job_ids = [j for j in job_ids if j]
        self.logs = Path(logs)
        self._sacct: Optional[dict] = None

    def of(self, job_id: Optional[str], index: int) -> Optional[str]:
        if not job_id:
            return None
        if self._sacct is None:
            self._sacct = _sacct_states(self.job_ids)
        state = self._sacct.get(f"{job_id}_{index}")
        if state in FAILURE_STATES:
            return state
        try:
            text = (self.logs / f"{job_id}_{index}.out").read_text(encoding="utf-8", errors="replace")
        except OSError:
            text = ""
        from_log = state_from_log(text[-20000:])
        if from_log:
            return from_log
        return state or _scontrol_state(job_id, index)
