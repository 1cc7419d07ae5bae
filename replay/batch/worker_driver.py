"""The pvbatch side of a sweep worker: `pvbatch worker_driver.py` runs many replay scripts in one process.

Stdlib and paraview only (pvbatch runs it, replay is not importable there). Protocol: one JSON job per line on
stdin ({"id", "script", "argv", "cwd", "session"}); one answer per job on stdout, a line starting with MARK.

Why it is fast: the data side of the pipeline survives between runs of the same session (same script, same
files). paraview.simple's source/filter/reader functions are wrapped so that the i-th call of a function in this
run returns the proxy the i-th call made in the first run, with the keyword properties set again: an unchanged
value does not modify the proxy, so ParaView re-executes only the filters whose properties changed and does not
read the data again. The view side (views, layouts, representations, colour maps, scalar bars, extractors) is
deleted before each run, so every run renders from a fresh view exactly as a separate pvbatch run does. A new
session (another script or another file), a failed run, or a script calling Delete/LoadState/ResetSession
resets the whole ParaView session instead.

Time series: a recording usually shows the data at the first step before it sets its own time, so every run
needs that step and its own. A reader keeps only its last step, so the worker keeps a copy of the step a
session's reader made first and, in a kept run, puts it back as the reader's output with the pipeline stamps
of that request: ParaView then takes it as up to date and reads only the run's own step (StepCache).
"""
import contextlib
import io
import json
import os
import re
import sys
import traceback
import types

MARK = "\x1ereplay-worker "

import paraview  # noqa: E402
from paraview import servermanager  # noqa: E402
import paraview.simple as simple  # noqa: E402

# Groups of proxies a replay script's view side lives in; deleted between runs that keep the pipeline.
VIEW_SIDE = ("extractors", "representations", "scalar_bars", "views", "layouts", "lookup_tables",
             "piecewise_functions", "transfer_2d_functions")
# Calls after which the pipeline cannot be trusted to match a fresh run: the next run resets the session.
SPOILERS = ("Delete", "LoadState", "ResetSession", "Connect", "Disconnect", "ReplaceReaderFileName")


class StepCache:
    """One step per time-aware reader: the data its first execution in the session made, restored in kept
    runs. Only where it is provably what a fresh read would give: a source (no inputs) on one process (MPI
    ranks read their own pieces), unchanged since (its modification time), the same type of data. A copy
    costs memory: one step of that reader, kept only if it fits in a quarter of the memory available."""
    entries = {}          # "Name#i" -> {"mtime", "request", "time", "data"}
    enabled = None

    @classmethod
    def usable(cls):
        if cls.enabled is None:
            try:
                module = servermanager.vtkProcessModule.GetProcessModule()
                cls.enabled = module.GetNumberOfLocalPartitions() == 1
            except Exception:  # noqa: BLE001
                cls.enabled = False
        return cls.enabled


def _pipeline_keys():
    from vtkmodules.vtkCommonCore import vtkInformationIterator
    from vtkmodules.vtkCommonDataModel import vtkDataObject
    from vtkmodules.vtkCommonExecutionModel import vtkStreamingDemandDrivenPipeline as sddp

    return vtkInformationIterator, vtkDataObject, sddp


def _available_kib():
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0  # unknown: keep no copy


def _remember_step(tag, algorithm):
    """After the first execution of a source in a run: keep its output unless the copy kept is still good
    (made by this reader as it is now)."""
    if not StepCache.usable() or algorithm.GetNumberOfInputPorts() != 0 or algorithm.GetNumberOfOutputPorts() != 1:
        return
    _, vtkDataObject, sddp = _pipeline_keys()
    request_info = algorithm.GetOutputInformation(0)
    if not (request_info.Has(sddp.TIME_STEPS()) and request_info.Has(sddp.UPDATE_TIME_STEP())):
        return
    request = request_info.Get(sddp.UPDATE_TIME_STEP())
    entry = StepCache.entries.get(tag)
    if entry and entry["mtime"] == algorithm.GetMTime():
        return  # still good: later runs' own steps must not replace the step every run shows first
    output = algorithm.GetOutputDataObject(0)
    if output.GetActualMemorySize() > _available_kib() / 4:
        return  # a step that big is read again rather than risk running out of memory
    # The executive stamps DATA_TIME_STEP after this event unless the reader did: the request is what it uses.
    info = output.GetInformation()
    data_time = info.Get(vtkDataObject.DATA_TIME_STEP()) if info.Has(vtkDataObject.DATA_TIME_STEP()) else request
    copy = output.NewInstance()
    copy.DeepCopy(output)
    StepCache.entries[tag] = {"mtime": algorithm.GetMTime(), "request": request, "time": data_time, "data": copy}


