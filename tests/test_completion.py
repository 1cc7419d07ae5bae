"""Shell completion: `replay convert REC --param <TAB>` offers what `replay inspect REC` lists, through the
environment variables the shell scripts of `replay --install-completion` set."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from pv import STATES, TRACES, run_replay

ROOT = Path(__file__).resolve().parent.parent


def _complete(*words: str, env=None) -> subprocess.CompletedProcess:
    """Ask as bash does: the words typed so far, the last one being completed."""
    env = {**(env or os.environ), "_REPLAY_COMPLETE": "complete_bash", "COMP_WORDS": " ".join(words),
           "COMP_CWORD": str(len(words) - 1)}
    return subprocess.run([sys.executable, "-m", "replay"], capture_output=True, text=True, env=env, timeout=60)


def _inspected(recording) -> list[dict]:
    proc = run_replay("inspect", recording, "--json")
    assert proc.returncode == 0, proc.stderr
    return [p for p in json.loads(proc.stdout) if p["kind"] == "property"]


def test_param_completes_the_names_inspect_lists():
    recording = TRACES / "contour.py"
    names = [p["name"] for p in _inspected(recording)]
    proc = _complete("replay", "convert", str(recording), "--param", "")
    assert proc.returncode == 0 and proc.stderr == ""
    assert proc.stdout.splitlines() == names
    proc = _complete("replay", "convert", str(recording), "--param", "Iso")
    assert proc.stdout.splitlines() == [n for n in names if n.startswith("Iso")]
    assert "Isosurfaces" in proc.stdout.splitlines()
    # Options before the recording, -p, and the proxy.Property form once a dot is typed.
    proc = _complete("replay", "convert", "-q", "-o", "x.py", str(recording), "-p", "contour1.")
    assert proc.stdout.splitlines() == [f"contour1.{p['property']}" for p in _inspected(recording)
                                        if p["proxy"] == "contour1"]


def test_param_completes_a_state():
    recording = STATES / "contour.pvsm"
    names = [p["name"] for p in _inspected(recording)]
    proc = _complete("replay", "convert", str(recording), "--param", "Con")
    assert proc.stdout.splitlines() == [n for n in names if n.startswith("Con")] and proc.stdout


def test_no_recording_completes_nothing_and_prints_no_error(tmp_path):
    for words in (("replay", "convert", "--param", ""), ("replay", "convert", str(tmp_path / "gone.py"), "-p", ""),
                  ("replay", "convert", str(tmp_path), "-p", "")):
        proc = _complete(*words)
        assert (proc.returncode, proc.stdout.strip(), proc.stderr) == (0, "", ""), words


def test_bash_runs_the_installed_completion_script(tmp_path):
    """The script --show-completion prints (what --install-completion installs), sourced by a real bash."""
    bash = shutil.which("bash")
    assert bash
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "replay"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m replay "$@"\n')
    wrapper.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "SHELL": bash}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    script = subprocess.run(["replay", "--show-completion", "bash"], capture_output=True, text=True, env=env)
    assert script.returncode == 0 and "_REPLAY_COMPLETE=complete_bash" in script.stdout, script.stderr
    (tmp_path / "completion.sh").write_text(script.stdout)
    recording = TRACES / "contour.py"
    probe = (f'source {tmp_path / "completion.sh"}\n'
             f'COMP_WORDS=(replay convert {recording} --param Isosurfac); COMP_CWORD=4\n'
             '_replay_completion replay\nprintf "%s\\n" "${COMPREPLY[@]}"\n')
    proc = subprocess.run([bash, "--norc", "-c", probe], capture_output=True, text=True, env=env, timeout=60)
    assert proc.stdout.splitlines() == ["IsosurfaceValues", "Isosurfaces"], proc.stderr
