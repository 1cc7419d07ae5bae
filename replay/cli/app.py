"""The `replay` typer app: convert and inspect, and the registrar of the other commands (commands/). With
launch.py, the only place that prints for users and picks exit codes."""
from __future__ import annotations

import json
import sys
from typing import List, Optional

import typer

from .completion import param_names
from ..errors import ReplayError

app = typer.Typer(
    add_completion=True,
    no_args_is_help=True,
    help="Turn ParaView recordings (Python traces, .pvsm states) into parameterized pvbatch scripts.",
    context_settings={"help_option_names": ["-h", "--help"]},
    # click's plain help: typer's rich layout loads rich's markdown and traceback machinery (~0.2 s).
    rich_markup_mode=None,
)


def _err(line: str) -> None:
    sys.stderr.write(line + "\n")


@app.command()
def convert(
    input: str = typer.Argument(..., help="A trace (.py) or a state (.pvsm); the kind is read from the content."),
    output: Optional[str] = typer.Option(None, "-o", "--output", help="Where to write; '-' for stdout. "
                                         "Default: <stem>_replay.py beside the input."),
    param: List[str] = typer.Option([], "--param", "-p", help="Also make this property a parameter: "
                                     "'Isosurfaces' (every proxy) or 'contour1.Isosurfaces'. Repeatable.",
                                     autocompletion=param_names),
    embed: bool = typer.Option(False, "--embed", help="States: put the state inside the script."),
    target_version: Optional[str] = typer.Option(None, "--target-version", help="Warn about anything this "
                                                 "ParaView version (X.Y) cannot run."),
    quiet: bool = typer.Option(False, "-q", "--quiet", help="Print errors only."),
) -> None:
    """Write a pvbatch-ready replay script for a recording."""
    from .convert import convert_command  # also run without typer, for plain command lines

    convert_command(input, output, param, embed=embed, target_version=target_version, quiet=quiet)


@app.command()
def inspect(
    input: str = typer.Argument(..., help="A trace (.py) or a state (.pvsm)."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON list: name, kind, proxy, property, default, line."),
) -> None:
    """List the parameters convert would create, and every property --param could select."""
    from ..recordings import inspect_file

    path = str(input)
    params, inventory = inspect_file(path)
    if as_json:
        sys.stdout.write(json.dumps([p.to_json() for p in params], indent=2) + "\n")
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    version = inventory.version or "unknown"
    how = f" ({inventory.version_source})" if inventory.version_source else ""
    console.print(f"[bold]{path}[/]: ParaView {inventory.format}, version {version}{how}", soft_wrap=True)
    table = Table(show_lines=False)
    for column in ("parameter", "kind", "proxy.property", "default", "line"):
        table.add_column(column, overflow="fold")
    for p in params:
        target = f"{p.proxy}.{p.property}" if p.property else ""
        default = json.dumps(p.to_json()["default"])
        if len(default) > 60:
            default = default[:57] + "..."
        always = p.kind != "property"
        table.add_row(("--" if always else "") + p.name, p.kind, target, default, str(p.line or ""))
    console.print(table)
    console.print("File names, time and --output-dir are always parameters; add a property with --param NAME.",
                  soft_wrap=True)
    for d in inventory.warnings:
        console.print(f"{path}:{d.line}:{d.col}: warning: {d.message}", markup=False, soft_wrap=True)


# The commands beyond convert/inspect, one module each; none imports this module, and none imports anything
# heavy at module level.
from .commands import check, macro, run, sweep, verify  # noqa: E402

app.command()(check.check)
app.command()(check.sync)
app.command(context_settings=run.CONTEXT_SETTINGS)(run.run)
app.command()(sweep.sweep)
app.command()(verify.verify)
app.add_typer(macro.macro_app, name="macro")


_RUN_OPTIONS_WITH_VALUES = {"--mpi", "--pvbatch", "--timeout"}


def _script_help(argv: List[str]) -> List[str]:
    """`replay run s.py ... --help` asks for the script's help, not replay run's: put a `--` before
    the --help so click hands it to the script. `replay run --help` is still replay run's."""
    if not argv or argv[0] != "run":
        return argv
    i = 1
    while i < len(argv) and argv[i].startswith("-"):
        if argv[i] == "--":
            return argv
        i += 2 if argv[i] in _RUN_OPTIONS_WITH_VALUES else 1
    for k in range(i + 1, len(argv)):
        if argv[k] == "--":
            return argv
        if argv[k] in ("--help", "-h"):
            return argv[:k] + ["--"] + argv[k:]
    return argv


def main(argv: Optional[List[str]] = None) -> None:
    """Entry point: every ReplayError becomes one line and its exit code; nothing prints a traceback."""
    argv = _script_help(list(sys.argv[1:] if argv is None else argv))
    try:
        # Without standalone mode click returns a typer.Exit's code instead of exiting with it.
        # prog_name: completion scripts call `replay` and read _REPLAY_COMPLETE, also when run as python -m replay.
        code = app(args=argv, standalone_mode=False, prog_name="replay")
    except ReplayError as exc:
        _err(str(exc))
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        _err("replay: aborted")
        sys.exit(130)
    except KeyboardInterrupt:
        _err("replay: interrupted")
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - a user must never see a traceback
        # Click's usage errors (typer vendors click in newer releases, so match by shape).
        if hasattr(exc, "show") and isinstance(getattr(exc, "exit_code", None), int):
            exc.show()
            sys.exit(exc.exit_code)
        _err(f"replay: internal error: {type(exc).__name__}: {exc}")
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
