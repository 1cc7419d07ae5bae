"""States saved by real ParaView, converted, replayed under real pvbatch and compared with what
ParaView's own LoadState renders (the recording) or with the state edited by hand.

pvbatch runs: one pvpython run makes the states, one pvbatch run renders every reference, and one run
per replay script (four), each serving several assertions.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from pv import STATES, assert_different_image, assert_same_image, pvbatch_command, run_pvbatch, run_replay

pytestmark = pytest.mark.pvbatch

# The states a user would save: a contour, a clip, two render views side by side in one layout.
MAKE_STATES = textwrap.dedent("""
    import sys
    from paraview.simple import *

    root = sys.argv[1]
    SaveData(root + '/data/wave.vti', proxy=Wavelet())
    SaveData(root + '/new/small.vti', proxy=Wavelet(WholeExtent=[-6, 6, -6, 6, -6, 6]))
    ResetSession()
    reader = XMLImageDataReader(registrationName='wave.vti', FileName=[root + '/data/wave.vti'])
    contour = Contour(registrationName='Contour1', Input=reader)
    contour.ContourBy = ['POINTS', 'RTData']
    contour.Isosurfaces = [157.0]
    view = GetActiveViewOrCreate('RenderView')
    view.ViewSize = [320, 240]
    Show(contour, view)
    ResetCamera(view)
    SaveState(root + '/contour.pvsm')
    clip = Clip(registrationName='Clip1', Input=reader)
    clip.ClipType = 'Plane'
    clip.ClipType.Normal = [1.0, 0.0, 0.0]
    Hide(contour, view)
    Show(clip, view)
    SaveState(root + '/clip.pvsm')
    second = CreateView('RenderView')
    second.ViewSize = [200, 240]
    AssignViewToLayout(view=second, layout=GetLayout(view), hint=0)
    Show(contour, second)
    ResetCamera(second)
    SaveState(root + '/two_views.pvsm')
    # A file series: its files are the time steps 0, 1, 2; the state is saved at time 1.
    ResetSession()
    for step in range(3):
        SaveData(root + '/data/series_%d.vti' % step, proxy=Wavelet(Maximum=255.0 + 120 * step))
    ResetSession()
    series = XMLImageDataReader(registrationName='series',
                                FileName=[root + '/data/series_%d.vti' % step for step in range(3)])
    contour = Contour(registrationName='Contour1', Input=series)
    contour.ContourBy = ['POINTS', 'RTData']
    contour.Isosurfaces = [230.0]
    view = CreateView('RenderView')
    view.ViewSize = [240, 200]
    Show(contour, view)
    ResetCamera(view)
    scene = GetAnimationScene()
    scene.UpdateAnimationUsingDataTimeSteps()
    scene.AnimationTime = 1.0
    SaveState(root + '/series.pvsm')
""")

# What ParaView itself renders for a state: LoadState (optionally with filenames=[...]) and one
# screenshot per render view at its recorded size. Several states per run, with a fresh session each.
REFERENCE = textwrap.dedent("""
    import json
    import sys
    from paraview import servermanager
    from paraview.simple import LoadState, ResetSession, SaveScreenshot

    for job in json.load(open(sys.argv[1])):
        ResetSession()
        if job.get("filenames"):
            LoadState(job["state"], filenames=job["filenames"])
        else:
            LoadState(job["state"])
        for (name, _), view in servermanager.ProxyManager().GetProxiesInGroup("views").items():
            SaveScreenshot(job["out"] + "/" + name + ".png", view, ImageResolution=[int(v) for v in view.ViewSize])
