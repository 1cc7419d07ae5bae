"""Shared test plumbing: run real pvbatch, compare images. No mocks: these call /usr/bin/pvbatch."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from replay.batch.runner import DISPLAY_RETRY_PAUSES, lost_display, xvfb_run

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
TRACES = FIXTURES / "traces"
STATES = FIXTURES / "states"


def pvbatch_command(mpi: int | None = None) -> list[str]:
    pvbatch = shutil.which("pvbatch")
    assert pvbatch, "pvbatch is missing: run .ci/setup (apt-get install paraview python3-paraview)"
    command = [pvbatch]
    if mpi:
        command = ["mpiexec", "--allow-run-as-root", "--oversubscribe", "-n", str(mpi)] + command
    if not os.environ.get("DISPLAY"):
        command = xvfb_run() + command
    return command


def run_pvbatch(script, *args, cwd=None, mpi: int | None = None, timeout: int = 180, check: bool = True,
                exe: str = "pvbatch"):
    """Run a script under real pvbatch (or pvpython); on failure show what it said."""
    for pause in DISPLAY_RETRY_PAUSES + (None,):
        command = pvbatch_command(mpi)
        if exe != "pvbatch":
            command[-1] = shutil.which(exe) or exe
        proc = subprocess.run(command + [str(script), *map(str, args)], cwd=cwd, capture_output=True, text=True,
                              timeout=timeout)
        if pause is None or not lost_display(proc.stderr):
            break
        time.sleep(pause)
    if check and proc.returncode != 0:
        raise AssertionError(f"{exe} {script} {args} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc


def home_env(home) -> dict:
    """The environment with a home of its own: ParaView's settings and replay's macro folder then live under it
    (the suite's own XDG_CONFIG_HOME, which would take precedence, is dropped)."""
    env = dict(os.environ, HOME=str(home))
    env.pop("XDG_CONFIG_HOME", None)
    return env


def run_replay(*args, cwd=None, input: str | None = None, timeout: int = 120, env=None):
    """The installed CLI, as a user runs it."""
    return subprocess.run([sys.executable, "-m", "replay", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, input=input, timeout=timeout, env=env)


def image_difference(a, b) -> tuple[int, int]:
    """(pixels that differ, largest channel difference) between two images of the same size."""
    import numpy as np
    from PIL import Image

    first = np.asarray(Image.open(a).convert("RGB")).astype(int)
    second = np.asarray(Image.open(b).convert("RGB")).astype(int)
    assert first.shape == second.shape, f"image sizes differ: {first.shape} vs {second.shape}"
    delta = np.abs(first - second)
    return int((delta.max(axis=2) > 0).sum()), int(delta.max())


def assert_same_image(a, b, max_pixels: int = 0, max_channel: int = 0) -> None:
    pixels, channel = image_difference(a, b)
    assert pixels <= max_pixels or channel <= max_channel, f"{a} and {b} differ: {pixels} pixels, up to {channel}"


def assert_different_image(a, b, min_pixels: int = 50) -> None:
    pixels, channel = image_difference(a, b)
    assert pixels >= min_pixels, f"{a} and {b} should differ but only {pixels} pixels do"


PARAVIEW_ROOTS_BIN = Path(os.environ.get("REPLAY_PARAVIEW_ROOTS", "/var/lib/replay/paraview")) / "bin"


def paraview_program(program: str, version: str) -> str:
    """pvbatch or pvpython of one ParaView version: the machine's own 5.11, else the wrapper of a Debian root
    that .ci/paraview-versions built."""
    if version == "5.11":
        found = shutil.which(program)
        assert found, f"{program} 5.11 is missing: run .ci/setup"
        return found
    wrapper = PARAVIEW_ROOTS_BIN / f"{program}-{version}"
    assert wrapper.exists(), f"{wrapper} is missing: run .ci/paraview-versions (builds the Debian roots)"
    return str(wrapper)


# Loses its display on its first run (VTK finds no X server there, says "bad X server connection" and aborts, as
# when Xvfb is gone) and renders a sphere on every later one: what the display retries must get past.
LOSES_DISPLAY_ONCE = """\
import os, sys
out = sys.argv[sys.argv.index('--output-dir') + 1]
os.makedirs(out, exist_ok=True)
lost = os.path.join(os.path.dirname(os.path.abspath(sys.argv[0])), 'lost-once')
from paraview.simple import Render, SaveScreenshot, Show, Sphere
if not os.path.exists(lost):
    open(lost, 'w').close()
    os.environ['DISPLAY'] = ':32123'  # above the numbers replay picks, so no server
Show(Sphere())
Render()
SaveScreenshot(os.path.join(out, 'sphere.png'))
"""


def loses_display_once(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "loses_display_once.py"
    script.write_text(LOSES_DISPLAY_ONCE)
    return script
