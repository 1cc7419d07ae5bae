"""Filters whose names or properties changed between releases compute on every release what the recording
computed (issue 25).

fixtures/generate.py `versioned_filters` recorded the same filters with each release's own tracer
(fixtures/versions/<X.Y>/filters.py): Plot Over Line, Gradient, Threshold (between, outside, below, above),
Extract Block, Surface Normals / Generate Surface Normals, Point And Cell Ids / Generate Ids, Reflect, Slice With
Plane, Tessellate, 5.9's image Gradient and 5.11+'s Convert To Point Cloud, each saved as CSV, and the slice
coloured with a preset 6.1 renamed ('Viridis (matplotlib)' -> 'Viridis'), saved as a picture. Each recording is
converted once and its script run on the three other releases (one pvbatch per cell); the reference is the
recording run as it is on its own release. Every CSV must have the recording's rows (in any order), columns and
values, except what the running release cannot express, which the replay reports by line.
"""
from __future__ import annotations

import csv
import math
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from pv import FIXTURES, run_replay

from replay import pvtables
from test_version_matrix import MEAN_LIMIT, mean_difference, run

VERSIONS = ("5.9", "5.11", "5.13", "6.1")
RECORDED_OUT = "/tmp/replay-fixtures/out/"
NATIVE = ("5.11", "6.1")  # a cell also run with --native-look


def _v(text: str) -> tuple[int, int]:
    return tuple(int(p) for p in text.split("."))


# What a running release cannot honour, (recording, running) -> ({case not computed as recorded}, [what the
# replay reports, each on a line of its own naming the script's line]).
def not_expressible(rec: str, on: str) -> tuple[set[str], list[str]]:
    cases, said = set(), []
    if on == "5.9" and rec != "5.9":
        cases.add("f_point_cloud")
        said += ["has no ConvertToPointCloud"]  # 5.11+: the script stops there
        said += ["has no GroupDataSets.BlockNames"]  # 5.9 names no blocks (the selectors still find them)
        if rec != "6.1":
            said += ["has no SliceWithPlane.Level"]  # what 5.11's and 5.13's tracers write at creation
    return cases, said


@pytest.fixture(scope="module")
def cells(fixture_data, tmp_path_factory):
    root = tmp_path_factory.mktemp("filters")
    jobs, scripts = [], {}
    for rec in VERSIONS:
        source = FIXTURES / "versions" / rec / "filters.py"
        reference = root / f"ref-{rec}"
        reference.mkdir()
        (root / f"ref-{rec}.py").write_text(source.read_text().replace(RECORDED_OUT, f"{reference}/"))
        jobs.append((("ref", rec), rec, root / f"ref-{rec}.py", ()))
        script = root / f"filters-{rec}_replay.py"
        converted = run_replay("convert", source, "-o", script)
        assert converted.returncode == 0, converted.stderr
        scripts[rec] = script.read_text()
        for on in VERSIONS:
            if on != rec:
                jobs.append(((rec, on), on, script, ("--output-dir", root / f"{rec}-on-{on}")))
    rec, on = NATIVE
    jobs.append((("native", rec, on), on, root / f"filters-{rec}_replay.py",
                 ("--native-look", "--output-dir", root / f"{rec}-on-{on}-native")))
    with ThreadPoolExecutor(2) as pool:
        procs = dict(zip([j[0] for j in jobs], pool.map(lambda j: run(j[1], j[2], *j[3]), jobs)))
    for key, proc in procs.items():
        (root / ("-".join(key) + ".log")).write_text(proc.stderr)
    for rec in VERSIONS:
        assert procs[("ref", rec)].returncode == 0, procs[("ref", rec)].stderr[-3000:]
    return root, procs, scripts


def read_csv(path: Path) -> tuple[list[str], list[list[float]]]:
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    head = [h.strip('"') for h in rows[0]]
    return head, [[float(x) if x not in ("", "nan") else math.nan for x in row] for row in rows[1:]]


def difference(recorded: Path, replayed: Path, ignore=()) -> str | None:
    """None when the replay's CSV is the recording's: same rows in any order (the order is the algorithm's,
    and 6.1's Tessellate changes it from run to run), the recording's columns, values within 1e-4."""
    if not replayed.exists():
        return "not written"
    head, rows = read_csv(recorded)
    other_head, other_rows = read_csv(replayed)
    columns = [h for h in head if h not in ignore]
    missing = [h for h in columns if h not in other_head]
    if missing:
        return f"columns {missing} missing (has {other_head})"
    if len(rows) != len(other_rows):
        return f"{len(other_rows)} rows instead of {len(rows)}"

    def key(table, names):
        at = [names.index(h) for h in columns]
        return sorted(tuple(round(r[i], 3) for i in at) for r in table)

    for a, b in zip(key(rows, head), key(other_rows, other_head)):
        for x, y in zip(a, b):
            if not (math.isnan(x) and math.isnan(y)) and abs(x - y) > 1e-4 * max(1.0, abs(x)) + 2e-3:
                return f"values differ: {a} vs {b}"
    return None


def ignored(case: str, on: str) -> tuple[str, ...]:
    # 6.1's compatibility mode makes Reflect an Axis Aligned Reflect (its _backwardscompatibilityhelper.py,
    # get_deprecated_proxies), whose image-data output a CSV writes without point coordinates.
    return ("Points:0", "Points:1", "Points:2") if case == "f_reflect" and on == "6.1" else ()


