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

from pv import TRACES, image_difference, loses_display_once, run_replay
from replay.batch.gallery import read_data

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


def _tasks(out: Path) -> list:
    from replay.batch import task_file

    return list(task_file.read_all(out / "slurm"))


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
    strip = ("seconds",)
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
    # Runs of the same file share one array task (the default packs up to 10), whose worker keeps the pipeline:
    # the reader runs once, the later runs only re-execute the contour. A status file per run, a log per task.
    (task,) = _tasks(out)
    assert task["worker"] and [Path(r["folder"]).name for r in task["runs"]] == [r["folder"] for r in rows]
    assert [r["pipeline"] for r in rows] == ["new", "kept", "kept"]
    assert [r["executions"].get("XMLImageDataReader#0", 0) for r in rows] == [1, 0, 0]
    assert len(list((out / "slurm" / "logs").glob("*_0.out"))) == 1
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
                  "--time-limit", "0:30:00", "--sbatch-arg=--comment=replay test", "--runs-per-task", "2", "-o", out)
    assert proc.returncode == 0, proc.stderr
    sbatch = out / "slurm" / "array-0.sbatch"
    # rich folds long lines on a non-terminal stderr, inside the path too
    assert f"wrote{sbatch}(notsubmitted:--dry-run)" in "".join(proc.stderr.split())
    assert _squeue_ids() <= before, "--dry-run submitted a job"
    text = sbatch.read_text()
    for directive in ("--array=0-1", "--ntasks=2", "--nodes=1", "--partition=debug", "--time=0:30:00",
                      '--comment="replay test"'):
        assert f"#SBATCH {directive}\n" in text
    assert "Isosurfaces" not in text and "150" not in text, "values belong in tasks.jsonl, not in the script"
    tasks = _tasks(out)
    # --runs-per-task 2: the 3 runs in 2 tasks, each a worker under srun feeding its jobs to rank 0.
    assert [len(task["runs"]) for task in tasks] == [2, 1]
    for task in tasks:
        command = task["command"]
        assert command[command.index("srun"):command.index("srun") + 4] == ["srun", "-n", "2", "--input=0"]
        assert command[-1] == str(out / "slurm" / "worker_driver.py")
    runs = [run for task in tasks for run in task["runs"]]
    for value, run in zip(VALUES, runs):
        assert run["script"] == str(script.resolve())
        assert run["argv"] == ["--Isosurfaces", value, "--output-dir", run["folder"]]
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
    from replay.batch.plan import RunSpec

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

    from replay.batch.slurm import run_array

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
                     on_submit=lambda job, submitted: jobs.extend(j["id"] for j in submitted))
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
    from replay.batch.slurm import run_array

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
    """--mpi 2: each array task gets 2 SLURM tasks and its worker runs under `srun -n 2` (PMIx); pvbatch runs
    Python on rank 0 only, so both runs of the task are served there and the second keeps the pipeline. The
    image is the serial one up to compositing noise. --partition reaches sbatch (the node's partition is 'debug')."""
    from replay.batch.slurm import run_array

    probe = tmp_path / "probe.py"
    probe.write_text(MPI_PROBE.replace("%r", repr(str(script))))
    out = tmp_path / "out"
    # The time limit bounds a hang: pvbatch 5.11 under MPI on a loaded 2-CPU machine was seen (with mpiexec
    # too) to deadlock in IceT's MPI_Comm_dup against a satellite's barrier; SLURM then stops the task.
    rows = run_array(probe, [Run("mpi", {"Isosurfaces": [VALUES[1]]}, "mpi"),
                             Run("mpi2", {"Isosurfaces": [VALUES[2]]}, "mpi2")], out, mpi=2, partition="debug",
                     time_limit="3", poll=0.3, session=lambda run: "one data set")
    assert [row["returncode"] for row in rows] == [0, 0], rows
    assert [row["pipeline"] for row in rows] == ["new", "kept"]
    assert rows[1]["executions"].get("Contour#0", 0) >= 1 and "XMLImageDataReader#0" not in rows[1]["executions"]
    for name in ("mpi", "mpi2"):
        # pvbatch runs the script on rank 0 only (satellites serve it); 'of2' is the size of its MPI world.
        assert sorted(p.name for p in (out / name).glob(".replay-rank*")) == [".replay-rank0of2"]
    (task,) = _tasks(out)
    command = task["command"]
    assert command[command.index("srun"):command.index("srun") + 3] == ["srun", "-n", "2"]
    assert "mpiexec" not in command
    sbatch = (out / "slurm" / "array-0.sbatch").read_text()
    assert "#SBATCH --ntasks=2\n" in sbatch and "#SBATCH --partition=debug\n" in sbatch
    assert "#SBATCH --time=3\n" in sbatch
    for row, value in zip(rows, VALUES[1:]):
        (reference,) = (local / f"Isosurfaces={value}").glob("*.png")
        assert row["outputs"] == [reference.name]
        pixels, channel = image_difference(out / row["folder"] / reference.name, reference)
        assert channel <= 2, f"MPI image differs from the serial one beyond compositing noise: {pixels} px, {channel}"


