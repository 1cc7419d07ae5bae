"""Replay scripts of ParaView 5.11 traces, run by real pvbatch, write what the by-hand edit of the same
trace writes: with the defaults (the recording itself), and with new file names, times and properties.

Every script and reference runs once, in the module fixture; the tests compare what they wrote.
"""
from __future__ import annotations

import io
import tokenize
from pathlib import Path

import pytest
from pv import TRACES, assert_different_image, assert_same_image, run_pvbatch, run_replay

pytestmark = pytest.mark.pvbatch

RECORDED_OUT = "/tmp/replay-fixtures/out"
DATA = "/tmp/replay-fixtures/data"
IGNORED = (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT)
SERIES = [f"{DATA}/series/wave_{i:04d}.vti" for i in range(5)]


def by_hand(recording: str, edits=(), compat: tuple[int, int] | None = None) -> str:
    """What a user does today: copy the trace and change the literals in an editor."""
    text = (TRACES / recording).read_text()
    for old, new in edits:
        assert old in text, f"{recording} no longer contains {old!r}: the by-hand edit is stale"
        text = text.replace(old, new)
    if compat:
        text = "import paraview; paraview.compatibility.major = %d; paraview.compatibility.minor = %d\n" % compat + text
    return text


def time_edit(recorded: str, wanted: str):
    return [(f"animationScene1.AnimationTime = {recorded}", f"animationScene1.AnimationTime = {wanted}"),
            (f"timeKeeper1.Time = {recorded}", f"timeKeeper1.Time = {wanted}")]


def goto_edit(time: str):
    """GoToFirst/Next/Last replaced by the one time the user wants."""
    set_time = f"animationScene1.AnimationTime = {time}; GetTimeKeeper().Time = {time}"
    return [(f"animationScene1.{step}()", set_time) for step in ("GoToFirst", "GoToNext", "GoToLast")]


# name -> (recording, --param names, script arguments, by-hand edits, run with)
REPLAYS = {
    "contour": ("contour.py", ["Isosurfaces"], [], [], {}),
    "contour_iso": ("contour.py", ["Isosurfaces"], ["--Isosurfaces", "150"],
                    [("contour1.Isosurfaces = [157.0909652709961]", "contour1.Isosurfaces = [150.0]"),
                     ("contour1.Isosurfaces = [130.0, 200.0]", "contour1.Isosurfaces = [150.0]")], {}),
    "contour_big": ("contour.py", ["Isosurfaces"], ["--FileName", f"{DATA}/wave_big.vti", "--Isosurfaces", "100", "220"],
                    [(f"{DATA}/wave.vti", f"{DATA}/wave_big.vti"),
                     ("contour1.Isosurfaces = [157.0909652709961]", "contour1.Isosurfaces = [100.0, 220.0]"),
                     ("contour1.Isosurfaces = [130.0, 200.0]", "contour1.Isosurfaces = [100.0, 220.0]")], {}),
    "contour_mpi": ("contour.py", ["Isosurfaces"], ["--Isosurfaces", "150"],
                    [("contour1.Isosurfaces = [130.0, 200.0]", "contour1.Isosurfaces = [150.0]")], {"mpi": 2}),
    "contour_pvpython": ("contour.py", [], [], [], {"pvpython": True}),
    "series": ("series_time.py", [], [], [], {}),
    # A quoted glob for the 5 recorded names, and another time.
    "series_t3": ("series_time.py", [], ["--FileName", f"{DATA}/series/wave_*.vti", "--time", "3"],
                  time_edit("2.0", "3.0"), {}),
    "series_three": ("series_time.py", [], ["--FileName", *SERIES[:3], "--time", "1"],
                     [(", ".join(repr(f) for f in SERIES), ", ".join(repr(f) for f in SERIES[:3]))]
                     + time_edit("2.0", "1.0"), {}),
    "goto": ("goto_last.py", [], [], [], {}),
    "goto_t1": ("goto_last.py", [], ["--time", "1"], goto_edit("1.0"), {}),
    "two_csv": ("two_csv.py", [], [], [], {}),
    "two_csv_swapped": ("two_csv.py", [], ["--pointscsv.FileName", f"{DATA}/points2.csv"],
                [(f"FileName=['{DATA}/points.csv']", f"FileName=['{DATA}/points2.csv']")], {}),
    "layout": ("layout_two_views.py", [], [], [], {}),
    "animation": ("save_animation.py", [], [], [], {}),
    # A 5.10 trace edited by hand (loops, helpers, its own sys.argv, Connect/Disconnect): the user's fix is
    # to drop Connect. Its own --restart still reaches it, and Disconnect/Connect no longer break the run.
    "hand_edited": ("hand_edited.py", [], ["--restart"], [("Connect('localhost')\n\n####", "####")], {"compat": (5, 10)}),
    # Recorded on Windows: the file name must be given; outputs go to --output-dir.
    "windows": ("windows_crlf.py", [], ["--FileName", f"{DATA}/wave.vti"],
                [("C:\\\\Users\\\\ana\\\\data\\\\wave.vti", f"{DATA}/wave.vti"),
                 ("C:/Users/ana/out", RECORDED_OUT)], {}),
}


