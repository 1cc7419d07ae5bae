"""Lint rules for `replay check`: recording text (and its paired replay script's text) in, diagnostics out.

The rules reuse the converter's own analysis (read -> find), so `check` and `convert` never disagree
about what a recording sets, removes or needs. File access stays in replay/lint/files.py.
"""
from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field

from ..errors import ReplayError, UsageError
from ..model import Diagnostic
from ..script.emit import MARK as GENERATED_MARK

# code -> one-line summary; the README documents each with an example.
CODES = {
    "RP000": "unreadable or unparseable input (not valid Python/XML, Python 2, not a ParaView recording)",
    "RP001": "Connect/ReverseConnect/Disconnect/Interact/ResetSession present",
    "RP002": "GUI-only widget call",
    "RP003": "depends on objects that existed before recording (FindSource, GetActiveSource)",
    "RP004": "absolute input path not parameterized in the paired replay script",
    "RP005": "replay script stale against its recording",
    "RP006": "time set but not made a parameter",
}

SESSION = {"Connect", "ReverseConnect", "Disconnect", "Interact", "ResetSession"}

_NOQA = re.compile(r"#\s*replay:\s*noqa(?![\w-])(?::?\s*(?P<codes>RP\d+(?:\s*,?\s*RP\d+)*))?", re.I)
_SPEC = re.compile(r"^_REPLAY_SPEC = _replay_json\.loads\(r'''(.*?)'''\)", re.S | re.M)
_HEADER = re.compile(r"^# replay: generated from (?P<source>.+?) \(.*\) by: (?P<command>.+?)\r?$")
# Where a time is set to something other than a plain number (over-matches, never misses, so the
# ast pass below runs only for traces that may have one).
_TIME_HINT = re.compile(
    r"Time\s*=(?!=)(?![ \t]*[-+]?[\d.]+(?:[eE][-+]?\d+)?[ \t]*(?:#.*)?\r?$)(?![ \t]*[-+]?[\d.]+[ \t]*[,)])"
    r"|UpdatePipeline\((?![ \t]*\))(?![ \t]*(?:time[ \t]*=[ \t]*)?[-+]?[\d.]+[ \t]*[,)])", re.M)
_ABSOLUTE = re.compile(r"^(/|[A-Za-z]:[\\/]|\\\\)")


@dataclass
class Problem:
    """A diagnostic with its code, at a place in one file."""

    path: str
    line: int
    col: int
    code: str
    message: str

    def format(self) -> str:
        return f"{self.path}:{self.line}:{self.col}: {self.code} {self.message}"

    @property
    def key(self):
        return (self.path, self.line, self.col, self.code, self.message)


@dataclass
class Options:
    """What the `replay convert` words in a replay script's first line asked for."""

    source: str
    params: list = field(default_factory=list)
    embed: bool = False
    target_version: str | None = None


# -- selection -------------------------------------------------------------------------------

def parse_codes(values) -> list[str]:
    """--select/--ignore values: comma separated and repeatable; each a prefix of a known code (or ALL)."""
    codes = []
    for value in values or ():
        for part in value.split(","):
            part = part.strip().upper()
            if not part:
                continue
            if part != "ALL" and not any(code.startswith(part) for code in CODES):
                raise UsageError(f"unknown rule selector {part!r}: codes are {', '.join(CODES)}")
            codes.append("" if part == "ALL" else part)
    return codes


def selected(code: str, select: list[str], ignore: list[str]) -> bool:
    """Like ruff: the longest matching prefix wins; ties go to --ignore."""
    chosen = max((len(p) for p in select if code.startswith(p)), default=-1) if select else 0
    dropped = max((len(p) for p in ignore if code.startswith(p)), default=-1)
    return chosen >= 0 and chosen > dropped


def suppressed(text_lines: list[str], line: int, code: str) -> bool:
    """`# replay: noqa` (every code) or `# replay: noqa RP001, RP002` on the diagnostic's line."""
    if not 0 < line <= len(text_lines):
        return False
    m = _NOQA.search(text_lines[line - 1])
    if not m:
        return False
    codes = m.group("codes")
    if not codes:
        return True
    return any(code.startswith(c.upper()) for c in re.split(r"[\s,]+", codes) if c)


# -- replay scripts --------------------------------------------------------------------------

def is_replay_script(text: str) -> bool:
    return GENERATED_MARK in text[:4000]


