# ---- replay version adapter (copied verbatim from replay/script/adapt.py; stdlib and paraview only) ----
# A script is converted once and may run on any ParaView. The converter wrote _REPLAY_RECORDED from the
# version tables of real releases (replay/pvtables): the defaults of the properties the recording sets, as
# the recording's version had them, and the looks (background, colour map, lighting) its version gave
# without writing them down. Here, before the recording runs, the ParaView found at run time is adapted.

_REPLAY_ADAPTED = {"warned": set(), "pinned": set()}


def _replay_running_version():
    from paraview import servermanager

    manager = servermanager.vtkSMProxyManager
    return (manager.GetVersionMajor(), manager.GetVersionMinor())


def _replay_recording_frame():
    """The frame of the recording's statement that is running (not the adapter's, not ParaView's)."""
    return _replay_statement_frame(lambda frame: isinstance(frame.f_locals.get("self"), _ReplayAbsent))


def _replay_where():
    """The recording's line of the statement that is running, with its text (as the guards and crash reports)."""
    frame = _replay_recording_frame()
    if frame is None:
        return "?"
    source, line, text = _replay_recorded_line(frame)
    return "%s:%d: %s" % (source, line, text) if text else "%s:%d" % (source, line)


def _replay_in_defaults_block():
    """Is the running statement in a block the tracer wrote under one of those comments (runtime.py)?"""
    frame = _replay_recording_frame()
    return False if frame is None else _replay_defaults_block(frame)


def _replay_warn(message):
    where = _replay_where()
    key = (where, message)
    if key in _REPLAY_ADAPTED["warned"]:
        return
    _REPLAY_ADAPTED["warned"].add(key)
    _replay_sys.stderr.write("replay: %s: %s\n" % (where, message))


def _replay_same(recorded, value):
    """Does a value given by the recording equal a table value (JSON: lists for tuples, floats as written)?"""
    if isinstance(value, (list, tuple)) and isinstance(recorded, (list, tuple)):
        return len(value) == len(recorded) and all(_replay_same(r, v) for r, v in zip(recorded, value))
    if isinstance(value, (list, tuple)) and len(value) == 1:
        return _replay_same(recorded, value[0])
    if isinstance(recorded, (int, float)) and isinstance(value, (int, float)) and not isinstance(value, bool):
        return abs(float(recorded) - float(value)) <= 1e-9 * max(1.0, abs(float(recorded)))
    if isinstance(recorded, str) and isinstance(value, str):
        return _replay_key(recorded) == _replay_key(value)
    if hasattr(value, "GetXMLName") and isinstance(recorded, str):
        return recorded in (value.GetXMLName(), value.GetXMLLabel())
    return recorded == value


def _replay_key(text):
    # 'Grid Axes 3D Actor' (5.13+ labels) and 'GridAxes3DActor' (5.11 XML names) are one choice.
    return "".join(c for c in str(text).lower() if c.isalnum())


def _replay_recorded_default(recorded, proxy, name):
    """(known, default) of a property for this proxy's type, as the recording's version had it."""
    by_type = recorded["defaults"].get(name) or {}
    xml = proxy.GetXMLName() if hasattr(proxy, "GetXMLName") else None
    if xml in by_type:
        return True, by_type[xml]
    return False, None


def _replay_choices(proxy, name):
    """The values this ParaView accepts for an enumeration or proxy-list property, each as (key, value)."""
    try:
        prop = proxy.GetProperty(name)
    except Exception:
        return []
    smprop = getattr(prop, "SMProperty", None)
    if smprop is None:
        return []
    found = []
    domain = smprop.FindDomain("vtkSMProxyListDomain")
    if domain is not None:
        for i in range(domain.GetNumberOfProxies()):
            choice = domain.GetProxy(i)
            for word in (choice.GetXMLName(), choice.GetXMLLabel()):
                if word:
                    found.append((_replay_key(word), word))
    domain = smprop.FindDomain("vtkSMEnumerationDomain")
    if domain is not None:
        for i in range(domain.GetNumberOfEntries()):
            found.append((_replay_key(domain.GetEntryText(i)), domain.GetEntryText(i)))
    return found


