"""How often a study rewrites its records (manifest, data.csv, gallery) while runs land."""
from __future__ import annotations

import threading
import time
from typing import Callable, Optional


class Paced:
    """Calls `write` at most once per ten of its own durations: the records are rewritten whole, so a write per
    run is quadratic in a big study (2,000 rows take ~0.1 s to write, a kept run ~0.5 s). A write it puts off
    happens by itself when the pause is over, not at the next run's landing: the last runs before a long wait (a
    SLURM study's runs still queued, one slow run) would otherwise stay out of the records through all of it.

    `lock` guards what `write` reads and is held for every write, the late one included (a reentrant lock: the
    caller may hold it already). A late write that fails goes to `on_error`; the others raise to the caller."""

    def __init__(self, write: Callable[[], None], lock, on_error: Callable[[BaseException], None]):
        self._write, self._lock, self._on_error = write, lock, on_error
        self._at = 0.0
        self._took = 0.0
        self._timer: Optional[threading.Timer] = None
        self.behind = False

    def now(self) -> None:
        with self._lock:
            start = time.monotonic()
            self._write()
            self._at, self._took, self.behind = time.monotonic(), time.monotonic() - start, False

    def soon(self) -> None:
        with self._lock:
            wait = self._at + 10 * self._took - time.monotonic()
            if wait <= 0:
                self.now()
                return
            self.behind = True
            if self._timer is None:
                self._timer = threading.Timer(wait, self._late)
                self._timer.daemon = True
                self._timer.start()

    def _late(self) -> None:
        with self._lock:
            self._timer = None
            if not self.behind:
                return
            try:
                self.now()
            except Exception as exc:  # noqa: BLE001 - the caller's on_error decides (a full disk, say)
                self._on_error(exc)

    def close(self) -> None:
        """No late write any more (the study wrote its last records, or gave up on them)."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
