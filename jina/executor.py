"""The Executor API: a base class whose `@requests` methods handle the endpoints of a Flow."""

from __future__ import annotations

import inspect
import types
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "DEFAULT_ENDPOINT",
    "DEFAULT_ENDPOINT_PUBLIC",
    "EndpointHandler",
    "Executor",
    "build_executor",
    "normalize_endpoint",
    "requests",
]

#: the endpoint key of a bare `@requests` method: it handles every endpoint without its own
DEFAULT_ENDPOINT = "__default__"
#: how the default endpoint is listed by endpoint discovery (as Jina does)
DEFAULT_ENDPOINT_PUBLIC = "/default"

_ENDPOINTS_ATTR = "__jina_endpoints__"

_TABLES: weakref.WeakKeyDictionary[type, dict[str, EndpointHandler]] = weakref.WeakKeyDictionary()


def normalize_endpoint(endpoint: str | None) -> str:
    """`None`, `''` → `'/'`; a missing leading slash is added (`'foo'` → `'/foo'`)."""
    if not endpoint:
        return "/"
    if endpoint == DEFAULT_ENDPOINT or endpoint.startswith("/"):
        return endpoint
    return "/" + endpoint


def requests(func: Callable | None = None, *, on: str | Iterable[str] | None = None, **_ignored: Any):
    """Bind an Executor method to endpoints.

    `@requests` binds it to every endpoint that no other method binds (the default);
    `@requests(on='/index')` or `@requests(on=['/index', '/update'])` to those endpoints.
    """

    if on is None:
        endpoints: tuple[str, ...] = (DEFAULT_ENDPOINT,)
    elif isinstance(on, str):
        endpoints = (normalize_endpoint(on),)
    else:
        endpoints = tuple(normalize_endpoint(e) for e in on)
        if not endpoints:
            raise ValueError("@requests(on=[]) binds no endpoint; drop `on` to bind the default")

    def mark(method: Callable) -> Callable:
        setattr(method, _ENDPOINTS_ATTR, getattr(method, _ENDPOINTS_ATTR, ()) + endpoints)
        return method

    if func is not None:
        if not callable(func):
            raise TypeError("use @requests or @requests(on='/endpoint')")
        return mark(func)
    return mark


@dataclass
class EndpointHandler:
    """How to call one bound method: its name, whether it is a coroutine, which kwargs it takes."""

    method_name: str
    is_async: bool
    accepts_any_kwargs: bool
    accepted: frozenset[str] = field(default_factory=frozenset)

    def select_kwargs(self, offered: dict[str, Any]) -> dict[str, Any]:
        """Pass everything to `**kwargs` methods; otherwise only the parameters they declare."""
        if self.accepts_any_kwargs:
            return offered
        return {k: v for k, v in offered.items() if k in self.accepted}

    @classmethod
    def inspect(cls, name: str, method: Callable) -> EndpointHandler:
        signature = inspect.signature(method)
        params = list(signature.parameters.values())
        return cls(
            method_name=name,
            is_async=inspect.iscoroutinefunction(method),
            accepts_any_kwargs=any(p.kind is p.VAR_KEYWORD for p in params),
            accepted=frozenset(p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)),
        )


class Executor:
    """Base class of every Executor.

    Subclasses mark methods with `@requests`; each is called as
    `method(docs=..., parameters=..., **kwargs)` and returns `None` (docs changed in place), a
    `DocumentArray` (replaces the docs) or a `dict` (sent back in `parameters['__results__']`).
    Keyword arguments of `__init__` come from `uses_with`.
    """

    @classmethod
    def endpoint_table(cls) -> dict[str, EndpointHandler]:
        """endpoint → handler, from the `@requests` methods over the class hierarchy.

        Computed on demand rather than at class creation: a class unpickled by value
        (cloudpickle) gets its methods only after it was created.
        """
        table = _TABLES.get(cls)
        if table is None:
            table = {}
            # walk from the most basic class up, so a subclass's binding wins
            for klass in reversed(cls.__mro__):
                for name, attr in vars(klass).items():
                    endpoints = getattr(attr, _ENDPOINTS_ATTR, None)
                    if endpoints and callable(attr):
                        handler = EndpointHandler.inspect(name, attr)
                        for endpoint in endpoints:
                            table[endpoint] = handler
            _TABLES[cls] = table
        return table

    @property
    def requests(self) -> dict[str, EndpointHandler]:
        return type(self).endpoint_table()

    def __init__(
        self,
        metas: dict[str, Any] | None = None,
        runtime_args: dict[str, Any] | None = None,
        requests: Any = None,  # noqa: ARG002 (Jina's signature)
        **_unused: Any,
    ):
        # The runtime binds metas before __init__ runs (see `build_executor`), so a subclass
        # that never calls super().__init__() still has them; explicit arguments override.
        if not hasattr(self, "_metas"):
            self._bind_runtime({}, {})
        if metas:
            vars(self._metas).update(metas)
        if runtime_args:
            vars(self._runtime_args).update(runtime_args)

    def _bind_runtime(self, metas: dict[str, Any], runtime_args: dict[str, Any]) -> None:
        self._metas = types.SimpleNamespace(name=type(self).__name__, workspace=None, py_modules=None)
        vars(self._metas).update(metas)
        self._runtime_args = types.SimpleNamespace(name=self._metas.name, replicas=1, shard_id=0)
        vars(self._runtime_args).update(runtime_args)

    @property
    def metas(self) -> types.SimpleNamespace:
        if not hasattr(self, "_metas"):
            self._bind_runtime({}, {})
        return self._metas

    @property
    def runtime_args(self) -> types.SimpleNamespace:
        if not hasattr(self, "_runtime_args"):
            self._bind_runtime({}, {})
        return self._runtime_args

    def handler_for(self, endpoint: str) -> EndpointHandler | None:
        """The handler of an endpoint: its own binding, else the default, else None."""
        table = type(self).endpoint_table()
        return table.get(normalize_endpoint(endpoint)) or table.get(DEFAULT_ENDPOINT)

    def close(self) -> None:
        """Called once when the executor process shuts down; override to release resources."""


def build_executor(
    cls: type[Executor],
    uses_with: dict[str, Any] | None = None,
    metas: dict[str, Any] | None = None,
    runtime_args: dict[str, Any] | None = None,
) -> Executor:
    """Instantiate an Executor class with its runtime information bound before `__init__`."""
    if not (isinstance(cls, type) and issubclass(cls, Executor)):
        raise TypeError(f"{cls!r} is not an Executor subclass")
    instance = cls.__new__(cls)
    instance._bind_runtime(metas or {}, runtime_args or {})
    instance.__init__(**(uses_with or {}))
    return instance
