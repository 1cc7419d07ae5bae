# ---- replay runtime (copied verbatim from replay/script/runtime.py; stdlib and paraview only) ----
import argparse as _replay_argparse
import glob as _replay_glob
import os as _replay_os
import re as _replay_re
import sys as _replay_sys

_REPLAY_ARGS = {}


_REPLAY_MPI_LAUNCHED = ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS")


def _replay_mpi():
    """(process module, controller) when an MPI launcher started this run (mpiexec/srun pvbatch), else
    None. pvbatch alone initializes MPI too, on one process: there a plain sys.exit is fine (and the
    sweep worker, which runs many scripts in one pvbatch, must get it to carry on)."""
    if _replay_os.environ.get("REPLAY_SWEEP_WORKER"):
        # A sweep worker runs this script inside its own pvbatch (replay/batch/worker_driver.py) and takes a
        # SystemExit as the run's end; finalizing MPI would end the worker (Open MPI's singleton start-up sets
        # PMIX_RANK in every pvbatch, so the variables below cannot tell).
        return None
    try:
        from paraview.modules.vtkRemotingCore import vtkProcessModule

        module = vtkProcessModule.GetProcessModule()
        controller = module.GetGlobalController() if module is not None else None
    except Exception:  # not under pvbatch/pvpython (tests), or a ParaView without this module
        return None
    if controller is None or controller.GetClassName() != "vtkMPIController":
        return None
    if controller.GetNumberOfProcesses() == 1 and not any(k in _replay_os.environ for k in _REPLAY_MPI_LAUNCHED):
        return None
    return module, controller


# The tracer's own comments over the values it writes without a user asking: what a new source, view, display
# or sub-proxy got from its version's defaults and domains ("trace defaults for the display properties"). A
# user's own edits come under "# Properties modified on ...".
_REPLAY_DEFAULTS_BLOCK = _replay_re.compile(r"#\s*(trace defaults for |init the |create a new ')", _replay_re.I)


def _replay_defaults_block(frame):
    """The kind of block the tracer wrote by itself that frame's statement sits in ('trace defaults for ',
    'init the ', "create a new '"), or False: the first comment above it, within its paragraph, decides."""
    import linecache

    line = frame.f_lineno - 1
    while line > 0:
        text = linecache.getline(frame.f_code.co_filename, line).strip()
        if not text:
            return False
        if text.startswith("#"):
            found = _REPLAY_DEFAULTS_BLOCK.match(text)
            return found.group(1).lower() if found else False
        line -= 1
    return False


def _replay_statement_frame(skip=None):
    """The frame of the recording's statement that is running: the script's own code, not replay's (its _replay
    functions), not ParaView's; `skip(frame)` passes over more of them."""
    frame = _replay_sys._getframe(1)
    while frame is not None and (frame.f_globals is not globals() or
                                 frame.f_code.co_name.startswith(("_replay", "_Replay")) or (skip and skip(frame))):
        frame = frame.f_back
    return frame


def _replay_recorded_line(frame):
    """(recording's name, line, text) of a running statement of the script's body (script lines elsewhere)."""
    import linecache

    filename, line = frame.f_code.co_filename, frame.f_lineno
    text = linecache.getline(filename, line).strip()
    lines = linecache.getlines(filename)
    # The body's marker line, matched by a pattern: the marker's own words here would be found first by whoever
    # looks for the body in the script's text.
    body = [i for i, t in enumerate(lines) if _replay_re.match(r"# -{4} recorded: ", t)]
    if not body or line < body[-1] + 3:
        return _replay_os.path.basename(filename), line, text
    offset = line - (body[-1] + 2)
    for start, recorded, span in reversed(_REPLAY_SPEC.get("lines") or []):
        if start <= offset:  # a statement split into several lines: see replay/batch/crash.py
            offset = recorded + (offset - start if span else 0)
            break
    return _REPLAY_SPEC["source"], offset, text


def _replay_excepthook(kind, value, traceback):
    """An error in the recording under mpiexec: pvbatch would leave the other ranks waiting for ever."""
    _replay_sys.__excepthook__(kind, value, traceback)
    if _replay_mpi() is not None:
        _replay_stop(1)