def header_options(script_text: str) -> Options | None:
    """The recording's name and the convert options, from line 1 of a generated script."""
    first = script_text.split("\n", 1)[0]
    m = _HEADER.match(first)
    if not m:
        return None
    try:
        words = shlex.split(m.group("command"))
    except ValueError:
        return None
    if words[:2] != ["replay", "convert"] or len(words) < 3:
        return None
    options = Options(source=m.group("source"))
    rest = iter(words[2:])
    for word in rest:
        if word in ("--param", "-p"):
            options.params.append(next(rest, ""))
        elif word.startswith("--param="):
            options.params.append(word.split("=", 1)[1])
        elif word == "--embed":
            options.embed = True
        elif word == "--target-version":
            options.target_version = next(rest, None)
        elif word.startswith("--target-version="):
            options.target_version = word.split("=", 1)[1]
    return options


def script_spec(script_text: str) -> list[dict] | None:
    """The parameter spec a generated script carries (file parameters, time...), or None."""
    m = _SPEC.search(script_text)
    if not m:
        return None
    try:
        return json.loads(m.group(1)).get("parameters", [])
    except (ValueError, AttributeError):
        return None


def regenerate(recording_text: str, source_name: str, script_name: str, options: Options) -> str:
    from ..recordings import convert_text

    return convert_text(recording_text, list(options.params), source_name=source_name, script_name=script_name,
                        embed=options.embed, target_version=options.target_version).code


def staleness(script_text: str, recording_text: str, source_name: str, script_name: str) -> str | None:
    """Why the script is stale against the recording, or None when regenerating gives the same bytes."""
    options = header_options(script_text) or Options(source=source_name)
    try:
        fresh = regenerate(recording_text, source_name, script_name, options)
    except ReplayError as exc:
        return f"cannot be regenerated from {source_name}: {exc.message}"
    if fresh == script_text:
        return None
    return f"stale against its recording {source_name}: run `{command_for(source_name, options)}`"


def command_for(source_name: str, options: Options) -> str:
    words = ["replay", "convert", source_name]
    for name in options.params:
        words += ["--param", name]
    if options.embed:
        words.append("--embed")
    return " ".join(shlex.quote(w) for w in words)


# -- recordings --------------------------------------------------------------------------------

def _absolute(value) -> bool:
    values = value if isinstance(value, (list, tuple)) else [value]
    return any(isinstance(v, str) and _ABSOLUTE.match(v) for v in values)


class _Analysis:
    """What the rules look at, from either of the converter's entry points."""

    def __init__(self, removed, needs, sites, code=None):
        self.removed, self.needs, self.sites, self.code = removed, needs, sites, code


def _inspected(text: str, source_name: str) -> _Analysis:
    from .. import inspect

    _, inventory = inspect(text, source_name)
    return _Analysis(inventory.removed, inventory.needs, inventory.candidates)


def _converted(text: str, source_name: str, script_name: str, options: Options) -> _Analysis:
    """One conversion serves both the rules and the staleness test (the costly part is the analysis)."""
    from ..recordings import convert_text

    result = convert_text(text, list(options.params), source_name=source_name, script_name=script_name,
                          embed=options.embed, target_version=options.target_version)
    needs = [d for d in result.warnings if d.code == "needs-existing"]
    sites = [s for p in result.parameters if p.kind in ("file", "time") for s in p.sites]
    # The notes are the calls convert removed, plus its word on the pictures a trace that saves nothing gets
    # (no call of the recording's: nothing to lint).
    removed = [d for d in result.notes if d.code != "pictures"]
    return _Analysis(removed, needs, sites, result.code)


def computed_times(text: str) -> list[tuple[int, int, str]]:
    """Places that set the time to a computed value, which --time cannot replace.

    The converter skips these silently (they are not candidates), so this one rule looks for them
    itself, with the stdlib's fast parser and the converter's own test of what is a time property.
    """
    import ast

    from ..trace.find import time_property

    if not _TIME_HINT.search(text):
        return []  # every time in the text is a plain number: skip the parse
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []

    def dotted(node):
        if isinstance(node, ast.Name):
            return node.id
        if isinstance(node, ast.Attribute):
            inner = dotted(node.value)
            return f"{inner}.{node.attr}" if inner else None
        return None

    def computed(node):
        try:
            ast.literal_eval(node)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            return True
        return False

    found, constructors = [], {}

    class Visitor(ast.NodeVisitor):
        def visit_Assign(self, node):
            if len(node.targets) == 1:
                target = node.targets[0]
                if isinstance(target, ast.Name) and isinstance(node.value, ast.Call):
                    if isinstance(node.value.func, ast.Name):
                        constructors[target.id] = node.value.func.id
                elif isinstance(target, ast.Attribute):
                    proxy = dotted(target.value)
                    if proxy and time_property(proxy, target.attr, constructors.get(proxy.split(".")[0])) \
                            and computed(node.value):
                        found.append((node.value.lineno, node.value.col_offset + 1, f"{proxy}.{target.attr}"))
            self.generic_visit(node)

        def visit_Call(self, node):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
            if name == "UpdatePipeline":
                values = [k.value for k in node.keywords if k.arg == "time"] or node.args[:1]
                if values and computed(values[0]):
                    found.append((values[0].lineno, values[0].col_offset + 1, "UpdatePipeline(time=...)"))
            self.generic_visit(node)

    Visitor().visit(tree)
    return found


