"""Every filter a user records replays on every release: the generated filter suite (fixtures/filters) on the real
5.9, 5.11, 5.13 and 6.1.

Each case was recorded by each release's own tracer, with that release's output (fixtures/filters/generate.py).
Every recording is converted once and replayed on all four releases, its original trace run as it is beside it,
one pvbatch per (recording release, running release) cell (tests/filter_suite.py). Every output is compared with the
recording's own and classified; the README's table must be what this run measured, so a change in replay or in the
recordings that moves a cell fails here until the table is written again (python3 fixtures/filters/table.py).
"""
from __future__ import annotations

import random
import re
import shutil
from dataclasses import replace
from pathlib import Path

import filter_suite as fs
import pytest


@pytest.fixture(scope="module")
def suite(tmp_path_factory):
    fs.install_data()
    results = fs.run_suite(tmp_path_factory.mktemp("filters"))
    return results, fs.classify_all(results)


# Cases whose filter some releases do not have (their GUI could not record them).
ONLY_IN = {"process_ids": {"5.13", "6.1"}, "connected_surface_properties": {"5.11", "5.13", "6.1"},
           "merge_vector_components": {"5.11", "5.13", "6.1"}, "ioss_reader": {"5.11", "5.13", "6.1"},
           "ioss_reader_cells": {"5.11", "5.13", "6.1"}}


def test_every_release_recorded_the_suite():
    found = fs.cases()
    assert len(found) >= 50, sorted(found)
    for case, traces in found.items():
        assert set(traces) == ONLY_IN.get(case, set(fs.VERSIONS)), (case, sorted(traces))
        for version, trace in traces.items():
            text = trace.read_text()
            assert f"# trace generated using paraview version {version}" in text, trace
            assert fs.RECORDED_OUT in text and fs.reference(version, case).exists(), trace
    # A renamed filter is recorded under the name each release's menu gives it.
    names = {"surface_normals": ("GenerateSurfaceNormals(", "SurfaceNormals("),
             "generate_ids": ("GenerateIds(", "PointAndCellIds("),
             "gradient": ("GradientOfUnstructuredDataSet(", "Gradient("),
             "coordinates": ("AppendLocationAttributes(", "Coordinates("),
             "polyline_length": ("AppendArcLength(", "PolylineLength("),
             "axis_aligned_reflect": ("Reflect(", "AxisAlignedReflect("),
             "block_ids": ("BlockScalars(", "BlockIds("),
             "process_id_scalars": ("ProcessIdScalars(", "ProcessIds("),
             "surface_tangents": ("GenerateSurfaceTangents(", "SurfaceTangents("),
             "ghost_cells": ("GhostCellsGenerator(", "GhostCells("),
             "field_arrays_from_file": ("AddFieldArrays(", "FieldArraysFromFile("),
             "global_ids": ("GenerateGlobalIds(", "GlobalPointAndCellIds("),
             "connected_surface_properties": ("ComputeConnectedSurfaceProperties(", "ConnectedSurfaceProperties(")}
    for case, (old, new) in names.items():
        oldest = found[case][min(found[case], key=lambda v: tuple(map(int, v.split("."))))]
        assert f" {old}" in oldest.read_text() and f" {new}" in found[case]["6.1"].read_text(), case


_GENERIC = "no reader or source of any release makes a vtkGenericDataSet (none of their VTK classes derives from it)"
_GUI_DROPS = "every release's tracer drops its creation line (fixtures/filters/cases/misc.py says why)"
_NOT_IN_MENU = "in no release's Filters menu (ParaViewFilters.xml): a Catalyst-side proxy"
# The filters the four releases share that the suite has no recording of, and why no GUI session can record them.
NO_CASE = {
    "ClipGenericDataset": _GENERIC, "ContourGenericDataset": _GENERIC, "ExtractGenericDatasetSurface": _GENERIC,
    "SliceGenericDataset": _GENERIC, "StreamTracerForGenericDatasets": _GENERIC,
    "PointInterpolator": "an abstract base: its proxy has no Source to sample with",
    "SPHInterpolator": "an abstract base (SPHInterpolatorBase): its proxy has no Source to sample with",
    "PlotSelectionOverTime": _GUI_DROPS, "OMETIFFChannelCalculator": _GUI_DROPS,
    "ConvertSelection": "in no release's Filters menu; its input must be a vtkSelection",
    "InSituParticlePath": _NOT_IN_MENU, "TemporalCacheSource": _NOT_IN_MENU,
}