""")


def _hand_edit(text: str, proxy_type: str, prop: str, old: str, new: str) -> str:
    """The by-hand edit: the one Element of `prop` on the `proxy_type` proxy changes its value."""
    start = text.index(f'type="{proxy_type}"')
    start = text.index(f'<Property name="{prop}"', start)
    end = text.index("</Property>", start)
    block = text[start:end]
    assert block.count(f'value="{old}"') == 1, block
    return text[:start] + block.replace(f'value="{old}"', f'value="{new}"') + text[end:]


@pytest.fixture(scope="module")
def states(tmp_path_factory):
    root = tmp_path_factory.mktemp("states")
    (root / "data").mkdir()
    (root / "new").mkdir()
    (root / "make.py").write_text(MAKE_STATES)
    pvpython = pvbatch_command()
    pvpython[-1] = pvpython[-1].replace("pvbatch", "pvpython")
    proc = subprocess.run(pvpython + [str(root / "make.py"), str(root)], capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    # The same contour state as if saved on another machine: its data path does not exist here.
    contour = (root / "contour.pvsm").read_text()
    foreign = root / "elsewhere" / "contour_foreign.pvsm"
    foreign.parent.mkdir()
    foreign.write_text(contour.replace(str(root / "data" / "wave.vti"), "/nonexistent/run17/wave.vti"))
    clip = (root / "clip.pvsm").read_text()
    (root / "clip_not_inverted.pvsm").write_text(_hand_edit(clip, "Clip", "Invert", "1", "0"))
    series = (root / "series.pvsm").read_text()
    at_two = _hand_edit(_hand_edit(series, "AnimationScene", "AnimationTime", "1", "2"), "TimeKeeper", "Time", "1", "2")
    (root / "series_at_2.pvsm").write_text(at_two)
    # The committed 4.x state (written by ParaView 4.4), and the same saved at time 4 instead of 2.
    legacy = (STATES / "legacy_4x.pvsm").read_text()
    at_four = _hand_edit(_hand_edit(legacy, "AnimationScene", "AnimationTime", "2", "4"), "TimeKeeper", "Time", "2", "4")
    (root / "legacy_at_4.pvsm").write_text(at_four)
    return root


@pytest.fixture(scope="module")
def references(states, fixture_data):
    """ParaView's own renders: as recorded, with a new file name, and the clip edited by hand."""
    new_file = str(states / "new" / "small.vti")
    contour_id = _reader_id(states / "elsewhere" / "contour_foreign.pvsm")
    jobs = {
        "contour": {"state": str(states / "contour.pvsm")},
        "newfile": {"state": str(states / "elsewhere" / "contour_foreign.pvsm"),
                    "filenames": [{"id": contour_id, "name": "wave.vti", "FileName": new_file}]},
        "clip": {"state": str(states / "clip.pvsm")},
        "clip_edited": {"state": str(states / "clip_not_inverted.pvsm")},
        "two_views": {"state": str(states / "two_views.pvsm")},
        "series": {"state": str(states / "series.pvsm")},
        "series_at_2": {"state": str(states / "series_at_2.pvsm")},
        "legacy": {"state": str(STATES / "legacy_4x.pvsm")},
        "legacy_at_4": {"state": str(states / "legacy_at_4.pvsm")},
    }
    for name, job in jobs.items():
        job["out"] = str(states / "ref" / name)
        Path(job["out"]).mkdir(parents=True)
    (states / "jobs.json").write_text(json.dumps(list(jobs.values())))
    (states / "reference.py").write_text(REFERENCE)
    run_pvbatch(states / "reference.py", states / "jobs.json")
    return {name: Path(job["out"]) for name, job in jobs.items()}


def _reader_id(state: Path) -> str:
    from replay.state.find import find
    from replay.state.read import parse_state

    inventory = find(*parse_state(state.read_text(), state.name))
    (reader,) = inventory.extra["readers"]
    return reader["id"]


def _convert(state: Path, script: Path, *args) -> None:
    proc = run_replay("convert", state, "-o", script, *args)
    assert proc.returncode == 0, proc.stderr


