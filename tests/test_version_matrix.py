"""Every recording replays on every ParaView, looking as recorded: the 4 x 4 matrix on the real releases.

The same session (fixtures/generate.py `matrix`: a series read as time steps, a contour and a slice coloured
by RTData, at time 2) was recorded as a trace and as a state by ParaView 5.9, 5.11, 5.13 and 6.1 themselves
(fixtures/versions/<X.Y>/). Each recording is converted once and its script run on each version's pvbatch:
with its defaults, and with a changed file list, time and contour value. The reference is always the
recording's own version: the recording run as it is, or edited by hand the way a user would (the same
files, time and value written into the trace or the .pvsm). Images must match within a mean difference of
1.5/255 and the slice's data (SaveData csv) exactly.

Versions other than the machine's 5.11 run from the Debian roots of .ci/paraview-versions (bubblewrap
wrappers pvbatch-X.Y). All runs happen once, in the module fixture, two at a time.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from pv import FIXTURES, home_env, paraview_program, run_replay

from replay.batch.runner import lost_display, xvfb_run

VERSIONS = ("5.9", "5.11", "5.13", "6.1")
SERIES = [f"/tmp/replay-fixtures/data/series/wave_{i:04d}.vti" for i in range(5)]
CHANGED_FILES = SERIES[::-1]
MEAN_LIMIT = 1.5


def pvbatch_of(version: str) -> str:
    return paraview_program("pvbatch", version)


def by_hand_files(text: str) -> str:
    # The series in reverse order, written where the recording names its files: 0000 <-> 0004, 0001 <-> 0003.
    return re.sub(r"(/series/wave_000)(\d)(\.vti)", lambda m: f"{m.group(1)}{4 - int(m.group(2))}{m.group(3)}", text)


def trace_by_hand(text: str, out: Path) -> str:
    text = by_hand_files(text)
    text = re.sub(r"(AnimationTime = |\.Time = )2\.0\b", r"\g<1>3.0", text)
    text = text.replace("contour1.Isosurfaces = [200.0]", "contour1.Isosurfaces = [230.0]")
    assert text.count("3.0") >= 2 and "[230.0]" in text, "the by-hand edit found nothing to change"
    return text.replace("/tmp/replay-fixtures/out/", f"{out}/")


def state_by_hand(text: str) -> str:
    text = by_hand_files(text)
    for name in ("AnimationTime", "Time", "ViewTime"):
        text, n = re.subn(rf'(<Property name="{name}" id="\d+\.{name}" number_of_elements="1">\s*'
                          rf'<Element index="0" value=")2(")', r"\g<1>3\2", text)
        assert n >= 1, name
    text, n = re.subn(r'(<Property name="ContourValues" id="\d+\.ContourValues" number_of_elements="1">\s*'
                      r'<Element index="0" value=")200(")', r"\g<1>230\2", text)
    assert n == 1
    return text


LOAD_STATE = """\
from paraview.simple import LoadState, FindView, SaveScreenshot
LoadState({state!r})
SaveScreenshot({image!r}, FindView('RenderView1'), ImageResolution=[320, 240])
"""

CHANGED = ["--FileName", *CHANGED_FILES, "--time", "3", "--Isosurfaces", "230"]

# (version, recording in fixtures/versions/<version>/, image it saves)
SINGLES = (
    ("5.9", "threshold", "threshold.png"),     # ThresholdRange, removed in 5.10 (issue 16)
    ("5.13", "clip_widgets", "clip.png"),      # ResetCamera(False, 0.9), location=16, *InteractiveWidgets
)
IMAGES = {"trace": "matrix.png", "state": "RenderView1.png", **{name: png for _, name, png in SINGLES}}


# pvbatch reads the user's ParaView settings (the colour palette among them) and saves them on exit: the
# matrix runs with a home of its own, so neither the machine's settings nor one run's can change another's.
MATRIX_HOME = Path(tempfile.mkdtemp(prefix="replay-matrix-home-"))


def run(version: str, script: Path, *args, env=None) -> subprocess.CompletedProcess:
    """The script under that version's pvbatch, with an X server of its own started outside the root: two runs
    sharing one screen can read each other's windows back, and xvfb-run inside a root fails under pipes."""
    env = env or home_env(MATRIX_HOME)
    for _ in range(5):
        proc = subprocess.run([*xvfb_run(), pvbatch_of(version), str(script), *map(str, args)],
                              capture_output=True, text=True, timeout=600, env=env)
        # A window the X server could not create (seen under load, on every version), or Mesa killed by a
        # signal, is the machine, not the script.
        if proc.returncode == 0 or not (lost_display(proc.stderr) or "vtkXOpenGLRenderWindow" in proc.stderr or
                                        proc.returncode in (134, 135, 139) or proc.returncode < 0):
            break
    return proc