def test_every_filter_the_releases_share_is_recorded_or_said_why_not():
    """The releases' own function tables (replay/pvtables, read from each pvpython) name the filters all four
    share; each is created in a recording of the suite, or NO_CASE says why no GUI session can record it."""
    from replay import pvtables

    shared = None
    for version in pvtables.available():
        table = pvtables.load(version)
        filters = {name for name, xml in table["functions"].items() if xml in table["proxies"]["filters"]}
        shared = filters if shared is None else shared & filters
    assert len(shared) >= 170, len(shared)
    created = set()
    for trace in fs.SUITE.glob("*/*.py"):
        created |= set(re.findall(r"\b([A-Z]\w*)\(registrationName=", trace.read_text()))
    assert sorted(shared - created - set(NO_CASE)) == [], "filters without a case nor a reason"
    assert sorted(set(NO_CASE) & created) == [], "recorded now: take them out of NO_CASE"
    assert set(NO_CASE) <= shared


def _write(path: Path, header, rows):
    path.write_text("\n".join(",".join(row) for row in [header] + rows) + "\n")


def test_comparison_sees_a_wrong_output_and_ignores_row_order(tmp_path):
    reference = fs.SUITE / "5.11" / "glyph.csv"
    header, rows = fs.read_csv(reference)
    assert len(rows) > 100 and "Points:0" in header
    quoted = ['"%s"' % name for name in header]
    shuffled = rows[:]
    random.Random(1).shuffle(shuffled)
    _write(tmp_path / "shuffled.csv", quoted, shuffled)
    assert fs.difference(reference, tmp_path / "shuffled.csv") is None
    # One value off by 2% of its column's largest magnitude, one row missing, one column renamed, text changed.
    column = header.index("Points:2")
    wrong = [row[:] for row in shuffled]
    wrong[7][column] = repr(float(wrong[7][column]) + 0.02 * max(abs(float(r[column])) for r in rows))
    _write(tmp_path / "value.csv", quoted, wrong)
    assert fs.difference(reference, tmp_path / "value.csv") is not None
    _write(tmp_path / "row.csv", quoted, shuffled[1:])
    assert fs.difference(reference, tmp_path / "row.csv") == f"{len(rows) - 1} rows instead of {len(rows)}"
    _write(tmp_path / "column.csv", ['"Points_0"'] + quoted[1:], [r[:] for r in rows])
    assert "columns differ" in (fs.difference(reference, tmp_path / "column.csv") or "")
    assert fs.difference(reference, tmp_path / "missing.csv") == "no output"
    text = fs.SUITE / "5.11" / "annotate_time.csv"
    _write(tmp_path / "text.csv", ['"Text"'], ['"T=6.00"'])
    assert fs.difference(text, tmp_path / "text.csv") is not None


