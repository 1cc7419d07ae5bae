"""The `replay` command as a user runs it: exit codes, one-line errors, files written or not."""
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
from pv import run_replay
from test_convert_trace import TRACE


@pytest.fixture
def trace(tmp_path):
    path = tmp_path / "session_trace.py"
    path.write_text(TRACE)
    return path


def digest(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def test_convert_writes_stem_replay_beside_the_input(trace):
    before = digest(trace)
    proc = run_replay("convert", trace, "--param", "Isosurfaces")
    assert proc.returncode == 0, proc.stderr
    out = trace.with_name("session_trace_replay.py")
    assert out.exists()
    assert "wrote " + str(out) in proc.stderr and "--Isosurfaces" in proc.stderr
    assert digest(trace) == before
    assert [p.name for p in trace.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_convert_to_stdout_and_byte_identical(trace, tmp_path):
    first = run_replay("convert", trace, "-o", "-").stdout
    second = run_replay("convert", trace, "-o", "-").stdout
    assert first == second and first.startswith("# replay: generated from session_trace.py")
    assert not trace.with_name("session_trace_replay.py").exists()


def test_convert_refuses_to_write_over_the_input(trace):
    before = digest(trace)
    proc = run_replay("convert", trace, "-o", trace)
    assert proc.returncode == 1
    assert proc.stderr.strip() == f"{trace}: refusing to write over the input recording"
    assert digest(trace) == before


def test_unknown_param_is_a_usage_error(trace):
    proc = run_replay("convert", trace, "--param", "Isosurfce")
    assert proc.returncode == 2
    assert proc.stderr.strip() == (f"{trace}: --param Isosurfce: matches nothing in the recording; "
                                   "close matches: Isosurfaces, contour1.Isosurfaces")
    assert not trace.with_name("session_trace_replay.py").exists()


def test_inspect_json_has_exactly_the_public_keys(trace):
    rows = json.loads(run_replay("inspect", trace, "--json").stdout)
    assert {tuple(row) for row in rows} == {("name", "kind", "proxy", "property", "default", "line")}
    iso = [r for r in rows if r["name"] == "Isosurfaces"][0]
    assert iso == {"name": "Isosurfaces", "kind": "property", "proxy": "contour1", "property": "Isosurfaces",
                   "default": [130.0, 200.0], "line": 18}


def test_inspect_table(trace):
    proc = run_replay("inspect", trace)
    assert proc.returncode == 0
    assert "--FileName" in proc.stdout and "Isosurfaces" in proc.stdout and "5.11.0" in proc.stdout


def test_removals_are_reported_on_stderr(tmp_path):
    path = tmp_path / "t.py"
    path.write_text(TRACE.replace("# create a new 'Contour'", "Connect('localhost')\n# create a new 'Contour'"))
    proc = run_replay("convert", path)
    assert f"{path}:15:1: removed Connect(): pvbatch has its own session" in proc.stderr


@pytest.mark.parametrize("content, message, code", [
    (None, "no such file", 1),
    ("DIR", "is a directory, not a recording", 1),
    (b"\x00\x01binary\x00", ":1:1: binary file, not a ParaView recording", 1),
    (b"", ":1:1: empty file, not a ParaView recording", 1),
    (b"import os\n", ":1:1: not a ParaView trace: it never imports paraview.simple", 1),
    (b"from paraview.simple import *\nx = (\n", ":2:5: not valid Python", 1),
    (b"from paraview.simple import *\nprint 'x'\n", ":2:1: this is a Python 2 trace (a print statement)", 1),
    (b"<?xml version='1.0'?>\n<html><body>", "", 1),
])
def test_bad_input_is_one_line_no_traceback_no_output(tmp_path, content, message, code):
    path = tmp_path / "rec.py"
    if content == "DIR":
        path.mkdir()
    elif content is not None:
        path.write_bytes(content)
    proc = run_replay("convert", path)
    assert proc.returncode == code
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert proc.stderr.startswith(str(path)) and message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "rec_replay.py").exists()


def test_permission_denied(tmp_path):
    """Root reads any file, so run the CLI as root without the capability that overrides file modes."""
    path = tmp_path / "t.py"
    path.write_text(TRACE)
    path.chmod(0)
    proc = subprocess.run(["capsh", "--drop=cap_dac_override,cap_dac_read_search", "--", "-c",
                           f"{sys.executable} -m replay convert {path}"], capture_output=True, text=True)
    assert proc.returncode == 1 and proc.stderr.strip() == f"{path}: permission denied"


def test_missing_output_folder(tmp_path):
    path = tmp_path / "t.py"
    path.write_text(TRACE)
    proc = run_replay("convert", path, "-o", tmp_path / "missing" / "x.py")
    assert proc.returncode == 1
    assert proc.stderr.strip() == f"{tmp_path / 'missing' / 'x.py'}: folder '{tmp_path / 'missing'}' does not exist"
