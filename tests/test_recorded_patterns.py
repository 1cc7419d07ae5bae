"""Patterns from other people's recordings (issue 15): extractor writers, a ViewSize hint for a view
whose creation was commented out, a 4.x Exodus reader's unset side file. Each is converted, and run by
real pvbatch next to the recording itself; the pvbatch runs happen once, in module fixtures."""
from __future__ import annotations

import filecmp
from pathlib import Path

import pytest
from pv import TRACES, image_difference, run_pvbatch, run_replay

import replay


def params_by_name(result) -> dict:
    return {p.name: p for p in result.parameters}


# -- 1. extractor writers write -----------------------------------------------------------------------------

def test_extractor_writer_names_are_outputs_left_as_recorded():
    result = replay.convert_trace((TRACES / "extractors.py").read_text(), source_name="extractors.py")
    assert [p.name for p in result.parameters] == ["FileName", "time", "output-dir"]
    body = result.code.split("# ---- recorded: extractors.py ----", 1)[1]
    for line in ("vTU1.Writer.FileName = 'clip_{timestep:06d}.pvtu'\n",
                 "cSV1.Writer.FileName = 'contour_{timestep:06d}.csv'\n",
                 "pNG1.Writer.FileName = 'view_{timestep:06d}{camera}.png'\n",
                 "SaveExtracts(ExtractsOutputDirectory=_replay_out_dir('extracts'),\n"):
        assert line in body


def test_writer_of_an_extractor_found_by_name_is_not_a_reader():
    trace = ("from paraview.simple import *\n"
             "r = XMLImageDataReader(FileName=['/data/wave.vti'])\n"
             "vTP1 = FindExtractor('VTP1')\n"
             "vTP1.Writer.FileName = 'surface_{timestep:06d}.pvtp'\n"
             "GetActiveSource().Writer.FileName = 'other_{timestep}.vtm'\n")
    result = replay.convert_trace(trace)
    assert [p.name for p in result.parameters] == ["FileName", "time", "output-dir"]
    assert "vTP1.Writer.FileName = 'surface_{timestep:06d}.pvtp'\n" in result.code


@pytest.fixture(scope="module")
def extracts(tmp_path_factory, fixture_data):
    """The trace run as it is (its extracts folder is relative: it lands in the run's folder), and its
    replay with --output-dir."""
    root = tmp_path_factory.mktemp("extracts")
    (root / "trace").mkdir()
    run_pvbatch(TRACES / "extractors.py", cwd=root / "trace")
    script = root / "extractors_replay.py"
    proc = run_replay("convert", TRACES / "extractors.py", "-o", script, "-q")
    assert proc.returncode == 0, proc.stderr
    run_pvbatch(script, "--output-dir", root / "replay out", cwd=root)
    return root / "trace" / "extracts", root / "replay out"


@pytest.mark.pvbatch
def test_replay_writes_the_same_extracts_as_the_trace(extracts):
    recorded, replayed = extracts
    names = sorted(p.relative_to(recorded).as_posix() for p in recorded.rglob("*") if p.is_file())
    assert names == sorted(p.relative_to(replayed).as_posix() for p in replayed.rglob("*") if p.is_file())
    # 5 time steps: a VTU (a .pvtu and its piece), a CSV and a PNG extract each.
    assert len(names) == 20 and "clip_000004.pvtu" in names and "clip_000004/clip_000004_0.vtu" in names
    assert "contour_000002.csv" in names and "view_000000.png" in names
    for name in names:
        if name.endswith(".png"):
            assert image_difference(recorded / name, replayed / name) == (0, 0), name
        else:
            assert filecmp.cmp(recorded / name, replayed / name, shallow=False), name


# -- 2. a ViewSize hint applies only where the view exists ---------------------------------------------------

def test_view_size_hint_of_a_commented_out_view_stays_a_comment():
    code = replay.convert_trace((TRACES / "v5_6_commented_view.py").read_text()).code
    assert "\nrenderView1.ViewSize = [640, 480]  # replay: applied the recorded view size\n" in code
    assert "\n#spreadSheetView1 = CreateView('SpreadSheetView')\n" in code
    assert "\n# spreadSheetView1.ViewSize = [400, 400]\n" in code
    assert "\nspreadSheetView1.ViewSize" not in code


@pytest.mark.parametrize("before, applied", [
    ("", False),  # never assigned
    ("view2 = CreateView('SpreadSheetView')\n", True),
    ("view1, view2 = GetRenderViews()\n", True),
    ("if view2 == None: pass\n", False),  # a comparison assigns nothing
])
def test_view_size_hint_needs_the_variable_assigned_before_it(before, applied):
    trace = ("from paraview.simple import *\n" + before
             + "# uncomment following to set a specific view size\n# view2.ViewSize = [300, 200]\n"
             + "view3 = CreateView('RenderView')\n")
    code = replay.convert_trace(trace).code
    assert ("\nview2.ViewSize = [300, 200]  # replay: applied the recorded view size\n" in code) is applied
    assert ("\n# view2.ViewSize = [300, 200]\n" in code) is not applied


@pytest.mark.pvbatch
def test_commented_out_view_replays(tmp_path, fixture_data):
    script = tmp_path / "v5_6_commented_view_replay.py"
    proc = run_replay("convert", TRACES / "v5_6_commented_view.py", "-o", script, "-q")
    assert proc.returncode == 0, proc.stderr
    run_pvbatch(script, "--output-dir", tmp_path / "out")  # was: NameError: name 'spreadSheetView1' ...
    from PIL import Image

    assert Image.open(tmp_path / "out" / "v5_6_commented_view.png").size == (640, 480)


