"""Rewrite a trace for batch: literals -> parameter lookups, outputs redirected, session and
GUI-only calls taken out with a note at their place, 6.x `proxy.Set(...)` split into assignments.

Everything happens in one libcst pass on purpose: the places to change were found by node
identity, and libcst rebuilds every node on the way up, so a second pass would no longer
recognise them.
"""
from __future__ import annotations

import re

import libcst as cst

from ..model import Inventory, Parameter

# 5.6-5.8 traces ask the user to uncomment the view size; replaying at the recorded size needs it.
_VIEW_SIZE_HINT = re.compile(r"^# uncomment following to set a specific view size[ \t]*\r?$")
_VIEW_SIZE_LINE = re.compile(r"^#[ \t]*((\w+)\.ViewSize = \[\s*\d+,\s*\d+\s*\])[ \t]*(\r?)$")
# `name = ...` / `a, b = ...` in live code: what a hint may refer to.
_ASSIGNED = re.compile(r"^[ \t]*(\w+(?:[ \t]*,[ \t]*\w+)*)[ \t]*,?[ \t]*=(?!=)")


def apply_view_size_hints(text: str) -> str:
    """Uncomment the recorded `# renderViewN.ViewSize = [w, h]`; lines stay where they were. Only
    for a view the live code has assigned by then: a hand edit that commented out the view's
    creation (`#spreadSheetView1 = CreateView(...)`) keeps its hint a comment, or it would be a
    NameError."""
    lines = text.split("\n")
    assigned: set[str] = set()
    for index, line in enumerate(lines):
        m = _ASSIGNED.match(line)
        if m:
            assigned.update(name.strip() for name in m.group(1).split(","))
            continue
        if index and _VIEW_SIZE_HINT.match(lines[index - 1]):
            m = _VIEW_SIZE_LINE.match(line)
            if m and m.group(2) in assigned:
                lines[index] = f"{m.group(1)}  # replay: applied the recorded view size{m.group(3)}"
    return "\n".join(lines)


def _call(helper: str, *args: cst.BaseExpression) -> cst.Call:
    return cst.Call(func=cst.Name(helper), args=[cst.Arg(a) for a in args])


def _string(text: str) -> cst.SimpleString:
    return cst.SimpleString(repr(text))


def replacements(params: list[Parameter], inventory: Inventory) -> dict:
    """id(original node) -> function(updated node) -> new node."""
    table: dict[int, object] = {}
    sets_time = any(s.kind == "time" for p in params for s in p.sites) and any(p.kind == "time" for p in params)
    for param in params:
        for site in param.sites:
            if param.kind == "file":
                table[id(site.node)] = lambda n, name=param.name: _call("_replay_files", _string(name), n)
            elif param.kind == "property":
                table[id(site.node)] = lambda n, name=param.name: _call("_replay_value", _string(name), n)
            elif param.kind == "time" and site.extra.get("step"):
                table[id(site.node)] = lambda n, step=site.extra["step"]: _call(
                    "_replay_goto", n.func.value, _string(step))
            elif param.kind == "time":
                table[id(site.node)] = lambda n: _call("_replay_time", n)
            elif param.kind == "output":
                table[id(site.node)] = _output_wrapper(site, apply_time=not sets_time)
    return table


def _output_wrapper(site, apply_time: bool):
    helper = "_replay_out_dir" if site.extra.get("call") == "SaveExtracts" else "_replay_out"

    def wrap(node):
        call = _call(helper, node)
        if apply_time and helper == "_replay_out":
            call = call.with_changes(args=[*call.args, cst.Arg(cst.Name("True"), keyword=cst.Name("apply_time"),
                                                                equal=cst.AssignEqual(
                                                                    whitespace_before=cst.SimpleWhitespace(""),
                                                                    whitespace_after=cst.SimpleWhitespace("")))])
        return call
    return wrap


class BatchRewriter(cst.CSTTransformer):
    def __init__(self, table: dict, removed: dict) -> None:
        super().__init__()
        self.table = table
        self.removed = removed  # id(call) -> note

    def on_leave(self, original_node, updated_node):
        updated_node = super().on_leave(original_node, updated_node)
        replace = self.table.get(id(original_node))
        if replace is not None:
            return replace(updated_node)
        if id(original_node) in self.removed and isinstance(updated_node, cst.Call):
            return cst.Name("None")  # a removed call used as a value: keep the expression valid
        return updated_node

    def leave_SimpleStatementLine(self, original_node, updated_node):
        notes = []
        body = list(updated_node.body)
        for index, (before, after) in enumerate(zip(original_node.body, updated_node.body)):
            if isinstance(before, cst.Expr) and id(before.value) in self.removed:
                notes.append(self.removed[id(before.value)])
                body[index] = cst.Pass()
        if notes:
            comment = cst.Comment("# replay: " + "; ".join(notes))
            return updated_node.with_changes(
                body=body,
                trailing_whitespace=cst.TrailingWhitespace(whitespace=cst.SimpleWhitespace("  "), comment=comment,
                                                           newline=updated_node.trailing_whitespace.newline))
        return _split_set(updated_node)


def _split_set(line: cst.SimpleStatementLine):
    """`view.Set(A=1, B=2)` (ParaView 6.x) -> `view.A = 1` / `view.B = 2`, which every version runs."""
    if len(line.body) != 1 or not isinstance(line.body[0], cst.Expr):
        return line
    call = line.body[0].value
    if not (isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute) and call.func.attr.value == "Set"):
        return line
    if not call.args or any(arg.keyword is None or arg.star for arg in call.args):
        return line
    lines = []
    for index, arg in enumerate(call.args):
        assign = cst.Assign(targets=[cst.AssignTarget(cst.Attribute(call.func.value, arg.keyword))], value=arg.value)
        lines.append(cst.SimpleStatementLine(
            body=[assign],
            leading_lines=line.leading_lines if index == 0 else (),
            trailing_whitespace=line.trailing_whitespace if index == len(call.args) - 1 else cst.TrailingWhitespace(),
        ))
    return cst.FlattenSentinel(lines)


# BatchRewriter changes a statement only through the table, the removed calls and _split_set, whose
# statements hold the name Set: a Layout transforms those statements alone (a new kind of change
# must say here which statements it touches).
_SET = re.compile(r"\bSet\b")


def rewrite(wrapper, params: list[Parameter], inventory: Inventory) -> str:
    """The rewritten module's code. A Layout (trace/codegen.py) transforms only the statements
    that change; anything else transforms the whole module."""
    removed = {id(d.node): d.message for d in inventory.removed if d.node is not None}
    table = replacements(params, inventory)
    # Calls other ParaView versions lack (replay/versions.py); composed in case a node is in both.
    for key, change in inventory.extra.get("version_rewrites", {}).items():
        first = table.get(key)
        table[key] = change if first is None else (lambda n, a=first, b=change: a(b(n)))
    rewriter = BatchRewriter(table, removed)
    partial = getattr(wrapper, "transformed_code", None)
    code = partial(rewriter, [*table, *removed], _SET) if partial else None
    return code if code is not None else wrapper.module.visit(rewriter).code