def lint(text: str, source_name: str, paired_name: str, paired_text: str | None):
    """RP001-RP004 and RP006 for one recording, and why its paired replay script is stale (RP005) or None.

    `paired_text` is the recording's `<stem>_replay.py`, if there is one. Raises the reader's
    ReplayError (ParseError, NotARecording...) for input that is not a recording.
    """
    from ..source import detect_kind

    analysis, stale = None, None
    if paired_text is not None:
        options = header_options(paired_text) or Options(source=source_name)
        try:
            analysis = _converted(text, source_name, paired_name, options)
        except UsageError as exc:  # e.g. a recorded --param that matches nothing any more
            stale = f"cannot be regenerated from {source_name}: {exc.message}"
        else:
            if analysis.code != paired_text:
                stale = f"stale against its recording {source_name}: run `{command_for(source_name, options)}`"
    if analysis is None:
        analysis = _inspected(text, source_name)
    computed_time = computed_times(text) if detect_kind(text) == "trace" else []

    found: list[Diagnostic] = []
    for d in analysis.removed:
        why = d.message.split(": ", 1)[-1]
        if d.code in SESSION:
            found.append(Diagnostic(d.line, d.col, f"{d.code}() cannot run in batch: {why}", "RP001"))
        else:
            found.append(Diagnostic(d.line, d.col, f"{d.code}() is a GUI-only call: {why}", "RP002"))
    for d in analysis.needs:
        what = d.message.split(" to exist already")[0].replace("the recording expects ", "")
        found.append(Diagnostic(d.line, d.col, f"{what} expects an object that existed before the recording "
                                "started: it cannot replay in a fresh pvbatch", "RP003"))

    spec = script_spec(paired_text) if paired_text is not None else None
    if paired_text is None:
        why = f"there is no {paired_name} (run `replay convert {shlex.quote(source_name)}`)"
    elif spec is None:
        why = f"{paired_name} has no parameter spec"
    else:
        why = f"{paired_name} has no parameter for it (run `replay convert {shlex.quote(source_name)}`)"
    files = {(p.get("proxy"), p.get("property")) for p in spec or () if p.get("kind") == "file"}
    has_time = any(p.get("kind") == "time" for p in spec or ())
    for site in analysis.sites:
        if site.kind == "file" and site.literal and _absolute(site.value) and (site.proxy, site.property) not in files:
            shown = site.value if isinstance(site.value, str) else site.value[0]
            found.append(Diagnostic(site.line, site.col, f"absolute input path {shown!r} ({site.key}) is not a "
                                    f"parameter: {why}", "RP004"))
    time_sites = [s for s in analysis.sites if s.kind == "time"]
    if time_sites and not has_time:
        site = min(time_sites, key=lambda s: (s.line, s.col))
        why_time = why if paired_text is None or spec is None else f"{paired_name} has no --time parameter"
        found.append(Diagnostic(site.line, site.col, f"the time is set ({site.key}) but not a parameter: {why_time}",
                                "RP006"))
    for line, col, what in computed_time:
        found.append(Diagnostic(line, col, f"the time is computed ({what}), not recorded: --time cannot replace "
                                "it; set a literal time or make it read a parameter", "RP006"))
    found.sort(key=lambda d: (d.line, d.col, d.code))
    return found, stale


def paired_name(recording_name: str) -> str:
    from ..script.emit import default_script_name

    return default_script_name(recording_name)


def looks_like_recording(text: str) -> bool:
    """Cheap test before any parser: XML (a state) or Python that imports paraview, not a generated script."""
    from ..source import detect_kind
    from ..trace.read import _PARAVIEW_IMPORT

    if detect_kind(text) == "state":
        return True
    return not is_replay_script(text) and bool(_PARAVIEW_IMPORT.search(text))
