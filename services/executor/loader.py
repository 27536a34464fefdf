"""Resolve `--uses` (and `--py-modules`) into an Executor class and what its YAML declares.

`--uses` takes:
* nothing, `Executor` or `BaseExecutor`: the pass-through base class;
* `pkg.mod.Class` or `pkg.mod:Class`: imported;
* `Class`: a class defined by one of the `--py-modules` (files or module names), found in the
  registry of Executor subclasses (the latest class of that name wins);
* `path/to/executor.yml`: an Executor YAML file (`jtype: Class`, `with`, `metas`, `py_modules`,
  `requests`, `dynamic_batching`; paths in it are relative to the file), see `jina.executor_yaml.ExecutorYaml`;
* `pickle:/path`: a class pickled by value (cloudpickle), how a Flow hands over an Executor
  defined in the user's `__main__`.
"""

from __future__ import annotations

from pathlib import Path

from jina.executor import Executor
from jina.executor_yaml import ExecutorYaml, import_py_modules, resolve_class

PICKLE_PREFIX = "pickle:"
_YAML_SUFFIXES = (".yml", ".yaml")

# `ExecutorYaml` is what every form resolves to; the non-YAML forms declare only the class
ExecutorSpec = ExecutorYaml


def _by_name(name: str, uses: str) -> type[Executor]:
    found = Executor.registered(name)
    if found is None:
        raise ImportError(
            f"--uses {uses!r}: no Executor class named {name!r}; give 'module.Class', or the file defining it "
            "in py_modules"
        )
    return found


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
        if not Path(uses).exists():
            raise FileNotFoundError(f"--uses {uses!r}: no such file")
        return ExecutorYaml.parse(Path(uses))
    if uses.startswith(("jinahub://", "jinaai://", "docker://")):
        raise ValueError(f"--uses {uses!r}: Executor hubs and containers are not supported; use a class or a file")
    if "." not in uses and ":" not in uses:
        return ExecutorSpec(_by_name(uses, uses))
    return ExecutorSpec(resolve_class(uses, f"--uses {uses!r}"))


def _checked(cls: object, uses: str) -> type[Executor]:
    if not (isinstance(cls, type) and issubclass(cls, Executor)):
        raise TypeError(f"--uses {uses!r} is {cls!r}, not a subclass of jina.Executor")
    return cls
