"""A trace that saves nothing still replays into pictures: one <ViewName>.png per render view and one
<LayoutName>.png per layout of several views, as a converted state saves (issue 22).

The reference is the recording itself: the same trace with its SaveScreenshot calls kept, saving at the size
the replay's pictures came out at, run as it is on the version that made it. 5.11 also runs a two-view
layout; every version runs its own tracer's matrix session.
"""
from __future__ import annotations

import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from PIL import Image

import replay
from pv import FIXTURES, TRACES, home_env, image_difference, paraview_program, run_replay
from replay.batch.runner import lost_display, xvfb_run

VERSIONS = ("5.9", "5.11", "5.13", "6.1")
_SAVES = re.compile(r"^(SaveScreenshot|SaveData)\(")


def without_saves(text: str) -> str:
    """The trace with its SaveScreenshot/SaveData statements taken out (continuation lines too)."""
    kept, depth = [], 0
    for line in text.splitlines(keepends=True):
        if depth or _SAVES.match(line):
            depth = max(depth, 0) + line.count("(") - line.count(")")
            continue
        kept.append(line)
    return "".join(kept)


def at_size(text: str, out: Path, sizes: dict) -> str:
    """The full trace saving into out, each screenshot at the size the replay's picture of the same view has."""
    text = text.replace("/tmp/replay-fixtures/out/", f"{out}/")

    def resize(m):
        target = m.group(1)
        return m.group(0).rsplit("ImageResolution=", 1)[0] + "ImageResolution=[%d, %d]" % sizes[target]
    return re.sub(r"SaveScreenshot\([^)]*?(?:viewOrLayout=)?(\w+),(?:\s*SaveAllViews=1,)?\s*(?:location=16, )?"
                  r"ImageResolution=\[\d+, \d+\]", resize, text)


def test_a_trace_that_saves_nothing_says_so_and_ends_with_its_pictures():
    full = (TRACES / "contour.py").read_text()
    result = replay.convert_trace(without_saves(full), source_name="contour.py")
    assert "SaveScreenshot(" not in result.code.split("# ---- recorded:")[1].split("# replay: the recording")[0] \
        .replace("# alternatively, if you want to write images, you can use SaveScreenshot(...).", "")
    assert result.code.rstrip().endswith("_replay_pictures(apply_time=True)")
    assert "# The recording saves no file, so this script saves its pictures at its end:" in result.code
    assert any(n.code == "pictures" and "<ViewName>.png" in n.message for n in result.notes)
    # What writes, it keeps: no pictures of its own added.
    kept = replay.convert_trace(full, source_name="contour.py")
    assert "_replay_pictures(" not in kept.code.split("# ---- recorded:")[1]
    assert not any(n.code == "pictures" for n in kept.notes)
    writer = without_saves(full) + "w = CreateWriter('/tmp/x.csv', contour1)\nw.UpdatePipeline()\n"
    assert "_replay_pictures(" not in replay.convert_trace(writer).code.split("# ---- recorded:")[1]


def test_convert_report_and_help_say_where_the_pictures_go(tmp_path, fixture_data):
    trace = tmp_path / "no_shot.py"
    trace.write_text(without_saves((TRACES / "contour.py").read_text()))
    proc = run_replay("convert", trace)
    assert proc.returncode == 0, proc.stderr
    assert f"{trace}:1:1: the recording saves no file: the script saves one <ViewName>.png per render view" \
        in proc.stderr
    help_text = subprocess.run(["python3", tmp_path / "no_shot_replay.py", "--help"], capture_output=True,
                               text=True).stdout
    assert "one <ViewName>.png per render view" in " ".join(help_text.split())


def _pvbatch(version, script, *args, home):
    for _ in range(4):
        proc = subprocess.run([*xvfb_run(), paraview_program("pvbatch", version), str(script), *map(str, args)],
                              capture_output=True, text=True, timeout=600, env=home_env(home))
        if proc.returncode == 0 or not (lost_display(proc.stderr) or proc.returncode < 0):
            break
    assert proc.returncode == 0, f"{script} on {version}: {proc.stdout[-2000:]}{proc.stderr[-2000:]}"
    return proc


