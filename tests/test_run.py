"""replay run: real pvbatch, parameters passed through, pvbatch's exit status and error line, headless, MPI."""
from __future__ import annotations

import os
import textwrap

import pytest

from pv import TRACES, assert_different_image, assert_same_image, loses_display_once, run_pvbatch, run_replay

pytestmark = pytest.mark.pvbatch


@pytest.fixture(scope="module")
def contour_script(tmp_path_factory, fixture_data):
    folder = tmp_path_factory.mktemp("run")
    script = folder / "contour_replay.py"
    proc = run_replay("convert", TRACES / "contour.py", "-o", script, "--param", "Isosurfaces")
    assert proc.returncode == 0, proc.stderr
    return script


@pytest.fixture(scope="module")
def exits_script(tmp_path_factory):
    """Fails the way a user's script does: an exception, or sys.exit(N) after an error message."""
    script = tmp_path_factory.mktemp("exits") / "exits.py"
    script.write_text(textwrap.dedent("""\
        import sys
        from paraview.simple import Sphere
        Sphere()
        print("script stdout", sys.argv[1:])
        if sys.argv[1] == "raise":
            raise ValueError("the value %s is wrong" % sys.argv[2])
        sys.stderr.write("about to stop\\n")
        sys.exit(int(sys.argv[2]))
    """))
    return script


def test_run_passes_parameters_through_and_matches_pvbatch(contour_script, tmp_path):
    by_replay, by_hand, library = tmp_path / "replay", tmp_path / "pvbatch", tmp_path / "library"
    proc = run_replay("run", contour_script, "--Isosurfaces", "120", "--output-dir", by_replay, timeout=180)
    assert proc.returncode == 0, proc.stderr
    assert "INFO|" not in proc.stderr
    run_pvbatch(contour_script, "--Isosurfaces", "120", "--output-dir", by_hand)
    assert_same_image(by_replay / "contour.png", by_hand / "contour.png")

    import replay

    result = replay.run(contour_script, {"Isosurfaces": 200, "output-dir": library})
    assert result.ok and result.returncode == 0 and result.error is None
    assert result.outputs == ["contour.png"]
    assert result.seconds > 0
    assert result.command[-5:] == [str(contour_script), "--Isosurfaces", "200", "--output-dir", str(library)]
    assert_different_image(library / "contour.png", by_replay / "contour.png")


def test_failing_script_gives_pvbatch_status_and_error_line(exits_script, tmp_path):
    proc = run_replay("run", exits_script, "raise", "42")
    assert proc.returncode == 1
    assert "script stdout ['raise', '42']" in proc.stdout
    last = proc.stderr.strip().splitlines()[-1]
    assert last == f"{exits_script}: pvbatch exited with 1: ValueError: the value 42 is wrong"

    proc = run_replay("run", exits_script, "exit", "3")
    assert proc.returncode == 3
    assert proc.stderr.strip().splitlines()[-1] == f"{exits_script}: pvbatch exited with 3: about to stop"


