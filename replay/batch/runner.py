"""Run a replay script under pvbatch: find pvbatch, build its command line, run it, report what it said.

The rule for the headless wrapper (`xvfb-run -a`): Debian's ParaView renders through X, and pvbatch segfaults
without a display. So when $DISPLAY is unset and `xvfb-run` is on PATH, pvbatch runs inside `xvfb-run -a`,
unless the pvbatch is an offscreen build (its path names `osmesa` or `egl`, as paraview.org's headless
binaries do). $REPLAY_XVFB=1/0 forces the wrapper on/off when that guess is wrong.
"""
from __future__ import annotations

import os
import random
import re
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Optional, Sequence, Union

from ..errors import PvbatchCrashed, PvbatchFailed, PvbatchNotFound, UsageError
from .sweep_lock import inherited

HOW_TO_GET = ("install it (Debian/Ubuntu: apt-get install paraview python3-paraview) or use the ParaView "
              "binaries from https://www.paraview.org/download/, then pass --pvbatch PATH or set $PVBATCH")

Params = Union[None, Sequence[str], Mapping[str, object]]


def find_pvbatch(explicit: str | None = None) -> str:
    """--pvbatch, then $PVBATCH, then PATH."""
    for given, origin in ((explicit, "--pvbatch"), (os.environ.get("PVBATCH") or None, "$PVBATCH")):
        if given is None:
            continue
        found = shutil.which(given) if os.sep not in given else (given if os.access(given, os.X_OK)
                                                                 and os.path.isfile(given) else None)
        if not found:
            raise PvbatchNotFound(f"pvbatch not found: {origin} {given!r} is not an executable file; {HOW_TO_GET}")
        return os.path.abspath(found)
    found = shutil.which("pvbatch")
    if not found:
        raise PvbatchNotFound(f"pvbatch not found on PATH; {HOW_TO_GET}")
    return found


def needs_xvfb(pvbatch: str) -> bool:
    forced = os.environ.get("REPLAY_XVFB")
    if forced in ("0", "1"):
        return forced == "1"
    if os.environ.get("DISPLAY") or not shutil.which("xvfb-run"):
        return False
    real = os.path.realpath(pvbatch).lower()
    return not ("osmesa" in real or "egl" in real)


_OPEN_MPI: dict = {}


def _is_open_mpi(mpiexec: str) -> bool:
    # --allow-run-as-root/--oversubscribe are Open MPI's words; MPICH's mpiexec refuses them.
    if mpiexec not in _OPEN_MPI:
        try:
            out = subprocess.run([mpiexec, "--version"], capture_output=True, text=True, timeout=20)
            _OPEN_MPI[mpiexec] = "open mpi" in (out.stdout + out.stderr).lower() or "open-mpi" in out.stdout.lower()
        except (OSError, subprocess.TimeoutExpired):
            _OPEN_MPI[mpiexec] = False
    return _OPEN_MPI[mpiexec]


def mpi_launcher(n: int) -> list[str]:
    if n < 1:
        raise UsageError(f"--mpi {n}: must be at least 1")
    mpiexec = shutil.which("mpiexec") or shutil.which("mpirun")
    if not mpiexec:
        raise PvbatchNotFound("--mpi needs mpiexec, which is not on PATH (Debian: apt-get install openmpi-bin)")
    command = [mpiexec]
    if _is_open_mpi(mpiexec):
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.append("--allow-run-as-root")
        if n > (os.cpu_count() or 1):
            command.append("--oversubscribe")
    return command + ["-n", str(n)]


def pvbatch_command(mpi: int | None = None, pvbatch: str | None = None) -> list[str]:
    """The words before the script: [xvfb-run -a] [mpiexec ... -n N] pvbatch."""
    exe = find_pvbatch(pvbatch)
    command = [exe]
    if mpi:
        command = mpi_launcher(mpi) + command
    if needs_xvfb(exe):
        # One X server for all ranks: xvfb-run outside mpiexec.
        command = xvfb_run() + command
    return command


# xvfb-run's own screen, and -noreset: by default Xvfb resets whenever its last client disconnects, and a client
# that connects during the reset gets no display. pvbatch connects more than once (ParaView probes OpenGL on a
# window of its own, then opens the view's), and under MPI every rank does, so without it a run now and then
# died with "bad X server connection" on a server that was up (xdpyinfo coming and going 300 times: 3-18 refused
# with resets, none without; tests/test_run.py).
XVFB_SERVER_ARGS = "-screen 0 1280x1024x24 -noreset"


