"""A parsed state -> Inventory: reader files, the time, the views and every recorded source property.

Everything is read from the state itself: a file property is one with a files domain, names and
ids come from the "sources" collection, the time from the AnimationScene and the TimeKeeper.
"""
from __future__ import annotations

import re

from ..model import Diagnostic, Inventory, Site
from ..pvtables.unset_files import optional_file, unset_file
from ..pvtables.pynames import PYTHON_NAMES

# Views whose picture SaveScreenshot can save at a recorded size (the ones `replay verify` saves).
RENDER_VIEWS = ("RenderView", "OrthographicSliceView")
_INT = re.compile(r"^[+-]?\d+$")
_FLOAT = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$|^[+-]?(inf|nan)$", re.IGNORECASE)


def typed(text: str):
    """An element value as plain Python: what the CLI types it as and what the script sets back."""
    if _INT.match(text):
        return int(text)
    if _FLOAT.match(text):
        return float(text)
    return text


def _read_property(prop) -> tuple[list[str] | None, dict]:
    """(recorded values, {domain name: element}) in one pass over the children. Values are None for
    a property holding proxies (inputs, sub-proxies) or nothing."""
    values, domains, proxies = [], {}, False
    for child in prop:
        tag = child.tag
        if tag == "Element":
            values.append(child.get("value", ""))
        elif tag == "Domain":
            domains[child.get("name")] = child
        elif tag == "Proxy":
            proxies = True
    return (None if proxies or not values else values), domains


def _elements(prop) -> list[str] | None:
    return _read_property(prop)[0]


# vtkDataObject field associations as paraview.simple names them (servermanager.ASSOCIATIONS).
ASSOCIATIONS = {0: "POINTS", 1: "CELLS", 2: "FIELD", 4: "VERTICES", 5: "EDGES", 6: "ROWS"}


def python_value(values: list[str], domains: dict) -> tuple[object, dict | None]:
    """A recorded value the way paraview.simple and traces show it, and how to write it back:
    an enumeration by its text, an input array as [association, name]; anything else as typed."""
    enum = domains.get("enum")
    if enum is not None and len(values) == 1:
        entries = {entry.get("value"): entry.get("text") for entry in enum.iterchildren("Entry")}
        if values[0] in entries:
            return entries[values[0]], {"enum": {text: int(value) for value, text in entries.items()}}
    # [input index, port, connection, association, name]; 4.x states leave the first three empty.
    if (len(values) == 5 and "array_list" in domains and _INT.match(values[3])
            and all(v == "" or _INT.match(v) for v in values[:3])):
        association = ASSOCIATIONS.get(int(values[3]))
        if association is not None:
            return [association, values[4]], {"array": values[:3]}
    converted = [typed(v) for v in values]
    return (converted[0] if len(converted) == 1 else converted), None


def python_name(proxy_type: str | None, xml_name: str) -> str | None:
    """The paraview.simple name of a property (what traces and --param use), None when it only
    reports what the server knows (array info, time steps), which setting back does nothing to."""
    names = PYTHON_NAMES.get(proxy_type)
    if names is not None:
        return names.get(xml_name, xml_name)
    # A type ParaView 5.11 does not define (a plugin, another version): its XML name, and the
    # naming convention ParaView uses for information properties.
    return None if xml_name.endswith("Info") or xml_name == "TimestepValues" else xml_name


def collections(state) -> dict[str, list[tuple[str, str]]]:
    found: dict[str, list[tuple[str, str]]] = {}
    for coll in state.iterchildren("ProxyCollection"):
        found[coll.get("name", "")] = [(item.get("id", ""), item.get("name", "")) for item in coll.iterchildren("Item")]
    return found


