"""`replay macro install|uninstall`: the ParaView macro "Save Replay Script" (registered by replay/cli/app.py).

The macro itself is replay/macro/paraview_macro.py, copied with the replay command of this installation filled in.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer


MACRO_FILE = "Save Replay Script.py"  # ParaView names a macro by its file name
MARKER = "a ParaView macro, written by `replay macro install`"  # in the macro's first line

macro_app = typer.Typer(no_args_is_help=True, help="The ParaView macro \"Save Replay Script\": from the GUI, "
                        "save the trace in progress (or the state) and convert it.")

_DIR_HELP = "The ParaView macros folder. Default: ~/.config/ParaView/Macros (%APPDATA%\\ParaView\\Macros on Windows)."


def default_macros_dir() -> Path:
    import os

    if sys.platform == "win32" and os.environ.get("APPDATA"):
        return Path(os.environ["APPDATA"]) / "ParaView" / "Macros"
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "ParaView" / "Macros"


def macro_text(command: list[str]) -> str:
    """The macro's source with the replay command it runs."""
    source = (Path(__file__).resolve().parents[2] / "macro" / "paraview_macro.py").read_text(encoding="utf-8")
    line = "REPLAY_COMMAND = []\n"
    assert source.count(line) == 1
    return source.replace(line, f"REPLAY_COMMAND = {command!r}\n")


def _ours(path: Path) -> bool:
    try:
        return MARKER in path.read_text(encoding="utf-8", errors="replace")[:400]
    except OSError:
        return False


@macro_app.command()
def install(folder: Optional[str] = typer.Option(None, "--dir", help=_DIR_HELP)) -> None:
    """Write the macro into ParaView's macros folder."""
    from ...errors import OutputError
    from ...files import write_atomic

    target = Path(folder).expanduser() if folder else default_macros_dir()
    path = target / MACRO_FILE
    if path.exists() and not _ours(path):
        raise OutputError("exists and is not replay's macro; remove it or choose another --dir", str(path))
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create the folder: {exc.strerror or exc}", str(target)) from None
    # The interpreter that runs this command has replay: the macro runs `python -m replay` with it.
    write_atomic(path, macro_text([str(Path(sys.executable).absolute()), "-m", "replay"]))
    sys.stderr.write(f"wrote {path}\nIn ParaView: Macros > Save Replay Script (restart ParaView if it is "
                     "running, or add it with Macros > Import new macro...). Use it while a trace runs (Tools > "
                     "Start Trace) to convert the trace so far, or without one to convert the current state.\n")


@macro_app.command()
def uninstall(folder: Optional[str] = typer.Option(None, "--dir", help=_DIR_HELP)) -> None:
    """Remove the macro."""
    from ...errors import OutputError

    path = (Path(folder).expanduser() if folder else default_macros_dir()) / MACRO_FILE
    if not path.exists():
        sys.stderr.write(f"no macro at {path}: nothing to remove\n")
        return
    if not _ours(path):
        raise OutputError("is not replay's macro; left as it is", str(path))
    try:
        path.unlink()
    except OSError as exc:
        raise OutputError(f"cannot remove: {exc.strerror or exc}", str(path)) from None
    sys.stderr.write(f"removed {path}\n")
