"""`replay macro install|uninstall` and the macro itself, run by real pvpython in a session built as the GUI
builds one (the view exists before the trace starts; Apply is traced as the GUI traces it)."""
from __future__ import annotations

import filecmp
import os
import shutil
import textwrap
from pathlib import Path

import pytest

from pv import assert_same_image, home_env, run_pvbatch, run_replay

pytestmark = pytest.mark.pvbatch

WAVE = "/tmp/replay-fixtures/data/wave.vti"

SESSION = textwrap.dedent('''
    import os, sys
    from paraview import smtrace
    from paraview.simple import *

    macro, out, shots, mode = sys.argv[1:5]
    view = GetActiveViewOrCreate("RenderView")  # the GUI has a view before Tools > Start Trace
    view.ViewSize = [300, 200]
    if mode == "trace":
        smtrace.start_trace()
    reader = XMLImageDataReader(registrationName="wave.vti", FileName=[%r])
    contour = Contour(registrationName="Contour1", Input=reader)
    # The Apply button, as the GUI traces it.
    item = smtrace._create_trace_item_internal("PropertiesModified", kwargs={"proxy": contour}) \
        if mode == "trace" else None
    contour.ContourBy = ["POINTS", "RTData"]
    contour.Isosurfaces = [130.0, 200.0]
    if item is not None:
        item.finalize()
    del item
    display = Show(contour, view)
    ColorBy(display, ("POINTS", "RTData"))
    view.ResetCamera(False)
    SaveScreenshot(os.path.join(shots, "contour.png"), view, ImageResolution=[300, 200])
    os.environ["REPLAY_MACRO_DIR"] = out
    # As ParaView runs a macro: the file's code, in the session.
    exec(compile(open(macro).read(), macro, "exec"), {"__name__": "__main__"})
    print("replay imported:", any(m == "replay" or m.startswith("replay.") for m in sys.modules))
''' % WAVE)


@pytest.fixture(scope="module")
def macro(tmp_path_factory):
    folder = tmp_path_factory.mktemp("macros")
    proc = run_replay("macro", "install", "--dir", folder)
    assert proc.returncode == 0, proc.stderr
    path = folder / "Save Replay Script.py"
    assert f"wrote {path}" in proc.stderr and "Macros > Save Replay Script" in proc.stderr
    return path


def _session(macro, tmp_path, mode):
    script = tmp_path / "session.py"
    script.write_text(SESSION)
    out, shots = tmp_path / "saved", tmp_path / "shots"
    shots.mkdir()
    proc = run_pvbatch(script, macro, out, shots, mode, exe="pvpython")
    assert "replay imported: False" in proc.stdout, proc.stdout
    wrote = [line.split("wrote ", 1)[1] for line in proc.stdout.splitlines()
             if line.startswith("Save Replay Script: wrote ")]
    assert len(wrote) == 1, proc.stdout + proc.stderr
    return Path(wrote[0]), out, shots


def _same_as_convert(recording: Path, script: Path, tmp_path: Path) -> None:
    """What the macro wrote is byte for byte what `replay convert` writes for the same recording."""
    again = tmp_path / "again"
    again.mkdir()
    shutil.copyfile(recording, again / recording.name)
    proc = run_replay("convert", again / recording.name)
    assert proc.returncode == 0, proc.stderr
    assert filecmp.cmp(script, again / script.name, shallow=False)


def test_the_macro_is_replay_free_python(macro):
    text = macro.read_text()
    compile(text, str(macro), "exec")
    assert "import replay" not in text and "from replay" not in text
    assert "REPLAY_COMMAND = [" in text and "'-m', 'replay']" in text


def test_macro_converts_the_trace_in_progress(macro, tmp_path, fixture_data):
    script, out, shots = _session(macro, tmp_path, "trace")
    (recording,) = out.glob("trace-*[0-9].py")
    assert script == out / (recording.stem + "_replay.py") and script.is_file()
    assert "Contour1" in recording.read_text() and "RTData" in recording.read_text()
    _same_as_convert(recording, script, tmp_path)
    replayed = tmp_path / "replayed"
    run_pvbatch(script, "--output-dir", replayed)
    assert_same_image(replayed / "contour.png", shots / "contour.png")


def test_macro_without_a_trace_converts_the_state(macro, tmp_path, fixture_data):
    script, out, shots = _session(macro, tmp_path, "state")
    (recording,) = out.glob("state-*.pvsm")
    assert script == out / (recording.stem + "_replay.py") and script.is_file()
    _same_as_convert(recording, script, tmp_path)
    replayed = tmp_path / "replayed"
    run_pvbatch(script, "--output-dir", replayed)
    (image,) = replayed.glob("*.png")
    from PIL import Image

    assert len(Image.open(image).convert("RGB").getcolors(1 << 20)) > 10  # the contour, not a blank view


