# ---- replay guards (copied verbatim from replay/script/guards.py; stdlib and paraview only) ----
# Assignments that would kill ParaView are stopped before they reach it:
# - known crashes: `view.AdditionalLights = None` segfaults 5.9-6.1, and 5.6's tracer wrote exactly that among
#   a new view's defaults. _REPLAY_CRASHES holds, per release, the assignments of the recording's property
#   names that crashed that release when probed (replay/pvtables/crashes-X.Y.json): each is skipped;
#   silently in a block of the tracer's own defaults, with the recording's line otherwise.
# - a reader's selection naming what a given file lacks (`r.ElementBlocks = ['...']` aborts 5.11's Exodus
#   reader): blocks and sets stop the script with the line; arrays are kept where they exist, with a warning.


def _replay_guard_crashes(table):
    from paraview import servermanager

    manager = servermanager.vtkSMProxyManager
    running = "%d.%d" % (manager.GetVersionMajor(), manager.GetVersionMinor())
    # A release without a catalogue (5.10, 5.12, ...): what crashed any release may crash it.
    entries = table.get(running) or [e for found in (table or {}).values() for e in found]
    crashing = set((on, name, _replay_json.dumps(value)) for on, name, value in entries)

    given = [p["name"] for p in _REPLAY_SPEC["parameters"] if p["kind"] == "file" and _REPLAY_ARGS.get(p["name"])]

    def _replay_skip(proxy, name, value):
        frame = _replay_statement_frame()
        if frame is None or _replay_defaults_block(frame):
            return
        source, line, text = _replay_recorded_line(frame)
        _replay_sys.stderr.write("replay: %s:%d: %s: ParaView %s crashes on %s.%s = %r; skipped\n"
                                 % (source, line, text, running, proxy.GetXMLName(), name, value))

    def _replay_selection(proxy, name, value):
        """The value to set: what the reader's file offers of a selection; stops for a missing block."""
        try:
            smprop = proxy.GetProperty(name).SMProperty
            domain = smprop.FindDomain("vtkSMArraySelectionDomain")
        except Exception:
            return value
        names = [value] if isinstance(value, str) else list(value)
        if domain is None or not all(isinstance(n, str) for n in names):
            return value
        proxy.UpdatePipelineInformation()  # the domain lists what the file given now offers
        offered = [domain.GetString(i) for i in range(domain.GetNumberOfStrings())]
        missing = [n for n in names if n not in offered]
        if not missing:
            return value
        frame = _replay_statement_frame()
        source, line, text = _replay_recorded_line(frame) if frame is not None else ("?", 0, "")
        files = proxy.GetPropertyValue(servermanager.vtkSMCoreUtilities.GetFileNameProperty(proxy.SMProxy) or
                                       "FileName")
        files = [files] if isinstance(files, str) else list(files or [])
        what = "%s:%d: %s names %s, which %s does not have (it has: %s)" % (
            source, line, name, ", ".join(repr(n) for n in missing), files[0] if len(files) == 1 else
            "%s (%d files)" % (files[0], len(files)) if files else "the file", ", ".join(map(repr, offered)) or
            "none")
        if _replay_re.search(r"Block|Set|Assembl|Hierarch", name):
            _replay_stop(1, what + "\n")  # another mesh: what it shows would not be the recording's
        _replay_sys.stderr.write("replay: %s; left out\n" % what)
        kept = [n for n in names if n in offered]
        return kept if not isinstance(value, tuple) else tuple(kept)

    servermanager.Proxy._replay_crashing = (crashing, _replay_skip, _replay_selection if given else None)
    if getattr(servermanager.Proxy.__setattr__, "_replay_crash_guard", False):
        return  # a sweep worker's earlier run installed it; the table above is this script's

    original = servermanager.Proxy.__setattr__

    def _replay_setattr(self, name, value):
        if name.startswith("_"):
            return original(self, name, value)
        known, skip, selection = servermanager.Proxy._replay_crashing
        if value is None or (isinstance(value, (str, list, tuple)) and not value):
            try:
                keys = (self.GetXMLGroup(), self.GetXMLName())
            except Exception:
                keys = ()
            empty = _replay_json.dumps(None if value is None else "" if isinstance(value, str) else [])
            if any((key, name, empty) in known for key in keys):
                return skip(self, name, value)
        elif selection is not None and isinstance(value, (str, list, tuple)):
            value = selection(self, name, value)
        return original(self, name, value)

    _replay_setattr._replay_crash_guard = True
    servermanager.Proxy.__setattr__ = _replay_setattr
