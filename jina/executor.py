"""The Executor API: a base class whose `@requests` methods handle the endpoints of a Flow."""

from __future__ import annotations

import copy
import inspect
import io
import os
import types
import weakref
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from jina import registry
from jina.excepts import BadConfig
from jina.executor_yaml import ExecutorYaml, import_py_modules

__all__ = [
    "DEFAULT_ENDPOINT",
    "DEFAULT_ENDPOINT_PUBLIC",
    "EndpointHandler",
    "Executor",
    "build_executor",
    "deep_update",
    "dynamic_batching",
    "normalize_endpoint",
    "requests",
]

#: the endpoint key of a bare `@requests` method: it handles every endpoint without its own
DEFAULT_ENDPOINT = "__default__"
#: how the default endpoint is listed by endpoint discovery and spelled in Jina (`@requests(on='/default')`)
DEFAULT_ENDPOINT_PUBLIC = "/default"
#: the endpoint Jina's gateway uses for dry runs; never bound to Executor code
_DRY_RUN_ENDPOINT = "_jina_dry_run_"
#: where `Executor.workspace` lives when no workspace is given (Jina's `__cache_path__`)
_DEFAULT_WORKSPACE = os.path.join(os.path.expanduser("~"), ".cache", "jina")

_ENDPOINTS_ATTR = "__jina_endpoints__"
_BATCHING_ATTR = "__jina_dynamic_batching__"

_TABLES: weakref.WeakKeyDictionary[type, dict[str, EndpointHandler]] = weakref.WeakKeyDictionary()

_E = TypeVar("_E", bound="Executor")


def normalize_endpoint(endpoint: str | None) -> str:
    """`None`, `''` → `'/'`; a missing leading slash is added (`'foo'` → `'/foo'`)."""
    if not endpoint:
        return "/"
    if endpoint == DEFAULT_ENDPOINT or endpoint.startswith("/"):
        return endpoint
    return "/" + endpoint


def _table_key(endpoint: str) -> str:
    """An endpoint as the tables key it: Jina's `/default` is the default binding."""
    endpoint = normalize_endpoint(endpoint)
    return DEFAULT_ENDPOINT if endpoint == DEFAULT_ENDPOINT_PUBLIC else endpoint


def requests(func: Callable | None = None, *, on: str | Iterable[str] | None = None, **_ignored: Any):
    """Bind an Executor method to endpoints.

    `@requests` binds it to every endpoint that no other method binds (the default, which
    Jina also spells `on='/default'`); `@requests(on='/index')` or
    `@requests(on=['/index', '/update'])` to those endpoints.
    """

    if on is None:
        endpoints: tuple[str, ...] = (DEFAULT_ENDPOINT,)
    elif isinstance(on, str):
        endpoints = (_table_key(on),)
    else:
        endpoints = tuple(_table_key(e) for e in on)
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


def dynamic_batching(
    func: Callable | None = None,
    *,
    preferred_batch_size: int | None = None,
    timeout: float = 10_000,
    flush_all: bool = False,
    custom_metric: Callable[[Any], float] | None = None,
    use_custom_metric: bool = False,
    use_dynamic_batching: bool = True,
):
    """Gather the documents of concurrent requests into one call of the decorated method.

    Requests for one endpoint with equal parameters are queued until `preferred_batch_size`
    documents are waiting or the oldest has waited `timeout` milliseconds; the method then gets
    them as one `DocumentArray` (cut into batches of `preferred_batch_size` unless `flush_all`)
    and each request gets its own documents back, in order. The method must return `None`
    (documents changed in place) or a `DocumentArray` of the same length. `custom_metric` (with
    `use_custom_metric=True`) weighs each document instead of counting it. Goes above or below
    `@requests`, as in Jina; `uses_dynamic_batching` overrides it per endpoint or per method.
    """
    config = {
        "preferred_batch_size": preferred_batch_size,
        "timeout": timeout,
        "flush_all": flush_all,
        "custom_metric": custom_metric,
        "use_custom_metric": use_custom_metric,
        "use_dynamic_batching": use_dynamic_batching,
    }

    def mark(method: Callable) -> Callable:
        setattr(method, _BATCHING_ATTR, config)
        return method

    if func is not None:
        if not callable(func):
            raise TypeError("use @dynamic_batching or @dynamic_batching(preferred_batch_size=..., timeout=...)")
        return mark(func)
    return mark


