"""How a sweep is expanded into runs: --grid (cross product), --table (one row per run), validated up front.

Pipeline: read the script's parameter spec (the JSON in `_REPLAY_SPEC`, read as text, never executed) ->
expand grid/table into value sets -> validate every value against the spec -> name a folder per run.
Nothing here runs ParaView except `time=all`, which asks pvbatch once for the data's time steps.
"""
from __future__ import annotations

import csv
import glob
import hashlib
import io
import itertools
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Callable, Iterable, Iterator, Mapping, Optional, Sequence, Union

from ..errors import InputError, UsageError

_SPEC = re.compile(r"_REPLAY_SPEC\s*=\s*_replay_json\.loads\(r'''(.*?)'''\)", re.DOTALL)
RESERVED = ("output-dir",)
MAX_FOLDER = 80


@dataclass(frozen=True)
class RunSpec:
    """One run: its identity (key), its parameters as CLI words, and its folder (relative to the sweep's -o)."""

    __slots__ = ("key", "params", "folder")  # 100,000 runs without 100,000 instance dicts

    key: str
    params: dict
    folder: Union[str, Path]  # plan.make_runs gives a str


def read_spec(text: str, path: str = "<script>") -> dict:
    """The script's parameter spec, without executing the script."""
    m = _SPEC.search(text)
    if not m:
        raise InputError("not a replay script (no _REPLAY_SPEC): make one with `replay convert`", path)
    try:
        spec = json.loads(m.group(1))
    except ValueError as exc:
        line = text[:m.start(1)].count("\n") + 1
        raise InputError(f"the parameter spec is not valid JSON: {exc}", path, line) from None
    spec["by_name"] = {p["name"]: p for p in spec.get("parameters", [])}
    return spec


def natural_key(text: str):
    return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", text)]


def _expand_file(value: str, where: str) -> list[str]:
    if glob.has_magic(value) and not os.path.exists(value):
        matches = sorted(glob.glob(value), key=natural_key)
        if not matches:
            raise UsageError(f"{where}: no file matches {value!r}")
        return matches
    if not os.path.exists(value):
        raise UsageError(f"{where}: no such file {value!r}")
    return [value]


# -- checking one value against the spec ------------------------------------------------------------------------

_BOOL = {"1": True, "true": True, "yes": True, "on": True, "0": False, "false": False, "no": False, "off": False}


def _check_word(word: str, type_name: str) -> bool:
    if type_name in ("str", "auto", None):
        return True
    if type_name == "bool":
        return word.strip().lower() in _BOOL
    try:
        {"int": int, "float": float}[type_name](word)
        return True
    except (KeyError, ValueError):
        return type_name not in ("int", "float")


def check_value(spec: dict, name: str, words: list[str], where: str) -> list[str]:
    """Words for --name as the script's argparse will accept them; raise UsageError naming `where` otherwise."""
    param = spec["by_name"].get(name)
    if param is None:
        known = ", ".join(sorted(spec["by_name"])) or "none"
        raise UsageError(f"{where}: the script has no parameter {name!r} (it has: {known})")
    if name in RESERVED:
        raise UsageError(f"{where}: --{name} is set by the sweep (each run writes into its own folder)")
    if not words or any(w == "" for w in words):
        raise UsageError(f"{where}: empty value for {name}")
    kind = param["kind"]
    if kind == "time":
        if len(words) != 1 or not _check_word(words[0], "float"):
            raise UsageError(f"{where}: time must be one number (or 'all' in --grid), not {' '.join(words)!r}")
        return words
    if kind == "file":
        return words
    nargs = param.get("nargs")
    if nargs is None and len(words) != 1:
        raise UsageError(f"{where}: {name} takes one value, not {len(words)}")
    if isinstance(nargs, int) and len(words) != nargs:
        raise UsageError(f"{where}: {name} takes {nargs} values, not {len(words)}")
    for word in words:
        if not _check_word(word, param.get("type")):
            raise UsageError(f"{where}: {name} wants {param.get('type')} values, not {word!r}")
    return words


