"""A sharded executor: one replica group per shard, and which of them a request goes to.

Rules, per request (the policy comes from the topology's `polling`, per endpoint):

* ANY: one replica of one shard: the shard with the least-loaded replica (ties rotate; shards
  whose replicas all failed just now come last); if that shard cannot be reached, the next one;
* ALL: one replica of every shard, concurrently; their answers are reduced with the join rule
  of merge.py, the request the node received being the base, and every shard's
  `parameters['__results__']` is kept;
* an error status from any shard fails the node: the response carries it, its `executor` being
  `name/shard-N` (Jina's spelling of a shard); a shard that cannot be reached fails the call
  (the other shards' calls are cancelled);
* readiness has one group per shard (`name/shard-N`): the executor is ready when every shard
  has a replica answering;
* the endpoints are those of the shards (they run the same Executor).

The object offers what the Router and the gateway use of an `ExecutorClient`, so an unsharded
executor and a sharded one are interchangeable.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable

import grpc
from jina_mesh.services.gateway.connections import ExecutorClient, ExecutorUnreachable, Outgoing
from jina_mesh.services.gateway.merge import merge_contents
from jina_mesh.services.gateway.passthrough_pb2 import PassthroughRequest, PassthroughRequestList
from jina_mesh.services.gateway.replica_set import DEFAULT_RESOLVE_INTERVAL

from jina.executor import normalize_endpoint
from jina.proto import jina_pb2
from jina.topology import ALL, ExecutorNode
from jina.wire import RESULTS_KEY, dict_to_struct, struct_to_dict


def connect(
    node: ExecutorNode,
    compression: grpc.Compression | None = None,
    *,
    resolve_interval: float = DEFAULT_RESOLVE_INTERVAL,
) -> ExecutorClient | ShardedExecutor:
    """The client of one topology node: a replica group, or one per shard."""
    if len(node.shards) > 1:
        return ShardedExecutor(node, compression, resolve_interval=resolve_interval)
    return ExecutorClient(node, compression, resolve_interval=resolve_interval)


def shard_name(executor: str, shard: int) -> str:
    return f"{executor}/shard-{shard}"


class ShardedExecutor:
    def __init__(
        self,
        node: ExecutorNode,
        compression: grpc.Compression | None = None,
        *,
        resolve_interval: float = DEFAULT_RESOLVE_INTERVAL,
    ):
        self.name = node.name
        self.node = node
        self.addresses = node.addresses
        self.shards = [
            ExecutorClient(node, compression, shard=index, resolve_interval=resolve_interval)
            for index in range(len(node.groups))
        ]
        self._rotation = itertools.count()

    # -- requests ---------------------------------------------------------------------------

    async def send(self, request: Outgoing, timeout: float | None = None) -> PassthroughRequest:
        first = request.requests[0] if isinstance(request, PassthroughRequestList) else request
        if self.node.polling_for(normalize_endpoint(first.header.exec_endpoint)) == ALL:
            return await self._send_all(request, first, timeout)
        return await self._send_any(request, timeout)

    async def _send_any(self, request: Outgoing, timeout: float | None) -> PassthroughRequest:
        shift = next(self._rotation) % len(self.shards)
        rotated = self.shards[shift:] + self.shards[:shift]
        last: ExecutorUnreachable | None = None
        for shard in sorted(rotated, key=lambda s: s.idle_score):  # stable: ties keep the rotation
            try:
                return await shard.send(request, timeout)
            except ExecutorUnreachable as err:
                if err.code != grpc.StatusCode.UNAVAILABLE:
                    raise
                last = err  # ANY: another shard will do
        assert last is not None
        raise last

    async def _send_all(self, request: Outgoing, base: PassthroughRequest, timeout: float | None) -> PassthroughRequest:
        calls = [asyncio.ensure_future(shard.send(request, timeout)) for shard in self.shards]
        try:
            done, _ = await asyncio.wait(calls, return_when=asyncio.FIRST_EXCEPTION)
            failures = [call.exception() for call in calls if call in done and call.exception() is not None]
            if failures:
                raise failures[0]  # the first in shard order
        finally:
            for call in calls:
                call.cancel()
        return self.reduce(base, [call.result() for call in calls])

    def reduce(self, base: PassthroughRequest, answers: list[PassthroughRequest]) -> PassthroughRequest:
        """The shards' answers as one (see the module's rules)."""
        response = PassthroughRequest()
        for index, answer in enumerate(answers):
            if answer.header.status.code == jina_pb2.StatusProto.ERROR:
                response.CopyFrom(answer)
                response.header.status.exception.executor = shard_name(self.name, index)
                return response
        response.CopyFrom(answers[0])
        response.data = merge_contents(base.data, [answer.data for answer in answers])
        results: dict = {}
        for answer in answers:
            if RESULTS_KEY in answer.parameters:
                returned = struct_to_dict(answer.parameters).get(RESULTS_KEY)
                if isinstance(returned, dict):
                    results.update(returned)
        if results:
            dict_to_struct({RESULTS_KEY: results}, response.parameters)
        return response

    # -- endpoints --------------------------------------------------------------------------

    async def endpoints(self) -> frozenset[str] | None:
        """The endpoints known of any shard; asks them all only while none is known."""
        known = [s.known_endpoints for s in self.shards if s.known_endpoints is not None]
        if not known:
            known = [e for e in await asyncio.gather(*(s.endpoints() for s in self.shards)) if e is not None]
        return frozenset().union(*known) if known else None

    def binds(self, endpoints: frozenset[str] | None, endpoint: str) -> bool:
        return self.shards[0].binds(endpoints, endpoint)

    # -- readiness and life cycle -----------------------------------------------------------

    @property
    def on_reachability(self) -> Callable[[str, bool], None] | None:
        return self.shards[0].on_reachability

    @on_reachability.setter
    def on_reachability(self, callback: Callable[[str, bool], None] | None) -> None:
        for shard in self.shards:
            shard.on_reachability = callback

    def probes(self) -> dict[str, Callable[[float], Awaitable[bool | None]]]:
        return {group: probe for shard in self.shards for group, probe in shard.probes().items()}

    async def start(self) -> None:
        await asyncio.gather(*(s.start() for s in self.shards))

    async def warm_up(self, timeout: float) -> None:
        await asyncio.gather(*(s.warm_up(timeout) for s in self.shards))

    async def check(self, timeout: float) -> str | None:
        problems = [p for p in await asyncio.gather(*(s.check(timeout) for s in self.shards)) if p]
        return "; ".join(problems) or None

    async def close(self) -> None:
        for shard in self.shards:
            await shard.close()
