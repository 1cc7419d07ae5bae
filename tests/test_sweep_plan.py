"""Sweep planning without ParaView: spec read from text, grid/table expansion, validation, folder names."""
from __future__ import annotations

import json

import pytest

from replay.errors import InputError, UsageError
from replay.batch.plan import make_runs, parse_grid, plan, read_spec

SPEC = {"source": "t.py", "parameters": [
    {"name": "FileName", "kind": "file", "proxy": "r", "property": "FileName", "default": ["a.vti"], "line": 3},
    {"name": "time", "kind": "time", "proxy": None, "property": None, "default": None, "line": None},
    {"name": "Isosurfaces", "kind": "property", "proxy": "c", "property": "Isosurfaces", "default": [1.0],
     "line": 7, "type": "float", "nargs": "+"},
    {"name": "Opacity", "kind": "property", "proxy": "d", "property": "Opacity", "default": 1.0, "line": 8,
     "type": "float", "nargs": None},
    {"name": "output-dir", "kind": "output", "proxy": None, "property": None, "default": None, "line": None}]}
# The script would fail if executed: the spec must be read as text.
SCRIPT = "import json as _replay_json\n_REPLAY_SPEC = _replay_json.loads(r'''" + json.dumps(SPEC) + \
         "''')\nraise SystemExit('never run')\n"


def test_grid_cross_product_globs_and_folders(tmp_path, monkeypatch):
    for name in ("run10", "run2", "run1"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "out.vti").write_text("x")
    monkeypatch.chdir(tmp_path)
    runs = plan(SCRIPT, "t.py", grid=["Isosurfaces=100 150,200", "FileName=run*/out.vti"])
    assert [r.params["FileName"] for r in runs[:3]] == [["run1/out.vti"], ["run2/out.vti"], ["run10/out.vti"]]
    assert runs[0].params["Isosurfaces"] == ["100", "150"] and len(runs) == 6
    assert str(runs[0].folder) == "Isosurfaces=100_150,FileName=run1_out.vti"
    long = plan(SCRIPT, "t.py", grid=["Isosurfaces=" + " ".join(str(i) for i in range(40))])
    assert str(long[0].folder).startswith("run-") and len(str(long[0].folder)) == 14
    weird = make_runs(read_spec(SCRIPT), [{"Opacity": ["0.5"]}, {"Opacity": ["0/5"]}, {"Opacity": ["0:5"]}])
    assert [str(r.folder) for r in weird][:2] == ["Opacity=0.5", "Opacity=0_5"]
    assert str(weird[2].folder).startswith("run-")  # same safe name as the one before: a hash keeps it apart


def test_validation_before_anything_runs(tmp_path):
    with pytest.raises(UsageError, match=r"--grid Opacity: Opacity takes one value, not 2"):
        plan(SCRIPT, "t.py", grid=["Opacity=0.5 0.6"])
    with pytest.raises(UsageError, match=r"no file matches"):
        plan(SCRIPT, "t.py", grid=["FileName=nothing/*.vti"])
    with pytest.raises(UsageError, match=r"set by the sweep"):
        plan(SCRIPT, "t.py", grid=["output-dir=x"])
    with pytest.raises(UsageError, match=r"time must be one number"):
        plan(SCRIPT, "t.py", grid=["time=soon"])
    with pytest.raises(UsageError, match=r"already a grid axis"):
        parse_grid(["Opacity=1", "Opacity=2"])
    with pytest.raises(InputError, match=r"not a replay script"):
        read_spec("print('hello')\n", "x.py")
    table = tmp_path / "cases.yaml"
    table.write_text("- Opacity: 0.5\n- Opacity: [1, 2]\n")
    with pytest.raises(UsageError) as caught:
        plan(SCRIPT, "t.py", table=str(table))
    assert str(caught.value) == f"{table}:2:1: Opacity takes one value, not 2"


def test_time_all_asks_once_per_file_set():
    asked = []

    def timesteps(spec, files):
        asked.append(files)
        return [0.0, 0.5, 1.0]

    runs = plan(SCRIPT, "t.py", grid=["time=all", "Opacity=0.5,1"], timesteps=timesteps)
    # Every combination steps through all times in a row (one worker keeps that pipeline).
    assert [(r.params["time"], r.params["Opacity"]) for r in runs][:4] == [
        (["0.0"], ["0.5"]), (["0.5"], ["0.5"]), (["1.0"], ["0.5"]), (["0.0"], ["1"])]
    assert str(runs[0].folder) == "time=0.0,Opacity=0.5"
    assert len(runs) == 6 and asked == [{}]
