"""`replay verify` over many recordings: an archive checked in one command, before a ParaView upgrade too.

    files, folders, quoted globs -> recordings -> verify() each, -j at a time -> one outcome per recording
    -> rows (one per recording and output), a count, one exit code; --report DIR -> report.py's page

Each recording is verified exactly as `replay verify RECORDING` does (verify.py); what cannot be verified
(its data is not here, it cannot be read, a side failed) is an outcome too, never an exception that stops
the others.
"""
from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from ..errors import DataMissing, PvbatchNotFound, ReplayError, UsageError

_VERSION = re.compile(r"^\d+\.\d+$")


@dataclass
class Outcome:
    """One recording: same | differs | failed | no data, the verify result when both sides ran, and the line
    that says why it failed or has no data."""

    recording: str
    status: str
    result: object = None  # VerifyResult
    message: str | None = None
    images: dict = field(default_factory=dict)  # output name -> {"recording", "replay", "diff"}: report paths

    @property
    def comparisons(self) -> list:
        return list(self.result.comparisons) if self.result is not None and self.status in ("same", "differs") else []

    def rows(self) -> list:
        """(output, result, difference) for the table: one per output, or one saying why there are none."""
        if self.status in ("failed", "no data"):
            return [("-", self.status, self.message or "")]
        return [(c.name, "same" if c.same else "differs", c.detail) for c in self.comparisons]


@dataclass
class ManyResult:
    outcomes: list
    tolerance: float = 0.0
    recorded_with: str | None = None
    pvbatch: str | None = None
    report: str | None = None  # the page, with --report

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def ok(self) -> bool:
        return bool(self.outcomes) and all(o.status == "same" for o in self.outcomes)

    @property
    def exit_code(self) -> int:
        """0 every recording replays the same; 1 one differs or failed; 2 the others are the same but some
        recordings' data is not here (nothing could be said about them)."""
        if self.ok:
            return 0
        if any(o.status in ("differs", "failed") for o in self.outcomes) or not self.outcomes:
            return 1
        return 2

    def summary(self) -> str:
        parts = [f"{self.count('same')} same", f"{self.count('differs')} differ", f"{self.count('failed')} failed"]
        if self.count("no data"):
            parts.append(f"{self.count('no data')} without their data here")
        n = len(self.outcomes)
        return f"{n} recording{'s' if n != 1 else ''}: " + ", ".join(parts) + f" (tolerance {self.tolerance:g})"


# -- which recordings ------------------------------------------------------------------------------

def _natural(text: str):
    return [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"(\d+)", text)]


def _is_recording(path: str) -> bool:
    """Among a folder's or a glob's files: traces and states, not replay scripts or other Python."""
    from ..files import read_text
    from ..lint.rules import looks_like_recording

    if not path.endswith((".py", ".pvsm")):
        return False
    try:
        return looks_like_recording(read_text(path))
    except ReplayError:
        return path.endswith(".pvsm")  # an unreadable state is still one: verify says what is wrong


def expand(paths) -> list:
    """Files as given; folders and quoted globs (`'recordings/**/*.py'`) to the recordings they hold,
    naturally sorted; each file once. A name that is none of these is a usage error."""
    found: dict[str, None] = {}
    for given in paths:
        given = os.fspath(given)
        if os.path.isdir(given):
            names = [os.path.join(root, name) for root, _, files in os.walk(given) for name in files]
            chosen = sorted((n for n in names if _is_recording(n)), key=_natural)
        elif glob.has_magic(given) and not os.path.exists(given):
            matches = [m for m in glob.glob(given, recursive=True) if os.path.isfile(m)]
            if not matches:
                raise UsageError(f"{given}: no file matches")
            chosen = sorted((m for m in matches if _is_recording(m)), key=_natural)
        else:
            chosen = [given]  # named: verified whatever it is, so that a bad one shows
        found.update(dict.fromkeys(chosen))
    if not found:
        raise UsageError(f"no recording in {', '.join(map(str, paths))}")
    return list(found)