def _restore_step(tag, proxy):
    """In a kept run: make the kept step the reader's output, as the request that made it left it."""
    entry = StepCache.entries.get(tag)
    if entry is None:
        return
    try:
        algorithm = proxy.GetClientSideObject()
        information_iterator, vtkDataObject, sddp = _pipeline_keys()
        output = algorithm.GetOutputDataObject(0)
        request_info = algorithm.GetOutputInformation(0)
        if (algorithm.GetMTime() != entry["mtime"] or output is None
                or output.GetClassName() != entry["data"].GetClassName()):
            return
        info = output.GetInformation()
        if info.Has(vtkDataObject.DATA_TIME_STEP()) and info.Get(vtkDataObject.DATA_TIME_STEP()) == entry["time"]:
            return  # it still holds that step
        # The piece stamps are the same for every request on one process; DeepCopy clears them.
        stamps = [(key, info.Get(key)) for key in (vtkDataObject.DATA_PIECE_NUMBER(),
                                                    vtkDataObject.DATA_NUMBER_OF_PIECES(),
                                                    vtkDataObject.DATA_NUMBER_OF_GHOST_LEVELS()) if info.Has(key)]
        output.DeepCopy(entry["data"])
        for key, value in stamps:
            info.Set(key, value)
        info.Set(vtkDataObject.DATA_TIME_STEP(), entry["time"])
        # The executive re-executes a source for any request other than its previous one unless the data's own
        # time matches; the key that holds the previous request is not wrapped for Python, so find it by name.
        walk = information_iterator()
        walk.SetInformationWeak(request_info)
        walk.InitTraversal()
        while not walk.IsDoneWithTraversal():
            key = walk.GetCurrentKey()
            if key.GetName() == "PREVIOUS_UPDATE_TIME_STEP":
                request_info.Set(key, entry["request"])
            walk.GoToNextItem()
    except Exception:  # noqa: BLE001 - without the copy the reader reads that step again, as a fresh run does
        StepCache.entries.pop(tag, None)


class State:
    session = None
    dirty = True
    pristine = True       # no job ran yet: the process's own session is as fresh as a reset one
    fresh = True          # the first run of a session records; the next ones reuse
    memo = {}             # (function name, call index) -> proxy
    times = {}            # (function name, call index) -> (AnimationTime, TimeKeeper.Time) right after the call
    calls = {}            # function name -> calls so far in this run
    depth = 0
    executions = {}       # "Name#i" -> times the proxy's algorithm executed during this run
    observed = set()
    mode = (None, None)   # the compatibility mode paraview.simple's functions were made for (at import: none)


def import_wrappers():
    """Import every paraview.modules wrapper module, before the worker wraps any algorithm in Python.

    VTK gives a C++ object the Python class of the nearest class already imported and keeps that choice for
    the rest of the process. The worker wraps each proxy's algorithm to watch it (_count_executions) as soon as
    the proxy is made, before it first executes: a filter that calls Python with itself when it executes, and
    imports its own module only there, then got a base class and failed, in every run of the worker. On 5.13
    Annotate Attribute Data and Python Annotation wrote "(error)" (paraview.detail.annotation found no
    GetCurrentInputDataObject on a vtkTableAlgorithm) where a plain run writes the value, Python Calculator
    wrote its input without the computed array. With the modules imported every algorithm gets its own class,
    as in a plain run (0.1-0.2 s at the worker's start, while replay still plans the sweep)."""
    import importlib
    import pkgutil

    import paraview.modules

    for _, name, _ in pkgutil.iter_modules(paraview.modules.__path__):
        try:
            importlib.import_module("paraview.modules." + name)
        except Exception:  # noqa: BLE001 - a module that cannot load wraps nothing a run can make
            pass


