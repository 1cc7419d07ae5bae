"""Benchmark: `replay sweep` (kept-pipeline workers) vs the same runs as separate pvbatch processes.

    python3 benchmarks/bench_sweep.py [--repeat 3] [--cases local3,local20,big,slurm20,mpi20] [--big-extent 100]

Every ratio is separate / sweep (>1 means the sweep is faster), both sides measured in this run, one process at a
time (-j 1), medians of --repeat rounds:
- local3, local20: 3 and 20 contour values of the bundled contour replay on the small fixture wave.vti;
  the baseline is one `pvbatch` per run (replay.run).
- big: a read-dominated case, 6 contour values on a big .vti generated now with pvbatch (a zlib-compressed
  Wavelet of (2E+1)^3 points): reading dominates, the contour is cheap.
- slurm20: 20 runs with --backend slurm on the single-node cluster (.ci/slurm-up): the default array (tasks
  that keep the pipeline, --runs-per-task 10) vs --separate (one pvbatch per array task).
- mpi20: 20 runs with --mpi 2: one `mpiexec -n 2 pvbatch` worker vs a separate `mpiexec -n 2 pvbatch` per run.
Each case checks that the last image of both sides is the same. Targets (issue 12): local3 >= 2.2x, local20 >= 5x,
slurm20 >= 3x, mpi20 >= 3x.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
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
    from replay.batch.runner import pvbatch_command

    command = pvbatch_command() + [str(script), str(path), str(extent)]
    subprocess.run(command, check=True, capture_output=True)


def values(k: int) -> list:
    return [round(100 + 100 * i / max(1, k - 1), 3) for i in range(k)]


def separate_runs(script: Path, data: str, vals: list, out: Path, mpi=None) -> float:
    import replay

    start = time.monotonic()
    for v in vals:
        # The timeout bounds a hang: pvbatch 5.11 under MPI on a loaded machine was seen to deadlock (IceT).
        result = replay.run(script, {"FileName": data, "Isosurfaces": v, "output-dir": out / str(v)}, mpi=mpi,
                            timeout=300)
        assert result.ok, result.error
    return time.monotonic() - start


def sweep_runs(script: Path, data: str, vals: list, out: Path, **options) -> tuple[float, object]:
    import replay

    start = time.monotonic()
    result = replay.sweep(script, [{"FileName": data, "Isosurfaces": v} for v in vals], out_dir=out, timeout=300,
                          **options)
    seconds = time.monotonic() - start
    assert result.ok, [r["error"] for r in result.failed]
    return seconds, result


def same_last_image(a: Path, b: Path, mpi: bool = False) -> None:
    from pv import image_difference

    pixels, channel = image_difference(a, b)
    # Separate MPI runs differ from each other by compositing noise too: allow that much there.
    assert pixels == 0 or (mpi and channel <= 2), f"{a} differs from {b}: {pixels} pixels, up to {channel}"


def case(name: str, script: Path, data: str, k: int, work: Path, mode: str) -> tuple[float, float, str]:
    vals = values(k)
    base = work / name
    shutil.rmtree(base, ignore_errors=True)
    if mode == "slurm":
        t_base, reference = sweep_runs(script, data, vals, base / "separate", backend="slurm", separate=True)
        t_sweep, result = sweep_runs(script, data, vals, base / "sweep", backend="slurm")
        left = base / "separate" / reference.rows[-1]["folder"] / "contour.png"
    else:
        mpi = 2 if mode == "mpi" else None
        t_base = separate_runs(script, data, vals, base / "separate", mpi=mpi)
        t_sweep, result = sweep_runs(script, data, vals, base / "sweep", mpi=mpi)
        left = base / "separate" / str(vals[-1]) / "contour.png"
    same_last_image(left, base / "sweep" / result.rows[-1]["folder"] / "contour.png", mpi=mode == "mpi")
    first = [r["seconds"] for r in result.rows if r.get("pipeline") == "new"]
    kept = [r["seconds"] for r in result.rows if r.get("pipeline") == "kept"]
    detail = (f"first {statistics.median(first):.2f} s, kept {statistics.median(kept):.2f} s"
              if first and kept else "")
    shutil.rmtree(base, ignore_errors=True)
    return t_base, t_sweep, detail


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cases", default="local3,local20,big,slurm20,mpi20")
    parser.add_argument("--big-extent", type=int, default=100)
    args = parser.parse_args()
    import paths

    paths.install_data()
    from replay.cli.app import main as cli

    work = Path(tempfile.mkdtemp(prefix="bench-sweep-"))
    # pvbatch reads ~/.config/ParaView/ParaView-UserSettings.json at start: a shared HOME where something
    # writes there mid-run changes the background of some runs. Both sides get a HOME of their own.
    os.environ["HOME"] = str(work)
    try:
        script = work / "contour_replay.py"
        try:
            cli(["convert", str(ROOT / "fixtures/traces/contour.py"), "-o", str(script), "-p", "Isosurfaces", "-q"])
        except SystemExit as exc:
            assert not exc.code, "convert failed"
        small = f"{paths.CANONICAL_DATA}/wave.vti"
        cases = {"local3": (small, 3, "local"), "local20": (small, 20, "local"), "big": (None, 6, "local"),
                 "slurm20": (small, 20, "slurm"), "mpi20": (small, 20, "mpi")}
        chosen = [c.strip() for c in args.cases.split(",") if c.strip()]
        if "big" in chosen:
            big = work / "big.vti"
            start = time.monotonic()
            make_big(big, args.big_extent)
            points = (2 * args.big_extent + 1) ** 3
            print(f"generated {big.name}: {points / 1e6:.1f} M points, {big.stat().st_size / 1e6:.0f} MB "
                  f"in {time.monotonic() - start:.1f} s")
            cases["big"] = (str(big), 6, "local")
        print(f"medians of {args.repeat} rounds; separate / sweep (>1: the sweep is faster)")
        print(f"{'case':<9}{'runs':>5}{'separate s':>12}{'sweep s':>10}{'ratio':>8}   rounds; sweep's runs")
        for name in chosen:
            data, k, mode = cases[name]
            rounds = [case(name, script, data, k, work, mode) for _ in range(args.repeat)]
            ratios = [b / s for b, s, _ in rounds]
            t_base = statistics.median(b for b, _, _ in rounds)
            t_sweep = statistics.median(s for _, s, _ in rounds)
            print(f"{name:<9}{k:>5}{t_base:>12.2f}{t_sweep:>10.2f}{statistics.median(ratios):>7.1f}x   "
                  f"{' '.join(f'{r:.1f}' for r in ratios)}; {rounds[-1][2]}", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
