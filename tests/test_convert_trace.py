"""The trace contract, checked on the converter's output text (no ParaView needed)."""
import ast
import json

import pytest

import replay
from replay.errors import NotARecording, ParseError, UnknownParameter

TRACE = """\
# trace generated using paraview version 5.11.0
#import paraview
#paraview.compatibility.major = 5
#paraview.compatibility.minor = 11

#### import the simple module from the paraview
from paraview.simple import *
#### disable automatic camera reset on 'Show'
paraview.simple._DisableFirstRenderCameraReset()

# create a new 'XML Image Data Reader'
wavevti = XMLImageDataReader(registrationName='wave.vti', FileName=['/data/wave.vti'])
wavevti.PointArrayStatus = ['RTData']

# create a new 'Contour'
contour1 = Contour(registrationName='Contour1', Input=wavevti)
contour1.ContourBy = ['POINTS', 'RTData']
contour1.Isosurfaces = [130.0, 200.0]

# get animation scene
animationScene1 = GetAnimationScene()
animationScene1.UpdateAnimationUsingDataTimeSteps()
animationScene1.AnimationTime = 2.0

# get the time-keeper
timeKeeper1 = GetTimeKeeper()
timeKeeper1.Time = 2.0

renderView1 = GetActiveViewOrCreate('RenderView')
renderView1.CameraParallelScale = 17.5
renderView1.OrientationAxesVisibility = 0

# save screenshot
SaveScreenshot('/home/ana/out/contour.png', renderView1, ImageResolution=[320, 240])
"""


def params_by_name(result):
    return {p.name: p for p in result.parameters}


def spec_of(code):
    start = code.index("loads(r'''") + len("loads(r'''")
    return json.loads(code[start:code.index("''')", start)])


def test_always_parameterized_files_time_outputs():
    result = replay.convert_trace(TRACE, source_name="contour.py")
    params = params_by_name(result)
    assert list(params) == ["FileName", "time", "output-dir"]
    assert params["FileName"].default == ["/data/wave.vti"]
    assert params["FileName"].line == 12
    assert params["time"].default == 2.0
    assert "FileName=_replay_files('FileName', ['/data/wave.vti'])" in result.code
    assert "animationScene1.AnimationTime = _replay_time(2.0)" in result.code
    assert "timeKeeper1.Time = _replay_time(2.0)" in result.code
    assert "SaveScreenshot(_replay_out('/home/ana/out/contour.png'), renderView1" in result.code
    ast.parse(result.code)


def test_param_by_property_and_by_variable():
    by_property = replay.convert_trace(TRACE, params=["Isosurfaces"])
    by_variable = replay.convert_trace(TRACE, params=["contour1.Isosurfaces"])
    for result in (by_property, by_variable):
        iso = params_by_name(result)["Isosurfaces"]
        assert (iso.kind, iso.proxy, iso.property, iso.default, iso.line) == (
            "property", "contour1", "Isosurfaces", [130.0, 200.0], 18)
        assert (iso.value_type, iso.nargs) == ("float", "+")
        assert "contour1.Isosurfaces = _replay_value('Isosurfaces', [130.0, 200.0])" in result.code
    scalar = params_by_name(replay.convert_trace(TRACE, params=["OrientationAxesVisibility"]))
    assert (scalar["OrientationAxesVisibility"].value_type, scalar["OrientationAxesVisibility"].nargs) == ("int", None)


def test_unknown_param_lists_close_matches():
    with pytest.raises(UnknownParameter) as info:
        replay.convert_trace(TRACE, params=["Isosurface"])
    assert "Isosurfaces" in info.value.message
    assert info.value.exit_code == 2


def test_same_property_on_two_proxies_gets_variable_names():
    trace = TRACE.replace("renderView1 = GetActiveViewOrCreate", "points = CSVReader(registrationName='p.csv', "
                          "FileName=['/data/p.csv'])\nrenderView1 = GetActiveViewOrCreate")
    names = [p.name for p in replay.convert_trace(trace).parameters]
    assert names[:2] == ["wavevti.FileName", "points.FileName"]