# VTK's random numbers (vtkMath::Random: Random Attributes, Random Vectors, ...) come from one sequence per process,
# which a new pvbatch starts at the same seed: every plain run of a script draws the same numbers, while the
# worker's runs went on where the run before had stopped (on 5.13 the kept runs of a swept 5.9 Random Attributes
# wrote other values than `replay run` with the same value). Each run starts the sequence where pvbatch starts it.
try:
    from vtkmodules.vtkCommonCore import vtkMath as _vtk_math

    START_SEED = _vtk_math.GetSeed()  # nothing drew a number yet: pvbatch's own start (1177)
except Exception:  # noqa: BLE001
    _vtk_math, START_SEED = None, None


def restart_random_sequence():
    """vtkMath's sequence as a new process has it. RandomSeed(s) sets s then steps the Park-Miller sequence
    (seed * 16807 mod 2^31-1) three times, and no call sets the seed alone: set the s those steps take to the
    start seed."""
    if _vtk_math is None or START_SEED is None or _vtk_math.GetSeed() == START_SEED:
        return
    modulus = 2147483647
    _vtk_math.RandomSeed(START_SEED * pow(16807 ** 3, -1, modulus) % modulus)


def _count_executions(key, proxy):
    if key in State.observed:
        return
    try:
        algorithm = proxy.GetClientSideObject()
    except Exception:  # noqa: BLE001
        return
    if algorithm is None or not hasattr(algorithm, "AddObserver"):
        return

    def seen(obj, event, key=key):
        State.executions[key] = State.executions.get(key, 0) + 1
        if State.executions[key] == 1:
            try:
                _remember_step(key, obj)
            except Exception:  # noqa: BLE001 - a step not kept is read again, as a fresh run does
                StepCache.entries.pop(key, None)

    algorithm.AddObserver("EndEvent", seen)
    State.observed.add(key)


def _time_now():
    try:
        return (simple.GetAnimationScene().AnimationTime, simple.GetTimeKeeper().Time)
    except Exception:  # noqa: BLE001
        return None


def _set_time(value):
    if value is None:
        return
    scene, keeper = simple.GetAnimationScene(), simple.GetTimeKeeper()
    if scene.AnimationTime != value[0]:
        scene.AnimationTime = value[0]
    if keeper.Time != value[1]:
        keeper.Time = value[1]


def _memoized(name, create):
    def CreateObject(*inputs, **params):
        if State.depth:
            return create(*inputs, **params)
        index = State.calls.get(name, 0)
        State.calls[name] = index + 1
        key = (name, index)
        tag = "%s#%d" % key
        proxy = State.memo.get(key)
        State.depth += 1
        try:
            if proxy is None or State.fresh:
                proxy = create(*inputs, **params)
                State.memo[key] = proxy
                _count_executions(tag, proxy)
                State.times[key] = _time_now()
                return proxy
            params.pop("registrationName", None)
            params.pop("guiName", None)
            if inputs:
                input_name = servermanager.vtkSMCoreUtilities.GetInputPropertyName(proxy.SMProxy, 0)
                proxy.SetPropertyWithName(input_name, list(inputs) if len(inputs) > 1 else inputs[0])
            simple.SetProperties(proxy, **params)
            simple.SetActiveSource(proxy)
            _set_time(State.times.get(key))
            _restore_step(tag, proxy)
            return proxy
        finally:
            State.depth -= 1

    CreateObject.__name__ = name
    CreateObject.__doc__ = create.__doc__
    setattr(CreateObject, "__paraview_create_object_tag", True)
    CreateObject._replay_wrapped = create
    CreateObject._replay_memoized = True
    return CreateObject


