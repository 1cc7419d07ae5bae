"""data.csv for a sweep folder: the folder is also a Cinema database (Spec D, the format ParaView's Cinema
viewers and pycinema read).

Spec D rules followed here: a header row of unique non-empty names; one row per run; every column holds one
type (integer, float or string; empty cells allowed), set by its values; file columns are named `FILE` or
start with `FILE` and come last; file paths are POSIX paths relative to the database folder. Text in, text
out: the sweep writes it beside its manifest.
"""
from __future__ import annotations

import csv
import io
import re
from pathlib import PurePosixPath
from typing import Sequence

DATA_CSV = "data.csv"
IMAGES = (".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".bmp")
STATUS = "status"


def _number(text: str):
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value == value and value not in (float("inf"), float("-inf")) else None


def _column(values: list[str]) -> list[str]:
    """One type per column: integers stay, a column mixing integers and floats writes every number as a
    float (Cinema readers type a column by its first value), anything else is text."""
    numbers = [_number(v) for v in values if v != ""]
    if numbers and all(n is not None for n in numbers) and any(isinstance(n, float) for n in numbers):
        return [v if v == "" or isinstance(_number(v), float) else repr(float(v)) for v in values]
    return values


def images(row: dict) -> list[str]:
    return [o for o in row.get("outputs") or [] if o.lower().endswith(IMAGES)]


def file_columns(rows: Sequence[dict]) -> dict[str, str]:
    """Image name (relative to its run folder) -> column name: `FILE` when every run writes one image of
    one name, else `FILE_<name>` per image, so a viewer can pick which image to show."""
    names: list[str] = []
    for row in rows:
        names += [i for i in images(row) if i not in names]
    if len(names) <= 1:
        return {n: "FILE" for n in names}
    columns: dict[str, str] = {}
    for name in names:
        base = "FILE_" + re.sub(r"[^A-Za-z0-9]+", "_", str(PurePosixPath(name).with_suffix(""))).strip("_")
        column, k = base, 2
        while column in columns.values():
            column, k = f"{base}_{k}", k + 1
        columns[name] = column
    return columns


def data_csv(rows: Sequence[dict]) -> str:
    """The Spec D table of a sweep's manifest rows: parameters, status, then the FILE columns.

    Runs that succeeded come first: strict readers (cinema_lib's check) take the first row as the one that
    sets the column types and refuse an empty cell in it, and a failed run has no image.
    """
    params: list[str] = []
    for row in rows:
        params += [n for n in row["params"] if n not in params]
    # A parameter named like a file column would make a viewer read its values as paths.
    header_params = [n if not n.startswith("FILE") and n != STATUS else f"param_{n}" for n in params]
    files = file_columns(rows)
    ordered = sorted(rows, key=lambda r: r.get("status") != "ok")
    columns = [_column([str(r["params"].get(n, "")) for r in ordered]) for n in params]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*header_params, STATUS, *files.values()])
    for i, row in enumerate(ordered):
        written = set(images(row))
        cells = [f"{row['folder']}/{name}" if name in written else "" for name in files]
        writer.writerow([*(c[i] for c in columns), row.get("status", ""), *cells])
    return buffer.getvalue()
