"""`replay sweep --backend slurm` against the real single-node SLURM that .ci/slurm-up starts (CI runs it
before pytest; on a dev machine run `bash .ci/slurm-up` once). No mocks: jobs go through slurmctld/slurmd and
every task runs real pvbatch; images are compared with direct pvbatch runs of the same values."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pv import TRACES, image_difference, run_pvbatch, run_replay

RECORDING = TRACES / "contour.py"
VALUES = ("100", "150", "200")


def _squeue_ids() -> set:
    proc = subprocess.run(["squeue", "-h", "-o", "%A"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, f"squeue failed: {proc.stderr}"
    return set(proc.stdout.split())


@pytest.fixture(scope="module")
def slurm():
    """The controller answers and the node takes jobs; a missing SLURM is a failure (CI installs it)."""
    assert shutil.which("sbatch"), "sbatch missing: run .ci/setup (slurm-wlm) and .ci/slurm-up"
    proc = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip(), f"no SLURM controller: run .ci/slurm-up ({proc.stderr})"
    return proc.stdout.split()


@pytest.fixture(scope="module")
def script(tmp_path_factory, fixture_data, recorded_out):
    folder = tmp_path_factory.mktemp("slurm-script")
    out = folder / "contour_replay.py"
    proc = run_replay("convert", RECORDING, "--param", "Isosurfaces", "-o", out)
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.fixture(scope="module")
def direct(script, tmp_path_factory):
    """What pvbatch writes for each value when run by hand: the reference for every backend."""
    base = tmp_path_factory.mktemp("slurm-direct")
    images = {}
    for value in VALUES:
        run_pvbatch(script, "--Isosurfaces", value, "--output-dir", base / value)
        (png,) = sorted((base / value).glob("*.png"))
        images[value] = png
    return images


class Run:
    """A run as replay.plan hands them to the backend: key, params, folder."""

    def __init__(self, key, params, folder):
        self.key, self.params, self.folder = key, params, folder


SLEEPER = """\
import os, sys, time
out = sys.argv[sys.argv.index('--output-dir') + 1]
os.makedirs(out, exist_ok=True)
open(os.path.join(out, 'started'), 'w').close()
time.sleep(120)
"""


def test_cancelled_task_reports_stopped_by_slurm(slurm, tmp_path):
    """scancel (as SLURM's time limit does) SIGTERMs the task: its row says so instead of hanging or vanishing."""
    import threading
    import time

    from replay.slurm import run_array

    sleeper = tmp_path / "sleeper.py"
    sleeper.write_text(SLEEPER)
    out = tmp_path / "out"
    jobs = []

    def cancel_when_started():
        for _ in range(600):
            if jobs and (out / "only" / "started").exists():
                subprocess.run(["scancel", jobs[0]], check=True, timeout=60)
                return
            time.sleep(0.1)

    canceller = threading.Thread(target=cancel_when_started, daemon=True)
    canceller.start()
    started = time.monotonic()
    rows = run_array(sleeper, [Run("only", {}, "only")], out, poll=0.3,
                     on_submit=lambda job, job_id: jobs.append(job_id))
    canceller.join(timeout=5)
    assert time.monotonic() - started < 60, "waited for the whole sleep: the cancel did not stop the task"
    (row,) = rows
    assert row["returncode"] != 0
    assert "stopped by SLURM" in row["error"]
    assert row["outputs"] == ["started"]


ECHO = """\
import json, os, sys
out = sys.argv[sys.argv.index('--output-dir') + 1]
os.makedirs(out, exist_ok=True)
with open(os.path.join(out, 'argv.json'), 'w') as f:
    json.dump(sys.argv[1:], f)
"""

NASTY = "$(touch pwned) `touch pwned2`; rm -rf x && echo 'a' \"b\" * ~ \\ %A %%"


def test_values_and_folders_reach_pvbatch_verbatim(slurm, tmp_path):
    """No shell ever sees a user value: quotes, $(), globs, %A and spaces arrive as typed, in folders named
    with the same characters, and nothing they spell is executed."""
    from replay.slurm import run_array

    echo = tmp_path / "echo.py"
    echo.write_text(ECHO)
    out = tmp_path / "out dir 'q' $HOME %A"
    rows = run_array(echo, [Run("nasty", {"Label": NASTY}, "run a 'b' $(x) %a"), Run("plain", {"Label": "x"}, "plain")],
                     out, poll=0.3)
    assert [r["returncode"] for r in rows] == [0, 0], rows
    folder = out / "run a 'b' $(x) %a"
    argv = json.loads((folder / "argv.json").read_text())
    assert argv[argv.index("--Label") + 1] == NASTY
    assert argv[argv.index("--output-dir") + 1] == str(folder)
    assert rows[0]["outputs"] == ["argv.json"]
    assert not list(tmp_path.rglob("pwned*")) and not Path("pwned").exists()
    logs = list((out / "slurm" / "logs").iterdir())
    assert len(logs) == 2 and all(p.name.endswith(("_0.out", "_1.out")) for p in logs), logs


@pytest.fixture(scope="module")
def array_rows(slurm, script, tmp_path_factory):
    from replay.slurm import run_array

    out = tmp_path_factory.mktemp("slurm-array")
    runs = [Run(f"Isosurfaces={v}", {"Isosurfaces": [v]}, f"run{i}") for i, v in enumerate(VALUES)]
    return out, run_array(script, runs, out, poll=0.3)


def test_array_images_equal_direct_pvbatch(array_rows, direct):
    out, rows = array_rows
    assert [r["returncode"] for r in rows] == [0, 0, 0], rows
    for i, (value, row) in enumerate(zip(VALUES, rows)):
        assert row["outputs"] == [direct[value].name]
        assert image_difference(out / f"run{i}" / direct[value].name, direct[value]) == (0, 0)
