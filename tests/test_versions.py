"""Version detection, the compatibility preamble, version rewrites and --target-version
(converter only, no ParaView; tests/test_versions_replay.py runs the results under pvbatch)."""
import ast
import json
import re

import libcst as cst
import pytest
from lxml import etree
from pv import FIXTURES, TRACES, STATES, run_replay

import replay
from replay.errors import UsageError
from replay.versions import (REMOVED_CALLS, compatibility_preamble, detect_state_version, detect_trace_version,
                             parse_version)

HEADER = "# trace generated using paraview version {v}\n"
COMPAT = "#import paraview\n#paraview.compatibility.major = {major}\n#paraview.compatibility.minor = {minor}\n"
BODY = """
#### import the simple module from the paraview
from paraview.simple import *
wavevti = XMLImageDataReader(FileName=['/data/wave.vti'])
renderView1 = GetActiveViewOrCreate('RenderView')
"""


def strip_header(text: str) -> str:
    """A recording whose first lines were cut (as users do): no header, no compatibility comments."""
    return "\n".join(line for line in text.split("\n")
                     if not re.match(r"#\s*(trace generated|import paraview|paraview\.compatibility)", line))


# -- detection ---------------------------------------------------------------------------

@pytest.mark.parametrize("fixture, version", [
    ("versions/5.9/threshold.py", "5.9.0"), ("traces/v6_0_set.py", "6.0.1"), ("traces/v5_13_widgets.py", "5.13.1"),
    ("traces/v5_6_viewsize.py", "5.6.0"), ("traces/contour.py", "5.11.0"), ("versions/5.13/clip_widgets.py", "5.13.2"),
    ("versions/6.1/matrix.py", "6.1.1"),
])
def test_header_gives_the_exact_version(fixture, version):
    assert detect_trace_version((FIXTURES / fixture).read_text()) == (version, "trace header")


def test_compatibility_comments_without_the_header_line():
    text = COMPAT.format(major=5, minor=13) + BODY
    version, how = detect_trace_version(text)
    assert version == "5.13" and "compatibility" in how
    # the header wins over the comments when both are there
    assert detect_trace_version(HEADER.format(v="5.10.1") + COMPAT.format(major=5, minor=10) + BODY)[0] == "5.10.1"


@pytest.mark.parametrize("snippet, version, clue", [
    ("try: paraview.simple\nexcept: from paraview.simple import *\n", "4.0-4.1", "try: paraview.simple"),
    ("RenderView1 = GetRenderView()\n", "4.0-4.1", "capitalised"),
    ("AnimationScene1 = GetAnimationScene()\n", "4.0-4.1", "capitalised"),
    ("#\n# To ensure correct image size when batch processing, please search \n", "5.6-5.8", "ViewSize hint"),
    ("# uncomment following to set a specific view size\n# renderView1.ViewSize = [640, 480]\n", "4.2-5.8",
     "ViewSize"),
    ("w = XMLImageDataReader(registrationName='wave.vti')\n", ">=5.9", "registrationName"),
    ("# addendum: following script captures some of the application\n", ">=5.9", "addendum"),
    ("HideInteractiveWidgets(proxy=clip1.ClipType)\n", ">=5.11", "InteractiveWidgets"),
    ("rTDataTF2D = GetTransferFunction2D('RTData')\n", ">=5.11", "GetTransferFunction2D"),
    ("##--------\n## You may need to add some code at the end of this python script depending on your usage\n",
     ">=5.12", "closing hint block"),
    ("renderView1.ResetCamera(False, 0.9)\n", ">=5.12", "ResetCamera"),
    ("SaveScreenshot(filename='a.png', viewOrLayout=renderView1, location=16)\n", ">=5.12", "location="),
    ("contour1.Set(\n    Isosurfaces=[130.0],\n)\n", ">=6.0", "Set("),
])
def test_each_style_clue(snippet, version, clue):
    found, how = detect_trace_version(snippet + "\nfrom paraview.simple import *\n")
    assert found == version
    assert how.startswith("style: ") and clue in how


