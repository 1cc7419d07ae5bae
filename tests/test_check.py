"""`replay check` (lint RP000-RP006, --select/--ignore, noqa) and `replay sync` (the replay-convert hook)."""
import hashlib
import re
from pathlib import Path

import pytest
from pv import run_replay

HEAD = """# trace generated using paraview version 5.11.0
#### import the simple module from the paraview
from paraview.simple import *
#### disable automatic camera reset on 'Show'
paraview.simple._DisableFirstRenderCameraReset()

"""

CLEAN = HEAD + """# create a new 'XML Image Data Reader'
wavevti = XMLImageDataReader(registrationName='wave.vti', FileName=['/tmp/replay-fixtures/data/wave.vti'])
contour1 = Contour(registrationName='Contour1', Input=wavevti)
contour1.Isosurfaces = [157.0]
animationScene1 = GetAnimationScene()
animationScene1.AnimationTime = 2.0
renderView1 = GetActiveViewOrCreate('RenderView')
SaveScreenshot('/tmp/replay-fixtures/out/contour.png', renderView1, ImageResolution=[300, 200])
"""

# Every rule the recording itself can break, one per line, with the line each lands on.
DIRTY = HEAD + """Connect('localhost')
src = GetActiveSource()
wavevti = XMLImageDataReader(registrationName='wave.vti', FileName=['/tmp/replay-fixtures/data/wave.vti'])
contour1 = Contour(registrationName='Contour1', Input=wavevti)
Hide3DWidgets(proxy=contour1)
other = FindSource('Slice1')
t = 2.0 * 3
animationScene1 = GetAnimationScene()
animationScene1.AnimationTime = t
Disconnect()
"""
DIRTY_EXPECTED = [
    (7, "RP001"), (8, "RP003"), (9, "RP004"), (11, "RP002"), (12, "RP003"), (15, "RP006"), (16, "RP001"),
]

LINE = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+):(?P<col>\d+): (?P<code>RP\d{3}) (?P<message>.+)$")