def _replay_install_setattr(recorded, running):
    from paraview import servermanager

    original_set = servermanager.Proxy.__setattr__
    original_get = servermanager.Proxy.__getattr__
    recorded_name, running_name = "%d.%d" % tuple(recorded["version"]), "%d.%d" % running

    def _replay_lacks(proxy, name, value, what):
        known, default = _replay_recorded_default(recorded, proxy, name)
        # A proxy-list value is written by its label from 5.13 on ('Uniform Binning'), the table has XML names.
        alias = recorded.get("lists", {}).get(value) if isinstance(value, str) else None
        if known and (_replay_same(default, value) or (alias is not None and _replay_same(default, alias))):
            return  # the recording wrote the default its version had
        block = _replay_in_defaults_block()
        # Under "create a new" a source or filter gets what its release's domains gave it (a threshold's range
        # from the data) and what the user set before the first Apply: those are the recording's.
        if block and not (block.startswith("create") and _replay_group(proxy) in ("sources", "filters")):
            return
        _replay_warn("ParaView %s %s (the recording is from %s); skipped" % (running_name, what, recorded_name))

    def _replay_setattr(self, name, value):
        if name.startswith("_"):
            return original_set(self, name, value)
        if isinstance(value, str) and ("%" in value or "{" in value):
            value = _replay_format(self, name, value, recorded)
        if name == "MeshRegions":
            value = _replay_mesh_regions(self, value)
        try:
            return original_set(self, name, value)
        except AttributeError as error:
            if "does not exist" not in str(error) and "has no attribute" not in str(error):
                raise
            if _replay_moved(self, name, value, recorded, original_set):
                return None
            _replay_lacks(self, name, value, "has no %s.%s" % (_replay_type(self), name))
        except ValueError:
            if isinstance(value, str):
                wanted = _replay_key(value)
                alias = recorded.get("lists", {}).get(value)
                for key, choice in _replay_choices(self, name):
                    if key == wanted or (alias and key == _replay_key(alias)):
                        try:
                            return original_set(self, name, choice)
                        except ValueError:
                            continue
            _replay_lacks(self, name, value, "does not offer %r for %s.%s" % (value, _replay_type(self), name))
        except Exception as error:
            # A property this ParaView dropped and its compatibility refuses by name whatever the version asked
            # (5.11+'s SPH Volume/Plane/Line Interpolator.CutoffArray): as one it does not have.
            if type(error).__name__ != "NotSupportedException":
                raise
            _replay_lacks(self, name, value, "has no %s.%s" % (_replay_type(self), name))

    def _replay_getattr(self, name):
        try:
            found = original_get(self, name)
        except AttributeError:
            if not name.startswith("_") and _replay_sys._getframe(1).f_globals is globals():
                found = _replay_sub_proxy(self, name, recorded, original_get)
                if found is not None:
                    return found
            known, default = _replay_recorded_default(recorded, self, name)
            # Only the recording's own `display.TextureTransform.X = ...` gets a stand-in: ParaView asks
            # hasattr() too, and must keep hearing no.
            if not known or name.startswith("_") or _replay_sys._getframe(1).f_globals is not globals():
                raise
            return _ReplayAbsent(self, name, default)
        if name == "ResetCamera" and running < (5, 10):
            return _replay_reset_camera(found)
        if name == "ApplyPreset" and recorded.get("presets"):
            return _replay_apply_preset(found, recorded)
        return found

    servermanager.Proxy.__setattr__ = _replay_setattr
    servermanager.Proxy.__getattr__ = _replay_getattr


# 5.10 moved ParaView's format strings from printf's to Python's/{fmt}'s: Annotate Time's 'T=%.2f' became
# 'T={time:.2f}'. Neither release reads the other's, and both print the text as it stands. Which properties
# changed, and the field's name, are read from the two releases' own defaults ('Time: %f', 'Time: {time:f}').
_REPLAY_PRINTF = _replay_re.compile(r"%%|%([-+ #0]*\d*(?:\.\d+)?)([diouxXeEfFgGs])")
_REPLAY_FIELD = _replay_re.compile(r"\{\{|\}\}|\{(\w*)(?::([^{}]*))?\}")


def _replay_format(proxy, name, value, recorded):
    """The recording's format string in the running release's style, when the two releases' defaults show that
    the property's style changed."""
    known, old = _replay_recorded_default(recorded, proxy, name)
    try:
        new = proxy.GetProperty(name).SMProperty.GetDefaultValue(0)
    except Exception:
        return value
    if not known or not isinstance(old, str) or not new:
        return value
    field = _REPLAY_FIELD.search(new)
    if _REPLAY_PRINTF.search(old) and field and field.group(1) and not _REPLAY_PRINTF.search(new):
        def fmt(match):
            if match.group(0) == "%%":
                return "%"
            kind = {"i": "d", "u": "d", "s": ""}.get(match.group(2), match.group(2))
            spec = match.group(1) + kind
            return "{%s:%s}" % (field.group(1), spec) if spec else "{%s}" % field.group(1)

        if not any(m.group(0) != "%%" for m in _REPLAY_PRINTF.finditer(value)):
            return value
        text = value.replace("{", "{{").replace("}", "}}")
        return _REPLAY_PRINTF.sub(fmt, text)
    if _REPLAY_FIELD.search(old) and _REPLAY_PRINTF.search(new) and not _REPLAY_FIELD.search(new):
        def printf(match):
            if match.group(0) in ("{{", "}}"):
                return match.group(0)[0]
            return "%" + (match.group(2) or "g")

        if not any(m.group(0) not in ("{{", "}}") for m in _REPLAY_FIELD.finditer(value)):
            return value
        return _REPLAY_FIELD.sub(printf, value.replace("%", "%%"))
    return value


def _replay_reset_camera(method):
    """view.ResetCamera(False[, ratio]) of 5.10+ is ResetCamera() before: reset to the bounds of what is shown."""

    def _replay_call(*args):
        if args and isinstance(args[0], bool):
            if args[0]:
                _replay_warn("ResetCamera(True): ParaView %d.%d cannot reset to the closest bounds; reset to "
                             "the bounds" % _replay_running_version())
            return method()
        return method(*args)

    return _replay_call


def _replay_has_preset(name):
    from paraview import servermanager

    presets = servermanager.vtkSMTransferFunctionPresets
    presets = presets.GetInstance() if hasattr(presets, "GetInstance") else presets()
    if hasattr(presets, "HasPreset"):
        return presets.HasPreset(name)
    return any(presets.GetPresetName(i) == name for i in range(presets.GetNumberOfPresets()))


