"""Nothing lost, whatever the input: encodings, line endings, concurrent and interrupted converts."""
import ast
import hashlib
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from pv import run_replay
from test_convert_trace import TRACE

import replay
from replay.source import decode


def sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_bom_coding_line_and_latin1_convert(tmp_path):
    bom = tmp_path / "bom.py"
    bom.write_bytes(b"\xef\xbb\xbf# -*- coding: utf-8 -*-\n" + TRACE.replace("/data/wave.vti", "/data/caf\u00e9 x.vti")
                    .encode("utf-8"))
    latin = tmp_path / "latin.py"
    latin.write_bytes(b"# -*- coding: latin-1 -*-\n" + TRACE.replace("/data/wave.vti", "/data/caf\u00e9.vti")
                      .encode("latin-1"))
    for path, expected in ((bom, "/data/caf\u00e9 x.vti"), (latin, "/data/caf\u00e9.vti")):
        before = sha(path)
        proc = run_replay("convert", path)
        assert proc.returncode == 0, proc.stderr
        out = path.with_name(path.stem + "_replay.py").read_bytes()
        assert not out.startswith(b"\xef\xbb\xbf")
        code = out.decode("utf-8")
        ast.parse(code)
        assert f"_replay_files('FileName', [{expected!r}])" in code
        assert sha(path) == before


def test_crlf_input_gives_crlf_output(tmp_path):
    path = tmp_path / "win.py"
    path.write_bytes(TRACE.replace("\n", "\r\n").encode())
    assert run_replay("convert", path).returncode == 0
    out = (tmp_path / "win_replay.py").read_bytes()
    assert out.count(b"\r\n") == out.count(b"\n") > 100


def test_undecodable_bytes_point_at_the_place():
    try:
        decode(b"from paraview.simple import *\nx = '\xff'\n", "t.py")
    except replay.ReplayError as exc:
        assert str(exc) == "t.py:2:6: not valid utf-8 text (byte 0xff)"
    else:
        raise AssertionError("bad bytes must be refused")


def test_concurrent_converts_do_not_interfere(tmp_path):
    """pre-commit runs hooks in parallel processes: each output must be exactly its own input's."""
    paths = []
    for i in range(8):
        path = tmp_path / f"t{i}.py"
        path.write_text(TRACE.replace("[130.0, 200.0]", f"[{i}.5]"))
        paths.append(path)
    with ThreadPoolExecutor(8) as pool:
        procs = list(pool.map(lambda p: run_replay("convert", p, "--param", "Isosurfaces"), paths))
    assert all(p.returncode == 0 for p in procs)
    for i, path in enumerate(paths):
        expected = replay.convert_trace(path.read_text(), ["Isosurfaces"], source_name=path.name).code
        assert (tmp_path / f"t{i}_replay.py").read_text() == expected
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_killed_convert_leaves_old_or_new_output(tmp_path):
    """SIGKILL at different moments: the output is always a whole file, the old one or the new one."""
    path = tmp_path / "big.py"
    path.write_text(TRACE + "".join(f"contour1.Isosurfaces = [{i}.0]\n" for i in range(3000)))
    out = tmp_path / "big_replay.py"
    old = "# an earlier replay script\n"
    new = None
    for delay in (0.3, 0.6, 0.9, 1.2, 1.6, 2.0, 3.0):
        out.write_text(old)
        proc = subprocess.Popen([sys.executable, "-m", "replay", "convert", str(path), "-q"])
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        content = out.read_text()
        if content != old:
            new = new or replay.convert_trace(path.read_text(), source_name="big.py").code
            assert content == new
        for leftover in tmp_path.glob(".big_replay.py.*.tmp"):
            leftover.unlink()  # a killed process cannot clean up; the target is what matters
    assert os.path.exists(path)
