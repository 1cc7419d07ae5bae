"""Which ParaView version made a recording, how we know, and what differs between versions.

Old recordings on a new ParaView: ParaView's own compatibility layer maps most renamed and
removed properties once `paraview.compatibility` is set before `paraview.simple` is imported,
so the generated script sets it to the recorded version (compatibility_preamble). Calls that
were removed without such a shim are in REMOVED_CALLS and rewritten to a call every version
runs (call_rewrites). New recordings on an old ParaView: 6.x `proxy.Set(...)` is split by
trace/rewrite.py; the 5.12+ call arguments older versions reject are dropped when dropping
them changes nothing (call_rewrites). `--target-version` warns about what is left
(target_warnings).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import libcst as cst
from libcst.metadata import PositionProvider

from .errors import UsageError
from .model import Diagnostic

# -- versions as (major, minor) ------------------------------------------------------------

_VERSION = re.compile(r"(\d+)\.(\d+|x)")


def parse_version(text: str | None) -> tuple[int, int] | None:
    """The oldest (major, minor) a version string names: '5.9.1', '5.6-5.8', '>=5.12', '4.0-4.1'."""
    if not text:
        return None
    m = _VERSION.search(text)
    if not m:
        return None
    return int(m.group(1)), 0 if m.group(2) == "x" else int(m.group(2))


def parse_target(text: str) -> tuple[int, int]:
    m = re.fullmatch(r"\s*(\d+)\.(\d+)(?:\.\d+)?\s*", text or "")
    if not m:
        raise UsageError(f"--target-version: expected X.Y (e.g. 5.11), got {text!r}")
    return int(m.group(1)), int(m.group(2))


def _show(v: tuple[int, int]) -> str:
    return f"{v[0]}.{v[1]}"


# -- detection -----------------------------------------------------------------------------

_HEADER = re.compile(r"^#\s*trace generated using paraview version\s+(\d+(?:\.\d+)*)", re.M | re.I)
# 5.10+ write these right under the header (vtkSMTrace); they survive when the header line is cut.
_COMPAT_MAJOR = re.compile(r"^#\s*paraview\.compatibility\.major\s*=\s*(\d+)", re.M)
_COMPAT_MINOR = re.compile(r"^#\s*paraview\.compatibility\.minor\s*=\s*(\d+)", re.M)

_OPEN = (99, 99)


@dataclass(frozen=True)
class Clue:
    """A trait of one span of versions' traces: (oldest, newest) it appears in."""

    what: str
    pattern: re.Pattern
    oldest: tuple[int, int]
    newest: tuple[int, int] = _OPEN


# Sources: the fixtures made by each version's format (fixtures/README.md), public traces, and
# ParaView's code as noted.
STYLE_CLUES = (
    # The pre-4.2 tracer: `try: paraview.simple` and capitalised proxy variables.
    Clue("`try: paraview.simple` opening (4.0/4.1 tracer)", re.compile(r"^try:\s*paraview\.simple\b", re.M),
         (4, 0), (4, 1)),
    Clue("capitalised RenderView1/AnimationScene1 variables (4.0/4.1 tracer)",
         re.compile(r"^(RenderView1|AnimationScene1|DataRepresentation1)\s*=", re.M), (4, 0), (4, 1)),
    # 5.6-5.8 open with a hint to uncomment the view size.
    Clue("ViewSize hint in the header (5.6-5.8)",
         re.compile(r"^# To ensure correct image size when batch processing, please search", re.M), (5, 6), (5, 8)),
    Clue("commented `renderViewN.ViewSize = [...]` line (before 5.9)",
         re.compile(r"^# uncomment following to set a specific view size", re.M), (4, 2), (5, 8)),
    Clue("registrationName= arguments (5.9+)", re.compile(r"\bregistrationName\s*="), (5, 9)),
    Clue("addendum block capturing layout sizes and cameras (5.9+)",
         re.compile(r"^# addendum: following script captures some of the application", re.M), (5, 9)),
    Clue("HideInteractiveWidgets/ShowInteractiveWidgets (5.11+)",
         re.compile(r"\b(Hide|Show)InteractiveWidgets\("), (5, 11)),
    Clue("GetTransferFunction2D (5.11+)", re.compile(r"\bGetTransferFunction2D\("), (5, 11)),
    Clue("closing hint block `## You may need to add some code` (5.12+)",
         re.compile(r"^## You may need to add some code at the end of this python script", re.M), (5, 12)),
    Clue("ResetCamera(closest, offsetRatio) (5.12+)", re.compile(r"\.ResetCamera\(\s*(False|True)\s*,\s*[\d.]+"),
         (5, 12)),
    Clue("location= argument of a save call (5.12+)",
         re.compile(r"\b(SaveScreenshot|SaveAnimation|SaveState)\((?:[^()]|\([^()]*\))*?\blocation\s*="), (5, 12)),
    Clue("proxy.Set(Name=...) calls (6.0+)", re.compile(r"\w\.Set\(\s*\w+\s*="), (6, 0)),
)


