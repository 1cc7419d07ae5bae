"""Faults never pass as success: a full disk, a read-only file system, a damaged manifest, a pvbatch killed while
writing. Real ones: small tmpfs mounts (the tests run as root, as CI does), real pvbatch, real SLURM.

Each case asserts the exit code, the one line the user gets, that no run lacking its outputs is `ok`, and that
the same command completes the study after the fault is gone, running only the runs that had no valid result."""
from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest
from PIL import Image

from pv import TRACES, run_replay

pytestmark = pytest.mark.pvbatch

STATUS = ".replay-status.json"
VALUES = "Isosurfaces=100,120,140,160,180,200,220,240"


@contextlib.contextmanager
def tmpfs(folder: Path, size: str):
    """A tmpfs of `size` at folder, unmounted at the end whatever happened."""
    assert os.geteuid() == 0, "mounting a tmpfs needs root (CI runs the tests as root)"
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], check=True)
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def remount(folder: Path, options: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{options}", str(folder)], check=True)


def fill(folder: Path, size: int) -> None:
    with contextlib.suppress(OSError):
        (folder / ".filler").write_bytes(b"\0" * size)


def whole_image(path: Path) -> bool:
    try:
        with Image.open(path) as image:
            image.load()
        return True
    except (OSError, SyntaxError):
        return False


def last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def assert_no_ok_without_outputs(study: Path) -> dict:
    """Every run that says ok, in its status file or in a readable manifest, has whole outputs. Returns
    {folder: status} of the run folders."""
    found = {}
    for status_file in study.glob(f"*/{STATUS}"):
        found[status_file.parent.name] = status = json.loads(status_file.read_text())
        if status["returncode"] == 0 and not status.get("error"):
            assert status["outputs"], status_file
            for name in status["outputs"]:
                assert whole_image(status_file.parent / name), f"{status_file.parent / name} is not whole"
    with contextlib.suppress(OSError, ValueError):
        for row in json.loads((study / "manifest.json").read_text())["runs"]:
            if row["status"] == "ok":
                assert row["outputs"] and all(whole_image(study / row["folder"] / o) for o in row["outputs"]), row
    return found


def good_runs(found: dict) -> int:
    return sum(1 for s in found.values() if s["returncode"] == 0 and not s.get("error"))


def ran_now(stderr: str) -> int:
    m = re.search(r"\((\d+) run now, (\d+) already done\)", stderr)
    assert m, stderr
    return int(m.group(1))


@pytest.fixture(scope="module")
def script(tmp_path_factory, fixture_data, recorded_out):
    out = tmp_path_factory.mktemp("faults") / "contour_replay.py"
    proc = run_replay("convert", TRACES / "contour.py", "--param", "Isosurfaces", "-o", out)
    assert proc.returncode == 0, proc.stderr
    return out


def test_run_full_disk_read_only_then_fixed(script, tmp_path):
    """replay run: the picture ParaView could not write is exit 1 and one line naming it with ParaView's own
    error; 5.13+ leaves an empty file and says nothing, which is caught all the same."""
    with tmpfs(tmp_path / "disk", "20k") as disk:
        fill(disk, 16000)
        out = disk / "out"
        proc = run_replay("run", script, "--output-dir", out, timeout=300)
        assert proc.returncode == 1, proc.stderr
        assert "Traceback" not in proc.stderr
        line = last_line(proc.stderr)
        assert line.startswith(f"{script}: pvbatch exited with 1: replay: SaveScreenshot failed to write "
                               f"{out}/contour.png (nothing was written): vtkPNGWriter: Ran out of disk space"), line
        assert re.search(r"; the disk is full \(\d+ KiB free in ", line), line
        assert not (out / "contour.png").exists()

        newer = "/var/lib/replay/paraview/bin/pvbatch-6.1"
        proc = run_replay("run", script, "--pvbatch", newer, "--output-dir", out, timeout=300)
        assert proc.returncode == 1, proc.stderr
        assert re.search(r": replay: SaveScreenshot failed to write \S+/contour.png \((it is empty|it is cut short "
                         r"\(\d+ bytes\)|nothing was written)\).*; the disk is full", last_line(proc.stderr)), \
            proc.stderr

        (disk / ".filler").unlink()
        remount(disk, "ro")
        proc = run_replay("run", script, "--output-dir", disk, timeout=300)
        assert proc.returncode == 1, proc.stderr
        line = last_line(proc.stderr)
        assert f"replay: SaveScreenshot failed to write {disk}/contour.png (nothing was written): vtkPNGWriter: " \
               f"Unable to open file {disk}/contour.png" in line, line
        assert line.endswith(f"; {disk} is on a read-only file system"), line

        remount(disk, "rw,size=2m")
        proc = run_replay("run", script, "--output-dir", out, timeout=300)
        assert proc.returncode == 0, proc.stderr
        assert whole_image(out / "contour.png")


@pytest.mark.parametrize("mode", ["kept", "separate"])
def test_sweep_fills_the_disk_then_completes(script, tmp_path, mode):
    """A sweep into a folder that fills up: one line (folder, error, what finished), exit 1, no traceback; every
    run that says ok has its picture; with space back the same command runs exactly the runs left."""
    extra = ["--separate", "-j", "2"] if mode == "separate" else []
    values = VALUES if mode == "kept" else "Isosurfaces=100,140,180,220"
    with tmpfs(tmp_path / "disk", "120k" if mode == "kept" else "64k") as disk:
        study = disk / "study"
        command = ["sweep", script, "--grid", values, "-o", study, *extra]
        proc = run_replay(*command, timeout=600)
        assert proc.returncode == 1, proc.stderr
        assert "Traceback" not in proc.stderr and "Exception in thread" not in proc.stderr
        line = last_line(proc.stderr)
        planned = len(values.split("=", 1)[1].split(","))
        assert re.fullmatch(rf"{study}: cannot write the sweep's records: the disk is full \(\[Errno 28\] No space "
                            rf"left on device\); stopped starting runs: \d+ of {planned} finished \(\d+ succeeded\), "
                            rf"\d+ not done; each run folder's {STATUS} keeps its result: once there is space, the "
                            "same command does the rest", line), line
        found = assert_no_ok_without_outputs(study)
        good = good_runs(found)
        assert 0 < good < planned, found

        remount(disk, "size=4m")
        proc = run_replay(*command, timeout=600)
        assert proc.returncode == 0, proc.stderr
        assert ran_now(proc.stderr) == planned - good, proc.stderr
        assert good_runs(assert_no_ok_without_outputs(study)) == planned
        rows = json.loads((study / "manifest.json").read_text())["runs"]
        assert [r["status"] for r in rows] == ["ok"] * planned


def test_damaged_or_missing_manifest_is_rebuilt(script, tmp_path):
    """The run folders are the truth: a truncated manifest is kept aside and rebuilt from them, and only the run
    whose picture is gone runs again; a missing one is rebuilt too."""
    study = tmp_path / "study"
    command = ["sweep", script, "--grid", "Isosurfaces=100,150,200", "-o", study]
    assert run_replay(*command, timeout=300).returncode == 0
    text = (study / "manifest.json").read_text()
    (study / "manifest.json").write_text(text[:len(text) // 2])  # a crash without atomic renames
    (study / "Isosurfaces=150" / "contour.png").unlink()

    proc = run_replay(*command, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert f"{study}/manifest.json: is not a replay sweep manifest (cannot read it as JSON: " in proc.stderr
    assert "; kept it as manifest.json.damaged and rebuilt the manifest from 3 run folders" in proc.stderr
    assert (study / "manifest.json.damaged").read_text() == text[:len(text) // 2]
    assert ran_now(proc.stderr) == 1
    rows = json.loads((study / "manifest.json").read_text())["runs"]
    assert [(r["folder"], r["status"], r["params"]) for r in rows] == [
        (f"Isosurfaces={v}", "ok", {"Isosurfaces": v}) for v in ("100", "150", "200")]
    assert_no_ok_without_outputs(study)

    (study / "manifest.json").unlink()
    proc = run_replay(*command, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert f"{study}: no manifest.json; rebuilt it from 3 run folders" in proc.stderr
    assert ran_now(proc.stderr) == 0


HALF_WRITER = textwrap.dedent('''\
    import json as _replay_json

    _REPLAY_SPEC = _replay_json.loads(r\'\'\'{"source": "half.py", "parameters": [
     {"name": "Radius", "kind": "property", "proxy": "s", "property": "Radius", "default": 1.0, "line": 1,
      "type": "float", "nargs": null},
     {"name": "output-dir", "kind": "output", "proxy": null, "property": null, "default": null, "line": null}]}\'\'\')
    import argparse, os, signal
    parser = argparse.ArgumentParser()
    parser.add_argument("--Radius", type=float, default=1.0)
    parser.add_argument("--output-dir", dest="out", default=".")
    args = parser.parse_args()
    from paraview.simple import Sphere, SaveData
    path = os.path.join(args.out, "sphere.csv")
    if args.Radius == 2 and not os.path.exists(os.path.join(os.path.dirname(args.out), "fixed")):
        with open(path, "w") as half:
            half.write("Points:0,Points:1")
            half.flush()
            os.kill(os.getpid(), signal.SIGKILL)  # pvbatch killed in the middle of writing its output
    SaveData(path, proxy=Sphere(Radius=args.Radius))
''')


def test_pvbatch_killed_mid_write(tmp_path):
    """The half-written file of a killed pvbatch never makes its run ok; the next sweep runs that one alone."""
    script = tmp_path / "half_replay.py"
    script.write_text(HALF_WRITER)
    study = tmp_path / "study"
    command = ["sweep", script, "--grid", "Radius=1,2,3", "-o", study]
    proc = run_replay(*command, timeout=300)
    assert proc.returncode == 1, proc.stderr
    assert re.search(r"failed Radius=2: pvbatch was killed by SIGKILL .*pvbatch worker died", proc.stderr), \
        proc.stderr
    assert last_line(proc.stderr).startswith("2 of 3 runs succeeded (3 run now, 0 already done)")
    rows = {r["folder"]: r for r in json.loads((study / "manifest.json").read_text())["runs"]}
    assert rows["Radius=2"]["status"] == "failed" and rows["Radius=1"]["status"] == "ok"
    assert json.loads((study / "Radius=2" / STATUS).read_text())["returncode"] != 0

    (study / "fixed").write_text("")
    proc = run_replay(*command, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert ran_now(proc.stderr) == 1
    assert (study / "Radius=2" / "sphere.csv").read_text().count("\n") > 10


def test_slurm_status_on_a_full_folder(script, tmp_path):
    """A SLURM task whose run folder is full: that run fails with the task's own words, the task starts no
    more runs (they would fail alike) and says so for them, and the same command later submits only the runs
    left."""
    assert shutil.which("sbatch"), "sbatch missing: run .ci/setup and .ci/slurm-up"
    study = tmp_path / "study"
    first = ["sweep", script, "--backend", "slurm", "-o", study, "--runs-per-task", "3"]
    assert run_replay(*first, "--grid", "Isosurfaces=100", timeout=600).returncode == 0
    command = [*first, "--grid", "Isosurfaces=100,140,180"]
    with tmpfs(study / "Isosurfaces=140", "8k") as full:
        fill(full, 8192)
        proc = run_replay(*command, timeout=600)
        assert proc.returncode == 1, proc.stderr
        assert "Traceback" not in proc.stderr
        assert re.search(r"failed Isosurfaces=140: .*array task 0 of job \d+ could not write this run's status: \[Errno 28\] "
                         r"No space left on device; see \S+\.out", proc.stderr), proc.stderr
        assert re.search(rf"failed Isosurfaces=180: .*not run: array task 0 of job \d+ stopped when it could not write the "
                         rf"status of {full}: \[Errno 28\]", proc.stderr), proc.stderr
        assert last_line(proc.stderr).startswith("1 of 3 runs succeeded (2 run now, 1 already done)"), proc.stderr
        rows = {r["folder"]: r for r in json.loads((study / "manifest.json").read_text())["runs"]}
        assert rows["Isosurfaces=140"]["status"] == rows["Isosurfaces=180"]["status"] == "failed"
    found = assert_no_ok_without_outputs(study)
    assert good_runs(found) == 1  # the mount hid nothing: 140 has no status underneath
    proc = run_replay(*command, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert ran_now(proc.stderr) == 2
    assert good_runs(assert_no_ok_without_outputs(study)) == 3
