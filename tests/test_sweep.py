"""replay sweep (local backend) under real pvbatch: grid, table, time=all, manifest, gallery, resume, worker."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from cdb import read_cdb, spec_d_problems
from pv import TRACES, assert_different_image, assert_same_image, run_pvbatch, run_replay
from replay.batch.gallery import read_data

pytestmark = pytest.mark.pvbatch

DATA = "/tmp/replay-fixtures/data"


@pytest.fixture(scope="module")
def scripts(tmp_path_factory, fixture_data):
    folder = tmp_path_factory.mktemp("sweep-scripts")
    contour = folder / "contour_replay.py"
    series = folder / "series_replay.py"
    for trace, out, extra in (("contour.py", contour, ["--param", "Isosurfaces"]), ("series_time.py", series, [])):
        proc = run_replay("convert", TRACES / trace, "-o", out, *extra)
        assert proc.returncode == 0, proc.stderr
    return {"contour": contour, "series": series}


@pytest.fixture(scope="module")
def hand_script(tmp_path_factory):
    """A small pvbatch script with a replay spec: fast, can fail or sleep on demand, writes a data file."""
    script = tmp_path_factory.mktemp("hand") / "sphere_replay.py"
    spec = {"source": "sphere.py", "parameters": [
        {"name": "Radius", "kind": "property", "proxy": "s", "property": "Radius", "default": 1.0, "line": 1,
         "type": "float", "nargs": None},
        {"name": "Fail", "kind": "property", "proxy": "s", "property": "Fail", "default": False, "line": 1,
         "type": "bool", "nargs": None},
        {"name": "Sleep", "kind": "property", "proxy": "s", "property": "Sleep", "default": 0.0, "line": 1,
         "type": "float", "nargs": None},
        {"name": "output-dir", "kind": "output", "proxy": None, "property": None, "default": None, "line": None}]}
    script.write_text("import json as _replay_json\n\n_REPLAY_SPEC = _replay_json.loads(r'''"
                      + json.dumps(spec, indent=1) + "''')\n" + textwrap.dedent("""\
        import argparse, os, time
        parser = argparse.ArgumentParser()
        parser.add_argument("--Radius", type=float, default=1.0)
        parser.add_argument("--Fail", default="false")
        parser.add_argument("--Sleep", type=float, default=0.0)
        parser.add_argument("--output-dir", dest="out", default=".")
        args = parser.parse_args()
        from paraview.simple import Sphere, SaveData
        sphere = Sphere(Radius=args.Radius)
        time.sleep(args.Sleep)
        if args.Fail == "true":
            raise RuntimeError("asked to fail at radius %s" % args.Radius)
        SaveData(os.path.join(args.out, "sphere.csv"), proxy=sphere)
    """))
    return script


def _manifest(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text())


@pytest.fixture(scope="module")
def grid_study(scripts, tmp_path_factory):
    """One worker sweep: 3 contour values x 2 files (a glob), -j 2."""
    out = tmp_path_factory.mktemp("grid") / "study"
    proc = run_replay("sweep", scripts["contour"], "--grid", "Isosurfaces=100,150,200",
                      "--grid", f"FileName={DATA}/wave*.vti", "-j", "2", "-o", out, timeout=300)
    return out, proc


def test_grid_sweep_manifest_and_gallery(grid_study):
    out, proc = grid_study
    assert proc.returncode == 0, proc.stderr
    assert "9 of 9 runs succeeded" in proc.stderr.replace("\n", " ")
    runs = _manifest(out)["runs"]
    # The glob expands to the matching files, naturally sorted; the folder names what differs.
    files = sorted({r["params"]["FileName"] for r in runs})
    assert files == [f"{DATA}/wave copy é.vti", f"{DATA}/wave.vti", f"{DATA}/wave_big.vti"]
    folders = {r["folder"] for r in runs}
    assert "Isosurfaces=150,FileName=wave_big.vti" in folders
    assert "Isosurfaces=100,FileName=wave_copy_.vti" in folders
    for row in runs:
        assert row["status"] == "ok" and row["returncode"] == 0 and row["error"] is None
        assert row["outputs"] == ["contour.png"] and (out / row["folder"] / "contour.png").is_file()
        assert row["seconds"] > 0
    csv_lines = (out / "manifest.csv").read_text().splitlines()
    assert csv_lines[0] == "folder,Isosurfaces,FileName,status,returncode,seconds,outputs,error"
    assert len(csv_lines) == 10
    page = (out / "index.html").read_text()
    gallery = read_data(page)  # the browser test (test_gallery.py) shows what the page makes of it
    assert gallery["params"] == ["Isosurfaces", "FileName"] and gallery["images"] == ["contour.png"]
    assert sorted(r[0] for r in gallery["runs"]) == sorted(r["folder"] for r in runs)
    assert gallery["labels"][1] == ["wave copy é.vti", "wave.vti", "wave_big.vti"]
    assert "http://" not in page and "https://" not in page
    # The folder is a Cinema database too.
    header, table = read_cdb(out)
    assert header == ["Isosurfaces", "FileName", "status", "FILE"] and spec_d_problems(out, header, table) == []
    assert sorted((r["Isosurfaces"], r["FileName"], r["FILE"]) for r in table) == sorted(
        (r["params"]["Isosurfaces"], r["params"]["FileName"], f"{out}/{r['folder']}/contour.png") for r in runs)


def test_worker_keeps_the_reader_for_property_only_runs(grid_study):
    """The reader's algorithm executes once per file; contour values alone only re-execute the contour."""
    out, _ = grid_study
    runs = _manifest(out)["runs"]
    kept = [r for r in runs if r["pipeline"] == "kept"]
    # 3 files on 2 workers: each worker serves whole files, so only a file's first run builds a pipeline.
    assert len(kept) == 6, [(r["folder"], r["pipeline"]) for r in runs]
    for row in runs:
        reads = row["executions"].get("XMLImageDataReader#0", 0)
        assert reads == (0 if row["pipeline"] == "kept" else 1), row
        assert row["executions"].get("Contour#0") == 1, row


