"""The helpers every generated script carries, tested on their own (they run in pvbatch's Python)."""
import os

import pytest

from replay.script import runtime as rt

SPEC = {"source": "t.py", "parameters": [
    {"name": "FileName", "kind": "file", "proxy": "r", "property": "FileName", "default": ["/d/a.vti"], "line": 3,
     "type": "str", "nargs": "+"},
    {"name": "time", "kind": "time", "proxy": None, "property": None, "default": 2.0, "line": 9, "type": "float",
     "nargs": None},
    {"name": "Isosurfaces", "kind": "property", "proxy": "c", "property": "Isosurfaces", "default": [1.0],
     "line": 5, "type": "float", "nargs": "+"},
    {"name": "c.Visible", "kind": "property", "proxy": "c", "property": "Visible", "default": True, "line": 6,
     "type": "bool", "nargs": None},
    {"name": "Count", "kind": "property", "proxy": "c", "property": "Count", "default": 3, "line": 7,
     "type": "int", "nargs": None},
    {"name": "ContourBy", "kind": "property", "proxy": "c", "property": "ContourBy", "default": ["POINTS", 1],
     "line": 8, "type": "auto", "nargs": "+"},
    {"name": "output-dir", "kind": "output", "proxy": None, "property": None, "default": None, "line": 12,
     "type": "str", "nargs": None},
]}


@pytest.fixture(autouse=True)
def fresh_args():
    rt._REPLAY_ARGS.clear()
    yield
    rt._REPLAY_ARGS.clear()


def parse(*argv):
    rt._REPLAY_ARGS.update(rt._replay_parse_args(SPEC, list(argv)))


def test_defaults_are_the_recorded_values(tmp_path):
    parse()
    recorded = tmp_path / "a.vti"
    recorded.write_text("x")
    assert rt._replay_files("FileName", [str(recorded)]) == [str(recorded)]
    assert rt._replay_value("Isosurfaces", [1.0]) == [1.0]
    assert rt._replay_time(2.0) == 2.0
    assert rt._replay_value("Count", 3) == 3


def test_values_keep_their_types():
    parse("--Isosurfaces", "100", "220", "--c.Visible", "off", "--Count", "7", "--time", "4",
          "--ContourBy", "CELLS", "2.5")
    assert rt._replay_value("Isosurfaces", [1.0]) == [100.0, 220.0]
    assert rt._replay_value("c.Visible", True) is False
    assert rt._replay_value("Count", 3) == 7
    assert rt._replay_time(2.0) == 4.0
    assert rt._replay_value("ContourBy", ["POINTS", 1]) == ["CELLS", 2.5]


def test_wrong_type_is_one_line_error(capsys):
    with pytest.raises(SystemExit) as info:
        parse("--Count", "1.5")
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "argument --Count: invalid int value: '1.5'" in err


def test_unknown_words_are_errors_unless_the_recording_reads_its_own_arguments(capsys, monkeypatch):
    with pytest.raises(SystemExit) as info:
        parse("--restart", "--Count", "4")
    assert info.value.code == 2 and "unrecognized arguments: --restart" in capsys.readouterr().err
    monkeypatch.setattr(rt._replay_sys, "argv", ["s.py", "--restart", "--Count", "4", "-v"])
    args = rt._replay_parse_args(dict(SPEC, own_arguments=True), ["--restart", "--Count", "4", "-v"])
    assert args["Count"] == 4
    assert rt._replay_sys.argv == ["s.py", "--restart", "-v"]


def test_help_lists_defaults_and_lines(capsys):
    with pytest.raises(SystemExit):
        parse("--help")
    out = " ".join(capsys.readouterr().out.split())
    assert "--Isosurfaces VALUE [VALUE ...]" in out
    assert "value of c.Isosurfaces (default: [1.0]; from t.py line 5)" in out
    assert "(default: 2.0 as recorded; from t.py line 9)" in out


def test_glob_expands_naturally_sorted(tmp_path):
    for i in (10, 2, 1):
        (tmp_path / f"out_{i}.vtu").write_text("x")
    parse("--FileName", str(tmp_path / "out_*.vtu"))
    assert rt._replay_files("FileName", ["/d/a.vti"]) == [str(tmp_path / f"out_{i}.vtu") for i in (1, 2, 10)]
    assert rt._replay_files("FileName", "/d/a.vti") == [str(tmp_path / f"out_{i}.vtu") for i in (1, 2, 10)]


def test_single_file_keeps_the_recorded_shape(tmp_path):
    given = tmp_path / "run42.vti"
    given.write_text("x")
    parse("--FileName", str(given))
    assert rt._replay_files("FileName", "/d/a.vti") == str(given)
    assert rt._replay_files("FileName", ["/d/a.vti"]) == [str(given)]