def _replay_crash_report():
    """When ParaView itself crashes (SIGSEGV, SIGABRT: no Python error), the Python stack goes to stderr
    first, before ParaView's C++ one: replay run, sweeps and verify read it to name the recording's line."""
    try:
        import faulthandler

        faulthandler.enable(file=2, all_threads=False)  # the real descriptor: pvbatch wraps sys.stderr
    except Exception:  # no descriptor 2, or a Python without it: the crash goes unnamed, nothing worse
        pass


def _replay_own_main():
    """ParaView runs a Programmable Filter's (Source's, Annotation's) code in the module `__main__`, which under
    pvbatch is this script: its `from paraview.vtk.numpy_interface.algorithms import *` and numpy's names took
    the place of the script's builtins (any, all, max, min, sum, abs, round, bool, pow, divmod), and it sets
    `inputs` and `output` there. After the first such filter ran, the script's own check of a written file
    called numpy's any and stopped a run whose file was whole. ParaView gets a `__main__` of its own; the script
    keeps its names (the module it was stays alive beside it)."""
    import types

    main = types.ModuleType("__main__")
    main.__dict__["__builtins__"] = __builtins__
    _replay_sys._replay_script_main = _replay_sys.modules.get("__main__")
    _replay_sys.modules["__main__"] = main


def _replay_stop(status, message=None):
    """Stop before the recording runs (--help, a bad value). Under `mpiexec pvbatch` a plain sys.exit
    leaves the other ranks waiting for rank 0 forever, or mpiexec reports an improper exit: release
    them and finalize MPI first, as pvbatch does at the end of a script."""
    if message:
        _replay_sys.stderr.write(message)
    mpi = _replay_mpi()
    if mpi is None:
        _replay_sys.exit(status)
    module, controller = mpi
    _replay_sys.stdout.flush()
    _replay_sys.stderr.flush()
    if controller.GetNumberOfProcesses() > 1 and not module.GetSymmetricMPIMode():
        controller.TriggerBreakRMIs()
    controller.Barrier()
    controller.Finalize()
    _replay_os._exit(status)


class _ReplayArgumentParser(_replay_argparse.ArgumentParser):
    # argparse prints usage plus the error; a batch log wants the one line that says what is wrong.
    def error(self, message):
        self.exit(2, "%s: error: %s\n" % (self.prog, message))

    def exit(self, status=0, message=None):
        _replay_stop(status, message)


def _replay_bool(text):
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError(text)


_replay_bool.__name__ = "bool"


def _replay_auto(text):
    # Mixed lists hold numbers and names; parse numbers without ever evaluating the text.
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            pass
    return text


_REPLAY_TYPES = {"str": str, "int": int, "float": float, "bool": _replay_bool, "auto": _replay_auto}


def _replay_shown(value):
    if isinstance(value, list) and len(value) > 4:
        return "[%s, ... %d values]" % (", ".join(repr(v) for v in value[:2]), len(value))
    return repr(value)


def _replay_help(param, source, pictures=False):
    where = "%s line %s" % (source, param["line"]) if param.get("line") else source
    what = {"file": "file(s) or a quoted glob for", "property": "value of", "time": "", "output": ""}[param["kind"]]
    target = ".".join(part for part in (param.get("proxy"), param.get("property")) if part)
    if param["kind"] == "time":
        text = "data time to replay at; replaces every time the recording sets"
        shown = "as recorded" if param["default"] is None else "%r as recorded" % param["default"]
    elif param["kind"] == "output":
        text = "folder for every file the script writes (created; outputs keep their recorded base names)"
        if pictures:
            text = ("folder for the pictures the script saves at its end: one <ViewName>.png per render view and "
                    "one <LayoutName>.png per layout of several views, at the recorded size (created)")
        shown = "the recorded folder if it exists here, else the working directory"
    else:
        text = "%s %s" % (what, target)
        shown = _replay_shown(param["default"])
    return "%s (default: %s; from %s)" % (text, shown.replace("%", "%%"), where)


