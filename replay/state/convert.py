"""The state pipeline end to end: read -> find -> select -> emit."""
from __future__ import annotations

import shlex

from ..errors import UnknownParameter
from ..model import ConvertResult
from ..script import emit as script_emit
from ..select import all_parameters, cli_safe, select
from . import emit
from .find import find, wanted_names
from .read import parse_state


def _analyse(text: str, source_name: str, only: set[str] | None = None):
    root, state = parse_state(text, source_name)
    return find(root, state, only)


def inspect_state(text: str, source_name: str = "<state>"):
    """Every parameter convert could create from the state, and the Inventory behind them."""
    inventory = _analyse(text, source_name)
    return all_parameters(inventory), inventory


def _requested(params, inventory) -> list[str]:
    """--param names, with a state's own XML names (ContourValues, Contour1.ContourValues) taken as
    the paraview.simple names they stand for (Isosurfaces), since a user reading the .pvsm sees those."""
    requested = [str(p) for p in params]
    if not requested:
        return requested
    known, aliases = set(), {}
    for site in inventory.candidates:
        known.update((site.property, site.key, cli_safe(site.key)))
        xml = site.extra.get("xml")
        if xml and xml != site.property:
            aliases[xml] = site.property
            aliases[f"{site.proxy}.{xml}"] = site.key
    return [wanted if wanted in known else aliases.get(wanted, wanted) for wanted in requested]


def command_line(source_name: str, params, embed: bool) -> str:
    words = ["replay", "convert", source_name] + [w for name in params for w in ("--param", name)]
    if embed:
        words.append("--embed")
    return " ".join(shlex.quote(w) for w in words)


def convert_state(text: str, params=(), *, source_name: str = "state.pvsm", script_name: str | None = None,
                  embed: bool = False, state_path: str | None = None) -> ConvertResult:
    """Convert a state's text. The script loads the state from `state_path` (relative to the script;
    default: source_name beside it), or from its own text with embed=True."""
    inventory = _analyse(text, source_name, wanted_names(params))
    try:
        parameters = select(inventory, _requested(params, inventory))
    except UnknownParameter:
        # The close matches the error lists come from every property of the state.
        inventory = _analyse(text, source_name)
        parameters = select(inventory, _requested(params, inventory))
    for p in parameters:
        if p.kind == "property" and p.value_type in ("int", "float", "bool"):
            # "157" in a state may be an int or a double property: take what the user types, as typed.
            p.value_type = "auto"
    body = emit.body(inventory, parameters, state_ref=(state_path or source_name).replace("\\", "/"),
                     embed=embed, state_text=text)
    recorded = f"ParaView {inventory.version} state" if inventory.version else "ParaView state"
    code = script_emit.assemble(
        source_name=source_name,
        script_name=script_name or script_emit.default_script_name(source_name),
        command=command_line(source_name, params, embed),
        source_text=text,
        params=parameters,
        body=body,
        newline="\n",
        recorded=recorded,
        pictures="A state saves no file",
    )
    return ConvertResult(code=code, parameters=parameters, warnings=list(inventory.warnings), notes=[],
                         format="state", version=inventory.version, version_source=inventory.version_source)
