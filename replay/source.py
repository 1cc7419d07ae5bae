"""Bytes -> text, the way Python itself decides a source file's encoding.

Kept apart from the parsers so both traces and states get the same checks for
binary, empty and badly encoded files.
"""
from __future__ import annotations

import codecs
import io
import tokenize

from .errors import InputError, NotARecording

BOM = codecs.BOM_UTF8


def decode(data: bytes, name: str = "<input>") -> str:
    """Decode a recording; the result keeps its original line endings and loses any BOM."""
    if b"\x00" in data[:8192]:
        raise InputError("binary file, not a ParaView recording", name, 1, 1)
    if not data.strip(BOM + b" \t\r\n\f"):
        raise NotARecording("empty file, not a ParaView recording", name, 1, 1)
    head = data.lstrip(BOM + b" \t\r\n")
    if head.startswith(b"<"):
        encoding = "utf-8"  # XML declares its own encoding; lxml reads the bytes, this is for display
    else:
        try:
            encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        except SyntaxError as exc:
            raise InputError(f"unknown source encoding: {exc.msg}", name, 1, 1) from None
    if data.startswith(BOM):
        data = data[len(BOM):]
        encoding = "utf-8"
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise InputError(f"not valid {encoding} text (byte 0x{data[exc.start]:02x})", name, line, col) from None
    except LookupError:
        raise InputError(f"unknown source encoding {encoding!r}", name, 1, 1) from None


def detect_kind(text: str) -> str:
    """'state' for XML, 'trace' for anything else: decided by content, not by the file's extension."""
    return "state" if text.lstrip("\ufeff \t\r\n").startswith("<") else "trace"