def _replay_apply_preset(method, recorded):
    """lut.ApplyPreset(name) with a preset another release renamed ('Viridis' is 5.x's 'Viridis (matplotlib)'):
    the name this release knows (older releases fail silently on a name they lack)."""

    def _replay_call(name, *args):
        if isinstance(name, str) and not _replay_has_preset(name):
            for old, new in recorded.get("presets", ()):
                other = old if name == new else new if name == old else None
                if other and _replay_has_preset(other):
                    return method(other, *args)
            _replay_warn("ParaView %d.%d has no colour preset %r; skipped" % (_replay_running_version() + (name,)))
        return method(name, *args)

    return _replay_call


def _replay_type(proxy):
    try:
        return proxy.GetXMLName()
    except Exception:
        return type(proxy).__name__


class _ReplayAbsent(object):
    """A sub-proxy property (`display.TextureTransform`) of the recording's version that this ParaView lacks:
    setting its values at their recorded defaults changes nothing; anything else is reported."""

    def __init__(self, owner, name, default):
        object.__setattr__(self, "_owner", owner)
        object.__setattr__(self, "_name", name)
        object.__setattr__(self, "_default", default)

    def __setattr__(self, name, value):
        recorded = _REPLAY_RECORDED
        default = object.__getattribute__(self, "_default")
        by_type = recorded["defaults"].get(name) or {}
        if (isinstance(default, str) and default in by_type and _replay_same(by_type[default], value)) or \
                _replay_in_defaults_block():
            return
        owner, prop = object.__getattribute__(self, "_owner"), object.__getattribute__(self, "_name")
        _replay_warn("ParaView %d.%d has no %s.%s (the recording is from %d.%d); skipped"
                     % (_replay_running_version() + (_replay_type(owner), prop) + tuple(recorded["version"])))

    def __getattr__(self, name):
        return _ReplayAbsent(self, name, None)

    def __call__(self, *args, **kwargs):
        _replay_warn("ParaView %d.%d has no %s; skipped" % (_replay_running_version() +
                                                            (object.__getattribute__(self, "_name"),)))


def _replay_install_calls(recorded):
    """paraview.simple calls whose keyword arguments this ParaView does not take: drop those at the
    recording version's default; report the others."""
    import paraview.simple as simple

    for name, defaults in recorded.get("calls", {}).items():
        original = getattr(simple, name, None)
        if original is None:
            continue

        def _replay_call(*args, _replay_original=original, _replay_defaults=defaults, _replay_name=name, **kwargs):
            while True:
                try:
                    return _replay_original(*args, **kwargs)
                except TypeError as error:
                    word = _replay_re.search(r"unexpected keyword argument '(\w+)'", str(error))
                    if not word or word.group(1) not in kwargs:
                        raise
                    key = word.group(1)
                    value = kwargs.pop(key)
                    if key not in _replay_defaults or not _replay_same(_replay_defaults[key], value):
                        _replay_warn("ParaView %d.%d's %s() takes no %s=; dropped"
                                     % (_replay_running_version() + (_replay_name, key)))

        _replay_call.__name__ = name
        _replay_call.__doc__ = original.__doc__
        setattr(simple, name, _replay_call)


def _replay_pin(proxy, kind, pins):
    """Give a new view, display, colour map or scalar bar the look the recording's version gave it."""
    if proxy is None or not pins.get(kind):
        return
    try:
        key = proxy.GetGlobalIDAsString()
    except Exception:
        key = id(proxy)
    if (kind, key) in _REPLAY_ADAPTED["pinned"]:
        return
    _REPLAY_ADAPTED["pinned"].add((kind, key))
    for name, value in sorted(pins[kind].items()):
        if name == "RGBPoints":
            continue
        try:
            prop = proxy.GetProperty(name)
            if prop is None:
                continue
            current = proxy.GetPropertyValue(name)
            if not _replay_same(value, list(current) if hasattr(current, "__len__") and not isinstance(
                    current, str) else current):
                if kind == "RenderView" and name == "Background":
                    _replay_own_background(proxy)
                proxy.SetPropertyWithName(name, value)
        except Exception:
            continue
    shape = pins[kind].get("RGBPoints")
    if shape:
        try:
            points = list(proxy.RGBPoints)
            lo, hi = points[0], points[-4]
            proxy.RGBPoints = [lo + v * (hi - lo) if i % 4 == 0 else v for i, v in enumerate(shape)]
        except Exception:
            pass


def _replay_own_background(view):
    """From 5.10 a view shows the colour palette's background unless told otherwise. The palette is a setting
    that pvbatch saves into the user's ParaView settings on exit, so the view gets its own background instead."""
    names = view.ListProperties()
    if "UseColorPaletteForBackground" in names:
        view.UseColorPaletteForBackground = 0
    if "BackgroundColorMode" in names:
        view.BackgroundColorMode = "Single Color"