CELLS = [(rec, on) for rec in VERSIONS for on in VERSIONS if rec != on]


@pytest.mark.parametrize("rec,on", CELLS, ids=[f"{r}-on-{o}" for r, o in CELLS])
def test_replay_computes_what_the_recording_computed(cells, rec, on):
    root, procs, scripts = cells
    proc = procs[(rec, on)]
    skip, reports = not_expressible(rec, on)
    cases = sorted(p.stem for p in (root / f"ref-{rec}").glob("*.csv"))
    assert len(cases) >= 10
    wrong = {}
    for case in cases:
        if case in skip:
            continue
        found = difference(root / f"ref-{rec}" / f"{case}.csv", root / f"{rec}-on-{on}" / f"{case}.csv",
                           ignored(case, on))
        if found:
            wrong[case] = found
    assert not wrong, f"{rec} on {on}: {wrong}\n{proc.stderr[-3000:]}"
    # What cannot be honoured is said, at the recording's line; nothing else is reported, nothing fails.
    said = [line for line in proc.stderr.splitlines() if line.startswith("replay:") or "Error" in line]
    recorded = (FIXTURES / "versions" / rec / "filters.py").read_text().splitlines()
    for words in reports:
        assert any(words in line and _names_its_line(line, recorded) for line in said), (words, said)
    assert [line for line in said if not any(words in line for words in reports)] == []
    assert proc.returncode == (1 if "f_point_cloud" in skip else 0), proc.stderr[-2000:]
    # The preset: 6.1's 'Viridis' is 'Viridis (matplotlib)' before (compatibility mode maps it the other way).
    picture = mean_difference(root / f"ref-{rec}" / "f_preset.png", root / f"{rec}-on-{on}" / "f_preset.png")
    assert picture <= MEAN_LIMIT, f"{rec} on {on}: mean difference {picture:.2f}/255"


def _names_its_line(said: str, recorded: list[str]) -> bool:
    """`replay: filters.py:N: <statement>: ...` where line N of the recording is that statement."""
    found = re.match(r"replay: filters\.py:(\d+): (.+?): ", said)
    return bool(found) and recorded[int(found.group(1)) - 1].strip().startswith(found.group(2))


def test_changed_default_is_pinned_and_native_look_gives_it_back(cells):
    """5.13 changed Convert To Point Cloud's default (one polyvertex -> a vertex per point): a 5.11 recording
    keeps one cell on 6.1, and with --native-look gets 6.1's."""
    root, procs, scripts = cells
    rec, on = NATIVE
    recorded = root / f"ref-{rec}" / "f_point_cloud.csv"
    assert len(read_csv(recorded)[1]) == 1
    assert difference(recorded, root / f"{rec}-on-{on}" / "f_point_cloud.csv") is None
    native = root / f"{rec}-on-{on}-native" / "f_point_cloud.csv"
    assert len(read_csv(native)[1]) == len(read_csv(root / "ref-6.1" / "f_point_cloud.csv")[1]) > 1
    assert procs[("native", rec, on)].returncode == 0


def recorded(rec: str) -> dict:
    return pvtables.recorded_for((FIXTURES / "versions" / rec / "filters.py").read_text(), _v(rec))


def test_what_the_adapter_learns_from_the_releases():
    # 5.13's _backwardscompatibilityhelper.py names the old names of its renamed filters: on 5.11 they stand in
    assert recorded("5.13")["renamed"]["SurfaceNormals"] == ["GenerateSurfaceNormals", None]
    assert recorded("6.1")["renamed"]["PointAndCellIds"] == ["GenerateIds", None]
    # Gradient changed meaning in 5.10 (renames.py): on 5.9 a 5.10+ recording's Gradient is the unstructured one
    assert recorded("5.11")["renamed"]["Gradient"] == ["GradientOfUnstructuredDataSet", [5, 10]]
    assert recorded("5.9")["renamed"]["GradientOfUnstructuredDataSet"] == ["Gradient", None]
    # 6.1 names a second old name of 5.13's Process Ids (5.9's Process Id Scalars): a release takes the one it has
    text = (FIXTURES / "filters" / "5.13" / "process_id_scalars.py").read_text()
    assert pvtables.recorded_for(text, (5, 13))["renamed"]["ProcessIds"] == [
        "GenerateProcessIds", None, ["ProcessIdScalars"]]
    # 6.0's Axis Aligned Reflect is 5.x's Reflect
    text = (FIXTURES / "filters" / "6.1" / "axis_aligned_reflect.py").read_text()
    assert pvtables.recorded_for(text, (6, 1))["renamed"]["AxisAlignedReflect"][0] == "Reflect"
    # sub-proxies the recording names: 5.9's Plane of Slice With Plane, 5.11's PlaneType
    assert recorded("5.9")["sublists"]["Plane"]["SliceWithPlane"][0] == "Plane"
    assert "SliceWithPlane" in recorded("5.11")["sublists"]["PlaneType"]
    # presets: 6.1's lookupTableUpdate renamed 'Viridis (matplotlib)'
    assert ["Viridis (matplotlib)", "Viridis"] in recorded("6.1")["presets"]
    # defaults of what the recording creates, for the pins: 5.11's Convert To Point Cloud
    assert recorded("5.11")["created"]["ConvertToPointCloud"]["CellGenerationMode"] == "Polyvertex cell"
    assert "ConvertToPointCloud" in recorded("5.11")["filters"]