def _spoiler(name, original):
    def call(*args, **kwargs):
        State.dirty = True
        return original(*args, **kwargs)

    call.__name__ = name
    call.__doc__ = original.__doc__
    call._replay_wrapped = original
    return call


def _creator_names():
    """The paraview.simple functions that make sources, readers and filters, on every release: 5.9 keeps the
    proxy modules in Connection.Modules (later ones in ProxiesNS) and 6.x no longer exports _func_name_valid
    (its rule: no parentheses in the name)."""
    connection = servermanager.ActiveConnection
    modules = getattr(connection, "ProxiesNS", None) or connection.Modules
    names = {"OpenDataFile"}
    for module in (modules.sources, modules.filters):
        names.update(key for key in dir(module) if not key.startswith("_") and "(" not in key and ")" not in key)
    return names


def _wrap_simple():
    creators = _creator_names()
    for name in creators:
        original = getattr(simple, name, None)
        if callable(original) and not hasattr(original, "_replay_wrapped"):
            setattr(simple, name, _memoized(name, original))
    for name in SPOILERS:
        original = getattr(simple, name, None)
        if callable(original) and not hasattr(original, "_replay_wrapped"):
            setattr(simple, name, _spoiler(name, original))


def _unwrap(name):
    value = getattr(simple, name, None)
    while value is not None and hasattr(value, "_replay_wrapped"):
        value = value._replay_wrapped
    return value


# The replay preamble (replay/versions.py compatibility_preamble) sets the recording's version as ParaView's
# compatibility mode before the script imports paraview.simple, which makes its functions for that mode: on 5.13
# a 5.9 recording's GenerateIds is then the deprecated name of Point And Cell Ids, without it the legacy Generate
# Id Scalars, which computes otherwise (the input's active scalars dropped). A plain pvbatch run gets simple
# made for its script's mode: so does every run here, not only those after a run of the same mode.
PREAMBLE = re.compile(r"_replay_running > \((\d+), (\d+)\):\n\s+paraview\.compatibility\.major")
RUNNING = (servermanager.vtkSMProxyManager.GetVersionMajor(), servermanager.vtkSMProxyManager.GetVersionMinor())


def mode_of(source):
    """The compatibility mode a script sets before importing paraview.simple, on this release: (None, None)
    when it sets none (a recording of this release or newer: the preamble sets it on newer releases only)."""
    match = PREAMBLE.search(source)
    if match and RUNNING > (int(match.group(1)), int(match.group(2))):
        return int(match.group(1)), int(match.group(2))
    return None, None


def functions_for(mode):
    """paraview.simple's source and filter functions as a script that sets `mode` first gets them."""
    paraview.compatibility.major, paraview.compatibility.minor = mode
    if mode == State.mode:
        return
    names = vars(simple)
    made = [name for name, value in names.items()
            if getattr(value, "_replay_memoized", False) or hasattr(value, "__paraview_create_object_tag")]
    for name in made:
        del names[name]
    simple._add_functions(names)
    _wrap_simple()
    State.mode = mode


def reset_session():
    """A fresh ParaView session, as a new pvbatch process has; functions are rebuilt for the new connection."""
    _unwrap("ResetSession")()
    simple.SetActiveView(None)
    simple.SetActiveSource(None)
    State.memo, State.times, State.executions, State.observed = {}, {}, {}, set()
    StepCache.entries = {}
    # ResetSession only adds functions that are missing: drop ours (they still make proxies on the old
    # connection) and let paraview.simple add its own again before wrapping those.
    names = vars(simple)
    for name in [name for name, value in names.items() if getattr(value, "_replay_memoized", False)]:
        del names[name]
    simple._add_functions(names)
    _wrap_simple()
    State.fresh, State.dirty = True, False