def test_a_task_whose_display_is_lost_starts_its_ranks_again_on_another(slurm, tmp_path):
    """--mpi 2: rank 0 finds no X server ("bad X server connection", abort), srun ends the step; the task starts
    xvfb-run and srun again on another display after a pause, and both runs work on the new worker. (CI saw three
    retries in a row lose their display, to Xvfb's reset between clients, before replay started it -noreset.)"""
    from replay.batch.slurm import run_array

    script = loses_display_once(tmp_path / "script")
    out = tmp_path / "out"
    rows = run_array(script, [Run("a", {}, "a"), Run("b", {}, "b")], out, mpi=2, time_limit="3", poll=0.3,
                     session=lambda run: "one")
    assert (tmp_path / "script" / "lost-once").exists()
    assert [row["returncode"] for row in rows] == [0, 0], rows
    assert [row["pipeline"] for row in rows] == ["new", "kept"]
    assert [row["outputs"] for row in rows] == [["sphere.png"], ["sphere.png"]]
    (log,) = (out / "slurm" / "logs").iterdir()
    assert log.read_text(errors="replace").count("bad X server connection") == 1


# A replay script (it carries a spec) whose runs can fail, crash pvbatch, or wait: what a task must survive.
CASES_SPEC = {"source": "cases.py", "parameters": [
    {"name": "Radius", "kind": "property", "proxy": "s", "property": "Radius", "default": 1.0, "line": 1,
     "type": "float", "nargs": None},
    {"name": "Mode", "kind": "property", "proxy": "s", "property": "Mode", "default": "ok", "line": 1,
     "type": "str", "nargs": None},
    {"name": "output-dir", "kind": "output", "proxy": None, "property": None, "default": None, "line": None}]}
CASES = """\
import argparse, os, time
parser = argparse.ArgumentParser()
parser.add_argument("--Radius", type=float, default=1.0)
parser.add_argument("--Mode", default="ok")
parser.add_argument("--output-dir", dest="out", default=".")
args = parser.parse_args()
from paraview.simple import Sphere, SaveData
sphere = Sphere(Radius=args.Radius)
if args.Mode == "fail":
    raise RuntimeError("asked to fail at radius %s" % args.Radius)
if args.Mode == "crash":
    os.abort()
if args.Mode == "wait" and os.environ.get("REPLAY_TEST_WAIT"):
    open(os.path.join(args.out, "waiting"), "w").close()
    time.sleep(300)
SaveData(os.path.join(args.out, "sphere.csv"), proxy=sphere)
"""


def _cases(folder: Path) -> Path:
    script = folder / "cases_replay.py"
    script.write_text("import json as _replay_json\n\n_REPLAY_SPEC = _replay_json.loads(r'''"
                      + json.dumps(CASES_SPEC, indent=1) + "''')\n" + CASES)
    return script


