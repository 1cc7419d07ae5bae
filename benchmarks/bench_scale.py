"""Benchmark: studies of 100,000 runs and more (issue 20). No SLURM needed: the study is planned and written as
`replay sweep --backend slurm --dry-run` does (plan, then tasks.jsonl + tasks.idx + the array scripts).

    python3 benchmarks/bench_scale.py [--repeat 3] [--no-million] [--no-browser]

Prints, each figure measured in this run:
- plan+write: 100,000 runs from a table and from a grid (1000 x 100): wall and CPU seconds and peak memory of the
  whole process; baselines in the same rounds: the same with 10,000 runs (ratio ~10 when the cost is linear) and
  the interpreter with the sweep command loaded (`replay sweep --help`: what every sweep costs anyway).
  Targets: <= 5 s, <= 150 MB.
- linear: a 1,000,000-run grid (1000 x 1000) against the 100,000-run one: time ratio ~10.
- task reads: the bytes one array task reads of the study (its tasks.idx entry and its line of tasks.jsonl, counted
  by the kernel: /proc/self/io rchar) against the whole tasks.jsonl, which every task read before. Target <= 64 KB.
- gallery: index.html of a 100,000-run study opened in headless Chromium (chromedriver): seconds until the first
  screen is drawn and its images loaded, and how many elements the page holds, against a 1,000-run study.
  Target <= 2 s.
"""
from __future__ import annotations

import argparse
import json
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

SPEC = {"source": "scale.py", "parameters": [
    {"name": "Radius", "kind": "property", "proxy": "s", "property": "Radius", "default": 1.0, "line": 1,
     "type": "float", "nargs": None},
    {"name": "Resolution", "kind": "property", "proxy": "s", "property": "ThetaResolution", "default": 8,
     "line": 1, "type": "int", "nargs": None},
    {"name": "output-dir", "kind": "output", "proxy": None, "property": None, "default": None, "line": None}]}


def _script(folder: Path) -> Path:
    script = folder / "scale_replay.py"
    script.write_text("import json as _replay_json\n\n_REPLAY_SPEC = _replay_json.loads(r'''"
                      + json.dumps(SPEC) + "''')\n")
    return script


def _table(folder: Path, n: int) -> Path:
    path = folder / f"table{n}.csv"
    with open(path, "w") as f:
        f.write("Radius,Resolution\n")
        for i in range(n):
            f.write(f"{1 + i / n:.7f},{8 + i % 50}\n")
    return path


def _grid(rows: int, cols: int) -> list[str]:
    return ["--grid", "Radius=" + ",".join(f"{1 + i / rows:.6f}" for i in range(rows)),
            "--grid", "Resolution=" + ",".join(str(3 + i) for i in range(cols))]


