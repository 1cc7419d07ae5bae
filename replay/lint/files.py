"""The file edge of `replay check` (the lint) and `replay sync` (the replay-convert pre-commit hook).

It reads recordings and their `<stem>_replay.py`, and only `sync` writes. No CLI framework here:
replay/cli/launch.py runs these for plain command lines (the hooks call them on every commit), and
replay/cli/commands/check.py declares their options for help and everything else.
"""
from __future__ import annotations

import os
import sys


def _read(path: str):
    """(text, None) or (None, ReplayError)."""
    from ..errors import ReplayError
    from ..files import read_text

    try:
        return read_text(path), None
    except ReplayError as exc:
        return None, exc


def _problem(path, exc):
    from .rules import Problem

    return Problem(path, exc.line or 1, exc.col or 1, "RP000", exc.message)


def _check_script(script_path: str, script_text: str, recording_path: str | None = None,
                  recording_text: str | None = None):
    """RP005 for one replay script, or None."""
    from .rules import Problem, header_options, staleness

    options = header_options(script_text)
    if options is None:
        return Problem(script_path, 1, 1, "RP005", "a replay script whose first line does not say how it "
                       "was generated: convert its recording again")
    if recording_text is None:
        recording_path = os.path.join(os.path.dirname(script_path), options.source)
        recording_text, error = _read(recording_path)
        if error is not None:
            return Problem(script_path, 1, 1, "RP005", f"its recording {options.source} cannot be read beside "
                           f"it ({error.message})")
    why = staleness(script_text, recording_text, os.path.basename(recording_path), os.path.basename(script_path))
    return Problem(script_path, 1, 1, "RP005", why) if why else None


def _check_one(path: str, skip_other: bool, listed: frozenset):
    """The Problems of one file. `listed` holds the real paths of every file in this run, so a replay
    script whose recording is also listed is left to the recording's task (one regeneration, not two)."""
    from .rules import Problem, header_options, is_replay_script, lint, looks_like_recording, paired_name, suppressed
    from ..errors import ReplayError

    text, error = _read(path)
    if error is not None:
        return [] if skip_other else [_problem(path, error)]
    if is_replay_script(text):
        options = header_options(text)
        if options and os.path.realpath(os.path.join(os.path.dirname(path), options.source)) in listed:
            return []
        found = _check_script(path, text)
        return [found] if found else []
    name = os.path.basename(path)
    script_path = os.path.join(os.path.dirname(path), paired_name(name))
    script_text, problems = None, []
    if os.path.exists(script_path):
        script_text, _ = _read(script_path)
    owner = header_options(script_text) if script_text is not None else None
    if owner is not None and owner.source != name:
        # contour.py and contour.pvsm both map to contour_replay.py: it can serve only one of them
        problems.append(Problem(path, 1, 1, "RP005", f"{os.path.basename(script_path)} is the replay script "
                                f"of {owner.source}, not of this recording (same stem): rename one of the two"))
        script_text = None
    if skip_other and not looks_like_recording(text):
        if script_text is not None:
            problems.append(Problem(script_path, 1, 1, "RP005", f"its recording {name} is no longer a ParaView "
                                    "recording"))
        return problems
    try:
        found, stale = lint(text, name, os.path.basename(script_path), script_text)
    except ReplayError as exc:
        problems.append(_problem(path, exc))
        if script_text is not None:
            problems.append(Problem(script_path, 1, 1, "RP005", f"cannot be regenerated from {name}: {exc.message}"))
        return problems
    lines = text.splitlines()
    problems += [Problem(path, d.line, d.col, d.code, d.message) for d in found
                 if not suppressed(lines, d.line, d.code)]
    if stale:
        problems.append(Problem(script_path, 1, 1, "RP005", stale))
    return problems


def _check_star(args):
    return _check_one(*args)


def check_paths(paths, skip_other: bool = False, jobs: int = 0):
    """Every Problem in these files, in a stable order; many files are shared among `jobs` processes."""
    listed = frozenset(os.path.realpath(p) for p in paths)
    tasks = [(p, skip_other, listed) for p in dict.fromkeys(paths)]
    jobs = jobs or min(os.cpu_count() or 1, 8)
    if jobs > 1 and len(tasks) >= 16 and hasattr(os, "fork"):
        import multiprocessing

        from . import rules as _rules  # noqa: F401 - loaded before the fork, so workers do not import again
        from ..trace import convert as _trace  # noqa: F401

        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            results = pool.map(_check_star, tasks, chunksize=max(1, len(tasks) // (jobs * 4)))
    else:
        results = [_check_one(*task) for task in tasks]
    unique = {p.key: p for found in results for p in found}
    return sorted(unique.values(), key=lambda p: (p.path, p.line, p.col, p.code))


def run_check(files, select=(), ignore=(), skip_other: bool = False, jobs: int = 0) -> None:
    """`replay check`: one `path:line:col: CODE message` line per problem on stdout; exit 1 if any."""
    from .rules import parse_codes, selected

    chosen, dropped = parse_codes(select), parse_codes(ignore)
    problems = [p for p in check_paths(files, skip_other, jobs) if selected(p.code, chosen, dropped)]
    if problems:
        sys.stdout.write("".join(p.format() + "\n" for p in problems))
        sys.stdout.flush()
        sys.stderr.write(f"Found {len(problems)} problem{'s' if len(problems) != 1 else ''}.\n")
        sys.exit(1)


def sync_paths(paths):
    """Write or refresh `<stem>_replay.py` beside each recording. Returns (changed paths, error lines)."""
    from .rules import Options, header_options, is_replay_script, looks_like_recording, paired_name, regenerate
    from ..errors import ReplayError
    from ..files import read_bytes, same_file, write_atomic

    changed, errors = [], []
    for path in paths:
        text, error = _read(path)
        if error is not None or is_replay_script(text) or not looks_like_recording(text):
            continue  # a hook sees every .py file: only recordings are its business
        name = os.path.basename(path)
        script_path = os.path.join(os.path.dirname(path), paired_name(name))
        old = None
        if os.path.exists(script_path):
            if same_file(script_path, path):
                continue
            try:
                old = read_bytes(script_path)
            except ReplayError as exc:
                errors.append(str(exc))
                continue
        options = None
        if old is not None:
            options = header_options(old.decode("utf-8", "replace"))
            if options and options.source != name and os.path.exists(os.path.join(os.path.dirname(path),
                                                                                  options.source)):
                errors.append(f"{path}:1:1: {os.path.basename(script_path)} is the replay script of "
                              f"{options.source} (same stem): rename one of the two recordings")
                continue
            if options:
                options.source = name
        options = options or Options(source=name)
        try:
            code = regenerate(text, name, os.path.basename(script_path), options)
        except ReplayError as exc:
            errors.append(str(exc.at(path, name)))
            continue
        if old == code.encode("utf-8", "surrogatepass"):
            continue
        try:
            write_atomic(script_path, code)
        except ReplayError as exc:
            errors.append(str(exc))
            continue
        changed.append(script_path)
    return changed, errors


def run_sync(files) -> None:
    """`replay sync`: exit 1 when a file was written or a recording could not be converted."""
    changed, errors = sync_paths(files)
    for line in errors:
        sys.stderr.write(line + "\n")
    for path in changed:
        sys.stderr.write(f"replay: wrote {path}\n")
    if changed or errors:
        sys.exit(1)
