"""Regenerate crashes-X.Y.json: which properties crash a real ParaView release when set to None or empty.

    python3 replay/pvtables/make_crashes.py /var/lib/replay/paraview/bin/pvpython-5.9   # writes crashes-5.9.json
    python3 replay/pvtables/make_crashes.py pvpython                                     # the host's release

Old tracers wrote some of those values as the defaults of a new view (`renderView2.AdditionalLights = None`
in 5.6); on 5.9-6.1 that assignment kills the process (SIGSEGV in vtkRenderer::AddLight). A crash kills the
probing process too, so the probe runs in a child pvpython (under xvfb-run) that prints each probe before
trying it; this parent, stdlib only, records the probe a child died in and starts a new child after it.
Each probe gets fresh objects (a new view, a new source and its display), so no probe inherits another's value.
Never imported by replay; the converter reads the JSON (replay/pvtables/crashes.py). Takes minutes per release.
"""
import json
import os
import signal
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
MARK_TRY, MARK_DONE, MARK_COUNT = "@@try ", "@@done ", "@@count "
XVFB = ["xvfb-run", "-a", "-s", "-screen 0 1280x1024x24 -noreset"]

# What a recording sets most: the render view, the displays of polygonal and image data, and common sources
# and filters (each filter on a Wavelet).
SOURCES = ("Sphere", "Cone", "Wavelet")
FILTERS = ("Contour", "Clip", "Slice", "Threshold", "Calculator", "Glyph")


# ---- the child: runs under pvpython ----

def _empty_like(value):
    return "" if isinstance(value, str) else []


def _targets(simple):
    """(kind, make) pairs: make() -> (proxy to probe, render, clean up)."""
    def view():
        v = simple.CreateView("RenderView")
        return v, lambda: simple.Render(v), lambda: simple.Delete(v)

    def display(source_name):
        def make():
            v = simple.CreateView("RenderView")
            s = getattr(simple, source_name)()
            d = simple.Show(s, v)

            def clean():
                simple.Delete(v)
                simple.Delete(s)
            return d, lambda: simple.Render(v), clean
        return make

    def source(name):
        def make():
            inputs = [] if name in SOURCES else [simple.Wavelet()]
            s = getattr(simple, name)(*inputs)

            def clean():
                simple.Delete(s)
                for i in inputs:
                    simple.Delete(i)
            return s, lambda: s.UpdatePipeline(), clean
        return make

    yield "RenderView", view
    yield "display:Sphere", display("Sphere")
    yield "display:Wavelet", display("Wavelet")
    for name in SOURCES + FILTERS:
        yield name, source(name)


def _probes(simple):
    """Every (kind, make, property, value) in a fixed order, so a new child finds where the last one died."""
    found = []
    for kind, make in _targets(simple):
        proxy, _render, clean = make()
        names = sorted(proxy.ListProperties())
        values = {name: proxy.GetPropertyValue(name) for name in names}
        xml = (proxy.GetXMLGroup(), proxy.GetXMLName())
        clean()
        for name in names:
            for value in (None, _empty_like(values[name])):
                found.append((kind, make, xml, name, value))
    return found


def child(start):
    import paraview.simple as simple

    probes = _probes(simple)
    print(MARK_COUNT + str(len(probes)), flush=True)
    for index in range(start, len(probes)):
        kind, make, (group, xml), name, value = probes[index]
        print(MARK_TRY + json.dumps([index, kind, group, xml, name, value]), flush=True)
        proxy, render, clean = make()
        try:
            setattr(proxy, name, value)
            render()
        except Exception:  # noqa: BLE001 - a Python error is no crash
            pass
        try:
            clean()
        except Exception:  # noqa: BLE001
            pass
        print(MARK_DONE + str(index), flush=True)


# ---- the parent: plain python3 ----

def probe_release(pvpython, log=sys.stderr):
    crashes, start, total = [], 0, None
    version = subprocess.run(XVFB + [pvpython, "-c", "from paraview.simple import GetParaViewVersion as v; "
                                     "print('@@version', v().major, v().minor)"],
                             capture_output=True, text=True).stdout.split("@@version")[-1].split()
    while total is None or start < total:
        proc = subprocess.Popen(XVFB + [pvpython, os.path.abspath(__file__), "--child", str(start)],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        trying = None
        for line in proc.stdout:
            if line.startswith(MARK_COUNT):
                total = int(line[len(MARK_COUNT):])
            elif line.startswith(MARK_TRY):
                trying = json.loads(line[len(MARK_TRY):])
            elif line.startswith(MARK_DONE):
                trying = None
                start = int(line[len(MARK_DONE):]) + 1
        code = proc.wait()
        if trying is None:
            if total is None or start < total:
                raise SystemExit("make_crashes: the child stopped (exit %s) outside a probe" % code)
            break
        index, kind, group, xml, name, value = trying
        number = -code if code < 0 else code - 128
        try:
            signame = signal.Signals(number).name
        except ValueError:
            signame = "exit %d" % code
        crashes.append({"kind": kind, "group": group, "proxy": xml, "property": name, "value": value,
                        "signal": signame})
        log.write("crash: %s %s.%s = %r (%s)\n" % (kind, xml, name, value, signame))
        start = index + 1
    return "%s.%s" % (version[0], version[1]), total, crashes


def main(argv):
    if len(argv) > 2 and argv[1] == "--child":
        child(int(argv[2]))
        return 0
    if len(argv) != 2:
        sys.stderr.write(__doc__)
        return 2
    version, total, crashes = probe_release(argv[1])
    path = os.path.join(HERE, "crashes-%s.json" % version)
    table = {"version": version, "probes": total,
             "how": "each property of the kinds below set to None, then to an empty value ('' or []), on fresh "
                    "objects, then rendered or updated; these killed the process",
             "kinds": ["RenderView", "display:Sphere", "display:Wavelet"] + list(SOURCES + FILTERS),
             "crashes": sorted(crashes, key=lambda c: (c["group"], c["proxy"], c["property"], repr(c["value"])))}
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        json.dump(table, f, indent=1, sort_keys=True)
        f.write("\n")
    os.replace(path + ".tmp", path)
    print("%s: %d probes, %d crashes" % (path, total, len(crashes)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
