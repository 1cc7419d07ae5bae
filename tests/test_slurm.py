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

from pv import TRACES, image_difference, run_replay
from replay.gallery import read_data

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


GRID = ("--grid", "Isosurfaces=" + ",".join(VALUES))


def _sweep(*args, env=None, timeout=600):
    return subprocess.run([sys.executable, "-m", "replay", "sweep", *map(str, args)], capture_output=True,
                          text=True, timeout=timeout, env=env)


def _manifest(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text())


@pytest.fixture(scope="module")
def local(script, tmp_path_factory):
    """The same sweep on the local backend: the reference the SLURM backend must equal."""
    out = tmp_path_factory.mktemp("sweep-local") / "local"
    proc = _sweep(script, *GRID, "-o", out)
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.fixture(scope="module")
def on_slurm(slurm, script, tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep-slurm") / "slurm"
    before = _squeue_ids()
    proc = _sweep(script, *GRID, "--backend", "slurm", "-o", out)
    return out, proc, before


def test_slurm_sweep_equals_local_sweep(on_slurm, local):
    """3 runs as a 3-task job array: same manifest rows, gallery and images as the local backend."""
    out, proc, _ = on_slurm
    assert proc.returncode == 0, proc.stderr
    assert "3 of 3 runs succeeded" in " ".join(proc.stderr.split())
    assert "3/3" in proc.stderr  # the progress bar, fed by squeue while the array runs
    rows, reference = _manifest(out)["runs"], _manifest(local)["runs"]
    assert [r["status"] for r in rows] == ["ok"] * 3, rows
    strip = ("seconds", "executions", "pipeline")  # timings and the local worker's pipeline reuse
    assert [{k: v for k, v in r.items() if k not in strip} for r in rows] == \
           [{k: v for k, v in r.items() if k not in strip} for r in reference]
    assert all(r["seconds"] > 0 for r in rows)
    csv = (out / "manifest.csv").read_text().splitlines()
    assert len(csv) == 4 and csv[0].startswith("folder,Isosurfaces,status")
    gallery = read_data((out / "index.html").read_text())
    assert [(r[0], r[1], [gallery["images"][i] for i in r[3]]) for r in gallery["runs"]] == \
           [(r["folder"], r["status"], r["outputs"]) for r in rows]
    for row in rows:
        (image,) = row["outputs"]
        assert image.endswith(".png")
        assert image_difference(out / row["folder"] / image, local / row["folder"] / image) == (0, 0)
    # One job, one array task per run, a status file and a SLURM log per task.
    tasks = json.loads((out / "slurm" / "tasks.json").read_text())["tasks"]
    assert [Path(t["folder"]).name for t in tasks] == [r["folder"] for r in rows]
    assert len(list((out / "slurm" / "logs").glob("*_[012].out"))) == 3
    assert all((out / r["folder"] / ".replay-status.json").exists() for r in rows)


def test_slurm_sweep_again_skips_what_succeeded(on_slurm, script):
    """Resume works the same on SLURM: a second identical sweep submits nothing."""
    out, first, _ = on_slurm
    assert first.returncode == 0, first.stderr
    before = _squeue_ids()
    proc = _sweep(script, *GRID, "--backend", "slurm", "-o", out)
    assert proc.returncode == 0, proc.stderr
    said = " ".join(proc.stderr.split())
    assert "3 of 3 runs already succeeded" in said and "(0 run now, 3 already done)" in said
    assert _squeue_ids() <= before


def test_dry_run_writes_the_array_script_without_submitting(slurm, script, tmp_path):
    out = tmp_path / "dry"
    before = _squeue_ids()
    proc = _sweep(script, *GRID, "--backend", "slurm", "--dry-run", "--mpi", "2", "--partition", "debug",
                  "--time-limit", "0:30:00", "--sbatch-arg=--comment=replay test", "-o", out)
    assert proc.returncode == 0, proc.stderr
    sbatch = out / "slurm" / "array.sbatch"
    # rich folds long lines on a non-terminal stderr, inside the path too
    assert f"wrote{sbatch}(notsubmitted:--dry-run)" in "".join(proc.stderr.split())
    assert _squeue_ids() <= before, "--dry-run submitted a job"
    text = sbatch.read_text()
    for directive in ("--array=0-2", "--ntasks=2", "--nodes=1", "--partition=debug", "--time=0:30:00",
                      '--comment="replay test"'):
        assert f"#SBATCH {directive}\n" in text
    assert "Isosurfaces" not in text and "150" not in text, "values belong in tasks.json, not in the script"
    tasks = json.loads((out / "slurm" / "tasks.json").read_text())["tasks"]
    for value, task in zip(VALUES, tasks):
        command = task["command"]
        assert command[command.index("srun"):command.index("srun") + 3] == ["srun", "-n", "2"]
        assert command[command.index(str(script.resolve())) + 1:] == \
               ["--Isosurfaces", value, "--output-dir", task["folder"]]
    assert not list(out.rglob(".replay-status.json")) and not list(out.rglob("*.png"))


@pytest.mark.parametrize("how", ["no sbatch on PATH", "controller unreachable"])
def test_slurm_unavailable_is_one_line_exit_1(slurm, script, tmp_path, how):
    env = dict(os.environ, PVBATCH=shutil.which("pvbatch"))
    if how == "no sbatch on PATH":
        (tmp_path / "bin").mkdir()
        env["PATH"] = str(tmp_path / "bin")
        expected = "replay: sbatch not found on PATH: SLURM is not installed here"
    else:
        # The real sbatch, told the controller listens where nothing does.
        conf = Path("/etc/slurm/slurm.conf").read_text()
        conf = "\n".join(line for line in conf.splitlines() if not line.startswith(("SlurmctldHost", "SlurmctldPort",
                                                                                    "MessageTimeout")))
        bad = tmp_path / "slurm.conf"
        bad.write_text(conf + "\nSlurmctldHost=nowhere(127.0.0.1)\nSlurmctldPort=9\nMessageTimeout=2\n")
        env["SLURM_CONF"] = str(bad)
        expected = "replay: cannot reach the SLURM controller: "
    proc = _sweep(script, *GRID, "--backend", "slurm", "-o", tmp_path / "out", env=env, timeout=120)
    assert proc.returncode == 1, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(expected), proc.stderr
    assert "Traceback" not in proc.stderr
    if how == "no sbatch on PATH":
        assert not (tmp_path / "out" / "slurm").exists(), "wrote a job array it could never submit"


def Run(key, params, folder):
    from replay.plan import RunSpec

    return RunSpec(key, {name: value if isinstance(value, list) else [value] for name, value in params.items()},
                   Path(folder))


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


MPI_PROBE = """\
import os, runpy, sys
from paraview import servermanager
pm = servermanager.vtkProcessModule.GetProcessModule()
out = sys.argv[sys.argv.index('--output-dir') + 1]
os.makedirs(out, exist_ok=True)
open(os.path.join(out, '.replay-rank%dof%d' % (pm.GetPartitionId(), pm.GetNumberOfLocalPartitions())), 'w').close()
sys.argv = [%r] + sys.argv[1:]
runpy.run_path(sys.argv[0], run_name='__main__')
"""


def test_mpi_task_runs_ranks_through_srun(slurm, script, local, tmp_path):
    """--mpi 2: each array task gets 2 SLURM tasks and srun starts 2 pvbatch ranks (PMIx); the image is the
    serial one up to compositing noise. --partition reaches sbatch (the node's partition is 'debug')."""
    from replay.slurm import run_array

    probe = tmp_path / "probe.py"
    probe.write_text(MPI_PROBE.replace("%r", repr(str(script))))
    out = tmp_path / "out"
    # The time limit bounds a hang: pvbatch 5.11 under MPI on a loaded 2-CPU machine was seen (with mpiexec
    # too) to deadlock in IceT's MPI_Comm_dup against a satellite's barrier; SLURM then stops the task.
    (row,) = run_array(probe, [Run("mpi", {"Isosurfaces": [VALUES[1]]}, "mpi")], out, mpi=2, partition="debug",
                       time_limit="3", poll=0.3)
    assert row["returncode"] == 0, row
    folder = out / "mpi"
    # pvbatch runs the script on rank 0 only (satellites serve it); 'of2' is the size of its MPI world.
    assert sorted(p.name for p in folder.glob(".replay-rank*")) == [".replay-rank0of2"]
    command = json.loads((out / "slurm" / "tasks.json").read_text())["tasks"][0]["command"]
    assert command[command.index("srun"):command.index("srun") + 3] == ["srun", "-n", "2"]
    assert "mpiexec" not in command
    sbatch = (out / "slurm" / "array.sbatch").read_text()
    assert "#SBATCH --ntasks=2\n" in sbatch and "#SBATCH --partition=debug\n" in sbatch
    assert "#SBATCH --time=3\n" in sbatch
    (reference,) = (local / f"Isosurfaces={VALUES[1]}").glob("*.png")
    assert row["outputs"] == [reference.name]
    pixels, channel = image_difference(folder / reference.name, reference)
    assert channel <= 2, f"MPI image differs from the serial one beyond compositing noise: {pixels} px, {channel}"
