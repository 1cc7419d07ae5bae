"""The filter suite (fixtures/filters): run every recording on every release, compare, classify, render the table.

Each case was recorded by each release's own tracer with that release's output (fixtures/filters/<X.Y>/<case>.py
and .csv). For every cell (recording release R, running release P) P runs the replay of each of R's recordings
and R's original trace as it is; one pvbatch of P runs all its cells' scripts one after another
(tests/filter_batch.py). Each output is compared with R's own csv (the reference). What P's own GUI computes for
the same case (P's csv) tells ParaView's changes from replay's:

    same             the replay computes what the recording computed
    pinned           the same, thanks to replay: on P the trace as it is computes something else, or P's own
                     recording of the case does (a default replay pins, a property it maps)
    ParaView changed the replay differs from the recording but computes what P's own recording computes: the
                     algorithm or a default changed and replay does not (or cannot) bring the old result back
    not expressible  P has no such filter (P's GUI made no recording of the case)
    replay differs   anything else: replay's to fix (the trace as it is on P is shown beside, to explain)

Used by tests/test_filter_suite.py and fixtures/filters/table.py (which writes the README table).
"""
from __future__ import annotations

import csv
import json
import math
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from pv import FIXTURES, home_env, paraview_program

if str(FIXTURES) not in sys.path:
    sys.path.insert(0, str(FIXTURES))
import paths  # noqa: E402  (fixtures/paths.py)

from replay.batch.runner import lost_display, xvfb_run

VERSIONS = ("5.9", "5.11", "5.13", "6.1")
SUITE = FIXTURES / "filters"
DRIVER = Path(__file__).resolve().parent / "filter_batch.py"
RECORDED_OUT = "/tmp/replay-fixtures/out/filters/"
README = FIXTURES.parent / "README.md"
BEGIN = "<!-- filter suite table: written by fixtures/filters/table.py from the suite's results; do not edit -->"
END = "<!-- end of filter suite table -->"

SAME, PINNED, CHANGED = "same", "pinned", "ParaView changed"
INEXPRESSIBLE, DIFFERS = "not expressible", "replay differs"
CLASSES = (SAME, PINNED, CHANGED, INEXPRESSIBLE, DIFFERS)
SYMBOLS = {SAME: "✓", PINNED: "P", CHANGED: "PV", INEXPRESSIBLE: "–", DIFFERS: "✗"}
# Values compare within this fraction of the column's largest magnitude (csv keeps 5 significant digits), or
# within ROUNDOFF of each other: a column of zeros holds 1e-19 on one release and 1e-17 on another.
TOLERANCE = 2e-3
ROUNDOFF = 1e-9


def install_data() -> None:
    """The suite's inputs where its recordings read them (/tmp/replay-fixtures/data/filters)."""
    paths.install_data(paths.CANONICAL_DATA + "/filters", source=str(SUITE / "data"))


def cases() -> dict[str, dict[str, Path]]:
    """case -> {release: trace} for every recording in fixtures/filters/<X.Y>/."""
    found: dict[str, dict[str, Path]] = {}
    for version in VERSIONS:
        for trace in sorted((SUITE / version).glob("*.py")):
            found.setdefault(trace.stem, {})[version] = trace
    return dict(sorted(found.items()))


def reference(version: str, case: str, suite: Path = SUITE) -> Path:
    """What `version`'s recording of `case` saved: <case>.csv, or the file of another writer (<case>.vtu, ...)."""
    saved = [p for p in sorted((suite / version).glob(case + ".*")) if p.suffix != ".py"]
    return saved[0] if saved else suite / version / f"{case}.csv"


# ---------------------------------------------------------------------------
# comparing two csv files
# ---------------------------------------------------------------------------
def read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    return (rows[0], rows[1:]) if rows else ([], [])


def _number(text: str):
    try:
        return float(text)
    except ValueError:
        return None


def _columns(header, rows):
    """name -> list of values (floats where the whole column is numeric, else strings)."""
    columns = {}
    for index, name in enumerate(header):
        values = [row[index] if index < len(row) else "" for row in rows]
        numbers = [_number(v) for v in values]
        if not all(n is not None for n in numbers) and values and all(len(v) == 1 for v in values):
            # The csv writer writes a char array's values as characters (5.13's legacy Streak Line: NUL for 0).
            numbers = [float(ord(v)) for v in values]
        columns[name] = numbers if all(n is not None for n in numbers) else values
    return columns


def _order(columns, names, scales, shift):
    """Row order sorted on values quantised to the tolerance (shifted by half a step on the second try, so two
    values on either side of a step boundary sort alike at least once)."""
    def key(i):
        parts = []
        for name in names:
            value = columns[name][i]
            if isinstance(value, float) and math.isfinite(value):
                step = max(TOLERANCE * scales[name], ROUNDOFF)
                parts.append((0, math.floor(value / step + shift) if step else value, ""))
            else:
                parts.append((1, 0, str(value)))
        return parts
    count = len(columns[names[0]]) if names else 0
    return sorted(range(count), key=key)


