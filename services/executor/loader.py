"""Resolve `--uses` (and `--py-modules`) into an Executor class and its `__init__` arguments.

`--uses` takes:
* nothing, `Executor` or `BaseExecutor`: the pass-through base class;
* `pkg.mod.Class` or `pkg.mod:Class`: imported;
* `Class`: a class defined by one of the `--py-modules` (files or module names);
* `path/to/executor.yml`: an Executor YAML file (`jtype: Class`, `with: {...}`, `py_modules: [...]`,
  `metas: {...}`; paths in it are relative to the file);
* `pickle:/path`: a class pickled by value (cloudpickle), how a Flow hands over an Executor
  defined in the user's `__main__`.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jina.executor import Executor

PICKLE_PREFIX = "pickle:"
_YAML_SUFFIXES = (".yml", ".yaml")


@dataclass
class ExecutorSpec:
    cls: type[Executor]
    uses_with: dict[str, Any] = field(default_factory=dict)
    metas: dict[str, Any] = field(default_factory=dict)


def import_py_modules(py_modules: list[str], base: Path | None = None) -> None:
    """Import each file (relative to `base`) or module name, so the classes they define exist."""
    for entry in py_modules:
        path = Path(entry)
        if base is not None and not path.is_absolute():
            path = base / path
        if entry.endswith(".py") or path.exists():
            if not path.exists():
                raise ImportError(f"py_modules: {entry!r} not found (looked at {path})")
            module_name = f"jina_py_module_{path.stem}_{abs(hash(str(path.resolve())))}"
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


def _all_executor_classes(root: type = Executor) -> list[type[Executor]]:
    found = []
    for sub in root.__subclasses__():
        found.append(sub)
        found.extend(_all_executor_classes(sub))
    return found


def _by_name(name: str, uses: str) -> type[Executor]:
    matches = [cls for cls in _all_executor_classes() if cls.__name__ == name]
    if not matches:
        raise ImportError(
            f"--uses {uses!r}: no Executor class named {name!r}; give 'module.Class', or the file defining it "
            "in py_modules"
        )
    return matches[-1]


def load_executor(uses: str | None, py_modules: list[str] | None = None) -> ExecutorSpec:
    if py_modules:
        import_py_modules(py_modules)
    if not uses or uses in ("Executor", "BaseExecutor"):
        return ExecutorSpec(Executor)
    if uses.startswith(PICKLE_PREFIX):
        import cloudpickle

        with Path(uses[len(PICKLE_PREFIX) :]).open("rb") as handle:
            return ExecutorSpec(_checked(cloudpickle.load(handle), uses))
    if uses.endswith(_YAML_SUFFIXES):
        return _from_yaml(Path(uses))
    if uses.startswith(("jinahub://", "jinaai://", "docker://")):
        raise ValueError(f"--uses {uses!r}: Executor hubs and containers are not supported; use a class or a file")
    if "." not in uses and ":" not in uses:
        return ExecutorSpec(_checked(_by_name(uses, uses), uses))
    return ExecutorSpec(_checked(_import_class(uses), uses))


def _from_yaml(path: Path) -> ExecutorSpec:
    import yaml

    if not path.exists():
        raise FileNotFoundError(f"--uses {str(path)!r}: no such file")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict) or "jtype" not in data:
        raise ValueError(f"{path}: an Executor YAML needs `jtype: ClassName`")
    unknown = set(data) - {"jtype", "with", "py_modules", "metas", "requests"}
    if unknown:
        raise ValueError(f"{path}: unknown key(s) {sorted(unknown)}; expected jtype, with, py_modules, metas")
    py_modules = data.get("py_modules") or (data.get("metas") or {}).get("py_modules") or []
    if isinstance(py_modules, str):
        py_modules = [py_modules]
    import_py_modules(list(py_modules), base=path.parent)
    jtype = str(data["jtype"])
    cls = _import_class(jtype) if ("." in jtype or ":" in jtype) else _by_name(jtype, str(path))
    with_ = data.get("with") or {}
    if not isinstance(with_, dict):
        raise ValueError(f"{path}: `with` must be a mapping of __init__ arguments")
    metas = {k: v for k, v in (data.get("metas") or {}).items() if k != "py_modules"}
    return ExecutorSpec(_checked(cls, str(path)), dict(with_), metas)


def _checked(cls: object, uses: str) -> type[Executor]:
    if not (isinstance(cls, type) and issubclass(cls, Executor)):
        raise TypeError(f"--uses {uses!r} is {cls!r}, not a subclass of jina.Executor")
    return cls


def _import_class(path: str) -> object:
    if ":" in path:
        module_name, _, attr = path.partition(":")
    else:
        module_name, _, attr = path.rpartition(".")
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