def test_install_default_folder_and_uninstall(tmp_path):
    env_home = tmp_path / "home"
    env = home_env(env_home)
    import subprocess
    import sys

    def replay(*args):
        return subprocess.run([sys.executable, "-m", "replay", *args], capture_output=True, text=True, env=env)

    proc = replay("macro", "install")
    path = env_home / ".config" / "ParaView" / "Macros" / "Save Replay Script.py"
    assert proc.returncode == 0 and path.is_file(), proc.stderr
    assert replay("macro", "install").returncode == 0  # installing again updates it
    proc = replay("macro", "uninstall")
    assert proc.returncode == 0 and f"removed {path}" in proc.stderr and not path.exists()
    proc = replay("macro", "uninstall")
    assert proc.returncode == 0 and "nothing to remove" in proc.stderr
    # A file of the same name that replay did not write is left alone.
    path.write_text("print('mine')\n")
    for command in ("install", "uninstall"):
        proc = replay("macro", command)
        assert proc.returncode == 1 and proc.stderr.count("\n") == 1, proc.stderr
        assert path.read_text() == "print('mine')\n"


# The real GUI: `paraview --script` runs this in the GUI's own Python, with its main window, its view and its
# macros. The macro runs as ParaView 5.11 runs a macro (pqPythonManager::executeScript: the file's text in the
# GUI's interpreter, with __file__ set), from the folder the GUI lists its macros from (PV_MACRO_PATH).
# A --script that ends leaves the GUI open: os._exit ends it, also after an error (the timeout is the net).
GUI_SESSION = textwrap.dedent('''
    import os, sys, traceback
    try:
        from paraview import smtrace
        from paraview.simple import *

        shots = os.environ["SHOTS"]
        view = GetActiveViewOrCreate("RenderView")  # the GUI's own view, made before the trace starts
        smtrace.start_trace()
        reader = XMLImageDataReader(registrationName="wave.vti", FileName=[%r])
        contour = Contour(registrationName="Contour1", Input=reader)
        item = smtrace._create_trace_item_internal("PropertiesModified", kwargs={"proxy": contour})
        contour.ContourBy = ["POINTS", "RTData"]
        contour.Isosurfaces = [130.0, 200.0]
        item.finalize()
        del item
        display = Show(contour, view)
        ColorBy(display, ("POINTS", "RTData"))
        view.ResetCamera(False)
        Render()
        SaveScreenshot(os.path.join(shots, "contour.png"), view, ImageResolution=[300, 200])
        macro = os.path.join(os.environ["PV_MACRO_PATH"], "Save Replay Script.py")
        with open(macro, "rb") as handle:
            code = handle.read()
        exec(compile(code, macro, "exec"), {"__name__": "__console__", "__file__": macro})
        status = 0
    except BaseException:
        traceback.print_exc()
        status = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
''' % WAVE)


def test_macro_in_the_real_gui(macro, tmp_path, fixture_data):
    """`paraview --script` under Xvfb: trace, pipeline, screenshot, then the installed macro; the replay of what
    the macro saved draws the GUI's own screenshot."""
    import subprocess

    paraview = shutil.which("paraview")
    assert paraview, "the paraview GUI is missing: run .ci/setup (apt-get install paraview)"
    session, out, shots = tmp_path / "session.py", tmp_path / "saved", tmp_path / "shots"
    session.write_text(GUI_SESSION)
    shots.mkdir()
    env = dict(home_env(tmp_path / "home"), PV_MACRO_PATH=str(macro.parent), REPLAY_MACRO_DIR=str(out),
               SHOTS=str(shots))
    env.pop("DISPLAY", None)
    from replay.batch.runner import xvfb_run

    proc = subprocess.run(xvfb_run() + [paraview, f"--script={session}"], env=env, capture_output=True, text=True,
                          timeout=240)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    (recording,) = out.glob("trace-*[0-9].py")
    script = out / (recording.stem + "_replay.py")
    assert script.is_file(), proc.stdout + proc.stderr
    assert "Contour1" in recording.read_text() and "layout1.SetSize(" in recording.read_text()
    _same_as_convert(recording, script, tmp_path)
    replayed = tmp_path / "replayed"
    run_pvbatch(script, "--output-dir", replayed)
    assert_same_image(replayed / "contour.png", shots / "contour.png")