def _replay_install_pins(recorded):
    import paraview.simple as simple

    pins = recorded.get("pins") or {}
    if not pins:
        return

    def _replay_after(name, pin_result):
        original = getattr(simple, name, None)
        if original is None:
            return

        def _replay_call(*args, **kwargs):
            result = original(*args, **kwargs)
            pin_result(result, args, kwargs)
            return result

        _replay_call.__name__ = name
        _replay_call.__doc__ = original.__doc__
        setattr(simple, name, _replay_call)

    def _replay_view(result, args, kwargs):
        if result is not None and hasattr(result, "GetXMLName") and result.GetXMLName() == "RenderView":
            _replay_pin(result, "RenderView", pins)

    def _replay_display(result, args, kwargs):
        if result is None:
            return
        _replay_pin(result, "Display", pins)
        lut = getattr(result, "LookupTable", None) if hasattr(result, "ListProperties") and \
            "LookupTable" in result.ListProperties() else None
        if lut is not None:
            _replay_pin(lut, "LookupTable", pins)

    def _replay_color_by(result, args, kwargs):
        target = args[0] if args else kwargs.get("rep")
        if target is not None:
            _replay_display(target, (), {})

    # 6.x's paraview.simple is a package whose GetActiveViewOrCreate calls its own module's CreateView: the
    # view is pinned wherever the recording first gets it.
    for name in ("CreateView", "CreateRenderView", "GetActiveViewOrCreate", "GetRenderView", "GetActiveView"):
        _replay_after(name, _replay_view)
    _replay_after("Show", _replay_display)
    _replay_after("ColorBy", _replay_color_by)
    _replay_after("GetColorTransferFunction", lambda r, a, k: _replay_pin(r, "LookupTable", pins))
    _replay_after("GetOpacityTransferFunction", lambda r, a, k: _replay_pin(r, "OpacityFunction", pins))
    _replay_after("GetScalarBar", lambda r, a, k: _replay_pin(r, "ScalarBar", pins))


# -- properties that moved or were replaced between releases ----------------------------------------------------

# 5.10 replaced Threshold's ThresholdRange by LowerThreshold/UpperThreshold/ThresholdMethod (ParaView 5.11
# paraview/_backwardscompatibilityhelper.py, 'ThresholdRange'): on 5.9 the range holds each method's test,
# vtkThreshold's Between (lower <= s <= upper) with an open end; Invert is on both.
_REPLAY_THRESHOLD = ("LowerThreshold", "UpperThreshold", "ThresholdMethod")
_REPLAY_FAR = 1.0e300


def _replay_proxy_key(proxy):
    try:
        return proxy.GetGlobalIDAsString()
    except Exception:
        return id(proxy)


def _replay_threshold(proxy, name, value, set_value):
    state = _REPLAY_ADAPTED.setdefault("threshold", {}).get(_replay_proxy_key(proxy))
    if state is None:
        low, high = list(proxy.GetPropertyValue("ThresholdRange"))
        state = {"LowerThreshold": low, "UpperThreshold": high, "ThresholdMethod": "Between"}
        _REPLAY_ADAPTED["threshold"][_replay_proxy_key(proxy)] = state
    state[name] = value
    method = _replay_key(state["ThresholdMethod"])
    low, high = float(state["LowerThreshold"]), float(state["UpperThreshold"])
    if method in ("between", "0"):
        span = [low, high]
    elif method in ("belowlowerthreshold", "1"):
        span = [-_REPLAY_FAR, low]
    elif method in ("aboveupperthreshold", "2"):
        span = [high, _REPLAY_FAR]
    else:
        return False
    set_value(proxy, "ThresholdRange", span)
    return True


def _replay_block_paths(proxy):
    """{selector path: flat index} of a composite input, as 5.10+ names blocks ('/Root/Sphere1'): the block's
    name, else (5.9's Group Datasets names none) the name of the pipeline input it came from."""
    from paraview import servermanager

    source = proxy.GetPropertyValue("Input")
    source = source if isinstance(source, servermanager.Proxy) else list(source)[0]
    source = getattr(source, "Proxy", source)
    source.UpdatePipeline()
    inputs = []
    try:
        feeding = source.GetPropertyValue("Input")
        feeding = [feeding] if isinstance(feeding, servermanager.Proxy) else list(feeding)
        manager = servermanager.ProxyManager()
        inputs = [manager.GetProxyName("sources", getattr(p, "Proxy", p)) for p in feeding]
    except Exception:
        pass
    found = {}

    def walk(composite, path, index, top):
        for i in range(composite.GetNumberOfChildren()):
            index += 1
            name = composite.GetName(i) or (inputs[i] if top and i < len(inputs) and inputs[i] else "Block%d" % i)
            found[path + "/" + name] = index
            child = composite.GetDataInformation(i)
            inner = child.GetCompositeDataInformation() if child is not None else None
            if inner is not None and inner.GetDataIsComposite():
                if inner.GetDataIsMultiPiece():
                    index += inner.GetNumberOfChildren()
                else:
                    index = walk(inner, path + "/" + name, index, False)
        return index

    walk(source.GetDataInformation().DataInformation.GetCompositeDataInformation(), "/Root", 0, True)
    return found


def _replay_selectors(proxy, value, set_value):
    """5.10 replaced Extract Block's BlockIndices (flat indices) by Selectors (paths): on 5.9 the paths are
    looked up in the input's blocks."""
    paths = _replay_block_paths(proxy)
    indices, lost = [], []
    for selector in ([value] if isinstance(value, str) else list(value)):
        if selector in paths:
            indices.append(paths[selector])
        else:
            lost.append(selector)
    if lost:
        _replay_warn("ParaView %d.%d's Extract Block takes block indices: no block of the input is at %s; "
                     "skipped" % (_replay_running_version() + (", ".join(lost),)))
    set_value(proxy, "BlockIndices", indices)
    return True


