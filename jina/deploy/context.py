"""What a Flow needs inside a container: its files under one directory, its classes by import path.

Rules (checked before anything is written):

* every file a service reads (py_modules, executor YAMLs, modules of `uses` classes) lies under
  the export *context* directory, which is mounted (Compose) or copied into a ConfigMap
  (Kubernetes) at `/flow`; a YAML Flow's context is its directory, a Python Flow's the
  current one;
* an Executor class is named by its import path; one defined only in the running script
  (`__main__`) or inside a function has none, and cannot be exported;
* a module is importable in the image when it is part of this project (`jina`, `services`,
  `bridge`) or lies under the context (its import root goes on PYTHONPATH);
* with `code='image'` the user's image already holds the context at `/flow`: nothing is
  mounted and modules that are not found here are trusted to be there.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from jina.excepts import BadConfig
from jina.flow.spec import ExecutorConfig, FileRef
from jina.version import __version__

#: where the context directory appears inside every container
FLOW_DIR = PurePosixPath("/flow")
DEFAULT_IMAGE = f"jina-mesh:{__version__}"
#: packages of this project: present in every image built from deploy/Dockerfile
_BUILT_IN = ("jina", "services", "bridge", "docarray")


class ExportError(BadConfig):
    """A Flow that cannot run in containers as it is; the message says which executor and what to do."""


@dataclass
class ExportContext:
    directory: Path
    image: str = DEFAULT_IMAGE
    #: "mount": the context is mounted / shipped at /flow; "image": the image already has it there
    code: str = "mount"
    #: files that must travel with the Flow (Kubernetes ships them in a ConfigMap)
    shipped: dict[str, Path] = field(default_factory=dict)
    #: import roots (inside the container) executors need on PYTHONPATH
    python_path: dict[str, list[str]] = field(default_factory=dict)
    #: executor → the context files it reads (those executors get the context mounted)
    used_by: dict[str, set[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.directory = Path(self.directory).resolve()
        if self.code not in ("mount", "image"):
            raise ExportError(f"code={self.code!r}: use 'mount' (the default) or 'image'")

    # -- files ------------------------------------------------------------------------------

    def container_path(self, path: str | os.PathLike, executor: str = "") -> str:
        """Where a file of this machine is inside the container; outside the context: ExportError."""
        source = Path(path).resolve()
        try:
            relative = source.relative_to(self.directory)
        except ValueError:
            owner = f"executor {executor!r}: " if executor else ""
            raise ExportError(
                f"{owner}{source} is outside the export context {self.directory}; move it there, or export "
                "with a context that contains it (--context DIR)"
            ) from None
        if self.code == "mount" and not source.is_file():
            owner = f"executor {executor!r}: " if executor else ""
            raise ExportError(f"{owner}{source} does not exist")
        self.shipped[relative.as_posix()] = source
        if executor:
            self.used_by.setdefault(executor, set()).add(relative.as_posix())
        return str(FLOW_DIR / relative.as_posix())

    def code_file(self, ref: FileRef, executor: str = "") -> str:
        mapped = self.container_path(ref.path, executor)
        if ref.path.endswith((".yml", ".yaml")):
            self._ship_executor_yaml_modules(Path(ref.path), executor)
        return mapped

    def _ship_executor_yaml_modules(self, path: Path, executor: str) -> None:
        """An executor YAML names its own py_modules (relative to itself): they travel too."""
        try:
            data = yaml.safe_load(path.read_text()) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ExportError(f"executor {executor!r}: {path}: cannot be read: {exc}") from None
        if not isinstance(data, dict):
            return
        modules = data.get("py_modules") or (data.get("metas") or {}).get("py_modules") or []
        for module in [modules] if isinstance(modules, str) else modules:
            if str(module).endswith(".py"):
                self.container_path(path.parent / str(module), executor)

    # -- classes ----------------------------------------------------------------------------

    def uses(self, executor: ExecutorConfig) -> str | None:
        uses = executor.uses
        if uses is None:
            return None
        if isinstance(uses, str):
            if uses.endswith((".yml", ".yaml")):
                return self.code_file(FileRef(uses, "code"), executor.name)
            if "." in uses or ":" in uses:
                module = uses.partition(":")[0] if ":" in uses else uses.rpartition(".")[0]
                self._need_module(module, executor.name)
            return uses
        if uses.__module__ == "__main__" or "<locals>" in uses.__qualname__:
            where = "inside a function" if "<locals>" in uses.__qualname__ else "in the script being run (__main__)"
            raise ExportError(
                f"executor {executor.name!r}: {uses.__qualname__} is defined {where}, which a container cannot "
                "import; move it to a module file next to the Flow (or list that file in py_modules) and export again"
            )
        self._need_module(uses.__module__, executor.name)
        return f"{uses.__module__}:{uses.__qualname__}"

    def modules(self, executor: ExecutorConfig) -> None:
        for module in executor.py_modules:
            if not module.endswith(".py"):
                self._need_module(module, executor.name)

    def _need_module(self, module: str, executor: str) -> None:
        if module.split(".")[0] in _BUILT_IN:
            return
        origin = _module_file(module)
        if origin is None:
            if self.code == "image":
                return  # the user's image is trusted to have it
            raise ExportError(
                f"executor {executor!r}: module {module!r} cannot be found here, so it cannot be shipped to the "
                "containers; put it under the export context, or build an image with it (code='image')"
            )
        parts = module.split(".")
        # the directory it is imported from: one level up per dotted part (a package's __init__: one more)
        root = origin.parents[len(parts) - (0 if origin.name == "__init__.py" else 1)]
        self.container_path(origin, executor)
        for depth in range(1, len(parts)):
            init = root.joinpath(*parts[:depth], "__init__.py")
            if init.is_file() and init != origin:
                self.container_path(init, executor)
        try:
            relative = root.relative_to(self.directory)
        except ValueError:  # unreachable: container_path(origin) checked it
            raise ExportError(f"executor {executor!r}: {root} is outside the export context") from None
        entry = str(FLOW_DIR / relative.as_posix()) if relative.parts else str(FLOW_DIR)
        paths = self.python_path.setdefault(executor, [])
        if entry not in paths:
            paths.append(entry)


def _module_file(module: str) -> Path | None:
    """The file a module would be imported from here (its parents are imported to find it)."""
    loaded = sys.modules.get(module)
    path = getattr(loaded, "__file__", None)
    if path is None:
        try:
            spec = importlib.util.find_spec(module)
        except (ImportError, ValueError):
            return None
        path = spec.origin if spec is not None else None
    if not path or not os.path.isfile(path):
        return None
    return Path(path).resolve()


def context_for(flow: Any, directory: str | os.PathLike | None) -> Path:
    """The given directory, else the Flow YAML's, else the current one."""
    if directory is not None:
        return Path(directory)
    source = getattr(flow, "config_source", None)
    if source and source != "<yaml string>":
        return Path(source).resolve().parent
    return Path.cwd()
