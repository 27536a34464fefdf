"""Route one request through the Flow's executor graph (no sockets here beyond the executor clients).

Rules, per request:

* executors run as soon as everything they `need` has answered, so parallel branches run at
  the same time; a join merges its branches' documents (see merge.py) and, by its `join` mode,
  is sent the merge, the merge and the branches, or the branches (see joins.py);
* a sharded executor is one call here: its client sends it to one shard or all of them by the
  endpoint's polling and reduces their answers (see shards.py);
* an executor is skipped (its input passes through) when it binds neither the request's
  endpoint nor a default one, or when its name does not match the request's
  `target_executor` regular expression;
* every executor receives the request's parameters, minus those addressed to *other*
  executors (Jina's `{"executor_name": {...}}` form); dicts returned by executors are gathered
  into `parameters['__results__']`;
* an executor call that could not reach the executor goes to another replica, or waits for one
  to come back (a restart) within the call's time; one whose executor exited or lost its
  connection while it had the request fails the request with `ExecutorLost` and is never sent
  again (see connections.py);
* an executor answering with an error status ends its branch: what depends on it passes the
  error on, and the response carries it;
* the gateway records a `gateway` route entry, then one per executor call with the times the
  call started and ended (and the executor's error status, if any); a sharded executor's
  calls are one entry, from the first shard's start to the last one's end;
* the response is the output of the end executor; executors it does not depend on run
  "floating" (not waited for);
* documents are forwarded as bytes: the gateway decodes them only to merge a join (or the
  answers of the shards of an ALL call);
* a request whose header carries a `timeout` (milliseconds: the caller's deadline) is answered by
  then: each executor call gets the time that is left (never more than `timeout_send`), and when
  it runs out the calls still in flight are cancelled and the request fails with
  `DeadlineExceeded` naming the executors it was waiting for.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from dataclasses import dataclass, field
from functools import lru_cache

from google.protobuf import struct_pb2
from jina_mesh.services.gateway.connections import ExecutorClient, ExecutorLost, ExecutorUnreachable
from jina_mesh.services.gateway.joins import join_request
from jina_mesh.services.gateway.merge import merge_contents
from jina_mesh.services.gateway.passthrough_pb2 import PassthroughRequest
from jina_mesh.services.gateway.shards import ShardedExecutor

from jina.executor import normalize_endpoint
from jina.proto import jina_pb2
from jina.topology import GATEWAY, ExecutorNode, Topology
from jina.wire import RESULTS_KEY, new_request_id, struct_to_dict

GATEWAY_ROUTE = "gateway"

_logger = logging.getLogger("jina.gateway")


class BadTargetExecutor(ValueError):
    pass


class DeadlineExceeded(Exception):
    """The caller's deadline (the request header's `timeout`) passed before the response was ready."""

    def __init__(self, timeout_ms: int, waiting_for: list[str]):
        where = f" while waiting for executor(s) {', '.join(map(repr, waiting_for))}" if waiting_for else ""
        super().__init__(f"the request's deadline of {timeout_ms} ms passed{where}")
        self.executor = waiting_for[0] if waiting_for else ""


@lru_cache(maxsize=256)
def _compile_target(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise BadTargetExecutor(f"target_executor {pattern!r} is not a valid regular expression: {exc}") from exc


@dataclass
class _Hop:
    executor: str
    start_ns: int
    end_ns: int = 0
    status: jina_pb2.StatusProto | None = None


@dataclass
class _Walk:
    """What one request gathers on its way through the graph."""

    start_ns: int
    endpoint: str
    target: re.Pattern[str] | None
    parameters: struct_pb2.Struct
    hops: list[_Hop] = field(default_factory=list)
    results: dict = field(default_factory=dict)
    #: time.monotonic() by which the caller wants its answer (None: no deadline)
    deadline: float | None = None


def _stamp(ts, ns: int) -> None:
    ts.seconds, ts.nanos = divmod(ns, 1_000_000_000)


class Router:
    def __init__(
        self,
        executors: list[ExecutorClient | ShardedExecutor],
        topology: Topology | None = None,
        timeout_send: float | None = None,
    ):
        self.executors = {e.name: e for e in executors}
        if topology is None:  # a chain, in the given order
            topology = Topology(tuple(ExecutorNode(e.name, tuple(e.addresses)) for e in executors))
        self.topology = topology
        self.timeout_send = timeout_send
        self._order = topology.order()
        self._end = topology.end_node
        self._needed_by_end = topology.ancestors(self._end) | {self._end} if self._end else set()
        self._names = frozenset(self.executors)

    async def route(self, request: PassthroughRequest) -> PassthroughRequest:
        """Send the request through the graph; the returned message is the response.

        Raises `ExecutorUnreachable` when an executor the response depends on cannot be reached
        (after retries; its subclass `ExecutorLost` when the executor exited while it had the request)
        and `BadTargetExecutor` for an invalid `target_executor`.
        """
        header = request.header
        if not header.request_id:
            header.request_id = new_request_id()
        parameters = struct_pb2.Struct()
        parameters.CopyFrom(request.parameters)
        walk = _Walk(
            start_ns=time.time_ns(),
            endpoint=normalize_endpoint(header.exec_endpoint),
            target=_compile_target(header.target_executor) if header.target_executor else None,
            parameters=parameters,
        )
        if header.HasField("timeout") and header.timeout > 0:
            walk.deadline = time.monotonic() + header.timeout / 1000
        if self._end is None:
            return self._finish(request, walk)
        outputs: dict[str, asyncio.Future[PassthroughRequest]] = {}
        start: asyncio.Future[PassthroughRequest] = asyncio.get_running_loop().create_future()
        start.set_result(request)
        outputs[GATEWAY] = start
        for name in self._order:
            task = asyncio.ensure_future(self._run_node(name, outputs, walk))
            floating = name not in self._needed_by_end
            task.add_done_callback(_log_floating_failure if floating else _seen)
            outputs[name] = task
        try:
            if walk.deadline is None:
                response = await outputs[self._end]
            else:
                try:
                    response = await asyncio.wait_for(
                        asyncio.shield(outputs[self._end]), max(0.0, walk.deadline - time.monotonic())
                    )
                except asyncio.TimeoutError:
                    # a node that failed just now counts too (its error may not have reached the end yet)
                    running = [n for n in self._order if n in self._needed_by_end and _unfinished(outputs[n])]
                    raise DeadlineExceeded(header.timeout, running) from None
        finally:
            for name in self._needed_by_end:
                if not outputs[name].done():
                    outputs[name].cancel()  # the answer is decided (or the caller left)
        return self._finish(response, walk)

    async def _run_node(
        self, name: str, outputs: dict[str, asyncio.Future[PassthroughRequest]], walk: _Walk
    ) -> PassthroughRequest:
        needs = self.topology.needs(name)
        parts = [await outputs[need] for need in needs]
        message = self._join(name, needs, parts, outputs) if len(parts) > 1 else parts[0]
        if message.header.status.code == jina_pb2.StatusProto.ERROR:
            return message  # an earlier executor failed: pass its error on
        executor = self.executors[name]
        if walk.target is not None and not walk.target.match(name):
            return message
        if not executor.binds(await executor.endpoints(), walk.endpoint):
            return message
        if self.topology.consumers(needs[0]) > 1 or len(parts) > 1:
            copied = PassthroughRequest()  # a shared input: the branches must not mutate it
            copied.CopyFrom(message)
            message = copied
        message.parameters.CopyFrom(self._parameters_for(name, walk.parameters))
        if len(parts) > 1:
            outgoing = join_request(self.topology.node(name).join, message, zip(needs, parts, strict=True))
        else:
            outgoing = message
        hop = _Hop(executor=name, start_ns=time.time_ns())
        walk.hops.append(hop)
        try:
            response = await executor.send(outgoing, timeout=self._hop_timeout(walk))
        finally:
            hop.end_ns = time.time_ns()
        self._collect_results(response, walk)
        if response.header.status.code == jina_pb2.StatusProto.ERROR:
            hop.status = response.header.status
        return response

    def _hop_timeout(self, walk: _Walk) -> float | None:
        """What an executor call may take: `timeout_send`, or less when the caller's deadline is nearer."""
        if walk.deadline is None:
            return self.timeout_send
        remaining = max(0.001, walk.deadline - time.monotonic())
        return remaining if self.timeout_send is None else min(self.timeout_send, remaining)

    def _join(
        self,
        name: str,
        needs: tuple[str, ...],
        parts: list[PassthroughRequest],
        outputs: dict[str, asyncio.Future[PassthroughRequest]],
    ) -> PassthroughRequest:
        failed = [p for p in parts if p.header.status.code == jina_pb2.StatusProto.ERROR]
        joined = PassthroughRequest()
        joined.CopyFrom(failed[0] if failed else parts[0])
        if failed:
            return joined
        base = outputs[self._split_point(needs)].result()
        joined.data = merge_contents(base.data, [p.data for p in parts])
        return joined

    def _split_point(self, needs: tuple[str, ...]) -> str:
        """The latest node every part of a join descends from: their documents' common base."""
        common = set.intersection(*({need} | self.topology.ancestors(need) for need in needs))
        for name in reversed(self._order):
            if name in common:
                return name
        return GATEWAY

    def _parameters_for(self, name: str, parameters: struct_pb2.Struct) -> struct_pb2.Struct:
        others = [key for key in parameters.keys() if key in self._names and key != name]
        if not others:
            return parameters
        filtered = struct_pb2.Struct()
        filtered.CopyFrom(parameters)
        for key in others:
            del filtered[key]
        return filtered

    @staticmethod
    def _collect_results(response: PassthroughRequest, walk: _Walk) -> None:
        if RESULTS_KEY in response.parameters:
            returned = struct_to_dict(response.parameters).get(RESULTS_KEY)
            if isinstance(returned, dict):
                walk.results.update(returned)

    @staticmethod
    def _finish(response: PassthroughRequest, walk: _Walk) -> PassthroughRequest:
        response.parameters.CopyFrom(walk.parameters)
        if walk.results:
            response.parameters.update({RESULTS_KEY: walk.results})
        # Executors append their own route entries; the gateway rebuilds the list with timings.
        del response.routes[:]
        gateway = response.routes.add(executor=GATEWAY_ROUTE)
        _stamp(gateway.start_time, walk.start_ns)
        for hop in sorted(walk.hops, key=lambda h: h.start_ns):
            route = response.routes.add(executor=hop.executor)
            _stamp(route.start_time, hop.start_ns)
            _stamp(route.end_time, hop.end_ns)
            if hop.status is not None:
                route.status.CopyFrom(hop.status)
        _stamp(gateway.end_time, time.time_ns())
        return response


def _unfinished(output: asyncio.Future) -> bool:
    """Whether a node has not produced its output (it runs still, or it failed)."""
    return not output.done() or output.cancelled() or output.exception() is not None


def _log_floating_failure(task: asyncio.Future) -> None:
    if not task.cancelled() and task.exception() is not None:
        _logger.warning("a floating executor failed: %s", task.exception())


def _seen(task: asyncio.Future) -> None:
    """Mark a branch's failure as handled: the request already failed through another branch."""
    if not task.cancelled():
        task.exception()


__all__ = ["BadTargetExecutor", "DeadlineExceeded", "ExecutorLost", "ExecutorUnreachable", "GATEWAY_ROUTE", "Router"]
