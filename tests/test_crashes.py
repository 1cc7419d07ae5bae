"""pvbatch crashes (issue 24) on the real releases: a crash names the recording's line in run, the sweep worker,
SLURM tasks, verify and MPI; known crashes are not stepped into; a reader given a file without the recorded
blocks stops with a line before ParaView aborts."""
from __future__ import annotations

import json
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import replay
from pv import FIXTURES, TRACES, paraview_program, run_replay
from replay.batch.crash import crash_line
from replay.batch.runner import xvfb_run
from replay.pvtables.crashes import catalogue

RELEASES = ("5.9", "5.11", "5.13", "6.1")

# The three lines of the issue, as a user hand-writes them (no tracer's block around them).
LIGHTS = """\
from paraview.simple import *
v = GetActiveViewOrCreate('RenderView')
v.AdditionalLights = None
Render(v)
SaveScreenshot('/tmp/replay-fixtures/out/lights.png', v, ImageResolution=[120, 90])
"""
# The same crash through a call the guard does not watch: what a crash looks like when nothing stops it.
UNGUARDED = LIGHTS.replace("v.AdditionalLights = None", "v.SetPropertyWithName('AdditionalLights', None)")
UNGUARDED_LINE = "trace.py:3: v.SetPropertyWithName('AdditionalLights', None): pvbatch crashed (SIGSEGV) here"


def last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def pvbatch_raw(version: str, script: Path, *args) -> subprocess.CompletedProcess:
    return subprocess.run([*xvfb_run(), paraview_program("pvbatch", version), str(script), *map(str, args)],
                          capture_output=True, text=True, timeout=300)


def convert(text: str, folder: Path, name: str = "trace.py", *options) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text)
    script = folder / name.replace(".py", "_replay.py")
    proc = run_replay("convert", folder / name, "-o", script, "-q", *options)
    assert proc.returncode == 0, proc.stderr
    return script


def run_on(version: str, script: Path, *args) -> subprocess.CompletedProcess:
    return run_replay("run", script, "--pvbatch", paraview_program("pvbatch", version), *args, timeout=300)


@pytest.mark.parametrize("version", RELEASES)
def test_the_three_line_crash_on_every_release(version, tmp_path, fixture_data):
    raw = tmp_path / "raw.py"
    raw.write_text(LIGHTS.replace("/tmp/replay-fixtures/out/", f"{tmp_path}/raw-"))
    guarded = convert(LIGHTS, tmp_path / "guarded")
    unguarded = convert(UNGUARDED, tmp_path / "unguarded")
    with ThreadPoolExecutor(2) as pool:
        as_is, skipped, crashed = pool.map(lambda job: job(), (
            lambda: pvbatch_raw(version, raw),
            lambda: run_on(version, guarded, "--output-dir", tmp_path / "guarded-out"),
            lambda: run_on(version, unguarded, "--output-dir", tmp_path / "unguarded-out")))
    # The catalogue's entry is real: the three lines kill this release. (A release without a catalogue yet is
    # guarded by every release's entries, which the skipped run below shows.)
    assert version not in catalogue() or ["views", "AdditionalLights", None] in catalogue()[version]
    assert as_is.returncode in (139, -11), (as_is.returncode, as_is.stderr[-2000:])
    # Written by hand, the value is reported by the recording's line and skipped; the picture is made.
    assert skipped.returncode == 0, skipped.stderr[-3000:]
    assert (f"replay: trace.py:3: v.AdditionalLights = None: ParaView {version} crashes on "
            "RenderView.AdditionalLights = None; skipped") in skipped.stderr
    assert (tmp_path / "guarded-out" / "lights.png").is_file()
    # A crash nothing stops: one line names the recording's line, last; the exit status is the signal's.
    assert crashed.returncode == 139, crashed.stderr[-3000:]
    assert last_line(crashed.stderr) == UNGUARDED_LINE


def hand_translated_5_6(text: str) -> str:
    """The 5.6 trace edited by hand for 5.11: the picture it gives is the one the replays must give."""
    for old, new in (("renderView2.UseGradientBackground = 0", "renderView2.BackgroundColorMode = 'Single Color'"),
                     ("renderView2.UseTexturedBackground = 0\n", ""), ("renderView2.UseSkyboxBackground = 0\n", ""),
                     ("renderView2.EnableOSPRay = 0", "renderView2.EnableRayTracing = 0"),
                     ("renderView2.OSPRayTemporalCacheSize = 0", "renderView2.TemporalCacheSize = 0"),
                     ("renderView2.OSPRayRendererType = 'OSPRay raycaster'", "renderView2.BackEnd = 'OSPRay raycaster'"),
                     ("renderView2.AdditionalLights = None\n", ""),
                     ("# renderView2.ViewSize = [640, 480]", "renderView2.ViewSize = [640, 480]")):
        assert old in text
        text = text.replace(old, new)
    return text


