"""Route one request through the Flow's executors (no sockets here beyond the executor clients).

Rules, per request:

* the gateway records a `gateway` route entry, then one entry per executor it calls, each
  with the time the call started and ended (and the executor's error status, if any);
* an executor is skipped when it binds neither the request's endpoint nor a default one, or
  when its name does not match the request's `target_executor` regular expression;
* every executor receives the request's own parameters; dicts returned by executors are
  gathered into `parameters['__results__']` of the response;
* the first executor that answers with an error status ends the walk: its response, error
  included, goes back to the client;
* documents are forwarded as bytes: the gateway never decodes them.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from google.protobuf import struct_pb2

from jina.executor import normalize_endpoint
from jina.proto import jina_pb2
from jina.wire import RESULTS_KEY, new_request_id, struct_to_dict
from services.gateway.connections import ExecutorClient, ExecutorUnreachable
from services.gateway.passthrough_pb2 import PassthroughRequest

GATEWAY_ROUTE = "gateway"


class BadTargetExecutor(ValueError):
    pass


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
    start_ns: int
    hops: list[_Hop] = field(default_factory=list)
    results: dict = field(default_factory=dict)


def _stamp(ts, ns: int) -> None:
    ts.seconds, ts.nanos = divmod(ns, 1_000_000_000)


class Router:
    def __init__(self, executors: Sequence[ExecutorClient], timeout_send: float | None = None):
        self.executors = list(executors)
        self.timeout_send = timeout_send

    async def route(self, request: PassthroughRequest) -> PassthroughRequest:
        """Send the request through the chain; the returned message is the response.

        Raises `ExecutorUnreachable` when an executor cannot be reached (after retries) and
        `BadTargetExecutor` for an invalid `target_executor`.
        """
        walk = _Walk(start_ns=time.time_ns())
        header = request.header
        if not header.request_id:
            header.request_id = new_request_id()
        endpoint = normalize_endpoint(header.exec_endpoint)
        target = _compile_target(header.target_executor) if header.target_executor else None
        parameters = struct_pb2.Struct()
        parameters.CopyFrom(request.parameters)

        current = request
        for executor in self.executors:
            if target is not None and not target.match(executor.name):
                continue
            if not executor.binds(await executor.endpoints(), endpoint):
                continue
            hop = _Hop(executor=executor.name, start_ns=time.time_ns())
            walk.hops.append(hop)
            current.parameters.CopyFrom(parameters)
            try:
                response = await executor.send(current, timeout=self.timeout_send)
            finally:
                hop.end_ns = time.time_ns()
            self._collect_results(response, walk)
            current = response
            if response.header.status.code == jina_pb2.StatusProto.ERROR:
                hop.status = response.header.status
                break
        return self._finish(current, parameters, walk)

    @staticmethod
    def _collect_results(response: PassthroughRequest, walk: _Walk) -> None:
        if RESULTS_KEY in response.parameters:
            returned = struct_to_dict(response.parameters).get(RESULTS_KEY)
            if isinstance(returned, dict):
                walk.results.update(returned)

    @staticmethod
    def _finish(response: PassthroughRequest, parameters: struct_pb2.Struct, walk: _Walk) -> PassthroughRequest:
        response.parameters.CopyFrom(parameters)
        if walk.results:
            response.parameters.update({RESULTS_KEY: walk.results})
        # Executors append their own route entries; the gateway rebuilds the list with timings.
        del response.routes[:]
        gateway = response.routes.add(executor=GATEWAY_ROUTE)
        _stamp(gateway.start_time, walk.start_ns)
        for hop in walk.hops:
            route = response.routes.add(executor=hop.executor)
            _stamp(route.start_time, hop.start_ns)
            _stamp(route.end_time, hop.end_ns)
            if hop.status is not None:
                route.status.CopyFrom(hop.status)
        _stamp(gateway.end_time, time.time_ns())
        return response


__all__ = ["BadTargetExecutor", "ExecutorUnreachable", "GATEWAY_ROUTE", "Router"]
