"""replay: turn ParaView recordings (Python traces, .pvsm states) into parameterized pvbatch scripts.

    import replay
    result = replay.convert_trace(text, params=["Isosurfaces"])
    result.code, result.parameters

Imports stay lazy so `replay --help` and pre-commit hooks start fast.
"""
from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["convert", "convert_trace", "convert_state", "inspect", "run", "sweep", "verify", "verify_many",
           "ReplayError"]


def convert_trace(text: str, params=(), **options):
    from .trace.convert import convert_trace as _convert

    return _convert(text, params, **options)


def convert_state(text: str, params=(), **options):
    from .state.convert import convert_state as _convert

    return _convert(text, params, **options)


def convert(text: str, params=(), **options):
    """Convert a trace or a state, decided by the content."""
    from .source import detect_kind

    if detect_kind(text) == "state":
        return convert_state(text, params, **options)
    return convert_trace(text, params, **options)


def inspect(text: str, source_name: str = "<input>"):
    """The parameters convert could create, and the Inventory they came from."""
    from .source import detect_kind

    if detect_kind(text) == "state":
        from .state.convert import inspect_state

        return inspect_state(text, source_name)
    from .trace.convert import inspect_trace

    return inspect_trace(text, source_name)


def __getattr__(name):
    if name == "ReplayError":
        from .errors import ReplayError

        return ReplayError
    # The implementations live in modules named differently from these functions: a submodule
    # import would otherwise rebind replay.run to the module.
    modules = {"run": "batch.runner", "sweep": "batch.study", "verify": "verification.verify",
               "verify_many": "verification.many"}
    if name in modules:
        import importlib

        return getattr(importlib.import_module(f".{modules[name]}", __name__), name)
    raise AttributeError(name)
