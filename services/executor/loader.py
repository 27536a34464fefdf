"""Resolve `--uses` into an Executor class: an import path, a pickled class, or the pass-through default."""

from __future__ import annotations

import importlib
from pathlib import Path

from jina.executor import Executor

PICKLE_PREFIX = "pickle:"


def load_executor_class(uses: str | None) -> type[Executor]:
    """`None`/`''`/`'Executor'` → the pass-through base class; `'pkg.mod.Class'` or `'pkg.mod:Class'`
    → imported; `'pickle:/path'` → a class pickled by value (cloudpickle), how a Flow hands over
    an Executor defined in the user's `__main__`."""
    if not uses or uses in ("Executor", "BaseExecutor"):
        return Executor
    if uses.startswith(PICKLE_PREFIX):
        import cloudpickle

        with Path(uses[len(PICKLE_PREFIX) :]).open("rb") as handle:
            cls = cloudpickle.load(handle)
    else:
        cls = _import_class(uses)
    if not (isinstance(cls, type) and issubclass(cls, Executor)):
        raise TypeError(f"--uses {uses!r} is {cls!r}, not a subclass of jina.Executor")
    return cls


def _import_class(path: str) -> object:
    if ":" in path:
        module_name, _, attr = path.partition(":")
    elif "." in path:
        module_name, _, attr = path.rpartition(".")
    else:
        raise ValueError(f"--uses {path!r}: give the class as 'module.Class' or 'module:Class'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ImportError(f"--uses {path!r}: cannot import module {module_name!r}: {exc}") from exc
    obj: object = module
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise ImportError(f"--uses {path!r}: module {module_name!r} has no {attr!r}") from None
    return obj
