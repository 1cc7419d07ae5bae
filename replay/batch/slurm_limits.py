"""The cluster's limits on job arrays, read from `scontrol show config`, and a study's tasks split to fit them.

MaxArraySize: an array's task ids run from 0 to MaxArraySize - 1, so one array holds at most MaxArraySize tasks
(SLURM's default, 1001, is what most clusters keep). MaxJobCount: every task of every array counts as one job
in the controller until it is purged (default 10,000). A limit scontrol does not tell (no scontrol, no
controller, a field missing) is taken as SLURM's default, and said so.
"""
from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from typing import Optional

DEFAULT_MAX_ARRAY_SIZE = 1001
DEFAULT_MAX_JOB_COUNT = 10000


@dataclass(frozen=True)
class Limits:
    max_array_size: int = DEFAULT_MAX_ARRAY_SIZE
    max_job_count: int = DEFAULT_MAX_JOB_COUNT
    assumed: tuple = ()  # the names taken as SLURM's default because scontrol did not tell them

    @property
    def note(self) -> str:
        if not self.assumed:
            return ""
        return (f"scontrol did not tell {' and '.join(self.assumed)}: assuming SLURM's default "
                f"({', '.join(f'{n} = {getattr(self, _FIELD[n])}' for n in self.assumed)})")


_FIELD = {"MaxArraySize": "max_array_size", "MaxJobCount": "max_job_count"}


def parse_config(text: str) -> Limits:
    """`scontrol show config` ("Name = value" lines) -> Limits; a missing or unreadable field is the default."""
    found = {}
    for line in text.splitlines():
        name, eq, value = line.partition("=")
        name = name.strip()
        if eq and name in _FIELD:
            word = value.strip().split(" ")[0]
            if word.isdigit() and int(word) > 0:
                found[_FIELD[name]] = int(word)
    assumed = tuple(n for n, f in _FIELD.items() if f not in found)
    return Limits(**found, assumed=assumed)


def read_limits(timeout: float = 60) -> Limits:
    scontrol = shutil.which("scontrol")
    if not scontrol:
        return parse_config("")
    try:
        proc = subprocess.run([scontrol, "show", "config"], capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired):
        return parse_config("")
    return parse_config(proc.stdout if proc.returncode == 0 else "")


def split(count: int, max_array_size: int) -> list[range]:
    """Task indices 0..count-1 as consecutive arrays of at most max_array_size tasks each."""
    size = max(1, max_array_size)
    return [range(start, min(count, start + size)) for start in range(0, count, size)]


def array_spec(tasks: int, max_concurrent: Optional[int]) -> str:
    """sbatch --array for one array of `tasks` tasks: 0-N, with SLURM's %K throttle for --max-concurrent."""
    spec = f"0-{tasks - 1}"
    return spec + (f"%{max_concurrent}" if max_concurrent else "")