def difference(expected: Path, actual: Path, without: tuple[str, ...] = (), tables=None) -> str | None:
    """None when `actual` holds the data of `expected`: the same columns and rows, every value within the
    tolerance, rows in any order. Else what differs, in a few words. A VTK file (read_vtk) is compared table by
    table: points, cells, field arrays. `without`: columns of `expected` left out; `tables`: how two tables
    are compared (header_e, rows_e, header_a, rows_a) -> what differs, _difference unless a case says otherwise."""
    if not actual.exists():
        return "no output"
    tables_e, tables_a = read_tables(expected), read_tables(actual)
    for part, (header, rows) in list(tables_e.items()):
        kept = [i for i, name in enumerate(header) if name not in without]
        tables_e[part] = ([header[i] for i in kept], [[row[i] for i in kept if i < len(row)] for row in rows])
    if list(tables_e) != list(tables_a):
        return "parts differ: %s instead of %s" % (", ".join(tables_a) or "none", ", ".join(tables_e) or "none")
    for part, (header_e, rows_e) in tables_e.items():
        problem = (tables or _difference)(header_e, rows_e, *tables_a[part])
        if problem is not None:
            return f"{part}: {problem}" if part else problem
    return None


def _columns_differ(header_e, header_a) -> str | None:
    if set(header_e) != set(header_a):
        missing, extra = sorted(set(header_e) - set(header_a)), sorted(set(header_a) - set(header_e))
        return "columns differ:" + (" missing %s" % ", ".join(missing) if missing else "") + (
            " extra %s" % ", ".join(extra) if extra else "")
    return None


def _difference(header_e, rows_e, header_a, rows_a) -> str | None:
    problem = _columns_differ(header_e, header_a)
    if problem is not None:
        return problem
    if len(rows_e) != len(rows_a):
        return "%d rows instead of %d" % (len(rows_a), len(rows_e))
    cols_e, cols_a = _columns(header_e, rows_e), _columns(header_a, rows_a)
    names = sorted(header_e, key=lambda n: (not n.startswith("Points"), n))
    scales = {}
    for name in names:
        if isinstance(cols_e[name][0] if cols_e[name] else 0.0, float) != isinstance(
                cols_a[name][0] if cols_a[name] else 0.0, float):
            return "column %s: numbers vs text" % name
        numbers = [abs(v) for v in cols_e[name] + cols_a[name] if isinstance(v, float) and math.isfinite(v)]
        scales[name] = max(numbers, default=0.0) or 1.0
    worst = None
    for orders in ((range(len(rows_e)), range(len(rows_a))),
                   (_order(cols_e, names, scales, 0.0), _order(cols_a, names, scales, 0.0)),
                   (_order(cols_e, names, scales, 0.5), _order(cols_a, names, scales, 0.5))):
        problem = _compare_rows(cols_e, cols_a, names, scales, *orders)
        if problem is None:
            return None
        worst = worst or problem
    return worst


def _compare_rows(cols_e, cols_a, names, scales, order_e, order_a):
    for name in names:
        e, a = cols_e[name], cols_a[name]
        for i, j in zip(order_e, order_a):
            x, y = e[i], a[j]
            if isinstance(x, float):
                if not (abs(x - y) <= max(TOLERANCE * scales[name], ROUNDOFF) or (math.isnan(x) and math.isnan(y))):
                    return "%s: %g instead of %g" % (name, y, x)
            elif x != y:
                return "%s: %r instead of %r" % (name, y, x)
    return None


# ---------------------------------------------------------------------------
# outputs that are not the same from one run to the next: only what of them is deterministic is compared
# ---------------------------------------------------------------------------
# Random Attributes and Random Vectors draw from VTK's one random sequence per process (vtkMath::Random): their
# values depend on what the process ran before (a batch's earlier jobs). What is drawn uniformly is compared by
# range: each value of the replay inside the recording's range for it, widened by RANDOM_MARGIN of its span (the
# recording holds a sample, not the bounds: the chance that the bound lies farther is 0.9^rows). Random
# Attributes draws each component (an array's name); Random Vectors a vector's length ('|name|': its components,
# a direction drawn otherwise, are not compared). So a lost ComponentRange, DataType or Minimum/Maximum Speed
# shows; the columns, the row count and every other column compare as usual. case -> arrays.
RANDOM_ARRAYS = {"random_attributes": ("RandomPointVectors", "RandomCellScalars"),
                 "random_vectors": ("|BrownianVectors|",)}
RANDOM_MARGIN = 0.1
# Environment Annotation writes the date and time of the run (each release in its own format): its text is
# compared with the line holding a time of day left out; the other lines (system name, file name) as usual.
MOMENT_CASES = {"environment_annotation"}
MOMENT = re.compile(r"\b\d{1,2}:\d{2}:\d{2}")


