"""The Executor classes defined in this process, by class name (Jina keeps such a registry).

`uses='MyExecutor'` in `Flow.add()` or a YAML names the latest class of that name. Every
Executor class registers itself when it is created (`jina.executor.Executor.__init_subclass__`),
so this module knows them without importing `jina.executor`: the Flow machinery looks classes up
here, and `Executor.serve()` (which starts a Flow) can import that machinery without a cycle.
"""

from __future__ import annotations

_BY_NAME: dict[str, type] = {}
_ALL: set[type] = set()


def register(cls: type) -> None:
    _BY_NAME[cls.__name__] = cls
    _ALL.add(cls)


def registered(name: str) -> type | None:
    """The latest Executor class named `name` defined in this process, or None."""
    return _BY_NAME.get(name)


def is_executor_class(obj: object) -> bool:
    """Whether `obj` is `Executor` or one of its subclasses."""
    return isinstance(obj, type) and obj in _ALL


__all__ = ["is_executor_class", "register", "registered"]