@pytest.fixture(scope="module")
def matrix(fixture_data, tmp_path_factory):
    root = tmp_path_factory.mktemp("matrix")
    jobs, conversions = [], {}
    for rec in VERSIONS:
        folder = FIXTURES / "versions" / rec
        trace, state = (folder / "matrix.py").read_text(), (folder / "matrix.pvsm").read_text()
        # References: the recording on its own version, as it is and edited by hand.
        for name, text in (("default", trace.replace("/tmp/replay-fixtures/out/", f"{root}/ref-{rec}-trace-default/")),
                           ("changed", trace_by_hand(trace, root / f"ref-{rec}-trace-changed"))):
            (root / f"ref-{rec}-trace-{name}").mkdir()
            script = root / f"ref-{rec}-trace-{name}.py"
            script.write_text(text)
            jobs.append((("ref", rec, rec, "trace", name), rec, script, ()))
        for name, text in (("default", state), ("changed", state_by_hand(state))):
            pvsm = root / f"ref-{rec}-{name}.pvsm"
            pvsm.write_text(text)
            (root / f"ref-{rec}-state-{name}").mkdir()
            script = root / f"ref-{rec}-state-{name}.py"
            script.write_text(LOAD_STATE.format(state=str(pvsm), image=str(root / f"ref-{rec}-state-{name}" /
                                                                               "RenderView1.png")))
            jobs.append((("ref", rec, rec, "state", name), rec, script, ()))
        # The replay scripts, converted once each.
        for kind, source in (("trace", folder / "matrix.py"), ("state", folder / "matrix.pvsm")):
            script = root / f"{kind}-{rec}_replay.py"
            if kind == "state":
                shutil.copy(source, root / f"{kind}-{rec}.pvsm")
                source = root / f"{kind}-{rec}.pvsm"
            converted = run_replay("convert", source, "--param", "Isosurfaces", "-o", script)
            conversions[(rec, kind)] = converted
            for on in VERSIONS:
                for name, args in (("default", ()), ("changed", CHANGED)):
                    out = root / f"{kind}-{rec}-on-{on}-{name}"
                    jobs.append((("replay", rec, on, kind, name), on, script, (*args, "--output-dir", out)))
    # Single recordings of one version's own tracer, replayed with their defaults on every version.
    for rec, name, _ in SINGLES:
        source = FIXTURES / "versions" / rec / f"{name}.py"
        reference = root / f"ref-{rec}-{name}-default"
        reference.mkdir()
        (root / f"ref-{rec}-{name}.py").write_text(source.read_text().replace("/tmp/replay-fixtures/out/",
                                                                              f"{reference}/"))
        jobs.append((("ref", rec, rec, name, "default"), rec, root / f"ref-{rec}-{name}.py", ()))
        conversions[(rec, name)] = run_replay("convert", source, "-o", root / f"{name}-{rec}_replay.py")
        for on in VERSIONS:
            jobs.append((("replay", rec, on, name, "default"), on, root / f"{name}-{rec}_replay.py",
                         ("--output-dir", root / f"{name}-{rec}-on-{on}-default")))
    with ThreadPoolExecutor(2) as pool:
        procs = dict(zip([j[0] for j in jobs], pool.map(lambda j: run(j[1], j[2], *j[3]), jobs)))
    return root, procs, conversions


def image(root: Path, key) -> Path:
    kind_, rec, on, kind, name = key
    folder = root / (f"ref-{rec}-{kind}-{name}" if kind_ == "ref" else f"{kind}-{rec}-on-{on}-{name}")
    return folder / IMAGES[kind]


def mean_difference(a: Path, b: Path) -> float:
    import numpy as np
    from PIL import Image

    first = np.asarray(Image.open(a).convert("RGB")).astype(float)
    second = np.asarray(Image.open(b).convert("RGB")).astype(float)
    assert first.shape == second.shape, f"image sizes differ: {first.shape} vs {second.shape}"
    return float(np.abs(first - second).mean())


@pytest.mark.parametrize("rec", VERSIONS)
def test_conversions(matrix, rec):
    _, _, conversions = matrix
    for kind in ("trace", "state"):
        converted = conversions[(rec, kind)]
        assert converted.returncode == 0, converted.stderr
        for word in ("--FileName", "--time", "--Isosurfaces"):
            assert word in converted.stderr, f"{rec} {kind}: no {word} in {converted.stderr}"
    script = (matrix[0] / f"trace-{rec}_replay.py").read_text()
    recorded = script.split("# ---- recorded:")[1]
    assert ".Set(" not in recorded and "Connect(" not in recorded
    assert f"paraview.compatibility.major = {rec.split('.')[0]}" in script


