"""One sweep at a time per folder: a lock file in the sweep folder, held for the whole sweep.

The lock is a `flock` on `<folder>/.replay-sweep.lock`, which holds who took it (pid, host, command,
since when) so a refusal can name the holder. The kernel drops a flock when the last process holding
it ends, so a sweep killed with SIGKILL leaves a file but no lock: the next sweep takes it over. The
pvbatch processes a sweep starts inherit the lock (`inherited()`), so the pvbatch runs a killed sweep
left behind still hold the folder until they end: never may two runs write one folder.

Where the file system has no flock (some Lustre or NFS mounts), the file itself is the lock (created
exclusively), and a lock whose holder is no longer running on this host is stale and taken over.
"""
from __future__ import annotations

import contextlib
import errno
import os
import sys
import time
from pathlib import Path
from typing import Callable, Iterator, Optional

from ..errors import OutputError

LOCK_NAME = ".replay-sweep.lock"
_NO_FLOCK = {errno.ENOLCK, errno.ENOSYS, errno.EOPNOTSUPP, errno.EINVAL}
_HELD: set[int] = set()

Notify = Optional[Callable[[str], None]]


class FolderLocked(OutputError):
    """Another sweep writes into this folder."""


def inherited() -> tuple[int, ...]:
    """The lock descriptors this process holds: for `pass_fds` of the pvbatch processes it starts."""
    return tuple(sorted(_HELD))


def _host() -> str:
    import socket  # here, not at the top: `replay run` imports this module for inherited() only

    return socket.gethostname()


def _me() -> dict:
    import shlex

    prog = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "python"
    prog = "replay" if prog in ("replay", "__main__.py") else prog
    return {"pid": os.getpid(), "host": _host(), "since": time.strftime("%Y-%m-%d %H:%M:%S"),
            "command": shlex.join([prog, *sys.argv[1:]])}


def _read(fd: int) -> dict:
    import json

    try:
        holder = json.loads(os.pread(fd, 65536, 0).decode("utf-8", "replace") or "{}")
    except (OSError, ValueError):
        return {}
    return holder if isinstance(holder, dict) else {}


def _write(fd: int, holder: dict) -> None:
    import json

    data = (json.dumps(holder) + "\n").encode("utf-8")
    os.ftruncate(fd, 0)
    os.pwrite(fd, data, 0)


def _running(holder: dict) -> bool:
    """False only when the holder's process is known to be gone (same host, no such pid)."""
    pid = holder.get("pid")
    if not isinstance(pid, int) or holder.get("host") != _host():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def describe(holder: dict) -> str:
    if not holder.get("pid"):
        return "another sweep (it has not said who it is yet)"
    where = f" on {holder['host']}" if holder.get("host") and holder["host"] != _host() else ""
    what = "; ".join(v for v in (holder.get("command"), f"since {holder['since']}" if holder.get("since") else "") if v)
    return f"pid {holder['pid']}{where}" + (f" ({what})" if what else "")


def _openers(path: Path) -> str:
    """Which processes have the lock file open (Linux /proc; '' elsewhere): what is left to end."""
    found = []
    try:
        target = os.stat(path)
        pids = [p for p in os.listdir("/proc") if p.isdigit() and int(p) != os.getpid()]
    except OSError:
        return ""
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
            if any(os.path.samestat(os.stat(f"/proc/{pid}/fd/{fd}"), target) for fd in fds):
                with open(f"/proc/{pid}/comm", encoding="utf-8", errors="replace") as comm:
                    found.append(f"{pid} {comm.read().strip()}")
        except OSError:
            continue
    return f": pid {', '.join(found)}" if found else ""


def _refuse(folder: Path, holder: dict) -> FolderLocked:
    return FolderLocked(f"another sweep is writing into this folder: {describe(holder)}; let it finish, "
                        "or pass --wait to start when it has", str(folder))


