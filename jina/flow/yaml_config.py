"""Flows in YAML: `Flow.load_config(...)` and `Flow.save_config(...)`.

    jtype: Flow
    with:                       # any Flow option
      protocol: [grpc, http]
      port: [12345, 12346]
    executors:
      - name: encoder
        uses: MyEncoder          # a class from py_modules, a module.Class path, or an Executor YAML
        py_modules: [encoder.py] # relative to this file
        uses_with: {dim: 8}
        needs: gateway
        replicas: 2
        env: {MODEL: small}

`${{ ENV.NAME }}` is replaced by that environment variable before the YAML is read (an unset
one is an error). Mistakes are reported with the file and line they are on.

This module does not import `jina.flow.flow` (which imports it): a Flow hands itself over to be
saved, and a factory of Flows to be loaded; both are used through the public API in `YamlFlow`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, TypeVar

import yaml

from jina.excepts import BadConfig
from jina.flow.options import ADD_OPTIONS, ALIASES, check_names, normalize_flow_options
from jina.flow.spec import ExecutorConfig, check_topology

_ENV = re.compile(r"\$\{\{\s*(?:ENV|env)\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_TOP_KEYS = {"jtype", "version", "with", "executors"}


class YamlFlow(Protocol):
    """What of a Flow this module reads and calls."""

    protocols: list[str]
    host: str
    prefetch: int
    timeout_send: int | None
    debug: bool
    options: dict[str, Any]
    config_source: str | None

    @property
    def protocol(self) -> str: ...

    @property
    def declared_ports(self) -> dict[str, int | None]: ...

    @property
    def executors(self) -> tuple[ExecutorConfig, ...]: ...

    def add(self, **options: Any) -> Any: ...


F = TypeVar("F", bound=YamlFlow)


def _substitute_env(text: str, origin: str) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in os.environ:
            line = text.count("\n", 0, match.start()) + 1
            raise BadConfig(f"{origin}:{line}: ${{{{ ENV.{name} }}}} is used but {name} is not set")
        return os.environ[name]

    return _ENV.sub(replace, text)


class _Located:
    """The parsed YAML, with the line of each mapping key (for error messages)."""

    def __init__(self, origin: str):
        self.origin = origin
        self.lines: dict[tuple, int] = {}
        self._scalars = yaml.SafeLoader("")

    def build(self, node: yaml.Node, path: tuple = ()) -> Any:
        if isinstance(node, yaml.MappingNode):
            out = {}
            for key_node, value_node in node.value:
                key = self.build(key_node, path)
                self.lines[(*path, key)] = key_node.start_mark.line + 1
                out[key] = self.build(value_node, (*path, key))
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, index)) for index, item in enumerate(node.value)]
        return self._scalars.construct_object(node, deep=True)

    def where(self, *path: Any) -> str:
        for cut in range(len(path), 0, -1):
            line = self.lines.get(tuple(path[:cut]))
            if line is not None:
                return f"{self.origin}:{line}: "
        return f"{self.origin}: "


def _read(source: str | os.PathLike) -> tuple[str, str, Path]:
    """(text, origin for messages, directory relative paths are resolved against)."""
    if isinstance(source, os.PathLike) or ("\n" not in str(source) and Path(str(source)).is_file()):
        path = Path(source)
        return path.read_text(), str(path), path.resolve().parent
    text = str(source)
    if "\n" not in text and text.endswith((".yml", ".yaml")):
        raise BadConfig(f"{text}: no such file")
    return text, "<yaml string>", Path.cwd()


def load_flow_config(source: str | os.PathLike, new_flow: Callable[[dict[str, Any]], F]) -> F:
    """The Flow a YAML file or string describes; `new_flow` makes one of options `normalize_flow_options`
    checked already, and the executors are added to it."""
    text, origin, base = _read(source)
    text = _substitute_env(text, origin)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = f"{origin}:{mark.line + 1}" if mark is not None else origin
        raise BadConfig(f"{line}: not valid YAML: {exc.problem}") from None
    located = _Located(origin)
    data = located.build(node) if node is not None else None
    if not isinstance(data, dict):
        raise BadConfig(f"{origin}: a Flow YAML is a mapping with `jtype: Flow`")
    if data.get("jtype") != "Flow":
        raise BadConfig(f"{located.where('jtype')}expected `jtype: Flow`, got {data.get('jtype')!r}")
    for key in data:
        if key not in _TOP_KEYS:
            raise BadConfig(f"{located.where(key)}unknown key {key!r}; a Flow YAML has {sorted(_TOP_KEYS)}")
    options = data.get("with") or {}
    if not isinstance(options, dict):
        raise BadConfig(f"{located.where('with')}`with` must be a mapping of Flow options")
    aliased_from = {new: old for old, new in ALIASES.items()}

    def locate_option(key: str) -> str:
        if ("with", key) not in located.lines:
            key = aliased_from.get(key, key)
        return located.where("with", key)

    checked = normalize_flow_options(dict(options), where=locate_option)
    try:
        flow = new_flow(checked)
    except BadConfig as exc:
        raise BadConfig(f"{_where_for(exc, located, 'with')}{exc}") from None
    executors = data.get("executors") or []
    if not isinstance(executors, list):
        raise BadConfig(f"{located.where('executors')}`executors` must be a list")
    for index, item in enumerate(executors):
        where = located.where("executors", index)
        if not isinstance(item, dict):
            raise BadConfig(f"{where}each executor is a mapping (name, uses, ...)")
        try:
            options = check_names(
                item, ADD_OPTIONS, "executor", lambda key, at=index: located.where("executors", at, key)
            )
            flow.add(**_resolve_paths(options, base))
        except BadConfig as exc:
            raise BadConfig(f"{_where_for(exc, located, 'executors', index)}{exc}") from None
    try:
        check_topology(flow.executors)
    except BadConfig as exc:
        raise BadConfig(f"{located.where('executors')}{exc}") from None
    flow.config_source = origin
    return flow


def _where_for(exc: BadConfig, located: _Located, *path: Any) -> str:
    """Point at the option the message names when there is one, else at the section."""
    if str(exc).startswith(located.origin):
        return ""
    found = re.search(r"option '([^']+)'|^(\w+)[ :]", str(exc))
    name = (found.group(1) or found.group(2)) if found else None
    if name is not None and (*path, name) in located.lines:
        return located.where(*path, name)
    return located.where(*path)


def _resolve_paths(options: dict[str, Any], base: Path) -> dict[str, Any]:
    """`uses` YAML files and `py_modules` files are relative to the Flow YAML's directory."""
    out = dict(options)
    uses = out.get("uses")
    if isinstance(uses, str) and uses.endswith((".yml", ".yaml")) and not Path(uses).is_absolute():
        out["uses"] = str(base / uses)
    modules = out.get("py_modules")
    if isinstance(modules, str):
        modules = [modules]
    if modules:
        out["py_modules"] = [str(base / m) if m.endswith(".py") and not Path(m).is_absolute() else m for m in modules]
    return out


