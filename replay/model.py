"""The data that flows through the pipeline: read -> find -> select -> rewrite -> emit.

Traces and states share these types; only reading, finding and emitting differ.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

KINDS = ("file", "time", "property", "output")

# The keys `replay inspect --json` promises, in order.
PUBLIC_KEYS = ("name", "kind", "proxy", "property", "default", "line")


@dataclass
class Site:
    """One place in a recording where a value is set: a candidate for a parameter."""

    kind: str  # file | time | property | output
    proxy: str | None  # trace variable (or dotted expression) / state source name
    property: str | None
    value: Any  # the recorded literal as plain Python, or None when computed
    line: int
    col: int = 1
    node: Any = None  # trace: the libcst node to replace; state: the XML element
    literal: bool = True  # False when the value is computed (a variable, glob, f-string...)
    extra: dict = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.proxy}.{self.property}" if self.proxy else str(self.property)


@dataclass
class Diagnostic:
    """A warning or a note about one place: printed as path:line:col: message."""

    line: int
    col: int
    message: str
    code: str = ""
    node: Any = field(default=None, repr=False, compare=False)  # trace: the call to take out

    def format(self, path: str) -> str:
        return f"{path}:{self.line}:{self.col}: {self.message}"


@dataclass
class Parameter:
    """One command-line parameter of a replay script."""

    name: str
    kind: str
    proxy: str | None
    property: str | None
    default: Any
    line: int | None
    value_type: str = "str"  # str | int | float | bool | auto
    nargs: str | None = None  # None for a scalar, "+" / "*" for a list
    sites: list = field(default_factory=list, repr=False, compare=False)
    help: str = ""

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "kind": self.kind,
            "proxy": self.proxy,
            "property": self.property,
            "default": json_safe(self.default),
            "line": self.line,
        }

    def to_spec(self) -> dict:
        """What the generated script needs to know to build its argument parser."""
        spec = self.to_json()
        spec["type"] = self.value_type
        spec["nargs"] = self.nargs
        if self.help:
            spec["help"] = self.help
        return spec


@dataclass
class Inventory:
    """Everything `find` saw in a recording."""

    format: str  # trace | state
    candidates: list = field(default_factory=list)  # [Site] of kind file/time/property
    outputs: list = field(default_factory=list)  # [Site] of kind output
    removed: list = field(default_factory=list)  # [Diagnostic] GUI-only / session calls
    warnings: list = field(default_factory=list)  # [Diagnostic]
    needs: list = field(default_factory=list)  # names the recording expects to exist already
    version: str | None = None
    version_source: str | None = None
    extra: dict = field(default_factory=dict)


@dataclass
class ConvertResult:
    code: str
    parameters: list
    warnings: list
    notes: list
    format: str
    version: str | None = None
    version_source: str | None = None

    def to_json(self) -> list:
        return [p.to_json() for p in self.parameters]


def json_safe(value: Any) -> Any:
    """Defaults are shown as JSON; tuples become lists, everything else is already plain."""
    if isinstance(value, tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, list):
        return [json_safe(v) for v in value]
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return value  # json.dumps writes NaN/Infinity, which json.loads and the script read back
    return value
