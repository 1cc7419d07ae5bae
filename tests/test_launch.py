"""replay/cli/launch.py: plain convert/check/sync command lines run without the CLI framework, read exactly
as the typer app reads them, and without loading what those commands do not need."""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from replay.cli.launch import plain_call

ROOT = Path(__file__).resolve().parent.parent
TRACE = ROOT / "fixtures" / "traces" / "contour.py"

# What convert, check and sync must never load: the CLI framework and the pydantic it validates with,
# rich (its markdown alone is ~0.15 s), and the batch side.
HEAVY = ("typer", "click", "pydantic", "rich", "markdown_it", "replay.cli.app", "replay.cli.commands", "replay.batch", "replay.verification")

PLAIN = [
    ["convert", "t.py"],
    ["convert", "t.py", "-o", "-"],
    ["convert", "-o", "x.py", "t.py", "--param", "A", "-p", "B.C", "--embed", "--target-version", "5.9", "-q"],
    ["convert", "t.py", "--output=o.py", "--param=A", "--quiet"],
    ["convert", "t.py", "-o", "a.py", "-o", "b.py"],
    ["check", "a.py", "b.py", "--select", "RP001,RP002", "--ignore=RP003", "--skip-other", "-j", "3"],
    ["check", "--jobs", "0", "a.py", "--select", "RP0", "--select", "RP1"],
    ["sync", "a.py", "b.pvsm"],
]

NOT_PLAIN = [
    [], ["inspect", "t.py"], ["run", "s.py"], ["convert"], ["convert", "a.py", "b.py"], ["convert", "t.py", "--help"],
    ["convert", "-h"], ["convert", "t.py", "-o"], ["convert", "t.py", "-qo", "x.py"], ["convert", "t.py", "--bogus"],
    ["convert", "t.py", "--", "x"], ["convert", "t.py", "-o", "--embed"], ["convert", "t.py", "--embed=1"],
    ["check"], ["check", "a.py", "-j", "-1"], ["check", "a.py", "-j", "two"], ["sync", "--help"],
]


@pytest.mark.parametrize("argv", PLAIN, ids=" ".join)
def test_plain_command_lines_read_as_typer_reads_them(argv):
    import typer.main

    from replay.cli.app import app

    command = typer.main.get_command(app).commands[argv[0]]
    expected = command.make_context(argv[0], list(argv[1:])).params
    name, kwargs = plain_call(argv)
    assert name == argv[0]
    defaults = {"output": None, "param": [], "embed": False, "target_version": None, "quiet": False,
                "select": [], "ignore": [], "skip_other": False, "jobs": 0}
    got = {key: kwargs.get(key, defaults.get(key)) for key in expected}
    assert {k: list(v) if isinstance(v, tuple) else v for k, v in expected.items()} == got
    assert set(kwargs) <= set(expected)


@pytest.mark.parametrize("argv", NOT_PLAIN, ids=lambda a: " ".join(a) or "nothing")
def test_everything_else_goes_to_typer(argv):
    assert plain_call(argv) is None


DRIVER = """
import json, sys
from replay.cli.launch import main
try:
    main(sys.argv[2:])
except SystemExit:
    pass
with open(sys.argv[1], "w") as handle:
    json.dump(sorted(sys.modules), handle)
"""


@pytest.mark.parametrize("command", [["convert", "{trace}", "-o", "{out}"], ["check", "{trace}", "-j", "1"],
                                     ["check", "{trace}", "{out}"], ["sync", "{trace}"]], ids=lambda c: c[0])
def test_convert_check_sync_load_nothing_heavy(tmp_path, command):
    trace = tmp_path / TRACE.name
    shutil.copy(TRACE, trace)
    out = tmp_path / "contour_replay.py"
    if "{out}" in command and command[0] == "check":
        subprocess.run([sys.executable, "-m", "replay", "convert", str(trace), "-q"], check=True)
    words = [w.format(trace=trace, out=out) for w in command]
    modules_file = tmp_path / "modules.json"
    proc = subprocess.run([sys.executable, "-c", DRIVER, str(modules_file), *words], capture_output=True, text=True)
    assert "Traceback" not in proc.stderr, proc.stderr
    modules = json.loads(modules_file.read_text())
    assert "replay.cli.launch" in modules and "libcst" in modules  # the command did run
    loaded = [m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY)]
    assert loaded == [], f"{' '.join(command)} loads {loaded}"
