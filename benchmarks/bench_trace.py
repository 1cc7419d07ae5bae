"""Convert time and memory for large traces, as ratios to libcst's bare parse of the same text.

    python3 benchmarks/bench_trace.py [--lines 100000]

Each size runs in a fresh subprocess so peak memory (VmHWM) belongs to that one job.
Prints, per size: lines, bare parse seconds, convert seconds, convert/parse, peak MB for each,
and the seconds per 1,000 lines, which stays flat when time is linear in size.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

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

JOB = r"""
import json, re, sys, time
text = open(sys.argv[2]).read()
t = time.perf_counter()
if sys.argv[1] == "parse":
    import libcst
    libcst.parse_module(text)
else:
    import replay
    replay.convert_trace(text, params=["Isosurfaces"])
seconds = time.perf_counter() - t
# VmHWM, not ru_maxrss: Linux keeps ru_maxrss across exec (it would include the parent's peak).
peak_kb = int(re.search(r"VmHWM:\s*(\d+)", open("/proc/self/status").read()).group(1))
print(json.dumps({"seconds": seconds, "peak_mb": peak_kb / 1024}))
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


def measure(mode: str, path: Path) -> dict:
    out = subprocess.run([sys.executable, "-c", JOB, mode, str(path)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=100_000)
    args = parser.parse_args()
    import tempfile

    sizes = [args.lines // 10, args.lines // 3, args.lines]
    print(f"{'lines':>8} {'parse s':>8} {'convert s':>9} {'ratio':>6} {'parse MB':>8} {'convert MB':>10} {'s/1k lines':>10}")
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            path = make(size, Path(tmp))
            parse = measure("parse", path)
            convert = measure("convert", path)
            print(f"{size:>8} {parse['seconds']:>8.2f} {convert['seconds']:>9.2f} "
                  f"{convert['seconds'] / parse['seconds']:>6.2f} {parse['peak_mb']:>8.0f} {convert['peak_mb']:>10.0f} "
                  f"{1000 * convert['seconds'] / size:>10.3f}")


if __name__ == "__main__":
    main()
