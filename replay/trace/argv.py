"""Does a hand-edited trace read its own command line? Then the script must leave it those words."""
from __future__ import annotations

import libcst as cst
import libcst.matchers as m

_MODULES = {"argparse", "getopt", "optparse"}


class ReadsArgv(cst.BatchableCSTVisitor):
    def __init__(self) -> None:
        self.found = False

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if m.matches(node, m.Attribute(value=m.Name("sys"), attr=m.Name("argv"))):
            self.found = True

    def visit_Import(self, node: cst.Import) -> None:
        if any(cst.helpers.get_full_name_for_node(a.name) in _MODULES for a in node.names):
            self.found = True

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        module = cst.helpers.get_full_name_for_node(node.module) if node.module else ""
        if module in _MODULES:
            self.found = True
        elif module == "sys" and not isinstance(node.names, cst.ImportStar):
            self.found |= any(m.matches(a.name, m.Name("argv")) for a in node.names)
        elif module == "sys":
            self.found = True