def digest(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def parsed(stdout):
    rows = [LINE.match(line) for line in stdout.splitlines()]
    assert all(rows), stdout
    return [(Path(m["path"]).name, int(m["line"]), m["code"]) for m in rows]


@pytest.fixture
def folder(tmp_path):
    return tmp_path


def write(folder, name, text):
    path = folder / name
    path.write_text(text)
    return path


# -- the command, as a user runs it ------------------------------------------------------------

def test_dirty_trace_lists_every_problem_in_ruff_format_and_exits_1(folder):
    path = write(folder, "dirty.py", DIRTY)
    before = digest(path)
    proc = run_replay("check", path)
    assert proc.returncode == 1, proc.stderr
    assert [(line, code) for _, line, code in parsed(proc.stdout)] == DIRTY_EXPECTED
    assert "Traceback" not in proc.stderr and "Found 7 problems" in proc.stderr
    assert digest(path) == before
    assert not (folder / "dirty_replay.py").exists()  # check never writes


def test_clean_trace_with_fresh_replay_script_passes(folder):
    path = write(folder, "clean.py", CLEAN)
    assert run_replay("convert", path, "-q").returncode == 0
    proc = run_replay("check", path, folder / "clean_replay.py")
    assert (proc.returncode, proc.stdout) == (0, ""), proc.stderr


def test_without_replay_script_absolute_input_and_time_are_not_parameters(folder):
    path = write(folder, "clean.py", CLEAN)
    proc = run_replay("check", path)
    assert proc.returncode == 1
    assert parsed(proc.stdout) == [("clean.py", 8, "RP004"), ("clean.py", 12, "RP006")]
    assert "clean_replay.py" in proc.stdout


def test_edited_recording_makes_its_replay_script_stale(folder):
    path = write(folder, "clean.py", CLEAN)
    assert run_replay("convert", path, "-q").returncode == 0
    path.write_text(CLEAN.replace("157.0", "120.0"))
    script = folder / "clean_replay.py"
    for args in ((path,), (script,), (path, script)):  # from either side, reported once
        proc = run_replay("check", *args)
        assert proc.returncode == 1
        assert parsed(proc.stdout) == [("clean_replay.py", 1, "RP005")], proc.stdout
        assert "replay convert clean.py" in proc.stdout


def test_stale_check_regenerates_with_the_recorded_param_options(folder):
    path = write(folder, "clean.py", CLEAN)
    assert run_replay("convert", path, "--param", "Isosurfaces", "-q").returncode == 0
    assert run_replay("check", path).returncode == 0  # a plain convert would differ: options are honoured
    script = folder / "clean_replay.py"
    script.write_text(script.read_text().replace("157.0", "158.0"))  # a hand edit of a generated script
    proc = run_replay("check", path)
    assert proc.returncode == 1 and "--param Isosurfaces" in proc.stdout


def test_replay_script_whose_recording_is_gone(folder):
    path = write(folder, "clean.py", CLEAN)
    assert run_replay("convert", path, "-q").returncode == 0
    path.unlink()
    proc = run_replay("check", folder / "clean_replay.py")
    assert proc.returncode == 1
    assert parsed(proc.stdout) == [("clean_replay.py", 1, "RP005")] and "clean.py" in proc.stdout


@pytest.mark.parametrize("text, line, words", [
    ("from paraview.simple import *\nx = (\n", 2, "not valid Python"),
    (HEAD + "print 'hello'\n", 7, "Python 2"),
    ("import os\nprint(os.sep)\n", 1, "not a ParaView trace"),
])
def test_unparseable_or_not_a_recording_is_rp000(folder, text, line, words):
    path = write(folder, "bad.py", text)
    proc = run_replay("check", path)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert parsed(proc.stdout) == [("bad.py", line, "RP000")] and words in proc.stdout


def test_missing_file_is_rp000(folder):
    proc = run_replay("check", folder / "nope.py")
    assert proc.returncode == 1 and parsed(proc.stdout) == [("nope.py", 1, "RP000")]


def test_skip_other_ignores_files_that_are_not_recordings(folder):
    other = write(folder, "util.py", "import os\nprint(os.sep)\n")
    broken = write(folder, "broken.py", "def f(:\n")
    proc = run_replay("check", "--skip-other", other, broken)
    assert (proc.returncode, proc.stdout) == (0, "")


@pytest.mark.parametrize("args, expected", [
    (["--select", "RP001"], [7, 16]),
    (["--select", "RP001,RP002"], [7, 11, 16]),
    (["--select", "RP001", "--select", "RP002"], [7, 11, 16]),
    (["--ignore", "RP00"], []),
    (["--ignore", "rp003", "--ignore", "RP004,RP006"], [7, 11, 16]),
    (["--select", "RP", "--ignore", "RP001"], [8, 9, 11, 12, 15]),
    (["--select", "RP00", "--ignore", "RP0"], [8, 9, 11, 12, 15, 7, 16]),  # the longer prefix wins
])
def test_select_and_ignore_match_prefixes(folder, args, expected):
    path = write(folder, "dirty.py", DIRTY)
    proc = run_replay("check", path, *args)
    lines = [line for _, line, _ in parsed(proc.stdout)]
    assert sorted(lines) == sorted(expected)
    assert proc.returncode == (1 if expected else 0)


def test_unknown_selector_is_a_usage_error(folder):
    path = write(folder, "dirty.py", DIRTY)
    proc = run_replay("check", path, "--select", "XY1")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "XY1" in proc.stderr


def test_noqa_on_the_line_silences_those_codes_only(folder):
    text = (DIRTY.replace("Connect('localhost')", "Connect('localhost')  # replay: noqa RP001")
            .replace("Hide3DWidgets(proxy=contour1)", "Hide3DWidgets(proxy=contour1)  # replay: noqa")
            .replace("FindSource('Slice1')", "FindSource('Slice1')  # replay: noqa: RP001, RP002"))
    path = write(folder, "dirty.py", text)
    lines = [line for _, line, _ in parsed(run_replay("check", path).stdout)]
    assert lines == [8, 9, 12, 15, 16]


# -- the core rules, in-process ----------------------------------------------------------------

def test_lint_core_takes_text_and_gives_coded_diagnostics():
    from replay.lint.rules import lint

    found, stale = lint(DIRTY, "dirty.py", "dirty_replay.py", None)
    assert stale is None
    assert [(d.line, d.code) for d in found] == DIRTY_EXPECTED
    assert all(d.col >= 1 for d in found)


def test_literal_time_is_fine_when_the_replay_script_has_a_time_parameter():
    import replay
    from replay.lint.rules import lint

    script = replay.convert_trace(CLEAN, source_name="clean.py").code
    assert lint(CLEAN, "clean.py", "clean_replay.py", script) == ([], None)
    no_time = re.sub(r'\{[^{}]*"name": "time"[^{}]*\},?', "", script)
    assert no_time != script
    found, stale = lint(CLEAN, "clean.py", "clean_replay.py", no_time)
    assert [d.code for d in found] == ["RP006"] and stale.startswith("stale against its recording clean.py")


def test_relative_input_path_is_not_rp004():
    from replay.lint.rules import lint

    text = CLEAN.replace("/tmp/replay-fixtures/data/wave.vti", "data/wave.vti")
    assert [d.code for d in lint(text, "clean.py", "clean_replay.py", None)[0]] == ["RP006"]


def test_windows_absolute_path_is_rp004():
    from replay.lint.rules import lint

    text = CLEAN.replace("/tmp/replay-fixtures/data/wave.vti", "C:\\\\Users\\\\me\\\\wave.vti")
    assert "RP004" in [d.code for d in lint(text, "clean.py", "clean_replay.py", None)[0]]


def test_gui_only_comment_marked_call_is_rp002():
    from replay.lint.rules import lint

    text = CLEAN + "# only when running from the GUI\nSetActiveView(renderView1)\n"
    codes = [d.code for d in lint(text, "clean.py", "clean_replay.py", None)[0]]
    assert "RP002" in codes


def test_header_options_round_trip_quoted_params():
    from replay.lint.rules import header_options

    script = ("# replay: generated from my trace.py (ParaView 5.11.0 trace) by: "
              "replay convert 'my trace.py' --param Isosurfaces --param 'contour1.Iso surfaces'\n")
    options = header_options(script)
    assert options.source == "my trace.py"
    assert options.params == ["Isosurfaces", "contour1.Iso surfaces"]


# -- replay sync: what the replay-convert hook runs ----------------------------------------------

def test_sync_creates_then_refreshes_keeping_params_and_skips_other_files(folder):
    path = write(folder, "clean.py", CLEAN)
    other = write(folder, "util.py", "import os\nprint(os.sep)\n")
    broken = write(folder, "broken.py", "def f(:\n")
    hashes = {p: digest(p) for p in (path, other, broken)}
    first = run_replay("sync", path, other, broken)
    assert first.returncode == 1 and "wrote" in first.stderr and "clean_replay.py" in first.stderr
    script = folder / "clean_replay.py"
    assert sorted(p.name for p in folder.iterdir()) == ["broken.py", "clean.py", "clean_replay.py", "util.py"]
    second = run_replay("sync", path, other, broken, script)
    assert (second.returncode, second.stderr) == (0, "")
    assert {p: digest(p) for p in hashes} == hashes

    # the user chose --param Isosurfaces; an edit of the recording keeps that choice
    assert run_replay("convert", path, "--param", "Isosurfaces", "-q").returncode == 0
    path.write_text(CLEAN.replace("157.0", "120.0"))
    assert run_replay("sync", path).returncode == 1
    text = script.read_text()
    assert "by: replay convert clean.py --param Isosurfaces" in text.splitlines()[0]
    assert "_replay_value('Isosurfaces', [120.0])" in text
    assert "120.0" in text
    assert run_replay("sync", path).returncode == 0
    assert run_replay("check", path, script).returncode == 0


def test_sync_reports_a_broken_recording_in_one_line_and_writes_nothing(folder):
    path = write(folder, "bad.py", HEAD + "x = (\n")
    proc = run_replay("sync", path)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith(f"{path}:7:") and proc.stderr.count("\n") == 1
    assert not (folder / "bad_replay.py").exists()


@pytest.mark.parametrize("line, expected", [
    ("animationScene1.AnimationTime = 2.0  # recorded", []),
    ("animationScene1.AnimationTime = times[-1]", [(16, 33)]),
    ("wavevti.UpdatePipeline(time=t0 + 1)", [(16, 29)]),
    ("wavevti.UpdatePipeline(4.0)", []),
    ("tk = GetTimeKeeper()\ntk.Time = 1e-3", []),
    ("tk = GetTimeKeeper()\ntk.Time = float('3')", [(17, 11)]),
])
def test_computed_time_is_rp006_at_its_value(line, expected):
    from replay.lint.rules import lint

    text = CLEAN.replace("animationScene1.AnimationTime = 2.0\n", "") + "t0 = 1.0\ntimes = [1.0]\n" + line + "\n"
    found, _ = lint(text, "clean.py", "clean_replay.py", None)
    computed = [(d.line, d.col) for d in found if d.code == "RP006" and "computed" in d.message]
    assert computed == expected


def test_same_stem_recordings_cannot_share_a_replay_script(folder):
    import shutil

    from pv import STATES

    state = folder / "contour.pvsm"
    shutil.copy(STATES / "contour.pvsm", state)
    trace = write(folder, "contour.py", CLEAN)
    first = run_replay("sync", state, trace)
    assert first.returncode == 1
    assert first.stderr.splitlines()[0] == (f"{trace}:1:1: contour_replay.py is the replay script of contour.pvsm "
                                            "(same stem): rename one of the two recordings")
    script = folder / "contour_replay.py"
    before = digest(script)
    assert run_replay("sync", state, trace).stderr.count("wrote") == 0  # stable: no ping-pong between the two
    assert digest(script) == before and "from contour.pvsm" in script.read_text().splitlines()[0]
    proc = run_replay("check", "--select", "RP005", state, trace)
    assert parsed(proc.stdout) == [("contour.py", 1, "RP005")] and "same stem" in proc.stdout


def test_state_recording_is_checked_and_synced_like_a_trace(folder):
    import shutil

    from pv import STATES

    state = folder / "two_views.pvsm"
    shutil.copy(STATES / "two_views.pvsm", state)
    proc = run_replay("check", state)
    assert proc.returncode == 1 and {code for _, _, code in parsed(proc.stdout)} == {"RP004", "RP006"}
    assert run_replay("sync", state).returncode == 1
    assert run_replay("check", state, folder / "two_views_replay.py").returncode == 0
    state.write_text(state.read_text().replace("/tmp/replay-fixtures/data/wave.vti", "/elsewhere/wave.vti"))
    proc = run_replay("check", state)
    assert parsed(proc.stdout) == [("two_views_replay.py", 1, "RP005")]


@pytest.mark.parametrize("name, code, words", [
    ("clip_widgets.py", "RP002", ("Widgets(",)),
    ("no_reader.py", "RP003", ("GetActiveSource(", "FindSource(")),
    ("hand_edited.py", "RP001", ("Connect(", "Disconnect(")),
    ("v5_13_widgets.py", "RP002", ("3DWidgets(",)),
])
def test_recorded_fixture_flags_the_calls_on_their_lines(name, code, words):
    from pv import TRACES

    path = TRACES / name
    proc = run_replay("check", "--select", code, path)
    rows = parsed(proc.stdout)
    assert proc.returncode == 1 and rows
    lines = path.read_text().splitlines()
    for _, line, _ in rows:
        assert any(w in lines[line - 1] for w in words), lines[line - 1]
    texts = [line for line in lines if any(w in line for w in words) and not line.lstrip().startswith("#")]
    assert len(rows) == len(texts)


def test_many_files_in_worker_processes_give_the_same_report_as_one(folder):
    paths = []
    for i in range(18):
        kind = i % 3
        path = write(folder, f"t{i:02d}.py", DIRTY if kind == 0 else CLEAN.replace("157.0", f"{i}.0"))
        paths.append(path)
        if kind:
            assert run_replay("sync", path).returncode == 1
        if kind == 2:
            path.write_text(path.read_text().replace(f"{i}.0", "1.5"))  # now stale
    scripts = sorted(folder.glob("*_replay.py"))
    serial = run_replay("check", "-j", "1", *paths, *scripts)
    parallel = run_replay("check", "-j", "2", *scripts, *paths)
    assert serial.returncode == parallel.returncode == 1
    assert serial.stdout == parallel.stdout
    rows = parsed(serial.stdout)
    assert sum(code == "RP005" for _, _, code in rows) == 6  # once per stale script, though listed twice
    assert sum(code == "RP001" for _, _, code in rows) == 12


@pytest.mark.parametrize("comment, code, silenced", [
    ("# replay: noqa RP001 because the GUI needs it", "RP001", True),
    ("# replay: noqa RP001 because the GUI needs it", "RP002", False),
    ("# replay: noqa  (kept on purpose)", "RP004", True),
    ("# replay: noqa: RP001, RP002", "RP002", True),
    ("# replay: noqa:RP003", "RP001", False),
    ("# replay:noqa rp002", "RP002", True),
    ("# replay: noqa-ish", "RP001", False),
    ("# noqa", "RP001", False),
])
def test_noqa_comment_forms(comment, code, silenced):
    from replay.lint.rules import suppressed

    assert suppressed(["x = 1", f"Connect()  {comment}"], 2, code) is silenced
    assert suppressed(["x = 1", f"Connect()  {comment}"], 1, code) is False


def test_skip_other_skips_non_recordings_but_not_broken_recordings():
    from pv import TRACES

    proc = run_replay("check", "--skip-other", TRACES / "not_a_trace.py", TRACES / "python2.py")
    assert proc.returncode == 1
    lines = (TRACES / "python2.py").read_text().splitlines()
    first_print = next(i for i, line in enumerate(lines, 1) if re.match(r"\s*print\s+[^(\s]", line))
    assert parsed(proc.stdout) == [("python2.py", first_print, "RP000")] and "Python 2" in proc.stdout


def test_state_refresh_keeps_embed_and_params(folder):
    import shutil

    from pv import STATES

    state = folder / "clip.pvsm"
    shutil.copy(STATES / "clip.pvsm", state)
    assert run_replay("convert", state, "--embed", "--param", "Value", "-q").returncode == 0
    script = folder / "clip_replay.py"
    first_line = script.read_text().splitlines()[0]
    assert first_line.endswith("by: replay convert clip.pvsm --param Value --embed")
    assert run_replay("check", state).returncode == 0
    state.write_text(state.read_text() + "<!-- edited -->\n")
    proc = run_replay("check", state)
    assert "run `replay convert clip.pvsm --param Value --embed`" in proc.stdout
    assert run_replay("sync", state).returncode == 1
    assert script.read_text().splitlines()[0] == first_line and "<!-- edited -->" in script.read_text()
    assert run_replay("check", state).returncode == 0
