"""Does a hand-edited trace read its own command line? Then the script must leave it those words."""
from __future__ import annotations

import libcst as cst
from libcst.helpers import get_full_name_for_node

_MODULES = {"argparse", "getopt", "optparse"}


def _is_name(node, value: str) -> bool:
    return isinstance(node, cst.Name) and node.value == value


class ReadsArgv(cst.BatchableCSTVisitor):
    def __init__(self) -> None:
        super().__init__()
        self.found = False

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if _is_name(node.value, "sys") and node.attr.value == "argv":
            self.found = True

    def visit_Import(self, node: cst.Import) -> None:
        if any(get_full_name_for_node(a.name) in _MODULES for a in node.names):
            self.found = True

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        module = get_full_name_for_node(node.module) if node.module else ""
        if module in _MODULES:
            self.found = True
        elif module == "sys":
            # `from sys import *` brings argv too.
            self.found |= isinstance(node.names, cst.ImportStar) or any(_is_name(a.name, "argv") for a in node.names)
