"""Convert time and memory for multi-megabyte states, as ratios to lxml's bare parse of the same file.

    python3 benchmarks/bench_state.py [--state fixtures/states/contour.pvsm] [--proxies 20000] [--shape both]

The states are real-shaped, grown from one ParaView saved: with shape "sources" every pipeline source
(reader, filters) is copied again and again with fresh ids and names, views and the rest left as they
were, until the state holds about --proxies proxies; with shape "pipelines" the sources are copied
together with their representations, color maps and other per-pipeline proxies (views, animation and
settings stay single), as a state of many pipelines looks. Times: both in this process, best of --repeat. Peak memory
(VmHWM): each in a fresh subprocess, so it belongs to that one job.
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


# One of each per state: views, the animation scene and cues, settings, the time keeper, layouts.
SINGLETONS = ("views", "animation", "settings", "misc", "timekeeper", "layouts")


def _blocks(text: str, ids: set | None) -> list[str]:
    """The <Proxy> elements (as text) of the given ids, or (None) of every proxy but the singletons."""
    found = []
    pattern = r'\n    <Proxy group="([^"]*)" type="[^"]*" id="(\d+)".*?\n    </Proxy>'
    for match in re.finditer(pattern, text, re.S):
        if (match.group(2) in ids) if ids is not None else (match.group(1) not in SINGLETONS):
            found.append(match.group(0))
    return found


def make(template: str, proxies: int, shape: str = "sources") -> str:
    """shape 'sources': only the pipeline sources are copied (every proxy is a reader or a filter, the
    most work per byte); 'pipelines': sources with their representations, color maps and the rest, as a
    state of many pipelines in a few views looks."""
    sources = re.search(r'<ProxyCollection name="sources">(.*?)</ProxyCollection>', template, re.S)
    items = re.findall(r'<Item id="(\d+)" name="([^"]*)"', sources.group(1))
    blocks = _blocks(template, {pid for pid, _ in items} if shape == "sources" else None)
    top = max(int(i) for i in re.findall(r'\bid="(\d+)', template)) + 1
    copies = max(1, proxies // len(blocks))
    new_blocks, new_items = [], []
    ref = re.compile(r'(<Proxy value="|\bid=")(\d+)')
    for k in range(1, copies):
        offset = k * top
        for block in blocks:
            new_blocks.append(ref.sub(lambda m: f"{m.group(1)}{int(m.group(2)) + offset}", block))
        for pid, name in items:
            new_items.append(f'\n      <Item id="{int(pid) + offset}" name="{name}_{k}"/>')
    state_end = template.index("\n    <ProxyCollection")
    text = template[:state_end] + "".join(new_blocks) + template[state_end:]
    at = text.index('<ProxyCollection name="sources">') + len('<ProxyCollection name="sources">')
    return text[:at] + "".join(new_items) + text[at:]


JOB = r"""
import json, re, sys
sys.path.insert(0, sys.argv[3])
text = open(sys.argv[2], encoding="utf-8").read()
if sys.argv[1] == "parse":
    from lxml import etree
    from replay.state.read import parser
    etree.fromstring(text.encode("utf-8"), parser())
else:
    import replay
    replay.convert_state(text, ["Contour1.ContourValues"], source_name="big.pvsm")
# VmHWM, not ru_maxrss: Linux keeps ru_maxrss across exec, so it would report this big parent's peak.
peak_kb = int(re.search(r"VmHWM:\s*(\d+)", open("/proc/self/status").read()).group(1))
print(json.dumps({"peak_mb": peak_kb / 1024}))
"""


def peak_mb(mode: str, path: Path) -> float:
    out = subprocess.run([sys.executable, "-c", JOB, mode, str(path), str(ROOT)], capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout)["peak_mb"]


def best(function, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--state", default=str(ROOT / "fixtures" / "states" / "contour.pvsm"))
    parser.add_argument("--proxies", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--shape", choices=("sources", "pipelines", "both"), default="both")
    args = parser.parse_args()
    from lxml import etree

    import replay
    from replay.state.read import parser as safe_parser

    template = Path(args.state).read_text(encoding="utf-8")
    print(f"{'shape':>9} {'proxies':>8} {'MB':>6} {'lxml parse s':>12} {'convert s':>9} {'ratio':>6} {'parse peak MB':>13} "
          f"{'convert peak MB':>15} {'ratio':>6}")
    folder = Path(tempfile.mkdtemp())
    shapes = ("sources", "pipelines") if args.shape == "both" else (args.shape,)
    for shape, count in [(s, c) for s in shapes for c in (args.proxies // 10, args.proxies // 3, args.proxies)]:
        text = make(template, count, shape)
        total = text.count("<Proxy group=")
        data = text.encode("utf-8")
        parse = best(lambda: etree.fromstring(data, safe_parser()), args.repeat)
        convert = best(lambda: replay.convert_state(text, ["Contour1.ContourValues"], source_name="big.pvsm"),
                       args.repeat)
        path = folder / f"state_{shape}_{count}.pvsm"
        path.write_bytes(data)
        memory = peak_mb("parse", path), peak_mb("convert", path)
        path.unlink()
        print(f"{shape:>9} {total:>8} {len(data) / 1e6:>6.1f} {parse:>12.3f} {convert:>9.3f} {convert / parse:>6.1f} "
              f"{memory[0]:>13.0f} {memory[1]:>15.0f} {memory[1] / memory[0]:>6.1f}")
    folder.rmdir()


if __name__ == "__main__":
    main()
