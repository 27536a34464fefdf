"""Flows in YAML: `Flow.load_config(...)` and `Flow.save_config(...)`, in the form real Jina 3 reads and writes.

    jtype: Flow
    version: '1'                # optional; Jina's Flow YAML version (another one is an error)
    with:                       # any Flow option
      protocol: [grpc, http]
      port: [12345, 12346]
    executors:
      - name: encoder
        uses: MyEncoder          # a class from py_modules or defined in the calling program,
                                 # a module.Class path, or an Executor YAML
        py_modules: [encoder.py] # relative to this file
        uses_with: {dim: 8}
        needs: gateway
        replicas: 2
        env: {MODEL: small}
      - {name: remote, host: 10.0.0.5, port: 8081, external: true}
    gateway:                    # the gateway's options, as Jina's save_config writes them
      protocol: [GRPC, HTTP]    # (any case); a key given here wins over the same key in `with:`
      port: [12345, 12346]

Jina's saved files also carry keys that have no effect here and are accepted: `port_monitoring`
(everywhere), `cors` in executors, and the Flow's own options (`title`, `compression`,
`timeout_send`, `host`, ...) that Jina copies into every executor (accepted when they equal the
Flow's; an executor cannot have its own).

Environment variables are substituted in values (never in keys or comments): `${{ ENV.NAME }}`,
`${NAME}` and `$NAME`. An unset one is an error naming it with its file and line (Jina leaves it
in the text). `$$` is a literal `$`. An unquoted value is typed after substitution as YAML types
the same text (`port: $PORT` is a number); a quoted one stays a string. Mistakes are reported
with the file and line they are on.

This module does not import `jina.flow.flow` (which imports it): a Flow hands itself over to be
saved, and a factory of Flows to be loaded; both are used through the public API in `YamlFlow`.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, TypeVar

import yaml

from jina.excepts import BadConfig
from jina.flow.options import (
    ADD_OPTIONS,
    ALIASES,
    ALL_FLOW_OPTIONS,
    BRIDGE_OPTIONS,
    GATEWAY_OPTIONS,
    IGNORED_ADD_OPTIONS,
    check_names,
    normalize_flow_options,
)
from jina.flow.spec import ExecutorConfig, check_topology
from jina.yamlfile import LocatedYaml, parse_text, read_source

_TOP_KEYS = {"jtype", "version", "with", "executors", "deployments", "gateway"}
#: the Flow YAML version this module reads and writes (Jina 3's `version: '1'`)
VERSION = "1"
#: gateway keys Jina writes that have no effect here (it always picks a monitoring port)
IGNORED_GATEWAY_OPTIONS = {"port_monitoring"}
#: Flow options Jina copies into every executor when it saves a Flow: accepted in an executor
#: when equal to the Flow's value (that is how Jina writes them), refused when they differ
_COPIED_FLOW_OPTIONS = ALL_FLOW_OPTIONS - ADD_OPTIONS - IGNORED_ADD_OPTIONS
_DEFAULTS = {"host": "0.0.0.0", "prefetch": 1000, "timeout_ready": 600_000, "compression": "none"}


class YamlFlow(Protocol):
    """What of a Flow this module reads and calls."""

    protocols: list[str]
    host: str
    prefetch: int
    timeout_send: int | None
    timeout_ready: float
    debug: bool
    compression: str
    ssl_certfile: str | None
    ssl_keyfile: str | None
    ssl_ca_certs: str | None
    max_message_bytes: int | None
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


def _parse(source: str | os.PathLike) -> tuple[dict[str, Any], LocatedYaml, Path]:
    text, origin, base = read_source(source)
    data, located = parse_text(text, origin)
    if not isinstance(data, dict):
        raise BadConfig(f"{origin}: a Flow YAML is a mapping with `jtype: Flow`")
    if located.root_tag == "!Flow":  # Jina's older spelling of `jtype: Flow`
        data.setdefault("jtype", "Flow")
    if data.get("jtype") != "Flow":
        raise BadConfig(f"{located.where('jtype')}expected `jtype: Flow`, got {data.get('jtype')!r}")
    for key in data:
        if key not in _TOP_KEYS:
            raise BadConfig(f"{located.where(key)}unknown key {key!r}; a Flow YAML has {sorted(_TOP_KEYS)}")
    version = data.get("version")
    if version is not None and str(version).split(".")[0] != VERSION:
        raise BadConfig(
            f"{located.where('version')}version {version!r} is not a Flow YAML version this project reads; "
            f"it reads Jina 3's version {VERSION!r} (write version: '{VERSION}' or leave it out)"
        )
    if "executors" in data and "deployments" in data:
        raise BadConfig(
            f"{located.where('deployments')}give the executors under `executors` or `deployments`, not both"
        )
    return data, located, base


def _section(data: dict[str, Any], located: LocatedYaml, key: str, what: str) -> dict[str, Any]:
    section = data.get(key) or {}
    if not isinstance(section, dict):
        raise BadConfig(f"{located.where(key)}`{key}` must be a mapping of {what}")
    return section


def _gateway_options(data: dict[str, Any], located: LocatedYaml) -> dict[str, Any]:
    """The `gateway:` section as Flow options (Jina's JSON-string `expose_endpoints` decoded)."""
    gateway = _section(data, located, "gateway", "gateway options")
    checked = check_names(
        gateway,
        GATEWAY_OPTIONS | IGNORED_GATEWAY_OPTIONS,
        "gateway:",
        lambda key: located.where("gateway", key),
    )
    out = {k: v for k, v in checked.items() if k not in IGNORED_GATEWAY_OPTIONS}
    if isinstance(out.get("expose_endpoints"), str):
        out["expose_endpoints"] = _json(out["expose_endpoints"], located.where("gateway", "expose_endpoints"))
    return out


def _json(text: str, where: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise BadConfig(f"{where}{text!r} is neither a mapping nor JSON: {exc}") from None


def load_flow_config(source: str | os.PathLike, new_flow: Callable[[dict[str, Any]], F]) -> F:
    """The Flow a YAML file or string describes; `new_flow` makes one of options `normalize_flow_options`
    checked already, and the executors are added to it."""
    data, located, base = _parse(source)
    given = _section(data, located, "with", "Flow options")
    gateway = _gateway_options(data, located)
    # as in Jina, the gateway section is applied after `with:`: its keys win
    section_of = {key: "with" for key in given} | {key: "gateway" for key in gateway}
    aliased_from = {new: old for old, new in ALIASES.items()}

    def locate_option(key: str) -> str:
        section = section_of.get(key) or section_of.get(aliased_from.get(key, key), "with")
        if (section, key) not in located.lines:
            key = aliased_from.get(key, key)
        return located.where(section, key)

    checked = normalize_flow_options({**given, **gateway}, where=locate_option)
    flow_values = dict(checked)
    try:
        flow = new_flow(checked)
    except BadConfig as exc:
        raise BadConfig(f"{_where_for(exc, located, section_of.get(_named_option(exc) or '', 'with'))}{exc}") from None
    section = "deployments" if "deployments" in data else "executors"
    executors = data.get(section) or []
    if not isinstance(executors, list):
        raise BadConfig(f"{located.where(section)}`{section}` must be a list")
    for index, item in enumerate(executors):
        where = located.where(section, index)
        if not isinstance(item, dict):
            raise BadConfig(f"{where}each executor is a mapping (name, uses, ...)")
        try:
            options = _executor_options(item, flow_values, lambda key, at=index: located.where(section, at, key))
            flow.add(**_resolve_paths(options, base))
        except BadConfig as exc:
            raise BadConfig(f"{_where_for(exc, located, section, index)}{exc}") from None
    try:
        check_topology(flow.executors)
    except BadConfig as exc:
        raise BadConfig(f"{located.where(section)}{exc}") from None
    flow.config_source = located.origin
    return flow


def _executor_options(
    item: dict[str, Any], flow_values: dict[str, Any], locate: Callable[[str], str]
) -> dict[str, Any]:
    """One executor's `add()` options from its YAML mapping, Jina's saved forms made plain."""
    copied = {key: item[key] for key in item if key in _COPIED_FLOW_OPTIONS}
    for key, value in copied.items():
        mine = normalize_flow_options({key: value}, where=locate).get(key)
        if mine != flow_values.get(key, _DEFAULTS.get(key)):
            raise BadConfig(
                f"{locate(key)}{key!r} is a Flow option here and cannot differ per executor "
                f"(the Flow has {flow_values.get(key, _DEFAULTS.get(key))!r}); give it under `with:`"
            )
    rest = {key: value for key, value in item.items() if key not in copied}
    options = check_names(rest, ADD_OPTIONS | IGNORED_ADD_OPTIONS, "executor", locate)
    options = {key: value for key, value in options.items() if key not in IGNORED_ADD_OPTIONS}
    for key in ("host", "port"):  # Jina writes a list of one
        if isinstance(options.get(key), list) and len(options[key]) == 1:
            options[key] = options[key][0]
    if not options.get("external") and options.get("host") == flow_values.get("host", _DEFAULTS["host"]):
        del options["host"]  # the Flow's host, copied by Jina; executors started here listen on loopback
    polling = options.get("polling")
    if isinstance(polling, str) and polling.lstrip().startswith("{"):  # Jina saves a policy map as JSON
        options["polling"] = _json(polling, locate("polling"))
    return options


def _named_option(exc: BadConfig) -> str | None:
    found = re.search(r"option '([^']+)'|^(\w+)[ :]", str(exc))
    return (found.group(1) or found.group(2)) if found else None


def _where_for(exc: BadConfig, located: LocatedYaml, *path: Any) -> str:
    """Point at the option the message names when there is one, else at the section."""
    if str(exc).startswith(located.origin):
        return ""
    name = _named_option(exc)
    if name is not None and (*path, name) in located.lines:
        return located.where(*path, name)
    # else the key of this mapping the message mentions first (after "executor 'a': ")
    message = re.sub(r"^executor '[^']*':? ", "", str(exc))
    keys = [key[-1] for key in located.lines if key[:-1] == path and isinstance(key[-1], str)]
    found = [(m.start(), key) for key in keys if (m := re.search(rf"\b{re.escape(key)}\b", message))]
    if found:
        return located.where(*path, min(found)[1])
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


# -- saving ---------------------------------------------------------------------------------------


def _set_values(flow: YamlFlow) -> dict[str, Any]:
    """The Flow's own settings that differ from their defaults."""
    values = {
        "host": flow.host,
        "prefetch": flow.prefetch,
        "timeout_send": flow.timeout_send or None,
        "timeout_ready": flow.timeout_ready,
        "compression": flow.compression,
        "ssl_certfile": flow.ssl_certfile,
        "ssl_keyfile": flow.ssl_keyfile,
        "ssl_ca_certs": flow.ssl_ca_certs,
        "max_message_bytes": flow.max_message_bytes,
        "debug": flow.debug or None,
    }
    return {k: v for k, v in values.items() if v is not None and v != _DEFAULTS.get(k)}


def _gateway_section(flow: YamlFlow) -> dict[str, Any]:
    """The gateway's options as Jina's `gateway:` section has them (protocols in capitals, ports as a list)."""
    gateway: dict[str, Any] = {"protocol": [p.upper() for p in flow.protocols]}
    ports = flow.declared_ports
    if any(port is not None for port in ports.values()):
        gateway["port"] = [ports.get(p) for p in flow.protocols]
    gateway.update({k: v for k, v in _set_values(flow).items() if k in GATEWAY_OPTIONS and k != "timeout_ready"})
    gateway.update({k: v for k, v in flow.options.items() if k in BRIDGE_OPTIONS and v is not None})
    return gateway


def _flow_options(flow: YamlFlow) -> dict[str, Any]:
    options: dict[str, Any] = {"protocol": flow.protocols if len(flow.protocols) > 1 else flow.protocols[0]}
    ports = {p: port for p, port in flow.declared_ports.items() if port is not None}
    if ports:
        options["port"] = (
            [ports.get(p) for p in flow.protocols] if len(flow.protocols) > 1 else ports.get(flow.protocol)
        )
    options.update(_set_values(flow))
    options.update(flow.options)
    return options


def _uses_name(executor: ExecutorConfig) -> Any:
    uses = executor.uses
    if not isinstance(uses, type):
        return uses
    if uses.__module__ == "__main__" or "<locals>" in uses.__qualname__:
        # as Jina writes it: the class name, found again in the registry of Executor classes of the
        # program that loads the file (which must define it)
        return uses.__name__
    return f"{uses.__module__}.{uses.__qualname__}"


def _executor_item(executor: ExecutorConfig) -> dict[str, Any]:
    item: dict[str, Any] = {"name": executor.name}
    uses = _uses_name(executor)
    if uses:
        item["uses"] = uses
    for key in ("uses_with", "uses_metas", "uses_requests", "uses_dynamic_batching"):
        if getattr(executor, key):
            item[key] = dict(getattr(executor, key))
    if executor.needs:
        item["needs"] = list(executor.needs)
    if executor.replicas != 1:
        item["replicas"] = executor.replicas
    if executor.shards != 1:
        item["shards"] = executor.shards
    if executor.polling != "ANY":
        item["polling"] = dict(executor.polling) if isinstance(executor.polling, dict) else executor.polling
    if executor.py_modules:
        item["py_modules"] = list(executor.py_modules)
    if executor.env:
        item["env"] = dict(executor.env)
    if executor.workspace is not None:
        item["workspace"] = executor.workspace
    if executor.no_reduce:
        item["no_reduce"] = True
    if executor.external:
        hosts, ports = zip(*(address.rsplit(":", 1) for address in executor.external_hosts), strict=True)
        item["external"] = True
        item["host"] = hosts[0] if len(hosts) == 1 else list(hosts)
        item["port"] = int(ports[0]) if len(ports) == 1 else [int(p) for p in ports]
        if executor.tls:
            item["tls"] = True
    elif executor.port is not None:
        item["port"] = executor.port
    return item


def flow_to_dict(flow: YamlFlow) -> dict[str, Any]:
    """The YAML document of a Flow, in Jina's layout: version, `with:` (every Flow option), executors,
    and `gateway:` repeating the gateway's options as Jina writes them (so Jina versions that read
    either section find them)."""
    data: dict[str, Any] = {"jtype": "Flow", "version": VERSION, "with": _flow_options(flow)}
    executors = [_executor_item(executor) for executor in flow.executors]
    if executors:
        data["executors"] = executors
    data["gateway"] = _gateway_section(flow)
    return data


class _Dumper(yaml.SafeDumper):
    """Writes a value given twice (`with:` and `gateway:`) out twice, never as a YAML alias (`*id001`)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def save_flow_config(flow: YamlFlow, path: str | os.PathLike) -> None:
    Path(path).write_text(yaml.dump(flow_to_dict(flow), Dumper=_Dumper, sort_keys=False))
