"""Text -> libcst Module, with one-line errors that point at the place."""
from __future__ import annotations

import ast
import io
import re
import tokenize

from ..errors import NotARecording, ParseError

GENERATED_MARK = "# replay: generated"

# Python 2 constructs ParaView 3.x/4.x users still have in old traces.
_PY2_HINTS = [
    (re.compile(r"^[ \t]*(print)[ \t]+[^\s=(.,)\]]", re.M), "a print statement"),
    (re.compile(r"\b(xrange)\s*\("), "xrange()"),
    (re.compile(r"(?<![\w.])\d+([lL])\b"), "a long integer literal (1024L)"),
    (re.compile(r"^[ \t]*except\s+[\w.]+\s*(,)\s*\w+\s*:", re.M), "'except X, e:'"),
    (re.compile(r"^[ \t]*(exec)[ \t]+[\"'\w]", re.M), "an exec statement"),
    (re.compile(r"(<>)"), "the <> operator"),
    (re.compile(r"\b(ur)[\"']"), "a ur'' string"),
]

_PY2_MESSAGE = "this is a Python 2 trace ({what}); ParaView 5.x runs Python 3, so convert it with 2to3 first"
_XRANGE = _PY2_HINTS[1][0]
_XRANGE_DEFINED = re.compile(r"^[ \t]*(def[ \t]+xrange\b|xrange[ \t]*=|from[ \t].*import.*\bxrange\b)", re.M)

# A ParaView trace or hand-edited pvpython script imports paraview in one of these ways.
_PARAVIEW_IMPORT = re.compile(
    r"^[ \t]*(from[ \t]+paraview(\.simple)?[ \t]+import|import[ \t]+paraview|try:[ \t]*paraview\.simple)", re.M
)


def _pos(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    col = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, col


def _python2_hint(text: str):
    for pattern, what in _PY2_HINTS:
        m = pattern.search(text)
        if m:
            return (*_pos(text, m.start(1)), what)
    return None


def parse_trace(text: str, name: str = "<trace>") -> cst.Module:
    """Parse a trace; raise ParseError / NotARecording with the file's place."""
    import libcst as cst  # here, not above: `check --skip-other` reads _PARAVIEW_IMPORT for every .py file

    if not text.strip():
        raise NotARecording("empty file, not a ParaView recording", name, 1, 1)
    try:
        module = cst.parse_module(text)
    except (cst.ParserSyntaxError, RecursionError, ValueError) as exc:
        raise _syntax_error(text, name, exc) from None
    if GENERATED_MARK in text[:4000]:
        raise NotARecording(
            "this is a replay script that replay generated; convert the recording it came from instead", name, 1, 1
        )
    if not _PARAVIEW_IMPORT.search(text):
        raise NotARecording("not a ParaView trace: it never imports paraview.simple", name, 1, 1)
    # xrange() parses as Python 3 but fails at run time; a script that defines it is fine.
    if _XRANGE.search(text) and not _XRANGE_DEFINED.search(text):
        called = _xrange_call(text)
        if called:
            raise ParseError(_PY2_MESSAGE.format(what="xrange()"), name, *called)
    return module


def _xrange_call(text: str) -> tuple[int, int] | None:
    """Where xrange is called in code: the cheap regex also matches it inside strings and comments."""
    tokens = [t for t in tokenize.generate_tokens(io.StringIO(text).readline)
              if t.type not in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT)]
    for token, after in zip(tokens, tokens[1:]):
        if token.type == tokenize.NAME and token.string == "xrange" and after.string == "(":
            return token.start[0], token.start[1] + 1
    return None


def _syntax_error(text: str, name: str, exc: Exception) -> ParseError:
    hint = _python2_hint(text)
    try:
        ast.parse(text)
    except SyntaxError as err:
        line, col, msg = err.lineno or 1, err.offset or 1, err.msg
        if hint:
            line, col, what = hint
            return ParseError(_PY2_MESSAGE.format(what=what), name, line, col)
        return ParseError(f"not valid Python: {msg}", name, line, col)
    except (RecursionError, MemoryError, ValueError) as err:
        return ParseError(f"not valid Python: {type(err).__name__}", name, 1, 1)
    # ast accepts what libcst cannot: report libcst's own place.
    line = getattr(exc, "raw_line", 1) or 1
    col = (getattr(exc, "raw_column", 0) or 0) + 1
    msg = getattr(exc, "message", str(exc)).splitlines()[0]
    return ParseError(f"cannot parse: {msg}", name, line, col)
