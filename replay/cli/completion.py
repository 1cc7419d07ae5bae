"""Shell completion (`replay --install-completion`): `replay convert REC --param <TAB>` offers the property
names `replay inspect REC` lists. Light at import: the CLI imports it at start-up."""
from __future__ import annotations

from typing import List, Optional

import typer


_CONVERT_OPTIONS_WITH_VALUES = {"-o", "--output", "-p", "--param", "--target-version"}


def _recording(words: List[str]) -> Optional[str]:
    """The first of convert's words that is neither an option nor an option's value."""
    i = 0
    while i < len(words):
        word = words[i]
        if word == "--":
            return words[i + 1] if i + 1 < len(words) else None
        if word.startswith("-"):
            i += 2 if word in _CONVERT_OPTIONS_WITH_VALUES else 1
            continue
        return word
    return None


def param_names(ctx: typer.Context, incomplete: str) -> List[str]:
    """The --param names of the recording given earlier on the command line; nothing when there is none or
    it cannot be read (a completion never prints an error into the user's prompt)."""
    # While --param waits for its value click leaves convert's words unparsed, in ctx.args.
    path = ctx.params.get("input") or _recording(list(ctx.args))
    if not path:
        return []
    try:
        from ..errors import ReplayError
        from ..recordings import inspect_file

        params, _ = inspect_file(str(path))
    except (ReplayError, OSError, ValueError):
        return []
    names: List[str] = []
    for p in params:
        if p.kind != "property":
            continue
        # The name inspect shows; the proxy.Property form too once the user types a dot.
        for name in (p.name, f"{p.proxy}.{p.property}" if "." in incomplete else None):
            if name and name.startswith(incomplete) and name not in names:
                names.append(name)
    return names