def _range_text(oldest: tuple[int, int], newest: tuple[int, int]) -> str:
    if oldest == newest:
        return _show(oldest)
    if newest == _OPEN:
        return f">={_show(oldest)}"
    return f"{_show(oldest)}-{_show(newest)}"


def detect_trace_version(text: str) -> tuple[str | None, str | None]:
    """(version, how it was decided). The header wins, then the 5.10+ compatibility comment
    lines, then the style of the trace as a range of versions ('5.6-5.8', '>=5.12')."""
    m = _HEADER.search(text[:2000])
    if m:
        return m.group(1), "trace header"
    major, minor = _COMPAT_MAJOR.search(text[:4000]), _COMPAT_MINOR.search(text[:4000])
    if major:
        return (f"{major.group(1)}.{minor.group(1) if minor else 0}",
                "#paraview.compatibility comment lines (no header line)")
    found = [clue for clue in STYLE_CLUES if clue.pattern.search(text)]
    if not found:
        return None, None
    oldest = max(clue.oldest for clue in found)
    newest = min(clue.newest for clue in found)
    if oldest > newest:
        # Clues disagree (a hand-edited or pasted-together trace): trust the newest format seen,
        # since old constructs keep working under compatibility but new ones never run on old versions.
        newest = _OPEN
        return _range_text(oldest, newest), "style (conflicting clues): " + "; ".join(c.what for c in found)
    return _range_text(oldest, newest), "style: " + "; ".join(c.what for c in found)


def detect_state_version(root) -> tuple[str | None, str | None]:
    """(version, how) of a parsed .pvsm (an lxml or ElementTree root)."""
    state = root if root.tag == "ServerManagerState" else root.find(".//ServerManagerState")
    if state is not None and state.get("version"):
        return state.get("version"), "ServerManagerState version attribute"
    if root.get("version"):
        return root.get("version"), f"{root.tag} version attribute"
    return None, None


# -- old on new: ParaView's compatibility layer --------------------------------------------

# Older than this, paraview.compatibility switches ParaView's Python to label-based property
# names (servermanager.py: `GetVersion() >= 3.5`): a 4.x trace must never go below it.
_OLDEST_COMPATIBILITY = (4, 0)


def compatibility_preamble(version: str | None) -> list[str]:
    """Lines that run before `paraview.simple` is imported: ParaView's own compatibility mode for
    the recorded version, on a ParaView newer than the recording only. Every check in
    paraview/_backwardscompatibilityhelper.py is `version < X` or `<= X`, which a newer version should pass
    untouched; but 5.9 compares versions as floats, so 5.13 reads as 5.13 < 5.5 there."""
    v = parse_version(version)
    if v is None:
        return []
    v = max(v, _OLDEST_COMPATIBILITY)
    return [
        f"# replay: recorded with ParaView {version}: ParaView's compatibility mode for {_show(v)} maps the "
        "properties later versions renamed or removed.",
        "# Only on a newer ParaView: 5.9 reads a version like 5.13 as the number 5.13, older than 5.5, and would "
        "switch on the behaviour of 5.4 (Clip.Invert = 0).",
        "import paraview",
        "try:",
        "    from paraview.modules.vtkRemotingServerManager import vtkSMProxyManager as _replay_pxm",
        "    _replay_running = (_replay_pxm.GetVersionMajor(), _replay_pxm.GetVersionMinor())",
        "except ImportError:  # ParaView before 5.7's module layout",
        "    _replay_running = None",
        f"if _replay_running is None or _replay_running > ({v[0]}, {v[1]}):",
        f"    paraview.compatibility.major = {v[0]}",
        f"    paraview.compatibility.minor = {v[1]}",
        "",
    ]


# -- calls removed or changed without a shim -----------------------------------------------


@dataclass(frozen=True)
class RemovedCall:
    name: str
    deprecated: str | None
    removed: str
    replacement: str | None  # what the rewrite produces, None when it cannot be rewritten
    source: str


