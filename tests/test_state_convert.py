"""The state converter without ParaView: reading safely, what find sees, the script it writes, errors.

The small states here keep the shape ParaView writes (cut down from a 5.11 SaveState, and the 4.x
<ParaView> root); real states saved by ParaView are exercised in test_state_replay.py.
"""
from __future__ import annotations

import ast
import json
import os
import re
import time

import pytest

import replay
from pv import run_replay
from replay.errors import NotARecording, ParseError, UnknownParameter, UnsafeInput

STATE = """<{root}>
  <ServerManagerState version="{version}">
    <Proxy group="animation" type="AnimationScene" id="8" servers="16">
      <Property name="AnimationTime" id="8.AnimationTime" number_of_elements="1">
        <Element index="0" value="{time}"/>
      </Property>
    </Proxy>
    <Proxy group="filters" type="Contour" id="50" servers="1">
      <Property name="ContourValues" id="50.ContourValues" number_of_elements="2">
        <Element index="0" value="157"/>
        <Element index="1" value="200.5"/>
        <Domain name="scalar_range" id="50.ContourValues.scalar_range"/>
      </Property>
      <Property name="Input" id="50.Input" number_of_elements="1">
        <Proxy value="27" output_port="0"/>
      </Property>
      <Property name="SelectInputScalars" id="50.SelectInputScalars" number_of_elements="5">
        <Element index="0" value="0"/>
        <Element index="1" value="0"/>
        <Element index="2" value="0"/>
        <Element index="3" value="0"/>
        <Element index="4" value="RTData"/>
      </Property>
    </Proxy>
    <Proxy group="sources" type="XMLImageDataReader" id="27" servers="1">
      <Property name="FileName" id="27.FileName" number_of_elements="1">
        <Element index="0" value="{path}"/>
        <Domain name="files" id="27.FileName.files"/>
      </Property>
      <Property name="FileNameInfo" id="27.FileNameInfo" number_of_elements="1">
        <Element index="0" value="{path}"/>
      </Property>
      <Property name="PointArrayStatus" id="27.PointArrayStatus" number_of_elements="2">
        <Element index="0" value="RTData"/>
        <Element index="1" value="1"/>
      </Property>
    </Proxy>
    <Proxy group="filters" type="Contour" id="51" servers="1">
      <Property name="ContourValues" id="51.ContourValues" number_of_elements="1">
        <Element index="0" value="3"/>
      </Property>
    </Proxy>
    <Proxy group="filters" type="MyPluginFilter" id="52" servers="1">
      <Property name="Level" id="52.Level" number_of_elements="1">
        <Element index="0" value="3"/>
      </Property>
      <Property name="LevelInfo" id="52.LevelInfo" number_of_elements="1">
        <Element index="0" value="3"/>
      </Property>
    </Proxy>
    <Proxy group="sources" type="CSVReader" id="30" servers="1">
      <Property name="FileName" id="30.FileName" number_of_elements="2">
        <Element index="0" value="/data/a_0.csv"/>
        <Element index="1" value="/data/a_1.csv"/>
        <Domain name="files" id="30.FileName.files"/>
      </Property>
    </Proxy>
    <Proxy group="misc" type="TimeKeeper" id="7" servers="16">
      <Property name="Time" id="7.Time" number_of_elements="1">
        <Element index="0" value="{time}"/>
      </Property>
    </Proxy>
    <Proxy group="views" type="RenderView" id="68" servers="21">
      <Property name="ViewSize" id="68.ViewSize" number_of_elements="2">
        <Element index="0" value="400"/>
        <Element index="1" value="300"/>
      </Property>
    </Proxy>
    <Proxy group="views" type="SpreadSheetView" id="69" servers="21">
      <Property name="ViewSize" id="69.ViewSize" number_of_elements="2">
        <Element index="0" value="400"/>
        <Element index="1" value="300"/>
      </Property>
    </Proxy>
    <ProxyCollection name="animation">
      <Item id="8" name="AnimationScene1"/>
    </ProxyCollection>
    <ProxyCollection name="sources">
      <Item id="50" name="Contour1"/>
      <Item id="51" name="Contour2"/>
      <Item id="52" name="Plugin1"/>
      <Item id="27" name="wave.vti"/>
      <Item id="30" name="a_*"/>
    </ProxyCollection>
    <ProxyCollection name="timekeeper">
      <Item id="7" name="TimeKeeper1"/>
    </ProxyCollection>
    <ProxyCollection name="views">
      <Item id="68" name="RenderView1"/>
      <Item id="69" name="SpreadSheetView1"/>
    </ProxyCollection>
  </ServerManagerState>
</{root}>
"""