def deep_update(base: dict[str, Any], overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    """`base` updated in place with `overrides`, merging nested mappings key by key (as Jina does)."""
    for key, value in (overrides or {}).items():
        if isinstance(value, Mapping) and value and isinstance(base.get(key), dict):
            deep_update(base[key], value)
        else:
            base[key] = copy.copy(value) if isinstance(value, dict) else value
    return base


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

    Every subclass registers itself by its class name when it is created, so `uses='MyExec'`
    finds the latest class of that name defined in the process (`Executor.registered`).
    """

    def __init_subclass__(cls, **kwargs: Any):
        super().__init_subclass__(**kwargs)
        registry.register(cls)

    @staticmethod
    def registered(name: str) -> type[Executor] | None:
        """The latest Executor subclass named `name` defined in this process, or None."""
        return registry.registered(name)

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

    @classmethod
    def batching_table(cls) -> dict[str, dict[str, Any]]:
        """method name → its `@dynamic_batching` configuration, over the class hierarchy."""
        table: dict[str, dict[str, Any]] = {}
        for klass in reversed(cls.__mro__):
            for name, attr in vars(klass).items():
                config = getattr(attr, _BATCHING_ATTR, None)
                if config is not None and callable(attr):
                    table[name] = dict(config)
        return table

    def __init__(
        self,
        metas: dict[str, Any] | None = None,
        requests: dict[str, str] | None = None,
        runtime_args: dict[str, Any] | None = None,
        workspace: str | None = None,
        dynamic_batching: dict[str, Any] | None = None,
        **_unused: Any,
    ):
        # The runtime binds all of this before __init__ runs (see `build_executor`), so a
        # subclass that never calls super().__init__() still has it; explicit arguments add to it.
        self._bound()
        if metas:
            vars(self._metas).update(metas)
            if not self._metas.name:
                self._metas.name = type(self).__name__
        if runtime_args:
            vars(self._runtime_args).update(runtime_args)
        if requests:
            self._requests = _override_requests(type(self), self._requests, requests)
        if dynamic_batching:
            deep_update(self._dynamic_batching, dynamic_batching)
        if workspace is not None:
            self._init_workspace = workspace

    def _bind_runtime(
        self,
        metas: Mapping[str, Any] | None = None,
        runtime_args: Mapping[str, Any] | None = None,
        requests: Mapping[str, str] | None = None,
        dynamic_batching: Mapping[str, Any] | None = None,
    ) -> None:
        cls = type(self)
        # Jina's default metas; `name` falls back to the class name, as in Jina
        self._metas = types.SimpleNamespace(name="", description="", workspace="", py_modules="")
        vars(self._metas).update(metas or {})
        self._metas.name = self._metas.name or cls.__name__
        # shard_id stays None outside a runtime (as Jina, whose runtime_args are then empty)
        self._runtime_args = types.SimpleNamespace(
            name=self._metas.name, replicas=1, replica_id=0, shards=1, shard_id=None, workspace=None
        )
        vars(self._runtime_args).update(runtime_args or {})
        self._requests = _override_requests(cls, dict(cls.endpoint_table()), requests or {})
        self._dynamic_batching = deep_update(cls.batching_table(), dynamic_batching)
        self._init_workspace: str | None = None

    def _bound(self) -> None:
        if "_metas" not in vars(self):
            self._bind_runtime()

    @property
    def metas(self) -> types.SimpleNamespace:
        self._bound()
        return self._metas

    @property
    def runtime_args(self) -> types.SimpleNamespace:
        self._bound()
        return self._runtime_args

    @property
    def requests(self) -> dict[str, EndpointHandler]:
        """This instance's endpoint → handler table (`@requests`, then `uses_requests`)."""
        self._bound()
        return self._requests

    @property
    def dynamic_batching(self) -> dict[str, Any]:
        """Dynamic batching per method name or endpoint (`@dynamic_batching`, then `uses_dynamic_batching`)."""
        self._bound()
        return self._dynamic_batching

    @dynamic_batching.setter
    def dynamic_batching(self, value: dict[str, Any]) -> None:
        self._bound()
        self._dynamic_batching = dict(value)

    @property
    def workspace(self) -> str:
        """This Executor's own directory, created on first use, laid out as Jina lays it out:
        `<workspace>/<metas.name>/<shard_id>` (no shard level outside a runtime).

        The workspace is the runtime's (`--workspace`, Flow `workspace=`), else `metas.workspace`,
        else `__init__(workspace=...)`, else `~/.cache/jina`.
        """
        base = (
            getattr(self.runtime_args, "workspace", None)
            or getattr(self.metas, "workspace", None)
            or getattr(self, "_init_workspace", None)
            or _DEFAULT_WORKSPACE
        )
        path = os.path.join(base, self.metas.name)
        shard_id = getattr(self.runtime_args, "shard_id", None)
        if shard_id is not None and shard_id != -1:
            path = os.path.join(path, str(shard_id))
        os.makedirs(path, exist_ok=True)
        return os.path.abspath(path)

    def handler_for(self, endpoint: str) -> EndpointHandler | None:
        """The handler of an endpoint: its own binding, else the default, else None."""
        return self.binding_for(endpoint)[1]

    def binding_for(self, endpoint: str) -> tuple[str, EndpointHandler | None]:
        """(the table key that handles `endpoint`, its handler): its own, else the default."""
        table = self.requests
        key = _table_key(endpoint)
        if key in table:
            return key, table[key]
        return DEFAULT_ENDPOINT, table.get(DEFAULT_ENDPOINT)

    def close(self) -> None:
        """Called once when the executor process shuts down; override to release resources."""

    @classmethod
    def serve(
        cls,
        uses_with: Mapping[str, Any] | None = None,
        uses_metas: Mapping[str, Any] | None = None,
        uses_requests: Mapping[str, str] | None = None,
        stop_event: Any = None,
        uses_dynamic_batching: Mapping[str, Any] | None = None,
        reload: bool = False,
        **kwargs: Any,
    ) -> None:
        """Serve this Executor (as a `Deployment`: `port`, `protocol`, `replicas`...) until Ctrl-C,
        SIGTERM or `stop_event` is set, as Jina's `MyExecutor.serve(port=12345)`."""
        from jina.deployment import Deployment  # the Flow machinery imports this module

        if reload:
            raise BadConfig("Executor.serve(reload=True) is not offered: restart the process to load new code")
        given = {
            "uses_with": uses_with,
            "uses_metas": uses_metas,
            "uses_requests": uses_requests,
            "uses_dynamic_batching": uses_dynamic_batching,
        }
        with Deployment(uses=cls, **{k: v for k, v in given.items() if v}, **kwargs) as deployment:
            deployment.block(stop_event)

    @classmethod
    def load_config(
        cls: type[_E],
        source: str | os.PathLike | Mapping[str, Any] | io.TextIOBase,
        *,
        uses_with: Mapping[str, Any] | None = None,
        uses_metas: Mapping[str, Any] | None = None,
        uses_requests: Mapping[str, str] | None = None,
        uses_dynamic_batching: Mapping[str, Any] | None = None,
        runtime_args: Mapping[str, Any] | None = None,
        py_modules: str | Iterable[str] | None = None,
        context: Mapping[str, Any] | None = None,
        substitute: bool = True,
        **_ignored: Any,
    ) -> _E:
        """An instance from an Executor YAML (a file, a YAML string, a mapping or a stream) or a
        class name, as Jina's `Executor.load_config`.

        The `uses_*` arguments override the YAML's `with`, `metas`, `requests` and
        `dynamic_batching` sections; `runtime_args` are the runtime's (name, shard_id, workspace...).
        """
        if py_modules:
            import_py_modules([py_modules] if isinstance(py_modules, str) else list(py_modules))
        spec = ExecutorYaml.parse(source, context=context, substitute=substitute)
        if not issubclass(spec.cls, cls):
            raise BadConfig(f"{spec.origin}: {spec.cls.__name__} is not a {cls.__name__}")
        return build_executor(
            spec.cls,
            {**spec.uses_with, **(uses_with or {})},
            metas={**spec.metas, **(uses_metas or {})},
            runtime_args=dict(runtime_args or {}),
            requests={**spec.requests, **(uses_requests or {})},
            dynamic_batching=deep_update(copy.deepcopy(spec.dynamic_batching), uses_dynamic_batching),
        )


registry.register(Executor)  # its subclasses register themselves


def _override_requests(
    cls: type[Executor], table: dict[str, EndpointHandler], overrides: Mapping[str, str]
) -> dict[str, EndpointHandler]:
    """`uses_requests` / YAML `requests:` ({endpoint: method name}) applied to an endpoint table.

    As in Jina, each named method moves to the endpoints given and the other bindings stay;
    a method already bound by `@requests` loses its own bindings (Jina drops only one of them).
    """
    overrides = {k: v for k, v in overrides.items() if k != _DRY_RUN_ENDPOINT}
    if not overrides:
        return table
    for endpoint, method in overrides.items():
        if not isinstance(method, str) or not isinstance(endpoint, str):
            raise BadConfig(f"uses_requests: expected {{endpoint: method name}}, got {endpoint!r}: {method!r}")
        attr = getattr(cls, method, None)
        if attr is None or method.startswith("__"):
            known = sorted({h.method_name for h in cls.endpoint_table().values()} | _public_methods(cls))
            raise BadConfig(
                f"uses_requests: {cls.__name__} has no method {method!r} (for endpoint {endpoint!r}); "
                f"its methods: {', '.join(known) or 'none'}"
            )
        if not callable(attr):
            raise BadConfig(f"uses_requests: {cls.__name__}.{method} is not a method")
    moved = set(overrides.values())
    result = {e: h for e, h in table.items() if h.method_name not in moved}
    for endpoint, method in overrides.items():
        result[_table_key(endpoint)] = EndpointHandler.inspect(method, getattr(cls, method))
    return result


def _public_methods(cls: type) -> set[str]:
    return {
        name
        for klass in cls.__mro__
        if klass not in (Executor, object)
        for name, attr in vars(klass).items()
        if callable(attr) and not name.startswith("_")
    }


def build_executor(
    cls: type[_E],
    uses_with: Mapping[str, Any] | None = None,
    metas: Mapping[str, Any] | None = None,
    runtime_args: Mapping[str, Any] | None = None,
    requests: Mapping[str, str] | None = None,
    dynamic_batching: Mapping[str, Any] | None = None,
) -> _E:
    """Instantiate an Executor class with its runtime information bound before `__init__`."""
    if not (isinstance(cls, type) and issubclass(cls, Executor)):
        raise TypeError(f"{cls!r} is not an Executor subclass")
    instance = cls.__new__(cls)
    instance._bind_runtime(metas, runtime_args, requests, dynamic_batching)
    instance.__init__(**(uses_with or {}))
    return instance


# -- Executor YAML --------------------------------------------------------------------------------