REMOVED_CALLS = {
    "WriteImage": RemovedCall(
        "WriteImage", "4.2", "5.12", "SaveScreenshot",
        "ParaView 5.12.0 release notes, 'Deprecated Python API removal'; 5.11 simple.py WriteImage "
        "docstring '::deprecated:: 4.2 Use SaveScreenshot instead'"),
    "WriteAnimation": RemovedCall(
        "WriteAnimation", "5.3", "5.12", "SaveAnimation",
        "ParaView 5.12.0 release notes, 'Deprecated Python API removal'; 5.11 simple.py WriteAnimation "
        "(saves the layout of GetLayout() through SaveAnimation)"),
    "CreateScalarBar": RemovedCall(
        "CreateScalarBar", None, "5.12", None,
        "ParaView 5.12.0 release notes: replaced by GetScalarBar(ctf, view), which takes other arguments"),
    "ImportCinema": RemovedCall(
        "ImportCinema", "5.9", "5.12", None, "ParaView 5.12.0 release notes: no longer supported since 5.9"),
    "Hide3DWidgets": RemovedCall(
        "Hide3DWidgets", "5.11", "5.13", "HideInteractiveWidgets",
        "5.11 simple.py ('deprecated in ParaView 5.11. Use HideInteractiveWidgets'); absent from "
        "Kitware/ParaView Wrapping/Python/paraview/simple/widget.py. GUI-only: replay removes the call"),
    "Show3DWidgets": RemovedCall(
        "Show3DWidgets", "5.11", "5.13", "ShowInteractiveWidgets",
        "as Hide3DWidgets. GUI-only: replay removes the call"),
}

# Arguments a call lost, rewritten so that every version runs the call the same way.
REMOVED_ARGUMENTS = {
    ("CreateView", "detachedFromLayout"): (
        "5.12", "ParaView 5.12.0 release notes: CreateView() lost its positional argument detachedFromLayout; "
        "5.11 simple.py ignores it ('deprecated in ParaView 5.7 as it is no longer needed'); CreateRenderView and "
        "the other Create*View(**params) of Kitware/ParaView Wrapping/Python/paraview/simple/view.py lost it too"),
}

# Arguments that appeared in a version: older versions reject them.
ADDED_ARGUMENTS = {
    "location": (
        "5.12", "ParaView 5.12.0 release notes 'Save/Load Data Locally/Remotely'; the default is "
        "location=vtkPVSession.CLIENT (16) in paraview.simple, so dropping location=16 changes nothing"),
    "offsetRatio": (
        "5.12", "vtkSMRenderViewProxy::ResetCamera(bool closest = false, double offsetRatio = 0.9), "
        "'only applicable when closest is true'"),
}

# Calls that appeared in a version: a target older than it cannot run them.
ADDED_CALLS = {
    "GetTransferFunction2D": ("5.11", "ParaView 5.11.0 release notes, 'Advanced multi-channel volume "
                                      "visualization' (2D transfer functions)"),
    "HideInteractiveWidgets": ("5.11", "5.11 simple.py: Hide3DWidgets 'deprecated in ParaView 5.11'"),
    "ShowInteractiveWidgets": ("5.11", "5.11 simple.py: Show3DWidgets 'deprecated in ParaView 5.11'"),
}

# Property names that replaced older ones: a target older than the version does not know them.
# Source: the messages of paraview/_backwardscompatibilityhelper.py in ParaView 5.11.
NEW_PROPERTY_NAMES = {
    "LowerThreshold": ("5.10", "Threshold.ThresholdRange"),
    "UpperThreshold": ("5.10", "Threshold.ThresholdRange"),
    "ThresholdMethod": ("5.10", "Threshold.ThresholdRange"),
    "BackgroundColorMode": ("5.10", "UseGradientBackground/UseTexturedBackground/UseSkyboxBackground"),
    "UseColorPaletteForBackground": ("5.10", "(new in 5.10)"),
    "EnableRayTracing": ("5.7", "EnableOSPRay"),
    "BackEnd": ("5.7", "OSPRayRenderer"),
    "TemporalCacheSize": ("5.7", "OSPRayTemporalCacheSize"),
    "UseScaleArray": ("5.7", "OSPRayUseScaleArray"),
    "ScaleFunction": ("5.7", "OSPRayScaleFunction"),
    "Material": ("5.7", "OSPRayMaterial"),
    "AutomaticRescaleRangeMode": ("5.5", "LockScalarRange"),
    "Invert": ("5.5", "Clip.InsideOut"),
    "ScalarBarThickness": ("5.4", "AspectRatio"),
    "ScalarBarLength": ("5.4", "Position2"),
}
_HELPER = "paraview/_backwardscompatibilityhelper.py (ParaView 5.11)"


