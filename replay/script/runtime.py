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


def _replay_help(param, source):
    where = "%s line %s" % (source, param["line"]) if param.get("line") else source
    what = {"file": "file(s) or a quoted glob for", "property": "value of", "time": "", "output": ""}[param["kind"]]
    target = ".".join(part for part in (param.get("proxy"), param.get("property")) if part)
    if param["kind"] == "time":
        text = "data time to replay at; replaces every time the recording sets"
        shown = "as recorded" if param["default"] is None else "%r as recorded" % param["default"]
    elif param["kind"] == "output":
        text = "folder for every file the script writes (created; outputs keep their recorded base names)"
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
        options = {"dest": param["name"], "default": None, "help": _replay_help(param, spec["source"])}
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
