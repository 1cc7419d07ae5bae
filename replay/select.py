"""Inventory + the names a user asked for -> the script's parameters, with unique CLI names.

Shared by traces and states: the rules for naming and typing a parameter are the same.
"""
from __future__ import annotations

import difflib
import math
import re
from collections import Counter

from .errors import UnknownParameter
from .model import Inventory, Parameter

TIME = "time"
OUTPUT_DIR = "output-dir"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.\-]+")


def cli_safe(name: str) -> str:
    """A name a shell and argparse take without quoting: 'wave.vti*' -> 'wave.vti_'."""
    return _UNSAFE.sub("_", name).strip("_.-") or "source"


def _value_type(value) -> tuple[str, str | None]:
    if isinstance(value, (list, tuple)):
        kinds = {_value_type(v)[0] for v in value}
        if kinds == {"int", "float"}:
            kinds = {"float"}
        return (kinds.pop() if len(kinds) == 1 else "auto"), ("+" if value else "*")
    if isinstance(value, bool):
        return "bool", None
    if isinstance(value, int):
        return "int", None
    if isinstance(value, float):
        return "float", None
    return "str", None


def _groups(inventory: Inventory) -> dict:
    groups: dict[tuple, list] = {}
    for site in inventory.candidates:
        key = (TIME, None) if site.kind == "time" else (site.proxy, site.property)
        groups.setdefault(key, []).append(site)
    return groups


def all_parameters(inventory: Inventory) -> list[Parameter]:
    """Every parameter convert could create: what `inspect` lists."""
    groups = _groups(inventory)
    proxies_per_property = Counter(prop for (proxy, prop) in groups if proxy != TIME)
    params = []
    for (proxy, prop), sites in groups.items():
        first = sites[0]
        if proxy == TIME:
            literal = [s for s in sites if s.literal and isinstance(s.value, (int, float))]
            default = literal[-1].value if literal else None
            params.append(Parameter(TIME, "time", None, None, default, first.line, "float", None, sites))
            continue
        name = prop if proxies_per_property[prop] == 1 else f"{proxy}.{prop}"
        # Set more than once (a GUI user who edited a value twice): the last value is the one the
        # recording's outputs show, so it is the default a user expects to see.
        last = sites[-1]
        if first.kind == "file":
            params.append(Parameter(cli_safe(name), "file", proxy, prop, last.value, last.line, "str", "+", sites))
        else:
            value_type, nargs = _value_type(last.value)
            params.append(Parameter(cli_safe(name), "property", proxy, prop, last.value, last.line,
                                    value_type, nargs, sites))
    if not any(p.kind == "time" for p in params):
        params.append(Parameter(TIME, "time", None, None, None, None, "float", None, []))
    outputs = inventory.outputs
    params.append(Parameter(OUTPUT_DIR, "output", None, None, None, outputs[0].line if outputs else None,
                            "str", None, list(outputs)))
    order = {"file": 0, "time": 1, "property": 2, "output": 3}
    params.sort(key=lambda p: (order[p.kind], p.line if p.line is not None else math.inf))
    return params


def select(inventory: Inventory, requested: list[str] | tuple = ()) -> list[Parameter]:
    """File names, time and the output folder always; properties only when a --param names them."""
    params = all_parameters(inventory)
    chosen = {id(p) for p in params if p.kind != "property"}
    for wanted in requested:
        hits = [p for p in params if wanted in (p.name, p.property, f"{p.proxy}.{p.property}")]
        if not hits:
            raise UnknownParameter(_unknown_message(wanted, params), None)
        chosen.update(id(p) for p in hits)
    return [p for p in params if id(p) in chosen]


def _unknown_message(wanted: str, params: list[Parameter]) -> str:
    names = sorted({n for p in params for n in (p.name, p.property, f"{p.proxy}.{p.property}") if n and "None" not in n})
    close = difflib.get_close_matches(wanted, names, n=5, cutoff=0.5)
    if not close:
        lowered = wanted.lower()
        close = [n for n in names if lowered in n.lower()][:5]
    hint = f"; close matches: {', '.join(close)}" if close else "; run `replay inspect` to list the candidates"
    return f"--param {wanted}: matches nothing in the recording{hint}"