def xvfb_run() -> list[str]:
    """The words that run a command inside its own virtual X server."""
    # `xvfb-run -a` alone starts looking at display 99, so concurrent runs race for the same number; a random
    # start makes that rare (and run()/the worker retry when it happens anyway).
    return ["xvfb-run", "-a", "-n", str(random.SystemRandom().randrange(100, 30000)), "-s", XVFB_SERVER_ARGS]


def _words(value) -> list[str]:
    if isinstance(value, (list, tuple)):
        return [_word(v) for v in value]
    return [_word(value)]


def _word(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return os.fspath(value) if isinstance(value, os.PathLike) else str(value)


def script_arguments(params: Params) -> list[str]:
    """CLI words for the script: a list is passed as it is; a dict name -> value(s) becomes --name v1 v2."""
    if params is None:
        return []
    if isinstance(params, Mapping):
        words: list[str] = []
        for name, value in params.items():
            if value is None:
                continue
            words.append("--" + str(name).lstrip("-"))
            words.extend(_words(value))
        return words
    if isinstance(params, (str, bytes)):
        raise UsageError("params must be a list of command-line words or a dict name -> value(s), not a string")
    return [_word(w) for w in params]


# pvbatch's loguru lines look like "(   0.512s) [pvbatch         ]  vtkFoo.cxx:123   INFO| text".
_LOGURU = re.compile(r"^\(\s*[\d.]+s\)\s+\[[^\]]*\]\s*(\S+:\d+\s+)?(?P<level>[A-Z0-9]+)\|")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_NOISE_LEVELS = {"INFO", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "TRACE", "DEBUG"}


def filter_noise(text: str) -> str:
    """Drop pvbatch's INFO/verbosity log lines; keep warnings, errors and the script's own output."""
    if not text:
        return text
    kept = []
    for line in _ANSI.sub("", text).splitlines(keepends=True):
        m = _LOGURU.match(line)
        if m and m.group("level") in _NOISE_LEVELS:
            continue
        kept.append(line)
    return "".join(kept)


# The line a generated script stops with when a writing call left no file or a broken one (_REPLAY_NOT_WRITTEN).
NOT_WRITTEN = re.compile(r"^replay: \w+ failed to write ")


def error_lines(stderr: str, limit: int = 3) -> list[str]:
    """pvbatch's own error: the Python exception line, else loguru ERR lines, else the last words."""
    lines = [line.rstrip() for line in (stderr or "").splitlines() if line.strip()]
    for line in reversed(lines):
        # The generated script's own verdict on an output ParaView did not write (script/runtime.py): it
        # already carries ParaView's error, which the ERR lines before it would only repeat.
        if NOT_WRITTEN.match(line):
            return [line]
    for i in range(len(lines) - 1, -1, -1):
        if lines[i].startswith("Traceback (most recent call last)"):
            # The exception line is the first unindented line after the frames (mpiexec may talk after it).
            tail = [line for line in lines[i + 1:] if not line.startswith(" ")]
            if tail:
                return tail[:1]
    errs = [line for line in lines if re.search(r"\b(ERR|ERROR)\|", line) or line.startswith("ERROR:")]
    if errs:
        return [re.sub(r"^\(\s*[\d.]+s\)\s+\[[^\]]*\]\s*", "", e).strip() for e in errs[-limit:]]
    return lines[-1:]


@dataclass
class RunResult:
    command: list
    returncode: int
    seconds: float
    stdout: str = ""
    stderr: str = ""
    outputs: list = field(default_factory=list)
    output_dir: Optional[str] = None
    timed_out: bool = False
    script: Optional[str] = None  # the replay script, to name the recording's line of a crash (crash.py)

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    @property
    def error(self) -> Optional[str]:
        """One line: what went wrong, in pvbatch's words; None when it worked."""
        if self.ok:
            return None
        if self.timed_out:
            return f"pvbatch timed out after {self.seconds:.0f} s"
        crashed = self.crash
        if crashed:
            return crashed
        said = "; ".join(error_lines(self.stderr)) or "no error message"
        code = self.returncode
        if code < 0 or code > 128:  # killed by a signal (directly, or as reported by the xvfb-run shell)
            number = -code if code < 0 else code - 128
            try:
                name = signal.Signals(number).name
            except ValueError:
                name = f"signal {number}"
            return f"pvbatch was killed by {name} (exit {code}): {said}"
        return f"pvbatch exited with {code}: {said}"

    @property
    def crash(self) -> Optional[str]:
        """`trace.py:451: <statement>: pvbatch crashed (SIGSEGV) here` when pvbatch died of a signal in a
        recording's statement (replay/batch/crash.py), else None."""
        if self.ok or self.timed_out:
            return None
        from .crash import crash_line

        return crash_line(self.stderr, self.script, self.returncode)

    def check(self, script: str | None = None) -> "RunResult":
        if not self.ok:
            crashed = self.crash
            if crashed:
                raise PvbatchCrashed(crashed, self.returncode)
            raise PvbatchFailed(self.error, self.returncode if not self.timed_out else 124, path=script)
        return self


def output_dir_of(words: Sequence[str]) -> Optional[str]:
    for i, word in enumerate(words):
        if word == "--output-dir" and i + 1 < len(words):
            return words[i + 1]
        if word.startswith("--output-dir="):
            return word.split("=", 1)[1]
    return None


def list_outputs(folder, since: float | None = None) -> list[str]:
    """Files under folder (relative, '/'-separated, sorted), optionally only those written since a time."""
    root = Path(folder)
    if not root.is_dir():
        return []
    found = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.name.startswith(".replay"):
            if since is None or path.stat().st_mtime >= since - 1:
                found.append(path.relative_to(root).as_posix())
    return found


def _stop(proc: subprocess.Popen) -> None:
    # pvbatch runs in its own process group (xvfb-run starts Xvfb, mpiexec starts ranks): stop them all.
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            return
        try:
            proc.wait(timeout=5)
            return
        except subprocess.TimeoutExpired:
            continue


def run(script, params: Params = None, *, mpi: int | None = None, pvbatch: str | None = None, cwd=None,
        timeout: float | None = None, env: Mapping[str, str] | None = None, on_start=None) -> RunResult:
    """Run `script` under pvbatch with params; never raises for pvbatch's own failure (see RunResult.check).

    on_start(proc) gets the pvbatch process, so a caller in another thread can stop it (sweeps on Ctrl-C).
    """
    script = os.fspath(script)
    words = script_arguments(params)
    command = pvbatch_command(mpi=mpi, pvbatch=pvbatch) + [script, *words]
    out_dir = output_dir_of(words)
    if out_dir and cwd and not os.path.isabs(out_dir):
        out_dir = os.path.join(os.fspath(cwd), out_dir)
    full_env = None
    if env:
        full_env = dict(os.environ)
        full_env.update(env)
    result = _run_once(command, cwd, full_env, timeout, out_dir, on_start)
    result.script = script
    for pause in DISPLAY_RETRY_PAUSES:
        # A lost display is not the script's fault: try again on another one.
        if result.ok or command[0] != "xvfb-run" or not lost_display(result.stderr):
            break
        time.sleep(pause)
        command = pvbatch_command(mpi=mpi, pvbatch=pvbatch) + [script, *words]
        result = _run_once(command, cwd, full_env, timeout, out_dir, on_start)
        result.script = script
    return result


# What xvfb-run and VTK say when the X server went wrong, not the script: another run took the display number
# between xvfb-run's check and its start, the server did not answer or the window could not be created on it,
# or it offered no OpenGL visual. The SLURM task (slurm._replay_task) uses the same words.
LOST_DISPLAY_SIGNS = ("bad X server connection", "Xvfb failed to start", "vtkXOpenGLRenderWindow::CreateAWindow",
                      "Could not find a decent config", "Could not find a decent visual")
# Seconds to wait before each new display: spread out, so whatever took the display has time to pass.
DISPLAY_RETRY_PAUSES = (1, 2, 4)


def lost_display(stderr: str) -> bool:
    """The X server went wrong, not the script (see LOST_DISPLAY_SIGNS)."""
    return any(sign in stderr for sign in LOST_DISPLAY_SIGNS)


def _run_once(command, cwd, full_env, timeout, out_dir, on_start=None) -> RunResult:
    start_wall = time.time()
    start = time.monotonic()
    # pass_fds: a sweep's folder lock, so runs a killed sweep leaves behind still hold its folder.
    proc = subprocess.Popen(command, cwd=cwd, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, errors="replace", start_new_session=True, pass_fds=inherited())
    if on_start:
        on_start(proc)
    timed_out = False
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        _stop(proc)
        stdout, stderr = proc.communicate()
    except BaseException:
        _stop(proc)
        raise
    seconds = time.monotonic() - start
    returncode = proc.returncode
    if timed_out:
        returncode = 124
    outputs = list_outputs(out_dir, since=start_wall) if out_dir else []
    return RunResult(command=command, returncode=returncode, seconds=round(seconds, 3),
                     stdout=filter_noise(stdout), stderr=filter_noise(stderr), outputs=outputs,
                     output_dir=out_dir, timed_out=timed_out)