def _replay_parse_args(spec, argv):
    parser = _ReplayArgumentParser(
        prog=_replay_os.path.basename(_replay_sys.argv[0]) if _replay_sys.argv and _replay_sys.argv[0] else "replay",
        description="Replay of %s, generated by replay. Every parameter defaults to the recorded value."
        % spec["source"],
    )
    for param in spec["parameters"]:
        options = {"dest": param["name"], "default": None, "help": _replay_help(param, spec["source"], spec.get("pictures"))}
        if param["kind"] == "file":
            options.update(nargs="+", metavar="PATH")
        elif param["kind"] == "output":
            options.update(metavar="DIR")
        elif param["kind"] == "time":
            options.update(type=float, metavar="T")
        else:
            options.update(type=_REPLAY_TYPES[param["type"]], metavar="VALUE")
            if param.get("nargs"):
                options["nargs"] = param["nargs"]
        parser.add_argument("--" + param["name"], **options)
    if spec.get("native_look"):
        parser.add_argument("--native-look", dest="native-look", action="store_true",
                            help="on a ParaView other than the recording's, keep that version's own default looks "
                                 "(background, colour map, ...) instead of the recording's")
    if not spec.get("own_arguments"):
        return vars(parser.parse_args(argv))
    known, rest = parser.parse_known_args(argv)
    _replay_sys.argv[1:] = rest
    return vars(known)


def _replay_natural_key(text):
    return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in _replay_re.split(r"(\d+)", text)]


def _replay_expand_files(name, values):
    files = []
    for value in values:
        if _replay_glob.has_magic(value) and not _replay_os.path.exists(value):
            matches = sorted(_replay_glob.glob(value), key=_replay_natural_key)
            if not matches:
                _replay_stop(1, "--%s: no file matches %r\n" % (name, value))
            files.extend(matches)
        else:
            files.append(value)
    return files


def _replay_check_files(name, files, given):
    """pvbatch only logs a reader's missing file and goes on to save empty pictures: stop instead."""
    if name.rsplit(".", 1)[-1].endswith(("Prefix", "Pattern")):
        return  # Exodus FilePrefix/FilePattern name a family of files, not one
    paths = [files] if isinstance(files, str) else list(files)
    missing = [p for p in paths if isinstance(p, str) and p and "%" not in p and not _replay_os.path.exists(p)]
    if not missing:
        return
    if given:
        _replay_stop(1, "--%s: no such file: %r\n" % (name, missing[0]))
    more = " (and %d more)" % (len(missing) - 1) if len(missing) > 1 else ""
    _replay_stop(1, "--%s: the recorded file %r is not here%s; give the file(s) to read: --%s PATH...\n"
                 % (name, missing[0], more, name))


def _replay_files(name, recorded):
    """The file name(s) given on the command line, shaped like the recorded value; else the recorded value."""
    values = _REPLAY_ARGS.get(name)
    if values is None:
        _replay_check_files(name, recorded, given=False)
        return recorded
    files = _replay_expand_files(name, values)
    _replay_check_files(name, files, given=True)
    if isinstance(recorded, str) and len(files) == 1:
        return files[0]
    return files


def _replay_value(name, recorded):
    """The value given on the command line, else the recorded literal (so defaults replay exactly)."""
    value = _REPLAY_ARGS.get(name)
    if value is None:
        return recorded
    if isinstance(recorded, tuple):
        return tuple(value)
    return value


def _replay_time(recorded):
    value = _REPLAY_ARGS.get("time")
    return recorded if value is None else value


def _replay_goto(scene, step):
    """scene.GoToLast() and friends, unless --time asks for one time."""
    value = _REPLAY_ARGS.get("time")
    if value is None:
        return getattr(scene, step)()
    scene.AnimationTime = value
    try:
        from paraview.simple import GetTimeKeeper

        GetTimeKeeper().Time = value
    except ImportError:
        pass


def _replay_apply_time():
    """For recordings that never set the time: --time still picks the data time before an output."""
    value = _REPLAY_ARGS.get("time")
    if value is None or _REPLAY_ARGS.get("_time_applied"):
        return
    from paraview.simple import GetAnimationScene, GetTimeKeeper

    scene = GetAnimationScene()
    scene.UpdateAnimationUsingDataTimeSteps()
    scene.AnimationTime = value
    GetTimeKeeper().Time = value
    _REPLAY_ARGS["_time_applied"] = True