def test_a_failing_or_crashing_run_fails_alone_inside_its_task(slurm, tmp_path):
    """Five runs in one task: a Python error and a pvbatch crash (abort) fail their own rows; the task goes on,
    with a fresh worker after the crash, and the other runs write their data."""
    table = tmp_path / "cases.csv"
    table.write_text("Radius,Mode\n1,ok\n2,fail\n3,ok\n4,crash\n5,ok\n")
    out = tmp_path / "study"
    proc = _sweep(_cases(tmp_path), "--table", table, "--backend", "slurm", "-o", out)
    assert proc.returncode == 1, proc.stderr
    (task,) = _tasks(out)
    assert len(task["runs"]) == 5
    rows = _manifest(out)["runs"]
    assert [r["status"] for r in rows] == ["ok", "failed", "ok", "failed", "ok"], rows
    assert rows[1]["error"] == "pvbatch exited with 1: RuntimeError: asked to fail at radius 2.0"
    assert "SIGABRT" in rows[3]["error"] and "worker died" in rows[3]["error"], rows[3]["error"]
    assert [r["outputs"] for r in rows] == [["sphere.csv"], [], ["sphere.csv"], [], ["sphere.csv"]]
    # A failed run spoils the kept pipeline, and a crash the worker: the run after each starts afresh.
    assert [r.get("pipeline") for r in rows] == ["new", "kept", "new", None, "new"]


def test_a_stopped_task_keeps_its_finished_runs_and_the_next_sweep_runs_the_rest(slurm, tmp_path):
    """SLURM stops a task at its time limit as scancel does (SIGTERM to the task, SIGKILL later): the runs the
    task finished keep their rows, the running one says it was stopped, and the next identical sweep runs only
    the two that did not finish."""
    import threading
    import time

    cases = _cases(tmp_path)
    table = tmp_path / "cases.csv"
    table.write_text("Radius,Mode\n1,ok\n2,ok\n3,wait\n4,ok\n")
    out = tmp_path / "study"
    waiting = out / "Radius=3,Mode=wait" / "waiting"
    before = _squeue_ids()

    def cancel_when_waiting():
        for _ in range(1200):
            if waiting.exists():
                ids = [i for i in _squeue_ids() if i not in before]
                subprocess.run(["scancel", *ids], check=True, timeout=60)
                return
            time.sleep(0.1)

    canceller = threading.Thread(target=cancel_when_waiting, daemon=True)
    canceller.start()
    first = _sweep(cases, "--table", table, "--backend", "slurm", "-o", out,
                   env=dict(os.environ, REPLAY_TEST_WAIT="1"), timeout=300)
    canceller.join(timeout=5)
    assert first.returncode == 1, first.stderr
    rows = _manifest(out)["runs"]
    assert [r["status"] for r in rows] == ["ok", "ok", "failed", "failed"], rows
    assert "stopped by SLURM" in rows[2]["error"] and "left no status" in rows[3]["error"], rows
    assert rows[0]["outputs"] == rows[1]["outputs"] == ["sphere.csv"]

    again = _sweep(cases, "--table", table, "--backend", "slurm", "-o", out)
    assert again.returncode == 0, again.stderr
    said = " ".join(again.stderr.split())
    assert "2 of 4 runs already succeeded" in said and "(2 run now, 2 already done)" in said
    (task,) = _tasks(out)
    assert [Path(r["folder"]).name for r in task["runs"]] == ["Radius=3,Mode=wait", "Radius=4,Mode=ok"]
    assert [r["status"] for r in _manifest(out)["runs"]] == ["ok"] * 4


def test_wait_returns_when_every_run_has_its_status_before_slurm_lists_the_task_done(slurm, tmp_path):
    """A task stops its worker after its last run, and SLURM lists it for a while after: the sweep's results do not
    wait for that. Here a real task writes its one status and then lingers; wait returns while squeue still lists
    it."""
    from replay.batch import slurm as backend

    status = tmp_path / "run" / backend.STATUS_FILE
    status.parent.mkdir()
    job = tmp_path / "linger.sh"
    job.write_text(f"#!/bin/sh\nsleep 2\necho '{{}}' > {status}\nsleep 60\n")
    proc = subprocess.run(["sbatch", "--parsable", "-o", str(tmp_path / "log"), str(job)], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    job_id = proc.stdout.strip().split(";")[0]
    try:
        seen = []
        backend.wait(job_id, poll=0.5, count=lambda left: 0 if status.exists() else 1, on_progress=seen.append)
        assert status.exists() and seen[-1] == 0
        assert job_id in _squeue_ids(), "the task ended before wait returned: the test proves nothing"
    finally:
        subprocess.run(["scancel", job_id], capture_output=True, timeout=60)