def measure(command: list[str]) -> tuple[float, float, float]:
    """(wall s, CPU s, peak MB) of one whole process."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env=dict(os.environ, PYTHONPATH=str(ROOT)))
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode("utf-8", "replace")
    proc.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"failed: {' '.join(command)[:300]}\n{err[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def planning(work: Path, repeat: int, million: bool) -> None:
    script = _script(work)
    replay = [sys.executable, "-m", "replay"]
    cases = {
        "startup (replay sweep --help)": replay + ["sweep", "--help"],
        "table 10,000": replay + ["sweep", str(script), "--table", str(_table(work, 10_000))],
        "table 100,000": replay + ["sweep", str(script), "--table", str(_table(work, 100_000))],
        "grid 10,000 (100x100)": replay + ["sweep", str(script), *_grid(100, 100)],
        "grid 100,000 (1000x100)": replay + ["sweep", str(script), *_grid(1000, 100)],
    }
    if million:
        cases["grid 1,000,000 (1000x1000)"] = replay + ["sweep", str(script), *_grid(1000, 1000)]
    figures = {label: [] for label in cases}
    for k in range(repeat):
        for label in (list(cases) if k % 2 == 0 else list(cases)[::-1]):
            command = cases[label]
            if label.startswith(("table", "grid")):
                out = work / f"out-{k}-{label.split()[0]}-{label.split()[1]}"
                command = command + ["--backend", "slurm", "--dry-run", "-o", str(out)]
            figures[label].append(measure(command))
            for folder in work.glob("out-*"):
                shutil.rmtree(folder)
    med = {label: tuple(statistics.median(f[i] for f in runs) for i in range(3)) for label, runs in figures.items()}
    print(f"plan + write (replay sweep --backend slurm --dry-run), median of {repeat} rounds:")
    print(f"  {'':30s} {'wall s':>8s} {'CPU s':>8s} {'peak MB':>8s}")
    for label, (wall, cpu, peak) in med.items():
        print(f"  {label:30s} {wall:8.2f} {cpu:8.2f} {peak:8.1f}")
    base = med["startup (replay sweep --help)"]
    for kind, small, big in (("table", "table 10,000", "table 100,000"),
                             ("grid", "grid 10,000 (100x100)", "grid 100,000 (1000x100)")):
        b, s = med[big], med[small]
        print(f"  {kind}: 100,000 / 10,000 runs: CPU x{b[1] / s[1]:.1f}, peak x{b[2] / s[2]:.1f}; "
              f"peak above startup: {b[2] - base[2]:.0f} MB; target <= 5 s ({'met' if b[0] <= 5 else 'MISSED'} "
              f"wall, {'met' if b[1] <= 5 else 'MISSED'} CPU) and <= 150 MB ({'met' if b[2] <= 150 else 'MISSED'})")
    if million:
        m, h = med["grid 1,000,000 (1000x1000)"], med["grid 100,000 (1000x100)"]
        print(f"  linear: 1,000,000 / 100,000 grid runs: wall x{m[0] / h[0]:.1f}, CPU x{m[1] / h[1]:.1f} "
              f"(10 = linear), peak x{m[2] / h[2]:.1f}")


def _rchar() -> int:
    with open("/proc/self/io") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("rchar:"))


def task_reads(work: Path) -> None:
    from replay.batch import task_file
    from replay.batch.plan import plan
    from replay.batch.slurm import write_array
    from replay.batch.slurm_limits import Limits

    script = _script(work)
    table = _table(work, 100_000)
    runs = plan(script.read_text(), str(script), table=str(table))
    print("bytes one array task reads (100,000 runs; kernel count of read bytes):")
    for per_task in (1, 10, 100):
        out = work / f"reads-{per_task}"
        job = write_array(script, runs, out, per_task=per_task, session=lambda run: "one",
                          limits=Limits(max_job_count=10 ** 6))
        whole = job.tasks.stat().st_size
        worst = 0
        for index in (0, job.count // 2, job.count - 1):
            before = _rchar()
            task = task_file.read_task(str(job.tasks), index)
            worst = max(worst, _rchar() - before)
            assert len(task["runs"]) <= per_task
        print(f"  --runs-per-task {per_task:3d}: {job.count:6d} tasks, a task reads {worst:6d} bytes "
              f"(target <= 65,536: {'met' if worst <= 65536 else 'MISSED'}); the whole study's tasks.jsonl: "
              f"{whole / 1e6:.1f} MB (what each task read before: x{whole / worst:,.0f})")
        shutil.rmtree(out)


def gallery(work: Path, repeat: int) -> None:
    from PIL import Image
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.support.ui import WebDriverWait

    from replay.batch.study import write_records

    header = {"replay_sweep": 1, "script": "/x/scale_replay.py", "script_name": "scale_replay.py",
              "script_sha256": "0"}
    pages = {}
    for label, rows_n, cols_n in (("1,000 runs", 100, 10), ("100,000 runs", 1000, 100)):
        out = work / f"gallery-{rows_n * cols_n}"
        out.mkdir()
        rows = []
        for a in range(rows_n):
            for b in range(cols_n):
                folder = f"Radius={a},Resolution={b}"
                rows.append({"folder": folder, "params": {"Radius": str(a), "Resolution": str(b)},
                             "status": "ok", "returncode": 0, "seconds": 1.0, "outputs": ["shot.png"],
                             "error": None, "key": folder})
                if a < 12 and b < 12:  # the images of what can be on the first screen
                    (out / folder).mkdir()
                    Image.new("RGB", (200, 150), (a * 20 % 256, b * 20 % 256, 128)).save(out / folder / "shot.png")
        start = time.perf_counter()
        write_records(out, header, rows)
        written = time.perf_counter() - start
        pages[label] = (out / "index.html", written)

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking", f"--user-data-dir={work / 'profile'}",
                 "--window-size=1280,1024"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=shutil.which("chromedriver") or "/usr/bin/chromedriver"),
                              options=options)
    driver.set_page_load_timeout(120)
    print("gallery (index.html) in headless Chromium, 1280x1024 window, median of "
          f"{repeat} loads after one warm-up:")
    try:
        results = {}
        for label, (page, written) in pages.items():
            times = []
            for k in range(repeat + 1):
                driver.get("about:blank")
                start = time.perf_counter()
                driver.get(page.as_uri())
                WebDriverWait(driver, 60).until(lambda d: d.execute_script(
                    "var c=document.querySelectorAll('#view td[data-folder]');"
                    "return c.length>0 && Array.from(document.images).every(function(i){return i.complete;});"))
                if k:
                    times.append(time.perf_counter() - start)
            cells, elements, images = driver.execute_script(
                "return [document.querySelectorAll('#view td').length, document.getElementsByTagName('*').length,"
                " Array.from(document.images).filter(function(i){return i.naturalWidth>0;}).length]")
            results[label] = statistics.median(times)
            print(f"  {label:13s}: first screen {results[label]:.2f} s ({cells} cells, {images} images loaded, "
                  f"{elements} elements in the page); page {page.stat().st_size / 1e6:.1f} MB, records written "
                  f"in {written:.1f} s")
        big, small = results["100,000 runs"], results["1,000 runs"]
        print(f"  100,000 / 1,000 runs: x{big / small:.1f}; target <= 2 s: {'met' if big <= 2 else 'MISSED'}")
    finally:
        driver.quit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-million", action="store_true", help="skip the 1,000,000-run grid (~1 min)")
    parser.add_argument("--no-browser", action="store_true", help="skip the gallery in Chromium")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="replay-bench-scale-") as folder:
        work = Path(folder)
        planning(work, args.repeat, not args.no_million)
        task_reads(work)
        if not args.no_browser:
            gallery(work, args.repeat)


if __name__ == "__main__":
    main()