def _replay_base_name(path):
    # Recordings from Windows carry backslashes; '..' and empty names must not escape the folder.
    name = _replay_re.split(r"[\\/]", str(path))[-1]
    return name if name not in ("", ".", "..") else "output"


def _replay_foreign(path):
    return _replay_os.sep == "/" and ("\\" in path or _replay_re.match(r"^[A-Za-z]:", path) is not None)


def _replay_out(path, apply_time=False):
    """Where an output goes: --output-dir, else the recorded folder if it exists here, else the working dir."""
    if apply_time:
        _replay_apply_time()
    path = _replay_os.fspath(path)
    folder = _REPLAY_ARGS.get("output-dir")
    if folder:
        _replay_os.makedirs(folder, exist_ok=True)
        return _replay_os.path.join(folder, _replay_base_name(path))
    recorded_folder = _replay_os.path.dirname(path)
    if not _replay_foreign(path) and (not recorded_folder or _replay_os.path.isdir(recorded_folder)):
        return path
    return _replay_base_name(path)


def _replay_out_dir(path):
    """SaveExtracts names a folder, not a file."""
    folder = _REPLAY_ARGS.get("output-dir")
    if folder:
        _replay_os.makedirs(folder, exist_ok=True)
        return folder
    if not _replay_foreign(path) and _replay_os.path.isdir(_replay_os.path.dirname(path.rstrip("/\\")) or "."):
        return path
    return _replay_base_name(path.rstrip("/\\"))


_REPLAY_RENDER_VIEWS = ("RenderView", "OrthographicSliceView")