def resolve_pvbatch(value: str | None) -> str | None:
    """A pvbatch path, or a ParaView version `X.Y`: `pvbatch-X.Y` on PATH or among .ci/paraview-versions'
    wrappers ($REPLAY_PARAVIEW_ROOTS/bin), else the pvbatch on PATH when it is that version."""
    if value is None or not _VERSION.match(value):
        return value
    roots = os.path.join(os.environ.get("REPLAY_PARAVIEW_ROOTS", "/var/lib/replay/paraview"), "bin")
    for candidate in (shutil.which(f"pvbatch-{value}"), os.path.join(roots, f"pvbatch-{value}")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    plain = shutil.which("pvbatch")
    if plain:
        try:
            said = subprocess.run([plain, "--version"], capture_output=True, text=True, timeout=60).stdout
        except (OSError, subprocess.SubprocessError):
            said = ""
        m = re.search(r"version (\d+\.\d+)", said)
        if m and m.group(1) == value:
            return plain
    raise PvbatchNotFound(f"no pvbatch of ParaView {value}: neither pvbatch-{value} on PATH or in {roots} nor a "
                          f"pvbatch {value} on PATH (give its path instead, or build it: bash .ci/paraview-versions)")


# -- running ---------------------------------------------------------------------------------------

def _one(recording: str, options: dict, staging: str | None, index: int, keep: bool) -> Outcome:
    from .verify import verify

    try:
        result = verify(recording, keep=keep or staging is not None, every_diff=staging is not None, **options)
    except DataMissing as exc:
        return Outcome(recording, "no data", message=str(exc.at(recording)))
    except ReplayError as exc:
        return Outcome(recording, "failed", message=str(exc.at(recording)))
    if result.problem:
        outcome = Outcome(recording, "failed", result, message=result.problem)
    else:
        outcome = Outcome(recording, "same" if result.ok else "differs", result)
    if staging is not None:
        from .report import collect_images

        outcome.images = collect_images(result, staging, index)
        if not keep:
            shutil.rmtree(result.kept, ignore_errors=True)
            result.kept = result.diff_dir = None
    return outcome


def verify_many(recordings, *, jobs: int = 1, tolerance: float = 0.0, pvbatch: str | None = None,
                recorded_with: str | None = None, native_look: bool = False, report: str | None = None,
                keep: bool = False, timeout: float | None = None, mpi: int | None = None,
                work_dir: str | None = None, on_done=None) -> ManyResult:
    """Verify every recording in `recordings` (files, folders, globs; see expand) as `verify` does, `jobs` at
    a time. recorded_with/pvbatch: pvbatch paths or versions `X.Y` (resolve_pvbatch): the recording runs on
    the first, the replay on the second, so the result is the upgrade report of the archive. report: a folder
    for the HTML page (report.py): each recording's images side by side, failures first. on_done(outcome) is
    called as each recording finishes. Never raises for one recording: its outcome says what went wrong."""
    if jobs is None or jobs < 1:
        raise UsageError(f"-j must be 1 or more, not {jobs}")
    if tolerance is None or not tolerance >= 0:
        raise UsageError(f"--tolerance must be a number >= 0, not {tolerance}")
    files = expand([recordings] if isinstance(recordings, (str, os.PathLike)) else list(recordings))
    pvbatch, recorded_with = resolve_pvbatch(pvbatch), resolve_pvbatch(recorded_with)
    from ..batch.runner import find_pvbatch

    for given in (pvbatch, recorded_with) if recorded_with else (pvbatch,):
        find_pvbatch(given)  # once, not once per recording
    if report:
        os.makedirs(report, exist_ok=True)
    options = dict(tolerance=tolerance, pvbatch=pvbatch, recorded_with=recorded_with, native_look=native_look,
                   timeout=timeout, mpi=mpi, work_dir=work_dir)
    staging = tempfile.mkdtemp(prefix=".replay-report-", dir=report) if report else None

    def task(item):
        index, recording = item
        outcome = _one(recording, options, staging, index, keep)
        if on_done is not None:
            on_done(outcome)
        return outcome

    try:
        with ThreadPoolExecutor(max_workers=min(jobs, len(files))) as pool:
            outcomes = list(pool.map(task, enumerate(files, 1)))
        result = ManyResult(outcomes, tolerance=tolerance, recorded_with=recorded_with, pvbatch=pvbatch)
        if report:
            from .report import write_report

            result.report = write_report(result, report, staging)
        return result
    finally:
        if staging:
            shutil.rmtree(staging, ignore_errors=True)


__all__ = ["verify_many", "ManyResult", "Outcome", "expand", "resolve_pvbatch"]