def test_worker_images_equal_separate_runs(grid_study, scripts, tmp_path):
    out, _ = grid_study
    runs = _manifest(out)["runs"]
    # Runs that reused a kept pipeline are the ones that could drift from a fresh pvbatch.
    kept = [r for r in runs if r["executions"].get("XMLImageDataReader#0", 0) == 0]
    chosen = [next(r for r in kept if r["params"]["FileName"].endswith(f)) for f in ("wave.vti", "wave_big.vti")]
    for i, row in enumerate(chosen):
        alone = tmp_path / str(i)
        run_pvbatch(scripts["contour"], "--Isosurfaces", row["params"]["Isosurfaces"],
                    "--FileName", row["params"]["FileName"], "--output-dir", alone)
        assert_same_image(out / row["folder"] / "contour.png", alone / "contour.png")
    assert_different_image(out / chosen[0]["folder"] / "contour.png", out / chosen[1]["folder"] / "contour.png")


def test_time_all_runs_every_step(scripts, tmp_path):
    out = tmp_path / "movie"
    proc = run_replay("sweep", scripts["series"], "--grid", "time=all", "-o", out, timeout=300)
    assert proc.returncode == 0, proc.stderr
    runs = _manifest(out)["runs"]
    assert [r["params"]["time"] for r in runs] == ["0.0", "1.0", "2.0", "3.0", "4.0"]
    assert [r["folder"] for r in runs] == [f"time={t}.0" for t in range(5)]
    # One worker reads each step once: the recording shows the data at step 0 before it sets the time, and the
    # worker gives kept runs the step 0 it kept instead of reading it again (a fresh pvbatch run reads both).
    # The slice's colours are fitted to step 0's range, so a wrong step 0 shows in the image compared below.
    assert [r["pipeline"] for r in runs] == ["new"] + ["kept"] * 4
    assert [r["executions"]["XMLImageDataReader#0"] for r in runs] == [1, 1, 1, 1, 1]
    assert_different_image(out / "time=0.0" / "series_t2.png", out / "time=4.0" / "series_t2.png")
    alone = tmp_path / "alone"
    run_pvbatch(scripts["series"], "--time", "3", "--output-dir", alone)
    assert_same_image(out / "time=3.0" / "series_t2.png", alone / "series_t2.png")
    assert (out / "time=3.0" / "slice_t2.csv").read_text() == (alone / "slice_t2.csv").read_text()


def test_table_failure_isolation_and_errors(hand_script, tmp_path):
    table = tmp_path / "cases.csv"
    table.write_text("Radius,Fail\n1,false\n2,true\n3,\n")
    out = tmp_path / "study"
    proc = run_replay("sweep", hand_script, "--table", table, "-o", out)
    assert proc.returncode == 1
    runs = _manifest(out)["runs"]
    assert [(r["folder"], r["status"]) for r in runs] == [
        ("Radius=1,Fail=false", "ok"), ("Radius=2,Fail=true", "failed"), ("Radius=3", "ok")]
    assert runs[1]["error"] == "pvbatch exited with 1: RuntimeError: asked to fail at radius 2.0"
    assert runs[1]["outputs"] == [] and runs[2]["outputs"] == ["sphere.csv"]
    assert "failed Radius=2,Fail=true" in proc.stderr

    bad = tmp_path / "bad.yaml"
    bad.write_text("- Radius: 1\n- Radius: big\n")
    proc = run_replay("sweep", hand_script, "--table", bad, "-o", tmp_path / "never")
    assert proc.returncode == 2 and proc.stderr.strip() == f"{bad}:2:1: Radius wants float values, not 'big'"
    unknown = tmp_path / "unknown.csv"
    unknown.write_text("# cases\nRadius,Colour\n1,red\n")
    proc = run_replay("sweep", hand_script, "--table", unknown, "-o", tmp_path / "never")
    assert proc.returncode == 2 and proc.stderr.startswith(f"{unknown}:2:1: the script has no parameter 'Colour'")
    proc = run_replay("sweep", hand_script, "--grid", "Radius=1,x", "-o", tmp_path / "never")
    assert proc.returncode == 2 and "--grid Radius: Radius wants float values, not 'x'" in proc.stderr
    assert not (tmp_path / "never").exists()