def _words(value) -> list[str]:
    if isinstance(value, (list, tuple)):
        return [_word(v) for v in value]
    if isinstance(value, str):
        return value.split()
    return [_word(value)]


def _word(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# -- grid -------------------------------------------------------------------------------------------------------

def parse_grid(items: Sequence[str]) -> list[tuple[str, list[str]]]:
    """['Isosurfaces=100,150', ...] -> [('Isosurfaces', ['100', '150'])]. Within one variant, spaces
    separate the words of a multi-value property ('Isosurfaces=100 150,200' is two variants)."""
    axes = []
    for item in items:
        name, sep, values = item.partition("=")
        name = name.strip().lstrip("-")
        if not sep or not name:
            raise UsageError(f"--grid {item!r}: write NAME=value1,value2,...")
        if any(n == name for n, _ in axes):
            raise UsageError(f"--grid {item!r}: {name} is already a grid axis")
        variants = [v.strip() for v in values.split(",")]
        if not values.strip() or any(not v for v in variants):
            raise UsageError(f"--grid {item!r}: empty value")
        axes.append((name, variants))
    return axes


def expand_grid(spec: dict, axes: Sequence[tuple[str, list[str]]],
                timesteps: Optional[Callable[[dict], list]] = None) -> list[dict]:
    """Cross product of the axes as dicts name -> words; file globs expand to files, time=all to every step."""
    expanded = []
    for name, variants in axes:
        where = f"--grid {name}"
        param = spec["by_name"].get(name)
        values = []
        for variant in variants:
            if param is not None and param["kind"] == "file":
                values.extend([f] for f in _expand_file(variant, where))
            elif param is not None and param["kind"] == "time" and variant.lower() == "all":
                values.append(None)  # filled in below, once the files of the run are known
            else:
                values.append(check_value(spec, name, variant.split(), where))
        expanded.append((name, values))
    runs = []
    for combo in itertools.product(*(values for _, values in expanded)):
        runs.append({name: words for (name, _), words in zip(expanded, combo)})
    if any(words is None for run in runs for words in run.values()):
        if timesteps is None:
            raise UsageError("--grid time=all needs pvbatch to read the data's time steps")
        runs = _expand_all_times(spec, runs, timesteps)
    return runs


def _expand_all_times(spec: dict, runs: list[dict], timesteps) -> list[dict]:
    out, cache = [], {}
    for run in runs:
        # Only the files decide the time steps: pvbatch is asked once per set of files.
        files = {k: v for k, v in run.items() if spec["by_name"].get(k, {}).get("kind") == "file"}
        cache_key = json.dumps(files, sort_keys=True)
        if cache_key not in cache:
            cache[cache_key] = timesteps(files)
        steps = cache[cache_key]
        if not steps:
            raise UsageError("--grid time=all: the data has no time steps")
        for step in steps:
            out.append({**run, "time": [repr(float(step))]})
    return out


# -- table ------------------------------------------------------------------------------------------------------

class _Rows(list):
    header_line = None  # a CSV's columns are named once, on this line: errors about a column point there


def read_table(text: str, path: str) -> list[tuple[int, dict]]:
    """(line, {column: value}) per row of a .csv, or of a .yaml/.yml list of mappings."""
    if path.lower().endswith((".yaml", ".yml")):
        import yaml

        try:
            nodes = yaml.compose(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            raise InputError(f"not valid YAML: {getattr(exc, 'problem', exc)}", path,
                             mark.line + 1 if mark else None, mark.column + 1 if mark else None) from None
        data = yaml.safe_load(text)
        if not isinstance(data, list) or nodes is None:
            raise InputError("a sweep table in YAML is a list of mappings (one per run)", path, 1)
        rows = []
        for node, row in zip(nodes.value, data):
            line = node.start_mark.line + 1
            if not isinstance(row, dict):
                raise InputError("each entry is a mapping parameter: value", path, line)
            rows.append((line, row))
        return rows
    table = iter_csv(text, path)
    rows = _Rows(table)
    rows.header_line = table.header_line
    return rows


class iter_csv:  # noqa: N801 - used as a function: read_table's rows one at a time
    """(line, {column: value}) per row of a CSV, read as they are asked for: planning 100,000 runs never holds
    the table and its runs at once. header_line is known once the first row has been given."""

    def __init__(self, text: str, path: str):
        self.text, self.path, self.header_line = text, path, None

    def __iter__(self):
        reader = csv.reader(io.StringIO(self.text))
        header, path = None, self.path
        for record in reader:
            line = reader.line_num
            if not record or all(not c.strip() for c in record) or record[0].lstrip().startswith("#"):
                continue
            if header is None:
                header = [c.strip() for c in record]
                if any(not c for c in header):
                    raise InputError("empty column name in the header", path, line)
                self.header_line = line
                continue
            if len(record) != len(header):
                raise InputError(f"{len(record)} cells, the header has {len(header)}", path, line)
            yield line, {h: c.strip() for h, c in zip(header, record)}
        if header is None:
            raise InputError("empty table: the first line names the parameters", path, 1)


def expand_table(spec: dict, rows: Iterable[tuple[int, dict]], path: str) -> Iterator[dict]:
    """The runs of the table's rows, checked, as they are asked for."""
    try:
        yield from _expand_table(spec, rows, path)
    except UsageError as exc:
        # Name the table's line the way every other bad-input error does: path:line:col: message.
        where, _, message = exc.message.partition(": ")
        line = where.rpartition(":")[2]
        if path != "variants" and line.isdigit():
            raise UsageError(message, path, int(line), 1) from None
        raise


def _expand_table(spec: dict, rows: Iterable[tuple[int, dict]], path: str) -> Iterator[dict]:
    for line, row in rows:
        run = {}
        for name, value in row.items():
            where = f"{path}:{line}"
            name = str(name).lstrip("-")
            param = spec["by_name"].get(name)
            if param is None and getattr(rows, "header_line", None):
                check_value(spec, name, ["x"], f"{path}:{rows.header_line}")
            if value is None or value == "":
                continue  # an empty cell keeps the recorded value
            words = _words(value)
            if param is not None and param["kind"] == "file":
                words = [f for w in words for f in _expand_file(w, where)]
            run[name] = check_value(spec, name, words, where)
        yield run


# -- runs -------------------------------------------------------------------------------------------------------

_UNSAFE = re.compile(r"[^A-Za-z0-9._+=@-]+")


def _folder_part(name: str, words: list[str], kind: str) -> str:
    if kind == "file":
        words = [Path(w).as_posix().lstrip("./") for w in words]
    text = "_".join(words)
    return f"{name}={_UNSAFE.sub('_', text).strip('_.') or '_'}"


# One encoder for every key: json.dumps with options builds a new encoder per call (a third of planning 100,000 runs).
_KEY_JSON = json.JSONEncoder(separators=(",", ":"))


def run_key(params: Mapping[str, list[str]]) -> str:
    return _KEY_JSON.encode({k: list(v) for k, v in sorted(params.items())})


def make_runs(spec: dict, value_sets: Iterable[dict]) -> list[RunSpec]:
    """RunSpecs with readable, unique folder names ('Isosurfaces=100,FileName=a_out.vti'), or run-<hash>."""
    files = [name for name, param in spec["by_name"].items() if param["kind"] == "file"]
    if files:
        value_sets = list(value_sets)  # two passes: the folder the files share first
    # File values are named by what differs between them: the folder they share is left out.
    common = {}
    for name, param in spec["by_name"].items():
        if param["kind"] == "file":
            paths = [os.path.abspath(w) for params in value_sets for w in params.get(name, [])]
            if len(set(paths)) > 1:
                common[name] = os.path.commonpath(paths)
            elif paths:
                common[name] = os.path.dirname(paths[0])
    runs, seen, folders = [], set(), set()
    for params in value_sets:
        key = run_key(params)
        if key in seen:
            continue
        seen.add(key)
        parts = []
        for name, words in params.items():
            if name in common:
                words = [os.path.relpath(os.path.abspath(w), common[name]) for w in words]
            parts.append(_folder_part(name, words, spec["by_name"].get(name, {}).get("kind", "")))
        folder = ",".join(parts) or "recorded"
        if len(folder) > MAX_FOLDER or folder.lower() in folders:
            folder = f"run-{hashlib.sha256(key.encode()).hexdigest()[:10]}"
        folders.add(folder.lower())
        # The plan's own dicts, not copies, and word lists shared: a grid's runs hold the same few (1,000,000 runs,
        # a few values each).
        runs.append(RunSpec(key, params, folder))  # a str: 100,000 Path objects cost 25 MB
    return runs


_NONE = object()


def plan(script_text: str, script_path: str, *, grid: Sequence[str] = (), table: Optional[str] = None,
         variants: Optional[Sequence[Mapping]] = None, timesteps=None) -> list[RunSpec]:
    """Every run of a sweep, validated against the script's parameters before anything runs."""
    spec = read_spec(script_text, script_path)
    sources: list = []
    if table:
        from ..files import read_text

        text = read_text(table)
        rows = read_table(text, table) if table.lower().endswith((".yaml", ".yml")) else iter_csv(text, table)
        sources.append(expand_table(spec, rows, table))
    if variants is not None:
        sources.append(expand_table(spec, [(i + 1, dict(v)) for i, v in enumerate(variants)], "variants"))
    # Streamed into make_runs: a table of 100,000 rows is never in memory beside its runs.
    value_sets: Iterable[dict] = itertools.chain(*sources)
    if grid:
        if sources:
            value_sets = list(value_sets)  # the table's errors before the grid's (and its pvbatch probe for time=all)
        grid_runs = expand_grid(spec, parse_grid(grid), timesteps and (lambda files: timesteps(spec, files)))
        # A grid with a table (or variants) crosses them: every row with every grid point.
        value_sets = ({**row, **g} for row in value_sets for g in grid_runs) if sources else grid_runs
    value_sets = iter(value_sets)
    first = next(value_sets, _NONE)
    value_sets = [{}] if first is _NONE else itertools.chain([first], value_sets)
    return make_runs(spec, value_sets)


def session_key(spec: dict, params: Mapping[str, list[str]], script_path: str) -> str:
    """What a worker compares to decide whether it may keep the pipeline: the script and its file values."""
    files = {n: w for n, w in params.items() if spec["by_name"].get(n, {}).get("kind") == "file"}
    try:
        stamp = os.stat(script_path).st_mtime_ns
    except OSError:
        stamp = 0
    return json.dumps([os.path.abspath(script_path), stamp, files], sort_keys=True)


def shown(words) -> str:
    return " ".join(words) if isinstance(words, (list, tuple)) else str(words)


def manifest_row(run: RunSpec, *, folder=None, returncode=None, seconds=None, outputs=(), error=None,
                 status: Optional[str] = None) -> dict:
    """One run as the manifest records it (study and the SLURM backend build their rows with this)."""
    if status is None:
        status = "ok" if returncode == 0 and not error else "failed"
    folder = run.folder if isinstance(run.folder, PurePath) else Path(run.folder)
    return {
        "folder": folder.name if folder.is_absolute() else folder.as_posix(),
        "params": {name: shown(words) for name, words in run.params.items()},
        "status": status,
        "returncode": returncode,
        "seconds": seconds,
        "outputs": list(outputs or []),
        "error": error,
        "key": run.key,
    }