def test_the_5_6_gradient_and_lights_trace_replays_to_its_picture(tmp_path, fixture_data):
    from test_version_matrix import MEAN_LIMIT, mean_difference

    recording = TRACES / "v5_6_gradient_lights.py"
    text = recording.read_text()
    lights_line = text.splitlines().index("renderView2.AdditionalLights = None") + 1
    (tmp_path / "ref").mkdir()
    reference = tmp_path / "reference.py"
    reference.write_text(hand_translated_5_6(text).replace("/tmp/replay-fixtures/out/", f"{tmp_path}/ref/"))
    as_is = tmp_path / "as_is.py"
    as_is.write_text(text.replace("/tmp/replay-fixtures/out/", f"{tmp_path}/as-is-"))
    script = tmp_path / "v5_6_gradient_lights_replay.py"
    assert run_replay("convert", recording, "-o", script, "-q").returncode == 0
    unguarded = tmp_path / "unguarded_replay.py"
    unguarded.write_text("".join(line for line in script.read_text().splitlines(keepends=True)
                                 if line.strip() != "_replay_guard_crashes(_REPLAY_CRASHES)"))
    jobs = [lambda: pvbatch_raw("5.11", reference), lambda: pvbatch_raw("5.11", as_is),
            lambda: run_on("5.11", unguarded, "--output-dir", tmp_path / "unguarded")]
    jobs += [lambda v=v: run_on(v, script, "--output-dir", tmp_path / v) for v in ("5.11", "5.13", "6.1")]
    with ThreadPoolExecutor(2) as pool:
        ref, original, crashed, *replays = pool.map(lambda job: job(), jobs)
    assert ref.returncode == 0, ref.stderr[-3000:]
    # The recording as it is stops at the gradient line with Python's own error on 5.11 ...
    assert original.returncode == 1 and "UseGradientBackground" in original.stderr
    # ... the replay adapts that line and would reach the tracer's `AdditionalLights = None`, which crashes:
    assert crashed.returncode == 139
    assert last_line(crashed.stderr) == (f"v5_6_gradient_lights.py:{lights_line}: renderView2.AdditionalLights = "
                                         "None: pvbatch crashed (SIGSEGV) here")
    # ... but skips it with the other defaults of the view's block, silently, and gives the picture everywhere.
    for version, proc in zip(("5.11", "5.13", "6.1"), replays):
        assert proc.returncode == 0, (version, proc.stderr[-3000:])
        assert "AdditionalLights" not in proc.stderr
        difference = mean_difference(tmp_path / "ref" / "v5_6_gradient_lights.png",
                                     tmp_path / version / "v5_6_gradient_lights.png")
        assert difference <= MEAN_LIMIT, (version, difference)


def test_an_exodus_reader_given_a_file_without_the_recorded_block_stops_by_line(tmp_path, fixture_data):
    recording = TRACES / "exodus_blocks.py"
    lines = recording.read_text().splitlines()
    blocks = lines.index("two_blocksex2.ElementBlocks = ['tets', 'voxels']") + 1
    arrays = lines.index("two_blocksex2.PointVariables = ['RTData']") + 1
    script = tmp_path / "exodus_blocks_replay.py"
    assert run_replay("convert", recording, "-o", script, "-q").returncode == 0
    voxels, no_rtdata = fixture_data / "blocks" / "voxels.ex2", fixture_data / "blocks" / "no_rtdata.ex2"
    raw = tmp_path / "raw.py"
    raw.write_text(recording.read_text().replace("blocks/two_blocks.ex2", "blocks/voxels.ex2")
                   .replace("/tmp/replay-fixtures/out/", f"{tmp_path}/raw-"))
    with ThreadPoolExecutor(2) as pool:
        as_is, stopped, warned = pool.map(lambda job: job(), (
            lambda: pvbatch_raw("5.11", raw),
            lambda: subprocess.run([*xvfb_run(), "pvbatch", str(script), "--FileName", str(voxels), "--output-dir",
                                    str(tmp_path / "stopped")], capture_output=True, text=True, timeout=300),
            lambda: run_on("5.11", script, "--FileName", no_rtdata, "--output-dir", tmp_path / "warned")))
    # pvbatch 5.11 alone aborts in the reader (vtkExodusIIReader::SetObjectStatus) ...
    assert as_is.returncode in (134, -6), as_is.returncode
    # ... the replay names the line and what the file has instead, and stops first: exit 1, that line last.
    assert stopped.returncode == 1, stopped.stderr[-3000:]
    assert last_line(stopped.stderr) == (f"exodus_blocks.py:{blocks}: ElementBlocks names 'tets', which {voxels} "
                                         "does not have (it has: 'voxels')")
    assert not (tmp_path / "stopped").exists() or not any((tmp_path / "stopped").iterdir())
    # A missing array is left out with a warning by line, and the run goes on.
    message = (f"replay: exodus_blocks.py:{arrays}: PointVariables names 'RTData', which {no_rtdata} does not have "
               "(it has: 'Pressure'); left out")
    assert message.replace(str(no_rtdata), str(voxels)) in stopped.stderr
    assert warned.returncode == 0 and message in warned.stderr, warned.stderr[-3000:]
    assert (tmp_path / "warned" / "exodus_blocks.png").is_file()


