"""Find what a trace records: readers and their files, time setters, outputs, literal
property values, GUI-only calls, and objects the trace expects to exist already."""
from __future__ import annotations

import re

import libcst as cst
from libcst.metadata import PositionProvider

from ..model import Diagnostic, Inventory, Site
from ..pvtables.unset_files import optional_file, unset_file
from .codegen import layout
from .literals import NOT_LITERAL, call_name, dotted, literal

# Reader file-name properties. Readers differ (FileName, FileNames for legacy VTK/XDMF/STL,
# FilePrefix/FilePattern for old Exodus), so match the family, not one name.
FILE_PROPERTY = re.compile(r"^(File(Name|Names|NameList|Prefix|Pattern)|\w+FileNames?)$")

# Calls that write a file, and where their file name stands.
OUTPUT_CALLS = {
    "SaveScreenshot", "SaveData", "SaveAnimation", "ExportView", "WriteImage",
    "WriteAnimation", "SaveState", "WriteAnimationGeometry", "SaveExtracts",
}
OUTPUT_KEYWORDS = ("filename", "FileName", "fileName", "ExtractsOutputDirectory")

# Session calls that hang or break pvbatch, with why, for the note left at their place.
SESSION_CALLS = {
    "Connect": "pvbatch has its own session; Connect retries for 60 s",
    "ReverseConnect": "pvbatch has its own session",
    "Disconnect": "Disconnect leaves pvbatch with no session",
    "Interact": "there is no window to interact with in batch",
    "ResetSession": "it would drop the pipeline in batch",
}
GUI_ONLY_CALLS = {
    "Hide3DWidgets": "GUI-only widget call (and gone from ParaView 5.13)",
    "Show3DWidgets": "GUI-only widget call (and gone from ParaView 5.13)",
    "HideInteractiveWidgets": "GUI-only widget call",
    "ShowInteractiveWidgets": "GUI-only widget call",
}
GUI_ONLY_COMMENT = "only when running from the GUI"

# Play() ends on the last time step after rendering every one: in batch that is slow but the
# same end state, so --time replaces it like the GoTo* steps.
TIME_STEPS = {"GoToFirst", "GoToLast", "GoToNext", "GoToPrevious", "Play"}

# Calls that return an existing object rather than create a pipeline source.
_NOT_A_SOURCE = re.compile(
    r"^(Get|Find|Create|Show|Hide|Set|Save|Load|Render|Color|Update|Reset|Assign|Export|Write|Delete|Import|Add|Remove|Split|Apply)"
)


def is_writer(constructor: str | None) -> bool:
    return bool(constructor) and (constructor.endswith("Writer") or constructor.endswith("Exporter"))


# 5.10+ extractors: `vTU1.Writer.FileName = 'name_{timestep:06d}.pvtu'` names files that
# SaveExtracts writes under its ExtractsOutputDirectory. An output, relative to that folder (which
# --output-dir moves), so the name itself stays as recorded: neither a reader file nor redirected.
EXTRACTOR_CALLS = ("CreateExtractor", "FindExtractor")


def is_extractor_writer(proxy: str, constructor: str | None) -> bool:
    return constructor in EXTRACTOR_CALLS or proxy.endswith(".Writer")


def time_property(proxy: str | None, prop: str, constructor: str | None) -> bool:
    if prop in ("AnimationTime", "ViewTime"):
        return True
    if prop == "Time":
        return constructor == "GetTimeKeeper" or bool(proxy) and "timekeeper" in proxy.lower()
    return False


