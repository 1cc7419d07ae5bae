"""Read one real ParaView and write its version table (run under that version's pvpython; never imported by
replay, which needs no ParaView):

    xvfb-run -a pvpython replay/pvtables/make.py            # writes replay/pvtables/paraview-X.Y.json.gz

.ci/paraview-versions builds roots holding the other Debian releases; tests/test_pvtables.py checks that
every committed table is what its ParaView says. What a table holds, per version:

- "proxies": for each group a script meets (sources, filters, views, representations, color maps, ...),
  each proxy's XML name -> {python property name: default}, as paraview.simple spells them: enumerations
  by text, proxy-list properties by the XML name of their first (default) proxy;
- "lists": proxy-list values: {XML name: label} for every proxy a proxy-list domain offers (5.13+ traces
  write labels such as 'Grid Axes 3D Actor' where 5.11 wants 'GridAxes3DActor');
- "effective": what a new render view, display, colour map, opacity map and scalar bar look like once
  ParaView has made them through paraview.simple (palette, presets and settings applied): the defaults a
  recording relies on without writing them;
- "simple": every paraview.simple function's parameters and their defaults;
- "functions": the paraview.simple function of every source and filter -> its XML name (the function is named
  after the proxy's label, and labels change: 'Generate Surface Normals' became 'Surface Normals' in 5.13);
- "renamed": [old function, new function] pairs this release keeps the old name of, read from its
  paraview/_backwardscompatibilityhelper.py (get_deprecated_proxies, 5.13+) with the compatibility version at
  its oldest, where every pair is listed;
- "preset_renames": [old, new] colour preset names, read from the name tables of the release's
  _backwardscompatibilityhelper.py lookupTableUpdate (5.9 renamed 'jet' to 'Jet', 6.1 'Viridis (matplotlib)' to
  'Viridis').
"""
import gzip
import inspect
import json
import math
import os
import sys

import paraview
from paraview import servermanager as sm
import paraview.simple as simple

GROUPS = ("sources", "filters", "views", "representations", "lookup_tables", "piecewise_functions",
          "implicit_functions", "extended_sources", "animation", "misc", "layouts", "annotations",
          "point_locators", "incremental_point_locators", "props", "textures", "extractors",
          "extract_writers", "writers", "cameras")


def jsonable(value):
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return str(value)
        return float(repr(value)) if value != int(value) else value
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


def elements(prop):
    """The values of a vector property as paraview.simple would show them."""
    count = prop.GetNumberOfElements()
    enum = prop.FindDomain("vtkSMEnumerationDomain") if prop.IsA("vtkSMIntVectorProperty") else None
    values = []
    for i in range(count):
        v = prop.GetElement(i)
        if enum is not None:
            for e in range(enum.GetNumberOfEntries()):
                if enum.GetEntryValue(e) == v:
                    v = enum.GetEntryText(e)
                    break
        values.append(v)
    if prop.IsA("vtkSMDoubleVectorProperty"):
        values = [float(v) for v in values]
    if count == 1 and not prop.GetRepeatCommand():
        return jsonable(values[0])
    return jsonable(values)


def proxy_table(pxm, group, name, lists):
    proto = pxm.GetPrototypeProxy(group, name)
    if proto is None:
        return None
    props = {}
    it = proto.NewPropertyIterator()
    it.Begin()
    while not it.IsAtEnd():
        key, prop = it.GetKey(), it.GetProperty()
        it.Next()
        if prop.GetInformationOnly() or prop.GetIsInternal():
            continue
        pyname = paraview.make_name_valid(prop.GetXMLLabel() or key)
        if prop.IsA("vtkSMVectorProperty"):
            props[pyname] = elements(prop)
        elif prop.IsA("vtkSMProxyProperty"):
            domain = prop.FindDomain("vtkSMProxyListDomain")
            if domain is None:
                continue
            choices = []
            for i in range(domain.GetNumberOfProxyTypes()):
                g, n = domain.GetProxyGroup(i), domain.GetProxyName(i)
                sub = pxm.GetPrototypeProxy(g, n)
                label = (sub.GetXMLLabel() if sub is not None else None) or n
                lists[n] = label
                choices.append(n)
            props[pyname] = choices[0] if choices else None
    return props