def find(root, state, only: set[str] | None = None) -> Inventory:
    """only: the paraview.simple names of the properties wanted as candidates (files and time always);
    None for every property. Convert asks only for what --param names: a big state has hundreds of
    thousands of properties, and reading them all costs more than parsing the XML."""
    proxies = {p.get("id"): p for p in state.iterchildren("Proxy")}
    named = collections(state)
    inventory = Inventory(format="state")
    inventory.version = state.get("version") or root.get("version")
    inventory.version_source = "ServerManagerState version" if inventory.version else None
    readers, seen = [], set()
    picked = _pick(state, only)
    for pid, name in named.get("sources", []):
        proxy = proxies.get(pid)
        if proxy is None:
            inventory.warnings.append(Diagnostic(1, 1, f"source {name!r} (id {pid}) has no <Proxy> in the state"))
            continue
        if name in seen:
            inventory.warnings.append(Diagnostic(proxy.sourceline or 1, 1, f"two sources are named {name!r}: "
                                                 "parameters of the second one reach the first"))
        seen.add(name)
        xml_type = proxy.get("type")
        files = []
        for prop in (proxy.iterchildren("Property") if picked is None else picked.get(pid, ())):
            xml_name = prop.get("name", "")
            pname = python_name(xml_type, xml_name)
            values, domains = _read_property(prop)
            extra = {"id": pid, "type": xml_type, "xml": xml_name}
            if "files" in domains:
                # An empty file property is still a file parameter: LoadState needs the key to replace it.
                recorded = [v for v in values or [] if v]
                value = recorded[0] if len(recorded) == 1 and prop.get("number_of_elements", "1") == "1" else recorded
                if recorded and unset_file(value, optional_file(xml_type, xml_name)):
                    continue  # a placeholder of an unset side file (4.x 'Invalid result'): LoadState keeps it
                inventory.candidates.append(Site("file", name, pname or xml_name, value, prop.sourceline or 1, node=prop,
                                                 extra=extra))
                files.append((xml_name, pname or xml_name))
            elif pname is not None and (only is None or pname in only) and values is not None:
                value, encode = python_value(values, domains)
                if encode:
                    extra["encode"] = encode
                inventory.candidates.append(Site("property", name, pname, value, prop.sourceline or 1, node=prop,
                                                 extra=extra))
        if files:
            readers.append({"id": pid, "name": name, "properties": files})
    inventory.extra["readers"] = readers
    _find_time(inventory, state, proxies, named)
    inventory.extra["views"] = _views(state, proxies, named)
    if not inventory.extra["views"]:
        inventory.warnings.append(Diagnostic(state.sourceline or 1, 1, "the state has no render view: "
                                             "its replay loads it and saves no image"))
    inventory.extra["layouts"] = _layouts(proxies, named, {v["id"] for v in inventory.extra["views"]})
    return inventory


_NOT_SOURCES = ("representations", "views", "lookup_tables", "piecewise_functions", "scalar_bars", "animation",
                "settings", "annotations", "layouts", "timekeeper", "misc")


def _pick(state, only: set[str] | None) -> dict | None:
    """proxy id -> the properties that may be wanted: file properties and those whose XML name can
    stand for a name in `only`. One XPath over the whole state: lxml walks the rest in C."""
    if only is None:
        return None
    xml_names = set(only) | {xml for names in PYTHON_NAMES.values() for xml, name in names.items() if name in only}
    tests = ["Domain/@name='files'"] + [f"@name='{n}'" for n in sorted(xml_names) if "'" not in n]
    # Representations, views and color maps carry most of a real state's properties and are never sources.
    others = " or ".join(f"@group='{g}'" for g in _NOT_SOURCES)
    picked: dict = {}
    for prop in state.xpath(f"Proxy[not({others})]/Property[{' or '.join(tests)}]"):
        picked.setdefault(prop.getparent().get("id"), []).append(prop)
    return picked


def wanted_names(requested) -> set[str]:
    """The property names (paraview.simple's) a --param list can mean: 'Isosurfaces',
    'Contour1.Isosurfaces' and the state's own 'ContourValues' all mean Isosurfaces."""
    words = {str(r).rsplit(".", 1)[-1] for r in requested}
    return words | {names[w] for names in PYTHON_NAMES.values() for w in words if names.get(w)}


def _property(proxy, name):
    for prop in proxy.iterchildren("Property"):
        if prop.get("name") == name:
            return prop
    return None


def _find_time(inventory: Inventory, state, proxies, named) -> None:
    wanted = (("animation", "AnimationScene", "AnimationTime"), ("timekeeper", "TimeKeeper", "Time"))
    for collection, xml_type, pname in wanted:
        for pid, name in named.get(collection, []):
            proxy = proxies.get(pid)
            if proxy is None or proxy.get("type") != xml_type:
                continue
            prop = _property(proxy, pname)
            values = _elements(prop) if prop is not None else None
            if values:
                value = typed(values[0])
                value = float(value) if isinstance(value, int) else value
                inventory.candidates.append(Site("time", name, pname, value, prop.sourceline or 1,
                                                 node=prop, extra={"id": pid, "type": xml_type}))


def _views(state, proxies, named) -> list[dict]:
    views = []
    for pid, name in named.get("views", []):
        proxy = proxies.get(pid)
        if proxy is None or proxy.get("type") not in RENDER_VIEWS:
            continue
        prop = _property(proxy, "ViewSize")
        size = [typed(v) for v in (_elements(prop) or [])] if prop is not None else []
        if len(size) != 2 or not all(isinstance(v, int) and v > 0 for v in size):
            size = None
        views.append({"id": pid, "name": name, "type": proxy.get("type"), "size": size,
                      "line": proxy.sourceline or 1})
    return views


def _layouts(proxies, named, render_views: set) -> list[dict]:
    """Layouts holding more than one render view: their picture is more than any one view's."""
    layouts = []
    for pid, name in named.get("layouts", []):
        proxy = proxies.get(pid)
        if proxy is None:
            continue
        shown = [item.get("view") for layout in proxy.iterchildren("Layout") for item in layout.iterchildren("Item")
                 if item.get("view") in render_views]
        if len(shown) > 1:
            layouts.append({"id": pid, "name": name, "views": shown, "line": proxy.sourceline or 1})
    return layouts
