"""What real ParaView releases define, read from them by generators beside each table and committed, so the
converter needs none. Regenerate each under the pvpython of the release it comes from:

- paraview-X.Y.json.gz (the version tables): `xvfb-run -a pvpython-X.Y replay/pvtables/make.py`;
- reader_files.py (readers' file properties; unset_files.py reads it): `xvfb-run -a pvpython
  replay/pvtables/make_reader_files.py > replay/pvtables/reader_files.py` (5.11);
- pynames.py (a state's XML property names -> paraview.simple names): `xvfb-run -a pvpython
  replay/pvtables/make_pynames.py > replay/pvtables/pynames.py` (5.11).
- crashes-X.Y.json (assignments of None or an empty value that crash the release; crashes.py reads them):
  `python3 replay/pvtables/make_crashes.py pvpython-X.Y` (minutes per release: each crash kills a probing
  pvpython, which is started again after it).

The version tables:

One gzipped JSON table per release Debian ships (5.9, 5.11, 5.13, 6.1). The converter takes from them what a
script needs to run on a version other than the recording's (script/adapt.py does the adapting at run time):

- defaults: for each property name the recording sets, its default per proxy type in the recording's
  version. A newer recording on an older ParaView writes many defaults the older one lacks: those are
  skipped, anything else is reported.
- lists: proxy-list labels of the recording's version -> XML names ('Grid Axes 3D Actor' -> 'GridAxes3DActor').
- calls: keyword defaults of the paraview.simple calls the recording makes.
- pins: the looks (view background, colour map, lighting, ...) the recording's version gave without writing
  them, for every property where another release's differ.
- renamed: the functions the recording calls that another release knows by another name (renames.py).
- filters: the sources and filters the recording calls (a release lacking one says so by line).
- presets: [old, new] colour preset names the releases renamed, for the names the recording uses.
- created: for every source and filter the recording creates, its properties' defaults in the recording's
  version: where a release gives another default, the adapter pins the recording's (it computes as recorded).
- sublists: the properties the recording names that were proxy lists (a sub-proxy: Slice With Plane's Plane)
  in its version -> their default choice, for the adapter to follow a sub-proxy that moved or was renamed.
"""
from __future__ import annotations

import gzip
import re
import json
from functools import lru_cache
from importlib import resources

from .renames import renames_for

_PREFIX, _SUFFIX = "paraview-", ".json.gz"


def available() -> list[tuple[int, int]]:
    """The versions with a table, oldest first."""
    found = []
    for entry in resources.files(__name__).iterdir():
        name = entry.name
        if name.startswith(_PREFIX) and name.endswith(_SUFFIX):
            major, minor = name[len(_PREFIX):-len(_SUFFIX)].split(".")
            found.append((int(major), int(minor)))
    return sorted(found)


@lru_cache(maxsize=None)
def load(version: tuple[int, int]) -> dict:
    name = f"{_PREFIX}{version[0]}.{version[1]}{_SUFFIX}"
    with resources.files(__name__).joinpath(name).open("rb") as raw:
        return json.loads(gzip.decompress(raw.read()))


def nearest(version: tuple[int, int]) -> tuple[int, int] | None:
    """The table that stands for a recording's version: its own, else the newest older one (defaults change
    at releases, so a 5.12 recording has 5.11's until shown otherwise), else the oldest."""
    versions = available()
    if not versions:
        return None
    older = [v for v in versions if v <= version]
    return older[-1] if older else versions[0]


def _by_type(table: dict) -> dict[str, dict]:
    merged: dict[str, dict] = {}
    for group in table["proxies"].values():
        for xml, props in group.items():
            merged.setdefault(xml, props)
    return merged


def defaults_for(version: tuple[int, int], names: set[str]) -> dict[str, dict]:
    """{property: {proxy XML name: default}} for the property names a recording sets."""
    table = load(version)
    out: dict[str, dict] = {}
    for xml, props in _by_type(table).items():
        for name in names & props.keys():
            out.setdefault(name, {})[xml] = props[name]
    return {name: dict(sorted(types.items())) for name, types in sorted(out.items())}


def lists_for(version: tuple[int, int], values: set[str]) -> dict[str, str]:
    """Proxy-list labels the recording uses -> their XML names."""
    labels = {label: xml for xml, label in load(version)["lists"].items()}
    return {v: labels[v] for v in sorted(values) if v in labels and labels[v] != v}


def calls_for(version: tuple[int, int], calls: dict[str, set[str]]) -> dict[str, dict]:
    """{function: {keyword: default}} for the keywords the recording passes that have a default."""
    signatures = load(version)["simple"]
    out = {}
    for name, keywords in sorted(calls.items()):
        spec = signatures.get(name)
        if isinstance(spec, dict):
            known = {k: v for k, v in spec.items() if k in keywords}
            if known:
                out[name] = known
    return out