def test_clues_combine_into_the_narrowest_range():
    text = "w = X(registrationName='a')\nv.ResetCamera(False, 0.9)\n"  # >=5.9 and >=5.12
    assert detect_trace_version(text)[0] == ">=5.12"
    text = "# uncomment following to set a specific view size\n# To ensure correct image size when batch " \
           "processing, please search \n"
    assert detect_trace_version(text)[0] == "5.6-5.8"


def test_conflicting_clues_keep_the_newest_format_and_say_so():
    text = "RenderView1 = GetRenderView()\ncontour1.Set(Isosurfaces=[1.0])\n"  # 4.x variable, 6.0 call
    version, how = detect_trace_version(text)
    assert version == ">=6.0" and how.startswith("style (conflicting clues)")


@pytest.mark.parametrize("fixture, version, clue", [
    ("versions/5.9/threshold.py", ">=5.9", "registrationName"),
    ("traces/v5_6_viewsize.py", "5.6-5.8", "ViewSize hint"),
    ("traces/legacy_4x.py", "4.0-4.1", "try: paraview.simple"),
    ("traces/v6_0_set.py", ">=6.0", "Set("),
    ("traces/v5_13_widgets.py", ">=5.12", "closing hint block"),
    ("versions/5.13/clip_widgets.py", ">=5.12", "closing hint block"),
    ("versions/6.1/matrix.py", ">=6.0", "Set("),
])
def test_fixtures_without_their_header(fixture, version, clue):
    found, how = detect_trace_version(strip_header((FIXTURES / fixture).read_text()))
    assert found == version and clue in how


def test_nothing_to_go_by():
    assert detect_trace_version("from paraview.simple import *\nShow()\n") == (None, None)


@pytest.mark.parametrize("name, version", [("legacy_4x.pvsm", "4.4.0"), ("contour.pvsm", "5.11.0")])
def test_state_version_attribute(name, version):
    root = etree.fromstring((STATES / name).read_bytes())
    assert detect_state_version(root) == (version, "ServerManagerState version attribute")


def test_state_without_a_version():
    assert detect_state_version(etree.fromstring(b"<ParaView><ServerManagerState/></ParaView>")) == (None, None)


# -- compatibility preamble ----------------------------------------------------------------

@pytest.mark.parametrize("version, expected", [
    ("5.9.1", (5, 9)), ("5.10", (5, 10)), ("6.0.1", (6, 0)), ("5.6-5.8", (5, 6)), (">=5.12", (5, 12)),
    ("4.0-4.1", (4, 0)), ("3.14.1", (4, 0)),  # never below 4.0: older switches ParaView to label names
])
def test_preamble_sets_the_recorded_version(version, expected):
    lines = compatibility_preamble(version)
    namespace = {}
    code = "\n".join(lines).replace("import paraview", "import types; paraview = types.SimpleNamespace("
                                    "compatibility=types.SimpleNamespace())")
    exec(compile(code, "<preamble>", "exec"), namespace)
    compat = namespace["paraview"].compatibility
    assert (compat.major, compat.minor) == expected
    imports = [line for line in lines if line.startswith(("import", "from"))]
    assert imports == ["import paraview"]  # only the stdlib and paraview in a generated script


def test_no_version_no_preamble():
    assert compatibility_preamble(None) == []
    assert parse_version("unknown") is None


def test_preamble_sits_between_runtime_and_recorded_body():
    text = (FIXTURES / "versions" / "5.9" / "threshold.py").read_text()
    code = replay.convert_trace(text, source_name="threshold.py").code
    ast.parse(code)
    preamble = code.index("paraview.compatibility.minor = 9")
    assert code.index("_REPLAY_ARGS.update(") < preamble < code.index("# ---- recorded:")
    assert preamble < code.index("\nfrom paraview.simple import *\n")  # the recording's own import line
    # a trace with no version clue at all gets none
    bare = "from paraview.simple import *\nw = XMLImageDataReader(FileName=['/d/w.vti'])\nShow(w)\n"
    assert "paraview.compatibility" not in replay.convert_trace(bare, source_name="bare.py").code