def _case(root: Path, version: str, name: str, source: Path):
    """Replay the trace without its saves on `version`, then the full trace at those pictures' sizes."""
    folder = root / f"{name}-{version}"
    folder.mkdir()
    text = source.read_text()
    stripped = folder / "stripped.py"
    stripped.write_text(without_saves(text))
    script = folder / "stripped_replay.py"
    assert run_replay("convert", stripped, "-o", script, "-q").returncode == 0
    _pvbatch(version, script, "--output-dir", folder / "pictures", home=root / "home")
    pictures = {p.name: Image.open(p).size for p in (folder / "pictures").glob("*.png")}
    sizes = {"renderView1": pictures.get("RenderView1.png"), "renderView2": pictures.get("RenderView2.png"),
             "layout1": pictures.get("Layout_1.png")}
    reference = folder / "reference"
    reference.mkdir()
    (folder / "full.py").write_text(at_size(text, reference, sizes))
    _pvbatch(version, folder / "full.py", home=root / "home")
    return folder


@pytest.fixture(scope="module")
def pictures(fixture_data, tmp_path_factory):
    root = tmp_path_factory.mktemp("pictures")
    cases = [(v, "matrix", FIXTURES / "versions" / v / "matrix.py") for v in VERSIONS]
    cases.append(("5.11", "layout", TRACES / "layout_two_views.py"))
    with ThreadPoolExecutor(2) as pool:
        done = list(pool.map(lambda case: _case(root, *case), cases))
    return {(version, name): folder for (version, name, _), folder in zip(cases, done)}


@pytest.mark.pvbatch
@pytest.mark.parametrize("version", VERSIONS)
def test_one_picture_per_view_equal_to_the_recorded_screenshot(pictures, version):
    folder = pictures[(version, "matrix")]
    assert sorted(p.name for p in (folder / "pictures").iterdir()) == ["RenderView1.png"]
    assert Image.open(folder / "pictures" / "RenderView1.png").size == (400, 400)  # the layout's SetSize
    assert image_difference(folder / "pictures" / "RenderView1.png", folder / "reference" / "matrix.png") == (0, 0)


@pytest.mark.pvbatch
def test_a_layout_of_two_views_gives_each_view_and_the_layout(pictures):
    folder = pictures[("5.11", "layout")]
    names = sorted(p.name for p in (folder / "pictures").iterdir())
    assert names == ["Layout_1.png", "RenderView1.png", "RenderView2.png"]
    assert Image.open(folder / "pictures" / "Layout_1.png").size == (801, 400)
    assert image_difference(folder / "pictures" / "Layout_1.png", folder / "reference" / "layout.png") == (0, 0)
    assert image_difference(folder / "pictures" / "RenderView2.png", folder / "reference" / "view2.png") == (0, 0)


@pytest.mark.pvbatch
def test_a_sweep_gallery_and_cinema_see_the_pictures(pictures, tmp_path):
    script = tmp_path / "no_shot_replay.py"
    trace = tmp_path / "no_shot.py"
    trace.write_text(without_saves((TRACES / "contour.py").read_text()))
    assert run_replay("convert", trace, "--param", "Isosurfaces", "-o", script, "-q").returncode == 0
    result = replay.sweep(str(script), [{"Isosurfaces": 150}, {"Isosurfaces": 200}], out_dir=str(tmp_path / "study"))
    assert result.ok, result.rows
    assert all(row["outputs"] == ["RenderView1.png"] for row in result.rows), result.rows
    csv = (tmp_path / "study" / "data.csv").read_text().splitlines()
    assert csv[0].endswith(",FILE") and all(line.endswith("/RenderView1.png") for line in csv[1:]), csv
    assert "RenderView1.png" in (tmp_path / "study" / "index.html").read_text()
