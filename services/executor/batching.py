"""Dynamic batching: concurrent requests for one endpoint (and equal parameters) share method calls.

A `BatchQueue` collects the documents of the requests submitted to it until they weigh
`preferred_batch_size` (documents, or `custom_metric` per document) or the oldest has waited
`timeout` ms, then calls the method on them in batches of `preferred_batch_size` (one batch of
everything with `flush_all`, or without a preferred size) and hands each request its own
documents back, in order, as soon as all of them went through. A failing batch fails every
request that has documents in it; the others are unaffected. As in Jina's BatchQueue, the
method returns `None` (in place) or a `DocumentArray` of the same length, nothing else.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from docarray import Document, DocumentArray

from jina.excepts import BadConfig
from jina.executor import DEFAULT_ENDPOINT, DEFAULT_ENDPOINT_PUBLIC, Executor, normalize_endpoint

#: Jina's BatchQueue defaults for what a configuration leaves out
DEFAULT_PREFERRED_BATCH_SIZE = 4
DEFAULT_TIMEOUT_MS = 10_000
_KEYS = frozenset(
    {"preferred_batch_size", "timeout", "flush_all", "custom_metric", "use_custom_metric", "use_dynamic_batching"}
)

Call = Callable[[DocumentArray], Awaitable[Any]]


class BatchResultError(TypeError):
    pass


@dataclass(frozen=True)
class BatchPolicy:
    preferred_batch_size: int | None = DEFAULT_PREFERRED_BATCH_SIZE
    timeout_ms: float = DEFAULT_TIMEOUT_MS
    flush_all: bool = False
    weight: Callable[[Document], float] | None = None

    @classmethod
    def from_config(cls, config: Mapping[str, Any], where: str) -> BatchPolicy | None:
        """The policy a Jina dynamic-batching configuration describes; None when it turns batching off."""
        unknown = set(config) - _KEYS
        if unknown:
            raise BadConfig(f"dynamic batching of {where}: unknown option(s) {sorted(unknown)}; use {sorted(_KEYS)}")
        if not config.get("use_dynamic_batching", True):
            return None
        size = config.get("preferred_batch_size", DEFAULT_PREFERRED_BATCH_SIZE)
        if size is not None and (isinstance(size, bool) or not isinstance(size, (int, float)) or size < 1):
            raise BadConfig(f"dynamic batching of {where}: preferred_batch_size must be a number >= 1, got {size!r}")
        timeout = config.get("timeout", DEFAULT_TIMEOUT_MS)
        if timeout is None:
            timeout = DEFAULT_TIMEOUT_MS
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout < 0:
            raise BadConfig(f"dynamic batching of {where}: timeout must be milliseconds >= 0, got {timeout!r}")
        metric = config.get("custom_metric") if config.get("use_custom_metric") else None
        if metric is not None and not callable(metric):
            raise BadConfig(f"dynamic batching of {where}: custom_metric must be a function of a Document")
        return cls(
            preferred_batch_size=None if size is None else int(size),
            timeout_ms=float(timeout),
            flush_all=bool(config.get("flush_all", False)),
            weight=metric,
        )


def policies_for(executor: Executor) -> dict[str, BatchPolicy]:
    """endpoint key (as in `executor.requests`) → its batching policy.

    Configurations are keyed by method name (`@dynamic_batching`, or `uses_dynamic_batching`
    `{"encode": {...}}`) or by endpoint (`{"/encode": {...}}`); for an endpoint, its own
    configuration is laid over its method's (Jina takes the endpoint's alone).
    """
    configs = executor.dynamic_batching
    table = executor.requests
    methods = {handler.method_name for handler in table.values()}
    for key in configs:
        if not key.startswith("/") and key != DEFAULT_ENDPOINT and key not in methods:
            raise BadConfig(
                f"dynamic batching: {key!r} is neither an endpoint ('/...') nor a method bound by "
                f"{type(executor).__name__} ({', '.join(sorted(methods)) or 'none'})"
            )
    by_endpoint = {_endpoint_key(k): v for k, v in configs.items() if k.startswith("/") or k == DEFAULT_ENDPOINT}
    policies = {}
    for endpoint, handler in table.items():
        merged = {**(configs.get(handler.method_name) or {}), **(by_endpoint.get(endpoint) or {})}
        if merged:
            policy = BatchPolicy.from_config(merged, f"{type(executor).__name__}.{handler.method_name}")
            if policy is not None:
                policies[endpoint] = policy
    return policies


def _endpoint_key(key: str) -> str:
    return DEFAULT_ENDPOINT if key in (DEFAULT_ENDPOINT, DEFAULT_ENDPOINT_PUBLIC) else normalize_endpoint(key)


@dataclass
class _Entry:
    docs: DocumentArray
    future: asyncio.Future
    results: list[Document | None]
    remaining: int


class BatchQueue:
    """Batches the documents of submitted requests into calls of `call` (see the module docstring)."""

    def __init__(self, call: Call, policy: BatchPolicy):
        self._call = call
        self._policy = policy
        self._entries: list[_Entry] = []
        self._weight = 0.0
        self._timer: asyncio.TimerHandle | None = None
        self._running: set[asyncio.Task] = set()

    @property
    def idle(self) -> bool:
        """Nothing waits and nothing runs."""
        return not self._entries and not self._running

    def submit(self, docs: DocumentArray) -> asyncio.Future:
        """Queue the documents of one request; the future gets them back once processed."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._entries.append(_Entry(docs, future, [None] * len(docs), len(docs)))
        self._weight += self._weigh(docs)
        size = self._policy.preferred_batch_size
        if size is not None and self._weight >= size:
            self.flush()
        elif self._timer is None:
            self._timer = loop.call_later(self._policy.timeout_ms / 1000, self.flush)
        return future

    def flush(self) -> None:
        """Process what is waiting now, without waiting for more."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._entries:
            return
        entries, self._entries, self._weight = self._entries, [], 0.0
        task = asyncio.ensure_future(self._process(entries))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def close(self) -> None:
        """Flush and wait until every queued request has its answer."""
        self.flush()
        if self._running:
            await asyncio.gather(*self._running, return_exceptions=True)

    def _weigh(self, docs: DocumentArray) -> float:
        weight = self._policy.weight
        return float(len(docs)) if weight is None else float(sum(weight(d) for d in docs))

    def _batches(self, entries: list[_Entry]) -> list[list[tuple[int, int]]]:
        """The (entry index, document index) pairs of each call, in submission order."""
        items = [(i, j) for i, entry in enumerate(entries) for j in range(len(entry.docs))]
        size = self._policy.preferred_batch_size
        if self._policy.flush_all or size is None:
            return [items] if items else []
        batches: list[list[tuple[int, int]]] = [[]]
        weight = 0.0
        for i, j in items:
            batches[-1].append((i, j))
            weight += 1.0 if self._policy.weight is None else float(self._policy.weight(entries[i].docs[j]))
            if weight >= size:
                batches.append([])
                weight = 0.0
        return [b for b in batches if b]

    async def _process(self, entries: list[_Entry]) -> None:
        try:
            for batch in self._batches(entries):
                owners = {i for i, _ in batch}
                if all(entries[i].future.done() for i in owners):
                    continue  # every request in it failed already, or its caller left
                docs = DocumentArray([entries[i].docs[j] for i, j in batch])
                try:
                    returned = await self._call(docs)
                    out = _checked_result(returned, docs)
                except Exception as exc:
                    for i in owners:
                        if not entries[i].future.done():
                            entries[i].future.set_exception(exc)
                    continue
                for (i, j), doc in zip(batch, out, strict=True):
                    entries[i].results[j] = doc
                    entries[i].remaining -= 1
                for i in owners:
                    entry = entries[i]
                    if entry.remaining == 0 and not entry.future.done():
                        entry.future.set_result(DocumentArray(entry.results))
            for entry in entries:  # requests without documents: nothing to call the method on
                if entry.remaining == 0 and not entry.future.done():
                    entry.future.set_result(DocumentArray(entry.results))
        except BaseException as exc:
            for entry in entries:
                if not entry.future.done():
                    entry.future.set_exception(exc if isinstance(exc, Exception) else RuntimeError("batch cancelled"))
            raise


def _checked_result(returned: Any, docs: DocumentArray) -> DocumentArray:
    if returned is None:
        return docs
    if isinstance(returned, DocumentArray):
        if len(returned) != len(docs):
            raise ValueError(
                f"Dynamic Batching requires input size to equal output size. Expected output size {len(docs)}, "
                f"but got {len(returned)}"
            )
        return returned
    raise BatchResultError(
        f"with dynamic batching a method returns None (docs changed in place) or a DocumentArray of the same "
        f"length, not {type(returned).__name__}"
    )
