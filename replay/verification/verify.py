"""`replay verify`: run the recording as it is and the replay script with its defaults, each into its
own folder, then pair and compare every output they wrote.

    recording -> batch-only script (recorded values, outputs -> folder A) --pvbatch--> A
    replay script (defaults, --output-dir B)                              --pvbatch--> B
    pair A/B by relative name -> measure (compare_pv.py in pvpython) -> judge with the tolerance

The tolerance T (default 0: exact) means, for images, that a pixel differs when one of its channels
differs by more than T x 255 levels; for data arrays and numbers, that two values match when
|a - b| <= T x max(1, |a|, |b|) (relative above 1, absolute below). Point, cell and row counts must
be equal whatever T is. Any other file must be byte for byte the same.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import DataMissing, PvbatchNotFound, ReplayError, UsageError

IMAGE_EXTENSIONS = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".ppm", ".pnm"}
# Formats ParaView writes that carry no data to compare beyond their bytes.
TEXT_EXTENSIONS = {".pvsm", ".py", ".txt", ".json", ".html", ".x3d", ".vrml", ".wrl", ".svg", ".pdf", ".ps", ".eps"}


@dataclass
class Comparison:
    """One output: whether the recording and the replay wrote the same, and by how much they differ."""

    name: str  # path relative to the output folder
    kind: str  # image | data | file
    same: bool
    detail: str  # the difference (or the sameness) in words, for the table
    measures: dict = field(default_factory=dict)  # the numbers behind the detail

    def to_json(self) -> dict:
        return {"name": self.name, "kind": self.kind, "same": self.same, "detail": self.detail,
                "measures": self.measures}


@dataclass
class Side:
    """One pvbatch run: the recording or the replay script."""

    label: str
    script: str
    output_dir: str
    returncode: int | None = None
    seconds: float = 0.0
    log: str = ""  # pvbatch's stdout + stderr
    error: str | None = None  # pvbatch's failure in one line

    @property
    def failed(self) -> bool:
        return self.returncode != 0


@dataclass
class VerifyResult:
    recording: str
    recording_side: Side
    replay_side: Side
    comparisons: list = field(default_factory=list)
    tolerance: float = 0.0
    problem: str | None = None  # why the outputs cannot count as the same beyond the table
    notes: list = field(default_factory=list)
    kept: str | None = None  # the folder holding both outputs (and difference images), with --keep
    diff_dir: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None and bool(self.comparisons) and all(c.same for c in self.comparisons)

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1

    @property
    def differing(self) -> list:
        return [c for c in self.comparisons if not c.same]


# -- the recording side ----------------------------------------------------------------------------

def missing_inputs(text: str, source_name: str, base_dir: str) -> list:
    """[(path, line)] for every file the recording reads that does not exist here, each path once."""
    from .. import inspect

    params, _ = inspect(text, source_name)
    missing: dict[str, int | None] = {}
    for param in params:
        if param.kind != "file":
            continue
        recorded = [(site.value, site.line) for site in param.sites] or [(param.default, param.line)]
        for value, line in recorded:
            for path in value if isinstance(value, (list, tuple)) else [value]:
                if isinstance(path, str) and path and path not in missing \
                        and not os.path.exists(os.path.join(base_dir, path)):
                    missing[path] = line
    return list(missing.items())


# A state records no outputs: what it shows is its render views. The recording side loads it with a
# plain LoadState and saves what the converted state script saves (one image per render view at its
# recorded size, one per layout of several views), under the same names, so the two pair up.
_STATE_SCRIPT = """\
# replay verify: the state {name} loaded as recorded; its views' images go to --output-dir.
import argparse
import os

from paraview.simple import FindView, GetLayoutByName, LoadState, SaveScreenshot