def test_a_vtk_file_is_read_as_tables_and_compared_like_a_csv(tmp_path):
    """An XML writer's file (ascii) is read into the columns a csv has, its points and cells in any order: a
    wrong value of a point array, a cell array or a point, and a cell joined to other points, are seen."""
    from lxml import etree

    reference = fs.reference("5.11", "clip_vtu")
    assert reference.suffix == ".vtu"
    tables = fs.read_tables(reference)
    assert list(tables) == ["points", "cells"]
    header, rows = tables["points"]
    assert header[:3] == ["Points:0", "Points:1", "Points:2"] and "RTData" in header and len(rows) > 100
    assert fs.difference(reference, reference) is None
    tree = etree.parse(str(reference))

    def spoilt(name, change):
        copy = etree.parse(str(reference))
        array = next(a for a in copy.iter("DataArray") if a.get("Name") == name)
        values = array.text.split()
        change(values)
        array.text = "\n" + " ".join(values) + "\n"
        path = tmp_path / f"{name}.vtu"
        copy.write(str(path))
        return fs.difference(reference, path)

    def reverse(values):  # the points in the reverse order, the cells still on the same points: the same data
        values[:] = [v for i in range(len(values) - 3, -1, -3) for v in values[i:i + 3]]

    points = next(a for a in tree.iter("DataArray") if a.get("Name") == "Points").text.split()
    count = len(points) // 3
    # a point's scalar 2% off its column's largest magnitude
    problem = spoilt("RTData", lambda v: v.__setitem__(5, repr(float(v[5]) + 0.02 * max(abs(float(x)) for x in v))))
    assert problem is not None and problem.startswith("points: RTData"), problem
    # a point moved: its coordinates and the centers of its cells
    assert (spoilt("Points", lambda v: v.__setitem__(1, repr(float(v[1]) + 1.0))) or "").startswith("points: ")
    # a cell joined to another point
    problem = spoilt("connectivity", lambda v: v.__setitem__(0, str((int(v[0]) + 7) % count)))
    assert problem is not None and problem.startswith("cells: Cell Center"), problem
    # the same points in another order, with the connectivity that follows them: the same data
    copy = etree.parse(str(reference))
    arrays = {a.get("Name"): a for a in copy.iter("DataArray")}
    values = arrays["Points"].text.split()
    reverse(values)
    arrays["Points"].text = " ".join(values)
    for name in [n for n, a in arrays.items() if a.getparent().tag == "PointData"]:
        ncomp = int(arrays[name].get("NumberOfComponents", "1"))
        values = arrays[name].text.split()
        arrays[name].text = " ".join(v for i in range(len(values) - ncomp, -1, -ncomp) for v in values[i:i + ncomp])
    arrays["connectivity"].text = " ".join(str(count - 1 - int(v)) for v in arrays["connectivity"].text.split())
    copy.write(str(tmp_path / "reordered.vtu"))
    assert fs.difference(reference, tmp_path / "reordered.vtu") is None
    # another type of file, or one written in binary, is no silent success
    assert fs.difference(reference, fs.reference("5.11", "slice_vtp")) is not None
    with pytest.raises(ValueError, match="Ascii"):
        copy = etree.parse(str(reference))
        next(copy.iter("DataArray")).set("format", "binary")
        copy.write(str(tmp_path / "binary.vtu"))
        fs.read_tables(tmp_path / "binary.vtu")


def test_a_legacy_vtk_file_is_read_in_both_cell_layouts(tmp_path):
    """The legacy writer's ascii file (5.1's offsets and connectivity) and the 4.2 layout (each cell as its size and
    point ids) are the same tables; a wrong cell array value is seen."""
    reference = fs.reference("5.11", "elevation_vtk")
    assert reference.suffix == ".vtk"
    text = reference.read_text()
    tables = fs.read_tables(reference)
    assert sorted(tables["points"][0]) == ["Elevation", "Normals:0", "Normals:1", "Normals:2", "Points:0", "Points:1",
                                           "Points:2"]
    assert {row[0] for row in tables["cells"][1]} == {"5"} and len(tables["cells"][1]) == 192
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("POLYGONS"))
    count = int(lines[start].split()[1]) - 1
    end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith(("POINT_DATA", "CELL_DATA")))
    numbers = " ".join(line for line in lines[start + 1:end] if not line.startswith(("OFFSETS", "CONNECTIVITY")))
    flat = [int(v) for v in numbers.split()]
    offsets, connectivity = flat[:count + 1], flat[count + 1:]
    cells = [[offsets[i + 1] - offsets[i]] + connectivity[offsets[i]:offsets[i + 1]] for i in range(count)]
    old = lines[:start] + [f"POLYGONS {count} {sum(len(c) for c in cells)}"] + [" ".join(map(str, c)) for c in cells]
    (tmp_path / "old.vtk").write_text("\n".join(old + lines[end:]) + "\n")
    assert fs.difference(reference, tmp_path / "old.vtk") is None
    at = next(i for i, line in enumerate(lines) if line.startswith("SCALARS Elevation")) + 2
    values = lines[at].split()
    values[0] = repr(float(values[0]) + 0.5)
    (tmp_path / "value.vtk").write_text("\n".join(lines[:at] + [" ".join(values)] + lines[at + 1:]) + "\n")
    assert (fs.difference(reference, tmp_path / "value.vtk") or "").startswith("points: Elevation")