def _name_of(call: cst.Call) -> tuple[str | None, bool]:
    if isinstance(call.func, cst.Name):
        return call.func.value, True
    if isinstance(call.func, cst.Attribute):
        return call.func.attr.value, False
    return None, False


def _is_number(node, value: float) -> bool:
    return isinstance(node, (cst.Float, cst.Integer)) and float(node.evaluated_value) == value


def _is_false(node) -> bool:
    return isinstance(node, cst.Name) and node.value == "False"


def _without(call: cst.Call, drop: set[int]) -> cst.Call:
    args = [a for i, a in enumerate(call.args) if i not in drop]
    if args and args[-1].comma is not cst.MaybeSentinel.DEFAULT:
        args[-1] = args[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
    return call.with_changes(args=args)


def _rename(call: cst.Call, name: str) -> cst.Call:
    return call.with_changes(func=cst.Name(name))


class VersionScan(cst.BatchableCSTVisitor):
    """Finds the calls to rewrite (id(original call) -> function(updated call)) with a note each,
    and what a target version cannot run."""

    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, target: tuple[int, int] | None) -> None:
        super().__init__()
        self.target = target
        self.rewrites: dict[int, object] = {}
        self.notes: list[Diagnostic] = []
        self.warnings: list[Diagnostic] = []

    def changes(self) -> VersionChanges:
        return VersionChanges(self.rewrites, self.notes, self.warnings)

    def _at(self, node) -> tuple[int, int]:
        start = self.get_metadata(PositionProvider, node).start
        return start.line, start.column + 1

    def _note(self, node, message: str, code: str) -> None:
        self.notes.append(Diagnostic(*self._at(node), message, code))

    def _too_old(self, version: str) -> bool:
        return self.target is not None and self.target < parse_version(version)

    def _warn(self, node, message: str, code: str) -> None:
        line, col = self._at(node)
        self.warnings.append(Diagnostic(line, col, f"ParaView {_show(self.target)} {message}", code))

    def visit_Call(self, node: cst.Call) -> None:
        name, bare = _name_of(node)
        if name is None:
            return
        if bare and name in REMOVED_CALLS:
            self._removed_call(node, REMOVED_CALLS[name])
        elif bare and name in ADDED_CALLS and self._too_old(ADDED_CALLS[name][0]):
            version, source = ADDED_CALLS[name]
            self._warn(node, f"cannot run {name}(): added in ParaView {version} ({source})", "target-call")
        if bare and (name == "CreateView" or re.fullmatch(r"Create\w*View", name)):
            self._create_view(node, name)
        elif name == "ResetCamera" and not bare:
            self._reset_camera(node)
        elif name in ("SaveScreenshot", "SaveAnimation", "SaveState", "LoadState", "SaveData", "ExportView"):
            self._location(node, name)
        elif name == "Set" and not bare and node.args and all(a.keyword is not None for a in node.args):
            # 6.x proxy.Set(...) needs no warning: trace/rewrite.py splits it into assignments.
            for arg in node.args:
                self._property_name(arg.keyword)

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            if isinstance(target.target, cst.Attribute):
                self._property_name(target.target.attr)

    def _property_name(self, name_node: cst.Name) -> None:
        entry = NEW_PROPERTY_NAMES.get(name_node.value)
        if entry and self._too_old(entry[0]):
            self._warn(name_node, f"does not know the property {name_node.value}: introduced in ParaView "
                                  f"{entry[0]} in place of {entry[1]} ({_HELPER})", "target-property")

    def _removed_call(self, node: cst.Call, entry: RemovedCall) -> None:
        if entry.name in ("Hide3DWidgets", "Show3DWidgets"):
            return  # GUI-only: trace/find.py takes the call out
        if entry.name == "WriteImage" and self._simple_write_image(node):
            self.rewrites[id(node)] = lambda n: _rename(n, "SaveScreenshot")
            self._note(node, f"WriteImage() -> SaveScreenshot(): WriteImage is gone from ParaView {entry.removed}",
                       "version-rewrite")
            return
        if entry.name == "WriteAnimation" and self._simple_write_animation(node):
            self.rewrites[id(node)] = _write_animation
            self._note(node, f"WriteAnimation() -> SaveAnimation(..., GetLayout()): WriteAnimation is gone from "
                             f"ParaView {entry.removed}", "version-rewrite")
            return
        line, col = self._at(node)
        self.warnings.append(Diagnostic(line, col, f"{entry.name}() was removed in ParaView {entry.removed} and "
                                                   f"has no exact replacement: the script fails on ParaView "
                                                   f"{entry.removed} and later ({entry.source})", "removed-call"))

    @staticmethod
    def _simple_write_image(node: cst.Call) -> bool:
        # WriteImage(filename, view) saves the view at its size, as SaveScreenshot(filename, view) does;
        # Writer= and Magnification= have no SaveScreenshot equivalent.
        positional = [a for a in node.args if a.keyword is None and not a.star]
        keywords = {a.keyword.value for a in node.args if a.keyword is not None}
        return (1 <= len(positional) <= 2 and len(positional) == len(node.args) - len(keywords)
                and keywords <= {"filename"})

    @staticmethod
    def _simple_write_animation(node: cst.Call) -> bool:
        keywords = {a.keyword.value for a in node.args if a.keyword is not None}
        positional = [a for a in node.args if a.keyword is None]
        return len(positional) == 1 and not positional[0].star and keywords <= {"FrameRate"}

    def _create_view(self, node: cst.Call, name: str) -> None:
        # CreateView(name, detachedFromLayout); CreateRenderView(detachedFromLayout) and its kin.
        position = 1 if name == "CreateView" else 0
        drop = {i for i, a in enumerate(node.args)
                if (a.keyword is None and i == position and not a.star) or
                (a.keyword is not None and a.keyword.value == "detachedFromLayout")}
        if drop:
            version, source = REMOVED_ARGUMENTS[("CreateView", "detachedFromLayout")]
            self.rewrites[id(node)] = lambda n, drop=drop: _without(n, drop)
            self._note(node, f"{name}(): dropped detachedFromLayout (ignored since 5.7, an error from "
                             f"ParaView {version})", "version-rewrite")

    def _reset_camera(self, node: cst.Call) -> None:
        positional = [a for a in node.args if a.keyword is None]
        if len(node.args) != 2 or len(positional) != 2:
            return
        closest, ratio = node.args[0].value, node.args[1].value
        if not isinstance(closest, cst.Name) or closest.value not in ("True", "False"):
            return  # ResetCamera(bounds..., ) of older versions: not the 5.12 offset ratio
        version, source = ADDED_ARGUMENTS["offsetRatio"]
        if _is_false(closest) or _is_number(ratio, 0.9):
            self.rewrites[id(node)] = lambda n: _without(n, {1})
            self._note(node, f"ResetCamera({closest.value}, ratio) -> ResetCamera({closest.value}): the offset ratio "
                             f"(ParaView {version}+, older versions reject it) changes nothing here", "version-rewrite")
        else:
            line, col = self._at(node)
            self.warnings.append(Diagnostic(line, col, f"ResetCamera(True, ratio) needs ParaView {version} or later "
                                                       f"({source})", "target-argument"))

    def _location(self, node: cst.Call, name: str) -> None:
        for index, arg in enumerate(node.args):
            if arg.keyword is not None and arg.keyword.value == "location":
                version, source = ADDED_ARGUMENTS["location"]
                if _is_number(arg.value, 16):
                    self.rewrites[id(node)] = lambda n, index=index: _without(n, {index})
                    self._note(node, f"{name}(): dropped location=16, the default of a ParaView {version}+ argument "
                                     "older versions reject", "version-rewrite")
                else:
                    line, col = self._at(arg)
                    self.warnings.append(Diagnostic(line, col, f"{name}(location=...) needs ParaView {version} "
                                                               f"or later ({source})", "target-argument"))


def _write_animation(call: cst.Call) -> cst.Call:
    """WriteAnimation(f, FrameRate=r) -> SaveAnimation(f, GetLayout(), FrameRate=r), as 5.11 did it."""
    first, rest = call.args[0], list(call.args[1:])
    layout = cst.Arg(cst.Call(func=cst.Name("GetLayout")))
    if rest:
        layout = layout.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
    first = first.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
    return call.with_changes(func=cst.Name("SaveAnimation"), args=[first, layout, *rest])


@dataclass
class VersionChanges:
    rewrites: dict  # id(original call) -> function(updated call) -> new call
    notes: list  # [Diagnostic] each rewrite, at its place
    warnings: list  # [Diagnostic] what the script (or the target version) cannot run


def scanner(target: str | tuple[int, int] | None = None) -> VersionScan:
    """A visitor for trace/find.py's pass; its changes() are the rewrites and warnings."""
    return VersionScan(parse_target(target) if isinstance(target, str) else target)