parser = argparse.ArgumentParser()
parser.add_argument("--output-dir", dest="folder", required=True)
folder = parser.parse_args().folder
os.makedirs(folder, exist_ok=True)
LoadState({path!r})
for name, image, size in {views!r}:
    view = FindView(name)
    SaveScreenshot(os.path.join(folder, image), view, **({{"ImageResolution": size}} if size else {{}}))
for name, image in {layouts!r}:
    layout = GetLayoutByName(name)
    SaveScreenshot(os.path.join(folder, image), layout, ImageResolution=[int(v) for v in layout.GetSize()])
"""


def state_screenshots_script(text: str, source_name: str, state_path: str) -> str:
    from ..state.convert import inspect_state
    from ..state.emit import image_name

    _, inventory = inspect_state(text, source_name)
    views = [(v["name"], image_name(v["name"], "view"), v["size"]) for v in inventory.extra.get("views", [])]
    layouts = [(l["name"], image_name(l["name"], "view")) for l in inventory.extra.get("layouts", [])]
    return _STATE_SCRIPT.format(name=source_name, path=state_path, views=views, layouts=layouts)


def replay_script(text: str, source_name: str, state_path: str | None = None) -> str:
    """The replay as `replay convert` makes it, with no --param: every parameter at its default."""
    from ..source import detect_kind

    if detect_kind(text) == "state":
        from ..state.convert import convert_state

        # An absolute state path: the script runs from the work folder, not beside the state.
        return convert_state(text, [], source_name=source_name, script_name="replay.py", state_path=state_path).code
    from ..trace.convert import convert_trace

    return convert_trace(text, [], source_name=source_name, script_name="replay.py").code


def script_source_note(script_text: str, recording_text: str) -> str | None:
    """A replay script made from another version of the recording is worth a word before comparing."""
    from ..script.emit import digest

    for line in script_text.splitlines()[:5]:
        if line.startswith("# replay: source-sha256 "):
            if line.split()[-1] != digest(recording_text):
                return ("generated from a different version of the recording (its source-sha256 does not "
                        "match): convert again if the recording changed")
            return None
    return "not a script replay generated: it runs as it is, with --output-dir"


# -- pairing and judging ---------------------------------------------------------------------------

def output_files(folder: str) -> dict:
    """relative name -> path, for every file under folder."""
    found = {}
    root = Path(folder)
    if not root.is_dir():
        return found
    for path in sorted(root.rglob("*")):
        if path.is_file():
            found[path.relative_to(root).as_posix()] = str(path)
    return found


def pair(recording_dir: str, replay_dir: str) -> list:
    """[(name, recording path or None, replay path or None)], by relative name."""
    first, second = output_files(recording_dir), output_files(replay_dir)
    return [(name, first.get(name), second.get(name)) for name in sorted(set(first) | set(second))]


def kind_of(name: str) -> str:
    suffix = os.path.splitext(name)[1].lower()
    if suffix in IMAGE_EXTENSIONS:
        return "image"
    if suffix in TEXT_EXTENSIONS:
        return "file"
    return "data"


def _number(value: float) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def judge_image(name: str, m: dict) -> Comparison:
    if m["size_a"] != m["size_b"]:
        (wa, ha), (wb, hb) = m["size_a"], m["size_b"]
        return Comparison(name, "image", False, f"size {wa}x{ha} (recording) vs {wb}x{hb} (replay)", m)
    if m["pixels"]:
        share = 100.0 * m["pixels"] / m["total"]
        shown = f"{share:.2g}" if share < 10 else f"{share:.0f}"  # never '1e+02'
        return Comparison(name, "image", False, f"{m['pixels']} of {m['total']} pixels differ ({shown}%), "
                          f"largest channel difference {m['max_channel']}/255", m)
    if m["max_channel"]:
        return Comparison(name, "image", True, f"within tolerance: largest channel difference {m['max_channel']}/255", m)
    return Comparison(name, "image", True, f"identical pixels ({m['size_a'][0]}x{m['size_a'][1]})", m)


def judge_data(name: str, m: dict) -> Comparison:
    a, b = m["counts_a"], m["counts_b"]
    problems = []
    if a["type"] != b["type"]:
        problems.append(f"{a['type']} vs {b['type']}")
    for what in ("points", "cells", "rows"):
        if a[what] != b[what]:
            problems.append(f"{what} {a[what]} vs {b[what]}")
    largest = 0.0
    for array, r in m["arrays"].items():
        if "missing" in r:
            problems.append(f"{array} only in the {'recording' if r['missing'] == 'b' else 'replay'}")
        elif "shape_a" in r:
            if not any(p.startswith(("points ", "rows ")) for p in problems):
                problems.append(f"{array} shape {r['shape_a']} vs {r['shape_b']}")
        else:
            if r["max_abs"] is not None:
                largest = max(largest, float(r["max_abs"]))
            if r["bad"]:
                by = f" by up to {_number(float(r['max_abs']))}" if r["max_abs"] is not None else ""
                problems.append(f"{array}: {r['bad']} of {r['values']} values differ{by}")
    sizes = ", ".join(f"{a[w]} {w}" for w in ("points", "cells", "rows") if a[w])
    if problems:
        shown = problems[:4] + ([f"... {len(problems) - 4} more"] if len(problems) > 4 else [])
        return Comparison(name, "data", False, "; ".join(shown), m)
    if largest:
        return Comparison(name, "data", True, f"{sizes or 'empty'}, {len(m['arrays'])} arrays within tolerance "
                          f"(largest difference {_number(largest)})", m)
    return Comparison(name, "data", True, f"{sizes or 'empty'}, {len(m['arrays'])} arrays equal", m)


def judge_bytes(name: str, first: str, second: str, kind: str = "file") -> Comparison:
    a, b = Path(first).read_bytes(), Path(second).read_bytes()
    if a == b:
        return Comparison(name, kind, True, f"identical bytes ({len(a)})")
    return Comparison(name, kind, False, f"content differs ({len(a)} vs {len(b)} bytes)")


def compare(recording_dir: str, replay_dir: str, tolerance: float = 0.0, *, diff_dir: str | None = None,
            pvpython: str | None = None, timeout: float | None = 600, every_diff: bool = False) -> list:
    """Every output either side wrote, paired by name and judged; missing on one side = differs.
    diff_dir: difference images of the images that differ (of every image of one size: every_diff)."""
    pairs = pair(recording_dir, replay_dir)
    comparisons: dict[str, Comparison] = {}
    measured = []
    for name, first, second in pairs:
        kind = kind_of(name)
        if first is None or second is None:
            who = "recording" if second is None else "replay"
            comparisons[name] = Comparison(name, kind, False, f"only the {who} wrote it")
        elif kind == "file":
            comparisons[name] = judge_bytes(name, first, second)
        else:
            diff = None
            if diff_dir and kind == "image":
                diff = os.path.join(diff_dir, name + ".diff.png")
            measured.append({"name": name, "kind": kind, "a": first, "b": second, "diff": diff, "always": every_diff})
    if measured:
        for request, m in zip(measured, measure(measured, tolerance, pvpython=pvpython, timeout=timeout)):
            name = request["name"]
            if not m.get("readable"):
                comparisons[name] = judge_bytes(name, request["a"], request["b"], request["kind"])
                if not comparisons[name].same and m.get("error"):
                    comparisons[name].detail += f"; unreadable: {m['error']}"
            elif request["kind"] == "image":
                comparisons[name] = judge_image(name, m)
                if request["diff"] and os.path.exists(request["diff"]):
                    comparisons[name].measures["diff_image"] = request["diff"]
            else:
                comparisons[name] = judge_data(name, m)
    return [comparisons[name] for name, _, _ in pairs]


def find_pvpython(pvbatch: str | None = None) -> str:
    """pvpython beside the pvbatch in use (same ParaView), else the one on PATH."""
    if pvbatch:
        # pvbatch -> pvpython; .ci/paraview-versions' wrappers: pvbatch-6.1 -> pvpython-6.1
        name = os.path.basename(pvbatch).replace("pvbatch", "pvpython", 1)
        beside = os.path.join(os.path.dirname(pvbatch), name if name.startswith("pvpython") else "pvpython")
        if os.access(beside, os.X_OK):
            return beside
    found = shutil.which("pvpython")
    if not found:
        raise PvbatchNotFound("pvpython not found: replay verify reads images and data with ParaView's python "
                              "(apt-get install paraview python3-paraview)")
    return found


def measure(pairs: list, tolerance: float, *, pvpython: str | None = None, timeout: float | None = 600) -> list:
    """Run compare_pv.py once in pvpython for all pairs; one measures dict per pair."""
    helper = Path(__file__).with_name("compare_pv.py")
    with tempfile.TemporaryDirectory(prefix="replay-compare-") as folder:
        request, result = os.path.join(folder, "request.json"), os.path.join(folder, "result.json")
        with open(request, "w", encoding="utf-8") as handle:
            json.dump({"tolerance": tolerance, "result": result, "pairs": pairs}, handle)
        proc = subprocess.run([pvpython or find_pvpython(), str(helper), request], capture_output=True, text=True,
                              timeout=timeout)
        if proc.returncode != 0 or not os.path.exists(result):
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
            raise ReplayError(f"comparing the outputs failed in pvpython (exit {proc.returncode}): {tail[0]}")
        with open(result, encoding="utf-8") as handle:
            return json.load(handle)


# -- orchestration ---------------------------------------------------------------------------------

def _read_recording(recording) -> tuple:
    """(text, path or None, display name). A str with a newline is the recording's text."""
    from ..files import read_text

    if isinstance(recording, str) and "\n" in recording:
        from ..source import detect_kind

        return recording, None, "recording.pvsm" if detect_kind(recording) == "state" else "recording.py"
    path = os.fspath(recording)
    return read_text(path), path, os.path.basename(path)


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _run_side(side: Side, *, pvbatch, mpi, timeout, cwd, extra=()) -> Side:
    from ..batch.runner import run

    result = run(side.script, ["--output-dir", side.output_dir, *extra], mpi=mpi, pvbatch=pvbatch, cwd=cwd,
                 timeout=timeout)
    side.returncode = result.returncode
    side.seconds = result.seconds
    side.log = (result.stdout or "") + (result.stderr or "")
    side.error = " ".join(_ANSI.sub("", result.error).split()) if result.error else None
    return side


