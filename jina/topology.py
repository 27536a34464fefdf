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
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

GATEWAY = "gateway"
_NAME = re.compile(r"^[A-Za-z0-9_.\-]+$")


class TopologyError(ValueError):
    pass


@dataclass(frozen=True)
class ExecutorNode:
    name: str
    #: one address per replica, "host:port"
    addresses: tuple[str, ...]
    #: what it waits for; empty means "the executor listed before it" (or the gateway, for the first)
    needs: tuple[str, ...] = ()


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
        nodes = []
        for item in data.get("executors", []):
            if not isinstance(item, dict) or "name" not in item:
                raise TopologyError(f"topology executor {item!r} needs at least a name and addresses")
            addresses = item.get("addresses") or []
            needs = item.get("needs") or []
            if isinstance(needs, str):
                needs = [needs]
            nodes.append(ExecutorNode(name=str(item["name"]), addresses=tuple(addresses), needs=tuple(needs)))
        return cls(executors=tuple(nodes), end=data.get("end"))

    def to_json(self) -> str:
        return json.dumps(
            {
                "executors": [
                    {"name": n.name, "addresses": list(n.addresses), "needs": list(self.needs(n.name))}
                    for n in self.executors
                ],
                "end": self.end_node,
            }
        )

    # -- the graph ----------------------------------------------------------------------------

    def needs(self, name: str) -> tuple[str, ...]:
        return self._needs[name]

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


def _check_address(address: str, name: str) -> str:
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise TopologyError(f"executor {name!r}: address {address!r} is not HOST:PORT")
    return address
