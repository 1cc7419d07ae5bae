"""One sweep at a time per folder (replay/sweep_lock.py): two real concurrent sweeps under pvbatch, a sweep
killed with SIGKILL, and the lock on its own."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pv import TRACES, run_replay

from replay.errors import OutputError
from replay.batch.sweep_lock import LOCK_NAME, FolderLocked, _acquire_exclusive, sweep_lock

GRID = ["--grid", "Isosurfaces=100,140,180"]


def _sweep_command(script, out, *extra) -> list[str]:
    return [sys.executable, "-m", "replay", "sweep", str(script), *GRID, "-o", str(out), *extra]


def _wait_for_holder(lock: Path, proc: subprocess.Popen, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        try:
            holder = json.loads(lock.read_text())
            if holder.get("pid") == proc.pid:
                return holder
        except (OSError, ValueError):
            pass
        time.sleep(0.02)
    raise AssertionError(f"{lock} never named pid {proc.pid}")


@pytest.fixture(scope="module")
def contour_script(tmp_path_factory, fixture_data):
    script = tmp_path_factory.mktemp("lock-script") / "contour_replay.py"
    proc = run_replay("convert", TRACES / "contour.py", "--param", "Isosurfaces", "-o", script, "-q")
    assert proc.returncode == 0, proc.stderr
    return script


@pytest.fixture(scope="module")
def concurrent(contour_script, tmp_path_factory):
    """Sweep A; while it runs, the same sweep B (refused) and C with --wait (starts when A has ended)."""
    out = tmp_path_factory.mktemp("concurrent") / "study"
    first = subprocess.Popen(_sweep_command(contour_script, out), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    _wait_for_holder(out / LOCK_NAME, first)
    second = subprocess.run(_sweep_command(contour_script, out), capture_output=True, text=True, timeout=120)
    a_running_after_b = first.poll() is None
    third = subprocess.Popen(_sweep_command(contour_script, out, "--wait"), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    a_out, a_err = first.communicate(timeout=300)
    stamps = {p.relative_to(out).as_posix(): p.stat().st_mtime_ns for p in out.rglob("*.png")}
    c_out, c_err = third.communicate(timeout=300)
    return {"out": out, "a": (first.returncode, a_err), "b": second, "c": (third.returncode, c_err),
            "a_pid": first.pid, "a_running_after_b": a_running_after_b, "stamps": stamps}


@pytest.mark.pvbatch
def test_second_sweep_into_the_same_folder_is_refused_naming_the_first(concurrent):
    b = concurrent["b"]
    assert concurrent["a_running_after_b"]
    assert b.returncode == 1
    lines = b.stderr.strip().splitlines()
    assert len(lines) == 1, b.stderr
    assert f"another sweep is writing into this folder: pid {concurrent['a_pid']} (replay sweep " in lines[0]
    assert lines[0].startswith(str(concurrent["out"])) and "--wait" in lines[0]
    assert "Traceback" not in b.stderr


@pytest.mark.pvbatch
def test_first_sweep_runs_alone_and_a_waiting_sweep_starts_after_it(concurrent):
    out = concurrent["out"]
    code, err = concurrent["a"]
    assert code == 0, err
    manifest = json.loads((out / "manifest.json").read_text())
    assert [r["status"] for r in manifest["runs"]] == ["ok"] * 3
    assert len(concurrent["stamps"]) == 3
    code, err = concurrent["c"]
    assert code == 0, err
    text = " ".join(err.split())
    assert f"waiting for the sweep writing into {out} to finish: pid {concurrent['a_pid']}" in text
    assert "3 of 3 runs already succeeded" in text  # it started after A: nothing left to write
    for name, stamp in concurrent["stamps"].items():
        assert (out / name).stat().st_mtime_ns == stamp, f"{name} was written twice"
    assert not (out / LOCK_NAME).exists()


@pytest.mark.pvbatch
def test_lock_left_by_a_killed_sweep_is_taken_over(contour_script, tmp_path):
    out = tmp_path / "study"
    killed = subprocess.Popen(_sweep_command(contour_script, out), stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    _wait_for_holder(out / LOCK_NAME, killed)
    deadline = time.monotonic() + 120
    while not (out / "manifest.json").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    killed.send_signal(signal.SIGKILL)  # as `kill -9`: no clean-up, its pvbatch worker is left to end alone
    killed.wait()
    assert json.loads((out / LOCK_NAME).read_text())["pid"] == killed.pid
    proc = run_replay("sweep", contour_script, *GRID, "-o", out, timeout=300)
    assert proc.returncode == 0, proc.stderr
    text = " ".join(proc.stderr.split())
    assert f"took over the lock of a sweep that is no longer running: pid {killed.pid}" in text
    assert [r["status"] for r in json.loads((out / "manifest.json").read_text())["runs"]] == ["ok"] * 3
    assert not (out / LOCK_NAME).exists()


# -- the lock alone (no pvbatch) ------------------------------------------------------------------------------

def test_lock_refuses_while_held_and_is_free_after(tmp_path):
    folder = tmp_path / "study"
    with sweep_lock(folder):
        assert json.loads((folder / LOCK_NAME).read_text())["pid"] == os.getpid()
        with pytest.raises(FolderLocked) as info:
            with sweep_lock(folder):
                pass
        assert f"pid {os.getpid()}" in str(info.value) and str(info.value).startswith(str(folder))
    assert not (folder / LOCK_NAME).exists()
    with sweep_lock(folder):  # free again
        pass


def test_waiting_lock_gets_the_folder_when_the_holder_lets_go(tmp_path):
    folder = tmp_path / "study"
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time\nfrom replay.batch.sweep_lock import sweep_lock\n"
        f"with sweep_lock({str(folder)!r}):\n    print('held', flush=True)\n    time.sleep(1.5)\n")],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])})
    assert holder.stdout.readline() == "held\n"
    waited = []
    start = time.monotonic()
    with sweep_lock(folder, wait=True, on_wait=waited.append):
        took = time.monotonic() - start
        assert holder.wait(10) == 0
    assert took > 0.5 and len(waited) == 1 and f"pid {holder.pid}" in waited[0]


def test_a_refused_plan_leaves_no_folder_behind(tmp_path, contour_script):
    out = tmp_path / "new" / "study"
    proc = run_replay("sweep", contour_script, "--grid", "Isosurfaces=abc", "-o", out)
    assert proc.returncode == 2 and "Isosurfaces" in proc.stderr
    assert not out.exists()


def test_a_file_in_place_of_the_folder_is_one_error(tmp_path):
    (tmp_path / "study").write_text("x")
    with pytest.raises(OutputError, match="exists and is not a folder"):
        with sweep_lock(tmp_path / "study"):
            pass


def test_without_flock_a_lock_of_a_dead_pid_is_stale(tmp_path):
    """The fallback for file systems without flock: the file is the lock, its holder's pid says if it is stale."""
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    lock = tmp_path / LOCK_NAME
    lock.write_text(json.dumps({"pid": dead.pid, "host": os.uname().nodename, "command": "replay sweep x"}))
    stale = []
    fd = _acquire_exclusive(lock, False, None, stale.append, 0.01)
    try:
        assert json.loads(lock.read_text())["pid"] == os.getpid()
        assert len(stale) == 1 and f"pid {dead.pid}" in stale[0]
        with pytest.raises(FolderLocked, match=f"pid {os.getpid()}"):
            _acquire_exclusive(lock, False, None, None, 0.01)
    finally:
        os.close(fd)