def test_pvbatch_not_found(exits_script, tmp_path):
    proc = run_replay("run", exits_script, "--pvbatch", "/nonexistent/pvbatch", "exit", "0")
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "pvbatch not found: --pvbatch '/nonexistent/pvbatch'" in lines[0]
    assert "apt-get install paraview python3-paraview" in lines[0] and "paraview.org" in lines[0]

    env = dict(os.environ, PVBATCH=str(tmp_path / "nowhere"))
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "replay", "run", str(exits_script), "exit", "0"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and "$PVBATCH" in proc.stderr and "nowhere" in proc.stderr

    env = dict(os.environ, PATH=str(tmp_path))
    env.pop("PVBATCH", None)
    proc = subprocess.run([sys.executable, "-m", "replay", "run", str(exits_script)], env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1 and "pvbatch not found on PATH" in proc.stderr


def test_mpi_runs_the_script_on_n_ranks(tmp_path):
    script = tmp_path / "ranks.py"
    script.write_text(textwrap.dedent("""\
        from paraview.simple import Sphere, servermanager
        Sphere().UpdatePipeline()  # a pvbatch script that never touches a proxy hangs at exit under MPI
        pm = servermanager.vtkProcessModule.GetProcessModule()
        print("rank %d of %d" % (pm.GetPartitionId(), pm.GetNumberOfLocalPartitions()))
    """))
    proc = run_replay("run", script, "--mpi", "2", timeout=180)
    assert proc.returncode == 0, proc.stderr
    assert "rank 0 of 2" in proc.stdout


# 150 X clients one after another, each with one more started beside it: they come and go as pvbatch's own
# connections do (an OpenGL probe, then the view's window; under MPI on every rank). Prints how many failed.
COME_AND_GO = """\
: > "$1"
for i in $(seq 150); do
  xdpyinfo >/dev/null 2>&1 || echo failed >> "$1"
  (xdpyinfo >/dev/null 2>&1 || echo failed >> "$1") &
done
wait
wc -l < "$1"
"""


def test_every_client_gets_the_virtual_display_while_others_come_and_go(tmp_path):
    """Xvfb resets by default when its last client leaves, and refuses whoever connects meanwhile: in CI a rank
    of `--mpi 2` died of it ("bad X server connection" on a server that was up), and xdpyinfo here fails 3-18
    times in this loop on such a server. The server replay starts (-noreset) refuses none."""
    import subprocess

    from replay.batch.runner import xvfb_run

    script = tmp_path / "come_and_go.sh"
    script.write_text(COME_AND_GO)
    proc = subprocess.run([*xvfb_run(), "sh", str(script), str(tmp_path / "failed")], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["0"], f"clients refused the display: {proc.stdout}"


def test_a_lost_display_is_retried_on_another(tmp_path):
    """The X server is gone when VTK opens its window ("bad X server connection", then abort): not the script's
    fault, so `replay run` and the sweep worker start again on another display after a pause, and the run works."""
    from replay.batch.runner import run
    from replay.batch.worker import Worker

    script = loses_display_once(tmp_path / "run")
    result = run(script, {"output-dir": str(tmp_path / "run-out")}, timeout=120)
    assert (tmp_path / "run" / "lost-once").exists()  # its first attempt did lose the display
    assert result.ok, result.error
    assert result.outputs == ["sphere.png"]

    script = loses_display_once(tmp_path / "worker")
    worker = Worker()
    try:
        first = worker.run(script, ["--output-dir", str(tmp_path / "worker-out")], session="s", timeout=120)
        second = worker.run(script, ["--output-dir", str(tmp_path / "worker-out2")], session="s", timeout=120)
    finally:
        worker.stop()
    assert (tmp_path / "worker" / "lost-once").exists()
    assert first.ok and second.ok, (first.error, second.error)
    assert first.outputs == second.outputs == ["sphere.png"]
    assert (first.reset, second.reset) == (True, False)  # the new worker then serves the next run too


def test_command_rules(monkeypatch):
    from replay.batch.runner import filter_noise, pvbatch_command

    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("REPLAY_XVFB", raising=False)
    monkeypatch.delenv("PVBATCH", raising=False)
    command = pvbatch_command(mpi=2)
    assert command[:2] == ["xvfb-run", "-a"] and command[-1].endswith("pvbatch")
    launcher = command.index(next(c for c in command if c.endswith("mpiexec")))
    assert command[launcher:launcher + 1] and command[command.index("-n", launcher) + 1] == "2"
    if os.geteuid() == 0:
        assert "--allow-run-as-root" in command
    assert ("--oversubscribe" in command) == (2 > (os.cpu_count() or 1))
    monkeypatch.setenv("DISPLAY", ":0")
    assert pvbatch_command()[0].endswith("pvbatch")
    monkeypatch.delenv("DISPLAY")
    monkeypatch.setenv("REPLAY_XVFB", "0")
    assert pvbatch_command()[0].endswith("pvbatch")

    noisy = ("(   0.512s) [pvbatch         ]  vtkSMProxy.cxx:123   INFO| loading plugin\n"
             "\x1b[0m\x1b[31m(   1.863s) [pvbatch         ]  vtkPNGWriter.cxx:258    ERR| Unable to open file\x1b[0m\n"
             "a line of the script\n")
    assert filter_noise(noisy) == ("(   1.863s) [pvbatch         ]  vtkPNGWriter.cxx:258    ERR| Unable to open file\n"
                                   "a line of the script\n")


def test_help_after_the_script_is_the_scripts_help(contour_script):
    proc = run_replay("run", contour_script, "--mpi", "1", "--help")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("usage: contour_replay.py") and "--Isosurfaces VALUE [VALUE ...]" in proc.stdout
    own = run_replay("run", "--help")
    assert own.returncode == 0 and "Run a replay script under pvbatch" in own.stdout
    assert "usage: contour_replay.py" not in own.stdout


def test_script_help_words(monkeypatch):
    from replay.cli.app import _script_help

    assert _script_help(["run", "s.py", "--time", "2", "--help"]) == ["run", "s.py", "--time", "2", "--", "--help"]
    assert _script_help(["run", "--mpi", "2", "s.py", "-h"]) == ["run", "--mpi", "2", "s.py", "--", "-h"]
    assert _script_help(["run", "--help"]) == ["run", "--help"]
    assert _script_help(["run", "s.py", "--", "--help"]) == ["run", "s.py", "--", "--help"]
    assert _script_help(["sweep", "s.py", "--help"]) == ["sweep", "s.py", "--help"]