@pytest.mark.parametrize("kind", ["trace", "state"])
@pytest.mark.parametrize("on", VERSIONS)
@pytest.mark.parametrize("rec", VERSIONS)
def test_replay_looks_as_recorded(matrix, rec, on, kind):
    root, procs, _ = matrix
    for name in ("default", "changed"):
        ref, rep = ("ref", rec, rec, kind, name), ("replay", rec, on, kind, name)
        assert procs[ref].returncode == 0, f"reference {ref} failed:\n{procs[ref].stderr[-2000:]}"
        assert procs[rep].returncode == 0, f"{rep} failed:\n{procs[rep].stderr[-3000:]}"
        adapter = [line for line in procs[rep].stderr.splitlines() if line.startswith("replay:")]
        assert not adapter, f"{rep}: the adapter reported what it could not honour: {adapter}"
        difference = mean_difference(image(root, ref), image(root, rep))
        assert difference <= MEAN_LIMIT, f"{rep}: mean difference {difference:.2f}/255 from ParaView {rec}'s own"
        if kind == "trace":
            csv = "matrix_slice.csv"
            expected = (image(root, ref).parent / csv).read_bytes()
            assert (image(root, rep).parent / csv).read_bytes() == expected, f"{rep}: the slice's data differ"


@pytest.mark.parametrize("on", VERSIONS)
@pytest.mark.parametrize("rec,name,png", SINGLES)
def test_single_recordings_look_as_recorded(matrix, rec, name, png, on):
    """A real 5.9 ThresholdRange trace (background included) and a real 5.13 widgets trace, on every version."""
    root, procs, conversions = matrix
    assert conversions[(rec, name)].returncode == 0, conversions[(rec, name)].stderr
    ref, rep = ("ref", rec, rec, name, "default"), ("replay", rec, on, name, "default")
    assert procs[ref].returncode == 0, procs[ref].stderr[-2000:]
    assert procs[rep].returncode == 0, procs[rep].stderr[-3000:]
    assert not [line for line in procs[rep].stderr.splitlines() if line.startswith("replay:")], procs[rep].stderr
    difference = mean_difference(image(root, ref), image(root, rep))
    assert difference <= MEAN_LIMIT, f"{rec} {name} on {on}: mean difference {difference:.2f}/255"


@pytest.mark.parametrize("rec", VERSIONS)
def test_changed_parameters_change_the_picture(matrix, rec):
    """Guard: the changed run is not the default picture (else the matrix could pass by doing nothing)."""
    root, _, _ = matrix
    for kind in ("trace", "state"):
        default = image(root, ("ref", rec, rec, kind, "default"))
        changed = image(root, ("ref", rec, rec, kind, "changed"))
        assert mean_difference(default, changed) > 3 * MEAN_LIMIT