@contextlib.contextmanager
def sweep_lock(folder, *, wait: bool = False, on_wait: Notify = None, on_stale: Notify = None,
               poll: float = 0.2) -> Iterator[Path]:
    """Hold the sweep folder (created if missing) for the duration of the block. Another sweep holding it:
    FolderLocked naming it, or with wait, block until it ends. on_wait/on_stale get one line to show.
    A folder this call created and left empty is removed again (a refused plan leaves nothing behind)."""
    folder = Path(os.fspath(folder))
    if folder.exists() and not folder.is_dir():
        raise OutputError("exists and is not a folder", str(folder))
    created = not folder.exists()
    path = folder / LOCK_NAME
    try:
        fd, flocked = _acquire(path, wait, on_wait, on_stale, poll)
    except OSError as exc:  # a read-only or full folder: nothing can be written there, the lock first
        from .storage import describe

        raise OutputError(f"cannot write the sweep's lock file: {describe(exc)}", str(folder)) from None
    _HELD.add(fd)
    try:
        yield path
    finally:
        _HELD.discard(fd)
        # Unlink before letting go: a sweep waiting on this file then sees it is gone and locks a new one.
        if flocked or _read(fd).get("pid") == os.getpid():
            with contextlib.suppress(OSError):
                os.unlink(path)
        os.close(fd)
        if created:
            with contextlib.suppress(OSError):
                folder.rmdir()  # only when empty


def _acquire(path: Path, wait: bool, on_wait: Notify, on_stale: Notify, poll: float) -> tuple[int, bool]:
    import fcntl

    told, unnamed = None, 0
    while True:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read(fd)
            os.close(fd)
            if not holder and unnamed < 40:
                unnamed += 1  # locked a moment ago, not yet written who: look again, to name it
                time.sleep(0.05)
                continue
            gone = not _running(holder)
            if not wait and not gone:
                raise _refuse(path.parent, holder) from None
            # A killed sweep's pvbatch runs still hold it: they end soon, and until then they write here.
            key = (gone, holder.get("pid"))
            if on_wait and key != told:
                on_wait(f"waiting for the runs left by a sweep that was killed ({describe(holder)}) to end"
                        f"{_openers(path)}" if gone else
                        f"waiting for the sweep writing into {path.parent} to finish: {describe(holder)}")
            told = key
            time.sleep(poll)
            continue
        except OSError as exc:
            os.close(fd)
            if exc.errno in _NO_FLOCK:
                return _acquire_exclusive(path, wait, on_wait, on_stale, poll), False
            raise OutputError(f"cannot lock the sweep folder: {exc.strerror}", str(path.parent)) from None
        # Locked, but the file may have been unlinked by the sweep that just finished: lock the new one.
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(path))
        except FileNotFoundError:
            same = False
        if not same:
            os.close(fd)
            continue
        previous = _read(fd)
        if previous.get("pid") and on_stale:
            on_stale(f"took over the lock of a sweep that is no longer running: {describe(previous)}")
        _write(fd, _me())
        return fd, True


def _acquire_exclusive(path: Path, wait: bool, on_wait: Notify, on_stale: Notify, poll: float) -> int:
    """Without flock: the lock is the file's existence; a holder gone from this host is stale."""
    import json

    told = False
    while True:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            try:
                holder = json.loads(path.read_text(encoding="utf-8") or "{}")
                age = time.time() - path.stat().st_mtime
            except (OSError, ValueError):
                holder, age = {}, 0.0  # being written, or gone already: look again
            holder = holder if isinstance(holder, dict) else {}
            if (holder.get("pid") and not _running(holder)) or (not holder and age > 30):
                if on_stale:
                    on_stale(f"took over the lock of a sweep that is no longer running: {describe(holder)}")
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)
                continue
            if not wait and holder:
                raise _refuse(path.parent, holder) from None
            if wait and on_wait and not told and holder:
                on_wait(f"waiting for the sweep writing into {path.parent} to finish: {describe(holder)}")
                told = True
            time.sleep(poll)
            continue
        _write(fd, _me())
        return fd
