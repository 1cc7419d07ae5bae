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


def difference(expected: Path, actual: Path) -> str | None:
    """None when `actual` holds the data of `expected`: the same columns and rows, every value within the
    tolerance, rows in any order. Else what differs, in a few words."""
    if not actual.exists():
        return "no output"
    header_e, rows_e = read_csv(expected)
    header_a, rows_a = read_csv(actual)
    if set(header_e) != set(header_a):
        missing, extra = sorted(set(header_e) - set(header_a)), sorted(set(header_a) - set(header_e))
        return "columns differ:" + (" missing %s" % ", ".join(missing) if missing else "") + (
            " extra %s" % ", ".join(extra) if extra else "")
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
            for on in VERSIONS:
                out = root / "replay" / f"{rec}-on-{on}" / case
                jobs[(rec, on)].append({"id": ["replay", case, rec, on], "script": str(script),
                                        "argv": ["--output-dir", str(out)], "output": str(out / f"{case}.csv")})
                out = root / "original" / f"{rec}-on-{on}" / case
                out.mkdir(parents=True)
                original = out / f"{case}.py"
                assert RECORDED_OUT in text, f"{trace}: no output under {RECORDED_OUT}"
                original.write_text(text.replace(RECORDED_OUT, f"{out}/"), encoding="utf-8")
                jobs[(rec, on)].append({"id": ["original", case, rec, on], "script": str(original), "argv": [],
                                        "output": str(out / f"{case}.csv")})
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


def run_batch(root: Path, on: str, name: str, jobs: list[dict], home: Path) -> dict:
    """All jobs of a batch in one pvbatch of `on`; a job that kills the process is recorded as unfinished and
    the rest go on in a new process. Returns id -> Run."""
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
        proc = subprocess.run([*xvfb_run(), paraview_program("pvbatch", on), str(DRIVER), str(jobs_file),
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
    batches = by_running_release(prepare(root, selected))
    results.seconds["convert"] = time.monotonic() - started
    home = root / "home"
    home.mkdir(exist_ok=True)
    # The slowest releases first, so that the two workers finish together.
    order = sorted(batches, key=lambda on: {"6.1": 0, "5.13": 1, "5.11": 2}.get(on, 3))
    started = time.monotonic()
    with ThreadPoolExecutor(workers) as pool:
        for runs in pool.map(lambda on: run_batch(root, on, f"on-{on}", batches[on], home), order):
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
    reference = suite / rec / f"{case}.csv"
    own = suite / on / f"{case}.csv"
    replay, original = results.runs[("replay", case, rec, on)], results.runs[("original", case, rec, on)]
    replay_problem = problem_of(replay, reference)
    original_problem = problem_of(original, reference)
    if replay_problem is None:
        # On its own release too: where the trace as it is does not do what the GUI did (a SaveData at no time).
        if original.status == 0 and original_problem is not None:
            return Verdict(PINNED, "the trace as it is: " + original_problem)
        if on in traces and difference(reference, own) is not None:
            return Verdict(PINNED, f"ParaView {on}'s own recording: " + difference(reference, own))
        return Verdict(SAME)
    if on not in traces:
        return Verdict(INEXPRESSIBLE, f"ParaView {on} has no such filter: " + replay_problem)
    if on != rec and replay.status == 0 and difference(own, replay.output) is None:
        return Verdict(CHANGED, replay_problem + f", as ParaView {on}'s own recording")
    return Verdict(DIFFERS, replay_problem + ("" if original_problem is None else
                                              "; the trace as it is: " + original_problem))


def problem_of(run: Run, reference: Path) -> str | None:
    if run.status is None:
        return "pvbatch died: " + _last_line(run.stderr)
    if run.status != 0:
        return "failed: " + _last_line(run.stderr)
    return difference(reference, run.output)


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
