"""Assemble a replay script: header (how to run it) + parameter block + runtime helpers + body.

The helpers are real Python in runtime.py, tested on their own and copied in, because the
script runs in pvbatch's Python, where replay itself is not installed.
"""
from __future__ import annotations

import hashlib
import json
from importlib import resources

from ..model import Parameter

MARK = "# replay: generated"


def default_script_name(source_name: str) -> str:
    """`<stem>_replay.py` for a recording named source_name (a trace or a state)."""
    stem = source_name.replace("\\", "/").rsplit("/", 1)[-1]
    stem = stem[:-3] if stem.endswith(".py") else stem.rsplit(".", 1)[0] if "." in stem else stem
    return f"{stem}_replay.py"


def runtime_source(name: str = "runtime.py") -> str:
    return resources.files("replay.script").joinpath(name).read_text(encoding="utf-8")


def _json_literal(name: str, text: str) -> str:
    # JSON inside a raw triple-quoted string: no quote in the data can close it (see spec_literal).
    return f"{name} = _replay_json.loads(r'''{text.replace(chr(39), chr(92) + 'u0027')}''')"


def spec_literal(spec: dict) -> str:
    # JSON inside a raw triple-quoted string: no quote in the data can close it, because
    # JSON only has quotes inside strings and those are escaped as \u0027 here.
    # One parameter per line, each by json's C encoder (indent= would fall back to the pure-Python one,
    # which costs seconds for a state with tens of thousands of parameters).
    def dumps(value):
        return json.dumps(value, ensure_ascii=True, allow_nan=True)

    fields = [f"{dumps(key)}: {dumps(value)}" for key, value in spec.items() if key != "parameters"]
    rows = ",\n  ".join(dumps(p) for p in spec.get("parameters", []))
    fields.append(f'"parameters": [\n  {rows}\n ]' if rows else '"parameters": []')
    text = ("{\n " + ",\n ".join(fields) + "\n}").replace("'", "\\u0027")
    return f"_REPLAY_SPEC = _replay_json.loads(r'''{text}''')"


def body_line_map(source_text: str, body: str) -> list | None:
    """Where the script's body and the recording part ways in lines, so a crash report can name the recording's
    line (replay/batch/crash.py): [body line, recording line, n], from which n lines are the recording's own,
    or n = 0: a rewritten statement, all of whose lines stand for the recording line where it starts. None
    when they agree line for line, as they do unless a statement was split (6.x `.Set(A=..., B=...)`)."""
    body_lines, source_lines = body.splitlines(), source_text.splitlines()
    if len(body_lines) == len(source_lines):
        return None
    import difflib

    blocks = difflib.SequenceMatcher(None, body_lines, source_lines, autojunk=False).get_opcodes()
    return [[i1 + 1, j1 + 1, i2 - i1 if tag == "equal" else 0] for tag, i1, i2, j1, j2 in blocks]


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _example(params: list[Parameter], script_name: str) -> str:
    parts = [f"pvbatch {script_name}"]
    for p in params:
        if p.kind == "file":
            parts.append(f"--{p.name} /path/to/new/data")
            break
    for p in params:
        if p.kind == "property":
            parts.append(f"--{p.name} ...")
            break
    parts.append("--output-dir out/")
    return " ".join(parts)


PICTURES = ("one <ViewName>.png per render view and one <LayoutName>.png per layout of several views, "
            "at the recorded size, into --output-dir")


def header(source_name: str, script_name: str, command: str, sha: str, params: list[Parameter],
           recorded: str, pictures: str | None = None) -> list[str]:
    saves = [f"# {pictures}, so this script saves its pictures at its end:", f"#     {PICTURES}."] if pictures else []
    return [
        f"{MARK} from {source_name} ({recorded}) by: {command}",
        f"# replay: source-sha256 {sha}",
        "# Do not edit: change the recording and convert it again.",
        "#",
        "# Run it in batch; every parameter defaults to the recorded value:",
        f"#     pvbatch {script_name} --help",
        f"#     {_example(params, script_name)}",
        f"#     mpiexec -n 4 pvbatch {script_name} ...",
        "# ParaView builds that render through X need a display: xvfb-run -a pvbatch ...",
        *saves,
        "",
    ]


def assemble(*, source_name: str, script_name: str, command: str, source_text: str, params: list[Parameter],
             body: str, newline: str, recorded: str, preamble: list[str] = (), own_arguments: bool = False,
             adapt: dict | None = None, pictures: str | None = None, crashes: dict | None = None) -> str:
    """adapt: what the script needs to run on another ParaView than the recording's (pvtables.recorded_for);
    the adapter (adapt.py) and that data go in, and it runs before the recording imports paraview.simple.
    pictures: why the script saves its views' pictures at its end (a state; a trace that saves no file),
    said in the header and in --output-dir's help.
    crashes: the guards (guards.py) go in, with the known crashes of the recording's properties
    (pvtables.crashes.crashes_for; {} for none)."""
    spec = {"source": source_name, "parameters": [p.to_spec() for p in params]}
    if pictures:
        spec["pictures"] = True
    if own_arguments:
        # The recording parses sys.argv itself: words replay does not know are left to it.
        spec["own_arguments"] = True
    if adapt:
        spec["native_look"] = True
    line_map = body_line_map(source_text, body)
    if line_map:
        spec["lines"] = line_map
    lines = header(source_name, script_name, command, digest(source_text), params, recorded, pictures)
    lines += ["import json as _replay_json", "", spec_literal(spec), ""]
    lines += runtime_source().rstrip("\n").split("\n")
    if adapt:
        lines += ["", ""] + runtime_source("adapt.py").rstrip("\n").split("\n")
        lines += ["", "", _json_literal("_REPLAY_RECORDED", json.dumps(adapt, sort_keys=True, separators=(",", ":")))]
    if crashes is not None:
        lines += ["", ""] + runtime_source("guards.py").rstrip("\n").split("\n")
        lines += ["", "", _json_literal("_REPLAY_CRASHES", json.dumps(crashes, sort_keys=True, separators=(",", ":")))]
    lines += [
        "",
        "",
        "_REPLAY_ARGS.update(_replay_parse_args(_REPLAY_SPEC, _replay_sys.argv[1:]))",
        "_replay_sys.excepthook = _replay_excepthook",
        "_replay_crash_report()",
        "_replay_own_main()",
        "",
    ]
    lines += list(preamble)
    # Before the adapter, which hands its own refusals to it.
    lines += ["_replay_install_computed_inputs()", ""]
    if adapt:
        lines += [f"# replay: adapts ParaView to this ParaView {adapt['version'][0]}.{adapt['version'][1]} recording "
                  "when another version runs it (pvbatch ... --native-look keeps that version's own looks)",
                  "_replay_adapt(_REPLAY_RECORDED)", ""]
    # After the adapter: it wraps some of the same calls, and the recording imports the wrapped ones.
    lines += ["_replay_check_outputs()", ""]
    if crashes is not None:
        lines += ["# replay: stops assignments that would crash ParaView: known crashes (replay/pvtables/crashes-X.Y.json),"
                  " reader selections a given file lacks",
                  "_replay_guard_crashes(_REPLAY_CRASHES)", ""]
    lines += [f"# ---- recorded: {source_name} ----", ""]
    block = "\n".join(lines) + "\n"
    if newline != "\n":
        block = block.replace("\n", newline)
    return block + body
