"""Studies on the real single-node SLURM (.ci/slurm-up): arrays split by the cluster's MaxArraySize, submit and
detach, a killed or hung-up sweep started again (it attaches: never a second job, never a finished run again),
Ctrl-C cancelling, SLURM's failure states (a real TIMEOUT and a real CANCELLED) named in the rows.

Every run is a real pvbatch (a sphere saved as CSV). Runs can be held at a gate file, so that a job is surely
alive while a sweep is killed and started again; each run appends a line to a log outside the study, which
counts how often it ran."""
from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from replay.batch import slurm_jobs
from replay.batch.gallery import read_data

CONF = Path("/etc/slurm/slurm.conf")

SPEC = {"source": "gated.py", "parameters": [
    {"name": "Radius", "kind": "property", "proxy": "s", "property": "Radius", "default": 1.0, "line": 1,
     "type": "float", "nargs": None},
    {"name": "Mode", "kind": "property", "proxy": "s", "property": "Mode", "default": "ok", "line": 1,
     "type": "str", "nargs": None},
    {"name": "output-dir", "kind": "output", "proxy": None, "property": None, "default": None, "line": None}]}
GATED = """\
import argparse, os, time
parser = argparse.ArgumentParser()
parser.add_argument("--Radius", type=float, default=1.0)
parser.add_argument("--Mode", default="ok")
parser.add_argument("--output-dir", dest="out", default=".")
args = parser.parse_args()
from paraview.simple import Sphere, SaveData
gate = os.environ.get("REPLAY_TEST_GATE")
if gate and args.Radius > float(os.environ.get("REPLAY_TEST_GATE_ABOVE", "0")):
    open(os.path.join(args.out, "waiting"), "w").write("waiting\\n")  # an output: empty would not count as written
    while not os.path.exists(gate):
        time.sleep(0.2)
if args.Mode == "sleep":
    open(os.path.join(args.out, "sleeping"), "w").write("sleeping\\n")
    time.sleep(600)
SaveData(os.path.join(args.out, "sphere.csv"), proxy=Sphere(Radius=args.Radius))
log = os.environ.get("REPLAY_TEST_RAN")
if log:
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    os.write(fd, ("%s\\n" % args.Radius).encode())
    os.close(fd)
"""


@pytest.fixture(scope="module")
def slurm():
    proc = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip(), f"no SLURM controller: run .ci/slurm-up ({proc.stderr})"


@pytest.fixture(scope="module")
def gated(tmp_path_factory):
    script = tmp_path_factory.mktemp("gated") / "gated_replay.py"
    script.write_text("import json as _replay_json\n\n_REPLAY_SPEC = _replay_json.loads(r'''"
                      + json.dumps(SPEC, indent=1) + "''')\n" + GATED)
    return script


def _table(folder: Path, n: int, mode: str = "ok") -> Path:
    table = folder / f"table{n}{mode}.csv"
    table.write_text("Radius,Mode\n" + "".join(f"{i},{mode}\n" for i in range(1, n + 1)))
    return table


def _command(*args) -> list[str]:
    return [sys.executable, "-m", "replay", "sweep", *map(str, args)]


def _sweep(*args, env=None, timeout=600):
    return subprocess.run(_command(*args), capture_output=True, text=True, timeout=timeout, env=env)


def _said(proc) -> str:
    return " ".join(proc.stderr.split())


_TIMING_OUT: set = set()  # the ids of the study the timeout test left running meanwhile


