"""When the sweep's own files cannot be written: a full disk, a quota, a read-only or failing file system.

Such an error is not one run's fault: the sweep stops starting runs and says so in one line (RecordsFault), and
the runs' own status files (replay/batch/run_status.py) keep what finished, so the same command completes the
study once the fault is gone.
"""
from __future__ import annotations

import errno

from ..errors import OutputError

# errno -> what to tell the user; any other OSError is named by its own words.
STORAGE_ERRORS = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.EROFS: "the file system is read-only",
    errno.EIO: "the file system reports an input/output error",
    errno.EACCES: "no permission to write there",
    errno.EPERM: "no permission to write there",
}


class RecordsFault(OutputError):
    """The sweep cannot write its records (manifest, gallery, data.csv) or a run's status file."""


def describe(exc: BaseException) -> str:
    """One phrase for an OSError: what it means for the user, then the system's own words."""
    if isinstance(exc, OSError):
        said = f"[Errno {exc.errno}] {exc.strerror}" if exc.errno else str(exc)
        meaning = STORAGE_ERRORS.get(exc.errno)
        return f"{meaning} ({said})" if meaning else said
    return getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"


def where(exc: BaseException, default: str) -> str:
    """The file an OSError names, else default."""
    name = getattr(exc, "filename", None)
    return str(name) if name else default
