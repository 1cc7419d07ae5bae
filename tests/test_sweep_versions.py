"""A sweep's kept-pipeline worker runs a recording of another release as a plain pvbatch run of its script does,
in every run, the first included: paraview.simple's functions are made for the compatibility mode the script sets
(replay/batch/worker_driver.py functions_for). On 5.13 a 5.9 recording's GenerateIds is then Point And Cell Ids,
as in `replay run`; the worker's first run used to make the legacy Generate Id Scalars instead (simple made
without a mode at the worker's start), which drops the input's active scalars: one run of the study computed
otherwise than the others."""
from __future__ import annotations

import csv
import json
import shutil

import filter_suite as fs
from pv import paraview_program, run_replay


def _header(path) -> list[str]:
    with open(path, newline="") as f:
        return next(csv.reader(f))


def _file_sweep(tmp_path, case: str, data: str, copies: int):
    """The 5.9 recording of `case` converted, run plainly on 5.13, then swept there over its input file and
    `copies` copies of it (each file a new session of the worker): (the plain run's output, the sweep's)."""
    fs.install_data()
    pvbatch = paraview_program("pvbatch", "5.13")
    script = tmp_path / f"{case}_replay.py"
    converted = run_replay("convert", fs.SUITE / "5.9" / f"{case}.py", "-o", script, "-q")
    assert converted.returncode == 0, converted.stderr
    files = [f"/tmp/replay-fixtures/data/filters/{data}"]
    for number in range(copies):
        files.append(str(tmp_path / f"{number}_{data}"))
        shutil.copy(files[0], files[-1])

    plain = run_replay("run", script, "--pvbatch", pvbatch, "--output-dir", tmp_path / "plain", timeout=300)
    assert plain.returncode == 0, plain.stderr
    swept = run_replay("sweep", script, "--pvbatch", pvbatch, "--grid", "FileName=" + ",".join(files), "-o",
                       tmp_path / "study", timeout=600)
    assert swept.returncode == 0, swept.stderr
    outputs = sorted((tmp_path / "study").glob(f"*/{case}.csv"))
    assert len(outputs) == len(files), outputs
    return tmp_path / "plain" / f"{case}.csv", outputs


def test_a_5_9_recording_swept_on_5_13_computes_what_a_plain_run_computes_in_every_run(tmp_path):
    plain, outputs = _file_sweep(tmp_path, "generate_ids", "sphere.vtp", 2)
    # Point And Cell Ids keeps the sphere's Elevation; the legacy filter would have dropped it.
    assert "Elevation" in _header(plain)
    for output in outputs:
        assert output.read_bytes() == plain.read_bytes(), (output, _header(output))


def test_a_filter_that_runs_python_with_itself_computes_in_a_sweep_what_a_plain_run_computes(tmp_path):
    """The worker wraps each algorithm in Python to watch it before the algorithm first executes; VTK then gave
    Python Calculator the class of its nearest imported base (its own module is imported by the calculator's
    Python code, later) for the rest of the worker: paraview.detail.calculator failed on it and the runs wrote
    the input without the computed array. The worker imports paraview.modules' wrappers first (import_wrappers).
    The second file makes the worker start a new session: the class VTK chose stays for the whole process."""
    plain, outputs = _file_sweep(tmp_path, "python_calculator", "wave.vti", 1)
    assert _header(plain) == ["RTData", "root"]
    for output in outputs:
        assert output.read_bytes() == plain.read_bytes(), (output, _header(output))


def test_random_attributes_swept_draws_the_numbers_a_plain_run_draws_in_kept_runs(tmp_path):
    """VTK's random numbers come from one sequence per process, which every new pvbatch starts at the same seed;
    the worker's kept runs went on where the run before had stopped and wrote other random values than `replay
    run` with the same value. Each run of the worker starts the sequence anew (restart_random_sequence)."""
    pvbatch = paraview_program("pvbatch", "5.13")
    fs.install_data()
    script = tmp_path / "random_attributes_replay.py"
    converted = run_replay("convert", fs.SUITE / "5.9" / "random_attributes.py", "-o", script, "-q",
                           "--param", "randomAttributes1.ComponentRange")
    assert converted.returncode == 0, converted.stderr
    values = {"recorded": ["1000.0", "2000.0"], "wider": ["1250.0", "2500.0"]}
    expected = {}
    for name, words in values.items():
        plain = run_replay("run", script, "--pvbatch", pvbatch, "--output-dir", tmp_path / name,
                           "--ComponentRange", *words, timeout=300)
        assert plain.returncode == 0, plain.stderr
        expected[" ".join(words)] = (tmp_path / name / "random_attributes.vtp").read_bytes()

    swept = run_replay("sweep", script, "--pvbatch", pvbatch, "--grid",
                       "ComponentRange=" + ",".join(" ".join(w) for w in values.values()), "-o", tmp_path / "study",
                       timeout=600)
    assert swept.returncode == 0, swept.stderr
    manifest = json.loads((tmp_path / "study" / "manifest.json").read_text())
    assert [run["pipeline"] for run in manifest["runs"]] == ["new", "kept"]
    for run in manifest["runs"]:
        written = (tmp_path / "study" / run["folder"] / "random_attributes.vtp").read_bytes()
        assert written == expected[run["params"]["ComponentRange"]], run["folder"]
