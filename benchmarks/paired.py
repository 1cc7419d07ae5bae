"""Paired whole-process timing shared by the benchmarks: every round runs each command once, in an order
that alternates between rounds, so a busy machine slows all of them alike; each figure is the median
over the rounds, and ratios are taken against a baseline measured in the same rounds."""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time


def run(command, cwd=None) -> tuple[float, float]:
    """(wall seconds, peak resident MB) of one whole process."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    # wait4 gives this child's own peak (ru_maxrss, KB on Linux), not the largest of all children.
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    stderr = proc.stderr.read().decode("utf-8", "replace")
    proc.stderr.close()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0, 1) or "Traceback" in stderr:
        sys.exit(f"failed ({proc.returncode}): {' '.join(map(str, command))[:200]}\n{stderr[-2000:]}")
    return seconds, usage.ru_maxrss / 1024


def paired(commands: dict, rounds: int) -> dict:
    """label -> (median seconds, median peak MB) for {label: (command, cwd)}."""
    times = {label: [] for label in commands}
    peaks = {label: [] for label in commands}
    labels = list(commands)
    for k in range(rounds):
        for label in (labels if k % 2 == 0 else labels[::-1]):
            command, cwd = commands[label]
            seconds, peak = run(command, cwd)
            times[label].append(seconds)
            peaks[label].append(peak)
    return {label: (statistics.median(times[label]), statistics.median(peaks[label])) for label in labels}