def comparison(case: str):
    """How `case`'s output is compared with its reference: function(expected, actual) -> what differs or None."""
    if case in RANDOM_ARRAYS:
        return lambda expected, actual: random_difference(expected, actual, RANDOM_ARRAYS[case])
    if case in MOMENT_CASES:
        return lambda expected, actual: difference(expected, actual, tables=_moment_difference)
    return difference


def _array_of(column: str) -> str:
    """The array a column holds: 'V:1' -> 'V'."""
    base, colon, component = column.rpartition(":")
    return base if colon and component.isdigit() else column


def random_difference(expected: Path, actual: Path, arrays: tuple[str, ...]) -> str | None:
    """difference(), with the columns of `arrays` compared by range alone (_outside_range)."""
    def tables(header_e, rows_e, header_a, rows_a):
        drawn = [name for name in header_e if _array_of(name) in arrays or f"|{_array_of(name)}|" in arrays]
        problem = _columns_differ(header_e, header_a)
        problem = problem or _outside_range(header_e, rows_e, header_a, rows_a, drawn, arrays)
        if problem is not None:
            return problem
        kept_e, kept_a = ([i for i, n in enumerate(h) if n not in drawn] for h in (header_e, header_a))
        return _difference([header_e[i] for i in kept_e], [[r[i] for i in kept_e] for r in rows_e],
                           [header_a[i] for i in kept_a], [[r[i] for i in kept_a] for r in rows_a])

    return difference(expected, actual, tables=tables)


def _outside_range(header_e, rows_e, header_a, rows_a, drawn, arrays) -> str | None:
    """The first value of the replay (a column of `arrays`, or the length of a '|vector|' of them) outside the
    recording's range."""
    if len(rows_e) != len(rows_a):
        return "%d rows instead of %d" % (len(rows_a), len(rows_e))
    cols_e, cols_a = _columns(header_e, rows_e), _columns(header_a, rows_a)
    checked = {name: (cols_e[name], cols_a[name]) for name in drawn if _array_of(name) in arrays}
    for array in sorted({_array_of(name) for name in drawn if f"|{_array_of(name)}|" in arrays}):
        components = [name for name in drawn if _array_of(name) == array]
        checked[f"|{array}|"] = tuple([math.sqrt(sum(column[i] ** 2 for column in columns)) for i in range(len(rows))]
                                      for columns, rows in (([cols_e[n] for n in components], rows_e),
                                                            ([cols_a[n] for n in components], rows_a)))
    for name, (values_e, values_a) in checked.items():
        if not values_e:
            continue
        if not all(isinstance(x, float) for x in values_e + values_a):
            return "column %s: not numbers" % name
        low, high = min(values_e), max(values_e)
        margin = RANDOM_MARGIN * (high - low) + max(TOLERANCE * max(abs(low), abs(high)), ROUNDOFF)
        outside = [x for x in values_a if not low - margin <= x <= high + margin]
        if outside:
            return "%s: %g outside the recording's range %g..%g" % (name, outside[0], low, high)
    return None


def _moment_difference(header_e, rows_e, header_a, rows_a) -> str | None:
    """_difference(), each text's lines that hold a time of day (MOMENT) read as '<the moment>'."""
    return _difference(header_e, _without_moment(rows_e), header_a, _without_moment(rows_a))


def _without_moment(rows):
    return [["\n".join("<the moment>" if MOMENT.search(line) else line for line in value.split("\n"))
             for value in row] for row in rows]


# ---------------------------------------------------------------------------
# reading the other writers' files (VTK XML and legacy, ascii) as csv-like tables
# ---------------------------------------------------------------------------
XML_SUFFIXES = (".vtp", ".vtu", ".vti", ".vts", ".vtr")
# VTK cell types of a poly data's cells, which its files do not store: by kind and number of points
_POLY_TYPES = {"Verts": (1, 2), "Lines": (3, 4), "Strips": (6, 6)}


def read_tables(path: Path) -> dict[str, tuple[list[str], list[list[str]]]]:
    """part -> (header, rows): a csv is one table (part ""); a VTK file, read_vtk's."""
    if path.suffix in XML_SUFFIXES or path.suffix == ".vtk":
        return read_vtk(path)
    return {"": read_csv(path)}