def clear_view_side():
    """Delete what a run shows, keep what it computes."""
    controller = servermanager.ParaViewPipelineController()
    pxm = servermanager.ProxyManager()
    for group in VIEW_SIDE:
        for (name, _id), proxy in list(pxm.GetProxiesInGroup(group).items()):
            if pxm.GetProxy(group, name) is None:
                continue  # already gone with the view it belonged to
            try:
                controller.UnRegisterProxy(proxy)
            except Exception:  # noqa: BLE001
                pxm.UnRegisterProxy(group, name, proxy)
    simple.SetActiveView(None)
    simple.SetActiveSource(None)
    State.fresh = False


@contextlib.contextmanager
def as_main(script):
    """The namespace a script runs in, registered as the module `__main__` meanwhile, as under pvbatch: ParaView
    runs a Programmable Filter's code in sys.modules["__main__"] (its numpy names land there), which pvbatch's
    script is. A run here meets what a plain run meets."""
    module = types.ModuleType("__main__")
    module.__file__ = script
    module.__dict__["__builtins__"] = __builtins__
    previous = sys.modules.get("__main__")
    sys.modules["__main__"] = module
    try:
        yield module.__dict__
    finally:
        sys.modules["__main__"] = previous


def run_job(job):
    reset = job.get("session") != State.session or State.dirty
    if reset and State.pristine:
        # The session pvbatch started with is the one a plain run gets; ResetSession would rebuild it for
        # nothing (it cost ~1.3 s, the whole of a worker's first-run overhead over a plain pvbatch run).
        State.pristine, State.fresh, State.dirty = False, True, False
        State.session = job.get("session")
    elif reset:
        reset_session()
        State.session = job.get("session")
    else:
        clear_view_side()
    State.calls, State.executions = {}, {}
    restart_random_sequence()
    script = job["script"]
    cwd = job.get("cwd") or os.getcwd()
    os.chdir(cwd)
    sys.argv = [script] + list(job.get("argv", []))
    # As pvbatch would: the script's folder first on sys.path (not this driver's, which is replay's package).
    sys.path[0] = os.path.dirname(os.path.abspath(script))
    out, err = io.StringIO(), io.StringIO()
    returncode = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            with open(script, "rb") as handle:
                source = handle.read()
            functions_for(mode_of(source.decode("utf-8", "replace")))
            code = compile(source, script, "exec")
            with as_main(script) as namespace:
                exec(code, namespace)
        except SystemExit as stop:
            if stop.code is None or stop.code == 0:
                returncode = 0
            elif isinstance(stop.code, int):
                returncode = stop.code
            else:
                err.write("%s\n" % (stop.code,))
                returncode = 1
        except BaseException:  # noqa: BLE001 - report it like pvbatch would, then go on serving
            traceback.print_exc(file=err)
            returncode = 1
    if returncode != 0:
        State.dirty = True  # a half-built pipeline must not serve the next run
    return {"id": job.get("id"), "returncode": returncode, "stdout": out.getvalue(), "stderr": err.getvalue(),
            "reset": reset, "executions": dict(State.executions)}


def main():
    # The scripts' _replay_stop ends a run with SystemExit here, never the worker (script/runtime.py).
    os.environ["REPLAY_SWEEP_WORKER"] = "1"
    # Ready before the first job arrives (replay still plans the sweep meanwhile).
    import_wrappers()
    _wrap_simple()
    # pvbatch replaces sys.stdin/sys.stdout with its own capture objects: talk over the real descriptors.
    channel = io.open(os.dup(1), "w", encoding="utf-8")
    for line in io.open(0, "r", encoding="utf-8", closefd=False):
        if not line.strip():
            continue
        job = json.loads(line)
        if job.get("quit"):
            break
        try:
            answer = run_job(job)
        except BaseException as exc:  # noqa: BLE001
            State.dirty = True
            answer = {"id": job.get("id"), "returncode": 1, "stdout": "", "reset": True, "executions": {},
                      "stderr": "replay worker: %s: %s\n" % (type(exc).__name__, exc)}
        channel.write(MARK + json.dumps(answer) + "\n")
        channel.flush()


if __name__ == "__main__":
    main()