# 6.0 replaced Reflect by Axis Aligned Reflect (ParaView 6.1 paraview/_backwardscompatibilityhelper.py, '5.13 -> 6.0
# Reflect replaced by AxisAlignedReflect'): Plane became PlaneMode, whose 'Interactive' reflects through a
# ReflectionPlane (snapped to an axis: 5.x's 'X'/'Y'/'Z' plane at Center), FlipAllInputArrays became
# ReflectAllInputArrays. On 5.x the recording's Axis Aligned Reflect is a Reflect (renames.py).
_REPLAY_REFLECT = ("PlaneMode", "ReflectAllInputArrays", "Origin", "Normal")
_REPLAY_REFLECT_MODES = ("Interactive", "X Min", "Y Min", "Z Min", "X Max", "Y Max", "Z Max")


def _replay_reflect(proxy, name, value, set_value):
    if name == "ReflectAllInputArrays":
        set_value(proxy, "FlipAllInputArrays", value)
        return True
    state = _REPLAY_ADAPTED.setdefault("reflect", {}).setdefault(
        _replay_proxy_key(proxy), {"PlaneMode": "Interactive", "Origin": [0.0, 0.0, 0.0], "Normal": [1.0, 0.0, 0.0]})
    state[name] = value
    mode = state["PlaneMode"]
    if isinstance(mode, int) and 0 <= mode < len(_REPLAY_REFLECT_MODES):
        mode = _REPLAY_REFLECT_MODES[mode]
    mode = next((m for m in _REPLAY_REFLECT_MODES if _replay_key(m) == _replay_key(mode)), None)
    if mode is None:
        return False
    if mode != "Interactive":
        set_value(proxy, "Plane", mode)
        return True
    normal = [abs(float(x)) for x in state["Normal"]]
    axis = normal.index(max(normal))
    set_value(proxy, "Plane", "XYZ"[axis])
    set_value(proxy, "Center", float(state["Origin"][axis]))
    return True


def _replay_whole_extent(proxy, name, value, set_value):
    """6.1 replaced Table To Structured Grid's WholeExtent by Dimensions and MinimumIndex (the grid's points per
    axis, its first index): before 6.1 the extent runs from that index over those points. Each of the two keeps
    what the other gave the extent."""
    extent = [int(e) for e in proxy.GetPropertyValue("WholeExtent")]
    for axis in range(3):
        low, high = extent[2 * axis], extent[2 * axis + 1]
        if name == "Dimensions":
            extent[2 * axis + 1] = low + int(value[axis]) - 1
        else:
            extent[2 * axis], extent[2 * axis + 1] = int(value[axis]), int(value[axis]) + high - low
    set_value(proxy, "WholeExtent", extent)
    return True


def _replay_group(proxy):
    try:
        return proxy.SMProxy.GetXMLGroup()
    except Exception:
        return None


def _replay_lists(proxy):
    """The proxy-list properties of a source or filter (its sub-proxies: Slice With Plane's plane)."""
    if _replay_group(proxy) not in ("sources", "filters"):
        return []
    found = []
    for name in proxy.ListProperties():
        try:
            smprop = proxy.GetProperty(name).SMProperty
        except Exception:
            continue
        if smprop.IsA("vtkSMProxyProperty") and smprop.FindDomain("vtkSMProxyListDomain") is not None:
            found.append(name)
    return found


def _replay_renamed_list(proxy, name, recorded, offered=None):
    """The proxy-list property of this release that stands for the recording's `name`: the one offering the
    recorded choice, else the only one the recording never names (5.9 Plane <-> 5.10+ PlaneType)."""
    if name not in recorded.get("sublists", {}):
        return None
    lists = [n for n in _replay_lists(proxy) if n != name]
    wanted = set(_replay_key(v) for choice in recorded["sublists"][name].values() for v in choice)
    if offered:
        wanted.add(_replay_key(offered))
        wanted.add(_replay_key(recorded.get("lists", {}).get(offered, offered)))
    for other in lists:
        if any(key in wanted for key, _ in _replay_choices(proxy, other)):
            return other
    unknown = [n for n in lists if n not in recorded["defaults"] and n not in recorded.get("sublists", {})]
    return unknown[0] if len(unknown) == 1 else None