# -- rewrites --------------------------------------------------------------------------------

def convert(body: str, version: str = "5.11.0", **options):
    text = HEADER.format(v=version) + "from paraview.simple import *\n" + body
    return replay.convert_trace(text, source_name="t.py", **options)


def recorded_body(code: str) -> str:
    return code[code.index("# ---- recorded:"):]


def version_warnings(result):
    return [d for d in result.warnings if d.code != "no-reader"]  # these snippets have no reader


def test_5_12_arguments_are_dropped_where_that_changes_nothing():
    result = convert("v = GetActiveViewOrCreate('RenderView')\nv.ResetCamera(False, 0.9)\nv.ResetCamera(True, 0.9)\n"
                     "SaveScreenshot(filename='/o/a.png', viewOrLayout=v, location=16, ImageResolution=[3, 2])\n")
    body = recorded_body(result.code)
    assert "v.ResetCamera(False)\n" in body and "v.ResetCamera(True)\n" in body
    assert "location" not in body
    assert "SaveScreenshot(filename=_replay_out('/o/a.png'" in body and "ImageResolution=[3, 2])" in body
    lines = sorted(d.line for d in result.notes)
    assert lines == [4, 5, 6]
    assert not version_warnings(result)


def test_arguments_that_matter_are_kept_with_a_warning():
    result = convert("v = GetActiveViewOrCreate('RenderView')\nv.ResetCamera(True, 0.5)\n"
                     "SaveScreenshot('/o/a.png', v, location=4)\n")
    body = recorded_body(result.code)
    assert "v.ResetCamera(True, 0.5)" in body and "location=4" in body
    assert sorted((d.line, d.code) for d in version_warnings(result)) == [(4, "target-argument"), (5, "target-argument")]


def test_removed_calls_become_their_replacement():
    result = convert("WriteImage('/o/a.png')\nWriteImage('/o/b.png', v)\nWriteAnimation('/o/c.avi', FrameRate=5)\n"
                     "CreateView('RenderView', True)\nCreateView('RenderView', detachedFromLayout=False, "
                     "ViewSize=[3, 2])\nCreateRenderView(False)\n", version="4.1.0")
    body = recorded_body(result.code)
    assert "SaveScreenshot(_replay_out('/o/a.png'" in body and "SaveScreenshot(_replay_out('/o/b.png'" in body
    assert re.search(r"SaveAnimation\(_replay_out\('/o/c\.avi'.*\), GetLayout\(\), FrameRate=5\)", body)
    assert "CreateView('RenderView')\n" in body and "CreateView('RenderView', ViewSize=[3, 2])" in body
    assert "CreateRenderView()\n" in body
    assert "WriteImage" not in body and "WriteAnimation" not in body and "detachedFromLayout" not in body
    assert [d.line for d in result.notes] == [3, 4, 5, 6, 7, 8]
    ast.parse(result.code)


def test_removed_calls_without_an_exact_replacement_stay_with_a_warning():
    result = convert("WriteImage('/o/a.png', Magnification=2)\nCreateScalarBar(Title='x')\n", version="4.1.0")
    body = recorded_body(result.code)
    assert "WriteImage(" in body and "CreateScalarBar(" in body
    assert [(d.line, d.code) for d in version_warnings(result)] == [(3, "removed-call"), (4, "removed-call")]
    assert all("5.12" in d.message for d in version_warnings(result))


def test_the_table_names_a_version_and_a_source_for_every_call():
    for entry in REMOVED_CALLS.values():
        assert parse_version(entry.removed) and entry.source


def test_widget_calls_of_5_13_traces_are_removed():
    result = replay.convert_trace((TRACES / "v5_13_widgets.py").read_text(), source_name="v5_13_widgets.py")
    body = recorded_body(result.code)
    assert "3DWidgets" not in body.replace("# replay: removed Hide3DWidgets", "").replace(
        "# replay: removed Show3DWidgets", "")
    assert "ResetCamera(False)\n" in body and "location=" not in body


