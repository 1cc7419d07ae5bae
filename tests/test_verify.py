"""`replay verify`: real pvbatch runs of the recording and its replay, real pvpython comparisons.

Each verify costs two pvbatch runs and one pvpython run, so each module fixture runs one verify and
several tests read its outcome.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pv import STATES, TRACES, image_difference, run_replay

pytestmark = pytest.mark.pvbatch

WIDE = {"COLUMNS": "250"}  # rich folds table cells at 80 columns; the tests read whole cells


def verify_cli(*args, cwd=None):
    env = dict(os.environ, **WIDE)
    return subprocess.run([sys.executable, "-m", "replay", "verify", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


def table_rows(stdout: str) -> dict:
    """output name -> (kind, result, difference) from the rich table."""
    rows = {}
    for line in stdout.splitlines():
        cells = [c.strip() for c in re.split(r"[│┃]", line)[1:-1]]
        if len(cells) == 4 and cells[2] in ("same", "differs"):
            rows[cells[0]] = (cells[1], cells[2], cells[3])
    return rows


def kept_folder(stdout: str) -> Path:
    m = re.search(r"logs in (\S+)", stdout)
    assert m, stdout
    return Path(m.group(1))


# -- the recording and its replay match ----------------------------------------------------------

@pytest.fixture(scope="module")
def contour_verified(fixture_data, tmp_path_factory):
    proc = verify_cli(TRACES / "contour.py", "--keep", cwd=tmp_path_factory.mktemp("verify"))
    yield proc
    if proc.returncode in (0, 1) and "logs in" in proc.stdout:
        shutil.rmtree(kept_folder(proc.stdout), ignore_errors=True)


def test_verify_passes_on_the_contour_fixture(contour_verified):
    proc = contour_verified
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = table_rows(proc.stdout)
    assert rows, proc.stdout
    assert all(result == "same" for _, result, _ in rows.values()), proc.stdout
    assert any(kind == "image" for kind, _, _ in rows.values()), proc.stdout
    assert f"all {len(rows)} outputs match" in proc.stdout


def test_verify_keep_holds_both_outputs_and_the_unparameterized_recording(contour_verified):
    folder = kept_folder(contour_verified.stdout)
    rows = table_rows(contour_verified.stdout)
    for name in rows:
        first, second = folder / "recording" / name, folder / "replay" / name
        assert first.is_file() and second.is_file(), name
        if rows[name][0] == "image":
            assert image_difference(first, second) == (0, 0)
    # The recording side runs the recorded literals: no parameter but the output folder.
    recording = (folder / "recording.py").read_text().split("# ---- recorded:", 1)[1]
    assert "_replay_files(" not in recording and "_replay_value(" not in recording and "_replay_time(" not in recording
    assert "_replay_out('/tmp/replay-fixtures/out/contour.png'" in recording
    assert "FileName=['/tmp/replay-fixtures/data/wave.vti']" in recording
    assert not (folder / "diff").exists(), "no image differs, so there is no difference image"


@pytest.fixture(scope="module")
def two_csv_verified(fixture_data):
    import replay

    return replay.verify(str(TRACES / "two_csv.py"))


def test_verify_compares_data_outputs(two_csv_verified):
    result = two_csv_verified
    data = [c for c in result.comparisons if c.kind == "data"]
    assert data, [c.name for c in result.comparisons]
    assert all(c.same for c in result.comparisons), [(c.name, c.detail) for c in result.comparisons]
    assert any(c.name.endswith(".csv") for c in data)
    for c in data:
        counts = c.measures["counts_a"]
        assert counts == c.measures["counts_b"] and counts["rows"] + counts["points"] > 0
        assert c.measures["arrays"], c.name
    assert result.ok and result.exit_code == 0
    assert result.kept is None and not os.path.exists(result.recording_side.output_dir)


def test_verify_passes_on_a_state(fixture_data):
    import replay

    result = replay.verify(str(STATES / "contour.pvsm"))
    assert result.ok, (result.problem, [(c.name, c.detail) for c in result.comparisons])
    assert [c.name for c in result.comparisons] == ["RenderView1.png"]
    assert result.comparisons[0].measures["pixels"] == 0 and result.comparisons[0].measures["total"] > 0


# -- an edited replay differs ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def edited_verified(fixture_data, tmp_path_factory):
    folder = tmp_path_factory.mktemp("edited")
    script = folder / "contour_replay.py"
    proc = run_replay("convert", TRACES / "contour.py", "--param", "Isosurfaces", "-o", script)
    assert proc.returncode == 0, proc.stderr
    code = script.read_text()
    # The trace sets Isosurfaces twice; the last one is what renders.
    m = list(re.finditer(r"_replay_value\('Isosurfaces', \[([^\]]*)\]\)", code))[-1]
    values = [float(v) * 0.8 for v in m.group(1).split(",")]
    edited = code[:m.start()] + "_replay_value('Isosurfaces', %r)" % values + code[m.end():]
    script.write_text(edited)
    proc = verify_cli(TRACES / "contour.py", "--script", script, "--keep", cwd=folder)
    yield proc
    if "logs in" in proc.stdout:
        shutil.rmtree(kept_folder(proc.stdout), ignore_errors=True)


def test_verify_fails_on_an_edited_replay_naming_the_output_and_how_much(edited_verified):
    proc = edited_verified
    assert proc.returncode == 1, proc.stdout + proc.stderr
    rows = table_rows(proc.stdout)
    images = {name: row for name, row in rows.items() if row[0] == "image"}
    assert images and all(result == "differs" for _, result, _ in images.values()), proc.stdout
    folder = kept_folder(proc.stdout)
    for name, (_, _, detail) in images.items():
        m = re.search(r"(\d+) of (\d+) pixels differ .*largest channel difference (\d+)/255", detail)
        assert m, detail
        # The numbers are the real ones: measured again here with Pillow on the kept images.
        pixels, channel = image_difference(folder / "recording" / name, folder / "replay" / name)
        assert (int(m.group(1)), int(m.group(3))) == (pixels, channel) and pixels > 50
        diff = folder / "diff" / (name + ".diff.png")
        red = np.asarray(Image.open(diff).convert("RGB"))
        assert int(((red == (255, 0, 0)).all(axis=2)).sum()) == pixels
    assert re.search(r"\d+ of \d+ outputs differ", proc.stdout)


# -- what is never a "same" ------------------------------------------------------------------------

def test_verify_exits_2_naming_the_missing_data(tmp_path):
    text = (TRACES / "contour.py").read_text()
    recorded = re.search(r"FileNames?=\[?'([^']+)'", text).group(1)
    gone = str(tmp_path / "gone" / os.path.basename(recorded))
    trace = tmp_path / "contour_moved.py"
    trace.write_text(text.replace(recorded, gone))
    proc = verify_cli(trace, cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr
    assert lines[0].startswith(f"{trace}:") and gone in lines[0]
    assert "same" not in proc.stdout


def test_verify_exits_2_for_a_state_whose_data_is_gone(tmp_path):
    text = (STATES / "contour.pvsm").read_text()
    gone = str(tmp_path / "moved" / "wave.vti")
    state = tmp_path / "contour.pvsm"
    state.write_text(text.replace("/tmp/replay-fixtures/data/wave.vti", gone))
    proc = verify_cli(state, cwd=tmp_path)
    assert proc.returncode == 2 and gone in proc.stderr and str(state) in proc.stderr, proc.stdout + proc.stderr


def test_verify_fails_when_the_replay_fails(fixture_data, tmp_path):
    import replay

    script = tmp_path / "broken_replay.py"
    script.write_text("raise RuntimeError('replay broke here')\n")
    result = replay.verify(str(TRACES / "contour.py"), script=str(script))
    assert not result.ok and result.exit_code == 1
    assert "the replay failed under pvbatch" in result.problem and "replay broke here" in result.problem
    assert result.comparisons and all(not c.same and c.detail == "only the recording wrote it"
                                      for c in result.comparisons)
    assert any("not a script replay generated" in note for note in result.notes)


def test_verify_without_outputs_is_not_same(tmp_path):
    import replay

    # No view, no file: nothing is written on either side.
    text = "from paraview.simple import *\nsphere1 = Sphere()\nsphere1.UpdatePipeline()\n"
    result = replay.verify(text)
    assert not result.ok and result.exit_code == 1
    assert result.comparisons == [] and "nothing to compare" in result.problem


def test_verify_compares_the_pictures_of_a_recording_that_saves_nothing(tmp_path):
    import replay

    text = "from paraview.simple import *\nsphere1 = Sphere()\nShow(sphere1)\nRender()\n"
    result = replay.verify(text)
    assert result.ok and result.exit_code == 0, (result.problem, result.comparisons)
    assert [(c.name, c.kind, c.same) for c in result.comparisons] == [("RenderView1.png", "image", True)]


def test_compare_pairs_by_name_and_a_missing_side_differs(tmp_path):
    from replay.verification.verify import compare

    first, second = tmp_path / "a", tmp_path / "b"
    (first / "sub").mkdir(parents=True)
    (second / "sub").mkdir(parents=True)
    (first / "sub" / "state.pvsm").write_text("<xml/>")
    (second / "sub" / "state.pvsm").write_text("<xml/>")
    (first / "notes.txt").write_text("one")
    (second / "notes.txt").write_text("two")
    (first / "only_recording.png").write_bytes(b"x")
    (second / "only_replay.vtu").write_bytes(b"x")
    found = {c.name: c for c in compare(str(first), str(second))}
    assert sorted(found) == ["notes.txt", "only_recording.png", "only_replay.vtu", "sub/state.pvsm"]
    assert found["sub/state.pvsm"].same
    assert not found["notes.txt"].same and "content differs" in found["notes.txt"].detail
    assert not found["only_recording.png"].same and "only the recording" in found["only_recording.png"].detail
    assert not found["only_replay.vtu"].same and "only the replay" in found["only_replay.vtu"].detail


def test_tolerance_for_images_and_data(tmp_path):
    from replay.verification.verify import compare

    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    pixels = np.zeros((20, 30, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(first / "shot.png")
    pixels[2:4, 5:10] = 3  # 10 pixels, 3 levels
    Image.fromarray(pixels).save(second / "shot.png")
    (first / "table.csv").write_text("x,y\n1,100\n2,200\n")
    (second / "table.csv").write_text("x,y\n1,100.5\n2,200\n")

    exact = {c.name: c for c in compare(str(first), str(second), 0.0)}
    assert not exact["shot.png"].same and exact["shot.png"].measures["pixels"] == 10
    assert "10 of 600 pixels differ" in exact["shot.png"].detail and "3/255" in exact["shot.png"].detail
    assert not exact["table.csv"].same and "1 of 2 values differ by up to 0.5" in exact["table.csv"].detail

    # 0.012 x 255 = 3.06 levels; 0.012 x max(1, 100, 100.5) = 1.206 >= 0.5
    loose = {c.name: c for c in compare(str(first), str(second), 0.012)}
    assert loose["shot.png"].same and "within tolerance" in loose["shot.png"].detail
    assert loose["table.csv"].same and "within tolerance" in loose["table.csv"].detail
    # Just below: 0.011 x 255 = 2.8 levels < 3
    assert not compare(str(first), str(second), 0.011)[0].same
