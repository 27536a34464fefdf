"""Executor YAML: `jtype` (the class), `with`, `metas`, `py_modules`, `requests`, `dynamic_batching`.

Classes are found by name in the registry of Executor classes (`jina.registry`) or imported by
`module.Class` path, so this module does not import `jina.executor` (which uses it to load).
"""

from __future__ import annotations

import copy
import importlib
import importlib.util
import io
import os
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jina import registry
from jina.excepts import BadConfig
from jina.yamlfile import expand_values, parse_text

__all__ = ["ExecutorYaml", "import_py_modules", "resolve_class"]

_YAML_KEYS = ("jtype", "version", "with", "metas", "py_modules", "requests", "dynamic_batching")


@dataclass
class ExecutorYaml:
    """What an Executor YAML declares: the class and its `with`, `metas`, `requests`, `dynamic_batching`.

        jtype: MyExecutor            # a class (from py_modules, or module.Class); Jina's `!MyExecutor` too
        with: {dim: 8}               # __init__ arguments
        metas: {name: enc}           # name, description, workspace, py_modules
        py_modules: [encoder.py]     # relative to the file
        requests: {/encode: encode}  # endpoint → method, over the @requests bindings
        dynamic_batching: {encode: {preferred_batch_size: 8, timeout: 50}}

    `${{ ENV.VAR }}`, `$VAR` and `${{ CONTEXT.VAR }}` in values are substituted; an unset
    variable is an error that names it.
    """

    cls: type
    uses_with: dict[str, Any] = field(default_factory=dict)
    metas: dict[str, Any] = field(default_factory=dict)
    requests: dict[str, str] = field(default_factory=dict)
    dynamic_batching: dict[str, Any] = field(default_factory=dict)
    origin: str = "<yaml>"

    @classmethod
    def parse(
        cls,
        source: str | os.PathLike | Mapping[str, Any] | io.TextIOBase,
        *,
        context: Mapping[str, Any] | None = None,
        substitute: bool = True,
    ) -> ExecutorYaml:
        data, origin, base = _read_executor_source(source, context, substitute)
        if not isinstance(data, dict) or "jtype" not in data:
            raise BadConfig(f"{origin}: an Executor YAML needs `jtype: ClassName`")
        unknown = set(data) - set(_YAML_KEYS)
        if unknown:
            raise BadConfig(f"{origin}: unknown key(s) {sorted(unknown)}; expected {', '.join(_YAML_KEYS)}")
        metas = dict(data.get("metas") or {})
        meta_modules = metas.pop("py_modules", None)  # Jina's older place for them
        modules = data.get("py_modules") or meta_modules or []
        import_py_modules([modules] if isinstance(modules, str) else list(modules), base=base)
        sections = {}
        for key in ("with", "requests", "dynamic_batching"):
            value = data.get(key) or {}
            if not isinstance(value, dict):
                raise BadConfig(f"{origin}: `{key}` must be a mapping, got {type(value).__name__}")
            sections[key] = dict(value)
        return cls(
            cls=resolve_class(str(data["jtype"]), origin),
            uses_with=sections["with"],
            metas=metas,
            requests=sections["requests"],
            dynamic_batching=sections["dynamic_batching"],
            origin=origin,
        )


def _read_executor_source(
    source: Any, context: Mapping[str, Any] | None, substitute: bool
) -> tuple[Any, str, Path | None]:
    """(parsed data with variables replaced, origin for messages, directory py_modules are relative to)."""
    if isinstance(source, Mapping):
        data = copy.deepcopy(dict(source))
        return (expand_values(data, "<dict>: ", context or {}) if substitute else data), "<dict>", None
    base: Path | None = None
    if hasattr(source, "read"):
        text, origin = source.read(), "<stream>"
    else:
        text = os.fspath(source)
        path = Path(text)
        if "\n" not in text and text.endswith((".yml", ".yaml")):
            if not path.is_file():
                raise FileNotFoundError(f"{text}: no such Executor YAML file")
            text, origin, base = path.read_text(), str(path), path.resolve().parent
        elif text.isidentifier() or re.fullmatch(r"[\w.]+[.:]\w+", text):
            return {"jtype": text}, text, None  # a class name or module.Class, as Jina accepts
        else:
            origin = "<yaml string>"
    data, located = parse_text(text, origin, context or {}, substitute)
    if isinstance(data, dict) and located.root_tag:  # Jina's older `!MyExecutor` form
        data = {"jtype": located.root_tag[1:], **data}
    return data, origin, base


def resolve_class(jtype: str, origin: str = "uses") -> type:
    """An Executor class from `Class` (registered), `module.Class` or `module:Class`."""
    if jtype in ("Executor", "BaseExecutor"):
        return registry.registered("Executor")  # type: ignore[return-value]
    if "." in jtype or ":" in jtype:
        found = _import_object(jtype, origin)
    else:
        found = registry.registered(jtype)
        if found is None:
            raise BadConfig(
                f"{origin}: no Executor class named {jtype!r}; give 'module.Class', or the file defining it "
                "in py_modules"
            )
    if not registry.is_executor_class(found):
        raise BadConfig(f"{origin}: {jtype!r} is {found!r}, not a subclass of jina.Executor")
    return found


def _import_object(path: str, origin: str) -> object:
    if ":" in path:
        module_name, _, attr = path.partition(":")
    else:
        module_name, _, attr = path.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ImportError(f"{origin}: cannot import module {module_name!r} (for {path!r}): {exc}") from exc
    obj: object = module
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise ImportError(f"{origin}: module {module_name!r} has no {attr!r}") from None
    return obj


def import_py_modules(py_modules: Iterable[str], base: Path | None = None) -> None:
    """Import each file (relative to `base`) or module name, so the classes they define exist."""
    for entry in py_modules:
        path = Path(entry)
        if base is not None and not path.is_absolute():
            path = base / path
        if entry.endswith(".py") or path.exists():
            if not path.exists():
                raise ImportError(f"py_modules: {entry!r} not found (looked at {path})")
            module_name = f"jina_py_module_{path.stem}_{abs(hash(str(path.resolve())))}"
            if module_name in sys.modules:
                continue  # imported once per process, as Python imports modules
            if str(path.parent) not in sys.path:
                sys.path.insert(0, str(path.parent))  # its own imports of neighbouring files work
            spec = importlib.util.spec_from_file_location(module_name, path)
            if spec is None or spec.loader is None:
                raise ImportError(f"py_modules: cannot import {path}")
            module = importlib.util.module_from_spec(spec)
            sys.modules[module_name] = module
            spec.loader.exec_module(module)
        else:
            importlib.import_module(entry)
