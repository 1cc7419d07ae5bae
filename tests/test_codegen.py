"""trace/codegen.py stands in for libcst's PositionProvider and whole-module rewrite: it must give
the same starts and the same code, node for node, on every fixture and on awkward layouts."""
import re
from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from replay.trace.codegen import Layout

ROOT = Path(__file__).resolve().parent.parent

AWKWARD = {
    "parens_semicolons": (
        "from paraview.simple import *\n"
        "r = XMLImageDataReader(FileName=( ['/d/w.vti'] ))\n"
        "x = 1; r.A = ((2)); Disconnect()\n"
        "c = Contour(Input=r,\n            Isosurfaces=(  # why\n                [1.0, 2.0]))\n"
        "w = (SaveData('/o/d.vtk', proxy=c))\n"
    ),
    "blocks_unicode": (
        "from paraview.simple import *\n"
        "@decorated\n"
        "def f(view):\n"
        "    '''doc é'''\n"
        "    s = 'héllo'; v.ViewTime = 3.5\n"
        "    if True:\n"
        "        SaveScreenshot('/out/é/a.png', view)\n"
        "    # comment in block\n"
        "class K:\n    def m(self): WriteImage('/o/x.png')\n"
        "y = lambda: SaveAnimation('/o/a.png')\n"
        "# footer\n"
    ),
    "crlf_no_final_newline": "from paraview.simple import *\r\nr = OpenDataFile('/d/x.vtu')\r\nr.Set(A=1)",
    "continuation": "from paraview.simple import *\nr = CSVReader(FileName= \\\n    ['/d/a.csv'])\nr.B = \\\n  3\n",
}


def texts():
    for path in sorted((ROOT / "fixtures" / "traces").glob("*.py")):
        text = path.read_bytes().decode("utf-8", "replace").lstrip("\ufeff")
        try:
            cst.parse_module(text)
        except Exception:
            continue
        yield path.name, text
    yield from AWKWARD.items()


@pytest.mark.parametrize("name,text", list(texts()), ids=lambda v: v if isinstance(v, str) and len(v) < 40 else "")
def test_starts_and_code_are_libcsts(name, text):
    module = cst.parse_module(text)
    layout = Layout(module)
    assert layout.code == module.code
    exact = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    checked = 0
    for node, where in exact.items():
        if id(node) in layout.starts:
            assert layout.positions[node].start == where.start, (name, type(node).__name__)
            checked += 1
        if isinstance(node, (cst.BaseExpression, cst.Arg)):
            assert id(node) in layout.starts, (name, type(node).__name__)
    assert checked > 0


class _Tag(cst.CSTTransformer):
    """Wraps every string in a call and doubles every line naming Set: changes of the shapes the
rewrite makes (a node replaced, a line made several)."""

    def __init__(self, ids):
        super().__init__()
        self.ids = ids

    def on_leave(self, original, updated):
        updated = super().on_leave(original, updated)
        if id(original) in self.ids:
            return cst.Call(func=cst.Name("_tag"), args=[cst.Arg(updated)])
        return updated

    def leave_SimpleStatementLine(self, original, updated):
        if re.search(r"\bSet\b", cst.Module([]).code_for_node(original)):
            return cst.FlattenSentinel([updated, updated])
        return updated


@pytest.mark.parametrize("name,text", list(texts()), ids=lambda v: v if isinstance(v, str) and len(v) < 40 else "")
def test_partial_rewrite_is_the_whole_rewrite(name, text):
    module = cst.parse_module(text)
    strings = {id(n) for n in _strings(module)}
    partial = Layout(module).transformed_code(_Tag(strings), strings, re.compile(r"\bSet\b"))
    assert partial == module.visit(_Tag(strings)).code


def _strings(module):
    found = []

    class Collect(cst.CSTVisitor):
        def visit_SimpleString(self, node):
            found.append(node)

    module.visit(Collect())
    return found


STDLIB = ["dataclasses.py", "traceback.py", "ast.py", "string.py", "contextlib.py", "asyncio/tasks.py"]


def _recorder(names):
    """A visitor with a visit_ and a leave_ method for each type name, logging (method, node)."""
    log, methods = [], {}
    for name in names:
        for kind in ("visit", "leave"):
            def method(self, node, entry=f"{kind}_{name}"):
                log.append((entry, id(node)))
            method.__name__ = f"{kind}_{name}"
            methods[method.__name__] = method
    return type("Recorder", (cst.BatchableCSTVisitor,), methods)(), log


@pytest.mark.parametrize("with_trivia", [False, True], ids=["nodes", "with-whitespace"])
def test_walk_visits_as_libcst_does(with_trivia):
    import os

    from replay.trace.codegen import _TRIVIA, walk

    trivia = {t.__name__ for t in _TRIVIA}
    names = sorted(c.__name__ for c in vars(cst).values() if isinstance(c, type) and issubclass(c, cst.CSTNode)
                   and (with_trivia or c.__name__ not in trivia))
    sources = [text for _, text in texts()]
    sources += [Path(os.path.dirname(os.__file__), name).read_text(encoding="utf-8") for name in STDLIB]
    sources.append("f'{x!r:>{width}} {y=}'\nmatch p:\n    case [1, *rest] if rest: pass\n    case {'k': v}: pass\n")
    for text in sources:
        module = cst.parse_module(text)
        theirs, their_log = _recorder(names)
        cst.visit_batched(module, [theirs])
        ours, our_log = _recorder(names)
        walk(module, [ours])
        assert our_log == their_log
