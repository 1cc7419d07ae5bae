"""Convert time and memory for large traces, as ratios to libcst's bare parse of the same text.

    python3 benchmarks/bench_trace.py [--lines 1000 10000 100000] [--rounds 3]

Whole processes, paired and alternating (benchmarks/paired.py): `python -c "import libcst;
libcst.parse_module(...)"` against `python -m replay convert TRACE --param Isosurfaces -o OUT`,
medians over the rounds. Prints, per size: lines, seconds of each, convert/parse, peak MB of each
process, and convert's seconds per 1,000 lines, which stays flat when time is linear in size.
Target (issue 14): a 10,000-line trace <= 3x the bare parse.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from paired import paired  # noqa: E402

HEAD = """# trace generated using paraview version 5.11.0
from paraview.simple import *
wavevti = XMLImageDataReader(registrationName='wave.vti', FileName=['/data/wave.vti'])
animationScene1 = GetAnimationScene()
animationScene1.AnimationTime = 2.0
"""
BLOCK = """
# create a new 'Contour'
contour{i} = Contour(registrationName='Contour{i}', Input=wavevti)
contour{i}.ContourBy = ['POINTS', 'RTData']
contour{i}.Isosurfaces = [{i}.5, 200.0]
SaveScreenshot('/out/c{i}.png', GetActiveViewOrCreate('RenderView'), ImageResolution=[320, 240])
"""

def make(lines: int, folder: Path) -> Path:
    blocks = []
    count = HEAD.count("\n")
    i = 0
    while count < lines:
        block = BLOCK.format(i=i)
        blocks.append(block)
        count += block.count("\n")
        i += 1
    path = folder / f"trace_{lines}.py"
    path.write_text(HEAD + "".join(blocks))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, nargs="+", default=[1000, 10_000])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"median of {args.rounds} paired rounds, whole processes")
    print(f"{'lines':>8} {'parse s':>8} {'convert s':>9} {'ratio':>6} {'parse MB':>8} {'convert MB':>10} "
          f"{'s/1k lines':>10}")
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.lines:
            path = make(size, Path(tmp))
            commands = {
                "parse": ([sys.executable, "-c", "import sys, libcst; libcst.parse_module(open(sys.argv[1]).read())",
                           str(path)], None),
                "convert": ([sys.executable, "-m", "replay", "convert", str(path), "--param", "Isosurfaces", "-q",
                             "-o", str(Path(tmp, "out.py"))], None),
            }
            found = paired(commands, args.rounds)
            (parse, parse_mb), (convert, convert_mb) = found["parse"], found["convert"]
            goal = f"   target <= 3: {'met' if convert / parse <= 3 else 'NOT met'}" if size == 10_000 else ""
            print(f"{size:>8} {parse:>8.2f} {convert:>9.2f} {convert / parse:>6.2f} {parse_mb:>8.0f} "
                  f"{convert_mb:>10.0f} {1000 * convert / size:>10.3f}{goal}")


if __name__ == "__main__":
    main()