def test_defaults_render_what_loadstate_renders(states, references, tmp_path):
    script = states / "contour_replay.py"
    _convert(states / "contour.pvsm", script)
    run_pvbatch(script, "--output-dir", tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["RenderView1.png"]
    assert_same_image(tmp_path / "out" / "RenderView1.png", references["contour"] / "RenderView1.png")


def test_new_file_name_renders_what_loadstate_filenames_renders(states, references, tmp_path):
    """The recorded data path does not exist here; the state is beside the script in another folder."""
    state = states / "elsewhere" / "contour_foreign.pvsm"
    script = tmp_path / "scripts" / "foreign_replay.py"
    script.parent.mkdir()
    _convert(state, script)
    new_file = states / "new" / "small.vti"
    run_pvbatch(script, "--FileName", new_file, "--output-dir", tmp_path / "out", cwd=tmp_path)
    image = tmp_path / "out" / "RenderView1.png"
    assert_same_image(image, references["newfile"] / "RenderView1.png")
    assert_different_image(image, references["contour"] / "RenderView1.png")


def test_param_edits_the_state_like_a_hand_edit_and_embed_travels_alone(states, references, tmp_path):
    embedded = states / "clip_embedded.py"
    _convert(states / "clip.pvsm", embedded, "--param", "Clip1.Invert", "--embed")
    alone = tmp_path / "alone" / "clip_embedded.py"
    alone.parent.mkdir()
    shutil.copy(embedded, alone)
    run_pvbatch(alone, "--Invert", "0", "--output-dir", tmp_path / "out", cwd=tmp_path / "alone")
    image = tmp_path / "out" / "RenderView1.png"
    assert_same_image(image, references["clip_edited"] / "RenderView1.png")
    assert_different_image(image, references["clip"] / "RenderView1.png")
    assert [p.name for p in alone.parent.iterdir()] == ["clip_embedded.py"]


def test_every_render_view_and_the_layout_saved_at_recorded_sizes(states, references, tmp_path):
    script = states / "two_views_replay.py"
    _convert(states / "two_views.pvsm", script)
    run_pvbatch(script, "--output-dir", tmp_path / "out")
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == ["Layout_1.png", "RenderView1.png", "RenderView2.png"]
    for name in ("RenderView1.png", "RenderView2.png"):
        assert_same_image(out / name, references["two_views"] / name)
    from PIL import Image

    assert Image.open(out / "RenderView1.png").size == (320, 240)
    assert Image.open(out / "RenderView2.png").size == (200, 240)
    width, height = Image.open(out / "Layout_1.png").size
    assert width >= 320 + 200 and height >= 240


def test_time_param_renders_like_the_state_saved_at_that_time(states, references, tmp_path):
    script = states / "series_replay.py"
    _convert(states / "series.pvsm", script)
    assert "(default: 1.0 as recorded" in run_pvbatch(script, "--help").stdout
    run_pvbatch(script, "--time", "2", "--output-dir", tmp_path / "out")
    image = tmp_path / "out" / "RenderView1.png"
    assert_same_image(image, references["series_at_2"] / "RenderView1.png")
    assert_different_image(image, references["series"] / "RenderView1.png")


def test_legacy_4x_state_replays_like_loadstate(states, references, tmp_path):
    script = tmp_path / "legacy_replay.py"
    _convert(STATES / "legacy_4x.pvsm", script, "--param", "ContourBy")
    run_pvbatch(script, "--output-dir", tmp_path / "default")
    run_pvbatch(script, "--time", "4", "--ContourBy", "POINTS", "RTData", "--output-dir", tmp_path / "at4")
    assert_same_image(tmp_path / "default" / "RenderView1.png", references["legacy"] / "RenderView1.png")
    assert_same_image(tmp_path / "at4" / "RenderView1.png", references["legacy_at_4"] / "RenderView1.png")
    assert_different_image(tmp_path / "at4" / "RenderView1.png", references["legacy"] / "RenderView1.png")


def test_inspect_lists_files_time_views_properties(states):
    proc = run_replay("inspect", "--json", states / "two_views.pvsm")
    assert proc.returncode == 0, proc.stderr
    params = {p["name"]: p for p in json.loads(proc.stdout)}
    assert params["FileName"] == {"name": "FileName", "kind": "file", "proxy": "wave.vti", "property": "FileName",
                                  "default": str(states / "data" / "wave.vti"),
                                  "line": params["FileName"]["line"]}
    text = (states / "two_views.pvsm").read_text().splitlines()
    assert '<Property name="FileName"' in text[params["FileName"]["line"] - 1]
    assert params["time"]["kind"] == "time" and params["time"]["default"] == 0.0
    assert params["Invert"]["proxy"] == "Clip1" and params["Invert"]["default"] == 1
    # paraview.simple names, as in a trace of the same pipeline (the state stores SelectInputScalars).
    assert params["Scalars"]["proxy"] == "Clip1" and params["ContourBy"]["proxy"] == "Contour1"
    assert params["Isosurfaces"]["default"] == 157 and "SelectInputScalars" not in params
    # Information the server reported is not a parameter, nor are inputs.
    assert not any(p["property"] in ("FileNameInfo", "PointArrayInfo", "TimestepValues", "Input")
                   for p in params.values())
