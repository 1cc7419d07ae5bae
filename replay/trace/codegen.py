"""One code generation of a parsed trace gives the places of its nodes and the code of each statement.

libcst's PositionProvider computes a line and a column for every node in a generation pass of its
own that costs as much as parsing, and the rewrite used to transform and generate the whole module
again. Here the module is generated once: each node's token index is noted where PositionProvider
would put its start (after any parentheses), and becomes a line and column only when the finder
asks for it. The same tokens are the module's code, so the rewrite transforms and generates again
only the top-level statements it changes and copies the others as they were.
"""
from __future__ import annotations

import re
from array import array
from bisect import bisect_right
from dataclasses import fields
from itertools import accumulate

import libcst as cst
from libcst.metadata import CodePosition, CodeRange, MetadataWrapper, PositionProvider

try:
    from libcst._nodes.internal import CodegenState
except ImportError:  # a libcst that moved it: every caller falls back to libcst's own passes
    CodegenState = None

# PositionProvider's newlines (libcst/metadata/position_provider.py), so lines are counted alike.
_NEWLINE = re.compile(r"\r\n?|\n")


class _Nothing:
    __slots__ = ()

    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


_NOTHING = _Nothing()


class _FromChild:
    """A statement whose place is its first child's (PositionProvider's start_node)."""

    __slots__ = ("starts", "node", "child")

    def __init__(self, starts, node, child):
        self.starts, self.node, self.child = starts, node, child

    def __enter__(self):
        return None

    def __exit__(self, *exc):
        index = self.starts.get(id(self.child))
        if index is not None:
            self.starts[id(self.node)] = index
        return False


if CodegenState is not None:
    class _Recorder(CodegenState):
        """Plain code generation that notes where each node's syntax starts, by token index."""

        def __init__(self, default_indent: str, default_newline: str) -> None:
            super().__init__(default_indent=default_indent, default_newline=default_newline)
            self.starts: dict[int, int] = {}

        def record_syntactic_position(self, node, *, start_node=None, end_node=None):
            # Called as the `with` block is entered, so the count of tokens so far is the start.
            if start_node is None:
                self.starts[id(node)] = len(self.tokens)
                return _NOTHING
            return _FromChild(self.starts, node, start_node)


class Positions:
    """node -> CodeRange whose start is PositionProvider's, computed on demand. Only `.start` is
    known (`.end` is None): the finders report where things begin."""

    def __init__(self, layout: "Layout") -> None:
        self.layout = layout
        self._lines = None
        self._exact = None

    def _start(self, index: int) -> CodePosition:
        if self._lines is None:
            self._lines = array("q", [0, *(m.end() for m in _NEWLINE.finditer(self.layout.code))])
        offset = self.layout.offsets[index]
        line = bisect_right(self._lines, offset)
        return CodePosition(line, offset - self._lines[line - 1])

    def __getitem__(self, node) -> CodeRange:
        index = self.layout.starts.get(id(node))
        if index is None:
            # A node whose start this generation does not note: libcst's own pass, once.
            if self._exact is None:
                self._exact = MetadataWrapper(self.layout.module, unsafe_skip_copy=True).resolve(PositionProvider)
            return self._exact[node]
        return CodeRange(self._start(index), None)

    def get(self, node, default=None):
        try:
            return self[node]
        except KeyError:
            return default

    def __contains__(self, node) -> bool:
        return self.get(node) is not None


