"""Executors for the bridge tests (importable by path: Flows start them in child processes)."""

from __future__ import annotations

import asyncio
import threading

from jina import Executor, requests


class InFlight(Executor):
    """Counts the requests it holds at once and reports the count it saw on arrival.

    Every document gets `tags['in_flight']`: how many requests this executor held (the request
    itself included) when the request arrived. The maximum over a test's responses is the peak
    concurrency the gateway let through. Requests sleep `parameters['seconds']` (0.05 by default)
    without blocking each other.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._lock = threading.Lock()
        self._holding = 0

    @requests
    async def hold(self, docs, parameters, **kwargs):
        with self._lock:
            self._holding += 1
            seen = self._holding
        try:
            await asyncio.sleep(float(parameters.get("seconds", 0.05)))
        finally:
            with self._lock:
                self._holding -= 1
        for doc in docs:
            doc.tags["in_flight"] = seen


class Recorder(Executor):
    """Appends each request's first document text to the file `parameters['record']` when the
    request arrives, then sleeps `parameters['seconds']`: a test can see which requests reached
    the executor, even those whose client is gone."""

    @requests
    async def record(self, docs, parameters, **kwargs):
        path = parameters.get("record")
        if path:
            with open(path, "a", encoding="utf-8") as handle:
                handle.write(f"{docs[0].text if len(docs) else ''}\n")
        await asyncio.sleep(float(parameters.get("seconds", 0)))
