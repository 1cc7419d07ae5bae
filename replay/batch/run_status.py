"""Each run's folder holds its own result, `.replay-status.json`, written as soon as the run ends (by the local
sweep, or by the SLURM task on its node). It is the truth about that run: a sweep skips a run only when its status
says it succeeded and every output it lists is still there and whole, and a manifest that is missing or damaged
is rebuilt from these files.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Optional

from ..files import write_atomic

STATUS_FILE = ".replay-status.json"  # .replay* names are not outputs (replay.batch.runner.list_outputs)
# How a picture of these kinds ends when it was written whole (a full disk can leave a cut one behind).
IMAGE_ENDS = {".png": b"IEND\xaeB`\x82", ".jpg": b"\xff\xd9", ".jpeg": b"\xff\xd9"}


def write_status(folder: Path, status: dict) -> None:
    """Atomically: a crash leaves the old status or the new one (an OSError is the caller's to judge)."""
    write_atomic(Path(folder) / STATUS_FILE, json.dumps(status, indent=2) + "\n")


def read_status(folder: Path) -> Optional[dict]:
    try:
        status = json.loads((Path(folder) / STATUS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return status if isinstance(status, dict) else None


def whole(path: Path) -> bool:
    """The file is there, not empty, and an image ends as its format says."""
    try:
        size = path.stat().st_size
        if path.is_dir():
            return True
        if size == 0:
            return False
        end = IMAGE_ENDS.get(path.suffix.lower())
        if end:
            with open(path, "rb") as handle:
                handle.seek(max(0, size - len(end)))
                return handle.read() == end
    except OSError:
        return False
    return True


def succeeded(status: Optional[dict], key: str, folder: Path) -> bool:
    """The status is this run's, says it succeeded, and its outputs are all still there and whole."""
    return bool(status) and status.get("key") == key and status.get("returncode") == 0 \
        and not status.get("stopped") and not status.get("error") \
        and all(whole(Path(folder) / name) for name in status.get("outputs") or [])


def row_of(status: dict, folder: str) -> dict:
    """A manifest row from a status file (the shape replay.batch.plan.manifest_row gives)."""
    ok = status.get("returncode") == 0 and not status.get("stopped") and not status.get("error")
    row = {"folder": folder, "params": dict(status.get("params") or {}), "status": "ok" if ok else "failed",
           "returncode": status.get("returncode"), "seconds": status.get("seconds"),
           "outputs": list(status.get("outputs") or []), "error": status.get("error"), "key": status.get("key")}
    if not ok and not row["error"]:
        row["error"] = "failed (see its .replay-status.json)"
    if "pipeline" in status:
        row["pipeline"], row["executions"] = status["pipeline"], status.get("executions") or {}
    return row


def statuses(out_dir: Path) -> dict:
    """folder (relative, '/'-separated) -> status, for every run folder under out_dir that holds one."""
    found = {}
    for root, dirs, files in os.walk(out_dir):
        dirs[:] = sorted(d for d in dirs if d != "slurm")
        if STATUS_FILE in files and Path(root) != Path(out_dir):
            status = read_status(Path(root))
            if status is not None and status.get("key"):
                found[Path(root).relative_to(out_dir).as_posix()] = status
            dirs[:] = []  # a run's own outputs below are not runs
    return found


def rebuild(out_dir: Path, found: dict, script_sha256: str) -> dict:
    """The manifest the run folders describe: one row per status file. The script is the one the statuses name
    (a status that predates that field is taken to be of the current script)."""
    shas = {s.get("script_sha256") for s in found.values() if s.get("script_sha256")}
    sha = script_sha256 if not shas or script_sha256 in shas else sorted(shas)[0]
    return {"replay_sweep": 1, "script_sha256": sha, "rebuilt": True,
            "runs": [row_of(status, folder) for folder, status in sorted(found.items())]}