def test_each_class_is_told_apart(tmp_path):
    """The classification on made-up outputs: what decides each class (no ParaView needed)."""
    rows = {"recorded": [["1", "2"], ["3", "4"]], "other": [["1", "2"], ["3", "5"]], "wrong": [["9", "9"]]}
    for name, data in rows.items():
        _write(tmp_path / f"{name}.csv", ['"a"', '"b"'], data)
    for version, content in (("5.11", "recorded"), ("5.9", "other"), ("5.13", "recorded")):
        (tmp_path / version).mkdir()
        shutil.copy(tmp_path / f"{content}.csv", tmp_path / version / "c.csv")
    traces = {"5.11": tmp_path / "5.11" / "c.py", "5.9": None, "5.13": None}

    def verdict(on, replay, original, status=0):
        runs = {("replay", "c", "5.11", on): fs.Run(status, "boom\nNameError: x", tmp_path / f"{replay}.csv"),
                ("original", "c", "5.11", on): fs.Run(0, "", tmp_path / f"{original}.csv")}
        return fs.classify(fs.Results(tmp_path, runs), "c", "5.11", on, traces, suite=tmp_path).cls

    assert verdict("5.13", "recorded", "recorded") == fs.SAME
    assert verdict("5.11", "recorded", "recorded") == fs.SAME       # its own release
    assert verdict("5.11", "recorded", "wrong") == fs.PINNED        # its own trace as it is does not do the GUI's
    assert verdict("5.13", "recorded", "wrong") == fs.PINNED        # the trace as it is computes something else
    assert verdict("5.9", "recorded", "recorded") == fs.PINNED      # 5.9's own recording computes "other"
    assert verdict("5.9", "other", "other") == fs.CHANGED           # what 5.9 itself computes for the case
    assert verdict("5.9", "wrong", "wrong") == fs.DIFFERS           # the trace as it is gives the same: not enough
    assert verdict("5.9", "other", "other", status=1) == fs.DIFFERS
    assert verdict("6.1", "wrong", "wrong") == fs.INEXPRESSIBLE     # no recording by 6.1: it has no such filter
    # A column the running release's filter no longer writes, the rest as recorded, and ParaView's own
    # compatibility (the trace as it is) writes no more: not expressible. Anything more is replay's.
    _write(tmp_path / "lacking.csv", ['"a"'], [["1"], ["3"]])
    _write(tmp_path / "lacking_wrong.csv", ['"a"'], [["1"], ["7"]])
    assert verdict("5.13", "lacking", "lacking") == fs.INEXPRESSIBLE
    assert verdict("5.13", "lacking_wrong", "lacking_wrong") == fs.DIFFERS
    assert verdict("5.13", "lacking", "recorded") == fs.DIFFERS     # the trace as it is writes it there


def test_a_char_array_written_as_characters_is_compared_by_value(tmp_path):
    """The csv writer writes a char array's values as characters: NUL for 0 (5.13's legacy Streak Line)."""
    _write(tmp_path / "numbers.csv", ['"id"', '"x"'], [["0", "1.5"], ["1", "2.5"]])
    _write(tmp_path / "chars.csv", ['"id"', '"x"'], [["\x00", "1.5"], ["\x01", "2.5"]])
    _write(tmp_path / "other.csv", ['"id"', '"x"'], [["\x00", "1.5"], ["\x02", "2.5"]])
    assert fs.difference(tmp_path / "numbers.csv", tmp_path / "chars.csv") is None
    assert fs.difference(tmp_path / "numbers.csv", tmp_path / "other.csv") is not None


def test_values_drawn_at_random_are_compared_by_the_recordings_range(tmp_path):
    """Random Vectors (lengths 2..3): other draws in the same range are the same output; a length the default
    speeds give (0..1), a column lost or another row count are seen; the deterministic columns compare as usual."""
    reference = fs.SUITE / "5.11" / "random_vectors.csv"
    compare = fs.comparison("random_vectors")
    header, rows = fs.read_csv(reference)
    quoted = ['"%s"' % name for name in header]
    vector = [header.index(f"BrownianVectors:{i}") for i in range(3)]

    def scaled(factor, row):  # the same direction, another length
        return [repr(float(v) * factor) if i in vector else v for i, v in enumerate(row)]

    _write(tmp_path / "redrawn.csv", quoted, [scaled(1.05 if i % 2 else 0.97, row) for i, row in enumerate(rows)])
    assert compare(reference, tmp_path / "redrawn.csv") is None
    assert fs.difference(reference, tmp_path / "redrawn.csv") is not None
    _write(tmp_path / "default.csv", quoted, [scaled(0.3, row) for row in rows])
    assert (compare(reference, tmp_path / "default.csv") or "").startswith("|BrownianVectors|: ")
    _write(tmp_path / "fewer.csv", quoted, rows[1:])
    assert compare(reference, tmp_path / "fewer.csv") == f"{len(rows) - 1} rows instead of {len(rows)}"
    elevation = header.index("Elevation")
    _write(tmp_path / "elevation.csv", quoted, [[("0.5" if i == elevation else v) for i, v in enumerate(row)]
                                                for row in rows])
    assert (compare(reference, tmp_path / "elevation.csv") or "").startswith("Elevation")
    assert compare(reference, tmp_path / "missing.csv") == "no output"


