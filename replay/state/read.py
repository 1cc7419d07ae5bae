"""State text -> lxml tree, parsed so that a hostile file cannot make us expand or fetch anything.

Entities and DTDs are refused before lxml sees the text: a DOCTYPE is the only way to declare an
entity, so a state that has one with entity declarations or an external id never gets parsed.
"""
from __future__ import annotations

import re

from lxml import etree

from ..errors import NotARecording, ParseError, UnsafeInput

# ParaView never writes a DOCTYPE; anything that declares entities or points outside is refused.
_DOCTYPE = re.compile(r"<!DOCTYPE\b", re.IGNORECASE)
_DANGER = re.compile(r"<!ENTITY\b|\bSYSTEM\b|\bPUBLIC\b", re.IGNORECASE)
_ENCODING = re.compile(r"""^(\s*<\?xml\b[^>]*?)\s+encoding\s*=\s*(["'])[^"']*\2""")
ROOTS = ("GenericParaViewApplication", "ParaView")


def _place(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _first_element(text: str) -> int:
    """Offset of the root's start tag: the prolog before it is where a DOCTYPE can hide."""
    for match in re.finditer(r"<(?![?!])", text):
        return match.start()
    return len(text)


def check_prolog(text: str, source_name: str) -> None:
    prolog_end = _first_element(text)
    doctype = _DOCTYPE.search(text, 0, prolog_end)
    if doctype is None:
        if re.search(r"<!ENTITY\b", text[:prolog_end], re.IGNORECASE):
            raise UnsafeInput("refusing an XML entity declaration (ParaView states have none)",
                              source_name, *_place(text, prolog_end))
        return
    danger = _DANGER.search(text, doctype.start(), prolog_end)
    if danger is not None:
        what = "entity declaration" if danger.group(0).upper() == "<!ENTITY" else "external DTD or entity"
        raise UnsafeInput(f"refusing a DOCTYPE with an {what} (ParaView states have none): nothing was expanded",
                          source_name, *_place(text, danger.start()))


def parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                           dtd_validation=False, remove_comments=True, remove_pis=True)


def parse_state(text: str, source_name: str = "<state>"):
    """The state's root element and its ServerManagerState element."""
    check_prolog(text, source_name)
    # lxml refuses a str that declares its encoding; the text is already decoded, so drop the declaration.
    text = _ENCODING.sub(r"\1", text, count=1)
    try:
        root = etree.fromstring(text, parser())
    except etree.XMLSyntaxError as exc:
        line, col = exc.position if exc.position else (1, 1)
        message = re.sub(r",? line \d+, column \d+$", "", exc.msg or "not well-formed XML")
        raise ParseError(f"not valid XML: {message}", source_name, line or 1, col or 1) from None
    if root.tag == "ServerManagerState":
        state = root
    else:
        state = root.find("ServerManagerState") if root.tag in ROOTS else None
        if state is None:
            raise NotARecording(f"XML with root <{root.tag}>, not a ParaView state "
                                "(expected <GenericParaViewApplication> or <ParaView> with a <ServerManagerState>)",
                                source_name, root.sourceline or 1, 1)
    return root, state
