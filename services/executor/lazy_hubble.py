"""Defer importing `hubble` (jina-hubble-sdk) until docarray really uses it.

docarray 0.21 imports jina-hubble-sdk at import time only for `DocumentArray.push/pull` (its
cloud storage), and that import (aiohttp, requests, an SSL context) is 60% of the time docarray
takes to import: about 0.3 s of every executor process's start-up. An executor process calls
`install()` before importing docarray: `hubble` then resolves to stand-ins that load the real
package the first time anything of it is used, so push/pull keep working, only later.

Only the names docarray 0.21 takes from `hubble` while being imported are stood in for.
"""

from __future__ import annotations

import functools
import importlib
import sys
import types
from typing import Any

_STUB = "__jina_lazy_stub__"


def _real(module: str = "hubble") -> types.ModuleType:
    if getattr(sys.modules.get("hubble"), _STUB, False):
        for name in [n for n in sys.modules if n == "hubble" or n.startswith("hubble.")]:
            if getattr(sys.modules[name], _STUB, False):
                del sys.modules[name]
    return importlib.import_module(module)


class _Deferred:
    """Stands for `module.attribute`; the first call or attribute access loads the real thing."""

    def __init__(self, module: str, attribute: str):
        self._module = module
        self._attribute = attribute

    def _target(self) -> Any:
        return getattr(_real(self._module), self._attribute)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._target()(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._target(), name)


def _login_required(func):
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return _real().login_required(func)(*args, **kwargs)

    return wrapper


def _stub(name: str, package: bool, **attributes: Any) -> types.ModuleType:
    module = types.ModuleType(name)
    setattr(module, _STUB, True)
    if package:
        module.__path__ = []  # so that `hubble.client.endpoints` can be found in sys.modules

    def load(attribute: str) -> Any:
        if attribute.startswith("__"):  # the import system probing (__path__, __spec__...)
            raise AttributeError(attribute)
        return getattr(_real(name), attribute)

    module.__getattr__ = load  # type: ignore[attr-defined]  # anything not stood in for: load for real
    for key, value in attributes.items():
        setattr(module, key, value)
    return module


def install() -> None:
    """Stand in for `hubble` unless it (or docarray) is already imported, or not installed."""
    if "hubble" in sys.modules or "docarray" in sys.modules:
        return
    if importlib.util.find_spec("hubble") is None:
        return
    endpoints = _stub("hubble.client.endpoints", False, EndpointsV2=_Deferred("hubble.client.endpoints", "EndpointsV2"))
    client = _stub("hubble.client", True, endpoints=endpoints)
    hubble = _stub(
        "hubble",
        True,
        Client=_Deferred("hubble", "Client"),
        login_required=_login_required,
        get_token=_Deferred("hubble", "get_token"),
        client=client,
    )
    sys.modules.update({"hubble": hubble, "hubble.client": client, "hubble.client.endpoints": endpoints})