def _replay_image_name(name):
    """A view's or layout's registration name as a file name (`Layout #1` -> Layout_1.png)."""
    return (_replay_re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_.-") or "view") + ".png"


def _replay_screenshot(name, view_or_layout, size):
    from paraview.simple import SaveScreenshot

    if view_or_layout is None:
        _replay_sys.exit("replay: the loaded state has no view or layout named %r" % name)
    if size is None and hasattr(view_or_layout, "GetSize"):
        size = [int(v) for v in view_or_layout.GetSize()]
    options = {"ImageResolution": list(size)} if size else {}
    SaveScreenshot(_replay_out(_replay_image_name(name)), view_or_layout, **options)


def _replay_pictures(apply_time=False):
    """The recording saves no file: save what a converted state saves, so that it still replays into
    something. One picture per render view at its size (the layout's SetSize shared among its views, else
    the view's ViewSize) and one per layout showing several render views, named by registration name."""
    from paraview import servermanager

    if apply_time:
        _replay_apply_time()
    manager = servermanager.ProxyManager()
    views = [(name, view) for (name, _), view in sorted(manager.GetProxiesInGroup("views").items(),
                                                        key=lambda item: item[0])
             if view.GetXMLName() in _REPLAY_RENDER_VIEWS]
    for name, view in views:
        _replay_screenshot(name, view, [int(v) for v in view.ViewSize])
    for (name, _), layout in sorted(manager.GetProxiesInGroup("layouts").items(), key=lambda item: item[0]):
        if sum(1 for _, view in views if layout.GetViewLocation(view) != -1) > 1:
            _replay_screenshot(name, layout, None)


# ---- what the GUI had done that its trace does not say ----
# A trace is the GUI's own words, but the GUI ran between them: Apply had computed a filter's input before the
# user edited the filter, and File > Save Data wrote at the animation's time. pvbatch does neither by itself.


def _replay_compute(sources):
    """Compute sources as Apply had: at the scene's time."""
    from paraview.simple import GetTimeKeeper

    for source in sources:
        source.UpdatePipeline(GetTimeKeeper().Time)


def _replay_update_inputs(proxy):
    """Compute what feeds this proxy, as the GUI had (does it have any input?)."""
    from paraview import servermanager

    sources = []
    smproxy = getattr(proxy, "SMProxy", None)
    if smproxy is None:
        return False
    properties = smproxy.NewPropertyIterator()
    properties.Begin()
    while not properties.IsAtEnd():
        prop = properties.GetProperty()
        if prop.IsA("vtkSMInputProperty"):
            for index in range(prop.GetNumberOfProxies()):
                source = servermanager._getPyProxy(prop.GetProxy(index))
                if source is not None and hasattr(source, "UpdatePipeline"):
                    sources.append(source)
        properties.Next()
    _replay_compute(sources)
    return bool(sources)


def _replay_install_computed_inputs():
    """Apply had computed what the user edited next; pvbatch has not. So a filter's input is computed when the
    recording connects it (_replay_compute_connected), and a choice the input's data offers (Extract Component's
    `Component = 'Z'`, which every tracer writes by name) that pvbatch still refuses, because the recording
    changed that input since, is set again once the inputs are computed; a reader the recording edits after
    creating it is computed first, as its File > Open's Apply had (_replay_compute_applied). The same setter
    readies 5.9's SPH interpolators for Compute Shepard Sum off (_replay_shepard_sum). Wraps ParaView's own
    setter each time, not a wrapper of an earlier script (a sweep worker runs many)."""
    from paraview import servermanager

    plain = getattr(servermanager, "_replay_plain_setattr", None)
    if plain is None:
        plain = servermanager._replay_plain_setattr = servermanager.Proxy.__setattr__

    def _replay_setattr(self, name, value):
        if not name.startswith("_"):
            _replay_compute_applied(self)
        if name == "ComputeShepardSum" and not value:
            _replay_shepard_sum(self)
        try:
            result = plain(self, name, value)
        except ValueError:
            if not isinstance(value, str) or name.startswith("_") or not _replay_update_inputs(self):
                raise
            result = plain(self, name, value)
        _replay_compute_connected(self, name, value)
        return result

    servermanager.Proxy.__setattr__ = _replay_setattr


_REPLAY_APPLIED = set()  # the sources _replay_compute_applied computed
# Readers that take a property into account only once they have read: OpenFOAM's Skip Zero Time switched off
# before its first read is never seen (its time steps stay those without 0: the recording's time 0 is read as
# 0.5). Only these are read first: any other reader would read the whole file twice (every array, then the ones
# the recording keeps), as the GUI did on the small data but a cluster run of the full data need not.
_REPLAY_READ_FIRST = ("OpenFOAMReader",)


def _replay_compute_applied(proxy):
    """File > Open's Apply had read the file before the user changed the reader: a reader of _REPLAY_READ_FIRST
    that the recording edits after the lines that created it is computed then, once, at the scene's time.
    Anything going wrong here is left to the recording's own next step."""
    try:
        key = id(proxy.SMProxy)
        if key in _REPLAY_APPLIED or proxy.SMProxy.GetXMLName() not in _REPLAY_READ_FIRST:
            return
        frame = _replay_statement_frame()
        if frame is None or _replay_defaults_block(frame):
            return  # not the recording's line, or the lines creating it: the GUI's first Apply comes after them
        _REPLAY_APPLIED.add(key)
        _replay_compute([proxy])
    except Exception:
        pass


def _replay_shepard_sum(proxy):
    """ParaView 5.9's SPH interpolators (VTK 9.0's vtkSPHInterpolator) never set their Shepard sum array pointer
    at construction; a run with Compute Shepard Sum on sets it to null when done, a run with it off uses it as it
    is: whatever the memory held. That is zero in a new pvbatch, but after other work (a sweep worker's earlier
    runs, a batch) it is the garbage of freed memory, and 5.9's pvbatch crashes (SIGSEGV in Probe). Before the
    sum is switched off, the filter runs once with it on, on one particle and no point to sample (microseconds),
    as a new process would have it. Takes the filter's own object: not in a client-server session."""
    from paraview import servermanager

    manager = servermanager.vtkSMProxyManager
    if (manager.GetVersionMajor(), manager.GetVersionMinor()) >= (5, 10):
        return
    try:
        import vtkmodules.vtkFiltersPoints  # noqa: F401  (the object as vtkSPHInterpolator, not its base)
        from vtkmodules.vtkCommonCore import vtkCollection, vtkInformation, vtkInformationVector, vtkPoints
        from vtkmodules.vtkCommonDataModel import vtkDataObject, vtkPolyData
        from vtkmodules.vtkCommonExecutionModel import vtkDemandDrivenPipeline

        algorithm = proxy.GetClientSideObject()
        if algorithm is None or not algorithm.IsA("vtkSPHInterpolator"):
            return
        particle = vtkPolyData()
        particle.SetPoints(vtkPoints())
        particle.GetPoints().InsertNextPoint(0.0, 0.0, 0.0)
        inputs = vtkCollection()
        for data in (vtkPolyData(), particle):  # port 0: the points sampled, port 1: the particles
            vector = vtkInformationVector()
            vector.Append(vtkInformation())
            vector.GetInformationObject(0).Set(vtkDataObject.DATA_OBJECT(), data)
            inputs.AddItem(vector)
        outputs = vtkInformationVector()
        outputs.Append(vtkInformation())
        outputs.GetInformationObject(0).Set(vtkDataObject.DATA_OBJECT(), vtkPolyData())
        request = vtkInformation()
        request.Set(vtkDemandDrivenPipeline.REQUEST_DATA())
        summing = algorithm.GetComputeShepardSum()
        algorithm.SetComputeShepardSum(1)
        try:
            algorithm.ProcessRequest(request, inputs, outputs)
        finally:
            algorithm.SetComputeShepardSum(summing)
    except Exception:
        pass


def _replay_compute_connected(proxy, name, value):
    """A filter's input had been computed by its own Apply before the filter existed (File > Open's Apply read
    the whole file, at the scene's time): compute it when the recording connects it. A filter may pass on what
    its input holds rather than what it asks for (Crop keeps the whole image: 729 rows in the GUI, 100 without
    this). Anything going wrong here is left to the recording's own next step."""
    from paraview import servermanager

    sources = [getattr(v, "Proxy", v) for v in (value if isinstance(value, (list, tuple)) else [value])]
    sources = [v for v in sources if isinstance(v, servermanager.SourceProxy)]  # an OutputPort: its proxy
    if not sources or name.startswith("_"):  # not a connection; ParaView's own attributes
        return
    try:
        smproperty = getattr(proxy.GetProperty(name), "SMProperty", None)
        if smproperty is None or not smproperty.IsA("vtkSMInputProperty") or proxy.SMProxy.GetXMLGroup() != "filters":
            return
        _replay_compute(sources)
    except Exception:
        pass


def _replay_at_scene_time(save):
    """SaveData as File > Save Data ran it: at the animation's time. Traced SaveData(...) updates its writer with
    no time, which pvbatch takes as 'none' (Annotate Time writes '?', a temporal filter its first step) unless a
    view happened to ask for the data at its time first."""

    def _replay_call(*args, **kwargs):
        from paraview import servermanager
        from paraview.simple import GetTimeKeeper

        update = servermanager.SourceProxy.UpdatePipeline

        def _replay_update(self, time=None):
            return update(self, GetTimeKeeper().Time if time is None else time)

        servermanager.SourceProxy.UpdatePipeline = _replay_update
        try:
            return save(*args, **kwargs)
        finally:
            servermanager.SourceProxy.UpdatePipeline = update

    return _replay_call


# ---- outputs ParaView failed to write ----
# A full disk, a quota or a read-only folder: ParaView logs an error (or nothing: 5.13's PNG writer leaves a cut
# PNG behind) and pvbatch exits 0. Every writing call of paraview.simple is checked instead: what it should have
# written is there, not empty, and an image ends as its format says; else the script stops with one line.
_REPLAY_WRITERS = ("SaveScreenshot", "SaveData", "SaveAnimation", "ExportView", "SaveExtracts", "SaveState",
                   "WriteImage", "WriteAnimation")
# runner.error_lines picks this line out of pvbatch's stderr: keep the words "failed to write" in it.
_REPLAY_NOT_WRITTEN = "replay: %s failed to write %s%s"
_REPLAY_IMAGE_ENDS = {".png": b"IEND\xaeB`\x82", ".jpg": b"\xff\xd9", ".jpeg": b"\xff\xd9"}
_REPLAY_FRAME_FORMATS = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".ppm")