# The objects whose looks a recording inherits: effective tables' keys -> how adapt.py names them.
# The colour palette counts through the background it gives views (_rendered); it is never pinned itself, as
# pvbatch saves settings proxies into the user's ParaView settings on exit.
LOOKS = ("RenderView", "Display", "LookupTable", "OpacityFunction", "ScalarBar")
# Values that describe the data or the session rather than a look: never pinned.
_NOT_LOOKS = {
    # what the data, the camera or the recording itself decides
    "RGBPoints", "Points", "ScalarRangeInitialized", "AutomaticRescaleRangeMode", "ViewSize", "ViewTime",
    "CameraPosition", "CameraFocalPoint", "CameraViewUp", "CameraParallelScale", "CameraViewAngle",
    "CenterOfRotation", "ColorArrayName", "LookupTable", "Input", "ScaleTransferFunction",
    "OpacityTransferFunction", "DataAxesGrid", "PolarAxes", "Representation", "OpacityArray",
    "ScalarOpacityFunction", "ScaleFactor", "GaussianRadius", "SelectScaleArray", "SelectOrientationVectors",
    "SelectInputVectors", "SetScaleArray", "OpacityArrayName", "Title", "ComponentTitle", "WindowLocation",
    "Position", "ScalarBarLength", "StereoType", "ServerStereoType", "OSPRayScaleArray", "GlyphType",
    "BlockSelectors", "Assembly", "UseSeparateColorMap",
    # interaction, ray tracing and bookkeeping: no part of a batch picture
    "Camera3DManipulators", "Camera2DManipulators", "Denoise", "NameOfLastPresetApplied",
    "WindowResizeNonInteractiveRenderDelay"}


def _rendered(effective: dict) -> dict:
    """The looks as rendered: from 5.10 a view shows the colour palette's background while
    UseColorPaletteForBackground is on, whatever its own Background says (5.9 has no palette switch)."""
    view = (effective.get("RenderView") or {}).get("values", {})
    palette = (effective.get("ColorPalette") or {}).get("values", {})
    if view.get("UseColorPaletteForBackground") == 1 and "Background" in palette:
        view = dict(view, Background=palette["Background"])
        effective = dict(effective, RenderView=dict(effective["RenderView"], values=view))
    return effective


def pins_for(version: tuple[int, int]) -> dict[str, dict]:
    """The recording version's looks wherever another release with a table differs from them."""
    own = _rendered(load(version)["effective"])
    others = [_rendered(load(v)["effective"]) for v in available() if v != version]
    pins: dict[str, dict] = {}
    for kind in LOOKS:
        mine = (own.get(kind) or {}).get("values", {})
        for name, value in mine.items():
            if name in _NOT_LOOKS or name.endswith("Format"):
                continue  # 6.x label formats are std::format, older ones printf: each keeps its own
            if any(name in (o.get(kind) or {}).get("values", {}) and o[kind]["values"][name] != value
                   for o in others):
                pins.setdefault(kind, {})[name] = value
    shape = (own.get("LookupTable") or {}).get("preset_shape")
    if shape and any((o.get("LookupTable") or {}).get("preset_shape") != shape for o in others):
        pins.setdefault("LookupTable", {})["RGBPoints"] = shape
    return {kind: dict(sorted(values.items())) for kind, values in pins.items()}


def created_for(version: tuple[int, int], called: set[str]) -> dict[str, dict]:
    """{XML name: {property: default}} of the sources and filters the recording's calls create (vector
    properties only: a proxy list's default is a choice, not a value)."""
    table = load(version)
    lists = table["lists"]
    merged = _by_type(table)
    out = {}
    for name in sorted(called):
        xml = table.get("functions", {}).get(name)
        if xml and xml in merged:
            out[xml] = {prop: value for prop, value in sorted(merged[xml].items())
                        if not (isinstance(value, str) and value in lists)}
    return out


def sublists_for(version: tuple[int, int], names: set[str]) -> dict[str, dict]:
    """{property: {XML name: [default choice, its label]}} for the names that are proxy-list properties in that
    version (5.9 traces write the label: Source='Line')."""
    lists = load(version)["lists"]
    out = {}
    for name, types in defaults_for(version, names).items():
        chosen = {xml: [value, lists[value]] for xml, value in types.items()
                  if isinstance(value, str) and value in lists}
        if chosen:
            out[name] = chosen
    return out


def presets_for(strings: set[str]) -> list[list[str]]:
    """Every release's preset renames ([old, new]) that name a string of the recording."""
    pairs = set()
    for version in available():
        for old, new in load(version).get("preset_renames", []):
            if old in strings or new in strings:
                pairs.add((old, new))
    return sorted(list(pair) for pair in pairs)


_CHAINED = re.compile(r"\.([A-Z][A-Za-z0-9_]*)\.")
_ASSIGNED = re.compile(r"\b([A-Z][A-Za-z0-9_]*)\s*=(?!=)")
_CALLED = re.compile(r"\b([A-Z][A-Za-z0-9_]*)\s*\(")
_KEYWORD = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)\s*=(?!=)")
_STRING = re.compile(r"'([^'\\\n]{1,80})'|\"([^\"\\\n]{1,80})\"")


def recorded_for(text: str, version: tuple[int, int] | None) -> dict | None:
    """What a script of this trace needs to adapt to another ParaView at run time (script/adapt.py), from
    the table of the trace's version; None when the version is unknown or no table exists."""
    if version is None:
        return None
    table_version = nearest(version)
    if table_version is None:
        return None
    # Property names are CamelCase in every version's paraview.simple; trace variables are not.
    names = set(_ASSIGNED.findall(text)) | set(_CHAINED.findall(text))
    strings = {a or b for a, b in _STRING.findall(text)}
    keywords = set(_KEYWORD.findall(text))
    calls = {name: keywords for name in set(_CALLED.findall(text))}
    return {
        "version": list(version),
        "table": "%d.%d" % table_version,
        "defaults": defaults_for(table_version, names),
        "lists": lists_for(table_version, strings),
        "calls": calls_for(table_version, calls),
        "pins": pins_for(table_version),
        "renamed": renames_for(version, load(table_version), set(calls),
                               [pair for v in available() if v > table_version for pair in load(v).get("renamed", [])]),
        "filters": sorted(set(calls) & set(load(table_version).get("functions", {}))),
        "presets": presets_for(strings),
        "created": created_for(table_version, set(calls)),
        "sublists": sublists_for(table_version, names),
    }