def state(root="GenericParaViewApplication", version="5.11.0", time=2.5, path="/data/wave.vti") -> str:
    return STATE.format(root=root, version=version, time=time, path=path)


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


@pytest.mark.parametrize("root, version", [("GenericParaViewApplication", "5.11.0"), ("ParaView", "4.4.0"),
                                           ("GenericParaViewApplication", "6.0.1")])
def test_inventory_across_versions(root, version):
    text = state(root, version)
    params, inventory = replay.inspect(text, "s.pvsm")
    assert inventory.format == "state" and inventory.version == version
    by_name = {p.name: p for p in params}
    files = [p.to_json() for p in params if p.kind == "file"]
    assert files == [
        {"name": "wave.vti.FileName", "kind": "file", "proxy": "wave.vti", "property": "FileName",
         "default": "/data/wave.vti", "line": _line_of(text, 'name="FileName" id="27')},
        {"name": "a__.FileName", "kind": "file", "proxy": "a_*", "property": "FileName",
         "default": ["/data/a_0.csv", "/data/a_1.csv"], "line": _line_of(text, 'name="FileName" id="30')},
    ]
    assert by_name["time"].default == 2.5 and by_name["time"].line == _line_of(text, 'AnimationTime" id')
    # Properties go by their paraview.simple names, as in traces; shared names say whose they are.
    assert by_name["Contour1.Isosurfaces"].default == [157, 200.5]
    assert by_name["Contour2.Isosurfaces"].default == 3
    assert by_name["ContourBy"].default == [0, 0, 0, 0, "RTData"]
    assert by_name["PointArrays"].default == ["RTData", 1] and by_name["Level"].default == 3
    # No inputs, no server-reported information, and every view gets its size.
    assert not {"Input", "FileNameInfo", "LevelInfo", "ContourValues"} & set(by_name)
    assert inventory.extra["views"] == [{"id": "68", "name": "RenderView1", "type": "RenderView",
                                         "size": [400, 300], "line": _line_of(text, 'id="68"')}]


def test_script_body_loads_with_ids_names_and_files():
    result = replay.convert_state(state(), ["Contour1.ContourValues"], source_name="s.pvsm",
                                  script_name="s_replay.py")
    code = result.code
    ast.parse(code)
    assert code.startswith("# replay: generated from s.pvsm (ParaView 5.11.0 state) by: replay convert s.pvsm "
                           "--param Contour1.ContourValues\n")
    assert "_REPLAY_STATE = 's.pvsm'" in code
    assert ("{'id': 27, 'name': 'wave.vti', 'FileName': _replay_files('wave.vti.FileName', '/data/wave.vti')}"
            in code)
    assert ("{'id': 30, 'name': 'a_*', 'FileName': _replay_files('a__.FileName', "
            "['/data/a_0.csv', '/data/a_1.csv'])}" in code)
    # The XML name on the command line is the paraview.simple name; the script edits the XML one.
    assert "_replay_edit('50', 'ContourValues', 'Contour1.Isosurfaces', [157, 200.5])" in code
    assert "_replay_screenshot('RenderView1', FindView('RenderView1'), [400, 300])" in code
    assert "SpreadSheetView1" not in code.split("# ---- recorded")[1]
    assert [p.name for p in result.parameters] == ["wave.vti.FileName", "a__.FileName", "time",
                                                    "Contour1.Isosurfaces", "output-dir"]
    spec = json.loads(re.search(r"r'''(.*?)'''", code, re.S).group(1))
    assert spec["parameters"][3]["type"] == "auto" and spec["parameters"][3]["nargs"] == "+"