def _replay_moved(proxy, name, value, recorded, set_value):
    """A property the recording sets that this release keeps elsewhere: set it there (True)."""
    names = proxy.ListProperties() if hasattr(proxy, "ListProperties") else []
    legacy = _REPLAY_ADAPTED.get("legacy", {}).get(_replay_proxy_key(proxy), {})
    if name in legacy:
        other, result = legacy[name]
        set_value(proxy, other, value)
        if isinstance(value, (list, tuple)) and len(value) > 1 and value[1]:
            set_value(proxy, "ResultArrayName", value[1] + result)
        return True
    if name in _REPLAY_THRESHOLD and "ThresholdRange" in names:
        return _replay_threshold(proxy, name, value, set_value)
    if name == "Selectors" and "BlockIndices" in names:
        return _replay_selectors(proxy, value, set_value)
    if name in _REPLAY_REFLECT and "FlipAllInputArrays" in names:
        return _replay_reflect(proxy, name, value, set_value)
    if name in ("Dimensions", "MinimumIndex") and "WholeExtent" in names:
        return _replay_whole_extent(proxy, name, value, set_value)
    # A property of the filter that was a sub-proxy's (5.10+ Plot Over Line's Point1 is 5.9's Source.Point1).
    for holder in _replay_lists(proxy):
        sub = proxy.GetPropertyValue(holder)
        if sub is not None and name in sub.ListProperties():
            set_value(sub, name, value)
            return True
    # A sub-proxy choice under another name (5.9 Plane = 'Plane' is 5.10+ PlaneType = 'Plane').
    other = _replay_renamed_list(proxy, name, recorded, value if isinstance(value, str) else None)
    if other is not None and isinstance(value, str):
        for key, choice in _replay_choices(proxy, other):
            if key in (_replay_key(value), _replay_key(recorded.get("lists", {}).get(value, value))):
                set_value(proxy, other, choice)
                return True
    # The choice of a sub-proxy whose properties are now the filter's own (5.9 Plot Over Line's Source='Line'):
    # the recorded default choice is what the filter is.
    chosen = set(_replay_key(v) for choice in recorded.get("sublists", {}).get(name, {}).values() for v in choice)
    if isinstance(value, str) and other is None and _replay_key(value) in chosen:
        return True
    # 5.10+ selectors name blocks in the hierarchy, the only tree 5.9's block indices know.
    return name == "Assembly" and "BlockIndices" in names and _replay_key(value) == "hierarchy"


class _ReplayOnto(object):
    """A sub-proxy of the recording's release whose properties this release has on the filter itself:
    `plotOverLine1.Source.Point1 = ...` (5.9) sets plotOverLine1.Point1."""

    def __init__(self, owner):
        object.__setattr__(self, "_owner", owner)

    def __setattr__(self, name, value):
        setattr(object.__getattribute__(self, "_owner"), name, value)

    def __getattr__(self, name):
        return getattr(object.__getattribute__(self, "_owner"), name)


def _replay_sub_proxy(proxy, name, recorded, original_get):
    """The recording's sub-proxy `name` that this release lacks: the sub-proxy that replaced it, or the filter
    itself where its properties moved onto the filter; None when neither."""
    if name not in recorded.get("sublists", {}):
        return None
    other = _replay_renamed_list(proxy, name, recorded)
    if other is not None:
        return getattr(proxy, other)
    if _replay_group(proxy) not in ("sources", "filters"):
        return None
    return _ReplayOnto(proxy)


# 5.10 (VTK 9.1) named the OpenFOAM reader's boundary patches 'patch/<name>' in its Mesh Regions; 5.9 named them
# '<name>'. A region the running reader does not offer is given under the other release's name where it offers
# that one (internalMesh, lagrangian/..., the zones kept their names).
_REPLAY_PATCH = "patch/"


def _replay_mesh_regions(proxy, value):
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) for n in names):
        return value
    try:
        domain = proxy.GetProperty("MeshRegions").SMProperty.FindDomain("vtkSMArraySelectionDomain")
        offered = [domain.GetString(i) for i in range(domain.GetNumberOfStrings())]
        if any(n not in offered for n in names):
            proxy.UpdatePipelineInformation()  # the domain lists the regions of the file given now
            offered = [domain.GetString(i) for i in range(domain.GetNumberOfStrings())]
    except Exception:
        return value

    def other(name):
        if name in offered:
            return name
        if _REPLAY_PATCH + name in offered:
            return _REPLAY_PATCH + name
        if name.startswith(_REPLAY_PATCH) and name[len(_REPLAY_PATCH):] in offered:
            return name[len(_REPLAY_PATCH):]
        return name

    mapped = [other(n) for n in names]
    return mapped[0] if isinstance(value, str) else type(value)(mapped)


# -- filters: renamed ones, legacy proxies a release dropped, defaults that changed --------------------------------

def _replay_install_renames(recorded, running):
    """A filter the recording calls by a name this release lacks, or gives another filter (5.9's 'Gradient' is
    the image gradient), by the name this release knows it under (renames.py of the converter)."""
    import paraview.simple as simple

    def _replay_define(name, function):
        setattr(simple, name, function)
        listed = getattr(simple, "__all__", None)
        if isinstance(listed, list) and name not in listed:
            listed.append(name)

    def _replay_stand_in(name, function):
        def _replay_call(*args, **kwargs):
            # The filter is named on purpose: compatibility mode's legacy stand-in for that name, if gone, is
            # no loss (GradientOfUnstructuredDataSet -> Gradient, not 5.9's image gradient).
            defaults = _REPLAY_STAND_IN.get(name)
            later = {}
            if defaults:  # the recording's values go on top of the renamed filter's defaults
                later = dict((k, kwargs.pop(k)) for k in list(kwargs) if k not in ("registrationName", "Input"))
            _REPLAY_ADAPTED["standing in"] = True
            try:
                proxy = function(*args, **kwargs)
            finally:
                _REPLAY_ADAPTED["standing in"] = False
            for key, value in sorted((defaults or {}).items()):
                if key in proxy.ListProperties():
                    proxy.SetPropertyWithName(key, value)
            for key, value in later.items():
                setattr(proxy, key, value)
            return proxy
        return _replay_call

    for name, entry in sorted(recorded.get("renamed", {}).items()):
        before = entry[1]
        # the first stand-in this release has (6.1's ProcessIds: 5.13's GenerateProcessIds, 5.9's ProcessIdScalars)
        other = next((n for n in [entry[0]] + list(entry[2] if len(entry) > 2 else []) if hasattr(simple, n)),
                     entry[0])
        have = getattr(simple, name, None)
        if (have is not None and not (before and running < tuple(before))) or getattr(simple, other, None) is None:
            continue
        _replay_define(name, _replay_stand_in(name, getattr(simple, other)))
    for name in recorded.get("filters", ()):
        if getattr(simple, name, None) is None:
            _replay_define(name, _replay_missing_filter(name, recorded, running))