# -- 6.0 .Set(...) wherever it stands ------------------------------------------------------

SET_CASES = """\
display = Show(src, view)
display.ScaleTransferFunction.Set(
    # the recorder comments here sometimes
    Points=[0.0, 0.0, 0.5, 0.0],  # and here
    UseLogScale=0,
)
for v in [1.0, 2.0]:
    if v:
        contour1.Set(Isosurfaces=[v], ComputeScalars=1)
"""


def test_set_is_split_in_blocks_on_nested_attributes_and_across_lines():
    body = recorded_body(convert(SET_CASES, version="6.0.1").code)
    assert ".Set(" not in body
    assert "display.ScaleTransferFunction.Points = [0.0, 0.0, 0.5, 0.0]" in body
    assert "display.ScaleTransferFunction.UseLogScale = 0" in body
    assert "        contour1.Isosurfaces = [v]\n        contour1.ComputeScalars = 1\n" in body
    cst.parse_module(body)


# -- --target-version -------------------------------------------------------------------------

def test_target_older_than_a_property_name():
    text = (TRACES / "threshold.py").read_text()
    lines = text.split("\n")
    result = replay.convert_trace(text, source_name="threshold.py", target_version="5.9")
    named = [d for d in result.warnings if d.code == "target-property"]
    assert named and {d.message.split("property ")[1].split(":")[0] for d in named} == {"LowerThreshold",
                                                                                        "UpperThreshold"}
    for d in named:
        assert "Threshold" in lines[d.line - 1] and "ParaView 5.9 " in d.message
    ok = replay.convert_trace(text, source_name="threshold.py", target_version="5.10")
    assert not [d for d in ok.warnings if d.code.startswith("target")]
    assert ok.code == replay.convert_trace(text, source_name="threshold.py").code  # a check, not a change


def test_target_older_than_a_call_and_set_is_fine():
    text = (TRACES / "v6_0_set.py").read_text()
    lines = text.split("\n")
    result = replay.convert_trace(text, source_name="v6_0_set.py", target_version="5.10")
    assert [(d.code, lines[d.line - 1].strip()) for d in result.warnings] == [
        ("target-call", "rTDataTF2D = GetTransferFunction2D('RTData')")]
    assert not replay.convert_trace(text, source_name="v6_0_set.py", target_version="5.11").warnings


def test_target_version_through_the_cli(tmp_path):
    proc = run_replay("convert", TRACES / "threshold.py", "-o", tmp_path / "t.py", "--target-version", "5.9")
    assert proc.returncode == 0
    warned = [line for line in proc.stderr.splitlines() if "ParaView 5.9 does not know the property" in line]
    assert warned and all(re.match(r".*threshold\.py:\d+:\d+: warning: ", line) for line in warned)
    bad = run_replay("convert", TRACES / "threshold.py", "-o", tmp_path / "u.py", "--target-version", "five")
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1 and "Traceback" not in bad.stderr
    assert not (tmp_path / "u.py").exists()


def test_bad_target_in_the_library():
    with pytest.raises(UsageError):
        replay.convert_trace(BODY, source_name="t.py", target_version="5")


# -- inspect -----------------------------------------------------------------------------------

def test_inspect_shows_the_version_and_how(tmp_path):
    proc = run_replay("inspect", FIXTURES / "versions" / "5.9" / "threshold.py")
    assert "version 5.9.0 (trace header)" in " ".join(proc.stdout.split())
    cut = tmp_path / "cut.py"
    cut.write_text(strip_header((TRACES / "v5_6_viewsize.py").read_text()))
    proc = run_replay("inspect", cut)
    assert "version 5.6-5.8 (style: ViewSize hint" in " ".join(proc.stdout.split())
    as_json = json.loads(run_replay("inspect", "--json", cut).stdout)
    assert isinstance(as_json, list) and as_json
    assert all(set(p) == {"name", "kind", "proxy", "property", "default", "line"} for p in as_json)