@pytest.fixture(scope="module")
def crashing(tmp_path_factory, fixture_data):
    folder = tmp_path_factory.mktemp("crashing")
    return convert(UNGUARDED.replace("/tmp/replay-fixtures/out/", f"{folder}/"), folder)


def test_a_crash_is_named_by_line_under_mpi_in_a_sweep_and_in_verify(crashing, tmp_path):
    with ThreadPoolExecutor(2) as pool:
        mpi, sweep, verify = pool.map(lambda job: job(), (
            lambda: run_replay("run", crashing, "--mpi", "2", "--output-dir", tmp_path / "mpi", timeout=300),
            lambda: run_replay("sweep", crashing, "--grid", "time=0,1", "-o", tmp_path / "sweep", timeout=300),
            lambda: run_replay("verify", crashing.parent / "trace.py", timeout=300)))
    assert mpi.returncode == 139 and last_line(mpi.stderr) == UNGUARDED_LINE, mpi.stderr[-3000:]
    rows = json.loads((tmp_path / "sweep" / "manifest.json").read_text())
    rows = rows["runs"] if isinstance(rows, dict) else rows
    assert [row["error"] for row in rows] == [UNGUARDED_LINE] * 2
    assert f"failed time=0: {UNGUARDED_LINE}" in sweep.stdout + sweep.stderr
    assert verify.returncode == 1
    assert last_line(verify.stdout) == f"the recording failed under pvbatch: {UNGUARDED_LINE}"


def test_a_crash_in_a_slurm_task_is_named_by_line(crashing, tmp_path):
    from test_slurm import slurm as _  # noqa: F401 - the same check that SLURM is up

    proc = run_replay("sweep", crashing, "--grid", "time=0,1", "--backend", "slurm", "-o", tmp_path / "slurm",
                      timeout=600)
    rows = json.loads((tmp_path / "slurm" / "manifest.json").read_text())
    rows = rows["runs"] if isinstance(rows, dict) else rows
    assert [row["error"] for row in rows] == [UNGUARDED_LINE] * 2, proc.stderr[-3000:]
    assert [row["returncode"] for row in rows] == [139, 139]


def test_a_split_statement_maps_back_to_its_recording_line(tmp_path):
    """6.x `.Set(A=..., B=...)` becomes one line per property: a crash in one names the recording's line."""
    recording = TRACES / "v6_0_set.py"
    text = recording.read_text()
    script = tmp_path / "v6_0_set_replay.py"
    script.write_text(replay.convert_trace(text, source_name="v6_0_set.py").code)
    script_lines = script.read_text().splitlines()
    after = [i for i, line in enumerate(script_lines) if line.startswith("renderView1.CameraParallelScale")][-1] + 1
    recorded = [i for i, line in enumerate(text.splitlines()) if line == "renderView1.Set("][-1] + 1
    stderr = f'Fatal Python error: Segmentation fault\n\nCurrent thread 0x1 (most recent call first):\n' \
             f'  File "{script}", line {after} in <module>\n\nExtension modules: x\n'
    line = crash_line(stderr, str(script), 139)
    assert line == f"v6_0_set.py:{recorded}: {script_lines[after - 1]}: pvbatch crashed (SIGSEGV) here"
    # A line the script keeps as recorded is named with the recording's line and text.
    kept = script_lines.index("# get color transfer function/color map for 'RTData'") + 2
    line = crash_line(stderr.replace(f"line {after} ", f"line {kept} "), str(script), -11)
    recorded = text.splitlines().index("# get color transfer function/color map for 'RTData'") + 2
    assert line == f"v6_0_set.py:{recorded}: {text.splitlines()[recorded - 1]}: pvbatch crashed (SIGSEGV) here"
    assert crash_line(stderr, str(script), 1) is None  # an ordinary failure is not a crash
