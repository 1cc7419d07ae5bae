"""Read a sweep folder the way Cinema readers do: pycinema's CinemaDatabaseReader, then the Spec D rules
that reader does not check itself (column types, FILE columns last, files present)."""
from __future__ import annotations

import os
import re
from pathlib import Path


FILE_COLUMNS = "^FILE(_.*)?$"


def read_cdb(folder) -> tuple[list[str], list[dict]]:
    """(header, rows as dicts) as pycinema reads data.csv. Its FILE paths come back prefixed with the
    database folder. pycinema takes every column whose name contains 'file' (any case) as a path, so a
    parameter such as FileName would be prefixed too (even with '^FILE', as it ignores case): it is asked
    for the names replay writes, FILE and FILE_<image>."""
    from pycinema.filters import CinemaDatabaseReader

    reader = CinemaDatabaseReader()
    reader.inputs.file_column.set(FILE_COLUMNS)
    reader.inputs.path.set(str(folder))  # setting an input updates the filter
    table = reader.outputs.table.get()
    assert table and table[0], f"pycinema read nothing from {folder}"
    header = [h for h in table[0] if h != "id"]  # pycinema adds an id column
    return header, [dict(zip(header, row)) for row in table[1:]]


def _type(value: str):
    try:
        int(value)
        return "INTEGER"
    except ValueError:
        pass
    try:
        float(value)
        return "FLOAT"
    except ValueError:
        return "STRING"


def spec_d_problems(folder, header: list[str], rows: list[dict]) -> list[str]:
    """What breaks Spec D: header names unique and non-empty, FILE columns last, every column of one type
    (set by its first non-empty value), at least one row, every FILE path a file in the database."""
    problems = []
    if len(set(header)) != len(header) or not all(header):
        problems.append(f"header names not unique and non-empty: {header}")
    files = [i for i, h in enumerate(header) if h.startswith("FILE")]
    if files and files != list(range(len(header) - len(files), len(header))):
        problems.append(f"FILE columns are not last: {header}")
    if not rows:
        problems.append("no data row")
    for name in header:
        values = [r[name] for r in rows if r[name] != "" and not r[name].endswith("/")]
        kinds = {_type(v) for v in values}
        if len(kinds) > 1:
            problems.append(f"column {name} mixes types {sorted(kinds)}: {values}")
        if name.startswith("FILE"):
            for v in values:
                if not re.match(r"^https?:", v) and not Path(v).is_file():
                    problems.append(f"{name}: {v} is not a file")
                elif os.path.isabs(v[len(str(folder)) + 1:]):
                    problems.append(f"{name}: {v} is not relative to the database")
    return problems
