"""Name the recording's line when pvbatch itself crashes (a signal, not a Python error).

A replay script turns on Python's faulthandler (runtime.py, _replay_crash_report), which on SIGSEGV, SIGABRT,
... writes the Python stack to stderr before ParaView's own handler prints its C++ one. run, the sweep worker,
SLURM tasks and verify all keep pvbatch's stderr; this reads the innermost frame of the script that is the
recording's own (not a _replay helper, not ParaView's Python), maps the script's line back to the recording's
(the script keeps the recording's statements line for line; a 6.x `.Set(...)` split into assignments is in
the spec's line map) and says it in one line:

    trace.py:451: renderView2.AdditionalLights = None: pvbatch crashed (SIGSEGV) here
"""
from __future__ import annotations

import bisect
import hashlib
import json
import os
import re

_FRAME = re.compile(r'^\s*File "(?P<file>.*)", line (?P<line>\d+) in (?P<func>\S+)')
_HEADER = re.compile(r"^# replay: generated from (?P<name>.*) \((?P<what>[^()]*)\) by: ")
_SHA = re.compile(r"^# replay: source-sha256 (?P<sha>[0-9a-f]{64})")
_BODY = "# ---- recorded: "
_SPEC = re.compile(r"^_REPLAY_SPEC = _replay_json\.loads\(r'''(?P<json>.*?)'''\)", re.S | re.M)


def signal_name(returncode: int) -> str | None:
    """SIGSEGV for -11 (killed) or 139 (a shell's or xvfb-run's word for it); None for an ordinary exit."""
    import signal

    if returncode >= 0 and returncode <= 128:
        return None
    number = -returncode if returncode < 0 else returncode - 128
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def crash_frames(stderr: str) -> list[tuple[str, int, str]]:
    """(file, line, function) of the last faulthandler dump in stderr, most recent call first."""
    lines = (stderr or "").splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("Fatal Python error:")]
    if not starts:
        return []
    frames = []
    for line in lines[starts[-1] + 1:]:
        m = _FRAME.match(line)
        if m:
            frames.append((m.group("file"), int(m.group("line")), m.group("func")))
        elif frames and not line.strip().startswith(("File", "...")):
            break  # the end of the stack (faulthandler's "Extension modules:" or ParaView's own dump)
    return frames


def _same_file(a: str, b: str) -> bool:
    if os.path.basename(a) != os.path.basename(b):
        return False
    try:
        return os.path.samefile(a, b)
    except OSError:
        return True  # written elsewhere (a SLURM node's path, a worker's abspath): the name is what is left


def _recording_line(script_lines: list[str], line: int) -> tuple[str, int, bool, bool]:
    """(name, line, the line is the recording's own text, it is the recording's) for a line of the script."""
    header = next((m for m in map(_HEADER.match, script_lines[:3]) if m), None)
    body = next((i for i in range(len(script_lines) - 1, -1, -1) if script_lines[i].startswith(_BODY)), None)
    if header is None or body is None or line < body + 3 or not header.group("what").endswith("trace"):
        return "", line, False, False
    name = header.group("name")
    offset = line - (body + 2)  # 1-based line of the body
    spec = _SPEC.search("\n".join(script_lines[:body]))
    anchors = []
    if spec:
        try:
            anchors = json.loads(spec.group("json")).get("lines") or []
        except ValueError:
            anchors = []
    own = True
    if anchors:
        # [body line, recording line, n]: n lines the recording's own from there, or 0 for a rewritten statement
        # whose lines all stand for the recording's line where it starts (script/emit.py, body_line_map).
        at = bisect.bisect_right([a[0] for a in anchors], offset) - 1
        if at >= 0:
            start, recorded, span = anchors[at]
            own = span > 0
            offset = recorded + (offset - start if own else 0)
    return name, offset, own, True


def _recording_text(script: str, script_lines: list[str], name: str, line: int) -> str | None:
    """The recording's own text of a line, when the recording is found beside the script, unchanged."""
    sha = next((m.group("sha") for m in map(_SHA.match, script_lines[:4]) if m), None)
    folder = os.path.dirname(os.path.abspath(script))
    for candidate in (name, os.path.join(folder, name), os.path.join(folder, os.path.basename(name))):
        try:
            with open(candidate, "rb") as f:
                raw = f.read()
        except OSError:
            continue
        text = raw.decode("utf-8", "replace")
        text = text[1:] if text.startswith("\ufeff") else text
        if sha and hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest() != sha:
            continue
        lines = text.splitlines()
        return lines[line - 1].strip() if 0 < line <= len(lines) else None
    return None


def crash_place(stderr: str, script: str | None) -> tuple[str, int, str] | None:
    """(file shown, line, statement) of the recording's statement that was running when pvbatch crashed."""
    if not script:
        return None
    frames = crash_frames(stderr)
    hit = next(((f, n) for f, n, func in frames if _same_file(f, script) and not func.startswith(("_replay",
                                                                                                  "_Replay"))), None)
    if hit is None:
        return None
    try:
        with open(script, encoding="utf-8", errors="replace") as f:
            script_lines = f.read().splitlines()
    except OSError:
        return None
    line = hit[1]
    script_text = script_lines[line - 1].strip() if 0 < line <= len(script_lines) else ""
    name, recorded, own, is_recording = _recording_line(script_lines, line)
    if not is_recording:
        return os.path.basename(script), line, script_text
    # A statement the script rewrote into several is shown as the script runs it, at the recording's line.
    return name, recorded, (own and _recording_text(script, script_lines, name, recorded)) or script_text


def crash_line(stderr: str, script: str | None, returncode: int) -> str | None:
    """The one line for a pvbatch that died of a signal in a recording's statement; None otherwise."""
    name = signal_name(returncode)
    place = crash_place(stderr, script) if name else None
    if place is None:
        return None
    path, line, text = place
    return f"{path}:{line}: {text}: pvbatch crashed ({name}) here" if text else \
        f"{path}:{line}: pvbatch crashed ({name}) here"