# -- 4. an unset optional file is not a file -----------------------------------------------------------------

def test_placeholder_side_file_of_a_4x_exodus_trace_is_not_a_parameter():
    result = replay.convert_trace((TRACES / "exodus_prefix.py").read_text(), source_name="exodus_prefix.py")
    params = params_by_name(result)
    assert "XMLFileName" not in params
    assert [p.name for p in result.parameters if p.kind == "file"] == ["FileName", "FilePrefix", "FilePattern"]
    assert "\ncan_ex2.XMLFileName = 'Invalid result'\n" in result.code


@pytest.mark.parametrize("lines, files", [
    # a side file set to a real file stays a parameter
    ("r = ExodusIIReader(FileName=['/d/a.ex2'])\nr.XMLFileName = '/d/a.xml'\n", ["FileName", "XMLFileName"]),
    # empty: nothing to give, for any file property
    ("r = ExodusIIReader(FileName=['/d/a.ex2'])\nr.XMLFileName = ''\n", ["FileName"]),
    ("r = CSVReader(FileName=[])\nr.FileName = ['/d/a.csv']\n", ["FileName"]),
    # the reader's own file is never a placeholder: a missing file must stop the replay
    ("r = ExodusIIReader(FileName=['Invalid result'])\n", ["FileName"]),
    # PLOT3D's solution file is optional in ParaView's definitions; a reader found by name: by property
    ("r = PLOT3DReader(FileName='/d/x.xyz', QFileName=['none'])\n", ["FileName"]),
    ("r = FindSource('a.ex2')\nr.XMLFileName = 'Invalid result'\nr.FileName = ['/d/a.ex2']\n", ["FileName"]),
])
def test_optional_file_properties_come_from_paraviews_reader_definitions(lines, files):
    result = replay.convert_trace("from paraview.simple import *\n" + lines)
    assert [p.property for p in result.parameters if p.kind == "file"] == files


@pytest.fixture(scope="module")
def exodus_4x(tmp_path_factory):
    """A 4.x Exodus trace (hand, 4.x format, as exodus_prefix.py) on an Exodus file pvbatch writes here."""
    root = tmp_path_factory.mktemp("exodus")
    data = root / "can.ex2"
    maker = root / "make.py"
    maker.write_text("import sys\nfrom paraview.simple import *\n"
                     "SaveData(sys.argv[1], proxy=Clip(Input=Wavelet(WholeExtent=[-4, 4, -4, 4, -4, 4])))\n")
    run_pvbatch(maker, data)
    trace = root / "exodus_4x.py"
    text = (
        "try: paraview.simple\nexcept: from paraview.simple import *\n"
        "paraview.simple._DisableFirstRenderCameraReset()\n\n"
        f"can_ex2 = ExodusIIReader( FileName=['{data}'] )\n\n"
        "can_ex2.XMLFileName = 'Invalid result'\n"
        f"can_ex2.FilePrefix = '{data}'\ncan_ex2.FilePattern = '%s'\n"
        "can_ex2.PointVariables = ['RTData']\n\n"
        "RenderView1 = GetRenderView()\nDataRepresentation1 = Show()\n"
        f"WriteImage('{root}/recorded/exodus.png')\n")
    trace.write_text(text)
    (root / "recorded").mkdir()
    # The replay runs a 4.x recording with ParaView's 4.0 compatibility and the background the old releases
    # drew (0.32, 0.34, 0.43; compatibility mode alone shows 0.329, 0.349, 0.427), so the recording is run so
    # too, to compare pixels exactly.
    reference = root / "exodus_4x_compat.py"
    reference.write_text("import paraview\nparaview.compatibility.major = 4\nparaview.compatibility.minor = 0\n" +
                         text.replace("RenderView1 = GetRenderView()",
                                      "RenderView1 = GetRenderView()\nRenderView1.Background = [0.32, 0.34, 0.43]", 1))
    run_pvbatch(reference)
    script = root / "exodus_4x_replay.py"
    proc = run_replay("convert", trace, "-o", script, "-q")
    assert proc.returncode == 0, proc.stderr
    replayed = run_pvbatch(script, "--output-dir", root / "replayed", check=False)
    return root, replayed


@pytest.mark.pvbatch
def test_4x_exodus_trace_replays_past_its_placeholder(exodus_4x):
    root, proc = exodus_4x
    # was: --XMLFileName: the recorded file 'Invalid result' is not here (exit 1, nothing rendered)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert image_difference(root / "recorded" / "exodus.png", root / "replayed" / "exodus.png") == (0, 0)


def test_placeholder_side_file_in_a_4x_state_is_left_to_the_state():
    state = """<ParaView>
  <ServerManagerState version="4.4.0">
    <Proxy group="sources" type="ExodusIIReader" id="27" servers="1">
      <Property name="FileName" id="27.FileName" number_of_elements="1">
        <Element index="0" value="/data/can.ex2"/>
        <Domain name="files" id="27.FileName.files"/>
      </Property>
      <Property name="XMLFileName" id="27.XMLFileName" number_of_elements="1">
        <Element index="0" value="Invalid result"/>
        <Domain name="files" id="27.XMLFileName.files"/>
      </Property>
    </Proxy>
    <ProxyCollection name="sources">
      <Item id="27" name="can.ex2"/>
    </ProxyCollection>
  </ServerManagerState>
</ParaView>
"""
    result = replay.convert_state(state, source_name="can.pvsm", script_name="can_replay.py")
    assert [p.property for p in result.parameters if p.kind == "file"] == ["FileName"]
    assert "'FileName': _replay_files('FileName', '/data/can.ex2')}" in result.code
    assert "XMLFileName" not in result.code.split("LoadState(", 1)[1]
