"""Property-based: random readers, properties and values survive conversion exactly."""
import ast
import json
import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import replay
from replay.errors import NotARecording

READERS = ["XMLImageDataReader", "LegacyVTKReader", "CSVReader", "XdmfReader", "ExodusIIReader"]
FILE_PROPS = {"XMLImageDataReader": "FileName", "LegacyVTKReader": "FileNames", "CSVReader": "FileName",
              "XdmfReader": "FileNames", "ExodusIIReader": "FileName"}

text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)
finite = st.floats(allow_nan=False, allow_infinity=False, width=64)
scalar = st.one_of(st.integers(-10**12, 10**12), finite, st.sampled_from([math.inf, -math.inf]), text, st.booleans())
value = st.one_of(scalar, st.lists(st.one_of(finite, st.integers(-1000, 1000)), max_size=300),
                  st.lists(text, min_size=1, max_size=5))
prop_name = st.from_regex(r"\A[A-Z][A-Za-z]{2,12}\Z").filter(lambda n: n not in ("True", "False", "None")
                                                            and not n.startswith("File") and "Time" not in n)


def source(v):
    """How a recorder writes a value: repr, but inf has no literal, so write an overflowing float."""
    if isinstance(v, float) and math.isinf(v):
        return "1e999" if v > 0 else "-1e999"
    if isinstance(v, list):
        return "[" + ", ".join(source(x) for x in v) + "]"
    return repr(v)


def same(a, b):
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    return type(a) is type(b) and a == b


@st.composite
def traces(draw):
    n = draw(st.integers(1, 3))
    lines = ["# trace generated using paraview version 5.11.0", "from paraview.simple import *"]
    recorded = {}
    for i in range(n):
        reader = draw(st.sampled_from(READERS))
        path = draw(text.filter(lambda s: s.strip()))
        lines.append(f"src{i} = {reader}(registrationName={source('src' + str(i))}, "
                     f"{FILE_PROPS[reader]}={source([path])})")
        recorded[(f"src{i}", FILE_PROPS[reader])] = [path]
        for prop, v in draw(st.dictionaries(prop_name, value, max_size=4)).items():
            lines.append(f"src{i}.{prop} = {source(v)}")
            recorded[(f"src{i}", prop)] = v
        lines.append(f"src{i}.Opacity = float('nan')  # computed: never a parameter")
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    return newline.join(lines) + newline, recorded


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(traces())
def test_conversion_keeps_every_recorded_literal(case):
    trace, recorded = case
    params, _ = replay.inspect(trace)
    found = {(p.proxy, p.property): p for p in params if p.kind in ("file", "property")}
    assert set(found) == set(recorded)
    for key, v in recorded.items():
        assert same(found[key].default, v), (key, found[key].default, v)

    names = [p.name for p in params if p.kind == "property"]
    result = replay.convert_trace(trace, params=names, source_name="t.py")
    ast.parse(result.code)
    start = result.code.index("loads(r'''") + len("loads(r'''")
    spec = json.loads(result.code[start:result.code.index("''')", start)])
    for entry in spec["parameters"]:
        if entry["kind"] in ("file", "property"):
            assert same(entry["default"], recorded[(entry["proxy"], entry["property"])])
    assert "float('nan')  # computed" in result.code
    assert result.code == replay.convert_trace(trace, params=names, source_name="t.py").code
    newline = "\r\n" if "\r\n" in trace else "\n"
    assert result.code.count(newline) == result.code.count("\n")

    try:
        replay.convert_trace(result.code)
    except NotARecording as exc:
        assert "replay script" in exc.message
    else:
        raise AssertionError("converting a replay script again must be refused")