# What a renamed filter is by default, where the older filter standing in for it differs: 6.x's Axis Aligned Reflect
# reflects through an interactive plane (X through the origin) and reflects only vectors, normals and tensors;
# 5.x's Reflect reflects at X Min and flips every 3- or 9-component array.
_REPLAY_STAND_IN = {"AxisAlignedReflect": {"Plane": "X", "Center": 0.0, "FlipAllInputArrays": 0}}


def _replay_missing_filter(name, recorded, running):
    def _replay_call(*args, **kwargs):
        _replay_warn("ParaView %d.%d has no %s (the recording is from %d.%d): the script stops here"
                     % (running + (name,) + tuple(recorded["version"])))
        _replay_stop(1)
    return _replay_call


def _replay_running_defaults(proxy):
    """{property: default} of this release for the proxy's type, spelled as the tables spell them."""
    from paraview import servermanager
    import paraview

    manager = servermanager.vtkSMProxyManager.GetProxyManager().GetActiveSessionProxyManager()
    proto = manager.GetPrototypeProxy(proxy.SMProxy.GetXMLGroup(), proxy.SMProxy.GetXMLName())
    out = {}
    if proto is None:
        return out
    it = proto.NewPropertyIterator()
    it.Begin()
    while not it.IsAtEnd():
        key, prop = it.GetKey(), it.GetProperty()
        it.Next()
        # Numbers and choices only: names (files, arrays) are the recording's, never a default to pin.
        if prop.GetInformationOnly() or prop.GetIsInternal() or not prop.IsA("vtkSMVectorProperty") or \
                prop.IsA("vtkSMStringVectorProperty"):
            continue
        enum = prop.FindDomain("vtkSMEnumerationDomain") if prop.IsA("vtkSMIntVectorProperty") else None
        values = []
        for i in range(prop.GetNumberOfElements()):
            v = prop.GetElement(i)
            if enum is not None:
                for e in range(enum.GetNumberOfEntries()):
                    if enum.GetEntryValue(e) == v:
                        v = enum.GetEntryText(e)
                        break
            values.append(v)
        single = len(values) == 1 and not prop.GetRepeatCommand()
        out[paraview.make_name_valid(prop.GetXMLLabel() or key)] = values[0] if single else values
    return out


def _replay_pin_created(proxy, recorded):
    """A new source or filter computes as the recording's did: where this release's default of a property both
    have differs, the recording's (--native-look keeps this release's)."""
    try:
        defaults = recorded.get("created", {}).get(proxy.SMProxy.GetXMLName())
    except Exception:
        return
    if not defaults:
        return
    running = _replay_running_defaults(proxy)
    for name, value in sorted(defaults.items()):
        if name not in running or "Format" in name or _replay_same(value, running[name]):
            continue
        try:
            proxy.SetPropertyWithName(name, value)
        except Exception:
            continue


# Legacy proxies that compatibility mode asks for and 5.12+ dropped, whose successor computes the same (checked by
# tests/test_filter_adapt.py against the 5.9 recording's own output): what to set on the successor, and the
# legacy properties it has under another name (with how the legacy filter named its result).
_REPLAY_LEGACY = {
    # 5.9 Plot Over Line: its line's properties move onto the filter (_replay_moved)
    "PlotOverLineLegacy": {},
    # 5.9's image Gradient (vtkImageGradient): 5.10+'s Gradient with smoothed boundaries, its scalars given as
    # ScalarArray, its result named '<array>Gradient'
    "GradientLegacy": {"set": {"BoundaryMethod": "Smoothed"}, "as": {"SelectInputScalars": ("ScalarArray", "Gradient")}},
}


# 6.1's legacy particle tracers, which compatibility 5.12 or older makes of ParticlePath and StreakLine, abort the
# process (a std::vector index out of range) when the first time they are asked for is a later one than the first
# step. In the GUI, Apply had computed them at the scene's time before the user moved the time: so they are
# computed at the time the scene still has when the recording first changes it.
_REPLAY_APPLIED_BEFORE_TIME = ("LegacyParticlePath", "LegacyStreakLine")


def _replay_apply_before_time(proxy):
    pending = _REPLAY_ADAPTED.setdefault("apply before time", [])
    if not pending and not _REPLAY_ADAPTED.get("time wrapped"):
        _REPLAY_ADAPTED["time wrapped"] = True
        recorded_time = globals()["_replay_time"]

        def _replay_time(recorded):
            from paraview.simple import GetTimeKeeper

            now = GetTimeKeeper().Time
            while pending:
                pending.pop(0).UpdatePipeline(now)
            return recorded_time(recorded)

        globals()["_replay_time"] = _replay_time
    pending.append(proxy)


