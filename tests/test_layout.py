"""The package layout: no import circle among replay's modules (lazy imports inside functions count too), and the
top of replay/ holds only the shared model of converting, each part in a folder of its own."""
import ast
import sys
from pathlib import Path

import replay

PACKAGE = Path(replay.__file__).resolve().parent

# The shared model of converting, and the library API (__init__); everything else lives in a part's folder.
TOP = {"__init__", "__main__", "model", "errors", "select", "source", "files", "recordings", "versions"}
PARTS = {"trace", "state", "script", "batch", "pvtables", "lint", "verification", "cli", "macro"}


def modules() -> dict:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = ["replay", *path.relative_to(PACKAGE).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def imports(name: str, path: Path, known: dict) -> set:
    """The replay modules `name` imports anywhere in its file."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                if f"{target}.{alias.name}" in known:
                    found.add(f"{target}.{alias.name}")
                elif target in known:
                    found.add(target)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in known)
    return found - {name}


def cycles(graph: dict) -> list:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10000))
    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_no_import_circle():
    known = modules()
    graph = {name: imports(name, path, known) for name, path in known.items()}
    assert graph["replay.cli.app"], "the finder sees no imports at all"
    assert cycles(graph) == []


def test_finder_sees_a_circle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_top_holds_the_shared_model_and_one_folder_per_part():
    files = {p.stem for p in PACKAGE.glob("*.py")}
    folders = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    assert files == TOP
    assert folders == PARTS


def test_commands_do_not_import_their_registrar():
    known = modules()
    for name, path in known.items():
        if name.startswith("replay.cli.commands"):
            assert "replay.cli.app" not in imports(name, path, known), name