class _ReplayErrors(object):
    """ParaView's own error lines while a writer runs (vtkOutputWindow's ErrorEvent: every release logs the
    writer's complaint there, e.g. `vtkPNGWriter: Ran out of disk space; deleting file(s) already written`)."""

    def __init__(self):
        self.lines, self.window, self.tag = [], None, None
        try:
            from vtkmodules.vtkCommonCore import vtkOutputWindow

            self.window = vtkOutputWindow.GetInstance()

            def seen(obj, event, text, lines=self.lines):
                # Never raise here: an error raised while VTK reports one is reported again, for ever.
                try:
                    found = _replay_re.search(r"(vtk\w+) \(0x[0-9a-fA-F]+\): (.+)", text or "")
                    if found and len(lines) < 100:
                        said = _replay_re.sub(r" \(0x[0-9a-fA-F]+\)", "", found.group(2).strip())
                        lines.append("%s: %s" % (found.group(1), said))
                except Exception:
                    pass

            seen.CallDataType = 13  # VTK_STRING: the message comes with the event
            self.tag = self.window.AddObserver("ErrorEvent", seen)
        except Exception:  # no VTK output window here: the check still runs, without ParaView's words
            self.window = None

    def stop(self):
        if self.window is not None:
            try:
                self.window.RemoveObserver(self.tag)
            except Exception:
                pass
        return self.lines


