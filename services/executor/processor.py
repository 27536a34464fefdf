"""Turn one DataRequestProto into a call of the Executor method bound to its endpoint."""

from __future__ import annotations

import asyncio
import functools
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from jina.documents import DocumentArray, docs_from_content, set_docs
from jina.executor import DEFAULT_ENDPOINT, DEFAULT_ENDPOINT_PUBLIC, Executor, normalize_endpoint
from jina.proto import jina_pb2
from jina.wire import RESULTS_KEY, dict_to_struct, set_error, struct_to_dict


class BadReturnValue(TypeError):
    pass


def parameters_for(parameters: dict[str, Any], executor_name: str) -> dict[str, Any]:
    """Jina's executor-addressed parameters: `{executor_name: {...}}` is merged in for that executor."""
    specific = parameters.get(executor_name)
    if isinstance(specific, dict):
        merged = dict(parameters)
        merged.update(specific)
        return merged
    return parameters


class RequestProcessor:
    """Applies an Executor to requests.

    Sync methods run one at a time on a dedicated thread, so the event loop keeps answering
    health checks while a slow method runs and Executor state is never touched concurrently;
    async methods run on the loop.
    """

    def __init__(
        self,
        executor: Executor,
        name: str,
        logger: logging.Logger,
        *,
        with_stacks: bool = False,
    ):
        self.executor = executor
        self.name = name
        self._logger = logger
        self._with_stacks = with_stacks
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"executor-{name}")

    def endpoints(self) -> list[str]:
        names = [DEFAULT_ENDPOINT_PUBLIC if e == DEFAULT_ENDPOINT else e for e in type(self.executor).endpoint_table()]
        return sorted(names)

    @staticmethod
    def merge_parts(parts: list[jina_pb2.DataRequestProto]) -> jina_pb2.DataRequestProto:
        """Several parts of one request (a join) become the first part carrying every document once."""
        first = parts[0]
        if len(parts) > 1:
            merged = docs_from_content(first.data)
            seen = {doc.id for doc in merged}
            for part in parts[1:]:
                for doc in docs_from_content(part.data):
                    if doc.id not in seen:
                        merged.append(doc)
                        seen.add(doc.id)
            set_docs(first.data, merged)
        return first

    async def process(self, request: jina_pb2.DataRequestProto) -> jina_pb2.DataRequestProto:
        """Process in place and return the request, which becomes the response."""
        request.routes.add(executor=self.name)
        endpoint = normalize_endpoint(request.header.exec_endpoint)
        handler = self.executor.handler_for(endpoint)
        if handler is None:
            return request  # nothing bound here: pass the documents on untouched, undecoded
        try:
            docs = docs_from_content(request.data)
            parameters = parameters_for(struct_to_dict(request.parameters), self.name)
            offered = {
                "docs": docs,
                "parameters": parameters,
                "docs_matrix": [docs],
                "docs_map": {self.name: docs},
                "exec_endpoint": endpoint,
                "tracing_context": None,
            }
            method = getattr(self.executor, handler.method_name)
            call = functools.partial(method, **handler.select_kwargs(offered))
            if handler.is_async:
                result = await call()
            else:
                result = await asyncio.get_running_loop().run_in_executor(self._worker, call)
            self._apply_result(request, docs, result, handler.method_name)
        except Exception as exc:
            self._logger.error(
                "%s.%s failed on %s (request %s)",
                type(self.executor).__name__,
                handler.method_name,
                endpoint,
                request.header.request_id,
                exc_info=exc,
            )
            set_error(request.header.status, exc, executor=self.name, with_stacks=self._with_stacks)
        return request

    def _apply_result(self, request: jina_pb2.DataRequestProto, docs: DocumentArray, result: Any, method: str) -> None:
        if result is None:
            pass
        elif isinstance(result, DocumentArray):
            docs = result
        elif isinstance(result, dict):
            results = struct_to_dict(request.parameters).get(RESULTS_KEY) or {}
            results[self.name] = result
            dict_to_struct({RESULTS_KEY: results}, request.parameters)
        else:
            raise BadReturnValue(
                f"{type(self.executor).__name__}.{method} returned {type(result).__name__}; "
                "return None (docs changed in place), a DocumentArray, or a dict"
            )
        set_docs(request.data, docs)

    def close(self) -> None:
        self._worker.shutdown(wait=True, cancel_futures=True)
        try:
            self.executor.close()
        except Exception:
            self._logger.exception("%s.close() failed", type(self.executor).__name__)
