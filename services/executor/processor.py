"""Turn DataRequestProtos into a call of the Executor method bound to their endpoint.

One request (`process_single_data`, `Call`) gives the method its documents; several
(`process_data`, a join) are handled by the join mode the process was started with:

* `reduce` (default): `docs` are all parts' documents, each id once (first part first);
* `join_parts` (`--join-parts`): the first part is the gateway's merge and gives `docs`, the
  others are the branches;
* `no_reduce` (`--no-reduce`): `docs` are every part's documents one after the other, as Jina's
  `no_reduce` gives them.

In every mode `docs_matrix` holds each branch's documents and `docs_map` maps the name of the
upstream each came from (its last route entry) to them; `docs_matrix` is None when all of them
are empty (Jina's rule). The response is the first request carrying the result, as in Jina.
"""

from __future__ import annotations

import asyncio
import copy
import functools
import json
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from jina_mesh.services.executor.batching import BatchQueue, policies_for

from jina.documents import DocumentArray, docs_from_content, set_docs
from jina.executor import DEFAULT_ENDPOINT, DEFAULT_ENDPOINT_PUBLIC, EndpointHandler, Executor, normalize_endpoint
from jina.proto import jina_pb2
from jina.wire import RESULTS_KEY, dict_to_struct, set_error, struct_to_dict

JOIN_MODES = ("reduce", "join_parts", "no_reduce")
#: the upstream of a request that carries no route entry (it came straight from a gateway or client)
DEFAULT_UPSTREAM = "gateway"


class BadReturnValue(TypeError):
    pass


def parameters_for(parameters: dict[str, Any], *names: str) -> dict[str, Any]:
    """Jina's executor-addressed parameters: `{name: {...}}` is merged in for each of the executor's
    names, in order (the Flow's name, as Jina's gateway does, then `metas.name`, as its worker does)."""
    merged = parameters
    for name in dict.fromkeys(names):
        specific = parameters.get(name)
        if isinstance(specific, dict):
            merged = {**merged, **specific}
    return merged


def upstream_of(request: jina_pb2.DataRequestProto) -> str:
    return request.routes[-1].executor if request.routes else DEFAULT_UPSTREAM


def matrix_and_map(
    parts: list[DocumentArray], upstreams: list[str]
) -> tuple[list[DocumentArray] | None, dict[str, DocumentArray]]:
    """`docs_matrix` and `docs_map` of branches, as Jina builds them."""
    docs_map = dict(zip(upstreams, parts, strict=True))
    return (parts if any(len(p) for p in parts) else None), docs_map


def _unique(parts: list[DocumentArray]) -> DocumentArray:
    merged = DocumentArray()
    seen: set[str] = set()
    for part in parts:
        for doc in part:
            if doc.id not in seen:
                merged.append(doc)
                seen.add(doc.id)
    return merged


