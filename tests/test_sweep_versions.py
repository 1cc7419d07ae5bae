"""A sweep's kept-pipeline worker runs a recording of another release as a plain pvbatch run of its script does,
in every run, the first included: paraview.simple's functions are made for the compatibility mode the script sets
(replay/batch/worker_driver.py functions_for). On 5.13 a 5.9 recording's GenerateIds is then Point And Cell Ids,
as in `replay run`; the worker's first run used to make the legacy Generate Id Scalars instead (simple made
without a mode at the worker's start), which drops the input's active scalars: one run of the study computed
otherwise than the others."""
from __future__ import annotations

import csv
import shutil

import filter_suite as fs
from pv import paraview_program, run_replay


def _header(path) -> list[str]:
    with open(path, newline="") as f:
        return next(csv.reader(f))


def test_a_5_9_recording_swept_on_5_13_computes_what_a_plain_run_computes_in_every_run(tmp_path):
    fs.install_data()
    pvbatch = paraview_program("pvbatch", "5.13")
    script = tmp_path / "generate_ids_replay.py"
    converted = run_replay("convert", fs.SUITE / "5.9" / "generate_ids.py", "-o", script, "-q")
    assert converted.returncode == 0, converted.stderr
    recorded = "/tmp/replay-fixtures/data/filters/sphere.vtp"
    copies = [tmp_path / f"sphere{i}.vtp" for i in (1, 2)]
    for copy in copies:
        shutil.copy(recorded, copy)

    plain = run_replay("run", script, "--pvbatch", pvbatch, "--output-dir", tmp_path / "plain", timeout=300)
    assert plain.returncode == 0, plain.stderr
    expected = (tmp_path / "plain" / "generate_ids.csv").read_bytes()
    # Point And Cell Ids keeps the sphere's Elevation; the legacy filter would have dropped it.
    assert "Elevation" in _header(tmp_path / "plain" / "generate_ids.csv")

    files = ",".join([recorded] + [str(c) for c in copies])
    swept = run_replay("sweep", script, "--pvbatch", pvbatch, "--grid", f"FileName={files}", "-o",
                       tmp_path / "study", timeout=600)
    assert swept.returncode == 0, swept.stderr
    outputs = sorted((tmp_path / "study").glob("*/generate_ids.csv"))
    assert len(outputs) == 3, outputs
    for output in outputs:
        assert output.read_bytes() == expected, (output, _header(output))


def test_a_filter_that_runs_python_with_itself_computes_in_a_sweep_what_a_plain_run_computes(tmp_path):
    """The worker wraps each algorithm in Python to watch it before the algorithm first executes; VTK then gave
    Python Calculator the class of its nearest imported base (its own module is imported by the calculator's
    Python code, later) for the rest of the worker: paraview.detail.calculator failed on it and the runs wrote
    the input without the computed array. The worker imports paraview.modules' wrappers first (import_wrappers)."""
    fs.install_data()
    pvbatch = paraview_program("pvbatch", "5.13")
    script = tmp_path / "python_calculator_replay.py"
    converted = run_replay("convert", fs.SUITE / "5.9" / "python_calculator.py", "-o", script, "-q")
    assert converted.returncode == 0, converted.stderr
    recorded = "/tmp/replay-fixtures/data/filters/wave.vti"
    copy = tmp_path / "wave.vti"
    shutil.copy(recorded, copy)

    plain = run_replay("run", script, "--pvbatch", pvbatch, "--output-dir", tmp_path / "plain", timeout=300)
    assert plain.returncode == 0, plain.stderr
    expected = (tmp_path / "plain" / "python_calculator.csv").read_bytes()
    assert _header(tmp_path / "plain" / "python_calculator.csv") == ["RTData", "root"]

    # The second file makes the worker start a new session: the class VTK chose stays for the whole process.
    swept = run_replay("sweep", script, "--pvbatch", pvbatch, "--grid", f"FileName={recorded},{copy}", "-o",
                       tmp_path / "study", timeout=600)
    assert swept.returncode == 0, swept.stderr
    outputs = sorted((tmp_path / "study").glob("*/python_calculator.csv"))
    assert len(outputs) == 2, outputs
    for output in outputs:
        assert output.read_bytes() == expected, (output, _header(output))