def test_the_time_of_the_run_is_left_out_of_environment_annotation(tmp_path):
    """Each release writes the date in its own format: that line is left out, the others are compared."""
    compare = fs.comparison("environment_annotation")
    reference = fs.SUITE / "5.9" / "environment_annotation.csv"
    assert compare(reference, fs.SUITE / "6.1" / "environment_annotation.csv") is None
    assert fs.difference(reference, fs.SUITE / "6.1" / "environment_annotation.csv") is not None
    _write(tmp_path / "path.csv", ['"Text"'], ['"Linux\nMon 1 Jan 2024 01:02:03 AM UTC\n/data/wave.vti"'])
    assert (compare(reference, tmp_path / "path.csv") or "").startswith("Text: ")
    _write(tmp_path / "user.csv", ['"Text"'], ['"alice\nLinux\nMon 1 Jan 2024 01:02:03 AM UTC\nwave.vti"'])
    assert compare(reference, tmp_path / "user.csv") is not None


def test_alone_originals_run_in_a_pvbatch_of_their_own():
    """ALONE's original traces leave their running release's batch for one of their own, run with ALONE_ENV; their
    replays, other cases and other releases stay in the releases' batches."""
    case, on = sorted(fs.ALONE)[0]
    other = next(v for v in fs.VERSIONS if (case, v) not in fs.ALONE)
    jobs = {on: [{"id": [kind, name, rec, on]} for kind in ("replay", "original") for name in (case, "slice")
                 for rec in fs.VERSIONS],
            other: [{"id": ["original", case, "5.11", other]}]}
    batches = {name: (release, [tuple(j["id"]) for j in batch], env) for name, release, batch, env in fs.set_apart(jobs)}
    assert batches[f"alone-{on}"] == (on, [("original", case, rec, on) for rec in fs.VERSIONS], fs.ALONE_ENV)
    assert sorted(batches[f"on-{on}"][1]) == sorted(tuple(j["id"]) for j in jobs[on] if j["id"][:2] != ["original", case])
    assert batches[f"on-{other}"] == (other, [("original", case, "5.11", other)], {})
    assert set(batches) == {f"alone-{on}", f"on-{on}", f"on-{other}"}


def test_alone_cases_run_every_job_in_the_pvbatch_set_apart():
    """ALONE_CASES' replays and originals, on every release, join the set-apart pvbatch; other cases stay."""
    case = sorted(fs.ALONE_CASES)[0]
    jobs = {on: [{"id": [kind, name, rec, on]} for kind in ("replay", "original") for name in (case, "slice")
                 for rec in fs.VERSIONS] for on in fs.VERSIONS}
    for name, on, batch, env in fs.set_apart(jobs):
        ids = [tuple(j["id"]) for j in batch]
        if name == f"alone-{on}":
            assert env == fs.ALONE_ENV and sorted(i for i in ids if i[1] == case) == sorted(
                (kind, case, rec, on) for kind in ("replay", "original") for rec in fs.VERSIONS)
        else:
            assert name == f"on-{on}" and env == {} and {i[1] for i in ids} == {"slice"}