class RequestProcessor:
    """Applies an Executor to requests.

    Sync methods run one at a time on a dedicated thread, so the event loop keeps answering
    health checks while a slow method runs and Executor state is never touched concurrently;
    async methods run on the loop. Endpoints with dynamic batching go through a `BatchQueue`
    per endpoint and parameters (see batching.py).
    """

    def __init__(
        self,
        executor: Executor,
        name: str,
        logger: logging.Logger,
        *,
        with_stacks: bool = False,
        join: str = "reduce",
    ):
        if join not in JOIN_MODES:
            raise ValueError(f"join mode {join!r}: expected one of {', '.join(JOIN_MODES)}")
        self.executor = executor
        self.name = name
        self.join = join
        self._logger = logger
        self._with_stacks = with_stacks
        self._policies = policies_for(executor)
        self._queues: dict[tuple[str, str], BatchQueue] = {}
        self._draining = False
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"executor-{name}")

    def endpoints(self) -> list[str]:
        return sorted(DEFAULT_ENDPOINT_PUBLIC if e == DEFAULT_ENDPOINT else e for e in self.executor.requests)

    @staticmethod
    def merge_parts(parts: list[jina_pb2.DataRequestProto]) -> jina_pb2.DataRequestProto:
        """Several parts of one request (a join) become the first part carrying every document once."""
        first = parts[0]
        if len(parts) > 1:
            set_docs(first.data, _unique([docs_from_content(p.data) for p in parts]))
        return first

    async def process(self, request: jina_pb2.DataRequestProto) -> jina_pb2.DataRequestProto:
        """Process in place and return the request, which becomes the response."""
        return await self.process_parts([request])

    async def process_parts(self, requests: list[jina_pb2.DataRequestProto]) -> jina_pb2.DataRequestProto:
        """Process the parts of one request (see the module docstring); the first becomes the response."""
        response = requests[0]
        endpoint = normalize_endpoint(response.header.exec_endpoint)
        key, handler = self.executor.binding_for(endpoint)
        try:
            if handler is None:
                if len(requests) > 1:  # nothing bound here: the documents pass on as the join mode gives them
                    set_docs(response.data, self._inputs(requests)[0])
            else:
                await self._handle(requests, key, handler, endpoint)
        except Exception as exc:
            self._logger.error(
                "%s.%s failed on %s (request %s)",
                type(self.executor).__name__,
                handler.method_name if handler else "-",
                endpoint,
                response.header.request_id,
                exc_info=exc,
            )
            set_error(response.header.status, exc, executor=self.name, with_stacks=self._with_stacks)
        response.routes.add(executor=self.name)
        return response

    def _inputs(
        self, requests: list[jina_pb2.DataRequestProto]
    ) -> tuple[DocumentArray, list[DocumentArray] | None, dict[str, DocumentArray]]:
        """(docs, docs_matrix, docs_map) for the method."""
        parts = [docs_from_content(r.data) for r in requests]
        upstreams = [upstream_of(r) for r in requests]
        if len(parts) == 1:
            docs = parts[0]
        elif self.join == "join_parts":
            docs, parts, upstreams = parts[0], parts[1:], upstreams[1:]
        elif self.join == "no_reduce":
            docs = DocumentArray([doc for part in parts for doc in part])
        else:
            docs = _unique(parts)
        return (docs, *matrix_and_map(parts, upstreams))

    async def _handle(
        self, requests: list[jina_pb2.DataRequestProto], key: str, handler: EndpointHandler, endpoint: str
    ) -> None:
        response = requests[0]
        docs, docs_matrix, docs_map = self._inputs(requests)
        parameters = parameters_for(struct_to_dict(response.parameters), self.name, self.executor.metas.name)
        policy = self._policies.get(key)
        # a join's branches and an empty request are not batched (Jina's queue takes one request's documents)
        if policy is not None and len(requests) == 1 and len(docs):
            queue_key = (key, json.dumps(parameters, sort_keys=True, default=str))
            queue = self._queues.get(queue_key)
            if queue is None:
                for idle in [k for k, q in self._queues.items() if q.idle]:
                    del self._queues[idle]
                call = functools.partial(self._call_batch, handler, endpoint, parameters)
                queue = self._queues[queue_key] = BatchQueue(call, policy)
            answer = queue.submit(docs)
            if self._draining:
                queue.flush()
            set_docs(response.data, await answer)
            return
        offered = {
            "docs": docs,
            "parameters": parameters,
            "docs_matrix": docs_matrix,
            "docs_map": docs_map,
            "exec_endpoint": endpoint,
            "tracing_context": None,
        }
        result = await self._invoke(handler, offered)
        self._apply_result(response, docs, result, handler.method_name)

    async def _call_batch(
        self, handler: EndpointHandler, endpoint: str, parameters: dict[str, Any], docs: DocumentArray
    ) -> Any:
        offered = {
            "docs": docs,
            "parameters": copy.deepcopy(parameters),
            "docs_matrix": None,  # as in Jina: a batch mixes requests, it has no branches
            "docs_map": None,
            "exec_endpoint": endpoint,
            "tracing_context": None,
        }
        return await self._invoke(handler, offered)

    async def _invoke(self, handler: EndpointHandler, offered: dict[str, Any]) -> Any:
        method = getattr(self.executor, handler.method_name)
        call = functools.partial(method, **handler.select_kwargs(offered))
        if handler.is_async:
            return await call()
        return await asyncio.get_running_loop().run_in_executor(self._worker, call)

    def _apply_result(self, request: jina_pb2.DataRequestProto, docs: DocumentArray, result: Any, method: str) -> None:
        if result is None:
            pass
        elif isinstance(result, DocumentArray):
            docs = result
        elif isinstance(result, dict):
            # keyed by runtime_args.name, as Jina keys it (`encoder/rep-0` for a replica)
            results = struct_to_dict(request.parameters).get(RESULTS_KEY) or {}
            results[self.executor.runtime_args.name] = result
            dict_to_struct({RESULTS_KEY: results}, request.parameters)
        else:
            raise BadReturnValue(
                f"{type(self.executor).__name__}.{method} returned {type(result).__name__}; "
                "return None (docs changed in place), a DocumentArray, or a dict"
            )
        set_docs(request.data, docs)

    def flush_batches(self) -> None:
        """Run every waiting batch now, and later ones at once (at shutdown: in-flight requests need not
        wait for their timeout)."""
        self._draining = True
        for queue in self._queues.values():
            queue.flush()

    def close(self) -> None:
        self._worker.shutdown(wait=True, cancel_futures=True)
        try:
            self.executor.close()
        except Exception:
            self._logger.exception("%s.close() failed", type(self.executor).__name__)
