"""Typed errors. Each carries the place it points at; the CLI maps them to exit codes in one place."""
from __future__ import annotations


class ReplayError(Exception):
    """Base of every error replay reports to a user as one line."""

    exit_code = 1

    def __init__(self, message: str, path: str | None = None, line: int | None = None, col: int | None = None):
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line
        self.col = col

    def at(self, path: str, shown_as: str | None = None) -> "ReplayError":
        """Name the file as the user gave it: core functions only saw its text and a display name."""
        if self.path is None or self.path.startswith("<") or self.path == shown_as:
            self.path = path
        return self

    def __str__(self) -> str:
        if self.path is None:
            return f"replay: {self.message}"
        if self.line is None:
            return f"{self.path}: {self.message}"
        return f"{self.path}:{self.line}:{self.col or 1}: {self.message}"


class InputError(ReplayError):
    """The recording cannot be read: missing, a directory, unreadable, binary, empty."""


class ParseError(InputError):
    """The recording is not valid Python or XML."""


class NotARecording(InputError):
    """Valid text, but not a ParaView trace or state."""


class UnsafeInput(InputError):
    """Refused on purpose: entity expansion, external entities, DTDs."""


class OutputError(ReplayError):
    """The output cannot be written where it was asked to go."""


class UsageError(ReplayError):
    """The command line asks for something that does not fit the recording."""

    exit_code = 2


class UnknownParameter(UsageError):
    """A --param name matches nothing in the recording."""


class DataMissing(InputError):
    """The recording reads data that is not at its recorded paths here, so it cannot run as recorded."""

    exit_code = 2


class RunError(ReplayError):
    """pvbatch is missing or failed."""


class PvbatchNotFound(RunError):
    pass


class PvbatchFailed(RunError):
    def __init__(self, message: str, returncode: int, **kw):
        super().__init__(message, **kw)
        self.exit_code = returncode if 0 < returncode < 256 else 1


class PvbatchCrashed(PvbatchFailed):
    """pvbatch died of a signal in a recording's statement: the message names it (`trace.py:451: ...`) and is the
    whole line; the exit status is the shell's for that signal (139 for SIGSEGV), with or without xvfb-run."""

    def __init__(self, message: str, returncode: int):
        super().__init__(message, returncode)
        self.exit_code = 128 - returncode if returncode < 0 else returncode

    def __str__(self) -> str:
        return self.message


class SlurmUnavailable(RunError):
    pass