def flow_to_dict(flow: YamlFlow) -> dict[str, Any]:
    options: dict[str, Any] = {"protocol": flow.protocols if len(flow.protocols) > 1 else flow.protocols[0]}
    ports = {p: port for p, port in flow.declared_ports.items() if port is not None}
    if ports:
        options["port"] = (
            [ports.get(p) for p in flow.protocols] if len(flow.protocols) > 1 else ports.get(flow.protocol)
        )
    if flow.host != "0.0.0.0":
        options["host"] = flow.host
    if flow.prefetch != 1000:
        options["prefetch"] = flow.prefetch
    if flow.timeout_send:
        options["timeout_send"] = flow.timeout_send
    if flow.debug:
        options["debug"] = True
    options.update(flow.options)
    executors = []
    for executor in flow.executors:
        item: dict[str, Any] = {"name": executor.name}
        uses = executor.uses
        if isinstance(uses, type):
            if uses.__module__ == "__main__" or "<locals>" in uses.__qualname__:
                raise BadConfig(
                    f"executor {executor.name!r}: {uses.__qualname__} is defined in a script, which a YAML file "
                    "cannot name; move it to a module (or a file listed in py_modules)"
                )
            uses = f"{uses.__module__}.{uses.__qualname__}"
        if uses:
            item["uses"] = uses
        if executor.uses_with:
            item["uses_with"] = executor.uses_with
        if executor.needs:
            item["needs"] = list(executor.needs)
        if executor.replicas != 1:
            item["replicas"] = executor.replicas
        if executor.py_modules:
            item["py_modules"] = list(executor.py_modules)
        if executor.env:
            item["env"] = executor.env
        executors.append(item)
    data: dict[str, Any] = {"jtype": "Flow", "with": options}
    if executors:
        data["executors"] = executors
    return data


def save_flow_config(flow: YamlFlow, path: str | os.PathLike) -> None:
    Path(path).write_text(yaml.safe_dump(flow_to_dict(flow), sort_keys=False))
