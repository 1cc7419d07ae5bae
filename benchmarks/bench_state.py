"""Convert time and memory for multi-megabyte states, as ratios to lxml's bare parse of the same file.

    python3 benchmarks/bench_state.py [--state fixtures/states/contour.pvsm] [--proxies 20000]

The state is real-shaped: every pipeline source of a state ParaView saved (reader, filters) is
copied again and again with fresh ids and names, views and the rest left as they were, until the
state holds --proxies pipeline proxies. Times: both in this process, best of --repeat. Peak memory
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


def _blocks(text: str, ids: set) -> list[str]:
    """The <Proxy> elements (as text) of the given ids."""
    found = []
    for match in re.finditer(r'\n    <Proxy group="[^"]*" type="[^"]*" id="(\d+)".*?\n    </Proxy>', text, re.S):
        if match.group(1) in ids:
            found.append(match.group(0))
    return found


def make(template: str, proxies: int) -> str:
    sources = re.search(r'<ProxyCollection name="sources">(.*?)</ProxyCollection>', template, re.S)
    items = re.findall(r'<Item id="(\d+)" name="([^"]*)"', sources.group(1))
    blocks = _blocks(template, {pid for pid, _ in items})
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
    args = parser.parse_args()
    from lxml import etree

    import replay
    from replay.state.read import parser as safe_parser

    template = Path(args.state).read_text(encoding="utf-8")
    print(f"{'proxies':>8} {'MB':>6} {'lxml parse s':>12} {'convert s':>9} {'ratio':>6} {'parse peak MB':>13} "
          f"{'convert peak MB':>15} {'ratio':>6}")
    folder = Path(tempfile.mkdtemp())
    for count in (args.proxies // 10, args.proxies // 3, args.proxies):
        text = make(template, count)
        total = text.count("<Proxy group=")
        data = text.encode("utf-8")
        parse = best(lambda: etree.fromstring(data, safe_parser()), args.repeat)
        convert = best(lambda: replay.convert_state(text, ["Contour1.ContourValues"], source_name="big.pvsm"),
                       args.repeat)
        path = folder / f"state_{count}.pvsm"
        path.write_bytes(data)
        memory = peak_mb("parse", path), peak_mb("convert", path)
        path.unlink()
        print(f"{total:>8} {len(data) / 1e6:>6.1f} {parse:>12.3f} {convert:>9.3f} {convert / parse:>6.1f} "
              f"{memory[0]:>13.0f} {memory[1]:>15.0f} {memory[1] / memory[0]:>6.1f}")
    folder.rmdir()


if __name__ == "__main__":
    main()
