"""The runs of a SLURM submission, one task per line, with an index so that a task reads only its own line.

<slurm>/tasks.jsonl holds task i on its line i (compact JSON); <slurm>/tasks.idx holds, for every task and one
past the last, the byte offset of its line as 15 digits and a newline (16 bytes). Task i reads 32 bytes of the
index at 16 * i and then its line: a few KB, whatever the size of the study (tasks.json, parsed in full by every
task, was 44 MB for 100,000 runs). Both files are written beside their targets and renamed, never half-written.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterable, Iterator

TASKS = "tasks.jsonl"
INDEX = "tasks.idx"
ENTRY = 16


def write(directory: Path, tasks: Iterable[dict]) -> int:
    """Write the tasks (streamed: one line in memory at a time); returns how many."""
    directory = Path(directory)
    lines_tmp, index_tmp = directory / (TASKS + ".tmp"), directory / (INDEX + ".tmp")
    count = offset = 0
    with open(lines_tmp, "wb") as lines, open(index_tmp, "wb") as index:
        for task in tasks:
            data = json.dumps(task, separators=(",", ":"), ensure_ascii=False).encode("utf-8") + b"\n"
            index.write(b"%015d\n" % offset)
            lines.write(data)
            offset += len(data)
            count += 1
        index.write(b"%015d\n" % offset)
    os.replace(lines_tmp, directory / TASKS)
    os.replace(index_tmp, directory / INDEX)
    return count


def read_task(tasks_path, index):
    """Task `index` of tasks.jsonl, reading only its index entry and its line (also copied into task.py: stdlib
    only)."""
    import json as _json
    import os as _os

    index_path = _os.path.join(_os.path.dirname(tasks_path), "tasks.idx")
    # Unbuffered: a buffered file would read a whole block (8 KB) around the 32 bytes asked for.
    with open(index_path, "rb", buffering=0) as f:
        f.seek(16 * index)
        entry = f.read(32)
    start, end = int(entry[:15]), int(entry[16:31])
    with open(tasks_path, "rb", buffering=0) as f:
        f.seek(start)
        return _json.loads(f.read(end - start).decode("utf-8"))


def read_all(directory: Path) -> Iterator[dict]:
    """Every task, in order (the submitter's side: collecting rows, attaching)."""
    with open(Path(directory) / TASKS, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)
