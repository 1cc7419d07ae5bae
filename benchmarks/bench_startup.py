"""Start-up cost of the `replay` command, as ratios to a bare `python -c pass` measured in the same run.

    python3 benchmarks/bench_startup.py [--repeat 10]

Rows: `replay --help`, `replay check --help`, and `replay check --skip-other` on one non-recording file
(what the pre-commit hook pays on a commit without recordings). Then the heaviest imports of
`replay --help` from `python -X importtime`, to show where the time goes. No timing is asserted anywhere.
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def best(command, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(command, capture_output=True)
        times.append(time.perf_counter() - start)
    return min(times)


def heaviest_imports(command, count: int = 6):
    proc = subprocess.run([sys.executable, "-X", "importtime", *command], capture_output=True, text=True)
    rows = []
    for line in proc.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
        if m and len(m.group(3)) <= 3:  # top-level and first-level imports
            rows.append((int(m.group(2)) / 1e6, m.group(4).strip()))
    return sorted(rows, reverse=True)[:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    python = [sys.executable]
    with tempfile.TemporaryDirectory() as tmp:
        other = Path(tmp, "util.py")
        other.write_text("import os\nprint(os.sep)\n")
        base = best(python + ["-c", "pass"], args.repeat)
        rows = [
            ("replay --help", python + ["-m", "replay", "--help"]),
            ("replay check --help", python + ["-m", "replay", "check", "--help"]),
            ("replay check --skip-other util.py", python + ["-m", "replay", "check", "--skip-other", str(other)]),
        ]
        print(f"best of {args.repeat}; baseline python -c pass: {base:.3f} s")
        for label, command in rows:
            seconds = best(command, args.repeat)
            print(f"  {label:36s} {seconds:6.3f} s   ratio {seconds / base:5.1f}   (+{seconds - base:.3f} s)")
    print("heaviest imports of `replay --help` (cumulative seconds):")
    for seconds, name in heaviest_imports(["-m", "replay", "--help"]):
        print(f"  {seconds:6.3f} s  {name}")


if __name__ == "__main__":
    main()