# Renamed filters whose successor computes something else, while the release still offers the old one (deprecated):
# 6.0's Axis Aligned Reflect, which compatibility 5.13 or older makes of a HyperTree Grid Axis Reflection, writes
# a partitioned dataset collection (the input and its reflection), no longer a HyperTreeGrid, so the HyperTreeGrid
# filters after it get nothing; 6.0 and 6.1 still have the HyperTreeGrid Axis Reflection, with its PlaneNormal and
# PlanePosition.
_REPLAY_KEEP_OLD = ("HyperTreeGridAxisReflection",)


def _replay_successor(module, key):
    """The proxy to make of a renamed filter's (old, new) name: the new one, unless _REPLAY_KEEP_OLD."""
    old, new = key
    if old in _REPLAY_KEEP_OLD and hasattr(module, old):
        return old
    return new


def _replay_install_proxies(recorded, running):
    """ParaView's compatibility layer makes a recording's filters (_backwardscompatibilityhelper.GetProxy)."""
    import builtins
    import paraview._backwardscompatibilityhelper as helper

    original = getattr(helper, "GetProxy", None)
    if original is None:
        return

    def _replay_get_proxy(module, key, **kwargs):
        if isinstance(key, tuple) and len(key) == 2:
            # A name 5.13+ keeps for a renamed filter arrives as (old, new); with compatibility 5.11 or older
            # their GetProxy looks the tuple up as a name (TypeError: attribute name must be string).
            key = _replay_successor(module, key)
        try:
            proxy = original(module, key, **kwargs)
        except AttributeError as error:
            # Compatibility asks for a legacy proxy this release dropped (PlotOverLineLegacy, GradientLegacy
            # are gone from 5.12/5.13): the filter of that name, whose moved properties the adapter follows.
            missing = _replay_re.search(r"No Proxy type named '(\w+)'", str(error))
            if not missing or missing.group(1) == key or not hasattr(module, key):
                raise
            legacy = _REPLAY_LEGACY.get(missing.group(1), {}) if not _REPLAY_ADAPTED.get("standing in") else {}
            proxy = builtins.getattr(module, key)(**kwargs)
            for name, value in sorted(legacy.get("set", {}).items()):
                proxy.SetPropertyWithName(name, value)
            if legacy.get("as"):
                _REPLAY_ADAPTED.setdefault("legacy", {})[_replay_proxy_key(proxy)] = legacy["as"]
            if missing.group(1) not in _REPLAY_LEGACY and not _REPLAY_ADAPTED.get("standing in"):
                _replay_warn("ParaView %d.%d has no %s, which compatibility mode asks for (the recording is from "
                             "%d.%d); %s stands in and may compute otherwise" % (
                                 running + (missing.group(1),) + tuple(recorded["version"]) + (key,)))
        if not _REPLAY_ARGS.get("native-look"):
            _replay_pin_created(proxy, recorded)
        if running >= (6, 1) and proxy.GetXMLName() in _REPLAY_APPLIED_BEFORE_TIME:
            _replay_apply_before_time(proxy)
        return proxy

    helper.GetProxy = _replay_get_proxy


# Array selections a release's filter has and the recording's release's filter lacked, with the value that selects
# no array: 5.9's SPH Volume/Plane/Line Interpolators have a CutoffArray, which 5.10+ dropped; 5.9's domain picks
# one of the particles' arrays for it (Mass), read as the kernel's cutoff distance (at the sampled point's index),
# so a recording from 5.10+, which used the kernel's own cutoff, would compute otherwise there.
_REPLAY_NO_ARRAY = {"CutoffArray": ""}


def _replay_install_no_array(recorded):
    """Once a new filter's properties have their domains' defaults (PostInitializeProxy, which would undo a value
    set earlier), an array selection in _REPLAY_NO_ARRAY that the recording's filter did not have selects none.
    Replaces ParaView's method each time (calling the server manager's own), not a wrapper of an earlier script."""
    from paraview import servermanager

    controller = servermanager.ParaViewPipelineController  # its methods come from __getattr__ (no attribute)

    def PostInitializeProxy(self, proxy, *args):
        result = self.SMController.PostInitializeProxy(getattr(proxy, "SMProxy", proxy), *args)
        try:
            defaults = recorded.get("created", {}).get(proxy.GetXMLName())
            if defaults is not None:
                for name, value in sorted(_REPLAY_NO_ARRAY.items()):
                    if name not in defaults and proxy.GetProperty(name) is not None:
                        proxy.SetPropertyWithName(name, value)
        except Exception:
            pass
        return result

    controller.PostInitializeProxy = PostInitializeProxy


def _replay_adapt(recorded):
    """Adapt the running ParaView to a recording of another version (nothing to do on the same one)."""
    running = _replay_running_version()
    if tuple(recorded["version"]) == running:
        return
    _replay_install_setattr(recorded, running)
    _replay_install_proxies(recorded, running)
    _replay_install_renames(recorded, running)
    _replay_install_calls(recorded)
    if not _REPLAY_ARGS.get("native-look"):
        _replay_install_pins(recorded)
        _replay_install_no_array(recorded)
    # paraview.simple is imported now, so a 4.x recording's `try: paraview.simple / except: from
    # paraview.simple import *` would skip its import: give it the names, as 4.x's pvpython did at start-up.
    exec("from paraview.simple import *", globals())