def test_inspect_lists_every_candidate_with_the_public_keys():
    params, inventory = replay.inspect(TRACE)
    rows = [p.to_json() for p in params]
    assert all(list(row) == ["name", "kind", "proxy", "property", "default", "line"] for row in rows)
    names = {row["name"] for row in rows}
    assert {"FileName", "time", "output-dir", "Isosurfaces", "ContourBy", "PointArrayStatus",
            "CameraParallelScale"} <= names
    assert inventory.version == "5.11.0"


def test_output_is_deterministic_and_parses():
    first = replay.convert_trace(TRACE, params=["Isosurfaces"], source_name="contour.py").code
    second = replay.convert_trace(TRACE, params=["Isosurfaces"], source_name="contour.py").code
    assert first == second
    assert first.startswith("# replay: generated from contour.py (ParaView 5.11.0 trace) by: "
                            "replay convert contour.py --param Isosurfaces\n")


def test_spec_carries_defaults_and_lines_for_help():
    spec = spec_of(replay.convert_trace(TRACE, params=["Isosurfaces"]).code)
    iso = [p for p in spec["parameters"] if p["name"] == "Isosurfaces"][0]
    assert iso == {"name": "Isosurfaces", "kind": "property", "proxy": "contour1", "property": "Isosurfaces",
                   "default": [130.0, 200.0], "line": 18, "type": "float", "nargs": "+"}


def test_session_and_gui_only_calls_are_removed_with_a_note():
    trace = TRACE.replace("# create a new 'Contour'", "Connect('localhost')\nHide3DWidgets(proxy=wavevti)\n"
                          "# toggle interactive widget visibility (only when running from the GUI)\n"
                          "ShowInteractiveWidgets(proxy=wavevti)\n"
                          "def reset():\n    Disconnect()\n    ResetSession()\n# create a new 'Contour'")
    result = replay.convert_trace(trace)
    assert "Connect('localhost')" not in result.code.split("# ---- recorded")[1]
    assert "pass  # replay: removed Connect(): pvbatch has its own session" in result.code
    assert "    pass  # replay: removed Disconnect()" in result.code
    assert "    pass  # replay: removed ResetSession()" in result.code
    assert "pass  # replay: removed Hide3DWidgets()" in result.code
    assert "pass  # replay: removed ShowInteractiveWidgets()" in result.code
    assert [d.code for d in result.notes] == ["Connect", "Hide3DWidgets", "ShowInteractiveWidgets",
                                              "Disconnect", "ResetSession"]
    assert "# toggle interactive widget visibility (only when running from the GUI)" in result.code
    ast.parse(result.code)


def test_layout_calls_and_comments_stay():
    trace = TRACE + "layout1 = CreateLayout(name='Layout #1')\nlayout1.AssignView(0, renderView1)\n" \
                    "layout1.SetSize(640, 480)  # recorded size\n"
    body = replay.convert_trace(trace).code.split("# ---- recorded: trace.py ----\n\n", 1)[1]
    assert "layout1.SetSize(640, 480)  # recorded size" in body
    assert body.replace("_replay_files('FileName', ['/data/wave.vti'])", "['/data/wave.vti']") \
        .replace("_replay_time(2.0)", "2.0") \
        .replace("_replay_out('/home/ana/out/contour.png')", "'/home/ana/out/contour.png'") == trace


def test_view_size_hint_is_applied_in_place():
    trace = TRACE.replace("renderView1.CameraParallelScale = 17.5",
                          "# uncomment following to set a specific view size\n# renderView1.ViewSize = [640, 480]")
    code = replay.convert_trace(trace).code
    assert "\n# uncomment following to set a specific view size\n" \
           "renderView1.ViewSize = [640, 480]  # replay: applied the recorded view size\n" in code