# Traces that, run as they are by the release that recorded them, do not write what the GUI wrote. Their replays
# do what the GUI did (replay/script/runtime.py: Save Data at the animation's time, inputs computed before a
# choice they offer), so the replay's own-release cell is `pinned` where the trace runs.
TRACE_IS_NOT_THE_GUI = {
    # The GUI's Save Data writes at the scene's time (Annotate Time at 3.0, scale 2, shift 1: T=7.00); the traced
    # SaveData(...) that pvbatch runs updates the writer with no time at all (Annotate Time writes '?').
    "annotate_time": "time", "annotate_time_format": "time", "temporal_interpolator": "time",
    "temporal_shift_scale": "time",
    # Every tracer writes `extractComponent1.Component = 'Z'` for the third component, which pvbatch refuses
    # until the input has run (ValueError: Z is not a valid value for attribute Component).
    "extract_component": "Component = 'Z'",
    # The same for the fields group's temporal filters (at time 'none' Temporal Array Operator fails: 'No temporal
    # data has been requested'); a particle tracer asked for the first time at the saved time computes otherwise.
    "annotate_global_data": "time", "extract_time_steps": "time", "extract_time_steps_range": "time",
    "synchronize_time": "time", "temporal_array_operator": "time", "temporal_cache": "time",
    "temporal_snap_to_time_step": "time", "particle_tracer": "time",
    # Only some releases' tracers compute otherwise without the time: (case, release).
    ("streak_line", "5.13"): "time", ("streak_line", "6.1"): "time",
    ("temporal_particles_to_pathlines", "5.9"): "time", ("temporal_particles_to_pathlines", "5.11"): "time",
    # The GUI's Apply had read the whole image before Crop existed, and Crop (vtkImageClip, which does not clip
    # the data) passes on what its input holds: 729 rows. The trace's first update asks the reader for the
    # cropped extent alone: 100 rows. replay computes a filter's inputs when it is connected, as Apply had.
    "crop": "the reader's whole extent",
    # Readers with time steps (fixtures/filters/cases/readers.py): the traced SaveData updates the reader with no
    # time, which reads its own first step (OpenFOAM the first it listed: 0.5, Skip Zero Time being read only after
    # a first read), not the scene's time the GUI wrote at.
    "exodus_reader": "time", "exodus_reader_cells": "time", "exodus_reader_modes": "time", "ioss_reader": "time",
    "ioss_reader_cells": "time", "legacy_vtk_series": "time", "pvd_reader": "time", "png_series_time": "time",
    "openfoam_reader": "time", "openfoam_reader_cells": "time", "xml_series_time_array": "time",
}


def test_the_recordings_compute_their_references(suite):
    """Control: each trace, run as it is by the release that recorded it, writes its committed csv (6.1's
    run-to-run row order in Extract Edges, Feature Edges and Tessellate included), except where the trace is
    known not to do what the GUI did."""
    results, _ = suite
    failures = []
    for case, traces in fs.cases().items():
        for rec in traces:
            problem = fs.problem_of(results.runs[("original", case, rec, rec)], fs.reference(rec, case),
                                    fs.comparison(case))
            if (problem is None) == (case in TRACE_IS_NOT_THE_GUI or (case, rec) in TRACE_IS_NOT_THE_GUI):
                failures.append(f"{case} on {rec}: {problem or 'writes what the GUI wrote: not TRACE_IS_NOT_THE_GUI'}")
    assert not failures, "\n".join(failures)


def test_a_wrong_replay_output_is_classified_as_replay_differs(suite, tmp_path):
    """Control at the level of the suite: a replay output spoilt by hand turns a `same` cell into `replay differs`."""
    results, verdicts = suite
    key = next(k for k, v in sorted(verdicts.items()) if v.cls == fs.SAME and k[1] != k[2] and
               results.runs[("replay", *k)].output.suffix == ".csv")
    case, rec, on = key
    run = results.runs[("replay", case, rec, on)]
    header, rows = fs.read_csv(run.output)
    spoilt = tmp_path / f"{case}.csv"
    _write(spoilt, ['"%s"' % name for name in header], rows[: len(rows) // 2])
    runs = dict(results.runs)
    runs[("replay", case, rec, on)] = replace(run, output=spoilt)
    verdict = fs.classify(replace(results, runs=runs), case, rec, on, fs.cases()[case])
    assert verdict.cls == fs.DIFFERS, (key, verdict)
    shutil.copy(run.output, spoilt)
    assert fs.classify(replace(results, runs=runs), case, rec, on, fs.cases()[case]).cls == fs.SAME


def test_readme_table_is_what_the_suite_measured(suite):
    results, verdicts = suite
    measured = fs.render_table(verdicts)
    written = fs.readme_table()
    assert written is not None, "README.md has no filter suite table"
    if written != measured:
        changed = [f"  {a}\n→ {b}" for a, b in zip(written.splitlines(), measured.splitlines()) if a != b]
        pytest.fail("README's filter table is not what the suite measured (PYTHONPATH=. python3 "
                    "fixtures/filters/table.py writes it):\n" + "\n".join(changed[:20]) +
                    "\n\nCells that are not `same`:\n" + fs.details(verdicts))
    print(f"\nfilter suite: convert {results.seconds['convert']:.1f} s, pvbatch {results.seconds['pvbatch']:.1f} s")