def test_unknown_param_names_close_matches():
    with pytest.raises(UnknownParameter, match="Contour1.Isosurfaces"):
        replay.convert_state(state(), ["Contour1.Isosurface"], source_name="s.pvsm")
    both = replay.convert_state(state(), ["Isosurfaces"], source_name="s.pvsm").parameters
    assert [p.name for p in both if p.kind == "property"] == ["Contour1.Isosurfaces", "Contour2.Isosurfaces"]


def test_embed_survives_quotes_backslashes_and_cr():
    tricky = state(path="C:\\data\\it's '''here''' \\\\n \"q\".vti".replace('"', "&quot;")).replace("\n", "\r\n")
    code = replay.convert_state(tricky, embed=True, source_name="s.pvsm", script_name="x.py").code
    tree = ast.parse(code)
    embedded = next(node.value.value for node in tree.body if isinstance(node, ast.Assign)
                    and getattr(node.targets[0], "id", "") == "_REPLAY_STATE")
    assert embedded == tricky


BOMB = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
"""


def test_entity_bomb_refused_at_once(tmp_path):
    text = BOMB + state(path="&lol9;")
    started = time.perf_counter()
    with pytest.raises(UnsafeInput) as caught:
        replay.inspect(text, "bomb.pvsm")
    assert time.perf_counter() - started < 1
    assert (caught.value.line, caught.value.col) == (3, 2)
    (tmp_path / "bomb.pvsm").write_text(text)
    proc = run_replay("convert", tmp_path / "bomb.pvsm", "-o", tmp_path / "out.py")
    assert proc.returncode == 1 and not (tmp_path / "out.py").exists()
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith(f"{tmp_path / 'bomb.pvsm'}:3:2: refusing")
    assert "lollol" not in proc.stderr


def test_external_entity_refused_and_file_never_read(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    text = f'<!DOCTYPE s [<!ENTITY x SYSTEM "file://{secret}">]>\n' + state(path="&x;")
    (tmp_path / "ext.pvsm").write_text(text)
    before = os.stat(secret).st_atime_ns
    for command in (["inspect", "--json"], ["convert", "-o", "-"]):
        proc = run_replay(command[0], *command[1:], tmp_path / "ext.pvsm")
        assert proc.returncode == 1, proc
        assert "TOP-SECRET" not in proc.stdout + proc.stderr
        assert re.fullmatch(r".*ext\.pvsm:1:\d+: refusing .*\n", proc.stderr)
    assert os.stat(secret).st_atime_ns == before
    # A DOCTYPE naming an external DTD is refused just the same.
    with pytest.raises(UnsafeInput):
        replay.inspect('<!DOCTYPE x SYSTEM "http://example.invalid/x.dtd">\n' + state(), "dtd.pvsm")


def test_undeclared_entity_reference_is_not_expanded():
    with pytest.raises(ParseError, match="not valid XML"):
        replay.inspect(state(path="&passwd;"), "s.pvsm")


@pytest.mark.parametrize("text, error, place", [
    (state()[:900], ParseError, None),
    ("<html><body>hello</body></html>\n", NotARecording, (1, 1)),
    ("<?xml version='1.0' encoding='UTF-8'?>\n<svg>\n</svg>\n", NotARecording, (2, 1)),
    ("<a>\n  <b>\n</a>\n", ParseError, (3, 5)),
])
def test_bad_xml_names_line_and_col(text, error, place):
    with pytest.raises(error) as caught:
        replay.inspect(text, "bad.pvsm")
    if place:
        assert (caught.value.line, caught.value.col) == place
    assert caught.value.line >= 1 and caught.value.col >= 1


def test_cli_truncated_state_one_line_exit_1(tmp_path):
    path = tmp_path / "cut.pvsm"
    path.write_text(state()[:900])
    proc = run_replay("convert", path)
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1
    assert re.fullmatch(rf"{re.escape(str(path))}:\d+:\d+: not valid XML: .*\n", proc.stderr)
    assert "Traceback" not in proc.stderr and not (tmp_path / "cut_replay.py").exists()


def test_cli_detects_state_by_content_and_points_script_at_it(tmp_path):
    (tmp_path / "in").mkdir()
    recording = tmp_path / "in" / "study.txt"
    recording.write_text(state())
    out = tmp_path / "scripts" / "study_replay.py"
    out.parent.mkdir()
    proc = run_replay("convert", recording, "-o", out, "--param", "Contour2.Isosurfaces")
    assert proc.returncode == 0, proc.stderr
    code = out.read_text()
    assert "_REPLAY_STATE = '../in/study.txt'" in code
    assert "--Contour2.Isosurfaces" in proc.stderr


def _script_helpers(args: dict) -> dict:
    """The runtime and the state helpers exactly as a script carries them, run in plain Python
    (they only import paraview inside the functions that render)."""
    from replay.script.emit import runtime_source
    from replay.state.emit import _HELPERS

    namespace: dict = {}
    exec(compile(runtime_source() + "\n" + _HELPERS, "<script>", "exec"), namespace)
    namespace["_REPLAY_ARGS"].update(args)
    return namespace


def test_param_values_written_into_the_state_as_paraview_stores_them(tmp_path):
    text = STATE.format(root="GenericParaViewApplication", version="5.11.0", time=0, path="/d/w.vti").replace(
        '<Element index="4" value="RTData"/>',
        '<Element index="4" value="RTData"/>\n        <Domain name="array_list" id="50.SelectInputScalars.array_list"/>')
    params, inventory = replay.inspect(text, "s.pvsm")
    by_name = {p.name: p for p in params}
    assert by_name["ContourBy"].default == ["POINTS", "RTData"]
    path = tmp_path / "s.pvsm"
    path.write_text(text)
    helpers = _script_helpers({"ContourBy": ["CELLS", "Pressure"], "Contour1.Isosurfaces": [1, 2.5, 3]})
    helpers["_replay_edit"]("50", "SelectInputScalars", "ContourBy", ["POINTS", "RTData"], {"array": ["0", "0", "0"]})
    helpers["_replay_edit"]("50", "ContourValues", "Contour1.Isosurfaces", [157, 200.5])
    helpers["_replay_edit"]("51", "ContourValues", "Contour2.Isosurfaces", 3)  # not given: left as recorded
    edited = helpers["_replay_edited"](str(path))
    edited_params = {p.name: p for p in replay.inspect(open(edited).read(), "e.pvsm")[0]}
    assert edited_params["ContourBy"].default == ["CELLS", "Pressure"]
    assert edited_params["Contour1.Isosurfaces"].default == [1, 2.5, 3]
    assert edited_params["Contour2.Isosurfaces"].default == 3
    assert path.read_text() == text  # the recording itself is never changed
    # Nothing given: the state is loaded as it is, not rewritten.
    untouched = _script_helpers({})
    untouched["_replay_edit"]("50", "ContourValues", "Contour1.Isosurfaces", [157, 200.5])
    assert untouched["_replay_edited"](str(path)) == str(path)


def test_enumeration_by_text():
    text = state().replace(
        '<Property name="ContourValues" id="51.ContourValues" number_of_elements="1">\n        '
        '<Element index="0" value="3"/>',
        '<Property name="OutputPointsPrecision" id="51.OutputPointsPrecision" number_of_elements="1">\n        '
        '<Element index="0" value="2"/>\n        <Domain name="enum" id="51.OutputPointsPrecision.enum">\n'
        '          <Entry value="0" text="Single"/>\n          <Entry value="2" text="Same as input"/>\n'
        '        </Domain>')
    by_name = {p.name: p for p in replay.inspect(text, "s.pvsm")[0]}
    assert by_name["OutputPointsPrecision"].default == "Same as input"
    helpers = _script_helpers({"OutputPointsPrecision": "Single"})
    encode = {"enum": {"Single": 0, "Same as input": 2}}
    helpers["_replay_edit"]("51", "OutputPointsPrecision", "OutputPointsPrecision", "Same as input", encode)
    assert helpers["_REPLAY_EDITS"] == {("51", "OutputPointsPrecision"): [0]}
    wrong = _script_helpers({"OutputPointsPrecision": "Triple"})
    with pytest.raises(SystemExit, match="'Triple' is not one of 'Single', 'Same as input'"):
        wrong["_replay_edit"]("51", "OutputPointsPrecision", "OutputPointsPrecision", "Same as input", encode)
