"""Filters whose paraview.simple name changed between releases, for a recording to find its filter on another
release. Most are read from the releases (the tables' "renamed" pairs, from each release's
paraview/_backwardscompatibilityhelper.py); what no release's code says is written down here, with its source."""
from __future__ import annotations

# (name, what the same filter was called before, the release that made the change, source). A recording newer
# than the change calls `name`; on an older release that name is missing or another filter, so the old name
# stands in. A recording older than the change calls the old name; a release that dropped it takes `name`.
BY_HAND = (
    ("Gradient", "GradientOfUnstructuredDataSet", (5, 10),
     "ParaView 5.11 paraview/_backwardscompatibilityhelper.py GetProxy: \"In 5.10, 'Gradient' and "
     "'GradientOfUnstructuredDataSet' were merged into a unique 'Gradient' filter\"; 5.9's 'Gradient' is the "
     "image gradient (XML Gradient: SelectInputScalars), its 'Gradient Of Unstructured DataSet' (XML "
     "UnstructuredGradient) has the properties of 5.10+'s 'Gradient'; 5.13 drops the old name"),
)


def _shared(table: dict, a: str, b: str) -> int:
    """How many property names the filters two functions make have in common (the better stand-in)."""
    functions, filters = table["functions"], table["proxies"].get("filters", {})
    first, second = filters.get(functions.get(a), {}), filters.get(functions.get(b), {})
    return len(first.keys() & second.keys())


def renames_for(version: tuple[int, int], table: dict, called: set[str], later: list = ()) -> dict[str, list]:
    """{function the recording calls: [stand-in, newest release where the stand-in is preferred or None, and
    the other old names, if any, for a release that lacks the stand-in]}."""
    out: dict[str, list] = {}
    olds: dict[str, list[str]] = {}
    for old, new in table.get("renamed", []):
        olds.setdefault(new, []).append(old)
        if old in called:  # an old name the recording's release still had: the new one where it is gone
            out[old] = [new, None]
    # A later release may name another old filter the recording's new name replaced (6.0: 5.9-5.13's Process Id
    # Scalars is Process Ids, which a 5.13 recording calls): the running release takes the first it has.
    for old, new in later:
        if old not in olds.get(new, []):
            olds.setdefault(new, []).append(old)
    for new, candidates in olds.items():
        if new in called:
            # 6.0's Process Ids was 5.13's Generate Process Ids and 5.9-5.13's Process Id Scalars: neither is in
            # 6.1's table to be compared, so all are kept, the likeliest first.
            ranked = sorted(sorted(candidates), key=lambda old: -_shared(table, new, old))
            out[new] = [ranked[0], None] + ([ranked[1:]] if len(ranked) > 1 else [])
    for name, old, since, _source in BY_HAND:
        if name in called and version >= since:
            out[name] = [old, list(since)]
        elif old in called and version < since:
            out[old] = [name, None]
    return dict(sorted(out.items()))
