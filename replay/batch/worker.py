"""A persistent pvbatch process that runs many replay scripts (see worker_driver.py for what it keeps).

replay's side of the protocol: start `pvbatch worker_driver.py`, send a job per run, read its answer. A run that
kills pvbatch (segfault, abort) fails alone: the worker is started again for the next run.
"""
from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from pathlib import Path
from typing import Optional

from .runner import (DISPLAY_RETRY_PAUSES, RunResult, _stop, filter_noise, list_outputs, lost_display,
                     output_dir_of, pvbatch_command)
from .sweep_lock import inherited

DRIVER = Path(__file__).with_name("worker_driver.py")
MARK = "\x1ereplay-worker "


def _reap(proc: subprocess.Popen) -> None:
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
    _stop(proc)  # still running, or xvfb-run's Xvfb outliving pvbatch for a moment


class Worker:
    def __init__(self, *, pvbatch: str | None = None, env: dict | None = None, mpi: int | None = None):
        # With mpi, `mpiexec -n N pvbatch driver`: pvbatch runs Python on rank 0 only (the other ranks serve
        # its proxies), and mpiexec forwards stdin/stdout to rank 0, so the protocol is the same.
        self.pvbatch, self.mpi = pvbatch, mpi
        self.command = pvbatch_command(mpi=mpi, pvbatch=pvbatch) + [str(DRIVER)]
        self.env = env
        self.proc: Optional[subprocess.Popen] = None
        self._stderr: list[str] = []
        self._lock = threading.Lock()
        self._count = 0

    def start(self) -> None:
        env = dict(os.environ)
        env.update(self.env or {})
        self.proc = subprocess.Popen(self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, errors="replace", bufsize=1, env=env,
                                     start_new_session=True, pass_fds=inherited())  # see sweep_lock
        self._stderr = []
        threading.Thread(target=self._drain, args=(self.proc,), daemon=True).start()

    def _drain(self, proc) -> None:
        # pvbatch's own C++ messages (VTK errors, loguru) arrive here, not in the job's answer.
        for line in proc.stderr:
            with self._lock:
                self._stderr.append(line)

    def _take_stderr(self) -> str:
        with self._lock:
            text, self._stderr = "".join(self._stderr), []
        return text

    def _settled_stderr(self) -> str:
        if self.proc is not None:
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        time.sleep(0.05)
        with self._lock:
            return "".join(self._stderr)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def run(self, script, words: list[str], *, session: str, cwd=None, timeout: float | None = None) -> RunResult:
        """One run, as RunResult; `session` names what must be equal for the pipeline to be kept."""
        if not self.alive():
            self.start()
        self._count += 1
        job = {"id": self._count, "script": os.path.abspath(os.fspath(script)), "argv": list(words),
               "cwd": os.path.abspath(os.fspath(cwd or os.getcwd())), "session": session}
        out_dir = output_dir_of(words)
        if out_dir and not os.path.isabs(out_dir):
            out_dir = os.path.join(job["cwd"], out_dir)
        start_wall, start = time.time(), time.monotonic()
        self._take_stderr()
        answer, stray = self._exchange(job, timeout)
        for pause in DISPLAY_RETRY_PAUSES:
            if answer is not None or self.proc is None or not lost_display(self._settled_stderr()):
                break
            # The display was lost (see LOST_DISPLAY_SIGNS), not the run: start over on another one.
            self.kill()
            time.sleep(pause)
            self.command = pvbatch_command(mpi=self.mpi, pvbatch=self.pvbatch) + [str(DRIVER)]
            self.start()
            start_wall, start = time.time(), time.monotonic()
            answer, stray = self._exchange(job, timeout)
        seconds = round(time.monotonic() - start, 3)
        time.sleep(0.01)  # let the drain thread catch pvbatch's last stderr lines of this run
        native = self._take_stderr()
        command = self.command + [f"<job {self._count}: {os.path.basename(job['script'])} {' '.join(words)}>"]
        outputs = list_outputs(out_dir, since=start_wall) if out_dir else []
        if answer is None:
            timed_out = timeout is not None and seconds >= timeout
            code = 124 if timed_out else (self.proc.returncode if self.proc and self.proc.returncode else 1)
            self.stop()
            if not timed_out:
                native += f"pvbatch worker died (exit {code}) during this run\n"
            result = RunResult(command, code, seconds, stray, filter_noise(native), outputs, out_dir, timed_out)
        else:
            result = RunResult(command, answer["returncode"], seconds, filter_noise(stray + answer["stdout"]),
                               filter_noise(native + answer["stderr"]), outputs, out_dir)
            result.executions = answer.get("executions", {})
            result.reset = answer.get("reset")
        result.script = job["script"]
        return result

    def _exchange(self, job: dict, timeout: float | None):
        assert self.proc and self.proc.stdin and self.proc.stdout
        try:
            self.proc.stdin.write(json.dumps(job) + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            return None, ""
        timer = None
        if timeout:
            timer = threading.Timer(timeout, _stop, args=(self.proc,))
            timer.daemon = True
            timer.start()
        stray = []
        try:
            for line in self.proc.stdout:
                if line.startswith(MARK):
                    return json.loads(line[len(MARK):]), "".join(stray)
                stray.append(line)
            return None, "".join(stray)
        finally:
            if timer:
                timer.cancel()

    def stop(self, wait: bool = True) -> None:
        """Ask pvbatch to quit; without wait, its exit (~1.5 s of ParaView's finalization) and the clean-up
        happen in the background, so a sweep's last run is not followed by that wait."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            try:
                proc.stdin.write(json.dumps({"quit": True}) + "\n")
                proc.stdin.flush()
                proc.stdin.close()
            except (OSError, ValueError):
                pass
        if wait:
            _reap(proc)
        else:
            threading.Thread(target=_reap, args=(proc,), daemon=True).start()

    def kill(self) -> None:
        """Ctrl-C: stop now, whatever pvbatch is doing."""
        proc, self.proc = self.proc, None
        if proc is not None:
            _stop(proc)
