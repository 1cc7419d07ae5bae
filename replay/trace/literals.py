"""Recorded literal values as plain Python, read straight from libcst nodes (never evaluated)."""
from __future__ import annotations

import libcst as cst

NOT_LITERAL = object()


def scalar(node: cst.BaseExpression):
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return value if isinstance(value, str) else NOT_LITERAL
    if isinstance(node, cst.ConcatenatedString):
        left, right = scalar(node.left), scalar(node.right)
        if isinstance(left, str) and isinstance(right, str):
            return left + right
        return NOT_LITERAL
    if isinstance(node, (cst.Integer, cst.Float)):
        return node.evaluated_value
    if isinstance(node, cst.Name) and node.value in ("True", "False"):
        return node.value == "True"
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, (cst.Minus, cst.Plus)):
        inner = node.expression
        if isinstance(inner, (cst.Integer, cst.Float)):
            value = inner.evaluated_value
            return -value if isinstance(node.operator, cst.Minus) else value
    return NOT_LITERAL


def literal(node: cst.BaseExpression):
    """A scalar, or a flat list/tuple of scalars; NOT_LITERAL for anything computed."""
    if isinstance(node, (cst.List, cst.Tuple)):
        values = []
        for element in node.elements:
            if not isinstance(element, cst.Element):
                return NOT_LITERAL
            value = scalar(element.value)
            if value is NOT_LITERAL:
                return NOT_LITERAL
            values.append(value)
        return values if isinstance(node, cst.List) else tuple(values)
    return scalar(node)


def dotted(node: cst.BaseExpression) -> str | None:
    """'a.b.c' for a chain of names, None for anything else (subscripts, calls)."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        head = dotted(node.value)
        return f"{head}.{node.attr.value}" if head else None
    return None


def call_name(call: cst.Call) -> str | None:
    """'SaveScreenshot' for SaveScreenshot(...) and for obj.SaveScreenshot(...)."""
    func = call.func
    if isinstance(func, cst.Name):
        return func.value
    if isinstance(func, cst.Attribute):
        return func.attr.value
    return None