def _replay_some(items, shown=3):
    """The first few of a list, in one line: a writer that failed for every time step says so once."""
    unique = []
    for item in items:
        if item not in unique:
            unique.append(item)
    more = " and %d more" % (len(unique) - shown) if len(unique) > shown else ""
    return "; ".join(unique[:shown]) + more


def _replay_intact(path):
    """None when the file is whole, else what is wrong with it."""
    try:
        size = _replay_os.path.getsize(path)
        if _replay_os.path.isdir(path):
            return None if _replay_os.listdir(path) else "it is an empty folder"
        if size == 0:
            return "it is empty"
        end = _REPLAY_IMAGE_ENDS.get(_replay_os.path.splitext(path)[1].lower())
        if end:
            with open(path, "rb") as handle:
                handle.seek(max(0, size - len(end)))
                if handle.read() != end:
                    return "it is cut short (%d bytes)" % size
    except OSError as error:
        return "it cannot be read: %s" % (error.strerror or error)
    return None


def _replay_written_since(folder, since, match=None, deep=False):
    found = []
    for root, dirs, files in _replay_os.walk(folder or "."):
        for name in files:
            path = _replay_os.path.join(root, name)
            try:
                if (match is None or match(name)) and _replay_os.path.getmtime(path) >= since:
                    found.append(path)
            except OSError:
                pass
        if not deep:
            break
    return sorted(found)


def _replay_extract_names():
    """(name, pattern) per extractor for the files it writes: its writer's FileName ('view_{timestep:06d}.png')."""
    patterns = []
    try:
        from paraview.simple import GetExtractors

        for extractor in GetExtractors():
            name = str(extractor.Writer.FileName)
            if name:
                parts = _replay_re.split(r"\{[^}]*\}", name)
                patterns.append((name, _replay_re.compile(".*".join(_replay_re.escape(p) for p in parts) + "$")))
    except Exception:  # no extractors on this version, or a writer without a file name
        pass
    return patterns


def _replay_frames_expected(kwargs, scene):
    """How many images SaveAnimation writes, or None when that depends on more than this knows."""
    stride = max(1, int(kwargs.get("FrameStride") or 1))
    window = kwargs.get("FrameWindow")
    if window:
        count = int(window[1]) - int(window[0]) + 1
    else:
        from paraview.simple import GetAnimationScene, GetTimeKeeper

        scene = scene or GetAnimationScene()
        mode = str(scene.PlayMode)
        if mode == "Sequence":
            count = int(scene.NumberOfFrames)
        elif mode == "Snap To TimeSteps":
            count = len(GetTimeKeeper().TimestepValues or []) or 1
        else:
            return None
    return (count + stride - 1) // stride


