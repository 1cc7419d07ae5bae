"""Benchmark: K separate pvbatch runs vs one `replay sweep` (persistent worker) of the same K variants.

    python3 benchmarks/bench_sweep.py [--k 6] [--big-extent 100]

Two data sets: the small fixture wave.vti, and a big .vti generated now with pvpython (a Wavelet of
(2E+1)^3 points) so that reading dominates. Both sides run the contour replay with K contour values, one
process at a time (-j 1); the baseline is measured in the same run. Prints seconds and the ratio
separate / sweep (>1 means the sweep is faster), and checks that one image of each side is the same.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "fixtures"))
sys.path.insert(0, str(ROOT / "tests"))

MAKE_BIG = """
import sys
from paraview.simple import Wavelet, SaveData
e = int(sys.argv[2])
w = Wavelet(WholeExtent=[-e, e, -e, e, -e, e])
SaveData(sys.argv[1], proxy=w)  # zlib-compressed, ParaView's default: reading costs what it costs users
"""


def make_big(path: Path, extent: int) -> None:
    script = path.with_suffix(".make.py")
    script.write_text(MAKE_BIG)
    from replay.runner import pvbatch_command

    command = pvbatch_command() + [str(script), str(path), str(extent)]
    subprocess.run(command, check=True, capture_output=True)


def bench(script: Path, data: str, values: list, work: Path) -> tuple[float, float, float, float]:
    import replay
    from pv import image_difference

    separate = work / "separate"
    start = time.monotonic()
    for v in values:
        result = replay.run(script, {"FileName": data, "Isosurfaces": v, "output-dir": separate / str(v)})
        assert result.ok, result.error
    t_separate = time.monotonic() - start

    start = time.monotonic()
    result = replay.sweep(script, [{"FileName": data, "Isosurfaces": v} for v in values], out_dir=work / "sweep")
    t_sweep = time.monotonic() - start
    assert result.ok, [r["error"] for r in result.failed]
    last = result.rows[-1]
    pixels, _ = image_difference(separate / str(values[-1]) / "contour.png",
                                 work / "sweep" / last["folder"] / "contour.png")
    assert pixels == 0, f"sweep image differs from the separate run's: {pixels} pixels"
    new = [r["seconds"] for r in result.rows if r.get("pipeline") == "new"]
    kept = [r["seconds"] for r in result.rows if r.get("pipeline") == "kept"]
    return t_separate, t_sweep, sum(new) / max(1, len(new)), sum(kept) / max(1, len(kept))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--k", type=int, default=6)
    parser.add_argument("--big-extent", type=int, default=100)
    args = parser.parse_args()
    import paths

    paths.install_data()
    from replay.cli import main as cli

    work = Path(tempfile.mkdtemp(prefix="bench-sweep-"))
    try:
        script = work / "contour_replay.py"
        try:
            cli(["convert", str(ROOT / "fixtures/traces/contour.py"), "-o", str(script), "-p", "Isosurfaces", "-q"])
        except SystemExit as exc:
            assert not exc.code, "convert failed"
        big = work / "big.vti"
        start = time.monotonic()
        make_big(big, args.big_extent)
        points = (2 * args.big_extent + 1) ** 3
        print(f"generated {big.name}: {points / 1e6:.1f} M points, {big.stat().st_size / 1e6:.0f} MB "
              f"in {time.monotonic() - start:.1f} s")
        values = [100 + 20 * i for i in range(args.k)]
        print(f"K = {args.k} contour values, one process at a time")
        print(f"{'data':<8}{'separate s':>12}{'sweep s':>10}{'ratio':>8}   sweep run: first (reads) / kept pipeline")
        for name, data in (("small", f"{paths.CANONICAL_DATA}/wave.vti"), ("big", str(big))):
            t_separate, t_sweep, first, kept = bench(script, data, values, work / name)
            print(f"{name:<8}{t_separate:>12.2f}{t_sweep:>10.2f}{t_separate / t_sweep:>7.1f}x   "
                  f"{first:.2f} s / {kept:.2f} s")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
