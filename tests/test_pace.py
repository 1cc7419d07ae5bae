"""A study's records are written at most once per ten of their own write times, and a write put off happens by
itself: the last rows before a long wait reach the manifest without another run landing (CI once waited 8
minutes for the 20th row of a SLURM study whose other runs were held)."""
import threading
import time

from replay.batch.pace import Paced


def _slow_writer(seconds, written):
    def write():
        time.sleep(seconds)
        written.append(time.monotonic())
    return write


def test_a_write_put_off_happens_when_the_pause_is_over():
    written, errors = [], []
    paced = Paced(_slow_writer(0.05, written), threading.RLock(), errors.append)
    paced.soon()  # the first write: nothing written before, no pause
    assert len(written) == 1
    paced.soon()  # within ten write times (0.5 s) of the first: put off
    paced.soon()
    assert len(written) == 1 and paced.behind
    deadline = time.monotonic() + 3
    while len(written) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(written) == 2, "the put-off write never happened"
    assert written[1] - written[0] >= 0.45  # not before the pause is over
    assert not paced.behind and not errors
    time.sleep(0.7)
    assert len(written) == 2  # one late write for all the calls it covered
    paced.close()


def test_closing_cancels_the_late_write_and_a_late_failure_goes_to_on_error():
    written, errors = [], []
    paced = Paced(_slow_writer(0.05, written), threading.RLock(), errors.append)
    paced.now()
    paced.soon()
    paced.close()
    time.sleep(0.8)
    assert len(written) == 1

    calls = []

    def failing():
        calls.append(1)
        time.sleep(0.05)
        if len(calls) > 1:
            raise OSError(28, "No space left on device")

    paced = Paced(failing, threading.RLock(), errors.append)
    paced.now()
    paced.soon()
    deadline = time.monotonic() + 3
    while not errors and time.monotonic() < deadline:
        time.sleep(0.02)
    assert [type(e) for e in errors] == [OSError] and paced.behind
