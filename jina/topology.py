"""A Flow's executor graph: names, replica addresses and `needs` (pure; shared by Flow and gateway).

The gateway gets it on its command line (`--executors` for a chain, `--topology` for a graph),
the same way a Flow, docker-compose or Kubernetes start it:

    {"executors": [{"name": "a", "addresses": ["h:1"], "needs": ["gateway"]},
                   {"name": "b", "addresses": ["h:2", "h:3"], "needs": ["a"]}],
     "end": "b"}

`needs` names the executors (or `gateway`, the request as it arrives) whose outputs an executor
waits for; several needs make it a join. `end` is the executor whose output answers the
request (default: the last one listed); executors it does not depend on run "floating": they
get the request but their results are not waited for (as in Jina).

Optional keys of an executor (left out of the JSON when they have their default):

* `shards`: one address list per shard (`addresses` then lists all of them, flattened);
* `polling`: which shards a request goes to, `"ANY"` (one replica of one shard) or `"ALL"` (one
  replica of every shard), or `{endpoint: policy}` with `"*"` for the other endpoints. As in
  Jina, `/search` is ALL and `/index` ANY unless the mapping names them (a plain string policy
  is the `"*"` one): a sharded index is searched everywhere and written once;
* `tls`: dial the executor over TLS (system roots, or GRPC_DEFAULT_SSL_ROOTS_FILE_PATH);
* `external`: it runs outside the Flow, so the gateway does not wait for it at start (it may come
  up later; health is NOT_SERVING, naming it, until it answers);
* `join`: how a join (several needs) gets its branches: `"merge"` (one merged request, the
  default), `"merge+parts"` (the merge, then every branch) or `"parts"` (the branches only).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

GATEWAY = "gateway"
_NAME = re.compile(r"^[A-Za-z0-9_.\-]+$")

ANY = "ANY"
ALL = "ALL"
POLLING_POLICIES = (ANY, ALL)
#: the endpoint key of a polling mapping that stands for every endpoint it does not name
ANY_ENDPOINT = "*"
#: Jina's per-endpoint defaults, whatever the default policy (unless the mapping names them)
_POLLING_DEFAULTS = {"/search": ALL, "/index": ANY}
JOIN_MODES = ("merge", "merge+parts", "parts")


class TopologyError(ValueError):
    pass


@dataclass(frozen=True)
class ExecutorNode:
    name: str
    #: one address per replica, "host:port"
    addresses: tuple[str, ...]
    #: what it waits for; empty means "the executor listed before it" (or the gateway, for the first)
    needs: tuple[str, ...] = ()
    #: one address tuple per shard (empty: not sharded, `addresses` are the replicas of one group)
    shards: tuple[tuple[str, ...], ...] = ()
    #: "ANY", "ALL" or {endpoint: policy} ("*": the others); see polling_for
    polling: str | Mapping[str, str] = field(default=ANY, hash=False)
    #: dial the executor over TLS
    tls: bool = False
    #: runs outside the Flow (not waited for at start)
    external: bool = False
    #: how a join gets its branches: "merge", "merge+parts" or "parts"
    join: str = "merge"

    @property
    def groups(self) -> tuple[tuple[str, ...], ...]:
        """The replica groups: one per shard, or all the addresses as one."""
        return self.shards or (self.addresses,)

    def polling_for(self, endpoint: str) -> str:
        """ANY or ALL for a request to `endpoint` (as Jina decides it)."""
        endpoint = _endpoint_key(endpoint)
        policies = self.polling if isinstance(self.polling, Mapping) else {ANY_ENDPOINT: self.polling}
        found = {_endpoint_key(k): v for k, v in policies.items()}
        if endpoint in found:
            return found[endpoint].upper()
        if endpoint in _POLLING_DEFAULTS:
            return _POLLING_DEFAULTS[endpoint]
        return found.get(ANY_ENDPOINT, ANY).upper()


@dataclass(frozen=True)
class Topology:
    executors: tuple[ExecutorNode, ...] = ()
    end: str | None = None
    _needs: dict[str, tuple[str, ...]] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        seen: set[str] = set()
        needs: dict[str, tuple[str, ...]] = {}
        previous = GATEWAY
        for node in self.executors:
            if not _NAME.match(node.name) or node.name == GATEWAY:
                raise TopologyError(
                    f"executor name {node.name!r}: use letters, digits, '_', '-' or '.' (not 'gateway')"
                )
            if node.name in seen:
                raise TopologyError(f"executor name {node.name!r} appears twice")
            if not node.addresses:
                raise TopologyError(f"executor {node.name!r} has no address")
            for address in node.addresses:
                _check_address(address, node.name)
            _check_options(node)
            seen.add(node.name)
            needs[node.name] = node.needs or (previous,)
            previous = node.name
        for name, wanted in needs.items():
            for need in wanted:
                if need != GATEWAY and need not in seen:
                    raise TopologyError(f"executor {name!r} needs {need!r}, which is not in the Flow")
        if self.end is not None and self.end not in seen:
            raise TopologyError(f"end {self.end!r} is not an executor of the Flow")
        object.__setattr__(self, "_needs", needs)
        self.order()  # raises on cycles

    # -- reading ----------------------------------------------------------------------------

    @classmethod
    def parse(cls, specs: list[str]) -> Topology:
        """A chain from `NAME=HOST:PORT[,HOST:PORT...]` items (replicas separated by commas)."""
        nodes = []
        for spec in specs:
            name, sep, addresses = spec.partition("=")
            if not sep or not name or not addresses:
                raise TopologyError(f"executor {spec!r}: expected NAME=HOST:PORT[,HOST:PORT...]")
            nodes.append(ExecutorNode(name=name, addresses=tuple(a.strip() for a in addresses.split(",") if a.strip())))
        return cls(executors=tuple(nodes))

    @classmethod
    def from_json(cls, text: str) -> Topology:
        """From JSON text, or `@path` to a JSON file."""
        if text.startswith("@"):
            text = Path(text[1:]).read_text()
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise TopologyError(f"topology is not valid JSON: {exc}") from None
        if not isinstance(data, dict) or not isinstance(data.get("executors", []), list):
            raise TopologyError('topology must be {"executors": [...], "end": "..."}')
        nodes = [_node_from_json(item) for item in data.get("executors", [])]
        return cls(executors=tuple(nodes), end=data.get("end"))

    def to_json(self) -> str:
        return json.dumps({"executors": [self._node_json(n) for n in self.executors], "end": self.end_node})

    def _node_json(self, node: ExecutorNode) -> dict[str, Any]:
        item: dict[str, Any] = {
            "name": node.name,
            "addresses": list(node.addresses),
            "needs": list(self.needs(node.name)),
        }
        if node.shards:
            item["shards"] = [list(shard) for shard in node.shards]
        if node.polling != ANY:
            item["polling"] = dict(node.polling) if isinstance(node.polling, Mapping) else node.polling
        if node.tls:
            item["tls"] = True
        if node.external:
            item["external"] = True
        if node.join != "merge":
            item["join"] = node.join
        return item

    # -- the graph ----------------------------------------------------------------------------

    def needs(self, name: str) -> tuple[str, ...]:
        return self._needs[name]

    def node(self, name: str) -> ExecutorNode:
        for node in self.executors:
            if node.name == name:
                return node
        raise KeyError(name)

    @property
    def end_node(self) -> str | None:
        if self.end is not None:
            return self.end
        return self.executors[-1].name if self.executors else None

    def order(self) -> list[str]:
        """Executor names so that each comes after everything it needs; raises on a cycle."""
        done: list[str] = []
        state: dict[str, int] = {}  # 1: being visited, 2: done

        def visit(name: str, path: list[str]) -> None:
            if state.get(name) == 2 or name == GATEWAY:
                return
            if state.get(name) == 1:
                cycle = path[path.index(name) :] + [name]
                raise TopologyError(f"the needs form a cycle: {' -> '.join(cycle)}")
            state[name] = 1
            for need in self._needs[name]:
                visit(need, [*path, name])
            state[name] = 2
            done.append(name)

        for node in self.executors:
            visit(node.name, [])
        return done

    def ancestors(self, name: str) -> set[str]:
        """Every node `name` depends on, directly or not (the gateway included)."""
        found: set[str] = set()
        stack = list(self._needs.get(name, ()))
        while stack:
            node = stack.pop()
            if node not in found:
                found.add(node)
                stack.extend(self._needs.get(node, ()))
        return found

    def consumers(self, name: str) -> int:
        """How many executors take `name`'s output (the gateway's: `name='gateway'`)."""
        return sum(name in needs for needs in self._needs.values())


_KEYS = ("name", "addresses", "needs", "shards", "polling", "tls", "external", "join")


def _node_from_json(item: Any) -> ExecutorNode:
    if not isinstance(item, dict) or "name" not in item:
        raise TopologyError(f"topology executor {item!r} needs at least a name and addresses")
    name = str(item["name"])
    unknown = sorted(set(item) - set(_KEYS))
    if unknown:
        raise TopologyError(f"executor {name!r}: unknown key(s) {', '.join(unknown)}; expected {', '.join(_KEYS)}")
    needs = item.get("needs") or []
    if isinstance(needs, str):
        needs = [needs]
    shards = item.get("shards") or []
    if not isinstance(shards, list) or not all(isinstance(s, list) for s in shards):
        raise TopologyError(f"executor {name!r}: shards must be a list of address lists, got {shards!r}")
    # a sharded executor may leave out the flattened `addresses`
    addresses = item.get("addresses") or [a for shard in shards for a in shard]
    flags = {key: item.get(key, False) for key in ("tls", "external")}
    for key, value in flags.items():
        if not isinstance(value, bool):
            raise TopologyError(f"executor {name!r}: {key} must be true or false, got {value!r}")
    return ExecutorNode(
        name=name,
        addresses=tuple(addresses),
        needs=tuple(needs),
        shards=tuple(tuple(shard) for shard in shards),
        polling=item.get("polling", ANY),
        **flags,
        join=item.get("join", "merge"),
    )


def _endpoint_key(endpoint: str) -> str:
    """`search` → `/search`, as requests name endpoints; `*` stays."""
    if endpoint == ANY_ENDPOINT or endpoint.startswith("/"):
        return endpoint
    return "/" + endpoint if endpoint else "/"


def _check_policy(policy: object, name: str, where: str) -> None:
    if not isinstance(policy, str) or policy.upper() not in POLLING_POLICIES:
        raise TopologyError(
            f"executor {name!r}: unknown polling {policy!r}{where}; expected {' or '.join(POLLING_POLICIES)}"
        )


def _check_options(node: ExecutorNode) -> None:
    name = node.name
    if isinstance(node.polling, Mapping):
        for endpoint, policy in node.polling.items():
            if not isinstance(endpoint, str):
                raise TopologyError(f"executor {name!r}: polling endpoint {endpoint!r} is not a string")
            _check_policy(policy, name, f" for {endpoint!r}")
    else:
        _check_policy(node.polling, name, "")
    if node.join not in JOIN_MODES:
        raise TopologyError(f"executor {name!r}: unknown join {node.join!r}; expected one of {', '.join(JOIN_MODES)}")
    if node.shards:
        if any(not shard for shard in node.shards):
            raise TopologyError(f"executor {name!r}: every shard needs at least one address")
        flattened = [address for shard in node.shards for address in shard]
        if sorted(flattened) != sorted(node.addresses):
            raise TopologyError(
                f"executor {name!r}: addresses {list(node.addresses)} are not the shards' addresses {flattened}"
            )


def _check_address(address: str, name: str) -> str:
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise TopologyError(f"executor {name!r}: address {address!r} is not HOST:PORT")
    return address
