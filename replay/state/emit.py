"""Inventory + chosen parameters -> the body of a state's replay script.

The body loads the state with ParaView's own LoadState (handing it the reader file names), sets the
chosen properties on the named sources, sets the time and saves one screenshot per render view.
The header, parameter block and runtime helpers come from replay/script/emit.py like for traces.
"""
from __future__ import annotations

import math
import re

from ..model import Inventory, Parameter

_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def literal(value) -> str:
    """Python source for a recorded value; nan/inf have no literal of their own."""
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return f"float({str(value)!r})"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    return repr(value)


def image_name(name: str, fallback: str) -> str:
    """A view's or layout's registration name as a file name (the name `replay verify` pairs on)."""
    return (_SAFE.sub("_", name).strip("_.-") or fallback) + ".png"


def embedded_literal(text: str) -> str:
    """The state as a triple-quoted literal no content can close or bend: every quote and backslash is
    escaped, and carriage returns too, so the text comes back byte for byte."""
    escaped = text.replace("\\", "\\\\").replace("'", "\\'").replace("\r", "\\r")
    return "'''" + escaped + "'''"


_LOCATE = '''\
def _replay_state_file():
    # Relative to the script, so the script and the state move together.
    script = globals().get("__file__") or _replay_sys.argv[0]
    path = _replay_os.path.join(_replay_os.path.dirname(_replay_os.path.abspath(script)), _REPLAY_STATE)
    if not _replay_os.path.isfile(path):
        _replay_sys.exit("replay: state file %s not found (the script looks for it at %r relative to itself; "
                         "convert with --embed to carry the state inside the script)" % (path, _REPLAY_STATE))
    return path
'''

_EMBEDDED = '''\
def _replay_state_file():
    # The state travels inside the script: written out for LoadState, removed once it is loaded.
    import tempfile

    handle, path = tempfile.mkstemp(suffix=".pvsm", prefix="replay-state-")
    _REPLAY_TEMPORARY.append(path)
    with _replay_os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
        stream.write(_REPLAY_STATE)
    return path
'''

_HELPERS = '''\
_REPLAY_EDITS = {}
_REPLAY_TEMPORARY = []  # state copies for LoadState; pvbatch may exit without running atexit handlers
_REPLAY_ASSOCIATIONS = {"POINTS": 0, "CELLS": 1, "FIELD": 2, "VERTICES": 4, "EDGES": 5, "ROWS": 6}


def _replay_edit(proxy_id, xml_name, name, recorded, encode=None):
    """A property parameter given on the command line: the state is edited before it is loaded,
    exactly as an edit of the .pvsm by hand would, so ParaView sees it from the first update.
    Values come as paraview.simple shows them; `encode` turns them into the state's elements."""
    value = _replay_value(name, recorded)
    if value == recorded:
        return
    values = list(value) if isinstance(value, (list, tuple)) else [value]
    if encode and "enum" in encode:
        table = encode["enum"]
        if values[0] not in table and str(values[0]) not in [str(v) for v in table.values()]:
            _replay_sys.exit("--%s: %r is not one of %s" % (name, values[0], ", ".join(map(repr, table))))
        values = [table.get(values[0], values[0])]
    elif encode and "array" in encode:
        if len(values) == 1:
            values = [recorded[0]] + values
        if len(values) != 2 or values[0] not in _REPLAY_ASSOCIATIONS:
            _replay_sys.exit("--%s: expected ASSOCIATION ARRAY, e.g. POINTS %s (associations: %s)"
                             % (name, recorded[1], ", ".join(_REPLAY_ASSOCIATIONS)))
        values = list(encode["array"]) + [_REPLAY_ASSOCIATIONS[values[0]], values[1]]
    _REPLAY_EDITS[(proxy_id, xml_name)] = values


def _replay_edited(path):
    if not _REPLAY_EDITS:
        return path
    import tempfile
    import xml.etree.ElementTree as ElementTree

    tree = ElementTree.parse(path)
    for proxy in tree.getroot().iter("Proxy"):
        for prop in proxy.findall("Property") if proxy.get("id") else ():
            values = _REPLAY_EDITS.get((proxy.get("id"), prop.get("name")))
            if values is None:
                continue
            for element in prop.findall("Element"):
                prop.remove(element)
            for index, value in enumerate(values):
                text = repr(value) if isinstance(value, float) else str(value)
                prop.insert(index, ElementTree.Element("Element", {"index": str(index), "value": text}))
            prop.set("number_of_elements", str(len(values)))
    handle, edited = tempfile.mkstemp(suffix=".pvsm", prefix="replay-edited-")
    _REPLAY_TEMPORARY.append(edited)
    _replay_os.close(handle)
    tree.write(edited, encoding="utf-8", xml_declaration=True)
    return edited


def _replay_load_state(path, readers):
    """LoadState handing ParaView the readers' file names; ParaView 5.9 and older have no filenames=, so
    there they are written into the state copy, as an edit of the .pvsm by hand would."""
    import inspect

    if not readers:
        return LoadState(_replay_edited(path))
    if "filenames" in inspect.signature(LoadState).parameters:
        return LoadState(_replay_edited(path), filenames=readers)
    for reader in readers:
        for key, value in reader.items():
            if key not in ("id", "name"):
                _REPLAY_EDITS[(str(reader["id"]), key)] = list(value) if isinstance(value, (list, tuple)) else [value]
    return LoadState(_replay_edited(path))


def _replay_keep_palette():
    """A state carries its colour palette and LoadState makes it the session's; pvbatch then saves it into the
    user's ParaView settings on exit, so a 5.11 state replayed on 6.1 would change every later 6.1 session.
    Note the palette before loading; the returned function puts it back once the pictures are taken."""
    from paraview.simple import GetSettingsProxy

    try:
        palette = GetSettingsProxy("ColorPalette")
        names = palette.ListProperties()
    except Exception:  # no palette (ParaView before 5.x settings proxies)
        return lambda: None

    def value(name):
        found = palette.GetPropertyValue(name)
        return list(found) if hasattr(found, "__len__") and not isinstance(found, str) else found

    kept = {}
    for name in names:
        try:
            kept[name] = value(name)
        except Exception:
            continue

    def restore():
        for name, old in kept.items():
            try:
                if value(name) != old:
                    palette.SetPropertyWithName(name, old)
            except Exception:
                continue

    return restore


def _replay_remove_temporary():
    while _REPLAY_TEMPORARY:
        try:
            _replay_os.remove(_REPLAY_TEMPORARY.pop())
        except OSError:
            pass

'''