def _squeue() -> dict:
    """{array job id: tasks listed} of the jobs of this module's script (the cluster is shared: other jobs come
    and go), without the timeout test's."""
    proc = subprocess.run(["squeue", "-h", "-r", "-o", "%F %j"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    listed: dict = {}
    for line in proc.stdout.splitlines():
        job, _, name = line.strip().partition(" ")
        if name.startswith("replay-gated_replay-") and job not in _TIMING_OUT:
            listed[job] = listed.get(job, 0) + 1
    return listed


def _recorded(out: Path) -> list[str]:
    return [job["id"] for job in slurm_jobs.load(out / "slurm")["jobs"]]


def _rows(out: Path) -> list[dict]:
    return json.loads((out / "manifest.json").read_text())["runs"]


def _until(condition, what: str, seconds: float = 120, seen=None):
    """seen(): what the test saw instead, named when it times out."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}" + (f"; saw {seen()}" if seen else ""))


def _restart_controller() -> None:
    # MaxArraySize is read when slurmctld starts (scontrol reconfigure shows the new value but sbatch still
    # checks the old one): restart it. Jobs survive in its state save; the node reports back within seconds.
    pid = int(Path("/run/slurmctld.pid").read_text())
    os.kill(pid, signal.SIGTERM)
    _until(lambda: not Path(f"/proc/{pid}").exists(), "slurmctld to stop", 30)
    subprocess.run(["slurmctld"], check=True, timeout=60)

    def ready():
        proc = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True, timeout=60)
        return proc.returncode == 0 and proc.stdout.split() and proc.stdout.split()[0] in (
            "idle", "mixed", "allocated", "completing")

    _until(ready, "the node to come back after restarting slurmctld", 60)


@pytest.fixture
def max_array_size_5(slurm):
    """The cluster with MaxArraySize=5 for as short a time as the test needs (the cluster is shared): the test
    calls the returned function to restore the original configuration as soon as it has submitted."""
    original = CONF.read_text()
    CONF.write_text(original.rstrip("\n") + "\nMaxArraySize=5\n")
    restored = []

    def restore():
        if not restored:
            restored.append(True)
            CONF.write_text(original)
            _restart_controller()

    try:
        _restart_controller()
        yield restore
    finally:
        restore()


def _config(name: str) -> str:
    out = subprocess.run(["scontrol", "show", "config"], capture_output=True, text=True, timeout=60).stdout
    return next(line.split("=", 1)[1].strip() for line in out.splitlines() if line.split("=")[0].strip() == name)


def test_a_study_split_into_arrays_within_max_array_size_detach_then_attach(max_array_size_5, gated, tmp_path):
    """MaxArraySize=5: 23 runs at one run a task are 5 arrays (5+5+5+5+3 tasks), submitted at once with --detach,
    which returns, naming the jobs and the command that attaches. The same command attaches: it waits, submits
    nothing, and writes the full manifest, every row ok; each run ran once."""
    assert _config("MaxArraySize") == "5"
    out = tmp_path / "study"
    ran, gate = tmp_path / "ran.log", tmp_path / "gate"
    # Runs 1-20 go through, the last array's 3 wait for the gate (holding only 3 of the node's task slots): the
    # manifest must fill in while the sweep waits.
    env = dict(os.environ, REPLAY_TEST_RAN=str(ran), REPLAY_TEST_GATE=str(gate), REPLAY_TEST_GATE_ABOVE="20")
    table = _table(tmp_path, 23)
    args = (gated, "--table", table, "--backend", "slurm", "--runs-per-task", "1", "--max-concurrent", "4",
            "-o", out)
    before = _squeue()
    started = time.monotonic()
    detached = _sweep(*args, "--detach", env=env)
    assert detached.returncode == 0, detached.stderr
    assert time.monotonic() - started < 60
    max_array_size_5()  # the arrays are in; the other users of the cluster get its default back
    jobs = slurm_jobs.load(out / "slurm")["jobs"]
    assert [job["count"] for job in jobs] == [5, 5, 5, 5, 3]
    assert [job["first"] for job in jobs] == [0, 5, 10, 15, 20]
    ids = [job["id"] for job in jobs]
    said = _said(detached)
    assert f"submitted SLURM job(s) {', '.join(ids)} for 23 runs; detached" in said, said
    assert "replay sweep " in said and "--detach" not in said.split("run:", 1)[1], said
    for number, job in enumerate(jobs):
        text = (out / "slurm" / f"array-{number}.sbatch").read_text()
        assert f"#SBATCH --array=0-{job['count'] - 1}%4\n" in text
        assert f'"$(({job["first"]} + SLURM_ARRAY_TASK_ID))"' in text
    assert not (out / "slurm" / "array-5.sbatch").exists()
    new = set(_squeue()) - set(before)
    assert new <= set(ids) and new, (new, ids)
    assert {r["status"] for r in _rows(out)} == {"pending"}
    # A dry run would write the task file again under the jobs that read it: refused.
    tasks = (out / "slurm" / "tasks.jsonl").read_bytes()
    dry = _sweep(*args, "--dry-run", env=env)
    assert dry.returncode == 1 and "no sweep has collected yet" in _said(dry), dry.stderr
    assert (out / "slurm" / "tasks.jsonl").read_bytes() == tasks

    said_file = tmp_path / "attach.err"
    attaching = _start(args, env, said_file)

    def landed():
        statuses = [r["status"] for r in _rows(out)]
        return statuses.count("ok") == 20 and statuses.count("pending") == 3

    def seen():
        return ([r["status"] for r in _rows(out)], sorted(ran.read_text().split()) if ran.exists() else [],
                _squeue(), _text(said_file))

    _until(landed, "the first 20 rows in the manifest while the sweep waits", 480, seen)
    assert attaching.poll() is None
    with open(out / "data.csv", newline="") as f:
        cinema = list(csv.DictReader(f))
    assert len(cinema) == 23 and [r["status"] for r in cinema].count("ok") == 20
    assert [r[1] for r in read_data((out / "index.html").read_text())["runs"]].count("ok") == 20
    gate.touch()
    attaching.wait(timeout=600)
    assert attaching.returncode == 0, _text(said_file)
    said = _text(said_file)
    assert f"attaching to the SLURM job(s) an earlier sweep submitted into {out}: {', '.join(ids)}" in said, said
    assert "23 of 23 runs succeeded (0 run now, 23 by jobs submitted earlier, 0 already done)" in said, said
    rows = _rows(out)
    assert [r["status"] for r in rows] == ["ok"] * 23, rows
    assert [r["outputs"] for r in rows] == [["sphere.csv"]] * 20 + [["sphere.csv", "waiting"]] * 3
    assert sorted(float(x) for x in ran.read_text().split()) == [float(i) for i in range(1, 24)]
    assert _recorded(out) == ids and slurm_jobs.load(out / "slurm")["collected"]
    assert set(_squeue()) - set(before) <= set(ids)
    # Each task read its own entry of tasks.idx and its own line of tasks.jsonl: a log per task, 23 in all.
    assert len(list((out / "slurm" / "logs").glob("*.out"))) == 23


_STARTED: list = []


def _start(args, env, said: Path) -> subprocess.Popen:
    """The sweep in the background, what it says going to the file `said`."""
    with open(said, "w") as stderr:
        proc = subprocess.Popen(_command(*args), stdout=subprocess.DEVNULL, stderr=stderr, text=True, env=env)
    _STARTED.append(proc)
    return proc


@pytest.fixture(autouse=True)
def _leave_the_cluster_clean(tmp_path):
    """Whatever a test left (it may fail half-way): its background sweeps killed first (an attached sweep would
    submit again what it saw cancelled), its gate opened, its jobs cancelled. The cluster is shared."""
    yield
    for proc in _STARTED:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
    _STARTED.clear()
    (tmp_path / "gate").touch()
    for record in tmp_path.rglob("jobs.json"):
        ids = [job["id"] for job in json.loads(record.read_text())["jobs"] if job.get("id")]
        if ids:
            subprocess.run(["scancel", *ids], capture_output=True, timeout=60)


def _text(path: Path) -> str:
    return " ".join(path.read_text().split()) if path.exists() else ""


def _hang_up(proc: subprocess.Popen) -> None:
    """SIGHUP (a closed SSH session), then SIGKILL if it is still there."""
    proc.send_signal(signal.SIGHUP)
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def test_a_killed_sweep_started_again_never_submits_twice_nor_reruns_a_finished_run(slurm, gated, tmp_path):
    """The waiting sweep hangs up while its job runs: the job runs on. Started again while the job lives, the
    sweep attaches and submits nothing (squeue and jobs.json list the one job); killed too (SIGKILL). The job
    ends; the sweep started once more takes every run as done: 0 run now, each run ran once."""
    out = tmp_path / "study"
    gate, ran = tmp_path / "gate", tmp_path / "ran.log"
    env = dict(os.environ, REPLAY_TEST_GATE=str(gate), REPLAY_TEST_RAN=str(ran))
    args = (gated, "--table", _table(tmp_path, 4), "--backend", "slurm", "--runs-per-task", "2", "-o", out)
    before = set(_squeue())

    first = _start(args, env, tmp_path / "first.err")
    _until(lambda: (out / "slurm" / "jobs.json").exists() and all(_recorded(out)), "the job to be recorded")
    ids = _recorded(out)
    _until(lambda: len(list(out.glob("*/waiting"))) >= 2, "the runs to start")
    _hang_up(first)
    assert first.returncode in (-signal.SIGHUP, -signal.SIGKILL)
    assert set(_squeue()) - before == set(ids), "the hang-up cancelled the job"

    said = tmp_path / "second.err"
    second = _start(args, env, said)
    _until(lambda: "attaching" in _text(said), "the second sweep to attach", 60)
    time.sleep(3)  # a few rounds of its wait: it must still submit nothing
    assert second.poll() is None, _text(said)
    assert set(_squeue()) - before == set(ids), "submitted a second job while the first one runs"
    assert _recorded(out) == ids
    second.kill()
    second.wait(timeout=10)
    assert f"attaching to the SLURM job(s) an earlier sweep submitted into {out}: {', '.join(ids)}" in _text(said)

    gate.touch()
    _until(lambda: not set(ids) & set(_squeue()), "the job to end", 180)
    assert not ran.exists() or len(ran.read_text().split()) == 4

    third = _sweep(*args, env=env)
    assert third.returncode == 0, third.stderr
    said = _said(third)
    assert "4 of 4 runs succeeded (0 run now, 4 by jobs submitted earlier, 0 already done)" in said, said
    assert [r["status"] for r in _rows(out)] == ["ok"] * 4
    assert sorted(ran.read_text().split()) == ["1.0", "2.0", "3.0", "4.0"], "a finished run ran again"
    assert set(_squeue()) - before <= set(ids) and _recorded(out) == ids

    fourth = _sweep(*args, env=env)
    assert fourth.returncode == 0 and "(0 run now, 4 already done)" in _said(fourth), fourth.stderr
    assert len(ran.read_text().split()) == 4


def test_ctrl_c_cancels_the_jobs_and_says_so_and_the_rows_name_cancelled(slurm, gated, tmp_path):
    """Ctrl-C (SIGINT) while the sweep waits cancels its job, says which, exits 130; the next sweep takes the runs
    that left their status (stopped: CANCELLED, from the task's log: the cluster keeps no accounting) and runs the
    ones that never started."""
    out = tmp_path / "study"
    gate = tmp_path / "gate"
    env = dict(os.environ, REPLAY_TEST_GATE=str(gate))
    args = (gated, "--table", _table(tmp_path, 3), "--backend", "slurm", "--runs-per-task", "3", "-o", out)
    proc = _start(args, env, tmp_path / "err")
    _until(lambda: (out / "Radius=1,Mode=ok" / "waiting").exists(), "the first run to start")
    ids = _recorded(out)
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=60)
    said = _text(tmp_path / "err")
    assert proc.returncode == 130, said
    assert f"cancelled SLURM job(s) {', '.join(ids)} (Ctrl-C)" in said, said
    _until(lambda: not set(ids) & set(_squeue()), "the job to be gone", 60)

    again = _sweep(*args)
    said = _said(again)
    assert again.returncode == 1, said
    rows = _rows(out)
    assert rows[0]["status"] == "failed" and rows[0]["slurm_state"] == "CANCELLED", rows[0]
    assert "stopped by SLURM (CANCELLED: the job was cancelled (scancel))" in rows[0]["error"]
    assert [r["status"] for r in rows[1:]] == ["ok", "ok"], rows
    assert "(2 run now, 1 by jobs submitted earlier, 0 already done)" in said, said


@pytest.fixture(scope="module")
def timing_out(slurm, gated, tmp_path_factory):
    """A study whose task outlives its one-minute --time-limit, submitted detached when the module starts: SLURM
    stops it while the other tests run (its timer looks every 30 s or so)."""
    folder = tmp_path_factory.mktemp("timeout")
    table = folder / "t.csv"
    table.write_text("Radius,Mode\n1,ok\n2,sleep\n3,ok\n")
    args = (gated, "--table", table, "--backend", "slurm", "--runs-per-task", "3", "--time-limit", "1",
            "-o", folder / "study")
    proc = _sweep(*args, "--detach")
    assert proc.returncode == 0, proc.stderr
    _TIMING_OUT.update(_recorded(folder / "study"))
    return folder / "study", args


@pytest.fixture(scope="module", autouse=True)
def _timing_out_early(request):
    if any(item.name == "test_timeout_is_named_in_the_row" for item in request.session.items):
        request.getfixturevalue("timing_out")


def test_timeout_is_named_in_the_row(timing_out):
    """A task past its --time-limit: SLURM stops it (TIMEOUT, read from the task's log: no accounting here). The
    attaching sweep names TIMEOUT in the row of the run that was running, and runs again the one after it, which
    the stopped task never started."""
    out, args = timing_out
    proc = _sweep(*args, timeout=400)
    assert proc.returncode == 1, proc.stderr
    rows = _rows(out)
    assert [r["status"] for r in rows] == ["ok", "failed", "ok"], rows
    assert rows[1]["slurm_state"] == "TIMEOUT", rows
    assert "stopped by SLURM (TIMEOUT: the task reached its time limit" in rows[1]["error"]
    assert "TIMEOUT" in (out / "manifest.csv").read_text()


def test_the_waiting_sweep_asks_squeue_less_and_less_often_and_still_ends_at_once(slurm, gated, tmp_path):
    """squeue asks the controller a whole cluster shares: while the runs are held (25 s), the waiting sweep asks it
    a handful of times, not every second; the runs' status files still end the wait as soon as the gate opens."""
    shim, calls = tmp_path / "bin", tmp_path / "squeue.calls"
    shim.mkdir()
    real = subprocess.run(["sh", "-c", "command -v squeue"], capture_output=True, text=True).stdout.strip()
    (shim / "squeue").write_text(f'#!/bin/sh\necho "$@" >> {calls}\nexec {real} "$@"\n')
    (shim / "squeue").chmod(0o755)
    out, gate = tmp_path / "study", tmp_path / "gate"
    env = dict(os.environ, PATH=f"{shim}:{os.environ['PATH']}", REPLAY_TEST_GATE=str(gate))
    args = (gated, "--table", _table(tmp_path, 2), "--backend", "slurm", "--runs-per-task", "2", "-o", out)
    said = tmp_path / "said.err"
    proc = _start(args, env, said)
    _until(lambda: (out / "Radius=1,Mode=ok" / "waiting").exists(), "the first run to start", 180)
    before = len(calls.read_text().splitlines())
    time.sleep(25)
    asked = len(calls.read_text().splitlines()) - before
    assert 2 <= asked <= 6, f"squeue asked {asked} times in 25 s"
    gate.touch()
    opened = time.monotonic()
    proc.wait(timeout=120)
    assert proc.returncode == 0, _text(said)
    assert time.monotonic() - opened < 15, "the wait did not end when the runs wrote their status"
    assert [r["status"] for r in _rows(out)] == ["ok", "ok"]
