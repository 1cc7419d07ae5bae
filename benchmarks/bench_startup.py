"""Start-up cost of the `replay` command, each row a ratio to its baseline measured in the same rounds.

    python3 benchmarks/bench_startup.py [--rounds 11]

Medians of paired whole-process runs (benchmarks/paired.py). Rows and targets (issue 14):
  `replay convert` of a 100-line trace   / python -c "import libcst; libcst.parse_module(...)"  <= 1.5
  `replay --help`                         / python -c "import typer"                             <= 2
and, for the pre-commit hooks, `replay check` / `replay sync` of that trace (same baseline) and
`replay check --skip-other` of a file that is no recording (against python -c pass). Then the heaviest
imports of `replay convert`, from python -X importtime. No timing is asserted anywhere.
"""
from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_trace import make  # noqa: E402
from paired import paired  # noqa: E402


def heaviest_imports(command, count: int = 8):
    proc = subprocess.run([sys.executable, "-X", "importtime", *command], capture_output=True, text=True)
    rows = []
    for line in proc.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
        if m and len(m.group(3)) <= 1:  # top-level imports
            rows.append((int(m.group(2)) / 1e6, m.group(4).strip()))
    return sorted(rows, reverse=True)[:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=11)
    args = parser.parse_args()
    python = [sys.executable]
    with tempfile.TemporaryDirectory() as tmp:
        trace = make(100, Path(tmp))
        lines = trace.read_text().count("\n")
        hook = Path(tmp, "hook")
        hook.mkdir()
        shutil.copy(trace, hook / trace.name)
        other = Path(tmp, "util.py")
        other.write_text("import os\nprint(os.sep)\n")
        replay = python + ["-m", "replay"]
        commands = {
            "pass": (python + ["-c", "pass"], None),
            "typer": (python + ["-c", "import typer"], None),
            "parse": (python + ["-c", "import sys, libcst; libcst.parse_module(open(sys.argv[1]).read())",
                                str(trace)], None),
            "convert": (replay + ["convert", str(trace), "-o", str(Path(tmp, "out.py")), "-q"], None),
            "check": (replay + ["check", str(trace)], None),
            "sync": (replay + ["sync", str(hook / trace.name)], None),
            "help": (replay + ["--help"], None),
            "skip": (replay + ["check", "--skip-other", str(other)], None),
        }
        found = paired(commands, args.rounds)
    t = {label: seconds for label, (seconds, _) in found.items()}
    print(f"median of {args.rounds} paired rounds; trace of {lines} lines")
    rows = [
        ("replay convert (100-line trace)", "convert", "parse", 1.5),
        ("replay check (same trace)", "check", "parse", None),
        ("replay sync (same trace)", "sync", "parse", None),
        ("replay --help", "help", "typer", 2.0),
        ("replay check --skip-other util.py", "skip", "pass", None),
    ]
    names = {"parse": "python: import libcst + parse", "typer": "python -c 'import typer'", "pass": "python -c pass"}
    for key in ("pass", "typer", "parse"):
        print(f"  baseline {names[key]:34s} {t[key]:6.3f} s")
    for label, key, base, target in rows:
        goal = f"   target <= {target}: {'met' if t[key] / t[base] <= target else 'NOT met'}" if target else ""
        print(f"  {label:43s} {t[key]:6.3f} s   ratio {t[key] / t[base]:5.2f} to {base}{goal}")
    print("heaviest top-level imports of `replay convert` (cumulative seconds, one run):")
    with tempfile.TemporaryDirectory() as tmp:
        trace = make(100, Path(tmp))
        for seconds, name in heaviest_imports(["-m", "replay", "convert", str(trace), "-o", str(Path(tmp, "o.py"))]):
            print(f"  {seconds:6.3f} s  {name}")


if __name__ == "__main__":
    main()