def body(inventory: Inventory, params: list[Parameter], *, state_ref: str, embed: bool, state_text: str) -> str:
    lines = [
        "from paraview.simple import FindView, GetLayoutByName, LoadState",
        "",
    ]
    if embed:
        lines.append(f"_REPLAY_STATE = {embedded_literal(state_text)}")
        lines += ["", "", _EMBEDDED]
    else:
        lines.append(f"_REPLAY_STATE = {state_ref!r}")
        lines += ["", "", _LOCATE]
    lines += ["", _HELPERS, ""]
    for p in params:
        if p.kind == "property":
            site = p.sites[0]
            encode = f", {site.extra['encode']!r}" if site.extra.get("encode") else ""
            lines.append(f"_replay_edit({site.extra['id']!r}, {site.extra['xml']!r}, {p.name!r}, "
                         f"{literal(p.default)}{encode})")
    by_key = {(p.proxy, p.property): p for p in params if p.kind == "file"}
    entries = []
    for reader in inventory.extra.get("readers", []):
        parts = [f"'id': {int(reader['id']) if reader['id'].isdigit() else reader['id']!r}",
                 f"'name': {reader['name']!r}"]
        for xml_name, prop in reader["properties"]:
            param = by_key[(reader["name"], prop)]
            parts.append(f"{xml_name!r}: _replay_files({param.name!r}, {literal(param.default)})")
        entries.append("    {" + ", ".join(parts) + "},")
    if entries:
        load = ["_replay_load_state(_replay_state_file(), ["] + entries + ["])"]
    else:
        load = ["_replay_load_state(_replay_state_file(), [])"]
    lines.append("_replay_restore_palette = _replay_keep_palette()")
    lines += ["try:"] + ["    " + line for line in load] + ["finally:", "    _replay_remove_temporary()"]
    # The state sets its recorded time while loading; only --time changes it afterwards.
    lines.append("_replay_apply_time()")
    for view in inventory.extra.get("views", []):
        size = literal(view["size"]) if view["size"] else "None"
        lines.append(f"_replay_screenshot({view['name']!r}, FindView({view['name']!r}), {size})")
    for layout in inventory.extra.get("layouts", []):
        lines.append(f"_replay_screenshot({layout['name']!r}, GetLayoutByName({layout['name']!r}), None)")
    lines.append("_replay_restore_palette()")
    return "\n".join(lines) + "\n"