@pytest.mark.parametrize("version", [v for v in VERSIONS if v != "5.11"])  # 5.11: tests/test_sweep.py
def test_a_sweep_keeps_the_pipeline_on_every_version(matrix, version, tmp_path):
    """`replay sweep --pvbatch` of another release: one worker serves the runs with a kept pipeline (the
    wrapping of paraview.simple differs by release), reads each step once (the step the recording shows first
    is kept, not read again), and a kept run that needed that step (time 2 after time 3) looks exactly like the
    fresh run of the same script on that version."""
    root, procs, _ = matrix
    fresh = ("replay", version, version, "trace", "default")
    assert procs[fresh].returncode == 0, procs[fresh].stderr[-2000:]
    out = tmp_path / "study"
    proc = run_replay("sweep", root / f"trace-{version}_replay.py", "--grid", "time=0,3,2", "-o", out,
                      "--pvbatch", pvbatch_of(version), env=home_env(MATRIX_HOME), timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    import json

    runs = json.loads((out / "manifest.json").read_text())["runs"]
    assert [r["pipeline"] for r in runs] == ["new", "kept", "kept"], runs
    assert [r["executions"].get("XMLImageDataReader#0") for r in runs] == [1, 1, 1], runs
    kept = out / "time=2"
    assert mean_difference(kept / "matrix.png", image(root, fresh)) == 0.0
    assert (kept / "matrix_slice.csv").read_bytes() == (image(root, fresh).parent / "matrix_slice.csv").read_bytes()


def test_other_versions_look_different_without_pins(matrix, tmp_path):
    """Guard for the pins: 6.1 left to its own looks (--native-look) renders a 5.11 recording visibly
    otherwise, so the matrix cells 5.11 -> 6.1 pass because of the pins, not by chance."""
    root, _, _ = matrix
    proc = run("6.1", root / "trace-5.11_replay.py", "--native-look", "--output-dir", tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    reference = image(root, ("ref", "5.11", "5.11", "trace", "default"))
    assert mean_difference(reference, tmp_path / "matrix.png") > 2 * MEAN_LIMIT


def test_verify_recorded_with_is_an_upgrade_check(fixture_data):
    """`replay verify --recorded-with A --pvbatch B`: the 5.11 recording on 5.11 against its replay on 6.1 is the
    same (within 2 levels: the versions rasterize a few edge pixels one level apart); with the running version's
    own looks (--native-look, a changed default deliberately not pinned) verify names the image that differs."""
    recording = FIXTURES / "versions" / "5.11" / "matrix.py"
    common = ["verify", recording, "--recorded-with", pvbatch_of("5.11"), "--pvbatch", pvbatch_of("6.1"),
              "--tolerance", "0.01"]
    same = run_replay(*common, timeout=300)
    assert same.returncode == 0, same.stdout + same.stderr
    assert "all 2 outputs match" in same.stdout, same.stdout
    changed = run_replay(*common, "--native-look", timeout=300)
    assert changed.returncode == 1, changed.stdout + changed.stderr
    row = next(line for line in changed.stdout.splitlines() if "matrix.png" in line)
    assert "differs" in row, changed.stdout
    assert "matrix_slice.csv" in changed.stdout and "1 of 2 outputs differ" in changed.stdout, changed.stdout


def replay_in_a_clean_home(recording: Path, script: Path, version: str, tmp_path: Path):
    """Convert, run on `version` into tmp_path/out with a home of its own, and check that the run left the colour
    palette out of the user's ParaView settings (pvbatch saves settings proxies there on exit)."""
    converted = run_replay("convert", recording, "-o", script)
    assert converted.returncode == 0, converted.stderr
    home = tmp_path / "home"
    home.mkdir()
    proc = run(version, script, "--output-dir", tmp_path / "out", env=home_env(home))
    assert proc.returncode == 0, proc.stderr[-3000:]
    settings = home / ".config" / "ParaView" / "ParaView-UserSettings.json"
    assert not settings.exists() or "ColorPalette" not in settings.read_text(), settings.read_text()
    return proc


def test_a_choice_the_running_version_cannot_honour_is_reported_by_line(fixture_data, tmp_path):
    """A 6.1 recording that turns on ANARI rendering (no such property in 5.11) runs on 5.11 with one line
    naming the recording's line and the reason; the tracer's defaults of 6.1-only properties pass silently."""
    text = (FIXTURES / "versions" / "6.1" / "matrix.py").read_text()
    anchor = "# add view to a layout so it's visible in UI\n"
    assert anchor in text
    recording = tmp_path / "anari.py"
    recording.write_text(text.replace(anchor, "# Properties modified on renderView1\n"
                                              "renderView1.EnableRenderingwithANARI = 1\n\n" + anchor))
    script = tmp_path / "anari_replay.py"
    proc = replay_in_a_clean_home(recording, script, "5.11", tmp_path)
    reported = [line for line in proc.stderr.splitlines() if line.startswith("replay:")]
    line = next(n for n, code in enumerate(recording.read_text().splitlines(), 1)
                if code == "renderView1.EnableRenderingwithANARI = 1")
    assert reported == [f"replay: anari.py:{line}: renderView1.EnableRenderingwithANARI = 1: ParaView 5.11 "
                        "has no RenderView.EnableRenderingwithANARI (the recording is from 6.1); skipped"], \
        proc.stderr[-3000:]
    assert (tmp_path / "out" / "matrix.png").exists()


def test_a_state_of_another_version_leaves_the_users_palette_alone(fixture_data, tmp_path):
    """LoadState makes a state's colour palette the session's and pvbatch saves it into the user's settings on
    exit: a 5.11 state replayed on 6.1 would give every later 6.1 session 5.11's background. The script puts the
    palette back once its pictures are taken."""
    state = tmp_path / "matrix.pvsm"
    shutil.copy(FIXTURES / "versions" / "5.11" / "matrix.pvsm", state)
    replay_in_a_clean_home(state, tmp_path / "matrix_replay.py", "6.1", tmp_path)
    assert (tmp_path / "out" / "RenderView1.png").exists()