@pytest.fixture(scope="module")
def runs(fixture_data, tmp_path_factory):
    """name -> (replay output folder, by-hand output folder, script text, convert's stderr)."""
    root = tmp_path_factory.mktemp("replays")
    results = {}
    for name, (recording, params, arguments, edits, how) in REPLAYS.items():
        script = root / f"{name}_replay.py"
        converted = run_replay("convert", TRACES / recording, "-o", script,
                               *[word for p in params for word in ("--param", p)])
        assert converted.returncode == 0, converted.stderr
        replayed, hand_out = root / name / "replay", root / name / "by_hand"
        hand_out.mkdir(parents=True)
        hand = root / f"{name}_by_hand.py"
        hand.write_bytes(by_hand(recording, edits, how.get("compat")).replace(RECORDED_OUT, str(hand_out))
                         .encode())
        exe = "pvpython" if how.get("pvpython") else "pvbatch"
        run_pvbatch(script, *arguments, "--output-dir", replayed, mpi=how.get("mpi"), exe=exe)
        run_pvbatch(hand, mpi=how.get("mpi"), exe=exe)
        results[name] = (replayed, hand_out, script.read_text(), converted.stderr)
    return results


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize("name", sorted(REPLAYS))
def test_replay_writes_what_the_by_hand_edit_writes(runs, name):
    replayed, reference, _, _ = runs[name]
    assert names(replayed) == names(reference) != []
    for image in reference.glob("*.png"):
        assert_same_image(replayed / image.name, image)
    for data in reference.glob("*.csv"):
        assert (replayed / data.name).read_text() == data.read_text()


@pytest.mark.parametrize("name, default, image", [
    ("contour_iso", "contour", "contour.png"), ("contour_big", "contour", "contour.png"),
    ("series_t3", "series", "series_t2.png"), ("series_three", "series", "series_t2.png"),
    ("two_csv_swapped", "two_csv", "two_csv.png"), ("goto_t1", "goto", "goto_last.png"),
])
def test_parameters_change_the_picture(runs, name, default, image):
    """Guards the comparisons above: a parameter that changed nothing would also 'match'."""
    assert_different_image(runs[name][0] / image, runs[default][0] / image)


def test_goto_with_time_gives_that_time_for_every_step(runs):
    replayed, _, _, _ = runs["goto_t1"]
    assert_same_image(replayed / "goto_next.png", replayed / "goto_last.png")
    default, _, _, _ = runs["goto"]
    assert_same_image(replayed / "goto_next.png", default / "goto_next.png")
    assert_different_image(default / "goto_next.png", default / "goto_last.png")


def called_names(code: str) -> set[str]:
    tokens = [t for t in tokenize.generate_tokens(io.StringIO(code).readline) if t.type not in IGNORED]
    return {a.string for a, b in zip(tokens, tokens[1:]) if a.type == tokenize.NAME and b.string == "("}


def test_scripts_never_connect(runs):
    assert {"Connect", "Disconnect"} <= called_names((TRACES / "hand_edited.py").read_text())
    for name, (_, _, script, _) in runs.items():
        assert not {"Connect", "Disconnect", "ResetSession"} & called_names(script), name


def test_hand_edited_removals_are_reported(runs):
    _, _, _, stderr = runs["hand_edited"]
    assert "hand_edited.py:15:1: removed Connect()" in stderr
    assert "hand_edited.py:27:5: removed Disconnect()" in stderr


def test_help_and_bad_values_stop_cleanly_under_mpi(runs, tmp_path):
    """Without releasing the other ranks first, `mpiexec -n 2 pvbatch s.py --help` waits forever."""
    script = tmp_path / "contour_replay.py"
    script.write_text(runs["contour_mpi"][2])
    shown = run_pvbatch(script, "--help", mpi=2, timeout=60)
    assert shown.stdout.startswith("usage: contour_replay.py") and shown.stdout.count("usage:") == 1
    bad = run_pvbatch(script, "--Isosurfaces", "abc", mpi=2, timeout=60, check=False)
    assert bad.returncode == 2
    assert "contour_replay.py: error: argument --Isosurfaces: invalid float value: 'abc'" in bad.stderr
    missing = run_pvbatch(script, "--FileName", str(tmp_path / "none_*.vtu"), mpi=2, timeout=60, check=False)
    assert missing.returncode == 1 and "--FileName: no file matches" in missing.stderr
    # An error in the recording itself (a broken hand edit) ends the run with pvbatch's traceback.
    broken = tmp_path / "broken_replay.py"
    broken.write_text(runs["contour_mpi"][2].replace("# save screenshot", "raise RuntimeError('a broken edit')"))
    failed = run_pvbatch(broken, mpi=2, timeout=60, check=False)
    assert failed.returncode == 1 and "RuntimeError: a broken edit" in failed.stderr
