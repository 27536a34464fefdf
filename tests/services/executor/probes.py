"""Executors that report what the runtime gave them (importable by path for `jina executor` processes)."""

from __future__ import annotations

import asyncio
import time

from docarray import Document, DocumentArray

from jina import Executor, dynamic_batching, requests


class Surface(Executor):
    """Answers with its runtime surface in a tag of one document, and returns it as a result too."""

    @requests
    def report(self, docs, parameters, **kwargs):
        rt = self.runtime_args
        surface = {
            "metas.name": self.metas.name,
            "runtime.name": rt.name,
            "replicas": rt.replicas,
            "replica_id": rt.replica_id,
            "shards": rt.shards,
            "shard_id": rt.shard_id,
            "workspace": self.workspace,
            "parameters": dict(parameters),
        }
        docs.append(Document(tags=surface))
        return {"seen": len(docs)}

    def other(self, docs, **kwargs):
        for doc in docs:
            doc.tags["other"] = True


class Batched(Executor):
    """Records the size of every batch it was called with (tag `batch`), after a short sleep."""

    @requests(on="/batch")
    @dynamic_batching(preferred_batch_size=8, timeout=500)
    def batch(self, docs, parameters, **kwargs):
        time.sleep(0.02)
        if parameters.get("fail"):
            raise RuntimeError(f"batch of {len(docs)} failed")
        for doc in docs:
            doc.tags["batch"] = len(docs)
            doc.tags["calls"] = doc.tags.get("calls", 0) + 1

    @dynamic_batching(preferred_batch_size=4, timeout=200)
    @requests(on="/async")
    async def batch_async(self, docs, **kwargs):
        await asyncio.sleep(0.01)
        return DocumentArray([Document(id=d.id, text=f"{d.text}!", tags={"batch": len(docs)}) for d in docs])

    @requests(on="/plain")
    def plain(self, docs, **kwargs):
        for doc in docs:
            doc.tags["batch"] = len(docs)


class Joiner(Executor):
    """Describes the docs, docs_matrix and docs_map it got."""

    @requests
    def join(self, docs, docs_matrix, docs_map, **kwargs):
        summary = {
            "docs": [d.text for d in docs],
            "matrix": None if docs_matrix is None else [[d.text for d in part] for part in docs_matrix],
            "map": {str(k): [d.text for d in v] for k, v in docs_map.items()},
        }
        return DocumentArray([Document(text="summary", tags=summary)])
