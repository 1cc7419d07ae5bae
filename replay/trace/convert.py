"""The trace pipeline end to end: read -> find -> select -> rewrite -> emit."""
from __future__ import annotations

import shlex

from ..model import ConvertResult, Diagnostic
from ..script import emit
from ..script.emit import default_script_name
from ..select import all_parameters, select
from ..pvtables import recorded_for
from ..pvtables.crashes import crashes_for
from ..versions import compatibility_preamble, detect_trace_version, parse_version, scanner
from .argv import ReadsArgv
from .find import find
from .pictures import WHY, Writes, ending, note
from .read import parse_trace
from .rewrite import apply_view_size_hints, rewrite


def command_line(source_name: str, params) -> str:
    words = ["replay", "convert", source_name]
    for name in params:
        words += ["--param", name]
    return " ".join(shlex.quote(w) for w in words)


def _analyse(text: str, source_name: str, target_version: str | None = None):
    text = apply_view_size_hints(text)
    module = parse_trace(text, source_name)
    versions, argv, writes = scanner(target_version), ReadsArgv(), Writes()
    inventory, wrapper = find(module, also=[versions, argv, writes])
    inventory.extra["writes"] = writes.found or bool(inventory.outputs)
    inventory.version, inventory.version_source = detect_trace_version(text)
    inventory.extra["reads_command_line"] = argv.found
    changes = versions.changes()
    inventory.extra["version_rewrites"] = changes.rewrites
    inventory.extra["version_notes"] = changes.notes  # not in `removed`: those are calls taken out
    inventory.warnings += changes.warnings
    return text, module, inventory, wrapper


def inspect_trace(text: str, source_name: str = "<trace>"):
    _, _, inventory, _ = _analyse(text, source_name)
    return all_parameters(inventory), inventory


def convert_trace(text: str, params=(), *, source_name: str = "trace.py", script_name: str | None = None,
                  target_version: str | None = None) -> ConvertResult:
    """Convert a trace's text. Returns the script's code, its parameters, and what it changed.
    target_version 'X.Y': also warn about what that ParaView cannot run."""
    return _convert(text, lambda inventory: select(inventory, list(params)), source_name, script_name,
                    command_line(source_name, params), target_version)


def batch_only(text: str, source_name: str = "trace.py") -> ConvertResult:
    """The recording as it is, for `replay verify`: only what cannot run in batch taken out and the
    outputs redirected by --output-dir. No other parameter, so nothing can stand between the
    recorded literals and what runs."""
    def outputs_only(inventory):
        return [p for p in all_parameters(inventory) if p.kind == "output"]

    return _convert(text, outputs_only, source_name, None, f"replay verify {shlex.quote(source_name)}")


def _convert(text: str, choose, source_name: str, script_name: str | None, command: str,
             target_version: str | None = None) -> ConvertResult:
    original = text
    text, module, inventory, wrapper = _analyse(text, source_name, target_version)
    parameters = choose(inventory)
    body = rewrite(wrapper, parameters, inventory)
    pictures = not inventory.extra["writes"]
    if pictures:
        sets_time = any(s.kind == "time" for p in parameters if p.kind == "time" for s in p.sites)
        body = ending(body, module.default_newline, apply_time=not sets_time)
    recorded = f"ParaView {inventory.version} trace" if inventory.version else "ParaView trace"
    code = emit.assemble(
        source_name=source_name,
        script_name=script_name or default_script_name(source_name),
        command=command,
        source_text=original,
        params=parameters,
        body=body,
        newline=module.default_newline,
        recorded=recorded,
        preamble=compatibility_preamble(inventory.version),
        own_arguments=inventory.extra["reads_command_line"],
        adapt=recorded_for(original, parse_version(inventory.version)),
        pictures=WHY if pictures else None,
        crashes=crashes_for(original),
    )
    warnings = list(inventory.warnings)
    warnings += [Diagnostic(d.line, d.col, f"the recording expects {d.message} to exist already: "
                            "it cannot replay on its own in a fresh pvbatch", d.code) for d in inventory.needs]
    notes = [*inventory.removed, *inventory.extra["version_notes"]]
    if pictures:
        notes.append(Diagnostic(1, 1, note(), "pictures"))
    return ConvertResult(code=code, parameters=parameters, warnings=warnings, notes=notes,
                         format="trace", version=inventory.version, version_source=inventory.version_source)