def verify(recording, *, script: str | None = None, tolerance: float = 0.0, keep: bool = False,
           work_dir: str | None = None, pvbatch: str | None = None, mpi: int | None = None,
           timeout: float | None = None, recorded_with: str | None = None,
           native_look: bool = False, every_diff: bool = False) -> VerifyResult:
    """Run the recording and its replay (converted now, or `script`) under pvbatch and compare every output.

    recorded_with: the pvbatch of the ParaView that made the recording: the recording runs there and the
    replay on `pvbatch`, so a team learns before an upgrade which recordings would change. native_look:
    the replay keeps the running version's own looks (its --native-look) instead of the recording's.

    recording: a path, or the recording's text (a str with a newline). tolerance: see the module doc.
    keep: leave the work folder (result.kept: both output folders, scripts, logs, diff/ images).
    work_dir: where the work folder is made (default: the system's temporary folder).
    every_diff: with keep, a difference image for every image, also those that match (verify_many's report).
    Raises DataMissing (exit 2) when the recording reads files that are not here; never reports
    "same" for outputs it could not compare.
    """
    if tolerance is None or not tolerance >= 0:
        raise UsageError(f"--tolerance must be a number >= 0, not {tolerance}")
    text, path, name = _read_recording(recording)
    cwd = os.getcwd()
    try:
        missing = missing_inputs(text, name, cwd)
    except ReplayError as exc:
        raise exc.at(path or name, name)
    if missing:
        first_line = missing[0][1]
        files = ", ".join(p for p, _ in missing)
        raise DataMissing(f"the recording reads data that is not here: {files} (verify runs the recording as "
                          "recorded, so it needs its data at the recorded paths)", path or name, first_line,
                          1 if first_line else None)
    from ..files import read_text
    from ..source import detect_kind

    replay_text = read_text(script) if script else None
    if work_dir:
        os.makedirs(work_dir, exist_ok=True)
    # Always a fresh folder (inside work_dir if given): nothing from an earlier run can pair up.
    folder = tempfile.mkdtemp(prefix="replay-verify-", dir=work_dir)
    try:
        state_path = None
        if detect_kind(text) == "state":
            state_path = os.path.abspath(path) if path else os.path.join(folder, "recording.pvsm")
            if not path:
                Path(state_path).write_text(text, encoding="utf-8")
        notes = []
        if state_path:
            recording_code = state_screenshots_script(text, name, state_path)
        else:
            from ..trace.convert import batch_only

            batch = batch_only(text, name)
            recording_code = batch.code
            # What the converter warns about (an object the recording expects to exist, a computed file
            # name) is what explains a recording or replay that fails or differs.
            notes += [f"{path or name}:{d.line}:{d.col}: warning: {d.message}" for d in batch.warnings]
        recording_file = os.path.join(folder, "recording.py")
        Path(recording_file).write_text(recording_code, encoding="utf-8")
        if script:
            replay_file = os.path.abspath(script)
            note = script_source_note(replay_text, text)
            if note:
                notes.append(f"{script}: note: {note}")
        else:
            replay_file = os.path.join(folder, "replay.py")
            Path(replay_file).write_text(replay_script(text, name, state_path), encoding="utf-8")
        first = Side("recording", recording_file, os.path.join(folder, "recording"))
        second = Side("replay", replay_file, os.path.join(folder, "replay"))
        for side, exe, extra in ((first, recorded_with or pvbatch, ()),
                                 (second, pvbatch, ("--native-look",) if native_look else ())):
            os.makedirs(side.output_dir, exist_ok=True)
            _run_side(side, pvbatch=exe, mpi=mpi, timeout=timeout, cwd=cwd, extra=extra)
            Path(folder, f"{side.label}.log").write_text(side.log, encoding="utf-8")
        result = VerifyResult(path or name, first, second, tolerance=tolerance, notes=notes)
        result.problem = _problem(first, second)
        diff_dir = os.path.join(folder, "diff") if keep else None
        pvpython = find_pvpython(_pvbatch_path(pvbatch))
        result.comparisons = compare(first.output_dir, second.output_dir, tolerance, diff_dir=diff_dir,
                                     pvpython=pvpython, every_diff=every_diff)
        if keep:
            result.kept = folder
            result.diff_dir = diff_dir if diff_dir and os.path.isdir(diff_dir) else None
        return result
    finally:
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)


def _pvbatch_path(explicit: str | None) -> str | None:
    try:
        from ..batch.runner import find_pvbatch

        return find_pvbatch(explicit)
    except (ImportError, ReplayError):
        return explicit


def _problem(first: Side, second: Side) -> str | None:
    """What makes the outputs not count as the same, beyond what the table shows."""
    for side in (first, second):
        if side.failed:
            return f"the {side.label} failed under pvbatch: {side.error}"
    wrote_first, wrote_second = output_files(first.output_dir), output_files(second.output_dir)
    if not wrote_first and not wrote_second:
        return "neither the recording nor the replay wrote any output: there is nothing to compare " \
               "(does the recording save a screenshot or data?)"
    for side, wrote in ((first, wrote_first), (second, wrote_second)):
        if not wrote:
            return f"the {side.label} wrote no output"
    return None


__all__ = ["verify", "VerifyResult", "Comparison", "compare", "pair", "missing_inputs"]