class TraceFinder(cst.BatchableCSTVisitor):
    """One pass over the trace that fills an Inventory; positions come from PositionProvider."""

    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self) -> None:
        super().__init__()
        self.inventory = Inventory(format="trace")
        self.constructors: dict[str, str] = {}  # variable -> the call that made it
        self.registered: set[str] = set()
        self.sources_created = 0

    # -- helpers -------------------------------------------------------
    def _at(self, node: cst.CSTNode) -> tuple[int, int]:
        start = self.get_metadata(PositionProvider, node).start
        return start.line, start.column + 1

    def _site(self, kind, proxy, prop, value_node, **extra) -> Site:
        value = literal(value_node)
        line, col = self._at(value_node)
        return Site(kind, proxy, prop, None if value is NOT_LITERAL else value, line, col,
                    node=value_node, literal=value is not NOT_LITERAL, extra=extra)

    def _warn(self, node, message, code="") -> None:
        line, col = self._at(node)
        self.inventory.warnings.append(Diagnostic(line, col, message, code))

    def _property(self, proxy: str, prop: str, value_node: cst.BaseExpression) -> None:
        constructor = self.constructors.get(proxy.split(".")[0])
        if is_writer(constructor) and prop == "FileName":
            self.inventory.outputs.append(self._site("output", proxy, prop, value_node))
            return
        if FILE_PROPERTY.match(prop) and is_extractor_writer(proxy, constructor):
            return
        if FILE_PROPERTY.match(prop):
            site = self._site("file", proxy, prop, value_node)
            if not site.literal:
                self._warn(value_node, f"{proxy}.{prop} is computed, not recorded: left as it is, not a parameter",
                           "computed-file")
                return
            if unset_file(site.value, optional_file(constructor, prop)):
                return  # no file to give: the recording runs past it, so must the replay
            self.inventory.candidates.append(site)
            return
        kind = "time" if time_property(proxy, prop, constructor) else "property"
        site = self._site(kind, proxy, prop, value_node)
        if site.literal and site.value is not None:
            self.inventory.candidates.append(site)

    # -- assignments ----------------------------------------------------
    def visit_Assign(self, node: cst.Assign) -> None:
        if len(node.targets) != 1:
            return
        target = node.targets[0].target
        if isinstance(target, cst.Name) and isinstance(node.value, cst.Call):
            self._constructor(target.value, node.value)
        elif isinstance(target, cst.Attribute):
            proxy = dotted(target.value)
            if proxy:
                self._property(proxy, target.attr.value, node.value)

    def _constructor(self, var: str, call: cst.Call) -> None:
        name = call_name(call)
        if not isinstance(call.func, cst.Name) or not name:
            return
        self.constructors[var] = name
        if name == "OpenDataFile" and call.args:
            self._property(var, "FileName", call.args[0].value)
            self.sources_created += 1
            return
        if _NOT_A_SOURCE.match(name) or not name[:1].isupper():
            return
        self.sources_created += 1
        for arg in call.args:
            if arg.keyword is None:
                continue
            keyword = arg.keyword.value
            if keyword == "registrationName":
                value = literal(arg.value)
                if isinstance(value, str):
                    self.registered.add(value)
            elif keyword not in ("Input", "Source", "proxy"):
                self._property(var, keyword, arg.value)

    # -- calls ----------------------------------------------------------
    def visit_Call(self, node: cst.Call) -> None:
        name = call_name(node)
        if name is None:
            return
        bare = isinstance(node.func, cst.Name)
        if bare and name in SESSION_CALLS:
            self._removed(node, name, SESSION_CALLS[name])
        elif bare and name in GUI_ONLY_CALLS:
            self._removed(node, name, GUI_ONLY_CALLS[name])
        elif name in OUTPUT_CALLS:
            self._output(node, name)
        elif name in TIME_STEPS and not bare and not node.args:
            line, col = self._at(node)
            self.inventory.candidates.append(
                Site("time", dotted(node.func.value), name, None, line, col, node=node, literal=False,
                     extra={"step": name}))
            if name == "Play":
                self._warn(node, "Play() renders every time step in batch; pass --time T to render one", "play")
        elif name == "UpdatePipeline":
            self._update_pipeline(node)
        elif bare and name == "LoadState":
            self._load_state(node)
        elif name == "Set" and not bare:
            proxy = dotted(node.func.value)
            if proxy:
                for arg in node.args:
                    if arg.keyword is not None:
                        self._property(proxy, arg.keyword.value, arg.value)
        elif bare and name == "FindSource" and node.args:
            wanted = literal(node.args[0].value)
            if isinstance(wanted, str) and wanted not in self.registered:
                self._needs(node, f"FindSource({wanted!r})")
        elif bare and name == "GetActiveSource" and self.sources_created == 0:
            self._needs(node, "GetActiveSource()")

    def _removed(self, node, name, why) -> None:
        line, col = self._at(node)
        self.inventory.removed.append(Diagnostic(line, col, f"removed {name}(): {why}", name, node=node))

    def _needs(self, node, what) -> None:
        line, col = self._at(node)
        self.inventory.needs.append(Diagnostic(line, col, what, "needs-existing"))

    def _output(self, node: cst.Call, name: str) -> None:
        value = None
        for arg in node.args:
            if arg.keyword is not None and arg.keyword.value in OUTPUT_KEYWORDS:
                value = arg.value
                break
        if value is None and node.args and node.args[0].keyword is None and name != "SaveExtracts":
            value = node.args[0].value
        if value is not None:
            self.inventory.outputs.append(self._site("output", None, name, value, call=name))

    def _load_state(self, node: cst.Call) -> None:
        """LoadState('x.pvsm', DataDirectory=..., wavevtiFileName=...): the state and its data are inputs."""
        for index, arg in enumerate(node.args):
            if index == 0 and arg.keyword is None:
                prop = "StateFile"
            elif arg.keyword is not None and (FILE_PROPERTY.match(arg.keyword.value) or
                                              arg.keyword.value in ("statefile", "DataDirectory", "data_directory")):
                prop = "StateFile" if arg.keyword.value == "statefile" else arg.keyword.value
            else:
                continue
            site = self._site("file", None, prop, arg.value)
            if site.literal:
                self.inventory.candidates.append(site)
            else:
                self._warn(arg.value, f"LoadState {prop} is computed, not recorded: left as it is", "computed-file")
        self.sources_created += 1

    def _update_pipeline(self, node: cst.Call) -> None:
        for index, arg in enumerate(node.args):
            if (arg.keyword is not None and arg.keyword.value == "time") or (index == 0 and arg.keyword is None):
                site = self._site("time", dotted(node.func.value) if isinstance(node.func, cst.Attribute) else None,
                                  "UpdatePipeline", arg.value)
                if site.literal and isinstance(site.value, (int, float)):
                    self.inventory.candidates.append(site)
                return

    # -- statements the recorder marks GUI-only --------------------------
    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        if any(GUI_ONLY_COMMENT in (line.comment.value if line.comment else "") for line in node.leading_lines[-1:]):
            for statement in node.body:
                if isinstance(statement, cst.Expr) and isinstance(statement.value, cst.Call):
                    name = call_name(statement.value) or "call"
                    if name not in GUI_ONLY_CALLS:
                        self._removed(statement.value, name, "the recorder marks it 'only when running from the GUI'")


def find(module: cst.Module, also=()):
    """Inventory of a parsed trace, and the module's Layout (trace/codegen.py), returned so the
    rewrite sees the same nodes. `also`: other batchable visitors, run in the same pass (each pass
    over the tree costs as much as parsing it several times)."""
    wrapper = layout(module)
    finder = TraceFinder()
    wrapper.visit_batched([finder, *also])
    inventory = finder.inventory
    if not any(s.kind == "file" for s in inventory.candidates) and not inventory.needs and finder.sources_created == 0:
        inventory.warnings.append(Diagnostic(1, 1, "no reader found: nothing to parameterize as --FileName", "no-reader"))
    return inventory, wrapper