def read_vtk(path: Path) -> dict[str, tuple[list[str], list[list[str]]]]:
    """A VTK file written in ascii (XML: DataMode='Ascii'; legacy: FileType='Ascii') as the columns Save Data's
    csv would hold: "points" (Points:0..2 and every point array, a component per column as 'V:0'), "cells"
    (Cell Type, Cell Size, Cell Center:0..2, the mean of its points, and every cell array: the cells' own
    point ids would tie them to the points' order, which the comparison ignores) and one table per field
    array ("field NAME")."""
    data = _read_xml(path) if path.suffix in XML_SUFFIXES else _read_legacy(path)
    points, cells = data["points"], data["cells"]
    tables = {}
    header, columns = ["Points:0", "Points:1", "Points:2"], [[p[i] for p in points] for i in range(3)]
    _add_arrays(header, columns, data["point arrays"])
    tables["points"] = (header, _rows(columns, len(points)))
    header = ["Cell Type", "Cell Size", "Cell Center:0", "Cell Center:1", "Cell Center:2"]
    centers = [[sum(points[i][axis] for i in ids) / len(ids) if ids else 0.0 for _, ids in cells]
               for axis in range(3)]
    columns = [[kind for kind, _ in cells], [len(ids) for _, ids in cells]] + centers
    _add_arrays(header, columns, data["cell arrays"])
    tables["cells"] = (header, _rows(columns, len(cells)))
    for name, (components, values) in sorted(data["field arrays"].items()):
        header, columns = [], []
        _add_arrays(header, columns, {name: (components, values)})
        tables[f"field {name}"] = (header, _rows(columns, len(values) // max(components, 1)))
    return tables


def _add_arrays(header, columns, arrays):
    for name, (components, values) in sorted(arrays.items()):
        for c in range(components):
            header.append(name if components == 1 else f"{name}:{c}")
            columns.append(values[c::components])


def _rows(columns, count):
    return [[repr(column[i]) if isinstance(column[i], float) else str(column[i]) for column in columns]
            for i in range(count)]


def _numbers(text: str | None) -> list:
    return [float(v) if any(c in v for c in ".eEnN") else int(v) for v in (text or "").split()]


def _read_xml(path: Path) -> dict:
    from lxml import etree

    root = etree.parse(str(path)).getroot()
    kind = root.get("type")
    grid = root.find(kind)
    if grid is None or kind not in ("PolyData", "UnstructuredGrid", "ImageData", "StructuredGrid", "RectilinearGrid"):
        raise ValueError(f"{path}: a VTK XML {kind} file, which the suite does not read")
    data = {"points": [], "cells": [], "point arrays": {}, "cell arrays": {}, "field arrays": {}}

    def values(array):
        if array.get("format") != "ascii":
            raise ValueError(f"{path}: {array.get('Name')} is {array.get('format')}: save it with DataMode='Ascii'")
        return _numbers(array.text)

    def arrays(holder, into):
        for array in holder if holder is not None else ():
            if array.tag == "DataArray":
                found = into.setdefault(array.get("Name"), (int(array.get("NumberOfComponents", "1")), []))
                found[1].extend(values(array))

    def named(holder, name):
        return values(next(a for a in holder if a.get("Name") == name))

    arrays(grid.find("FieldData"), data["field arrays"])
    for piece in grid.findall("Piece"):
        base = len(data["points"])
        if kind in ("ImageData", "RectilinearGrid"):
            extent = [int(v) for v in piece.get("Extent").split()]
            if kind == "ImageData":
                origin = [float(v) for v in grid.get("Origin").split()]
                spacing = [float(v) for v in grid.get("Spacing").split()]
                direction = [float(v) for v in (grid.get("Direction") or "1 0 0 0 1 0 0 0 1").split()]
                axes = [[spacing[a] * i for i in range(extent[2 * a], extent[2 * a + 1] + 1)]
                        for a in range(3)]
                offset = origin
            else:
                coordinates = piece.find("Coordinates")
                axes = [values(array) for array in coordinates if array.tag == "DataArray"]
                direction, offset = [1, 0, 0, 0, 1, 0, 0, 0, 1], [0.0, 0.0, 0.0]
            for z in axes[2]:
                for y in axes[1]:
                    for x in axes[0]:
                        data["points"].append([offset[r] + direction[3 * r] * x + direction[3 * r + 1] * y +
                                               direction[3 * r + 2] * z for r in range(3)])
            data["cells"].extend(_structured_cells(extent, base))
        elif kind == "StructuredGrid":
            extent = [int(v) for v in piece.get("Extent").split()]
            flat = values(piece.find("Points")[0])
            data["points"].extend(flat[i:i + 3] for i in range(0, len(flat), 3))
            data["cells"].extend(_structured_cells(extent, base))
        else:
            flat = values(piece.find("Points")[0]) if piece.find("Points") is not None else []
            data["points"].extend(flat[i:i + 3] for i in range(0, len(flat), 3))
            if kind == "UnstructuredGrid":
                cells = piece.find("Cells")
                blocks = [(named(cells, "types"), named(cells, "connectivity"), named(cells, "offsets"))]
            else:
                blocks = []
                for tag in ("Verts", "Lines", "Polys", "Strips"):
                    holder = piece.find(tag)
                    if holder is not None and len(holder):
                        blocks.append((tag, named(holder, "connectivity"), named(holder, "offsets")))
            for types, connectivity, offsets in blocks:
                start = 0
                for index, end in enumerate(offsets):
                    ids = [base + i for i in connectivity[start:end]]
                    data["cells"].append((types[index] if isinstance(types, list) else _poly_type(types, ids), ids))
                    start = end
        arrays(piece.find("PointData"), data["point arrays"])
        arrays(piece.find("CellData"), data["cell arrays"])
    return data


def _poly_type(kind: str, ids: list) -> int:
    if kind == "Polys":
        return {3: 5, 4: 9}.get(len(ids), 7)
    few, many = _POLY_TYPES[kind]
    return few if len(ids) <= (1 if kind == "Verts" else 2) else many


def _structured_cells(extent, base):
    """The cells of a structured extent, as (type, point ids): voxels, pixels or lines by its dimension."""
    sizes = [extent[2 * a + 1] - extent[2 * a] + 1 for a in range(3)]
    ranges = [range(max(s - 1, 1)) for s in sizes]
    steps = [[0, 1] if s > 1 else [0] for s in sizes]
    kind = {0: 1, 1: 3, 2: 8, 3: 11}[sum(1 for s in sizes if s > 1)]
    cells = []
    for k in ranges[2]:
        for j in ranges[1]:
            for i in ranges[0]:
                ids = [base + (i + di) + sizes[0] * ((j + dj) + sizes[1] * (k + dk))
                       for dk in steps[2] for dj in steps[1] for di in steps[0]]
                cells.append((kind, ids))
    return cells


_LEGACY_CELLS = {"VERTICES": "Verts", "LINES": "Lines", "POLYGONS": "Polys", "TRIANGLE_STRIPS": "Strips"}


def _read_legacy(path: Path) -> dict:
    """A legacy VTK file (4.x or 5.1 cells, ascii) of poly data or an unstructured grid."""
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    if len(lines) < 4 or lines[2].strip() != "ASCII":
        raise ValueError(f"{path}: not an ascii legacy VTK file: save it with FileType='Ascii'")
    kind = lines[3].split()[1] if lines[3].startswith("DATASET") else None
    if kind not in ("POLYDATA", "UNSTRUCTURED_GRID"):
        raise ValueError(f"{path}: a legacy {kind} file, which the suite does not read")
    data = {"points": [], "cells": [], "point arrays": {}, "cell arrays": {}, "field arrays": {}}
    state = {"at": 4, "arrays": None, "count": 0}
    blocks, types = [], []

    def take(count):
        out = []
        while len(out) < count:
            out.extend(_numbers(lines[state["at"]]))
            state["at"] += 1
        return out

    def cells(count, size):
        if lines[state["at"]].startswith("OFFSETS"):  # 5.1: offsets then connectivity
            state["at"] += 1
            offsets = take(count)
            state["at"] += 1
            connectivity = take(size)
            return [connectivity[offsets[i]:offsets[i + 1]] for i in range(count - 1)]
        flat = take(size)  # 4.x: each cell as its size and its point ids
        out, at = [], 0
        for _ in range(count):
            out.append(flat[at + 1:at + 1 + flat[at]])
            at += 1 + flat[at]
        return out

    while state["at"] < len(lines):
        words = lines[state["at"]].split()
        state["at"] += 1
        if not words:
            continue
        word = words[0]
        if word == "METADATA":  # information keys, component names: up to the blank line that ends them
            while state["at"] < len(lines) and lines[state["at"]].strip():
                state["at"] += 1
        elif word == "POINTS":
            flat = take(3 * int(words[1]))
            data["points"] = [flat[i:i + 3] for i in range(0, len(flat), 3)]
        elif word in _LEGACY_CELLS or word == "CELLS":
            blocks.append((_LEGACY_CELLS.get(word), cells(int(words[1]), int(words[2]))))
        elif word == "CELL_TYPES":
            types = take(int(words[1]))
        elif word in ("POINT_DATA", "CELL_DATA"):
            state["arrays"] = data["point arrays" if word == "POINT_DATA" else "cell arrays"]
            state["count"] = int(words[1])
        elif word == "SCALARS":
            components = int(words[3]) if len(words) > 3 else 1
            if lines[state["at"]].startswith("LOOKUP_TABLE"):
                state["at"] += 1
            state["arrays"][_unescape(words[1])] = (components, take(components * state["count"]))
        elif word in ("VECTORS", "NORMALS", "TENSORS", "TEXTURE_COORDINATES"):
            components = {"TENSORS": 9, "TEXTURE_COORDINATES": int(words[2]) if len(words) > 3 else 2}.get(word, 3)
            state["arrays"][_unescape(words[1])] = (components, take(components * state["count"]))
        elif word == "FIELD":
            into = state["arrays"] if state["arrays"] is not None else data["field arrays"]
            for _ in range(int(words[2])):
                head = lines[state["at"]].split()
                state["at"] += 1
                if head[0] == "NULL_ARRAY":
                    continue
                components, tuples = int(head[1]), int(head[2])
                into[_unescape(head[0])] = (components, take(components * tuples))
        elif word == "LOOKUP_TABLE":
            take(4 * int(words[2]))
        else:
            raise ValueError(f"{path}:{state['at']}: {word}: a legacy section the suite does not read")
    for kind, block in blocks:
        for index, ids in enumerate(block):
            data["cells"].append((_poly_type(kind, ids) if kind else types[index], ids))
    return data


def _unescape(name: str) -> str:
    return re.sub(r"%([0-9A-Fa-f]{2})", lambda m: chr(int(m.group(1), 16)), name)


# ---------------------------------------------------------------------------
# running the cells
# ---------------------------------------------------------------------------
@dataclass
class Run:
    status: int | None = None      # None: never finished (the process died in it)
    stderr: str = ""
    output: Path | None = None


@dataclass
class Results:
    root: Path
    runs: dict = field(default_factory=dict)     # ("replay" | "original", case, R, P) -> Run
    seconds: dict = field(default_factory=dict)  # phase -> wall seconds


def prepare(root: Path, selected: dict[str, dict[str, Path]]) -> dict[tuple[str, str], list[dict]]:
    """Convert every recording once; one job list per cell (R, P): R's replays and R's originals."""
    from replay import convert_trace

    jobs: dict[tuple[str, str], list[dict]] = {(r, p): [] for r in VERSIONS for p in VERSIONS}
    for case, traces in selected.items():
        for rec, trace in traces.items():
            text = trace.read_text(encoding="utf-8")
            script = root / "scripts" / rec / f"{case}_replay.py"
            script.parent.mkdir(parents=True, exist_ok=True)
            script.write_text(convert_trace(text, source_name=trace.name).code, encoding="utf-8")
            saved = reference(rec, case).name
            for on in VERSIONS:
                out = root / "replay" / f"{rec}-on-{on}" / case
                jobs[(rec, on)].append({"id": ["replay", case, rec, on], "script": str(script),
                                        "argv": ["--output-dir", str(out)], "output": str(out / saved)})
                out = root / "original" / f"{rec}-on-{on}" / case
                out.mkdir(parents=True)
                original = out / f"{case}.py"
                assert RECORDED_OUT in text, f"{trace}: no output under {RECORDED_OUT}"
                original.write_text(text.replace(RECORDED_OUT, f"{out}/"), encoding="utf-8")
                jobs[(rec, on)].append({"id": ["original", case, rec, on], "script": str(original), "argv": [],
                                        "output": str(out / saved)})
    return {cell: batch for cell, batch in jobs.items() if batch}


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def by_running_release(cells: dict[tuple[str, str], list[dict]]) -> dict[str, list[dict]]:
    """The cells' jobs, one batch per running release: a pvbatch costs ~8 s to start, its 118 jobs of a cell ~15 s,
    so 4 processes instead of 16 save a minute of the suite's ~4. Ordered by the compatibility mode the scripts
    switch on (a replay of an older recording: that version; else none), as the batch imports paraview.simple
    again each time that mode changes (2-4 s on 5.13 and 6.1; tests/filter_batch.py)."""
    def mode(job):
        kind, _case, rec, on = job["id"]
        return () if kind == "original" or _version(on) <= _version(rec) else _version(rec)

    batches: dict[str, list[dict]] = {}
    for (_rec, on), jobs in sorted(cells.items(), key=lambda item: (_version(item[0][1]), _version(item[0][0]))):
        batches.setdefault(on, []).extend(jobs)
    return {on: sorted(jobs, key=mode) for on, jobs in batches.items()}


# Original traces (run as they are) that must not follow other scripts in a pvbatch: (case, running release).
# ParaView 5.9's SPH interpolators (VTK 9.0's vtkSPHInterpolator) never set their Shepard sum array's pointer, which
# a run with Compute Shepard Sum off then uses as it finds it: zero in a new process, freed memory's garbage after
# other scripts, and 5.9's pvbatch dies (SIGSEGV in vtkSPHInterpolator::Probe) or not, depending on what ran before.
# The replays set it first (replay/script/runtime.py _replay_shepard_sum) and stay in their release's batch. These
# originals go to one more pvbatch of that release, all of them, in which glibc hands out zeroed memory as to a new
# process (ALONE_ENV: its perturb tunable, and no thread cache, which skips it): one process (5.9's takes 5.7 s to
# start, its 4 jobs here 1 s) rather than one for each.
ALONE = {("sph_volume_interpolator", "5.9")}
ALONE_ENV = {"GLIBC_TUNABLES": "glibc.malloc.perturb=255:glibc.malloc.tcache_count=0"}
# Cases whose every job (replays and originals, on every release) goes to that pvbatch too. Rectilinear Grid
# Connectivity reads one id past the end of each block's face list (valgrind: an invalid read, on every release): in
# a batch after other scripts, what lies there made 5.11 abort once (vtkPolyData::GetCell: numPts == 4) and 6.1 die
# once. A user's pvbatch runs one script: so does this, after nothing but the other set-apart jobs.
ALONE_CASES = {"rectilinear_grid_connectivity"}


def set_apart(batches: dict[str, list[dict]]) -> list[tuple[str, str, list[dict], dict]]:
    """The pvbatch processes to run, as (name, release, jobs, environment): each release's batch, and ALONE's
    originals and ALONE_CASES' jobs on that release in one of their own."""
    out = []
    for on, jobs in batches.items():
        apart = [job for job in jobs if job["id"][1] in ALONE_CASES
                 or job["id"][0] == "original" and (job["id"][1], on) in ALONE]
        out.append((f"on-{on}", on, [job for job in jobs if job not in apart], {}))
        if apart:
            out.append((f"alone-{on}", on, apart, ALONE_ENV))
    return out


def run_batch(root: Path, on: str, name: str, jobs: list[dict], home: Path, env: dict | None = None) -> dict:
    """All jobs of a batch in one pvbatch of `on` (given `env` besides the environment's); a job that kills the
    process is recorded as unfinished and the rest go on in a new process. Returns id -> Run."""
    done: dict = {}
    lost: dict = {}  # job id -> times it lost its display
    pending = list(jobs)
    attempt = 0
    while pending:
        attempt += 1
        jobs_file = root / "batches" / f"{name}-{attempt}.json"
        log_file = root / "batches" / f"{name}-{attempt}.jsonl"
        jobs_file.parent.mkdir(parents=True, exist_ok=True)
        jobs_file.write_text(json.dumps(pending))
        setting = ["env", *(f"{key}={value}" for key, value in sorted(env.items()))] if env else []
        proc = subprocess.run([*xvfb_run(), *setting, paraview_program("pvbatch", on), str(DRIVER), str(jobs_file),
                               str(log_file)], capture_output=True, text=True, timeout=1800, env=home_env(home))
        started = None
        for line in log_file.read_text().splitlines() if log_file.exists() else ():
            entry = json.loads(line)
            if entry["event"] == "start":
                started = tuple(entry["id"])
            else:
                done[tuple(entry["id"])] = Run(entry["status"], entry["stderr"])
                started = None
        if started is not None:  # the process died in this job
            if lost_display(proc.stderr) and lost.get(started, 0) < 2:
                lost[started] = lost.get(started, 0) + 1  # the X server, not the script: run it again
            else:
                done[started] = Run(None, proc.stderr[-4000:])
        remaining = [j for j in pending if tuple(j["id"]) not in done]
        if len(remaining) == len(pending):  # nothing ran at all
            if lost_display(proc.stderr) and attempt < 4 + sum(lost.values()):
                continue  # the X server went away first: the machine, not the scripts
            for job in remaining:
                done[tuple(job["id"])] = Run(None, proc.stderr[-4000:])
            break
        pending = remaining
    for job in jobs:
        done[tuple(job["id"])].output = Path(job["output"])
    return done


def run_suite(root: Path, selected: dict[str, dict[str, Path]] | None = None, workers: int = 2) -> Results:
    selected = cases() if selected is None else selected
    results = Results(root)
    started = time.monotonic()
    batches = set_apart(by_running_release(prepare(root, selected)))
    results.seconds["convert"] = time.monotonic() - started
    home = root / "home"
    home.mkdir(exist_ok=True)
    # The slowest releases first, so that the two workers finish together.
    order = sorted(batches, key=lambda batch: ({"6.1": 0, "5.13": 1, "5.11": 2}.get(batch[1], 3), -len(batch[2])))
    started = time.monotonic()
    with ThreadPoolExecutor(workers) as pool:
        for runs in pool.map(lambda batch: run_batch(root, batch[1], batch[0], batch[2], home, batch[3]), order):
            results.runs.update(runs)
    results.seconds["pvbatch"] = time.monotonic() - started
    return results


# ---------------------------------------------------------------------------
# classifying
# ---------------------------------------------------------------------------
@dataclass
class Verdict:
    cls: str
    why: str = ""


def classify(results: Results, case: str, rec: str, on: str, traces: dict[str, Path], suite: Path = SUITE) -> Verdict:
    """What P's own GUI computes for the same case (P's reference) tells ParaView's changes from replay's: a
    replay on P that differs from R's output but equals P's own is ParaView's change. The trace as it is on P
    only explains (it often cannot run there: `.Set`, `ThresholdRange`), except that a trace that runs on P and
    computes something else while the replay computes R's output shows replay's pinning at work."""
    recorded = reference(rec, case, suite)
    own = reference(on, case, suite)
    compare = comparison(case)
    replay, original = results.runs[("replay", case, rec, on)], results.runs[("original", case, rec, on)]
    replay_problem = problem_of(replay, recorded, compare)
    original_problem = problem_of(original, recorded, compare)
    if replay_problem is None:
        # On its own release too: where the trace as it is does not do what the GUI did (a SaveData at no time).
        if original.status == 0 and original_problem is not None:
            return Verdict(PINNED, "the trace as it is: " + original_problem)
        if on in traces and compare(recorded, own) is not None:
            return Verdict(PINNED, f"ParaView {on}'s own recording: " + compare(recorded, own))
        return Verdict(SAME)
    if on not in traces:
        return Verdict(INEXPRESSIBLE, f"ParaView {on} has no such filter: " + replay_problem)
    if on != rec and replay.status == 0 and compare(own, replay.output) is None:
        return Verdict(CHANGED, replay_problem + f", as ParaView {on}'s own recording")
    lacking = _only_missing(replay_problem)
    if lacking and replay.status == 0 and original_problem == replay_problem and \
            difference(recorded, replay.output, without=lacking) is None:
        # Everything else as recorded, and ParaView's own compatibility (the trace as it is) writes no more.
        return Verdict(INEXPRESSIBLE, f"ParaView {on}'s filter does not write {', '.join(lacking)}; the rest "
                                      "is the recording's")
    return Verdict(DIFFERS, replay_problem + ("" if original_problem is None else
                                              "; the trace as it is: " + original_problem))


def _only_missing(problem: str) -> tuple[str, ...]:
    """The columns a 'columns differ: missing A, B' problem names, when nothing else differs in them."""
    found = re.fullmatch(r"(?:\w+: )?columns differ: missing ([^;]+)", problem)
    return tuple(found.group(1).split(", ")) if found else ()


def problem_of(run: Run, reference: Path, compare=difference) -> str | None:
    """What is wrong with a run's output; `compare`: the case's comparison()."""
    if run.status is None:
        return "pvbatch died: " + _last_line(run.stderr)
    if run.status != 0:
        return "failed: " + _last_line(run.stderr)
    return compare(reference, run.output)


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:200] if lines else "(no message)"


def classify_all(results: Results, selected=None) -> dict[tuple[str, str, str], Verdict]:
    selected = cases() if selected is None else selected
    return {(case, rec, on): classify(results, case, rec, on, traces)
            for case, traces in selected.items() for rec in traces for on in VERSIONS}


# ---------------------------------------------------------------------------
# the README table
# ---------------------------------------------------------------------------
def render_table(verdicts: dict[tuple[str, str, str], Verdict]) -> str:
    cells = [(rec, on) for rec in VERSIONS for on in VERSIONS]
    case_names = sorted({case for case, _, _ in verdicts})
    counts = {cls: sum(1 for v in verdicts.values() if v.cls == cls) for cls in CLASSES}
    lines = [BEGIN, "",
             "%d cases, %d replays: " % (len(case_names), len(verdicts)) +
             ", ".join("%s %d %s" % (SYMBOLS[cls], counts[cls], cls) for cls in CLASSES) + ".", "",
             "| case | " + " | ".join(f"{rec}→{on}" for rec, on in cells) + " |",
             "|---|" + "---|" * len(cells)]
    for case in case_names:
        marks = []
        for cell in cells:
            verdict = verdicts.get((case, *cell))
            marks.append(SYMBOLS[verdict.cls] if verdict else " ")
        lines.append(f"| `{case}` | " + " | ".join(marks) + " |")
    changed = {}
    for (case, rec, on), verdict in sorted(verdicts.items()):
        if verdict.cls == CHANGED:
            changed.setdefault(case, []).append(f"{rec}→{on}")
    if changed:
        lines += ["", "Where ParaView itself computes otherwise (PV), by case: the cells, and what differs in the first:", ""]
        for case, cells_changed in changed.items():
            first = verdicts[(case, *cells_changed[0].split("→"))].why
            lines.append(f"- `{case}`: {', '.join(cells_changed)} ({first.split(', as ParaView')[0]})")
    lines += ["", END]
    return "\n".join(lines)


def readme_table(text: str | None = None) -> str | None:
    text = README.read_text(encoding="utf-8") if text is None else text
    match = re.search(re.escape(BEGIN) + r".*?" + re.escape(END), text, re.S)
    return match.group(0) if match else None


def write_readme_table(table: str) -> None:
    text = README.read_text(encoding="utf-8")
    current = readme_table(text)
    assert current is not None, f"README.md has no {BEGIN!r} ... {END!r} section"
    README.write_text(text.replace(current, table), encoding="utf-8")


def details(verdicts) -> str:
    """One line per cell that is not `same`: the case, the cell, the class and why (for reports and failures)."""
    return "\n".join(f"{case} {rec}->{on}: {v.cls}: {v.why}" for (case, rec, on), v in sorted(verdicts.items())
                     if v.cls != SAME)
