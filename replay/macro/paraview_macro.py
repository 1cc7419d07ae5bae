"""Save Replay Script: a ParaView macro, written by `replay macro install` (remove it: replay macro uninstall).

In the ParaView GUI: Macros > Save Replay Script. It saves what this session did as a recording, and runs
`replay convert` on it, which writes <name>_replay.py beside the recording:
- while a trace is running (Tools > Start Trace), the trace recorded so far, as trace-<time>.py;
- else the current state, as state-<time>.pvsm.
The folder is $REPLAY_MACRO_DIR if set, else ParaView's working folder. The Output Messages window (or the
Python shell) says where the files went.

This file runs in ParaView's own Python, where replay and its dependencies may not be installed: it uses
the standard library and paraview only, and runs the replay command (REPLAY_COMMAND, recorded when the
macro was installed, else `replay` on PATH).
"""
import os
import shutil
import subprocess
import time

# The replay command of the installation that wrote this macro (the line is replaced on install).
REPLAY_COMMAND = []

def replay_command():
    if REPLAY_COMMAND and os.path.exists(REPLAY_COMMAND[0]):
        return list(REPLAY_COMMAND)
    found = shutil.which("replay")
    if found:
        return [found]
    raise RuntimeError("the replay command is not on PATH%s: install replay, then run `replay macro install` "
                       "again" % (" and %s is gone" % REPLAY_COMMAND[0] if REPLAY_COMMAND else ""))


def fresh_path(folder, stem, extension):
    """A name nothing has: a recording is never written over."""
    base = os.path.join(folder, stem + "-" + time.strftime("%Y%m%d-%H%M%S"))
    path, k = base + extension, 2
    while os.path.exists(path) or os.path.exists(path[:-len(extension)] + "_replay.py"):
        path, k = "%s-%d%s" % (base, k, extension), k + 1
    return path


def trace_text():
    """The trace recorded so far, with what ParaView adds when a trace stops: the layout sizes and the
    cameras of the views the trace used (so the replay frames its images as the GUI showed them)."""
    from paraview import simple, smtrace

    addendum = []
    try:
        if not smtrace._get_skip_rendering():
            # As smtrace._stop_trace_internal: an accessor for the active view first (it may add the line
            # that names the view to the trace), then the sizes and cameras that refer to it.
            smtrace.Trace.get_accessor(simple.GetActiveView())
            layouts = smtrace.SaveLayoutSizes.get_trace(None)
            cameras = smtrace.SaveCameras.get_trace(None)
            addendum = ["", "#" + "=" * 64,
                        "# addendum: layout sizes and cameras at the time of Save Replay Script",
                        "#" + "=" * 64]
            if layouts:
                addendum += ["", "# layout sizes"] + list(layouts)
            if cameras:
                addendum += ["", "# camera placements"] + list(cameras)
    except Exception:  # noqa: BLE001 - ParaView's internals differ by version: keep the trace as it is
        addendum = []
    text = smtrace.get_current_trace_output()
    return text + "\n".join(addendum) + "\n"


def convert(recording):
    """Run `replay convert` on the recording; return the replay script's path."""
    env = dict(os.environ)
    env.pop("PYTHONHOME", None)  # ParaView's own Python home is not replay's
    proc = subprocess.run(replay_command() + ["convert", recording], capture_output=True, text=True, env=env,
                          timeout=600)
    if proc.returncode != 0:
        lines = (proc.stderr or proc.stdout or "").strip().splitlines()
        raise RuntimeError("replay convert %s failed: %s" % (recording, lines[-1] if lines else proc.returncode))
    return os.path.splitext(recording)[0] + "_replay.py"


def main():
    from paraview import servermanager

    folder = os.path.abspath(os.environ.get("REPLAY_MACRO_DIR") or os.getcwd())
    try:
        os.makedirs(folder, exist_ok=True)
        if servermanager.vtkSMTrace.GetActiveTracer() is not None:
            recording = fresh_path(folder, "trace", ".py")
            with open(recording, "w", encoding="utf-8") as f:
                f.write(trace_text())
            what = "the trace so far"
        else:
            from paraview import simple

            recording = fresh_path(folder, "state", ".pvsm")
            simple.SaveState(recording)
            what = "the current state (no trace is running)"
    except OSError as exc:
        print("Save Replay Script: cannot write in %s (%s): set REPLAY_MACRO_DIR to a folder you can write to"
              % (folder, exc.strerror or exc))
        return None
    try:
        script = convert(recording)
    except Exception as exc:  # noqa: BLE001 - a macro reports, it does not crash the GUI's shell
        print("Save Replay Script: saved %s as %s, but %s" % (what, recording, exc))
        return None
    print("Save Replay Script: saved %s as %s\nSave Replay Script: wrote %s\nRun it: pvbatch %s --help"
          % (what, recording, script, script))
    return script


# ParaView runs a macro as a script; replay only reads this file's text to install it.
if __name__ != "replay.macro.paraview_macro":
    main()