def _replay_space(folder):
    """Why a folder takes no more files, when the file system says so."""
    folder = folder or "."
    try:
        found = _replay_os.statvfs(folder)
    except (OSError, AttributeError):
        return ""
    if found.f_flag & getattr(_replay_os, "ST_RDONLY", 1):
        return "; %s is on a read-only file system" % folder
    if not _replay_os.access(folder, _replay_os.W_OK):
        return "; no permission to write in %s" % folder
    free = found.f_bavail * found.f_frsize
    if free < 1024 * 1024:
        return "; the disk is full (%d KiB free in %s)" % (free // 1024, folder)
    return ""


def _replay_check_written(name, args, kwargs, result, since, said):
    """Stop with one line when the call did not leave the file(s) it was asked for."""
    if name == "SaveExtracts":
        folder = kwargs.get("ExtractsOutputDirectory")
        if not folder:
            return
        written = _replay_written_since(folder, since, deep=True)
        problems = ["%s: %s" % (_replay_os.path.relpath(p, folder), _replay_intact(p)) for p in written
                    if _replay_intact(p)]
        try:
            from paraview.simple import GetExtractors

            extractors = len(GetExtractors())
        except Exception:
            extractors = 0
        if extractors and not written:
            problems.append("no extract at all")
        missing = ["no %s" % name for name, pattern in _replay_extract_names()
                   if written and not any(pattern.match(_replay_os.path.relpath(p, folder)) for p in written)]
        problems = missing + problems
        target = folder
    else:
        target = args[0] if args else kwargs.get("filename", kwargs.get("FileName", kwargs.get("fileName")))
        if hasattr(target, "__fspath__"):
            target = _replay_os.fspath(target)
        if not isinstance(target, str):
            return
        problems = []
        if _replay_os.path.exists(target):
            broken = _replay_intact(target)
            if broken:
                problems.append(broken)
        else:
            # Series: SaveAnimation's frames (name.0000.png), SaveData's time steps (name_0.csv) or blocks.
            stem, ext = _replay_os.path.splitext(_replay_os.path.basename(target))
            pattern = _replay_re.compile(_replay_re.escape(stem) + ".+" + _replay_re.escape(ext) + "$")
            written = _replay_written_since(_replay_os.path.dirname(target), since, pattern.match)
            if not written:
                problems.append("nothing was written")
            problems += ["%s: %s" % (_replay_os.path.basename(p), _replay_intact(p)) for p in written
                         if _replay_intact(p)]
            if name == "SaveAnimation" and written and ext.lower() in _REPLAY_FRAME_FORMATS:
                try:
                    expected = _replay_frames_expected(kwargs, args[2] if len(args) > 2 else kwargs.get("scene"))
                except Exception:
                    expected = None
                if expected and len(written) < expected:
                    problems.append("%d of %d frames are missing" % (expected - len(written), expected))
        if result is False and not problems and name in ("SaveScreenshot", "SaveAnimation"):
            problems.append("ParaView says it failed")
    if not problems and not any("disk space" in line for line in said):
        return
    detail = " (%s)" % _replay_some(problems) if problems else ""
    words = ": " + _replay_some(said, 2) if said else ""
    folder = target if name == "SaveExtracts" else _replay_os.path.dirname(target)
    _replay_stop(1, (_REPLAY_NOT_WRITTEN % (name, target, detail)) + words + _replay_space(folder) + "\n")


def _replay_checked(name, original):
    call = _replay_at_scene_time(original) if name == "SaveData" else original

    def _replay_call(*args, **kwargs):
        import time

        since = time.time() - 0.05  # file times come from a coarser clock
        errors = _ReplayErrors()
        try:
            result = call(*args, **kwargs)
            if name == "SaveScreenshot" and kwargs.get("saveInBackground"):
                from paraview.simple import WaitForScreenshot

                WaitForScreenshot(args[0] if args else kwargs.get("filename"))
        finally:
            said = errors.stop()
        _replay_check_written(name, args, kwargs, result, since, said)
        return result

    _replay_call.__name__ = name
    _replay_call.__doc__ = original.__doc__
    _replay_call._replay_original = original
    return _replay_call


def _replay_check_outputs():
    """Wrap paraview.simple's writing calls before the recording imports them. In a sweep worker, which runs
    many scripts in one pvbatch, each script wraps the plain call again rather than a wrapper of its own."""
    import paraview.simple as simple

    for name in _REPLAY_WRITERS:
        original = getattr(simple, name, None)
        if original is None:
            continue
        setattr(simple, name, _replay_checked(name, getattr(original, "_replay_original", original)))
