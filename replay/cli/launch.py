"""The `replay` entry point (`replay`, `python -m replay`).

`convert`, `check` and `sync` run once per file in pre-commit hooks and in scripted loops, where the
CLI framework would cost more than the conversion: loading typer and the pydantic it validates
values with takes longer than parsing a recording. So when their command line is plain — known
options, each with a plain value — they run from here. Anything else (help, a mistake in the
arguments, every other command) goes to the typer app in replay/cli/app.py, which declares the same
options and reports errors; both paths end in the same functions.
"""
from __future__ import annotations

import sys

FLAG = object()
MANY = object()

# command -> (keyword for the positional arguments, how many (1 = exactly one, MANY = one or more),
#             option -> (keyword, FLAG | MANY | str | int)); the declarations are in app.py and
#             commands/check.py, and tests/test_launch.py checks that both paths read the same.
COMMANDS = {
    "convert": ("input", 1, {
        "-o": ("output", str), "--output": ("output", str),
        "-p": ("param", MANY), "--param": ("param", MANY),
        "--embed": ("embed", FLAG),
        "--target-version": ("target_version", str),
        "-q": ("quiet", FLAG), "--quiet": ("quiet", FLAG),
    }),
    "check": ("files", MANY, {
        "--select": ("select", MANY), "--ignore": ("ignore", MANY),
        "--skip-other": ("skip_other", FLAG),
        "-j": ("jobs", int), "--jobs": ("jobs", int),
    }),
    "sync": ("files", MANY, {}),
}


def plain_call(argv: list[str]):
    """(command, keyword arguments) when argv is a plain convert/check/sync command line, else None."""
    if not argv or argv[0] not in COMMANDS:
        return None
    command = argv[0]
    positional_name, count, options = COMMANDS[command]
    kwargs, positional = {}, []
    words = iter(argv[1:])
    for word in words:
        if word.startswith("-") and word != "-":
            name, _, attached = word.partition("=")
            if name not in options or (attached and not name.startswith("--")):
                return None  # --help, -h, unknown options, clustered short options, --: typer's business
            keyword, kind = options[name]
            if kind is FLAG:
                if "=" in word:
                    return None
                kwargs[keyword] = True
                continue
            value = attached if "=" in word else next(words, None)
            if value is None or (value.startswith("-") and value != "-"):
                return None
            if kind is int:
                if not (value.isascii() and value.isdigit()):
                    return None  # signs, spaces, ranges: let typer judge them
                value = int(value)
            if kind is MANY:
                kwargs.setdefault(keyword, []).append(value)
            else:
                kwargs[keyword] = value
        else:
            positional.append(word)
    if not positional or (count == 1 and len(positional) != 1):
        return None
    kwargs[positional_name] = positional[0] if count == 1 else positional
    return command, kwargs


def _err(line: str) -> None:
    sys.stderr.write(line + "\n")


def _run(command: str, kwargs: dict) -> None:
    if command == "convert":
        from .convert import convert_command

        convert_command(**kwargs)
    elif command == "check":
        from ..lint.files import run_check

        run_check(**kwargs)
    else:
        from ..lint.files import run_sync

        run_sync(**kwargs)


def main(argv: list[str] | None = None) -> None:
    """Every ReplayError becomes one line and its exit code (errors.py); nothing prints a traceback."""
    argv = list(sys.argv[1:] if argv is None else argv)
    call = plain_call(argv)
    if call is None:
        from .app import main as typer_main

        typer_main(argv)
        return
    from ..errors import ReplayError

    try:
        _run(*call)
    except ReplayError as exc:
        _err(str(exc))
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        _err("replay: interrupted")
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - a user must never see a traceback
        _err(f"replay: internal error: {type(exc).__name__}: {exc}")
        sys.exit(1)
    sys.exit(0)