def test_set_calls_become_assignments():
    trace = TRACE.replace("renderView1.CameraParallelScale = 17.5",
                          "# current camera placement for renderView1\n"
                          "renderView1.Set(\n    CameraPosition=[0.0, 0.0, 66.9],\n    CameraParallelScale=17.3,\n)")
    result = replay.convert_trace(trace, params=["CameraParallelScale"])
    assert ("# current camera placement for renderView1\nrenderView1.CameraPosition = [0.0, 0.0, 66.9]\n"
            "renderView1.CameraParallelScale = _replay_value('CameraParallelScale', 17.3)\n") in result.code
    assert ".Set(" not in result.code.split("# ---- recorded")[1]


def test_goto_and_update_pipeline_follow_time():
    trace = TRACE.replace("animationScene1.AnimationTime = 2.0", "animationScene1.GoToLast()\nanimationScene1.Play()\n"
                          "wavevti.UpdatePipeline(time=3.0)\nUpdatePipeline(time=1.5, proxy=wavevti)")
    code = replay.convert_trace(trace).code
    assert "_replay_goto(animationScene1, 'GoToLast')" in code
    assert "_replay_goto(animationScene1, 'Play')" in code
    assert "wavevti.UpdatePipeline(time=_replay_time(3.0))" in code
    assert "UpdatePipeline(time=_replay_time(1.5), proxy=wavevti)" in code


def test_literals_in_functions_and_loops_and_computed_values():
    trace = TRACE + (
        "import glob\n"
        "def make(path):\n"
        "    r = XMLImageDataReader(FileName=['/data/other.vti'])\n"
        "    r2 = XMLImageDataReader(FileName=glob.glob(path))\n"
        "    return r\n"
        "for v in [100.0, 150.0]:\n"
        "    contour1.Isosurfaces = [v]\n"
        "    SaveScreenshot(f'/home/ana/out/iso_{v}.png', renderView1)\n"
    )
    result = replay.convert_trace(trace)
    assert "    r = XMLImageDataReader(FileName=_replay_files('r.FileName', ['/data/other.vti']))" in result.code
    assert "FileName=glob.glob(path)" in result.code
    assert "SaveScreenshot(_replay_out(f'/home/ana/out/iso_{v}.png'), renderView1)" in result.code
    assert [(w.line, w.code) for w in result.warnings] == [(38, "computed-file")]


def test_open_data_file_and_assigned_file_names_and_exodus_prefix():
    trace = TRACE + ("data = OpenDataFile('/data/wave.vti')\n"
                     "ex = ExodusIIReader(FileName=['/data/can.ex2'])\n"
                     "ex.FilePrefix = '/data/can.ex2'\nex.FilePattern = '%s'\n"
                     "wavevti.FileName = ['/data/wave2.vti']\n")
    params = params_by_name(replay.convert_trace(trace))
    assert params["data.FileName"].default == "/data/wave.vti"
    assert params["FilePrefix"].kind == params["FilePattern"].kind == "file"
    assert params["wavevti.FileName"].default == ["/data/wave2.vti"]  # the last assignment is what it reads
    assert len(params["wavevti.FileName"].sites) == 2


def test_writers_are_outputs_not_inputs():
    trace = TRACE + "w = CSVWriter(registrationName='w', FileName='/home/ana/out/t.csv', Input=contour1)\n"
    result = replay.convert_trace(trace)
    assert [p.name for p in result.parameters] == ["FileName", "time", "output-dir"]
    assert "FileName=_replay_out('/home/ana/out/t.csv')" in result.code


def test_needs_existing_objects_is_a_warning():
    trace = TRACE.replace("wavevti = XMLImageDataReader(registrationName='wave.vti', FileName=['/data/wave.vti'])",
                          "wavevti = FindSource('wave.vti')")
    result = replay.convert_trace(trace)
    assert any("FindSource('wave.vti')" in w.message and "cannot replay on its own" in w.message
               for w in result.warnings)