def test_sigkill_mid_sweep_resumes_and_force_reruns(hand_script, tmp_path):
    out = tmp_path / "study"
    command = [sys.executable, "-m", "replay", "sweep", str(hand_script), "--grid", "Radius=1,2,3,4,5,6",
               "--grid", "Sleep=0.7", "-o", str(out)]
    sweeper = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    done = []
    while time.monotonic() < deadline:
        try:
            done = [r for r in _manifest(out)["runs"] if r["status"] == "ok"]
        except (OSError, ValueError):
            pass  # not written yet; a half-written manifest would fail below, not here
        if len(done) >= 2:
            break
        time.sleep(0.05)
    sweeper.send_signal(signal.SIGKILL)
    sweeper.wait()
    runs = _manifest(out)["runs"]  # whole JSON: the manifest is replaced atomically after every run
    finished = {r["folder"]: (out / r["folder"] / "sphere.csv").stat().st_mtime_ns for r in runs
                if r["status"] == "ok"}
    assert 2 <= len(finished) < 6, runs
    assert {r["status"] for r in runs} <= {"ok", "pending"}

    proc = run_replay("sweep", hand_script, "--grid", "Radius=1,2,3,4,5,6", "--grid", "Sleep=0.7", "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert f"{len(finished)} of 6 runs already succeeded" in proc.stderr.replace("\n", " ")
    runs = _manifest(out)["runs"]
    assert [r["status"] for r in runs] == ["ok"] * 6
    assert _cinema_rows(out) == _manifest_rows(out)  # the resumed sweep rewrote data.csv with the manifest
    for folder, stamp in finished.items():
        assert (out / folder / "sphere.csv").stat().st_mtime_ns == stamp, f"{folder} was run again"

    proc = run_replay("sweep", hand_script, "--grid", "Radius=1,2,3,4,5,6", "--grid", "Sleep=0.7", "-o", out)
    assert proc.returncode == 0 and "6 of 6 runs already succeeded" in proc.stderr.replace("\n", " ")
    proc = run_replay("sweep", hand_script, "--grid", "Radius=1,2", "--grid", "Sleep=0.7", "-o", out, "--force")
    assert proc.returncode == 0, proc.stderr
    for folder, stamp in finished.items():
        if folder.startswith(("Radius=1,", "Radius=2,")):
            assert (out / folder / "sphere.csv").stat().st_mtime_ns != stamp
    assert [r["status"] for r in _manifest(out)["runs"]] == ["ok"] * 6  # untouched runs keep their rows
    assert _cinema_rows(out) == _manifest_rows(out)


def _cinema_rows(out):
    header, table = read_cdb(out)
    assert spec_d_problems(out, header, table) == []
    return sorted((float(r["Radius"]), float(r["Sleep"]), r["status"]) for r in table)


def _manifest_rows(out):
    return sorted((float(r["params"]["Radius"]), float(r["params"]["Sleep"]), r["status"])
                  for r in _manifest(out)["runs"])


def test_cinema_database_named_cdb(hand_script, tmp_path):
    out = tmp_path / "radius.cdb"
    proc = run_replay("sweep", hand_script, "--grid", "Radius=1,2", "--grid", "Sleep=0", "--cinema", out)
    assert proc.returncode == 0, proc.stderr
    assert _cinema_rows(out) == _manifest_rows(out) == [(1.0, 0.0, "ok"), (2.0, 0.0, "ok")]


def test_sweep_never_writes_over_other_results(hand_script, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    (other / "precious.txt").write_text("mine")
    proc = run_replay("sweep", hand_script, "--grid", "Radius=1", "-o", other)
    assert proc.returncode == 1 and "holds no sweep manifest" in proc.stderr
    assert sorted(os.listdir(other)) == ["precious.txt"]
    proc = run_replay("sweep", hand_script, "--grid", "Radius=1", "--pvbatch", "/nonexistent", "-o", tmp_path / "x")
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1 and "pvbatch not found" in proc.stderr
    assert not (tmp_path / "x").exists()


def test_library_sweep_with_variants(hand_script, tmp_path):
    import replay

    result = replay.sweep(hand_script, [{"Radius": 1.5}, {"Radius": 2.5, "Sleep": 0}], out_dir=tmp_path / "lib",
                          separate=True)
    assert result.ok and result.ran == 2
    assert [r["folder"] for r in result.rows] == ["Radius=1.5", "Radius=2.5,Sleep=0"]
    first = (tmp_path / "lib" / "Radius=1.5" / "sphere.csv").read_text()
    second = (tmp_path / "lib" / "Radius=2.5,Sleep=0" / "sphere.csv").read_text()
    assert first != second


def test_ctrl_c_stops_cleanly_and_keeps_finished_runs(hand_script, tmp_path):
    out = tmp_path / "study"
    command = [sys.executable, "-m", "replay", "sweep", str(hand_script), "--grid", "Radius=1,2,3,4,5,6",
               "--grid", "Sleep=1", "-o", str(out)]
    # A child inherits SIGINT as ignored when pytest runs in the background: give it the default back.
    sweeper = subprocess.Popen(command, stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if any(r["status"] == "ok" for r in _manifest(out)["runs"]):
                break
        except (OSError, ValueError):
            pass
        time.sleep(0.05)
    sweeper.send_signal(signal.SIGINT)
    start = time.monotonic()
    _, err = sweeper.communicate(timeout=60)
    assert sweeper.returncode == 130 and time.monotonic() - start < 15
    assert "interrupted: finished runs are in" in err and "Traceback" not in err
    statuses = [r["status"] for r in _manifest(out)["runs"]]
    assert "ok" in statuses and "interrupted" in statuses and set(statuses) <= {"ok", "interrupted"}


def test_kept_pipeline_matches_separate_runs_for_layouts_and_animations(tmp_path, fixture_data):
    """Two views in a layout, and a saved animation over time: the second (kept) run equals a fresh pvbatch."""
    import replay
    from replay.batch.worker import Worker

    worker = Worker()
    try:
        for trace in ("layout_two_views.py", "save_animation.py"):
            script = tmp_path / trace.replace(".py", "_replay.py")
            assert run_replay("convert", TRACES / trace, "-o", script, "-q").returncode == 0
            results = [worker.run(script, ["--output-dir", str(tmp_path / trace / f"w{i}")], session=trace)
                       for i in range(2)]
            assert [r.returncode for r in results] == [0, 0] and [r.reset for r in results] == [True, False]
            alone = tmp_path / trace / "alone"
            assert replay.run(script, {"output-dir": alone}).ok
            outputs = sorted(os.listdir(alone))
            assert results[1].outputs == outputs and len(outputs) >= 2
            for name in outputs:
                kept = tmp_path / trace / "w1" / name
                if name.endswith(".png"):
                    assert_same_image(kept, alone / name)
                else:
                    assert kept.read_bytes() == (alone / name).read_bytes()
    finally:
        worker.stop()


def test_mpi_sweep_keeps_the_pipeline_and_equals_separate_mpiexec_runs(scripts, tmp_path):
    """--mpi 2: one `mpiexec -n 2 pvbatch` worker serves the 3 runs (its Python lives on rank 0, the other rank
    serves the distributed data); the reader runs once, and every image equals a separate `mpiexec` run's."""
    out = tmp_path / "mpi"
    proc = run_replay("sweep", scripts["contour"], "--grid", "Isosurfaces=100,150,200",
                      "--grid", f"FileName={DATA}/wave.vti", "--mpi", "2", "--timeout", "150", "-o", out,
                      timeout=600)
    assert proc.returncode == 0, proc.stderr
    runs = _manifest(out)["runs"]
    assert [r["pipeline"] for r in runs] == ["new", "kept", "kept"], runs
    reads = [r["executions"].get("XMLImageDataReader#0", 0) for r in runs]
    # A fresh MPI pipeline executes twice on rank 0 (once more for the distributed render's piece request),
    # as a separate mpiexec run does; the kept ones do not read at all.
    assert reads[0] >= 1 and reads[1:] == [0, 0], reads
    assert all(r["executions"].get("Contour#0", 0) >= 1 for r in runs)
    for row in (runs[0], runs[2]):
        alone = tmp_path / row["folder"]
        run_pvbatch(scripts["contour"], "--Isosurfaces", row["params"]["Isosurfaces"],
                    "--FileName", row["params"]["FileName"], "--output-dir", alone, mpi=2, timeout=300)
        assert_same_image(out / row["folder"] / "contour.png", alone / "contour.png")
    assert_different_image(out / runs[0]["folder"] / "contour.png", out / runs[2]["folder"] / "contour.png")