def effective():
    """What a session gets from paraview.simple without asking: read from freshly made objects."""
    view = simple.CreateView("RenderView")
    source = simple.Wavelet()
    display = simple.Show(source, view)
    simple.ColorBy(display, ("POINTS", "RTData"))
    lut = simple.GetColorTransferFunction("RTData")
    pwf = simple.GetOpacityTransferFunction("RTData")
    bar = simple.GetScalarBar(lut, view)
    out = {}
    palette = simple.GetSettingsProxy("ColorPalette")
    for key, proxy in (("RenderView", view), ("Display", display), ("LookupTable", lut),
                       ("OpacityFunction", pwf), ("ScalarBar", bar), ("ColorPalette", palette)):
        values = {}
        for pyname in proxy.ListProperties():
            try:
                prop = proxy.GetProperty(pyname)
                smprop = prop.SMProperty
            except Exception:
                continue
            if smprop.GetInformationOnly() or not smprop.IsA("vtkSMVectorProperty"):
                continue
            values[pyname] = elements(smprop)
        out[key] = {"xml": proxy.GetXMLName(), "values": values}
    # Colour map points as fractions of the range: the range is the data's, the shape is the preset's.
    points = out["LookupTable"]["values"].get("RGBPoints")
    if isinstance(points, list) and len(points) >= 8:
        lo, hi = points[0], points[-4]
        span = (hi - lo) or 1.0
        out["LookupTable"]["preset_shape"] = [round((v - lo) / span, 6) if i % 4 == 0 else round(v, 6)
                                              for i, v in enumerate(points)]
    return out


def simple_signatures():
    """{function: {parameter: default}} (None when it has no default or one JSON cannot hold)."""
    table = {}
    for name, func in sorted(vars(simple).items()):
        if name.startswith("_") or not inspect.isfunction(func):
            continue
        try:
            parameters = inspect.signature(func).parameters.values()
        except (TypeError, ValueError):
            continue
        entry = {}
        for p in parameters:
            default = p.default
            if default is inspect.Parameter.empty or not isinstance(default, (int, float, str, bool, type(None))):
                default = None
            entry[p.name] = jsonable(default)
        table[name] = entry
    return table


def functions(pxm, definitions):
    """{paraview.simple function: XML name} of the sources and filters, as paraview.simple names them."""
    out = {}
    for group in ("sources", "filters"):
        it = definitions.NewSingleGroupIterator(group)
        it.InitTraversal()
        while not it.IsDoneWithTraversal():
            name = it.GetProxyName()
            it.GoToNextItem()
            proto = pxm.GetPrototypeProxy(group, name)
            if proto is not None:
                out.setdefault(paraview.make_name_valid(proto.GetXMLLabel() or name), name)
    return dict(sorted(out.items()))


def renamed():
    helper = paraview._backwardscompatibilityhelper
    deprecated = getattr(helper, "get_deprecated_proxies", None)
    if deprecated is None:  # before 5.13 no proxy kept an old name this way
        return []
    paraview.compatibility.major, paraview.compatibility.minor = 4, 0
    try:
        pairs = deprecated(sm.ActiveConnection.ProxiesNS)
    finally:
        paraview.compatibility.major = paraview.compatibility.minor = None
    return sorted([old, new] for group in pairs.values() for old, new in group)


def preset_renames():
    import ast
    import textwrap

    source = textwrap.dedent(inspect.getsource(paraview._backwardscompatibilityhelper.lookupTableUpdate))
    pairs = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values):
                if isinstance(key, ast.Constant) and isinstance(value, ast.Constant) and \
                        isinstance(key.value, str) and isinstance(value.value, str):
                    pairs.add((key.value, value.value))
    return sorted(list(pair) for pair in pairs)


def main():
    pxm = sm.vtkSMProxyManager.GetProxyManager().GetActiveSessionProxyManager()
    definitions = pxm.GetProxyDefinitionManager()
    version = "%d.%d.%d" % (sm.vtkSMProxyManager.GetVersionMajor(), sm.vtkSMProxyManager.GetVersionMinor(),
                            sm.vtkSMProxyManager.GetVersionPatch())
    proxies, lists = {}, {}
    for group in GROUPS:
        it = definitions.NewSingleGroupIterator(group)
        it.InitTraversal()
        names = []
        while not it.IsDoneWithTraversal():
            names.append(it.GetProxyName())
            it.GoToNextItem()
        for name in sorted(set(names)):
            table = proxy_table(pxm, group, name, lists)
            if table:
                proxies.setdefault(group, {})[name] = table
    table = {"version": version, "proxies": proxies, "lists": dict(sorted(lists.items())),
             "effective": effective(), "simple": simple_signatures(), "functions": functions(pxm, definitions),
             "renamed": renamed(), "preset_renames": preset_renames()}
    major_minor = ".".join(version.split(".")[:2])
    target = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "paraview-%s.json.gz" % major_minor)
    text = json.dumps(table, sort_keys=True, separators=(",", ":"))
    tmp = target + ".tmp"
    # mtime=0: the same ParaView gives the same bytes.
    with open(tmp, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as f:
            f.write(text.encode("utf-8"))
    os.replace(tmp, target)
    print("%s: ParaView %s, %d proxies, %d bytes" % (target, version, sum(map(len, proxies.values())),
                                                     os.path.getsize(target)))


main()