def test_missing_input_stops_before_pvbatch_renders_an_empty_picture(tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        parse()
        rt._replay_files("FileName", ["/d/a.vti", "/d/b.vti"])
    assert info.value.code == 1
    assert capsys.readouterr().err == ("--FileName: the recorded file '/d/a.vti' is not here (and 1 more); "
                                       "give the file(s) to read: --FileName PATH...\n")
    rt._REPLAY_ARGS.clear()
    parse("--FileName", str(tmp_path / "x.vti"))
    with pytest.raises(SystemExit) as info:
        rt._replay_files("FileName", ["/d/a.vti"])
    assert capsys.readouterr().err == f"--FileName: no such file: {str(tmp_path / 'x.vti')!r}\n"
    # A folder is a name some readers take; an Exodus prefix or a %-pattern names a family of files.
    rt._REPLAY_ARGS.clear()
    parse()
    assert rt._replay_files("FileName", str(tmp_path)) == str(tmp_path)
    assert rt._replay_files("data.FilePrefix", "/d/can.e") == "/d/can.e"
    assert rt._replay_files("FileName", "/d/can.e.%d") == "/d/can.e.%d"


def test_glob_matching_nothing_stops_with_a_message(tmp_path, capsys):
    parse("--FileName", str(tmp_path / "none_*.vtu"))
    with pytest.raises(SystemExit) as info:
        rt._replay_files("FileName", ["/d/a.vti"])
    assert info.value.code == 1
    assert capsys.readouterr().err == f"--FileName: no file matches {str(tmp_path / 'none_*.vtu')!r}\n"


@pytest.mark.parametrize("recorded", ["../../x.png", "/etc/x.png", "C:\\Users\\ana\\x.png", "C:/Users/ana/x.png",
                                      "..\\..\\x.png"])
def test_output_dir_keeps_outputs_inside(tmp_path, recorded):
    parse("--output-dir", str(tmp_path / "out"))
    assert rt._replay_out(recorded) == os.path.join(str(tmp_path / "out"), "x.png")
    assert (tmp_path / "out").is_dir()


def test_output_without_dir(tmp_path):
    parse()
    assert rt._replay_out(str(tmp_path / "x.png")) == str(tmp_path / "x.png")  # the folder exists here
    assert rt._replay_out("/no/such/folder/x.png") == "x.png"  # recorded elsewhere: working directory
    assert rt._replay_out("C:\\Users\\ana\\x.png") == "x.png"


# -- outputs a writing call did not leave ------------------------------------------------------------------------

PNG_END = b"IEND\xaeB`\x82"


def written_check(capsys, name, args, kwargs=None, result=True, said=()):
    """The one line _replay_check_written stops with, or None when it lets the output pass."""
    try:
        rt._replay_check_written(name, args, kwargs or {}, result, 0.0, list(said))
    except SystemExit as stop:
        assert stop.code == 1
        line = capsys.readouterr().err
        assert line.count("\n") == 1
        return line.rstrip("\n")
    return None


def test_a_whole_output_passes_and_a_broken_one_is_one_line(tmp_path, capsys):
    good = tmp_path / "a.png"
    good.write_bytes(b"\x89PNG...." + PNG_END)
    assert written_check(capsys, "SaveScreenshot", (str(good),)) is None
    cut = tmp_path / "cut.png"
    cut.write_bytes(b"\x89PNG" + b"\0" * 4092)  # what 5.13's PNG writer leaves on a full disk
    assert written_check(capsys, "SaveScreenshot", (str(cut),)) == \
        f"replay: SaveScreenshot failed to write {cut} (it is cut short (4096 bytes))"
    empty = tmp_path / "t.csv"
    empty.write_text("")
    assert written_check(capsys, "SaveData", (), {"filename": str(empty)}, result=None) == \
        f"replay: SaveData failed to write {empty} (it is empty)"
    missing = tmp_path / "m.png"
    said = ["vtkPNGWriter: Ran out of disk space; deleting file(s) already written"] * 2
    assert written_check(capsys, "SaveScreenshot", (str(missing),), said=said) == \
        f"replay: SaveScreenshot failed to write {missing} (nothing was written): {said[0]}"
    # ParaView saying it failed is enough, even when a file is there.
    assert written_check(capsys, "SaveScreenshot", (str(good),), result=False) == \
        f"replay: SaveScreenshot failed to write {good} (ParaView says it failed)"


def test_every_frame_of_an_animation_and_every_time_step(tmp_path, capsys):
    for i in (0, 1):
        (tmp_path / f"anim.{i:04d}.png").write_bytes(PNG_END)
    target = str(tmp_path / "anim.png")
    assert written_check(capsys, "SaveAnimation", (target,), {"FrameWindow": [0, 1]}) is None
    assert written_check(capsys, "SaveAnimation", (target,), {"FrameWindow": [0, 2]}) == \
        f"replay: SaveAnimation failed to write {target} (1 of 3 frames are missing)"
    assert written_check(capsys, "SaveAnimation", (target,), {"FrameWindow": [0, 2], "FrameStride": 2}) is None
    (tmp_path / "series_0.csv").write_text("a\n")
    (tmp_path / "series_1.csv").write_text("")
    assert written_check(capsys, "SaveData", (str(tmp_path / "series.csv"),), {"WriteTimeSteps": 1}) == \
        f"replay: SaveData failed to write {tmp_path / 'series.csv'} (series_1.csv: it is empty)"