class Layout:
    """A parsed module generated once: its tokens, where each node starts, where each top-level
    statement starts. A drop-in for `MetadataWrapper(module, unsafe_skip_copy=True)` as
    trace/find.py uses it (`.module`, `.visit_batched`)."""

    def __init__(self, module: cst.Module) -> None:
        self.module = module
        state = _Recorder(module.default_indent, module.default_newline)
        # Module._codegen_impl, with the token index of each top-level statement noted.
        for line in module.header:
            line._codegen(state)
        bounds = []
        for statement in module.body:
            bounds.append(len(state.tokens))
            statement._codegen(state)
        bounds.append(len(state.tokens))
        for line in module.footer:
            line._codegen(state)
        if module.has_trailing_newline:
            if not state.tokens:
                state.add_token(state.default_newline)
        else:
            state.pop_trailing_newline()
        self.tokens = state.tokens
        self.starts = state.starts
        self.bounds = [min(b, len(state.tokens)) for b in bounds]  # the dropped last newline
        self._code = None
        self._offsets = None
        self.positions = Positions(self)

    @property
    def code(self) -> str:
        """The module's code: the same as `module.code`."""
        if self._code is None:
            self._code = "".join(self.tokens)
        return self._code

    @property
    def offsets(self) -> array:
        """Character offset in `code` of each token (and of the end)."""
        if self._offsets is None:
            self._offsets = array("q", accumulate(map(len, self.tokens), initial=0))
        return self._offsets

    def visit_batched(self, visitors) -> None:
        """Run batchable visitors over the module, PositionProvider served from this generation."""
        visitors = list(visitors)
        wanted = set()
        for visitor in visitors:
            wanted |= set(visitor.get_inherited_dependencies())
        wanted.discard(PositionProvider)
        others = MetadataWrapper(self.module, unsafe_skip_copy=True).resolve_many(wanted) if wanted else {}
        for visitor in visitors:
            visitor.metadata = {PositionProvider: self.positions, **others}
        try:
            walk(self.module, visitors)
        finally:
            for visitor in visitors:
                visitor.metadata = {}

    def statement_of(self, node_id: int) -> int | None:
        """Index in module.body of the top-level statement that holds the node, if its start is known."""
        index = self.starts.get(node_id)
        if index is None:
            return None
        position = bisect_right(self.bounds, index) - 1
        return position if 0 <= position < len(self.module.body) else None

    def transformed_code(self, transformer: cst.CSTTransformer, node_ids, also: re.Pattern | None = None):
        """The code of the module after `transformer`, given that it changes only the top-level
        statements that hold one of node_ids or whose code matches `also`. None when a node's
        statement is not known (the caller then transforms the whole module)."""
        touched = set()
        for node_id in node_ids:
            position = self.statement_of(node_id)
            if position is None:
                return None
            touched.add(position)
        code, offsets = self.code, self.offsets
        if also is not None and self.module.body:
            starts = [offsets[b] for b in self.bounds]
            for m in also.finditer(self.code):
                position = bisect_right(starts, m.start()) - 1
                if 0 <= position < len(self.module.body):
                    touched.add(position)
        if not touched:
            return code
        module, bounds = self.module, self.bounds
        pieces = [code[:offsets[bounds[0]]]]
        last = len(module.body) - 1
        for position, statement in enumerate(module.body):
            if position not in touched:
                pieces.append(code[offsets[bounds[position]]:offsets[bounds[position + 1]]])
                continue
            result = statement.visit(transformer)
            nodes = result.nodes if isinstance(result, cst.FlattenSentinel) else \
                () if isinstance(result, cst.RemovalSentinel) else (result,)
            state = CodegenState(default_indent=module.default_indent, default_newline=module.default_newline)
            for node in nodes:
                node._codegen(state)
            if position == last and not module.footer and not module.has_trailing_newline:
                state.pop_trailing_newline()  # Module drops the file's last newline, which is this one's
            pieces.append("".join(state.tokens))
        pieces.append(code[offsets[bounds[-1]]:])
        return "".join(pieces)


# -- a batched visit that reads the tree instead of rebuilding it -----------------------------------
#
# libcst's visit rebuilds every node on the way up, even for visitors that change nothing, and
# looks up each visitor's methods with inspect.getmembers on every call: together several times
# the cost of parsing. walk() calls the same visit_/leave_ methods in the same order (libcst's own
# child order, learnt from libcst once per node type) without rebuilding anything, and does not
# descend into whitespace and punctuation unless a visitor asks for them.