def test_windows_paths_and_crlf_are_kept():
    trace = TRACE.replace("/data/wave.vti", "C:\\\\Users\\\\ana\\\\wave.vti").replace("\n", "\r\n")
    result = replay.convert_trace(trace)
    assert params_by_name(result)["FileName"].default == ["C:\\Users\\ana\\wave.vti"]
    assert "\r\n" in result.code and "\n" not in result.code.replace("\r\n", "")


@pytest.mark.parametrize("text, error, where, words", [
    ("", NotARecording, (1, 1), "empty"),
    ("import os\nprint(os.getcwd())\n", NotARecording, (1, 1), "not a ParaView trace"),
    ("from paraview.simple import *\nx = (\n", ParseError, (2, 5), "not valid Python"),
    ("from paraview.simple import *\nprint 'hello'\n", ParseError, (2, 1), "Python 2"),
    ("from paraview.simple import *\nfor i in xrange(3): pass\n", ParseError, (2, 10), "Python 2"),
])
def test_bad_input_errors_point_at_the_place(text, error, where, words):
    with pytest.raises(error) as info:
        replay.convert(text) if text else replay.convert_trace(text)
    assert (info.value.line, info.value.col) == where
    assert words in info.value.message


def test_replay_script_is_not_converted_again():
    code = replay.convert_trace(TRACE).code
    with pytest.raises(NotARecording) as info:
        replay.convert_trace(code)
    assert "replay script" in info.value.message


def test_load_state_inside_a_trace_takes_its_files_as_parameters():
    trace = TRACE + ("LoadState('/home/ana/study.pvsm', LoadStateDataFileOptions='Choose File Names',\n"
                     "    DataDirectory='/home/ana', wavevtiFileName=['/home/ana/wave.vti'])\n")
    params = params_by_name(replay.convert_trace(trace))
    assert params["StateFile"].default == "/home/ana/study.pvsm"
    assert params["DataDirectory"].default == "/home/ana"
    assert params["wavevtiFileName"].default == ["/home/ana/wave.vti"]
    assert params["StateFile"].kind == "file" and params["StateFile"].proxy is None


@pytest.mark.parametrize("extra, reads", [
    ("", False),
    ("import sys\nif len(sys.argv) > 1: print(sys.argv[1])\n", True),
    ("import argparse\n", True),
    ("from sys import argv\n", True),
    ("from optparse import OptionParser\n", True),
    ("import sys\nsys.exit(0)\n", False),
    ("# sys.argv in a comment\n", False),
])
def test_recordings_that_read_their_own_command_line_keep_the_words_replay_does_not_know(extra, reads):
    result = replay.convert_trace(TRACE + extra)
    assert ('"own_arguments": true' in result.code) is reads



def test_xrange_inside_a_string_or_comment_is_not_python_2():
    # Found by hypothesis: a file name "xrange(" made a valid Python 3 trace look like Python 2.
    trace = TRACE.replace("/data/wave.vti", "/data/xrange(1).vti") + "# for i in xrange(3)\n"
    assert params_by_name(replay.convert_trace(trace))["FileName"].default == ["/data/xrange(1).vti"]


def test_a_property_set_twice_defaults_to_its_last_value():
    # The GUI records the auto-computed value first, then the user's edit: the image shows the edit.
    trace = TRACE.replace("contour1.Isosurfaces = [130.0, 200.0]\n",
                          "contour1.Isosurfaces = [157.09]\ncontour1.Isosurfaces = [130.0, 200.0]\n")
    result = replay.convert_trace(trace, params=["Isosurfaces"])
    param = params_by_name(result)["Isosurfaces"]
    assert (param.default, param.line) == ([130.0, 200.0], 19)
    assert len(param.sites) == 2