_TRIVIA_BASES = (cst.BaseUnaryOp, cst.BaseBooleanOp, cst.BaseBinaryOp, cst.BaseCompOp, cst.BaseAugOp)
_TRIVIA = frozenset(
    [cst.SimpleWhitespace, cst.ParenthesizedWhitespace, cst.TrailingWhitespace, cst.EmptyLine, cst.Newline,
     cst.Comment, cst.Comma, cst.Dot, cst.Colon, cst.Semicolon, cst.AssignEqual, cst.LeftParen, cst.RightParen,
     cst.LeftSquareBracket, cst.RightSquareBracket, cst.LeftCurlyBrace, cst.RightCurlyBrace, cst.ImportStar]
    # operators; by __mro__, because issubclass against these ABCs costs ~25 ms at start-up
    + [c for c in vars(cst).values() if isinstance(c, type) and c not in _TRIVIA_BASES
       and any(base in _TRIVIA_BASES for base in c.__mro__)])
_ORDER: dict = {}  # node type -> its child fields in libcst's visiting order
_METHODS: dict = {}  # visitor class -> names of its visit_/leave_ methods


class _Probe(cst.CSTVisitor):
    """Notes the fields libcst visits on one node, in order, without going below its children."""

    def __init__(self, node) -> None:
        super().__init__()
        self.node = node
        self.fields: list[str] = []

    def on_visit(self, node) -> bool:
        return False

    def on_leave(self, original_node) -> None:
        pass

    def on_visit_attribute(self, node, attribute: str) -> None:
        if node is self.node and attribute not in self.fields:
            self.fields.append(attribute)

    def on_leave_attribute(self, original_node, attribute: str) -> None:
        pass


def _order(node) -> tuple:
    probe = _Probe(node)
    node._visit_and_replace_children(probe)
    # libcst skips a field that is None on some types (a format spec): such fields come last.
    later = [f.name for f in fields(node) if f.name not in probe.fields and getattr(node, f.name) is None]
    order = _ORDER[type(node)] = (*probe.fields, *later)
    return order


def _method_names(visitor) -> list:
    cls = type(visitor)
    names = _METHODS.get(cls)
    if names is None:
        names = _METHODS[cls] = sorted(
            name for name in dir(cls) if name.startswith(("visit_", "leave_")) and callable(getattr(cls, name))
            and not getattr(getattr(cls, name), "_is_no_op", False))
    return names


def walk(module: cst.CSTNode, visitors) -> None:
    """libcst.visit_batched(module, visitors) for visitors that only read the tree."""
    visits, leaves = {}, {}
    for visitor in visitors:
        for name in _method_names(visitor):
            kind, _, type_name = name.partition("_")
            if "_" in type_name:  # visit_<Type>_<attribute>: libcst's own traversal has those hooks
                cst.visit_batched(module, visitors)
                return
            (visits if kind == "visit" else leaves).setdefault(type_name, []).append(getattr(visitor, name))
    wanted = set(visits) | set(leaves)
    skip = frozenset() if any(t.__name__ in wanted for t in _TRIVIA) else _TRIVIA
    order_of, node_type = _ORDER, cst.CSTNode

    def visit(node) -> None:
        kind = type(node)
        name = kind.__name__
        for method in visits.get(name, ()):
            method(node)
        order = order_of.get(kind)
        if order is None:
            order = _order(node)
        for field in order:
            value = getattr(node, field)
            if isinstance(value, node_type):
                if type(value) not in skip:
                    visit(value)
            elif isinstance(value, (tuple, list)):
                for child in value:
                    if type(child) not in skip and isinstance(child, node_type):
                        visit(child)
        for method in leaves.get(name, ()):
            method(node)

    visit(module)


def layout(module: cst.Module):
    """A Layout, or a MetadataWrapper where this libcst lacks what Layout needs."""
    if CodegenState is None:
        return MetadataWrapper(module, unsafe_skip_copy=True)
    return Layout(module)
